"""The canvas holding up on real flows (issue 13), in real headless Chromium against `flexml-designer serve`:
a renamed Go to, Tidy up on 300+ steps, reading a large flow (fit, minimap, search), restore and undo
across a reload, and the small things (where a palette click lands, tooltips, a 1024×768 screen).
Screenshots go to /tmp/screens/canvas-*.png."""

from __future__ import annotations

import re

import pytest
from app_server import HeldSocket, browser, page, screenshot, serve  # noqa: F401  (fixtures)
from bigflow import big_flow
from playwright.sync_api import Page, expect

from compiler.flow import dumps
from designer import services
from designer.context import AppContext
from designer.store import SQLiteStore
from designer.ui.preload import font_files
from test_editor_browser import blank_flow, eventually, node, open_editor, stored

pytestmark = pytest.mark.browser

READABLE_ZOOM = 0.6

DENTAL = [
    {"id": "welcome", "type": "Say", "text": "Thank you for calling Bright Smile Dental.", "x": 40, "y": 60},
    {"id": "menu", "type": "Gather", "options": ["1", "2"], "prompt": [{"type": "Say", "text": "Press 1 or 2"}],
     "x": 320, "y": 40},
    {"id": "front-desk", "type": "Dial", "numbers": ["15162065337"], "x": 620, "y": 0},
    {"id": "bye", "type": "Hangup", "x": 620, "y": 220},
]
DENTAL_EDGES = [{"source": "welcome", "target": "menu"},
                {"source": "menu", "target": "front-desk", "branch": "1"},
                {"source": "menu", "target": "bye", "branch": "2"}]


def zoom(page: Page) -> float:
    style = page.locator(".vue-flow__transformationpane").get_attribute("style") or ""
    return float(re.search(r"scale\(([\d.]+)\)", style).group(1))


def transform(page: Page) -> tuple[str, str, str]:
    style = page.locator(".vue-flow__transformationpane").get_attribute("style") or ""
    found = re.search(r"translate\(([-\d.]+)px, ([-\d.]+)px\) scale\(([\d.]+)\)", style)
    return found.groups()


def drawn_ids(page: Page) -> list[str]:
    return page.eval_on_selector_all(".vue-flow__node", "nodes => nodes.map(n => n.dataset.id)")


def minimap_pixels(page: Page, rgb: tuple[int, int, int]) -> int:
    """How many of the minimap's pixels are (about) this colour, solid."""
    return page.evaluate("""([r0, g0, b0]) => {
      const c = document.querySelector('.fc-minimap');
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (data[i + 3] > 200 && Math.abs(data[i] - r0) < 16 && Math.abs(data[i + 1] - g0) < 16
            && Math.abs(data[i + 2] - b0) < 16) n++;
      return n;
    }""", list(rgb))


VIEW_FRAME, ERROR_RED = (0x60, 0x7D, 0x8B), (0xD3, 0x2F, 0x2F)  # as static/flow_minimap.js and miniColour draw them


def drawn_steps_on_screen(page: Page) -> int:
    """How many steps the canvas shows inside its own box right now."""
    return page.evaluate("""() => {
      const box = document.querySelector('.fc-root').getBoundingClientRect();
      return [...document.querySelectorAll('.vue-flow__node')].filter((n) => {
        const r = n.getBoundingClientRect();
        return r.width > 0 && r.right > box.left && r.left < box.right && r.bottom > box.top && r.top < box.bottom;
      }).length;
    }""")


def wait_idle(page: Page) -> None:
    page.wait_for_timeout(400)
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def test_renaming_a_go_to_keeps_every_connection_drawn_and_the_canvas_working(serve, page):  # noqa: F811
    server = serve()
    store = blank_flow(server.db, nodes=DENTAL, edges=DENTAL_EDGES, start="welcome")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_editor(page, f"{server.url}/flows/demo")
    expect(page.locator(".vue-flow__edge")).to_have_count(3)

    for new_id in ["again", "again-2", "again-3"]:  # the fault came 3 times in 10: try it more than once
        page.locator('[data-step="Goto"]').click()
        goto = "goto-1"  # the previous one was renamed: the new one gets the first id again
        expect(node(page, goto)).to_be_visible()
        target = page.locator("[data-field=target]")
        target.click()
        page.get_by_role("option", name=re.compile(r"^welcome")).click()
        eventually(lambda: stored(store).nodes[goto].get("target") == "welcome")
        field = page.locator("input[data-field=id]")
        field.fill(new_id)
        field.press("Tab")
        expect(node(page, new_id)).to_be_visible()
        eventually(lambda: new_id in stored(store))
        wait_idle(page)
        # the menu's three connections and the dashed jump of the selected Go to are still drawn
        expect(page.locator('.vue-flow__edge[data-id^="e|"]')).to_have_count(3)
        expect(page.locator(f'.vue-flow__edge[data-id="j|{new_id}"]')).to_have_count(1)
        # clicking the empty canvas deselects
        page.locator(".vue-flow__pane").click(position={"x": 30, "y": 500})
        expect(page.locator(".vue-flow__node.selected")).to_have_count(0)
        expect(page.locator("input[data-field=id]")).to_have_count(0)
    screenshot(page, "canvas-01-goto-renamed")
    assert not errors, errors


# how often the page fetched each file (by its name), and which links its head has
FETCHES = """() => {
  const got = {};
  for (const r of performance.getEntriesByType('resource'))
    (got[r.name.split('/').pop()] ||= []).push({start: r.startTime, end: r.responseEnd});
  const links = [...document.head.querySelectorAll('link')].map(l => [l.rel, l.href.split('/').pop()]);
  return {got, links};
}"""


def test_the_editor_asks_for_the_canvas_scripts_styles_and_fonts_at_the_start(serve, page):  # noqa: F811
    # they were found one after another: Vue Flow only once the canvas's module ran, the icons only once
    # text was laid out (1.3 s after navigation on a 1,000-step flow, and every step measured again)
    server = serve()
    blank_flow(server.db, nodes=DENTAL, edges=DENTAL_EDGES, start="welcome")
    open_editor(page, f"{server.url}/flows/demo")
    fetched = page.evaluate(FETCHES)
    got, links = fetched["got"], fetched["links"]
    # the head asks for each (how much sooner they come is what tests/bench/bench_canvas.py measures) …
    for rel, names in (("modulepreload", ["vue-flow-core.mjs", "flow_minimap.js"]),
                       ("preload", [font.split("/")[-1] for font in font_files()])):
        for name in names:
            assert [rel, name] in links, (rel, name, links)
            assert len(got.get(name, [])) == 1, (name, got.get(name))  # … and what it asked for is used
    sheets = [name for rel, name in links if rel == "stylesheet"]
    assert sheets[-3:] == ["style.css", "theme-default.css", "flow_canvas.css"]  # ours last: it overrides
    assert all(len(got[name]) == 1 for name in sheets[-3:])
    # drawn with them: Vue Flow's layout, our steps' look, the icons' font
    assert page.evaluate("getComputedStyle(document.querySelector('.vue-flow__pane')).position") == "absolute"
    assert node(page, "menu").locator(".fc-node").evaluate("n => getComputedStyle(n).width") == "210px"
    assert page.evaluate("document.fonts.ready.then(() => document.fonts.check('24px \"Material Icons\"'))")
    screenshot(page, "canvas-00-dental")


def test_an_opened_editor_is_not_sent_its_page_again_once_connected(serve, page):  # noqa: F811
    # a one-off timer (an element) went once it had fired, and the canvas's first drawing was dropped from
    # its props: each an update that made the browser redraw the whole page, or the whole canvas, and
    # load the canvas's script again, just after a large flow had been drawn
    server = serve()
    SQLiteStore(server.db).create_flow("big", "Imported line", dumps(big_flow("big", 304)))
    received: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(str(f))))
    open_editor(page, f"{server.url}/flows/big")
    page.locator(".fc-root[data-ready='304']").wait_for()
    for _ in range(200):  # connected (events come in while Playwright waits, not while Python sleeps)
        if any('"sid"' in f for f in received):
            break
        page.wait_for_timeout(50)
    page.wait_for_timeout(1500)  # the history is taken over, the canvas's ready answered
    assert not [f[:200] for f in received if '"update"' in f or "load_js_components" in f]
    # and the page still works: a click selects a step, its form opens
    node(page, "say-0").locator(".fc-title").click()
    expect(page.locator("input[data-field=id]")).to_have_value("say-0")


def test_tidy_up_on_a_304_step_flow_keeps_the_canvas_drawn(serve, page):  # noqa: F811
    server = serve()
    store = SQLiteStore(server.db)
    store.create_flow("big", "Imported line", dumps(big_flow("big", 304, laid_out=False)))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    open_editor(page, f"{server.url}/flows/big")
    fit = page.locator("button:has(i:text-is(\"fit_screen\"))")
    fit.click()
    wait_idle(page)
    assert drawn_steps_on_screen(page) > 0
    before = stored(store, "big").nodes["menu-3"]["x"], stored(store, "big").nodes["menu-3"]["y"]
    page.get_by_role("button", name="Tidy up").click()
    eventually(lambda: (stored(store, "big").nodes["menu-3"]["x"], stored(store, "big").nodes["menu-3"]["y"]) != before)
    wait_idle(page)
    assert drawn_steps_on_screen(page) > 0
    fit.click()
    wait_idle(page)
    assert drawn_steps_on_screen(page) > 0
    # the start step is where Tidy up put it, on screen (not at its old spot)
    start = node(page, "say-0")
    expect(start).to_be_visible()
    g = stored(store, "big")
    expect(start).to_have_attribute("style", re.compile(
        rf"translate\({g.nodes['say-0']['x']}px, {g.nodes['say-0']['y']}px\)"))
    screenshot(page, "canvas-02-tidied-304")
    assert not errors, errors


def test_a_tidy_up_the_server_hears_before_the_canvas_said_it_was_ready_is_drawn(serve, page):  # noqa: F811
    # the canvas draws before the page's socket is connected; a click then can reach the server before the
    # canvas's "ready" (each waits for the connection on a timer of its own). Here it always does: the
    # ready is held back until the click has gone
    server = serve()
    store = SQLiteStore(server.db)
    grid = big_flow("grid", 30, laid_out=False)
    store.create_flow("grid", "Imported line", dumps(grid))
    socket = HeldSocket(page, lambda m: '{\\"initial\\":true}' in m)
    open_editor(page, f"{server.url}/flows/grid")
    socket.wait_for()  # the canvas's ready
    page.get_by_role("button", name="Tidy up").click()
    moved: list[str] = []
    for _ in range(400):  # the server has tidied the flow up and saved it; the canvas has not been told
        tidied = stored(store, "grid")
        moved = [n for n in grid if (tidied.nodes[n]["x"], tidied.nodes[n]["y"]) != (grid.nodes[n]["x"], grid.nodes[n]["y"])]
        if moved:
            break
        page.wait_for_timeout(25)
    assert moved and page.locator(".fc-root").get_attribute("data-patched") == "0"
    socket.release()
    page.locator(".fc-root[data-patched='1']").wait_for()  # drawn again, tidied
    step = moved[0]
    expect(node(page, step)).to_have_attribute("style", re.compile(
        rf"translate\({tidied.nodes[step]['x']}px, {tidied.nodes[step]['y']}px\)"))


def test_a_large_flow_opens_readable_with_a_minimap_and_a_search(serve, page):  # noqa: F811
    server = serve()
    store = SQLiteStore(server.db)
    store.create_flow("big", "Imported line", dumps(big_flow("big", 304)))
    open_editor(page, f"{server.url}/flows/big")
    wait_idle(page)
    assert zoom(page) >= READABLE_ZOOM
    page.locator("button:has(i:text-is(\"fit_screen\"))").click()
    wait_idle(page)
    assert zoom(page) >= READABLE_ZOOM  # the whole flow would be too small: Fit shows its start, readable
    expect(node(page, "say-0")).to_be_visible()
    # only what is on screen is drawn
    assert 0 < page.locator(".vue-flow__node").count() < 150
    # the minimap shows every step and where the view is; a click on it moves the view there
    minimap = page.locator(".fc-minimap")
    expect(minimap).to_be_visible()
    expect(minimap).to_have_attribute("data-steps", "304")
    screenshot(page, "canvas-03-big-minimap")
    assert minimap_pixels(page, VIEW_FRAME) > 0  # the frame of the view
    before, shown = transform(page), set(drawn_ids(page))
    mini = minimap.bounding_box()
    page.mouse.click(mini["x"] + mini["width"] - 8, mini["y"] + mini["height"] - 8)  # the far corner
    wait_idle(page)
    assert transform(page) != before and zoom(page) == pytest.approx(float(before[2]))
    assert not set(drawn_ids(page)) & shown, "the view did not move away from where it was"

    # find a step far away by the text it speaks
    search = page.locator(".fc-search input")
    search.click()
    search.fill("department 47")
    page.get_by_role("option", name=re.compile("department 47")).click()
    expect(node(page, "say-47")).to_have_class(re.compile(r"\bselected\b"))
    expect(page.locator("input[data-field=id]")).to_have_value("say-47")
    wait_idle(page)
    box = page.locator(".fc-root").bounding_box()
    found = node(page, "say-47").bounding_box()
    centre = (found["x"] + found["width"] / 2, found["y"] + found["height"] / 2)
    assert abs(centre[0] - (box["x"] + box["width"] / 2)) < 60
    assert abs(centre[1] - (box["y"] + box["height"] / 2)) < 60
    assert zoom(page) >= READABLE_ZOOM
    # by its id too
    search.click()
    search.fill("dial-12")
    page.get_by_role("option", name=re.compile(r"^dial-12 ")).click()
    expect(node(page, "dial-12")).to_have_class(re.compile(r"\bselected\b"))
    screenshot(page, "canvas-04-big-search")

    # Fit with a step selected shows that step's neighbourhood, readable
    page.mouse.move(box["x"] + 40, box["y"] + 40)
    page.mouse.wheel(0, 3000)  # zoom far out
    wait_idle(page)
    page.locator("button:has(i:text-is(\"fit_screen\"))").click()
    wait_idle(page)
    assert zoom(page) >= READABLE_ZOOM
    expect(node(page, "dial-12")).to_be_in_viewport()

    # a step with an error turns red on the minimap, and back when it is fixed
    red_before = minimap_pixels(page, ERROR_RED)
    search.click()
    search.fill("department 47")
    page.get_by_role("option", name=re.compile("department 47")).click()
    text = page.locator("textarea[data-field=text]")
    text.fill("")
    expect(node(page, "say-47").locator(".fc-badge-error")).to_be_visible()
    eventually(lambda: minimap_pixels(page, ERROR_RED) > red_before)
    text.fill("Welcome back to department 47.")
    expect(node(page, "say-47").locator(".fc-badge-error")).to_have_count(0)
    eventually(lambda: minimap_pixels(page, ERROR_RED) == red_before)


def test_restore_is_undoable_and_undo_history_survives_a_reload(serve, page, tmp_path):  # noqa: F811
    server = serve()
    store = blank_flow(server.db, nodes=DENTAL, edges=DENTAL_EDGES, start="welcome")
    services.publish(AppContext(store=store, table=None), "demo")  # revision 1: the greeting as seeded
    open_editor(page, f"{server.url}/flows/demo")
    node(page, "welcome").locator(".fc-title").click()
    page.locator("textarea[data-field=text]").fill("We have moved to Elm Street.")
    eventually(lambda: stored(store).nodes["welcome"]["text"] == "We have moved to Elm Street.")

    page.get_by_role("tab", name="Publish").click()
    page.get_by_role("button", name="Restore", exact=True).first.click()
    dialog = page.locator(".q-dialog")
    expect(dialog).to_contain_text("Undo")
    expect(dialog).not_to_contain_text("only until you reload")
    screenshot(page, "canvas-05-restore-dialog")
    page.get_by_role("button", name="Restore").last.click()
    eventually(lambda: stored(store).nodes["welcome"]["text"].startswith("Thank you for calling"))
    undo = page.locator('button:has(i:text-is("undo"))')
    expect(undo).to_be_enabled()
    undo.click()
    eventually(lambda: stored(store).nodes["welcome"]["text"] == "We have moved to Elm Street.")
    expect(node(page, "welcome").locator(".fc-snippet")).to_have_text("We have moved to Elm Street.")

    # a reload of the same tab keeps what can be undone and redone
    page.reload()
    page.wait_for_selector(".fc-root[data-ready]")
    expect(page.locator('button:has(i:text-is("redo"))')).to_be_enabled()
    expect(undo).to_be_enabled()
    page.locator('button:has(i:text-is("redo"))').click()  # the restore, again
    eventually(lambda: stored(store).nodes["welcome"]["text"].startswith("Thank you for calling"))
    undo.click()
    undo.click()  # and before it, the typing
    eventually(lambda: stored(store).nodes["welcome"]["text"] == "Thank you for calling Bright Smile Dental.")
    expect(node(page, "welcome").locator(".fc-snippet")).to_have_text("Thank you for calling Bright Smile Dental.")


def overlaps(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] \
        and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_palette_clicks_land_in_free_space_and_tooltips_go_after_a_drag(serve, page):  # noqa: F811
    server = serve()
    store = blank_flow(server.db, nodes=[
        {"id": "welcome", "type": "Say", "text": "Hello", "x": 0, "y": 0}], start="welcome")
    # the four clicks all reach the server after the last of them (as quick clicks on a slow line, or
    # clicks before the page is connected, do): each must still find a spot of its own
    socket = HeldSocket(page, lambda m: '\\"type\\":\\"Say\\"' in m)
    open_editor(page, f"{server.url}/flows/demo")
    for _ in range(4):
        page.locator('[data-step="Say"]').click()
    socket.wait_for(4)
    socket.release()
    eventually(lambda: len(stored(store)) == 5)
    expect(page.locator(".vue-flow__node")).to_have_count(5)
    wait_idle(page)
    boxes = [page.locator(".vue-flow__node").nth(i).bounding_box() for i in range(5)]
    for i in range(5):
        for j in range(i + 1, 5):
            assert not overlaps(boxes[i], boxes[j]), (i, j, boxes)
    canvas = page.locator(".fc-root").bounding_box()
    for b in boxes:  # all near the view centre: on screen
        assert canvas["x"] <= b["x"] and b["x"] + b["width"] <= canvas["x"] + canvas["width"]
        assert canvas["y"] <= b["y"] and b["y"] + b["height"] <= canvas["y"] + canvas["height"]

    item = page.locator('[data-step="Hangup"]')
    item.hover()
    tooltip = page.locator(".q-tooltip", has_text="Ends the call.")
    expect(tooltip).to_be_visible()
    start = item.bounding_box()
    page.mouse.move(start["x"] + 20, start["y"] + 10)
    page.mouse.down()
    page.mouse.move(start["x"] + 40, start["y"] + 12, steps=3)  # the drag begins over the item
    page.wait_for_timeout(800)  # (a tooltip whose hover delay ends now, mid-drag, shows too)
    page.mouse.move(canvas["x"] + 150, canvas["y"] + 450, steps=12)
    page.mouse.up()
    eventually(lambda: "hangup-1" in stored(store))
    # the mouse rests where the step was dropped: the palette's tooltip is gone all the same
    expect(page.locator(".q-tooltip")).to_have_count(0)  # neither that one nor any other
    screenshot(page, "canvas-06-palette")


def test_the_editor_is_usable_at_1024_by_768_with_a_resizable_side_panel(serve, browser):  # noqa: F811
    server = serve()
    store = blank_flow(server.db, nodes=DENTAL, edges=DENTAL_EDGES, start="welcome")
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    try:
        open_editor(page, f"{server.url}/flows/demo")
        canvas = page.locator(".fc-root")
        assert canvas.bounding_box()["width"] >= 480
        screenshot(page, "canvas-07-1024")
        # the side panel is resized by dragging its edge
        side = page.locator(".fc-side")
        width = side.bounding_box()["width"]
        grip = page.locator("[data-testid=side-resize]").bounding_box()
        page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
        page.mouse.down()
        page.mouse.move(grip["x"] - 120, grip["y"] + 40, steps=6)
        page.mouse.up()
        assert side.bounding_box()["width"] > width + 80
        # and collapsed to give the canvas the room, then brought back
        page.locator("[data-testid=side-toggle]").click()
        expect(side).to_be_hidden()
        assert canvas.bounding_box()["width"] > 1024 - 250
        screenshot(page, "canvas-08-1024-collapsed")
        node(page, "welcome").locator(".fc-title").click()  # selecting a step brings its properties back
        expect(page.locator("input[data-field=id]")).to_be_visible()
        page.locator("textarea[data-field=text]").fill("Welcome!")
        eventually(lambda: stored(store).nodes["welcome"]["text"] == "Welcome!")
        # the width is kept for the next visit
        page.reload()
        page.wait_for_selector(".fc-root[data-ready]")
        assert page.locator(".fc-side").bounding_box()["width"] > width + 80
        screenshot(page, "canvas-09-1024-resized")
    finally:
        context.close()
