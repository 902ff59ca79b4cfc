"""Splitting a flow into documents.

A document starts at the start step, every menu (it is asked again on a wrong
key), every menu branch target, every ``error`` target, every Goto target and
every step reached from two places. A decision the host takes (Hours, Split, Set,
and a Transfer with a connected ``no-answer`` output) ends its document's path,
and each of its branch targets starts a document; so does a Record (its action is the host's
``recorded`` route, which keeps the recording and answers with the document that follows). Everything else follows inline. When the
path runs into another document, that document is copied in when it is short
(``COPY_LIMIT`` verbs), otherwise the path ends in a Redirect to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from compiler.catalogue import STEPS
from compiler.flow import edge_branches, start_of

COPY_LIMIT = 8  # verbs; a copy costs a few lines of XML, a Redirect a caller's round trip
# step types by what the planner needs to know of them (sets: the planner looks one up per step)
_MENUS = frozenset(t for t, s in STEPS.items() if s.is_menu)
_JUMPS = frozenset(t for t, s in STEPS.items() if s.jumps)
_DECIDES = frozenset(t for t, s in STEPS.items() if s.host_decides)
_OUTCOMES = {t: s.outcome_branch for t, s in STEPS.items() if s.outcome_branch}
_RECORDS = frozenset(t for t, s in STEPS.items() if s.host_records)


def records_for_host(data: dict) -> bool:
    """Whether a step's action goes to the host's ``recorded`` route (a Record that is not a background
    recording of the whole call): its document ends there, and the host answers with what follows."""
    type_ = data.get("type")
    if type_ not in _RECORDS:
        return False
    attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
    session = attrs.get("recordSession")
    return not (session is True or str(session).strip().lower() == "true")


def ends_at_decision(data: dict, branches: dict[str, str]) -> bool:
    """Whether a step's path ends for the host to decide: a decision step, or a step whose action
    outcome picks a connected branch (a Transfer with ``no-answer`` connected)."""
    type_ = data.get("type")
    return type_ in _DECIDES or (type_ in _OUTCOMES and _OUTCOMES[type_] in branches)


@dataclass
class Plan:
    roots: list[str]  # document names, which are the node ids they start at
    root_set: set[str]
    cont: dict[str, str | None]  # node → the step its path continues with (next, or a menu's timeout)
    copy: dict[str, bool]  # node → True when its continuation (a document) is copied inline
    # node → branch → target, for steps with more than a plain `next` (absent: see ``cont``)
    branches: dict[str, dict[str, str]] = field(default_factory=dict)


_NO_BRANCHES: dict[str, str] = {}


def make_plan(graph: nx.DiGraph) -> Plan:
    # One pass over the raw adjacency (views cost a lookup per access on large flows). Only steps
    # with more than a plain `next` keep a branch table; the rest need just their continuation.
    succ, pred, node_data = graph._succ, graph._pred, graph._node
    start = start_of(graph)
    roots: set[str] = {start} if start is not None else set()
    cont: dict[str, str | None] = {}
    branches: dict[str, dict[str, str]] = {}
    for node, nbrs in succ.items():
        data = node_data[node]
        type_ = data.get("type")
        # a decision the host takes, or a Record whose recorded route answers with what follows: the step ends
        # its document and each branch starts one
        records = type_ in _RECORDS and records_for_host(data)
        if records or type_ in _DECIDES or type_ in _OUTCOMES:
            table = {b: t for t, d in nbrs.items() for b in edge_branches(d)} if nbrs else _NO_BRANCHES
            if records or ends_at_decision(data, table):
                branches[node] = table
                cont[node] = None
                roots.update(table.values())
                if len(pred[node]) >= 2:
                    roots.add(node)
                continue
        if len(nbrs) == 1 and type_ not in _MENUS:
            ((target, edata),) = nbrs.items()
            if not edata.get("also") and edata.get("branch") in (None, "", "next"):
                cont[node] = target
                if len(pred[node]) >= 2:
                    roots.add(node)
                if type_ in _JUMPS and data.get("target") is not None:
                    roots.add(str(data["target"]))
                continue
        table = {b: t for t, d in nbrs.items() for b in edge_branches(d)} if nbrs else _NO_BRANCHES
        if table:
            branches[node] = table
        if type_ in _MENUS:
            roots.add(node)
            roots.update(t for b, t in table.items() if b != "next")
            cont[node] = table.get("timeout")
        else:
            cont[node] = table.get("next")
            if type_ in _JUMPS and data.get("target") is not None:
                roots.add(str(data["target"]))
        error = table.get("error")
        if error is not None:
            roots.add(error)
        if len(pred[node]) >= 2:
            roots.add(node)

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
    reachable_roots = _reachable_roots(graph, start, roots, branches, cont)
    return Plan(roots=sorted(reachable_roots), root_set=reachable_roots, cont=cont, copy=copy,
                branches=branches)


def _reachable_roots(graph: nx.DiGraph, start: str | None, roots: set[str],
                     branches: dict[str, dict[str, str]], cont: dict[str, str | None]) -> set[str]:
    """Roots a call can reach; unreachable steps get no document."""
    if start is None:
        return set()
    node_data = graph._node
    seen: set[str] = set()
    todo = [start]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        table = branches.get(node)
        if table is not None:
            todo.extend(table.values())
        elif cont[node] is not None:
            todo.append(cont[node])
        data = node_data[node]
        if data.get("type") in _JUMPS and data.get("target") is not None:
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
