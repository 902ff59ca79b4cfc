"""A call's timeline, from real calls through the designer's host (simulated callers) into its store: each verb
and decision shows with what the caller did and heard; the revision, the status callback, recordings."""

from __future__ import annotations

import time

from call_scripts import OTHER, VIP, call, serve

from designer import services
from designer.store import CallEvent


def entries(timeline, kind: str) -> list[tuple[str, str]]:
    return [(e.title, e.detail) for e in timeline.entries if e.kind == kind]


def test_say_menu_keys_text_and_decisions(ctx):
    flow = serve(ctx)
    result = call(ctx, flow, "1")
    t = services.call_timeline(ctx, result.call_sid)
    assert t.found and t.revision_found and (t.flow_id, t.rev) == (flow, "1")
    assert (t.caller, t.called, t.status, t.duration) == (OTHER, "15162065337", "completed", str(result.call_duration))
    assert t.path == ["welcome", "hours", "lang", "who", "menu", "text", "thanks", "bye"]
    assert entries(t, "step")[0] == ("Speak text welcome", "Welcome to Acme.")
    decisions = entries(t, "decision")
    assert [title for title, _ in decisions] == ["Business hours hours: open", "Remember values lang: next",
                                                 "Split by value who: else"]
    assert "Tuesday 09:00-17:00" in decisions[0][1] and decisions[2][1] == f"'{OTHER}' matched no case"
    assert entries(t, "keys") == [("Pressed 1 at menu: option 1", "went on to text")]
    # the text as this caller's call sent it: the body's {{ From }} filled in, from the caller by default
    assert entries(t, "sms") == [(f"Text sent to 15162065343 from {OTHER}", f"Call from {OTHER}.")]
    assert result.sms == [{"to": "15162065343", "from": OTHER, "body": f"Call from {OTHER}."}]
    assert entries(t, "status") == [("Status callback: completed", f"the call lasted {result.call_duration} s")]
    assert [e.kind for e in t.entries][-1] == "status"
    assert all(a.at <= b.at for a, b in zip(t.entries, t.entries[1:]))


def test_a_transfer_and_its_outcome_then_invalid_keys_and_no_input(ctx):
    flow = serve(ctx)
    answered = services.call_timeline(ctx, call(ctx, flow, from_=VIP).call_sid)
    assert entries(answered, "transfer") == [
        ("Transfer desk to 15162065340", ""),
        ("Transfer desk: answered", "the transfer was answered (DialCallStatus=completed)")]
    assert answered.path == ["welcome", "hours", "lang", "who", "desk", "bye"]
    busy = services.call_timeline(ctx, call(ctx, flow, "9", "", from_=VIP, dial_outcome="busy").call_sid)
    assert entries(busy, "transfer")[1] == ("Transfer desk: not answered",
                                           "the transfer was not answered (DialCallStatus=busy)")
    assert entries(busy, "keys") == [("Pressed 9 at menu: not an option (invalid)", "went on to menu")]
    assert busy.path[-4:] == ["desk", "sorry", "menu", "menu"]  # asked again, then no input ended the call


def test_a_recording_shows_its_length_and_a_link_and_a_forged_link_is_not_one(ctx):
    flow = serve(ctx)
    result = call(ctx, flow, "2")
    ctx.store.record_events([
        CallEvent(result.call_sid, flow, "1", "recording", "vm", None, time.time(),
                  {"RecordingUrl": "https://api.carrier.example/r/RE1.mp3", "RecordingFileSid": "RE1",
                   "RecordingDuration": "12"}),
        CallEvent(result.call_sid, flow, "1", "recording", "vm", None, time.time() + 1,
                  {"RecordingUrl": "javascript:alert(1)", "RecordingFileSid": "RE2"}),
    ])
    t = services.call_timeline(ctx, result.call_sid)
    recordings = [e for e in t.entries if e.kind == "recording"]
    kept_not = recordings.pop(0)  # the simulated carrier's own recording: its URL is on no allowed host
    assert (kept_not.title, kept_not.link, kept_not.step) == ("Recording not kept", None, "vm")
    assert "not allowed" in kept_not.detail
    assert [(e.title, e.detail, e.link, e.step) for e in recordings] == [
        ("Recording (12 s)", "12 s · RE1", "https://api.carrier.example/r/RE1.mp3", "vm"),
        ("Recording", "length not reported · RE2", None, "vm")]
    assert "vm" in t.path and entries(t, "keys") == [("Pressed 2 at menu: option 2", "went on to vm")]


def test_a_call_that_hung_up_at_a_menu_ends_there_and_a_gone_revision_or_call_says_so(ctx):
    import networkx as nx
    from call_scripts import FRONT_DESK
    from compiler.examples import example

    menu = serve(ctx, nx.node_link_data(example("main-menu"), edges="edges"))
    # the menu's document goes on after it (no input: "We did not hear a choice", then back to the menu); no
    # request came, so the caller hung up while the menu waited
    hung = services.call_timeline(ctx, call(ctx, menu, patience=0).call_sid)
    assert hung.path == ["welcome", "hours", "menu"] and hung.status == "completed"
    flow = serve(ctx)
    ctx.store.record_events([CallEvent("CA-gone", flow, "7", "document", "welcome", None, 1.0, {"From": "1555"})])
    gone = services.call_timeline(ctx, "CA-gone")
    assert gone.found and not gone.revision_found and gone.path == []
    assert entries(gone, "step") == [("Requested welcome", "")]
    missing = services.call_timeline(ctx, "CA-never")
    assert not missing.found and missing.entries == []
    assert FRONT_DESK["graph"]["id"] == flow
