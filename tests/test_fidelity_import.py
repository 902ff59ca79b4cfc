"""Issue 15, import semantics: imported TwiML (and FlexML) keeps its meaning, and every change is noted.

Each test imports a small document written here with the construct in question, checks the flow, the
note (line, construct, what the flow does instead) and, where the meaning shows on a call, simulates the
compiled flow on the real host app against a local stand-in for the original server.
"""

from __future__ import annotations

import httpx
import pytest

from compiler import compile_flow, validate
from compiler.flow import out_branches
from compiler.importer import ImportRefused, import_document, import_documents
from designer.host import FlowTable, create_host_app
from designer.simulator import ScriptedCaller, simulate_call


def notes_at(result, line: int) -> list[str]:
    return [n.message for n in result.notes if n.line == line]


def first_of_type(graph, type_: str) -> str:
    return next(n for n, d in graph.nodes(data=True) if d.get("type") == type_)


# ---- 9. who a text goes to -------------------------------------------------------------------------------

TWIML_TEXT = """<Response>
  <Say voice="alice">Thanks for calling.</Say>
  <Message>We got your call.</Message>
</Response>"""

FLEXML_TEXT = """<Response>
  <Say>Thanks for calling.</Say>
  <Sms>We got your call.</Sms>
</Response>"""


def test_a_twiml_message_without_to_texts_the_caller():
    result = import_document(TWIML_TEXT, "thanks.xml")
    sms = result.graph.nodes[first_of_type(result.graph, "Sms")]
    assert sms["attrs"] == {"to": "{{ From }}", "from": "{{ To }}"}
    (note,) = [m for m in notes_at(result, 3) if "without" in m]
    assert "<Sms> without to and from" in note and "TwiML" in note and "line 2" in note  # what decided it
    assert "to = {{ From }}" in note
    compiled = compile_flow(result.graph)
    assert b'<Sms from="{{ To }}" to="{{ From }}">' in compiled.documents[result.start]


def test_a_twiml_sms_is_read_as_twiml_when_asked():
    result = import_document(FLEXML_TEXT, "thanks.xml", dialect="twiml")
    assert result.graph.nodes[first_of_type(result.graph, "Sms")]["attrs"]["to"] == "{{ From }}"
    assert any("as asked" in m for m in notes_at(result, 3))


def test_a_flexml_sms_without_to_stays_as_it_is_and_the_note_says_who_gets_it():
    result = import_document(FLEXML_TEXT, "thanks.xml")
    sms = result.graph.nodes[first_of_type(result.graph, "Sms")]
    assert "attrs" not in sms
    (note,) = [m for m in notes_at(result, 3) if "without" in m]
    assert "FlexML" in note and "number the caller dialled" in note and "{{ From }}" in note


def test_an_unknown_dialect_is_refused():
    with pytest.raises(ImportRefused, match="dialect"):
        import_document(FLEXML_TEXT, dialect="twilio")


# ---- 10. a menu whose action is outside the imported set -------------------------------------------------

OUTSIDE_MENU = """<Response>
  <Gather numDigits="1" action="https://ivr.example.com/process_gather.php" method="GET">
    <Say>Press 1 for sales.</Say>
  </Gather>
  <Say>We did not get your choice.</Say>
</Response>"""


class OriginalServer:
    """A stand-in for the server the document was written for: records what it is sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, text="<Response><Say>Connecting you to sales.</Say></Response>",
                              headers={"content-type": "application/xml"})


async def simulate(result, keys: list[str | None], original: OriginalServer):
    compiled = compile_flow(result.graph)
    table = FlowTable()
    table.serve_revision(compiled, current=True)
    host = httpx.ASGITransport(app=create_host_app(table))

    class Both(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.host == "ivr.example.com":
                return original.handle(request)
            return await host.handle_async_request(request)

    return await simulate_call(f"http://host/flexml/{compiled.flow}", transport=Both(),
                               caller=ScriptedCaller(digits=keys), flows=[compiled])


async def test_a_menu_keeps_sending_its_keys_to_the_server_it_was_written_for():
    result = import_document(OUTSIDE_MENU, "menu.xml")
    menu = result.graph.nodes[result.start]
    assert menu["attrs"]["action"] == "https://ivr.example.com/process_gather.php"
    assert menu["attrs"]["method"] == "GET" and not menu.get("options")
    assert set(out_branches(result.graph, result.start)) == {"timeout"}  # what follows: the no-input path
    assert any("sends the keys pressed there" in m for m in notes_at(result, 2))
    assert [p for p in validate(result.graph) if p.is_error] == []
    original = OriginalServer()
    call = await simulate(result, ["1"], original)
    assert call.ok, call.reason
    (sent,) = original.requests
    assert sent.url.path == "/process_gather.php" and sent.url.params["Digits"] == "1"
    assert "Connecting you to sales." in call.said()


async def test_an_outside_menu_without_input_plays_what_followed_it():
    result = import_document(OUTSIDE_MENU, "menu.xml")
    call = await simulate(result, [None], OriginalServer())
    assert "We did not get your choice." in call.said()


# ---- 11. national phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["415-123-4567", "(415) 123-4567", "4151234567"])
def test_a_twiml_national_number_is_read_in_the_default_country(written):
    doc = f'<Response>\n  <Say voice="alice">Connecting.</Say>\n  <Dial>{written}</Dial>\n</Response>'
    result = import_document(doc, "call.xml")
    dial = result.graph.nodes[first_of_type(result.graph, "Dial")]
    assert dial["numbers"] == ["14151234567"]
    note = next(n for n in result.notes if n.line == 3 and "country code" in n.message)
    assert note.severity == "warning" and "US number" in note.message and written in note.message


def test_another_country_can_be_given():
    doc = '<Response>\n  <Dial>020 7946 0958</Dial>\n</Response>'
    result = import_documents({"call.xml": doc}, region="GB")
    assert result.graph.nodes[first_of_type(result.graph, "Dial")]["numbers"] == ["442079460958"]


def test_a_flexml_e164_number_is_kept_as_written():
    result = import_document("<Response><Dial><Number>4420794609</Number></Dial></Response>")
    assert result.graph.nodes[result.start]["numbers"] == ["4420794609"]


def test_an_sms_number_with_punctuation_gets_its_country_code():
    result = import_document('<Response>\n<Sms to="(415) 123-4567">Hi</Sms>\n</Response>')
    assert result.graph.nodes[result.start]["attrs"]["to"] == "14151234567"
    assert any("country code" in m for m in notes_at(result, 2))


# ---- 12. TwiML Gather and Record without action ask the same document again ------------------------------------

TWIML_NO_ACTION_MENU = """<Response>
  <Gather input="dtmf" numDigits="1">
    <Say>Press any key to hear this again.</Say>
  </Gather>
  <Say>Goodbye.</Say>
</Response>"""

TWIML_NO_ACTION_RECORD = """<Response>
  <Say voice="alice">Leave a message.</Say>
  <Record maxLength="30"/>
  <Say>Never heard.</Say>
</Response>"""


async def test_a_twiml_menu_without_action_goes_back_to_its_document_on_a_key():
    result = import_document(TWIML_NO_ACTION_MENU, "again.xml")
    g = result.graph
    back = out_branches(g, result.start)["invalid"]
    assert g.nodes[back] == {**g.nodes[back], "type": "Goto", "target": result.start}
    assert g.nodes[out_branches(g, result.start)["timeout"]]["text"] == "Goodbye."
    (note,) = [m for m in notes_at(result, 2) if "without action" in m]
    assert "same document again" in note and "Go to" in note
    call = await simulate(result, ["5", None], OriginalServer())
    assert call.said().count("Press any key to hear this again.") == 2
    assert "Sorry, that is not a valid choice." not in call.said()
    assert call.said()[-1] == "Goodbye."


def test_a_twiml_record_without_action_goes_back_to_its_document():
    result = import_document(TWIML_NO_ACTION_RECORD, "msg.xml")
    g = result.graph
    record = first_of_type(g, "Record")
    back = out_branches(g, record)["next"]
    assert g.nodes[back]["type"] == "Goto" and g.nodes[back]["target"] == result.start
    (note,) = [m for m in notes_at(result, 3) if "without action" in m]
    assert "same document again" in note
    assert any("never played" in m for m in notes_at(result, 4))


def test_a_flexml_record_without_action_goes_on_to_the_next_verb():
    result = import_document("<Response><Record/><Say>Thanks.</Say></Response>")
    g = result.graph
    assert g.nodes[out_branches(g, result.start)["next"]]["text"] == "Thanks."


def test_a_flexml_menu_without_action_says_what_the_flow_does():
    result = import_document("<Response>\n<Gather><Say>Hi</Say></Gather>\n</Response>")
    assert any("treats every key as a wrong key" in m for m in notes_at(result, 2))


# ---- 13. paths on the original server -------------------------------------------------------------------------

PATHS = """<Response>
  <Say>Bye.</Say>
  <Redirect>/completed</Redirect>
</Response>"""


def test_a_path_is_read_against_the_original_server_when_given():
    result = import_documents({"app/bye.xml": PATHS}, server_url="https://ivr.example.com/")
    redirect = result.graph.nodes[first_of_type(result.graph, "Redirect")]
    assert redirect["text"] == "https://ivr.example.com/completed"
    assert any("read as 'https://ivr.example.com/completed'" in m for m in notes_at(result, 3))


def test_a_relative_url_is_read_against_the_document_on_the_original_server():
    doc = "<Response>\n<Redirect>next.php</Redirect>\n</Response>"
    result = import_documents({"app/bye.xml": doc}, server_url="https://ivr.example.com/base")
    assert result.graph.nodes[result.start]["text"] == "https://ivr.example.com/base/app/next.php"


def test_a_path_without_the_server_asks_for_it():
    result = import_document(PATHS, "bye.xml")
    (note,) = [n for n in result.notes if n.line == 3 and "/completed" in n.message]
    assert note.severity == "warning" and "--server-url" in note.message


def test_a_server_url_that_is_not_one_is_refused():
    with pytest.raises(ImportRefused, match="server URL"):
        import_documents({"a.xml": PATHS}, server_url="ivr.example.com")


# ---- 14. SSML inside Say keeps its word breaks ----------------------------------------------------------------


def test_ssml_inside_say_keeps_the_spaces_between_words():
    doc = ('<Response>\n<Say>Hi<break time="1s"/>Words to <emphasis>emphasize</emphasis>and'
           '<prosody rate="slow"><say-as interpret-as="digits">123</say-as>more</prosody></Say>\n</Response>')
    result = import_document(doc)
    assert result.graph.nodes[result.start]["text"] == "Hi Words to emphasize and 123 more"
    assert any("SSML" in m and "space" in m for m in notes_at(result, 2))


# ---- 15. placeholders from a template ----------------------------------------------------------------------------


def test_a_template_placeholder_is_flagged_on_its_line_and_by_validation():
    doc = '<Response>\n  <Say>Leave a message.</Say>\n  <Record containerSid="{{ container_sid }}"/>\n</Response>'
    result = import_document(doc)
    assert any("placeholder" in m and "containerSid" in m for m in notes_at(result, 3))
    record = first_of_type(result.graph, "Record")
    problem = next(p for p in validate(result.graph) if p.node == record)
    assert problem.field == "attrs.containerSid" and problem.is_error


# ---- 7. a TwiML finishOnKey="" ----------------------------------------------------------------------------------


def test_an_empty_finish_key_is_read_as_none_and_emitted_as_underscore():
    doc = '<Response>\n<Gather finishOnKey="" action="https://ivr.example.com/k"><Say>Hi</Say></Gather>\n</Response>'
    result = import_document(doc)
    assert result.graph.nodes[result.start]["attrs"]["finishOnKey"] == "_"
    assert any("no finish key" in m for m in notes_at(result, 2))
    assert b'finishOnKey="_"' in compile_flow(result.graph).documents[result.start]


@pytest.mark.parametrize(("written", "region", "expected"), [
    ("415-123-4567", "US", ("14151234567", None)),
    ("+1 (415) 123-4567", "US", ("14151234567", None)),
    ("15162065340", "US", ("15162065340", None)),
    ("020 7946 0958", "GB", ("442079460958", None)),
])
def test_imported_numbers_read_national_and_international_forms(written, region, expected):
    from compiler.phones import read_e164
    assert read_e164(written, region) == ("+" + expected[0], None)


@pytest.mark.parametrize("written", ["12", "call me", ""])
def test_an_unusable_imported_number_says_why(written):
    from compiler.phones import read_e164
    digits, problem = read_e164(written)
    assert digits is None and problem
