"""One exception base per package, described in its errors module, and the command line catching the bases."""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest

import compiler
import designer
from compiler import BundleError, CompileError, FlowError
from compiler.errors import CompilerError
from compiler.examples import example_text
from compiler.importer import ImportRefused
from designer.cli import UserError, main, parser
from designer.errors import DesignerError


def defined_exceptions(package) -> list[type[BaseException]]:
    """Every exception class the package's modules define (``__main__`` is left out: it runs the CLI)."""
    found = []
    for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        found += [obj for obj in vars(module).values() if isinstance(obj, type) and issubclass(obj, BaseException)
                  and obj.__module__ == info.name]
    return found


@pytest.mark.parametrize("package, base, tree", [
    (compiler, CompilerError, "compiler.errors"), (designer, DesignerError, "designer.errors")])
def test_every_exception_has_the_package_base_and_is_in_the_tree(package, base, tree):
    kinds = defined_exceptions(package)
    assert len(kinds) > 4  # the walk found the modules
    doc = importlib.import_module(tree).__doc__
    assert [k.__name__ for k in kinds if not issubclass(k, base)] == []
    assert [k.__name__ for k in kinds if k is not base and f" {k.__name__} " not in doc] == []


def test_extra_bases_code_relies_on_are_kept():
    from designer.services import PublishRefused, ServiceError
    from designer.store import StaleFlow, StoreError
    from designer.ui.canvas import CanvasSetupError

    assert issubclass(ImportRefused, ValueError) and issubclass(CanvasSetupError, RuntimeError)
    assert issubclass(StaleFlow, StoreError) and issubclass(PublishRefused, ServiceError)


# --- the command line: one clear line for each kind, no traceback ----------------------------------

def _inputs(tmp_path) -> dict[str, tuple[type[Exception], list[str], str]]:
    menu = tmp_path / "main-menu.json"
    menu.write_text(example_text("main-menu"))
    (tmp_path / "torn.json").write_text('{"graph": {"id": "torn"')
    (tmp_path / "bad.zip").write_bytes(b"PK not really a zip")
    (tmp_path / "notes.xml").write_text("this is not a document <")
    broken = json.loads(example_text("main-menu"))
    for node in broken["nodes"]:
        if node["id"] == "sales":
            node["numbers"] = ["555-1234"]  # not a phone number in E.164 form: one error
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    return {
        "UserError": (UserError, ["host", str(menu), "--port", "0"], "--port 0"),
        "FlowError": (FlowError, ["validate", str(tmp_path / "torn.json")], "torn.json"),
        "BundleError": (BundleError, ["host", str(tmp_path / "bad.zip"), "--get", "/flexml"], "bad.zip"),
        "ImportRefused": (ImportRefused, ["import", str(tmp_path / "notes.xml")], "notes.xml"),
        "CompileError": (CompileError, ["compile", str(tmp_path / "broken.json"), "--zip", str(tmp_path / "o.zip")],
                         "sales"),
    }


@pytest.mark.parametrize("kind", ["UserError", "FlowError", "BundleError", "ImportRefused", "CompileError"])
def test_each_kind_prints_one_line_and_exits_1(tmp_path, capsys, kind):
    error, argv, named = _inputs(tmp_path)[kind]
    args = parser().parse_args(argv)
    with pytest.raises(error):  # the input really raises this kind, not something the command turned into another
        args._run(args)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert named in err and "Traceback" not in err
    assert err.count("\n") == 1, err
