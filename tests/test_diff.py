"""The plain-language diff between two versions of a flow (compiler/diff.py): one test per sentence kind."""

from __future__ import annotations

import networkx as nx

from compiler.diff import describe_changes
from compiler.examples import example


def menu_flow() -> nx.DiGraph:
    return example("main-menu")


def edited(graph: nx.DiGraph) -> nx.DiGraph:
    copy = nx.DiGraph(graph)
    for node in copy.nodes:
        copy.nodes[node].update({k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
                                 for k, v in graph.nodes[node].items()})
    return copy


def test_the_same_flow_has_no_changes() -> None:
    assert describe_changes(menu_flow(), menu_flow()) == []


def test_a_step_added_says_its_kind_and_where_it_goes() -> None:
    old = menu_flow()
    new = edited(old)
    new.add_node("goodbye", type="Say", text="Bye", x=0, y=0)
    new.add_edge("goodbye", "bye")
    assert describe_changes(old, new) == ["goodbye: step added (Speak text), goes to bye"]


def test_a_step_removed() -> None:
    old = menu_flow()
    new = edited(old)
    new.remove_node("vm-failed")
    assert "vm-failed: step removed" in describe_changes(old, new)
    assert "voicemail: error path no longer goes anywhere (was vm-failed)" in describe_changes(old, new)


def test_a_step_moved_on_the_canvas() -> None:
    old = menu_flow()
    new = edited(old)
    new.nodes["bye"]["x"] = 400
    assert describe_changes(old, new) == ["bye: moved on the canvas"]


def test_rounding_a_position_is_no_move() -> None:
    old = menu_flow()
    new = edited(old)
    new.nodes["bye"]["x"] = float(old.nodes["bye"]["x"]) + 0.3
    assert describe_changes(old, new) == []


def test_text_changed() -> None:
    old = menu_flow()
    new = edited(old)
    new.nodes["welcome"]["text"] = "Welcome to the dental office."
    assert describe_changes(old, new) == ["welcome: text changed"]


def test_option_added_says_where_it_goes() -> None:
    old = menu_flow()
    new = edited(old)
    new.add_node("hours", type="Say", text="We open at 9.", x=0, y=0)
    new.nodes["menu"]["options"] = ["1", "2", "0", "3"]
    new.add_edge("menu", "hours", branch="3")
    assert "menu: option 3 added, goes to hours" in describe_changes(old, new)


def test_option_removed() -> None:
    old = menu_flow()
    new = edited(old)
    new.nodes["menu"]["options"] = ["1", "2"]
    new.remove_edge("menu", "operator")
    assert describe_changes(old, new) == ["menu: option 0 removed"]


def test_connection_changed_names_both_targets() -> None:
    old = menu_flow()
    new = edited(old)
    new.remove_edge("menu", "sales")
    new.add_edge("menu", "operator", branch="0", also=["1"])
    assert describe_changes(old, new) == ["menu: option 1 now goes to operator (was sales)"]


def test_settings_and_start_changes() -> None:
    old = menu_flow()
    new = edited(old)
    new.nodes["menu"]["attrs"]["timeout"] = 8
    new.graph["start"] = "menu"
    assert describe_changes(old, new) == ["The call now starts at menu (was welcome)",
                                          "menu: timeout changed from 5 to 8"]


def test_no_old_flow_lists_every_step_as_added() -> None:
    new = menu_flow()
    said = describe_changes(None, new)
    assert len(said) == new.number_of_nodes()
    assert all("step added" in s for s in said)
