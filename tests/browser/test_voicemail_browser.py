"""A voicemail left through the local carrier sandbox, played in real Chromium against a real
`flexml-designer serve`: the audio element loads the sandbox's generated recording, playing it marks the
message heard and the navigation's badge goes away."""

from __future__ import annotations

import httpx
import pytest
from app_server import browser, page, screenshot, serve  # noqa: F401  (fixtures)
from playwright.sync_api import expect

from designer import services
from designer.context import AppContext
from designer.sandbox import create_sandbox_app, setup
from designer.sandbox.db import SandboxDB
from designer.sandbox.server import running
from designer.store import SQLiteStore

pytestmark = pytest.mark.browser

LOGIN, PASSWORD = "tester", "s3cret"
DID = "15162065337"


def published_main_menu(db_path) -> None:
    """The designer's database before it is served: the main-menu example published and bound to DID."""
    store = SQLiteStore(db_path)
    ctx = AppContext(store=store, table=None)
    services.create_from_example(ctx, "main-menu")
    services.publish(ctx, "main-menu")
    services.bind_number(ctx, DID, "main-menu")
    store.close()


def test_a_voicemail_left_through_the_sandbox_plays_in_the_browser(serve, page, tmp_path):  # noqa: F811
    published_main_menu(tmp_path / "designer.sqlite")
    server = serve()
    sandbox_db = SandboxDB(tmp_path / "sandbox.sqlite")
    setup(sandbox_db, LOGIN, PASSWORD, dids=[DID])
    with running(create_sandbox_app(sandbox_db)) as sandbox:
        dids = httpx.get(f"{sandbox}/flexml/v1/dids", auth=(LOGIN, PASSWORD)).json()["items"]
        httpx.patch(f"{sandbox}/flexml/v1/dids/{dids[0]['did_sid']}", auth=(LOGIN, PASSWORD),
                    json={"url": f"{server.url}/flexml"}).raise_for_status()
        call = httpx.post(f"{sandbox}/flexml/v1/sandbox/inbound", auth=(LOGIN, PASSWORD), timeout=30,
                          json={"to": DID, "from": "15557654321", "digits": ["2"]}).json()
        assert call["ok"] and "Thank you. Goodbye." in call["transcript"], call

        page.goto(f"{server.url}/voicemail")
        expect(page.get_by_text("+1 555 765 4321")).to_be_visible()
        expect(page.get_by_text("1 message, 1 new")).to_be_visible()
        badge = page.locator("header .q-badge")
        expect(badge).to_have_text("1")
        audio = page.locator("audio")
        src = audio.get_attribute("src")
        assert src.startswith(f"{sandbox}/flexml/v1/sandbox/recordings/")
        # the browser loaded the recording (the page's content policy lets it): a 0.4 s tone, no media error
        page.wait_for_function("() => { const a = document.querySelector('audio'); "
                               "return a && (a.error || a.readyState >= 1); }", timeout=10000)
        loaded = audio.evaluate("a => ({error: a.error && a.error.code, ready: a.readyState, duration: a.duration})")
        assert loaded["error"] is None and loaded["ready"] >= 1
        assert loaded["duration"] == pytest.approx(0.4, abs=0.01)
        screenshot(page, "voicemail-01-new")

        audio.evaluate("a => { a.muted = true; return a.play(); }")
        expect(page.locator(".q-badge", has_text="Heard")).to_be_visible()
        expect(badge).to_be_hidden()
        page.wait_for_timeout(300)
        screenshot(page, "voicemail-02-heard")
