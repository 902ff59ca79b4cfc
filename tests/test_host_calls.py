"""Whole calls over real HTTP on loopback: uvicorn serving the host, the simulator playing the carrier."""

import socket
import sqlite3
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import uvicorn

from compiler import compile_flow
from compiler.examples import EXAMPLES, example
from compiler.grammar import problems as grammar_problems
from designer.host import EventRecorder, FlowTable, create_host_app
from designer.simulator import GatherInfo, ScriptedCaller, simulate_call
from designer.store import DECISIONS, SQLiteStore

MAIN_LINE = "+1 (516) 206-5337"


class LiveHost:
    """uvicorn on a free loopback port, in a thread, serving ``app``."""

    def __init__(self, app):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "LiveHost":
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the host did not start")
            self.thread.join(0.01)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


CHRISTMAS = datetime(2026, 12, 25, 10, 0, tzinfo=ZoneInfo("America/New_York"))  # the examples are closed


@pytest.fixture
def table():
    t = FlowTable()
    for name in EXAMPLES:
        t.serve_revision(compile_flow(example(name)))
    t.bind(MAIN_LINE, "main-menu")
    return t


@pytest.fixture
def events():
    return []


@pytest.fixture
def live(table, events):
    with LiveHost(create_host_app(table, events.append)) as host:
        yield host


async def call(live, path="/flexml", digits=(), **kw):
    caller = kw.pop("caller", None) or ScriptedCaller(digits=list(digits), record_seconds=kw.pop("record_seconds", 6),
                                                      dial_outcome=kw.pop("dial_outcome", "completed"))
    result = await simulate_call(live.url + path, caller=caller, to=kw.pop("to", MAIN_LINE),
                                 status_callback_url=live.url + "/flexml/status", **kw)
    assert result.ok, result.transcript()
    return result


def dialled(result) -> list[list[str]]:
    return [e.data["numbers"] for e in result.events if e.kind == "dial"]


# --- every example flow, whole calls -----------------------------------------------------------


async def test_main_menu_press_1_reaches_sales_in_two_fetches(live, events):
    result = await call(live, digits=["1"])
    assert result.said()[0] == "Thank you for calling Acme."
    assert dialled(result) == [["15162065340"]]
    assert result.fetches == 2
    assert [(e.kind, e.target, e.params.get(DECISIONS)) for e in events] == [
        ("document", "welcome", "hours open"), ("router", "menu", None), ("status", "completed", None)]
    assert {e.call_sid for e in events} == {result.call_sid}


async def test_main_menu_voicemail_and_a_failed_recording(live):
    left = await call(live, digits=["2"])
    assert "Thank you. Goodbye." in left.said()
    assert [e.kind for e in left.events].count("record") == 1
    failed = await call(live, digits=["2"], caller=ScriptedCaller(digits=["2"], record_fails=True))
    assert "Sorry, we could not record your message." in failed.said()


async def test_main_menu_wrong_keys_are_asked_again_then_the_operator(live):
    result = await call(live, digits=["7", "8", "0"])
    assert result.said().count("Sorry, that is not a valid choice.") == 2
    assert dialled(result) == [["15162065341"]]


async def test_main_menu_three_wrong_keys_end_on_the_no_input_branch_and_loop_back(live):
    # three wrong keys → the no-input branch asks once more → 1 goes back to the menu → 1 is sales
    result = await call(live, digits=["7", "7", "7", "1", "1"])
    said = result.said()
    assert said.count("Sorry, that is not a valid choice.") == 2
    assert "We did not hear a choice." in said
    assert dialled(result) == [["15162065340"]]


async def test_pin_check_wrong_then_right_pin(live):
    result = await call(live, "/flexml/pin-check", digits=["0000", "1234"])
    assert "Sorry, that PIN is not correct." in result.said()
    assert dialled(result) == [["15162065342"]]


async def test_pin_check_silence_says_goodbye(live):
    result = await call(live, "/flexml/pin-check")
    assert result.said()[-1] == "We did not receive a PIN. Goodbye."
    assert result.kinds()[-3:] == ["hangup", "end", "status"]


async def test_after_hours_message_and_texts(live, table):
    table.now = lambda: CHRISTMAS  # closed
    result = await call(live, "/flexml/after-hours", from_="15165550123")
    assert [(e.data["to"], e.data["body"]) for e in result.events if e.kind == "sms"] == [
        ("15162065343", "After-hours call to Acme from 15165550123."),
        ("15165550123", "Acme is open Monday to Friday, 9 AM to 5 PM. Call us back then!")]  # to the caller
    assert result.fetches == 1


@pytest.mark.parametrize("name", sorted(EXAMPLES))
async def test_every_example_answers_by_get_too(live, name):
    result = await call(live, f"/flexml/{name}", digits=["1", "1234"], method="GET")
    assert result.fetches >= 1 and (result.said() or dialled(result))  # after-hours at 10:00: a transfer


async def test_unknown_number_hears_an_apology_not_an_error(live, events):
    result = await simulate_call(live.url + "/flexml", to="+1 212 555 0000")
    assert result.ok, result.transcript()
    assert result.said() == ["Sorry, we cannot take your call right now. Please try again later. Goodbye."]
    assert events[0].kind == "error" and "is not bound" in events[0].target


# --- republish during a call ---------------------------------------------------------------------


class RepublishingCaller(ScriptedCaller):
    """Presses 1 at the menu, but first the flow is published again (a user clicks Publish mid-call)."""

    def __init__(self, table: FlowTable):
        super().__init__(digits=["1"])
        self.table = table

    async def keys(self, gather: GatherInfo) -> str | None:
        graph = example("main-menu")
        graph.nodes["sales"]["numbers"] = ["15169990000"]
        graph.nodes["welcome"]["text"] = "Welcome to the new Acme."
        self.table.serve_revision(compile_flow(graph, revision="2"))
        return await super().keys(gather)


async def test_a_call_in_progress_keeps_its_revision_new_calls_get_the_new_one(live, table, events):
    during = await call(live, caller=RepublishingCaller(table))
    assert dialled(during) == [["15162065340"]]  # revision 1's sales number
    assert [e.rev for e in events if e.kind not in ("status", "decision")] == ["1", "1"]
    after = await call(live, digits=["1"])
    assert after.said()[0] == "Welcome to the new Acme."
    assert dialled(after) == [["15169990000"]]
    assert [e.rev for e in events if e.call_sid == after.call_sid and e.kind not in ("status", "decision")] \
        == ["2", "2"]


# --- events into the store ------------------------------------------------------------------------


async def test_events_reach_the_sqlite_store_even_while_it_is_locked(tmp_path, table):
    path = tmp_path / "calls.sqlite"
    store = SQLiteStore(path)
    recorder = EventRecorder(store.record_events, interval=0.02)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database: writes must wait
    try:
        with LiveHost(create_host_app(table, recorder)) as live:
            result = await call(live, digits=["2"])  # the whole call is answered while the store is locked
            assert "Thank you. Goodbye." in result.said()
            assert store.call_events(result.call_sid) == []  # nothing written yet: the events wait in memory
            assert recorder.written == 0
            blocker.execute("ROLLBACK")
            assert recorder.flush(timeout=30)
    finally:
        blocker.close()
        recorder.close()
    stored = [e for e in store.call_events(result.call_sid) if e.kind != "decision"]
    assert [(e.kind, e.target, e.digits) for e in stored] == [
        ("document", "welcome", None), ("router", "menu", "2"), ("recording", "voicemail", None),
        ("status", "completed", None)]
    assert stored[0].params["From"] == "15551230001" and stored[0].params["To"] == MAIN_LINE
    assert stored[1].params["answer"] == "vm-prompt"
    assert stored[2].params["answer"] == "vm-thanks"  # the Record's action answered with the rest of the flow
    assert stored[3].params["CallStatus"] == "completed"
    calls = store.recent_calls()
    assert calls[0]["call_sid"] == result.call_sid and calls[0]["status"] == "completed"
    store.close()


async def test_every_answer_on_the_wire_is_flexml(live):
    import httpx

    async with httpx.AsyncClient(base_url=live.url) as client:
        for method, path, kw in [("POST", "/flexml", {"json": {"To": "0"}}),
                                 ("POST", "/flexml/main-menu", {"content": b"\x00\xff" * 10,
                                                                "headers": {"content-type": "application/json"}}),
                                 ("POST", "/flexml/main-menu", {"content": b"x" * 200_000}),
                                 ("GET", "/flexml/main-menu/1/menu/gather?Digits=%00", {}),
                                 ("GET", "/flexml/status", {})]:
            response = await client.request(method, path, **kw)
            assert response.status_code == 200, path
            assert response.headers["content-type"] == "application/xml"
            assert grammar_problems(response.content) == []


async def test_shutting_the_host_down_writes_the_events_still_queued(tmp_path, table):
    store = SQLiteStore(tmp_path / "calls.sqlite")
    recorder = EventRecorder(store.record_events, interval=3600)  # the writer would not wake on its own
    table.now = lambda: CHRISTMAS  # closed
    with LiveHost(create_host_app(table, recorder)) as live:
        result = await call(live, "/flexml/after-hours")
        assert recorder.pending == 2 and recorder.written == 0  # a request (and the decision it took), the status
    assert [(e.kind, e.target) for e in store.call_events(result.call_sid)] == [
        ("decision", "hours"), ("document", "hours"), ("status", "completed")]
    store.close()
