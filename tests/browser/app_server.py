"""Fixtures for the app's browser tests: a real `flexml-designer serve` process on a free loopback port, headless Chromium."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from serving import free_port, wait_until_answering

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENS = Path("/tmp/screens")
ROOT = Path(__file__).resolve().parents[2]


class Server:
    def __init__(self, tmp_path: Path, *args: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = tmp_path / "designer.sqlite"
        environ = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "FLEXML_PASSWORD",
                                                                     "FLEXML_REQUIRE_LOGIN")}
        environ.update(env or {})
        self.log = open(tmp_path / "serve.log", "w+")
        self.proc = subprocess.Popen([sys.executable, "-m", "designer", "serve", "--port", str(self.port),
                                      "--db", str(self.db), *args], cwd=ROOT, env=environ,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_until_answering(self.proc, self.url, self.output)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture
def serve(tmp_path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Server:
        server = Server(tmp_path, *args, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 860}, accept_downloads=True)
    yield context.new_page()
    context.close()


def screenshot(page, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


class HeldSocket:
    """The page's socket with the messages ``hold(text)`` picks held back on their way to the server,
    until ``release`` sends them (in order, or reversed): to make one order of events happen that
    otherwise depends on timers (what reaches the server before the page is connected)."""

    def __init__(self, page, hold: Callable[[str], bool]) -> None:
        self.held: list = []
        self._hold = hold
        self._server = None
        self._released = False
        page.route_web_socket(re.compile("_nicegui_ws"), self._route)
        self._page = page

    def _route(self, ws) -> None:
        self._server = ws.connect_to_server()
        ws.on_message(self._message)

    def _message(self, message) -> None:
        if not self._released and self._hold(str(message)):
            self.held.append(message)
        else:
            self._server.send(message)

    def wait_for(self, count: int = 1) -> None:
        """Until ``count`` messages are held (events arrive while Playwright waits, not while Python sleeps)."""
        for _ in range(400):
            if len(self.held) >= count:
                return
            self._page.wait_for_timeout(25)
        raise AssertionError(f"{len(self.held)} messages held, not {count}: {self.held}")

    def release(self, reverse: bool = False) -> None:
        self._released = True
        for message in reversed(self.held) if reverse else self.held:
            self._server.send(message)
