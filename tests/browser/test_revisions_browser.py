"""Fields that say what is wrong, revision notes and the plain-language diff, and the "unpublished changes"
marker (issue 13), in real headless Chromium against `flexml-designer serve`.
Screenshots go to /tmp/screens/revisions-*.png."""

from __future__ import annotations

import pytest
from app_server import browser, page, screenshot, serve  # noqa: F401  (fixtures)
from playwright.sync_api import expect

from designer import services
from designer.context import AppContext
from test_canvas_browser import DENTAL, DENTAL_EDGES
from test_editor_browser import blank_flow, eventually, node, open_editor, stored

pytestmark = pytest.mark.browser


def test_a_transfer_number_says_what_is_wrong_as_you_type_and_is_stored_as_e164(serve, page):  # noqa: F811
    server = serve()
    store = blank_flow(server.db, nodes=DENTAL, edges=DENTAL_EDGES, start="welcome")
    open_editor(page, f"{server.url}/flows/demo")
    node(page, "front-desk").click()
    number = page.locator("input[data-field=number-0]")
    expect(number).to_have_value("+1 516-206-5337")
    number.fill("+1516206534")  # one digit short
    problem = page.locator('[data-problem="numbers[0]"]')
    expect(problem).to_have_text("+1516206534 is too short for a number in US (+1)")
    expect(problem).to_be_visible()
    screenshot(page, "revisions-field-error")
    number.fill("(516) 206-5340")
    expect(problem).to_be_hidden()
    number.press("Tab")
    expect(number).to_have_value("+1 516-206-5340")
    eventually(lambda: stored(store).nodes["front-desk"]["numbers"] == ["+15162065340"])
    screenshot(page, "revisions-field-fixed")


def test_publish_with_a_note_after_reading_the_changes_and_the_marker_follows(serve, page):  # noqa: F811
    server = serve()
    store = blank_flow(server.db, nodes=DENTAL, edges=DENTAL_EDGES, start="welcome")
    services.publish(AppContext(store=store, table=None), "demo", note="first version")
    open_editor(page, f"{server.url}/flows/demo")
    marker = page.get_by_test_id("unpublished")
    expect(marker).to_be_hidden()

    node(page, "welcome").click()
    page.locator("textarea[data-field=text]").fill("Welcome to Bright Smile Dental.")
    expect(marker).to_be_visible()
    page.get_by_role("tab", name="Publish").click()
    changes = page.get_by_test_id("draft-changes")
    expect(changes).to_contain_text("Changes since revision 1")
    expect(changes).to_contain_text("welcome: text changed")
    expect(page.get_by_test_id("revision-note-1")).to_have_text("first version")
    page.get_by_test_id("publish-note").fill("new greeting")
    screenshot(page, "revisions-publish-diff")
    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("revision-note-2")).to_have_text("new greeting")
    expect(marker).to_be_hidden()
    expect(page.get_by_test_id("draft-changes")).to_contain_text("No changes since revision 2")
    expect(page.get_by_test_id("publish")).to_be_disabled()
    assert [r.note for r in store.list_revisions("demo")] == ["new greeting", "first version"]

    page.get_by_test_id("compare-2").click()
    expect(page.get_by_test_id("revision-changes")).to_contain_text("welcome: text changed")
    screenshot(page, "revisions-compare")
    page.keyboard.press("Escape")

    page.get_by_role("tab", name="Properties").click()
    node(page, "welcome").click()
    page.locator("textarea[data-field=text]").fill("Welcome again.")
    expect(marker).to_be_visible()
    eventually(lambda: stored(store).nodes["welcome"]["text"] == "Welcome again.")
    page.goto(f"{server.url}/")
    expect(page.get_by_test_id("unpublished-demo")).to_be_visible()
    screenshot(page, "revisions-flows-list")
