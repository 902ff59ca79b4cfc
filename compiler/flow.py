"""The flow model: networkx node-link JSON (format 1) to a DiGraph and back.

A flow is a ``networkx.DiGraph``; node attributes are the step's fields
(``type``, ``text``, ``attrs``, ``prompt``, ``numbers``, ``x``/``y`` …), edge
attributes hold ``branch`` (absent means ``next``). Unknown keys are kept.
"""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path
from typing import Any

import networkx as nx

from compiler.catalogue import is_jump
from compiler.errors import CompilerError

FORMAT = 1
MAX_FLOW_BYTES = 20 * 1024 * 1024


class FlowError(CompilerError):
    """A file that cannot be read as a flow; the message says what and where."""


def edge_branches(edge_data: dict) -> list[str]:
    """Branches one connection carries: ``branch`` (default ``next``) plus any in ``also``.

    A DiGraph holds one edge per (source, target) pair, so "press 1 or 2 → sales"
    is one edge with ``branch: "1"`` and ``also: ["2"]``.
    """
    branch = edge_data.get("branch")
    first = "next" if branch is None or branch == "" else str(branch)  # a menu key written as the number 0 is "0"
    return [first, *(str(b) for b in _as_list(edge_data.get("also")))]


_NODE_LINK_KEYS = {"directed", "multigraph", "graph", "nodes", "edges", "links"}
TOP_LEVEL_EXTRA = "_file_keys"  # graph key holding unknown top-level keys of the file, restored on save


def from_data(data: Any, where: str = "flow") -> nx.DiGraph:
    """Build a flow graph from parsed node-link JSON, refusing what is not a flow.

    Two connections between the same pair of steps (a DiGraph holds one) are
    merged into one edge carrying both branches (``also``), so none is lost.
    """
    if not isinstance(data, dict):
        raise FlowError(f"{where}: not a flow: expected a JSON object, found {type(data).__name__}")
    nodes = data.get("nodes")
    edges = data.get("edges", data.get("links", []))
    if not isinstance(nodes, list):
        raise FlowError(f"{where}: not a flow: there is no 'nodes' list")
    if not isinstance(edges, list):
        raise FlowError(f"{where}: not a flow: 'edges' is not a list")
    if not data.get("directed", True) or data.get("multigraph", False):
        raise FlowError(f"{where}: not a flow: a flow is a directed graph without parallel edges")
    graph_data = data.get("graph", {})
    if not isinstance(graph_data, dict):
        raise FlowError(f"{where}: graph: must be an object with id, name and start, "
                        f"found {type(graph_data).__name__}")
    fmt = graph_data.get("format", FORMAT)
    if fmt != FORMAT:
        raise FlowError(f"{where}: graph: format: version {fmt!r} is not supported (this tool reads {FORMAT})")
    seen_ids: dict[str, int] = {}
    for i, n in enumerate(nodes):
        if not isinstance(n, dict) or "id" not in n:
            raise FlowError(f"{where}: nodes[{i}]: every step needs an 'id'")
        if isinstance(n["id"], bool) or not isinstance(n["id"], (str, int)):
            raise FlowError(f"{where}: nodes[{i}]: id {n['id']!r} must be text")
        nid = str(n["id"])
        if nid in seen_ids:
            raise FlowError(f"{where}: nodes[{i}]: id {nid!r} is already used by nodes[{seen_ids[nid]}]; "
                            "every step needs its own id")
        seen_ids[nid] = i
    merged: dict[tuple[str, str], dict] = {}
    for i, e in enumerate(edges):
        if not isinstance(e, dict) or "source" not in e or "target" not in e:
            raise FlowError(f"{where}: edges[{i}]: every connection needs a 'source' and a 'target'")
        for end in ("source", "target"):
            if isinstance(e[end], bool) or not isinstance(e[end], (str, int)):
                raise FlowError(f"{where}: edges[{i}]: {end} {e[end]!r} must be a step id")
        key = (str(e["source"]), str(e["target"]))
        edge = dict(e, source=key[0], target=key[1])
        if key in merged:
            first = merged[key]
            extra = [b for b in edge_branches(edge) if b not in edge_branches(first)]
            if extra:
                first["also"] = [*_as_list(first.get("also")), *extra]
            continue
        merged[key] = edge
    extra_top = {k: v for k, v in data.items() if k not in _NODE_LINK_KEYS}
    data = {"directed": True, "multigraph": False, "graph": graph_data,
            "nodes": [dict(n, id=str(n["id"])) for n in nodes], "edges": list(merged.values())}
    graph = nx.node_link_graph(data, directed=True, multigraph=False, edges="edges")
    graph.graph.setdefault("format", FORMAT)
    if extra_top:
        graph.graph[TOP_LEVEL_EXTRA] = extra_top
    return graph


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def to_data(graph: nx.DiGraph) -> dict:
    """Node-link data of a flow; the graph is not changed."""
    data = nx.node_link_data(graph, edges="edges")
    extra_top = data["graph"].get(TOP_LEVEL_EXTRA)
    if isinstance(extra_top, dict):
        data["graph"] = {k: v for k, v in data["graph"].items() if k != TOP_LEVEL_EXTRA}
        for key, value in extra_top.items():
            data.setdefault(key, value)
    return data


MAX_WHOLE = 2**53  # whole numbers past this cannot reach the browser's canvas (JSON to the page fails)


def _whole(text: str) -> int:
    value = int(text)
    if abs(value) > MAX_WHOLE:
        raise FlowError(f"the number {text[:24]}{'…' if len(text) > 24 else ''} is too large "
                             f"(at most {MAX_WHOLE:,})")
    return value


def _real(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise FlowError(f"the number {text[:24]} is too large")
    return value


def _constant(name: str) -> float:
    raise FlowError(f"{name} is not a number a flow can hold")


def loads(text: str | bytes, where: str = "flow") -> nx.DiGraph:
    """A flow from JSON text; FlowError (one line) for anything that is not a flow the designer can show."""
    try:
        data = json.loads(text, parse_int=_whole, parse_float=_real, parse_constant=_constant)
    except FlowError as exc:  # from the number hooks: a number the designer's pages could not show
        raise FlowError(f"{where}: not a flow: {exc}") from None
    except RecursionError:
        raise FlowError(f"{where}: not a flow: the JSON is nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        at = f" at line {line}" if line else ""
        raise FlowError(f"{where}: not valid JSON{at}: {getattr(exc, 'msg', exc)}") from None
    except ValueError:  # what json.loads refuses besides syntax: a number of more than 4,300 digits
        raise FlowError(f"{where}: not a flow: a number in it is too long to read (over 4,300 digits)") from None
    return from_data(data, where)


def dumps(graph: nx.DiGraph) -> str:
    """Stable text: keys sorted, two-space indent, one trailing newline."""
    return json.dumps(to_data(graph), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_PLACEHOLDER = f"flexml-steps-{uuid.uuid4().hex}"  # stands for the nodes' (or edges') text while the rest is written


class FlowText:
    """``dumps(graph)`` of a flow edited a few steps at a time, without writing every step again.

    Each step's text (and that of its outgoing connections) is kept; ``dumps(graph, changed)``
    writes again only the ``changed`` steps' (None: every step) and joins the rest, giving
    exactly what ``dumps`` gives. ``changed`` must name every step whose fields or outgoing
    connections the edit changed since the last call; adding or removing steps needs None (as does
    another graph than last time).
    """

    def __init__(self) -> None:
        self._graph: nx.DiGraph | None = None
        self._nodes: dict[str, str] = {}
        self._edges: dict[str, str] = {}

    def dumps(self, graph: nx.DiGraph, changed: set[str] | None = None) -> str:
        if changed is None or graph is not self._graph or self._nodes.keys() != graph._node.keys():
            self._graph = graph
            self._nodes, self._edges = {}, {}
        else:
            for node in changed:
                self._nodes.pop(node, None)
                self._edges.pop(node, None)
        nodes, edges = [], []
        for node, data in graph._node.items():  # raw adjacency: no view per step
            text = self._nodes.get(node)
            if text is None:
                text = self._nodes[node] = _item({**data, "id": node})
            nodes.append(text)
            out = self._edges.get(node)
            if out is None:
                out = self._edges[node] = ",\n".join(
                    _item({**d, "source": node, "target": t}) for t, d in graph._succ[node].items())
            if out:
                edges.append(out)
        empty = nx.DiGraph()
        empty.graph = graph.graph
        top = to_data(empty)  # the file's other keys, as dumps writes them
        top["nodes"] = [_PLACEHOLDER] if nodes else []
        top["edges"] = [_PLACEHOLDER] if edges else []
        text = json.dumps(top, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        mark = f'    "{_PLACEHOLDER}"'
        if edges:
            text = text.replace(mark, ",\n".join(edges), 1)
        if nodes:
            text = text.replace(mark, ",\n".join(nodes), 1)
        return text


def _item(value: dict) -> str:
    """One element of the file's nodes or edges list, indented as ``dumps`` writes it there."""
    return "    " + json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).replace("\n", "\n    ")


def load(path: str | Path) -> nx.DiGraph:
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FLOW_BYTES:
            raise FlowError(f"{p}: file is {size:,} bytes; a flow file may be at most {MAX_FLOW_BYTES:,}")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise FlowError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise FlowError(f"{p}: is a folder, not a flow file") from None
    except PermissionError:
        raise FlowError(f"{p}: permission denied") from None
    return loads(raw, str(p))


def save(graph: nx.DiGraph, path: str | Path) -> None:
    Path(path).write_text(dumps(graph), encoding="utf-8")


def flow_id(graph: nx.DiGraph) -> str:
    return str(graph.graph.get("id") or "flow")


def start_of(graph: nx.DiGraph) -> str | None:
    start = graph.graph.get("start")
    return None if start is None else str(start)


def branch_targets(graph: nx.DiGraph, node: str) -> list[tuple[str, str]]:
    """(branch, target) for every branch leaving a node, in edge order."""
    return [(b, t) for _, t, d in graph.out_edges(node, data=True) for b in edge_branches(d)]


def branch_table(graph: nx.DiGraph) -> dict[str, dict[str, str]]:
    """node → {branch → target} for every node, in one pass (the compiler's hot path)."""
    # graph.succ wraps each neighbour dict in a view; the raw adjacency is several times faster.
    return {node: {b: t for t, d in nbrs.items() for b in edge_branches(d)} for node, nbrs in graph._succ.items()}


def out_branches(graph: nx.DiGraph, node: str) -> dict[str, str]:
    """branch name → target node for one node's outgoing connections."""
    return dict(branch_targets(graph, node))


def add_branch(graph: nx.DiGraph, source: str, target: str, branch: str = "next") -> None:
    """Connect ``branch`` of ``source`` to ``target``, sharing an existing edge if there is one."""
    if graph.has_edge(source, target):
        data = graph.edges[source, target]
        if branch not in edge_branches(data):
            data["also"] = [*(data.get("also") or []), branch]
        return
    if branch == "next":
        graph.add_edge(source, target)
    else:
        graph.add_edge(source, target, branch=branch)


def remove_branch(graph: nx.DiGraph, source: str, branch: str) -> None:
    """Disconnect one branch of ``source``, keeping the others on a shared edge."""
    for _, target, data in list(graph.out_edges(source, data=True)):
        branches = edge_branches(data)
        if branch not in branches:
            continue
        rest = [b for b in branches if b != branch]
        if not rest:
            graph.remove_edge(source, target)
            continue
        data.pop("also", None)
        if rest[0] == "next":
            data.pop("branch", None)
        else:
            data["branch"] = rest[0]
        if rest[1:]:
            data["also"] = rest[1:]


def reached_from(graph: nx.DiGraph, steps: list[str]) -> set[str]:
    """``steps`` and every step reached from them, by connections and by Go to steps to their targets."""
    seen: set[str] = set()
    todo = list(steps)
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo.extend(graph.successors(n))
        data = graph.nodes[n]
        if is_jump(data) and data.get("target") is not None and str(data["target"]) in graph:
            todo.append(str(data["target"]))
    return seen
