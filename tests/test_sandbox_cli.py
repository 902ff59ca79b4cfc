"""``flexml-designer sandbox`` as a real process: prints its URL and credentials, serves the API, keeps its data."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from designer.carrier.client import CarrierClient, CarrierError
from designer.sandbox.server import free_port


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "designer", "sandbox", *args]


def environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}


def start(*args: str) -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen(command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=environment())
    printed: dict[str, str] = {}
    for line in proc.stdout:
        if line.startswith("FlexML REST API sandbox at "):
            printed["url"] = line.split(" at ", 1)[1].strip()
        elif ":" in line and line.startswith("  "):
            key, _, value = line.strip().partition(":")
            printed[key] = value.strip()
        if "sandbox only" in printed:
            break
    return proc, printed


def answering(client: CarrierClient, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return client.accounts.list()
        except CarrierError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_sandbox_prints_credentials_and_serves_the_api(tmp_path):
    db = tmp_path / "sandbox.sqlite"
    port = free_port()
    proc, printed = start("--port", str(port), "--db", str(db))
    try:
        assert printed["url"] == f"http://127.0.0.1:{port}/flexml/v1"
        assert printed["DIDs"] == "15551230001, 15551230002, 15551230003"
        with CarrierClient(printed["url"], printed["login"], printed["password"]) as client:
            account = answering(client).items[0]
            assert (account.login, account.account_sid) == (printed["login"], printed["account"])
            assert [d.phonenumber for d in client.dids.iterate()] == ["15551230001", "15551230002", "15551230003"]
            client.dids.patch(client.dids.list().items[0].did_sid, url="http://127.0.0.1:9/flexml")
    finally:
        stop(proc)
    # a second start keeps the account, its credentials and the change; new DIDs are added
    port = free_port()
    proc, again = start("--port", str(port), "--db", str(db), "--dids", "+1 (555) 123-0009")
    try:
        assert (again["login"], again["password"], again["account"]) == (
            printed["login"], printed["password"], printed["account"])
        with CarrierClient(again["url"], again["login"], again["password"]) as client:
            answering(client)
            dids = list(client.dids.iterate())
            assert [d.phonenumber for d in dids] == ["15551230001", "15551230002", "15551230003", "15551230009"]
            assert dids[0].url == "http://127.0.0.1:9/flexml"
    finally:
        stop(proc)


def test_sandbox_takes_the_credentials_it_is_given(tmp_path):
    port = free_port()
    proc, printed = start("--port", str(port), "--db", str(tmp_path / "s.sqlite"), "--login", "acme",
                          "--password", "pw-1", "--dids", "15165550100,15165550101")
    try:
        assert (printed["login"], printed["password"]) == ("acme", "pw-1")
        with CarrierClient(printed["url"], "acme", "pw-1") as client:
            answering(client)
            assert client.dids.list().total == 2
        with CarrierClient(printed["url"], "acme", "wrong") as client:
            with pytest.raises(CarrierError, match="^bad credentials"):
                client.dids.list()
    finally:
        stop(proc)


@pytest.mark.parametrize("args, message", [
    (["--dids", "1555,abc"], "flexml-designer sandbox: --dids: 'abc' is not a phone number"),
    (["--port", "70000"], "flexml-designer sandbox: --port 70000: must be between 1 and 65535"),
])
def test_bad_arguments_give_one_line_and_exit_1(tmp_path, args, message):
    done = subprocess.run(command("--db", str(tmp_path / "s.sqlite"), *args), capture_output=True, text=True,
                          env=environment(), timeout=60)
    assert (done.returncode, done.stderr.strip()) == (1, message)
