"""What changed between two versions of a flow, in plain sentences.

``describe_changes(old, new)`` compares two flow graphs (a published revision
and the draft, or any two revisions) and returns one sentence per change a
person would care about, each naming the step it concerns::

    menu: option 3 added, goes to voicemail
    welcome: text changed
    sales: step removed

An empty list means the two flows behave and look the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from compiler.catalogue import step_of
from compiler.flow import edge_branches

# fields compared on their own sentence; every other field falls under "settings changed"
_POSITION = ("x", "y")
_OWN_SENTENCE = ("type", "text", "prompt", "numbers", "options", "target", "attrs", *_POSITION)
_BRANCH_WORDS = {"next": "next step", "timeout": "no-input path", "invalid": "wrong-key path",
                 "error": "error path"}
MOVED = "moved on the canvas"
MOVES_NAMED = 3
_MOVE_LIMIT = 1.0  # canvas units a step must move to count as moved (rounding noise is not a move)


@dataclass(frozen=True)
class Change:
    """One change: the step it concerns (empty for the flow itself) and the sentence."""

    node: str
    sentence: str

    def __str__(self) -> str:
        return f"{self.node}: {self.sentence}" if self.node else self.sentence


def branch_words(branch: str) -> str:
    """A branch as a sentence says it: ``"1"`` → ``option 1``, ``timeout`` → ``no-input path``."""
    if branch in _BRANCH_WORDS:
        return _BRANCH_WORDS[branch]
    if branch and all(c in "0123456789*#" for c in branch):
        return f"option {branch}"
    return f"'{branch}' path"


def _targets(graph: nx.DiGraph, node: str) -> dict[str, str]:
    """branch → target step of one step's connections."""
    return {b: str(t) for t, data in graph.succ[node].items() for b in edge_branches(data)}


def _step_name(graph: nx.DiGraph, node: str) -> str:
    spec = step_of(graph.nodes[node])
    return spec.label if spec is not None else str(graph.nodes[node].get("type") or "step")


def _moved(old: dict[str, Any], new: dict[str, Any]) -> bool:
    try:
        return any(abs(float(old.get(k) or 0) - float(new.get(k) or 0)) >= _MOVE_LIMIT for k in _POSITION)
    except (TypeError, ValueError):
        return any(old.get(k) != new.get(k) for k in _POSITION)


def _field_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Sentences for one step's own fields (not its connections)."""
    said: list[str] = []
    if old.get("type") != new.get("type"):
        said.append(f"changed from {old.get('type')} to {new.get('type')}")
    if (old.get("text") or "") != (new.get("text") or ""):
        said.append("text changed")
    if old.get("prompt") != new.get("prompt"):
        said.append("prompt changed")
    if old.get("numbers") != new.get("numbers"):
        said.append("numbers changed")
    if old.get("target") != new.get("target"):
        said.append(f"now goes to {new.get('target') or 'nothing'} (was {old.get('target') or 'nothing'})")
    old_attrs, new_attrs = old.get("attrs") or {}, new.get("attrs") or {}
    if isinstance(old_attrs, dict) and isinstance(new_attrs, dict):
        for name in sorted(set(old_attrs) | set(new_attrs)):
            if old_attrs.get(name) != new_attrs.get(name):
                said.append(f"{name} changed from {_shown(old_attrs.get(name))} to {_shown(new_attrs.get(name))}")
    elif old_attrs != new_attrs:
        said.append("settings changed")
    others = sorted(k for k in set(old) | set(new) if k not in _OWN_SENTENCE and old.get(k) != new.get(k))
    if others:
        said.append(f"{', '.join(others)} changed")
    if _moved(old, new):
        said.append(MOVED)
    return said


def _shown(value: Any) -> str:
    return "nothing" if value is None or value == "" else repr(value) if isinstance(value, str) else str(value)


def _connection_changes(old: nx.DiGraph, new: nx.DiGraph, node: str) -> list[str]:
    """Sentences for one step's connections, in a stable order (options, then named paths)."""
    before, after = _targets(old, node), _targets(new, node)
    old_options = [str(o) for o in old.nodes[node].get("options") or [] if isinstance(o, (str, int))]
    new_options = [str(o) for o in new.nodes[node].get("options") or [] if isinstance(o, (str, int))]
    said: list[str] = []
    for branch in sorted(set(before) | set(after) | set(old_options) | set(new_options), key=_branch_order):
        was, now = before.get(branch), after.get(branch)
        is_option = branch in old_options or branch in new_options
        added = is_option and branch in new_options and branch not in old_options
        removed = is_option and branch in old_options and branch not in new_options
        words = branch_words(branch)
        if added:
            said.append(f"{words} added" + (f", goes to {now}" if now else ""))
        elif removed:
            said.append(f"{words} removed")
        elif was != now:
            if now is None:
                said.append(f"{words} no longer goes anywhere (was {was})")
            elif was is None:
                said.append(f"{words} now goes to {now}")
            else:
                said.append(f"{words} now goes to {now} (was {was})")
    return said


def _branch_order(branch: str) -> tuple[int, str]:
    return (0 if branch not in _BRANCH_WORDS else 1, branch)


def changes(old: nx.DiGraph | None, new: nx.DiGraph) -> list[Change]:
    """Every change from ``old`` to ``new`` (``None`` for old: every step is new)."""
    old = old if old is not None else nx.DiGraph()
    found: list[Change] = []
    old_start, new_start = old.graph.get("start"), new.graph.get("start")
    if old_start and new_start and old_start != new_start:
        found.append(Change("", f"The call now starts at {new_start} (was {old_start})"))
    for key in ("name",):
        if old.graph.get(key) and old.graph.get(key) != new.graph.get(key):
            found.append(Change("", f"Flow renamed to {new.graph.get(key)!r}"))
    for node in new.nodes:
        if node not in old.nodes:
            where = "" if not new.succ[node] else ", goes to " + ", ".join(
                f"{t}" if b == "next" else f"{t} ({branch_words(b)})" for b, t in _targets(new, node).items())
            found.append(Change(str(node), f"step added ({_step_name(new, node)}){where}"))
    for node in old.nodes:
        if node not in new.nodes:
            found.append(Change(str(node), "step removed"))
    for node in new.nodes:
        if node in old.nodes:
            said = _field_changes(dict(old.nodes[node]), dict(new.nodes[node]))
            said += _connection_changes(old, new, node)
            found += [Change(str(node), s) for s in said]
    return found


def describe_changes(old: nx.DiGraph | None, new: nx.DiGraph) -> list[str]:
    """The changes from ``old`` to ``new`` as sentences ("menu: option 3 added, goes to voicemail").

    Moves come last; more than ``MOVES_NAMED`` of them are one sentence ("12 steps moved on the canvas").
    """
    found = changes(old, new)
    said = [str(c) for c in found if c.sentence != MOVED]
    moves = [c for c in found if c.sentence == MOVED]
    if len(moves) > MOVES_NAMED:
        return [*said, f"{len(moves)} steps {MOVED}"]
    return [*said, *(str(c) for c in moves)]


def call_changes(old: nx.DiGraph | None, new: nx.DiGraph) -> list[str]:
    """The changes a caller could notice: every change but steps moved on the canvas."""
    return [str(c) for c in changes(old, new) if c.sentence != MOVED]
