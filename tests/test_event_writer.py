"""The host's call events go through a spool file and a child process into SQLite: all of them, also when the
child is killed or stalls."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import time

import subprocess
import sys
from pathlib import Path

from designer.host.event_writer import ProcessRecorder
from designer.host.spool import decode
from designer.store import DECISIONS, REASONS, CallEvent, SQLiteStore, decisions_param, reasons_param


def _event(i: int, sid: str | None = None) -> CallEvent:
    return CallEvent(sid or f"CA{i % 7}", "main-menu", "1", "router", "menu", "1", 1000.0 + i,
                     {"From": "15551230000", "answer": "sales", "note": "é <&>"})


def _stored(db) -> int:
    store = SQLiteStore(db)
    try:
        return store._conn().execute("SELECT COUNT(*) FROM events").fetchone()[0]
    finally:
        store.close()


def test_events_from_the_event_loop_reach_sqlite_through_a_child_process(tmp_path):
    db = tmp_path / "events.sqlite"
    recorder = ProcessRecorder(str(db), check_every=0.01)

    async def answer_calls():
        for i in range(1050):
            recorder(_event(i))
        await asyncio.sleep(0.1)  # the timer starts the child

    asyncio.run(answer_calls())
    assert recorder.flush(timeout=30)
    assert recorder.written == 1050 and recorder.pending == 0 and recorder.dropped == recorder.failed == 0
    child = recorder._proc
    assert child is not None and child.pid != os.getpid()
    recorder.close()
    assert child.poll() == 0  # closing stops the child cleanly
    assert list(Path(recorder.folder).iterdir()) == []  # the spool file is deleted once it is in the database
    store = SQLiteStore(db)
    events = store.call_events("CA0")
    assert len(events) == 150
    assert events[0] == _event(0)  # every field, the text parameters unchanged
    store.close()


def test_each_event_is_in_the_spool_file_when_the_call_returns(tmp_path):
    db = tmp_path / "events.sqlite"
    recorder = ProcessRecorder(str(db))
    assert recorder.flush(timeout=5)  # nothing recorded yet: no child started
    assert recorder._proc is None
    recorder(_event(1, "CA-sync"))
    spooled = [path.read_bytes() for path in Path(recorder.folder).glob("*.spool")]
    assert [decode(data)[0] for data in spooled] == [[_event(1, "CA-sync").row()]]  # whole, before any answer
    assert recorder.flush(timeout=30) and recorder.written == 1
    recorder.close()
    assert [e.target for e in SQLiteStore(db).call_events("CA-sync")] == ["menu"]


def test_an_answers_decisions_are_one_row_with_its_event_and_read_back_in_order(tmp_path):
    db = tmp_path / "events.sqlite"
    recorder = ProcessRecorder(str(db))
    event = _event(5, "CA-d")
    event.params.update({DECISIONS: decisions_param([("hours", "open"), ("who", "local")]),
                         REASONS: reasons_param(["open: Mon 09:00-17:00", "'+1516…' starts with\n1516"], 512)})
    recorder(event)
    assert recorder.flush(timeout=30) and recorder.written == 1 and recorder.pending == 0
    recorder.close()
    rows = sqlite3.connect(db).execute("SELECT kind FROM events WHERE call_sid = 'CA-d'").fetchall()
    assert rows == [("router",)]  # one row for the answer, however many decisions it took
    assert [(e.kind, e.target, e.params.get("branch"), e.params.get("reason")) for e in SQLiteStore(db).call_events("CA-d")] == [
        ("decision", "hours", "open", "open: Mon 09:00-17:00"), ("decision", "who", "local", "'+1516…' starts with 1516"),
        ("router", "menu", None, None)]


def test_a_child_killed_mid_way_is_replaced_and_no_event_is_lost_or_recorded_twice(tmp_path):
    db = tmp_path / "events.sqlite"
    recorder = ProcessRecorder(str(db), rotate_bytes=4096)  # a few files, so some are finished and deleted
    for i in range(20):
        recorder(_event(i, "CA-before"))
    assert recorder.flush(timeout=30)
    first = recorder._proc
    for i in range(300):
        recorder(_event(i, "CA-during"))
    first.kill()  # SIGKILL, with events in the spool it had not moved yet
    first.wait()
    for i in range(30):
        recorder(_event(i, "CA-after"))
    assert recorder.flush(timeout=30)
    assert recorder._proc is not first and recorder.starts == 2
    assert recorder.written == recorder.appended == 350 and recorder.failed == recorder.dropped == 0
    recorder.close()
    store = SQLiteStore(db)
    for sid, count in (("CA-before", 20), ("CA-during", 300), ("CA-after", 30)):
        events = store.call_events(sid)
        assert sorted(e.at for e in events) == [1000.0 + i for i in range(count)], sid  # each once
    assert store._conn().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
    assert list(Path(recorder.folder).iterdir()) == []


def test_the_spool_of_a_killed_process_is_moved_by_the_next_writer(tmp_path):
    db = tmp_path / "events.sqlite"
    # a process that appends 100 events and is then killed before any writer moved them
    script = (
        "import os, signal, sys\n"
        "from designer.host.spool import SpoolWriter, spool_folder\n"
        "spool = SpoolWriter(spool_folder(sys.argv[1]))\n"
        "for i in range(100):\n"
        "    spool.append(('CA-orphan', 'main-menu', '1', 'document', 'welcome', None, 1000.0 + i, {}))\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    killed = subprocess.run([sys.executable, "-c", script, str(db)], cwd=Path(__file__).parents[1])
    assert killed.returncode == -signal.SIGKILL
    recorder = ProcessRecorder(str(db))
    recorder.start()  # as the host does at start-up, before any call
    store = SQLiteStore(db)
    deadline = time.monotonic() + 30
    while len(store.call_events("CA-orphan")) < 100 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(e.at for e in store.call_events("CA-orphan")) == [1000.0 + i for i in range(100)]
    recorder.close()
    assert [p.name for p in Path(recorder.folder).iterdir()] == []  # the orphan's file is gone too
    store.close()


def test_a_stalled_child_bounds_the_spool_by_dropping_new_events_and_then_catches_up(tmp_path):
    db = tmp_path / "events.sqlite"
    recorder = ProcessRecorder(str(db), max_spool=256 * 1024)
    recorder(_event(0))
    assert recorder.flush(timeout=30)
    child = recorder._proc
    os.kill(child.pid, signal.SIGSTOP)  # the writer stops moving events: the spool fills up to max_spool
    try:
        sent = 0
        while recorder.dropped == 0 and sent < 200_000:
            recorder(_event(sent))
            sent += 1
        assert recorder.dropped > 0, "the buffer never filled"
        for i in range(500):
            recorder(_event(i))  # each answer still returns at once
        sent += 500
    finally:
        os.kill(child.pid, signal.SIGCONT)
    assert recorder.flush(timeout=60)
    dropped = recorder.dropped
    recorder.close()
    assert 0 < dropped < sent
    assert _stored(db) == 1 + sent - dropped == recorder.written


def test_a_writer_that_cannot_open_its_database_is_retried_slowly_and_says_why(tmp_path, capfd):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the database's folder should be")
    recorder = ProcessRecorder(str(blocker / "events.sqlite"), spool=str(tmp_path / "spool"))
    deadline = time.monotonic() + 2.5
    sent = 0
    while time.monotonic() < deadline:  # a busy host: an event every few milliseconds
        recorder(_event(sent))
        sent += 1
        time.sleep(0.005)
    assert not recorder.flush(timeout=1)  # nothing could be written
    assert 1 <= recorder.starts <= 3  # 1 s, then 2 s of rest between tries, not a child per event
    assert recorder.written == recorder.failed == 0 and recorder.pending == sent  # every event kept in the spool
    recorder.close(timeout=1)
    assert "cannot open the database" in capfd.readouterr().err
