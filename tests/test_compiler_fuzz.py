"""Arbitrary (mostly broken) flows: validation never raises, and whatever it passes compiles to valid FlexML."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import FlowError, compile_flow, only_errors, loads, validate
from compiler.catalogue import STEPS
from compiler.grammar import problems as grammar_problems
from tests.strategies import valid_flows

IDS = ["a", "b", "c", "d", "menu", "x y", ""]
ATTR_NAMES = sorted({a.name for s in STEPS.values() for a in (*s.attrs, *s.extra_fields)} | {"bogus"})
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=False, width=16),
    st.sampled_from(["", "#", "*", "1", "12", "none", "wav", "ogg", "woman", "POST", "15162065340", "+447700900123",
                     "https://e.example/a.mp3", "/path", "{{ From }}", "{{ Nope }}", "{% if %}", "a\x00b"]),
    st.integers(1020, 1030).map(lambda n: "x" * n),
    st.text(max_size=8),
)
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(st.sampled_from(ATTR_NAMES), scalars,
                                                                             max_size=3))
node_fields = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from([*STEPS, "Speak"]), scalars)},
    optional={
        "attrs": st.one_of(st.dictionaries(st.sampled_from(ATTR_NAMES), scalars, max_size=4), values),
        "text": scalars,
        "prompt": st.one_of(st.lists(st.fixed_dictionaries(
            {"type": st.sampled_from(["Say", "Play", "Dial", "Gather"])},
            optional={"text": scalars, "attrs": st.dictionaries(st.sampled_from(ATTR_NAMES), scalars, max_size=2)}),
            max_size=2), values),
        "numbers": values, "target": st.one_of(st.sampled_from(IDS), scalars), "options": values,
        "retries": scalars, "retryText": scalars,
    },
)
flows = st.fixed_dictionaries({
    "graph": st.fixed_dictionaries({"id": st.sampled_from(["f", "status", "Bad Id", ""]),
                                    "start": st.sampled_from(IDS + ["ghost"])}),
    "nodes": st.lists(st.builds(lambda i, f: {"id": i, **f}, st.sampled_from(IDS), node_fields), max_size=6,
                      unique_by=lambda n: n["id"]),
    "edges": st.lists(st.fixed_dictionaries(
        {"source": st.sampled_from(IDS), "target": st.sampled_from(IDS + ["ghost"])},
        optional={"branch": st.one_of(st.sampled_from(["next", "error", "timeout", "invalid", "1", "12", "1#",
                                                       "bogus"]), scalars),
                  "also": values}), max_size=8),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flows)
def test_validation_never_raises_and_what_it_passes_compiles(data):
    try:
        graph = loads(json.dumps(data))
    except FlowError:
        return
    assert_problems_are_plain_or_documents_are_valid(graph)


def assert_problems_are_plain_or_documents_are_valid(graph) -> None:
    """Validation never raises and speaks in one line; whatever it lets through compiles to valid FlexML."""
    problems = validate(graph)
    for p in problems:
        assert p.field and p.message and "\n" not in p.message
    if only_errors(problems):
        return
    compiled = compile_flow(graph, problems=problems)
    for data in compiled.documents.values():
        assert grammar_problems(data) == []


@st.composite
def mutated_flows(draw):
    """A valid flow with one to three fields of its steps set to arbitrary values."""
    graph = draw(valid_flows(max_steps=8))
    nodes = list(graph.nodes)
    for _ in range(draw(st.integers(1, 3))):
        data = graph.nodes[draw(st.sampled_from(nodes))]
        where = draw(st.sampled_from(["attrs", "text", "prompt", "numbers", "target", "options", "retries",
                                      "retryText", "edge"]))
        if where == "attrs":
            spec = STEPS.get(data["type"])
            names = [a.name for a in spec.attrs] if spec and spec.attrs else ATTR_NAMES
            data["attrs"] = {**(data.get("attrs") or {}), draw(st.sampled_from(names)): draw(scalars)}
        elif where == "prompt" and isinstance(data.get("prompt"), list) and data["prompt"]:
            child = draw(st.sampled_from(data["prompt"]))
            child = dict(child) if isinstance(child, dict) else {"type": "Say"}
            child[draw(st.sampled_from(["text", "attrs"]))] = draw(st.one_of(scalars, values))
            data["prompt"] = [*data["prompt"], child]
        elif where == "edge":
            graph.add_edge(draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes)),
                           branch=draw(st.one_of(st.sampled_from(["next", "error", "timeout", "invalid", "1"]),
                                                 scalars)))
        else:
            data[where] = draw(scalars)
    return graph


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_flows())
def test_whatever_validation_lets_through_compiles_to_grammar_valid_documents(graph):
    assert_problems_are_plain_or_documents_are_valid(graph)
