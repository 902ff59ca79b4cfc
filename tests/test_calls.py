"""The call list (the store's ``calls`` table), on both backends: each call's outcome from the status callback,
from the end of its path or from a quiet period; filters, pages, the per-day chart and the CSV, checked against
counts computed here from the calls the test made; the backfill of a schema-3 database; retention."""

from __future__ import annotations

import csv
import io
import random
import sqlite3
import time
from datetime import date, datetime, timedelta

import psycopg
import pytest

from compiler import compile_flow
from compiler.examples import EXAMPLES, example
from designer import services
from designer.context import AppContext
from designer.host import hosted
from designer.simulator import ScriptedCaller, simulate_call
from designer.store import CallEvent, CallFilter, SQLiteStore
from designer.store.calls import QUIET_SECONDS, summarise
from designer.store.migrations import POSTGRES, SQLITE
from designer.store.postgres import PostgresStore
from designer.store.retention import RETENTION_SETTING, Cleanup, RetentionCleaner, clean

MAIN_LINE = "15162065337"


@pytest.fixture
def store(any_store):
    return any_store


@pytest.fixture
def host():
    """The examples served in process; the host's events kept in ``host.events``."""
    return hosted([compile_flow(example(name)) for name in EXAMPLES], [f"{MAIN_LINE}=main-menu"])


async def call(host, flow: str, store, callback: bool = True, **caller) -> str:
    """One simulated call through the host; its events written to ``store``; returns its CallSid."""
    result = await simulate_call(host.url(flow), caller=ScriptedCaller(**caller), transport=host.transport,
                                 to=MAIN_LINE, status_callback_url=host.status_url if callback else None)
    store.record_events(host.events)
    host.events.clear()
    return result.call_sid


def the_call(store, sid: str, now: float | None = None) -> dict:
    (found,) = [c for c in store.find_calls(CallFilter(), limit=1000, now=now) if c["call_sid"] == sid]
    return found


# --- outcomes ------------------------------------------------------------------------------------------------


async def test_a_status_callback_gives_the_status_and_duration(store, host):
    sid = await call(host, "main-menu", store, digits=["2"])
    c = the_call(store, sid)
    assert (c["outcome"], c["status"], c["flow_id"], c["rev"], c["from"], c["to"]) == (
        "completed", "completed", "main-menu", "1", "15551230001", MAIN_LINE)
    assert int(c["duration"]) > 0 and c["status_at"] >= c["last_request"] >= c["started"]
    # its requests and the status callback: decisions travel with the request they were taken in
    assert c["events"] == len([e for e in store.call_events(sid) if e.kind != "decision"]) == 4 and not c["test"]


async def test_a_call_whose_last_answer_hangs_up_has_ended_without_a_callback(store, host):
    # after hours: the office does not answer, the caller hears the goodbye and the document hangs up
    sid = await call(host, "after-hours", store, callback=False, dial_outcome="noanswer")
    c = the_call(store, sid)
    just_after = c["last_request"] + 1
    assert (the_call(store, sid, now=just_after)["outcome"], c["ended_by"], c["status"], c["duration"]) == (
        "ended", "hangup", "", "")


async def test_a_call_that_never_calls_back_is_in_progress_until_the_quiet_period_ends(store, host):
    # the caller hangs up while the menu plays: the host's last answer waits for keys, so only silence ends it
    async with __import__("httpx").AsyncClient(transport=host.transport, base_url=host.base_url) as client:
        await client.post("/flexml/main-menu", json={"CallSid": "CAQUIET", "From": "15550001111", "To": MAIN_LINE})
    store.record_events(host.events)
    host.events.clear()
    sid = "CAQUIET"
    last = the_call(store, sid)["last_request"]
    assert the_call(store, sid, now=last + 60)["outcome"] == "in progress"
    assert the_call(store, sid, now=last + QUIET_SECONDS - 1)["outcome"] == "in progress"
    assert the_call(store, sid, now=last + QUIET_SECONDS + 1)["outcome"] == "ended"
    assert [c["call_sid"] for c in store.find_calls(CallFilter(outcome="in progress"), now=last + 60)] == [sid]
    assert store.find_calls(CallFilter(outcome="in progress"), now=last + QUIET_SECONDS + 1) == []


async def test_an_apology_ends_the_call_as_a_host_error(store, host):
    async with __import__("httpx").AsyncClient(transport=host.transport, base_url=host.base_url) as client:
        await client.post("/flexml/main-menu/1/no-such-document", json={"CallSid": "CAERR", "From": "15550001111"})
    store.record_events(host.events)
    c = the_call(store, "CAERR")
    assert (c["outcome"], c["ended_by"], c["from"]) == ("error", "error", "15550001111")


async def test_a_later_callback_wins_over_an_earlier_end(store, host):
    sid = await call(host, "after-hours", store, callback=False, dial_outcome="noanswer")
    store.record_events([CallEvent(sid, "", "", "status", "busy", None, the_call(store, sid)["last_request"] + 5,
                                   {"CallStatus": "busy", "CallDuration": "17"})])
    c = the_call(store, sid)
    assert (c["outcome"], c["duration"]) == ("busy", "17")


def test_the_summary_does_not_depend_on_how_events_are_split_into_batches(store, tmp_path):
    events = [
        CallEvent("CA1", "acme", "2", "document", "welcome", None, 100.0, {"From": "15551230001", "To": "1516"}),
        CallEvent("CA1", "acme", "2", "decision", "hours", None, 101.0, {"branch": "open"}),
        CallEvent("CA1", "acme", "2", "router", "menu", "1", 101.0, {"answer": "bye", "end": "1"}),
        CallEvent("CA1", "acme", "", "status", "completed", None, 130.0,
                  {"CallStatus": "completed", "CallDuration": "30", "From": "15551230001"}),
    ]
    whole = SQLiteStore(tmp_path / "whole.sqlite")
    whole.record_events(events)
    expected = whole.find_calls(CallFilter(), now=200.0)
    whole.close()
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)  # the status callback may reach the store before the requests
    for e in shuffled:
        store.record_events([e])
    assert store.find_calls(CallFilter(), now=200.0) == expected
    (c,) = expected
    assert (c["started"], c["last_request"], c["status_at"], c["events"], c["outcome"], c["ended_by"], c["rev"]) == (
        100.0, 101.0, 130.0, 3, "completed", "hangup", "2")  # requests and the callback: a decision is none


def test_events_without_a_call_sid_make_no_call():
    assert summarise([("", "", "", "error", "unknown address", None, 1.0, {})]) == []


# --- test calls ------------------------------------------------------------------------------------------------


def test_simulate_with_db_records_the_call_marked_as_a_test(tmp_path, capsys):
    from designer.cli import main

    flow = tmp_path / "after-hours.json"
    flow.write_text((__import__("compiler").flow.dumps(example("after-hours"))))
    db = tmp_path / "calls.sqlite"
    assert main(["simulate", str(flow), "--dial-outcome", "noanswer", "--db", str(db)]) == 0
    assert f"recorded in {db} as a test call" in capsys.readouterr().out
    store = SQLiteStore(db)
    try:
        (c,), n = store.find_calls(CallFilter(test=True)), store.count_calls(CallFilter(test=False))
        assert (c["flow_id"], c["test"], c["outcome"], n) == ("after-hours", True, "completed", 0)
    finally:
        store.close()


def test_simulate_refuses_db_for_a_url_or_a_database_it_cannot_open(tmp_path, capsys):
    from designer.cli import main

    assert main(["simulate", "http://127.0.0.1:9/flexml", "--db", str(tmp_path / "x.sqlite")]) == 1
    assert "--db records calls to flow files and bundles" in capsys.readouterr().err
    flow = tmp_path / "pin-check.json"
    flow.write_text(__import__("compiler").flow.dumps(example("pin-check")))
    assert main(["simulate", str(flow), "--db", str(tmp_path)]) == 1  # a folder, not a database
    err = capsys.readouterr().err
    assert f"--db {tmp_path}: cannot open the database" in err and "Traceback" not in err


# --- filters, pages, chart, CSV ------------------------------------------------------------------------------------

NOW = datetime(2026, 12, 1, 18, 0).timestamp()  # local time of this machine


def scripted_calls(n: int = 120, seed: int = 3) -> list[dict]:
    """Calls over ten days: flow, numbers, start, outcome and test flag chosen at random."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        started = NOW - rng.uniform(0, 10 * 86400)
        out.append({"sid": f"CA{i:04d}", "flow": rng.choice(["acme", "pins", "hours"]),
                    "from": rng.choice(["15551230001", "15551230002", "442071234567"]),
                    "to": rng.choice(["15162065337", "15162065338"]), "started": started,
                    "kind": rng.choice(["completed", "busy", "hangup", "silent", "error"]),
                    "test": rng.random() < 0.2})
    return out


def events_of(spec: dict) -> list[CallEvent]:
    t, sid, flow = spec["started"], spec["sid"], spec["flow"]
    first = {"From": spec["from"], "To": spec["to"], **({"test": "1"} if spec["test"] else {})}
    later = {"test": "1"} if spec["test"] else {}
    out = [CallEvent(sid, flow, "1", "document", "welcome", None, t, first)]
    if spec["kind"] == "error":
        out.append(CallEvent(sid, flow, "1", "error", "junk digits 'x'", "x", t + 5, {**later, "end": "1"}))
    else:
        out.append(CallEvent(sid, flow, "1", "router", "menu", "1", t + 5,
                             {**later, "answer": "bye", **({"end": "1"} if spec["kind"] == "hangup" else {})}))
    if spec["kind"] in ("completed", "busy"):
        out.append(CallEvent(sid, "", "", "status", spec["kind"], None, t + 40,
                             {**later, "CallStatus": spec["kind"], "CallDuration": "40"}))
    return out


def expected_outcome(spec: dict, now: float) -> str:
    if spec["kind"] in ("completed", "busy"):
        return spec["kind"]
    if spec["kind"] == "error":
        return "error"
    if spec["kind"] == "hangup" or spec["started"] + 5 < now - QUIET_SECONDS:
        return "ended"
    return "in progress"


@pytest.fixture
def filled(store):
    specs = scripted_calls()
    store.record_events([e for s in specs for e in events_of(s)])
    return store, specs


def newest_first(specs: list[dict]) -> list[str]:
    return [s["sid"] for s in sorted(specs, key=lambda s: (-s["started"], s["sid"]))]


def test_filters_match_what_the_calls_were(filled):
    store, specs = filled
    since, until = NOW - 4 * 86400, NOW - 1 * 86400
    cases = [
        (CallFilter(), lambda s: True),
        (CallFilter(flow_id="pins"), lambda s: s["flow"] == "pins"),
        (CallFilter(number="1 (555) 123-0002"), lambda s: s["from"] == "15551230002"),
        (CallFilter(number="5162065338"), lambda s: s["to"] == "15162065338"),
        (CallFilter(since=since, until=until), lambda s: since <= s["started"] < until),
        (CallFilter(outcome="ended"), lambda s: expected_outcome(s, NOW) == "ended"),
        (CallFilter(outcome="in progress"), lambda s: expected_outcome(s, NOW) == "in progress"),
        (CallFilter(test=True), lambda s: s["test"]),
        (CallFilter(test=False, flow_id="acme", outcome="busy"),
         lambda s: not s["test"] and s["flow"] == "acme" and s["kind"] == "busy"),
    ]
    for where, wanted in cases:
        expected = newest_first([s for s in specs if wanted(s)])
        assert expected or where == CallFilter(outcome="in progress"), where  # the cases are not vacuous
        found = store.find_calls(where, limit=1000, now=NOW)
        assert [c["call_sid"] for c in found] == expected, where
        assert store.count_calls(where, now=NOW) == len(expected), where
    assert {c["outcome"] for c in store.find_calls(CallFilter(), limit=1000, now=NOW)} == \
        {expected_outcome(s, NOW) for s in specs}


def test_pages_follow_each_other_without_gaps(filled):
    store, specs = filled
    pages = [store.find_calls(CallFilter(flow_id="acme"), offset=o, limit=7, now=NOW) for o in range(0, 140, 7)]
    assert [c["call_sid"] for page in pages for c in page] == newest_first([s for s in specs if s["flow"] == "acme"])


def test_the_chart_counts_each_day_by_outcome(filled, tmp_path):
    store, specs = filled
    ctx = AppContext(store=store, table=None)
    first, last = date.fromtimestamp(NOW) - timedelta(days=6), date.fromtimestamp(NOW)
    for where in (CallFilter(), CallFilter(test=False, flow_id="hours")):
        days = services.calls_per_day(ctx, where, first, last, now=NOW)
        expected = {first + timedelta(days=i): {} for i in range(7)}
        for s in specs:
            day = datetime.fromtimestamp(s["started"]).date()
            if first <= day <= last and (where.flow_id in (None, s["flow"])) and where.test in (None, s["test"]):
                outcome = expected_outcome(s, NOW)
                expected[day][outcome] = expected[day].get(outcome, 0) + 1
        assert days == expected
    with pytest.raises(services.ServiceError, match="ends .* before it starts"):
        services.calls_per_day(ctx, CallFilter(), last, first)


def test_the_csv_holds_exactly_the_calls_the_filter_shows(filled):
    store, specs = filled
    store.record_events([CallEvent("CAFORGED", "acme", "1", "document", "welcome", None, NOW - 10,
                                   {"From": "=HYPERLINK(\"http://x\")", "To": "15162065337"})])
    ctx = AppContext(store=store, table=None)
    where = services.period_filter(CallFilter(flow_id="acme"), date.fromtimestamp(NOW) - timedelta(days=1),
                                   date.fromtimestamp(NOW))
    rows = list(csv.reader(io.StringIO(services.calls_csv(ctx, where, now=NOW).decode("utf-8"))))
    assert tuple(rows[0]) == services.CSV_COLUMNS
    wanted = [s for s in specs if s["flow"] == "acme" and where.since <= s["started"] < where.until]
    assert [r[0] for r in rows[1:]] == newest_first([*wanted, {"sid": "CAFORGED", "started": NOW - 10}])
    by_sid = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert by_sid["CAFORGED"]["from"].startswith("'=")  # a spreadsheet shows it, never runs it
    for s in wanted:
        row = by_sid[s["sid"]]
        assert (row["flow"], row["from"], row["to"], row["outcome"], row["test call"]) == (
            "acme", s["from"], s["to"], expected_outcome(s, NOW), "yes" if s["test"] else "no")
        assert row["duration (s)"] == ("40" if s["kind"] in ("completed", "busy") else "")


# --- the migration's backfill ---------------------------------------------------------------------------------

OLD_EVENTS = [  # as schema 3 kept them: no calls table, no end marks
    ("CA1", "acme", "1", "document", "welcome", None, 100.0, '{"From":"15551230001","To":"15162065337"}'),
    ("CA1", "acme", "1", "router", "menu", "2", 104.0, '{"answer":"vm-prompt","attempt":"1"}'),
    ("CA1", "", "", "status", "completed", None, 140.0, '{"CallStatus":"completed","CallDuration":"40"}'),
    ("CA2", "acme", "1", "document", "welcome", None, 200.0, '{"From":"15551230002"}'),
    ("CA2", "acme", "1", "router", "menu", "9", 206.0, '{"answer":"(end of call)","attempt":"3"}'),
    ("CA3", "pins", "2", "document", "ask-pin", None, 300.0, '{"From":"15551230003"}'),
    ("CA3", "pins", "2", "error", "junk digits 'x'", "x", 303.0, '{"path":"/flexml/pins/2/ask-pin/gather"}'),
    ("", "", "", "error", "unknown address", None, 400.0, '{"path":"/nowhere"}'),
]


def check_backfilled(store) -> None:
    calls = {c["call_sid"]: c for c in store.find_calls(CallFilter(), now=500.0)}
    assert sorted(calls) == ["CA1", "CA2", "CA3"]
    assert (calls["CA1"]["outcome"], calls["CA1"]["duration"], calls["CA1"]["from"], calls["CA1"]["to"],
            calls["CA1"]["events"], calls["CA1"]["started"], calls["CA1"]["last_request"]) == (
        "completed", "40", "15551230001", "15162065337", 3, 100.0, 104.0)
    assert (calls["CA2"]["outcome"], calls["CA2"]["ended_by"], calls["CA2"]["status"]) == ("ended", "hangup", "")
    assert (calls["CA3"]["outcome"], calls["CA3"]["flow_id"], calls["CA3"]["rev"]) == ("error", "pins", "2")
    # and the table goes on from there
    store.record_events([CallEvent("CA2", "", "", "status", "completed", None, 230.0, {"CallDuration": "30"})])
    assert the_call(store, "CA2", now=500.0)["outcome"] == "completed"


def test_a_schema_3_sqlite_file_gets_its_calls_table_from_its_events(tmp_path):
    path = tmp_path / "v3.sqlite"
    conn = sqlite3.connect(path)
    for version in (1, 2, 3):
        for statement in SQLITE[version]:
            conn.execute(statement)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (3)")
    conn.executemany("INSERT INTO events (call_sid, flow_id, rev, kind, target, digits, at, params) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", OLD_EVENTS)
    conn.commit()
    conn.close()
    store = SQLiteStore(path)
    try:
        check_backfilled(store)
    finally:
        store.close()


def test_a_schema_3_postgres_database_gets_its_calls_table_from_its_events(pg_url):
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for version in (1, 2, 3):
            for statement in POSTGRES[version]:
                conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (3)")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO events (call_sid, flow_id, rev, kind, target, digits, at, params) "
                            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)", OLD_EVENTS)
    store = PostgresStore(pg_url)
    try:
        check_backfilled(store)
    finally:
        store.close()


# --- retention ----------------------------------------------------------------------------------------------


def _voicemails(store) -> list:
    """The inbox: an old call's message is kept when the call itself is cleaned away."""
    return [(v.call_sid, v.url, v.at) for v in store.voicemails()]


def test_retention_deletes_old_calls_in_batches_and_keeps_recent_ones_and_voicemails(store):
    day = 86400.0
    now = 1000 * day
    old = [CallEvent(f"CAOLD{i}", "acme", "1", kind, "welcome", None, now - (40 + i) * day, {"From": "1555"})
           for i in range(30) for kind in ("document", "router")]
    recent = [CallEvent(f"CANEW{i}", "acme", "1", "document", "welcome", None, now - (20 - i) * day, {})
              for i in range(5)]
    orphans = [CallEvent("", "", "", "error", "unknown address", None, now - 50 * day, {}),
               CallEvent("", "", "", "error", "unknown address", None, now - 1 * day, {})]
    message = CallEvent("CAOLD0", "acme", "1", "recording", "voicemail", None, now - 40 * day,
                        {"From": "1555", "RecordingUrl": "https://api.carrierx.com/r/1.mp3", "RecordingDuration": "7"})
    store.record_events(old + recent + orphans + [message])
    voicemails = _voicemails(store)
    assert voicemails == [("CAOLD0", "https://api.carrierx.com/r/1.mp3", now - 40 * day)]
    store.set_setting(RETENTION_SETTING, "30")
    assert clean(store, now=now, batch=7, pause=0) == len(old) + 2
    kept = [c["call_sid"] for c in store.find_calls(CallFilter(), limit=100, now=now)]
    assert sorted(kept) == sorted(f"CANEW{i}" for i in range(5))
    assert store.call_events("CAOLD0") == [] and len(store.call_events("")) == 1
    assert len(store.call_events("CANEW0")) == 1
    assert _voicemails(store) == voicemails
    assert clean(store, now=now) == 0


def test_the_designers_cleaner_runs_in_a_thread_of_its_own(store):
    store.record_events([CallEvent("CAOLD", "acme", "1", "document", "welcome", None, 1000.0, {})])
    cleaner = RetentionCleaner(store, first=0)
    cleaner.start()
    try:
        for _ in range(200):
            if not store.count_calls(CallFilter()):
                break
            time.sleep(0.02)
    finally:
        cleaner.close()
    assert store.count_calls(CallFilter()) == 0 and store.call_events("CAOLD") == []


def test_the_event_writers_cleanup_deletes_one_batch_at_a_time(store):
    day = 86400.0
    now = 1000 * day
    store.record_events([CallEvent(f"CA{i}", "acme", "1", "document", "welcome", None, now - 100 * day, {})
                         for i in range(5)])
    cleanup = Cleanup(every=3600, batch=2, first=0)
    assert [cleanup.due(store, now=now) for _ in range(4)] == [2, 2, 1, 0]
    assert cleanup.due(store, now=now) == 0  # the next cleanup is an hour away
    assert store.count_calls(CallFilter()) == 0


def test_the_retention_setting_refuses_what_is_not_a_number_of_days(ctx):
    assert services.call_retention_days(ctx) == 90
    assert services.set_call_retention_days(ctx, "30") == 30 and services.call_retention_days(ctx) == 30
    assert services.set_call_retention_days(ctx, 45.0) == 45
    for bad, message in (("soon", "'soon' is not a whole number of days"), (0, "0 days; choose from 1 to 3,650"),
                         (2.5, "'2.5' is not a whole number"), ("99999", "99999 days")):
        with pytest.raises(services.ServiceError, match=message):
            services.set_call_retention_days(ctx, bad)
    assert services.call_retention_days(ctx) == 45


def test_the_host_knows_which_documents_end_a_call():
    from lxml import etree

    from designer.host.app import ends_call

    seen = set()
    for name in EXAMPLES:
        for doc, body in compile_flow(example(name)).documents.items():
            root = etree.fromstring(body)
            goes_on = any(el.tag in ("Gather", "Redirect", "Dial") or "action" in el.attrib or "errorAction" in el.attrib
                          for el in root.iter())
            assert ends_call(body) is not goes_on, (name, doc)
            seen.add(goes_on)
    assert seen == {True, False}
