"""Slow clients cannot hold the host: requests trickling in, or never sent, are closed after the request
timeout, a flood of connections past the cap is closed at once, and callers are answered meanwhile.

The real ``host`` command on loopback, with short limits through its environment; a bounded number of
raw sockets from asyncio.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from serving import free_port, wait_until_answering

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "compiler" / "examples" / "main-menu.json"
CALL = {"CallSid": "CA-slow", "From": "15162065338", "To": "15162065337"}


def start(tmp_path: Path, command: str, **limits: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"} | limits
    log = tmp_path / f"{command}.log"
    args = [str(EXAMPLE), "--quiet"] if command == "host" else ["--db", str(tmp_path / "designer.sqlite")]
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "designer", command, *args, "--port", str(port)], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(proc, url, lambda: log.read_text(errors="replace"))
    return proc, url


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def closed_after(reader: asyncio.StreamReader, limit: float) -> float | None:
    """Seconds until the server closed the connection (read gives EOF or a reset), None if still open."""
    start = time.monotonic()
    try:
        while True:
            data = await asyncio.wait_for(reader.read(4096), timeout=max(limit - (time.monotonic() - start), 0.01))
            if not data:
                return time.monotonic() - start
    except asyncio.TimeoutError:  # before OSError: TimeoutError is one
        return None
    except (ConnectionError, OSError):
        return time.monotonic() - start


async def trickle(writer: asyncio.StreamWriter, text: bytes, every: float, stop: asyncio.Event) -> None:
    """Send ``text`` a byte at a time until the server closes the connection or ``stop`` is set."""
    for byte in text:
        if stop.is_set() or writer.is_closing():
            return
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except (ConnectionError, OSError):
            return
        await asyncio.sleep(every)


async def slow_clients_and_callers(url: str, bound: float) -> tuple[list[float | None], list[int]]:
    port = int(url.rsplit(":", 1)[1])
    headers = b"POST /flexml/main-menu HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    body = b'{"CallSid": "CA-trickle", "To": "15162065337"}'
    slow = [headers + b"X-Pad: " + b"a" * 400 + b"\r\n\r\n",  # headers that never end in time
            headers + b"Content-Length: %d\r\n\r\n" % len(body) + body]  # a body one byte at a time
    stop_sending = asyncio.Event()
    conns, senders = [], []
    for i in range(60):  # 20 silent, 20 trickling headers, 20 trickling bodies
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conns.append((reader, writer))
        if i >= 20:
            text = slow[i % 2]
            if i % 2:  # the headers at once, then the body slowly
                writer.write(text[:len(text) - len(body)])
                text = text[len(text) - len(body):]
            senders.append(asyncio.create_task(trickle(writer, text, 0.2, stop_sending)))
    answered: list[int] = []

    async def callers() -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(20):
                answered.append((await client.post(url + "/flexml/main-menu", json=CALL)).status_code)
                await asyncio.sleep(0.05)

    closed, _ = await asyncio.gather(asyncio.gather(*(closed_after(r, bound) for r, _ in conns)), callers())
    stop_sending.set()
    await asyncio.gather(*senders)
    for _, writer in conns:
        writer.close()
    return list(closed), answered


@pytest.mark.parametrize("command", ["host", "serve"])
def test_trickling_and_silent_connections_are_closed_and_callers_still_answered(tmp_path, command):
    proc, url = start(tmp_path, command, FLEXML_REQUEST_TIMEOUT="1")
    try:
        closed, answered = asyncio.run(slow_clients_and_callers(url, bound=8.0))
        assert answered == [200] * 20  # callers answered while 60 slow connections were open
        assert None not in closed, f"{closed.count(None)} of 60 slow connections still open after 8 s"
        assert min(closed) >= 0.5  # closed by the deadline, not refused at once
        assert httpx.post(url + "/flexml/main-menu", json=CALL, timeout=10).status_code == 200
    finally:
        stop(proc)
    assert "Traceback" not in (tmp_path / f"{command}.log").read_text(errors="replace")


async def flood(url: str, count: int) -> list[float | None]:
    port = int(url.rsplit(":", 1)[1])
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(count)]
    closed = await asyncio.gather(*(closed_after(r, 3.0) for r, _ in conns))
    for _, writer in conns:
        writer.close()
    return list(closed)


def test_connections_past_the_cap_are_closed_at_once_and_the_rest_stay(tmp_path):
    proc, url = start(tmp_path, "host", FLEXML_REQUEST_TIMEOUT="30", FLEXML_MAX_CONNECTIONS="40")
    try:
        closed = asyncio.run(flood(url, 50))
        assert sum(1 for c in closed if c is not None) == 10  # the ten past the cap
        assert closed.count(None) == 40  # the others wait for their request, within the 30 s timeout
        assert httpx.post(url + "/flexml/main-menu", json=CALL, timeout=10).status_code == 200  # once they go
    finally:
        stop(proc)


def test_a_limit_that_is_not_a_number_is_one_clear_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"} | {"FLEXML_REQUEST_TIMEOUT": "soon"}
    done = subprocess.run([sys.executable, "-m", "designer", "host", str(EXAMPLE), "--port", str(free_port())],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "$FLEXML_REQUEST_TIMEOUT must be a number, not 'soon'" in done.stderr and "Traceback" not in done.stderr
