"""The architecture's rules, checked on the source: pages reach data through services, imports point down."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "designer" / "ui"


def _trees(folder: Path) -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(), str(path)) for path in sorted(folder.rglob("*.py"))}


def _name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def store_uses(tree: ast.Module) -> list[int]:
    """Lines that reach the store or the host's table and recorder past the services.

    ``ctx.store``, ``self.ctx.store.x``, ``getattr(ctx, "store")``, ``ctx.table``, ``self.ctx.recorder``.
    """
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and (node.attr == "store" or
                                                node.attr in ("table", "recorder") and _name(node.value) == "ctx"):
            lines.append(node.lineno)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr")
              and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "store"):
            lines.append(node.lineno)
    return lines


def test_pages_never_touch_the_store_or_the_hosts_table():
    found = [f"{path.relative_to(ROOT)}:{line}" for path, tree in _trees(UI).items() for line in store_uses(tree)]
    assert found == [], f"pages must go through designer/services.py, not the store: {found}"


def test_the_store_check_finds_a_page_that_reads_the_store():
    page = "def view(self):\n    return self.ctx.store.get_flow('x')\n"
    assert store_uses(ast.parse(page)) == [2]
    assert store_uses(ast.parse("def f(ctx):\n    return getattr(ctx, 'store')\n")) == [2]
    assert store_uses(ast.parse("def f(self):\n    return self.ctx.table.compiled('x')\n")) == [2]
    assert store_uses(ast.parse("def f(ctx):\n    return services.find_flow(ctx, 'x')\n")) == []
    assert store_uses(ast.parse("def f(host):\n    return host.table.compiled('x')\n")) == []


# --- imports: no cycles, and each points down the layers ------------------------------------------

PACKAGES = ("compiler", "designer", "static")
TOP = ("designer.app", "designer.cli", "designer.__main__", "designer.commands")  # wiring: may import anything
SERVICES = ("designer.services", "designer.passwords", "designer.sessions", "designer.context", "designer.carrier.service")
ENGINES = ("designer.host", "designer.simulator", "designer.sandbox", "designer.carrier")  # below services
UI_MAY_USE = ("compiler", "static", "designer.ui", "designer.errors", "designer.simulator", *SERVICES)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imports_of(name: str, tree: ast.Module, modules: set[str], is_package: bool = False) -> set[str]:
    """The project modules one module imports, at module level or inside functions.

    ``from a import b`` counts as importing ``a.b`` when that is a module, else ``a``.
    """
    def known(dotted: str) -> str | None:
        while dotted and dotted not in modules:
            dotted = dotted.rpartition(".")[0]
        return dotted or None

    found: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {known(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package up
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else known(base))
    return {m for m in found if m and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, ast.parse(path.read_text(), str(path)), set(modules), path.name == "__init__.py")
            for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import cycle, each as the modules on it (depth-first search, one report per cycle found)."""
    found, state = [], {}  # state: 1 on the current path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    return found


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def wrong_way(module: str, target: str) -> str | None:
    """Why ``module`` may not import ``target``, or None when the import points down the layers."""
    if within(module, TOP) or within(target, ("compiler", "static")):
        return None
    if module.startswith("compiler"):
        return "the compiler imports nothing from the designer"
    if within(target, TOP):
        return "only the command line and the app wiring import the commands, the app or the cli"
    if within(target, ("designer.ui",)) and not within(module, ("designer.ui",)):
        return "only pages import pages"
    if within(module, ("designer.ui",)):
        return None if within(target, UI_MAY_USE) else "pages reach data through the services"
    if within(module, ("designer.errors",)):
        return "designer.errors is the bottom layer"
    if within(module, ("designer.store",)):
        return None if within(target, ("designer.store", "designer.errors")) else "the store stands on nothing"
    if within(module, ENGINES) and not within(module, SERVICES):
        return "host, simulator, sandbox and carrier client sit below the services" if within(target, SERVICES) \
            else None
    return None


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_imports_point_down_the_layers():
    bad = [f"{module} imports {target}: {why}" for module, targets in sorted(import_graph().items())
           for target in sorted(targets) if (why := wrong_way(module, target))]
    assert bad == []


def test_the_import_checks_catch_a_cycle_and_an_upward_import():
    modules = {"designer.ui.auth", "designer.ui.frame", "designer.store", "designer.services"}
    inside = ast.parse("def header():\n    from designer.ui.auth import login_required\n")
    assert imports_of("designer.ui.frame", inside, modules) == {"designer.ui.auth"}  # function-level counts
    graph = {"designer.ui.auth": {"designer.ui.frame"}, "designer.ui.frame": {"designer.ui.auth"}}
    assert cycles(graph) == [["designer.ui.auth", "designer.ui.frame", "designer.ui.auth"]]
    assert wrong_way("designer.ui.publish", "designer.store")
    assert wrong_way("designer.store", "designer.services")
    assert wrong_way("designer.host.app", "designer.ui.frame")
    assert wrong_way("compiler.flow", "designer.store")
    assert wrong_way("designer.host.app", "designer.services")
    assert wrong_way("designer.services", "designer.commands.host")
    assert wrong_way("designer.ui.publish", "designer.services") is None
    assert wrong_way("designer.commands.host", "designer.host") is None
