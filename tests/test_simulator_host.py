"""Simulated calls to the built-in host serving the example flows: the whole call path."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_simulator_support import serve

import compiler
from compiler import compile_flow, loads
from designer.host import FlowTable, create_host_app
from designer.simulator.hosting import host_sources
from designer.simulator import ScriptedCaller, simulate_call

EXAMPLES = Path(compiler.__file__).parent / "examples"


async def call_example(name: str, *digits, at=None, **kw):
    hosted = host_sources([EXAMPLES / f"{name}.json"], at=at)
    caller = ScriptedCaller(digits=list(digits), **{k: kw.pop(k) for k in list(kw)
                                                   if k in ("record_fails", "dial_outcome", "record_seconds")})
    result = await simulate_call(hosted.url, caller=caller, transport=hosted.transport, flows=hosted.flows,
                                 status_callback_url=hosted.status_url, **kw)
    assert hosted.host_errors() == []
    return result, hosted


def steps(result, kind: str) -> list[str | None]:
    return [e.step for e in result.events if e.kind == kind]


async def test_main_menu_press_1_transfers_to_sales():
    result, hosted = await call_example("main-menu", "1")
    assert result.ok, result.reason
    assert result.said() == ["Thank you for calling Acme.",
                             "For sales, press 1. To leave a message, press 2. For the operator, press 0."]
    (dial,) = [e for e in result.events if e.kind == "dial"]
    assert dial.data["numbers"] == ["15162065340"]
    assert dial.doc == "sales" and dial.step == "sales"  # the router's answer is named by the step map
    assert steps(result, "say") == ["welcome", "menu"] and steps(result, "gather") == ["menu"]
    assert result.fetched() == [hosted.url, f"{hosted.url}/1/menu/gather"]
    assert result.fetches == 2  # welcome and menu in one document: one round trip to the menu


async def test_main_menu_press_2_leaves_a_voicemail():
    result, _ = await call_example("main-menu", "2")
    assert result.ok and result.reason == "the flow hung up"
    assert result.said()[-2:] == ["Please leave a message after the beep. Press pound when you are done.",
                                  "Thank you. Goodbye."]
    assert steps(result, "record") == ["voicemail"] and steps(result, "hangup") == ["bye"]


async def test_main_menu_voicemail_failure_takes_the_error_path():
    result, _ = await call_example("main-menu", "2", record_fails=True)
    assert result.said()[-1] == "Sorry, we could not record your message."
    assert result.fetched()[-1].endswith("/flexml/main-menu/1/vm-failed")
    assert [e.doc for e in result.events if e.kind == "say"][-1] == "vm-failed"


async def test_main_menu_wrong_keys_are_retried_then_the_no_input_path():
    result, _ = await call_example("main-menu", "9", "9", "9")
    said = result.said()
    assert said.count("Sorry, that is not a valid choice.") == 2
    assert "We did not hear a choice." in said
    retry_say = next(e for e in result.events if e.kind == "say" and e.text.startswith('"Sorry'))
    assert retry_say.doc == "menu.retry1" and retry_say.step == "menu"
    assert any(u.endswith("/menu/gather?attempt=3") for u in result.fetched())


async def test_main_menu_asks_a_silent_caller_once_more_then_takes_a_message():
    result, _ = await call_example("main-menu", "")
    assert result.ok and result.reason == "the flow hung up"  # the call ends: no loop
    said = result.said()
    assert "We did not hear a choice." in said and said[-1] == "Thank you. Goodbye."
    assert said.index("We did not hear a choice.") < said.index(
        "Please leave a message after the beep. Press pound when you are done.")


async def test_main_menu_operator_busy():
    result, _ = await call_example("main-menu", "0", dial_outcome="busy")
    dial = next(e for e in result.events if e.kind == "dial")
    assert dial.data == {"numbers": ["15162065341"], "outcome": "busy", "talk": 0}


@pytest.mark.parametrize("keys, heard", [
    (["1234"], "Thank you. Your PIN is correct. Connecting you to your account team."),
    (["1234#"], "Thank you. Your PIN is correct. Connecting you to your account team."),
    (["12#", "1234"], "Thank you. Your PIN is correct. Connecting you to your account team."),
    (["9999", ""], "We did not receive a PIN. Goodbye."),
])
async def test_pin_check(keys, heard):
    result, _ = await call_example("pin-check", *keys)
    assert result.ok and result.said()[-1] == heard


async def test_pin_check_submits_the_typed_digits_when_pound_comes_early():
    result, _ = await call_example("pin-check", "12#", "1234")
    sent = [e.data["sent"].get("Digits") for e in result.events if e.kind == "fetch"]
    assert sent == [None, "12", None, "1234"]
    assert "Sorry, that PIN is not correct." in result.said()


async def test_after_hours_texts_the_on_call_team_and_the_caller_then_hangs_up():
    christmas = datetime(2026, 12, 25, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # closed
    result, hosted = await call_example("after-hours", from_="15165550000", to="15162065337", at=christmas)
    assert [(e.data["node"], e.data["branch"]) for e in result.events if e.kind == "decision"] == [("hours", "closed")]
    assert steps(result, "say")[0] == "closed"  # the transcript names the step each verb came from
    assert result.sms == [{"to": "15162065343", "from": "15165550000",
                           "body": "After-hours call to Acme from 15165550000."},
                          {"to": "15165550000", "from": "15162065337",  # the caller, from the number they called
                           "body": "Acme is open Monday to Friday, 9 AM to 5 PM. Call us back then!"}]
    assert result.reason == "the flow hung up"
    status = [e for e in hosted.events if e.kind == "status"]
    assert len(status) == 1 and status[0].params["CallDuration"] == str(result.call_duration)
    assert status[0].call_sid == result.call_sid and status[0].target == "completed"


async def test_the_host_answers_get_requests_too():
    result, _ = await call_example("main-menu", "1", method="GET")
    assert result.ok and [e.method for e in result.events if e.kind == "fetch"] == ["GET", "POST"]


async def test_the_account_url_picks_the_flow_bound_to_the_called_number():
    table = FlowTable()
    compiled = compile_flow(compiler.load(EXAMPLES / "pin-check.json"))
    table.serve_revision(compiled)
    table.bind("+1 (516) 206-5337", "pin-check")
    import httpx

    result = await simulate_call("http://host/flexml", to="15162065337", caller=ScriptedCaller(["1234"]),
                                 transport=httpx.ASGITransport(app=create_host_app(table)), flows=[compiled])
    assert result.said()[0] == "Please enter your four digit PIN, then press pound."
    assert result.events[1].doc == "ask-pin" and result.events[1].step == "ask-pin"


async def test_templated_text_is_heard_with_the_call_variables():
    flow = {"directed": True, "multigraph": False,
            "graph": {"id": "hello", "name": "Hello", "start": "hi", "format": 1},
            "nodes": [{"id": "hi", "type": "Say", "text": "You called from {{ From }}."},
                      {"id": "bye", "type": "Hangup"}],
            "edges": [{"source": "hi", "target": "bye"}]}
    compiled = compile_flow(loads(json.dumps(flow)))
    table = FlowTable()
    table.serve_revision(compiled)
    with serve(create_host_app(table)) as base:  # real loopback HTTP to the host
        result = await simulate_call(f"{base}/flexml/hello", from_="15165550123", flows=[compiled])
    assert result.ok and result.said() == ["You called from 15165550123."]
    assert result.events[1].step == "hi"  # named through the start URL even though the text was rendered
