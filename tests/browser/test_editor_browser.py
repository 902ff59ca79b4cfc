"""The flow editor in real headless Chromium against a real `flexml-designer serve`:
what a new user does with the mouse and keyboard, checked in the store and on screen.
Screenshots go to /tmp/screens/editor-*.png."""

from __future__ import annotations

import json
import re
import time

import pytest
from app_server import browser, page, screenshot, serve  # noqa: F401  (fixtures)
from playwright.sync_api import Page, expect

from compiler.flow import loads
from designer.store import SQLiteStore

pytestmark = pytest.mark.browser


def blank_flow(db, flow_id: str = "demo", nodes: list | None = None, edges: list | None = None,
               start: str | None = None) -> SQLiteStore:
    store = SQLiteStore(db)
    data = {"directed": True, "multigraph": False,
            "graph": {"id": flow_id, "name": "Demo line", "start": start, "format": 1},
            "nodes": nodes or [], "edges": edges or []}
    store.create_flow(flow_id, "Demo line", json.dumps(data))
    return store


def stored(store: SQLiteStore, flow_id: str = "demo"):
    return loads(store.get_flow(flow_id).graph_json)


def node(page: Page, node_id: str):
    return page.locator(f'.vue-flow__node[data-id="{node_id}"]')


def handle(page: Page, node_id: str, handle_id: str):
    return node(page, node_id).locator(f'.vue-flow__handle[data-handleid="{handle_id}"]')


def drag_from_palette(page: Page, step: str, x: int, y: int) -> None:
    page.locator(f'[data-step="{step}"]').drag_to(page.locator(".fc-root"), target_position={"x": x, "y": y})


def drag_connection(page: Page, source, target) -> None:
    a, b = source.bounding_box(), target.bounding_box()
    x1, y1 = a["x"] + a["width"] / 2, a["y"] + a["height"] / 2
    x2, y2 = b["x"] + b["width"] / 2, b["y"] + b["height"] / 2
    page.mouse.move(x1, y1)
    page.mouse.down()
    page.mouse.move((x1 + x2) / 2, (y1 + y2) / 2, steps=6)
    page.mouse.move(x2, y2, steps=6)
    page.mouse.up()


def eventually(check, timeout: float = 15.0) -> None:
    """Wait until ``check()`` holds: the store is written by the server, after the browser moved on."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            assert check()
        time.sleep(0.05)


def open_editor(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector(".fc-root[data-ready]")


def test_a_new_user_builds_a_menu_by_dragging_fixes_a_problem_and_finds_it_saved(serve, page, tmp_path):  # noqa: F811
    server = serve()
    store = blank_flow(server.db)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_editor(page, f"{server.url}/flows/demo")
    screenshot(page, "editor-01-blank")

    drag_from_palette(page, "Say", 120, 220)
    expect(node(page, "say-1")).to_be_visible()
    drag_from_palette(page, "Gather", 420, 150)
    expect(node(page, "menu-1")).to_be_visible()
    drag_from_palette(page, "Hangup", 450, 430)
    expect(node(page, "hangup-1")).to_be_visible()
    eventually(lambda: set(stored(store).nodes) == {"say-1", "menu-1", "hangup-1"})
    # the new Say has no text yet: its badge says so, in red
    expect(node(page, "say-1").locator(".fc-badge-error")).to_have_text("1")
    screenshot(page, "editor-02-dropped")

    drag_connection(page, handle(page, "say-1", "next"), handle(page, "menu-1", "in"))
    drag_connection(page, handle(page, "menu-1", "1"), handle(page, "hangup-1", "in"))
    expect(page.locator(".vue-flow__edge")).to_have_count(2)
    g = stored(store)
    assert g.has_edge("say-1", "menu-1") and g.edges["menu-1", "hangup-1"]["branch"] == "1"
    # one edge per output: a second drag from "press 1" is refused by the canvas
    drag_connection(page, handle(page, "menu-1", "1"), handle(page, "say-1", "in"))
    expect(page.locator(".vue-flow__edge")).to_have_count(2)
    screenshot(page, "editor-03-connected")

    node(page, "say-1").locator(".fc-title").click()
    text = page.locator("textarea[data-field=text]")
    text.fill("Welcome to Acme.")
    expect(page.get_by_text("16 / 1,024")).to_be_visible()
    expect(node(page, "say-1").locator(".fc-badge")).to_have_count(0)
    expect(node(page, "say-1").locator(".fc-snippet")).to_have_text("Welcome to Acme.")
    # Backspace while typing edits the text, it does not delete the step
    text.press("End")
    text.press("Backspace")
    expect(node(page, "say-1").locator(".fc-snippet")).to_have_text("Welcome to Acme")
    expect(node(page, "say-1")).to_be_visible()
    eventually(lambda: stored(store).nodes["say-1"]["text"] == "Welcome to Acme")
    screenshot(page, "editor-04-property-set")

    # the menu's prompt is empty: fix it from the Problems tab
    page.get_by_role("tab", name="Problems").click()
    page.get_by_text("Say needs the text to speak").first.click()
    page.locator("textarea[data-field=prompt-0]").fill("For sales, press 1.")
    expect(node(page, "menu-1").locator(".fc-badge-error")).to_have_count(0)
    screenshot(page, "editor-05-problem-fixed")

    page.reload()
    page.wait_for_selector(".fc-root[data-ready]")
    expect(page.locator(".vue-flow__node")).to_have_count(3)
    expect(page.locator(".vue-flow__edge")).to_have_count(2)
    expect(node(page, "say-1").locator(".fc-snippet")).to_have_text("Welcome to Acme")
    expect(page.get_by_text("▶ start")).to_be_visible()
    screenshot(page, "editor-06-reloaded")
    assert not errors, errors


def type_when_settled(page, selector: str, value: str) -> None:
    """Fill a side-panel field once the panel has finished redrawing for the new selection."""
    field = page.locator(selector)
    for _ in range(20):
        field.fill(value)
        page.wait_for_timeout(100)
        if field.input_value() == value:
            return
    raise AssertionError(f"{selector} kept being redrawn; could not type {value!r}")


def test_keyboard_delete_undo_copy_paste_and_a_new_menu_option(serve, page, tmp_path):  # noqa: F811
    server = serve()
    store = blank_flow(server.db, nodes=[
        {"id": "hello", "type": "Say", "text": "Hello", "x": 40, "y": 60},
        {"id": "menu", "type": "Gather", "options": ["1"], "prompt": [{"type": "Say", "text": "Press 1"}],
         "x": 320, "y": 40},
        {"id": "bye", "type": "Hangup", "x": 620, "y": 200},
    ], edges=[{"source": "hello", "target": "menu"}], start="hello")
    open_editor(page, f"{server.url}/flows/demo")

    # move a step by dragging it; undo puts it back, on screen and in the store
    before = node(page, "hello").bounding_box()
    title = node(page, "hello").locator(".fc-title").bounding_box()
    page.mouse.move(title["x"] + 10, title["y"] + 5)
    page.mouse.down()
    page.mouse.move(title["x"] + 60, title["y"] + 205, steps=8)
    page.mouse.up()
    eventually(lambda: stored(store).nodes["hello"]["y"] > 150)
    assert node(page, "hello").bounding_box()["y"] > before["y"] + 100
    page.keyboard.press("Control+z")
    eventually(lambda: stored(store).nodes["hello"]["y"] == 60)
    expect(node(page, "hello")).to_have_attribute("style", re.compile(r"translate\(40px, 60px\)"))

    node(page, "bye").locator(".fc-title").click()
    page.keyboard.press("Delete")
    expect(node(page, "bye")).to_have_count(0)
    assert "bye" not in stored(store)
    page.keyboard.press("Control+z")
    expect(node(page, "bye")).to_be_visible()
    assert "bye" in stored(store)

    # a new menu option becomes an output that can be connected at once
    node(page, "menu").locator(".fc-title").click()
    page.locator("[data-field=add-option]").click()
    expect(handle(page, "menu", "2")).to_be_visible()
    drag_connection(page, handle(page, "menu", "2"), handle(page, "bye", "in"))
    expect(page.locator(".vue-flow__edge")).to_have_count(2)
    assert stored(store).edges["menu", "bye"]["branch"] == "2"

    # copy and paste the greeting: a new step with a new id
    node(page, "hello").locator(".fc-title").click()
    page.keyboard.press("Control+c")
    page.mouse.move(300, 600)
    page.keyboard.press("Control+v")
    expect(node(page, "say-1")).to_be_visible()
    assert stored(store).nodes["say-1"]["text"] == "Hello"

    # a step renamed in its properties keeps its connections on the canvas
    node(page, "bye").locator(".fc-title").click()
    type_when_settled(page, "input[data-field=id]", "goodbye")
    page.locator("input[data-field=id]").press("Enter")
    expect(node(page, "goodbye")).to_be_visible()
    expect(page.locator('.vue-flow__edge[data-id="e|menu|2"]')).to_have_count(1)
    eventually(lambda: stored(store).edges["menu", "goodbye"]["branch"] == "2")

    # Tidy up lays the steps out in rows, top to bottom; the start step comes first
    page.get_by_role("button", name="Tidy up").click()

    def laid_out() -> bool:
        g = stored(store)
        return g.nodes["hello"]["y"] < g.nodes["menu"]["y"] < g.nodes["goodbye"]["y"]
    eventually(laid_out)
    screenshot(page, "editor-07-keyboard-and-layout")


def test_the_start_step_list_fills_when_opened_and_a_pick_is_saved(serve, page, tmp_path):  # noqa: F811
    server = serve()
    store = blank_flow(server.db, nodes=[
        {"id": "hello", "type": "Say", "text": "Hello.", "x": 40, "y": 40},
        {"id": "night", "type": "Say", "text": "We are closed.", "x": 320, "y": 40},
    ], start="hello")
    open_editor(page, f"{server.url}/flows/demo")
    start = page.locator("[data-field=start]")
    expect(start).to_contain_text("hello — Speak text")  # the page carries only the start step, not every step
    start.click()
    page.get_by_role("option", name="night — Speak text").click()
    eventually(lambda: stored(store).graph["start"] == "night")
    expect(start).to_contain_text("night — Speak text")
    screenshot(page, "editor-start-step-picked")
