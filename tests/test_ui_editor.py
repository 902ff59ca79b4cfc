"""The editor page through NiceGUI's User fixture: canvas events in, store and panels out.

The canvas's browser side is not running here; its events are triggered by
their camel-cased names, as NiceGUI delivers them.
"""

from __future__ import annotations

import json
from pathlib import Path

from nicegui import ui
from nicegui.testing import User

from compiler.flow import dumps, loads
from designer.context import AppContext
from designer.ui import editor
from designer.ui.canvas import FlowCanvas

EXAMPLES = Path(__file__).resolve().parents[1] / "compiler" / "examples"


def make_flow(ctx: AppContext, flow_id: str, nodes: list[dict], edges: list[dict], start: str | None = None) -> None:
    data = {"directed": True, "multigraph": False,
            "graph": {"id": flow_id, "name": flow_id.title(), "start": start, "format": 1},
            "nodes": nodes, "edges": edges}
    ctx.store.create_flow(flow_id, flow_id.title(), json.dumps(data))


def stored(ctx: AppContext, flow_id: str):
    return loads(ctx.store.get_flow(flow_id).graph_json)


async def open_editor(user: User, ctx: AppContext, flow_id: str) -> FlowCanvas:
    editor.register(ctx)
    await user.open(f"/flows/{flow_id}")
    canvas = next(iter(user.find(FlowCanvas).elements))
    user.find(FlowCanvas).trigger("ready")
    return canvas


def fire(user: User, event: str, args=None) -> None:
    user.find(FlowCanvas).trigger(event, args)


async def test_dropping_a_palette_step_creates_it_saves_it_and_reports_what_it_needs(user: User, ctx):
    make_flow(ctx, "blank", [], [])
    await open_editor(user, ctx, "blank")
    fire(user, "nodeDrop", {"type": "Say", "x": 120, "y": 60})
    g = stored(ctx, "blank")
    assert list(g.nodes) == ["say-1"]
    assert g.nodes["say-1"]["type"] == "Say" and (g.nodes["say-1"]["x"], g.nodes["say-1"]["y"]) == (120, 60)
    assert g.graph["start"] == "say-1"  # the first step is where calls begin
    await user.should_see("Say needs the text to speak")  # in the Problems tab
    await user.should_see("Speak text")  # the new step is selected: its form is shown
    fire(user, "nodeDrop", {"type": "Say", "x": 400, "y": 60})
    assert set(stored(ctx, "blank").nodes) == {"say-1", "say-2"}
    fire(user, "nodeDrop", {"type": "NoSuchStep", "x": 0, "y": 0})
    await user.should_see("Unknown step type")
    assert set(stored(ctx, "blank").nodes) == {"say-1", "say-2"}


async def test_connections_follow_named_outputs_one_edge_per_output(user: User, ctx):
    make_flow(ctx, "conn", [
        {"id": "hello", "type": "Say", "text": "Hi", "x": 0, "y": 0},
        {"id": "menu", "type": "Gather", "options": ["1", "2"], "prompt": [{"type": "Say", "text": "Press 1"}],
         "x": 300, "y": 0},
        {"id": "bye", "type": "Hangup", "x": 600, "y": 0},
        {"id": "again", "type": "Say", "text": "Again", "x": 600, "y": 200},
    ], [], start="hello")
    await open_editor(user, ctx, "conn")
    fire(user, "edgeAdded", {"source": "hello", "sourceHandle": "next", "target": "menu"})
    fire(user, "edgeAdded", {"source": "menu", "sourceHandle": "1", "target": "bye"})
    fire(user, "edgeAdded", {"source": "menu", "sourceHandle": "timeout", "target": "again"})
    g = stored(ctx, "conn")
    assert g.has_edge("hello", "menu") and g.edges["hello", "menu"].get("branch", "next") == "next"
    assert g.edges["menu", "bye"]["branch"] == "1"
    assert g.edges["menu", "again"]["branch"] == "timeout"
    # the same output dragged to another step moves the connection: one edge per output
    fire(user, "edgeAdded", {"source": "menu", "sourceHandle": "1", "target": "again"})
    g = stored(ctx, "conn")
    assert not g.has_edge("menu", "bye")
    assert sorted([g.edges["menu", "again"]["branch"], *g.edges["menu", "again"]["also"]]) == ["1", "timeout"]
    # a Hang up has no outputs: nothing changes, the user is told
    before = ctx.store.get_flow("conn").version
    fire(user, "edgeAdded", {"source": "bye", "sourceHandle": "next", "target": "again"})
    await user.should_see("cannot be connected")
    assert ctx.store.get_flow("conn").version == before


async def test_properties_form_edits_validate_and_save(user: User, ctx):
    make_flow(ctx, "props", [{"id": "hello", "type": "Say", "text": "", "x": 0, "y": 0}], [], start="hello")
    await open_editor(user, ctx, "props")
    await user.should_see("Say needs the text to speak")
    fire(user, "selectionChange", {"nodes": ["hello"], "edges": []})
    await user.should_see("Reads text to the caller")  # the catalogue's help line
    user.find(marker="field-text").type("Welcome to Acme.")
    assert stored(ctx, "props").nodes["hello"]["text"] == "Welcome to Acme."
    await user.should_see("16 / 1,024")
    await user.should_see("No problems")
    # a number out of its range: saved as typed, and the problem says what is allowed
    number = next(iter(user.find(marker="field-attrs.loop").elements))
    assert number.props["min"] == 0 and number.props["max"] == 100 and number.props["placeholder"] == "1"
    number.value = 500
    assert stored(ctx, "props").nodes["hello"]["attrs"]["loop"] == 500
    await user.should_see("500 is out of range: use a whole number from 0 to 100")
    number.value = None  # cleared: the default applies again
    assert "attrs" not in stored(ctx, "props").nodes["hello"]
    # an enum is a select with its allowed values; managed attributes are not offered
    voice = next(iter(user.find(marker="field-attrs.voice").elements))
    assert set(voice.options) == {"", "man", "woman"}
    voice.value = "woman"
    assert stored(ctx, "props").nodes["hello"]["attrs"] == {"voice": "woman"}
    user.find(marker="field-attrs.voice").elements.pop().value = ""
    assert "attrs" not in stored(ctx, "props").nodes["hello"]


async def test_too_long_text_is_counted_and_reported(user: User, ctx):
    make_flow(ctx, "long", [{"id": "hello", "type": "Say", "text": "x", "x": 0, "y": 0}], [], start="hello")
    await open_editor(user, ctx, "long")
    fire(user, "selectionChange", {"nodes": ["hello"], "edges": []})
    next(iter(user.find(marker="field-text").elements)).value = "a" * 1030
    await user.should_see("1,030 / 1,024")
    await user.should_see("is 1,030 characters; Say speaks at most 1,024")


async def test_menu_options_become_outputs_and_keep_their_connection_when_retyped(user: User, ctx):
    make_flow(ctx, "menu", [
        {"id": "menu", "type": "Gather", "options": ["1"], "prompt": [{"type": "Say", "text": "Press 1"}],
         "x": 0, "y": 0},
        {"id": "sales", "type": "Hangup", "x": 300, "y": 0},
    ], [{"source": "menu", "target": "sales", "branch": "1"}], start="menu")
    await open_editor(user, ctx, "menu")
    fire(user, "selectionChange", {"nodes": ["menu"], "edges": []})
    user.find(marker="add-option").click()
    assert stored(ctx, "menu").nodes["menu"]["options"] == ["1", "2"]
    next(iter(user.find(marker="field-option-0").elements)).value = "9"
    g = stored(ctx, "menu")
    assert g.nodes["menu"]["options"] == ["9", "2"]
    assert g.edges["menu", "sales"]["branch"] == "9"
    from designer.ui.canvas import node_view
    outputs = [o["id"] for o in node_view(g, "menu")["data"]["outputs"]]
    assert outputs == ["9", "2", "timeout", "invalid"]
    # a prompt item edited in the list
    next(iter(user.find(marker="field-prompt-0").elements)).value = "Press 9 for sales."
    assert stored(ctx, "menu").nodes["menu"]["prompt"] == [{"type": "Say", "text": "Press 9 for sales."}]


async def test_transfer_numbers_and_goto_target(user: User, ctx):
    make_flow(ctx, "dial", [
        {"id": "transfer", "type": "Dial", "numbers": [], "x": 0, "y": 0},
        {"id": "hello", "type": "Say", "text": "Hi", "x": 0, "y": 200},
        {"id": "jump", "type": "Goto", "target": "", "x": 300, "y": 0},
    ], [{"source": "hello", "target": "transfer"}, {"source": "transfer", "target": "jump"}], start="hello")
    await open_editor(user, ctx, "dial")
    await user.should_see("Transfer needs at least one phone number")
    fire(user, "selectionChange", {"nodes": ["transfer"], "edges": []})
    user.find(marker="add-number").click()
    next(iter(user.find(marker="field-number-0").elements)).value = "+15162065340"
    assert stored(ctx, "dial").nodes["transfer"]["numbers"] == ["+15162065340"]
    await user.should_not_see("Transfer needs at least one phone number")
    fire(user, "selectionChange", {"nodes": ["jump"], "edges": []})
    target = next(iter(user.find(marker="field-target").elements))
    assert set(target.options) == {"transfer", "hello"}
    target.value = "hello"
    assert stored(ctx, "dial").nodes["jump"]["target"] == "hello"


async def test_a_text_is_sent_to_the_caller_by_a_plain_choice(user: User, ctx):
    make_flow(ctx, "sms", [{"id": "link", "type": "Sms", "text": "Your link", "x": 0, "y": 0,
                            "attrs": {"to": "not a number"}}], [], start="link")
    await open_editor(user, ctx, "sms")
    await user.should_see("'not a number' is not a phone number or a value holding one")
    fire(user, "selectionChange", {"nodes": ["link"], "edges": []})
    await user.should_see(marker="problem-attrs.to")  # said next to the field too
    (to,) = user.find(marker="field-attrs.to").elements  # plain choices, not {{ From }} syntax
    assert to.value == "another" and to.options["From"] == "The caller"
    to.value = "From"
    (from_,) = user.find(marker="field-attrs.from").elements
    from_.value = "To"
    assert stored(ctx, "sms").nodes["link"]["attrs"] == {"to": "{{ From }}", "from": "{{ To }}"}
    await user.should_not_see("is not a phone number")


async def test_undo_and_redo_restore_the_saved_flow(user: User, ctx):
    make_flow(ctx, "undo", [], [])
    await open_editor(user, ctx, "undo")
    fire(user, "nodeDrop", {"type": "Hangup", "x": 10, "y": 10})
    fire(user, "nodesMoved", [{"id": "hangup-1", "x": 200, "y": 90}])
    assert stored(ctx, "undo").nodes["hangup-1"]["x"] == 200
    fire(user, "undo")
    assert stored(ctx, "undo").nodes["hangup-1"]["x"] == 10
    fire(user, "undo")
    assert list(stored(ctx, "undo").nodes) == []
    fire(user, "redo")
    assert list(stored(ctx, "undo").nodes) == ["hangup-1"]
    user.find(marker="redo").click()
    assert stored(ctx, "undo").nodes["hangup-1"]["x"] == 200
    user.find(marker="undo").click()
    assert stored(ctx, "undo").nodes["hangup-1"]["x"] == 10


async def test_malformed_canvas_events_change_nothing(user: User, ctx):
    make_flow(ctx, "odd", [{"id": "a", "type": "Say", "text": "A", "x": 0, "y": 0}], [], start="a")
    await open_editor(user, ctx, "odd")
    version = ctx.store.get_flow("odd").version
    fire(user, "nodesMoved", [{"id": "a"}, {"id": "a", "x": "far", "y": 1}, "junk", {"id": "zz", "x": 1, "y": 1}])
    fire(user, "edgeAdded", {"source": "a"})
    fire(user, "deleteSelected", {"nodes": ["nope"], "edges": ["junk", {"source": "a"}]})
    fire(user, "paste", {})
    assert ctx.store.get_flow("odd").version == version
    fire(user, "nodeDrop", {"type": "Hangup", "x": "NaN", "y": None})
    g = stored(ctx, "odd")
    assert (g.nodes["hangup-1"]["x"], g.nodes["hangup-1"]["y"]) == (0, 0)


async def test_delete_by_keyboard_event_and_button(user: User, ctx):
    make_flow(ctx, "del", [
        {"id": "a", "type": "Say", "text": "A", "x": 0, "y": 0},
        {"id": "b", "type": "Say", "text": "B", "x": 300, "y": 0},
        {"id": "c", "type": "Hangup", "x": 600, "y": 0},
    ], [{"source": "a", "target": "b"}, {"source": "b", "target": "c"}], start="a")
    await open_editor(user, ctx, "del")
    fire(user, "deleteSelected", {"nodes": [], "edges": [{"source": "a", "branch": "next"}]})
    assert not stored(ctx, "del").has_edge("a", "b")
    fire(user, "selectionChange", {"nodes": ["b"], "edges": []})
    await user.should_see("Reads text to the caller")
    fire(user, "deleteSelected", {"nodes": ["b"], "edges": []})
    g = stored(ctx, "del")
    assert set(g.nodes) == {"a", "c"} and g.number_of_edges() == 0
    await user.should_see("How to build a flow")  # the panel no longer shows the removed step
    fire(user, "selectionChange", {"nodes": ["a"], "edges": []})
    user.find(marker="delete-selection").click()
    g = stored(ctx, "del")
    assert set(g.nodes) == {"c"} and g.graph["start"] is None
    await user.should_see("the flow has no start step")


async def test_auto_layout_puts_steps_in_rows_by_depth(user: User, ctx):
    make_flow(ctx, "lay", [
        {"id": "a", "type": "Say", "text": "A", "x": 900, "y": 0},
        {"id": "m", "type": "Gather", "options": ["1", "2"], "prompt": [{"type": "Say", "text": "P"}],
         "x": 600, "y": 0},
        {"id": "x", "type": "Hangup", "x": 300, "y": 0},
        {"id": "y", "type": "Hangup", "x": 0, "y": 0},
    ], [{"source": "a", "target": "m"}, {"source": "m", "target": "x", "branch": "1"},
        {"source": "m", "target": "y", "branch": "2"}], start="a")
    await open_editor(user, ctx, "lay")
    user.find(marker="auto-layout").click()
    g = stored(ctx, "lay")
    ys = {n: g.nodes[n]["y"] for n in g}
    assert ys["a"] < ys["m"] < ys["x"] == ys["y"]
    assert g.nodes["x"]["x"] != g.nodes["y"]["x"]
    fire(user, "undo")
    assert stored(ctx, "lay").nodes["m"]["x"] == 600


async def test_overlapping_steps_are_laid_out_on_opening_and_saved_with_the_first_edit(user: User, ctx):
    make_flow(ctx, "pile", [
        {"id": "a", "type": "Say", "text": "A", "x": 0, "y": 0},
        {"id": "b", "type": "Hangup", "x": 10, "y": 10},
    ], [{"source": "a", "target": "b"}], start="a")
    await open_editor(user, ctx, "pile")
    user.find(marker="auto-layout").click()
    g = stored(ctx, "pile")
    assert g.nodes["a"]["y"] < g.nodes["b"]["y"]


async def test_tidy_up_leaves_an_imported_flow_where_the_importer_put_it(user: User, ctx):
    from compiler import compile_flow, write_zip
    from compiler.bundle import open_zip
    from compiler.examples import example
    from compiler.importer import import_documents

    graph = example("main-menu")
    imported = import_documents(open_zip(write_zip(compile_flow(graph), graph)), flow_id="imported").graph
    ctx.store.create_flow("imported", "Imported", dumps(imported))
    await open_editor(user, ctx, "imported")
    user.find(marker="auto-layout").click()
    g = stored(ctx, "imported")
    assert {n: (g.nodes[n]["x"], g.nodes[n]["y"]) for n in g} == \
        {n: (imported.nodes[n]["x"], imported.nodes[n]["y"]) for n in imported}


async def test_copy_and_paste_make_new_ids_and_keep_inner_connections(user: User, ctx):
    make_flow(ctx, "cp", [
        {"id": "a", "type": "Say", "text": "A", "x": 0, "y": 0},
        {"id": "b", "type": "Hangup", "x": 300, "y": 0},
    ], [{"source": "a", "target": "b"}], start="a")
    await open_editor(user, ctx, "cp")
    fire(user, "copy", {"nodes": ["a", "b"]})
    fire(user, "paste", {"x": 100, "y": 400})
    g = stored(ctx, "cp")
    assert set(g.nodes) == {"a", "b", "say-1", "hangup-1"}
    assert g.has_edge("say-1", "hangup-1")
    assert (g.nodes["say-1"]["x"], g.nodes["say-1"]["y"]) == (100, 400)
    assert g.nodes["say-1"]["text"] == "A" and g.graph["start"] == "a"
    fire(user, "paste", {})  # again, without a position: offset from the originals
    assert {"say-2", "hangup-2"} <= set(stored(ctx, "cp").nodes)


async def test_problem_click_selects_its_step(user: User, ctx):
    make_flow(ctx, "prob", [
        {"id": "ok", "type": "Say", "text": "Fine", "x": 0, "y": 0},
        {"id": "broken", "type": "Play", "text": "not a url", "x": 300, "y": 0},
    ], [{"source": "ok", "target": "broken"}], start="ok")
    canvas = await open_editor(user, ctx, "prob")
    await user.should_see("is not a URL")
    user.find("is not a URL").click()
    await user.should_see("Plays an audio file")  # the Play step's form
    assert canvas is not None


async def test_preview_shows_the_selected_steps_document_or_why_not(user: User, ctx):
    ctx.store.create_flow("main-menu", "Main menu", (EXAMPLES / "main-menu.json").read_text())
    await open_editor(user, ctx, "main-menu")
    fire(user, "selectionChange", {"nodes": ["voicemail"], "edges": []})
    tabs = next(iter(user.find(ui.tabs).elements))
    tabs.value = "preview"
    await user.should_see("FlexML for step voicemail")
    code = next(iter(user.find(ui.code).elements))
    assert "<Record" in code.content and "<Response>" in code.content
    fire(user, "selectionChange", {"nodes": ["welcome"], "edges": []})
    user.find(marker="field-text").elements.pop().value = ""
    await user.should_see("The flow has 1 error; fix it", retries=30)


async def test_a_second_tab_is_warned_never_overwritten(user: User, ctx):
    make_flow(ctx, "two", [{"id": "a", "type": "Say", "text": "Mine", "x": 0, "y": 0}], [], start="a")
    await open_editor(user, ctx, "two")
    # another tab saves first
    other = stored(ctx, "two")
    other.nodes["a"]["text"] = "Theirs"
    record = ctx.store.get_flow("two")
    ctx.store.save_flow("two", dumps(other), record.version)
    fire(user, "nodesMoved", [{"id": "a", "x": 50, "y": 50}])
    await user.should_see("This flow was changed somewhere else")
    await user.should_see("Not saved: changed elsewhere")
    assert stored(ctx, "two").nodes["a"]["text"] == "Theirs"
    assert stored(ctx, "two").nodes["a"]["x"] == 0
    user.find(kind=ui.button, content="Load their version").click()
    await user.should_see("Loaded the newer version")
    fire(user, "nodesMoved", [{"id": "a", "x": 70, "y": 70}])
    g = stored(ctx, "two")
    assert g.nodes["a"]["text"] == "Theirs" and g.nodes["a"]["x"] == 70


async def test_a_save_from_elsewhere_is_announced_before_any_edit(user: User, ctx):
    make_flow(ctx, "seen", [{"id": "a", "type": "Say", "text": "Mine", "x": 0, "y": 0}], [], start="a")
    await open_editor(user, ctx, "seen")
    await user.should_not_see(marker="changed-elsewhere")
    other = stored(ctx, "seen")
    other.nodes["a"]["text"] = "Theirs"
    ctx.store.save_flow("seen", dumps(other), ctx.store.get_flow("seen").version)
    await user.should_see("This flow was just changed in another tab", retries=50)
    user.find(kind=ui.button, content="Load it").click()
    await user.should_not_see(marker="changed-elsewhere")
    fire(user, "selectionChange", {"nodes": ["a"], "edges": []})
    assert next(iter(user.find(marker="field-text").elements)).value == "Theirs"


async def test_keep_mine_overwrites_only_when_asked(user: User, ctx):
    make_flow(ctx, "mine", [{"id": "a", "type": "Say", "text": "Mine", "x": 0, "y": 0}], [], start="a")
    await open_editor(user, ctx, "mine")
    other = stored(ctx, "mine")
    other.nodes["a"]["text"] = "Theirs"
    ctx.store.save_flow("mine", dumps(other), ctx.store.get_flow("mine").version)
    fire(user, "nodesMoved", [{"id": "a", "x": 50, "y": 50}])
    await user.should_see("This flow was changed somewhere else")
    user.find(kind=ui.button, content="Keep mine").click()
    g = stored(ctx, "mine")
    assert g.nodes["a"]["text"] == "Mine" and g.nodes["a"]["x"] == 50


async def test_flow_name_and_start_step_are_edited_with_nothing_selected(user: User, ctx):
    make_flow(ctx, "named", [
        {"id": "a", "type": "Say", "text": "A", "x": 0, "y": 0},
        {"id": "b", "type": "Say", "text": "B", "x": 300, "y": 0},
    ], [{"source": "a", "target": "b"}], start="a")
    await open_editor(user, ctx, "named")
    user.find(marker="field-name").elements.pop().value = "Reception"
    assert ctx.store.get_flow("named").name == "Reception"
    assert stored(ctx, "named").graph["name"] == "Reception"
    user.find(marker="field-start").elements.pop().value = "b"
    assert stored(ctx, "named").graph["start"] == "b"
    await user.should_see("no path from the start reaches this step")


async def test_unknown_flow_says_so(user: User, ctx):
    editor.register(ctx)
    await user.open("/flows/nope")
    await user.should_see("This flow cannot be opened")
    await user.should_see("there is no flow 'nope'")


async def test_call_query_draws_the_calls_path(user: User, ctx):
    from designer import services
    from designer.store import CallEvent
    ctx.store.create_flow("main-menu", "Main menu", (EXAMPLES / "main-menu.json").read_text())
    rev = services.publish(ctx, "main-menu").rev
    # what the host records for a caller who pressed 1 at the menu
    ctx.store.record_events([
        CallEvent("CA1", "main-menu", str(rev), "document", "welcome", None, 1.0),
        CallEvent("CA1", "main-menu", str(rev), "router", "menu", "1", 2.0, {"answer": "sales"}),
    ])
    editor.register(ctx)
    await user.open("/flows/main-menu?call=CA1")
    await user.should_see("Showing the path of call CA1: 3 steps")
    await user.should_see(f"Revision {rev} · read-only")
    await user.should_see("Pressed 1 at menu: option 1")
    await user.should_see("No status callback arrived for this call")


async def test_a_step_is_renamed_with_its_connections_goto_targets_and_start(user: User, ctx):
    make_flow(ctx, "ren", [
        {"id": "say-1", "type": "Say", "text": "Hi", "x": 0, "y": 0},
        {"id": "bye", "type": "Hangup", "x": 300, "y": 0},
        {"id": "jump", "type": "Goto", "target": "say-1", "x": 300, "y": 200},
    ], [{"source": "say-1", "target": "bye"}], start="say-1")
    await open_editor(user, ctx, "ren")
    fire(user, "selectionChange", {"nodes": ["say-1"], "edges": []})
    field = user.find(marker="field-id")
    next(iter(field.elements)).value = "greeting"
    field.trigger("keydown.enter")
    g = stored(ctx, "ren")
    assert "greeting" in g and "say-1" not in g
    assert g.has_edge("greeting", "bye") and g.graph["start"] == "greeting"
    assert g.nodes["jump"]["target"] == "greeting"
    # a taken or malformed id is refused, plainly
    field = user.find(marker="field-id")
    next(iter(field.elements)).value = "bye"
    field.trigger("keydown.enter")
    await user.should_see("another step is already called 'bye'")
    field = user.find(marker="field-id")
    next(iter(field.elements)).value = "no spaces"
    field.trigger("blur")
    await user.should_see("use letters, digits, - and _ only")
    assert set(stored(ctx, "ren")) == {"greeting", "bye", "jump"}


async def test_traffic_and_call_views_say_plainly_what_cannot_be_shown(user: User, ctx):
    from designer import services
    from designer.store import CallEvent
    ctx.store.create_flow("main-menu", "Main menu", (EXAMPLES / "main-menu.json").read_text())
    editor.register(ctx)
    await user.open("/flows/main-menu?traffic=1")
    await user.should_see("This flow has no published revision yet")
    rev = services.publish(ctx, "main-menu").rev
    await user.open(f"/flows/main-menu?traffic=1&rev={rev}&days=7")
    await user.should_see(f"Revision {rev} · read-only")
    await user.should_see(f"Revision {rev}, the last 7 days: 0 calls")
    await user.open("/flows/main-menu?traffic=1&rev=99999999999999999999")
    await user.should_see("Revision not available")
    ctx.store.record_events([CallEvent("CA-draft", "main-menu", "draft", "document", "welcome", None, 1.0)])
    await user.open("/flows/main-menu?call=CA-draft")
    await user.should_see("not on a published revision")
    await user.should_see("Requested welcome")
    await user.open("/flows/main-menu?call=CA-none")
    await user.should_see("There is no call 'CA-none' in the call log.")
