"""The embedded store: one SQLite file (WAL), owner-only, safe to share between threads."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from designer.store.base import (
    EVENT_ROWS, OVERRIDE_STATES, CallEvent, FlowRecord, HoursOverride, Revision, SpoolConflict, SpoolMark,
    SpoolPosition, StaleFlow, StoreError, TrafficCounts, Voicemail, _token_hash, decision_events, params_json,
    traffic_counts, traffic_queries, voicemail_values,
)
from designer.store.calls import CallFilter, call_dict, count_sql, hourly_sql, list_sql, quiet_from, summarise, \
    upsert_sql
from designer.store.migrations import SQLITE, VERSION_TABLE, apply

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
POLL_SECONDS = 0.1  # how often a host looks at the change counter of a SQLite store
BUSY_WAIT_SECONDS = 30  # how long a write waits for another connection's lock before SQLite gives up
_EVENT_COLUMNS = "INSERT INTO events (call_sid, flow_id, rev, kind, target, digits, at, params) VALUES "


def _insert_events_sql(rows: int) -> str:
    return _EVENT_COLUMNS + ",".join(["(?,?,?,?,?,?,?,?)"] * rows)


_INSERT_EVENTS = _insert_events_sql(EVENT_ROWS)
_UPSERT_CALL = upsert_sql("?", "MAX")
_INSERT_VOICEMAIL = ("INSERT INTO voicemails (call_sid, flow_id, rev, node, caller, called, at, duration, url, "
                     "file_sid) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING")
_TRAFFIC = traffic_queries("?", lambda column, name: f"json_extract({column}, '$.{name}')")


class SQLiteStore:
    """Embedded SQLite (WAL). Safe to share between threads; each thread has its own connection."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            make_private(self.path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._migrate()
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

    def _migrate(self) -> None:
        """Bring the file to this code's schema version (``designer.store.migrations``)."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(VERSION_TABLE)
                row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
                found = row[0]
                if found is None:  # a file made before versions were kept has the flows table already
                    found = 1 if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'flows'").fetchone() else 0
                apply(self.path, found, SQLITE, conn.execute)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def _changed(self, conn: sqlite3.Connection) -> None:
        """Count a change hosts must follow (inside the caller's transaction)."""
        conn.execute("UPDATE store_changes SET counter = counter + 1")

    def changes(self) -> int:
        """How many publishes, restores, binds, unbinds and deletes there have been: a host reloads when it moves."""
        return int(self._conn().execute("SELECT counter FROM store_changes").fetchone()[0])

    def wait_for_changes(self, seen: int, timeout: float) -> int:
        """The change counter once it differs from ``seen``, or after ``timeout`` seconds (a cheap poll)."""
        deadline = time.monotonic() + timeout
        while True:
            now = self.changes()
            if now != seen or time.monotonic() >= deadline:
                return now
            time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))

    def _transaction(self, *statements: tuple[str, tuple]) -> None:
        """Run statements in one write transaction that also counts a change."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    conn.execute(sql, params)
                self._changed(conn)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

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
            self._changed(conn)
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
                self._changed(conn)
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
        self._transaction(("UPDATE flows SET published_rev = ? WHERE id = ?", (rev, flow_id)))

    # --- numbers -----------------------------------------------------------------------

    def bind_did(self, number: str, flow_id: str) -> None:
        if self.get_flow(flow_id) is None:
            raise StoreError(f"flow {flow_id!r} does not exist")
        self._transaction(("INSERT INTO dids (number, flow_id) VALUES (?, ?) "
                           "ON CONFLICT(number) DO UPDATE SET flow_id = excluded.flow_id", (number, flow_id)))

    def unbind_did(self, number: str) -> None:
        self._transaction(("DELETE FROM dids WHERE number = ?", (number,)))

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
        inserted and ``SpoolConflict`` is raised, so no event is recorded twice. A ``recording`` event the
        host kept the URL of becomes a voicemail in the same transaction.
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
                conn.executemany(_UPSERT_CALL, summarise(rows))
                voicemails = voicemail_values(rows)
                if voicemails:
                    conn.executemany(_INSERT_VOICEMAIL, voicemails)
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

    # --- operators' switches of Hours steps ---------------------------------------------

    def set_override(self, flow_id: str, node: str, state: str, until: float | None) -> None:
        if state not in OVERRIDE_STATES:
            raise StoreError(f"override state {state!r} is not one of {', '.join(OVERRIDE_STATES)}")
        self._write("INSERT INTO overrides (flow_id, node, state, until, set_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(flow_id, node) DO UPDATE SET state = excluded.state, until = excluded.until, "
                    "set_at = excluded.set_at", (flow_id, node, state, until, time.time()))

    def clear_override(self, flow_id: str, node: str) -> None:
        self._write("DELETE FROM overrides WHERE flow_id = ? AND node = ?", (flow_id, node))

    def overrides(self, flow_id: str | None = None) -> list[HoursOverride]:
        """Every switch (of one flow, when given), expired ones too: the host ignores those itself."""
        sql = "SELECT * FROM overrides" + (" WHERE flow_id = ?" if flow_id is not None else "") + \
            " ORDER BY flow_id, node"
        rows = self._conn().execute(sql, () if flow_id is None else (flow_id,))
        return [HoursOverride(r["flow_id"], r["node"], r["state"], r["until"], r["set_at"]) for r in rows]

    def recent_calls(self, limit: int = 50, flow_id: str | None = None) -> list[dict]:
        """Calls, newest first (``find_calls`` without a filter but the flow)."""
        return self.find_calls(CallFilter(flow_id=flow_id), limit=limit)

    def find_calls(self, where: CallFilter, offset: int = 0, limit: int = 50, now: float | None = None) -> list[dict]:
        """One page of the calls ``where`` matches, newest first (``designer.store.calls.call_dict``)."""
        sql, params = list_sql(where, "?", quiet_from(now), offset, limit)
        return [call_dict(r) for r in self._conn().execute(sql, params)]

    def count_calls(self, where: CallFilter, now: float | None = None) -> int:
        sql, params = count_sql(where, "?", quiet_from(now))
        return int(self._conn().execute(sql, params).fetchone()[0])

    def calls_by_hour(self, where: CallFilter, origin: float, now: float | None = None) -> list[tuple[int, str, int]]:
        """(hour since ``origin``, outcome, calls) for the calls ``where`` matches (started at or after ``origin``)."""
        sql, params = hourly_sql(where, "?", quiet_from(now), origin, "CAST({} / {} AS INTEGER)")
        return [(int(r[0]), r[1], int(r[2])) for r in self._conn().execute(sql, params)]

    def delete_calls_before(self, before: float, limit: int = 500) -> int:
        """Delete up to ``limit`` calls started before ``before`` (their events and rows), and
        up to ``limit`` such events without a CallSid; returns how many events went. One short transaction."""
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                sids = [r[0] for r in conn.execute("SELECT call_sid FROM calls WHERE started < ? ORDER BY started "
                                                   "LIMIT ?", (before, limit))]
                gone = 0
                if sids:
                    marks = ",".join("?" * len(sids))
                    gone += conn.execute(f"DELETE FROM events WHERE call_sid IN ({marks})", sids).rowcount
                    conn.execute(f"DELETE FROM calls WHERE call_sid IN ({marks})", sids)
                gone += conn.execute("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE call_sid = '' "
                                     "AND at < ? ORDER BY id LIMIT ?)", (before, limit)).rowcount
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return gone

    def call_events(self, call_sid: str) -> list[CallEvent]:
        rows = self._conn().execute("SELECT * FROM events WHERE call_sid = ? ORDER BY at, id", (call_sid,))
        return decision_events(CallEvent(r["call_sid"], r["flow_id"], r["rev"], r["kind"], r["target"], r["digits"],
                                         r["at"], json.loads(r["params"])) for r in rows)

    # --- the voicemail inbox ----------------------------------------------------------

    def voicemails(self, flow_id: str | None = None, limit: int = 200) -> list[Voicemail]:
        """Voicemails (of one flow, when given), newest first."""
        where = "WHERE flow_id = ? " if flow_id is not None else ""
        rows = self._conn().execute(f"SELECT * FROM voicemails {where}ORDER BY at DESC, id DESC LIMIT ?",
                                    (flow_id, limit) if flow_id is not None else (limit,))
        return [_voicemail(r) for r in rows]

    def count_new_voicemails(self, flow_id: str | None = None) -> int:
        where = " AND flow_id = ?" if flow_id is not None else ""
        row = self._conn().execute(f"SELECT COUNT(*) FROM voicemails WHERE heard_at IS NULL{where}",
                                   (flow_id,) if flow_id is not None else ()).fetchone()
        return int(row[0])

    def mark_voicemail_heard(self, voicemail_id: int) -> None:
        """Mark one heard (the first time counts; a voicemail already heard keeps its time)."""
        self._write("UPDATE voicemails SET heard_at = ? WHERE id = ? AND heard_at IS NULL",
                    (time.time(), int(voicemail_id)))

    def delete_voicemail(self, voicemail_id: int) -> None:
        self._write("DELETE FROM voicemails WHERE id = ?", (int(voicemail_id),))

    def traffic(self, flow_id: str, rev: str, since: float, until: float) -> TrafficCounts:
        """One revision's call events in [since, until), counted by the database (``base.traffic_queries``)."""
        args = (flow_id, str(rev), float(since), float(until))
        conn = self._conn()
        return traffic_counts(conn.execute(_TRAFFIC[0], args).fetchall(), conn.execute(_TRAFFIC[1], args).fetchall())

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




def _voicemail(r) -> Voicemail:
    return Voicemail(r["id"], r["call_sid"], r["flow_id"], r["rev"], r["node"], r["caller"], r["called"], r["at"],
                     r["duration"], r["url"], r["file_sid"], r["heard_at"])
