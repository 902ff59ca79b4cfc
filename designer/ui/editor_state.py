"""One browser tab's editor: the flow being edited, its history, selection and problems.

Nothing here is shared between tabs: every editor page builds its own
``EditorState``. Every change goes through ``change()``, which records undo
history, redraws what changed on the canvas, saves the draft to the store
(refusing to overwrite a newer version: ``StaleFlow``), validates, and tells
the listeners. The canvas is optional, so the logic also runs without a browser.
"""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import networkx as nx

from compiler import compile_flow
from compiler.catalogue import STEPS, branches_of, is_jump
from compiler.compile import CompileError
from compiler.flow import FlowError, FlowText, add_branch, edge_branches, loads, remove_branch
from compiler.layout import apply_layout, layout_moves, overlapping
from compiler.validate import DIGIT_BRANCH, NODE_ID, Problem, Validation

from designer import services
from designer.context import AppContext
from designer.errors import DesignerError
from designer.services import StaleFlow, StoreError
from designer.ui.canvas import graph_view, position_of
from designer.ui.history import History

log = logging.getLogger(__name__)

PASTE_OFFSET = 40


class FlowNotFound(DesignerError):
    """The editor was opened for a flow the store does not have."""


class CanvasView(Protocol):
    def set_graph(self, nodes: list[dict], edges: list[dict], fit: bool = False) -> None: ...
    def patch(self, nodes: list[dict], removed_nodes: list[str], edges: list[dict],
              removed_edges: list[str]) -> None: ...
    def set_badges(self, badges: dict[str, dict]) -> None: ...
    def patch_badges(self, badges: dict[str, dict], removed: list[str]) -> None: ...
    def set_highlight(self, node_ids: list[str]) -> None: ...
    def set_path(self, node_ids: list[str]) -> None: ...
    def select_nodes(self, node_ids: list[str]) -> None: ...
    def fit_view(self) -> None: ...
    def move_nodes(self, positions: dict[str, dict], fit: bool = False) -> None: ...


def new_step(type_: str) -> dict:
    """A fresh step as the palette drops it: the catalogue's starting values for its type."""
    return STEPS[type_].starting_values()


def badges_of(problems: list[Problem]) -> dict[str, dict]:
    """node id → {errors, warnings, title} for the steps that have problems."""
    out: dict[str, dict] = {}
    for p in problems:
        if p.node is None:
            continue
        b = out.setdefault(p.node, {"errors": 0, "warnings": 0, "title": []})
        b["errors" if p.is_error else "warnings"] += 1
        b["title"].append(f"{p.field}: {p.message}")
    for b in out.values():
        b["title"] = "\n".join(b["title"][:5])
    return out


class Checker:
    """Validation problems of the drawing, checked again after each edit only where the edit can matter
    (``compiler.validate.Validation``). Should validation itself fail, that is one problem shown to the
    user, and the edit is still saved: a failed check must never lose an edit."""

    def __init__(self) -> None:
        self._validation: Validation | None = None

    def check(self, graph: nx.DiGraph, changed: set[str] | None = None, moved_only: bool = False) -> list[Problem]:
        """``moved_only``: the ``changed`` steps were only moved on the canvas."""
        try:
            if self._validation is None:
                self._validation = Validation(graph)
                return self._validation.problems
            if moved_only and changed is not None:
                return self._validation.moved(graph, changed)
            return self._validation.update(graph, changed)
        except Exception as exc:  # noqa: BLE001 - RecursionError from unforeseen input, or a bug
            log.exception("validating a flow failed")
            self._validation = None  # the next edit checks the whole flow again
            return [Problem(None, "flow", f"the flow could not be checked ({type(exc).__name__}); "
                                          "undo the last change or simplify its text")]


class EditorState:
    """The editor of one flow in one tab. See the module docstring."""

    def __init__(self, ctx: AppContext, flow_id: str) -> None:
        self.ctx = ctx
        self.flow_id = flow_id
        self.history = History()
        self.canvas: CanvasView | None = None
        self.canvas_ready = False
        self.selection: list[str] = []
        self.selected_edges: list[tuple[str, str]] = []
        self.highlighted: list[str] = []
        self.path: list[str] = []
        self.clipboard: tuple[list[tuple[str, dict]], list[tuple[str, str, dict]]] | None = None
        self.stale = False
        self.save_error: str | None = None
        self.saves = 0
        # listeners: on_change(reason) after the flow changed ("edit", "undo", "redo", "reload", "layout");
        # on_select() when the selection changed; on_saved() after each save attempt; on_stale() on StaleFlow
        self.on_change: list[Callable[..., Any]] = []
        self.on_select: list[Callable[[], Any]] = []
        self.on_saved: list[Callable[[], Any]] = []
        self.on_stale: list[Callable[[], Any]] = []
        self._pushed_nodes: dict[str, dict] = {}
        self._pushed_edges: dict[str, dict] = {}
        self._pushed_badges: dict[str, dict] = {}
        self._checker = Checker()
        self._flow_text = FlowText()  # writes again only the steps an edit touched
        self._changes = 0  # counts the flow's changes (loads, edits)
        self._initial_view: int | None = None  # _changes when initial_view was drawn
        self._load()

    # --- loading -------------------------------------------------------------------------

    def _load(self) -> None:
        record = services.find_flow(self.ctx, self.flow_id)
        if record is None:
            raise FlowNotFound(f"there is no flow {self.flow_id!r}")
        try:
            graph = loads(record.graph_json, f"flow {self.flow_id}")
        except FlowError as exc:
            raise FlowNotFound(str(exc)) from None
        graph.graph.setdefault("name", record.name)
        self.name = record.name
        self.version = record.version
        self.graph = graph
        if overlapping(graph):
            apply_layout(graph)  # steps without positions, or hidden under others: drawn laid out
        # the flow's text is written when first needed (an edit, undo): opening a large flow does not wait
        # for it; canvas_is_ready writes it while the browser is idle
        self._text: str | None = None
        self._changes += 1  # what the canvas was sent first (initial_view) is out of date
        self._saved_text = record.graph_json  # differs from _text when the drawing was laid out on opening
        self.problems: list[Problem] = self._checker.check(graph)
        self.stale = False

    def reload(self, undo_label: str | None = None) -> None:
        """Read the flow again from the store (after another tab saved, or a revision was restored).

        With ``undo_label`` the switch is one undoable step (undoing it saves this tab's text back as
        the newest draft); without, the history is cleared.
        """
        before = self.text
        self._load()
        if undo_label is not None and self.text != before:
            self.history.record(undo_label, before)
        elif undo_label is None:
            self.history.clear()
        self.selection = [n for n in self.selection if n in self.graph]
        self.selected_edges = []
        self._push_all()
        self._emit(self.on_saved)
        self._emit_change("reload")
        self._emit(self.on_select)

    @property
    def text(self) -> str:
        """The flow file's text as this tab has it now (what undo snapshots are compared with)."""
        if self._text is None:
            self._text = self._flow_text.dumps(self.graph)
        return self._text

    # --- canvas --------------------------------------------------------------------------

    def attach(self, canvas: CanvasView) -> None:
        self.canvas = canvas

    def initial_view(self) -> dict:
        """Everything the canvas draws first, sent with the page (saves a round trip on opening)."""
        nodes, edges = graph_view(self.graph)
        self._pushed_nodes, self._pushed_edges = nodes, edges
        self._initial_view = self._changes
        self._pushed_badges = badges_of(self.problems)
        return {"nodes": list(nodes.values()), "edges": list(edges.values()), "badges": self._pushed_badges}

    def canvas_is_ready(self, fit: bool = True, drew_initial: bool = False) -> None:
        """The browser's canvas mounted (or re-mounted): draw everything it does not have yet."""
        self.canvas_ready = True
        if not (drew_initial and self._initial_view == self._changes):
            self._push_all(fit=fit)
        self._initial_view = None
        _ = self.text  # written now, while the user looks, not on the first edit
        if self.highlighted:
            self.canvas.set_highlight(self.highlighted)
        if self.path:
            self.canvas.set_path(self.path)
        if self.selection:
            self.canvas.select_nodes(self.selection)

    def _push_all(self, fit: bool = False) -> None:
        nodes, edges = graph_view(self.graph)
        self._pushed_nodes, self._pushed_edges = nodes, edges
        if self.canvas is not None and self.canvas_ready:
            self.canvas.set_graph(list(nodes.values()), list(edges.values()), fit)
            self._pushed_badges = badges_of(self.problems)
            self.canvas.set_badges(self._pushed_badges)

    def _push_badges(self) -> None:
        """Send the canvas only the problem badges that changed."""
        badges = badges_of(self.problems)
        changed = {k: b for k, b in badges.items() if self._pushed_badges.get(k) != b}
        removed = [k for k in self._pushed_badges if k not in badges]
        self._pushed_badges = badges
        if (changed or removed) and self.canvas is not None and self.canvas_ready:
            self.canvas.patch_badges(changed, removed)

    def _push_diff(self, touched: set[str] | None = None) -> None:
        """Send the canvas what changed: everything compared, or only the ``touched`` steps' nodes and edges."""
        nodes, edges = graph_view(self.graph, touched)
        if touched is None:
            old_nodes, old_edges = self._pushed_nodes, self._pushed_edges
            self._pushed_nodes, self._pushed_edges = nodes, edges
        else:
            old_nodes = {k: self._pushed_nodes[k] for k in touched if k in self._pushed_nodes}
            old_edges = {k: e for k, e in self._pushed_edges.items() if e["source"] in touched}
            for k in old_nodes:
                self._pushed_nodes.pop(k)
            for k in old_edges:
                self._pushed_edges.pop(k)
            self._pushed_nodes.update(nodes)
            self._pushed_edges.update(edges)
        changed = [v for k, v in nodes.items() if old_nodes.get(k) != v]
        gone = [k for k in old_nodes if k not in nodes]
        changed_edges = [v for k, v in edges.items() if old_edges.get(k) != v]
        gone_edges = [k for k in old_edges if k not in edges]
        if self.canvas is not None and self.canvas_ready and (changed or gone or changed_edges or gone_edges):
            self.canvas.patch(changed, gone, changed_edges, gone_edges)

    def _push_positions(self, moved: set[str], fit: bool = False) -> None:
        """Send the canvas the new positions of the ``moved`` steps (only positions changed), then fit if asked."""
        positions = {}
        for node in moved:
            view = self._pushed_nodes.get(node)
            where = position_of(self.graph.nodes[node])
            if view is not None and view["position"] != where:
                view["position"] = where
                positions[node] = where
        if self.canvas is not None and self.canvas_ready and (positions or fit):
            self.canvas.move_nodes(positions, fit)

    # --- the one way to change the flow ---------------------------------------------------

    def change(self, label: str, edit: Callable[[nx.DiGraph], Any], coalesce: str | None = None,
               reason: str = "edit", touched: Iterable[str] | None = None, moved_only: bool = False) -> Any:
        """Apply ``edit`` to the graph as one undoable step, then redraw, save and validate.

        ``touched`` names the only steps whose drawing (or outgoing connections) the edit can
        change; None redraws by comparing everything. ``moved_only``: the edit changed nothing but the
        ``touched`` steps' positions (no check again; the canvas is sent only the positions).
        """
        before = self.text
        touched = None if touched is None else set(touched)
        result = edit(self.graph)
        try:
            after = self._flow_text.dumps(self.graph, touched)
        except (RecursionError, ValueError, TypeError) as exc:  # data JSON cannot hold: keep the saved flow
            self.graph = loads(before, f"flow {self.flow_id}")
            self.problems = self._checker.check(self.graph)
            self.save_error = f"that change cannot be saved ({exc}); it was undone"
            self._emit(self.on_saved)
            return None
        if after == before:
            if after != self._saved_text:
                self._save()
            return result
        self.history.record(label, before, coalesce)
        self._committed(after, reason, touched=touched, moved_only=moved_only and touched is not None)
        return result

    def _committed(self, text: str, reason: str, full: bool = False, touched: set[str] | None = None,
                   moved_only: bool = False) -> None:
        self._text = text
        self._changes += 1
        gone = [n for n in self.selection if n not in self.graph]
        if gone:
            self.selection = [n for n in self.selection if n in self.graph]
        self.problems = self._checker.check(self.graph, touched, moved_only)
        if full:
            self._push_all()
        elif moved_only and touched is not None:
            self._push_positions(touched, fit=reason == "layout")
        else:
            self._push_diff(touched)
            self._push_badges()
        self._save()
        self._emit_change(reason)
        if gone:
            self._emit(self.on_select)

    def _save(self) -> None:
        if self.stale:
            self._emit(self.on_saved)
            return
        name = self.graph.graph.get("name")
        try:
            self.version = services.save_draft(self.ctx, self.flow_id, self.text, self.version,
                                               name=str(name) if name else None)
            self.saves += 1
            self._saved_text = self.text
            self.save_error = None
            if name:
                self.name = str(name)
        except StaleFlow:
            self.stale = True
            self._emit(self.on_saved)
            self._emit(self.on_stale)
            return
        except StoreError as exc:
            self.save_error = str(exc)
        except Exception as exc:  # noqa: BLE001 - whatever failed, the page must say the edit is not saved
            log.warning("saving flow %s failed: %r", self.flow_id, exc)
            self.save_error = f"the flow could not be stored ({type(exc).__name__}: {exc})"
        self._emit(self.on_saved)

    def keep_mine(self) -> None:
        """After a StaleFlow warning: save this tab's version over the other one, on purpose."""
        record = services.find_flow(self.ctx, self.flow_id)
        if record is None:
            self.save_error = f"flow {self.flow_id!r} no longer exists"
            self._emit(self.on_saved)
            return
        self.version = record.version
        self.stale = False
        self._save()

    @property
    def save_status(self) -> str:
        """'saved', 'stale' (another tab saved first: not saved) or 'error'."""
        if self.stale:
            return "stale"
        return "error" if self.save_error else "saved"

    # --- listeners ---------------------------------------------------------------------------

    def _emit(self, listeners: Iterable[Callable[[], Any]]) -> None:
        for listener in list(listeners):
            self._call(listener)

    def _emit_change(self, reason: str) -> None:
        for listener in list(self.on_change):
            try:
                takes_reason = len(inspect.signature(listener).parameters) >= 1
            except (TypeError, ValueError):
                takes_reason = False
            self._call(listener, reason) if takes_reason else self._call(listener)

    def _call(self, listener: Callable[..., Any], *args: Any) -> None:
        """One listener's failure (a side panel's bug) must not stop the others or the edit."""
        try:
            listener(*args)
        except Exception:
            log.exception("editor listener %r failed", listener)

    # --- selection, highlight, call paths -------------------------------------------------

    def select(self, node_id: str | None) -> None:
        """Select one step (or none), on the canvas too."""
        wanted = [node_id] if node_id is not None and node_id in self.graph else []
        if wanted == self.selection and not self.selected_edges:
            return
        self.selection = wanted
        self.selected_edges = []
        if self.canvas is not None and self.canvas_ready:
            self.canvas.select_nodes(wanted)
        self._emit(self.on_select)

    def canvas_selected(self, nodes: list[str], edges: list[tuple[str, str]]) -> None:
        """The user selected things on the canvas."""
        nodes = [n for n in nodes if n in self.graph]
        if nodes == self.selection and edges == self.selected_edges:
            return
        self.selection, self.selected_edges = nodes, edges
        self._emit(self.on_select)

    @property
    def selected(self) -> str | None:
        return self.selection[0] if len(self.selection) == 1 else None

    def highlight(self, node_ids: list[str]) -> None:
        """Mark the step(s) a test call is at now."""
        self.highlighted = [n for n in node_ids if n in self.graph]
        if self.canvas is not None and self.canvas_ready:
            self.canvas.set_highlight(self.highlighted)

    def show_path(self, node_ids: list[str]) -> None:
        """Draw the path a call took (step ids in order)."""
        self.path = [n for n in node_ids if n in self.graph]
        if self.canvas is not None and self.canvas_ready:
            self.canvas.set_path(self.path)

    # --- edits -------------------------------------------------------------------------------

    def new_id(self, type_: str) -> str:
        spec = STEPS.get(type_)
        prefix = spec.id_prefix if spec is not None else type_.lower()
        n = 1
        while f"{prefix}-{n}" in self.graph:
            n += 1
        return f"{prefix}-{n}"

    def add_step(self, type_: str, x: float = 0, y: float = 0) -> str | None:
        if type_ not in STEPS:
            return None
        node = self.new_id(type_)

        def edit(g: nx.DiGraph) -> None:
            g.add_node(node, **new_step(type_), x=round(x), y=round(y))
            if not g.graph.get("start") or g.graph["start"] not in g:
                g.graph["start"] = node
        self.change(f"Add {STEPS[type_].label}", edit)
        return node

    def connect(self, source: str, branch: str, target: str) -> bool:
        """Connect one output of ``source`` to ``target`` (replacing what that output led to)."""
        if source == target or source not in self.graph or target not in self.graph:
            return False
        data = self.graph.nodes[source]
        spec = STEPS.get(data.get("type", ""))
        if spec is None or spec.terminal or branch not in branches_of(data):
            return False

        def edit(g: nx.DiGraph) -> None:
            remove_branch(g, source, branch)
            add_branch(g, source, target, branch)
        self.change("Connect", edit, touched=[source])
        return True

    def disconnect(self, source: str, branch: str) -> None:
        self.change("Remove connection", lambda g: remove_branch(g, source, branch), touched=[source])

    def move(self, positions: list[dict]) -> None:
        """Steps dragged to new positions: [{id, x, y}]; entries that are not that shape are ignored."""
        moved = [{"id": str(p["id"]), "x": float(p["x"]), "y": float(p["y"])} for p in positions
                 if isinstance(p, dict) and p.get("id") in self.graph and _is_number(p.get("x"))
                 and _is_number(p.get("y"))]
        if not moved:
            return
        for p in moved:  # the canvas already shows them there
            view = self._pushed_nodes.get(p["id"])
            if view is not None:
                view["position"] = {"x": float(round(p["x"])), "y": float(round(p["y"]))}

        def edit(g: nx.DiGraph) -> None:
            for p in moved:
                g.nodes[p["id"]]["x"] = round(p["x"])
                g.nodes[p["id"]]["y"] = round(p["y"])
        self.change("Move", edit, touched=[p["id"] for p in moved], moved_only=True)

    def delete(self, nodes: Iterable[str] = (), edges: Iterable[tuple[str, str]] = ()) -> None:
        nodes = [n for n in nodes if n in self.graph]
        edges = list(edges)
        if not nodes and not edges:
            return

        def edit(g: nx.DiGraph) -> None:
            for source, branch in edges:
                if source in g:
                    remove_branch(g, source, branch)
            g.remove_nodes_from(nodes)
            if g.graph.get("start") in nodes:
                g.graph["start"] = None
        what = "Delete step" if len(nodes) == 1 and not edges else "Delete"
        self.change(what, edit)

    def delete_selection(self) -> None:
        self.delete(self.selection, self.selected_edges)

    def set_field(self, node: str, field: str, value: Any) -> None:
        """Set one field of a step: ``text``, ``attrs.<name>``, ``numbers``, ``prompt``, ``target``, ``retries``…

        None or an empty string removes the field (the default applies).
        """
        if node not in self.graph:
            return

        def edit(g: nx.DiGraph) -> None:
            data = g.nodes[node]
            if field.startswith("attrs."):
                attrs = dict(data.get("attrs") or {})
                name = field[len("attrs."):]
                if value is None or value == "":
                    attrs.pop(name, None)
                else:
                    attrs[name] = value
                if attrs:
                    data["attrs"] = attrs
                else:
                    data.pop("attrs", None)
            elif value is None or (value == "" and field != "text"):
                data.pop(field, None)
            else:
                data[field] = copy.deepcopy(value)
        self.change(f"Change {field}", edit, coalesce=f"{node}:{field}", touched=[node])

    def set_options(self, node: str, options: list[str]) -> None:
        """A menu's digit options, in order; a renamed option keeps its connection."""
        if node not in self.graph:
            return
        old = [str(o) for o in self.graph.nodes[node].get("options") or []]
        new = [str(o).strip() for o in options]

        def edit(g: nx.DiGraph) -> None:
            g.nodes[node]["options"] = new
            removed = [o for o in old if o not in new]
            added = [o for o in new if o not in old]
            for i, gone in enumerate(removed):
                targets = dict((b, t) for _, t, d in g.out_edges(node, data=True) for b in edge_branches(d))
                target = targets.get(gone)
                remove_branch(g, node, gone)
                if target is not None and len(removed) == len(added) and DIGIT_BRANCH.match(added[i] or "x"):
                    add_branch(g, node, target, added[i])  # an option typed over: same connection
        self.change("Change menu options", edit, coalesce=f"{node}:options", touched=[node])

    def set_cases(self, node: str, cases: list[dict], renamed: tuple[str, str] | None = None) -> bool:
        """A Split's cases; ``renamed`` (old, new): one case's output was renamed, and its connection follows
        (unless the new name is empty or another output's connection already uses it). True when it moved."""
        if node not in self.graph:
            return False

        def edit(g: nx.DiGraph) -> bool:
            g.nodes[node]["cases"] = copy.deepcopy(cases)
            if renamed is None or not renamed[1] or renamed[0] == renamed[1]:
                return False
            old, new = renamed
            targets = {b: t for _, t, d in g.out_edges(node, data=True) for b in edge_branches(d)}
            if old not in targets or new in targets:
                return False
            remove_branch(g, node, old)
            add_branch(g, node, targets[old], new)
            return True
        return bool(self.change("Change cases", edit, coalesce=f"{node}:cases", touched=[node]))

    def rename_step(self, old: str, new: str) -> str | None:
        """Give a step a new id (it names the step's document in the host's URLs).

        Returns why not, or None when done; connections, Go to targets and the start follow.
        """
        new = new.strip()
        if old not in self.graph:
            return f"there is no step {old!r}"
        if new == old:
            return None
        if not NODE_ID.match(new):
            return "use letters, digits, - and _ only (at most 64)"
        if new in self.graph:
            return f"another step is already called {new!r}"

        def edit(g: nx.DiGraph) -> None:
            nx.relabel_nodes(g, {old: new}, copy=False)
            for _, data in g.nodes(data=True):
                if is_jump(data) and data.get("target") == old:
                    data["target"] = new
            if g.graph.get("start") == old:
                g.graph["start"] = new
        self.selection = [new if n == old else n for n in self.selection]
        self.highlighted = [new if n == old else n for n in self.highlighted]
        self.path = [new if n == old else n for n in self.path]
        self.change("Rename step", edit)
        if self.canvas is not None and self.canvas_ready:
            self.canvas.select_nodes(self.selection)
        self._emit(self.on_select)
        return None

    def set_start(self, node: str | None) -> None:
        def edit(g: nx.DiGraph) -> None:
            g.graph["start"] = node if node in g else None
        self.change("Change start step", edit)

    def set_timezone(self, zone: str | None) -> None:
        """The flow's time zone: what its business-hours steps without their own decide in (None: the
        machine's)."""
        def edit(g: nx.DiGraph) -> None:
            if zone:
                g.graph["timezone"] = zone
            else:
                g.graph.pop("timezone", None)
        self.change("Change time zone", edit)

    def rename(self, name: str) -> None:
        name = name.strip()
        if not name:
            return

        def edit(g: nx.DiGraph) -> None:
            g.graph["name"] = name
        self.change("Rename flow", edit, coalesce="flow:name")

    def auto_layout(self) -> None:
        """Tidy up: the layered layout; the canvas moves the steps in place and fits once."""
        moves = layout_moves(self.graph)

        def edit(g: nx.DiGraph) -> None:
            for node, (x, y) in moves.items():
                g.nodes[node]["x"], g.nodes[node]["y"] = x, y
        self.change("Auto-layout", edit, reason="layout", touched=moves, moved_only=True)
        if not moves and self.canvas is not None and self.canvas_ready:
            self.canvas.fit_view()

    # --- copy and paste --------------------------------------------------------------------------

    def copy(self, nodes: Iterable[str] | None = None) -> int:
        chosen = [n for n in (self.selection if nodes is None else nodes) if n in self.graph]
        if not chosen:
            return 0
        inside = set(chosen)
        self.clipboard = (
            [(n, copy.deepcopy(dict(self.graph.nodes[n]))) for n in chosen],
            [(s, t, copy.deepcopy(dict(d))) for s, t, d in self.graph.edges(data=True) if s in inside and t in inside],
        )
        return len(chosen)

    def paste(self, x: float | None = None, y: float | None = None) -> list[str]:
        """Paste copied steps with new ids, keeping the connections between them."""
        if not self.clipboard:
            return []
        nodes, edges = self.clipboard
        xs = [float(d.get("x") or 0) for _, d in nodes]
        ys = [float(d.get("y") or 0) for _, d in nodes]
        dx = (x - min(xs)) if x is not None else PASTE_OFFSET
        dy = (y - min(ys)) if y is not None else PASTE_OFFSET
        new_ids: dict[str, str] = {}

        def edit(g: nx.DiGraph) -> None:
            for old, data in nodes:
                new = self.new_id(str(data.get("type", "step")))
                new_ids[old] = new
                g.add_node(new, **copy.deepcopy(data))
                g.nodes[new]["x"] = round(float(data.get("x") or 0) + dx)
                g.nodes[new]["y"] = round(float(data.get("y") or 0) + dy)
            for s, t, d in edges:
                g.add_edge(new_ids[s], new_ids[t], **copy.deepcopy(d))
            for old, new in new_ids.items():
                target = g.nodes[new].get("target")
                if is_jump(g.nodes[new]) and target in new_ids:
                    g.nodes[new]["target"] = new_ids[target]
        self.change("Paste", edit)
        pasted = list(new_ids.values())
        self.selection = pasted
        self.selected_edges = []
        if self.canvas is not None and self.canvas_ready:
            self.canvas.select_nodes(pasted)
        self._emit(self.on_select)
        return pasted

    # --- undo and redo ---------------------------------------------------------------------------

    def undo(self) -> bool:
        return self._restore(self.history.undo(self.text), "undo")

    def redo(self) -> bool:
        return self._restore(self.history.redo(self.text), "redo")

    def _restore(self, text: str | None, reason: str) -> bool:
        if text is None:
            return False
        self.graph = loads(text, f"flow {self.flow_id}")
        self._committed(text, reason)
        return True

    # --- preview --------------------------------------------------------------------------------

    def preview(self, node: str | None) -> tuple[str, str, str]:
        """('xml', document text, document name) for the document that plays ``node``,
        or ('message', why not, '')."""
        try:
            compiled = compile_flow(self.graph, revision="draft", problems=self.problems)
        except CompileError as exc:
            n = len(exc.problems)
            return "message", f"The flow has {n} error{'s' if n != 1 else ''}; fix {'it' if n == 1 else 'them'} " \
                              "(see Problems) to see its FlexML.", ""
        except Exception as exc:  # a compiler bug must not break the editor
            log.exception("preview of flow %s failed", self.flow_id)
            return "message", f"The FlexML could not be built: {exc}", ""
        if node is None:
            node = compiled.start
        docs = [name for name, steps in compiled.steps.items() if node in steps]
        if not docs:
            return "message", f"No call reaches step {node!r} yet, so it is in no document.", ""
        own = [d for d in docs if compiled.steps[d][0] == node]
        name = (own or docs)[0]
        return "xml", compiled.documents[name].decode("utf-8"), name


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value \
        and abs(value) < 1e9
