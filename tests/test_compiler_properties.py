"""Property-based tests: random valid flows always compile to linked, grammar-valid documents."""

from __future__ import annotations

import json
import random

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from compiler import compile_flow, dumps, loads, read_zip, validate, write_zip
from compiler.flow import branch_targets, from_data, to_data
from compiler.grammar import problems as grammar_problems
from compiler.plan import records_for_host
from tests.flowwalk import resolve, walk_urls
from tests.strategies import valid_flow_data, valid_flows

FAST = settings(max_examples=50, deadline=None)


def jump(graph: nx.DiGraph, node: str) -> str:
    """The step a caller ends up at: a Go to step's final target, else the step itself."""
    while graph.nodes[node]["type"] == "Goto":
        node = graph.nodes[node]["target"]
    return node


def reachable(graph: nx.DiGraph) -> set[str]:
    seen, todo = set(), [graph.graph["start"]]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.successors(node))
            if graph.nodes[node]["type"] == "Goto":
                todo.append(graph.nodes[node]["target"])
    return seen


def continuation(graph: nx.DiGraph, node: str) -> str | None:
    branches = dict(branch_targets(graph, node))
    return branches.get("timeout" if graph.nodes[node]["type"] == "Gather" else "next")


@FAST
@given(valid_flows())
def test_random_valid_flows_validate_clean_and_compile_to_grammar_valid_documents(graph):
    assert [str(p) for p in validate(graph)] == []
    compiled = compile_flow(graph)
    assert compiled.start == "s0" and compiled.start in compiled.documents
    for name, data in compiled.documents.items():
        assert grammar_problems(data) == [], name


@FAST
@given(valid_flows())
def test_every_branch_target_is_reached_by_following_the_urls(graph):
    compiled = compile_flow(graph)
    walk = walk_urls(compiled)  # raises on any URL under the flow that names no document or router
    played = walk.steps(compiled)
    user_redirects = {d["text"].strip() for _, d in graph.nodes(data=True) if d["type"] == "Redirect"}
    assert walk.external <= user_redirects
    for node in reachable(graph):
        assert jump(graph, node) in played, f"step {node} is never played"
        for branch, target in branch_targets(graph, node):
            assert jump(graph, target) in played, f"{node} --{branch}--> {target} is never played"


@FAST
@given(valid_flows())
def test_documents_play_steps_in_flow_order_and_links_lead_to_the_right_step(graph):
    compiled = compile_flow(graph)
    for name, data in compiled.documents.items():
        steps = compiled.steps[name]
        verbs = list(etree.fromstring(data))
        if ".retry" in name:
            assert verbs[0].tag == "Say"  # "Sorry, that is not a valid choice."
            verbs = verbs[1:]
        expected = ["Redirect" if graph.nodes[s]["type"] == "Goto" else graph.nodes[s]["type"] for s in steps]
        assert [v.tag for v in verbs[: len(steps)]] == expected, name
        for a, b in zip(steps, steps[1:]):
            assert continuation(graph, a) == b, f"{name}: {b} does not follow {a}"
        last_next = continuation(graph, steps[-1])
        if last_next is None or graph.nodes[steps[-1]]["type"] == "Goto":
            assert len(verbs) == len(steps), name
        elif records_for_host(graph.nodes[steps[-1]]):  # the recorded route answers with what follows
            assert len(verbs) == len(steps), name
            _, node, _ = resolve(compiled, verbs[-1].get("action"))
            assert compiled.steps[compiled.recordings[node]][0] == jump(graph, last_next)
        else:  # the path goes on in another document
            assert len(verbs) == len(steps) + 1 and verbs[-1].tag == "Redirect", name
            _, target_doc, _ = resolve(compiled, verbs[-1].text)
            assert compiled.steps[target_doc][0] == jump(graph, last_next)
        for step, el in zip(steps, verbs):
            branches = dict(branch_targets(graph, step))
            if "error" in branches:
                _, doc, _ = resolve(compiled, el.get("errorAction"))
                assert compiled.steps[doc][0] == jump(graph, branches["error"])
            if graph.nodes[step]["type"] == "Goto":
                _, doc, _ = resolve(compiled, el.text)
                assert compiled.steps[doc][0] == jump(graph, step)


@FAST
@given(valid_flows())
def test_routers_answer_each_option_with_the_document_of_its_target(graph):
    compiled = compile_flow(graph)
    for node, data in graph.nodes(data=True):
        if data["type"] != "Gather" or node not in compiled.routers:
            continue
        router = compiled.routers[node]
        branches = dict(branch_targets(graph, node))
        for option in data["options"]:
            assert compiled.steps[router.route(option)][0] == jump(graph, branches[option])
        assert compiled.steps[router.route("")][0] == jump(graph, branches["timeout"])
        wrong = "9" * 40
        if "invalid" in branches:
            assert compiled.steps[router.route(wrong)][0] == jump(graph, branches["invalid"])
        else:  # asked again, `retries` times, then the no-input path
            for attempt in range(1, data["retries"] + 1):
                again = router.route(wrong, attempt)
                assert compiled.steps[again][0] == node and again != node
            assert router.route(wrong, data["retries"] + 1) == router.route("")


@FAST
@given(valid_flows(), st.randoms(use_true_random=False))
def test_output_is_byte_stable_across_runs_and_node_order(graph, rnd: random.Random):
    first = compile_flow(graph)
    again = compile_flow(graph)
    data = to_data(graph)
    rnd.shuffle(data["nodes"])
    rnd.shuffle(data["edges"])
    shuffled = compile_flow(from_data(data))
    for other in (again, shuffled):
        assert other.documents == first.documents
        assert json.dumps(other.manifest(), sort_keys=True) == json.dumps(first.manifest(), sort_keys=True)
    assert write_zip(first, graph) == write_zip(again, graph)


@FAST
@given(valid_flows())
def test_absolute_urls_with_a_base_url_are_followed_the_same_way(graph):
    compiled = compile_flow(graph, revision="7", base_url="https://ivr.example.com/carrier")
    plain = compile_flow(graph, revision="7")
    for data in compiled.documents.values():
        assert grammar_problems(data) == []
        assert b">/flexml/" not in data and b'"/flexml/' not in data
    assert walk_urls(compiled).documents == walk_urls(plain).documents


@FAST
@given(valid_flow_data())
def test_flow_file_round_trip_is_stable(data):
    text = json.dumps(data)
    once = dumps(loads(text))
    assert dumps(loads(once)) == once
    assert json.loads(once) == json.loads(dumps(from_data(data)))


@settings(max_examples=30, deadline=None)
@given(valid_flows())
def test_bundle_round_trip_gives_the_same_flow(graph):
    compiled = compile_flow(graph)
    back = read_zip(write_zip(compiled, graph))
    assert back.documents == compiled.documents
    assert back.steps == compiled.steps
    assert back.manifest() == compiled.manifest()
    for digits in ["", "1", "9" * 40]:
        for node, router in compiled.routers.items():
            assert back.routers[node].route(digits, 2) == router.route(digits, 2)
