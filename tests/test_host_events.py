"""The event writer process behind ``host --db``: every event of a burst lands, a dead writer never blocks answers."""

from __future__ import annotations

import httpx
import pytest

from compiler import compile_flow
from compiler.examples import example
from designer.host import FlowTable, create_host_app
from designer.host_events import EventRecorder, SQLiteWriter
from designer.store import CallEvent, SQLiteStore


def _event(i: int) -> CallEvent:
    return CallEvent(f"CA{i % 3}", "main-menu", "1", "router", "menu", str(i % 10), 1000.0 + i,
                     {"From": "15551230001", "answer": f"doc-{i}"})


def test_every_event_of_a_burst_is_in_the_store_after_close(tmp_path):
    path = tmp_path / "events.sqlite"
    recorder = EventRecorder(SQLiteWriter(path), batch=500, interval=0.01)
    burst = [_event(i) for i in range(3000)]
    for event in burst:
        recorder(event)
    recorder.close()  # writes what is still queued, then ends the writer process
    assert recorder.written == 3000 and recorder.failed == 0 and recorder.dropped == 0
    store = SQLiteStore(path)
    assert [e for k in range(3) for e in store.call_events(f"CA{k}")] == [e for k in range(3) for e in burst
                                                                         if e.call_sid == f"CA{k}"]
    store.close()


def test_a_bad_database_path_fails_in_the_host(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(OSError):
        SQLiteWriter(tmp_path / "file" / "events.sqlite")


async def test_answers_go_on_while_the_writer_process_is_dead(tmp_path):
    table = FlowTable()
    table.publish(compile_flow(example("main-menu")))
    writer = SQLiteWriter(tmp_path / "events.sqlite")
    recorder = EventRecorder(writer, interval=0.01)
    writer.process.kill()
    writer.process.wait()
    welcome = compile_flow(example("main-menu")).documents["welcome"]
    transport = httpx.ASGITransport(create_host_app(table, recorder))
    async with httpx.AsyncClient(transport=transport, base_url="http://host") as client:
        for i in range(20):
            answer = await client.post("/flexml/main-menu", json={"CallSid": f"CA{i}", "From": "1555"})
            assert answer.status_code == 200 and answer.content == welcome
    assert recorder.flush(timeout=30)
    recorder.close()
    assert recorder.failed == 20 and recorder.written == 0
