"""Exact FlexML for small flows: every verb, Goto, menus, transfers, error paths, URLs."""

from __future__ import annotations

import pytest

from compiler import CompileError, compile_flow
from compiler.grammar import problems as grammar_problems
from tests.strategies import make_flow

HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


def xml(*lines: str) -> str:
    body = "".join(f"  {line}\n" for line in lines)
    return f"{HEAD}<Response>\n{body}</Response>\n"


def only_doc(nodes: dict, edges=(), **kw) -> str:
    compiled = compile_flow(make_flow(nodes, edges), **kw)
    data = compiled.documents[compiled.start]
    assert grammar_problems(data) == []
    return data.decode()


# --- one verb each ---------------------------------------------------------------------


def test_say_with_attributes_in_catalogue_order():
    assert only_doc({"hi": {"type": "Say", "text": "Hello & welcome <friend>",
                            "attrs": {"voice": "woman", "loopPause": 2, "loop": 3}}}) == xml(
        '<Say loop="3" loopPause="2" voice="woman">Hello &amp; welcome &lt;friend&gt;</Say>')


def test_play_url_is_trimmed_and_booleans_are_true_false():
    assert only_doc({"p": {"type": "Play", "text": "  https://media.example.com/a.mp3\n",
                           "attrs": {"streaming": True, "timeLimit": 30, "loop": 0}}}) == xml(
        '<Play loop="0" streaming="true" timeLimit="30">https://media.example.com/a.mp3</Play>')


def test_pause():
    assert only_doc({"p": {"type": "Pause", "attrs": {"length": 15}}}) == xml('<Pause length="15"/>')


def test_pause_without_attributes_drops_absent_values():
    assert only_doc({"p": {"type": "Pause", "attrs": {"length": None}}}) == xml("<Pause/>")


def test_dial_with_numbers():
    assert only_doc({"d": {"type": "Dial", "numbers": ["15162065340", "+15162065341"],
                           "attrs": {"timeLimit": 15, "hangupOnStar": True}}}) == xml(
        '<Dial hangupOnStar="true" timeLimit="15">',
        "  <Number>15162065340</Number>",
        "  <Number>+15162065341</Number>",
        "</Dial>")


def test_record():
    assert only_doc({"r": {"type": "Record", "attrs": {"maxLength": 120, "fileFormat": "mp3", "finishOnKey": "123",
                                                       "playBeep": False, "trim": "do-not-trim"}}}) == xml(
        '<Record action="/flexml/t/1/r/recorded" fileFormat="mp3" finishOnKey="123" maxLength="120" '
        'playBeep="false" trim="do-not-trim"/>')


def test_a_session_recording_keeps_its_document_going_without_an_action():
    assert only_doc({"r": {"type": "Record", "attrs": {"recordSession": True}}}) == xml(
        '<Record recordSession="true"/>')


def test_sms_with_from_and_to():
    assert only_doc({"s": {"type": "Sms", "text": "Have a great day!",
                           "attrs": {"to": "15162065317", "from": "+15162065300"}}}) == xml(
        '<Sms from="+15162065300" to="15162065317">Have a great day!</Sms>')


def test_redirect_step_keeps_its_own_url_and_method():
    assert only_doc({"r": {"type": "Redirect", "text": "https://example.com/path/to/handler",
                           "attrs": {"method": "GET"}}}) == xml(
        '<Redirect method="GET">https://example.com/path/to/handler</Redirect>')


def test_reject_as_first_step():
    assert only_doc({"r": {"type": "Reject", "attrs": {"reason": "busy"}}}) == xml('<Reject reason="busy"/>')


def test_hangup():
    assert only_doc({"h": {"type": "Hangup"}}) == xml("<Hangup/>")


def test_override_then_play():
    assert only_doc({"o": {"type": "Override", "attrs": {"statusCallbackUrl": "http://www.example.com/handler",
                                                         "statusCallbackMethod": "GET"}},
                     "p": {"type": "Play", "text": "http://www.example.com/media.mp3"}}, [("o", "p")]) == xml(
        '<Override statusCallbackUrl="http://www.example.com/handler" statusCallbackMethod="GET"/>',
        "<Play>http://www.example.com/media.mp3</Play>")


def test_whole_numbers_given_as_text_are_written_plainly():
    assert only_doc({"p": {"type": "Pause", "attrs": {"length": " 007 "}}}) == xml('<Pause length="7"/>')


# --- a path is one document ------------------------------------------------------------


def test_steps_follow_inline_until_the_call_ends():
    out = only_doc({"a": {"type": "Say", "text": "One"}, "b": {"type": "Pause"}, "c": {"type": "Say", "text": "Two"},
                    "d": {"type": "Hangup"}}, [("a", "b"), ("b", "c"), ("c", "d")])
    assert out == xml("<Say>One</Say>", "<Pause/>", "<Say>Two</Say>", "<Hangup/>")


def test_gather_with_nested_say_and_play_and_its_router():
    flow = make_flow({
        "menu": {"type": "Gather", "attrs": {"numDigits": 1, "timeout": 5, "finishOnKey": "*"},
                 "prompt": [{"type": "Say", "text": "Press 1.", "attrs": {"voice": "woman"}},
                            {"type": "Play", "text": "https://m.example.com/beep.wav"}], "retries": 0},
        "one": {"type": "Say", "text": "One."},
        "none": {"type": "Hangup"},
        "bad": {"type": "Say", "text": "Wrong."},
    }, [("menu", "one", "1"), ("menu", "none", "timeout"), ("menu", "bad", "invalid")], flow_id="acme")
    compiled = compile_flow(flow, revision="3")
    assert compiled.documents["menu"].decode() == xml(
        '<Gather action="/flexml/acme/3/menu/gather" finishOnKey="*" numDigits="1" timeout="5">',
        '  <Say voice="woman">Press 1.</Say>',
        "  <Play>https://m.example.com/beep.wav</Play>",
        "</Gather>",
        "<Hangup/>")  # no input falls through to the timeout path
    router = compiled.routers["menu"]
    assert (router.route("1"), router.route(""), router.route("7"), router.route("1*")) == ("one", "none", "bad", "one")
    assert sorted(compiled.documents) == ["bad", "menu", "none", "one"]


def test_menu_without_invalid_path_asks_again_with_retry_documents():
    flow = make_flow({
        "menu": {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1."}], "retries": 1,
                 "retryText": "Sorry, try again."},
        "one": {"type": "Hangup"},
    }, [("menu", "one", "1")], flow_id="acme")
    compiled = compile_flow(flow)
    assert compiled.documents["menu.retry1"].decode() == xml(
        "<Say>Sorry, try again.</Say>",
        '<Gather action="/flexml/acme/1/menu/gather?attempt=2">',
        "  <Say>Press 1.</Say>",
        "</Gather>")
    router = compiled.routers["menu"]
    assert router.route("5", 1) == "menu.retry1"
    assert router.route("5", 2) is None  # no timeout path: the call ends
    assert compiled.steps["menu.retry1"] == ["menu"]


def test_goto_becomes_a_redirect_to_the_target_document():
    flow = make_flow({
        "menu": {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1."}]},
        "again": {"type": "Say", "text": "Once more."},
        "jump": {"type": "Goto", "target": "menu"},
    }, [("menu", "again", "timeout"), ("again", "jump")], flow_id="loop")
    compiled = compile_flow(flow)
    assert compiled.documents["menu"].decode() == xml(
        '<Gather action="/flexml/loop/1/menu/gather">',
        "  <Say>Press 1.</Say>",
        "</Gather>",
        "<Say>Once more.</Say>",
        "<Redirect>/flexml/loop/1/menu</Redirect>")


def test_menu_option_leading_to_a_goto_is_routed_straight_to_its_target():
    flow = make_flow({
        "menu": {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 9 to repeat."}]},
        "repeat": {"type": "Goto", "target": "menu"},
    }, [("menu", "repeat", "9")])
    assert compile_flow(flow).routers["menu"].route("9") == "menu"  # one fetch, not two


def test_error_branches_become_error_action():
    flow = make_flow({
        "p": {"type": "Play", "text": "https://m.example.com/a.mp3"},
        "r": {"type": "Record"},
        "ok": {"type": "Hangup"},
        "oops": {"type": "Say", "text": "Something went wrong."},
    }, [("p", "r"), ("p", "oops", "error"), ("r", "ok"), ("r", "oops", "error")], flow_id="err")
    compiled = compile_flow(flow)
    assert compiled.documents["p"].decode() == xml(
        '<Play errorAction="/flexml/err/1/oops">https://m.example.com/a.mp3</Play>',
        '<Record action="/flexml/err/1/r/recorded" errorAction="/flexml/err/1/oops"/>')
    # the recorded route answers with what follows the Record: its own document
    assert compiled.recordings == {"r": "ok"}
    assert compiled.documents["ok"].decode() == xml("<Hangup/>")
    assert compiled.documents["oops"].decode() == xml("<Say>Something went wrong.</Say>")


def test_base_url_makes_every_url_absolute():
    flow = make_flow({
        "menu": {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1."}]},
        "p": {"type": "Play", "text": "https://m.example.com/a.mp3"},
        "oops": {"type": "Hangup"},
        "back": {"type": "Goto", "target": "menu"},
    }, [("menu", "p", "1"), ("p", "back"), ("p", "oops", "error")], flow_id="abs")
    compiled = compile_flow(flow, base_url="https://ivr.example.com/")
    assert compiled.documents["menu"].decode() == xml(
        '<Gather action="https://ivr.example.com/flexml/abs/1/menu/gather">',
        "  <Say>Press 1.</Say>",
        "</Gather>")
    assert compiled.documents["p"].decode() == xml(
        '<Play errorAction="https://ivr.example.com/flexml/abs/1/oops">https://m.example.com/a.mp3</Play>',
        "<Redirect>https://ivr.example.com/flexml/abs/1/menu</Redirect>")


def test_path_that_runs_into_a_long_shared_document_ends_in_a_redirect():
    chain = {f"s{i}": {"type": "Say", "text": f"Line {i}."} for i in range(12)}
    flow = make_flow({"a": {"type": "Say", "text": "A."}, "b": {"type": "Say", "text": "B."}, **chain,
                      "menu": {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1."}]}},
                     [("menu", "a", "1"), ("menu", "b", "2"), ("a", "s0"), ("b", "s0"),
                      *[(f"s{i}", f"s{i + 1}") for i in range(11)]], start="menu", flow_id="long")
    compiled = compile_flow(flow)
    assert compiled.documents["a"].decode() == xml("<Say>A.</Say>", "<Redirect>/flexml/long/1/s0</Redirect>")
    assert compiled.steps["s0"] == [f"s{i}" for i in range(12)]


def test_short_shared_document_is_copied_inline_instead_of_a_redirect():
    flow = make_flow({"menu": {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1 or 2."}]},
                      "a": {"type": "Say", "text": "A."}, "b": {"type": "Say", "text": "B."},
                      "bye": {"type": "Say", "text": "Bye."}, "end": {"type": "Hangup"}},
                     [("menu", "a", "1"), ("menu", "b", "2"), ("a", "bye"), ("b", "bye"), ("bye", "end")])
    compiled = compile_flow(flow)
    assert compiled.documents["a"].decode() == xml("<Say>A.</Say>", "<Say>Bye.</Say>", "<Hangup/>")
    assert compiled.steps["a"] == ["a", "bye", "end"]
    assert compiled.steps["bye"] == ["bye", "end"]


def test_templated_texts_are_marked_for_the_host():
    compiled = compile_flow(make_flow({"hi": {"type": "Say", "text": "You called from {{ From }}."},
                                       "bye": {"type": "Hangup"}}, [("hi", "bye")]))
    assert compiled.templated == {"hi"}
    assert "{{ From }}" in compiled.documents["hi"].decode()


def test_unreachable_steps_get_no_document():
    compiled = compile_flow(make_flow({"a": {"type": "Hangup"}, "lost": {"type": "Say", "text": "Never heard."}}))
    assert list(compiled.documents) == ["a"]


def test_documents_are_named_after_their_first_step_and_list_its_steps():
    compiled = compile_flow(make_flow({"hello-1": {"type": "Say", "text": "Hi"}, "end_2": {"type": "Hangup"}},
                                      [("hello-1", "end_2")]))
    assert compiled.steps == {"hello-1": ["hello-1", "end_2"]}
    assert compiled.manifest()["documents"]["hello-1"]["path"] == "documents/hello-1.xml"


def test_output_does_not_depend_on_node_insertion_order():
    nodes = {"welcome": {"type": "Say", "text": "Hi"},
             "menu": {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1."}]},
             "one": {"type": "Dial", "numbers": ["15162065340"]}, "out": {"type": "Hangup"}}
    edges = [("welcome", "menu"), ("menu", "one", "1"), ("menu", "out", "timeout")]
    forward = compile_flow(make_flow(nodes, edges, start="welcome"))
    backward = compile_flow(make_flow(dict(reversed(nodes.items())), list(reversed(edges)), start="welcome"))
    assert forward.documents == backward.documents
    assert list(forward.documents) == list(backward.documents)
    assert forward.manifest() == backward.manifest()


def test_compiling_does_not_change_the_flow():
    from compiler import dumps

    flow = make_flow({"menu": {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1."}]},
                      "jump": {"type": "Goto", "target": "menu"}}, [("menu", "jump", "1")])
    before = dumps(flow)
    compile_flow(flow, base_url="https://x.example.com")
    assert dumps(flow) == before


def test_flow_with_errors_is_refused_with_its_problems():
    with pytest.raises(CompileError) as info:
        compile_flow(make_flow({"a": {"type": "Say"}}))
    assert [str(p) for p in info.value.problems] == ["node a: text: Say needs the text to speak"]


@pytest.mark.parametrize(("revision", "base_url", "field"), [
    ("1 2", "", "revision"), ("../x", "", "revision"), ("1", "ftp://x.example.com", "base_url"),
    ("1", "https://x.example.com/a b", "base_url"),
])
def test_revision_and_base_url_that_would_break_urls_are_refused(revision, base_url, field):
    with pytest.raises(CompileError) as info:
        compile_flow(make_flow({"a": {"type": "Hangup"}}), revision=revision, base_url=base_url)
    assert [p.field for p in info.value.problems] == [field]


def test_retry_text_with_a_call_variable_marks_the_retry_document_templated():
    flow = make_flow({"menu": {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1."}], "retries": 1,
                               "retryText": "Sorry {{ CallerName }}, try again."},
                      "one": {"type": "Hangup"}}, [("menu", "one", "1")])
    compiled = compile_flow(flow)
    assert compiled.templated == {"menu.retry1"}


def test_managed_attributes_come_only_from_connections():
    from compiler.catalogue import STEPS

    managed = {(s.type, a.name) for s in STEPS.values() for a in s.attrs if a.managed}
    assert managed == {(t, n) for t in ("Play", "Record") for n in ("action", "method", "errorAction", "errorMethod")} \
        | {(t, n) for t in ("Gather", "Dial", "Sms") for n in ("action", "method")}
    # even when validation is skipped, a hand-set action never reaches the document; only a menu may send its
    # keys to another server (issue 15: its action is settable), and then it has no router
    flow = make_flow({"menu": {"type": "Gather", "attrs": {"action": "https://other.example/x", "method": "get"}},
                      "d": {"type": "Dial", "numbers": ["15162065340"], "attrs": {"action": "/x"}}},
                     [("menu", "d", "1")], flow_id="m")
    compiled = compile_flow(flow, problems=[])
    assert compiled.documents["menu"].decode() == xml('<Gather action="https://other.example/x" method="GET"/>')
    assert compiled.routers == {}
    assert compiled.documents["d"].decode() == xml("<Dial>", "  <Number>15162065340</Number>", "</Dial>")


def test_router_reads_a_mangled_attempt_as_the_first():
    flow = make_flow({"menu": {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1."}], "retries": 2},
                      "one": {"type": "Hangup"}, "quiet": {"type": "Hangup"}},
                     [("menu", "one", "1"), ("menu", "quiet", "timeout")])
    router = compile_flow(flow).routers["menu"]
    assert [router.route("5", a) for a in (-1, 0, 1, 2, 3, 99)] == [
        "menu.retry1", "menu.retry1", "menu.retry1", "menu.retry2", "quiet", "quiet"]
