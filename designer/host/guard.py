"""Slow clients cannot hold a server's connections: uvicorn's HTTP protocol with a request deadline and a cap.

uvicorn closes a keep-alive connection that stays idle after an answer
(``timeout_keep_alive``), but waits forever for a request that trickles in a
byte at a time, or for a connection that never sends one. ``GuardedHTTP``
gives every request ``REQUEST_TIMEOUT`` seconds, from the connection (or from
its first byte after an earlier answer) until its headers and body are in; a
request still incomplete then is closed without an answer. Once a request is
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
    """uvicorn's HTTP protocol (httptools, else h11) closing requests that do not arrive in time."""

    request_timeout: float = REQUEST_TIMEOUT
    max_connections: int = MAX_CONNECTIONS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.close()  # uvicorn forgets it in connection_lost
            return
        self._arm()

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self._between_requests():
            self._arm()  # the first bytes of a new request on a kept-alive connection
        super().data_received(data)
        if self._deadline is not None and self._request_whole():
            self._disarm()

    def handle_websocket_upgrade(self, *args: Any) -> None:
        self._disarm()  # the WebSocket protocol takes the connection over
        super().handle_websocket_upgrade(*args)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    # ---------------------------------------------------------------------------------------

    def _between_requests(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is None or cycle.response_complete

    def _request_whole(self) -> bool:
        cycle = getattr(self, "cycle", None)
        return cycle is not None and not cycle.more_body

    def _arm(self) -> None:
        self._deadline = asyncio.get_running_loop().call_later(self.request_timeout, self._timed_out)

    def _disarm(self) -> None:
        deadline = getattr(self, "_deadline", None)
        if deadline is not None:
            deadline.cancel()
            self._deadline = None

    def _timed_out(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


def _number(name: str, default: float, kind: type) -> Any:
    raw = os.environ.get(name, "")
    try:
        value = kind(raw) if raw.strip() else default
    except ValueError:
        raise ValueError(f"${name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise ValueError(f"${name} must be more than 0, not {raw!r}")
    return value


def server_settings() -> dict[str, Any]:
    """uvicorn settings guarding against slow clients (for ``uvicorn.run`` / ``uvicorn.Config`` / ``ui.run``).

    ValueError naming the variable when ``$FLEXML_REQUEST_TIMEOUT`` or ``$FLEXML_MAX_CONNECTIONS`` is not
    a positive number.
    """
    timeout = _number("FLEXML_REQUEST_TIMEOUT", REQUEST_TIMEOUT, float)
    cap = _number("FLEXML_MAX_CONNECTIONS", MAX_CONNECTIONS, int)
    if (timeout, cap) != (REQUEST_TIMEOUT, MAX_CONNECTIONS):
        protocol = type("GuardedHTTP", (GuardedHTTP,), {"request_timeout": timeout, "max_connections": cap})
    else:
        protocol = GuardedHTTP
    return {"http": protocol, "timeout_keep_alive": KEEP_ALIVE}
