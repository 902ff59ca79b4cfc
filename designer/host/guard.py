"""Slow clients cannot hold a server's connections: uvicorn's HTTP protocol with a request deadline and a cap.

uvicorn closes a keep-alive connection that stays idle after an answer
(``timeout_keep_alive``), but waits forever for a request that trickles in a
byte at a time, or for a connection that never sends one. ``GuardedHTTP``
gives every request ``REQUEST_TIMEOUT`` seconds (checked once a second), from
the connection (or from its first byte after an earlier answer) until its
headers and body are in; a connection still waiting for them then is closed
without an answer. Once a request is
whole, the app may take as long as it needs (long polls, WebSocket upgrades).
Each process keeps at most ``MAX_CONNECTIONS`` open; one past that is closed at
once, so a flood of idle connections cannot use up its file descriptors.

Used as ``uvicorn.Config(app, **server_settings())`` by ``host`` (every
worker), ``serve`` and ``sandbox``. ``$FLEXML_REQUEST_TIMEOUT`` (seconds) and
``$FLEXML_MAX_CONNECTIONS`` change the two limits.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

REQUEST_TIMEOUT = 10.0  # seconds for one request's headers and body to arrive
MAX_CONNECTIONS = 2000  # open connections per process
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open after an answer (uvicorn's default)


class GuardedHTTP(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol (httptools, else h11) closing requests that do not arrive in time.

    Nothing is added to a request's own path (a timer per request cost the host 2-3 µs of its ~40): once a
    second, a sweep per server looks at the state uvicorn keeps for each connection, and closes those that
    have been waiting for the same request's headers or body for longer than ``request_timeout``.
    """

    request_timeout: float = REQUEST_TIMEOUT
    max_connections: int = MAX_CONNECTIONS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.close()  # uvicorn forgets it in connection_lost
            return
        self.waiting_since: tuple[object, float] | None = (None, self.loop.time())  # (request, since when)
        _Sweeper.watch(self)

    def handle_websocket_upgrade(self, *args: Any) -> None:
        self.waiting_since = None
        self.request_timeout = float("inf")  # the WebSocket protocol takes the connection over
        super().handle_websocket_upgrade(*args)

    def waiting_for(self) -> tuple[bool, object]:
        """Whether the connection waits for (part of) a request, and which request that is."""
        cycle = self.cycle
        if cycle is None:  # no whole request headers yet
            return True, None
        if cycle.response_complete:  # answered: idle under uvicorn's keep-alive timer, or a new request begun
            return self.timeout_keep_alive_task is None, cycle
        return cycle.more_body, cycle  # the body still arriving; else the app is answering


class _Sweeper:
    """Once a second, closes the connections of one server that wait for a request longer than its timeout."""

    def __init__(self, connections: set, loop: asyncio.AbstractEventLoop):
        self.connections = connections
        self.loop = loop

    @classmethod
    def watch(cls, protocol: GuardedHTTP) -> None:
        """Start the sweep of ``protocol``'s server, once (kept on uvicorn's per-server state)."""
        state = protocol.server_state
        if getattr(state, "flexml_sweeper", None) is None:
            state.flexml_sweeper = cls(protocol.connections, protocol.loop)
            protocol.loop.call_later(1.0, state.flexml_sweeper.sweep)

    def sweep(self) -> None:
        now = self.loop.time()
        for protocol in list(self.connections):
            if not isinstance(protocol, GuardedHTTP) or protocol.transport.is_closing():
                continue
            waiting, request = protocol.waiting_for()
            seen = getattr(protocol, "waiting_since", None)
            if not waiting:
                protocol.waiting_since = None
            elif seen is None or seen[0] is not request:
                protocol.waiting_since = (request, now)
            elif now - seen[1] > protocol.request_timeout:
                protocol.transport.close()
        if not self.loop.is_closed():
            self.loop.call_later(1.0, self.sweep)


def _number(name: str, default: float, kind: type) -> Any:
    raw = os.environ.get(name, "")
    try:
        value = kind(raw) if raw.strip() else default
    except ValueError:
        raise ValueError(f"${name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"${name} must be more than 0, not {raw!r}")
    return value


def limits() -> tuple[float, int]:
    """The request timeout and the connection cap, from the environment; ValueError naming a bad variable."""
    return (_number("FLEXML_REQUEST_TIMEOUT", REQUEST_TIMEOUT, float),
            _number("FLEXML_MAX_CONNECTIONS", MAX_CONNECTIONS, int))


def server_settings() -> dict[str, Any]:
    """uvicorn settings guarding against slow clients (for ``uvicorn.run`` / ``uvicorn.Config`` / ``ui.run``).

    ValueError naming the variable when ``$FLEXML_REQUEST_TIMEOUT`` or ``$FLEXML_MAX_CONNECTIONS`` is not
    a positive number. The protocol class itself reads them when imported, so worker processes that
    import it afresh (uvicorn's own ``--workers``) keep the same limits.
    """
    GuardedHTTP.request_timeout, GuardedHTTP.max_connections = limits()
    return {"http": GuardedHTTP, "timeout_keep_alive": KEEP_ALIVE}


try:
    GuardedHTTP.request_timeout, GuardedHTTP.max_connections = limits()
except ValueError:  # reported by server_settings(), which every command calls before serving
    pass
