"""A business-hours step built from the palette in real headless Chromium against `flexml-designer serve`:
week and closed date set in its panel, published, closed from the Flows page switch, and test-called at a
chosen time. Screenshots go to /tmp/screens/decisions-*.png."""

from __future__ import annotations

import re

import pytest
from app_server import browser, page, screenshot, serve  # noqa: F401  (fixtures)
from playwright.sync_api import Page, expect

from test_editor_browser import blank_flow, drag_connection, drag_from_palette, eventually, handle, node, \
    open_editor, stored

pytestmark = pytest.mark.browser

STEPS = [
    {"id": "welcome", "type": "Say", "text": "Thank you for calling Bright Smile Dental.", "x": 40, "y": 40},
    {"id": "open-hi", "type": "Say", "text": "We are open.", "x": 40, "y": 420},
    {"id": "closed-hi", "type": "Say", "text": "We are closed.", "x": 360, "y": 420},
]


def call_at(page: Page, when: str, hears: str) -> None:
    page.get_by_role("tab", name="Test call").click()
    page.get_by_role("button", name="Published").click()
    page.get_by_role("button", name="another time").click()
    page.locator("input[type=datetime-local]").fill(when)
    page.get_by_role("button", name="Start call").click()
    expect(page.get_by_text(hears, exact=True).first).to_be_visible(timeout=15000)
    expect(page.get_by_text(re.compile(r"^Call ended"))).to_be_visible(timeout=15000)


def test_hours_from_the_palette_to_a_switched_off_line(serve, page):  # noqa: F811
    server = serve()
    store = blank_flow(server.db, nodes=STEPS, start="welcome")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_editor(page, f"{server.url}/flows/demo")

    drag_from_palette(page, "Hours", 200, 260)
    expect(node(page, "hours-1")).to_be_visible()
    expect(node(page, "hours-1")).to_contain_text("open")
    expect(node(page, "hours-1")).to_contain_text("closed")
    drag_connection(page, handle(page, "welcome", "next"), handle(page, "hours-1", "in"))
    drag_connection(page, handle(page, "hours-1", "open"), handle(page, "open-hi", "in"))
    drag_connection(page, handle(page, "hours-1", "closed"), handle(page, "closed-hi", "in"))
    eventually(lambda: stored(store).has_edge("hours-1", "closed-hi"))

    node(page, "hours-1").locator(".fc-title").click()
    expect(page.get_by_text(re.compile(r"^Calls now: open: Tuesday 09:00-17:00"))).to_be_visible()
    before = page.locator("input[data-field=hours-date-new]").element_handle()
    page.locator("[data-field=hours-sun]").click()
    page.get_by_role("option", name="All day").click()
    eventually(lambda: stored(store).nodes["hours-1"]["open"]["sun"] == ["00:00-24:00"])
    before.wait_for_element_state("hidden")  # the panel was drawn again: type into the new one
    page.locator("input[data-field=hours-date-new]").fill("2026-12-25")
    page.get_by_role("button", name="Add", exact=True).click()
    eventually(lambda: stored(store).nodes["hours-1"]["closed_dates"] == ["2026-12-25"])
    expect(page.get_by_text("2026-12-25", exact=True)).to_be_visible()
    screenshot(page, "decisions-01-hours-panel")

    page.get_by_role("tab", name="Publish").click()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text(re.compile("Published revision 1"))).to_be_visible()
    expect(page.get_by_text(re.compile("This flow needs the host"))).to_be_visible()

    page.goto(server.url + "/")
    expect(page.get_by_text("Business hours “hours-1”")).to_be_visible()
    page.get_by_role("button", name="Closed now").click()
    expect(page.get_by_text(re.compile(r"Calls now: closed, switched by the operator"))).to_be_visible()
    eventually(lambda: [o.state for o in store.overrides("demo")] == ["closed"])
    screenshot(page, "decisions-02-flows-switch")

    open_editor(page, f"{server.url}/flows/demo")
    call_at(page, "2026-12-22T10:00", "We are closed.")  # a Tuesday morning, but switched off
    screenshot(page, "decisions-03-test-call")

    page.goto(server.url + "/")
    page.get_by_role("button", name="Follow the schedule").click()
    eventually(lambda: store.overrides("demo") == [])
    open_editor(page, f"{server.url}/flows/demo")
    call_at(page, "2026-12-22T10:00", "We are open.")
    assert not errors, errors
