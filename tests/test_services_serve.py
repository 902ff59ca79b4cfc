"""`flexml-designer serve` arguments and the rule that decides when pages need a sign-in."""

from __future__ import annotations

import pytest

from designer.app import is_loopback
from designer.cli import main, parser
from designer.commands import serve
from designer.ui import auth


@pytest.mark.parametrize("host, loopback", [
    ("127.0.0.1", True), ("127.0.0.53", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.20", False), ("ivr.example.com", False),
])
def test_only_loopback_addresses_skip_the_sign_in(host, loopback):
    assert is_loopback(host) is loopback


def test_default_database_follows_flexml_db(monkeypatch, tmp_path):
    monkeypatch.delenv("FLEXML_DB", raising=False)
    assert serve.default_db().endswith(".local/share/flexml-designer/designer.sqlite")
    monkeypatch.setenv("FLEXML_DB", str(tmp_path / "x.sqlite"))
    assert serve.default_db() == str(tmp_path / "x.sqlite")


def test_serve_options_parse():
    args = parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "9000", "--db", "/tmp/d.sqlite",
                                "--public-url", "https://ivr.example.com", "--require-login"])
    assert (args.host, args.port, args.db, args.public_url, args.require_login) == \
        ("0.0.0.0", 9000, "/tmp/d.sqlite", "https://ivr.example.com", True)
    defaults = parser().parse_args(["serve"])
    assert (defaults.host, defaults.port, defaults.db, defaults.require_login) == ("127.0.0.1", 8080, None, False)


@pytest.mark.parametrize("argv, message", [
    (["--port", "0"], "--port 0: use a port from 1 to 65535"),
    (["--public-url", "ivr example"], "--public-url: 'ivr example' is not a web address"),
])
def test_bad_serve_options_give_one_line(argv, message, tmp_path, capsys):
    assert main(["serve", "--db", str(tmp_path / "d.sqlite"), *argv]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"flexml-designer serve: {message}") and err.count("\n") == 1


def test_a_port_in_use_or_an_unknown_host_is_one_line_before_any_url(tmp_path, capsys):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--db", str(tmp_path / "d.sqlite"), "--port", str(port)]) == 1
        out, err = capsys.readouterr()
        assert err == f"flexml-designer serve: cannot listen on 127.0.0.1:{port}: Address already in use\n"
        assert out == ""
    assert main(["serve", "--db", str(tmp_path / "d.sqlite"), "--host", "no-such-host.invalid"]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("flexml-designer serve: --host 'no-such-host.invalid': ") and err.count("\n") == 1
    assert out == ""


def test_an_unusable_database_path_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["serve", "--db", str(blocker / "d.sqlite")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"flexml-designer serve: --db {blocker / 'd.sqlite'}: cannot open the database")


def test_passwords_are_stored_as_scrypt_hashes():
    stored = auth.hash_password("open sesame")
    assert stored.startswith("scrypt$") and "open sesame" not in stored
    assert auth.check_password("open sesame", stored)
    assert not auth.check_password("open sesame!", stored)
    assert not auth.check_password("open sesame", None) and not auth.check_password("x", "garbage")
    assert auth.hash_password("open sesame") != stored  # salted


def test_stopping_serve_writes_the_last_call_events_without_a_traceback(tmp_path):
    import json
    import os
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from designer.store import SQLiteStore

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    db = tmp_path / "d.sqlite"
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    proc = subprocess.Popen([sys.executable, "-m", "designer", "serve", "--port", str(port), "--db", str(db)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/flexml/status", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
                time.sleep(0.2)
        answer = httpx.post(f"http://127.0.0.1:{port}/flexml/no-such-flow", timeout=5,
                            content=json.dumps({"CallSid": "CA-last", "To": "15551230002"}),
                            headers={"content-type": "application/json"})
        assert answer.status_code == 200 and "<Hangup" in answer.text
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert "Traceback" not in err and "shutdown failed" not in err, err
    store = SQLiteStore(db)
    assert [e.call_sid for e in store.call_events("CA-last")] == ["CA-last"]
    store.close()


def test_password_guessing_is_slowed_after_five_misses_and_a_right_password_clears_it():
    now = [1000.0]
    throttle = auth.Throttle(free=5, base=30, cap=900, clock=lambda: now[0])
    for _ in range(5):
        assert throttle.wait("10.0.0.9") == 0
        throttle.failed("10.0.0.9")
    assert throttle.wait("10.0.0.9") == 30  # the sixth try waits
    assert throttle.wait("10.0.0.7") == 0  # another address is not held up
    now[0] += 30
    assert throttle.wait("10.0.0.9") == 0
    throttle.failed("10.0.0.9")
    assert throttle.wait("10.0.0.9") == 60  # each further miss doubles the wait
    for _ in range(10):
        throttle.failed("10.0.0.9")
    assert throttle.wait("10.0.0.9") == 900  # up to the cap
    for _ in range(2000):  # years of patient guessing still wait the cap, never an overflow
        throttle.failed("10.0.0.9")
    assert throttle.wait("10.0.0.9") == 900
    throttle.succeeded("10.0.0.9")
    assert throttle.wait("10.0.0.9") == 0


@pytest.mark.parametrize("target", [
    "//evil.example/x", "/\\evil.example/x", "/%5Cevil.example/x", "/%5cevil.example", "/%255Cevil.example",
    "/%2F%2Fevil.example", "%2F%2Fevil.example", "https://evil.example/", "http:/evil.example", "evil.example",
    "javascript:alert(1)", "/\tevil.example", "/%09/evil.example", "/\n/evil.example", "", "\\\\evil.example",
])
def test_redirects_after_sign_in_stay_in_this_app(target):
    assert auth.safe_redirect(target) == "/"


@pytest.mark.parametrize("target", ["/", "/numbers", "/flows/main-menu", "/calls?flow=main-menu"])
def test_paths_of_this_app_are_redirected_to(target):
    assert auth.safe_redirect(target) == target


def test_the_first_password_is_set_once_even_by_racing_pages(tmp_path):
    import threading

    from designer.context import AppContext
    from designer.store import SQLiteStore

    ctx = AppContext(store=SQLiteStore(tmp_path / "d.sqlite"), table=None)
    results: dict[str, str] = {}
    start = threading.Barrier(8)

    def page(n: int) -> None:
        start.wait()
        try:
            auth.set_first_password(ctx, f"password {n}", f"password {n}")
            results[f"password {n}"] = "set"
        except auth.PasswordAlreadySet as exc:
            results[f"password {n}"] = str(exc)

    threads = [threading.Thread(target=page, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (winner,) = [p for p, r in results.items() if r == "set"]
    assert all(r == "a password was already set; sign in with it" for p, r in results.items() if p != winner)
    assert auth.check_password(winner, ctx.store.get_setting(auth.HASH_SETTING))
    with pytest.raises(auth.PasswordAlreadySet):
        auth.set_first_password(ctx, "one more try", "one more try")


def test_forwarded_headers_are_trusted_only_from_the_proxies_named(monkeypatch):
    monkeypatch.delenv("FLEXML_FORWARDED_ALLOW_IPS", raising=False)
    assert parser().parse_args(["serve"]).forwarded_allow_ips is None
    assert parser().parse_args(["serve", "--forwarded-allow-ips", "10.0.0.5"]).forwarded_allow_ips == "10.0.0.5"
