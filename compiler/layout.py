"""The one auto-layout of a flow's canvas positions: layered, top to bottom.

Used by the importer (an imported flow has no positions) and by the editor's
"Tidy up" (and when a flow opens with steps hidden under others).

Depth is the step's topological generation (networkx), so every connection
points downwards; the steps of a loop (which validation reports) are folded
first and share a row. Within a row steps are ordered by where their
predecessors sit (the next / no-input path first), then by the order they
were added, and each goes under its predecessors where the column is free,
so a chain of steps stays a straight line. A row is as tall as its tallest
step, so no step hides another.
"""

from __future__ import annotations

import networkx as nx

from compiler.catalogue import branches_of
from compiler.flow import edge_branches

X0, Y0 = 40, 40  # where the first row's first step sits
NODE_WIDTH = 210  # a drawn step's width on the canvas
NODE_BASE_HEIGHT = 74  # header, snippet and id lines of a drawn step
OUTPUT_HEIGHT = 20  # one line per output
COLUMN_GAP = 260  # from one column's left edge to the next
ROW_GAP = 46  # blank space between the tallest step of a row and the next row
_MAIN_PATH = ("next", "timeout")


def node_height(data: dict) -> int:
    """Rough on-screen height of a step: header, snippet, one line per output."""
    return NODE_BASE_HEIGHT + OUTPUT_HEIGHT * len(branches_of(data))


def layered_positions(graph: nx.DiGraph, start: str | None = None) -> dict[str, tuple[int, int]]:
    """node id → (x, y) for every step; ``start`` (default: the flow's start step) comes first."""
    if graph.number_of_nodes() == 0:
        return {}
    start = start if start is not None else graph.graph.get("start")
    order = {n: i for i, n in enumerate(graph.nodes)}
    if start in order:
        order[start] = -1
    condensed = nx.condensation(graph)
    column: dict[str, float] = {}
    positions: dict[str, tuple[int, int]] = {}
    y = Y0
    for generation in nx.topological_generations(condensed):
        row = [n for c in generation for n in condensed.nodes[c]["members"]]

        def key(n: str) -> tuple[float, int, int]:
            parents = [column[p] for p in graph.predecessors(n) if p in column]
            main = any(b in _MAIN_PATH for p in graph.predecessors(n) for b in edge_branches(graph.edges[p, n]))
            return (sum(parents) / len(parents) if parents else -1.0, 0 if main else 1, order[n])

        last = -1
        for node in sorted(row, key=key):
            parents = [column[p] for p in graph.predecessors(node) if p in column]
            wanted = round(sum(parents) / len(parents)) if parents else 0
            col = max(wanted, last + 1)  # under its parents where there is room, else to the right
            last = column[node] = col
            positions[node] = (X0 + COLUMN_GAP * col, y)
        y += max(node_height(graph.nodes[n]) for n in row) + ROW_GAP
    return positions


def apply_layout(graph: nx.DiGraph, start: str | None = None) -> None:
    """Write the layered positions into the nodes' ``x``/``y``."""
    for node, (x, y) in layered_positions(graph, start).items():
        graph.nodes[node]["x"] = x
        graph.nodes[node]["y"] = y


def layout_moves(graph: nx.DiGraph, start: str | None = None) -> dict[str, tuple[int, int]]:
    """The layered positions of the steps that are not there yet (a step with no data, a connection's
    missing end, gets none): what "Tidy up" changes, and all it changes."""
    return {node: (x, y) for node, (x, y) in layered_positions(graph, start).items()
            if graph.nodes[node] and (graph.nodes[node].get("x"), graph.nodes[node].get("y")) != (x, y)}


def overlapping(graph: nx.DiGraph) -> bool:
    """True when two steps' boxes (estimated) overlap, or a step has no position: the drawing would hide steps."""
    boxes = []
    for _, data in graph.nodes(data=True):
        if not data:
            continue
        try:
            x, y = float(data["x"]), float(data["y"])
        except (KeyError, TypeError, ValueError):
            return True
        boxes.append((x, y, x + NODE_WIDTH, y + node_height(data)))
    boxes.sort()
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        for a1, b1, a2, b2 in boxes[i + 1:]:
            if a1 >= x2:
                break
            if b1 < y2 and y1 < b2:
                return True
    return False
