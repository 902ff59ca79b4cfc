"""``flexml-designer host``: serving files from the command line, --get, and clear mistakes."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from flowwalk import served
from serving import free_port, wait_until_answering

from compiler import compile_flow, write_zip
from compiler.examples import example, example_text
from compiler.grammar import problems as grammar_problems
from designer.cli import main
from designer.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def files(tmp_path):
    menu = tmp_path / "main-menu.json"
    menu.write_text(example_text("main-menu"))
    graph = example("pin-check")
    pins = tmp_path / "pin-check-r4.zip"
    pins.write_bytes(write_zip(compile_flow(graph, revision="4"), graph))
    return menu, pins


def test_get_prints_what_the_carrier_would_get(files, capsys):
    menu, pins = files
    assert main(["host", str(menu), str(pins), "--did", "+1 (516) 206-5337=main-menu",
                 "--get", "/flexml?To=5162065337"]) == 0
    out = capsys.readouterr().out
    assert out.encode() == served(compile_flow(example("main-menu")), "welcome")
    assert main(["host", str(menu), str(pins), "--get", "/flexml/pin-check/4/ask-pin/gather?Digits=1234"]) == 0
    assert "<Number>15162065342</Number>" in capsys.readouterr().out


def test_get_of_an_unknown_flow_prints_the_apology_and_the_reason(files, capsys):
    assert main(["host", str(files[0]), "--get", "/flexml/nope"]) == 0
    captured = capsys.readouterr()
    assert "<Hangup/>" in captured.out and grammar_problems(captured.out.encode()) == []
    assert "unknown flow 'nope'" in captured.err


@pytest.mark.parametrize("args, message", [
    (["--did", "15162065337"], "say which flow answers it (NUMBER=FLOW_ID); flows: main-menu, pin-check"),
    (["--did", "15162065337=sales"], "no flow 'sales'"),
    (["--base-url", "ivr.example.com"], "must look like https://ivr.example.com"),
    (["--workers", "0"], "--workers 0"),
    (["--get", "flexml"], "must be a path starting with /"),
])
def test_mistakes_are_one_clear_line(files, capsys, args, message):
    assert main(["host", str(files[0]), str(files[1]), *args]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and err.count("\n") == 1


def test_a_missing_or_broken_source_is_named(tmp_path, capsys):
    assert main(["host", str(tmp_path / "gone.json")]) == 1
    assert "gone.json: no such file" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{")
    assert main(["host", str(tmp_path / "bad.json")]) == 1
    assert "bad.json: not valid JSON" in capsys.readouterr().err


def _serve(args: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    proc = subprocess.Popen([sys.executable, "-m", "designer", "host", *args, "--port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(proc, url, lambda: proc.stderr.read(), timeout=30)
    return proc, url


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


@pytest.mark.parametrize("workers", [1, 2])
def test_serving_prints_carrier_urls_and_records_events(files, tmp_path, workers):
    db = tmp_path / "events.sqlite"
    menu, pins = files
    proc, url = _serve([str(menu), str(pins), "--did", "+1 516 206 5337=main-menu", "--db", str(db),
                        "--workers", str(workers)])
    try:
        entry = httpx.post(url + "/flexml", json={"To": "15162065337", "CallSid": "CA-cli", "From": "1555"})
        assert entry.content == served(compile_flow(example("main-menu")), "welcome")
        routed = httpx.post(url + "/flexml/main-menu/1/menu/gather", json={"Digits": "1", "CallSid": "CA-cli"})
        assert b"<Number>15162065340</Number>" in routed.content
    finally:
        out = _stop(proc)
    assert f"account URL (answers the numbers below)  {url}/flexml" in out
    assert f"{url}/flexml/status" in out and f"{url}/flexml/pin-check" in out
    assert "15162065337 → main-menu" in out
    store = SQLiteStore(db)
    assert [(e.kind, e.target) for e in store.call_events("CA-cli")] == [
        ("decision", "hours"), ("document", "welcome"), ("router", "menu")]
    store.close()


def _listening(port: int) -> int:
    """How many sockets listen on ``port`` (from /proc/net/tcp: state 0A)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if int(line.split()[1].split(":")[1], 16) == port and line.split()[3] == "0A")


def _worker_of_connection(client_port: int, workers: list[int]) -> int | None:
    """The worker process holding the server end of the connection from ``client_port`` (via /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        if remote_port == client_port:
            inodes.add(fields[9])
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return pid
    return None


def test_workers_share_the_port_and_connections_spread_across_them(files):
    proc, url = _serve([str(files[0]), "--workers", "2", "--quiet"])
    try:
        workers = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
        assert len(workers) == 2
        port = int(url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 30
        while _listening(port) < 2:  # the first worker up answers alone until the second listens too
            assert time.monotonic() < deadline, "the second worker did not listen in 30 s"
            time.sleep(0.1)
        request = (b"POST /flexml/main-menu HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 2\r\n\r\n{}")
        conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]  # opened at once, kept open
        try:
            for conn in conns:
                conn.sendall(request)
                assert conn.recv(65536).startswith(b"HTTP/1.1 200")
            owners = [_worker_of_connection(conn.getsockname()[1], workers) for conn in conns]
        finally:
            for conn in conns:
                conn.close()
    finally:
        _stop(proc)
    assert None not in owners
    # each worker has its own SO_REUSEPORT socket: the kernel spreads connections (one shared socket gave one
    # worker nearly all of a burst)
    assert min(owners.count(w) for w in workers) >= 4, owners  # 32 connections: at least 4 each


def test_a_port_in_use_is_one_clear_line(files, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["host", str(files[0]), "--port", str(port), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and err.count("\n") == 1


@pytest.mark.parametrize("kind", ["folder", "not-sqlite"])
def test_an_events_file_that_cannot_be_opened_is_one_clear_line(files, tmp_path, capsys, kind):
    db = tmp_path / "events"
    if kind == "folder":
        db.mkdir()
    else:
        db.write_text("these are notes, not a database " * 10)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert main(["host", str(files[0]), "--port", str(port), "--db", str(db)]) == 1
    out, err = capsys.readouterr()
    assert f"--db {db}: cannot open the database" in err and err.count("\n") == 1 and out == ""


def test_a_text_that_repeats_a_huge_caller_value_is_answered_within_the_cap(tmp_path):
    """The worst text the language allows (a value repeated as often as a Say holds) with a caller's name as
    large as a request may carry: every answer stays one Say of at most 1,024 characters and one Sms of at
    most 4,096."""
    repeated = "{{ CallerName | upper }}" * 40
    flow = {"graph": {"id": "huge", "start": "hi"}, "edges": [{"source": "hi", "target": "txt"}],
            "nodes": [{"id": "hi", "type": "Say", "text": repeated},
                      {"id": "txt", "type": "Sms", "text": repeated * 4, "attrs": {"to": "15162065340"}}]}
    source = tmp_path / "huge.json"
    source.write_text(json.dumps(flow))
    proc, url = _serve([str(source)])
    try:
        for _ in range(6):
            answer = httpx.post(url + "/flexml/huge", json={"CallerName": "a" * 60_000, "CallSid": "CA-huge"},
                                timeout=30)
            assert answer.status_code == 200 and grammar_problems(answer.content) == []
            said = answer.text.split("<Say>", 1)[1].split("</Say>", 1)[0]
            texted = answer.text.split("<Sms", 1)[1].split(">", 1)[1].split("</Sms>", 1)[0]
            assert said == "A" * 1024 and texted == "A" * 4096
    finally:
        _stop(proc)
