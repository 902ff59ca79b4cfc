"""``flexml-designer simulate``: a readable transcript, exit 1 with the reason when the call breaks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_simulator_support import FlexMLServer, doc, free_port, serve

import compiler
from compiler import compile_flow, load, write_zip
from designer.cli import main

EXAMPLES = Path(compiler.__file__).parent / "examples"


def simulate(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["simulate", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("flow, digits, expected", [
    ("main-menu", "1", ["pressed 1", "transfer to 15162065340: answered", "OK: status completed"]),
    ("main-menu", "2", ["Please leave a message", "recorded", '"Thank you. Goodbye."', "the flow hangs up"]),
    ("main-menu", "0", ["transfer to 15162065341"]),
    ("main-menu", "7,7,7", ["Sorry, that is not a valid choice.", "/menu/gather?attempt=3 Digits=7"]),
    ("main-menu", "", ["no input", "We did not hear a choice.", "stay on the line to leave a message",
                       "Please leave a message", "the flow hangs up"]),
    ("pin-check", "1234", ["pressed 1234", "Your PIN is correct", "transfer to 15162065342"]),
    ("pin-check", "12#,1234#", ["pressed 12#: # submits 12", "that PIN is not correct", "Your PIN is correct"]),
    ("pin-check", "-", ["no input", "We did not receive a PIN. Goodbye."]),
    ("after-hours", "", ["Our office is closed", "1 s of silence",
                         'sms      text to 15162065343 from 15551230001: "After-hours call to Acme from 15551230001."']),
])
def test_example_flows_print_what_the_caller_hears(capsys, flow, digits, expected):
    closed = ["--at", "2026-12-25T10:00", "--tz", "America/New_York"] if flow == "after-hours" else []
    code, out, err = simulate(capsys, str(EXAMPLES / f"{flow}.json"), "--digits", digits, *closed)
    assert code == 0, err
    assert err == ""
    for text in expected:
        assert text in out, (text, out)
    fetches = [line for line in out.splitlines() if " fetch " in line]
    assert fetches and all(re.search(r"-> 200 in \d+ ms$", line) for line in fetches)
    assert re.search(r"status +POST /flexml/status CallStatus=completed CallDuration=\d+ -> 200", out)


def test_the_transcript_shows_time_kind_and_text_in_order(capsys):
    code, out, _ = simulate(capsys, str(EXAMPLES / "main-menu.json"), "--digits", "1")
    lines = out.splitlines()
    assert lines[0] == "Calling http://designer.local/flexml/main-menu from 15551230001 to 15551230002"
    assert re.fullmatch(r"\[ +0\.0s\] fetch +POST /flexml/main-menu -> 200 in \d+ ms", lines[1])
    assert lines[2] == ("[    0.0s] decision hours: open (open: Tuesday 09:00-17:00 (Tuesday 10:00 "
                        "America/New_York))")  # the tests' clock
    assert lines[3] == '[    0.0s] say      "Thank you for calling Acme." (woman)'
    times = [float(m.group(1)) for m in (re.match(r"\[ *([\d.]+)s\]", line) for line in lines) if m]
    assert times == sorted(times)
    assert lines[-1].startswith("OK: status completed")


def test_record_key_and_star_in_transfer_options(capsys):
    # option 2 is voicemail: pressing # ends the message at once
    code, out, _ = simulate(capsys, str(EXAMPLES / "main-menu.json"), "--digits", "2", "--record-key", "#")
    assert code == 0 and "then presses #: recorded" in out
    code, out, _ = simulate(capsys, str(EXAMPLES / "main-menu.json"), "--digits", "1", "--star-in-transfer")
    assert code == 0 and "the caller presses *" in out
    code, _, err = simulate(capsys, str(EXAMPLES / "main-menu.json"), "--record-key", "##")
    assert code == 1 and "--record-key '##': give one phone key" in err
    code, _, err = simulate(capsys, str(EXAMPLES / "main-menu.json"), "--record-key", "x")
    assert code == 1 and "--record-key: 'x' has 'x', which is not a phone key" in err


def test_from_to_and_dial_outcome_options(capsys):
    code, out, _ = simulate(capsys, str(EXAMPLES / "after-hours.json"), "--from", "15165550000",
                            "--to", "15162065337", "--at", "2026-12-25T10:00", "--tz", "America/New_York")
    assert 'text to 15162065343 from 15165550000: "After-hours call to Acme from 15165550000."' in out
    code, out, _ = simulate(capsys, str(EXAMPLES / "main-menu.json"), "--digits", "1", "--dial-outcome", "noanswer")
    assert code == 0 and "transfer to 15162065340: no answer after 20 s" in out


def test_record_fails_option_takes_the_error_path(capsys):
    code, out, _ = simulate(capsys, str(EXAMPLES / "main-menu.json"), "--digits", "2", "--record-fails")
    assert code == 0 and "the recording failed" in out and "Sorry, we could not record your message." in out


def test_a_bundle_zip_is_hosted_too(capsys, tmp_path):
    graph = load(EXAMPLES / "pin-check.json")
    bundle = tmp_path / "pin.zip"
    bundle.write_bytes(write_zip(compile_flow(graph, revision="7"), graph))
    code, out, _ = simulate(capsys, str(bundle), "--digits", "1234")
    assert code == 0 and "/flexml/pin-check/7/ask-pin/gather Digits=1234" in out


def test_a_url_is_called_over_http_with_the_method_asked_for(capsys):
    server = FlexMLServer({"/ivr": doc('<Gather numDigits="1" action="next"><Say>Press one</Say></Gather>'),
                           "/next": doc("<Say>Bye</Say>", "<Hangup/>")})
    with serve(server) as base:
        code, out, _ = simulate(capsys, f"{base}/ivr", "--digits", "1", "--method", "get")
    assert code == 0
    assert [(r.method, r.path) for r in server.requests] == [("GET", "/ivr"), ("POST", "/next")]
    assert "GET /ivr -> 200" in out and '"Bye"' in out


def test_a_broken_call_exits_1_with_the_reason(capsys):
    server = FlexMLServer({"/ivr": doc("<Say>Hi</Say>", "<Redirect>/gone</Redirect>"), "/gone": (500, "oops")})
    with serve(server) as base:
        code, out, err = simulate(capsys, f"{base}/ivr")
    assert code == 1
    assert "BROKEN: status failed" in out and '"Hi"' in out
    assert err.strip() == (f"flexml-designer simulate: the call broke: {base}/gone answered "
                           f"HTTP 500 Internal Server Error")


def test_a_refused_connection_exits_1(capsys):
    code, out, err = simulate(capsys, f"http://127.0.0.1:{free_port()}/flexml", "--timeout", "5")
    assert code == 1 and "connection refused" in err and err.count("\n") == 1


def test_a_loop_exits_1(capsys):
    server = FlexMLServer({"/loop": doc("<Redirect>/loop</Redirect>")})
    with serve(server) as base:
        code, _, err = simulate(capsys, f"{base}/loop", "--max-fetches", "5")
    assert code == 1 and "seems to loop forever" in err and len(server.requests) == 5


@pytest.mark.parametrize("args, message", [
    (["--digits", "1x"], "'x', which is not a phone key"),
    (["--max-fetches", "0"], "--max-fetches must be 1 or more"),
    (["--timeout", "0"], "--timeout must be more than 0"),
    (["--timeout", "nan"], "--timeout must be more than 0"),
    (["--digits", "2", "--record-seconds", "nan"], "--record-seconds must be 0 or more"),
    (["--digits", "2", "--record-seconds", "inf"], "--record-seconds must be 0 or more"),
])
def test_bad_options_give_one_clear_line(capsys, args, message):
    code, out, err = simulate(capsys, str(EXAMPLES / "main-menu.json"), *args)
    assert code == 1 and message in err and "Traceback" not in err and err.count("\n") == 1


@pytest.mark.parametrize("target, message", [
    ("missing.json", "missing.json"),
    ("flow.txt", "not a flow file"),
    ("ftp://example.com/x", "only http:// and https://"),
    ("http://[::1/flexml", "not a URL that can be called: Invalid IPv6 URL"),
    ("http://127.0.0.1:99999/flexml", "not a URL that can be called: Port out of range"),
])
def test_bad_targets_give_one_clear_line(capsys, tmp_path, monkeypatch, target, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "flow.txt").write_text("hello")
    code, out, err = simulate(capsys, target)
    assert code == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize("target", ["http://[::1/next", "http://127.0.0.1:99999/next"])
def test_a_document_sending_the_call_to_an_unusable_url_breaks_the_call_in_plain_words(capsys, target):
    server = FlexMLServer({"/start": doc(f"<Say>Hello.</Say><Redirect>{target}</Redirect>")})
    with serve(server) as base:
        code, out, err = simulate(capsys, f"{base}/start")
    assert code == 1 and "Traceback" not in err and err.count("\n") == 1
    assert '"Hello."' in out and f"{target!r}" in err and "the call broke" in err


def test_an_invalid_flow_file_lists_its_problems(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"graph": {"id": "bad", "start": "x"}, "nodes": [{"id": "x", "type": "Say"}], "edges": []}')
    code, out, err = simulate(capsys, str(bad))
    assert code == 1 and "node x" in err and out == ""
