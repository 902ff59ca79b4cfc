"""Every file the repository mentions is in the repository: a reader of a comment, a docstring or a doc page
can open what it cites. Notes kept outside the repository are cited by name ("the FlexML reference"), not
by file; markdown links (and their #anchors) point at files and headings that exist."""

from __future__ import annotations

import ast
import functools
import io
import os
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCANNED = {".py", ".md", ".js", ".toml", ".rng", ".css"}
SKIPPED_DIRS = {".git", ".venv", "node_modules", "build", "dist", "tmp", "__pycache__", ".pytest_cache",
                ".hypothesis", ".nicegui", "screenshots"}
# a file name ending in .md or .txt, with or without folders, not part of a URL or of a longer path
MENTION = re.compile(r"(?<![\w/.:-])((?:[\w.-]+/)*[\w-]+\.(?:md|txt))(?![\w/-])")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


@functools.cache
def repo_files() -> tuple[Path, ...]:
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        found += [Path(folder) / f for f in sorted(files) if Path(f).suffix in SCANNED]
    return tuple(found)


def prose(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of what a reader reads as prose: a Python file's comments and docstrings
    (its other strings are data, such as a test's file names), any other file whole."""
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix != ".py":
        yield from enumerate(text.splitlines(), 1)
        return
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and \
                node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) \
                and isinstance(node.body[0].value.value, str):
            first = node.body[0].lineno
            yield from enumerate(node.body[0].value.value.splitlines(), first)


def exists(mention: str, cited_from: Path) -> bool:
    """A path is looked up from the project folder and from the citing file's folder; a bare name anywhere."""
    if "/" in mention:
        return (ROOT / mention).exists() or (cited_from.parent / mention).exists()
    return any(p.name == mention for p in repo_files()) or (ROOT / mention).exists()


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as hyphens."""
    out = set()
    for line in markdown.splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add("".join(c for c in title.replace(" ", "-") if c.isalnum() or c in "-_"))
    return out


def test_the_scan_sees_the_code_and_the_docs():
    names = {p.relative_to(ROOT).as_posix() for p in repo_files()}
    assert {"README.md", "pyproject.toml", "compiler/catalogue.py", "static/flow_canvas.js",
            "docs/steps.md"} <= names
    assert not any(n.startswith((".venv/", "node_modules/")) for n in names)


def test_no_file_cites_a_file_that_is_not_in_the_repository():
    missing = []
    for path in repo_files():
        for n, line in prose(path):
            missing += [f"{path.relative_to(ROOT)}:{n}: {m}" for m in MENTION.findall(line) if not exists(m, path)]
    assert not missing, "files cited but not in the repository:\n" + "\n".join(missing)


def test_markdown_links_point_at_files_and_headings_that_exist():
    broken = []
    for page in (p for p in repo_files() if p.suffix == ".md"):
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):  # https:, mailto:
                    continue
                file, _, anchor = target.partition("#")
                linked = (page.parent / file).resolve() if file else page
                where = f"{page.relative_to(ROOT)}:{n}: {target}"
                if not linked.exists():
                    broken.append(f"{where} (no such file)")
                elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text(encoding="utf-8")):
                    broken.append(f"{where} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_checks_catch_a_missing_file_and_a_missing_heading(tmp_path):
    assert MENTION.findall("format 1 of NOTES.md, see docs/nowhere.md") == ["NOTES.md", "docs/nowhere.md"]
    assert not exists("NOTES.md", ROOT / "README.md") and not exists("docs/nowhere.md", ROOT / "README.md")
    assert exists("docs/steps.md", ROOT / "README.md") and exists("steps.md", ROOT / "docs" / "install.md")
    assert MENTION.findall("https://example.com/a/README.md and ./tmp/x.txt-like") == []
    source = tmp_path / "cites.py"
    source.write_text('"""Read NOTES.md."""\n\nNAME = "data.txt"  # see docs/nowhere.md\n')
    assert [m for _, line in prose(source) for m in MENTION.findall(line)] == ["docs/nowhere.md", "NOTES.md"]
    assert "menu--collect-digits-gather" in anchors("## Menu / collect digits (`Gather`)")
