"""The editor re-checks and re-writes only what an edit touched (compiler.validate.Validation,
compiler.flow.FlowText): after any run of edits the problems and the flow's text must be exactly
what a full ``validate`` and ``dumps`` give."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.catalogue import STEPS
from compiler.examples import example
from compiler.flow import FlowText, add_branch, dumps, remove_branch
from compiler.layout import layout_moves
from compiler.validate import Validation, validate
from tests.strategies import make_flow, valid_flows

TEXTS = ["", "Hello.", "You pressed {{ Digits }}.", "Your message: {{ RecordingUrl }}", "{{ room }} is ready",
         "{{ nope", "x" * 5000, "Thanks, {{ From }}."]
BRANCHES = ["next", "timeout", "invalid", "1", "2", "9", "error", "open", "closed", "else", "no-answer"]


@st.composite
def edits(draw, nodes: list[str]):
    """One edit as the editor makes it: (the step it changes, what it does to the graph)."""
    node = draw(st.sampled_from(nodes))
    kind = draw(st.sampled_from(["text", "target", "type", "vars", "connect", "disconnect", "options", "attr",
                                 "move"]))
    other = draw(st.sampled_from(nodes))  # also a step's own id: a Go to to itself, a loop
    branch = draw(st.sampled_from(BRANCHES))
    if kind == "text":
        text = draw(st.sampled_from(TEXTS))
        return node, lambda g: g.nodes[node].__setitem__("text", text)
    if kind == "target":
        return node, lambda g: g.nodes[node].__setitem__("target", other)
    if kind == "type":
        type_ = draw(st.sampled_from(["Goto", "Goto", "Set", "Override", "Record", "Gather", *sorted(STEPS)]))
        return node, lambda g: g.nodes[node].__setitem__("type", type_)
    if kind == "vars":
        names = draw(st.lists(st.sampled_from(["room", "Digits", "tries", "From"]), max_size=3))
        return node, lambda g: g.nodes[node].__setitem__("vars", {n: "1" for n in names})
    if kind == "connect":
        def connect(g):
            remove_branch(g, node, branch)
            if other != node:
                add_branch(g, node, other, branch)
        return node, connect
    if kind == "disconnect":
        return node, lambda g: remove_branch(g, node, branch)
    if kind == "options":
        options = draw(st.lists(st.sampled_from(["1", "2", "9", "12", "#"]), max_size=3))
        return node, lambda g: g.nodes[node].__setitem__("options", options)
    if kind == "attr":
        value = draw(st.sampled_from([{}, {"numDigits": 1}, {"action": "https://x.example/k"}, {"timeout": "x"},
                                      {"streaming": True, "timeLimit": 5}]))
        return node, lambda g: g.nodes[node].__setitem__("attrs", value)
    x = draw(st.integers(-100, 100))
    return node, lambda g: g.nodes[node].__setitem__("x", x)


def run_edits(graph, data) -> None:
    checker, text = Validation(graph), FlowText()
    text.dumps(graph)
    nodes = list(graph.nodes)
    for _ in range(data.draw(st.integers(1, 30))):
        node, edit = data.draw(edits(nodes))
        edit(graph)
        assert checker.update(graph, {node}) == validate(graph)
        assert text.dumps(graph, {node}) == dumps(graph)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_flows(min_steps=2, max_steps=12, decisions=True), st.data())
def test_problems_and_text_after_random_edits_are_those_of_a_full_check(graph, data) -> None:
    run_edits(graph, data)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["main-menu", "after-hours", "pin-check"]), st.data())
def test_the_examples_edited_at_random_check_as_a_whole(name, data) -> None:
    run_edits(example(name), data)


def test_adding_a_step_or_changing_the_flow_checks_everything() -> None:
    graph = example("main-menu")
    checker = Validation(graph)
    graph.add_node("lost", type="Say", text="Nobody reaches me.")
    assert checker.update(graph, {"lost"}) == validate(graph)  # a step added: a full check finds it unreached
    assert any(p.node == "lost" for p in checker.problems)
    graph.graph["start"] = "lost"
    assert checker.update(graph, set()) == validate(graph)
    assert checker.update(graph, None) == validate(graph)


def edited(graph, node, edit) -> tuple[list, list]:
    """(the problems kept up to date, a full check's) after one edit of ``node``."""
    checker = Validation(graph)
    edit(graph)
    return checker.update(graph, {node}), validate(graph)


def test_a_step_turned_into_a_go_to_is_seen_from_the_go_to_that_jumps_to_it() -> None:
    graph = make_flow({"hi": {"type": "Say", "text": "Hi"}, "jump": {"type": "Goto", "target": "ask"},
                       "ask": {"type": "Say", "text": "Again"}}, [("hi", "jump")])
    kept, full = edited(graph, "ask", lambda g: g.nodes["ask"].update(type="Goto", target="jump", text=None))
    assert kept == full
    assert any(p.node == "jump" and "only jump to each other" in p.message for p in kept)


def test_a_connection_removed_from_a_step_rechecks_the_step_it_led_to() -> None:
    graph = make_flow({"top": {"type": "Override", "attrs": {"statusCallbackUrl": "https://x.example/s"}},
                       "hi": {"type": "Say", "text": "Hi"}}, [("top", "hi"), ("hi", "top")])
    assert any(p.node == "hi" and "back to the start step" in p.message for p in validate(graph))
    kept, full = edited(graph, "hi", lambda g: remove_branch(g, "hi", "next"))
    assert kept == full
    assert not any("back to the start step" in p.message for p in kept)


def test_a_name_a_set_step_no_longer_gives_is_missed_downstream() -> None:
    graph = make_flow({"set": {"type": "Set", "vars": {"room": "5"}}, "mid": {"type": "Pause"},
                       "hi": {"type": "Say", "text": "Room {{ room }}"}}, [("set", "mid"), ("mid", "hi")])
    kept, full = edited(graph, "set", lambda g: g.nodes["set"].__setitem__("vars", {"floor": "2"}))
    assert kept == full
    assert any(p.node == "hi" and p.field == "text" for p in kept)


def test_a_record_step_turned_into_a_say_empties_the_recording_downstream() -> None:
    graph = make_flow({"rec": {"type": "Record"}, "mid": {"type": "Pause"},
                       "hi": {"type": "Say", "text": "Got {{ RecordingUrl }}"}}, [("rec", "mid"), ("mid", "hi")])
    kept, full = edited(graph, "rec", lambda g: g.nodes["rec"].update(type="Say", text="Hello"))
    assert kept == full
    assert any(p.node == "hi" and "always empty" in p.message for p in kept)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_flows(min_steps=2, max_steps=12, decisions=True))
def test_steps_only_moved_keep_the_problems_a_full_check_finds(graph) -> None:
    checker = Validation(graph)
    moves = layout_moves(graph)  # what Tidy up changes
    for node, (x, y) in moves.items():
        graph.nodes[node]["x"], graph.nodes[node]["y"] = x, y
    assert checker.moved(graph, set(moves)) == validate(graph)


def test_a_step_added_is_checked_even_when_called_a_move() -> None:
    graph = example("main-menu")
    checker = Validation(graph)
    graph.add_node("lost", type="Say", text="Nobody reaches me.", x=0, y=0)
    assert checker.moved(graph, {"lost"}) == validate(graph)
    assert any(p.node == "lost" for p in checker.problems)
