"""Every validation rule: each problem names the step, the field and says what is wrong in plain words."""

from __future__ import annotations

import json

import pytest

from compiler import compile_flow, loads, validate
from compiler.validate import Problem
from tests.strategies import make_flow

SAY = {"type": "Say", "text": "Hello."}
MENU_PROMPT = [{"type": "Say", "text": "Press 1."}]


def found(graph, severity: str | None = "error") -> list[Problem]:
    return [p for p in validate(graph) if severity is None or p.severity == severity]


def one(graph, severity: str = "error") -> Problem:
    problems = found(graph, severity)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def single(step: dict, **kw) -> Problem:
    """The one error of a flow made of one step."""
    return one(make_flow({"x": step}), **kw)


def test_a_valid_flow_has_no_problems():
    flow = make_flow({"hi": SAY, "menu": {"type": "Gather", "prompt": MENU_PROMPT},
                      "one": {"type": "Hangup"}, "none": {"type": "Hangup"}},
                     [("hi", "menu"), ("menu", "one", "1"), ("menu", "none", "timeout")])
    assert validate(flow) == []


def test_problem_prints_as_node_field_message():
    p = single({"type": "Say"})
    assert str(p) == "node x: text: Say needs the text to speak"
    assert str(Problem(None, "start", "the flow has no start step")) == "flow: start: the flow has no start step"
    assert str(Problem("m", "branch timeout", "no path", "warning")) == "node m: branch timeout: no path (warning)"


# --- step types and attributes ---------------------------------------------------------


def test_unknown_step_type_lists_the_known_ones():
    p = single({"type": "Speak", "text": "Hi"})
    assert (p.node, p.field) == ("x", "type")
    assert "unknown step type 'Speak'" in p.message and "Say" in p.message and "Goto" in p.message


def test_step_without_type():
    p = single({"text": "Hi"})
    assert (p.node, p.field) == ("x", "type") and "no type" in p.message


@pytest.mark.parametrize(("step", "field", "words"), [
    ({"type": "Pause", "attrs": {"length": "soon"}}, "attrs.length", "'soon' is not a whole number"),
    ({"type": "Pause", "attrs": {"length": 1.5}}, "attrs.length", "1.5 is not a whole number"),
    ({"type": "Pause", "attrs": {"length": True}}, "attrs.length", "True is not a whole number"),
    ({"type": "Pause", "attrs": {"length": 0}}, "attrs.length", "0 is out of range: use a whole number 1 or more"),
    ({"type": "Say", "text": "Hi", "attrs": {"loop": 101}}, "attrs.loop", "from 0 to 100"),
    ({"type": "Say", "text": "Hi", "attrs": {"loopPause": 301}}, "attrs.loopPause", "from 0 to 300"),
    ({"type": "Say", "text": "Hi", "attrs": {"voice": "robot"}}, "attrs.voice",
     "'robot' is not allowed; use one of man, woman"),
    ({"type": "Dial", "numbers": ["15162065340"], "attrs": {"hangupOnStar": "yes"}}, "attrs.hangupOnStar",
     "'yes' is not true or false"),
    ({"type": "Play", "text": "https://a.example/x.mp3", "attrs": {"stopOnKey": "A"}}, "attrs.stopOnKey",
     "'A' is not a phone key"),
    ({"type": "Record", "attrs": {"fileFormat": "ogg"}}, "attrs.fileFormat",
     "'ogg' is not allowed; use one of wav, mp3, ul"),
    ({"type": "Record", "attrs": {"finishOnKey": "pound"}}, "attrs.finishOnKey", "phone keys (0-9, *, #) or the word none"),
    ({"type": "Record", "attrs": {"direction": "both"}}, "attrs.direction", "use one of in, out"),
    ({"type": "Reject", "attrs": {"reason": "nope"}}, "attrs.reason", "use one of rejected, busy"),
    ({"type": "Override", "attrs": {"statusCallbackUrl": "not a url"}}, "attrs.statusCallbackUrl", "is not a URL"),
    ({"type": "Sms", "text": "Hi", "attrs": {"to": "555-1234"}}, "attrs.to", "use a number in E.164 form, or one of {{ From }}"),
    ({"type": "Sms", "text": "Hi", "attrs": {"from": "0123456789"}}, "attrs.from", "E.164"),
    ({"type": "Gather", "prompt": MENU_PROMPT, "attrs": {"numDigits": 0}}, "attrs.numDigits", "1 or more"),
    ({"type": "Gather", "prompt": MENU_PROMPT, "attrs": {"finishOnKey": "##"}}, "attrs.finishOnKey", "not a phone key"),
    ({"type": "Say", "text": "Hi", "attrs": {"colour": "red"}}, "attrs.colour",
     "Say has no attribute 'colour'; it has: loop, loopPause, voice"),
    ({"type": "Say", "text": "Hi", "attrs": ["voice"]}, "attrs", "must be a set of name: value pairs"),
    ({"type": "Gather", "prompt": MENU_PROMPT, "attrs": {"action": "mine.xml"}}, "attrs.action",
     "relative address"),
    ({"type": "Play", "text": "https://a.example/x.mp3", "attrs": {"errorAction": "/x"}}, "attrs.errorAction",
     "set from the step's connections"),
    ({"type": "Gather", "prompt": MENU_PROMPT, "retries": 9}, "retries", "from 0 to 5"),
])
def test_attribute_of_wrong_type_out_of_range_or_not_allowed(step, field, words):
    p = single(step)
    assert (p.node, p.field) == ("x", field)
    assert words in p.message


def test_cleared_attributes_are_not_problems():
    assert found(make_flow({"x": {"type": "Say", "text": "Hi", "attrs": {"voice": None, "loop": ""}}})) == []


def test_say_text_longer_than_1024_characters():
    assert found(make_flow({"x": {"type": "Say", "text": "a" * 1024}})) == []
    p = single({"type": "Say", "text": "a" * 1025})
    assert (p.field, p.message) == ("text", "is 1,025 characters; Say speaks at most 1,024")


def test_menu_prompt_text_is_checked_too():
    step = {"type": "Gather", "prompt": [{"type": "Say", "text": "ok"}, {"type": "Say", "text": "b" * 2000}]}
    p = single(step)
    assert p.field == "prompt[1].text" and "2,000 characters" in p.message


def test_menu_prompt_may_only_hold_say_and_play():
    p = single({"type": "Gather", "prompt": [{"type": "Dial", "numbers": ["15162065340"]}]})
    assert p.field == "prompt[0].type" and "use Say or Play" in p.message


def test_retry_text_follows_say_rules():
    p = single({"type": "Gather", "prompt": MENU_PROMPT, "retryText": "c" * 1100})
    assert p.field == "retryText" and "1,100 characters" in p.message


@pytest.mark.parametrize(("step", "field"), [
    ({"type": "Say"}, "text"), ({"type": "Say", "text": "   "}, "text"), ({"type": "Sms"}, "text"),
    ({"type": "Play"}, "text"), ({"type": "Redirect"}, "text"),
])
def test_required_text(step, field):
    p = single(step)
    assert p.field == field and "needs" in p.message


def test_play_needs_a_media_url_and_redirect_a_url():
    assert "not a URL" in single({"type": "Play", "text": "/local/file.mp3"}).message
    assert "not a URL" in single({"type": "Redirect", "text": "elsewhere"}).message
    assert found(make_flow({"x": {"type": "Redirect", "text": "/elsewhere"}})) == []


@pytest.mark.parametrize("url", ["http://[::1/next", "https://example.com:99999/x", "https://example.com:port/x",
                                 "http:///no-host", "https://:80/x"])
def test_urls_that_would_not_parse_at_the_carrier(url):
    assert "not a URL" in single({"type": "Redirect", "text": url}).message
    assert "not a URL" in single({"type": "Play", "text": url}).message
    p = single({"type": "Override", "attrs": {"statusCallbackUrl": url}})
    assert p.field == "attrs.statusCallbackUrl" and "not a URL" in p.message


@pytest.mark.parametrize("url", ["http://[::1]:8080/next", "https://ivr.example.com:8443/a?b=c", "rtmp://media.example/x"])
def test_well_formed_urls_pass(url):
    step = {"type": "Play", "text": url, "attrs": {"streaming": url.startswith("rtmp")}}  # rtmp plays streaming
    assert found(make_flow({"x": step})) == []


def test_a_text_may_go_to_the_caller_by_call_variable():
    step = {"type": "Sms", "text": "hi", "attrs": {"to": "{{ From }}", "from": "{{To}}"}}
    assert found(make_flow({"x": step})) == []


@pytest.mark.parametrize("value", ["{{ Digits }}", "{{ From }}1", "{{ From | upper }}", "{{ Nobody }}", "{{"])
def test_a_number_attribute_names_only_a_number_variable(value):
    p = single({"type": "Sms", "text": "hi", "attrs": {"to": value}})
    assert p.field == "attrs.to" and "E.164" in p.message and "{{ From }}" in p.message


def test_a_transfer_number_cannot_be_a_call_variable():
    p = single({"type": "Dial", "numbers": ["{{ From }}"]})
    assert p.field == "numbers[0]" and "E.164" in p.message


def test_text_on_a_step_that_takes_none():
    p = single({"type": "Hangup", "text": "bye"})
    assert (p.field, p.message) == ("text", "Hangup takes no text")


def test_control_characters_that_xml_cannot_hold():
    p = single({"type": "Say", "text": "Hi\x00there"})
    assert p.field == "text" and "control character" in p.message
    p = single({"type": "Record", "attrs": {"stringKey1": "a\x07b"}})
    assert p.field == "attrs.stringKey1" and "control character" in p.message


def test_template_with_an_unknown_call_variable():
    p = single({"type": "Say", "text": "Hello {{ Caller }}"})
    assert p.field == "text" and "unknown call variable 'Caller'" in p.message
    p = single({"type": "Sms", "text": "Hello {{ From"})
    assert p.field == "text" and "mistake on line 1" in p.message


# --- Dial numbers ----------------------------------------------------------------------


def test_dial_numbers_must_be_e164():
    p = single({"type": "Dial", "numbers": ["15162065340", "(516) 206-5341"]})
    assert (p.field, p.message) == ("numbers[1]", "'(516) 206-5341' is not a phone number in E.164 form "
                                                  "(like 15162065340 or +15162065340)")


@pytest.mark.parametrize("numbers", [None, []])
def test_dial_needs_a_number(numbers):
    p = single({"type": "Dial", "numbers": numbers})
    assert p.field == "numbers" and "at least one phone number" in p.message


def test_dial_numbers_must_be_a_list():
    assert single({"type": "Dial", "numbers": "15162065340"}).message == "must be a list of phone numbers"


# --- connections -----------------------------------------------------------------------


def test_branch_the_step_type_does_not_have():
    flow = make_flow({"a": SAY, "b": {"type": "Hangup"}}, [("a", "b", "error")])
    p = one(flow)
    assert (p.node, p.field) == ("a", "branch error")
    assert "has no output 'error'; its outputs are next" in p.message


def test_menu_has_no_next_output():
    flow = make_flow({"m": {"type": "Gather", "prompt": MENU_PROMPT}, "b": {"type": "Hangup"}}, [("m", "b")])
    p = found(flow)[0]
    assert p.field == "branch next" and "digit options" in p.message


def test_two_connections_on_one_branch():
    flow = make_flow({"a": SAY, "b": {"type": "Hangup"}, "c": {"type": "Hangup"}}, [("a", "b"), ("a", "c")])
    p = one(flow)
    assert (p.node, p.field) == ("a", "branch next")
    assert p.message == "connects to both 'b' and 'c'; one output leads to one step"


def test_a_branch_listed_twice_on_one_connection():
    flow = make_flow({"m": {"type": "Gather", "prompt": MENU_PROMPT}, "b": {"type": "Hangup"}}, [("m", "b", "1")])
    flow.edges["m", "b"]["also"] = ["2", "1"]  # as a hand-written flow file might say
    p = one(flow)
    assert (p.node, p.field, p.message) == ("m", "branch 1", "is listed twice on the connection to 'b'; remove one")


@pytest.mark.parametrize("terminal", [
    {"type": "Hangup"}, {"type": "Reject"}, {"type": "Redirect", "text": "/x"}, {"type": "Goto", "target": "b"},
])
def test_connections_leaving_a_step_that_ends_the_path(terminal):
    flow = make_flow({"a": terminal, "b": SAY}, [("a", "b")])
    p = one(flow)
    assert (p.node, p.field) == ("a", "branch next")
    assert "ends the call's path; it cannot connect to 'b'" in p.message


def test_connection_to_a_missing_step():
    flow = loads(json.dumps({"graph": {"id": "t", "start": "a"}, "nodes": [{"id": "a", **SAY}],
                             "edges": [{"source": "a", "target": "ghost"}]}))
    p = one(flow)
    assert (p.node, p.field, p.message) == ("a", "branch next", "connects to step 'ghost', which does not exist")


def test_missing_and_unknown_start():
    flow = make_flow({"a": {"type": "Hangup"}})
    del flow.graph["start"]
    p = one(flow)
    assert (p.node, p.field) == (None, "start") and "no start step" in p.message
    flow.graph["start"] = "nowhere"
    p = one(flow)
    assert (p.node, p.field, p.message) == (None, "start", "the start step 'nowhere' does not exist")


def test_cycle_names_its_steps_and_suggests_a_goto():
    flow = make_flow({"a": SAY, "b": {"type": "Say", "text": "B"}, "c": {"type": "Pause"}},
                     [("a", "b"), ("b", "c"), ("c", "a")])
    p = one(flow)
    assert p.field == "connections"
    assert p.message == ("steps a → b → c → a form a loop; connect 'c' to a 'Go to' step that jumps to 'a' instead")


def test_cycle_through_a_menu_option():
    flow = make_flow({"m": {"type": "Gather", "prompt": MENU_PROMPT}, "s": SAY},
                     [("m", "s", "1"), ("s", "m"), ("m", "s", "timeout")])
    p = one(flow)
    assert "form a loop" in p.message and "Go to" in p.message


@pytest.mark.parametrize(("target", "words"), [
    (None, "choose the step to go to"), ("ghost", "goes to step 'ghost', which does not exist"),
    ("g", "cannot go to itself"),
])
def test_goto_needs_an_existing_other_step(target, words):
    flow = make_flow({"a": SAY, "g": {"type": "Goto", "target": target}}, [("a", "g")])
    p = one(flow)
    assert (p.node, p.field) == ("g", "target") and words in p.message


def test_goto_steps_that_only_jump_to_each_other():
    flow = make_flow({"a": SAY, "g1": {"type": "Goto", "target": "g2"}, "g2": {"type": "Goto", "target": "g1"}},
                     [("a", "g1")])
    problems = found(flow)
    assert {p.node for p in problems} == {"g1", "g2"}
    assert "g1 → g2 → g1 only jump to each other" in problems[0].message


# --- menus -----------------------------------------------------------------------------


def menu(attrs: dict | None = None, options: list | None = None, branches: tuple = ("1",), **extra):
    step = {"type": "Gather", "prompt": MENU_PROMPT, **extra}
    if attrs:
        step["attrs"] = attrs
    if options is not None:
        step["options"] = options
    nodes = {"m": step, "out": {"type": "Hangup"}, "quiet": {"type": "Hangup"}}
    edges = [("m", "out", b) for b in branches] + [("m", "quiet", "timeout")]
    return make_flow(nodes, edges)


def test_option_longer_than_num_digits_can_never_match():
    p = one(menu({"numDigits": 2}, branches=("12", "123")))
    assert (p.node, p.field) == ("m", "branch 123")
    assert p.message == "option '123' has 3 keys but the menu takes 2 (numDigits); it can never match"


def test_option_containing_the_finish_key_can_never_match():
    p = one(menu(branches=("1#",)))
    assert p.field == "branch 1#" and "contains '#', the key that ends input (finishOnKey)" in p.message
    p = one(menu({"finishOnKey": "*"}, branches=("*9",)))
    assert p.field == "branch *9" and "'*'" in p.message
    assert found(menu({"finishOnKey": "*"}, branches=("#",))) == []


def test_declared_options_are_checked_even_before_they_are_connected():
    p = one(menu({"numDigits": 1}, options=["1", "22"]))
    assert (p.field, p.message) == ("options[1]", "option '22' has 2 keys but the menu takes 1 (numDigits); "
                                                  "it can never match")
    problems = found(menu(options=["1", "one", "1"]))
    assert [(p.field, p.message) for p in problems] == [
        ("options[1]", "'one' is not a key option; use keys 0-9, * and # (like 1, 42 or *)"),
        ("options[2]", "option '1' is listed twice"),
    ]


def test_option_problem_is_reported_once_when_declared_and_connected():
    problems = found(menu({"numDigits": 1}, options=["12"], branches=("12",)))
    assert [p.field for p in problems] == ["branch 12"]


def test_unknown_menu_output():
    p = one(menu(branches=("1", "other")))
    assert p.field == "branch other" and "no output 'other'" in p.message


def test_menu_without_timeout_path_is_a_warning():
    flow = make_flow({"m": {"type": "Gather", "prompt": MENU_PROMPT}, "out": {"type": "Hangup"}}, [("m", "out", "1")])
    assert found(flow) == []
    p = one(flow, "warning")
    assert (p.node, p.field) == ("m", "branch timeout") and "presses nothing" in p.message


def test_menu_without_invalid_path_and_without_retries_is_a_warning():
    assert found(menu(), "warning") == []  # retries (2 by default) ask again after a wrong key
    p = one(menu(retries=0), "warning")
    assert (p.node, p.field) == ("m", "branch invalid") and "wrong key" in p.message


def test_menu_without_options_or_prompt_is_a_warning():
    flow = make_flow({"m": {"type": "Gather"}, "q": {"type": "Hangup"}}, [("m", "q", "timeout")])
    assert found(flow) == []
    assert {p.field for p in found(flow, "warning")} == {"prompt", "options"}


# --- the flow as a whole ---------------------------------------------------------------


def test_unreachable_steps_are_warnings():
    flow = make_flow({"a": {"type": "Hangup"}, "lost": SAY, "also-lost": {"type": "Hangup"}},
                     [("lost", "also-lost")])
    assert found(flow) == []
    warnings = found(flow, "warning")
    assert [(p.node, p.message) for p in warnings] == [
        ("lost", "no path from the start reaches this step"),
        ("also-lost", "no path from the start reaches this step"),
    ]


def test_a_goto_target_is_reachable():
    flow = make_flow({"a": SAY, "g": {"type": "Goto", "target": "b"}, "b": {"type": "Hangup"}}, [("a", "g")])
    assert validate(flow) == []


def test_reject_after_the_call_is_answered_is_a_warning():
    flow = make_flow({"a": SAY, "r": {"type": "Reject"}}, [("a", "r")])
    p = one(flow, "warning")
    assert (p.node, p.field) == ("r", "type") and "acts as a hang-up" in p.message


@pytest.mark.parametrize(("flow_id", "words"), [
    ("", "has no id"), ("Acme Main", "may use only a-z, 0-9 and -"), ("status", "reserved"),
])
def test_flow_id_must_fit_in_a_url(flow_id, words):
    flow = make_flow({"a": {"type": "Hangup"}}, flow_id=flow_id)
    p = one(flow)
    assert (p.node, p.field) == (None, "id") and words in p.message


def test_step_id_must_fit_in_a_url():
    p = one(make_flow({"a b": {"type": "Hangup"}}))
    assert (p.node, p.field) == ("a b", "id") and "letters, digits, - and _" in p.message


def test_every_problem_is_returned_errors_before_warnings():
    flow = make_flow({"a": {"type": "Say"}, "b": {"type": "Dial", "numbers": ["1"]}, "lost": {"type": "Hangup"},
                      "c": {"type": "Nope"}}, [("a", "b")])
    problems = validate(flow)
    assert [(p.node, p.field, p.severity) for p in problems] == [
        ("a", "text", "error"), ("b", "numbers[0]", "error"), ("c", "type", "error"),
        ("lost", "connections", "warning"), ("c", "connections", "warning"),
    ]


def test_declared_option_without_a_connection_is_a_warning():
    flow = menu(options=["1", "2"])
    assert found(flow) == []
    p = one(flow, "warning")
    assert (p.node, p.field) == ("m", "options[1]") and "option '2' is not connected" in p.message


def test_problems_sort_with_flow_wide_ones_first():
    problems = [Problem("b", "text", "x"), Problem(None, "start", "y"), Problem("a", "type", "z")]
    assert [p.node for p in sorted(problems)] == [None, "a", "b"]


@pytest.mark.parametrize("step", [{"type": "Say", "text": "Hello {{ From|nosuch }}"},
                                  {"type": "Sms", "text": "Hi {{ To | uper }}"}])
def test_template_with_an_unknown_filter_is_a_problem_not_a_crash(step):
    p = single(step)
    assert p.field == "text" and "mistake on line 1" in p.message and "No filter named" in p.message


def test_a_whole_number_typed_with_thousands_of_digits_is_a_problem_not_a_crash():
    p = single({"type": "Pause", "attrs": {"length": "9" * 5000}})
    assert p.field == "attrs.length" and "5,000 digits" in p.message
    step = {"type": "Gather", "prompt": MENU_PROMPT, "attrs": {"numDigits": "1" * 5000}}
    assert [p.field for p in found(make_flow({"x": step}))] == ["attrs.numDigits"]


def test_a_trailing_newline_in_an_id_or_option_is_refused_not_compiled_into_a_broken_url():
    from compiler import CompileError, compile_flow

    menu = {"type": "Gather", "prompt": MENU_PROMPT, "attrs": {"numDigits": 2}}
    cases = [(make_flow({"a": {"type": "Hangup"}}, flow_id="main\n"), (None, "id")),
             (make_flow({"menu\n": menu, "h": {"type": "Hangup"}}, [("menu\n", "h", "1")]), ("menu\n", "id")),
             (make_flow({"menu": menu, "h": {"type": "Hangup"}}, [("menu", "h", "1\n")]), ("menu", "branch 1\n"))]
    for flow, where in cases:
        assert (found(flow)[0].node, found(flow)[0].field) == where
        with pytest.raises(CompileError):  # a problem for the user, never a GrammarError
            compile_flow(flow)
    with pytest.raises(CompileError, match="revision"):
        compile_flow(make_flow({"a": {"type": "Hangup"}}), revision="1\n")


@pytest.mark.parametrize("text, words", [
    ("{{ From * 100000000 }}", "no arithmetic"),
    ("{{ 9 ** 99999 }}", "no arithmetic"),
    ("{% for i in range(100000) %}{{ From }}{% endfor %}", "no loops"),
    ("{{ 1 / 0 }}", "no arithmetic"),
])
def test_call_variable_text_that_would_blow_up_on_a_call_is_a_problem(text, words):
    p = single({"type": "Say", "text": text})
    assert p.field == "text" and words in p.message


def test_call_variable_text_may_choose_words_with_if():
    assert found(make_flow({"x": {"type": "Say", "text": "{% if From %}Hello {{ From }}{% else %}Hello{% endif %}"}})) == []


def test_rendering_on_a_live_call_stays_small_even_for_unchecked_text():
    from compiler.templating import render
    assert render("{{ From * 100000000 }}", {"From": "15551230001"}) == ""
    assert render("Hi {{ From * 2 }}", {"From": "12"}) == ""
    assert len(render("Hi {{ From }}{{ From }}", {"From": "1" * 100_000})) == 4096


def test_null_menu_fields_mean_their_defaults_as_attributes_do():
    menu = {"type": "Gather", "prompt": MENU_PROMPT, "retries": None, "retryText": None}
    flow = make_flow({"m": menu, "a": {"type": "Hangup"}}, [("m", "a", "1"), ("m", "a", "timeout")])
    assert [p for p in found(flow) if p.is_error] == []
    compiled = compile_flow(flow)
    assert compiled.routers["m"].retries == 2
    assert b"Sorry, that is not a valid choice." in compiled.documents["m.retry1"]
