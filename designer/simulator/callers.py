"""The simulated caller: who presses keys, and how transfers, recordings and audio turn out.

A ``Caller`` answers the simulator's questions during a call. ``keys`` is
asked once per ``<Gather>`` and may wait for a person at the designer's
keypad; the other answers may be plain or awaitable values.
``ScriptedCaller`` plays a fixed script, one ``digits`` entry per Gather::

    ScriptedCaller(digits=["1", "1234#", ""], dial_outcome="busy")

An entry is the keys pressed, in order ("1234#"); "" (or None) is silence:
the Gather times out. When the script runs out, the caller stays silent.
Subclass ``ScriptedCaller`` to override only what you need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Iterable, Protocol, runtime_checkable

from compiler.catalogue import DTMF_KEYS

from designer.errors import DesignerError

DIAL_OUTCOMES = ("completed", "busy", "noanswer", "failed")
RECORD_FAILED = "failed"


@dataclass(frozen=True)
class GatherInfo:
    """What the caller is asked for at a Gather."""

    num_digits: int | None  # None: any number of digits
    finish_on_key: str  # '' when no key submits
    timeout: int  # seconds of silence before the Gather gives up
    prompts: tuple[str, ...]  # what the caller just heard (Say text, Play URL)
    action: str  # where the digits go
    url: str  # the document holding the Gather
    doc: str | None = None
    index: int = 0  # which Gather of the call this is (0-based)


@dataclass(frozen=True)
class RecordInfo:
    max_length: int
    timeout: int
    finish_on_key: str
    play_beep: bool
    url: str
    doc: str | None = None


@dataclass(frozen=True)
class TransferInfo:
    """An answered transfer, as the caller is in it."""

    numbers: tuple[str, ...]
    hangup_on_star: bool  # pressing * ends the transfer and the flow goes on
    seconds: float  # how long the transferred call lasts unless the caller ends it


@runtime_checkable
class Caller(Protocol):
    async def keys(self, gather: GatherInfo) -> str | None:
        """Keys pressed at this Gather, in order ('1', '1234#'); None or '' for no input."""

    def dial_outcome(self, numbers: list[str]) -> str | Awaitable[str]:
        """How a transfer ends: completed, busy, noanswer or failed."""

    def record_outcome(self, record: RecordInfo) -> float | str | Awaitable[float | str]:
        """Seconds the caller speaks (0: silence) or 'failed' when the recording fails."""

    def play_outcome(self, url: str) -> bool | Awaitable[bool]:
        """True when the audio file plays, False when it fails."""

    # optional: ``star_in(transfer: TransferInfo) -> bool | Awaitable[bool]``, True when the caller
    # presses * during an answered transfer (callers without it never do)


class HangUp(DesignerError):
    """Raised by a caller (from any of its methods) to hang up; the message says why."""


def check_keys(entry: str, where: str = "digits") -> str:
    """An entry of keys, refused with a clear message when it holds anything but DTMF keys."""
    bad = [c for c in entry if c not in DTMF_KEYS]
    if bad:
        raise ValueError(f"{where}: {entry!r} has {bad[0]!r}, which is not a phone key (0-9, * or #)")
    return entry


class ScriptedCaller:
    """A caller following a script.

    ``play_fails``: True makes every audio file fail, or give the URLs that fail.
    ``record_seconds``: how long the caller speaks into a Record (0: silence).
    ``dial_seconds``: how long an answered transfer lasts.
    ``patience``: once the script has no more keys, the caller stays silent at this many
    more menus, then hangs up at the next one (a real caller does not wait forever).
    ``record_key``: the key the caller presses when done speaking into a Record ('': none, so the
    silence timeout ends it). ``star_in_transfer``: the caller presses * during an answered transfer.
    """

    def __init__(self, digits: Iterable[str | None] = (), dial_outcome: str = "completed",
                 record_fails: bool = False, play_fails: bool | Iterable[str] = False,
                 record_seconds: float = 8.0, dial_seconds: float = 30.0, patience: int = 2,
                 record_key: str = "", star_in_transfer: bool = False):
        self.digits = []
        for i, entry in enumerate(digits):
            self.digits.append(None if entry is None else check_keys(str(entry).strip(), f"digits[{i}]"))
        if dial_outcome not in DIAL_OUTCOMES:
            raise ValueError(f"dial outcome {dial_outcome!r} must be one of {', '.join(DIAL_OUTCOMES)}")
        if record_seconds < 0 or dial_seconds < 0:
            raise ValueError("record_seconds and dial_seconds cannot be negative")
        self.dial_outcome_ = dial_outcome
        self.record_fails = record_fails
        self.play_fails = play_fails if isinstance(play_fails, bool) else frozenset(play_fails)
        self.record_seconds = record_seconds
        self.dial_seconds = dial_seconds
        self.patience = patience
        self.record_key = check_keys(record_key.strip(), "record-key")
        if len(self.record_key) > 1:
            raise ValueError(f"record-key {record_key!r}: give one phone key (0-9, * or #)")
        self.star_in_transfer = star_in_transfer
        self._next = 0
        self._silent_after_script = 0

    def __repr__(self) -> str:
        return (f"ScriptedCaller(digits={self.digits!r}, dial_outcome={self.dial_outcome_!r}, "
                f"record_fails={self.record_fails!r}, play_fails={self.play_fails!r})")

    @property
    def remaining(self) -> list[str | None]:
        return self.digits[self._next:]

    async def keys(self, gather: GatherInfo) -> str | None:
        if self._next >= len(self.digits):
            self._silent_after_script += 1
            if self._silent_after_script > self.patience:
                raise HangUp(f"the script had no more keys, and the caller gave up after {self.patience} "
                             f"more menu{'s' if self.patience != 1 else ''} without input")
            return None
        entry = self.digits[self._next]
        self._next += 1
        return entry

    def dial_outcome(self, numbers: list[str]) -> str:
        return self.dial_outcome_

    def record_outcome(self, record: RecordInfo) -> float | str:
        return RECORD_FAILED if self.record_fails else self.record_seconds

    def star_in(self, transfer: TransferInfo) -> bool:
        return self.star_in_transfer

    def play_outcome(self, url: str) -> bool:
        if isinstance(self.play_fails, bool):
            return not self.play_fails
        return url not in self.play_fails


async def resolve(value: Any) -> Any:
    """A caller's answer, awaited when it is awaitable."""
    if hasattr(value, "__await__"):
        return await value
    return value
