"""Issue 15, validation and compilation: nothing the compiler emits breaks the FlexML reference's rules.

Each test is a small flow or document with the construct the reference rules on (Play's streaming and
formats, Override at the top, methods in any case, relative URLs, a menu without a finish key, a menu that
sends its keys to another server, call variables no step can have set, template placeholders), and checks
both what validation says (step, field, plain words) and what the compiled document holds.
"""

from __future__ import annotations

import pytest
from lxml import etree

from compiler import compile_flow, validate
from compiler.compile import CompileError
from compiler.grammar import problems as grammar_problems
from tests.strategies import make_flow

PROMPT = [{"type": "Say", "text": "Press 1."}]


def errors_of(graph) -> list:
    return [p for p in validate(graph) if p.is_error]


def warnings_of(graph) -> list:
    return [p for p in validate(graph) if not p.is_error]


def only(problems: list):
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def doc(*verbs: str) -> bytes:
    return ("<Response>" + "".join(verbs) + "</Response>").encode()


# ---- 1. Play with hls:// or rtmp:// needs streaming="true" -----------------------------------------------


@pytest.mark.parametrize("attrs", [{}, {"streaming": False}, {"streaming": "false"}])
@pytest.mark.parametrize("url", ["hls://live.example.com/radio.m3u8", "rtmp://live.example.com/app/x"])
def test_a_stream_url_without_streaming_is_refused_and_never_emitted(url, attrs):
    flow = make_flow({"p": {"type": "Play", "text": url, "attrs": attrs}})
    p = only(errors_of(flow))
    assert (p.node, p.field) == ("p", "attrs.streaming")
    assert "streaming" in p.message and url in p.message
    with pytest.raises(CompileError):
        compile_flow(flow)


def test_a_stream_with_streaming_on_compiles_to_a_document_the_grammar_accepts():
    flow = make_flow({"p": {"type": "Play", "text": "rtmp://live.example.com/x", "attrs": {"streaming": True}}})
    assert validate(flow) == []
    data = compile_flow(flow).documents["p"]
    assert b'<Play streaming="true">rtmp://live.example.com/x</Play>' in data
    assert grammar_problems(data) == []


@pytest.mark.parametrize("body", [
    '<Play>hls://live.example.com/a.m3u8</Play>',
    '<Play streaming="false">rtmp://live.example.com/a</Play>',
])
def test_the_grammar_refuses_a_stream_without_streaming(body):
    assert grammar_problems(doc(body)) != []


# ---- 2. Override goes at the top and needs its URL -----------------------------------------------------


def test_override_after_another_step_is_refused():
    flow = make_flow({"hi": {"type": "Say", "text": "Hi"},
                      "o": {"type": "Override", "attrs": {"statusCallbackUrl": "https://cb.example.com/s"}}},
                     [("hi", "o")])
    p = only(errors_of(flow))
    assert (p.node, p.field) == ("o", "type") and "top" in p.message and "start step" in p.message


def test_override_without_a_url_is_refused():
    p = only(errors_of(make_flow({"o": {"type": "Override"}})))
    assert (p.node, p.field) == ("o", "attrs.statusCallbackUrl") and "does nothing" in p.message


def test_a_connection_back_to_a_starting_override_is_refused_so_it_is_never_copied_below_other_verbs():
    flow = make_flow({"o": {"type": "Override", "attrs": {"statusCallbackUrl": "/s"}},
                      "hi": {"type": "Say", "text": "Hi"}, "again": {"type": "Say", "text": "x"}},
                     [("o", "hi"), ("again", "o")])
    assert any(p.node == "again" and "step after it" in p.message for p in errors_of(flow))


def test_a_go_to_that_jumps_to_a_starting_override_is_refused_and_names_the_step_after_it():
    # a decision (here a Set) answered by the host splices its branch's document below the verbs before it: an
    # Override reached through a Go to would land in the middle of a document, which the grammar refuses
    flow = make_flow({"o": {"type": "Override", "attrs": {"statusCallbackUrl": "/s"}},
                      "hi": {"type": "Say", "text": "Hi"}, "lang": {"type": "Set", "vars": {"language": "es"}},
                      "back": {"type": "Goto", "target": "o"}},
                     [("o", "hi"), ("hi", "lang"), ("lang", "back")])
    p = only(errors_of(flow))
    assert (p.node, p.field) == ("back", "target") and "'hi', the step after it" in p.message
    flow.nodes["back"]["target"] = "hi"
    assert errors_of(flow) == []
    compile_flow(flow)


def test_override_first_compiles_and_the_grammar_refuses_it_anywhere_else():
    flow = make_flow({"o": {"type": "Override", "attrs": {"statusCallbackUrl": "/s", "statusCallbackMethod": "get"}},
                      "hi": {"type": "Say", "text": "Hi"}}, [("o", "hi")])
    assert validate(flow) == []
    data = compile_flow(flow).documents["o"]
    assert b'<Override statusCallbackUrl="/s" statusCallbackMethod="GET"/>' in data
    assert grammar_problems(doc('<Say>Hi</Say>', '<Override statusCallbackUrl="/s"/>')) != []
    assert grammar_problems(doc('<Override/>')) != []


# ---- 3. Recording and key variables where no step can have set them ------------------------------------


def test_recording_url_before_any_record_step_warns():
    flow = make_flow({"hi": {"type": "Say", "text": "Your message at {{ RecordingUrl }} lasting "
                                                    "{{ RecordingDuration }} seconds"}})
    found = warnings_of(flow)
    assert {(p.node, p.field) for p in found} == {("hi", "text")}
    assert any("RecordingUrl" in p.message and "always empty" in p.message for p in found)
    assert any("RecordingDuration" in p.message for p in found)


def test_recording_url_after_a_record_step_is_fine():
    flow = make_flow({"rec": {"type": "Record"}, "hi": {"type": "Say", "text": "Saved at {{ RecordingUrl }}"}},
                     [("rec", "hi")])
    assert validate(flow) == []


def test_digits_in_a_text_before_any_menu_warns_and_after_a_goto_back_to_a_menu_does_not():
    flow = make_flow({"hi": {"type": "Sms", "text": "You pressed {{ Digits }}"}})
    assert "Digits" in only(warnings_of(flow)).message
    looped = make_flow({"menu": {"type": "Gather", "prompt": PROMPT},
                        "said": {"type": "Say", "text": "You pressed {{ Digits }}"},
                        "back": {"type": "Goto", "target": "menu"}, "quiet": {"type": "Hangup"}},
                       [("menu", "said", "1"), ("said", "back"), ("menu", "quiet", "timeout")])
    assert validate(looped) == []


# ---- 4. Play formats and protocols, streaming keys, streams elsewhere ----------------------------------


def test_a_play_file_that_is_no_audio_format_is_refused():
    p = only(errors_of(make_flow({"p": {"type": "Play", "text": "https://e.com/a.exe"}})))
    assert (p.node, p.field) == ("p", "text") and ".exe" in p.message and "mp3" in p.message
    assert grammar_problems(doc("<Play>https://e.com/a.exe</Play>")) != []


@pytest.mark.parametrize("url", ["https://e.com/a.MP3", "https://e.com/a.ulaw?x=1", "https://e.com/stream"])
def test_audio_formats_in_any_case_and_urls_without_an_extension_are_fine(url):
    assert validate(make_flow({"p": {"type": "Play", "text": url}})) == []


def test_forward_and_rewind_keys_while_streaming_warn():
    flow = make_flow({"p": {"type": "Play", "text": "hls://live.example.com/a.m3u8",
                            "attrs": {"streaming": True, "forwardOnKey": "6", "rewindOnKey": "4"}}})
    found = warnings_of(flow)
    assert {p.field for p in found} == {"attrs.forwardOnKey", "attrs.rewindOnKey"}
    assert all("streaming" in p.message for p in found)


@pytest.mark.parametrize(("step", "field"), [
    ({"type": "Redirect", "text": "rtmp://live.example.com/x"}, "text"),
    ({"type": "Override", "attrs": {"statusCallbackUrl": "hls://x.example/s"}}, "attrs.statusCallbackUrl"),
    ({"type": "Record", "attrs": {"callbackUrl": "rtmp://x.example/cb"}}, "attrs.callbackUrl"),
])
def test_stream_protocols_are_refused_outside_play(step, field):
    p = only(errors_of(make_flow({"x": step})))
    assert p.field == field and "only Play takes" in p.message
    assert grammar_problems(doc("<Redirect>rtmp://live.example.com/x</Redirect>")) != []


# ---- 5. methods in any case, written in upper case -------------------------------------------------------


def test_a_lower_case_method_is_accepted_and_emitted_in_upper_case():
    flow = make_flow({"r": {"type": "Redirect", "text": "https://other.example.com/next", "attrs": {"method": "get"}}})
    assert validate(flow) == []
    assert b'<Redirect method="GET">https://other.example.com/next</Redirect>' in compile_flow(flow).documents["r"]


# ---- 6. relative URLs: say exactly what to write --------------------------------------------------------


@pytest.mark.parametrize("url", ["next.xml", "../x", "./menu"])
def test_a_relative_url_says_what_to_write_instead(url):
    p = only(errors_of(make_flow({"r": {"type": "Redirect", "text": url}})))
    assert p.field == "text" and "relative" in p.message
    tail = url.lstrip("./")
    assert f"https://your-server.example.com/{tail}" in p.message and f"/{tail}" in p.message


# ---- 7. a menu without a finish key -----------------------------------------------------------------------


@pytest.mark.parametrize("off", ["_", "none", "NONE"])
def test_a_menu_without_a_finish_key_is_emitted_as_underscore_and_its_router_keeps_the_hash(off):
    flow = make_flow({"menu": {"type": "Gather", "prompt": PROMPT, "attrs": {"finishOnKey": off},
                               "options": ["1#"]},
                      "one": {"type": "Hangup"}, "quiet": {"type": "Hangup"}},
                     [("menu", "one", "1#"), ("menu", "quiet", "timeout")])
    assert validate(flow) == []  # with no finish key, '#' is an ordinary key a menu option may use
    compiled = compile_flow(flow)
    gather = etree.fromstring(compiled.documents["menu"]).find("Gather")
    assert gather.get("finishOnKey") == "_"
    assert compiled.routers["menu"].route("1#") == "one"


def test_the_default_finish_key_still_ends_the_input():
    flow = make_flow({"menu": {"type": "Gather", "prompt": PROMPT},
                      "one": {"type": "Hangup"}, "quiet": {"type": "Hangup"}},
                     [("menu", "one", "1"), ("menu", "quiet", "timeout")])
    assert compile_flow(flow).routers["menu"].route("1#") == "one"


# ---- 10. a menu that sends its keys to another server ------------------------------------------------------


def test_a_menu_with_an_outside_action_sends_its_keys_there_and_has_no_router():
    flow = make_flow({"menu": {"type": "Gather", "prompt": PROMPT,
                               "attrs": {"action": "https://ivr.example.com/process_gather.php", "method": "get"}},
                      "quiet": {"type": "Say", "text": "You did not press anything."}},
                     [("menu", "quiet", "timeout")])
    assert errors_of(flow) == []
    assert "keys the caller presses" in only(warnings_of(flow)).message
    compiled = compile_flow(flow)
    root = etree.fromstring(compiled.documents["menu"])
    gather = root.find("Gather")
    assert (gather.get("action"), gather.get("method")) == ("https://ivr.example.com/process_gather.php", "GET")
    assert root.find("Say").text == "You did not press anything."  # no input: the verbs after the menu
    assert compiled.routers == {}  # no router and no retry copies: the other server answers the keys
    assert not any(".retry" in name for name in compiled.documents)
    assert grammar_problems(compiled.documents["menu"]) == []


def test_a_menu_with_an_outside_action_cannot_also_have_key_outputs():
    flow = make_flow({"menu": {"type": "Gather", "prompt": PROMPT, "options": ["1"],
                               "attrs": {"action": "https://ivr.example.com/keys"}}, "one": {"type": "Hangup"},
                      "quiet": {"type": "Hangup"}},
                     [("menu", "one", "1"), ("menu", "quiet", "timeout")])
    fields = {p.field for p in errors_of(flow)}
    assert fields == {"branch 1", "options"}


# ---- 15. placeholders left from a template ---------------------------------------------------------------


@pytest.mark.parametrize(("attrs", "field"), [
    ({"containerSid": "{{ container_sid }}"}, "attrs.containerSid"),
    ({"callbackUrl": "https://cb.example.com/{{ account }}"}, "attrs.callbackUrl"),
    ({"stringKey1": "{{ From }}"}, "attrs.stringKey1"),
])
def test_a_placeholder_in_an_attribute_is_flagged(attrs, field):
    p = only(errors_of(make_flow({"rec": {"type": "Record", "attrs": attrs}})))
    assert p.field == field and "placeholder" in p.message and "as written" in p.message


def test_the_grammar_check_refuses_a_placeholder_in_an_attribute():
    assert grammar_problems(doc('<Record containerSid="{{ container_sid }}"/>')) != []
    assert grammar_problems(doc('<Record containerSid="c-1"/>')) == []


# ---- the property: every document the compiler emits keeps the reference's rules ---------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from compiler.catalogue import STEPS, STREAM_SCHEMES  # noqa: E402
from tests.strategies import valid_flows  # noqa: E402

URL_ATTRS = {(s.type, a.name) for s in STEPS.values() for a in s.attrs if a.kind == "url"}


def reference_rules(data: bytes, is_start: bool) -> list[str]:
    """The streaming, Override and URL rules, read straight off a document (not through the grammar)."""
    root = etree.fromstring(data)
    out = []
    for i, el in enumerate(root):
        if el.tag == "Override" and (i != 0 or not is_start or not el.get("statusCallbackUrl")):
            out.append(f"Override at {i}")
    for el in root.iter("Play"):
        scheme = (el.text or "").split("://", 1)[0].lower()
        if scheme in STREAM_SCHEMES and el.get("streaming") != "true":
            out.append(f"stream without streaming: {el.text}")
    for el in root.iter():
        for name, value in el.attrib.items():
            if (el.tag, name) in URL_ATTRS and not (value.startswith(("http://", "https://", "/"))):
                out.append(f"{el.tag} {name}={value}")
            if name.lower().endswith("method") and value not in ("GET", "POST"):
                out.append(f"{el.tag} {name}={value}")
    for el in root.iter("Redirect"):
        if not (el.text or "").startswith(("http://", "https://", "/")):
            out.append(f"Redirect to {el.text}")
    return out


@settings(max_examples=60, deadline=None)
@given(valid_flows())
def test_every_emitted_document_keeps_the_streaming_override_and_url_rules(graph):
    compiled = compile_flow(graph)
    for name, data in compiled.documents.items():
        assert grammar_problems(data) == [], name
        assert reference_rules(data, name == compiled.start) == [], name


_BREAKS = st.sampled_from([
    ("Play", {"text": "rtmp://live.example.com/x"}),
    ("Play", {"text": "hls://live.example.com/x", "attrs": {"streaming": False}}),
    ("Play", {"text": "https://e.com/a.exe"}),
    ("Override", {}),
    ("Redirect", {"text": "hls://x.example/y"}),
    ("Redirect", {"text": "next.xml"}),
    ("Record", {"attrs": {"containerSid": "{{ container_sid }}"}}),
])


@settings(max_examples=40, deadline=None)
@given(valid_flows(), _BREAKS, st.data())
def test_a_step_breaking_a_rule_anywhere_in_a_valid_flow_is_refused_before_anything_is_emitted(graph, broken, data):
    node = data.draw(st.sampled_from(sorted(n for n, d in graph.nodes(data=True) if d["type"] != "Goto")))
    type_, fields = broken
    keep = {k: v for k, v in graph.nodes[node].items() if k in ("x", "y")}
    graph.nodes[node].clear()
    graph.nodes[node].update(keep, type=type_, **fields)
    if STEPS[type_].ends_path:
        graph.remove_edges_from(list(graph.out_edges(node)))
    assert any(p.node == node for p in errors_of(graph))
    with pytest.raises(CompileError):
        compile_flow(graph)
