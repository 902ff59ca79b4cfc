"""Call events off the answer path: an in-memory queue drained by a writer thread, or a spool file.

``SpoolRecorder`` is the designer's (``serve``): each event is copied into a
spool file before the answer goes out (``designer.host.spool``), so a SIGKILL
of the server loses none, and a thread moves the spool into the store a few
times a second (its Calls page reads events as soon as a call ends).
``EventRecorder`` queues in memory, for the ``host`` command's log lines and
for stores that are not a SQLite file. The ``host`` command with ``--db`` uses
``event_writer.ProcessRecorder``, which keeps SQLite work out of the answering
process entirely.

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

from designer.host.spool import SpoolWriter, drain, spool_folder
from designer.store import CallEvent, Store

log = logging.getLogger("flexml.host")

Sink = Callable[[list[CallEvent]], None]


class Recorder(Protocol):
    """What the host hands its call events to (one per request): ``EventRecorder`` here,
    ``event_writer.ProcessRecorder``."""

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
        self.accepted = 0  # events queued (written + failed reach it once the writer is done with them)
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
        self.accepted += 1
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
        """Wait until every queued event went to the sink (also the chunk the writer is in the middle of);
        False on timeout."""
        if self._thread is None:
            self._drain()
            return True
        deadline = time.monotonic() + timeout
        while self._unfinished() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.01)
        return not self._unfinished()

    def _unfinished(self) -> bool:
        return bool(self._pending) or self.written + self.failed < self.accepted

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


class SpoolRecorder:
    """``recorder(event)`` copies the event into a spool file; a thread moves the spool into ``store``.

    The spool is ``<store file>.spool/``; whatever an earlier process left there (killed before its events
    were moved) is moved too. Events that cannot be spooled (no room on the disk) are counted in ``failed``.
    """

    def __init__(self, store: Store, *, interval: float = 0.1):
        self.store = store
        self.interval = interval
        self.folder = spool_folder(store.path)
        self.appended = 0
        self.moved = 0  # events the thread moved into the store (this process's and those left before)
        self.failed = 0
        self._spool: SpoolWriter | None = None
        self._lock = threading.Lock()  # one drain at a time: the thread's, or flush's
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def __call__(self, event: CallEvent) -> None:
        try:
            if self._spool is None:
                self._spool = SpoolWriter(self.folder)
            self._spool.append(event.row())
        except OSError as exc:
            self.failed += 1
            if self.failed == 1:
                log.error("cannot keep call events in %s: %s", self.folder, exc.strerror or exc)
            return
        self.appended += 1
        if self._thread is None:
            self.start()

    @property
    def written(self) -> int:
        return self.moved

    @property
    def pending(self) -> int:
        """Events in this process's spool not yet in the store (0 once everything spooled is moved)."""
        return max(self.appended - self._moved_mine(), 0)

    def _moved_mine(self) -> int:
        spool = self._spool
        return self.store.spool_totals(spool.tag)[0] if spool is not None else self.appended

    def start(self) -> None:
        """Start the thread (at server start: it moves what earlier processes left in the spool)."""
        with self._lock:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="flexml-event-spool", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.interval)
            self._wake.clear()
            self._drain()

    def _drain(self) -> None:
        with self._lock:
            try:
                self.moved += drain(self.folder, self.store)
            except Exception as exc:  # noqa: BLE001 - a locked or full database: the events wait in the spool
                log.error("could not move call events into %s: %s; trying again", self.store.path, exc)

    def flush(self, timeout: float = 10.0) -> bool:
        """Move what is spooled into the store now; False if some of it is still waiting after ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            self._drain()
            if self.pending == 0 or time.monotonic() >= deadline:
                return self.pending == 0
            time.sleep(0.02)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread, finish the spool file and move what is left."""
        thread, self._thread = self._thread, None
        if thread is not None:
            self._stopping = True
            self._wake.set()
            thread.join(timeout)
        with self._lock:
            spool, self._spool = self._spool, None  # an event after this goes to a new file
            if spool is not None:
                spool.close()
        self._drain()


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
