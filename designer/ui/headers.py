"""Security headers on the designer's pages: no framing by other sites, and a content policy.

NiceGUI's pages are built by Vue templates compiled in the browser and carry inline scripts and
styles, so the policy allows 'unsafe-inline' and 'unsafe-eval' for scripts and styles; everything
else (scripts, styles, fonts, images, sockets) comes from this server only, forms post only here,
and no other site may frame the pages. The host's ``/flexml`` answers to the carrier are left as
they are.
"""

from __future__ import annotations

from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request

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


class SecurityHeaders(BaseHTTPMiddleware):
    """Add ``HEADERS`` to every answer except the host's (``/flexml``)."""

    async def dispatch(self, request: Request, call_next):
        response = await call_next(request)
        path = request.url.path
        if not (path == HOST_PATH or path.startswith(HOST_PATH + "/")):
            for name, value in HEADERS.items():
                response.headers.setdefault(name, value)
        return response
