"""Example flows shipped with the package: a user can start from any of them."""

from __future__ import annotations

from importlib import resources

import networkx as nx

from compiler.flow import loads

EXAMPLES = {
    "main-menu": "Main menu with voicemail and an operator transfer",
    "pin-check": "PIN check",
    "after-hours": "After-hours message",
}


def example_text(name: str) -> str:
    return resources.files(__package__).joinpath(f"{name}.json").read_text(encoding="utf-8")


def example(name: str) -> nx.DiGraph:
    return loads(example_text(name), f"example {name}")
