"""Rendering a parsed call-variable text for one call, within a fixed budget.

Every value, every filter's result and the whole output are cut at ``cap``
characters, and the tree has no loops. The filters of one text may read at most
``MAX_WORK`` characters in all (conditions write no output, so the output's cap
alone does not bound them): past that the text renders what it has so far.
Rendering stops as soon as the output is full or the work is spent.
"""

from __future__ import annotations

from typing import Mapping

from compiler.templating.filters import FILTERS
from compiler.templating.syntax import Condition, Expr, If, Name, Part, Test

MAX_WORK = 4 * 4096  # characters the filters of one text may read on one call, conditions included


class _Output:
    """Text collected up to a fixed number of characters."""

    def __init__(self, cap: int) -> None:
        self.parts: list[str] = []
        self.room = cap
        self.work = MAX_WORK  # characters the filters may still read

    @property
    def full(self) -> bool:
        """No more output: the cap is reached, or the filters' work is spent."""
        return self.room <= 0 or self.work < 0

    def add(self, text: str) -> None:
        text = text[:self.room]
        self.parts.append(text)
        self.room -= len(text)


def render_tree(tree: tuple[Part, ...], values: Mapping[str, object], cap: int) -> str:
    """The text one call hears: names replaced by their values (empty when the call has none)."""
    out = _Output(cap)
    _render(tree, values, cap, out)
    return "".join(out.parts)


def _render(body: tuple[Part, ...], values: Mapping[str, object], cap: int, out: _Output) -> None:
    # recursion only into {% if %} bodies, which the parser nests at most MAX_DEPTH deep
    for part in body:
        if out.full:
            return
        if isinstance(part, str):
            out.add(part)
        elif isinstance(part, Expr):
            text = value_of(part, values, cap, out)
            if out.full:
                return
            out.add(text)
        elif isinstance(part, If):
            chosen = next((inner for condition, inner in part.branches if holds(condition, values, cap, out)),
                          part.otherwise)
            if out.full:  # the work ran out while choosing: the choice is not to be trusted
                return
            _render(chosen, values, cap, out)


def value_of(expr: Expr, values: Mapping[str, object], cap: int, out: _Output) -> str:
    """One expression's text: the variable's value or the quoted words, through each filter, cut at ``cap``;
    each filter's input is charged to ``out.work``."""
    if isinstance(expr.base, Name):
        raw = values.get(expr.base.name)
        value = "" if raw is None else str(raw)[:cap]
    else:
        value = expr.base.value[:cap]
    for f in expr.filters:
        out.work -= len(value)
        if out.work < 0:
            return ""  # spent: the rendering stops at the next part
        value = FILTERS[f.name].function(value, *f.args)[:cap]
    return value


def holds(condition: Condition, values: Mapping[str, object], cap: int, out: _Output) -> bool:
    """Whether an ``{% if %}`` condition is true: a value is true when it is not empty."""
    return any(all(_test(test, values, cap, out) for test in group) for group in condition.any_of)


def _test(test: Test, values: Mapping[str, object], cap: int, out: _Output) -> bool:
    left = value_of(test.left, values, cap, out)
    if test.op is None:
        result = bool(left)
    else:
        equal = left == value_of(test.right, values, cap, out)
        result = equal if test.op == "==" else not equal
    return not result if test.negated else result
