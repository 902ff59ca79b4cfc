"""A newcomer's first session in real Chromium against a real `flexml-designer serve`:
open an example, publish it, the host answers, a test call reaches the right step, download the bundle."""

from __future__ import annotations

import io
import json
import re
import zipfile

import httpx
import pytest
from app_server import browser, page, screenshot, serve  # noqa: F401  (fixtures)
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_first_run_to_a_published_flow_and_a_test_call(serve, page, tmp_path):  # noqa: F811
    server = serve()
    page.goto(server.url)
    expect(page.get_by_text("No flows yet")).to_be_visible()
    expect(page.get_by_text("Start from an example")).to_be_visible()
    screenshot(page, "01-first-run")

    page.locator(".q-card", has_text="Main menu").get_by_role("button", name="Use this example").click()
    page.wait_for_url(re.compile(r"/flows/main-menu$"))
    expect(page.get_by_role("tab", name="Publish")).to_be_visible()
    page.wait_for_timeout(800)  # let the canvas draw before the screenshot
    screenshot(page, "02-editor-main-menu")

    # publish: the host on the same server answers for the flow
    page.get_by_role("tab", name="Publish").click()
    expect(page.get_by_text("Not published yet")).to_be_visible()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Published: revision 1")).to_be_visible()
    expect(page.locator("input[readonly]").first).to_have_value(f"{server.url}/flexml")
    screenshot(page, "03-published")
    answer = httpx.post(f"{server.url}/flexml/main-menu", json={"CallSid": "CA-e2e", "From": "15551230001",
                                                                 "To": "15162065337"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/xml"
    assert b"Thank you for calling Acme." in answer.content

    # download the bundle of revision 1
    with page.expect_download() as info:
        page.get_by_role("button", name="Bundle (.zip)").click()
    download = info.value
    assert download.suggested_filename == "main-menu-r1.zip"
    saved = tmp_path / "bundle.zip"
    download.save_as(saved)
    with zipfile.ZipFile(io.BytesIO(saved.read_bytes())) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert (manifest["flow"], manifest["revision"], manifest["start"]) == ("main-menu", "1", "welcome")

    # a test call of the draft: press 2 at the menu and reach the voicemail prompt
    page.get_by_role("tab", name="Test call").click()
    page.get_by_role("button", name="Start call").click()
    expect(page.get_by_text("The menu waits for 1 key")).to_be_visible()
    page.get_by_role("button", name="2", exact=True).click()
    line = page.locator(".q-row, .row", has_text="Please leave a message after the beep.").last
    expect(line).to_be_visible()
    expect(line).to_contain_text("vm-prompt")
    expect(page.get_by_text("Press # to end it, or wait.")).to_be_visible()  # recording: the caller speaks
    page.get_by_role("button", name="#", exact=True).click()
    expect(page.get_by_text("then presses #: recorded")).to_be_visible()
    expect(page.get_by_text(re.compile("Call ended"))).to_be_visible()
    screenshot(page, "04-test-call")

    # the carrier's request above shows on the Calls page
    page.goto(server.url + "/calls")
    expect(page.get_by_text("+1 555 123 0001")).to_be_visible()
    screenshot(page, "05-calls")
    page.get_by_text("+1 555 123 0001").click()  # opening a call draws its path on the revision it ran on
    page.wait_for_url(re.compile(r"/flows/main-menu\?call=CA-e2e$"))
    expect(page.get_by_test_id("revision-badge")).to_have_text("Revision 1 · read-only")
    expect(page.get_by_test_id("timeline")).to_be_visible()
    page.wait_for_timeout(800)
    screenshot(page, "05b-call-path")
    for path, text, name in (("/numbers", "Bind a number", "06-numbers"), ("/settings", "Public address",
                                                                           "07-settings"),
                             ("/", "Main menu", "08-flows")):
        page.goto(server.url + path)
        expect(page.get_by_text(text).first).to_be_visible()
        screenshot(page, name)
