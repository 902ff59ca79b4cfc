"""Splitting a flow into documents.

A document starts at the start step, every menu (it is asked again on a wrong
key), every menu branch target, every ``error`` target, every Goto target and
every step reached from two places. Everything else follows inline. When the
path runs into another document, that document is copied in when it is short
(``COPY_LIMIT`` verbs), otherwise the path ends in a Redirect to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from .flow import branch_table, start_of

COPY_LIMIT = 8  # verbs; a copy costs a few lines of XML, a Redirect a caller's round trip


@dataclass
class Plan:
    roots: list[str]  # document names, which are the node ids they start at
    root_set: set[str]
    cont: dict[str, str | None]  # node → the step its path continues with (next, or a menu's timeout)
    copy: dict[str, bool]  # node → True when its continuation (a document) is copied inline
    branches: dict[str, dict[str, str]] = field(default_factory=dict)  # node → branch → target


def make_plan(graph: nx.DiGraph) -> Plan:
    branches = branch_table(graph)
    pred = graph._pred  # raw adjacency: in-degree without building a view per node
    start = start_of(graph)
    roots: set[str] = {start} if start is not None else set()
    for node, data in graph.nodes(data=True):
        type_ = data.get("type")
        if type_ == "Gather":
            roots.add(node)
            roots.update(t for b, t in branches[node].items() if b != "next")
        elif type_ == "Goto" and data.get("target") is not None:
            roots.add(str(data["target"]))
        error = branches[node].get("error")
        if error is not None:
            roots.add(error)
        if len(pred[node]) >= 2:
            roots.add(node)

    cont: dict[str, str | None] = {}
    for node, data in graph.nodes(data=True):
        key = "timeout" if data.get("type") == "Gather" else "next"
        cont[node] = branches[node].get(key)

    # Length of the document that starts at each node, in reverse topological order.
    length: dict[str, int] = {}
    copy: dict[str, bool] = {}
    for node in reversed(list(nx.topological_sort(graph))):
        nxt = cont[node]
        if nxt is None:
            length[node] = 1
        elif nxt not in roots or length[nxt] <= COPY_LIMIT:
            copy[node] = nxt in roots
            length[node] = 1 + length[nxt]
        else:
            copy[node] = False
            length[node] = 2  # the verb and a Redirect
    reachable_roots = _reachable_roots(graph, start, roots, branches)
    return Plan(roots=sorted(reachable_roots), root_set=reachable_roots, cont=cont, copy=copy,
                branches=branches)


def _reachable_roots(graph: nx.DiGraph, start: str | None, roots: set[str],
                     branches: dict[str, dict[str, str]]) -> set[str]:
    """Roots a call can reach; unreachable steps get no document."""
    if start is None:
        return set()
    seen: set[str] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(branches[node].values())
        data = graph.nodes[node]
        if data.get("type") == "Goto" and data.get("target") is not None:
            todo.append(str(data["target"]))
    return roots & seen


def walk(plan: Plan, root: str) -> list[str]:
    """Steps in the document starting at ``root``; a trailing ``None`` marks a Redirect to the next."""
    steps = [root]
    node = root
    while True:
        nxt = plan.cont.get(node)
        if nxt is None:
            return steps
        if nxt in plan.root_set and not plan.copy.get(node, False):
            return steps
        steps.append(nxt)
        node = nxt
