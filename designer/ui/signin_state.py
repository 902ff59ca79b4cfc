"""Whether pages need a sign-in, and the throttle on password guesses: the state auth.py and the frame share.

Kept apart from ``auth`` (which builds the /login page with the frame's
colours) so the frame can ask ``login_required()`` without importing ``auth``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from nicegui import app


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


config = _Config()


def login_required() -> bool:
    return config.required


def signed_in() -> bool:
    return not config.required or bool(app.storage.user.get("authenticated"))
