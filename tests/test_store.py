"""The store's contract, on both backends (a real SQLite file, a real PostgreSQL database): flows, revisions,
numbers, call events and settings; then what only the SQLite file has (WAL, file modes)."""

import os
import sqlite3
import stat
import threading
import time

import pytest

from designer.store import CallEvent, SQLiteStore, StaleFlow, StoreError


@pytest.fixture
def store(any_store):
    return any_store


def test_flows_create_read_list_rename_delete(store):
    store.create_flow("acme", "Acme main line", '{"nodes": []}')
    store.create_flow("pins", "PIN check", "{}")
    assert store.get_flow("acme").name == "Acme main line"
    assert store.get_flow("acme").version == 1
    assert {f.id for f in store.list_flows()} == {"acme", "pins"}
    store.rename_flow("acme", "Acme")
    assert store.get_flow("acme").name == "Acme"
    store.delete_flow("pins")
    assert store.get_flow("pins") is None
    assert [f.id for f in store.list_flows()] == ["acme"]


def test_creating_a_flow_twice_is_refused_with_its_id(store):
    store.create_flow("acme", "Acme", "{}")
    with pytest.raises(StoreError, match="'acme' already exists"):
        store.create_flow("acme", "Other", "{}")


def test_save_bumps_the_version_and_a_stale_save_is_refused(store):
    store.create_flow("acme", "Acme", "v1")
    assert store.save_flow("acme", "v2", expected_version=1) == 2
    with pytest.raises(StaleFlow, match="changed elsewhere"):
        store.save_flow("acme", "v2-from-old-tab", expected_version=1)
    assert store.get_flow("acme").graph_json == "v2"


def test_two_tabs_saving_at_once_one_wins_the_other_is_told(store):
    store.create_flow("acme", "Acme", "v1")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def save(text: str) -> None:
        barrier.wait()
        try:
            store.save_flow("acme", text, expected_version=1)
            outcomes.append("saved")
        except StaleFlow:
            outcomes.append("stale")

    threads = [threading.Thread(target=save, args=(t,)) for t in ("tab-a", "tab-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["saved", "stale"]
    assert store.get_flow("acme").version == 2


def test_saving_a_deleted_flow_says_so(store):
    with pytest.raises(StoreError, match="does not exist"):
        store.save_flow("ghost", "{}", expected_version=1)


def test_revisions_are_numbered_upwards_and_kept_unchanged(store):
    store.create_flow("acme", "Acme", "draft")
    r1 = store.add_revision("acme", "graph-1", lambda rev: f"bundle-{rev}".encode())
    store.save_flow("acme", "draft-2", expected_version=1)
    r2 = store.add_revision("acme", "graph-2", lambda rev: f"bundle-{rev}".encode(), note="second")
    assert (r1.rev, r2.rev) == (1, 2)
    assert store.get_flow("acme").published_rev == 2
    assert [r.rev for r in store.list_revisions("acme")] == [2, 1]
    first = store.get_revision("acme", 1)
    assert (first.graph_json, first.bundle) == ("graph-1", b"bundle-1")
    assert store.get_revision("acme", 2).note == "second"
    assert store.get_revision("acme", 3) is None
    assert [(r.flow_id, r.rev) for r in store.published_revisions()] == [("acme", 1), ("acme", 2)]


def test_a_failed_publish_leaves_no_revision(store):
    store.create_flow("acme", "Acme", "draft")

    def broken(rev: int) -> bytes:
        raise RuntimeError("compiler blew up")

    with pytest.raises(RuntimeError):
        store.add_revision("acme", "g", broken)
    assert store.list_revisions("acme") == []
    assert store.add_revision("acme", "g", lambda rev: b"z").rev == 1


def test_a_flow_made_again_with_a_deleted_flows_id_never_reuses_its_revision_numbers(store):
    store.create_flow("acme", "Acme", "draft")
    store.add_revision("acme", "g1", lambda rev: b"a")
    store.add_revision("acme", "g2", lambda rev: b"b")
    store.record_events([CallEvent("CA-old", "acme", "2", "document", "welcome", None, 1.0)])
    store.delete_flow("acme")
    store.create_flow("acme", "Acme again", "draft")
    rev = store.add_revision("acme", "new", lambda rev: b"c")
    assert rev.rev == 3  # the old call's revision 2 is not the new flow's
    assert store.get_revision("acme", 2) is None
    assert [(e.flow_id, e.rev) for e in store.call_events("CA-old")] == [("acme", "2")]


def test_publishing_an_unknown_flow_is_refused(store):
    with pytest.raises(StoreError, match="'ghost' does not exist"):
        store.add_revision("ghost", "g", lambda rev: b"")


def test_rollback_to_an_existing_revision_only(store):
    store.create_flow("acme", "Acme", "draft")
    store.add_revision("acme", "g1", lambda rev: b"1")
    store.add_revision("acme", "g2", lambda rev: b"2")
    store.set_published("acme", 1)
    assert store.get_flow("acme").published_rev == 1
    with pytest.raises(StoreError, match="no revision 9"):
        store.set_published("acme", 9)


def test_dids_bind_rebind_unbind_and_show_on_the_flow(store):
    store.create_flow("acme", "Acme", "{}")
    store.create_flow("pins", "PINs", "{}")
    store.bind_did("15162065337", "acme")
    store.bind_did("15162065338", "acme")
    assert store.get_flow("acme").numbers == ["15162065337", "15162065338"]
    store.bind_did("15162065338", "pins")
    assert store.dids() == {"15162065337": "acme", "15162065338": "pins"}
    store.unbind_did("15162065337")
    assert store.dids() == {"15162065338": "pins"}
    with pytest.raises(StoreError, match="'ghost' does not exist"):
        store.bind_did("15550000000", "ghost")
    store.delete_flow("pins")
    assert store.dids() == {}


def test_call_events_round_trip_and_calls_summarise_them(store):
    store.record_events([
        CallEvent("CA1", "acme", "1", "document", "welcome", None, 100.0, {"From": "15551230001", "To": "1516"}),
        CallEvent("CA1", "acme", "1", "router", "menu", "1", 101.0, {"answer": "sales"}),
        CallEvent("CA2", "pins", "3", "document", "ask-pin", None, 200.0, {"From": "15551230009"}),
        CallEvent("CA1", "acme", "", "status", "completed", None, 130.0,
                  {"CallStatus": "completed", "CallDuration": "30"}),
    ])
    events = store.call_events("CA1")
    assert [(e.kind, e.target, e.digits) for e in events] == [
        ("document", "welcome", None), ("router", "menu", "1"), ("status", "completed", None)]
    assert events[1].params == {"answer": "sales"}
    calls = store.recent_calls()
    assert [c["call_sid"] for c in calls] == ["CA2", "CA1"]
    acme = calls[1]
    assert (acme["flow_id"], acme["rev"], acme["from"], acme["status"], acme["duration"], acme["events"]) == (
        "acme", "1", "15551230001", "completed", "30", 3)
    assert [c["call_sid"] for c in store.recent_calls(flow_id="pins")] == ["CA2"]
    assert [c["call_sid"] for c in store.recent_calls(limit=1)] == ["CA2"]


def test_a_call_seen_from_a_later_step_takes_who_called_from_its_status_callback(store):
    store.record_events([  # the first request went to another host: this one saw the menu and the status
        CallEvent("CA3", "acme", "1", "router", "menu", "1", 300.0, {"answer": "sales"}),
        CallEvent("CA3", "acme", "", "status", "completed", None, 330.0,
                  {"CallStatus": "completed", "From": "15551230007", "To": "15162065337"}),
    ])
    (call,) = store.recent_calls()
    assert (call["from"], call["to"], call["flow_id"]) == ("15551230007", "15162065337", "acme")


def test_settings_default_set_overwrite(store):
    assert store.get_setting("public_url") is None
    assert store.get_setting("public_url", "http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    store.set_setting("public_url", "https://ivr.example.com")
    store.set_setting("public_url", "https://ivr2.example.com")
    assert store.get_setting("public_url") == "https://ivr2.example.com"


def test_the_file_is_in_wal_mode_and_survives_reopening(tmp_path):
    path = tmp_path / "sub" / "d.sqlite"
    s = SQLiteStore(path)
    s.create_flow("acme", "Acme", "{}")
    s.close()
    again = SQLiteStore(path)
    assert again.get_flow("acme").name == "Acme"
    again.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_events_keep_every_value_exactly_in_order(store):
    odd = {"From": "+1 (555) \"quoted\" <&>", "name": "Zoë 日本", "empty": "", "newline": "a\nb", "n": "7"}
    batch = [CallEvent("CA-odd", "flow", "12", "router", f"menu-{i}", None if i % 2 else f"{i}#", 1700000000.125 + i,
                       dict(odd, i=str(i))) for i in range(250)]
    store.record_events(batch)
    assert store.call_events("CA-odd") == batch


def test_a_failed_event_batch_leaves_nothing_half_written(store):
    class NotJSON:
        pass

    with pytest.raises(TypeError):
        store.record_events([CallEvent("CA-x", "f", "1", "document", "a", None, 1.0, {}),
                             CallEvent("CA-x", "f", "1", "document", "b", None, 2.0, {"bad": NotJSON()})])
    assert store.call_events("CA-x") == []
    store.record_events([CallEvent("CA-x", "f", "1", "document", "a", None, 1.0, {})])
    assert len(store.call_events("CA-x")) == 1


def test_call_events_come_in_time_order_whoever_wrote_them_first(store):
    # two host worker processes each flush their own queue: the later event may be written first
    store.record_events([CallEvent("CA-w", "f", "1", "router", "menu", "1", 20.0, {})])
    store.record_events([CallEvent("CA-w", "f", "1", "document", "welcome", None, 10.0, {})])
    assert [e.target for e in store.call_events("CA-w")] == ["welcome", "menu"]


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_the_database_its_wal_and_shm_and_the_key_file_are_owner_only(tmp_path, umask):
    from designer.carrier.secret_box import SecretBox

    old = os.umask(umask)
    try:
        path = tmp_path / "designer.sqlite"
        store = SQLiteStore(path)
        store.set_setting("k", "v")  # (the WAL and shared-memory files exist while a connection is open)
        SecretBox.beside(str(path)).seal("secret")
        for name in ("designer.sqlite", "designer.sqlite-wal", "designer.sqlite-shm", "designer.sqlite.key"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
        store.close()
    finally:
        os.umask(old)


def test_opening_a_database_made_world_readable_makes_it_and_its_neighbours_owner_only(tmp_path):
    path = tmp_path / "designer.sqlite"
    SQLiteStore(path).close()
    (tmp_path / "designer.sqlite.key").write_bytes(b"x")
    for name in ("designer.sqlite", "designer.sqlite.key"):
        os.chmod(tmp_path / name, 0o644)
    store = SQLiteStore(path)
    for name in ("designer.sqlite", "designer.sqlite-wal", "designer.sqlite-shm", "designer.sqlite.key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    store.close()


def test_a_setting_added_only_if_absent_is_added_once(store):
    assert store.add_setting("password_hash", "first") is True
    assert store.add_setting("password_hash", "second") is False
    assert store.get_setting("password_hash") == "first"


def test_sessions_live_until_ended(tmp_path):
    store = SQLiteStore(tmp_path / "s.sqlite")
    store.add_session("token-a")
    store.add_session("token-b")
    assert store.session_alive("token-a") and store.session_alive("token-b") and not store.session_alive("x")
    assert "token-a" not in str([tuple(r) for r in store._conn().execute("SELECT * FROM sessions")])  # hashes only
    store.end_session("token-a")
    assert not store.session_alive("token-a") and store.session_alive("token-b")
    assert not store.session_alive("token-b", since=time.time() + 60)  # too old for that
    store.add_session("token-c")
    store.end_all_sessions(keep="token-c")
    assert not store.session_alive("token-b") and store.session_alive("token-c")
    store.end_all_sessions(before=time.time() - 60)  # only ones started over a minute ago
    assert store.session_alive("token-c")
    store.end_all_sessions()
    assert not store.session_alive("token-c")


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_the_event_spool_folder_and_the_sandbox_database_are_owner_only(tmp_path, umask):
    # attack: the database was owner-only, but the spool folder beside it (listing every writer's files)
    # and the sandbox's database (its account password in clear) were created readable by everyone
    from designer.host.spool import SpoolWriter, spool_folder
    from designer.sandbox import setup
    from designer.sandbox.db import SandboxDB

    old = os.umask(umask)
    try:
        folder = spool_folder(str(tmp_path / "events.sqlite"))
        writer = SpoolWriter(folder)
        writer.append(("CA", "f", "1", "document", "welcome", None, 1.0, {}))
        assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(writer.path).st_mode) == 0o600
        writer.close()
        db = SandboxDB(tmp_path / "sandbox.sqlite")
        setup(db, "login", "sandbox password", dids=["15551230001"])
        for name in ("sandbox.sqlite", "sandbox.sqlite-wal", "sandbox.sqlite-shm"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
        db.close()
    finally:
        os.umask(old)
