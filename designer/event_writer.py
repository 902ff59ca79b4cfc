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
in ``dropped`` (and logged). The child, ``python -m designer.event_writer DB``,
runs only on CPU time the answering processes leave over (SCHED_IDLE); each
time it wakes it reads all that the pipe holds and inserts it in one
transaction with ``SQLiteStore.record_rows``, then sleeps ``GATHER`` seconds
so the next transaction is as large. If it dies, the next frame starts a new
one (a frame it was part-way through is counted in ``failed``).

Frames: a 4-byte little-endian length, then ``marshal`` data — a list of
event tuples, or ``None`` asking the child to reply (8 bytes on its stdout)
with how many events it has written; ``flush`` uses that to wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import marshal
import os
import select
import struct
import subprocess
import sys
import time
from collections import deque

from .store import CallEvent, SQLiteStore

log = logging.getLogger("flexml.host")

_LENGTH = struct.Struct("<I")
_COUNT = struct.Struct("<Q")
# The child's CPU priority: Linux's SCHED_IDLE runs it only on CPU time the answering processes leave over
# (measured: p99 1.10x bare against 1.44x at nice 5). Where SCHED_IDLE is missing, the lowest nice level.
PRIORITY = "idle"
PIPE_SIZE = 1 << 20  # ask Linux for a 1 MiB pipe (the default is 64 KiB)


class ProcessRecorder:
    """``recorder(event)`` queues on the event loop; a child process writes batches to SQLite at ``db``."""

    def __init__(self, db: str, *, batch: int = 256, interval: float = 0.05, max_buffer: int = 64 << 20,
                 priority: str = PRIORITY):
        self.db = os.path.abspath(db)
        self.batch = batch
        self.interval = interval
        self.max_buffer = max_buffer
        self.priority = priority
        self.dropped = 0  # events not queued: the buffer was full
        self.failed = 0  # events lost with a child that died
        self.written = 0  # events the child has confirmed (updated by flush)
        self._rows: list[tuple] = []
        self._frames: deque[tuple[bytes, int]] = deque()  # (frame, events in it) waiting for the pipe
        self._sent = 0  # bytes of the first frame already in the pipe
        self._buffered = 0
        self._timer: asyncio.TimerHandle | None = None
        self._proc: subprocess.Popen | None = None

    # --- on the answer path ---------------------------------------------------------------

    def __call__(self, event: CallEvent) -> None:
        rows = self._rows
        rows.append((event.call_sid, event.flow_id, event.rev, event.kind, event.target, event.digits, event.at,
                     event.params))
        if len(rows) >= self.batch:
            self._send()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self.interval, self._on_timer)
            except RuntimeError:  # not on an event loop: hand it over now
                self._send()

    @property
    def pending(self) -> int:
        return len(self._rows) + sum(n for _, n in self._frames)

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
        if self._frames and self._timer is None:  # the pipe is full: try again shortly
            with contextlib.suppress(RuntimeError):
                self._timer = asyncio.get_running_loop().call_later(self.interval, self._on_timer)

    def _pump(self, deadline: float | None = None) -> None:
        """Write queued frames to the child as far as the pipe takes them (all, until ``deadline``, if given)."""
        while self._frames:
            frame, _count = self._frames[0]
            proc = self._child()
            try:
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0 or not select.select([], [proc.stdin], [], left)[1]:
                        return
                self._sent += os.write(proc.stdin.fileno(), memoryview(frame)[self._sent:])
            except BlockingIOError:
                if deadline is None:
                    return
                continue
            except OSError as exc:  # the child is gone: the next one starts with the next whole frame
                log.error("event writer stopped (%s)", exc)
                self._discard(proc)
                continue
            if self._sent == len(frame):
                self._drop_first()

    def _drop_first(self, failed: int = 0) -> None:
        frame, _count = self._frames.popleft()
        self._buffered -= len(frame) - _LENGTH.size
        self._sent = 0
        self.failed += failed

    # --- the child --------------------------------------------------------------------------

    def _child(self) -> subprocess.Popen:
        proc = self._proc
        if proc is not None and proc.poll() is not None:
            log.error("event writer exited with status %s; starting another", proc.returncode)
            self._discard(proc)
            proc = None
        if proc is None:
            proc = subprocess.Popen([sys.executable, "-m", "designer.event_writer", self.db, self.priority],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
            with contextlib.suppress(OSError, AttributeError):
                fcntl.fcntl(proc.stdin.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
            os.set_blocking(proc.stdin.fileno(), False)
            self._proc = proc
            if self._sent:  # a frame part-way into the old child cannot be finished in this one
                self._drop_first(failed=self._frames[0][1])
        return proc

    def _discard(self, proc: subprocess.Popen) -> None:
        if self._proc is proc:
            self._proc = None
        with contextlib.suppress(OSError):
            proc.stdin.close()
        with contextlib.suppress(OSError):
            proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    # --- waiting and stopping ----------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> bool:
        """Hand over everything queued and wait until the child has written it; False on timeout."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._send()
        if self._proc is None and not self._frames:
            return True  # nothing was ever recorded
        deadline = time.monotonic() + timeout
        self._pump(deadline)
        if self._frames:
            return False
        sync = marshal.dumps(None)
        self._frames.append((_LENGTH.pack(len(sync)) + sync, 0))
        self._buffered += len(sync)
        proc = self._child()
        self._pump(deadline)
        if self._frames:
            return False
        try:
            ready = select.select([proc.stdout], [], [], max(deadline - time.monotonic(), 0))[0]
            reply = os.read(proc.stdout.fileno(), _COUNT.size) if ready else b""
        except OSError:
            return False
        if len(reply) != _COUNT.size:
            return False
        self.written = _COUNT.unpack(reply)[0]
        return True

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


GATHER = 0.1  # the child sleeps this long after each write, so the next one takes what piled up meanwhile


def frames(buffer: bytearray) -> list:
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
    """Write the events read from stdin to the SQLite database ``argv[0]`` until stdin closes.

    Each wake-up reads everything the pipe holds and writes it in one transaction, answering any
    ``flush`` request once the events sent before it are written.
    """
    db = argv[0]
    if len(argv) > 1:
        _lower_priority(argv[1])
    store = SQLiteStore(db)
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    buffer = bytearray()
    written = 0

    def write(rows: list[tuple]) -> None:
        nonlocal written
        try:
            store.record_rows(rows)
            written += len(rows)
        except Exception:  # noqa: BLE001 - a bad batch (disk full, locked too long) must not stop the writer
            log.exception("could not record %d call events", len(rows))

    while True:
        chunk = os.read(stdin, PIPE_SIZE)
        if not chunk:
            break
        buffer += chunk
        rows: list[tuple] = []
        synced = False
        for frame in frames(buffer):
            if frame is None:  # a flush: answer once everything before it is written
                write(rows)
                rows = []
                os.write(stdout, _COUNT.pack(written))
                synced = True
            else:
                rows += frame
        write(rows)
        if not synced and rows:
            time.sleep(GATHER)
    write([row for frame in frames(buffer) if frame for row in frame])
    store.close()
    return 0


if __name__ == "__main__":
    logging.basicConfig(format="event writer: %(message)s")
    sys.exit(main(sys.argv[1:]))
