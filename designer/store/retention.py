"""How long call events are kept, and the cleanup that deletes older ones in small batches.

The setting ``call_retention_days`` (default 90, from 1 to 3650) is read at each cleanup. A cleanup
deletes the calls that started longer ago than that (their events and their row in the call
list) and the older events that belong to no call, ``BATCH`` calls at a time, each batch its own
short transaction with a pause after it, so the host's event writer is never held up for long. It
runs in the designer's process (``RetentionCleaner``, a thread) and in the host's event writer
process (``Cleanup.due`` in its loop, one batch between two moves of the spool), never on the host's
event loop. Voicemail messages are not call events: nothing here deletes them.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("flexml.store")

RETENTION_SETTING = "call_retention_days"
RETENTION_DEFAULT_DAYS = 90
RETENTION_MIN_DAYS = 1
RETENTION_MAX_DAYS = 3650
BATCH = 500  # calls (and events without a call) deleted per transaction
PAUSE = 0.05  # seconds between two batches: writers waiting for the database get their turn
CLEAN_EVERY = 600.0  # seconds between two cleanups
FIRST_AFTER = 60.0  # seconds after start-up before the first (a starting host has other work)


def retention_days(store) -> int:
    """The setting, or the default when it is missing or unreadable."""
    try:
        days = int(store.get_setting(RETENTION_SETTING) or RETENTION_DEFAULT_DAYS)
    except ValueError:
        return RETENTION_DEFAULT_DAYS
    return min(max(days, RETENTION_MIN_DAYS), RETENTION_MAX_DAYS)


def clean(store, now: float | None = None, *, batch: int = BATCH, pause: float = PAUSE,
          stop: threading.Event | None = None) -> int:
    """Delete call events older than the retention setting, batch by batch; returns how many went."""
    days = retention_days(store)
    before = (time.time() if now is None else now) - days * 86400
    gone = 0
    while stop is None or not stop.is_set():
        n = store.delete_calls_before(before, batch)
        gone += n
        if n == 0:
            break
        if pause:
            time.sleep(pause)
    if gone:
        log.info("store: deleted %d call events older than %d days", gone, days)
    return gone


class Cleanup:
    """A cleanup every ``every`` seconds, one batch per call of ``due``, for a loop that has other work
    between (the event writer moves the spool into the store between two batches)."""

    def __init__(self, every: float = CLEAN_EVERY, batch: int = BATCH, first: float = FIRST_AFTER):
        self.every = every
        self.batch = batch
        self._next = time.monotonic() + first
        self._before: float | None = None  # the cutoff of the cleanup under way

    def due(self, store, now: float | None = None) -> int:
        """Delete one batch if a cleanup is under way or due; returns how many events went. A database
        error is logged and the cleanup tried again next time."""
        try:
            if self._before is None:
                if time.monotonic() < self._next:
                    return 0
                self._next = time.monotonic() + self.every
                self._before = (time.time() if now is None else now) - retention_days(store) * 86400
            gone = store.delete_calls_before(self._before, self.batch)
        except Exception as exc:  # noqa: BLE001 - a busy or unreachable database: the next cleanup tries again
            log.warning("store: could not delete old call events: %s", exc)
            self._before = None
            return 0
        if gone == 0:
            self._before = None
        return gone


class RetentionCleaner:
    """A daemon thread running ``clean`` ``first`` seconds after ``start()``, then every ``every`` seconds,
    until ``close()``."""

    def __init__(self, store, every: float = CLEAN_EVERY, first: float = FIRST_AFTER):
        self.store = store
        self.every = every
        self.first = first
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="flexml-retention", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        if self._stop.wait(self.first):
            return
        while not self._stop.is_set():
            try:
                clean(self.store, stop=self._stop)
            except Exception as exc:  # noqa: BLE001 - as in Cleanup.due
                log.warning("store: could not delete old call events: %s", exc)
            self._stop.wait(self.every)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
