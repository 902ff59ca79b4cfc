"""Canvas positions for an imported flow: a layered layout (y by depth, x by column).

Depth is the step's topological generation (networkx), so every connection
points downwards; within a layer steps are ordered by where their
predecessors sit (the next / no-input path first), then by the order they
were imported, and each goes under its predecessors where the column is free,
so a chain of steps stays a straight line.
"""

from __future__ import annotations

import networkx as nx

X0, Y0 = 40, 40
COLUMN = 260
ROW = 140


def layered_positions(graph: nx.DiGraph, start: str | None = None) -> dict[str, tuple[int, int]]:
    order = {n: i for i, n in enumerate(graph.nodes)}
    if start in order:
        order[start] = -1
    column: dict[str, float] = {}
    positions: dict[str, tuple[int, int]] = {}
    for depth, layer in enumerate(nx.topological_generations(graph)):
        def key(n: str) -> tuple[float, int, int]:
            parents = [column[p] for p in graph.predecessors(n) if p in column]
            main = any(graph.edges[p, n].get("branch", "next") in ("next", "timeout") for p in graph.predecessors(n))
            return (sum(parents) / len(parents) if parents else -1.0, 0 if main else 1, order[n])

        last = -1
        for node in sorted(layer, key=key):
            parents = [column[p] for p in graph.predecessors(node) if p in column]
            wanted = round(sum(parents) / len(parents)) if parents else 0
            col = max(wanted, last + 1)  # under its parents where there is room, else to the right
            last = column[node] = col
            positions[node] = (X0 + COLUMN * col, Y0 + ROW * depth)
    return positions


def apply_layout(graph: nx.DiGraph, start: str | None = None) -> None:
    for node, (x, y) in layered_positions(graph, start).items():
        graph.nodes[node]["x"] = x
        graph.nodes[node]["y"] = y
