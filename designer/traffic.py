"""Traffic on the canvas: for one revision and period, how many times callers reached each step, how many calls
ended there, how often each menu's options, no input and invalid keys were taken, and how much each connection
was used.

The database does the counting (``Store.traffic``: GROUP BY over the call events, never one event at a time);
this module maps those counts to steps with the revision's facts (``designer.revision_facts``):

- a document served (or a router's answer, or a decision's branch spliced into an answer) plays its steps;
- at a menu, callers who pressed keys reach the router (its events are counted); the others either gave no
  input and went on with the steps after the menu in the same document, or hung up while it waited;
- a call ended at the last step of its last answer, except when that answer would have sent the caller on (it
  ends in a Redirect) and no request came: then the caller hung up at the answer's first menu.

"Reached" counts visits: a caller who goes round a menu three times reached it three times.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from graphlib import TopologicalSorter

from compiler.flow import edge_branches
from designer.calls_timeline import END_OF_CALL, INVALID, NO_INPUT, OPTION, ended_at, keys_outcome
from designer.revision_facts import RevisionFacts
from designer.store import TrafficCounts

NO_INPUT_BRANCH, INVALID_BRANCH, NEXT = "timeout", "invalid", "next"


@dataclass
class StepTraffic:
    reached: int = 0
    ended: int = 0


@dataclass
class MenuTraffic:
    options: dict[str, int] = field(default_factory=dict)  # key pressed → times
    no_input: int = 0
    invalid: int = 0


@dataclass
class Traffic:
    flow_id: str
    rev: str
    since: float
    until: float
    calls: int = 0
    errors: int = 0  # requests the host answered with an apology
    steps: dict[str, StepTraffic] = field(default_factory=dict)
    edges: dict[tuple[str, str], int] = field(default_factory=dict)  # (step, branch) → times taken
    menus: dict[str, MenuTraffic] = field(default_factory=dict)

    @property
    def busiest(self) -> int:
        """The most any step was reached (what connection widths are scaled to)."""
        return max((s.reached for s in self.steps.values()), default=0)


def traffic(facts: RevisionFacts, counts: TrafficCounts, since: float, until: float) -> Traffic:
    """The traffic of revision ``facts`` from the store's counts of its events in [since, until)."""
    out = Traffic(facts.flow_id, facts.rev, since, until, calls=counts.calls)
    served: Counter[str] = Counter()
    keyed: Counter[str] = Counter()
    edges: Counter[tuple[str, str]] = Counter()
    menus = {m: MenuTraffic() for m in facts.routers}

    def decided(node: str, branch: str, n: int) -> None:  # a decision's output taken; a branch spliced in played
        edges[(node, branch)] += n
        doc = facts.branch_document(node, branch) if facts.host_decides(node) else None
        if doc in facts.steps_of:
            served[doc] += n

    for c in counts.counts:
        if c.kind == "document":
            served[c.target] += c.count
        elif c.kind == "router" and c.target in facts.routers:
            keyed[c.target] += c.count
            _count_keys(facts, menus[c.target], edges, c.target, c.digits, c.count)
            if c.answer in facts.steps_of:
                served[c.answer] += c.count
        elif c.kind == "router" and c.target in facts.decision_types and not facts.host_decides(c.target):
            if c.answer in facts.steps_of:  # a transfer's outcome: the branch's document
                served[c.answer] += c.count
        elif c.kind == "recording" and c.answer is not None:  # a Record step's action answered the rest
            keyed[c.target] += c.count  # (the steps after the Record in the answer before were not played)
            if c.answer in facts.steps_of:
                served[c.answer] += c.count
        elif c.kind == "decision":  # recorded before decisions travelled with their request
            decided(c.target, str(c.answer), c.count)
        elif c.kind == "error":
            out.errors += c.count
        for node, branch in c.decisions:  # the decisions taken in these answers
            decided(node, branch, c.count)
    ended, hung_at_menu = _endings(facts, counts)
    visits, entered = _visits(facts, served, keyed, hung_at_menu, edges)
    for node, menu in menus.items():  # those who reached the menu and pressed nothing (then went on, or hung up)
        menu.no_input += max(entered[node] - keyed[node], 0)
    for step in set(visits) | set(ended):
        out.steps[step] = StepTraffic(visits.get(step, 0), ended.get(step, 0))
    _rest_of_edges(facts, out.steps, edges)
    out.edges = dict(edges)
    out.menus = menus
    return out


def _count_keys(facts: RevisionFacts, menu: MenuTraffic, edges: Counter, node: str, digits: str | None,
                n: int) -> None:
    outcome, key = keys_outcome(facts, node, digits)
    if outcome == OPTION:
        menu.options[key] = menu.options.get(key, 0) + n
        edges[(node, key)] += n
    elif outcome == NO_INPUT:
        menu.no_input += n
        edges[(node, NO_INPUT_BRANCH)] += n
    elif outcome == INVALID:
        menu.invalid += n
        edges[(node, INVALID_BRANCH)] += n


def _endings(facts: RevisionFacts, counts: TrafficCounts) -> tuple[Counter, Counter]:
    """(calls that ended at each step, calls that hung up at a menu whose steps after it they did not hear)."""
    ended: Counter[str] = Counter()
    hung: Counter[str] = Counter()
    for e in counts.endings:
        if e.kind == "error":
            continue
        if e.kind == "document":
            doc: str | None = e.target
        elif e.answer in facts.steps_of:
            doc = e.answer
        else:  # the router's branch ended the call (or a document it names is gone)
            if e.answer == END_OF_CALL or e.answer is None:
                ended[e.target] += e.count
            continue
        spliced = next(((n, b) for n, b in reversed(e.decisions) if facts.host_decides(n)), None)
        if spliced is not None:  # the answer went on with the branch of the last decision spliced into it
            doc = facts.branch_document(*spliced)
            if doc is None:
                ended[spliced[0]] += e.count  # its branch leads nowhere: the call ended at the decision
                continue
        steps = facts.steps_of.get(doc or "", [])
        if not steps:
            continue
        at = ended_at(facts, steps) if doc in facts.goes_on else len(steps) - 1
        ended[steps[at]] += e.count
        if at < len(steps) - 1:
            hung[steps[at]] += e.count
    return ended, hung


def _visits(facts: RevisionFacts, served: Counter, keyed: Counter, hung: Counter,
            edges: Counter) -> tuple[Counter, Counter]:
    """(times each step was reached, times callers arrived at each menu)."""
    visits: Counter[str] = Counter()
    entered: Counter[str] = Counter()
    tails: dict[str, list[str]] = {}
    cuts = set(facts.routers) | set(keyed)  # where a request may cut an answer short: menus, recordings

    def play(steps: list[str], n: int) -> None:
        for i, step in enumerate(steps):
            visits[step] += n
            if step in cuts:
                entered[step] += n
                if i < len(steps) - 1:
                    tails.setdefault(step, steps[i + 1:])
                return

    for doc, n in served.items():
        play(facts.steps_of.get(doc, []), n)
    # the steps after a menu hear those who gave no input: menus in the order no-input paths reach them
    after = {m: {next((s for s in tail if s in cuts), None)} - {None} for m, tail in tails.items()}
    order = TopologicalSorter({m: {g for g, nxt in after.items() if m in nxt} for m in cuts})
    for menu in order.static_order():
        if menu not in tails:
            continue
        fell = max(entered[menu] - keyed[menu] - hung[menu], 0)
        if fell:
            if menu in facts.routers:
                edges[(menu, NO_INPUT_BRANCH)] += fell
            play(tails[menu], fell)
    return visits, entered


def _rest_of_edges(facts: RevisionFacts, steps: dict[str, StepTraffic], edges: Counter) -> None:
    """Connections no event names (a step's ``next``): those who reached the step and did not end there,
    less those who took one of its other outputs."""
    graph = facts.graph
    for node in graph.nodes:
        outputs = [b for _, _, d in graph.out_edges(node, data=True) for b in edge_branches(d)]
        counted = sum(edges.get((node, b), 0) for b in outputs)
        for branch in outputs:
            if (node, branch) in edges or branch != NEXT or node in facts.routers or node in facts.decision_types:
                continue
            s = steps.get(node)
            edges[(node, branch)] = max((s.reached - s.ended - counted) if s else 0, 0)
