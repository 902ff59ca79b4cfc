"""Finding step facts spelled outside the catalogue, by reading the source (an AST scan).

``scan_source`` reports, for one module's text:

* a comparison with a step name (``type_ == "Gather"``, ``tag in ("Hangup", "Reject")``): code that should
  ask the catalogue's flags (``spec.is_menu``, ``spec.ends_path``) instead;
* a dict or set literal keyed by step names (``{"Gather": ("Say", "Play")}``): a second list of a
  per-step fact;
* a step attribute's catalogue default written again: a call naming the attribute with the default as
  the next argument (``verb.int_attr("timeout", 5)``, ``attrs.get("length", 1)``), the default passed
  under the attribute's name (``f(max_length=3600)``), or assigned or declared under a name that holds
  the attribute's (``timeout = 5``, ``DEFAULT_RETRY_TEXT = "Sorry, …"``,
  ``def f(finish_on_key: str = "#")``);
* a default sentence of the catalogue (a menu's retry text) anywhere in the code.

Defaults that say nothing particular (None, 0, booleans, empty text) are not looked for, nor are the HTTP
method attributes (POST is also the default of every HTTP request the designer makes); a step name in
a string that is not compared (building a ``Redirect`` element, a ``{"type": "Say"}`` prompt) is fine.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from compiler.catalogue import STEPS

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "compiler" / "catalogue.py"
STEP_NAMES = frozenset(STEPS)
_SKIPPED_ATTRS = frozenset(a.name for s in STEPS.values() for a in s.attrs if a.kind == "enum" and
                           a.choices == ("POST", "GET"))


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _telling(value: object) -> bool:
    """A default worth looking for: a number other than 0, or non-empty text."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    return isinstance(value, str) and value != ""


def catalogue_defaults() -> dict[str, set[object]]:
    """Attribute or field name (as written, and in snake_case) → the defaults the catalogue gives it."""
    out: dict[str, set[object]] = {}
    for spec in STEPS.values():
        for attr in (*spec.attrs, *spec.extra_fields):
            if attr.name in _SKIPPED_ATTRS or not _telling(attr.default):
                continue
            for name in {attr.name, _snake(attr.name)}:
                out.setdefault(name, set()).add(attr.default)
    return out


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _const(node: ast.AST) -> object:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        return -node.operand.value  # type: ignore[operator]
    return _NOTHING


_NOTHING = object()


def _step_names_in(node: ast.AST) -> list[str]:
    """Step names a comparison operand spells: a string, or a tuple/list/set of strings."""
    items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return [v for v in map(_const, items) if isinstance(v, str) and v in STEP_NAMES]


def _same(value: object, defaults: set[object]) -> bool:
    return any(type(value) is type(d) and value == d for d in defaults)


def scan_source(text: str, path: str = "<source>") -> list[Finding]:
    """Step facts the module spells itself instead of asking the catalogue."""
    defaults = catalogue_defaults()
    sentences = {v for values in defaults.values() for v in values if isinstance(v, str) and len(v) >= 12}
    found: list[Finding] = []

    def report(node: ast.AST, what: str) -> None:
        found.append(Finding(path, getattr(node, "lineno", 0), what))

    def named_default(node: ast.AST, name: str | None, value_node: ast.AST | None, within: bool = False) -> None:
        """``within``: the name may hold the attribute's (``DEFAULT_TIMEOUT`` holds ``timeout``)."""
        if name is None or value_node is None:
            return
        value = _const(value_node)
        if value is _NOTHING or not _telling(value):
            return
        low = name.lower()
        for attr, values in defaults.items():
            if (attr == name or (within and attr.islower() and attr in low)) and _same(value, values):
                report(node, f"{name} = {value!r} repeats the catalogue's default for {attr}")
                return

    for node in ast.walk(ast.parse(text, path)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in sentences:
            report(node, f"repeats the catalogue's default text {node.value!r}")
        if isinstance(node, ast.Compare):
            names = [n for operand in (node.left, *node.comparators) for n in _step_names_in(operand)]
            if names:
                report(node, f"compares with the step name(s) {', '.join(map(repr, names))}")
        elif isinstance(node, (ast.Dict, ast.Set)):
            keys = node.keys if isinstance(node, ast.Dict) else node.elts
            names = [k for k in map(_const, [k for k in keys if k is not None]) if isinstance(k, str)
                     and k in STEP_NAMES]
            if names:
                report(node, f"a table keyed by step name(s) {', '.join(map(repr, names))}")
        elif isinstance(node, ast.Call):
            if len(node.args) >= 2:
                first = _const(node.args[0])
                if isinstance(first, str):
                    named_default(node, first, node.args[1])
            for kw in node.keywords:
                named_default(node, kw.arg, kw.value)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                named_default(node, _target_name(target), node.value, within=True)
        elif isinstance(node, ast.AnnAssign):
            named_default(node, _target_name(node.target), node.value, within=True)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
                named_default(node, arg.arg, default, within=True)
            for arg, default in zip(args.kwonlyargs, args.kw_defaults):
                named_default(node, arg.arg, default, within=True)
    return found


def _target_name(target: ast.AST) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


def scan_tree(*folders: str) -> list[Finding]:
    """Every finding in the given source folders of the project, the catalogue itself left out."""
    found: list[Finding] = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == CATALOGUE:
                continue
            found += scan_source(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    return found
