"""Security headers on the designer's pages: no framing by other sites, and a content policy.

NiceGUI's pages are built by Vue templates compiled in the browser and carry inline scripts and
styles, so the policy allows 'unsafe-inline' and 'unsafe-eval' for scripts and styles; everything
else (scripts, styles, fonts, images, sockets) comes from this server only, forms post only here,
and no other site may frame the pages. Audio may also come from the recording hosts allowed in Settings
(the Voicemail page plays the carrier's recording URLs), on any port. The host's ``/flexml`` answers to
the carrier are left as they are.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "media-src 'self' blob:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
HOST_PATH = "/flexml"
_IP = re.compile(r"^[0-9.]+$|:")


@functools.lru_cache(maxsize=16)
def content_security_policy(media_hosts: tuple[str, ...] = ()) -> str:
    """The policy, with audio allowed from ``media_hosts`` too (each on any port; a name's subdomains too)."""
    if not media_hosts:
        return CONTENT_SECURITY_POLICY
    sources = []
    for host in media_hosts:
        if ":" in host:  # an IPv6 address: written as [addr] in a source; rare for recordings, left out
            continue
        sources.append(f"{host}:*")
        if not _IP.search(host):
            sources.append(f"*.{host}:*")
    return CONTENT_SECURITY_POLICY.replace("media-src 'self' blob:", "media-src 'self' blob: " + " ".join(sources))


class SecurityHeaders:
    """Add ``HEADERS`` to every answer except the host's (``/flexml``); ``media_hosts()`` gives the hosts audio
    may come from besides this server.

    A plain ASGI middleware, not Starlette's BaseHTTPMiddleware: that one runs every request (each of a
    page's 30 scripts, styles and fonts, and each of the carrier's) through a task and a stream of its own."""

    def __init__(self, app: ASGIApp, media_hosts: Callable[[], tuple[str, ...]] | None = None):
        self.app = app
        self.media_hosts = media_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path == HOST_PATH or path.startswith(HOST_PATH + "/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if self.media_hosts is not None:
                    headers["Content-Security-Policy"] = content_security_policy(tuple(self.media_hosts()))
            await send(message)

        await self.app(scope, receive, send_with_headers)
