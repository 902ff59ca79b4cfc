"""A call on the canvas and traffic (issue 16), in real headless Chromium against `flexml-designer serve`: a call made
on revision 1 is opened after revision 2 changed the greeting, and shows revision 1's text, read-only, with its
timeline; the traffic view puts numbers on the steps. Screenshots go to /tmp/screens/calls-*.png."""

from __future__ import annotations

import asyncio
import copy
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from app_server import browser, page, screenshot, serve  # noqa: F401  (fixtures)
from playwright.sync_api import expect

from designer import services
from designer.context import AppContext
from designer.simulator import ScriptedCaller, simulate_call
from designer.store import CallEvent, SQLiteStore
from test_editor_browser import eventually, node
from call_scripts import FRONT_DESK, MAIN_LINE, OTHER

pytestmark = pytest.mark.browser


def test_a_call_on_an_old_revision_shows_what_the_caller_heard_then_and_traffic_shows_on_the_steps(serve, page):  # noqa: F811
    server = serve()
    store = SQLiteStore(server.db)
    ctx = AppContext(store=store, table=None)
    record = services.import_flow(ctx, json.dumps(FRONT_DESK).encode(), "front-desk.json")[0]
    services.publish(ctx, record.id)
    url = f"{server.url}/flexml/{record.id}"
    calls = []  # until the server's host follows the publish, it apologises (recorded under no flow)

    def called() -> bool:
        call = simulate_call(url, caller=ScriptedCaller(digits=["2"]), from_=OTHER, to=MAIN_LINE,
                             status_callback_url=f"{server.url}/flexml/status")
        with ThreadPoolExecutor(1) as pool:  # Playwright runs an event loop in this thread
            calls.append(pool.submit(asyncio.run, call).result())
        return "Welcome to Acme." in calls[-1].said()

    eventually(called)
    result = calls[-1]
    eventually(lambda: any(e.kind == "status" for e in store.call_events(result.call_sid)))
    store.record_events([CallEvent(result.call_sid, record.id, "1", "recording", "vm", None, time.time(), {
        "RecordingUrl": "https://api.carrier.example/recordings/RE1.mp3", "RecordingFileSid": "RE1",
        "RecordingDuration": "12"})])
    # the greeting changes and is published: new calls hear revision 2
    changed = copy.deepcopy(FRONT_DESK)
    changed["nodes"][0]["text"] = "Thank you for calling Acme."
    draft = store.get_flow(record.id)
    store.save_flow(record.id, json.dumps(changed), draft.version)
    assert services.publish(ctx, record.id).rev == 2

    page.goto(f"{server.url}/flows/{record.id}?call={result.call_sid}")
    page.wait_for_selector(".fc-root[data-ready]")
    expect(node(page, "welcome")).to_contain_text("Welcome to Acme.")
    expect(page.locator(".vue-flow__node")).not_to_contain_text(["Thank you for calling"])
    expect(page.get_by_test_id("revision-badge")).to_have_text("Revision 1 · read-only")
    expect(page.get_by_text("(revision 2 is published now)")).to_be_visible()
    expect(page.locator(".fc-root")).to_have_attribute("data-readonly", "true")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Pressed 2 at menu: option 2")
    expect(timeline).to_contain_text("Business hours hours: open")
    expect(timeline).to_contain_text("Status callback: completed")
    expect(timeline.get_by_role("link", name="Listen to the recording")).to_have_attribute(
        "href", "https://api.carrier.example/recordings/RE1.mp3")
    expect(page.locator(".fc-on-path[data-node=hours]")).to_be_visible()  # the call's path is drawn
    expect(page.locator(".fc-on-path[data-node=closed]")).to_have_count(0)
    screenshot(page, "calls-timeline")
    # dragging a step does nothing here: the revision stays as it was
    def apart() -> tuple[float, float]:  # where the greeting is from the next step (the view itself may pan)
        a, b = node(page, "welcome").bounding_box(), node(page, "hours").bounding_box()
        return a["x"] - b["x"], a["y"] - b["y"]

    before = apart()
    box = node(page, "welcome").bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 10)
    page.mouse.down()
    page.mouse.move(box["x"] + 240, box["y"] + 200, steps=5)
    page.mouse.up()
    assert apart() == pytest.approx(before, abs=1)

    page.get_by_role("button", name="Back to the draft").click()
    page.wait_for_selector(".fc-root[data-ready]")
    expect(node(page, "welcome")).to_contain_text("Thank you for calling Acme.")

    page.get_by_role("button", name="Traffic").click()
    page.wait_for_selector(".fc-root[data-ready]")
    expect(page.get_by_test_id("revision-badge")).to_have_text("Revision 2 · read-only")
    page.goto(f"{server.url}/flows/{record.id}?traffic=1&rev=1")
    page.wait_for_selector(".fc-root[data-ready]")
    expect(node(page, "welcome").locator(".fc-traffic")).to_contain_text("1 reached")
    expect(node(page, "hours").locator('[data-output="open"]')).to_contain_text("· 1")
    expect(page.locator('[data-menu="menu"]')).to_contain_text("pressed 2: 1 (100%)")
    expect(page.get_by_test_id("traffic-summary")).to_contain_text("1 call")
    screenshot(page, "calls-traffic")
    page.get_by_role("switch").click()  # traffic off: the numbers go
    expect(page.locator(".fc-traffic")).to_have_count(0)
    store.close()
