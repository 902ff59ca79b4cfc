"""Call events on disk before the answer goes out: one append-only spool file per recording process.

The spool of the database ``events.sqlite`` is the folder ``events.sqlite.spool/``. A recording process
(``SpoolWriter``) appends to ``<tag>-<seq>.spool`` (tag: its pid and a random part; seq counts rotations)
and holds an exclusive ``flock`` on that file while it may still append to it. A file nobody holds a lock
on is finished: its writer rotated past it, stopped, or was killed.

A record is a 4-byte little-endian payload length, the payload's Adler-32 checksum, then the payload:
the event's tuple (``CallEvent.row()``), or a list of the tuples of one answer's events (all or none of
them are recorded; what the host wrote while an answer's decisions were events of their own), in
``marshal`` format (version 2: no back-references, a fifth cheaper). A file is ``ROTATE_BYTES`` long from the start (its blocks reserved with ``posix_fallocate``, so
a full disk cannot fault the writer later), mapped into the writer's memory (``MAP_SHARED``), and records
are copied into the mapping one after the other, the payload before its length; the zeros after the last
record mark where it ends. A mapped file's pages are
the kernel's page cache, which outlives the process: once the copy is done (before the answer goes out)
a SIGKILL of the answering process or of the event writer loses nothing the caller was answered for.
Copying costs no system call: measured, 1.2 µs of CPU per event, against 2.0 µs for one ``write()`` to
a file opened with ``O_APPEND`` (and 0.3 µs for the in-memory queue this replaced, which a SIGKILL
emptied). A file closed in an orderly way is cut to its records.

``drain(folder, store)`` moves whole records into SQLite, each file's new position in the same
transaction (``SQLiteStore.record_rows(rows, mark)``), so a reader that is killed and started again goes
on exactly where the last commit ended, and two readers never record an event twice. A record that is not
whole yet (or fails its checksum) waits at the end of a live file; at the end of a finished one it is
skipped with a warning. Finished files are deleted once fully moved.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import marshal
import mmap
import os
import struct
import time
import uuid
import zlib

from designer.store import SpoolConflict, SpoolMark, Store

log = logging.getLogger("flexml.host")

SUFFIX = ".spool"
ROTATE_BYTES = 8 << 20  # a writer starts a new file after this many bytes; the old one is deleted once moved
BATCH_BYTES = 2 << 20  # bytes of records moved in one transaction
MAX_RECORD = 1 << 20  # a longer length field means the file is damaged
_HEADER = struct.Struct("<II")  # payload length, Adler-32 of the payload (half the cost of CRC-32 here)
_MARSHAL_VERSION = 2
_ROW_FIELDS = 8  # CallEvent's fields
_STALE_NEW = 60.0  # seconds after which an unlocked, never-renamed ``.new`` file is removed


def spool_folder(db: str) -> str:
    """The spool folder beside the SQLite file ``db``."""
    return os.path.abspath(db) + SUFFIX


def encode(row: tuple) -> bytes:
    """One record: length, checksum, marshal payload."""
    payload = marshal.dumps(row, _MARSHAL_VERSION)
    return _HEADER.pack(len(payload), zlib.adler32(payload)) + payload


def decode(data: bytes) -> tuple[list[tuple], int, int]:
    """The whole records at the start of ``data``: (rows, bytes they take, bytes the next record needs).

    The third value is 0 when no record follows (``data`` ends, or the zeros after the last record begin),
    the next record's whole size when it is cut short, and -1 when the next record is damaged (a length past
    MAX_RECORD, a checksum that does not match) or still being copied in. A whole record whose payload is
    not an event (not the tuple ``CallEvent.row()`` makes: the database could not take it) is skipped.
    """
    rows: list[tuple] = []
    at, size_all = 0, len(data)
    view = memoryview(data)
    while size_all - at >= _HEADER.size:
        size, crc = _HEADER.unpack_from(data, at)
        if size == 0:
            return rows, at, (-1 if crc else 0)
        if size > MAX_RECORD:
            return rows, at, -1
        end = at + _HEADER.size + size
        if end > size_all:
            return rows, at, end - at
        payload = view[at + _HEADER.size:end]
        if zlib.adler32(payload) != crc:
            return rows, at, -1
        try:
            row = marshal.loads(payload)
        except (EOFError, ValueError, TypeError):
            row = None
        if _is_event(row):
            rows.append(row)
        elif type(row) is list and row and all(_is_event(r) for r in row):  # one answer's events together
            rows.extend(row)
        else:  # whole and checksummed, so its length holds: skip this one record, not the rest of the file
            log.warning("a spool record of %d bytes is not a call event; skipped", size)
        at = end
    return rows, at, (_HEADER.size if at < size_all else 0)


def _is_event(row: object) -> bool:
    """Whether a decoded payload has the shape and types of ``CallEvent.row()`` (what SQLite can store)."""
    if not isinstance(row, tuple) or len(row) != _ROW_FIELDS:
        return False
    *texts, digits, at, params = row
    return (all(type(v) is str for v in texts) and (digits is None or type(digits) is str)
            and type(at) in (int, float) and type(params) is dict
            and all(type(k) is str and type(v) is str for k, v in params.items()))


class SpoolWriter:
    """Appends events to this process's spool file in ``folder`` (memory-mapped), rotating when it is full."""

    def __init__(self, folder: str, rotate_bytes: int = ROTATE_BYTES):
        os.makedirs(folder, mode=0o700, exist_ok=True)  # owner-only, like the database beside it
        if os.stat(folder).st_mode & 0o077:  # made readable by others (by an earlier version)
            os.chmod(folder, 0o700)
        self.folder = folder
        self.rotate_bytes = rotate_bytes
        self.tag = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.seq = 0
        self.size = 0  # bytes of records in the current file
        self.fd = -1
        self._map: mmap.mmap | None = None
        self._open_next()

    @property
    def path(self) -> str:
        return os.path.join(self.folder, f"{self.tag}-{self.seq:06d}{SUFFIX}")

    def _open_next(self) -> None:
        """Start the next file: created under a temporary name, locked, sized and mapped, then renamed
        (readers never see it unlocked while it is live)."""
        self.seq += 1
        final = self.path
        fd = os.open(final + ".new", os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.posix_fallocate(fd, 0, self.rotate_bytes)
            mapping = mmap.mmap(fd, self.rotate_bytes, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
            os.rename(final + ".new", final)
        except OSError:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(final + ".new")
            raise
        self._finish()
        self.fd, self._map, self.size = fd, mapping, 0

    def append(self, row: tuple | list[tuple]) -> int:
        """Copy one event (or a list of one answer's events) into the spool; returns the bytes it took.
        OSError when no new file can be made."""
        if self._map is None:
            raise OSError(errno.EBADF, "the spool file is closed")
        payload = marshal.dumps(row, _MARSHAL_VERSION)
        n = len(payload)
        end = self.size + _HEADER.size + n
        if end > self.rotate_bytes:
            if n + _HEADER.size > self.rotate_bytes or n > MAX_RECORD:
                raise OSError(errno.EFBIG, f"an event of {n} bytes does not fit in a spool file")
            self._open_next()
            end = _HEADER.size + n
        at, mapping = self.size, self._map
        mapping[at + _HEADER.size:end] = payload
        _HEADER.pack_into(mapping, at, n, zlib.adler32(payload))  # the length last: the record is whole
        self.size = end
        return end - at

    def _finish(self) -> None:
        """Let go of the current file: cut to its records, unlocked (finished)."""
        if self._map is not None:
            self._map.close()
            self._map = None
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.ftruncate(self.fd, self.size)
            os.close(self.fd)  # releases its lock
            self.fd = -1

    def close(self) -> None:
        self._finish()


def tag_of(name: str) -> str:
    """The writer's tag in a spool file name ``<tag>-<seq>.spool``."""
    return name[:-len(SUFFIX)].rsplit("-", 1)[0]


def _unlocked(fd: int) -> bool:
    """True when no writer holds the file's lock (it is finished); the lock is then ours until ``fd`` closes."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def drain(folder: str, store: Store, batch_bytes: int = BATCH_BYTES) -> int:
    """Move every whole record in ``folder`` into ``store``; delete finished files. Returns the events moved."""
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    positions = store.spool_positions()
    moved = 0
    for name in names:
        path = os.path.join(folder, name)
        if name.endswith(SUFFIX):
            position = positions.get(name)
            if position is None or not position.done:
                moved += _drain_file(path, name, store, position.offset if position else 0, batch_bytes)
        elif name.endswith(SUFFIX + ".new"):
            _remove_stale_new(path)
    return moved


def _drain_file(path: str, name: str, store: Store, offset: int, batch_bytes: int) -> int:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:  # another reader deleted it
        return 0
    try:
        finished = _unlocked(fd)  # checked before reading: a finished file cannot grow any more
        moved = 0
        while True:
            size = os.fstat(fd).st_size
            if offset >= size:
                break
            data = os.pread(fd, min(size - offset, batch_bytes), offset)
            rows, used, need = decode(data)
            if not used and need > len(data) and offset + need <= size:  # one record longer than a batch
                data = os.pread(fd, need, offset)
                rows, used, need = decode(data)
            if used:
                try:
                    store.record_rows(rows, SpoolMark(name, tag_of(name), offset, offset + used, len(rows)))
                except SpoolConflict:  # another reader moved this file on: continue from where it got
                    position = store.spool_positions().get(name)
                    if position is None or position.done:
                        return moved
                    offset = position.offset
                    continue
                offset += used
                moved += len(rows)
                continue
            if finished:  # what follows the last whole record of a finished file: zeros, or a record cut short
                if need != 0 and _has_data(fd, offset, size):
                    log.warning("spool file %s: the bytes from byte %d are not a whole call event; skipped",
                                path, offset)
                offset = size
            break
        if finished and offset >= size:
            os.unlink(path)  # the file first: a crash before the next line leaves a row for a file that is gone
            store.spool_done(name)
        return moved
    finally:
        os.close(fd)


def _has_data(fd: int, offset: int, size: int) -> bool:
    """Whether anything but zeros lies between ``offset`` and ``size``."""
    while offset < size:
        chunk = os.pread(fd, min(size - offset, 1 << 20), offset)
        if not chunk or chunk.count(0) != len(chunk):
            return bool(chunk)
        offset += len(chunk)
    return False


def _remove_stale_new(path: str) -> None:
    """A file a writer created but was killed before renaming (it holds no events)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return
    try:
        if _unlocked(fd) and time.time() - os.fstat(fd).st_mtime > _STALE_NEW:
            os.unlink(path)
    finally:
        os.close(fd)
