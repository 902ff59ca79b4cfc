"""Traffic on the canvas: scripted calls through the designer's host, counted by the store's aggregates and mapped
to steps, checked against counts made independently from what the simulated callers heard and pressed."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from call_scripts import FRONT_DESK, VIP, call, serve

from designer import services
from designer.services import ServiceError
from designer.store import DECISIONS, REASONS, CallEvent, decisions_param, reasons_param
from compiler.examples import example
import networkx as nx

# (keys pressed, caller options) for each scripted call
FRONT_DESK_CALLS = [
    (("1",), {}), (("1",), {}), (("2",), {}), (("9", "2"), {}), ((), {}),
    ((), {"from_": VIP}), ((), {"from_": VIP, "dial_outcome": "busy"}), (("1",), {"from_": VIP, "dial_outcome": "noanswer"}),
]
MAIN_MENU_CALLS = [(("1",), {}), (("2",), {}), (("0",), {"dial_outcome": "busy"}), (("9", "9", "9"), {}),
                   (("",), {}), (("5", "2"), {}), ((), {"patience": 0})]


def heard(result) -> tuple[Counter, str | None]:
    """(times each step was reached, the step the call ended at) from a simulated call's own events."""
    reached: Counter = Counter()
    seen: set[str] = set()
    last = None
    for e in result.events:
        if e.kind == "fetch":
            seen = set()  # a new answer: its steps are reached again
            continue
        step = e.data.get("node") if e.kind == "decision" else e.step
        if step is None or e.kind in ("status", "end") or (e.kind == "decision" and step == last):
            continue  # (a transfer's outcome arrives with the next request: the same visit)
        if step not in seen:
            seen.add(step)
            reached[step] += 1
        last = step
    return reached, last


def pressed(result, menu: str) -> Counter:
    """What the caller did at each arrival at ``menu``: the option's key, "no input" or "invalid"."""
    out: Counter = Counter()
    for e in result.events:
        if e.kind == "keys" and e.step == menu:
            digits = e.data.get("digits") or ""
            out["no input" if not digits else digits] += 1
    return out


@pytest.mark.parametrize("graph, calls, menu, options", [
    (FRONT_DESK, FRONT_DESK_CALLS, "menu", {"1", "2"}),
    (nx.node_link_data(example("main-menu"), edges="edges"), MAIN_MENU_CALLS, "menu", {"1", "2", "0"}),
])
def test_traffic_counts_match_what_the_callers_did(ctx, graph, calls, menu, options):
    flow = serve(ctx, graph)
    reached: Counter = Counter()
    ended: Counter = Counter()
    keys: Counter = Counter()
    for digits, caller in calls:
        result = call(ctx, flow, *digits, flows=[ctx.table.compiled(flow)], **caller)
        r, last = heard(result)
        reached.update(r)
        ended[last] += 1
        keys.update(pressed(result, menu))
    traffic = services.traffic(ctx, flow, 1, days=1)
    assert traffic.calls == len(calls) and traffic.errors == 0
    assert {s: t.reached for s, t in traffic.steps.items() if t.reached} == dict(reached)
    assert {s: t.ended for s, t in traffic.steps.items() if t.ended} == dict(ended)
    stats = traffic.menus[menu]
    assert stats.options == {k: n for k, n in keys.items() if k in options}
    invalid = sum(n for k, n in keys.items() if k not in options and k != "no input")
    # no input: reached the menu and pressed nothing (waited it out, or hung up while it waited)
    assert (stats.no_input, stats.invalid) == (reached[menu] - sum(keys.values()) + keys["no input"], invalid)
    assert stats.no_input > 0 and stats.invalid > 0
    # every option taken is a connection used that often
    for key, n in stats.options.items():
        assert traffic.edges[(menu, key)] == n


def test_traffic_is_per_revision_and_period_and_counts_errors(ctx):
    flow = serve(ctx)
    call(ctx, flow, "1")
    now = time.time()
    ctx.store.record_events([  # an old call, another revision's call, and a request the host refused
        CallEvent("CA-old", flow, "1", "document", "welcome", None, now - 40 * 86400, {}),
        CallEvent("CA-r2", flow, "2", "document", "welcome", None, now - 60, {}),
        CallEvent("CA-bad", flow, "1", "error", "junk digits 'x'", "x", now - 60, {}),
    ])
    month = services.traffic(ctx, flow, 1, days=30)
    assert (month.calls, month.steps["welcome"].reached, month.errors) == (2, 1, 1)
    assert services.traffic(ctx, flow, 1, days=90).steps["welcome"].reached == 2
    with pytest.raises(ServiceError, match="no revision 7"):
        services.traffic(ctx, flow, 7)
    with pytest.raises(ServiceError, match="not a traffic period"):
        services.traffic(ctx, flow, 1, days=12)


def test_the_store_counts_in_sql_on_both_backends(any_store):
    rows = [("CA1", "f", "1", "document", "welcome", None, 10.0, {}),  # decisions as events before this version
            ("CA1", "f", "1", "decision", "hours", None, 11.0, {"branch": "open"}),
            ("CA1", "f", "1", "router", "menu", "2", 11.0, {"answer": "vm", "decided": "hours open"}),
            ("CA2", "f", "1", "document", "welcome", None, 12.0, {}),
            ("CA2", "f", "1", "router", "menu", "2", 13.0, {"answer": "vm"}),
            ("CA2", "f", "1", "status", "completed", None, 14.0, {"CallStatus": "completed"}),
            ("CA3", "f", "2", "document", "welcome", None, 12.0, {}),
            ("CA4", "f", "1", "document", "welcome", None, 99.0, {}),
            # decisions travelling with the request they were taken in
            ("CA5", "f", "1", "document", "welcome", None, 20.0, {DECISIONS: "hours closed", REASONS: "closed"}),
            ("CA6", "f", "1", "document", "welcome", None, 21.0, {DECISIONS: "hours open\nwho vip",
                                                                  REASONS: "open\n'+1555' is one of 1555"})]
    any_store.record_rows(rows)
    counts = any_store.traffic("f", "1", 0.0, 50.0)
    assert counts.calls == 4
    assert sorted((c.kind, c.target, c.digits, c.answer, c.decisions, c.count) for c in counts.counts) == [
        ("decision", "hours", None, "open", (), 1), ("document", "welcome", None, None, (), 2),
        ("document", "welcome", None, None, (("hours", "closed"),), 1),
        ("document", "welcome", None, None, (("hours", "open"), ("who", "vip")), 1),
        ("router", "menu", "2", "vm", (), 2)]
    # each call's last request, with the decisions taken in that answer (before: the last one spliced in)
    assert sorted(((e.kind, e.target, e.answer, e.decisions, e.count) for e in counts.endings), key=str) == [
        ("document", "welcome", None, (("hours", "closed"),), 1),
        ("document", "welcome", None, (("hours", "open"), ("who", "vip")), 1),
        ("router", "menu", "vm", (("hours", "open"),), 1), ("router", "menu", "vm", (), 1)]
    assert [(e.kind, e.target, e.params.get("branch")) for e in any_store.call_events("CA6")] == [
        ("decision", "hours", "open"), ("decision", "who", "vip"), ("document", "welcome", None)]


@pytest.mark.parametrize("recorded", ["with the request", "as events (before this version)"])
def test_a_recording_that_answers_with_the_rest_of_the_flow_counts_like_a_router(ctx, recorded):
    """The voicemail route records a "recording" event naming the document it answered with."""
    flow = serve(ctx)
    now = time.time() - 60
    taken = [("hours", "open"), ("lang", "next"), ("who", "else")]
    if recorded == "with the request":
        first = [CallEvent("CA-vm", flow, "1", "document", "welcome", None, now, {
            "From": "15550001111", DECISIONS: decisions_param(taken), REASONS: reasons_param(["a", "b", "c"], 512)})]
    else:
        first = [CallEvent("CA-vm", flow, "1", "decision", node, None, now, {"branch": branch}) for node, branch in taken]
        first.append(CallEvent("CA-vm", flow, "1", "document", "welcome", None, now, {"From": "15550001111",
                                                                                     "decided": "who else"}))
    ctx.store.record_events([
        *first,
        CallEvent("CA-vm", flow, "1", "router", "menu", "2", now + 5, {"answer": "vm"}),
        CallEvent("CA-vm", flow, "1", "recording", "vm", None, now + 30,
                  {"answer": "thanks", "RecordingUrl": "https://api.carrier.example/r/1.mp3", "RecordingDuration": "20"}),
    ])
    traffic = services.traffic(ctx, flow, 1, days=1)
    assert {s: (t.reached, t.ended) for s, t in traffic.steps.items() if t.reached} == {
        "welcome": (1, 0), "hours": (1, 0), "lang": (1, 0), "who": (1, 0), "menu": (1, 0), "vm": (1, 0),
        "thanks": (1, 0), "bye": (1, 1)}
    timeline = services.call_timeline(ctx, "CA-vm")
    assert timeline.path[-3:] == ["vm", "thanks", "bye"]
    assert [e.title for e in timeline.entries if e.kind == "recording"] == ["Recording (20 s)"]
