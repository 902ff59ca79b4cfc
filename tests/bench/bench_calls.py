"""Benchmark: the Calls page's queries over 1,000,000 call events, and what keeping the call list costs a write.

Run from the project root::

    .venv/bin/python tests/bench/bench_calls.py [--events 1000000] [--postgres] [--repeat 5]

Fills a fresh store (a SQLite file; with ``--postgres`` also a throwaway PostgreSQL cluster,
tests/pgcluster.py) with ``--events`` call events as the host writes them: about 8 per call (the
first request with who called, decisions, menus, documents, the status callback for most calls),
three published flows, 90 days, 5% test calls, written in time order in batches of 2,000 through
``record_rows`` (as the event writer does). Then times, median of ``--repeat`` runs, the queries
the Calls page makes through ``designer.services``:

- the page as it opens: the chart of the last 30 days, the first page of 25 calls (with each call's
  path) and the count of matching calls;
- a filtered page (one flow, real calls, one outcome, 90 days);
- the chart's per-day counts for 90 days, all calls and one flow;
- the CSV of one flow's calls on one day;

and prints each with its ratio to a plain ``SELECT count(*) FROM events`` in the same run. Target:
each under 300 ms. It also prints the write cost per event with and without keeping the call list
(the same first 200,000 events into fresh stores, three times each way, the fastest run of each; "without"
skips the summary upsert), and for SQLite how long the schema upgrade takes to fill the calls table from
that many events. Not collected by pytest (no assertions).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import pgcluster  # noqa: E402

from designer import services  # noqa: E402
from designer.context import AppContext  # noqa: E402
from designer.store import CallFilter, open_store  # noqa: E402

DAY = 86400.0
FLOWS = ("main-menu", "pin-check", "after-hours-message")
EXAMPLE_OF = {"main-menu": "main-menu", "pin-check": "pin-check", "after-hours-message": "after-hours"}
BATCH = 2000  # events per record_rows call (the event writer moves a few thousand at a time under load)
COMPARE_EVENTS = 200_000  # events written twice, with and without the call list, to price it


def call_events(rng: random.Random, n: int, start: float, span: float) -> list[tuple]:
    """``n`` events (``CallEvent.row()`` tuples) of calls started over ``span`` seconds from ``start``,
    sorted by time."""
    rows: list[tuple] = []
    i = 0
    while len(rows) < n:
        sid = f"CA{i:010d}"
        i += 1
        flow = FLOWS[i % 3]
        at = start + rng.random() * span
        test = {"test": "1"} if rng.random() < 0.05 else {}
        caller = f"1555{rng.randrange(10_000_000):07d}"
        rows.append((sid, flow, "1", "document", "welcome", None, at,
                     {"From": caller, "To": "15162065337", "Direction": "inbound", "CallStatus": "ringing", **test}))
        rows.append((sid, flow, "1", "decision", "hours", None, at + 1, {"step": "Hours", "branch": "open",
                                                                        "reason": "open Tue 09:00-17:00", **test}))
        for k in range(3):
            at += rng.uniform(4, 20)
            rows.append((sid, flow, "1", "router", "menu", str(rng.randrange(10)), at,
                         {"answer": "menu.retry1", "attempt": str(k + 1), **test}))
        at += rng.uniform(2, 30)
        ends = rng.random() < 0.3
        rows.append((sid, flow, "1", "document", "vm-prompt", None, at, {**test, **({"end": "1"} if ends else {})}))
        if rng.random() < 0.75:  # most carriers' numbers have a status callback
            status = rng.choices(("completed", "busy", "noanswer", "failed", "cancel"), (80, 6, 6, 3, 5))[0]
            at += rng.uniform(5, 120)
            rows.append((sid, "", "", "status", status, None, at,
                         {"CallStatus": status, "CallDuration": str(rng.randrange(10, 600)), "From": caller, **test}))
        else:
            rows.append((sid, flow, "1", "router", "menu", "1", at + 3, {"answer": "bye", "end": "1", **test}))
    rows = rows[:n]
    rows.sort(key=lambda r: r[6])
    return rows


def write(store, rows: list[tuple]) -> float:
    """Seconds to write ``rows`` in batches, as the event writer does."""
    t = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        store.record_rows(rows[i:i + BATCH])
    return time.perf_counter() - t


def timed(fn, repeat: int) -> float:
    """Median seconds of ``fn()`` over ``repeat`` runs (after one warm-up run)."""
    fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


def count_events(store) -> int:
    """The baseline: a plain count of the events table."""
    if hasattr(store, "_conn"):
        return store._conn().execute("SELECT count(*) FROM events").fetchone()[0]
    return store._one("SELECT count(*) AS n FROM events")["n"]


def without_call_list(store):
    """``store``'s record_rows with the call list's upsert left out (the write as it was before it)."""
    module = sys.modules[type(store).__module__]
    return mock.patch.object(module, "summarise", lambda rows: [])


def price_the_call_list(make_store, rows: list[tuple], rounds: int = 3) -> tuple[float, float]:
    """µs per event written, without and with keeping the call list: fresh stores, the same events, the two
    ways taking turns ``rounds`` times; the fastest of each (the machine is shared: the least disturbed run)."""
    costs: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for keep in (False, True):
            store = make_store()
            try:
                if keep:
                    costs[keep].append(write(store, rows) / len(rows) * 1e6)
                else:
                    with without_call_list(store):
                        costs[keep].append(write(store, rows) / len(rows) * 1e6)
            finally:
                store.close()
    return min(costs[False]), min(costs[True])


def time_backfill(rows: list[tuple], folder: Path) -> tuple[float, int]:
    """Seconds to open a schema-3 SQLite file holding ``rows`` (the migration fills the calls table from its
    events in one transaction), and the calls it found."""
    import sqlite3

    from designer.store import SQLiteStore, params_json
    from designer.store.migrations import SQLITE

    path = folder / "schema3.sqlite"
    conn = sqlite3.connect(path)
    for version in (1, 2, 3):
        for statement in SQLITE[version]:
            conn.execute(statement)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (3)")
    conn.executemany("INSERT INTO events (call_sid, flow_id, rev, kind, target, digits, at, params) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [(*r[:7], params_json(r[7])) for r in rows])
    conn.commit()
    conn.close()
    t = time.perf_counter()
    store = SQLiteStore(path)
    took = time.perf_counter() - t
    calls = store.count_calls(CallFilter())
    store.close()
    return took, calls


def run(name: str, make_store, events: int, repeat: int, backfill_in: Path | None = None) -> None:
    rng = random.Random(16)
    today = date.today()
    start = time.mktime((today - timedelta(days=89)).timetuple())
    now = time.time()
    rows = call_events(rng, events, start, now - start)
    compare = rows[:COMPARE_EVENTS]
    without, with_list = price_the_call_list(make_store, compare)
    store = make_store()
    ctx = AppContext(store=store, table=None)
    try:
        for flow in FLOWS:  # published, so each call's path is read from its revision as on the real page
            services.publish(ctx, services.create_from_example(ctx, EXAMPLE_OF[flow]).id)
        fill = write(store, rows)
        calls = store.count_calls(CallFilter())
        print(f"\n{name}: {events:,} events, {calls:,} calls over 90 days; written in {fill:.1f} s "
              f"({fill / events * 1e6:.1f} µs per event)")
        print(f"  write cost per event: {without:.1f} µs without the call list, {with_list:.1f} µs with it "
              f"({with_list / without:.2f}x; first {len(compare):,} events into fresh stores, best of 3)")
        baseline = timed(lambda: count_events(store), repeat)
        print(f"  baseline SELECT count(*) FROM events: {baseline * 1000:.1f} ms")
        last30 = services.period_filter(CallFilter(), today - timedelta(days=29), today)
        filtered = services.period_filter(CallFilter(flow_id="pin-check", test=False, outcome="busy"),
                                          today - timedelta(days=89), today)
        one_day = services.period_filter(CallFilter(flow_id="main-menu"), today - timedelta(days=3),
                                         today - timedelta(days=3))

        def opening_page():
            services.calls_per_day(ctx, CallFilter(), today - timedelta(days=29), today, now=now)
            services.find_calls(ctx, last30, 0, 25, now=now)

        queries = [
            ("Calls page as it opens (30-day chart + first page + count)", opening_page),
            ("first page of 25 (with paths) + count, 30 days", lambda: services.find_calls(ctx, last30, 0, 25, now=now)),
            ("page 40 of 25, 30 days", lambda: services.find_calls(ctx, last30, 975, 25, now=now)),
            ("filtered page: one flow, real, busy, 90 days", lambda: services.find_calls(ctx, filtered, 0, 25, now=now)),
            ("chart: calls per day by outcome, 90 days",
             lambda: services.calls_per_day(ctx, CallFilter(), today - timedelta(days=89), today, now=now)),
            ("chart: one flow, real calls, 90 days",
             lambda: services.calls_per_day(ctx, CallFilter(flow_id="after-hours-message", test=False),
                                            today - timedelta(days=89), today, now=now)),
            ("CSV: one flow, one day", lambda: services.calls_csv(ctx, one_day, now=now)),
            ("number search (any part of From/To), 30 days",
             lambda: services.find_calls(ctx, services.period_filter(CallFilter(number="5550123"),
                                                                     today - timedelta(days=29), today), 0, 25,
                                         now=now)),
        ]
        for label, fn in queries:
            seconds = timed(fn, repeat)
            verdict = "ok" if seconds < 0.3 else "OVER 300 ms"
            print(f"  {label:<62} {seconds * 1000:7.1f} ms  {seconds / baseline:5.2f}x count(*)  {verdict}")
        lines = services.calls_csv(ctx, one_day, now=now).count(b"\n") - 1
        print(f"  CSV of that day: {lines:,} calls")
        if backfill_in is not None:
            took, calls = time_backfill(rows, backfill_in)
            print(f"  upgrading a schema-3 file with these events to schema 4 (the calls table filled from them): "
                  f"{took:.1f} s, {calls:,} calls")
    finally:
        store.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--postgres", action="store_true", help="also on PostgreSQL (a throwaway cluster)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FLEXML_STATE_DIR"] = str(Path(tmp) / "state")  # PostgreSQL's key files, not the home folder
        counter = iter(range(1_000_000))
        run("SQLite", lambda: open_store(str(Path(tmp) / f"calls-{next(counter)}.sqlite")), args.events, args.repeat,
            backfill_in=Path(tmp))
        if args.postgres:
            if not pgcluster.available():
                print("PostgreSQL is not installed: skipped")
                return 0
            cluster = pgcluster.Cluster()
            cluster.start()
            try:
                run("PostgreSQL", lambda: open_store(cluster.new_database()), args.events, args.repeat)
            finally:
                cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
