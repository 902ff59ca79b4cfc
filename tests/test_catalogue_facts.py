"""The step catalogue is the only list of each step fact, and the parts that use a fact follow it.

The scan (``tests/catalogue_scan.py``) reads compiler/ and designer/ for step names compared or used as
table keys and for catalogue defaults written again; the behaviour tests change a catalogue default and
check that the simulator and the importer use the new one.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from catalogue_scan import scan_source, scan_tree
from test_simulator_support import BASE, FlexMLServer, doc

from compiler import catalogue, compile_flow
from compiler.bundle import open_zip, write_zip
from compiler.catalogue import STEPS
from compiler.examples import example
from compiler.importer import import_documents
from designer.simulator import ScriptedCaller, simulate_call
from designer.ui.editor_state import new_step


def change_default(monkeypatch: pytest.MonkeyPatch, type_: str, name: str, value: object) -> None:
    """Give one attribute or designer field of a step another catalogue default for this test."""
    spec = STEPS[type_]
    assert spec.attr(name) is not None, f"{type_} has no {name}"
    changed = replace(spec, attrs=tuple(replace(a, default=value) if a.name == name else a for a in spec.attrs),
                      extra_fields=tuple(replace(a, default=value) if a.name == name else a
                                         for a in spec.extra_fields))
    monkeypatch.setitem(catalogue.STEPS, type_, changed)
    monkeypatch.setitem(catalogue._ATTR_INDEX, type_, {a.name: a for a in (*changed.attrs, *changed.extra_fields)})


# ---- the scan ------------------------------------------------------------------------------------


def test_no_module_outside_the_catalogue_spells_a_step_fact():
    found = scan_tree("compiler", "designer")
    assert found == [], "ask compiler.catalogue instead:\n" + "\n".join(map(str, found))


@pytest.mark.parametrize("source", [
    'timeout = verb.int_attr("timeout", 5, minimum=1)',  # the simulator's Gather timeout, spelt again
    'length = (data.get("attrs") or {}).get("length", 1)',
    'info = RecordInfo(max_length=3600)',
    'def gather(finish_on_key: str = "#") -> None: ...',
    'DEFAULT_RETRY_TEXT = "Sorry, that is not a valid choice."',
    'if text != "Sorry, that is not a valid choice.": pass',
    'if type_ == "Gather": pass',
    'ends = data["type"] in ("Goto", "Hangup", "Reject", "Redirect")',
    'NESTABLE = {"Gather": ("Say", "Play")}',
    'ID_PREFIX = {"Dial": "transfer"}',
])
def test_the_scan_finds_a_step_fact_written_again(source):
    assert scan_source(source), source


@pytest.mark.parametrize("source", [
    'el = verb("Redirect", url)',  # building the element of that tag
    'prompt = [{"type": "Say", "text": ""}]',
    'timeout = verb.int_attr("timeout", minimum=1)',
    'conn = sqlite3.connect(path, timeout=BUSY_WAIT_SECONDS)',
    'client = httpx.Client(timeout=10.0)',
    'if spec.is_menu and data.get("kind") == "gather": pass',
])
def test_the_scan_leaves_code_that_asks_the_catalogue_alone(source):
    assert scan_source(source) == []


# ---- parts follow a changed default --------------------------------------------------------------


async def _no_input_call(body: str):
    server = FlexMLServer({"/start": doc(body), "/next": doc("<Hangup/>")})
    return await simulate_call(BASE + "/start", caller=ScriptedCaller(digits=[], dial_outcome="noanswer"),
                               transport=server.transport())


async def test_the_simulator_waits_as_long_as_the_catalogue_says(monkeypatch):
    body = '<Gather action="/next"><Say>Press 1.</Say></Gather><Dial><Number>15162065340</Number></Dial>'
    before = await _no_input_call(body)
    change_default(monkeypatch, "Gather", "timeout", 7)
    change_default(monkeypatch, "Dial", "timeout", 45)
    change_default(monkeypatch, "Gather", "finishOnKey", "*")
    after = await _no_input_call(body)
    gather = {r: next(e for e in res.events if e.kind == "gather") for r, res in (("before", before),
                                                                                  ("after", after))}
    assert gather["before"].data["timeout"] == 5 and gather["before"].data["finishOnKey"] == "#"
    assert gather["after"].data["timeout"] == 7 and gather["after"].data["finishOnKey"] == "*"
    dial = next(e for e in after.events if e.kind == "dial")
    assert "no answer after 45 s" in dial.text
    assert after.duration > before.duration


def test_an_imported_menu_keeps_its_retry_text_when_the_catalogue_default_changes(monkeypatch):
    graph = example("main-menu")
    assert "retryText" not in graph.nodes["menu"]  # the bundle's retry copy says the catalogue's default
    said = STEPS["Gather"].default("retryText")
    bundle = write_zip(compile_flow(graph), graph)
    change_default(monkeypatch, "Gather", "retryText", "Please try again.")
    imported = import_documents(open_zip(bundle)).graph
    assert imported.nodes["menu"]["retryText"] == said
    again = compile_flow(imported)
    assert said.encode() in again.documents["menu.retry1"]
    # a bundle made with the new default imports as a menu with no retry text of its own
    fresh = import_documents(open_zip(write_zip(compile_flow(graph), graph))).graph
    assert "retryText" not in fresh.nodes["menu"]


def test_a_new_step_starts_as_the_catalogue_says(monkeypatch):
    assert new_step("Gather")["options"] == ["1", "2"]
    monkeypatch.setitem(catalogue.STEPS, "Gather",
                        replace(STEPS["Gather"], starting=(("options", ["1", "2", "3"]),)))
    fresh = new_step("Gather")
    assert fresh["options"] == ["1", "2", "3"]
    fresh["options"].append("4")  # a step's values are its own
    assert new_step("Gather")["options"] == ["1", "2", "3"]
