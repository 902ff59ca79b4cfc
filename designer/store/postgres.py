"""The shared store: PostgreSQL through psycopg 3 and its connection pool, for many hosts on many machines.

Same interface and behaviour as ``SQLiteStore``. Every publish, restore, bind, unbind and delete counts
a change (``store_changes``) and sends ``NOTIFY flexml_store_changes`` in the same transaction; a host
waits for those on a dedicated connection (``wait_for_changes``), never through the pool.

What stays on this machine (the carrier password's key file, the event spool) lives under ``path``,
a folder per database in ``$FLEXML_STATE_DIR`` (default ``~/.local/share/flexml-designer``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from designer.store.base import (
    OVERRIDE_STATES, CallEvent, FlowRecord, HoursOverride, Revision, SpoolConflict, SpoolMark, SpoolPosition,
    StaleFlow, StoreError, TrafficCounts, Voicemail, _token_hash, decision_events, params_json,
    safe_url, traffic_counts, traffic_queries, voicemail_values,
)
from designer.store.calls import CallFilter, call_dict, count_sql, hourly_sql, list_sql, quiet_from, summarise, \
    upsert_sql
from designer.store.migrations import POSTGRES, VERSION_TABLE, apply

CHANNEL = "flexml_store_changes"
CONNECT_SECONDS = 5  # how long one attempt to reach the server may take
_MIGRATION_LOCK = 0x666C65786D6C  # advisory lock id: one process migrates at a time
_UPSERT_CALL = upsert_sql("%s", "GREATEST")
_TRAFFIC = traffic_queries("%s", lambda column, name: f"(({column})::json ->> '{name}')")
_EVENT_COPY = "COPY events (call_sid, flow_id, rev, kind, target, digits, at, params) FROM STDIN"
_INSERT_VOICEMAIL = ("INSERT INTO voicemails (call_sid, flow_id, rev, node, caller, called, at, duration, url, "
                     "file_sid) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING")


def state_path(url: str) -> str:
    """Where this machine keeps its files for database ``url`` (a prefix: ``.key``, ``.spool`` are added)."""
    base = Path(os.environ.get("FLEXML_STATE_DIR") or "~/.local/share/flexml-designer").expanduser()
    parts = urlsplit(url)
    name = (parts.path.strip("/") or "postgres").replace("/", "_")
    digest = hashlib.sha256(safe_url(url).encode()).hexdigest()[:8]
    return str(base / f"pg-{name}-{digest}")


class PostgresStore:
    """PostgreSQL (psycopg 3 pool). Safe to share between threads."""

    def __init__(self, url: str, *, max_connections: int = 4, connect_timeout: float = CONNECT_SECONDS):
        self.url = url
        self.path = state_path(url)
        Path(self.path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._listener: psycopg.Connection | None = None
        self._listen_lock = threading.Lock()
        self._pool = ConnectionPool(url, min_size=1, max_size=max_connections, open=False,
                                    kwargs={"row_factory": dict_row, "connect_timeout": int(connect_timeout)},
                                    check=ConnectionPool.check_connection, name="flexml-store",
                                    timeout=connect_timeout)
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
            self._migrate()
        except (PoolTimeout, psycopg.OperationalError) as exc:
            self._pool.close()
            raise StoreError(f"cannot reach the database {safe_url(url)}: {_reason(exc)}") from None
        except BaseException:
            self._pool.close()
            raise

    def _migrate(self) -> None:
        with self._pool.connection() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
            conn.execute(VERSION_TABLE)
            found = conn.execute("SELECT MAX(version) AS v FROM schema_version").fetchone()["v"] or 0
            apply(safe_url(self.url), found, POSTGRES, conn.execute)

    def close(self) -> None:
        with self._listen_lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        self._pool.close()

    def _one(self, sql: str, params: tuple = ()) -> dict | None:
        with self._pool.connection() as conn:
            return conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: tuple = ()) -> list[dict]:
        with self._pool.connection() as conn:
            return conn.execute(sql, params).fetchall()

    def _write(self, sql: str, params: tuple = ()) -> int:
        with self._pool.connection() as conn:
            return conn.execute(sql, params).rowcount

    # --- changes hosts follow ------------------------------------------------------------

    def _changed(self, conn: psycopg.Connection) -> None:
        """Count a change and notify the hosts (delivered when the caller's transaction commits)."""
        row = conn.execute("UPDATE store_changes SET counter = counter + 1 RETURNING counter").fetchone()
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(row["counter"])))

    def changes(self) -> int:
        """How many publishes, restores, binds, unbinds and deletes there have been."""
        return int(self._one("SELECT counter FROM store_changes")["counter"])

    def wait_for_changes(self, seen: int, timeout: float) -> int:
        """The change counter once it differs from ``seen`` (woken by NOTIFY), or after ``timeout`` seconds.

        Listens on a connection of its own (a broken one is replaced on the next call); raises
        ``StoreError`` while the database cannot be reached.
        """
        with self._listen_lock:
            try:
                if self._listener is None or self._listener.closed:
                    self._listener = psycopg.Connection.connect(self.url, autocommit=True,
                                                                connect_timeout=CONNECT_SECONDS)
                    self._listener.execute(f"LISTEN {CHANNEL}")
                now = self.changes()  # after LISTEN: a change from here on also wakes us
                if now != seen:
                    return now
                for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                    pass
                return self.changes()
            except (psycopg.Error, PoolTimeout) as exc:
                if self._listener is not None:
                    self._listener.close()
                    self._listener = None
                raise StoreError(f"cannot reach the database {safe_url(self.url)}: {_reason(exc)}") from None

    # --- flows -------------------------------------------------------------------------

    def _numbers_by_flow(self, conn: psycopg.Connection) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for row in conn.execute("SELECT number, flow_id FROM dids ORDER BY number"):
            out.setdefault(row["flow_id"], []).append(row["number"])
        return out

    def _record(self, row: dict, numbers: dict[str, list[str]]) -> FlowRecord:
        return FlowRecord(id=row["id"], name=row["name"], graph_json=row["graph_json"], version=row["version"],
                          updated_at=row["updated_at"], published_rev=row["published_rev"],
                          numbers=numbers.get(row["id"], []))

    def list_flows(self) -> list[FlowRecord]:
        with self._pool.connection() as conn:
            numbers = self._numbers_by_flow(conn)
            rows = conn.execute("SELECT * FROM flows ORDER BY updated_at DESC, id").fetchall()
        return [self._record(r, numbers) for r in rows]

    def get_flow(self, flow_id: str) -> FlowRecord | None:
        with self._pool.connection() as conn:
            row = conn.execute("SELECT * FROM flows WHERE id = %s", (flow_id,)).fetchone()
            return None if row is None else self._record(row, self._numbers_by_flow(conn))

    def create_flow(self, flow_id: str, name: str, graph_json: str) -> FlowRecord:
        now = time.time()
        try:
            self._write("INSERT INTO flows (id, name, graph_json, version, updated_at) VALUES (%s, %s, %s, 1, %s)",
                        (flow_id, name, graph_json, now))
        except psycopg.errors.UniqueViolation:
            raise StoreError(f"a flow with id {flow_id!r} already exists") from None
        return FlowRecord(flow_id, name, graph_json, 1, now)

    def save_flow(self, flow_id: str, graph_json: str, expected_version: int, name: str | None = None) -> int:
        """Save a draft; returns the new version. Raises StaleFlow when someone saved in between."""
        with self._pool.connection() as conn:
            row = conn.execute("SELECT version FROM flows WHERE id = %s FOR UPDATE", (flow_id,)).fetchone()
            if row is None:
                raise StoreError(f"flow {flow_id!r} does not exist (was it deleted?)")
            if row["version"] != expected_version:
                raise StaleFlow(f"flow {flow_id!r} was changed elsewhere (version {row['version']}, "
                                f"this editor has {expected_version})")
            conn.execute("UPDATE flows SET graph_json = %s, version = version + 1, updated_at = %s, "
                         "name = COALESCE(%s, name) WHERE id = %s", (graph_json, time.time(), name, flow_id))
        return expected_version + 1

    def rename_flow(self, flow_id: str, name: str) -> None:
        self._write("UPDATE flows SET name = %s, updated_at = %s WHERE id = %s", (name, time.time(), flow_id))

    def delete_flow(self, flow_id: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM dids WHERE flow_id = %s", (flow_id,))
            conn.execute("DELETE FROM revisions WHERE flow_id = %s", (flow_id,))
            conn.execute("DELETE FROM flows WHERE id = %s", (flow_id,))
            self._changed(conn)

    # --- revisions ---------------------------------------------------------------------

    def add_revision(self, flow_id: str, graph_json: str, bundle_for_rev, note: str = "") -> Revision:
        """Store a new immutable revision and mark it the flow's published one (see ``SQLiteStore``)."""
        with self._pool.connection() as conn:
            if conn.execute("SELECT 1 FROM flows WHERE id = %s FOR UPDATE", (flow_id,)).fetchone() is None:
                raise StoreError(f"flow {flow_id!r} does not exist")
            row = conn.execute(
                "SELECT GREATEST(COALESCE((SELECT MAX(rev) FROM revisions WHERE flow_id = %(f)s), 0), "
                "COALESCE((SELECT last_rev FROM revision_numbers WHERE flow_id = %(f)s), 0)) + 1 AS rev",
                {"f": flow_id}).fetchone()
            rev = int(row["rev"])
            conn.execute("INSERT INTO revision_numbers (flow_id, last_rev) VALUES (%s, %s) "
                         "ON CONFLICT (flow_id) DO UPDATE SET last_rev = excluded.last_rev", (flow_id, rev))
            bundle = bundle_for_rev(rev)
            now = time.time()
            conn.execute("INSERT INTO revisions (flow_id, rev, graph_json, bundle, created_at, note) "
                         "VALUES (%s, %s, %s, %s, %s, %s)", (flow_id, rev, graph_json, bundle, now, note))
            conn.execute("UPDATE flows SET published_rev = %s WHERE id = %s", (rev, flow_id))
            self._changed(conn)
        return Revision(flow_id, rev, graph_json, bundle, now, note)

    def _revision(self, row: dict) -> Revision:
        return Revision(row["flow_id"], row["rev"], row["graph_json"], bytes(row["bundle"]), row["created_at"],
                        row["note"])

    def list_revisions(self, flow_id: str) -> list[Revision]:
        rows = self._all("SELECT * FROM revisions WHERE flow_id = %s ORDER BY rev DESC", (flow_id,))
        return [self._revision(r) for r in rows]

    def get_revision(self, flow_id: str, rev: int) -> Revision | None:
        row = self._one("SELECT * FROM revisions WHERE flow_id = %s AND rev = %s", (flow_id, rev))
        return None if row is None else self._revision(row)

    def published_revisions(self) -> list[Revision]:
        """Every revision of every flow (the host keeps old ones for calls in progress)."""
        rows = self._all("SELECT r.* FROM revisions r JOIN flows f ON f.id = r.flow_id ORDER BY r.flow_id, r.rev")
        return [self._revision(r) for r in rows]

    def set_published(self, flow_id: str, rev: int) -> None:
        """Make an existing revision the one new calls get (a rollback)."""
        with self._pool.connection() as conn:
            if conn.execute("SELECT 1 FROM revisions WHERE flow_id = %s AND rev = %s",
                            (flow_id, rev)).fetchone() is None:
                raise StoreError(f"flow {flow_id!r} has no revision {rev}")
            conn.execute("UPDATE flows SET published_rev = %s WHERE id = %s", (rev, flow_id))
            self._changed(conn)

    # --- numbers -----------------------------------------------------------------------

    def bind_did(self, number: str, flow_id: str) -> None:
        with self._pool.connection() as conn:
            if conn.execute("SELECT 1 FROM flows WHERE id = %s", (flow_id,)).fetchone() is None:
                raise StoreError(f"flow {flow_id!r} does not exist")
            conn.execute("INSERT INTO dids (number, flow_id) VALUES (%s, %s) "
                         "ON CONFLICT (number) DO UPDATE SET flow_id = excluded.flow_id", (number, flow_id))
            self._changed(conn)

    def unbind_did(self, number: str) -> None:
        with self._pool.connection() as conn:
            conn.execute("DELETE FROM dids WHERE number = %s", (number,))
            self._changed(conn)

    def dids(self) -> dict[str, str]:
        return {r["number"]: r["flow_id"] for r in self._all("SELECT * FROM dids ORDER BY number")}

    # --- calls -------------------------------------------------------------------------

    def record_events(self, events: list[CallEvent]) -> None:
        """Insert a batch of events in one transaction."""
        self.record_rows([e.row() for e in events])

    def record_rows(self, rows: list[tuple], mark: SpoolMark | None = None) -> None:
        """Insert events (``CallEvent.row()`` tuples) with one COPY, in one transaction.

        With a ``mark``, the same transaction moves that spool file's position from ``mark.start`` to
        ``mark.end``, or raises ``SpoolConflict`` (inserting nothing) when the position is elsewhere.
        """
        if not rows and mark is None:
            return
        with self._pool.connection() as conn:
            if mark is not None:
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (mark.name,))
                found = conn.execute('SELECT "offset" FROM event_spool WHERE name = %s', (mark.name,)).fetchone()
                at = found["offset"] if found else 0
                if at != mark.start:
                    raise SpoolConflict(f"spool file {mark.name} is at byte {at}, not {mark.start}")
            if rows:
                with conn.cursor() as cur, cur.copy(_EVENT_COPY) as copy:
                    for sid, flow, rev, kind, target, digits, at, params in rows:
                        copy.write_row((sid, flow, rev, kind, target, digits, at, params_json(params)))
                with conn.cursor() as cur:
                    cur.executemany(_UPSERT_CALL, summarise(rows))
                voicemails = voicemail_values(rows)
                if voicemails:
                    with conn.cursor() as cur:
                        cur.executemany(_INSERT_VOICEMAIL, voicemails)
            if mark is not None:
                conn.execute('INSERT INTO event_spool (name, tag, "offset", events) VALUES (%s, %s, %s, %s) '
                             'ON CONFLICT (name) DO UPDATE SET "offset" = excluded."offset", '
                             "events = event_spool.events + excluded.events",
                             (mark.name, mark.tag, mark.end, mark.events))

    def spool_positions(self) -> dict[str, SpoolPosition]:
        """Every spool file's position, by file name."""
        rows = self._all('SELECT name, "offset", events, done FROM event_spool')
        return {r["name"]: SpoolPosition(r["offset"], r["events"], bool(r["done"])) for r in rows}

    def spool_done(self, name: str) -> None:
        """Note that spool file ``name`` was deleted (every whole record in it is in the events table)."""
        self._write("UPDATE event_spool SET done = 1 WHERE name = %s", (name,))

    def spool_totals(self, tag: str) -> tuple[int, int]:
        """Events and bytes moved into the events table from the spool files written by ``tag``."""
        row = self._one('SELECT COALESCE(SUM(events), 0) AS e, COALESCE(SUM("offset"), 0) AS b FROM event_spool '
                        "WHERE tag = %s", (tag,))
        return int(row["e"]), int(row["b"])

    # --- operators' switches of Hours steps ---------------------------------------------

    def set_override(self, flow_id: str, node: str, state: str, until: float | None) -> None:
        if state not in OVERRIDE_STATES:
            raise StoreError(f"override state {state!r} is not one of {', '.join(OVERRIDE_STATES)}")
        self._write("INSERT INTO overrides (flow_id, node, state, until, set_at) VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (flow_id, node) DO UPDATE SET state = excluded.state, until = excluded.until, "
                    "set_at = excluded.set_at", (flow_id, node, state, until, time.time()))

    def clear_override(self, flow_id: str, node: str) -> None:
        self._write("DELETE FROM overrides WHERE flow_id = %s AND node = %s", (flow_id, node))

    def overrides(self, flow_id: str | None = None) -> list[HoursOverride]:
        """Every switch (of one flow, when given), expired ones too: the host ignores those itself."""
        sql = "SELECT * FROM overrides" + (" WHERE flow_id = %s" if flow_id is not None else "") + \
            " ORDER BY flow_id, node"
        rows = self._all(sql, () if flow_id is None else (flow_id,))
        return [HoursOverride(r["flow_id"], r["node"], r["state"], r["until"], r["set_at"]) for r in rows]

    def recent_calls(self, limit: int = 50, flow_id: str | None = None) -> list[dict]:
        """Calls, newest first (``find_calls`` without a filter but the flow)."""
        return self.find_calls(CallFilter(flow_id=flow_id), limit=limit)

    def find_calls(self, where: CallFilter, offset: int = 0, limit: int = 50, now: float | None = None) -> list[dict]:
        """One page of the calls ``where`` matches, newest first (``designer.store.calls.call_dict``)."""
        sql, params = list_sql(where, "%s", quiet_from(now), offset, limit)
        return [call_dict(r) for r in self._all(sql, tuple(params))]

    def count_calls(self, where: CallFilter, now: float | None = None) -> int:
        sql, params = count_sql(where, "%s", quiet_from(now))
        return int(self._one(sql, tuple(params))["n"])

    def calls_by_hour(self, where: CallFilter, origin: float, now: float | None = None) -> list[tuple[int, str, int]]:
        """(hour since ``origin``, outcome, calls) for the calls ``where`` matches (started at or after ``origin``)."""
        sql, params = hourly_sql(where, "%s", quiet_from(now), origin, "FLOOR({} / {})")
        return [(int(r["hour"]), r["outcome"], int(r["n"])) for r in self._all(sql, tuple(params))]

    def delete_calls_before(self, before: float, limit: int = 500) -> int:
        """Delete up to ``limit`` calls started before ``before`` (their events and rows), and
        up to ``limit`` such events without a CallSid; returns how many events went. One short transaction."""
        with self._pool.connection() as conn:
            sids = [r["call_sid"] for r in conn.execute(
                "SELECT call_sid FROM calls WHERE started < %s ORDER BY started LIMIT %s FOR UPDATE SKIP LOCKED",
                (before, limit))]
            gone = 0
            if sids:
                gone += conn.execute("DELETE FROM events WHERE call_sid = ANY(%s)", (sids,)).rowcount
                conn.execute("DELETE FROM calls WHERE call_sid = ANY(%s)", (sids,))
            gone += conn.execute("DELETE FROM events WHERE id IN (SELECT id FROM events WHERE call_sid = '' "
                                 "AND at < %s ORDER BY id LIMIT %s)", (before, limit)).rowcount
        return gone

    def call_events(self, call_sid: str) -> list[CallEvent]:
        rows = self._all("SELECT * FROM events WHERE call_sid = %s ORDER BY at, id", (call_sid,))
        return decision_events(CallEvent(r["call_sid"], r["flow_id"], r["rev"], r["kind"], r["target"], r["digits"],
                                         r["at"], json.loads(r["params"])) for r in rows)

    # --- the voicemail inbox ----------------------------------------------------------

    def voicemails(self, flow_id: str | None = None, limit: int = 200) -> list[Voicemail]:
        """Voicemails (of one flow, when given), newest first."""
        where = "WHERE flow_id = %s " if flow_id is not None else ""
        rows = self._all(f"SELECT * FROM voicemails {where}ORDER BY at DESC, id DESC LIMIT %s",
                         (flow_id, limit) if flow_id is not None else (limit,))
        return [Voicemail(r["id"], r["call_sid"], r["flow_id"], r["rev"], r["node"], r["caller"], r["called"],
                          r["at"], r["duration"], r["url"], r["file_sid"], r["heard_at"]) for r in rows]

    def count_new_voicemails(self, flow_id: str | None = None) -> int:
        where = " AND flow_id = %s" if flow_id is not None else ""
        row = self._one(f"SELECT COUNT(*) AS n FROM voicemails WHERE heard_at IS NULL{where}",
                        (flow_id,) if flow_id is not None else ())
        return int(row["n"])

    def mark_voicemail_heard(self, voicemail_id: int) -> None:
        """Mark one heard (the first time counts; a voicemail already heard keeps its time)."""
        self._write("UPDATE voicemails SET heard_at = %s WHERE id = %s AND heard_at IS NULL",
                    (time.time(), int(voicemail_id)))

    def delete_voicemail(self, voicemail_id: int) -> None:
        self._write("DELETE FROM voicemails WHERE id = %s", (int(voicemail_id),))

    def traffic(self, flow_id: str, rev: str, since: float, until: float) -> TrafficCounts:
        """One revision's call events in [since, until), counted by the database (``base.traffic_queries``)."""
        args = (flow_id, str(rev), float(since), float(until))
        with self._pool.connection() as conn:
            # short queries: compiling them (JIT, on when the planner's estimate is large) costs more than it saves
            conn.execute("SET LOCAL jit = off")
            counts = conn.execute(_TRAFFIC[0], args).fetchall()
            endings = conn.execute(_TRAFFIC[1], args).fetchall()
        return traffic_counts(counts, endings)

    # --- settings ----------------------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM settings WHERE key = %s", (key,))
        return default if row is None else row["value"]

    def set_setting(self, key: str, value: str) -> None:
        self._write("INSERT INTO settings (key, value) VALUES (%s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))

    def add_setting(self, key: str, value: str) -> bool:
        """Store ``value`` only if ``key`` has none yet, in one statement; True when it was stored."""
        return self._write("INSERT INTO settings (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                           (key, value)) == 1

    # --- sign-in sessions --------------------------------------------------------------

    def add_session(self, token: str) -> None:
        self._write("INSERT INTO sessions (token_hash, created_at) VALUES (%s, %s)", (_token_hash(token), time.time()))

    def session_alive(self, token: str, since: float = 0.0) -> bool:
        """Whether ``token``'s session was started (at or after ``since``, a time.time()) and not ended."""
        return self._one("SELECT 1 FROM sessions WHERE token_hash = %s AND created_at >= %s",
                         (_token_hash(token), since)) is not None

    def end_session(self, token: str) -> None:
        self._write("DELETE FROM sessions WHERE token_hash = %s", (_token_hash(token),))

    def end_all_sessions(self, before: float | None = None, keep: str | None = None) -> None:
        """End every session (started before ``before``, if given), except ``keep``'s."""
        self._write("DELETE FROM sessions WHERE created_at < %s AND token_hash IS DISTINCT FROM %s",
                    (float("inf") if before is None else before, None if keep is None else _token_hash(keep)))


def _reason(exc: BaseException) -> str:
    """The first line of a driver or pool error."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
