"""The designer's carrier actions end to end: the designer's host and the carrier sandbox, both on loopback.

A flow is published in the designer, a sandbox DID is bound to it from the
designer's side, and a simulated call to that DID (or a "call me" call)
plays the hosted flow; the host records the call and its status callback.
"""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from capture_server import capture_server

from designer.carrier import service as cs
from designer import services
from designer.carrier.client import CarrierClient
from designer.context import AppContext
from designer.host import EventRecorder, FlowTable, create_host_app
from designer.sandbox import create_sandbox_app, setup
from designer.sandbox.db import SandboxDB
from designer.sandbox.server import free_port, running
from designer.services import ServiceError
from designer.store import SQLiteStore

LOGIN, PASSWORD = "designer", "pw"
SALES, SUPPORT = "15551230001", "15551230002"


@pytest.fixture()
def world(tmp_path):
    store = SQLiteStore(tmp_path / "designer.sqlite")
    recorder = EventRecorder(store.record_events, interval=0.02)
    table = FlowTable()
    sandbox_db = SandboxDB(tmp_path / "sandbox.sqlite")
    setup(sandbox_db, LOGIN, PASSWORD, dids=[SALES, SUPPORT])
    with running(create_host_app(table, on_event=recorder)) as host, \
            running(create_sandbox_app(sandbox_db, poll=0.05)) as sandbox:
        ctx = AppContext(store=store, table=table, public_url=host, recorder=recorder)
        flow = services.create_from_example(ctx, "main-menu").id
        services.publish(ctx, flow)
        with CarrierClient(f"{sandbox}/flexml/v1", LOGIN, PASSWORD) as carrier:
            yield SimpleNamespace(ctx=ctx, store=store, recorder=recorder, host=host, flow=flow,
                                  sandbox=f"{sandbox}/flexml/v1", carrier=carrier)
    recorder.close()


def configure(world) -> None:
    cs.save_carrier_settings(world.ctx, world.sandbox + "/", LOGIN, PASSWORD)


def sid_of(world, number: str) -> str:
    return world.carrier.dids.list(filter=f'phonenumber eq "{number}"').items[0].did_sid


def test_settings_are_stored_and_checked(world):
    with pytest.raises(ServiceError, match="the carrier is not set up yet"):
        cs.check_connection(world.ctx)
    with pytest.raises(ServiceError, match=r"carrier API address 'api\.example' is not a web address"):
        cs.save_carrier_settings(world.ctx, "api.example", LOGIN, PASSWORD)
    with pytest.raises(ServiceError, match="enter the FlexML endpoint's password"):
        cs.save_carrier_settings(world.ctx, world.sandbox, LOGIN, "")
    configure(world)
    assert cs.carrier_settings(world.ctx) == cs.CarrierSettings(world.sandbox, LOGIN, PASSWORD,
                                                                password_address=world.sandbox)
    assert world.store.get_setting("carrier_login") == LOGIN
    assert cs.check_connection(world.ctx) == (
        f"Connected to {world.sandbox} as {LOGIN}: account 'sandbox', 2 number(s).")


def test_the_carrier_password_is_stored_encrypted_with_its_key_beside_the_database(world):
    # a secret with characters no token can hold (tokens are URL-safe base64), so finding it means it leaked;
    # the sandbox's two-letter password could turn up in a random token by chance
    secret = "open sesame, not stored!"
    cs.save_carrier_settings(world.ctx, world.sandbox, LOGIN, secret)
    stored = world.store.get_setting("carrier_password")
    assert stored.startswith("fernet:") and secret not in stored
    key = Path(world.store.path + ".key")
    assert key.stat().st_mode & 0o777 == 0o600
    assert secret.encode() not in Path(world.store.path).read_bytes() + Path(world.store.path + "-wal").read_bytes()
    assert cs.carrier_settings(world.ctx).password == secret
    configure(world)
    # an empty password field keeps the saved one
    cs.save_carrier_settings(world.ctx, world.sandbox, "designer", "")
    assert cs.carrier_settings(world.ctx).password == PASSWORD
    assert cs.check_connection(world.ctx).startswith("Connected")
    # without its key file, the saved password cannot be read: said plainly, never a wrong password sent
    key.rename(key.with_suffix(".moved"))
    settings = cs.carrier_settings(world.ctx)
    assert settings.unreadable and settings.password == ""
    with pytest.raises(ServiceError, match="the saved carrier password cannot be read on this machine"):
        cs.check_connection(world.ctx)
    with pytest.raises(ServiceError, match="the saved password cannot be read .* enter the password again"):
        cs.save_carrier_settings(world.ctx, world.sandbox, LOGIN, "")
    cs.save_carrier_settings(world.ctx, world.sandbox, LOGIN, PASSWORD)  # typed again: a new key
    assert key.exists() and cs.check_connection(world.ctx).startswith("Connected")


def test_a_password_saved_in_plain_text_by_an_earlier_version_is_sealed_when_read(world):
    configure(world)
    world.store.set_setting("carrier_password", PASSWORD)
    assert cs.carrier_settings(world.ctx).password == PASSWORD
    assert world.store.get_setting("carrier_password").startswith("fernet:")
    assert cs.carrier_settings(world.ctx).password == PASSWORD


def test_connection_failures_read_plainly(world):
    cs.save_carrier_settings(world.ctx, world.sandbox, LOGIN, "wrong")
    with pytest.raises(ServiceError, match=r"^carrier: bad credentials: the carrier refused login 'designer'"):
        cs.check_connection(world.ctx)
    port = free_port()
    cs.save_carrier_settings(world.ctx, f"http://127.0.0.1:{port}/flexml/v1", LOGIN, PASSWORD)
    with pytest.raises(ServiceError, match=rf"^carrier: cannot connect to http://127.0.0.1:{port}/flexml/v1"):
        cs.check_connection(world.ctx)


def test_binding_a_did_points_it_at_the_host_and_binds_it_here(world):
    configure(world)
    before = {n.number: n for n in cs.carrier_numbers(world.ctx)}
    assert set(before) == {SALES, SUPPORT}
    assert before[SALES].flow_id is None and not before[SALES].points_here
    assert before[SALES].display == "+1 555 123 0001"

    did = cs.bind_did_at_carrier(world.ctx, sid_of(world, SALES), world.flow)
    at_carrier = world.carrier.dids.get(did.did_sid)
    assert (at_carrier.url, at_carrier.method, at_carrier.status_callback_url, at_carrier.status_callback_method) == (
        f"{world.host}/flexml", "POST", f"{world.host}/flexml/status", "POST")
    assert world.store.dids() == {SALES: world.flow}
    assert world.ctx.table.flow_for_number(SALES) == world.flow
    after = {n.number: n for n in cs.carrier_numbers(world.ctx)}
    assert (after[SALES].flow_id, after[SALES].points_here) == (world.flow, True)

    direct = cs.bind_did_at_carrier(world.ctx, sid_of(world, SUPPORT), world.flow, direct=True)
    assert direct.url == f"{world.host}/flexml/{world.flow}"

    cs.unbind_did_at_carrier(world.ctx, sid_of(world, SALES))
    assert world.carrier.dids.get(did.did_sid).url is None
    assert world.store.dids() == {SUPPORT: world.flow}


def test_binding_refuses_unknown_flows_and_dids(world):
    configure(world)
    with pytest.raises(ServiceError, match=r"flow 'nope' does not exist"):
        cs.bind_did_at_carrier(world.ctx, sid_of(world, SALES), "nope")
    with pytest.raises(ServiceError, match=r"^carrier: unknown SID 0000: no did has the SID '0000'"):
        cs.bind_did_at_carrier(world.ctx, "0000", world.flow)
    assert world.store.dids() == {}


def wait_for_status(world, timeout: float = 20.0) -> list[dict]:
    """Calls the host has recorded with their status callback."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        world.recorder.flush()
        calls = [c for c in world.store.recent_calls() if c["status"]]
        if calls:
            return calls
        time.sleep(0.05)
    raise AssertionError(f"no status callback reached the host: {world.store.recent_calls()}")


def test_an_inbound_call_to_a_bound_did_plays_the_hosted_flow(world):
    configure(world)
    cs.bind_did_at_carrier(world.ctx, sid_of(world, SALES), world.flow)
    result = world.carrier.sandbox.inbound("+1 555 123 0001", from_="15557654321", digits=["2"])
    transcript = result["transcript"]
    assert result["ok"], transcript
    assert result["url"] == f"{world.host}/flexml"
    assert "Thank you for calling Acme." in transcript
    assert "Please leave a message after the beep." in transcript  # key 2: voicemail
    assert "Thank you. Goodbye." in transcript and "Connecting" not in transcript
    calls = wait_for_status(world)
    assert len(calls) == 1 and calls[0]["flow_id"] == world.flow and calls[0]["status"] == "completed"
    assert calls[0]["from"] == "15557654321" and calls[0]["to"] == SALES
    assert calls[0]["call_sid"] == result["call_sid"]
    events = [(e.kind, e.target, e.digits) for e in world.store.call_events(calls[0]["call_sid"])]
    # the example's business-hours step is decided in the first answer (open: the menu), and recorded
    assert events[:3] == [("decision", "hours", None), ("document", "welcome", None), ("router", "menu", "2")]


def test_an_unbound_did_gets_the_hosts_apology(world):
    configure(world)
    cs.bind_did_at_carrier(world.ctx, sid_of(world, SALES), world.flow)
    services.unbind_number(world.ctx, SALES)  # unbound here, still pointing here at the carrier
    result = world.carrier.sandbox.inbound(SALES, digits=["1"])
    assert "Thank you for calling Acme." not in result["transcript"]
    assert "Sorry, we cannot take your call right now." in result["transcript"]


def test_call_me_places_an_outbound_call_that_plays_the_flow(world):
    configure(world)
    with pytest.raises(ServiceError, match=r"is not a phone number"):
        cs.place_call(world.ctx, world.flow, "call me maybe")
    cs.bind_did_at_carrier(world.ctx, sid_of(world, SUPPORT), world.flow)
    call = cs.place_call(world.ctx, world.flow, "+1 (555) 987-6543")
    assert (call.calling_did, call.called_did, call.url, call.status_callback_url) == (
        SUPPORT, "15559876543", f"{world.host}/flexml/{world.flow}", f"{world.host}/flexml/status")
    calls = wait_for_status(world)
    assert calls[0]["flow_id"] == world.flow and calls[0]["to"] == "15559876543"
    assert calls[0]["call_sid"] == call.call_sid  # the host logs the call under the carrier's SID
    played = world.carrier.sandbox.call(call.call_sid)
    assert played["state"] == "done" and "Thank you for calling Acme." in played["result"]["transcript"]


def test_call_me_needs_a_published_flow(world):
    configure(world)
    draft = services.create_blank(world.ctx, "Draft only").id
    with pytest.raises(ServiceError, match=r"flow 'draft-only' is not published yet"):
        cs.place_call(world.ctx, draft, "15559876543")


def test_the_saved_password_is_never_sent_to_a_changed_api_address(world):
    configure(world)
    with capture_server() as (elsewhere, seen):
        # the attack: point the API address at another server, leave the password empty, test the connection
        with pytest.raises(ServiceError, match="re-enter the password for the new address " + re.escape(elsewhere)):
            cs.save_carrier_settings(world.ctx, elsewhere, LOGIN, "")
        assert cs.carrier_settings(world.ctx).base_url == world.sandbox  # nothing changed
        # even with the address changed in the store directly, the password stays with its own address
        world.store.set_setting(cs.BASE_URL_SETTING, elsewhere)
        with pytest.raises(ServiceError, match="re-enter the password for the new address"):
            cs.check_connection(world.ctx)
        assert not any("authorization" in {k.lower() for k in headers} for _, _, headers in seen)
        assert seen == []
        # entering the password for the new address is what sends it there
        cs.save_carrier_settings(world.ctx, elsewhere, LOGIN, "for elsewhere")
        with contextlib.suppress(ServiceError):  # (what the stand-in answers is beside the point)
            cs.check_connection(world.ctx)
        assert seen and all("authorization" in {k.lower() for k in headers} for _, _, headers in seen)
    # and going back to the sandbox needs the sandbox's password again
    with pytest.raises(ServiceError, match="re-enter the password"):
        cs.save_carrier_settings(world.ctx, world.sandbox, LOGIN, "")
    cs.save_carrier_settings(world.ctx, world.sandbox, LOGIN, PASSWORD)
    assert "Connected to" in cs.check_connection(world.ctx)


def test_a_password_saved_before_it_was_tied_to_an_address_belongs_to_the_address_saved_with_it(world):
    configure(world)
    world.store._write("DELETE FROM settings WHERE key = ?", (cs.PASSWORD_ADDRESS_SETTING,))
    assert cs.carrier_settings(world.ctx).password_address == world.sandbox
    assert "Connected to" in cs.check_connection(world.ctx)


@contextlib.contextmanager
def carrier_paging_to(next_url: str):
    """A loopback stand-in carrier whose first page of DIDs says the next page is at ``next_url``."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            body = json.dumps({"items": [{"did_sid": "d1", "phonenumber": SALES}], "count": 1, "total": 2,
                               "has_more": True, "limit": 1, "offset": 0,
                               "pagination": {"next": next_url}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/flexml/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_a_next_page_link_to_another_address_is_not_followed_with_the_password(world):
    # attack: the password is tied to the API address, but a list's pagination.next is an absolute URL
    # from the answer; one pointing at another server got the carrier login and password
    with capture_server() as (elsewhere, seen):
        with carrier_paging_to(f"{elsewhere}/dids?offset=1") as carrier:
            cs.save_carrier_settings(world.ctx, carrier, LOGIN, PASSWORD)
            with pytest.raises(ServiceError, match="another address"):
                cs.carrier_numbers(world.ctx)
        assert seen == []
    # a next page at the carrier's own address is followed as before
    assert len(list(world.carrier.dids.iterate(limit=1))) == 2
