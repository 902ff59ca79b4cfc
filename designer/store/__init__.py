"""The store: flows, immutable published revisions, DID bindings, call events, status callbacks, settings.

``Store`` is the interface the rest of the app uses: every method called on a
store outside this package is in it (a test checks). ``SQLiteStore`` (one
file, WAL) is the only store today; a PostgreSQL store is planned, not
present, and would implement the same protocol. Flows are saved as their
node-link JSON text; a revision also keeps its export bundle, so the host
serves it without recompiling.

Every flow save carries the version the editor last saw; a save against a
newer version raises ``StaleFlow`` (a second tab must not silently overwrite).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from designer.errors import DesignerError


class StoreError(DesignerError):
    """A store operation that cannot be done; the message says which object."""


class SpoolConflict(StoreError):
    """A spool file's position in the database is not where the reader started: another reader moved it."""


class StaleFlow(StoreError):
    """The flow changed since the editor loaded it (another tab or user saved)."""


@dataclass
class FlowRecord:
    id: str
    name: str
    graph_json: str
    version: int
    updated_at: float
    published_rev: int | None = None
    numbers: list[str] = field(default_factory=list)


@dataclass
class Revision:
    flow_id: str
    rev: int
    graph_json: str
    bundle: bytes
    created_at: float
    note: str = ""


@dataclass
class CallEvent:
    call_sid: str
    flow_id: str
    rev: str
    kind: str  # "document", "router", "error", "status"
    target: str  # document name or router node, or the reason for an error
    digits: str | None
    at: float
    params: dict[str, Any] = field(default_factory=dict)

    def row(self) -> tuple:
        """The event as a plain tuple in field order (what ``record_rows`` and the event spool's records hold)."""
        return (self.call_sid, self.flow_id, self.rev, self.kind, self.target, self.digits, self.at, self.params)


@dataclass(frozen=True)
class SpoolMark:
    """Events read from bytes ``start``..``end`` of spool file ``name`` (written by ``tag``)."""

    name: str
    tag: str
    start: int
    end: int
    events: int


@dataclass(frozen=True)
class SpoolPosition:
    """How far a spool file has been moved into the events table; ``done`` once the file is deleted."""

    offset: int
    events: int
    done: bool


class Store(Protocol):
    """What the designer, the host and the event writer call on a store."""

    path: str  # where the data lives (the carrier's password key file is kept beside it)

    def close(self) -> None: ...
    # flows
    def list_flows(self) -> list[FlowRecord]: ...
    def get_flow(self, flow_id: str) -> FlowRecord | None: ...
    def create_flow(self, flow_id: str, name: str, graph_json: str) -> FlowRecord: ...
    def save_flow(self, flow_id: str, graph_json: str, expected_version: int, name: str | None = None) -> int: ...
    def rename_flow(self, flow_id: str, name: str) -> None: ...
    def delete_flow(self, flow_id: str) -> None: ...
    # revisions
    def add_revision(self, flow_id: str, graph_json: str, bundle_for_rev, note: str = "") -> Revision: ...
    def list_revisions(self, flow_id: str) -> list[Revision]: ...
    def get_revision(self, flow_id: str, rev: int) -> Revision | None: ...
    def published_revisions(self) -> list[Revision]: ...
    def set_published(self, flow_id: str, rev: int) -> None: ...
    # numbers
    def bind_did(self, number: str, flow_id: str) -> None: ...
    def unbind_did(self, number: str) -> None: ...
    def dids(self) -> dict[str, str]: ...
    # calls
    def record_events(self, events: list[CallEvent]) -> None: ...
    def record_rows(self, rows: list[tuple], mark: SpoolMark | None = None) -> None: ...  # ``CallEvent.row()``s
    # the durable spool's file positions (designer/host/spool.py), moved in the same transaction as the events
    def spool_positions(self) -> dict[str, SpoolPosition]: ...
    def spool_done(self, name: str) -> None: ...
    def spool_totals(self, tag: str) -> tuple[int, int]: ...
    def recent_calls(self, limit: int = 50, flow_id: str | None = None) -> list[dict]: ...
    def call_events(self, call_sid: str) -> list[CallEvent]: ...
    # settings
    def get_setting(self, key: str, default: str | None = None) -> str | None: ...
    def set_setting(self, key: str, value: str) -> None: ...
    def add_setting(self, key: str, value: str) -> bool: ...
    # sign-in sessions (by random token)
    def add_session(self, token: str) -> None: ...
    def session_alive(self, token: str, since: float = 0.0) -> bool: ...
    def end_session(self, token: str) -> None: ...
    def end_all_sessions(self, before: float | None = None, keep: str | None = None) -> None: ...


SCHEMA = """
CREATE TABLE IF NOT EXISTS flows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    graph_json TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at REAL NOT NULL,
    published_rev INTEGER
);
CREATE TABLE IF NOT EXISTS revisions (
    flow_id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    graph_json TEXT NOT NULL,
    bundle BLOB NOT NULL,
    created_at REAL NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (flow_id, rev)
);
-- the last revision number each flow id was given: kept when the flow is deleted, so a new flow
-- with the same id never reuses a number that old call records point at
CREATE TABLE IF NOT EXISTS revision_numbers (
    flow_id TEXT PRIMARY KEY,
    last_rev INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dids (
    number TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_sid TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    rev TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    digits TEXT,
    at REAL NOT NULL,
    params TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_call ON events (call_sid, id);
DROP INDEX IF EXISTS events_at; -- no query used it, and it cost a third of each insert on the answer-time writer
-- how far each spool file of the host's event writer is in the events table (designer/host/spool.py)
CREATE TABLE IF NOT EXISTS event_spool (
    name TEXT PRIMARY KEY,
    tag TEXT NOT NULL,
    offset INTEGER NOT NULL,
    events INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS event_spool_tag ON event_spool (tag);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- signed-in browser sessions: the SHA-256 of each session's random token (the token itself is only in the
-- browser's signed cookie); signing out deletes the row, so every tab of that session is signed out
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    created_at REAL NOT NULL
);
"""

# The database and the files SQLite and the designer keep beside it: readable by their owner only
# (the database holds the session secret, the key file the carrier password's key)
PRIVATE_MODE = 0o600
PRIVATE_SUFFIXES = ("", "-wal", "-shm", "-journal", ".key")


def make_private(db_path: str) -> None:
    """Create the database file owner-only if it is missing, and make it and its neighbours owner-only.

    SQLite gives the -wal and -shm files the database file's permissions, so creating it 0600 before
    the first connection keeps them private whatever the umask is.
    """
    try:  # O_EXCL: never open (and close) a database this process may hold locks on; closing any
        # descriptor of a file drops all of the process's POSIX locks on it, SQLite's included
        os.close(os.open(db_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_MODE))
    except FileExistsError:
        pass
    for suffix in PRIVATE_SUFFIXES:
        try:
            if os.stat(db_path + suffix).st_mode & 0o777 != PRIVATE_MODE:
                os.chmod(db_path + suffix, PRIVATE_MODE)
        except FileNotFoundError:
            pass



# Events go in as multi-row INSERTs of EVENT_ROWS rows: one statement (prepared once, cached) per
# chunk, so the writer thread binds a chunk's values in C and then releases Python's GIL while SQLite
# inserts the whole chunk; the answering thread is never starved behind a row-by-row loop.
EVENT_ROWS = 100
BUSY_WAIT_SECONDS = 30  # how long a write waits for another connection's lock before SQLite gives up
_EVENT_COLUMNS = "INSERT INTO events (call_sid, flow_id, rev, kind, target, digits, at, params) VALUES "


def _insert_events_sql(rows: int) -> str:
    return _EVENT_COLUMNS + ",".join(["(?,?,?,?,?,?,?,?)"] * rows)


_INSERT_EVENTS = _insert_events_sql(EVENT_ROWS)
# json.dumps without its per-call set-up (a third of the cost for a small dict); same output as
# json.dumps(obj, separators=(",", ":"))
_encode_params = json.encoder.c_make_encoder(
    None, None, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True)


def params_json(params: dict[str, Any]) -> str:
    """An event's parameters as compact JSON text (str values, as the host records them)."""
    return "".join(_encode_params(params, 0)) if params else "{}"


def _first_param(events: list[CallEvent], name: str) -> str:
    """A call-level field (From, To) from the first event that has it (the host keeps them on a call's first
    request, and status callbacks carry them too)."""
    return next((e.params[name] for e in events if e.params.get(name)), "")


class SQLiteStore:
    """Embedded SQLite (WAL). Safe to share between threads; each thread has its own connection."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            make_private(self.path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self._conn() as c:
            c.executescript(SCHEMA)
        if self.path != ":memory:":
            make_private(self.path)  # the -wal and -shm files the first connection made (or older ones)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_WAIT_SECONDS, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def _write(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        with self._write_lock:
            return self._conn().execute(sql, params)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # --- flows -------------------------------------------------------------------------

    def _numbers_by_flow(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for row in self._conn().execute("SELECT number, flow_id FROM dids ORDER BY number"):
            out.setdefault(row["flow_id"], []).append(row["number"])
        return out

    def _record(self, row: sqlite3.Row, numbers: dict[str, list[str]]) -> FlowRecord:
        return FlowRecord(id=row["id"], name=row["name"], graph_json=row["graph_json"], version=row["version"],
                          updated_at=row["updated_at"], published_rev=row["published_rev"],
                          numbers=numbers.get(row["id"], []))

    def list_flows(self) -> list[FlowRecord]:
        numbers = self._numbers_by_flow()
        rows = self._conn().execute("SELECT * FROM flows ORDER BY updated_at DESC, id").fetchall()
        return [self._record(r, numbers) for r in rows]

    def get_flow(self, flow_id: str) -> FlowRecord | None:
        row = self._conn().execute("SELECT * FROM flows WHERE id = ?", (flow_id,)).fetchone()
        return None if row is None else self._record(row, self._numbers_by_flow())

    def create_flow(self, flow_id: str, name: str, graph_json: str) -> FlowRecord:
        now = time.time()
        try:
            self._write("INSERT INTO flows (id, name, graph_json, version, updated_at) VALUES (?, ?, ?, 1, ?)",
                        (flow_id, name, graph_json, now))
        except sqlite3.IntegrityError:
            raise StoreError(f"a flow with id {flow_id!r} already exists") from None
        return FlowRecord(flow_id, name, graph_json, 1, now)

    def save_flow(self, flow_id: str, graph_json: str, expected_version: int, name: str | None = None) -> int:
        """Save a draft; returns the new version. Raises StaleFlow when someone saved in between."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute("SELECT version FROM flows WHERE id = ?", (flow_id,)).fetchone()
                if row is None:
                    raise StoreError(f"flow {flow_id!r} does not exist (was it deleted?)")
                if row["version"] != expected_version:
                    raise StaleFlow(f"flow {flow_id!r} was changed elsewhere (version {row['version']}, "
                                    f"this editor has {expected_version})")
                conn.execute("UPDATE flows SET graph_json = ?, version = version + 1, updated_at = ?, "
                             "name = COALESCE(?, name) WHERE id = ?", (graph_json, time.time(), name, flow_id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return expected_version + 1

    def rename_flow(self, flow_id: str, name: str) -> None:
        self._write("UPDATE flows SET name = ?, updated_at = ? WHERE id = ?", (name, time.time(), flow_id))

    def delete_flow(self, flow_id: str) -> None:
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM dids WHERE flow_id = ?", (flow_id,))
            conn.execute("DELETE FROM revisions WHERE flow_id = ?", (flow_id,))
            conn.execute("DELETE FROM flows WHERE id = ?", (flow_id,))
            conn.execute("COMMIT")

    # --- revisions ---------------------------------------------------------------------

    def add_revision(self, flow_id: str, graph_json: str, bundle_for_rev, note: str = "") -> Revision:
        """Store a new immutable revision and mark it the flow's published one.

        ``bundle_for_rev(rev) -> bytes`` builds its bundle. (Publishing as a user does it, which also
        compiles and serves the revision, is ``designer.services.publish``.)
        """
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                if conn.execute("SELECT 1 FROM flows WHERE id = ?", (flow_id,)).fetchone() is None:
                    raise StoreError(f"flow {flow_id!r} does not exist")
                row = conn.execute(
                    "SELECT MAX(COALESCE((SELECT MAX(rev) FROM revisions WHERE flow_id = ?1), 0), "
                    "COALESCE((SELECT last_rev FROM revision_numbers WHERE flow_id = ?1), 0)) + 1 AS rev",
                    (flow_id,)).fetchone()
                rev = int(row["rev"])
                conn.execute("INSERT INTO revision_numbers (flow_id, last_rev) VALUES (?, ?) "
                             "ON CONFLICT (flow_id) DO UPDATE SET last_rev = excluded.last_rev", (flow_id, rev))
                bundle = bundle_for_rev(rev)
                now = time.time()
                conn.execute("INSERT INTO revisions (flow_id, rev, graph_json, bundle, created_at, note) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (flow_id, rev, graph_json, bundle, now, note))
                conn.execute("UPDATE flows SET published_rev = ? WHERE id = ?", (rev, flow_id))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return Revision(flow_id, rev, graph_json, bundle, now, note)

    def _revision(self, row: sqlite3.Row) -> Revision:
        return Revision(row["flow_id"], row["rev"], row["graph_json"], bytes(row["bundle"]), row["created_at"],
                        row["note"])

    def list_revisions(self, flow_id: str) -> list[Revision]:
        rows = self._conn().execute("SELECT * FROM revisions WHERE flow_id = ? ORDER BY rev DESC", (flow_id,))
        return [self._revision(r) for r in rows]

    def get_revision(self, flow_id: str, rev: int) -> Revision | None:
        row = self._conn().execute("SELECT * FROM revisions WHERE flow_id = ? AND rev = ?",
                                   (flow_id, rev)).fetchone()
        return None if row is None else self._revision(row)

    def published_revisions(self) -> list[Revision]:
        """Every revision of every flow (the host keeps old ones for calls in progress)."""
        rows = self._conn().execute("SELECT r.* FROM revisions r JOIN flows f ON f.id = r.flow_id "
                                    "ORDER BY r.flow_id, r.rev")
        return [self._revision(r) for r in rows]

    def set_published(self, flow_id: str, rev: int) -> None:
        """Make an existing revision the one new calls get (a rollback)."""
        if self.get_revision(flow_id, rev) is None:
            raise StoreError(f"flow {flow_id!r} has no revision {rev}")
        self._write("UPDATE flows SET published_rev = ? WHERE id = ?", (rev, flow_id))

    # --- numbers -----------------------------------------------------------------------

    def bind_did(self, number: str, flow_id: str) -> None:
        if self.get_flow(flow_id) is None:
            raise StoreError(f"flow {flow_id!r} does not exist")
        self._write("INSERT INTO dids (number, flow_id) VALUES (?, ?) "
                    "ON CONFLICT(number) DO UPDATE SET flow_id = excluded.flow_id", (number, flow_id))

    def unbind_did(self, number: str) -> None:
        self._write("DELETE FROM dids WHERE number = ?", (number,))

    def dids(self) -> dict[str, str]:
        return {r["number"]: r["flow_id"] for r in self._conn().execute("SELECT * FROM dids ORDER BY number")}

    # --- calls -------------------------------------------------------------------------

    def record_events(self, events: list[CallEvent]) -> None:
        """Insert a batch of events in one transaction."""
        self.record_rows([e.row() for e in events])

    def record_rows(self, rows: list[tuple], mark: SpoolMark | None = None) -> None:
        """Insert events given as tuples in ``CallEvent`` field order, in one transaction, EVENT_ROWS per statement.

        With a ``mark``, the same transaction moves that spool file's position from ``mark.start`` to
        ``mark.end``; if the position is not at ``mark.start`` (another reader got there first) nothing is
        inserted and ``SpoolConflict`` is raised, so no event is recorded twice.
        """
        if not rows and mark is None:
            return
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                if mark is not None:
                    found = conn.execute("SELECT offset FROM event_spool WHERE name = ?", (mark.name,)).fetchone()
                    at = found[0] if found else 0
                    if at != mark.start:
                        raise SpoolConflict(f"spool file {mark.name} is at byte {at}, not {mark.start}")
                for start in range(0, len(rows), EVENT_ROWS):
                    chunk = rows[start:start + EVENT_ROWS]
                    values = [v for sid, flow, rev, kind, target, digits, at, params in chunk
                              for v in (sid, flow, rev, kind, target, digits, at, params_json(params))]
                    sql = _INSERT_EVENTS if len(chunk) == EVENT_ROWS else _insert_events_sql(len(chunk))
                    conn.execute(sql, values)
                if mark is not None:
                    conn.execute("INSERT INTO event_spool (name, tag, offset, events) VALUES (?, ?, ?, ?) "
                                 "ON CONFLICT(name) DO UPDATE SET offset = excluded.offset, "
                                 "events = events + excluded.events", (mark.name, mark.tag, mark.end, mark.events))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def spool_positions(self) -> dict[str, SpoolPosition]:
        """Every spool file's position, by file name."""
        rows = self._conn().execute("SELECT name, offset, events, done FROM event_spool")
        return {r["name"]: SpoolPosition(r["offset"], r["events"], bool(r["done"])) for r in rows}

    def spool_done(self, name: str) -> None:
        """Note that spool file ``name`` was deleted (every whole record in it is in the events table)."""
        self._write("UPDATE event_spool SET done = 1 WHERE name = ?", (name,))

    def spool_totals(self, tag: str) -> tuple[int, int]:
        """Events and bytes moved into the events table from the spool files written by ``tag``."""
        row = self._conn().execute("SELECT COALESCE(SUM(events), 0), COALESCE(SUM(offset), 0) FROM event_spool "
                                   "WHERE tag = ?", (tag,)).fetchone()
        return int(row[0]), int(row[1])

    def recent_calls(self, limit: int = 50, flow_id: str | None = None) -> list[dict]:
        """Calls, newest first: call_sid, flow_id, rev, started, ended, events, status, from, to."""
        where = "WHERE flow_id = ?" if flow_id else ""
        params: tuple = (flow_id, limit) if flow_id else (limit,)
        rows = self._conn().execute(
            f"SELECT call_sid, MIN(at) AS started, MAX(at) AS ended, COUNT(*) AS n FROM events {where} "
            "GROUP BY call_sid ORDER BY started DESC LIMIT ?", params).fetchall()
        out = []
        for r in rows:
            events = self.call_events(r["call_sid"])
            first = next((e for e in events if e.kind != "status"), events[0])
            status = next((e for e in reversed(events) if e.kind == "status"), None)
            out.append({
                "call_sid": r["call_sid"], "flow_id": first.flow_id, "rev": first.rev,
                "started": r["started"], "ended": r["ended"], "events": r["n"],
                "from": _first_param(events, "From"), "to": _first_param(events, "To"),
                "status": status.params.get("CallStatus", "") if status else "",
                "duration": status.params.get("CallDuration", "") if status else "",
            })
        return out

    def call_events(self, call_sid: str) -> list[CallEvent]:
        rows = self._conn().execute("SELECT * FROM events WHERE call_sid = ? ORDER BY at, id", (call_sid,))
        return [CallEvent(r["call_sid"], r["flow_id"], r["rev"], r["kind"], r["target"], r["digits"], r["at"],
                          json.loads(r["params"])) for r in rows]

    # --- settings ----------------------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self._conn().execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else row["value"]

    def set_setting(self, key: str, value: str) -> None:
        self._write("INSERT INTO settings (key, value) VALUES (?, ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))

    def add_setting(self, key: str, value: str) -> bool:
        """Store ``value`` only if ``key`` has none yet, in one statement; True when it was stored."""
        cursor = self._write("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
                             (key, value))
        return cursor.rowcount == 1

    # --- sign-in sessions --------------------------------------------------------------

    def add_session(self, token: str) -> None:
        self._write("INSERT INTO sessions (token_hash, created_at) VALUES (?, ?)", (_token_hash(token), time.time()))

    def session_alive(self, token: str, since: float = 0.0) -> bool:
        """Whether ``token``'s session was started (at or after ``since``, a time.time()) and not ended."""
        return self._conn().execute("SELECT 1 FROM sessions WHERE token_hash = ? AND created_at >= ?",
                                    (_token_hash(token), since)).fetchone() is not None

    def end_session(self, token: str) -> None:
        self._write("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))

    def end_all_sessions(self, before: float | None = None, keep: str | None = None) -> None:
        """End every session (started before ``before``, if given), except ``keep``'s."""
        self._write("DELETE FROM sessions WHERE created_at < ? AND token_hash IS NOT ?",
                    (float("inf") if before is None else before, None if keep is None else _token_hash(keep)))


def _token_hash(token: str) -> str:
    """What the sessions table keeps of a token: a copy of the database signs no one in."""
    return hashlib.sha256(token.encode()).hexdigest()
