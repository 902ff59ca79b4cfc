"""The store: flows, immutable published revisions, DID bindings, call events, status callbacks, voicemails,
settings.

``Store`` (in ``base``) is the interface the rest of the app uses. Two backends implement it:
``SQLiteStore`` (``sqlite``: one file, WAL, one machine) and ``PostgresStore`` (``postgres``: shared
by a designer and any number of hosts). ``open_store(url_or_path)`` picks one by its argument:
``postgresql://…`` (or ``postgres://…``) is PostgreSQL, a path or ``sqlite:///path`` is SQLite.
Both keep schema versions (``migrations``), brought up to date when opened.
"""

from __future__ import annotations

from designer.store.base import (
    DECISIONS, EVENT_ROWS, OVERRIDE_STATES, REASONS, CallEvent, FlowRecord, HoursOverride, Revision,
    SpoolConflict, SpoolMark, SpoolPosition, StaleFlow, Store, StoreError, TrafficCount, TrafficCounts,
    TrafficEnding, Voicemail, decision_events, decisions_param, params_json, reasons_param, safe_url,
)
from designer.store.calls import OUTCOMES, CallFilter
from designer.store.sqlite import PRIVATE_MODE, PRIVATE_SUFFIXES, SQLiteStore, make_private

__all__ = [
    "DECISIONS", "EVENT_ROWS", "OUTCOMES", "OVERRIDE_STATES", "REASONS", "CallEvent", "CallFilter", "FlowRecord",
    "HoursOverride", "PRIVATE_MODE", "PRIVATE_SUFFIXES", "Revision", "SQLiteStore",
    "SpoolConflict", "SpoolMark", "SpoolPosition", "StaleFlow", "Store", "StoreError", "TrafficCount", "TrafficCounts",
    "TrafficEnding", "Voicemail", "decision_events", "decisions_param", "is_postgres", "reasons_param",
    "make_private", "open_store", "params_json", "safe_url", "sqlite_path",
]

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(url_or_path: str) -> bool:
    """Whether a ``--db`` value names a PostgreSQL database."""
    return str(url_or_path).startswith(POSTGRES_SCHEMES)


def sqlite_path(url_or_path: str) -> str:
    """The file a SQLite ``--db`` value names (``sqlite:///path`` or a plain path)."""
    text = str(url_or_path)
    return text[len("sqlite://"):] if text.startswith("sqlite://") else text


def open_store(url_or_path: str) -> Store:
    """The store ``url_or_path`` names; raises ``StoreError`` (one clear line) when it cannot be opened."""
    if is_postgres(url_or_path):
        from designer.store.postgres import PostgresStore

        return PostgresStore(str(url_or_path))
    return SQLiteStore(sqlite_path(url_or_path))
