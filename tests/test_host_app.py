"""The host's routes in process (httpx ASGITransport): what the carrier gets for each request."""

import json

import httpx
import pytest

from compiler import compile_flow, loads
from compiler.examples import example
from compiler.grammar import problems as grammar_problems
from designer.host import FlowTable, create_host_app
from designer.host.app import MAX_BODY, SORRY, SORRY_KEYS
from designer.store import DECISIONS, REASONS
from tests.flowwalk import served

TEMPLATED_FLOW = {
    "directed": True, "multigraph": False,
    "graph": {"id": "hello", "name": "Hello", "start": "greet", "format": 1},
    "nodes": [
        {"id": "greet", "type": "Say", "text": "Hello {{ From }}."},
        {"id": "menu", "type": "Gather", "attrs": {"numDigits": 1}, "options": ["1"],
         "prompt": [{"type": "Say", "text": "Press 1, caller {{ From }}."}]},
        {"id": "said", "type": "Say", "text": "You pressed {{ Digits }}."},
        {"id": "text", "type": "Sms", "text": "Thanks {{ From }} & co"},
        {"id": "bye", "type": "Hangup"},
    ],
    "edges": [{"source": "greet", "target": "menu"}, {"source": "menu", "target": "said", "branch": "1"},
              {"source": "said", "target": "text"}, {"source": "text", "target": "bye"}],
}


class Host:
    """A table with the example flows, its app, and the events it handed out."""

    def __init__(self):
        self.table = FlowTable()
        self.compiled = {name: self.table.serve_revision(compile_flow(example(name))).compiled
                         for name in ("main-menu", "pin-check", "after-hours")}
        self.compiled["hello"] = self.table.serve_revision(compile_flow(loads(json.dumps(TEMPLATED_FLOW)))).compiled
        self.table.bind("+1 (516) 206-5337", "main-menu")
        self.table.bind("5162065338", "pin-check")
        self.events = []
        self.app = create_host_app(self.table, self.events.append)

    async def request(self, method: str, url: str, **kw) -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(self.app), base_url="http://carrier") as c:
            response = await c.request(method, url, **kw)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/xml"
        assert grammar_problems(response.content) == [], response.text
        return response

    async def post(self, url: str, body: dict | None = None) -> httpx.Response:
        return await self.request("POST", url, json=body or {})

    def doc(self, flow: str, name: str) -> bytes:
        """What the host answers for a document: as compiled, with a business-hours step it ends at decided
        (the tests' clock: open)."""
        return served(self.compiled[flow], name)


@pytest.fixture
def host():
    return Host()


CALL = {"CallSid": "CA100", "From": "15551230001", "To": "15162065337", "ApiVersion": "2.0",
        "Direction": "inbound", "AccountSid": "", "CallerName": "", "CallStatus": "", "OriginalFrom": "15551230001",
        "OriginalTo": "15162065337"}


async def test_entry_document_by_post_json_form_and_get(host):
    entry = host.doc("main-menu", "welcome")
    assert (await host.post("/flexml/main-menu", CALL)).content == entry
    assert (await host.request("POST", "/flexml/main-menu", data=CALL)).content == entry
    assert (await host.request("GET", "/flexml/main-menu", params=CALL)).content == entry
    assert (await host.request("POST", "/flexml/main-menu")).content == entry
    # one event per request; each answer decided the example's business-hours step first (on that event)
    assert [(e.kind, e.params[DECISIONS]) for e in host.events] == [("document", "hours open")] * 4
    requests = host.events
    assert requests[0].params["From"] == "15551230001"
    assert requests[2].call_sid == "CA100"
    assert "OriginalFrom" not in requests[0].params  # the same as From: not stored twice
    assert "AccountSid" not in requests[0].params  # empty: not stored


async def test_a_calls_first_event_keeps_who_called_and_later_ones_only_what_changes(host):
    await host.post("/flexml/main-menu", CALL)
    await host.post("/flexml/main-menu/1/menu/gather", {**CALL, "Digits": "2"})
    await host.post("/flexml/main-menu/1/bye", {**CALL, "RecordingUrl": "http://r/1.mp3"})
    entry, router, saved = host.events
    assert entry.params[DECISIONS] == "hours open" and entry.params[REASONS].startswith("open: ")
    assert entry.params["From"] == "15551230001" and entry.params["Direction"] == "inbound"
    assert router.params == {"answer": "vm-prompt", "attempt": "1"} and router.digits == "2"
    assert saved.params == {"RecordingUrl": "http://r/1.mp3", "end": "1"}  # "bye" hangs up: the call is over


@pytest.mark.parametrize("to", ["15162065337", "+1 (516) 206-5337", "5162065337", "+15162065337",
                                "1-516-206-5337", "sip:+15162065337@10.1.2.3"])
async def test_account_url_finds_the_flow_for_any_spelling_of_the_number(host, to):
    response = await host.post("/flexml", dict(CALL, To=to))
    assert response.content == host.doc("main-menu", "welcome")
    event = host.events[-1]
    assert (event.kind, event.flow_id, event.rev, event.target, event.call_sid) == (
        "document", "main-menu", "1", "welcome", "CA100")


async def test_a_number_bound_without_country_code_answers_with_it(host):
    response = await host.post("/flexml", dict(CALL, To="+1 516 206 5338"))
    assert response.content == host.doc("pin-check", "ask-pin")


async def test_documents_of_a_revision_by_name_and_revision_entry(host):
    assert (await host.post("/flexml/main-menu/1/sales")).content == host.doc("main-menu", "sales")
    assert (await host.post("/flexml/main-menu/1/menu.retry1")).content == host.doc("main-menu", "menu.retry1")
    assert (await host.post("/flexml/main-menu/1")).content == host.doc("main-menu", "welcome")
    assert (await host.post("/flexml/main-menu/1/sales/")).content == host.doc("main-menu", "sales")


def _spoken_apology(response: httpx.Response, text: str = SORRY) -> None:
    body = response.text
    assert f"<Say>{text}</Say>" in body and "<Hangup/>" in body
    assert "Traceback" not in body and "<html" not in body.lower()


BAD_REQUESTS = [
    ("unknown number", "POST", "/flexml", {"json": dict(CALL, To="+1 999 000 1111")}, "'+1 999 000 1111' is not bound"),
    ("no To", "POST", "/flexml", {"json": {"CallSid": "x"}}, "no To number"),
    ("unknown flow", "POST", "/flexml/nope", {"json": CALL}, "unknown flow 'nope'"),
    ("unknown revision", "POST", "/flexml/main-menu/7/welcome", {"json": CALL}, "has no revision '7'"),
    ("unknown document", "POST", "/flexml/main-menu/1/nowhere", {"json": CALL}, "has no document 'nowhere'"),
    ("unknown router", "POST", "/flexml/main-menu/1/sales/gather", {"json": {"Digits": "1"}}, "no menu 'sales'"),
    ("router of unknown revision", "POST", "/flexml/main-menu/9/menu/gather", {"json": {"Digits": "1"}},
     "no revision '9'"),
    ("too deep", "POST", "/flexml/main-menu/1/menu/gather/more", {"json": CALL}, "unknown address"),
    ("empty segment", "POST", "/flexml/main-menu//welcome", {"json": CALL}, "unknown address"),
    ("malformed JSON", "POST", "/flexml/main-menu",
     {"content": b'{"CallSid": ', "headers": {"content-type": "application/json"}}, "not valid JSON"),
    ("JSON array", "POST", "/flexml/main-menu",
     {"content": b"[1, 2]", "headers": {"content-type": "application/json"}}, "JSON body is a list"),
    ("wrong content type", "POST", "/flexml/main-menu",
     {"content": b"<xml/>", "headers": {"content-type": "text/xml"}}, "content type 'text/xml'"),
    ("oversize declared body", "POST", "/flexml/main-menu",
     {"content": b"{" + b" " * MAX_BODY + b"}", "headers": {"content-type": "application/json"}}, "larger than"),
    ("oversize streamed body", "POST", "/flexml/main-menu",
     {"content": "stream"}, "larger than"),
    ("form not UTF-8", "POST", "/flexml/main-menu",
     {"content": b"From=\xff\xfe", "headers": {"content-type": "application/x-www-form-urlencoded"}},
     "not UTF-8"),
]


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
async def test_bad_requests_get_a_spoken_apology_and_the_reason_is_logged(host, case):
    _, method, url, kw, reason = case
    if kw.get("content") == "stream":  # chunked, no content-length: the cap applies while reading

        async def chunks():
            for chunk in (b'{"a": "', b"x" * MAX_BODY, b'"}'):
                yield chunk

        kw = {"content": chunks()}
    response = await host.request(method, url, **kw)
    _spoken_apology(response)
    event = host.events[-1]
    assert event.kind == "error"
    assert reason in event.target
    assert event.params["path"] == url.split("?")[0]


@pytest.mark.parametrize("digits", ["abc", "1; DROP TABLE", "1" * 65, "<Say>", "１"])
async def test_junk_digits_get_an_apology_about_the_keys(host, digits):
    response = await host.post("/flexml/main-menu/1/menu/gather", {"Digits": digits, "CallSid": "CA1"})
    _spoken_apology(response, SORRY_KEYS)
    assert host.events[-1].kind == "error" and "junk digits" in host.events[-1].target
    assert host.events[-1].call_sid == "CA1"


async def test_router_exact_match_empty_and_retries_then_timeout(host):
    gather = "/flexml/main-menu/1/menu/gather"
    assert (await host.post(gather, {"Digits": "1"})).content == host.doc("main-menu", "sales")
    assert (await host.post(gather, {"Digits": "0"})).content == host.doc("main-menu", "operator")
    assert (await host.post(gather, {"Digits": ""})).content == host.doc("main-menu", "no-input")
    assert (await host.post(gather, {})).content == host.doc("main-menu", "no-input")
    # no invalid branch on this menu: the menu again, twice (retries: 2), then the timeout branch
    first = await host.post(gather, {"Digits": "7"})
    assert first.content == host.doc("main-menu", "menu.retry1")
    assert f'action="{gather}?attempt=2"' in first.text
    second = await host.post(f"{gather}?attempt=2", {"Digits": "7"})
    assert second.content == host.doc("main-menu", "menu.retry2")
    assert f'action="{gather}?attempt=3"' in second.text
    assert (await host.post(f"{gather}?attempt=3", {"Digits": "7"})).content == host.doc("main-menu", "no-input")
    # a right key on a retry still goes where it should
    assert (await host.post(f"{gather}?attempt=3", {"Digits": "2"})).content == host.doc("main-menu", "vm-prompt")
    assert [(e.digits, e.params["answer"], e.params["attempt"]) for e in host.events] == [
        ("1", "sales", "1"), ("0", "operator", "1"), ("", "no-input", "1"), ("", "no-input", "1"),
        ("7", "menu.retry1", "1"), ("7", "menu.retry2", "2"), ("7", "no-input", "3"), ("2", "vm-prompt", "3")]


async def test_router_invalid_branch_and_finish_key_and_digit_spellings(host):
    gather = "/flexml/pin-check/1/ask-pin/gather"
    assert (await host.post(gather, {"Digits": "0000"})).content == host.doc("pin-check", "wrong-pin")
    assert (await host.post(gather, {"Digits": "1234#"})).content == host.doc("pin-check", "granted")
    assert (await host.post(gather, {"digits": "1234"})).content == host.doc("pin-check", "granted")
    assert (await host.post(gather, {"Digits": 1234})).content == host.doc("pin-check", "granted")
    form = await host.request("POST", gather, data={"digits": "1234"})
    assert form.content == host.doc("pin-check", "granted")
    get = await host.request("GET", gather, params={"Digits": "9999"})
    assert get.content == host.doc("pin-check", "wrong-pin")
    assert (await host.post(gather, {"Digits": " 1234 "})).content == host.doc("pin-check", "granted")


async def test_attempt_junk_in_the_url_counts_as_the_first_try(host):
    gather = "/flexml/main-menu/1/menu/gather"
    assert (await host.post(f"{gather}?attempt=x", {"Digits": "7"})).content == host.doc("main-menu", "menu.retry1")
    assert (await host.post(f"{gather}?attempt=-4", {"Digits": "7"})).content == host.doc("main-menu", "menu.retry1")


async def test_recording_parameters_in_both_spellings_are_kept(host):
    await host.post("/flexml/main-menu/1/vm-failed", {"CallSid": "CA9", "RecordingURL": "http://r/1.mp3",
                                                      "RecordingFileSID": "F1", "RecordingDuration": 12})
    await host.request("POST", "/flexml/main-menu/1/vm-failed",
                       data={"CallSid": "CA9", "RecordingUrl": "http://r/2.mp3", "RecordingFileSid": "F2"})
    first, second = host.events[-2:]
    assert first.params["RecordingUrl"] == "http://r/1.mp3" and first.params["RecordingFileSid"] == "F1"
    assert first.params["RecordingDuration"] == "12"
    assert second.params["RecordingUrl"] == "http://r/2.mp3" and second.params["RecordingFileSid"] == "F2"


async def test_templated_text_is_rendered_per_call_and_xml_escaped(host):
    response = await host.post("/flexml/hello", {"From": "<Bob & \"Co\">", "CallSid": "CA5"})
    assert "<Say>Hello &lt;Bob &amp; \"Co\"&gt;.</Say>" in response.text
    assert "<Say>Press 1, caller &lt;Bob &amp; \"Co\"&gt;.</Say>" in response.text
    routed = await host.post("/flexml/hello/1/menu/gather", {"Digits": "1", "From": "15551230001"})
    assert "<Say>You pressed 1.</Say>" in routed.text
    assert "<Sms>Thanks 15551230001 &amp; co</Sms>" in routed.text
    assert "{{" not in routed.text
    other = await host.post("/flexml/hello", {"From": "15550009999"})
    assert "<Say>Hello 15550009999.</Say>" in other.text


TEXT_BACK = {
    "directed": True, "multigraph": False,
    "graph": {"id": "text-back", "name": "Text back", "start": "link", "format": 1},
    "nodes": [{"id": "link", "type": "Sms", "text": "Your link: https://x.example/?a=1&b=2",
               "attrs": {"to": "{{ From }}", "from": "{{To}}"}},
              {"id": "bye", "type": "Say", "text": "We sent you a text. Goodbye."}],
    "edges": [{"source": "link", "target": "bye"}],
}


async def test_a_text_can_go_to_the_caller_from_the_number_they_called(host):
    host.table.serve_revision(compile_flow(loads(json.dumps(TEXT_BACK))))
    response = await host.post("/flexml/text-back", {"From": "15551230001", "To": "+15162065337"})
    assert '<Sms from="+15162065337" to="15551230001">Your link: https://x.example/?a=1&amp;b=2</Sms>' \
        in response.text
    # a withheld or odd caller number: the attribute is left out, so the carrier's default applies
    withheld = await host.post("/flexml/text-back", {"From": "anonymous", "To": "15162065337"})
    assert '<Sms from="15162065337">Your link' in withheld.text
    hostile = await host.post("/flexml/text-back", {"From": '1555" evil="1', "To": "<x>"})
    assert "<Sms>Your link" in hostile.text and "evil" not in hostile.text


async def test_templated_text_survives_hostile_values(host):
    hostile = "\x00\x1b]]><!--" + "x" * 5000 + "\ud800"
    response = await host.request("POST", "/flexml/hello", content=json.dumps({"From": hostile}).encode(),
                                  headers={"content-type": "application/json"})
    said = response.text.split("<Say>", 1)[1].split("</Say>", 1)[0]
    assert said.startswith("Hello ]]&gt;&lt;!--xxx")
    assert len(said.replace("&gt;", ">").replace("&lt;", "<")) == 1024  # a Say reads at most 1,024 characters


async def test_status_callbacks_are_recorded_with_their_flow(host):
    response = await host.post("/flexml/status", {
        "CallSid": "CA100", "CallStatus": "completed", "CallDuration": 42, "To": "+15550000000",
        "RequestUrl": "https://ivr.example.com/flexml/pin-check", "RequestMethod": "POST"})
    assert b"<Response/>" in response.content
    event = host.events[-1]
    assert (event.kind, event.flow_id, event.target, event.call_sid) == ("status", "pin-check", "completed", "CA100")
    assert event.params["CallDuration"] == "42" and event.params["RequestMethod"] == "POST"
    await host.request("GET", "/flexml/status", params={"CallSid": "CA7", "CallStatus": "busy",
                                                          "To": "15162065337"})
    assert (host.events[-1].flow_id, host.events[-1].target) == ("main-menu", "busy")


async def test_republish_keeps_old_revisions_for_calls_in_progress(host):
    graph = example("main-menu")
    graph.nodes["sales"]["numbers"] = ["15169990000"]
    host.table.serve_revision(compile_flow(graph, revision="2"))
    entry = await host.post("/flexml/main-menu")
    assert "/flexml/main-menu/2/menu/gather" in entry.text
    old = await host.post("/flexml/main-menu/1/menu/gather", {"Digits": "1"})
    assert "<Number>15162065340</Number>" in old.text
    new = await host.post("/flexml/main-menu/2/menu/gather", {"Digits": "1"})
    assert "<Number>15169990000</Number>" in new.text


async def test_an_event_sink_that_fails_does_not_touch_the_answer(host):
    def broken(event):
        raise RuntimeError("disk full")

    app = create_host_app(host.table, broken)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://carrier") as c:
        response = await c.post("/flexml/main-menu", json=CALL)
    assert response.status_code == 200 and response.content == host.doc("main-menu", "welcome")


async def test_other_methods_still_get_flexml(host):
    for method in ("PUT", "PATCH", "DELETE"):
        response = await host.request(method, "/flexml/main-menu", json=CALL)
        assert response.content == host.doc("main-menu", "welcome")


# --- whatever arrives, the answer is FlexML -----------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_segments = st.sampled_from(["flexml", "main-menu", "pin-check", "1", "2", "menu", "ask-pin", "gather", "status",
                             "welcome", "menu.retry1", "a..b", "%00", "%2F", "é", "", "x" * 300])
_values = st.one_of(st.text(max_size=40), st.integers(), st.none(), st.booleans(), st.lists(st.integers(), max_size=2))
_bodies = st.one_of(
    st.binary(max_size=300),
    st.dictionaries(st.sampled_from(["To", "From", "Digits", "digits", "CallSid", "RecordingURL", "x"]), _values,
                    max_size=5).map(lambda d: json.dumps(d).encode()),
)
_url_chars = st.characters(min_codepoint=32, max_codepoint=0x2FFF, exclude_characters="\x7f#")  # what httpx sends
_types = st.sampled_from([None, "application/json", "application/x-www-form-urlencoded", "text/plain",
                          "multipart/form-data; boundary=x", "application/json; charset=latin-1", "garbage"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segments=st.lists(_segments, max_size=5), method=st.sampled_from(["GET", "POST", "PUT"]),
       body=_bodies, ctype=_types, query=st.text(_url_chars, max_size=30))
async def test_any_request_on_the_flexml_routes_gets_valid_flexml(host, segments, method, body, ctype, query):
    url = "/flexml/" + "/".join(segments) + ("?" + query if query else "")
    headers = {"content-type": ctype} if ctype else {}
    response = await host.request(method, url, content=body if method != "GET" else None, headers=headers)
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Response')
    assert host.events and host.events[-1].kind in ("document", "router", "error", "status")


async def test_a_bad_body_still_logs_the_call_from_the_query(host):
    response = await host.request("POST", "/flexml/main-menu?CallSid=CA77&From=15550001111",
                                  content=b"{oops", headers={"content-type": "application/json"})
    _spoken_apology(response)
    event = host.events[-1]
    assert (event.kind, event.call_sid, event.params["From"]) == ("error", "CA77", "15550001111")


async def test_long_names_in_the_url_are_cut_short_in_the_log(host):
    await host.post("/flexml/" + "f" * 5000)
    event = host.events[-1]
    assert event.kind == "error" and len(event.target) <= 512 and len(event.params["path"]) <= 512


def test_apology_documents_are_valid_flexml_whatever_they_say():
    from designer.host.app import apology

    assert grammar_problems(apology("Sorry <we> & co are closed.")) == []
    assert b"<Say>Sorry &lt;we&gt; &amp; co are closed.</Say>" in apology("Sorry <we> & co are closed.")
