"""A whole voicemail call over loopback HTTP: the local carrier sandbox calls the designer's host (a real server
on a port), the simulated caller presses 2 and leaves a message, the host answers the Record's action with
the rest of the flow, the store keeps the voicemail, and its URL plays the sandbox's generated tone."""

from __future__ import annotations

import io
import wave
from types import SimpleNamespace

import httpx
import pytest

from compiler import compile_flow
from compiler.examples import example
from designer.carrier.client import CarrierClient
from designer.host import EventRecorder, FlowTable, create_host_app
from designer.host.trust import CarrierTrust
from designer.sandbox import create_sandbox_app, setup
from designer.sandbox.db import SandboxDB
from designer.sandbox.recordings import RECORDINGS_PATH
from designer.sandbox.server import running
from designer.store import SQLiteStore

LOGIN, PASSWORD = "tester", "s3cret"
DID = "15162065337"
TOKEN = "loopback-token-123"


@pytest.fixture()
def world(tmp_path):
    store = SQLiteStore(tmp_path / "designer.sqlite")
    table = FlowTable()
    table.serve_revision(compile_flow(example("main-menu")))
    table.bind(DID, "main-menu")
    recorder = EventRecorder(store.record_events)
    db = SandboxDB(tmp_path / "sandbox.sqlite")
    setup(db, LOGIN, PASSWORD, dids=[DID])
    with running(create_host_app(table, recorder)) as host, running(create_sandbox_app(db, poll=0.05)) as sandbox:
        with CarrierClient(f"{sandbox}/flexml/v1", LOGIN, PASSWORD) as client:
            yield SimpleNamespace(store=store, table=table, recorder=recorder, host=host, sandbox=sandbox,
                                  client=client)
    store.close()


def call_in(world, account_url: str) -> dict:
    """Point the DID at ``account_url`` and have someone call it, press 2 and speak."""
    (did,) = list(world.client.dids.iterate())
    world.client.dids.patch(did.did_sid, url=account_url, method="POST",
                            status_callback_url=account_url + "/status", status_callback_method="POST")
    answer = httpx.post(f"{world.sandbox}/flexml/v1/sandbox/inbound", auth=(LOGIN, PASSWORD), timeout=30,
                        json={"to": DID, "from": "15557654321", "digits": ["2"]})
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["ok"], result["transcript"]
    world.recorder.flush()
    return result


def test_a_message_left_through_the_sandbox_lands_in_the_inbox_and_plays(world):
    result = call_in(world, f"{world.host}/flexml")
    assert "Please leave a message after the beep." in result["transcript"]
    assert "Thank you. Goodbye." in result["transcript"]  # the rest of the flow, in the Record action's answer
    (message,) = world.store.voicemails()
    assert (message.flow_id, message.node, message.caller, message.called) == ("main-menu", "voicemail",
                                                                               "15557654321", DID)
    assert message.url.startswith(world.sandbox + RECORDINGS_PATH + "/") and message.duration == 8
    # what the host was asked: the call's start, the menu's keys, the recording; no Redirect in between
    events = world.store.call_events(message.call_sid)
    assert [e.kind for e in events if e.kind not in ("decision", "status")] == ["document", "router", "recording"]
    assert [e.params.get("CallStatus") for e in events if e.kind == "status"] == ["completed"]
    played = httpx.get(message.url, timeout=10)
    assert played.status_code == 200 and played.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(played.content)) as audio:
        assert audio.getnframes() / audio.getframerate() == pytest.approx(0.4)


def test_with_the_token_required_only_the_tokened_url_leaves_a_message(world):
    world.table.trust = CarrierTrust(token=TOKEN, required=True)
    result = call_in(world, f"{world.host}/flexml")
    assert "Thank you. Goodbye." in result["transcript"]  # answered all the same
    assert world.store.voicemails() == [] and world.store.recent_calls() == []
    call_in(world, f"{world.host}/flexml/~{TOKEN}")
    (message,) = world.store.voicemails()
    assert [e.kind for e in world.store.call_events(message.call_sid) if e.kind != "decision"] == [
        "document", "router", "recording", "status"]


def test_a_recording_url_that_is_no_sandbox_recording_is_not_found(world):
    answer = httpx.get(f"{world.sandbox}{RECORDINGS_PATH}/not-a-recording.wav", timeout=10)
    assert answer.status_code == 404
    assert "is not a recording of this sandbox" in answer.json()["errors"][0]["message"]


async def test_the_simulator_over_loopback_costs_one_fetch_for_the_recording(world):
    """Entry, the menu's keys, the recording: three fetches, the answer to the last the rest of the flow."""
    from designer.simulator import simulate_call
    from designer.simulator.callers import ScriptedCaller

    result = await simulate_call(f"{world.host}/flexml", to=DID, from_="15557654321",
                                 caller=ScriptedCaller(digits=["2"], record_seconds=5),
                                 recordings_url=world.sandbox + RECORDINGS_PATH)
    assert result.ok and result.fetches == 3, result.transcript()
    assert result.said()[-1] == "Thank you. Goodbye."
    world.recorder.flush()
    (message,) = world.store.voicemails()
    assert message.duration == 5 and message.call_sid == result.call_sid
