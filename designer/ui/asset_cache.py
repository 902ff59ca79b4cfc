"""NiceGUI's scripts, styles and fonts answered from memory, gzipped once.

Each page a new visitor opens asks for some 30 of them. Through the whole middleware stack (the
session, NiceGUI's request tracking, the sign-in check, the security headers, gzip) each cost the
server 4 to 7 ms of CPU: 130 to 240 ms per first visit, on a machine the browser may share.
Their URLs name NiceGUI's version or a hash of the file (``/_nicegui/<version>/static|components|esm/…``)
and NiceGUI serves them as immutable, so the first gzipped answer for a URL is kept (without the
visitor's session cookie) and given again to whoever asks for it next.

Only answers to GET requests that accept gzip, without a Range, answered 200, are kept (gzipped, or
as they were when too small to gzip); at most
``MAX_BYTES`` in all, none over ``MAX_ONE``. Everything else passes through untouched.
"""

from __future__ import annotations

from nicegui import __version__ as nicegui_version
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFIXES = tuple(f"/_nicegui/{nicegui_version}/{part}/" for part in ("static", "components", "esm"))
MAX_BYTES = 32 * 1024 * 1024
MAX_ONE = 4 * 1024 * 1024
DROPPED = (b"set-cookie",)  # this visitor's session cookie


class AssetCache:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.kept: dict[str, tuple[list[tuple[bytes, bytes]], bytes]] = {}
        self.size = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._keepable(scope):
            await self.app(scope, receive, send)
            return
        key = scope["path"]  # not its query, which NiceGUI's files do not read: "?1", "?2" … cannot fill memory
        kept = self.kept.get(key)
        if kept is not None:
            headers, body = kept
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self._keep(key, start, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, capture)

    @staticmethod
    def _keepable(scope: Scope) -> bool:
        if scope["type"] != "http" or scope.get("method") != "GET" or not scope["path"].startswith(PREFIXES):
            return False
        headers = dict(scope.get("headers") or [])
        return b"range" not in headers and b"gzip" in headers.get(b"accept-encoding", b"")

    def _keep(self, key: str, start: Message, body: bytes) -> None:
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in DROPPED]
        if start.get("status") != 200 or len(body) > MAX_ONE or self.size + len(body) > MAX_BYTES:
            return
        if key not in self.kept:
            self.kept[key] = (headers, body)
            self.size += len(body)
