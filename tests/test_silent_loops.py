"""A warning for a menu's no-input path that leads straight back to the same menu (a silent caller loops)."""

from __future__ import annotations

from compiler.examples import example
from compiler.loops import silent_loops


def loop_warnings(graph) -> list[str]:
    return [f"node {menu}: branch timeout: {message}" for menu, message in silent_loops(graph)]


def test_a_no_input_path_back_to_the_menu_is_warned_about() -> None:
    graph = example("main-menu")  # menu → no input → "We did not hear a choice." → Go to menu
    (warning,) = loop_warnings(graph)
    assert warning.startswith("node menu: branch timeout: a caller who stays silent comes back to this menu "
                              "through no-input → again with no limit")


def test_a_no_input_path_that_ends_the_call_is_fine() -> None:
    graph = example("main-menu")
    graph.remove_node("again")
    graph.add_edge("no-input", "bye")
    assert loop_warnings(graph) == []


def test_a_choice_on_the_way_back_counts_as_a_limit() -> None:
    graph = example("main-menu")
    graph.add_node("ask", type="Gather", options=["1"], prompt=[{"type": "Say", "text": "Still there? Press 1."}])
    graph.remove_edge("no-input", "again")
    graph.add_edge("no-input", "ask")
    graph.add_edge("ask", "again", branch="1")
    graph.add_edge("ask", "bye", branch="timeout")
    assert loop_warnings(graph) == []
