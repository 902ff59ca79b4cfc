"""Whether pages need a sign-in, whether this browser is signed in, and the throttle on password guesses:
the state auth.py and the frame share.

Kept apart from ``auth`` (which builds the /login page with the frame's
colours) so the frame can ask ``login_required()`` without importing ``auth``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nicegui import ui

from designer import sessions
from designer.context import AppContext

TOKEN_KEY = "auth"  # the session token's key in the (signed) session cookie


class Throttle:
    """Slows down password guessing: after ``free`` wrong passwords from one address, each further try
    waits ``base`` seconds, doubling with every miss up to ``cap``; a right password clears the record."""

    def __init__(self, free: int = 5, base: float = 30.0, cap: float = 900.0,
                 clock: Callable[[], float] = time.monotonic):
        self.free, self.base, self.cap, self.clock = free, base, cap, clock
        self._misses: dict[str, tuple[int, float]] = {}  # address → (wrong tries, when the last one was)

    def wait(self, who: str) -> float:
        """Seconds ``who`` must wait before the next try (0: go ahead)."""
        misses, last = self._misses.get(who, (0, 0.0))
        if misses < self.free:
            return 0.0
        delay = min(self.base * 2 ** min(misses - self.free, 32), self.cap)  # (no float overflow, ever)
        return max(0.0, last + delay - self.clock())

    def failed(self, who: str) -> None:
        misses, _ = self._misses.get(who, (0, 0.0))
        if len(self._misses) > 10_000:  # many addresses: forget the oldest records
            for key in sorted(self._misses, key=lambda k: self._misses[k][1])[:5_000]:
                del self._misses[key]
        self._misses[who] = (misses + 1, self.clock())

    def succeeded(self, who: str) -> None:
        self._misses.pop(who, None)


class _Config:
    required = False
    throttle = Throttle()
    ctx: AppContext | None = None


config = _Config()


def login_required() -> bool:
    return config.required


def session_alive(session: Any) -> bool:
    """Whether a browser session (its signed cookie's contents) holds the token of a live sign-in."""
    token = session.get(TOKEN_KEY) if session is not None else None
    return config.ctx is not None and sessions.alive(config.ctx, token)


def current_token() -> str | None:
    token = getattr(getattr(ui.context.client, "request", None), "session", {}).get(TOKEN_KEY)
    return token if isinstance(token, str) else None


def signed_in() -> bool:
    """Whether the current page's browser is signed in (always, when no sign-in is required)."""
    if not config.required:
        return True
    return session_alive(getattr(getattr(ui.context.client, "request", None), "session", None))


def sign_out() -> None:
    """End this browser's session in every tab (the token is deleted), then show the sign-in page."""
    token = current_token()
    if token is not None and config.ctx is not None:
        sessions.end(config.ctx, token)
    ui.navigate.to("/login")
