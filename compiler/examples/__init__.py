"""Example flows shipped with the package: a user can start from any of them.

Each example's JSON file carries its own title (``graph.name``), what a newcomer
learns from it (``graph.description``) and an icon name (``graph.icon``).
"""

from __future__ import annotations

from importlib import resources

import networkx as nx

from compiler.flow import loads

SHIPPED = ("main-menu", "pin-check", "after-hours")  # the examples, in the order they are offered


def example_text(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8")


def example(name: str) -> nx.DiGraph:
    return loads(example_text(name), f"example {name}")


def description(graph: nx.DiGraph) -> str:
    """What a flow does in a sentence, as its file says (``graph.description``); empty when it has none."""
    return str(graph.graph.get("description") or "")


# example name → description, read from the example files
EXAMPLES: dict[str, str] = {name: description(example(name)) for name in SHIPPED}
