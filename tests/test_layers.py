"""The architecture's rules, checked on the source: pages reach data through services, imports point down."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "designer" / "ui"


def _trees(folder: Path) -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in sorted(folder.rglob("*.py"))}


def store_uses(tree: ast.Module) -> list[int]:
    """Lines that reach a ``store`` attribute: ``ctx.store``, ``self.ctx.store.x``, ``getattr(ctx, "store")``."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "store":
            lines.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr")
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "store"):
            lines.append(node.lineno)
    return lines


def test_pages_never_touch_the_store():
    found = [f"{path.relative_to(ROOT)}:{line}" for path, tree in _trees(UI).items() for line in store_uses(tree)]
    assert found == [], f"pages must go through designer/services.py, not the store: {found}"


def test_the_store_check_finds_a_page_that_reads_the_store():
    page = "def view(self):\n    return self.ctx.store.get_flow('x')\n"
    assert store_uses(ast.parse(page)) == [2]
    assert store_uses(ast.parse("def f(ctx):\n    return getattr(ctx, 'store')\n")) == [2]
    assert store_uses(ast.parse("def f(ctx):\n    return services.find_flow(ctx, 'x')\n")) == []
