"""`flexml-designer validate` and `compile`: one line per problem, exit 1, never a traceback."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from compiler import read_zip
from compiler.examples import example_text
from compiler.grammar import problems as grammar_problems
from designer.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def menu_file(tmp_path) -> Path:
    path = tmp_path / "main-menu.json"
    path.write_text(example_text("main-menu"), encoding="utf-8")
    return path


def write(tmp_path: Path, data, name: str = "flow.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


BROKEN = {
    "graph": {"id": "broken", "start": "hi"},
    "nodes": [
        {"id": "hi", "type": "Say", "text": "x" * 1100},
        {"id": "out", "type": "Dial", "numbers": ["555-1234"]},
        {"id": "end", "type": "Hangup"},
        {"id": "lost", "type": "Hangup"},
    ],
    "edges": [{"source": "hi", "target": "out"}, {"source": "out", "target": "end"},
              {"source": "end", "target": "hi"}],
}


def run(argv, capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- validate --------------------------------------------------------------------------


def test_validate_a_valid_flow(menu_file, capsys):
    code, out, err = run(["validate", str(menu_file)], capsys)
    assert (code, err) == (0, "")
    assert out == f"{menu_file}: valid\n"


def test_validate_prints_one_line_per_problem_and_exits_1(tmp_path, capsys):
    code, out, err = run(["validate", str(write(tmp_path, BROKEN))], capsys)
    assert code == 1
    assert err.splitlines() == [
        "node hi: text: is 1,100 characters; Say speaks at most 1,024",
        "node out: numbers[0]: '555-1234' is not a phone number in E.164 form (like 15162065340 or +15162065340)",
        "node end: branch next: Hang up ends the call's path; it cannot connect to 'hi'",
        "node end: connections: steps hi → out → end → hi form a loop; connect 'end' to a 'Go to' step that "
        "jumps to 'hi' instead",
    ]
    assert out == "node lost: connections: no path from the start reaches this step (warning)\n"


def test_validate_quiet_warnings(tmp_path, capsys):
    data = {"graph": {"id": "w", "start": "a"}, "nodes": [{"id": "a", "type": "Hangup"}, {"id": "b", "type": "Hangup"}],
            "edges": []}
    code, out, err = run(["validate", "--quiet-warnings", str(write(tmp_path, data))], capsys)
    assert (code, err) == (0, "")
    assert out.endswith(": valid (1 warning(s))\n") and "no path" not in out


@pytest.mark.parametrize(("content", "words"), [
    (None, "no such file"),
    ("{\"nodes\": [", "not valid JSON at line 1"),
    ("[1, 2, 3]", "not a flow: expected a JSON object, found list"),
    ("{\"hello\": \"world\"}", "not a flow: there is no 'nodes' list"),
])
@pytest.mark.parametrize("command", ["validate", "compile"])
def test_bad_files_give_one_clear_line(tmp_path, capsys, command, content, words):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    extra = ["--out", str(tmp_path / "out")] if command == "compile" else []
    code, out, err = run([command, str(path), *extra], capsys)
    assert code == 1 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith(f"flexml-designer {command}: {path}: ") and words in err
    assert "Traceback" not in err


# --- compile ---------------------------------------------------------------------------


def test_compile_to_a_folder(menu_file, tmp_path, capsys):
    out_dir = tmp_path / "site"
    code, out, err = run(["compile", str(menu_file), "--out", str(out_dir)], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(f"{out_dir}: ") and "start welcome" in out
    docs = sorted(p.name for p in (out_dir / "documents").iterdir())
    assert "welcome.xml" in docs and "menu.retry1.xml" in docs
    for p in (out_dir / "documents").iterdir():
        assert grammar_problems(p.read_bytes()) == [], p.name
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["start"] == "welcome" and len(manifest["documents"]) == len(docs)
    assert json.loads((out_dir / "flow.json").read_text())["graph"]["id"] == "main-menu"


def test_compile_to_a_zip_with_a_base_url(menu_file, tmp_path, capsys):
    bundle = tmp_path / "menu.zip"
    code, out, err = run(["compile", str(menu_file), "--zip", str(bundle), "--base-url", "https://ivr.example.com/",
                          "--revision", "12"], capsys)
    assert (code, err) == (0, "")
    compiled = read_zip(bundle.read_bytes())
    assert compiled.revision == "12" and compiled.base_url == "https://ivr.example.com"
    assert b'action="https://ivr.example.com/flexml/main-menu/12/menu/gather"' in compiled.documents["menu"]
    assert b"https://ivr.example.com/flexml/main-menu/12/hours/decide" in compiled.documents["welcome"]
    with zipfile.ZipFile(io.BytesIO(bundle.read_bytes())) as zf:
        assert {"manifest.json", "flow.json", "documents/welcome.xml"} <= set(zf.namelist())


def test_compiling_again_into_the_same_folder_leaves_no_stale_documents(menu_file, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compile", str(menu_file), "--out", str(out)]) == 0
    (out / "documents" / "mine.xml").write_text("<Response/>")  # not the compiler's: kept
    smaller = write(tmp_path, example_text("pin-check"), "pin-check.json")
    assert main(["compile", str(smaller), "--out", str(out)]) == 0
    listed = {Path(d["path"]).name for d in json.loads((out / "manifest.json").read_text())["documents"].values()}
    assert {p.name for p in (out / "documents").iterdir()} == listed | {"mine.xml"}
    capsys.readouterr()


def test_compile_is_byte_stable(menu_file, tmp_path, capsys):
    run(["compile", str(menu_file), "--zip", str(tmp_path / "a.zip")], capsys)
    run(["compile", str(menu_file), "--zip", str(tmp_path / "b.zip")], capsys)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_compile_refuses_a_flow_with_errors(tmp_path, capsys):
    out_dir = tmp_path / "out"
    code, out, err = run(["compile", str(write(tmp_path, BROKEN)), "--out", str(out_dir)], capsys)
    assert code == 1 and out == ""
    assert err.splitlines()[0] == "node hi: text: is 1,100 characters; Say speaks at most 1,024"
    assert len(err.splitlines()) == 4
    assert not out_dir.exists()


@pytest.mark.parametrize(("extra", "words"), [
    (["--base-url", "ivr.example.com"], "--base-url 'ivr.example.com' must start with http:// or https://"),
    (["--base-url", "https://ivr.example.com/a b"], "base_url:"),
    (["--revision", "a/b"], "revision: 'a/b' cannot be part of a URL"),
])
def test_compile_refuses_options_that_would_break_urls(menu_file, tmp_path, capsys, extra, words):
    code, out, err = run(["compile", str(menu_file), "--zip", str(tmp_path / "x.zip"), *extra], capsys)
    assert code == 1 and len(err.splitlines()) == 1 and words in err
    assert not (tmp_path / "x.zip").exists()


def test_compile_into_a_place_that_cannot_be_written(menu_file, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, out, err = run(["compile", str(menu_file), "--out", str(blocker / "sub")], capsys)
    assert code == 1 and len(err.splitlines()) == 1 and err.startswith("flexml-designer compile: cannot write output")


def test_compile_needs_out_or_zip(menu_file, capsys):
    with pytest.raises(SystemExit) as info:
        main(["compile", str(menu_file)])
    assert info.value.code == 2
    assert "one of the arguments --out --zip is required" in capsys.readouterr().err


# --- the installed console script --------------------------------------------------------


def console_script() -> list[str]:
    script = Path(sys.executable).with_name("flexml-designer")
    return [str(script)] if script.exists() else [sys.executable, "-m", "designer"]


def test_console_script_validates_and_compiles(menu_file, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    ok = subprocess.run([*console_script(), "validate", str(menu_file)], capture_output=True, text=True,
                        timeout=60, env=env, cwd=tmp_path)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, f"{menu_file}: valid\n", "")
    bad = subprocess.run([*console_script(), "compile", str(tmp_path / "missing.json"), "--zip",
                          str(tmp_path / "x.zip")], capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr == f"flexml-designer compile: {tmp_path / 'missing.json'}: no such file\n"
    made = subprocess.run([*console_script(), "compile", str(menu_file), "--zip", str(tmp_path / "m.zip")],
                          capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert read_zip((tmp_path / "m.zip").read_bytes()).start == "welcome"
