"""Call events kept in a spool file before each answer, moved into the store by a child process.

The store is a SQLite file (its spool folder beside it) or a PostgreSQL URL (the spool folder under
this machine's state folder for that database, ``PostgresStore.path``); "SQLite" below means either.

Why a process and not a thread: a writer thread shares Python's GIL with the
event loop, and every batch it encodes and inserts makes the loop wait for
the GIL. Measured with ``tests/bench/bench_host.py``, that cost the host a
quarter of its throughput and most of its p99 headroom; leaving SQLite to a
child process costs the loop a few microseconds per event.

``ProcessRecorder(db)`` is the ``on_event`` hook of the host app. It is called
on the event loop's thread before the answer is sent, and appends the event to
this process's spool file (``designer.host.spool``, a memory-mapped file): once
the caller hears the answer, its event is in the kernel's page cache, and
survives a SIGKILL of this process or of the writer. If the events not yet moved into SQLite pass
``max_spool`` bytes, new events are counted in ``dropped`` (and logged).

The child, ``python -m designer.host.event_writer DB SPOOL TAG PRIORITY``,
runs only on CPU time the answering processes leave over (SCHED_IDLE). Every
``GATHER`` seconds (or when woken through its stdin) it moves what the spool
folder holds into SQLite (``spool.drain``: every file, also those left by
processes that were killed), and answers on its stdout with how many events and
bytes of this recorder's files are in the database. A minute after it starts, and every ten minutes
after that, it also deletes call events older than the retention setting (``designer.store.retention``),
a small batch at a time between two moves. When its stdin closes (the recorder stopped, or its process
was killed) it moves what is left and exits
quietly. A child that dies is replaced; nothing is lost with it, the next one
goes on from the position committed with the last events. One that dies soon
after starting (a database it cannot open) is given a rest first, doubling up
to a minute, while events wait in the spool.

Answers: two 8-byte little-endian counts (events, bytes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import signal
import sqlite3
import struct
import subprocess
import sys
import time

from designer.host.spool import ROTATE_BYTES, SpoolWriter, drain, spool_folder
from designer.store import CallEvent, StoreError, is_postgres, open_store, safe_url, sqlite_path
from designer.store.retention import Cleanup

log = logging.getLogger("flexml.host")

_COUNTS = struct.Struct("<QQ")  # the child's answer: events and bytes of the recorder's files in the database
# The child's CPU priority: Linux's SCHED_IDLE runs it only on CPU time the answering processes leave over
# (measured: p99 1.10x bare against 1.44x at nice 5). Where SCHED_IDLE is missing, the lowest nice level.
PRIORITY = "idle"
MAX_BACKOFF = 60.0  # longest rest for a child that keeps failing at start, seconds
# The child moves the spool into SQLite every GATHER seconds, so each transaction takes what piled up
# meanwhile: larger transactions cost less per event (measured with 2 workers: 33.2 against 36.2 µs of CPU
# per request at 0.4 s against 0.1 s). While more than a batch is waiting it goes on without pausing.
GATHER = 0.4
CHECK_EVERY = 0.5  # seconds between the recorder's looks at its child (alive? how far?) while events wait
DB_ENV = "FLEXML_EVENT_WRITER_DB"  # how a PostgreSQL URL reaches the child (DB argument ``env:NAME``)
SPOOL_RETRY = 1.0  # seconds before trying again to open a spool that could not be opened


class ProcessRecorder:
    """``recorder(event)`` appends to a spool file; a child process moves the spool into SQLite at ``db``."""

    def __init__(self, db: str, *, spool: str | None = None, rotate_bytes: int = ROTATE_BYTES,
                 max_spool: int = 1 << 30, check_every: float = CHECK_EVERY, priority: str = PRIORITY):
        if is_postgres(db):
            from designer.store.postgres import state_path

            self.db = db
            self.folder = spool or spool_folder(state_path(db))
        else:
            self.db = os.path.abspath(sqlite_path(db))
            self.folder = spool or spool_folder(self.db)
        self.rotate_bytes = rotate_bytes
        self.max_spool = max_spool
        self.check_every = check_every
        self.priority = priority
        self.appended = 0  # events in this recorder's spool files
        self.written = 0  # of those, events the children have moved into the database
        self.dropped = 0  # events not kept: the spool held max_spool bytes not yet in the database
        self.failed = 0  # events that could not be written to the spool (no spool folder, disk full)
        self.starts = 0  # children started
        self._spool: SpoolWriter | None = None
        self._spool_retry_at = 0.0
        self._bytes = 0  # bytes appended to this recorder's spool files
        self._written_bytes = 0  # of those, bytes in the database
        self._timer: asyncio.TimerHandle | None = None
        self._proc: subprocess.Popen | None = None
        self._answers = b""  # bytes read from the child's stdout, not yet a whole answer
        self._started = 0.0  # when the current child was started
        self._retry_at = 0.0  # no new child before this (monotonic clock)
        self._backoff = 1.0  # seconds to rest after a child that failed quickly, doubling to MAX_BACKOFF

    # --- on the answer path ---------------------------------------------------------------

    def __call__(self, event: CallEvent) -> None:
        spool = self._spool or self._open_spool()
        if spool is None:
            self.failed += 1
        elif self._bytes - self._written_bytes > self.max_spool:
            self.dropped += 1
            if self.dropped == 1:
                log.error("call events are arriving faster than they can be written; dropping some")
        else:
            try:
                self._bytes += spool.append(event.row())
            except OSError as exc:
                self.failed += 1
                if self.failed == 1:
                    log.error("cannot write call events to %s: %s", spool.path, exc.strerror or exc)
            else:
                self.appended += 1
        if self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self.check_every, self._on_timer)
            except RuntimeError:  # not on an event loop: look after the child now
                self._check()

    @property
    def pending(self) -> int:
        """Events in the spool and not yet in the database."""
        return self.appended - self.written

    def _open_spool(self) -> SpoolWriter | None:
        if time.monotonic() < self._spool_retry_at:
            return None
        try:
            self._spool = SpoolWriter(self.folder, self.rotate_bytes)
        except OSError as exc:
            self._spool_retry_at = time.monotonic() + SPOOL_RETRY
            log.error("cannot keep call events in %s: %s", self.folder, exc.strerror or exc)
            return None
        return self._spool

    def _on_timer(self) -> None:
        self._timer = None
        self._check()
        if self.pending:
            with contextlib.suppress(RuntimeError):
                self._timer = asyncio.get_running_loop().call_later(self.check_every, self._on_timer)

    def _check(self) -> None:
        """Start the child if none is running (and it is not resting); take in its answers."""
        if self._child() is not None:
            self._read_answers()

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
            events, size = _COUNTS.unpack_from(self._answers, whole - _COUNTS.size)  # the newest counts
            self.written = max(self.written, events)
            self._written_bytes = max(self._written_bytes, size)
            self._answers = self._answers[whole:]

    def _wake(self) -> None:
        """Ask the child to move the spool now instead of at its next GATHER."""
        proc = self._child()
        if proc is not None:
            with contextlib.suppress(OSError):
                os.write(proc.stdin.fileno(), b"w")

    # --- the child --------------------------------------------------------------------------

    def start(self) -> None:
        """Start the child now (at server start: it moves what earlier processes left in the spool)."""
        if self._spool is None:
            self._open_spool()
        self._child()

    def _child(self) -> subprocess.Popen | None:
        """The running child, started if need be; None while a child that kept failing is given a rest,
        or while there is no spool to move."""
        proc = self._proc
        if proc is not None and proc.poll() is not None:
            self._ended(proc, f"exited with status {proc.returncode}")
            proc = None
        if proc is None:
            if self._spool is None or time.monotonic() < self._retry_at:
                return None
            self._started = time.monotonic()
            self.starts += 1
            try:
                db, env = self.db, None
                if is_postgres(db):  # not in the child's command line, where any local user could read its password
                    db, env = f"env:{DB_ENV}", {**os.environ, DB_ENV: self.db}
                proc = subprocess.Popen(
                    [sys.executable, "-m", "designer.host.event_writer", db, self.folder, self._spool.tag,
                     self.priority],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True, env=env)
            except OSError as exc:
                self._rest(failed_quickly=True)
                log.error("cannot start the event writer: %s", exc)
                return None
            os.set_blocking(proc.stdin.fileno(), False)
            self._proc = proc
        return proc

    def _ended(self, proc: subprocess.Popen, why: str) -> None:
        """Account for a child that stopped; one that stopped soon after starting earns the next one a rest."""
        self._read_answers()  # what it said before it went
        self._discard(proc)
        self._answers = b""
        quick = time.monotonic() - self._started < 5.0
        self._rest(failed_quickly=quick)
        log.error("event writer %s; %s", why,
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
        """Wait until the children have moved every event of this recorder's spool into the database.

        False on timeout, or when some events could not be kept (counted in ``failed`` or ``dropped``).
        """
        lost_before = self.failed + self.dropped
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = time.monotonic() + timeout
        woken = 0.0
        while self.written < self.appended and time.monotonic() < deadline:
            if time.monotonic() - woken > GATHER:  # again now and then: a child started meanwhile, or resting
                self._wake()
                woken = time.monotonic()
            if self._proc is None:
                time.sleep(min(0.05, max(deadline - time.monotonic(), 0.0)))
            else:
                self._read_answers(wait=min(0.05, max(deadline - time.monotonic(), 0.0)))
        return self.written >= self.appended and self.failed + self.dropped == lost_before

    def close(self, timeout: float = 30.0) -> None:
        """Move what is in the spool into the database and stop the child."""
        self.flush(timeout)
        proc, self._proc = self._proc, None
        spool, self._spool = self._spool, None  # an event after this goes to a new file, for the next writer
        if spool is not None:
            spool.close()  # finished: the child (or the next one) deletes it once moved
        if proc is None:
            return
        try:
            proc.stdin.close()  # the child moves what is left, finished files included, and exits
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


def _answer(stdout: int, counts: tuple[int, int]) -> None:
    """Tell the recorder how far its files are; quietly nothing when it is gone or not reading."""
    with contextlib.suppress(OSError):  # BrokenPipeError: the recorder's process was killed
        os.write(stdout, _COUNTS.pack(*counts))


def _open(db: str, stdin: int):
    """The store; a SQLite file that cannot be opened is an error (the recorder rests before the next
    child), a PostgreSQL server that cannot be reached is waited for (events wait in the spool) until
    stdin closes."""
    said = False
    while True:
        try:
            return open_store(db)
        except (sqlite3.Error, OSError, StoreError) as exc:
            if not is_postgres(db) or "newer than" in str(exc):
                log.error("cannot open the database %s: %s", safe_url(db), exc)
                return None
            if not said:
                log.error("%s; the call events wait in the spool, trying again every second", exc)
                said = True
        try:
            if select.select([stdin], [], [], 1.0)[0] and not os.read(stdin, 1 << 16):
                return None
        except OSError:
            return None


def main(argv: list[str]) -> int:
    """Move the spool ``argv[1]`` into the SQLite database ``argv[0]`` until stdin closes, then once more.

    ``argv[2]`` is the recorder's tag (whose counts to answer with), ``argv[3]`` the CPU priority.
    """
    if len(argv) < 3:
        print("usage: python -m designer.host.event_writer DB SPOOL TAG [PRIORITY]", file=sys.stderr)
        return 2
    db, folder, tag = argv[0], argv[1], argv[2]
    if db.startswith("env:"):
        db = os.environ.get(db[4:], "")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the host stops us
    if len(argv) > 3:
        _lower_priority(argv[3])
    stdin, stdout = sys.stdin.fileno(), sys.stdout.fileno()
    store = _open(db, stdin)
    if store is None:
        return 1
    os.set_blocking(stdout, False)  # a recorder that does not read must not stop us
    told: tuple[int, int] | None = None
    eof = False
    cleanup = Cleanup()  # call events older than the retention setting, in small batches
    while True:
        try:
            drain(folder, store)
        except Exception as exc:  # noqa: BLE001 - a locked or full database: the events wait in the spool
            log.error("could not move call events into %s: %s; trying again", safe_url(db), exc)
        if not eof:
            cleanup.due(store)
        try:
            counts = store.spool_totals(tag)
        except Exception:  # noqa: BLE001 - the database went away: answer again once it is back
            counts = told
        if counts is not None and counts != told:
            _answer(stdout, counts)
            told = counts
        if eof:
            store.close()
            return 0
        try:
            if select.select([stdin], [], [], GATHER)[0]:
                eof = not os.read(stdin, 1 << 16)
        except OSError:
            eof = True


if __name__ == "__main__":
    logging.basicConfig(format="event writer: %(message)s")
    sys.exit(main(sys.argv[1:]))
