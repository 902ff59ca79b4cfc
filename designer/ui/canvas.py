"""The flow canvas: a NiceGUI element around Vue Flow (``static/flow_canvas.js``).

Python's networkx graph is the truth. The browser draws it and reports what the
user did (events below); Python changes the graph and pushes the result back
(``set_graph``, ``patch``, ``set_badges`` …). Pushes never echo back as events.

Events (NiceGUI camel-cases them: trigger ``nodeDrop`` in User tests):
  ready             {initial: bool}: the canvas is mounted (and drew the ``initial`` prop)
  node-drop         {type, x, y}: a palette item dropped at a flow position
  edge-added        {source, sourceHandle, target}: an output dragged to a step
  nodes-moved       [{id, x, y}]: steps dragged to new positions
  delete-selected   {nodes: [ids], edges: [{source, branch}]}: Delete/Backspace
  selection-change  {nodes: [ids], edges: [{source, branch}]}
  copy              {nodes: [ids]}; paste {x?, y?}; undo; redo
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import networkx as nx
from nicegui import ui

from compiler.catalogue import STEPS, branches_of, is_jump, step_of
from compiler.validate import DIGIT_BRANCH
from compiler.flow import edge_branches
from compiler.layout import NODE_BASE_HEIGHT, NODE_WIDTH, OUTPUT_HEIGHT
from designer.errors import DesignerError
from designer.ui.preload import preload
from static import STATIC_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SNIPPET_MAX = 60
SEARCH_TEXT_MAX = 120

# The npm packages the canvas loads, each served under an import-map name: static/npm.json (setup.py reads
# the same list to put them into a wheel as static/vendor/<name>/)
NPM_DISTS: dict[str, dict] = {name: spec for name, spec in
                              json.loads((STATIC_DIR / "npm.json").read_text(encoding="utf-8")).items()
                              if not name.startswith("_")}
VENDOR_DIR = STATIC_DIR / "vendor"
# what flow_canvas.js imports (by import-map name) and the style sheets it is drawn with, in their order
# (ours last: it overrides Vue Flow's theme); the page's head asks for all of them at the start
CANVAS_MODULES = ("vue-flow-dist/vue-flow-core.mjs", "flexml-static/flow_minimap.js")
CANVAS_STYLES = ("vue-flow-dist/style.css", "vue-flow-dist/theme-default.css", "flexml-static/flow_canvas.css")


class CanvasSetupError(DesignerError, RuntimeError):
    """Vue Flow (an npm package installed at set-up time) cannot be found."""


def npm_candidates(name: str) -> list[Path]:
    """Where one of ``NPM_DISTS`` may be: node_modules in $FLEXML_NODE_MODULES, the installed package's
    own copy (static/vendor/<name>, put in a wheel by setup.py), node_modules of the checkout or the cwd."""
    spec = NPM_DISTS[name]
    folder = Path(spec["package"]) / spec["dist"]
    env = os.environ.get("FLEXML_NODE_MODULES")
    candidates = [Path(env) / folder] if env else []
    return candidates + [VENDOR_DIR / name, PROJECT_ROOT / "node_modules" / folder,
                         Path.cwd() / "node_modules" / folder]


def find_npm_dist(name: str) -> Path:
    """The installed folder of one of ``NPM_DISTS``; a CanvasSetupError says how to install it."""
    spec = NPM_DISTS[name]
    candidates = npm_candidates(name)
    for dist in candidates:
        if (dist / spec["marker"]).is_file():
            return dist.resolve()
    looked = ", ".join(str(c) for c in candidates)
    raise CanvasSetupError(
        f"the canvas library {spec['package']} is not installed (looked for {spec['marker']} in {looked}); "
        "run `npm ci --ignore-scripts --omit=peer` in the project folder (or `bash .ci/do serve`), "
        "or set FLEXML_NODE_MODULES to a node_modules folder that has it")


def find_vue_flow_dist() -> Path:
    """Vue Flow's browser files (see ``npm_candidates`` for where they are looked for)."""
    return find_npm_dist("vue-flow-dist")


def canvas_esm() -> dict[str, str]:
    """The import map the canvas's JavaScript needs: every npm folder and static/ (its minimap, its CSS)."""
    esm = {name: str(find_npm_dist(name)) for name in NPM_DISTS}
    esm["flexml-static"] = str(STATIC_DIR)
    return esm


class FlowCanvas(ui.element, component=STATIC_DIR / "flow_canvas.js", esm=canvas_esm()):
    """The drawing surface of the editor; see the module docstring for its events."""

    def __init__(self, flow_key: str, initial: dict | None = None, readonly: bool = False) -> None:
        """``initial``: {nodes, edges, badges} drawn as soon as the canvas mounts (then ``ready`` says so);
        ``readonly``: steps cannot be moved, connected, deleted or dropped (a revision shown as it was)."""
        super().__init__()
        preload(CANVAS_MODULES, CANVAS_STYLES)
        self._props["flow-key"] = flow_key
        # as JSON text: NiceGUI would copy a dict into observable dicts and lists, step by step (a large
        # flow's page took most of its build time so), and the browser parses one string faster
        self._props["initial"] = None if initial is None else json.dumps(initial, separators=(",", ":"))
        self._props["readonly"] = readonly
        self.classes("w-full h-full")

    def set_graph(self, nodes: list[dict], edges: list[dict], fit: bool = False) -> None:
        self.run_method("setGraph", nodes, edges, fit)

    def patch(self, nodes: list[dict], removed_nodes: list[str], edges: list[dict], removed_edges: list[str]) -> None:
        self.run_method("patch", nodes, removed_nodes, edges, removed_edges)

    def set_badges(self, badges: dict[str, dict]) -> None:
        self.run_method("setBadges", badges)

    def set_traffic(self, traffic: dict) -> None:
        """Numbers on the steps and connection widths: {steps: {id: {reached, ended}}, edges: {"step|branch": n},
        busiest: n}; {} clears them."""
        self.run_method("setTraffic", traffic)

    def patch_badges(self, badges: dict[str, dict], removed: list[str]) -> None:
        """Change only these steps' problem badges (an edit changes a few; a large flow has many)."""
        self.run_method("patchBadges", badges, removed)

    def set_highlight(self, node_ids: list[str]) -> None:
        self.run_method("setHighlight", node_ids)

    def set_path(self, node_ids: list[str]) -> None:
        self.run_method("setPath", node_ids)

    def select_nodes(self, node_ids: list[str]) -> None:
        self.run_method("selectNodes", node_ids)

    def move_nodes(self, positions: dict[str, dict], fit: bool = False) -> None:
        """Move steps to {id: {x, y}} in place (nothing else about them changed), then fit if asked."""
        self.run_method("moveNodes", positions, fit)

    def fit_view(self) -> None:
        """The whole flow if it is readable so; else the selection or the start step, readable."""
        self.run_method("fitView")

    def focus_node(self, node_id: str) -> None:
        """Select one step and centre the view on it at a readable zoom (a search result)."""
        self.run_method("focusNode", node_id)

    def zoom(self, factor: float) -> None:
        self.run_method("zoomBy", factor)

    def drop_at_centre(self, step_type: str) -> None:
        """Add a step in the middle of the visible canvas (palette click instead of drag)."""
        self.run_method("dropAtCentre", step_type)


# --- what the canvas draws -----------------------------------------------------------------

BRANCH_LABELS = {"next": "next", "timeout": "no input", "invalid": "invalid", "error": "error",
                 "no-answer": "not answered"}


def branch_label(branch: str) -> str:
    """An output's plain label: keys are pressed, other outputs (open, closed, a split's cases) keep their name."""
    if branch in BRANCH_LABELS:
        return BRANCH_LABELS[branch]
    return f"press {branch}" if DIGIT_BRANCH.match(branch) else branch


def snippet(data: dict, limit: int = SNIPPET_MAX) -> str:
    """A short line that tells two steps of the same kind apart."""
    spec = step_of(data)
    text: Any = data.get("text")
    if spec is None:
        pass
    elif spec.is_menu:
        prompt = data.get("prompt") or []
        text = next((p.get("text") for p in prompt if isinstance(p, dict) and p.get("text")), "")
    elif spec.dials:
        numbers = data.get("numbers") or []
        text = ", ".join(str(n) for n in numbers) if isinstance(numbers, list) else ""
    elif spec.jumps:
        text = f"→ {data['target']}" if data.get("target") else ""
    elif spec.text is None and spec.attr("length") is not None:  # a pause: how long
        length = (data.get("attrs") or {}).get("length", spec.default("length"))
        text = f"{length} s of silence"
    if not isinstance(text, str):
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def search_label(graph: nx.DiGraph, node: str) -> str:
    """What the editor's search box matches and shows for a step: its id, kind and text."""
    data = graph.nodes[node]
    spec = STEPS.get(data.get("type", ""))
    parts = [node, spec.label if spec else str(data.get("type")), snippet(data, SEARCH_TEXT_MAX)]
    return " · ".join(p for p in parts if p)


def node_view(graph: nx.DiGraph, node: str) -> dict:
    data = graph.nodes[node]
    spec = STEPS.get(data.get("type", ""))
    outputs = branches_of(data)
    used = [b for _, _, d in graph.out_edges(node, data=True) for b in edge_branches(d)]
    outputs += [b for b in dict.fromkeys(used) if b not in outputs]  # keep odd connections visible
    return {
        "id": node,
        "type": "step",
        "position": position_of(data),
        # an estimate until the browser measures it: lets the canvas skip drawing steps out of view
        "dimensions": {"width": NODE_WIDTH, "height": NODE_BASE_HEIGHT + OUTPUT_HEIGHT * len(outputs)},
        "data": {
            "type": data.get("type") or "?",
            "label": spec.label if spec else f"Unknown step {data.get('type')!r}",
            "icon": spec.icon if spec else "help_outline",
            "snippet": snippet(data),
            "start": graph.graph.get("start") == node,
            "outputs": [{"id": b, "label": branch_label(b)} for b in outputs],
            "jump": is_jump(data),  # a hidden output for the dashed "goes to" line
        },
    }


def position_of(data: dict) -> dict:
    """Where the canvas draws a step: its x and y (0 for what is not a number)."""
    return {"x": _number(data.get("x")), "y": _number(data.get("y"))}


def edge_id(source: str, branch: str) -> str:
    return f"e|{source}|{branch}"


def edge_views(graph: nx.DiGraph, sources: Iterable[str] | None = None) -> list[dict]:
    """The canvas's connections: one per branch (of every step, or of ``sources`` only)."""
    out = []
    edges = graph.edges(data=True) if sources is None else graph.out_edges(
        [s for s in sources if s in graph], data=True)
    for source, target, data in edges:
        for branch in edge_branches(data):
            out.append({
                "id": edge_id(source, branch),
                "source": source,
                "target": target,
                "sourceHandle": branch,
                "targetHandle": "in",
                # no edge label: the output it starts from is labelled on the step (and labels are slow to lay out)
                "data": {"source": source, "branch": branch},
            })
    for source in (graph.nodes if sources is None else [s for s in sources if s in graph]):
        data = graph.nodes[source]
        target = data.get("target")
        if is_jump(data) and isinstance(target, str) and target in graph and target != source:
            out.append({  # where a Go to jumps: drawn, not editable here (set in its properties)
                "id": f"j|{source}", "source": source, "target": target, "sourceHandle": "jump",
                "targetHandle": "in", "selectable": False, "deletable": False, "focusable": False,
                "data": {"source": source, "branch": None, "jump": True},
            })
    return out


def graph_view(graph: nx.DiGraph, only: Iterable[str] | None = None) -> tuple[dict[str, dict], dict[str, dict]]:
    """(nodes by id, edges by id) as the canvas draws them; ``only`` some steps and their outgoing edges."""
    wanted = graph.nodes if only is None else [n for n in only if n in graph]
    nodes = {n: node_view(graph, n) for n in wanted if graph.nodes[n]}
    edges = {e["id"]: e for e in edge_views(graph, None if only is None else nodes)
             if graph.nodes[e["source"]] and graph.nodes[e["target"]]}
    return nodes, edges


def _number(value: Any) -> float:
    """A coordinate: 0 for what is not a finite number ("nan", "1e999" in a hand-made file would reach the
    browser as NaN or Infinity, which its JSON cannot read: the whole canvas would stay blank)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0
