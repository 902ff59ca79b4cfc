"""Silent-caller loops: a menu's no-input path that leads straight back to the same menu.

A caller who says nothing takes a menu's no-input path (``timeout``); when that path only
speaks, pauses or jumps and then reaches the same menu again, with no step that could take
the call elsewhere (a step with more than one connected output, or one that ends the call), a
silent caller goes round forever. ``silent_loops`` returns (menu, message) for each such menu;
``compiler.validate`` reports each as a warning on the menu's ``branch timeout``.
"""

from __future__ import annotations

import networkx as nx

from compiler.catalogue import step_of
from compiler.flow import edge_branches

MAX_WALK = 200  # steps followed along one no-input path before giving up


def _outputs(graph: nx.DiGraph, node: str) -> dict[str, str]:
    return {b: str(t) for t, data in graph.succ[node].items() for b in edge_branches(data)}


def _silent_path(graph: nx.DiGraph, menu: str) -> list[str] | None:
    """The steps from the menu's no-input path back to the menu, or None when it does not come back unchanged."""
    current = _outputs(graph, menu).get("timeout")
    path: list[str] = []
    while current is not None and current in graph and len(path) < MAX_WALK:
        if current == menu:
            return path
        if current in path:
            return None  # a loop elsewhere: not this menu's
        path.append(current)
        data = graph.nodes[current]
        spec = step_of(data)
        if spec is not None and spec.jumps:
            target = data.get("target")
            current = str(target) if target else None
            continue
        if spec is None or spec.is_menu or spec.ends_path:
            return None  # another menu waits for its own input; a hang-up ends the call
        outputs = _outputs(graph, current)
        if len(outputs) != 1 or "next" not in outputs:
            return None  # a choice (a decision, an error path) may take the call elsewhere
        current = outputs["next"]
    return None


def silent_loops(graph: nx.DiGraph) -> list[tuple[str, str]]:
    """(menu, message) for each menu whose no-input path comes straight back to it: a silent caller loops."""
    out: list[tuple[str, str]] = []
    for node, data in graph.nodes(data=True):
        spec = step_of(data)
        if spec is None or not spec.is_menu:
            continue
        path = _silent_path(graph, str(node))
        if path is not None:
            via = " → ".join(path) if path else "itself"
            out.append((str(node), f"a caller who stays silent comes back to menu {node!r} through {via} with "
                                   "no limit, so the call never ends; let the no-input path end the call "
                                   "(for example: ask once more with another menu whose no-input path says "
                                   "goodbye or takes a message)"))
    return out
