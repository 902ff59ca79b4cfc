"""Decision steps through the host: Hours (the clock, closed dates, DST, the operator's switch), Split, Set
values that travel with the call, and a Transfer's outcome. Every answer is checked against the grammar."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest
from lxml import etree

from compiler import compile_flow
from compiler.decisions import Override
from compiler.grammar import check_document
from designer.host import FlowTable, create_host_app
from designer.store import DECISIONS, REASONS, CallEvent, decision_events
from tests.strategies import make_flow

NY = ZoneInfo("America/New_York")
WEEK = {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"], "wed": ["09:00-17:00"], "thu": ["09:00-17:00"],
        "fri": ["09:00-16:00", "22:00-02:00"], "sat": [], "sun": ["01:00-02:00", "02:00-03:00"]}


def hours_flow(**hours):
    return make_flow({
        "welcome": {"type": "Say", "text": "Welcome."},
        "hours": {"type": "Hours", "timezone": "America/New_York", "open": WEEK, "closed_dates": ["12-25"],
                  **hours},
        "open": {"type": "Say", "text": "We are open."},
        "closed": {"type": "Say", "text": "We are closed."},
        "vm": {"type": "Record"},
    }, [("welcome", "hours"), ("hours", "open", "open"), ("hours", "closed", "closed"), ("closed", "vm")],
        flow_id="dental")


class Host:
    """One host process's table and app, answering in process (an ASGI transport) at a clock we choose."""

    def __init__(self, *graphs, at: datetime | None = None):
        self.at = at or datetime(2026, 12, 1, 10, 0, tzinfo=NY)
        self.table = FlowTable(now=lambda: self.at)
        self.events: list[CallEvent] = []
        for graph in graphs:
            self.table.serve_revision(compile_flow(graph))
        self.app = create_host_app(self.table, self.events.append)

    def post(self, url: str, **params: str) -> httpx.Response:
        async def go():
            async with httpx.AsyncClient(transport=httpx.ASGITransport(self.app), base_url="http://host") as c:
                return await c.post(url, json=params)
        response = asyncio.run(go())
        assert response.status_code == 200
        check_document(response.content, url)  # every answer is whole, valid FlexML
        return response


def spoken(response: httpx.Response) -> list[str]:
    return [el.text for el in etree.fromstring(response.content) if el.tag == "Say"]


def tags(response: httpx.Response) -> list[str]:
    return [el.tag for el in etree.fromstring(response.content)]


# ---- Hours ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("local, expected", [
    ((2026, 12, 1, 8, 59), "closed"),  # Tuesday, the minute before opening
    ((2026, 12, 1, 9, 0), "open"),  # the opening minute
    ((2026, 12, 1, 16, 59), "open"),
    ((2026, 12, 1, 17, 0), "closed"),  # the closing minute is closed
    ((2026, 12, 4, 16, 0), "closed"),  # Friday closes at 16:00 …
    ((2026, 12, 4, 22, 0), "open"),  # … and opens again at 22:00, past midnight
    ((2026, 12, 4, 23, 59), "open"),
    ((2026, 12, 5, 0, 0), "open"),  # midnight: Saturday, still Friday's range
    ((2026, 12, 5, 1, 59), "open"),
    ((2026, 12, 5, 2, 0), "closed"),
    ((2026, 12, 25, 10, 0), "closed"),  # a Friday, but a closed date (12-25, every year)
    ((2026, 12, 26, 1, 0), "closed"),  # the day after a holiday: Friday's range never started
])
def test_hours_open_and_closed_at_the_boundaries_in_one_answer(local, expected):
    host = Host(hours_flow(), at=datetime(*local, tzinfo=NY))
    answer = host.post("/flexml/dental")
    assert spoken(answer) == ["Welcome.", "We are open." if expected == "open" else "We are closed."]
    assert tags(answer)[-1] == ("Say" if expected == "open" else "Record")
    decision = [e for e in decision_events(host.events) if e.kind == "decision"]
    assert [(e.target, e.params["branch"]) for e in decision] == [("hours", expected)]
    assert "America/New_York" in decision[0].params["reason"]


def test_hours_across_daylight_saving_changes_decide_by_wall_clock_time():
    # 2026-03-08: New York skips 02:00-03:00; 2026-11-01: 01:00-02:00 happens twice. Both Sundays.
    host = Host(hours_flow(open={"sun": ["01:00-02:00"]}))
    host.at = datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc)  # 01:30 EDT, the first time
    assert spoken(host.post("/flexml/dental"))[-1] == "We are open."
    host.at = datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)  # 01:30 EST, the second time
    assert spoken(host.post("/flexml/dental"))[-1] == "We are open."
    host.at = datetime(2026, 11, 1, 7, 0, tzinfo=timezone.utc)  # 02:00 EST
    assert spoken(host.post("/flexml/dental"))[-1] == "We are closed."
    skipped = Host(hours_flow(open={"sun": ["03:00-04:00"]}))
    skipped.at = datetime(2026, 3, 8, 6, 59, tzinfo=timezone.utc)  # 01:59 EST; a minute later it is 03:00 EDT
    assert spoken(skipped.post("/flexml/dental"))[-1] == "We are closed."
    skipped.at = datetime(2026, 3, 8, 7, 0, tzinfo=timezone.utc)  # 03:00 EDT: the skipped hour is gone
    assert spoken(skipped.post("/flexml/dental"))[-1] == "We are open."


def test_the_flow_time_zone_applies_when_the_step_has_none():
    graph = hours_flow(timezone="")
    graph.graph["timezone"] = "Europe/London"
    host = Host(graph, at=datetime(2026, 12, 1, 9, 30, tzinfo=ZoneInfo("Europe/London")))  # 04:30 in New York
    assert spoken(host.post("/flexml/dental"))[-1] == "We are open."


def test_the_operators_switch_wins_until_it_expires_or_is_cleared():
    host = Host(hours_flow())  # Tuesday 10:00: open by the schedule
    in_an_hour = host.at.timestamp() + 3600
    host.table.set_override("dental", "hours", Override("closed", in_an_hour))
    answer = host.post("/flexml/dental")
    assert spoken(answer)[-1] == "We are closed."
    assert "switched by the operator" in [e for e in decision_events(host.events) if e.kind == "decision"][-1].params["reason"]
    host.at += timedelta(minutes=59)
    assert spoken(host.post("/flexml/dental"))[-1] == "We are closed."
    host.at += timedelta(minutes=1)  # the switch has expired: the schedule decides again
    assert spoken(host.post("/flexml/dental"))[-1] == "We are open."
    host.at = datetime(2026, 12, 25, 10, 0, tzinfo=NY)  # a closed date, switched open until cleared
    host.table.set_override("dental", "hours", Override("open", None))
    assert spoken(host.post("/flexml/dental"))[-1] == "We are open."
    host.table.set_override("dental", "hours", None)
    assert spoken(host.post("/flexml/dental"))[-1] == "We are closed."


def test_a_switch_set_through_the_services_applies_to_the_next_call_without_republishing(ctx):
    from designer import services
    from designer.services import ServiceError

    ctx.table = FlowTable(now=lambda: datetime(2026, 12, 1, 10, 0, tzinfo=NY))
    record = services.create_from_example(ctx, "main-menu")
    services.publish(ctx, record.id)
    host = services.published_host(ctx, record.id)

    def first_answer() -> list[str]:
        response = asyncio.run(host.get(f"/flexml/{record.id}"))
        check_document(response.content, "entry")
        return tags(response)

    assert first_answer()[:2] == ["Say", "Gather"]  # Tuesday 10:00: open, the menu
    services.set_hours_override(ctx, record.id, "hours", "closed", None)
    closed = first_answer()
    assert closed[:4] == ["Say", "Say", "Say", "Record"] and "Gather" not in closed  # message, voicemail
    assert list(services.hours_overrides(ctx, record.id)) == ["hours"]
    assert ctx.store.overrides(record.id)[0].state == "closed"
    services.clear_hours_override(ctx, record.id, "hours")
    assert first_answer()[:2] == ["Say", "Gather"]
    assert services.hours_overrides(ctx, record.id) == {}
    with pytest.raises(ServiceError, match="no business-hours step 'menu'"):
        services.set_hours_override(ctx, record.id, "menu", "closed", None)
    with pytest.raises(ServiceError, match="'shut' is not a switch"):
        services.set_hours_override(ctx, record.id, "hours", "shut", None)
    with pytest.raises(ServiceError, match="before it starts"):
        services.set_hours_override(ctx, record.id, "hours", "open", time.time() - 60)


# ---- Split and Set -------------------------------------------------------------------------------


def split_flow():
    return make_flow({
        "who": {"type": "Split", "value": "{{ From }}", "cases": [
            {"branch": "vip", "equals": ["15551234567"]},
            {"branch": "local", "starts_with": ["1516", "1631"]},
            {"branch": "withheld", "empty": True}]},
        "vip": {"type": "Say", "text": "Hello, valued customer."},
        "local": {"type": "Say", "text": "Hello, neighbour."},
        "withheld": {"type": "Say", "text": "Your number is withheld."},
        "other": {"type": "Say", "text": "Hello."},
    }, [("who", "vip", "vip"), ("who", "local", "local"), ("who", "withheld", "withheld"), ("who", "other", "else")],
        flow_id="split")


@pytest.mark.parametrize("caller, heard", [
    ("15551234567", "Hello, valued customer."),
    ("+1 (555) 123-4567", "Hello, valued customer."),  # the same number, however it is written
    ("555.123.4567", "Hello, valued customer."),  # national form
    ("tel:+15551234567", "Hello, valued customer."),
    ("+1 516 206 5340", "Hello, neighbour."),
    ("16315550000", "Hello, neighbour."),
    ("", "Your number is withheld."),
    ("anonymous", "Your number is withheld."),
    ("+44 20 7946 0000", "Hello."),
])
def test_split_on_the_callers_number_compares_one_normal_form(caller, heard):
    host = Host(split_flow())
    answer = host.post("/flexml/split", From=caller)
    assert spoken(answer) == [heard]


def test_a_value_set_in_one_answer_is_read_after_a_menu_on_another_host_process():
    graph = make_flow({
        "welcome": {"type": "Say", "text": "Para español, oprima uno."},
        "lang": {"type": "Set", "vars": {"language": "es", "caller": "{{ From }}", "name": "{{ CallerName }}"}},
        "menu": {"type": "Gather", "attrs": {"numDigits": 1}, "options": ["1"],
                 "prompt": [{"type": "Say", "text": "Press 1."}]},
        "by-lang": {"type": "Split", "value": "{{ language }}", "cases": [{"branch": "es", "equals": ["es"]}]},
        "hola": {"type": "Say", "text": "Hola {{ caller }}, {{ name }}."},
        "hello": {"type": "Say", "text": "Hello."},
        "text": {"type": "Sms", "text": "Idioma: {{ language }}", "attrs": {"to": "15551230009"}},
    }, [("welcome", "lang"), ("lang", "menu"), ("menu", "by-lang", "1"), ("by-lang", "hola", "es"),
        ("by-lang", "hello", "else"), ("hola", "text")], flow_id="lang")
    first, second = Host(graph), Host(graph)  # two processes: nothing is shared but the URLs
    hostile = "</Say><Hangup/>&amp; \"x\" " + "é" * 600
    answer = first.post("/flexml/lang", From="+1 516 206 5340", CallerName=hostile)
    gather = etree.fromstring(answer.content).find("Gather")
    action = gather.get("action")
    query = parse_qs(urlsplit(action).query)
    assert query["v.language"] == ["es"] and query["v.caller"] == ["+1 516 206 5340"]
    assert len(query["v.name"][0]) <= 256  # capped, and URL-encoded inside a valid document
    later = second.post(action, Digits="1", From="+1 516 206 5340")
    said = spoken(later)
    assert said[0].startswith("Hola +1 516 206 5340, </Say><Hangup/>")
    sms = etree.fromstring(later.content).find("Sms")
    assert sms.text == "Idioma: es"
    assert [(e.target, e.params["branch"]) for e in decision_events(second.events) if e.kind == "decision"] == [("by-lang", "es")]
    # without the values in the URL (a call that skipped the Set) the split takes 'else'
    assert spoken(second.post(urlsplit(action).path, Digits="1")) == ["Hello."]


def test_answers_kept_for_the_same_inputs_are_the_answers_the_host_would_work_out_again():
    """The host keeps a decided answer for the next request with the same inputs (the minute and the switches
    for an Hours step, the values a Split or Set reads); every answer is the one worked out afresh."""
    graph = make_flow({
        "welcome": {"type": "Say", "text": "Welcome."},
        "hours": {"type": "Hours", "timezone": "America/New_York", "open": WEEK},
        "mark": {"type": "Set", "vars": {"seen": "yes", "who": "{{ From }}"}},
        "who": {"type": "Split", "value": "{{ From }}", "cases": [{"branch": "local", "starts_with": ["1516"]}]},
        "menu": {"type": "Gather", "attrs": {"numDigits": 1}, "options": ["1"],
                 "prompt": [{"type": "Say", "text": "Press 1."}]},
        "far": {"type": "Say", "text": "Calling from afar."},
        "closed": {"type": "Say", "text": "We are closed."},
    }, [("welcome", "hours"), ("hours", "mark", "open"), ("hours", "closed", "closed"), ("mark", "who"),
        ("who", "menu", "local"), ("who", "far", "else")], flow_id="kept")
    kept, fresh = Host(graph), Host(graph)
    served = [h.table.snapshot.revision("kept", None) for h in (kept, fresh)]
    assert served[0].decisions.plans  # the entry document's answer can be kept
    rng = random.Random(3)
    for i in range(120):
        at = datetime(2026, 12, 1, 16, 58, tzinfo=NY) + timedelta(seconds=rng.randrange(0, 240))  # 17:00 closes
        switch = rng.choice([None, Override("closed"), Override("open", (at + timedelta(seconds=30)).timestamp())])
        caller = rng.choice(["15162065340", "+1 516 206 5340", "12125550100", "anonymous"])
        query = rng.choice(["", "?v.seen=no&v.who=x"])  # values the call carries, which the Set overwrites
        answers = []
        for host in (kept, fresh):
            host.at = at
            host.table.set_override("kept", "hours", switch)
            served[1].decisions.answers.clear()  # worked out afresh every time
            answers.append(host.post("/flexml/kept/1/welcome" + query, From=caller, CallSid=f"CA{i}"))
        assert answers[0].content == answers[1].content, (at, switch, caller, query)
        assert kept.events[-1].params.get(DECISIONS) == fresh.events[-1].params.get(DECISIONS)
        assert kept.events[-1].params.get(REASONS) == fresh.events[-1].params.get(REASONS)
    assert len(served[0].decisions.answers) < 120  # some answers were kept and served again
    before = len(served[0].decisions.answers)
    kept.at = datetime(2026, 12, 1, 10, 0, tzinfo=NY)  # open
    kept.table.set_override("kept", "hours", None)
    long = kept.post("/flexml/kept/1/welcome", From="1516" + "5" * 20_000, CallSid="CA-long")
    assert b"<Gather" in long.content  # the Split read it: it starts with 1516
    assert len(served[0].decisions.answers) == before  # a long value is answered, not kept


def test_values_in_a_url_cannot_overwrite_call_fields_and_are_capped_in_number():
    graph = make_flow({"menu": {"type": "Gather", "options": ["1"], "attrs": {"numDigits": 1},
                                "prompt": [{"type": "Say", "text": "Press 1."}]},
                       "hi": {"type": "Say", "text": "You called from {{ From }}."}},
                      [("menu", "hi", "1")], flow_id="caps")
    host = Host(graph)
    junk = "&".join(f"v.n{i}=x" for i in range(200))
    answer = host.post(f"/flexml/caps/1/menu/gather?v.From=15550000000&{junk}", Digits="1", From="15551112222")
    assert spoken(answer) == ["You called from 15551112222."]


# ---- Transfer outcomes ---------------------------------------------------------------------------


def transfer_flow():
    return make_flow({
        "sales": {"type": "Dial", "numbers": ["15162065340"]},
        "sorry": {"type": "Say", "text": "No one could take your call. Please leave a message."},
        "vm": {"type": "Record"},
        "thanks": {"type": "Say", "text": "Thanks for talking to us."},
    }, [("sales", "thanks"), ("sales", "sorry", "no-answer"), ("sorry", "vm")], flow_id="transfer")


@pytest.mark.parametrize("fields, not_answered", [
    ({"DialCallStatus": "busy"}, True), ({"DialCallStatus": "no-answer"}, True),
    ({"DialCallStatus": "noanswer"}, True), ({"DialCallStatus": "failed"}, True),
    ({"DialCallStatus": "canceled"}, True), ({"DialCallStatus": "cancelled"}, True),
    ({"DialCallStatus": "cancel"}, True), ({"DialCallStatus": "BUSY"}, True),
    ({"DialStatus": "busy"}, True), ({"CallStatus": "noanswer"}, True),
    ({"DialCallStatus": "completed", "CallStatus": "busy"}, False),  # DialCallStatus comes first
    ({"DialCallStatus": "completed"}, False), ({"DialCallStatus": "answered"}, False),
    ({"CallStatus": "in-progress"}, False),
    ({}, False),  # no outcome at all: counted as answered
])
def test_a_transfers_outcome_picks_its_path(fields, not_answered):
    host = Host(transfer_flow())
    entry = etree.fromstring(host.post("/flexml/transfer").content)
    action = entry.find("Dial").get("action")
    assert action == "/flexml/transfer/1/sales/decide"
    answer = host.post(action, **fields)
    if not_answered:
        assert spoken(answer) == ["No one could take your call. Please leave a message."]
        assert tags(answer) == ["Say", "Record"]
    else:
        assert spoken(answer) == ["Thanks for talking to us."]
    assert [e.params["branch"] for e in decision_events(host.events) if e.kind == "decision"] == \
        ["no-answer" if not_answered else "next"]


def test_a_transfer_without_a_no_answer_path_compiles_as_before():
    graph = make_flow({"sales": {"type": "Dial", "numbers": ["15162065340"]}, "bye": {"type": "Say", "text": "Bye"}},
                      [("sales", "bye")], flow_id="plain")
    compiled = compile_flow(graph)
    assert b"action" not in compiled.documents["sales"] and compiled.decisions == {}
    assert not compiled.needs_host


def test_decide_urls_for_unknown_steps_get_the_apology():
    host = Host(transfer_flow())
    answer = host.post("/flexml/transfer/1/nobody/decide")
    assert "Sorry" in spoken(answer)[0] and tags(answer)[-1] == "Hangup"
    assert host.events[-1].kind == "error" and "no decision step 'nobody'" in host.events[-1].target


# ---- Send-text numbers from remembered values -------------------------------------------------------


def texting_flow(manager: str, later_from: str = "{{ caller }}"):
    return make_flow({
        "welcome": {"type": "Say", "text": "Thanks for calling."},
        "who": {"type": "Set", "vars": {"manager": manager, "caller": "{{ From }}"}},
        "menu": {"type": "Gather", "attrs": {"numDigits": 1}, "options": ["1"],
                 "prompt": [{"type": "Say", "text": "Press 1 to reach the manager."}]},
        "tell": {"type": "Sms", "text": "Call back {{ caller }}",
                 "attrs": {"to": "{{ manager }}", "from": later_from}},
        "bye": {"type": "Say", "text": "We texted the manager."},
    }, [("welcome", "who"), ("who", "menu"), ("menu", "tell", "1"), ("tell", "bye")], flow_id="texting")


def test_a_send_text_number_can_be_a_remembered_value_filled_per_call_on_another_process():
    graph = texting_flow("+1 555 123 4567")
    from compiler import validate
    assert [p for p in validate(graph) if p.is_error] == []
    first, second = Host(graph), Host(graph)
    gather = etree.fromstring(first.post("/flexml/texting", From="+15162065340").content).find("Gather")
    later = second.post(gather.get("action"), Digits="1", From="+15162065340")
    sms = etree.fromstring(later.content).find("Sms")
    assert (sms.get("to"), sms.get("from")) == ("15551234567", "+15162065340")  # one form for the carrier
    # a caller whose number is withheld: the from field is left out (the carrier's default applies)
    gather = etree.fromstring(first.post("/flexml/texting", From="anonymous").content).find("Gather")
    sms = etree.fromstring(second.post(gather.get("action"), Digits="1").content).find("Sms")
    assert sms.get("to") == "15551234567" and "from" not in sms.attrib
    # a value in the URL that is not a number is never written into the field
    path = urlsplit(gather.get("action")).path
    sms = etree.fromstring(second.post(path + "?v.manager=%3C%2FSms%3E", Digits="1").content).find("Sms")
    assert "to" not in sms.attrib


def test_a_remembered_number_that_is_not_a_phone_number_names_both_steps():
    from compiler import validate
    problems = [p for p in validate(texting_flow("the manager")) if p.is_error]
    assert [(p.node, p.field) for p in problems] == [("who", "vars.manager")]
    assert "'the manager' is not a phone number" in problems[0].message and "'tell'" in problems[0].message
    # a name no Remember step before it sets is refused on the Send text step itself
    problems = [p for p in validate(texting_flow("+15551234567", later_from="{{ boss }}")) if p.is_error]
    assert [(p.node, p.field) for p in problems] == [("tell", "attrs.from")]
    assert "Remember step" in problems[0].message


def test_a_branch_back_to_the_start_is_a_redirect_not_the_same_verbs_again():
    # found by the property test: closed → Go to the start repeated the start's verbs in the same answer
    # until MAX_CHAIN (with an Override start, not valid FlexML; validation now refuses a Go to an Override)
    graph = make_flow({
        "first": {"type": "Say", "text": "Welcome."},
        "hi": {"type": "Say", "text": "Hello."},
        "hours": {"type": "Hours", "timezone": "America/New_York", "open": {"mon": ["09:00-17:00"]}},
        "open": {"type": "Say", "text": "We are open."},
        "again": {"type": "Goto", "target": "first"},
    }, [("first", "hi"), ("hi", "hours"), ("hours", "open", "open"), ("hours", "again", "closed")],
        flow_id="loop")
    host = Host(graph)  # a Tuesday: closed
    answer = host.post("/flexml/loop")
    assert tags(answer) == ["Say", "Say", "Redirect"]
    assert etree.fromstring(answer.content)[-1].text == "/flexml/loop/1/first"
    assert [e.params["branch"] for e in decision_events(host.events) if e.kind == "decision"] == ["closed"]
