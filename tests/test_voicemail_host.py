"""The Record action's route (``…/{node}/recorded``) and who may write the call list: the carrier's token
and the recording hosts allowed. In process (httpx ASGITransport), as the carrier would call."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from designer.host.trust import CarrierTrust, parse_hosts, with_token
from tests.test_host_app import CALL, Host

RECORDED = "/flexml/main-menu/1/voicemail/recorded"
SANDBOX_URL = "http://127.0.0.1:8070/flexml/v1/sandbox/recordings/0123456789abcdef0123456789abcdef.wav"
CARRIER_URL = "https://storage.carrierx.com/files/f1.mp3"


@pytest.fixture
def host():
    return Host()


def recordings(host: Host) -> list:
    return [e for e in host.events if e.kind == "recording"]


def thanks(host: Host) -> bytes:
    """What follows the main-menu example's voicemail step: "Thank you…" and the end of the call."""
    return host.doc("main-menu", "vm-thanks")


@pytest.mark.parametrize("fields", [
    {"RecordingUrl": CARRIER_URL, "RecordingFileSid": "f1", "RecordingDuration": "12"},
    {"RecordingURL": CARRIER_URL, "RecordingFileSID": "f1", "RecordingDuration": "12"},
    {"RecordingURL": CARRIER_URL, "RecordingFileSid": "f1", "RecordingDuration": 12.4},
])
async def test_the_recording_is_kept_under_one_spelling_and_the_caller_hears_the_rest(host, fields):
    answer = await host.post(RECORDED, {**CALL, **fields})
    assert answer.content == thanks(host)
    assert b"Thank you" in answer.content
    (event,) = recordings(host)
    assert (event.flow_id, event.rev, event.target, event.call_sid) == ("main-menu", "1", "voicemail", "CA100")
    assert {k: event.params.get(k) for k in ("RecordingUrl", "RecordingFileSid", "RecordingDuration", "From")} == {
        "RecordingUrl": CARRIER_URL, "RecordingFileSid": "f1", "RecordingDuration": "12", "From": "15551230001"}
    assert "not_stored" not in event.params and "RecordingURL" not in event.params


async def test_a_form_body_and_get_parameters_carry_the_recording_too(host):
    fields = {**CALL, "RecordingURL": SANDBOX_URL, "RecordingFileSID": "abc", "RecordingDuration": "3"}
    assert (await host.request("POST", RECORDED, data=fields)).content == thanks(host)
    assert (await host.request("GET", RECORDED, params=fields)).content == thanks(host)
    assert [e.params["RecordingUrl"] for e in recordings(host)] == [SANDBOX_URL, SANDBOX_URL]


@pytest.mark.parametrize("fields", [{}, {"RecordingUrl": ""}, {"RecordingUrl": "   ", "RecordingDuration": "4"}])
async def test_without_a_recording_url_the_caller_still_hears_the_rest_and_nothing_is_kept(host, fields):
    answer = await host.post(RECORDED, {**CALL, **fields})
    assert answer.content == thanks(host)
    (event,) = recordings(host)
    assert event.params["not_stored"] == "no RecordingUrl in the request: nothing stored"
    assert "RecordingUrl" not in event.params and "RecordingDuration" not in event.params


@pytest.mark.parametrize("url, reason", [
    ("https://evil.example/planted.wav", "recording from a host not allowed: evil.example"),
    ("https://carrierx.com.evil.example/x.wav", "recording from a host not allowed: carrierx.com.evil.example"),
    ("https://" + "a" * 200 + ".example/x.wav", "recording from a host not allowed: " + "a" * 80),
    ("javascript:alert(1)", "recording URL that is not an http(s) address: 'javascript:alert(1)', not stored"),
    ("https://evil.example#@carrierx.com/x.wav", "recording from a host not allowed: evil.example"),
    ("https://evil.example\\@carrierx.com/x.wav",
     "recording URL that is not an http(s) address: 'https://evil.example\\\\@carrierx.com/x.wav', not stored"),
    ("https://api.carrierx.com/" + "x" * 600, "recording URL of 625 characters (at most 512): not stored"),
])
async def test_a_forged_recording_is_answered_normally_and_not_kept(host, url, reason):
    answer = await host.post(RECORDED, {**CALL, "RecordingUrl": url, "RecordingDuration": "9"})
    assert answer.content == thanks(host)
    (event,) = recordings(host)
    assert event.params["not_stored"] == reason
    assert "RecordingUrl" not in event.params


async def test_the_recording_hosts_are_the_users_to_choose(host):
    host.table.trust = CarrierTrust(recording_hosts=parse_hosts("media.example.com"))
    await host.post(RECORDED, {**CALL, "RecordingUrl": "https://cdn.media.example.com/a.wav"})
    await host.post(RECORDED, {**CALL, "RecordingUrl": CARRIER_URL})
    kept, refused = recordings(host)
    assert kept.params["RecordingUrl"] == "https://cdn.media.example.com/a.wav"
    assert refused.params["not_stored"] == "recording from a host not allowed: storage.carrierx.com"


def test_recording_hosts_a_user_types_are_checked_and_named():
    assert parse_hosts(" carrierx.com, 127.0.0.1\nMedia.Example.com ") == ("carrierx.com", "127.0.0.1",
                                                                          "media.example.com")
    with pytest.raises(ValueError, match=r"recording host 'https://x.example' is not a host name"):
        parse_hosts("carrierx.com https://x.example")


async def test_an_unknown_record_step_gets_the_apology_and_an_error_naming_it(host):
    answer = await host.post("/flexml/main-menu/1/nothing/recorded", {**CALL, "RecordingUrl": CARRIER_URL})
    assert b"Sorry" in answer.content
    assert [e.target for e in host.events] == ["flow 'main-menu' revision 1 has no Record step 'nothing'"]


# --- the carrier's token -------------------------------------------------------------------------------

TOKEN = "s3cret-Token_1"


def urls(body: bytes) -> list[str]:
    root = etree.fromstring(body)
    return [el.get(a) for el in root.iter() for a in ("action", "errorAction") if el.get(a)] + \
        [el.text for el in root.iter("Redirect")]


@pytest.fixture
def guarded(host):
    host.table.trust = CarrierTrust(token=TOKEN, required=True)
    return host


@pytest.mark.parametrize("prefix", ["/flexml", "/flexml/~wrong", "/flexml/~" + TOKEN[:-1], "/flexml/~"])
async def test_without_the_right_token_calls_are_answered_but_nothing_is_recorded(guarded, prefix):
    entry = await guarded.post(f"{prefix}/main-menu", CALL)
    assert entry.content == guarded.doc("main-menu", "welcome")  # valid FlexML, the caller is not punished
    assert TOKEN.encode() not in entry.content
    menu = await guarded.post(f"{prefix}/main-menu/1/menu/gather", {**CALL, "Digits": "2"})
    assert b"Record" in menu.content
    await guarded.post(f"{prefix}/main-menu/1/voicemail/recorded", {**CALL, "RecordingUrl": CARRIER_URL})
    await guarded.post(f"{prefix}/status", {**CALL, "CallStatus": "completed", "CallDuration": "30"})
    await guarded.post(prefix, {**CALL})  # the account URL
    assert guarded.events == []
    assert guarded.app.handler.unrecorded == 5


async def test_with_the_token_the_call_is_recorded_and_every_url_it_follows_carries_it(guarded):
    entry = await guarded.post(f"/flexml/~{TOKEN}", CALL)  # the account URL, as bound at the carrier
    assert entry.content != guarded.doc("main-menu", "welcome")
    assert urls(entry.content) and all(u.startswith(f"/flexml/~{TOKEN}/main-menu/1/") for u in urls(entry.content))
    gather = urls(entry.content)[0]
    menu = await guarded.post(gather, {**CALL, "Digits": "2"})
    (record,) = [u for u in urls(menu.content) if u.endswith("/recorded")]
    assert record == f"/flexml/~{TOKEN}/main-menu/1/voicemail/recorded"
    await guarded.post(record, {**CALL, "RecordingUrl": CARRIER_URL, "RecordingDuration": "5"})
    await guarded.post(f"/flexml/~{TOKEN}/status", {**CALL, "CallStatus": "completed"})
    assert [e.kind for e in guarded.events if e.kind != "decision"] == ["document", "router", "recording", "status"]
    assert recordings(guarded)[0].params["RecordingUrl"] == CARRIER_URL
    # stripped of the token, the answers are the documents as compiled
    stripped = re.sub(rb"/flexml/~[^/]+/", b"/flexml/", entry.content)
    assert stripped == guarded.doc("main-menu", "welcome")


async def test_a_token_given_while_none_is_required_is_recorded_and_not_repeated_unless_right(host):
    host.table.trust = CarrierTrust(token=TOKEN, required=False)
    wrong = await host.post("/flexml/~guess/main-menu", CALL)
    assert b"~" not in wrong.content
    right = await host.post(f"/flexml/~{TOKEN}/main-menu", CALL)
    assert f"~{TOKEN}/".encode() in right.content
    assert [e.kind for e in host.events if e.kind != "decision"] == ["document", "document"]


def test_the_token_never_goes_to_another_server():
    body = (b'<Response><Gather action="/flexml/f/1/m/gather"/><Redirect>https://other.example/flexml/x</Redirect>'
            b'<Record action="https://ivr.example.com/flexml/f/1/r/recorded"/></Response>')
    assert with_token(body, "T") == body.replace(b'"/flexml/f/', b'"/flexml/~T/f/')
    assert with_token(body, "T", "https://ivr.example.com") == body.replace(
        b"https://ivr.example.com/flexml/", b"https://ivr.example.com/flexml/~T/")
