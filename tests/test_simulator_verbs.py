"""Each FlexML verb as the carrier runs it (the FlexML reference), against hand-written documents.

Most calls go to an in-process server through ``httpx.ASGITransport``; the
request-field and status-callback tests use real loopback HTTP.
"""

from __future__ import annotations

import re

import pytest
from test_simulator_support import BASE, FlexMLServer, doc, serve

from designer.simulator import (CHARS_PER_SECOND, FOREVER_REPEATS, KEY_SECONDS, PLAY_SECONDS, GatherInfo,
                                HangUp, ScriptedCaller, simulate_call, speech_seconds)

REFERENCE_FIELDS = ("AccountSid", "ApiVersion", "CallerName", "CallSid", "CallStatus", "Direction", "From",
                    "OriginalFrom", "OriginalTo", "RequestUrl", "To")


async def call(docs: dict, start: str = "/start", **kw):
    server = FlexMLServer(docs)
    result = await simulate_call(BASE + start, transport=server.transport(), **kw)
    return result, server


def caller(*digits, **kw) -> ScriptedCaller:
    return ScriptedCaller(digits=list(digits), **kw)


# ---- requests ------------------------------------------------------------------------------------

async def test_post_sends_the_reference_fields_as_json_and_one_call_sid_for_the_whole_call():
    docs = {"/start": doc('<Redirect>/next</Redirect>'), "/next": doc("<Hangup/>")}
    server = FlexMLServer(docs)
    with serve(server) as base:
        result = await simulate_call(f"{base}/start", from_="15162065338", to="15162065337")
    assert result.ok, result.reason
    first, second = server.requests
    assert first.method == second.method == "POST"
    assert first.content_type.startswith("application/json") and first.query == {}
    for name in REFERENCE_FIELDS:
        assert name in first.body, name
    assert first.body["ApiVersion"] == "2.0"
    assert first.body["From"] == first.body["OriginalFrom"] == "15162065338"
    assert first.body["To"] == first.body["OriginalTo"] == "15162065337"
    assert first.body["Direction"] == "inbound"
    assert first.body["RequestUrl"] == second.body["RequestUrl"] == f"{base}/start"
    assert re.fullmatch(r"[0-9a-f]{32}", first.body["CallSid"])
    assert second.body["CallSid"] == first.body["CallSid"] == result.call_sid


async def test_get_sends_the_fields_as_query_parameters():
    server = FlexMLServer({"/start": doc("<Hangup/>")})
    with serve(server) as base:
        result = await simulate_call(f"{base}/start", method="get", from_="111", to="222")
    assert result.ok
    (got,) = server.requests
    assert got.method == "GET" and got.body == {}
    assert got.query["From"] == "111" and got.query["To"] == "222" and got.query["ApiVersion"] == "2.0"


async def test_each_call_has_its_own_call_sid_unless_one_is_given():
    docs = {"/start": doc("<Redirect>/start2</Redirect>"), "/start2": doc("<Hangup/>")}
    a, _ = await call(docs)
    b, _ = await call(docs)
    assert a.call_sid != b.call_sid
    given, server = await call(docs, call_sid="9dc690bb-a627-4af6-95be-0e259250d8df")
    assert given.call_sid == "9dc690bb-a627-4af6-95be-0e259250d8df"
    assert {r.body["CallSid"] for r in server.requests} == {given.call_sid}


@pytest.mark.parametrize("target, expected", [
    ("next", "/ivr/menu/next"),
    ("../other", "/ivr/other"),
    ("/top", "/top"),
    ("next?x=1", "/ivr/menu/next"),
])
async def test_relative_urls_resolve_against_the_url_just_fetched(target, expected):
    docs = {"/ivr/menu/start": doc(f"<Redirect>{target}</Redirect>"), expected: doc("<Hangup/>")}
    result, server = await call(docs, start="/ivr/menu/start")
    assert result.ok, result.reason
    assert server.paths() == ["/ivr/menu/start", expected]


async def test_relative_urls_after_a_redirect_resolve_against_the_new_document():
    docs = {"/a/start": doc("<Redirect>/b/c/doc</Redirect>"),
            "/b/c/doc": doc('<Gather numDigits="1" action="route"><Say>Press</Say></Gather>'),
            "/b/c/route": doc("<Hangup/>")}
    result, server = await call(docs, start="/a/start", caller=caller("5"))
    assert server.paths() == ["/a/start", "/b/c/doc", "/b/c/route"]
    assert server.requests[-1].body["Digits"] == "5"


async def test_absolute_action_urls_are_requested_as_written():
    docs = {"/start": doc(f'<Gather numDigits="1" action="{BASE}/elsewhere/x"/>'), "/elsewhere/x": doc("<Hangup/>")}
    result, server = await call(docs, caller=caller("1"))
    assert server.paths() == ["/start", "/elsewhere/x"]


# ---- Say -----------------------------------------------------------------------------------------

async def test_say_speaks_its_text_and_takes_time_by_length():
    text = "x" * int(CHARS_PER_SECOND * 4)  # four seconds of speech
    result, _ = await call({"/start": doc(f'<Say voice="woman">{text}</Say>', '<Say>Next</Say>')})
    says = [e for e in result.events if e.kind == "say"]
    assert result.said() == [text, "Next"]
    assert says[0].data["voice"] == "woman" and says[1].at == pytest.approx(4.0)
    assert says[0].line == 3 and says[0].index == 0 and says[1].index == 1


async def test_say_loop_repeats_with_a_pause_between():
    result, _ = await call({"/start": doc('<Say loop="3" loopPause="2">Hello</Say>', "<Pause/>")})
    pause = next(e for e in result.events if e.kind == "pause")
    assert pause.at == pytest.approx(3 * speech_seconds("Hello") + 2 * 2)
    assert "3 times, 2 s apart" in result.events[1].text


async def test_say_loop_zero_repeats_until_the_caller_hangs_up():
    result, server = await call({"/start": doc('<Say loop="0">Please hold</Say>', '<Redirect>/never</Redirect>')},
                                status_callback_url="/status")
    assert result.ok and result.status == "completed"
    assert "repeats until the call ends" in result.reason
    assert "/never" not in server.paths()
    assert result.duration == pytest.approx(FOREVER_REPEATS * speech_seconds("Please hold"))


# ---- Play ----------------------------------------------------------------------------------------

async def test_play_loop_and_loop_pause_take_time():
    result, _ = await call({"/start": doc('<Play loop="3" loopPause="2">music.mp3</Play>', "<Hangup/>")})
    play = next(e for e in result.events if e.kind == "play")
    assert play.data["file"] == f"{BASE}/music.mp3"  # relative file URL resolved
    assert result.duration == pytest.approx(3 * PLAY_SECONDS + 2 * 2)


async def test_play_with_action_requests_it_after_the_file_and_skips_the_rest():
    docs = {"/start": doc('<Play action="/after" method="GET">a.wav</Play>', "<Say>skipped</Say>"),
            "/after": doc("<Hangup/>")}
    result, server = await call(docs)
    assert server.paths() == ["/start", "/after"] and server.requests[1].method == "GET"
    assert "skipped" not in result.said()


async def test_play_that_fails_requests_error_action_with_error_method():
    docs = {"/start": doc('<Play action="/after" errorAction="/failed" errorMethod="get">a.wav</Play>'),
            "/after": doc("<Hangup/>"), "/failed": doc("<Say>Sorry</Say>")}
    result, server = await call(docs, caller=caller(play_fails=True))
    assert server.paths() == ["/start", "/failed"] and server.requests[1].method == "GET"
    assert any(e.kind == "play" and e.data.get("failed") for e in result.events)
    assert result.said() == ["Sorry"]


async def test_play_that_fails_without_error_action_goes_on():
    result, server = await call({"/start": doc("<Play>a.wav</Play>", "<Say>After</Say>")},
                                caller=caller(play_fails=True))
    assert result.said() == ["After"] and server.paths() == ["/start"]


async def test_only_the_files_the_script_marks_fail():
    docs = {"/start": doc('<Play errorAction="/e1">good.wav</Play>', '<Play errorAction="/e2">bad.wav</Play>'),
            "/e1": doc("<Hangup/>"), "/e2": doc("<Hangup/>")}
    result, server = await call(docs, caller=caller(play_fails=[f"{BASE}/bad.wav"]))
    assert server.paths() == ["/start", "/e2"]


# ---- Pause ---------------------------------------------------------------------------------------

async def test_pause_waits_its_length_default_one_second():
    result, _ = await call({"/start": doc('<Pause length="4"/>', "<Pause/>", "<Hangup/>")})
    pauses = [e for e in result.events if e.kind == "pause"]
    assert [p.at for p in pauses] == [0, 4] and result.duration == 5


# ---- Gather --------------------------------------------------------------------------------------

MENU = doc('<Gather numDigits="1" action="/route" timeout="7"><Say>For sales press 1</Say>'
           '<Play>hold.wav</Play></Gather>', "<Say>No choice</Say>", "<Hangup/>")


async def test_gather_plays_its_prompts_then_sends_the_digit_to_action():
    result, server = await call({"/start": MENU, "/route": doc("<Say>Sales</Say>")}, caller=caller("1"))
    assert server.paths() == ["/start", "/route"]
    assert server.requests[1].body["Digits"] == "1"
    assert result.said() == ["For sales press 1", "Sales"]  # the verbs after the Gather never ran
    kinds = result.kinds()
    assert kinds.index("say") < kinds.index("play") < kinds.index("gather") < kinds.index("keys")


async def test_gather_with_no_input_falls_through_to_the_next_verb_after_its_timeout():
    result, server = await call({"/start": MENU, "/route": doc("<Hangup/>")}, caller=caller(""))
    assert server.paths() == ["/start"]  # the action is not requested
    assert result.said() == ["For sales press 1", "No choice"]
    gather = next(e for e in result.events if e.kind == "gather")
    no_choice = [e for e in result.events if e.kind == "say"][-1]
    assert no_choice.at == pytest.approx(gather.at + 7)


@pytest.mark.parametrize("attrs, keys, digits", [
    ('numDigits="4"', "12#", "12"),          # finishOnKey before numDigits is reached submits what was typed
    ('numDigits="4"', "1234", "1234"),       # numDigits reached
    ('numDigits="4"', "1234#", "1234"),      # both: numDigits first, the # is a key too many
    ('numDigits="2"', "123", "12"),          # keys after the input is complete are ignored
    ('', "42#", "42"),                       # no numDigits: the finish key submits
    ('', "42", "42"),                        # no numDigits, no finish key: the timeout submits
    ('finishOnKey="*" numDigits="5"', "1#2*", "1#2"),  # another finish key: # is a digit
    ('finishOnKey="" numDigits="5"', "12#", "12#"),    # no finish key at all
    ('numDigits="3"', "#", ""),              # only the finish key: an empty submission
])
async def test_gather_collects_digits_by_its_rules(attrs, keys, digits):
    docs = {"/start": doc(f'<Gather {attrs} action="/route"><Say>Enter</Say></Gather>', "<Say>fell</Say>"),
            "/route": doc("<Hangup/>")}
    result, server = await call(docs, caller=caller(keys))
    assert server.paths() == ["/start", "/route"]
    assert server.requests[1].body["Digits"] == digits
    assert "fell" not in result.said()


@pytest.mark.parametrize("attrs, keys, said", [
    ('numDigits="1"', "9", "pressed 9"),
    ('numDigits="1"', "99", "pressed 99: 9 completes the 1-digit input; 9 after that is ignored"),
    ('numDigits="2"', "1234", "pressed 1234: 12 completes the 2-digit input; 34 after that are ignored"),
    ('', "12#3", "pressed 12#3: # submits 12; 3 after that is ignored"),
    ('', "#", "pressed #: # submits no digits"),
])
async def test_the_transcript_says_which_keys_counted(attrs, keys, said):
    docs = {"/start": doc(f'<Gather {attrs} action="/route"><Say>Enter</Say></Gather>'), "/route": doc("<Hangup/>")}
    result, _ = await call(docs, caller=caller(keys))
    assert [e.text for e in result.events if e.kind == "keys"] == [said]


async def test_gather_waits_its_timeout_only_when_the_caller_stops_without_finishing():
    docs = {"/start": doc('<Gather timeout="6" action="/route"/>'), "/route": doc("<Hangup/>")}
    finished, _ = await call(docs, caller=caller("42#"))
    timed_out, _ = await call(docs, caller=caller("42"))
    assert finished.duration == pytest.approx(3 * KEY_SECONDS)
    assert timed_out.duration == pytest.approx(2 * KEY_SECONDS + 6)


async def test_gather_without_action_submits_to_the_current_document():
    docs = {"/start": (lambda got: doc("<Hangup/>") if got.body.get("Digits") else
                       doc('<Gather numDigits="1"><Say>Press</Say></Gather>'))}
    result, server = await call(docs, caller=caller("3"))
    assert server.paths() == ["/start", "/start"]
    assert server.requests[1].body["Digits"] == "3" and server.requests[1].method == "POST"


async def test_gather_method_get_sends_digits_in_the_query_case_insensitively():
    docs = {"/start": doc('<Gather numDigits="1" method="get" action="/route?attempt=2"/>'),
            "/route": doc("<Hangup/>")}
    result, server = await call(docs, caller=caller("9"))
    got = server.requests[1]
    assert got.method == "GET" and got.query["Digits"] == "9" and got.query["attempt"] == "2"


async def test_each_gather_takes_the_next_script_entry():
    docs = {"/start": doc('<Gather numDigits="1" action="/two"/>'),
            "/two": doc('<Gather numDigits="1" action="/three"/>', "<Say>silence</Say>", "<Redirect>/three</Redirect>"),
            "/three": doc('<Gather numDigits="2" action="/end"/>'), "/end": doc("<Hangup/>")}
    result, server = await call(docs, caller=caller("1", "", "77"))
    assert server.paths() == ["/start", "/two", "/three", "/end"]
    assert [r.body.get("Digits") for r in server.requests] == [None, "1", None, "77"]
    assert "silence" in result.said()


async def test_a_caller_without_more_keys_gives_up_after_a_few_silent_menus():
    docs = {"/start": doc('<Gather numDigits="1" action="/x"><Say>Menu</Say></Gather>', "<Redirect>/start</Redirect>")}
    result, server = await call(docs, caller=caller(patience=2))
    assert result.ok and "no more keys" in result.reason
    assert len(server.requests) == 3  # silent at three menus (no script + 2 more), hangs up at the third
    assert result.kinds()[-2:] == ["hangup", "end"]


async def test_a_gather_prompt_that_repeats_forever_waits_for_a_key():
    docs = {"/start": doc('<Gather numDigits="1" action="/r"><Say loop="0">Press a key</Say></Gather>',
                          "<Say>never</Say>"), "/r": doc("<Hangup/>")}
    pressed, server = await call(docs, caller=caller("4"))
    assert server.paths() == ["/start", "/r"]
    silent, _ = await call(docs, caller=caller(""))
    assert silent.ok and "repeats until a key is pressed" in silent.reason and "never" not in silent.said()


class KeypadCaller(ScriptedCaller):
    """An interactive caller: the designer's keypad answers asynchronously."""

    def __init__(self):
        super().__init__()
        self.asked: list[GatherInfo] = []

    async def keys(self, gather: GatherInfo) -> str | None:
        self.asked.append(gather)
        return "2#"

    async def dial_outcome(self, numbers):
        return "noanswer"


async def test_an_interactive_caller_sees_what_the_gather_asks_for():
    docs = {"/start": doc('<Gather numDigits="3" timeout="9" action="/r"><Say>Your code</Say></Gather>'),
            "/r": doc('<Dial action="/d"><Number>1555</Number></Dial>'), "/d": doc("<Hangup/>")}
    keypad = KeypadCaller()
    result, server = await call(docs, caller=keypad)
    (info,) = keypad.asked
    assert (info.num_digits, info.finish_on_key, info.timeout) == (3, "#", 9)
    assert info.prompts == ("Your code",) and info.action == f"{BASE}/r" and info.url == f"{BASE}/start"
    assert server.requests[1].body["Digits"] == "2"
    assert server.requests[2].body["DialCallStatus"] == "noanswer"


async def test_a_caller_can_hang_up_at_any_time():
    class Impatient(ScriptedCaller):
        async def keys(self, gather):
            raise HangUp("pressed the red button")

    result, server = await call({"/start": doc('<Gather action="/r"/>', "<Say>never</Say>")}, caller=Impatient(),
                                status_callback_url="/status")
    assert result.ok and result.reason == "the caller hung up: pressed the red button"
    assert server.to("/status")[0].body["CallStatus"] == "completed"


def test_a_script_with_a_non_key_is_refused():
    with pytest.raises(ValueError, match="'x'"):
        ScriptedCaller(digits=["1x"])
    with pytest.raises(ValueError, match="dial outcome"):
        ScriptedCaller(dial_outcome="maybe")


# ---- Dial ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("outcome", ["completed", "busy", "noanswer", "failed"])
async def test_dial_with_action_sends_the_outcome_and_skips_the_rest(outcome):
    docs = {"/start": doc('<Dial action="/after" timeout="20"><Number>15162065340</Number></Dial>',
                          "<Say>skipped</Say>"), "/after": doc("<Hangup/>")}
    result, server = await call(docs, caller=caller(dial_outcome=outcome))
    assert server.paths() == ["/start", "/after"]
    assert server.requests[1].body["DialCallStatus"] == outcome
    assert "skipped" not in result.said()
    dial = next(e for e in result.events if e.kind == "dial")
    assert dial.data["numbers"] == ["15162065340"] and dial.data["outcome"] == outcome


async def test_dial_without_action_goes_on_to_the_next_verb():
    docs = {"/start": doc('<Dial timeout="20"><Number>1</Number><Number>2</Number></Dial>', "<Say>After</Say>")}
    result, server = await call(docs, caller=caller(dial_outcome="noanswer"))
    assert server.paths() == ["/start"] and result.said() == ["After"]
    assert next(e for e in result.events if e.kind == "dial").data["numbers"] == ["1", "2"]
    assert result.events[-2].at == pytest.approx(20)  # waited the Dial's timeout for an answer


async def test_dial_time_limit_caps_the_transferred_call():
    docs = {"/start": doc('<Dial timeLimit="15" action="/a"><Number>1</Number></Dial>'), "/a": doc("<Hangup/>")}
    result, server = await call(docs, caller=caller(dial_seconds=600))
    assert server.requests[1].body["DialCallDuration"] == 15


@pytest.mark.parametrize("attrs, said", [
    ('hangupOnStar="true"', "answered; after 30 s the caller presses *, which ends the transfer"),
    ('', "answered; the call lasts 30 s; the caller presses *, which does nothing here (hangupOnStar is off)"),
])
async def test_star_during_a_transfer_ends_it_only_with_hangup_on_star(attrs, said):
    docs = {"/start": doc(f'<Dial {attrs}><Number>15162065340</Number></Dial>', "<Say>After</Say>")}
    result, _ = await call(docs, caller=caller(star_in_transfer=True))
    assert next(e for e in result.events if e.kind == "dial").text == f"transfer to 15162065340: {said}"
    assert result.said() == ["After"]


async def test_the_caller_script_is_told_the_numbers():
    seen = []

    class Recording(ScriptedCaller):
        def dial_outcome(self, numbers):
            seen.append(numbers)
            return "busy"

    await call({"/start": doc("<Dial><Number> 15162065340 </Number></Dial>")}, caller=Recording())
    assert seen == [["15162065340"]]


# ---- Record --------------------------------------------------------------------------------------

RECORD = doc('<Record action="/saved" errorAction="/failed" timeout="3" maxLength="60" fileFormat="mp3"/>',
             "<Say>skipped</Say>")


async def test_record_sends_the_recording_fields_in_both_spellings():
    result, server = await call({"/start": RECORD, "/saved": doc("<Hangup/>"), "/failed": doc("<Hangup/>")},
                                caller=caller(record_seconds=12))
    assert server.paths() == ["/start", "/saved"]
    body = server.requests[1].body
    assert body["RecordingDuration"] == 12
    assert body["RecordingUrl"] == body["RecordingURL"] and body["RecordingUrl"].endswith(".mp3")
    assert body["RecordingFileSid"] == body["RecordingFileSID"] and body["RecordingFileSid"]
    assert result.duration == pytest.approx(1 + 12 + 3)  # beep, speech, the silence that ends it


async def test_an_empty_recording_still_calls_action_with_duration_zero():
    result, server = await call({"/start": RECORD, "/saved": doc("<Hangup/>"), "/failed": doc("<Hangup/>")},
                                caller=caller(record_seconds=0))
    assert server.paths() == ["/start", "/saved"]
    assert server.requests[1].body["RecordingDuration"] == 0
    assert "silent" in next(e for e in result.events if e.kind == "record").text


async def test_a_recording_that_fails_requests_error_action():
    result, server = await call({"/start": RECORD, "/saved": doc("<Hangup/>"), "/failed": doc("<Hangup/>")},
                                caller=caller(record_fails=True))
    assert server.paths() == ["/start", "/failed"]
    assert "RecordingUrl" not in server.requests[1].body


async def test_record_without_action_goes_on_and_max_length_caps_it():
    result, server = await call({"/start": doc('<Record maxLength="5" playBeep="false"/>', "<Say>After</Say>")},
                                caller=caller(record_seconds=30))
    assert result.said() == ["After"]
    assert next(e for e in result.events if e.kind == "record").data["duration"] == 5


@pytest.mark.parametrize("finish, key, ends", [
    (None, "5", True),       # without finishOnKey any key ends the recording
    ('finishOnKey="#"', "#", True),
    ('finishOnKey="123"', "2", True),
    ('finishOnKey="#"', "5", False),
    ('finishOnKey="none"', "#", False),
])
async def test_a_finish_key_ends_the_recording_without_the_silence_timeout(finish, key, ends):
    record = doc(f'<Record action="/saved" timeout="4" {finish or ""}/>')
    result, server = await call({"/start": record, "/saved": doc("<Hangup/>")},
                                caller=caller(record_seconds=10, record_key=key))
    assert server.requests[1].body["RecordingDuration"] == 10
    text = next(e for e in result.events if e.kind == "record").text
    if ends:
        assert text == f"the caller speaks for 10 s, then presses {key}: recorded"
        assert result.duration == pytest.approx(1 + 10)  # beep and speech; no silence to wait out
    else:
        assert text.startswith("the caller speaks for 10 s: recorded; " + f"{key} does not end this recording")
        assert result.duration == pytest.approx(1 + 10 + 4)


async def test_record_session_records_in_the_background():
    result, _ = await call({"/start": doc('<Record recordSession="true" action="/x"/>', "<Say>Go on</Say>")})
    assert result.said() == ["Go on"]


# ---- Sms -----------------------------------------------------------------------------------------

async def test_sms_defaults_to_the_called_number_from_the_calling_number():
    result, _ = await call({"/start": doc("<Sms>Hi there</Sms>", '<Sms to="1999" from="1888">Other</Sms>')},
                           from_="1555", to="1666")
    assert result.sms == [{"to": "1666", "from": "1555", "body": "Hi there"},
                          {"to": "1999", "from": "1888", "body": "Other"}]


async def test_sms_with_action_requests_it_and_skips_the_rest():
    result, server = await call({"/start": doc('<Sms action="/sent">Hi</Sms>', "<Say>skipped</Say>"),
                                 "/sent": doc("<Hangup/>")})
    assert server.paths() == ["/start", "/sent"] and "skipped" not in result.said()


# ---- Redirect, Reject, Hangup, the end of a document ---------------------------------------------

async def test_redirect_follows_its_method_and_ignores_the_rest():
    result, server = await call({"/start": doc('<Redirect method="GET">/next</Redirect>', "<Say>no</Say>"),
                                 "/next": doc("<Say>yes</Say>")})
    assert [(r.method, r.path) for r in server.requests] == [("POST", "/start"), ("GET", "/next")]
    assert result.said() == ["yes"]


@pytest.mark.parametrize("reason, status", [("busy", "busy"), ("rejected", "failed"), ("", "failed")])
async def test_reject_as_first_verb_does_not_answer(reason, status):
    attr = f' reason="{reason}"' if reason else ""
    result, server = await call({"/start": doc(f"<Reject{attr}/>", "<Say>never</Say>")},
                                status_callback_url="/status")
    assert result.ok and not result.answered and result.status == status
    assert result.said() == [] and result.duration == 0
    sent = server.to("/status")[0].body
    assert sent["CallStatus"] == status and sent["CallDuration"] == 0


async def test_reject_after_the_call_was_answered_just_ends_it():
    result, _ = await call({"/start": doc("<Say>Hello</Say>", "<Reject/>")})
    assert result.answered and result.status == "completed" and result.duration > 0


async def test_override_before_reject_leaves_the_call_unanswered():
    result, server = await call({"/start": doc('<Override statusCallbackUrl="/cb"/>', '<Reject reason="busy"/>')})
    assert not result.answered and server.to("/cb")[0].body["CallStatus"] == "busy"


async def test_hangup_ends_the_call_and_later_verbs_do_not_run():
    result, _ = await call({"/start": doc("<Say>Bye</Say>", "<Hangup/>", "<Say>never</Say>")})
    assert result.ok and result.said() == ["Bye"] and result.reason == "the flow hung up"


async def test_the_end_of_a_document_ends_the_call():
    result, _ = await call({"/start": doc("<Say>Only this</Say>")})
    assert result.ok and result.status == "completed" and "ended" in result.reason


# ---- Override and the status callback -----------------------------------------------------------

async def test_override_sends_the_status_callback_elsewhere_with_call_duration():
    docs = {"/app/start": doc('<Override statusCallbackUrl="status-here" statusCallbackMethod="get"/>',
                              '<Pause length="10"/>', "<Say>Goodbye</Say>"),
            "/app/status-here": doc(), "/configured": doc()}
    server = FlexMLServer(docs)
    with serve(server) as base:
        result = await simulate_call(f"{base}/app/start", status_callback_url=f"{base}/configured")
    assert server.to("/configured") == []
    (cb,) = server.to("/app/status-here")
    assert cb.method == "GET"
    assert cb.query["CallDuration"] == str(result.call_duration) == str(10 + int(speech_seconds("Goodbye")))
    assert cb.query["CallStatus"] == "completed"
    assert cb.query["RequestUrl"] == f"{base}/app/start" and cb.query["RequestMethod"] == "POST"
    assert cb.query["CallSid"] == result.call_sid
    assert result.events[-1].kind == "status" and result.events[-1].status == 200


async def test_the_configured_status_callback_gets_a_post_with_json():
    server = FlexMLServer({"/start": doc("<Pause length=\"3\"/>"), "/cb": doc()})
    with serve(server) as base:
        result = await simulate_call(f"{base}/start", status_callback_url=f"{base}/cb", method="GET")
    assert result.ok and result.duration == 3
    (cb,) = server.to("/cb")
    assert cb.method == "POST" and cb.body["CallDuration"] == 3 and cb.body["RequestMethod"] == "GET"


async def test_no_status_callback_without_a_url():
    result, server = await call({"/start": doc("<Hangup/>")})
    assert server.paths() == ["/start"] and "status" not in result.kinds()


# ---- events ----------------------------------------------------------------------------------------

async def test_events_stream_as_they_happen_sync_or_async():
    seen_sync, seen_async = [], []

    async def hook(event):
        seen_async.append(event)

    docs = {"/flexml/demo/1/welcome": doc("<Say>Hi</Say>", '<Gather numDigits="1" action="/flexml/demo/1/m/gather"/>'),
            "/flexml/demo/1/m/gather": doc("<Hangup/>")}
    server = FlexMLServer(docs)
    result = await simulate_call(f"{BASE}/flexml/demo/1/welcome", transport=server.transport(),
                                 caller=caller("1"), on_event=seen_sync.append)
    await simulate_call(f"{BASE}/flexml/demo/1/welcome", transport=server.transport(), caller=caller("1"),
                        on_event=hook)
    assert seen_sync == result.events and [e.kind for e in seen_async] == result.kinds()
    fetch = result.events[0]
    assert fetch.kind == "fetch" and fetch.url == f"{BASE}/flexml/demo/1/welcome" and fetch.latency_ms >= 0
    assert fetch.doc == "welcome" and result.events[1].doc == "welcome"  # a host document URL names its doc
    router_fetch = [e for e in result.events if e.kind == "fetch"][1]
    assert router_fetch.doc is None and router_fetch.data["sent"] == {"Digits": "1"}
    assert all(b.at >= a.at for a, b in zip(result.events, result.events[1:]))
    assert "fetch" in result.transcript() and "/flexml/demo/1/welcome" in result.transcript()


async def test_http_redirects_are_followed_and_later_urls_resolve_against_the_final_one():
    docs = {"/old/start": (302, "", {"Location": "/new/start"}),
            "/new/start": doc('<Redirect>next</Redirect>'), "/new/next": doc("<Hangup/>")}
    result, server = await call(docs, start="/old/start")
    assert result.ok and server.paths() == ["/old/start", "/new/start", "/new/next"]
    assert result.fetched()[0] == f"{BASE}/new/start"


async def test_a_host_may_name_the_document_it_answered_with():
    docs = {"/menu/gather": (200, doc("<Hangup/>"), {"X-FlexML-Document": "goodbye"})}
    result, _ = await call(docs, start="/menu/gather")
    assert result.events[0].doc == result.events[1].doc == "goodbye"


async def test_pace_waits_virtual_time_scaled_before_each_event(monkeypatch):
    import designer.simulator as simulator

    waited = []

    async def fake_sleep(seconds):
        waited.append(seconds)

    monkeypatch.setattr(simulator, "_sleep", fake_sleep)
    docs = {"/start": doc('<Pause length="4"/>', '<Pause length="2"/>', "<Hangup/>")}
    unpaced, _ = await call(docs)
    assert waited == []
    paced, _ = await call(docs, pace=0.5)
    assert waited == [2.0, 1.0]
    assert paced.kinds() == unpaced.kinds() and [e.at for e in paced.events] == [e.at for e in unpaced.events]


async def test_events_serialise_to_json_for_the_browser():
    import json

    result, _ = await call({"/start": doc('<Gather numDigits="1" action="/r"><Say>Hi</Say></Gather>'),
                            "/r": doc("<Hangup/>")}, caller=caller("1"))
    data = json.loads(json.dumps([e.to_json() for e in result.events]))
    assert [d["kind"] for d in data] == result.kinds()
    assert data[0]["url"] == f"{BASE}/start" and "latency_ms" in data[0] and "step" not in data[0]
    assert data[1] == {"kind": "say", "text": '"Hi"', "at": 0.0, "url": f"{BASE}/start", "line": 3, "index": 0,
                       "data": {"speech": "Hi", "voice": "man", "loop": 1}}
