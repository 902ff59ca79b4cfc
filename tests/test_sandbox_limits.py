"""Bad input the sandbox cannot store gets 400 with the reference's error body, never a 500 or a traceback:
numbers past SQLite's range (offset, filters, fields), bodies nested too deep, bodies too large."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import httpx
import pytest

from designer.sandbox import create_sandbox_app, setup
from designer.sandbox.body import MAX_BODY, MAX_DEPTH
from designer.sandbox.db import SandboxDB
from designer.sandbox.server import running

LOGIN, PASSWORD = "tester", "s3cret"
HUGE = "1" * 30  # a 30-digit number


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    db = SandboxDB(tmp_path_factory.mktemp("limits") / "sandbox.sqlite")
    setup(db, LOGIN, PASSWORD, dids=["15551230001", "15551230002"])
    with running(create_sandbox_app(db, poll=0.1)) as url:
        with httpx.Client(base_url=f"{url}/flexml/v1", auth=(LOGIN, PASSWORD), timeout=30) as client:
            did = client.get("/dids").json()["items"][0]["did_sid"]
            yield SimpleNamespace(client=client, did=did)


@pytest.fixture(autouse=True)
def no_server_errors(caplog):
    caplog.set_level(logging.ERROR, logger="flexml.sandbox")
    yield
    assert [r for r in caplog.get_records("call") if r.name.startswith("flexml.sandbox")] == []  # no traceback


def refused(response: httpx.Response, message: str, field: str | None, says: str) -> None:
    """400 with ``{"message": message, "errors": [{"field": field, "message": …says…}]}``."""
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert body["message"] == message
    assert [e["field"] for e in body["errors"]] == [field]
    assert says in body["errors"][0]["message"], body
    assert "Traceback" not in response.text


@pytest.mark.parametrize("name, value", [("offset", str(2**63)), ("offset", HUGE), ("limit", str(2**63))])
def test_an_offset_or_limit_past_any_page_is_refused(sandbox, name, value):
    refused(sandbox.client.get("/dids", params={name: value}), "Bad request", name, f"{name} must be")


@pytest.mark.parametrize("text", [f"delay gt {HUGE}", f"delay in (1, {HUGE})", f"delay eq -{HUGE}"])
def test_a_filter_number_past_sqlites_range_is_refused(sandbox, text):
    refused(sandbox.client.get("/calls", params={"filter": text}), "Bad request", "filter", "out of range")


def test_a_number_in_range_still_filters(sandbox):
    response = sandbox.client.get("/calls", params={"filter": f"delay gt {2**63 - 1}", "offset": str(2**62)})
    assert response.status_code == 200 and response.json()["items"] == []


def test_a_huge_number_in_a_body_is_refused_naming_the_field(sandbox):
    response = sandbox.client.patch(f"/dids/{sandbox.did}", content=f'{{"attributes": {{"n": {HUGE}}}}}',
                                    headers={"content-type": "application/json"})
    refused(response, "Bad request", "attributes", "out of range")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])  # the second breaks Python's own json parser
def test_a_deeply_nested_body_is_refused(sandbox, depth):
    text = '{"url": ' + "[" * depth + "]" * depth + "}"
    response = sandbox.client.patch(f"/dids/{sandbox.did}", content=text, headers={"content-type": "application/json"})
    refused(response, "Bad request", "url" if depth < 1000 else None, "nested more than")


def test_a_body_nested_within_the_cap_is_judged_as_usual(sandbox):
    inner = json.dumps({"a": {"b": {"c": [1, 2, 3]}}})
    response = sandbox.client.patch(f"/dids/{sandbox.did}", content='{"url": ' + inner + "}",
                                    headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["message"] == "Object validation error"


def test_a_20_mb_field_is_refused_without_being_read_whole(sandbox):
    body = json.dumps({"url": "http://example.com/" + "x" * (20 << 20)}).encode()
    refused(sandbox.client.patch(f"/dids/{sandbox.did}", content=body, headers={"content-type": "application/json"}),
            "Bad request", None, f"larger than {MAX_BODY} bytes")


def test_a_large_body_sent_in_chunks_without_a_length_is_refused(sandbox):
    def chunks():
        yield b'{"url": "http://example.com/'
        for _ in range(40):
            yield b"x" * 65536
        yield b'"}'

    response = sandbox.client.patch(f"/dids/{sandbox.did}", content=chunks(),
                                    headers={"content-type": "application/json"})
    refused(response, "Bad request", None, "larger than")
    assert sandbox.client.get(f"/dids/{sandbox.did}").status_code == 200  # and the sandbox goes on answering


@pytest.mark.parametrize("body, field", [
    ({"digits": "x"}, "digits"), ({"digits": [{"a": 1}]}, "digits"), ({"digits": ["1", "12a"]}, "digits"),
    ({"digits": ["1"], "dial_outcome": "maybe"}, "dial_outcome"),
])
def test_an_inbound_call_with_keys_that_are_not_phone_keys_is_refused(sandbox, body, field):
    # attack: these answered 200 "the call could not be played: ValueError …" and logged a traceback
    sandbox.client.patch(f"/dids/{sandbox.did}", json={"url": "http://127.0.0.1:9/flexml"})
    number = sandbox.client.get(f"/dids/{sandbox.did}").json()["phonenumber"]
    refused(sandbox.client.post("/sandbox/inbound", json={"to": number, **body}),
            "Object validation error", field, field)


def test_a_scheduled_call_with_bad_sandbox_digits_fails_with_a_reason_and_no_traceback(sandbox):
    call = sandbox.client.post("/calls", json={
        "calling_did": "15551230001", "called_did": "15551239999", "url": "http://127.0.0.1:9/flexml",
        "attributes": {"sandbox_digits": "1,x"}}).json()
    import time
    for _ in range(100):
        played = sandbox.client.get(f"/sandbox/calls/{call['call_sid']}").json()
        if played["state"] == "done":
            break
        time.sleep(0.1)
    assert played["state"] == "done" and played["result"]["ok"] is False
    assert played["result"]["reason"].startswith("the call's script cannot be played: digits[1]: 'x'")
