"""The host's call events go through a child process into SQLite: all of them, also when the child dies or stalls."""

from __future__ import annotations

import asyncio
import os
import signal
import time

from designer.host.event_writer import ProcessRecorder
from designer.store import CallEvent, SQLiteStore


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
    recorder = ProcessRecorder(str(db), batch=100, interval=0.01)

    async def answer_calls():
        for i in range(1050):  # ten whole batches and a part one, sent by the timer
            recorder(_event(i))
        await asyncio.sleep(0.1)

    asyncio.run(answer_calls())
    assert recorder.flush(timeout=30)
    assert recorder.written == 1050 and recorder.pending == 0 and recorder.dropped == recorder.failed == 0
    child = recorder._proc
    assert child is not None and child.pid != os.getpid()
    recorder.close()
    assert child.poll() == 0  # closing stops the child cleanly
    store = SQLiteStore(db)
    events = store.call_events("CA0")
    assert len(events) == 150
    assert events[0] == _event(0)  # every field, the text parameters unchanged
    store.close()


def test_without_an_event_loop_each_event_is_handed_over_at_once(tmp_path):
    db = tmp_path / "events.sqlite"
    recorder = ProcessRecorder(str(db), batch=1000)
    assert recorder.flush(timeout=5)  # nothing recorded yet: no child started
    assert recorder._proc is None
    recorder(_event(1, "CA-sync"))
    assert recorder._proc is not None and not recorder._rows and not recorder._frames  # already in the pipe
    assert recorder.flush(timeout=30) and recorder.written == 1
    recorder.close()
    assert [e.target for e in SQLiteStore(db).call_events("CA-sync")] == ["menu"]


def test_a_child_that_dies_is_replaced_and_later_events_are_written(tmp_path):
    db = tmp_path / "events.sqlite"
    recorder = ProcessRecorder(str(db), batch=10)
    for i in range(20):
        recorder(_event(i, "CA-before"))
    assert recorder.flush(timeout=30)
    first = recorder._proc
    first.kill()
    first.wait()
    for i in range(30):
        recorder(_event(i, "CA-after"))
    assert recorder.flush(timeout=30)
    assert recorder._proc is not first and recorder.starts == 2
    assert recorder.written == 50 and recorder.failed == 0
    recorder.close()
    store = SQLiteStore(db)
    assert len(store.call_events("CA-before")) == 20 and len(store.call_events("CA-after")) == 30
    store.close()


def test_a_stalled_child_bounds_memory_by_dropping_new_events_and_then_catches_up(tmp_path):
    db = tmp_path / "events.sqlite"
    recorder = ProcessRecorder(str(db), batch=50, max_buffer=256 * 1024)
    recorder(_event(0))
    assert recorder.flush(timeout=30)
    child = recorder._proc
    os.kill(child.pid, signal.SIGSTOP)  # the writer stops reading: the pipe fills, then the buffer
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
    recorder = ProcessRecorder(str(blocker / "events.sqlite"), batch=1)
    deadline = time.monotonic() + 2.5
    sent = 0
    while time.monotonic() < deadline:  # a busy host: an event every few milliseconds
        recorder(_event(sent))
        sent += 1
        time.sleep(0.005)
    assert not recorder.flush(timeout=1)  # nothing could be written
    assert 1 <= recorder.starts <= 3  # 1 s, then 2 s of rest between tries, not a child per event
    assert recorder.written == 0 and recorder.failed + recorder.pending == sent  # every event accounted for
    recorder.close(timeout=1)
    assert "cannot open the database" in capfd.readouterr().err
