"""Decisions across real processes: the operator's switch on every ``host --db --workers 2`` worker, whole
calls over loopback HTTP counting fetches, and ``simulate --at``."""

from __future__ import annotations

import asyncio
import socket
import time
from datetime import datetime
from pathlib import Path

import pytest
from conftest import TEST_CLOCK
from lxml import etree
from test_host_cli import _listening, _serve, _stop, _worker_of_connection

from compiler.examples import example_text
from compiler.flow import dumps
from compiler.grammar import check_document
from designer.cli import main
from designer.simulator import ScriptedCaller, simulate_call
from designer.store import SQLiteStore
from tests.strategies import make_flow

EXAMPLES = Path(__file__).resolve().parents[1] / "compiler" / "examples"
CLOCK = datetime.fromisoformat(TEST_CLOCK).timestamp()  # what the hosts in the tests take for now: open
REQUEST = (b"POST /flexml/main-menu HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
           b"Content-Length: 2\r\n\r\n{}")


def _answers_on_every_worker(proc, port: int) -> dict[int, set[str]]:
    """Worker pid → what the entry answer starts with ("menu" or "closed"), over 24 fresh connections."""
    workers = [int(p) for p in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(24)]
    seen: dict[int, set[str]] = {}
    try:
        for conn in conns:
            conn.sendall(REQUEST)
            data = b""
            while b"</Response>" not in data and b"<Response/>" not in data:
                chunk = conn.recv(65536)
                assert chunk, "the connection closed before the answer"
                data += chunk
            body = data.split(b"\r\n\r\n", 1)[1]
            check_document(body, "entry")
            state = "closed" if b"Our office is closed" in body else "menu" if b"<Gather" in body else "?"
            owner = _worker_of_connection(conn.getsockname()[1], workers)
            seen.setdefault(owner, set()).add(state)
    finally:
        for conn in conns:
            conn.close()
    return seen


def _until(proc, port: int, wanted: str, seconds: float = 10.0) -> dict[int, set[str]]:
    deadline = time.monotonic() + seconds
    while True:
        seen = _answers_on_every_worker(proc, port)
        if len(seen) == 2 and all(states == {wanted} for states in seen.values()):
            return seen
        assert time.monotonic() < deadline, f"workers still answer {seen} after {seconds:g} s, not {wanted}"
        time.sleep(0.2)


def test_the_operators_switch_reaches_every_host_worker_and_expires(tmp_path):
    menu = tmp_path / "main-menu.json"
    menu.write_text(example_text("main-menu"))
    db = tmp_path / "host.sqlite"
    proc, url = _serve([str(menu), "--workers", "2", "--db", str(db), "--quiet"])
    try:
        port = int(url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 30
        while _listening(port) < 2:
            assert time.monotonic() < deadline, "the second worker did not listen in 30 s"
            time.sleep(0.1)
        assert set().union(*_answers_on_every_worker(proc, port).values()) == {"menu"}
        store = SQLiteStore(db)  # what the designer's Flows page writes
        store.set_override("main-menu", "hours", "closed", CLOCK + 3600)
        _until(proc, port, "closed")  # both workers, within about a second of each other
        store.set_override("main-menu", "hours", "closed", CLOCK - 60)  # a switch that has expired
        _until(proc, port, "menu")
        store.set_override("main-menu", "hours", "closed", None)  # until cleared
        _until(proc, port, "closed")
        store.clear_override("main-menu", "hours")
        _until(proc, port, "menu")
        store.close()
    finally:
        _stop(proc)


def _flow(path: Path, graph) -> str:
    path.write_text(dumps(graph))
    return str(path)


def test_whole_calls_over_loopback_count_no_fetch_for_a_decision(tmp_path):
    menu = _flow(tmp_path / "split.json", make_flow({
        "menu": {"type": "Gather", "attrs": {"numDigits": 1}, "options": ["1"],
                 "prompt": [{"type": "Say", "text": "Press 1."}]},
        "who": {"type": "Split", "value": "{{ From }}", "cases": [{"branch": "local", "starts_with": ["1516"]}]},
        "local": {"type": "Dial", "numbers": ["15162065340"]},
        "far": {"type": "Dial", "numbers": ["15162065341"]},
    }, [("menu", "who", "1"), ("who", "local", "local"), ("who", "far", "else")], flow_id="split"))
    plain = _flow(tmp_path / "plain.json", make_flow({
        "menu": {"type": "Gather", "attrs": {"numDigits": 1}, "options": ["1"],
                 "prompt": [{"type": "Say", "text": "Press 1."}]},
        "local": {"type": "Dial", "numbers": ["15162065340"]},
    }, [("menu", "local", "1")], flow_id="plain"))
    closed = tmp_path / "main-menu.json"
    closed.write_text(example_text("main-menu"))
    proc, url = _serve([menu, plain, str(closed), "--quiet"])
    try:
        async def calls():
            split = await simulate_call(f"{url}/flexml/split", caller=ScriptedCaller(digits=["1"]),
                                        from_="+1 516 555 0000")
            direct = await simulate_call(f"{url}/flexml/plain", caller=ScriptedCaller(digits=["1"]))
            busy = await simulate_call(f"{url}/flexml/main-menu", caller=ScriptedCaller(digits=["1"],
                                                                                     dial_outcome="busy"))
            return split, direct, busy
        split, direct, busy = asyncio.run(calls())
    finally:
        _stop(proc)
    assert split.ok and direct.ok
    assert [e.data["numbers"] for e in split.events if e.kind == "dial"] == [["15162065340"]]
    assert [e.text for e in split.events if e.kind == "decision"] == ["who: local ('+1 516 555 0000' starts with 1516)"]
    assert split.fetches == direct.fetches == 2  # menu → split → transfer costs what menu → transfer does
    assert busy.ok and busy.fetches == 2  # main menu at 10:00 on a Tuesday: open → press 1 → transfer


def test_welcome_hours_closed_message_and_voicemail_is_one_fetch_and_the_recording_one_more(tmp_path, monkeypatch):
    monkeypatch.setenv("FLEXML_CLOCK", "2026-12-25T10:00-05:00")  # Christmas Day: closed
    menu = tmp_path / "main-menu.json"
    menu.write_text(example_text("main-menu"))
    proc, url = _serve([str(menu), "--quiet"])
    try:
        result = asyncio.run(simulate_call(f"{url}/flexml/main-menu", caller=ScriptedCaller()))
    finally:
        _stop(proc)
    # the entry (hours decided, the closed message and the Record in one answer), then the Record's action
    assert result.ok and result.fetches == 2
    assert result.said()[:2] == ["Thank you for calling Acme.", "Our office is closed right now. We are open "
                                 "Monday to Friday, 9 AM to 5 PM, and Saturday, 10 AM to 2 PM."]
    assert "record" in result.kinds()
    decisions = [e.data for e in result.events if e.kind == "decision"]
    assert [(d["node"], d["branch"]) for d in decisions] == [("hours", "closed")]
    assert "12-25 is a closed date" in decisions[0]["reason"]


@pytest.mark.parametrize("at, tz, hears", [
    ("2026-12-24T18:30", "America/New_York", "closed"),  # Thursday evening
    ("2026-12-25T00:30", "Asia/Tokyo", "menu"),  # Christmas in Tokyo is Thursday 10:30 in New York: open
    ("2026-12-22T10:30", "America/New_York", "menu"),
    ("2026-12-22T10:30-05:00", None, "menu"),
])
def test_simulate_at_a_chosen_time(tmp_path, capsys, at, tz, hears):
    menu = tmp_path / "main-menu.json"
    menu.write_text(example_text("main-menu"))
    args = ["simulate", str(menu), "--at", at, "--digits", "2"] + (["--tz", tz] if tz else [])
    assert main(args) == 0
    out = capsys.readouterr().out
    assert ("Our office is closed" in out) == (hears == "closed")
    assert ("decision hours: closed" in out) == (hears == "closed")
    assert ("decision hours: open" in out) == (hears == "menu")


def test_simulate_at_refuses_what_it_cannot_use(tmp_path, capsys):
    menu = tmp_path / "main-menu.json"
    menu.write_text(example_text("main-menu"))
    assert main(["simulate", str(menu), "--at", "Christmas"]) == 1
    assert "--at: 'Christmas' is not a time like 2026-12-24T18:30" in capsys.readouterr().err
    assert main(["simulate", str(menu), "--at", "2026-12-24T18:30", "--tz", "Mars/Olympus"]) == 1
    assert "'Mars/Olympus' is not a time zone" in capsys.readouterr().err
    assert main(["simulate", "http://127.0.0.1:9/flexml", "--at", "2026-12-24T18:30"]) == 1
    assert "--at works for flow files and bundles" in capsys.readouterr().err
    assert main(["simulate", str(menu), "--tz", "UTC"]) == 1
    assert "add --at TIME" in capsys.readouterr().err


def _hears(url: str, wanted: str, seconds: float = 10.0) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while True:
        said = httpx.post(f"{url}/flexml/main-menu", json={"CallSid": "CA-switch"}, timeout=5).text
        if wanted in said:
            return
        assert time.monotonic() < deadline, f"the host still answers {said[:200]!r}, not {wanted!r}"
        time.sleep(0.2)


@pytest.mark.parametrize("serving", ["files", "store"])
def test_one_host_process_follows_the_switch_however_its_db_is_written(tmp_path, serving):
    # host FLOW.json --db sqlite:///PATH once followed a file named after the URL; host --db (one process)
    # followed no switch at all
    menu = tmp_path / "main-menu.json"
    menu.write_text(example_text("main-menu"))
    db = tmp_path / "host.sqlite"
    if serving == "files":
        proc, url = _serve([str(menu), "--db", f"sqlite://{db}", "--quiet"])
    else:
        assert main(["publish", str(menu), "--db", str(db)]) == 0
        proc, url = _serve(["--db", f"sqlite://{db}"])
    try:
        _hears(url, "For sales")
        store = SQLiteStore(db)
        store.set_override("main-menu", "hours", "closed", None)
        _hears(url, "closed right now")
        store.clear_override("main-menu", "hours")
        _hears(url, "For sales")
        store.close()
    finally:
        _stop(proc)


def test_the_hours_command_switches_the_store_and_a_running_host_follows(tmp_path, capsys):
    menu = tmp_path / "main-menu.json"
    menu.write_text(example_text("main-menu"))
    db = str(tmp_path / "store.sqlite")
    assert main(["publish", str(menu), "--db", db]) == 0
    proc, url = _serve(["--db", db])
    capsys.readouterr()
    try:
        _hears(url, "For sales")
        assert main(["hours", "main-menu", "--status", "--db", db]) == 0
        assert "main-menu hours: calls now: open: Tuesday 09:00-17:00" in capsys.readouterr().out
        assert main(["hours", "main-menu", "--closed", "--db", db]) == 0  # the flow's one Hours step
        assert "calls now: closed, switched by the operator (" in capsys.readouterr().out
        _hears(url, "closed right now")
        assert main(["hours", "main-menu", "hours", "--open", "--until", "2099-01-04T09:00", "--db", db]) == 0
        assert "calls now: open, switched by the operator until Sun 04 Jan 09:00" in capsys.readouterr().out
        _hears(url, "For sales")
        assert main(["hours", "main-menu", "--clear", "--db", db]) == 0
        assert "no switch, the schedule decides" in capsys.readouterr().out
        store = SQLiteStore(db)
        assert store.overrides("main-menu") == []
        store.close()
    finally:
        _stop(proc)


@pytest.mark.parametrize("args, message", [
    (["nowhere", "--closed"], "there is no flow 'nowhere'"),
    (["main-menu", "lobby", "--closed"], "flow 'main-menu' has no business-hours step 'lobby'; it has: hours"),
    (["main-menu", "--clear", "--until", "2099-01-01T09:00"], "--until goes with --closed or --open"),
    (["main-menu", "--closed", "--until", "soon"], "--until: 'soon' is not a time like 2026-12-24T18:30"),
    (["main-menu", "--closed", "--until", "2001-01-01T09:00"], "the switch would end before it starts"),
])
def test_the_hours_commands_mistakes_are_one_line(tmp_path, capsys, args, message):
    db = str(tmp_path / "store.sqlite")
    assert main(["publish", str(EXAMPLES / "main-menu.json"), "--db", db]) == 0
    capsys.readouterr()
    assert main(["hours", *args, "--db", db]) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_whole_calls_over_loopback_with_a_set_value_and_a_transfer_not_answered(tmp_path):
    flow = _flow(tmp_path / "remember.json", make_flow({
        "welcome": {"type": "Say", "text": "Para español, oprima uno."},
        "lang": {"type": "Set", "vars": {"language": "es"}},
        "menu": {"type": "Gather", "attrs": {"numDigits": 1}, "options": ["1"],
                 "prompt": [{"type": "Say", "text": "Press 1 for the front desk."}]},
        "by-lang": {"type": "Split", "value": "{{ language }}", "cases": [{"branch": "es", "equals": ["es"]}]},
        "desk": {"type": "Dial", "numbers": ["15162065340"]},
        "english": {"type": "Dial", "numbers": ["15162065341"]},
        "sorry": {"type": "Say", "text": "Nadie contesta; deje un mensaje en {{ language }}."},
        "vm": {"type": "Record"},
    }, [("welcome", "lang"), ("lang", "menu"), ("menu", "by-lang", "1"), ("by-lang", "desk", "es"),
        ("by-lang", "english", "else"), ("desk", "sorry", "no-answer"), ("sorry", "vm")], flow_id="remember"))
    proc, url = _serve([flow, "--quiet"])
    try:
        async def calls():
            return [await simulate_call(f"{url}/flexml/remember", caller=ScriptedCaller(digits=["1"],
                                                                                      dial_outcome=outcome))
                    for outcome in ("completed", "noanswer")]
        answered, missed = asyncio.run(calls())
    finally:
        _stop(proc)
    assert answered.ok and missed.ok
    for call in (answered, missed):  # the value set in the first answer is read after the menu: es
        assert [e.data["numbers"] for e in call.events if e.kind == "dial"] == [["15162065340"]]
    # welcome + Set + menu is one fetch, the menu's router + Split + transfer one more; a transfer not
    # answered costs the fetch of its action, which plays the no-answer path (the Set value still there), and
    # the message left there one more: the Record's action, which brings the recording to the host
    assert answered.fetches == 3 and missed.fetches == 4
    assert "Nadie contesta; deje un mensaje en es." in missed.said() and "Nadie" not in " ".join(answered.said())
    assert [e.text.split(" (")[0] for e in missed.events if e.kind == "decision"][-1] == "desk: no-answer"
