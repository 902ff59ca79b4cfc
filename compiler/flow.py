"""The flow model: networkx node-link JSON (format 1) to a DiGraph and back.

A flow is a ``networkx.DiGraph``; node attributes are the step's fields
(``type``, ``text``, ``attrs``, ``prompt``, ``numbers``, ``x``/``y`` …), edge
attributes hold ``branch`` (absent means ``next``). Unknown keys are kept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx

FORMAT = 1
MAX_FLOW_BYTES = 20 * 1024 * 1024


class FlowError(Exception):
    """A file that cannot be read as a flow; the message says what and where."""


def edge_branches(edge_data: dict) -> list[str]:
    """Branches one connection carries: ``branch`` (default ``next``) plus any in ``also``.

    A DiGraph holds one edge per (source, target) pair, so "press 1 or 2 → sales"
    is one edge with ``branch: "1"`` and ``also: ["2"]``.
    """
    first = str(edge_data.get("branch") or "next")
    also = edge_data.get("also") or []
    if not isinstance(also, list):
        also = [also]
    return [first, *(str(b) for b in also)]


def from_data(data: Any, where: str = "flow") -> nx.DiGraph:
    """Build a flow graph from parsed node-link JSON, refusing what is not a flow."""
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
    fmt = (data.get("graph") or {}).get("format", FORMAT)
    if fmt != FORMAT:
        raise FlowError(f"{where}: graph: format: version {fmt!r} is not supported (this tool reads {FORMAT})")
    for i, n in enumerate(nodes):
        if not isinstance(n, dict) or "id" not in n:
            raise FlowError(f"{where}: nodes[{i}]: every step needs an 'id'")
        if not isinstance(n["id"], (str, int)):
            raise FlowError(f"{where}: nodes[{i}]: id {n['id']!r} must be text")
    for i, e in enumerate(edges):
        if not isinstance(e, dict) or "source" not in e or "target" not in e:
            raise FlowError(f"{where}: edges[{i}]: every connection needs a 'source' and a 'target'")
    data = dict(data, nodes=[dict(n, id=str(n["id"])) for n in nodes],
                edges=[dict(e, source=str(e["source"]), target=str(e["target"])) for e in edges])
    data.pop("links", None)
    graph = nx.node_link_graph(data, directed=True, multigraph=False, edges="edges")
    graph.graph.setdefault("format", FORMAT)
    return graph


def to_data(graph: nx.DiGraph) -> dict:
    return nx.node_link_data(graph, edges="edges")


def loads(text: str | bytes, where: str = "flow") -> nx.DiGraph:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        at = f" at line {line}" if line else ""
        raise FlowError(f"{where}: not valid JSON{at}: {getattr(exc, 'msg', exc)}") from None
    return from_data(data, where)


def dumps(graph: nx.DiGraph) -> str:
    """Stable text: keys sorted, two-space indent, one trailing newline."""
    return json.dumps(to_data(graph), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


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
