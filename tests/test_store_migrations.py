"""Schema versions: a database made by an older release is upgraded at start-up (saying so) and keeps its
data; one made by a newer release is refused with a clear message; both backends; plus the change counter
hosts follow, and writers racing each other."""

from __future__ import annotations

import logging
import sqlite3
import threading

import psycopg
import pytest

from designer.cli import main
from designer.store import SQLiteStore, StoreError, open_store
from designer.store.migrations import POSTGRES, SCHEMA_VERSION, SQLITE
from designer.store.postgres import PostgresStore


def _old_sqlite(path) -> None:
    """A file as the release before schema versions made it: the version-1 tables, no schema_version."""
    conn = sqlite3.connect(path)
    for statement in SQLITE[1]:
        conn.execute(statement)
    conn.execute("INSERT INTO flows (id, name, graph_json, version, updated_at) VALUES ('acme', 'Acme', '{}', 3, 1.0)")
    conn.commit()
    conn.close()


def _old_postgres(url: str) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for statement in POSTGRES[1]:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_version VALUES (1)")
        conn.execute("INSERT INTO flows (id, name, graph_json, version, updated_at) VALUES ('acme', 'Acme', '{}', 3, 1)")


def test_an_older_sqlite_file_is_upgraded_at_start_up_and_keeps_its_flows(tmp_path, caplog):
    path = tmp_path / "old.sqlite"
    _old_sqlite(path)
    with caplog.at_level(logging.WARNING, logger="flexml.store"):
        store = SQLiteStore(path)
    try:
        assert f"from schema version 1 to {SCHEMA_VERSION}" in caplog.text and str(path) in caplog.text
        assert store.get_flow("acme").version == 3
        assert store.changes() == 0
        store.bind_did("15162065337", "acme")
        assert store.changes() == 1
    finally:
        store.close()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="flexml.store"):
        SQLiteStore(path).close()
    assert "upgrading" not in caplog.text  # once only


def test_an_older_postgres_database_is_upgraded_at_start_up(pg_url, caplog):
    _old_postgres(pg_url)
    with caplog.at_level(logging.WARNING, logger="flexml.store"):
        store = PostgresStore(pg_url)
    try:
        assert f"from schema version 1 to {SCHEMA_VERSION}" in caplog.text
        assert store.get_flow("acme").version == 3
        store.bind_did("15162065337", "acme")
        assert store.changes() == 1
    finally:
        store.close()


def test_a_database_newer_than_the_code_is_refused_with_a_clear_message(any_store, tmp_path, capsys):
    where = any_store.url if isinstance(any_store, PostgresStore) else any_store.path
    if isinstance(any_store, PostgresStore):
        with psycopg.connect(where) as conn:
            conn.execute("UPDATE schema_version SET version = 99")
    else:
        any_store._write("UPDATE schema_version SET version = 99")
    with pytest.raises(StoreError, match=f"schema version 99, newer than this flexml-designer reads"):
        open_store(where).close()
    assert main(["host", "--db", where, "--get", "/flexml/x"]) == 1
    assert "upgrade flexml-designer" in capsys.readouterr().err


def test_every_change_a_host_must_follow_moves_the_counter(any_store):
    store = any_store
    seen = store.changes()
    store.create_flow("acme", "Acme", "{}")
    store.save_flow("acme", "{ }", 1)  # drafts are not served: no change
    assert store.changes() == seen
    store.add_revision("acme", "{}", lambda rev: b"zip")
    store.add_revision("acme", "{}", lambda rev: b"zip")
    store.set_published("acme", 1)
    store.bind_did("15162065337", "acme")
    store.unbind_did("15162065337")
    store.delete_flow("acme")
    assert store.changes() == seen + 6
    assert store.wait_for_changes(seen, 0.0) == seen + 6


def test_a_host_waiting_for_changes_is_woken_by_one(any_store):
    store = any_store
    store.create_flow("acme", "Acme", "{}")
    seen = store.changes()
    woke: list[int] = []
    waiter = threading.Thread(target=lambda: woke.append(store.wait_for_changes(seen, 30.0)))
    waiter.start()
    store.add_revision("acme", "{}", lambda rev: b"zip")
    waiter.join(30)
    assert woke == [seen + 1]


def test_publishers_racing_on_one_flow_get_distinct_revision_numbers(any_store):
    store = any_store
    store.create_flow("acme", "Acme", "{}")
    got: list[int] = []
    barrier = threading.Barrier(4)

    def publish() -> None:
        barrier.wait()
        for _ in range(5):
            got.append(store.add_revision("acme", "{}", lambda rev: f"r{rev}".encode()).rev)

    threads = [threading.Thread(target=publish) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, 21))
    assert [r.bundle for r in store.list_revisions("acme")] == [f"r{n}".encode() for n in range(20, 0, -1)]
    assert store.get_flow("acme").published_rev == max(got)
