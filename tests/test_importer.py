"""Importing FlexML and TwiML documents: the reference's samples, pasted variants, linked sets, TwiML."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from compiler import STEPS, compile_flow, dumps, only_errors, loads, validate
from compiler.flow import out_branches
from compiler.importer import ImportRefused, import_document, import_documents, import_path
from compiler.layout import overlapping

FIXTURES = Path(__file__).parent / "fixtures" / "import"
REFERENCE = FIXTURES / "reference"
MALFORMED = {"pause.xml", "gather-nested-say.xml", "gather-nested-play.xml", "gather-nested-play-fixed-action.xml"}
WELL_FORMED = sorted(p.name for p in REFERENCE.glob("*.xml") if p.name not in MALFORMED)


def types(result) -> dict[str, str]:
    return {n: d["type"] for n, d in result.graph.nodes(data=True)}


def step(graph, node: str) -> dict:
    """A step's fields without its canvas position."""
    return {k: v for k, v in graph.nodes[node].items() if k not in ("x", "y")}


def notes_text(result) -> str:
    return "\n".join(str(n) for n in result.notes)


# --- the reference's samples, as a user pastes them ------------------------------------------


@pytest.mark.parametrize("name", WELL_FORMED)
def test_every_well_formed_reference_sample_imports_and_compiles(name):
    result = import_path(REFERENCE / name)
    assert only_errors(validate(result.graph)) == []
    compiled = compile_flow(result.graph)
    assert result.start in compiled.documents
    # every verb of the sample is a step: nothing dropped
    verbs = [el.tag for el in etree.fromstring((REFERENCE / name).read_bytes())]
    assert sorted(verbs) == sorted(d["type"] for n, d in result.graph.nodes(data=True)
                                   if not n.endswith("-redirect"))


def test_say_sample_keeps_every_attribute():
    result = import_path(REFERENCE / "say.xml")
    assert step(result.graph, "say") == {"type": "Say", "text": "Thank you for calling customer service",
                                         "attrs": {"voice": "woman", "loop": 2, "loopPause": 5}}
    assert b'<Say loop="2" loopPause="5" voice="woman">Thank you for calling customer service</Say>' in \
        compile_flow(result.graph).documents["say"]


def test_call_flow_sample_gather_then_timeout_path():
    result = import_path(REFERENCE / "call-flow-gather.xml")
    g = result.graph
    menu = result.start
    assert g.nodes[menu]["type"] == "Gather"
    assert g.nodes[menu]["prompt"] == [{"type": "Say", "text": "Please enter the extension of the party you "
                                                               "would like to reach. "}]
    branches = out_branches(g, menu)
    # the verbs after a Gather are what happens when the caller presses nothing
    assert g.nodes[branches["timeout"]]["text"] == "You did not enter an extension. "
    assert g.nodes[out_branches(g, branches["timeout"])["next"]]["type"] == "Hangup"
    # /path/to/handler is not among the documents: the menu keeps sending its keys there (issue 15), with a note
    # that the path needs the original server's address
    assert g.nodes[menu]["attrs"]["action"] == "/path/to/handler" and "invalid" not in branches
    assert "sends the keys pressed there" in notes_text(result) and "--server-url" in notes_text(result)


def test_override_and_streaming_play_with_spread_out_url():
    result = import_path(REFERENCE / "override.xml")
    g = result.graph
    assert g.nodes["override"]["attrs"] == {"statusCallbackUrl": "http://www.example.com/path/to/handler",
                                            "statusCallbackMethod": "GET"}
    play = out_branches(g, "override")["next"]
    assert g.nodes[play]["text"] == "http://www.example.com/path/to/media.mp3"
    assert g.nodes[play]["attrs"] == {"streaming": True, "timeLimit": 30}


def test_redirect_sample_keeps_the_say_it_never_plays():
    result = import_path(REFERENCE / "redirect.xml")
    g = result.graph
    assert step(g, "redirect") == {"type": "Redirect", "text": "http://www.example.com/path/to/handler",
                                   "attrs": {"method": "GET"}}
    assert "redirect-say" in g and g.in_degree("redirect-say") == 0
    assert "redirect.xml line 3: <Say> and what follows are never played: <Redirect> on line 2" in notes_text(result)


def test_unquoted_attribute_names_the_line_and_the_fix():
    with pytest.raises(ImportRefused) as info:
        import_path(REFERENCE / "pause.xml")
    message = str(info.value)
    assert message.startswith("pause.xml: line 3, column 17: not well-formed XML")
    assert 'attribute values need quotes: length="15"' in message
    assert "\n" not in message


@pytest.mark.parametrize("name", ["gather-nested-say.xml", "gather-nested-play.xml"])
def test_placeholder_in_action_names_the_line_and_the_placeholder(name):
    with pytest.raises(ImportRefused) as info:
        import_path(REFERENCE / name)
    message = str(info.value)
    assert message.startswith(f"{name}: line 2, column 60:")
    assert "'<file>' looks like a placeholder" in message


def test_broken_play_sample_says_a_url_is_text():
    with pytest.raises(ImportRefused) as info:
        import_path(REFERENCE / "gather-nested-play-fixed-action.xml")
    message = str(info.value)
    assert "line 3" in message
    assert "a URL is plain text between the tags" in message and "(http://<file>.wav)" in message
    assert "replace '<file>'" in message


@pytest.mark.parametrize("text, line, hint", [
    (b"<Response><Say>hi</Response>", 1, "every <Verb> needs its </Verb>"),
    (b"<Response>\n<Say>Tom & Jerry</Say></Response>", 2, "write & as &amp;"),
    (b"hello there", 1, "a FlexML document starts with <Response>"),
    (b"\n\n<Say>Hi</Say>", 3, "wrapped in <Response>"),
])
def test_not_flexml_is_refused_with_the_line(text, line, hint):
    with pytest.raises(ImportRefused) as info:
        import_document(text, "paste.xml")
    assert f"paste.xml: line {line}" in str(info.value)
    assert hint in str(info.value)


def test_empty_document_is_refused():
    with pytest.raises(ImportRefused, match="the document is empty"):
        import_document(b"  \n ", "paste.xml")


# --- tolerance: what people paste -------------------------------------------------------------


def test_case_variants_whitespace_and_lower_case_values():
    text = b"""\xef\xbb\xbf

   <?xml version="1.0" encoding="UTF-8"?>
<response>
  <say VOICE=" Woman " LOOP=" 2 ">
     Hello there.
  </say>
  <PAUSE length="3"/>
  <redirect method="get">  http://example.com/next  </redirect>
</response>
"""
    result = import_document(text, "Pasted Flow.xml")
    g = result.graph
    assert list(types(result).values()) == ["Say", "Pause", "Redirect"]
    say, pause, redirect = list(g.nodes)
    assert g.nodes[say]["text"] == "Hello there."
    assert g.nodes[say]["attrs"] == {"voice": "woman", "loop": 2}
    assert g.nodes[pause]["attrs"] == {"length": 3}
    assert g.nodes[redirect]["attrs"] == {"method": "GET"}
    assert g.nodes[redirect]["text"] == "http://example.com/next"
    assert say == "Pasted-Flow" and g.graph["id"] == "pasted-flow"
    # line numbers count the blank lines before the declaration
    assert "Pasted Flow.xml line 5: <say> read as <Say>" in notes_text(result)
    assert "line 9: <redirect> read as <Redirect>" in notes_text(result)
    assert only_errors(validate(g)) == []


def test_hangup_spellings():
    result = import_document(b"<Response><Say>Bye</Say><HangUp/></Response>")
    assert list(types(result).values()) == ["Say", "Hangup"]
    assert compile_flow(result.graph).documents[result.start].endswith(b"<Hangup/>\n</Response>\n")


def test_text_can_be_given_as_str():
    result = import_document('<?xml version="1.0" encoding="ISO-8859-1"?>\n<Response><Say>café</Say></Response>')
    assert result.graph.nodes[result.start]["text"] == "café"


def test_unknown_verbs_and_attributes_are_kept_and_reported_by_line():
    text = b"""<Response>
  <Say foo="bar">Hi</Say>
  <Enqueue waitUrl="/wait">support</Enqueue>
  <Gather numDigits="1" action="next.xml" hints="yes">
    <Say>Press 1</Say>
    <Pause length="1"/>
  </Gather>
  <Hangup>now</Hangup>
</Response>"""
    result = import_documents({"a.xml": text, "next.xml": b"<Response><Hangup/></Response>"})
    g = result.graph
    assert g.nodes["a"]["unknown_attrs"] == {"foo": "bar"}
    assert g.graph["unknown_verbs"] == [{"document": "a.xml", "line": 3, "after": "a",
                                         "xml": '<Enqueue waitUrl="/wait">support</Enqueue>'}]
    gather = out_branches(g, "a")["next"]
    assert g.nodes[gather]["unknown_attrs"] == {"hints": "yes"}
    assert g.nodes[gather]["unknown_children"] == ['<Pause length="1"/>']
    hangup = out_branches(g, gather)["timeout"]
    assert g.nodes[hangup]["unknown_text"] == "now"
    text = notes_text(result)
    assert "a.xml line 2: <Say> attribute foo='bar' is not a FlexML attribute of Say" in text
    assert "a.xml line 3: unknown verb <Enqueue>" in text
    assert "a.xml line 4: <Gather> attribute hints='yes'" in text
    assert "a.xml line 6: <Pause> inside <Gather>" in text
    assert "a.xml line 8: <Hangup> takes no text" in text
    # what was kept survives saving and loading the flow file
    again = loads(dumps(g))
    assert again.graph["unknown_verbs"] == g.graph["unknown_verbs"]
    assert again.nodes[gather]["unknown_children"] == ['<Pause length="1"/>']
    # and the flow still compiles, without the unknown parts
    compiled = compile_flow(g)
    assert b"Enqueue" not in compiled.documents["a"] and b"foo=" not in compiled.documents["a"]


def test_values_that_do_not_fit_are_kept_for_the_designer_to_flag():
    result = import_document(b'<Response><Pause length="ten"/></Response>')
    assert result.graph.nodes[result.start]["attrs"] == {"length": "ten"}
    text = notes_text(result)
    assert "length='ten' does not fit FlexML" in text
    assert "node document: to fix before publishing: attrs.length: " in text


# --- TwiML -------------------------------------------------------------------------------------


def test_twiml_set():
    result = import_path(FIXTURES / "twiml")
    g = result.graph
    text = notes_text(result)
    assert result.start == "voice"  # the only document nothing else links to that is not an island… by name
    assert g.nodes["voice"]["attrs"] == {"voice": "woman"}
    assert g.nodes["voice"]["unknown_attrs"] == {"language": "en-US"}
    assert "voice.xml line 3: <Say> voice 'alice' (TwiML) read as 'woman'" in text
    gather = out_branches(g, "voice")["next"]
    assert g.nodes[gather]["attrs"] == {"numDigits": 1, "timeout": 3}
    assert g.nodes[gather]["unknown_attrs"] == {"input": "speech dtmf", "speechTimeout": "auto"}
    assert "no speech input" in text
    # the Gather's action is a document of the set: every key goes there
    assert out_branches(g, gather)["invalid"] == "menu"
    # the Redirect back to the start closes a loop: a Go to step
    pause = out_branches(g, gather)["timeout"]
    back = out_branches(g, pause)["next"]
    assert g.nodes[back]["type"] == "Goto" and g.nodes[back]["target"] == "voice"
    dial = out_branches(g, "menu")["next"]
    assert g.nodes[dial]["numbers"] == ["+14155550100"]
    assert g.nodes[dial]["unknown_attrs"] == {"callerId": "+15551230000", "Number[0].sendDigits": "wwww1928"}
    after = out_branches(g, dial)["next"]
    assert step(g, after) == {"type": "Redirect", "text": "https://example.com/after-dial", "attrs": {"method": "GET"}}
    # <Message> is Sms; Record's action continues at thanks.xml; a plain-text Dial number
    assert g.nodes["message"]["type"] == "Sms" and g.nodes["message"]["attrs"] == {"to": "+15551230002", "from": "{{ To }}"}
    record = out_branches(g, "message")["next"]
    assert g.nodes[record]["attrs"] == {"maxLength": 30, "finishOnKey": "#", "playBeep": True}
    assert out_branches(g, record)["next"] == "thanks"
    assert g.nodes["thanks"]["unknown_attrs"] == {"voice": "Polly.Joanna"}
    # a US national number gets its country code (issue 15), with a warning naming the reading
    assert [n for n, d in g.nodes(data=True) if d.get("numbers") == ["14155550101"]]
    assert "'415-555-0101' has no country code: read as a US number, 14155550101" in text
    assert "message.xml line 4: unknown verb <Enqueue>" in text
    assert only_errors(validate(g)) == []
    compile_flow(g)


# --- linked sets --------------------------------------------------------------------------------


def test_linked_folder_follows_relative_absolute_and_extensionless_urls():
    result = import_path(FIXTURES / "linked")
    g = result.graph
    assert result.start == "main"
    assert result.documents == {"goodbye.xml": "goodbye", "main.xml": "main", "options.xml": "options",
                                "prompts/sorry.xml": "sorry"}
    gather = out_branches(g, "main")["next"]
    assert out_branches(g, gather)["invalid"] == "options"  # https://ivr.example.com/app/options.xml
    assert out_branches(g, "options") == {"error": "sorry", "next": "goodbye"}  # prompts/sorry.xml, "goodbye"
    assert out_branches(g, "sorry") == {"next": "goodbye"}  # ../goodbye.xml from prompts/
    loop = out_branches(g, gather)["timeout"]
    assert step(g, loop) == {"type": "Goto", "target": "main"}
    assert only_errors(validate(g)) == []


def test_inline_copies_of_a_short_document_become_one_connection():
    files = {
        "start.xml": b"<Response><Say>Hi</Say><Say>Bye</Say><Hangup/></Response>",
        "other.xml": b"<Response><Say>Other</Say><Redirect>start.xml</Redirect></Response>",
        "bye.xml": b"<Response>\n  <Say>Bye</Say>\n  <Hangup />\n</Response>",
    }
    result = import_documents(files, entry="start")
    g = result.graph
    assert out_branches(g, "start") == {"next": "bye"}
    assert out_branches(g, "bye")["next"] == "bye-hangup"
    assert sorted(g.nodes) == ["bye", "bye-hangup", "other", "start"]


def test_gather_in_a_plain_set_sends_every_key_to_its_action_document():
    files = {"menu.xml": b'<Response><Gather numDigits="1" action="/sales.xml" method="get"><Say>Press a key'
                         b'</Say></Gather><Hangup/></Response>',
             "sales.xml": b"<Response><Dial><Number>15162065340</Number></Dial></Response>"}
    result = import_documents(files)
    g = result.graph
    assert result.start == "menu"
    assert out_branches(g, "menu") == {"invalid": "sales", "timeout": "menu-hangup"}
    assert "any key the caller presses leads to sales.xml" in notes_text(result)
    compiled = compile_flow(g)
    router = compiled.routers["menu"]
    assert router.route("7") == "sales" and router.route("") == "menu-hangup"


def test_entry_can_be_chosen_and_a_wrong_one_is_refused():
    files = {"a.xml": b"<Response><Say>A</Say></Response>", "b.xml": b"<Response><Say>B</Say></Response>"}
    assert import_documents(files).start == "a"
    assert import_documents(files, entry="b.xml").start == "b"
    with pytest.raises(ImportRefused, match="entry 'c' is not one of the documents: a, b"):
        import_documents(files, entry="c")


def test_empty_response_is_a_hang_up():
    result = import_documents({"main.xml": b'<Response><Redirect>end.xml</Redirect></Response>',
                               "end.xml": b"<Response/>"})
    assert result.graph.nodes["end"]["type"] == "Hangup"
    assert step(result.graph, "main") == {"type": "Goto", "target": "end"}


def test_layout_puts_every_connection_downwards_and_no_two_steps_on_one_spot():
    result = import_path(FIXTURES / "linked")
    g = result.graph
    for source, target in g.edges:
        assert g.nodes[target]["y"] > g.nodes[source]["y"]
    spots = [(d["x"], d["y"]) for _, d in g.nodes(data=True)]
    assert len(spots) == len(set(spots))
    assert (g.nodes[result.start]["x"], g.nodes[result.start]["y"]) == (40, 40)


def test_flow_id_and_name_can_be_given():
    result = import_document(b"<Response><Hangup/></Response>")
    assert result.graph.graph["id"] == "document"
    result = import_documents({"x.xml": b"<Response><Hangup/></Response>"}, flow_id="acme", name="Acme line")
    assert result.graph.graph["id"] == "acme" and result.graph.graph["name"] == "Acme line"


# --- anything XML-shaped: a flow or a clear refusal, never a crash ---------------------------

_TAGS = ["Say", "say", "Play", "Gather", "Dial", "Number", "Record", "Sms", "Message", "Redirect", "Reject",
         "Hangup", "HangUp", "Pause", "Override", "Enqueue", "Goto"]
_ATTRS = ["action", "method", "errorAction", "numDigits", "timeout", "voice", "loop", "length", "foo",
          "finishOnKey", "streaming"]
_VALUES = ["", "get", "1", "x", "a.xml", "/b.xml", "http://e.com/c.xml", "alice", "0", "-1", "true", "c"]


@st.composite
def _element(draw, depth: int = 0) -> str:
    tag = draw(st.sampled_from(_TAGS))
    attrs = draw(st.dictionaries(st.sampled_from(_ATTRS), st.sampled_from(_VALUES), max_size=3))
    text = draw(st.sampled_from(["", "Hello", "a.xml", "http://e.com/x.mp3", "15551230000", " \n "]))
    children = draw(st.lists(_element(depth + 1), max_size=2)) if depth < 2 else []
    attr_text = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<{tag}{attr_text}>{text}{''.join(children)}</{tag}>"


_documents = st.dictionaries(
    st.sampled_from(["a.xml", "b.xml", "c.xml", "sub/d.xml"]),
    st.lists(_element(), max_size=5).map(lambda els: "<Response>" + "".join(els) + "</Response>"),
    min_size=1, max_size=4)


@settings(max_examples=50, deadline=None)  # drawing nested XML is the slow part, not importing it
@given(_documents)
def test_any_set_of_documents_gives_a_flow_file(files):
    result = import_documents(files)
    g = result.graph
    assert nx.is_directed_acyclic_graph(g)
    assert result.start in g and g.graph["start"] == result.start
    for node, data in g.nodes(data=True):
        assert data["type"] in STEPS, node
        assert isinstance(data["x"], int) and isinstance(data["y"], int)
        if data["type"] == "Goto":
            assert data["target"] in g
    assert dumps(loads(dumps(g))) == dumps(g)
    for note in result.notes:
        assert str(note)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 400))
def test_damaged_documents_are_refused_cleanly(noise, at):
    source = (REFERENCE / "call-flow-gather.xml").read_bytes()
    data = source[:at] + noise + source[at:]
    try:
        import_document(data, "damaged.xml")
    except ImportRefused as exc:
        assert str(exc).startswith("damaged.xml: ") and "\n" not in str(exc)


def test_stray_text_between_verbs_is_reported():
    result = import_document(b"<Response>\n  hello\n  <Say>Hi</Say>\n  oops\n  <Hangup/>\n</Response>", "s.xml")
    text = notes_text(result)
    assert "s.xml line 1: text 'hello' directly inside <Response> is not part of any verb; left out" in text
    assert "s.xml line 3: text 'oops' after <Say> is not part of any verb; left out" in text
    assert list(types(result).values()) == ["Say", "Hangup"]


def test_layout_keeps_a_chain_of_steps_in_one_column():
    from compiler import write_zip
    from compiler.bundle import open_zip
    from compiler.examples import example

    graph = example("main-menu")
    g = import_documents(open_zip(write_zip(compile_flow(graph), graph))).graph
    assert g.nodes["vm-prompt"]["x"] == g.nodes["voicemail"]["x"] == g.nodes["vm-thanks"]["x"]
    # the example opens with a business-hours step: its closed path goes on in the first column
    assert g.nodes["welcome"]["x"] == g.nodes["hours"]["x"] == g.nodes["closed"]["x"]
    assert g.nodes["menu"]["x"] == g.nodes["no-input"]["x"] == g.nodes["ask-again"]["x"]
    ys = [g.nodes[n]["y"] for n in ("menu", "no-input", "ask-again", "vm-prompt", "voicemail")]
    assert ys[0] == 40 and ys == sorted(set(ys))  # one below the other, each row as tall as its tallest step
    assert not overlapping(g)
