"""Property tests: random flows with decision steps compile to grammar-valid documents, every step stays
reachable by following the URLs, and the host's answer is valid FlexML for every combination of branches."""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import islice

from hypothesis import HealthCheck, given, settings

from compiler import compile_flow, validate
from compiler.emit import Urls
from compiler.flow import branch_targets
from compiler.grammar import check_document
from designer.host.decide import MAX_CHAIN, Taken, decide
from designer.host.table import ServedRevision
from tests.flowwalk import served, walk_urls
from tests.strategies import valid_flows
from tests.test_compiler_properties import jump, reachable

MAX_COMBINATIONS = 32  # per document: a chain of decisions multiplies its branches
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(valid_flows(decisions=True))
def test_flows_with_decisions_validate_clean_and_reach_every_step_by_the_urls(graph):
    assert [str(p) for p in validate(graph)] == []
    compiled = compile_flow(graph)
    for name, data in compiled.documents.items():
        check_document(data, name)
    walk = walk_urls(compiled)  # decisions' URLs lead to each of their branches' documents
    played = walk.steps(compiled)
    for node in reachable(graph):
        assert jump(graph, node) in played, f"step {node} is never played"
        for branch, target in branch_targets(graph, node):
            assert jump(graph, target) in played, f"{node} --{branch}--> {target} is never played"
    assert compiled.needs_host == bool(compiled.decisions or compiled.recordings)  # the host decides, keeps messages


@dataclass(frozen=True)
class Scripted:
    """A decision that takes the branch a test chooses (the real decision is tested elsewhere)."""

    decision: object
    choice: dict
    kind: str = "set"

    def take(self, variables, now, override, remembered) -> Taken:
        return Taken(self.decision.node, self.decision.type, self.choice[self.decision.node], "scripted")


def combinations(compiled, doc: str, prefix: dict[str, str] | None = None, depth: int = 0):
    """Every assignment of branches to the decisions an answer starting at ``doc`` can meet."""
    prefix = dict(prefix or {})
    decision = compiled.ends_at(doc)
    if decision is None or depth > 12:
        yield prefix
        return
    for branch, target in decision.branches.items():
        if decision.node in prefix and prefix[decision.node] != branch:
            continue
        chosen = {**prefix, decision.node: branch}
        if target is None:
            yield chosen
        else:
            yield from combinations(compiled, target, chosen, depth + 1)


@PROPERTY
@given(valid_flows(decisions=True))
def test_the_hosts_answer_is_valid_flexml_for_every_combination_of_branches(graph):
    compiled = compile_flow(graph)
    # served as written (call variables left in place), so the answer can be compared with lxml's build
    revision = ServedRevision.prepare(replace(compiled, templated=set()))
    urls = Urls(compiled.flow, compiled.revision)
    for doc in compiled.documents:
        if compiled.ends_at(doc) is None:
            continue
        for choice in islice(combinations(compiled, doc), MAX_COMBINATIONS):  # bounded: chains multiply
            # the revision's prepared documents, its decisions scripted to take ``choice``
            table = replace(revision.decisions,
                            deciders={n: Scripted(d, choice) for n, d in compiled.decisions.items()})
            taken: list[Taken] = []
            body = decide(revision.body(doc, {}), revision.decisions.ends_of[doc], table, revision.body, {},
                          lambda: None, lambda node: None, {}, taken, doc)
            check_document(body, f"{doc} with {choice}")
            assert body == served(compiled, doc, choice), (doc, choice)  # the same as lxml builds it
            # no decision reaches the carrier as markup, unless a branch leads back through a Go to and the host
            # stopped after MAX_CHAIN decisions in one answer (the carrier then asks for the next one)
            assert b"/decide</Redirect>" not in body or len(taken) == MAX_CHAIN
            assert {t.node for t in taken} <= set(choice) and all(t.branch == choice[t.node] for t in taken)
    assert urls.prefix == revision.prefix
