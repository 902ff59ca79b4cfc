"""Nested, oversized or hand-made input through every command, as a real process: exit 1 and one clear line
on stderr, never a traceback (the attacks of issue 11 that crashed or froze them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DEEP = "[" * 100_000 + "]" * 100_000  # Python's json raises RecursionError for this


def run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    return subprocess.run([sys.executable, "-m", "designer", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def refused(result: subprocess.CompletedProcess, *words: str) -> str:
    err = result.stderr
    assert result.returncode == 1, (result.returncode, err[-2000:])
    assert "Traceback" not in err and err.count("\n") == 1, err[-2000:]
    for word in words:
        assert word in err, err
    return err


def flow_with_text(path: Path, text: str) -> Path:
    path.write_text(json.dumps({"graph": {"id": "nested", "start": "hi"},
                                "nodes": [{"id": "hi", "type": "Say", "text": text}], "edges": []}))
    return path


def bundle(path: Path, say: str = "Hello.", manifest: str | None = None) -> Path:
    """A hand-made bundle: one document whose Say text is ``say``, marked as using call variables."""
    listed = {"flow": "hand", "revision": "1", "start": "hi", "routers": {},
              "documents": {"hi": {"path": "documents/hi.xml", "steps": ["hi"], "templated": True}}}
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("manifest.json", manifest if manifest is not None else json.dumps(listed))
        zf.writestr("flow.json", DEEP if manifest is not None else "{}")
        zf.writestr("documents/hi.xml", f'<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n  <Say>{say}</Say>\n'
                                        "</Response>\n")
    return path


COMMANDS = {
    "validate": lambda source, out: ["validate", source],
    "compile": lambda source, out: ["compile", source, "--zip", str(out / "out.zip")],
    "host": lambda source, out: ["host", source, "--get", "/flexml/nested"],
    "simulate": lambda source, out: ["simulate", source],
}
NESTED_TEXTS = {
    "500 brackets": "{{ " + "(" * 500 + "1" + ")" * 500 + " }}",
    "20,000 minus signs": "{{ " + "-" * 20_000 + "1 }}",
    "3,000 plus terms": "{{ " + "+".join(["1"] * 3_000) + " }}",
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("name", NESTED_TEXTS)
def test_nested_call_variable_text_is_one_line_naming_the_step_from_every_command(tmp_path, command, name):
    source = flow_with_text(tmp_path / "nested.json", NESTED_TEXTS[name])
    refused(run(*COMMANDS[command](str(source), tmp_path)), "node hi: text:")


@pytest.mark.parametrize("command", COMMANDS)
def test_a_flow_file_nested_100000_deep_is_one_line_from_every_command(tmp_path, command):
    source = tmp_path / "deep.json"
    source.write_text(DEEP)
    refused(run(*COMMANDS[command](str(source), tmp_path)), "nested too deeply")


@pytest.mark.parametrize("command", ["host", "simulate", "import"])
def test_a_bundle_whose_manifest_nests_100000_deep_is_one_line(tmp_path, command):
    source = bundle(tmp_path / "deep.zip", manifest=DEEP)
    args = ["host", str(source), "--get", "/flexml/hand"] if command == "host" else [command, str(source)]
    refused(run(*args), "manifest.json", "nested too deeply")


@pytest.mark.parametrize("command", ["host", "simulate"])
def test_a_hand_made_bundle_with_a_loop_in_its_text_is_refused_before_serving(tmp_path, command):
    source = bundle(tmp_path / "loop.zip", say="{% for i in range(100000) %}{{ From }}{% endfor %}")
    args = ["host", str(source), "--get", "/flexml/hand"] if command == "host" else [command, str(source)]
    refused(run(*args), "documents/hi.xml", "line 3", "no loops")


def test_a_hand_made_bundle_with_good_call_variables_is_still_served(tmp_path):
    source = bundle(tmp_path / "good.zip", say="Hi {{ CallerName | default('friend') }}")
    result = run("host", str(source), "--get", "/flexml/hand?CallerName=")
    assert result.returncode == 0, result.stderr
    assert "<Say>Hi friend</Say>" in result.stdout


def test_a_70_byte_document_with_a_freezing_text_imports_with_a_note_and_then_fails_validation(tmp_path):
    source = tmp_path / "bad.xml"
    source.write_text("<Response><Say>{{ '%999999999d' % 1 }}</Say></Response>")
    assert len(source.read_bytes()) <= 70
    imported = run("import", str(source), "-o", str(tmp_path / "bad.json"))
    assert imported.returncode == 0 and "Traceback" not in imported.stderr, imported.stderr
    assert "to fix before publishing: text: call variable text has a mistake on line 1" in imported.stderr
    refused(run("validate", str(tmp_path / "bad.json")), "node bad: text:", "no % formatting")
