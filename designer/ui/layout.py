"""Layered auto-layout: steps in columns by topological generation, left to right.

Loops (which validation reports) are folded first: the steps of one loop share
a column. Within a column, steps are ordered by the mean row of the steps that
lead to them, so arrows cross less.
"""

from __future__ import annotations

import networkx as nx

from compiler.catalogue import branches_of

COLUMN_GAP = 270  # from one column's left edge to the next (a step is 210 wide)
ROW_GAP = 30  # blank space between two steps in a column
ORIGIN = (40, 40)


NODE_BASE_HEIGHT = 74  # header, snippet and id lines of a drawn step
OUTPUT_HEIGHT = 20  # one line per output


def node_height(data: dict) -> int:
    """Rough on-screen height of a step: header, snippet, one line per output."""
    return NODE_BASE_HEIGHT + OUTPUT_HEIGHT * len(branches_of(data))


def layered_positions(graph: nx.DiGraph) -> dict[str, tuple[int, int]]:
    """node id → (x, y) for every step of the graph."""
    if graph.number_of_nodes() == 0:
        return {}
    condensed = nx.condensation(graph)
    members: dict[int, list[str]] = {c: sorted(condensed.nodes[c]["members"], key=_order(graph))
                                     for c in condensed.nodes}
    columns: list[list[str]] = []
    for generation in nx.topological_generations(condensed):
        column = [n for c in sorted(generation, key=lambda c: _order(graph)(members[c][0])) for n in members[c]]
        columns.append(column)

    row_of: dict[str, float] = {}
    positions: dict[str, tuple[int, int]] = {}
    for col, column in enumerate(columns):
        def barycentre(node: str, index: int) -> tuple[float, int]:
            rows = [row_of[p] for p in graph.predecessors(node) if p in row_of]
            return (sum(rows) / len(rows) if rows else float(index), index)

        ordered = [n for _, n in sorted((barycentre(n, i), n) for i, n in enumerate(column))]
        y = ORIGIN[1]
        for row, node in enumerate(ordered):
            row_of[node] = float(row)
            positions[node] = (ORIGIN[0] + col * COLUMN_GAP, y)
            y += node_height(graph.nodes[node]) + ROW_GAP
    return positions


NODE_WIDTH = 210


def overlapping(graph: nx.DiGraph) -> bool:
    """True when two steps' boxes (estimated) overlap: the drawing would hide steps."""
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


def apply_layout(graph: nx.DiGraph) -> None:
    """Write the layered positions into the nodes' ``x``/``y``."""
    for node, (x, y) in layered_positions(graph).items():
        graph.nodes[node]["x"] = x
        graph.nodes[node]["y"] = y


def _order(graph: nx.DiGraph):
    index = {n: i for i, n in enumerate(graph.nodes)}
    start = graph.graph.get("start")

    def key(node: str) -> tuple[int, int]:
        return (0 if node == start else 1, index[node])
    return key
