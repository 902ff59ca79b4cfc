"""Small FlexML servers for the simulator's tests: hand-written documents, every request recorded.

``FlexMLServer(docs)`` is an ASGI app answering ``docs[path]``; it serves
in process (``.transport()``) or on real loopback HTTP (``serve(app)``, uvicorn
in a thread on a free port). The tests at the bottom check the helpers.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable, Iterator
from urllib.parse import parse_qsl

import httpx
import uvicorn

BASE = "http://flexml.test"


def doc(*verbs: str) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n' + "\n".join(f"  {v}" for v in verbs) + \
        "\n</Response>\n"


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    body: dict
    content_type: str

    @property
    def fields(self) -> dict:
        return {**self.query, **self.body}


@dataclass
class Slow:
    """An answer that takes ``seconds`` (or until the test ends)."""

    seconds: float
    body: str = ""


@dataclass
class FlexMLServer:
    # path → document, (status, body[, headers]), Slow(...) or a function of the request
    docs: dict[str, str | tuple | Slow | Callable[[Received], str]]
    requests: list[Received] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        ctype = headers.get("content-type", "")
        body = json.loads(raw) if raw and "json" in ctype else {}
        got = Received(scope["method"], scope["path"], dict(parse_qsl(scope["query_string"].decode())), body,
                       ctype)
        self.requests.append(got)
        answer = self.docs.get(scope["path"], (404, "not found"))
        if callable(answer) and not isinstance(answer, Slow):
            answer = answer(got)
        if isinstance(answer, Slow):
            deadline = time.monotonic() + answer.seconds
            while time.monotonic() < deadline and not self.stop.is_set():
                await asyncio.sleep(0.02)
            answer = answer.body or doc("<Hangup/>")
        status, text, extra = (*answer, {})[:3] if isinstance(answer, tuple) else (200, answer, {})
        data = text.encode()
        headers = [(b"content-type", b"application/xml"), (b"content-length", str(len(data)).encode())]
        headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": data})

    def transport(self) -> httpx.ASGITransport:
        return httpx.ASGITransport(app=self)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def to(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve an ASGI app on a free loopback port in a thread; yields its base URL."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="off", access_log=False,
                                           timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the loopback test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        if isinstance(app, FlexMLServer):
            app.stop.set()
        server.should_exit = True
        thread.join(10)
        sock.close()


# ---- the helpers themselves ----------------------------------------------------------------------


def test_loopback_server_answers_and_records():
    app = FlexMLServer({"/a": doc("<Hangup/>")})
    with serve(app) as base:
        r = httpx.post(f"{base}/a?x=1", json={"CallSid": "abc"})
        missing = httpx.get(f"{base}/nope")
    assert r.status_code == 200 and "<Hangup/>" in r.text
    assert missing.status_code == 404
    assert app.requests[0].method == "POST" and app.requests[0].fields == {"x": "1", "CallSid": "abc"}


def test_free_port_is_refused_once_closed():
    port = free_port()
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    except httpx.ConnectError:
        return
    raise AssertionError("a closed port answered")
