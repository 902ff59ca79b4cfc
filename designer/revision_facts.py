"""What a stored revision tells about its calls: the steps each document plays, its menus' routers, its
decisions, the flow drawn, and which documents send the caller on (end in a Redirect).

Read from the revision's bundle (``compiler.bundle``) once and kept (revisions never change): the call
timeline (``designer.calls_timeline``) and the traffic overlay (``designer.traffic``) both map the host's
events (documents served, router answers, decisions) to steps with it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import networkx as nx
from lxml import etree

from compiler import flow as flowfile
from compiler.bundle import BundleError, open_zip, read_manifest
from compiler.catalogue import STEPS
from compiler.compile import Router
from compiler.errors import CompilerError
from designer.store import Store

KEPT = 64  # revisions kept in memory (each a few kilobytes)
MAX_REV_DIGITS = 9  # a revision number longer than this names none (and would not fit the database's integer)


@dataclass(frozen=True)
class RevisionFacts:
    flow_id: str
    rev: str
    graph: nx.DiGraph  # the flow as published in this revision
    steps_of: dict[str, list[str]]  # document → the steps it plays, in order
    routers: dict[str, Router]  # menu step → how its router answers
    decision_types: dict[str, str]  # decision step → its step type (Hours, Split, Set, Dial)
    branches: dict[str, dict[str, str | None]]  # decision step → branch → the document that plays it
    # documents whose last verb sends the caller on (a Redirect, or a Record or Dial with an action): not left there
    goes_on: frozenset[str]
    created_at: float = 0.0
    note: str = ""

    def host_decides(self, node: str) -> bool:
        """A Hours, Split or Set step (the host splices its branch into the answer), not a transfer's outcome."""
        spec = STEPS.get(self.decision_types.get(node, ""))
        return spec is not None and bool(spec.host_decides)

    def branch_document(self, node: str, branch: str | None) -> str | None:
        return self.branches.get(node, {}).get(str(branch)) if branch is not None else None

    def node(self, step: str) -> dict:
        return self.graph.nodes[step] if step in self.graph else {}


_cache: OrderedDict[tuple[str, str, str], RevisionFacts] = OrderedDict()  # (store, flow, rev) → facts
_lock = threading.Lock()


def revision_facts(store: Store, flow_id: str, rev: str) -> RevisionFacts | None:
    """The facts of revision ``rev`` of ``flow_id``; None when the store has no such revision (deleted, or a
    draft's test call) or its bundle cannot be read."""
    key = (store.path, flow_id, str(rev))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    facts = _read(store, flow_id, str(rev))
    if facts is not None:  # a missing revision is asked for again next time
        with _lock:
            _cache[key] = facts
            while len(_cache) > KEPT:
                _cache.popitem(last=False)
    return facts


def _read(store: Store, flow_id: str, rev: str) -> RevisionFacts | None:
    revision = store.get_revision(flow_id, int(rev)) if rev.isdigit() and len(rev) <= MAX_REV_DIGITS else None
    if revision is None:
        return None
    where = f"flow {flow_id} revision {rev}"
    try:
        entries = open_zip(revision.bundle, where)
        manifest = read_manifest(entries["manifest.json"], where)
        graph = flowfile.loads(revision.graph_json, where)
        documents = manifest.get("documents") or {}
        steps_of = {str(name): [str(s) for s in info.get("steps", [])] for name, info in documents.items()}
        goes_on = frozenset(name for name, info in documents.items()
                            if _sends_on(entries.get(str(info.get("path", "")), b"")))
        routers = {str(k): Router.from_json(v) for k, v in (manifest.get("routers") or {}).items()}
        decisions = manifest.get("decisions") or {}
        types = {str(k): str(v.get("type", "")) for k, v in decisions.items()}
        branches = {str(k): {str(b): (None if d is None else str(d)) for b, d in (v.get("branches") or {}).items()}
                    for k, v in decisions.items()}
    except (BundleError, CompilerError, KeyError, TypeError, ValueError, AttributeError):
        return None
    return RevisionFacts(flow_id, rev, graph, steps_of, routers, types, branches, goes_on, revision.created_at,
                         revision.note)


def _sends_on(document: bytes) -> bool:
    """Whether the document's last verb makes the carrier request another URL whatever the caller does: a
    Redirect, or a verb with an action requested once it is over (Record, Dial). A Gather's action is only
    requested with keys: without them the call goes on past it, to the end of the document."""
    try:
        root = etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return False
    verbs = [el for el in root if isinstance(el.tag, str)]
    spec = STEPS.get(verbs[-1].tag) if verbs else None
    if spec is None:
        return False
    return spec.redirects or (bool(verbs[-1].get("action")) and not spec.digit_branches)
