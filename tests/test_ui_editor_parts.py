"""The editor's parts without a page: layout, undo history, what the canvas draws, editor state."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import networkx as nx
import pytest

from compiler.catalogue import PALETTE_ORDER, STEPS
from compiler.flow import dumps, loads
from designer.context import AppContext
from designer.ui.canvas import (NPM_DISTS, branch_label, canvas_esm, edge_views, find_vue_flow_dist, graph_view,
                                node_view, search_label, snippet)
from designer.ui.editor_state import EditorState, FlowNotFound, badges_of, new_step
from designer.ui.history import History
from static import STATIC_DIR
from compiler.layout import COLUMN_GAP, layered_positions, layout_moves, overlapping

EXAMPLES = Path(__file__).resolve().parents[1] / "compiler" / "examples"


class RecordingCanvas:
    """A canvas that remembers what the editor state pushed to it."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name: str):
        return lambda *args: self.calls.append((name, *args))


def example_state(ctx: AppContext, name: str = "main-menu") -> EditorState:
    ctx.store.create_flow(name, name, (EXAMPLES / f"{name}.json").read_text())
    return EditorState(ctx, name)


# --- layout ---------------------------------------------------------------------------------


def test_layout_puts_each_step_one_row_below_the_steps_leading_to_it():
    g = loads((EXAMPLES / "main-menu.json").read_text())
    pos = layered_positions(g)
    assert set(pos) == set(g.nodes)
    for u, v in g.edges:
        assert pos[u][1] < pos[v][1], (u, v)
    assert pos["welcome"][1] == min(y for _, y in pos.values())
    g2 = g.copy()
    for n, (x, y) in pos.items():
        g2.nodes[n].update(x=x, y=y)
    assert not overlapping(g2)


def test_layout_survives_loops_and_empty_flows():
    g = nx.DiGraph()
    g.add_node("a", type="Say", text="A")
    g.add_node("b", type="Say", text="B")
    g.add_edge("a", "b")
    g.add_edge("b", "a")  # a loop (validation reports it)
    pos = layered_positions(g)
    assert pos["a"][1] == pos["b"][1] and pos["a"][0] != pos["b"][0]  # a loop's steps share a row
    assert layered_positions(nx.DiGraph()) == {}


def test_layout_moves_name_only_the_steps_tidy_up_moves():
    g = nx.DiGraph()
    g.add_node("a", type="Say", text="A")
    g.add_node("b", type="Say", text="B")
    g.add_edge("a", "b")
    g.add_edge("b", "gone")  # a connection to a step that is not there: validation reports it, layout skips it
    moves = layout_moves(g, "a")
    assert set(moves) == {"a", "b"}
    for node, (x, y) in moves.items():
        g.nodes[node].update(x=x, y=y)
    assert layout_moves(g, "a") == {}  # tidy already
    assert g.nodes["gone"] == {}


def test_tidy_up_moves_the_steps_in_place_and_fits_once(ctx):
    state = example_state(ctx)
    for n in state.graph.nodes:  # every step in one spot: Tidy up moves them all
        state.graph.nodes[n].update(x=0, y=0)
    state.change("Pile up", lambda g: None)
    canvas = RecordingCanvas()
    state.attach(canvas)
    state.canvas_is_ready(fit=False)
    problems = list(state.problems)
    canvas.calls.clear()
    state.auto_layout()
    assert [c[0] for c in canvas.calls] == ["move_nodes"]  # no redraw of the steps, no second fit
    _, positions, fit = canvas.calls[0]
    assert fit and set(positions) == set(state.graph.nodes)
    saved = loads(ctx.store.get_flow("main-menu").graph_json)
    assert {n: (d["x"], d["y"]) for n, d in saved.nodes(data=True)} == layered_positions(saved)
    assert state.problems == problems
    canvas.calls.clear()
    state.undo()  # back to the pile: drawn there again
    assert all(p == {"x": 0.0, "y": 0.0} for c in canvas.calls if c[0] == "patch" for p in
               [n["position"] for n in c[1]])
    assert loads(ctx.store.get_flow("main-menu").graph_json).nodes["menu"]["x"] == 0


def test_positions_that_are_not_finite_numbers_are_drawn_at_0_and_the_view_is_strict_json():
    g = nx.DiGraph(id="f", start="a")
    g.add_node("a", type="Hangup", x="nan", y="1e999")
    g.add_node("b", type="Hangup", x="-inf", y="12.5")
    nodes, _ = graph_view(g)
    assert nodes["a"]["position"] == {"x": 0.0, "y": 0.0}
    assert nodes["b"]["position"] == {"x": 0.0, "y": 12.5}
    json.dumps(nodes, allow_nan=False)  # what the browser's JSON.parse can read


def test_overlapping_spots_hidden_steps_and_missing_positions():
    g = nx.DiGraph()
    g.add_node("a", type="Say", x=0, y=0)
    g.add_node("b", type="Say", x=COLUMN_GAP, y=0)
    assert not overlapping(g)
    g.nodes["b"]["x"] = 50
    assert overlapping(g)
    g.add_node("c", type="Hangup")
    assert overlapping(g)


# --- history --------------------------------------------------------------------------------


def test_history_undoes_and_redoes_in_order_and_a_new_change_drops_redo():
    h = History()
    h.record("one", "v0")
    h.record("two", "v1")
    assert h.undo("v2") == "v1"
    assert h.undo("v1") == "v0"
    assert h.undo("v0") is None
    assert h.redo("v0") == "v1"
    h.record("three", "v1")
    assert not h.can_redo and h.redo("x") is None


def test_history_coalesces_typing_into_one_field():
    h = History()
    h.record("type", "v0", coalesce="say:text")
    h.record("type", "v1", coalesce="say:text")
    h.record("type", "v2", coalesce="other:text")
    assert h.undo("v3") == "v2"
    assert h.undo("v2") == "v0"


def test_history_keeps_a_bounded_number_of_steps():
    h = History(limit=3)
    for i in range(5):
        h.record(str(i), f"v{i}")
    assert [h.undo("now"), h.undo("x"), h.undo("y"), h.undo("z")] == ["v4", "v3", "v2", None]


# --- what the canvas draws ---------------------------------------------------------------------


def test_node_view_has_one_output_per_branch_in_menu_order():
    g = loads((EXAMPLES / "main-menu.json").read_text())
    view = node_view(g, "menu")
    assert [o["id"] for o in view["data"]["outputs"]] == ["1", "2", "0", "timeout", "invalid"]
    assert [o["label"] for o in view["data"]["outputs"]][-2:] == ["no input", "invalid"]
    assert view["data"]["label"] == "Menu / collect digits" and view["data"]["icon"] == "dialpad"
    assert node_view(g, "welcome")["data"]["start"] is True
    assert node_view(g, "bye")["data"]["outputs"] == []  # Hang up ends the path
    assert node_view(g, "voicemail")["data"]["outputs"][-1]["id"] == "error"


def test_every_palette_step_has_a_plain_label_and_an_icon():
    assert len(PALETTE_ORDER) == len(set(PALETTE_ORDER))
    for type_ in PALETTE_ORDER:
        view = node_view(_one(type_), "x")
        assert view["data"]["label"] == STEPS[type_].label and view["data"]["icon"] == STEPS[type_].icon
    assert STEPS["Gather"].label == "Menu / collect digits" and STEPS["Hangup"].label == "Hang up"


def _one(type_: str) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_node("x", type=type_)
    return g


def test_edges_split_shared_connections_into_one_per_branch():
    g = nx.DiGraph(start="m")
    g.add_node("m", type="Gather", options=["1", "2"])
    g.add_node("t", type="Hangup")
    g.add_edge("m", "t", branch="1", also=["2"])
    edges = edge_views(g)
    assert sorted(e["sourceHandle"] for e in edges) == ["1", "2"]
    assert len({e["id"] for e in edges}) == 2


def test_connections_to_missing_or_odd_outputs_stay_visible():
    g = nx.DiGraph(start="m")
    g.add_node("m", type="Gather", options=["1"])
    g.add_node("t", type="Hangup")
    g.add_edge("m", "t", branch="7")  # not among the options
    g.add_edge("t", "ghost")  # a connection to a step that does not exist
    nodes, edges = graph_view(g)
    assert "ghost" not in nodes
    assert "7" in [o["id"] for o in nodes["m"]["data"]["outputs"]]
    assert [e["target"] for e in edges.values()] == ["t"]


def test_snippets_and_labels_are_short_and_plain():
    assert snippet({"type": "Say", "text": "x" * 200}).endswith("…")
    assert len(snippet({"type": "Say", "text": "x" * 200})) == 60
    assert snippet({"type": "Dial", "numbers": ["1", "2"]}) == "1, 2"
    assert snippet({"type": "Goto", "target": "menu"}) == "→ menu"
    assert snippet({"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1"}]}) == "Press 1"
    assert branch_label("timeout") == "no input" and branch_label("42") == "press 42"


def test_vue_flow_is_found_or_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    assert (find_vue_flow_dist() / "vue-flow-core.mjs").is_file()
    canvas = sys.modules[find_vue_flow_dist.__module__]
    monkeypatch.setattr(canvas, "PROJECT_ROOT", tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FLEXML_NODE_MODULES", str(tmp_path / "nowhere"))
    with pytest.raises(canvas.CanvasSetupError, match="npm ci --ignore-scripts --omit=peer"):
        canvas.find_vue_flow_dist()


# --- editor state without a page ----------------------------------------------------------------


def test_new_steps_are_empty_where_the_user_must_fill_something_in():
    assert new_step("Say") == {"type": "Say", "text": ""}
    assert new_step("Gather")["options"] == ["1", "2"]
    assert new_step("Dial")["numbers"] == []
    assert new_step("Hangup") == {"type": "Hangup"}


def test_edits_are_pushed_as_small_patches_with_badges(ctx):
    state = example_state(ctx)
    canvas = RecordingCanvas()
    state.attach(canvas)
    state.canvas_is_ready()
    assert canvas.calls[0][0] == "set_graph" and len(canvas.calls[0][1]) == 14  # the main menu's 14 steps
    canvas.calls.clear()
    state.set_field("welcome", "text", "")
    patch = next(c for c in canvas.calls if c[0] == "patch")
    assert [n["id"] for n in patch[1]] == ["welcome"] and patch[2:] == ([], [], [])
    changed, removed = next(c for c in canvas.calls if c[0] == "patch_badges")[1:]
    assert list(changed) == ["welcome"] and changed["welcome"]["errors"] == 1 and removed == []  # only what changed
    canvas.calls.clear()
    state.set_field("welcome", "text", "Welcome back.")
    assert next(c for c in canvas.calls if c[0] == "patch_badges")[1:] == ({}, ["welcome"])
    canvas.calls.clear()
    state.connect("menu", "invalid", "no-input")
    patch = next(c for c in canvas.calls if c[0] == "patch")
    assert [e["id"] for e in patch[3]] == ["e|menu|invalid"]


def test_a_canvas_that_drew_the_page_s_initial_view_is_not_sent_it_again(ctx):
    state = example_state(ctx)
    view = state.initial_view()
    assert len(view["nodes"]) == 14 and len(view["edges"]) == 17  # 16 connections and the Go to's jump
    jump = next(e for e in view["edges"] if e["sourceHandle"] == "jump")
    assert (jump["source"], jump["target"], jump["deletable"]) == ("again", "menu", False)
    canvas = RecordingCanvas()
    state.attach(canvas)
    state.canvas_is_ready(drew_initial=True)
    assert not [c for c in canvas.calls if c[0] == "set_graph"]


def test_connect_refuses_what_the_flow_cannot_hold(ctx):
    state = example_state(ctx)
    assert not state.connect("bye", "next", "menu")  # Hang up has no outputs
    assert not state.connect("menu", "5", "bye")  # not one of the menu's options
    assert not state.connect("menu", "1", "menu")  # to itself
    assert not state.connect("menu", "1", "nowhere")
    assert state.connect("menu", "1", "bye")
    assert loads(ctx.store.get_flow("main-menu").graph_json).edges["menu", "bye"]["branch"] == "1"


def test_badges_count_errors_and_warnings_per_step(ctx):
    state = example_state(ctx)
    state.set_field("sales", "numbers", ["nope"])
    state.delete(edges=[("menu", "timeout")])
    badges = badges_of(state.problems)
    assert badges["sales"]["errors"] == 1
    assert badges["menu"]["warnings"] >= 1 and badges["menu"]["errors"] == 0


def test_goto_targets_follow_a_paste(ctx):
    state = example_state(ctx)
    state.copy(["no-input", "again", "menu"])
    pasted = state.paste()
    g = loads(ctx.store.get_flow("main-menu").graph_json)
    new_goto = next(n for n in pasted if g.nodes[n]["type"] == "Goto")
    assert g.nodes[new_goto]["target"] in pasted


def test_renaming_a_menu_option_keeps_its_connection_and_removing_it_drops_it(ctx):
    state = example_state(ctx)
    state.set_options("menu", ["1", "3", "0"])
    g = loads(ctx.store.get_flow("main-menu").graph_json)
    assert g.edges["menu", "vm-prompt"]["branch"] == "3"
    state.set_options("menu", ["1", "0"])
    g = loads(ctx.store.get_flow("main-menu").graph_json)
    assert not g.has_edge("menu", "vm-prompt")


def test_reload_takes_the_store_s_version_and_clears_history(ctx):
    state = example_state(ctx)
    state.set_field("welcome", "text", "Mine")
    record = ctx.store.get_flow("main-menu")
    g = loads(record.graph_json)
    g.nodes["welcome"]["text"] = "Theirs"
    ctx.store.save_flow("main-menu", dumps(g), record.version)
    state.set_field("welcome", "text", "Mine again")
    assert state.stale and state.save_status == "stale"
    assert loads(ctx.store.get_flow("main-menu").graph_json).nodes["welcome"]["text"] == "Theirs"
    state.reload()
    assert not state.stale and state.graph.nodes["welcome"]["text"] == "Theirs" and not state.history.can_undo


def test_a_restore_read_from_the_store_is_one_undoable_step_that_saves_the_old_draft_back(ctx):
    state = example_state(ctx)
    state.set_field("welcome", "text", "My draft")
    record = ctx.store.get_flow("main-menu")
    g = loads(record.graph_json)
    g.nodes["welcome"]["text"] = "Restored"
    ctx.store.save_flow("main-menu", dumps(g), record.version)  # what services.restore_revision does
    state.reload(undo_label="Restore revision 1")
    assert state.graph.nodes["welcome"]["text"] == "Restored" and state.history.undo_label == "Restore revision 1"
    assert state.undo()
    assert loads(ctx.store.get_flow("main-menu").graph_json).nodes["welcome"]["text"] == "My draft"
    assert state.redo() and state.graph.nodes["welcome"]["text"] == "Restored"


def test_history_survives_being_written_out_as_plain_data_and_read_back():
    h = History()
    h.record("Add", "v0")
    h.record("Move", "v1")
    assert h.undo("v2") == "v1"
    data = json.loads(json.dumps(h.to_data()))
    again = History()
    again.load(data)
    assert (again.undo_label, again.redo_label) == ("Add", "Move")
    assert again.redo("v1") == "v2" and again.undo("v2") == "v1"
    junk = History()
    junk.load({"undo": [["ok", "v0", None], "garbage", [1, 2, 3]], "redo": "nope"})
    assert junk.undo_label == "ok" and not junk.can_redo


def test_search_labels_carry_id_kind_and_text():
    g = nx.DiGraph()
    g.add_node("welcome", type="Say", text="Thank you for calling Bright Smile Dental. " * 3)
    g.add_node("menu", type="Gather", prompt=[{"type": "Say", "text": "Press 1 for the front desk"}])
    label = search_label(g, "welcome")
    assert label.startswith("welcome · Speak text · Thank you for calling") and len(label) < 160
    assert search_label(g, "menu") == "menu · Menu / collect digits · Press 1 for the front desk"


def test_every_npm_package_the_canvas_loads_is_mapped_from_one_list():
    esm = canvas_esm()
    for name, spec in NPM_DISTS.items():
        folder = f"{spec['package']}/{spec['dist']}"
        assert all((Path(esm[name]) / f).is_file() for f in spec["files"]) and spec["marker"] in spec["files"]
        assert Path(esm[name]).as_posix().endswith(folder) or Path(esm[name]).name == name  # node_modules or vendor
    js = (Path(__file__).parents[1] / "static" / "flow_canvas.js").read_text()
    assert all(f'"{name}/' in js for name in NPM_DISTS)  # each listed package is one the canvas loads


def test_unknown_or_broken_flows_are_refused_plainly(ctx):
    with pytest.raises(FlowNotFound, match="there is no flow 'nope'"):
        EditorState(ctx, "nope")
    ctx.store.create_flow("broken", "Broken", json.dumps({"nodes": "x"}))
    with pytest.raises(FlowNotFound, match="no 'nodes' list"):
        EditorState(ctx, "broken")


def test_preview_finds_the_document_that_plays_a_step(ctx):
    state = example_state(ctx)
    kind, xml, doc = state.preview("vm-thanks")
    assert kind == "xml" and "Thank you. Goodbye." in xml and "vm-thanks" in state_steps(state, doc)
    kind, text, doc = state.preview(None)
    assert kind == "xml" and doc == "welcome"
    state.add_step("Say", 0, 900)
    kind, text, _ = state.preview("say-1")
    assert kind == "message" and "error" in text


def state_steps(state: EditorState, doc: str) -> list[str]:
    from compiler import compile_flow
    return compile_flow(state.graph, revision="draft").steps[doc]


def test_edits_keep_the_text_and_problems_of_a_full_save_and_check(ctx):
    """The editor writes and checks again only the steps an edit touched: after each edit (and undo)
    its text and problems are exactly those of writing and checking the whole flow."""
    from compiler.flow import dumps
    from compiler.validate import validate
    state = example_state(ctx)
    steps = [
        lambda: state.set_field("welcome", "text", ""),
        lambda: state.set_field("again", "target", "welcome"),
        lambda: state.connect("menu", "invalid", "welcome"),
        lambda: state.set_options("menu", ["1", "2", "7"]),
        lambda: state.move([{"id": "menu", "x": 900, "y": 10}]),
        lambda: state.disconnect("menu", "timeout"),
        lambda: state.set_field("menu", "attrs.numDigits", "x"),
        state.undo,
        lambda: state.set_field("welcome", "text", "You pressed {{ Digits }}"),
        state.undo,
        state.redo,
    ]
    for step in steps:
        step()
        assert state.text == dumps(state.graph)
        assert state.problems == validate(state.graph)


def test_the_page_head_asks_for_what_the_canvas_imports_and_the_fonts_every_page_draws_with():
    from designer.ui.canvas import CANVAS_MODULES
    from designer.ui.preload import NICEGUI_FONTS_CSS, font_files, script
    imported = re.findall(r'import\("([^"]+)"\)', (STATIC_DIR / "flow_canvas.js").read_text(encoding="utf-8"))
    assert imported and sorted(imported) == sorted(CANVAS_MODULES)  # nothing the canvas imports is found late
    fonts = font_files()
    css = NICEGUI_FONTS_CSS.read_text(encoding="utf-8")
    icons = css[css.index('"Material Icons"'):]
    assert len(fonts) == 2 and fonts[0] == re.search(r"url\(([^)]+)\)", icons)[1]  # the icons, then Roboto
    assert all((NICEGUI_FONTS_CSS.parent / f).is_file() for f in fonts)
    head = script(CANVAS_MODULES, ("flexml-static/flow_canvas.css",), fonts=True)
    assert all(json.dumps(f) in head for f in fonts) and json.dumps(list(CANVAS_MODULES)) in head
