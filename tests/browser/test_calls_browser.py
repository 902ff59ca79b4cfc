"""The Calls page in real Chromium against a real `flexml-designer serve`: the chart is drawn, a call that just
went through the host shows as ended, and the CSV download holds what the filters show."""

from __future__ import annotations

import csv
import io
import time

import httpx
import pytest
from app_server import browser, page, screenshot, serve  # noqa: F401  (fixtures)
from playwright.sync_api import expect

from designer import services
from designer.context import AppContext
from designer.store import CallEvent, SQLiteStore

pytestmark = pytest.mark.browser


def fill(db) -> None:
    """The main-menu example published, and 30 calls of the last three days (every third a test call)."""
    store = SQLiteStore(db)
    ctx = AppContext(store=store, table=None)
    services.publish(ctx, services.create_from_example(ctx, "main-menu").id)
    now = time.time()
    events = []
    for i in range(30):
        at = now - 600 - i * 8000
        test = {"test": "1"} if i % 3 == 0 else {}
        events += [CallEvent(f"CA{i:02d}", "main-menu", "1", "document", "welcome", None, at,
                             {"From": "15551230001", "To": "15162065337", **test}),
                   CallEvent(f"CA{i:02d}", "", "", "status", "completed", None, at + 40,
                             {"CallStatus": "completed", "CallDuration": "40", **test})]
    store.record_events(events)
    store.close()


def test_the_calls_page_charts_lists_and_downloads(serve, page, tmp_path):  # noqa: F811
    fill(tmp_path / "designer.sqlite")
    server = serve()
    # a caller reaches the menu and hangs up on the way out: the goodbye document ends the call
    for path in ("/flexml/main-menu", "/flexml/main-menu/1/bye"):
        assert httpx.post(server.url + path, json={"CallSid": "CALIVE", "From": "15557654321",
                                                   "To": "15162065337"}).status_code == 200
    page.goto(server.url + "/calls")
    expect(page.get_by_text("Calls 1–25 of 31")).to_be_visible()
    expect(page.locator(".nicegui-echart canvas").first).to_be_visible()  # the chart is drawn
    first = page.locator("tbody tr").first
    expect(first).to_contain_text("+1 555 765 4321")
    expect(first).to_contain_text("ended")
    page.wait_for_timeout(500)
    screenshot(page, "calls-page")

    page.get_by_label("Calls").click()
    page.get_by_role("option", name="Test calls", exact=True).click()
    expect(page.get_by_text("Calls 1–10 of 10")).to_be_visible()
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_text(encoding="utf-8"))))
    assert [r["call"] for r in rows] == [f"CA{i:02d}" for i in range(0, 30, 3)]
    assert {(r["outcome"], r["duration (s)"], r["test call"]) for r in rows} == {("completed", "40", "yes")}
