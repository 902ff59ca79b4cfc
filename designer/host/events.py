"""Call events off the answer path: an in-memory queue drained by a writer thread.

Used by the designer (``serve``: its Calls page reads events as soon as a call
ends) and for the ``host`` command's log lines. The ``host`` command with
``--db`` uses ``event_writer.ProcessRecorder`` instead, which keeps SQLite
work out of the answering process entirely.

The host hands each event to ``EventRecorder`` (a deque append, no I/O, no
lock); a daemon thread wakes a few times a second and passes what piled up,
in batches, to a sink — ``store.record_events`` or a log printer. If the sink
falls far behind, new events are counted in ``dropped`` instead of growing
memory without bound: a caller's answer never waits on the database.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol, TextIO

from designer.store import CallEvent

log = logging.getLogger("flexml.host")

Sink = Callable[[list[CallEvent]], None]


class Recorder(Protocol):
    """What the host hands its call events to: ``EventRecorder`` here, ``event_writer.ProcessRecorder``."""

    def __call__(self, event: CallEvent) -> None: ...
    def flush(self, timeout: float = 10.0) -> bool: ...
    def close(self, timeout: float = 10.0) -> None: ...


class EventRecorder:
    """``recorder(event)`` queues; a background thread writes batches to ``sink``."""

    def __init__(self, sink: Sink, *, batch: int = 500, interval: float = 0.1, max_pending: int = 100_000):
        self.sink = sink
        self.batch = batch
        self.interval = interval
        self.max_pending = max_pending
        self.written = 0
        self.dropped = 0
        self.failed = 0
        self._pending: deque[CallEvent] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def __call__(self, event: CallEvent) -> None:
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        self._pending.append(event)
        if self._thread is None:
            self.start()

    @property
    def pending(self) -> int:
        return len(self._pending)

    def start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="flexml-event-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            self._drain()
        self._drain()

    def _drain(self) -> None:
        while self._pending:
            chunk: list[CallEvent] = []
            try:
                while len(chunk) < self.batch:
                    chunk.append(self._pending.popleft())
            except IndexError:
                pass
            try:
                self.sink(chunk)
                self.written += len(chunk)
            except Exception:  # noqa: BLE001 - a failing store must not stop the writer
                self.failed += len(chunk)
                log.exception("could not record %d call events", len(chunk))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued event went to the sink; False on timeout."""
        if self._thread is None:
            self._drain()
            return True
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.01)
        return not self._pending

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the writer thread."""
        thread = self._thread
        if thread is None:
            self._drain()
        else:
            self._stopping = True
            self._wake.set()
            thread.join(timeout)
            self._thread = None
        if callable(getattr(self.sink, "close", None)):
            self.sink.close()


def describe(event: CallEvent) -> str:
    """One log line for an event: time, call, flow/rev, what happened."""
    clock = time.strftime("%H:%M:%S", time.localtime(event.at))
    where = f"{event.flow_id or '-'}/{event.rev or '-'}"
    digits = f" digits={event.digits!r}" if event.digits is not None else ""
    answer = f" → {event.params['answer']}" if "answer" in event.params else ""
    who = f" from={event.params.get('From', '')} to={event.params.get('To', '')}"
    return f"{clock} {event.call_sid or '-'} {where} {event.kind} {event.target}{answer}{digits}{who}"


def printer(stream: TextIO | None = None) -> Sink:
    """A sink printing one line per event (the host command without --db)."""

    def sink(events: list[CallEvent]) -> None:
        out = stream or sys.stdout
        out.write("".join(describe(e) + "\n" for e in events))
        out.flush()

    return sink
