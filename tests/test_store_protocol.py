"""The ``Store`` protocol is the whole interface: both stores implement it, and no caller goes past it."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from designer.store import SQLiteStore, Store
from designer.store.postgres import PostgresStore

ROOT = Path(__file__).resolve().parents[1]
STORE_NAMES = {"store", "_store"}  # how callers name a store: ``store.x``, ``ctx.store.x``, ``self._store.x``


def protocol_members() -> set[str]:
    methods = {name for name, value in vars(Store).items() if callable(value) and not name.startswith("_")}
    return methods | set(Store.__annotations__)


def store_calls(tree: ast.Module) -> list[tuple[int, str]]:
    """(line, member) for every ``<store>.member`` read, where ``<store>`` is a name or attribute called store."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            owner = node.value
            owner_name = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) \
                else None
            if owner_name in STORE_NAMES:
                found.append((node.lineno, node.attr))
    return found


@pytest.mark.parametrize("cls", [SQLiteStore, PostgresStore])
def test_each_store_implements_every_protocol_member_with_its_signature(cls):
    for name in protocol_members() - set(Store.__annotations__):
        wanted = inspect.signature(getattr(Store, name))
        have = inspect.signature(getattr(cls, name))
        assert list(have.parameters) == list(wanted.parameters), name
        assert [p.default for p in have.parameters.values()] == [p.default for p in wanted.parameters.values()], name


def test_each_store_says_where_its_files_live(any_store):
    assert isinstance(any_store.path, str) and any_store.path


def test_nothing_outside_the_store_calls_past_the_protocol():
    members = protocol_members()
    assert {"record_rows", "close", "path", "get_flow"} <= members
    past = []
    for path in sorted((ROOT / "designer").rglob("*.py")):
        if "store" in path.relative_to(ROOT / "designer").parts[:1]:
            continue
        for line, member in store_calls(ast.parse(path.read_text())):
            if member not in members:
                past.append(f"{path.relative_to(ROOT)}:{line} store.{member}")
    assert past == []


def test_the_scan_sees_every_way_a_store_is_reached():
    code = "ctx.store.get_flow('a')\nself._store.record_rows([])\nstore.vacuum()\nEventRecorder(ctx.store.record_events)\n"
    assert store_calls(ast.parse(code)) == [(1, "get_flow"), (2, "record_rows"), (3, "vacuum"), (4, "record_events")]
