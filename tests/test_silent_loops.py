"""A warning for a menu's no-input path that leads straight back to the same menu (a silent caller loops)."""

from __future__ import annotations

import pytest

from compiler.examples import EXAMPLES, example
from compiler.validate import validate


def loop_warnings(graph) -> list[str]:
    return [str(p) for p in validate(graph) if "stays silent" in p.message]


def looping_menu():
    """The main-menu example as it once was: no input → "We did not hear a choice." → Go to the menu."""
    graph = example("main-menu")
    graph.remove_node("ask-again")
    graph.add_edge("no-input", "again")
    return graph


def test_a_no_input_path_back_to_the_menu_is_a_warning_naming_the_menu() -> None:
    (problem,) = [p for p in validate(looping_menu()) if "stays silent" in p.message]
    assert (problem.node, problem.field, problem.severity) == ("menu", "branch timeout", "warning")
    assert problem.message.startswith("a caller who stays silent comes back to menu 'menu' through "
                                      "no-input → again with no limit, so the call never ends")


def test_a_no_input_path_that_ends_the_call_is_fine() -> None:
    graph = looping_menu()
    graph.remove_node("again")
    graph.add_edge("no-input", "bye")
    assert loop_warnings(graph) == []


def test_a_choice_on_the_way_back_counts_as_a_limit() -> None:
    graph = looping_menu()
    graph.add_node("ask", type="Gather", options=["1"], prompt=[{"type": "Say", "text": "Still there? Press 1."}])
    graph.remove_edge("no-input", "again")
    graph.add_edge("no-input", "ask")
    graph.add_edge("ask", "again", branch="1")
    graph.add_edge("ask", "bye", branch="timeout")
    assert loop_warnings(graph) == []


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_the_shipped_examples_end_a_silent_call(name: str) -> None:
    assert loop_warnings(example(name)) == []
