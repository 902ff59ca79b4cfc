"""Calls at the sandbox: create, list, PATCH/PUT/DELETE; playing them with the call simulator; inbound calls.

The FlexML server the calls reach is a small app on loopback that answers
fixed FlexML and records every request it gets (what a customer's server
would see); the designer's own host is used in test_carrier_service.py.
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from designer.carrier.client import CarrierClient, CarrierError, to_json
from designer.sandbox import create_sandbox_app, setup
from designer.sandbox.db import SandboxDB
from designer.sandbox.server import running

LOGIN, PASSWORD = "tester", "s3cret"
OURS, OTHER = "15551230001", "15551230002"

ANSWER = b"""<Response>
  <Gather action="/menu" numDigits="1" timeout="3"><Say>Press 1 for sales.</Say></Gather>
  <Say>Goodbye.</Say>
</Response>"""
MENU = b"<Response><Say>Connecting you to sales.</Say><Hangup/></Response>"


def flexml_server():
    """A FlexML server that records (method, path, fields) of every request."""
    seen: list[tuple[str, str, dict]] = []

    async def record(request: Request) -> Response:
        body = await request.body()
        fields = json.loads(body) if body else dict(request.query_params)
        seen.append((request.method, request.url.path, fields))
        if request.url.path == "/status":
            return Response(b"", status_code=204)
        return Response(MENU if request.url.path == "/menu" else ANSWER, media_type="application/xml")

    app = Starlette(routes=[Route(p, record, methods=["GET", "POST"]) for p in ("/answer", "/menu", "/status")])
    return app, seen


@pytest.fixture()
def world(tmp_path):
    db = SandboxDB(tmp_path / "sandbox.sqlite")
    account = setup(db, LOGIN, PASSWORD, dids=[OURS, OTHER])
    app, seen = flexml_server()
    with running(app) as server, running(create_sandbox_app(db, poll=0.05)) as sandbox:
        with CarrierClient(f"{sandbox}/flexml/v1", LOGIN, PASSWORD) as client:
            yield SimpleNamespace(client=client, server=server, seen=seen, account=account, db=db)


def wait_played(client: CarrierClient, sid: str, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        record = client.sandbox.call(sid)
        if record["state"] == "done":
            return record["result"]
        time.sleep(0.05)
    raise AssertionError(f"call {sid} was not played: {client.sandbox.call(sid)}")


def did(client: CarrierClient, number: str):
    return client.dids.list(filter=f'phonenumber eq "{number}"').items[0]


# --- the Call object ----------------------------------------------------------------------------


def test_a_scheduled_call_is_listed_and_can_be_changed_and_deleted(world):
    c = world.client
    call = c.calls.create(calling_did=OURS, called_did="+1 (555) 999-0000", delay=3600,
                          attributes={"cnam": "Acme"})
    assert set(call.raw) == {"account_sid", "attributes", "call_sid", "called_did", "calling_did", "date_created",
                             "delay", "method", "status_callback_method", "status_callback_url", "url"}
    assert (call.called_did, call.calling_did, call.delay, call.method, call.attributes) == (
        "15559990000", OURS, 3600, "POST", {"cnam": "Acme"})
    assert call.account_sid == world.account["account_sid"]
    page = c.calls.list()
    assert [x.call_sid for x in page.items] == [call.call_sid] and page.total == 1
    assert 3590 < c.calls.get(call.call_sid).delay <= 3600  # the seconds still to wait
    assert c.calls.list(filter="delay gt 3000").total == 1
    assert c.calls.list(filter="delay lt 3000").total == 0

    later = c.calls.patch(call.call_sid, delay=7200, url=f"{world.server}/answer")
    assert 7190 < later.delay <= 7200 and later.url == f"{world.server}/answer"
    whole = c.calls.get(call.call_sid)
    whole.called_did, whole.status_callback_method = "15559990001", "GET"
    put = c.calls.put(call.call_sid, whole)
    assert (put.called_did, put.status_callback_method) == ("15559990001", "GET")
    with pytest.raises(CarrierError, match=r"^invalid field call_sid: call_sid cannot be changed"):
        c.calls.patch(call.call_sid, call_sid="mine")
    whole.date_created = "2018-10-16T21:56:49.000Z"
    with pytest.raises(CarrierError, match=r"^invalid field date_created"):
        c.calls.put(call.call_sid, whole)
    body = to_json(c.calls.get(call.call_sid))
    del body["attributes"], body["method"]
    with pytest.raises(CarrierError, match=r"^object validation error: missing") as exc:
        c.calls.put(call.call_sid, body)
    assert sorted(exc.value.fields) == ["attributes", "method"]

    assert c.calls.delete(call.call_sid) is None
    assert c.calls.list().total == 0
    with pytest.raises(CarrierError, match=rf"^unknown SID {call.call_sid}"):
        c.calls.get(call.call_sid)


def test_calls_are_ordered_and_paginated_like_the_other_lists(world):
    c = world.client
    sids = [c.calls.create(calling_did=OURS, called_did=f"1555999000{i}", delay=1000 * (i + 1)).call_sid
            for i in range(4)]
    assert [x.call_sid for x in c.calls.list(order="delay desc").items] == sids[::-1]
    page = c.calls.list(limit=3)
    assert (page.count, page.total, page.has_more) == (3, 4, True)
    assert [x.call_sid for x in c.calls.iterate(limit=3)] == sids
    assert [x.called_did for x in c.calls.list(filter='called_did in ("15559990001", "15559990003")').items] == [
        "15559990001", "15559990003"]
    assert set(c.calls.list(include_fields="call_sid,delay").items[0].raw) == {"call_sid", "delay"}


@pytest.mark.parametrize("body, message", [
    ({"calling_did": OURS}, r"^object validation error: called_did is required"),
    ({"calling_did": "15550000009", "called_did": "1555"}, r"^object validation error: calling_did 15550000009 "
                                                             r"is not one of this endpoint's DIDs"),
    ({"calling_did": OURS, "called_did": "1555", "colour": "red"}, r"^invalid field colour"),
    ({"calling_did": OURS, "called_did": "1555", "call_sid": "x"}, r"^invalid field call_sid: call_sid is set by"),
    ({"calling_did": OURS, "called_did": "1555", "delay": -5}, r"^object validation error: delay must be a whole"),
    ({"calling_did": OURS, "called_did": "1555", "attributes": "cnam"}, r"^object validation error: attributes"),
    ({"calling_did": OURS, "called_did": "1555", "method": "PUT"}, r"^object validation error: method must be"),
])
def test_creating_a_call_checks_its_fields(world, body, message):
    with pytest.raises(CarrierError, match=message) as exc:
        world.client.request("POST", "/calls", json=body)
    assert exc.value.status == 400
    assert world.client.calls.list().total == 0


# --- playing calls ------------------------------------------------------------------------------


def test_a_call_is_played_against_its_url_and_its_status_callback_sent(world):
    c = world.client
    call = c.calls.create(calling_did=OURS, called_did="15559990000", url=f"{world.server}/answer",
                          status_callback_url=f"{world.server}/status", attributes={"sandbox_digits": "1"})
    result = wait_played(c, call.call_sid)
    assert result["ok"], result["transcript"]
    assert "Press 1 for sales." in result["transcript"] and "Connecting you to sales." in result["transcript"]
    assert c.calls.list().total == 0  # played calls are no longer listed
    with pytest.raises(CarrierError, match=r"^unknown SID"):
        c.calls.get(call.call_sid)
    (m1, p1, first), (m2, p2, menu), (m3, p3, status) = world.seen
    assert (m1, p1, first["From"], first["To"], first["Direction"], first["CallSid"]) == (
        "POST", "/answer", OURS, "15559990000", "outbound-api", call.call_sid)
    assert (m2, p2, menu.get("Digits", menu.get("digits"))) == ("POST", "/menu", "1")
    assert (m3, p3, status["CallStatus"], status["RequestUrl"], status["CallSid"]) == (
        "POST", "/status", "completed", f"{world.server}/answer", call.call_sid)
    assert int(status["CallDuration"]) > 0


def test_a_delayed_call_is_listed_until_it_is_played(world):
    c = world.client
    call = c.calls.create(calling_did=OURS, called_did="15559990000", url=f"{world.server}/answer", delay=2)
    assert [x.call_sid for x in c.calls.list().items] == [call.call_sid]
    assert world.seen == []  # not yet
    result = wait_played(c, call.call_sid)
    assert "Goodbye." in result["transcript"]  # nobody pressed a key
    assert c.calls.list().total == 0 and [p for _, p, _ in world.seen] == ["/answer"]


def test_a_call_without_url_uses_the_calling_dids_url_and_method(world):
    c = world.client
    number = did(c, OURS)
    c.dids.patch(number.did_sid, url=f"{world.server}/answer", method="GET",
                 status_callback_url=f"{world.server}/status", status_callback_method="GET")
    call = c.calls.create(calling_did=OURS, called_did="15559990000")
    result = wait_played(c, call.call_sid)
    assert result["url"] == f"{world.server}/answer" and result["method"] == "GET"
    (m1, p1, fields), *_, (ms, ps, status) = world.seen
    assert (m1, p1, fields["To"]) == ("GET", "/answer", "15559990000")  # GET: query parameters
    assert (ms, ps, status["CallStatus"]) == ("GET", "/status", "completed")


def test_without_call_or_did_url_the_account_url_is_used_and_without_any_the_call_fails(world):
    c = world.client
    call = c.calls.create(calling_did=OURS, called_did="15559990000")
    result = wait_played(c, call.call_sid)
    assert not result["ok"] and "no url" in result["reason"]
    c.accounts.patch(world.account["account_sid"], url=f"{world.server}/answer")
    call = c.calls.create(calling_did=OURS, called_did="15559990000")
    assert wait_played(c, call.call_sid)["url"] == f"{world.server}/answer"
    assert [p for _, p, _ in world.seen] == ["/answer"]


# --- inbound calls (sandbox only) ---------------------------------------------------------------


def test_an_inbound_call_uses_the_dids_url(world):
    c = world.client
    c.dids.patch(did(c, OURS).did_sid, url=f"{world.server}/answer",
                 status_callback_url=f"{world.server}/status")
    result = c.sandbox.inbound("+1 555 123 0001", from_="15557654321", digits=["1"])
    assert result["ok"] and result["url"] == f"{world.server}/answer" and result["direction"] == "inbound"
    assert "Connecting you to sales." in result["transcript"]
    (_, _, first), _, (_, path, status) = world.seen
    assert (first["From"], first["To"], first["Direction"]) == ("15557654321", OURS, "inbound")
    assert (path, status["CallStatus"]) == ("/status", "completed")


def test_an_inbound_call_falls_back_to_the_account_url_and_method(world):
    c = world.client
    c.accounts.patch(world.account["account_sid"], url=f"{world.server}/answer", method="GET")
    result = c.sandbox.inbound(OTHER)
    assert (result["url"], result["method"]) == (f"{world.server}/answer", "GET")
    assert "Goodbye." in result["transcript"]
    assert [(m, p) for m, p, _ in world.seen] == [("GET", "/answer")]


def test_an_inbound_call_to_an_unknown_or_unconfigured_number_says_why(world):
    with pytest.raises(CarrierError, match=r"'15550000000' is not one of this endpoint's DIDs") as exc:
        world.client.sandbox.inbound("15550000000")
    assert exc.value.status == 404
    with pytest.raises(CarrierError, match=r"^object validation error: DID 15551230002 has no url and neither"):
        world.client.sandbox.inbound(OTHER)


def test_numeric_comparisons_on_delay(world):
    c = world.client
    for delay in (1000, 2000, 3000, 4000):
        c.calls.create(calling_did=OURS, called_did=f"1555999{delay}", delay=delay)
    called = lambda expression: [x.called_did for x in c.calls.list(filter=expression).items]  # noqa: E731
    assert called("delay gt 3500") == ["15559994000"]
    assert called("delay ge 2500") == ["15559993000", "15559994000"]
    assert called("delay lt 1500") == ["15559991000"]
    assert called("delay le 2500 and delay gt 1500") == ["15559992000"]
    with pytest.raises(CarrierError, match=r"delay is a number; 'soon' is not"):
        c.calls.list(filter='delay gt "soon"')


def test_a_call_interrupted_by_a_restart_ends_as_failed_and_is_not_replayed(tmp_path):
    db = SandboxDB(tmp_path / "sandbox.sqlite")
    account = setup(db, LOGIN, PASSWORD, dids=[OURS])
    call = db.create_call(account["account_sid"], {"calling_did": OURS, "called_did": "15559990000"})
    assert [c["call_sid"] for c in db.take_due_calls()] == [call["call_sid"]]  # playing when the sandbox stopped
    db.close()
    db = SandboxDB(tmp_path / "sandbox.sqlite")
    with running(create_sandbox_app(db, poll=0.05)) as sandbox:
        with CarrierClient(f"{sandbox}/flexml/v1", LOGIN, PASSWORD) as client:
            record = client.sandbox.call(call["call_sid"])
    assert record["state"] == "done"
    assert record["result"]["reason"] == "the sandbox stopped while the call was playing"
