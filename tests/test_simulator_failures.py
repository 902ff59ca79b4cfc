"""Calls that cannot go on end cleanly, as the carrier would end them, with the reason in plain words."""

from __future__ import annotations

import pytest
from test_simulator_support import BASE, FlexMLServer, Slow, doc, free_port, serve

from designer.simulator import ScriptedCaller, simulate_call


async def call(docs: dict, start: str = "/start", **kw):
    server = FlexMLServer(docs)
    result = await simulate_call(BASE + start, transport=server.transport(), **kw)
    return result, server


def assert_broke(result, *words: str) -> None:
    assert not result.ok and result.status == "failed"
    for word in words:
        assert word in result.reason, (word, result.reason)
    error = next(e for e in result.events if e.kind == "error")
    assert "error message" in error.text  # the caller hears the carrier's error message
    assert result.kinds()[-1] in ("end", "status")


async def test_a_flow_that_loops_stops_after_max_fetches():
    docs = {"/start": doc("<Say>Again</Say>", "<Redirect>/start</Redirect>")}
    result, server = await call(docs, max_fetches=7, status_callback_url="/cb")
    assert_broke(result, "loop", "7 documents", "/start")
    assert len(server.to("/start")) == 7
    assert server.to("/cb")[0].body["CallStatus"] == "failed"


async def test_the_default_fetch_bound_is_fifty():
    result, server = await call({"/start": doc("<Redirect>/start</Redirect>")})
    assert_broke(result, "50 documents")
    assert result.fetches == 50 == len(server.requests)


@pytest.mark.parametrize("body, words", [
    ("Hello, I am not XML", ["not FlexML", "not XML", "line 1"]),
    ("", ["not FlexML", "empty"]),
    ("<html><body>Oops</body></html>", ["not FlexML", "<html>", "not <Response>"]),
    ("<Response>\n  <Say>Hi</Say>\n  <Speak>Hi</Speak>\n</Response>", ["unknown verb <Speak> on line 3"]),
    ("<Response>\n<hangup/>\n</Response>", ["unknown verb <hangup> on line 2", "<Hangup>"]),
    ("<Response><Gather>\n<Dial><Number>1</Number></Dial></Gather></Response>",
     ["<Dial> on line 2 cannot be nested in <Gather>"]),
    ('<Response>\n<Gather numDigits="two"/></Response>', ["numDigits='two'", "line 2", "whole number"]),
    ('<Response><Redirect method="PUT">/x</Redirect></Response>', ["method='PUT'", "POST or GET"]),
    ("<Response><Redirect/></Response>", ["<Redirect> on line 1 has no URL"]),
    ("<Response><Dial/></Response>", ["<Dial> on line 1 has no number"]),
])
async def test_an_answer_that_is_not_flexml_is_named_with_its_line(body, words):
    result, _ = await call({"/start": body})
    assert_broke(result, f"{BASE}/start", *words)


async def test_an_error_mid_call_keeps_what_the_caller_heard_and_reports_the_document():
    docs = {"/start": doc("<Say>Welcome</Say>", "<Redirect>/broken</Redirect>"), "/broken": "<oops>"}
    result, server = await call(docs, status_callback_url="/cb")
    assert_broke(result, f"{BASE}/broken", "not XML")
    assert result.said() == ["Welcome"] and result.answered
    assert server.to("/cb")[0].body["CallStatus"] == "failed"


@pytest.mark.parametrize("status, words", [(500, "HTTP 500 Internal Server Error"), (404, "HTTP 404 Not Found")])
async def test_an_http_error_status_breaks_the_call(status, words):
    result, _ = await call({"/start": doc("<Redirect>/bad</Redirect>"), "/bad": (status, "boom")})
    assert_broke(result, f"{BASE}/bad answered {words}")
    assert [e.status for e in result.events if e.kind == "fetch"] == [200, status]


async def test_http_error_on_real_loopback():
    server = FlexMLServer({"/start": (500, "Internal error")})
    with serve(server) as base:
        result = await simulate_call(f"{base}/start")
    assert_broke(result, "HTTP 500")


async def test_a_refused_connection_breaks_the_call():
    port = free_port()
    result = await simulate_call(f"http://127.0.0.1:{port}/flexml/x", fetch_timeout=5)
    assert_broke(result, f"could not connect to http://127.0.0.1:{port}/flexml/x", "connection refused")
    assert result.events[0].kind == "fetch" and "no answer" in result.events[0].text


async def test_a_server_that_does_not_answer_in_time_breaks_the_call():
    server = FlexMLServer({"/start": doc('<Gather numDigits="1" action="/slow"/>'), "/slow": Slow(30)})
    with serve(server) as base:
        result = await simulate_call(f"{base}/start", caller=ScriptedCaller(["1"]), fetch_timeout=0.3)
    assert_broke(result, f"{base}/slow did not answer within 0.3 s")


async def test_a_slow_in_process_server_times_out_too():
    result, _ = await call({"/start": Slow(30)}, fetch_timeout=0.2)
    assert_broke(result, "did not answer within 0.2 s")


@pytest.mark.parametrize("url", ["ftp://example.com/x", "mailto:someone@example.com"])
async def test_a_url_that_is_not_http_breaks_the_call(url):
    result, _ = await call({"/start": doc(f"<Redirect>{url}</Redirect>")})
    assert_broke(result, "only http:// and https://")


async def test_a_status_callback_that_fails_does_not_break_a_good_call():
    port = free_port()
    with serve(FlexMLServer({"/start": doc("<Hangup/>")})) as base:
        result = await simulate_call(f"{base}/start", status_callback_url=f"http://127.0.0.1:{port}/cb")
    assert result.ok and result.status == "completed"
    status = result.events[-1]
    assert status.kind == "status" and "no answer" in status.text and "connection refused" in status.text


def test_bad_arguments_are_refused():
    from designer.simulator import run_call

    with pytest.raises(ValueError, match="POST or GET"):
        run_call(f"{BASE}/x", method="PUT")
    with pytest.raises(ValueError, match="max_fetches"):
        run_call(f"{BASE}/x", max_fetches=0)


async def test_an_answer_too_large_for_a_document_breaks_the_call():
    from designer.simulator import MAX_ANSWER_BYTES

    huge = "<Response>" + "<Pause/>" * (MAX_ANSWER_BYTES // 8) + "</Response>"
    result, _ = await call({"/start": huge})
    assert_broke(result, "is larger than 1024 KB")


@pytest.mark.parametrize("verb, words", [
    ('<Pause length="0"/>', ["length='0'", "out of range", "1 or more"]),
    ('<Say loop="200">Hi</Say>', ["loop='200'", "out of range", "from 0 to 100"]),
    ('<Gather timeout="0"><Say>Press 1</Say></Gather>', ["timeout='0'", "out of range", "1 or more"]),
])
async def test_an_out_of_range_value_is_refused_as_the_carrier_would_not_clamped(verb, words):
    result, _ = await call({"/start": doc(verb)})  # issue 15: the carrier refuses these; never clamp them
    assert_broke(result, "not FlexML", *words)


async def test_a_menu_without_a_finish_key_submits_the_hash_as_a_key():
    docs = {"/start": doc('<Gather finishOnKey="_" action="/keys"><Say>Press</Say></Gather>'),
            "/keys": doc("<Hangup/>")}
    result, server = await call(docs, caller=ScriptedCaller(["1#"]))
    assert result.ok
    assert server.to("/keys")[0].body["Digits"] == "1#"


HUGE = "9" * 4000  # a whole number int() still reads


@pytest.mark.parametrize("verbs", [
    (f'<Say loop="2" loopPause="{HUGE}">hi</Say>',),
    (f'<Pause length="{HUGE}"/>',),
    (f'<Gather timeout="{HUGE}"><Say>x</Say></Gather>',),
    (f'<Dial timeout="{HUGE}"><Number>15551230000</Number></Dial>',),
])
async def test_a_number_too_large_for_a_call_breaks_it_with_a_reason_not_a_traceback(verbs):
    # attack: `simulate URL` (and the sandbox playing a call from any URL) raised OverflowError
    # ("int too large to convert to float") adding such a number to the call's clock
    result, _ = await call({"/start": doc(*verbs, "<Hangup/>")}, caller=ScriptedCaller(digits=["1"]))
    assert_broke(result, "is too large")
