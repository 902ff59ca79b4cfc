"""``designer.host.hosted``: flows served in this process, the one set-up the host command, simulator and test calls use."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from compiler import FlowError, compile_flow
from compiler.examples import example, example_text
from designer.host import FlowTable, hosted
from designer.store import DECISIONS
from tests.flowwalk import served

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def menu_file(tmp_path):
    path = tmp_path / "main-menu.json"
    path.write_text(example_text("main-menu"))
    return path


async def test_serves_flow_files_and_answers_bound_numbers(menu_file):
    host = hosted(sources=[menu_file], numbers=["+1 (516) 206-5337"])
    assert host.table.flows() == ["main-menu"] and host.table.numbers() == {"15162065337": "main-menu"}
    welcome = served(compile_flow(example("main-menu")), "welcome")  # open: the menu
    assert (await host.get("/flexml?To=5162065337")).content == welcome
    assert (await host.get(host.url("main-menu").removeprefix(host.base_url))).content == welcome
    assert [(e.kind, e.params[DECISIONS]) for e in host.events] == [("document", "hours open")] * 2
    assert host.host_errors() == []


async def test_compiled_flows_and_their_revision_urls():
    draft = compile_flow(example("pin-check"), revision="draft")
    host = hosted([draft])
    assert host.url("pin-check", "draft") == f"{host.base_url}/flexml/pin-check/draft"
    answer = await host.get(host.url("pin-check", "draft").removeprefix(host.base_url))
    assert answer.content == draft.documents[draft.start]
    assert host.status_url == f"{host.base_url}/flexml/status"


async def test_an_apology_is_kept_as_a_host_error(menu_file):
    host = hosted(sources=[menu_file])
    answer = await host.get("/flexml/nope")
    assert b"<Hangup/>" in answer.content
    assert any("unknown flow 'nope'" in e for e in host.host_errors())


async def test_an_existing_table_and_recorder_are_used_as_they_are():
    table, seen = FlowTable(), []
    table.serve_revision(compile_flow(example("main-menu")), current=True)
    host = hosted(table=table, on_event=seen.append)
    assert host.table is table
    await host.get("/flexml/main-menu")
    assert [(e.flow_id, e.kind, e.params[DECISIONS]) for e in seen] == [("main-menu", "document", "hours open")]
    assert host.events == []


def test_bad_sources_and_numbers_are_refused_with_the_file_or_spec_named(menu_file, tmp_path):
    with pytest.raises(FlowError, match="notes.txt: not a flow file"):
        hosted(sources=[tmp_path / "notes.txt"])
    with pytest.raises(ValueError, match="--did 123=sales: no flow 'sales'"):
        hosted(sources=[menu_file], numbers=["123=sales"])


def test_only_the_host_package_builds_a_host_app():
    """The in-process set-up is written once: elsewhere nobody builds the host app or its transport."""
    builders = {"create_host_app", "ASGITransport"}
    found = []
    for path in sorted((ROOT / "designer").rglob("*.py")):
        if path.parent.name == "host":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in builders:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert found == []
