"""Call events written to SQLite by a child process: the answering process only queues them.

Why a process and not a thread: a writer thread shares Python's GIL with the
event loop, and every batch it encodes and inserts makes the loop wait for
the GIL. Measured with ``tests/bench/bench_host.py``, that cost the host a
quarter of its throughput and most of its p99 headroom; handing batches to a
child process costs the loop about a microsecond per event.

``ProcessRecorder(db)`` is the ``on_event`` hook of the host app. It is called
on the event loop's thread, appends the event as a tuple, and every ``batch``
events (or ``interval`` seconds after the first of a batch) writes them as one
``marshal`` frame to a non-blocking pipe. If the child falls behind, frames
wait in memory up to ``max_buffer`` bytes; beyond that new events are counted
in ``dropped`` (and logged).

The child, ``python -m designer.host.event_writer DB``, runs only on CPU time the
answering processes leave over (SCHED_IDLE). Each time it wakes it reads what
the pipe holds (up to ``BATCH_BYTES``), inserts it in one transaction with
``SQLiteStore.record_rows``, answers on its stdout with how many events it has
handled and written so far, and once the pipe is empty sleeps ``GATHER``
seconds so the next transaction is as large. The recorder reads those answers: ``written`` counts
events in the database, ``failed`` those a child could not write or took with
it when it died. A child that dies is replaced; one that dies soon after
starting (a database it cannot open) is given a rest first, doubling up to a
minute, while frames wait.

Frames: a 4-byte little-endian length, then ``marshal`` data (a list of event
tuples in ``CallEvent`` field order). Answers: two 8-byte little-endian counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import marshal
import os
import select
import sqlite3
import struct
import subprocess
import sys
import time
from collections import deque

from designer.store import CallEvent, SQLiteStore

log = logging.getLogger("flexml.host")

_LENGTH = struct.Struct("<I")
_COUNTS = struct.Struct("<QQ")  # the child's answer: events handled, events written
# The child's CPU priority: Linux's SCHED_IDLE runs it only on CPU time the answering processes leave over
# (measured: p99 1.10x bare against 1.44x at nice 5). Where SCHED_IDLE is missing, the lowest nice level.
PRIORITY = "idle"
PIPE_SIZE = 1 << 20  # ask Linux for a 1 MiB pipe (the default is 64 KiB)
MAX_BACKOFF = 60.0  # longest rest for a child that keeps failing at start, seconds
# The child sleeps GATHER seconds after each write once the pipe is empty, so the next transaction takes what
# piled up meanwhile: larger transactions cost less per event (measured with 2 workers: 33.2 against 36.2 µs
# of CPU per request at 0.4 s against 0.1 s). A transaction takes at most BATCH_BYTES of frames; while more
# is waiting, the child goes on without sleeping, so the pause never limits how fast it can write.
GATHER = 0.4
BATCH_BYTES = 2 << 20


class ProcessRecorder:
    """``recorder(event)`` queues on the event loop; a child process writes batches to SQLite at ``db``."""

    def __init__(self, db: str, *, batch: int = 256, interval: float = 0.05, max_buffer: int = 64 << 20,
                 priority: str = PRIORITY):
        self.db = os.path.abspath(db)
        self.batch = batch
        self.interval = interval
        self.max_buffer = max_buffer
        self.priority = priority
        self.written = 0  # events the children have written to the database
        self.dropped = 0  # events never queued: the buffer was full
        self.failed = 0  # events a child could not write, or took with it when it died
        self.starts = 0  # children started
        self._rows: list[tuple] = []
        self._frames: deque[tuple[bytes, int]] = deque()  # (frame, events in it) waiting for the pipe
        self._buffered = 0  # bytes in _frames
        self._partial = 0  # bytes of the first frame already in the pipe
        self._timer: asyncio.TimerHandle | None = None
        self._proc: subprocess.Popen | None = None
        self._answers = b""  # bytes read from the child's stdout, not yet a whole answer
        self._sent = 0  # events the current child was sent (whole frames)
        self._handled = 0  # events the current child says it has handled (written or failed)
        self._wrote = 0  # events the current child says it has written
        self._started = 0.0  # when the current child was started
        self._retry_at = 0.0  # no new child before this (monotonic clock)
        self._backoff = 1.0  # seconds to rest after a child that failed quickly, doubling to MAX_BACKOFF

    # --- on the answer path ---------------------------------------------------------------

    def __call__(self, event: CallEvent) -> None:
        rows = self._rows
        rows.append(event.row())
        if len(rows) >= self.batch:
            self._send()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self.interval, self._on_timer)
            except RuntimeError:  # not on an event loop: hand it over now
                self._send()

    @property
    def pending(self) -> int:
        """Events queued here or sent to the child and not yet handled by it."""
        return len(self._rows) + sum(n for _, n in self._frames) + self._sent - self._handled

    def _on_timer(self) -> None:
        self._timer = None
        self._send()

    def _send(self) -> None:
        rows, self._rows = self._rows, []
        if rows:
            frame = marshal.dumps(rows)
            if self._buffered + len(frame) > self.max_buffer:
                self.dropped += len(rows)
                if self.dropped == len(rows):
                    log.error("call events are arriving faster than they can be written; dropping some")
            else:
                self._frames.append((_LENGTH.pack(len(frame)) + frame, len(rows)))
                self._buffered += len(frame)
        self._pump()
        self._read_answers()
        if self._frames and self._timer is None:  # the pipe is full or the child is resting: try again later
            with contextlib.suppress(RuntimeError):
                self._timer = asyncio.get_running_loop().call_later(self.interval, self._on_timer)

    def _pump(self, deadline: float | None = None) -> None:
        """Write queued frames to the child as far as the pipe takes them (all, until ``deadline``, if given)."""
        while self._frames:
            frame, count = self._frames[0]
            proc = self._child()
            if proc is None:  # a failing child is resting: frames wait for the next one (up to max_buffer)
                if deadline is None or self._retry_at >= deadline:
                    return
                time.sleep(max(0.0, self._retry_at - time.monotonic()))
                continue
            try:
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0 or not select.select([], [proc.stdin], [], left)[1]:
                        return
                self._partial += os.write(proc.stdin.fileno(), memoryview(frame)[self._partial:])
            except BlockingIOError:
                if deadline is None:
                    return
                continue
            except OSError as exc:  # the child is gone
                self._ended(proc, f"stopped ({exc.strerror or exc})")
                continue
            if self._partial == len(frame):
                self._sent += count
                self._drop_first()

    def _drop_first(self) -> None:
        frame, _count = self._frames.popleft()
        self._buffered -= len(frame) - _LENGTH.size
        self._partial = 0

    def _read_answers(self, wait: float = 0.0) -> None:
        """Take in the child's answers (waiting up to ``wait`` seconds for one)."""
        proc = self._proc
        if proc is None:
            return
        try:
            if not select.select([proc.stdout], [], [], wait)[0]:
                return
            data = os.read(proc.stdout.fileno(), 1 << 16)
        except OSError:
            return
        if not data:
            return
        self._answers += data
        whole = len(self._answers) // _COUNTS.size * _COUNTS.size
        if whole:
            handled, wrote = _COUNTS.unpack_from(self._answers, whole - _COUNTS.size)  # the newest counts
            self.written += wrote - self._wrote
            self.failed += (handled - self._handled) - (wrote - self._wrote)
            self._handled, self._wrote = handled, wrote
            self._answers = self._answers[whole:]

    # --- the child --------------------------------------------------------------------------

    def _child(self) -> subprocess.Popen | None:
        """The running child, started if need be; None while a child that kept failing is given a rest."""
        proc = self._proc
        if proc is not None and proc.poll() is not None:
            self._ended(proc, f"exited with status {proc.returncode}")
            proc = None
        if proc is None:
            if time.monotonic() < self._retry_at:
                return None
            self._started = time.monotonic()
            self.starts += 1
            try:
                proc = subprocess.Popen([sys.executable, "-m", "designer.host.event_writer", self.db, self.priority],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
            except OSError as exc:
                self._rest(failed_quickly=True)
                log.error("cannot start the event writer: %s", exc)
                return None
            with contextlib.suppress(OSError, AttributeError):
                fcntl.fcntl(proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            os.set_blocking(proc.stdin.fileno(), False)
            self._proc = proc
        return proc

    def _ended(self, proc: subprocess.Popen, why: str) -> None:
        """Account for a child that stopped; one that stopped soon after starting earns the next one a rest."""
        self._read_answers()  # what it said before it went
        self._discard(proc)
        lost = self._sent - self._handled
        if self._partial:  # a frame part-way into the old child cannot be finished in the next one
            lost += self._frames[0][1]
            self._drop_first()
        self.failed += lost
        self._sent = self._handled = self._wrote = 0
        self._answers = b""
        quick = time.monotonic() - self._started < 5.0
        self._rest(failed_quickly=quick)
        log.error("event writer %s%s; %s", why, f", losing {lost} events" if lost else "",
                  f"starting another in {self._retry_at - time.monotonic():.0f} s" if quick else "starting another")

    def _rest(self, failed_quickly: bool) -> None:
        """After a child that failed soon after starting, wait before the next (doubling up to MAX_BACKOFF)."""
        self._retry_at = time.monotonic() + (self._backoff if failed_quickly else 0.0)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF) if failed_quickly else 1.0

    def _discard(self, proc: subprocess.Popen) -> None:
        if self._proc is proc:
            self._proc = None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        with contextlib.suppress(OSError):
            proc.stdout.close()

    # --- waiting and stopping ----------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Hand over everything queued and wait until the child has written it.

        False on timeout, or when some of it could not be written (counted in ``failed`` or ``dropped``).
        """
        lost_before = self.failed + self.dropped
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = time.monotonic() + timeout
        self._send()
        self._pump(deadline)
        while self._proc is not None and self._handled < self._sent and time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._ended(self._proc, f"exited with status {self._proc.returncode}")
                break
            self._read_answers(wait=min(0.05, max(deadline - time.monotonic(), 0.0)))
        done = not self._frames and not self._rows and self._handled >= self._sent
        return done and self.failed + self.dropped == lost_before

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued and stop the child."""
        self.flush(timeout)
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        with contextlib.suppress(OSError):
            proc.stdout.close()


# --- the child process ------------------------------------------------------------------------


def _lower_priority(priority: str) -> None:
    """``idle`` (SCHED_IDLE, else nice 19) or a nice increment."""
    if priority == "idle":
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return
        except (AttributeError, OSError):
            priority = "19"
    os.nice(int(priority))


def frames(buffer: bytearray) -> list[list[tuple]]:
    """Whole frames at the start of ``buffer``, decoded; removes them from it."""
    out, at = [], 0
    while len(buffer) - at >= _LENGTH.size:
        size = _LENGTH.unpack_from(buffer, at)[0]
        if len(buffer) - at - _LENGTH.size < size:
            break
        out.append(marshal.loads(memoryview(buffer)[at + _LENGTH.size:at + _LENGTH.size + size]))
        at += _LENGTH.size + size
    del buffer[:at]
    return out


def main(argv: list[str]) -> int:
    """Write the events read from stdin to the SQLite database ``argv[0]`` until stdin closes."""
    db = argv[0]
    if len(argv) > 1:
        _lower_priority(argv[1])
    try:
        store = SQLiteStore(db)
    except (sqlite3.Error, OSError) as exc:
        log.error("cannot open the database %s: %s", db, exc)
        return 1
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    buffer = bytearray()
    handled = written = 0

    def waiting() -> bool:
        return bool(select.select([stdin], [], [], 0)[0])

    while True:
        chunk = os.read(stdin, PIPE_SIZE)  # waits for the next frames
        eof = not chunk
        buffer += chunk
        while not eof and len(buffer) < BATCH_BYTES and waiting():
            chunk = os.read(stdin, PIPE_SIZE)
            eof = not chunk
            buffer += chunk
        rows = [row for frame in frames(buffer) for row in frame]
        if rows:
            try:
                store.record_rows(rows)
                written += len(rows)
            except Exception:  # noqa: BLE001 - a bad batch (disk full, locked too long) must not stop the writer
                log.exception("could not record %d call events", len(rows))
            handled += len(rows)
            os.write(stdout, _COUNTS.pack(handled, written))
        if eof:
            store.close()
            return 0
        if rows and not waiting():
            time.sleep(GATHER)


if __name__ == "__main__":
    logging.basicConfig(format="event writer: %(message)s")
    sys.exit(main(sys.argv[1:]))
