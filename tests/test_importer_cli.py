"""``flexml-designer import``: flow to stdout or -o, notes to stderr, one clear line for refused input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from compiler import compile_flow, load, loads, write_zip
from compiler.examples import example
from designer.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures" / "import"


def test_flow_goes_to_stdout_and_notes_to_stderr(capsys):
    assert main(["import", str(FIXTURES / "twiml")]) == 0
    out, err = capsys.readouterr()
    graph = loads(out)
    assert graph.graph["start"] == "voice"
    assert "warning: message.xml line 4: unknown verb <Enqueue>" in err
    assert "warning: voice.xml line 4: <Gather> attribute input='speech dtmf'" in err
    assert "note: voice.xml line 3: <Say> voice 'alice' (TwiML) read as 'woman'" in err


def test_out_file_id_and_name(tmp_path, capsys):
    out = tmp_path / "flow.json"
    assert main(["import", str(FIXTURES / "reference" / "say.xml"), "-o", str(out), "--id", "thanks",
                 "--name", "Thank-you line"]) == 0
    graph = load(out)
    assert graph.graph["id"] == "thanks" and graph.graph["name"] == "Thank-you line"
    assert compile_flow(graph).documents["say"].count(b"<Say") == 1
    assert f"{out}: 1 steps from 1 document(s), start say" in capsys.readouterr().err


def test_bundle_import_compiles_to_the_same_documents(tmp_path, capsys):
    graph = example("main-menu")
    compiled = compile_flow(graph, revision="3")
    bundle = tmp_path / "main-menu.zip"
    bundle.write_bytes(write_zip(compiled, graph))
    assert main(["import", str(bundle), "-o", str(tmp_path / "back.json")]) == 0
    back = compile_flow(load(tmp_path / "back.json"), revision="3")
    assert back.documents == compiled.documents


def test_refused_input_is_one_line_and_exit_1(capsys):
    assert main(["import", str(FIXTURES / "reference" / "pause.xml")]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("flexml-designer import: pause.xml: line 3, column 17: not well-formed XML")
    assert 'length="15"' in err


def test_bad_id_and_missing_file(tmp_path, capsys):
    assert main(["import", str(FIXTURES / "reference" / "say.xml"), "--id", "Not Valid"]) == 1
    assert "--id 'Not Valid'" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "none.xml")]) == 1
    assert "none.xml: no such file or folder" in capsys.readouterr().err
    assert main(["import", str(FIXTURES / "linked"), "--entry", "nope"]) == 1
    assert "entry 'nope' is not one of the documents" in capsys.readouterr().err


def test_the_installed_command_runs(tmp_path):
    out = tmp_path / "flow.json"
    proc = subprocess.run([sys.executable, "-m", "designer", "import", str(FIXTURES / "linked"), "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text())["graph"]["start"] == "main"


def test_server_url_dialect_and_region_options(tmp_path, capsys):
    doc = tmp_path / "bye.xml"
    doc.write_text("<Response>\n<Sms>Thanks</Sms>\n<Dial>020 7946 0958</Dial>\n<Redirect>/completed</Redirect>\n"
                   "</Response>", encoding="utf-8")
    assert main(["import", str(doc), "--server-url", "https://ivr.example.com/", "--dialect", "twiml",
                 "--region", "gb"]) == 0
    out, err = capsys.readouterr()
    graph = loads(out)
    by_type = {d["type"]: d for _, d in graph.nodes(data=True)}
    assert by_type["Redirect"]["text"] == "https://ivr.example.com/completed"
    assert by_type["Sms"]["attrs"]["to"] == "{{ From }}"
    assert by_type["Dial"]["numbers"] == ["442079460958"]
    assert "read as TwiML (as asked)" in err and "GB number" in err


def test_a_bad_region_is_one_line(tmp_path, capsys):
    assert main(["import", str(FIXTURES / "reference" / "say.xml"), "--region", "United States"]) == 1
    assert "--region" in capsys.readouterr().err
