"""Schema versions of the store, and the migrations that take a database from one to the next.

Each backend's steps are listed by the version they lead to. A database keeps its version in the
one-row table ``schema_version``; a SQLite file made before versions were kept (it has ``flows`` but
no ``schema_version``) is version 1. ``migrate`` runs at start-up: it applies the missing steps in
one transaction (saying so in the log), and refuses a database newer than this code.
"""

from __future__ import annotations

import logging
from typing import Callable

from designer.store import calls
from designer.store.base import StoreError

log = logging.getLogger("flexml.store")

SCHEMA_VERSION = 6  # what this code reads and writes

# what each step does, for the start-up message
PURPOSE = {
    1: "flows, revisions, numbers, call events, settings, sessions",
    2: "a change counter hosts follow (publish, restore, bind and unbind reach every host)",
    3: "the operators' switches of Hours steps (closed now / open now)",
    4: "a calls table (one row per call: status, duration, how it ended, test or real), filled from the events",
    5: "the voicemail inbox (recordings the carrier reported, new or heard)",
    6: "an index of call events by flow, revision and time (traffic on the canvas)",
}

# the traffic overlay counts one revision's events of a period (designer/traffic.py, base.traffic_queries). The
# index finds them; their rows are read from the table, where the event writer put them in time order, so a
# period's rows sit together. Wider indexes that answer more from the index alone were dearer on both counts:
# each column costs every event written, and the wider index is slower to read (tests/bench/bench_traffic.py
# --candidates; docs/benchmarks.md)
_TRAFFIC_INDEX = "CREATE INDEX IF NOT EXISTS events_traffic ON events (flow_id, rev, at)"

# one row per recording a Record step's action reported (filled by record_rows from "recording" events); a
# carrier retrying the same request does not add a second row. One text for both backends, as calls.py does
_VOICEMAILS = """CREATE TABLE IF NOT EXISTS voicemails (
    id {id},
    call_sid TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    rev TEXT NOT NULL,
    node TEXT NOT NULL,
    caller TEXT NOT NULL,
    called TEXT NOT NULL,
    at REAL NOT NULL,
    duration INTEGER,
    url TEXT NOT NULL,
    file_sid TEXT NOT NULL,
    heard_at REAL
)"""
_VOICEMAIL_INDEXES = [
    "CREATE UNIQUE INDEX IF NOT EXISTS voicemails_once ON voicemails (call_sid, node, url)",
    "CREATE INDEX IF NOT EXISTS voicemails_flow ON voicemails (flow_id, at)",
    "CREATE INDEX IF NOT EXISTS voicemails_new ON voicemails (heard_at)",
]
VOICEMAILS_SQLITE = [_VOICEMAILS.format(id="INTEGER PRIMARY KEY AUTOINCREMENT"), *_VOICEMAIL_INDEXES]
VOICEMAILS_POSTGRES = [_VOICEMAILS.format(id="BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY")
                       .replace("REAL", "DOUBLE PRECISION"), *_VOICEMAIL_INDEXES]

SQLITE: dict[int, list[str]] = {
    1: [
        """CREATE TABLE IF NOT EXISTS flows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    graph_json TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at REAL NOT NULL,
    published_rev INTEGER
)""",
        """CREATE TABLE IF NOT EXISTS revisions (
    flow_id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    graph_json TEXT NOT NULL,
    bundle BLOB NOT NULL,
    created_at REAL NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (flow_id, rev)
)""",
        # the last revision number each flow id was given: kept when the flow is deleted, so a new flow
        # with the same id never reuses a number that old call records point at
        """CREATE TABLE IF NOT EXISTS revision_numbers (
    flow_id TEXT PRIMARY KEY,
    last_rev INTEGER NOT NULL
)""",
        """CREATE TABLE IF NOT EXISTS dids (
    number TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL
)""",
        """CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    call_sid TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    rev TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    digits TEXT,
    at REAL NOT NULL,
    params TEXT NOT NULL DEFAULT '{}'
)""",
        "CREATE INDEX IF NOT EXISTS events_call ON events (call_sid, id)",
        # how far each spool file of the host's event writer is in the events table (designer/host/spool.py)
        """CREATE TABLE IF NOT EXISTS event_spool (
    name TEXT PRIMARY KEY,
    tag TEXT NOT NULL,
    "offset" INTEGER NOT NULL,
    events INTEGER NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
)""",
        "CREATE INDEX IF NOT EXISTS event_spool_tag ON event_spool (tag)",
        """CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
)""",
        # signed-in browser sessions: the SHA-256 of each session's random token (the token itself is only
        # in the browser's signed cookie); signing out deletes the row, so every tab of that session is out
        """CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    created_at REAL NOT NULL
)""",
    ],
    2: [
        "DROP INDEX IF EXISTS events_at",  # no query used it; it cost a third of each insert
        "CREATE TABLE store_changes (id INTEGER PRIMARY KEY CHECK (id = 1), counter INTEGER NOT NULL)",
        "INSERT INTO store_changes (id, counter) VALUES (1, 0)",
    ],
    3: [
        """CREATE TABLE IF NOT EXISTS overrides (
    flow_id TEXT NOT NULL,
    node TEXT NOT NULL,
    state TEXT NOT NULL,
    until REAL,
    set_at REAL NOT NULL,
    PRIMARY KEY (flow_id, node)
)""",
    ],
    4: [calls.SQLITE_TABLE, *calls.INDEXES, calls.SQLITE_BACKFILL],
    5: VOICEMAILS_SQLITE,
    6: [_TRAFFIC_INDEX],
}

POSTGRES: dict[int, list[str]] = {
    1: [
        """CREATE TABLE flows (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    graph_json TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at DOUBLE PRECISION NOT NULL,
    published_rev INTEGER
)""",
        """CREATE TABLE revisions (
    flow_id TEXT NOT NULL,
    rev INTEGER NOT NULL,
    graph_json TEXT NOT NULL,
    bundle BYTEA NOT NULL,
    created_at DOUBLE PRECISION NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (flow_id, rev)
)""",
        "CREATE TABLE revision_numbers (flow_id TEXT PRIMARY KEY, last_rev INTEGER NOT NULL)",
        "CREATE TABLE dids (number TEXT PRIMARY KEY, flow_id TEXT NOT NULL)",
        """CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    call_sid TEXT NOT NULL,
    flow_id TEXT NOT NULL,
    rev TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    digits TEXT,
    at DOUBLE PRECISION NOT NULL,
    params TEXT NOT NULL DEFAULT '{}'
)""",
        "CREATE INDEX events_call ON events (call_sid, id)",
        """CREATE TABLE event_spool (
    name TEXT PRIMARY KEY,
    tag TEXT NOT NULL,
    "offset" BIGINT NOT NULL,
    events BIGINT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0
)""",
        "CREATE INDEX event_spool_tag ON event_spool (tag)",
        "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, created_at DOUBLE PRECISION NOT NULL)",
    ],
    2: [
        "CREATE TABLE store_changes (id INTEGER PRIMARY KEY CHECK (id = 1), counter BIGINT NOT NULL)",
        "INSERT INTO store_changes (id, counter) VALUES (1, 0)",
    ],
    3: [
        """CREATE TABLE overrides (
    flow_id TEXT NOT NULL,
    node TEXT NOT NULL,
    state TEXT NOT NULL,
    until DOUBLE PRECISION,
    set_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (flow_id, node)
)""",
    ],
    4: [calls.POSTGRES_TABLE, *calls.INDEXES, calls.POSTGRES_BACKFILL],
    5: VOICEMAILS_POSTGRES,
    6: [_TRAFFIC_INDEX],
}

VERSION_TABLE = "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"


class SchemaTooNew(StoreError):
    """The database was made by a newer flexml-designer: this one must not read or write it."""


def check_version(where: str, found: int) -> None:
    """Refuse a database made by a newer flexml-designer."""
    if found > SCHEMA_VERSION:
        raise SchemaTooNew(f"the database {where} has schema version {found}, newer than this flexml-designer "
                         f"reads ({SCHEMA_VERSION}); upgrade flexml-designer on this machine")


def apply(where: str, found: int, steps: dict[int, list[str]], execute: Callable[[str], object],
          target: int = SCHEMA_VERSION) -> int:
    """Run the steps after version ``found`` up to ``target`` with ``execute`` (inside the caller's
    transaction), then record the version; returns the version reached."""
    check_version(where, found)
    if found >= target:
        return found
    if found:
        log.warning("store: upgrading the database %s from schema version %d to %d: %s", where, found, target,
                    "; ".join(PURPOSE[v] for v in range(found + 1, target + 1)))
    for version in range(found + 1, target + 1):
        for statement in steps[version]:
            execute(statement)
    execute("DELETE FROM schema_version")
    execute(f"INSERT INTO schema_version (version) VALUES ({int(target)})")
    return target
