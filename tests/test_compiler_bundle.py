"""Export bundles: a zip with the flow, every document and a manifest a host can serve from."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from compiler import BundleError, compile_flow, dumps, read_zip, write_dir, write_zip
from compiler.bundle import flow_from_zip
from compiler.examples import example
from compiler.flow import from_data, to_data


def entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def zip_of(files: dict[str, bytes | str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.fixture
def main_menu():
    graph = example("main-menu")
    return graph, compile_flow(graph, revision="4", base_url="https://ivr.example.com")


def test_bundle_holds_manifest_flow_and_every_document(main_menu):
    graph, compiled = main_menu
    files = entries(write_zip(compiled, graph))
    assert sorted(files) == sorted([f"documents/{n}.xml" for n in compiled.documents] + ["flow.json", "manifest.json"])
    assert list(files) == sorted(files)  # entries in a fixed order
    for name, data in compiled.documents.items():
        assert files[f"documents/{name}.xml"] == data
    assert files["flow.json"].decode() == dumps(graph)
    manifest = json.loads(files["manifest.json"])
    assert manifest["start"] == "welcome" and manifest["flow"] == "main-menu" and manifest["revision"] == "4"
    assert manifest["base_url"] == "https://ivr.example.com"
    # the entry ends at the business-hours step, which the host decides (its branches start documents)
    assert manifest["documents"]["welcome"]["steps"] == ["welcome", "hours"]
    assert manifest["decisions"]["hours"]["branches"] == {"open": "menu", "closed": "closed"}
    assert manifest["needs_host"] is True
    assert manifest["routers"]["menu"]["branches"] == {"0": "operator", "1": "sales", "2": "vm-prompt"}
    assert manifest["routers"]["menu"]["retry_docs"] == ["menu.retry1", "menu.retry2"]


def test_read_zip_gives_back_the_same_compiled_flow(main_menu):
    graph, compiled = main_menu
    back = read_zip(write_zip(compiled, graph))
    assert back.documents == compiled.documents
    assert back.steps == compiled.steps
    assert back.templated == compiled.templated
    assert (back.flow, back.name, back.revision, back.start, back.base_url) == (
        compiled.flow, compiled.name, compiled.revision, compiled.start, compiled.base_url)
    assert back.manifest() == compiled.manifest()
    # a host routes a menu from the bundle alone, without the graph
    for digits, attempt in [("1", 1), ("2#", 1), ("", 1), ("7", 1), ("7", 2), ("7", 3)]:
        assert back.routers["menu"].route(digits, attempt) == compiled.routers["menu"].route(digits, attempt)


def test_templated_documents_survive_the_bundle():
    graph = example("main-menu")
    graph.nodes["welcome"]["text"] = "Hello {{ From }}."
    compiled = compile_flow(graph)
    assert read_zip(write_zip(compiled, graph)).templated == compiled.templated == {"welcome"}


def test_the_flow_comes_back_from_the_bundle(main_menu):
    graph, compiled = main_menu
    assert dumps(flow_from_zip(write_zip(compiled, graph))) == dumps(graph)


def test_zip_is_byte_stable_across_runs_and_node_order(main_menu):
    graph, compiled = main_menu
    first = write_zip(compiled, graph)
    assert write_zip(compile_flow(graph, revision="4", base_url="https://ivr.example.com"), graph) == first
    data = to_data(graph)
    data["nodes"].reverse()
    data["edges"].reverse()
    shuffled = from_data(data)
    again = write_zip(compile_flow(shuffled, revision="4", base_url="https://ivr.example.com"), shuffled)
    assert entries(again)["manifest.json"] == entries(first)["manifest.json"]
    assert {k: v for k, v in entries(again).items() if k.startswith("documents/")} == \
        {k: v for k, v in entries(first).items() if k.startswith("documents/")}


def test_write_dir_writes_the_same_files_as_the_zip(tmp_path, main_menu):
    graph, compiled = main_menu
    write_dir(compiled, graph, tmp_path / "out")
    on_disk = {str(p.relative_to(tmp_path / "out")): p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file()}
    assert on_disk == entries(write_zip(compiled, graph))


@pytest.mark.parametrize(("files", "words"), [
    ({"flow.json": "{}"}, "no manifest.json"),
    ({"manifest.json": "{not json"}, "manifest.json is not readable"),
    ({"manifest.json": json.dumps({"flow": "f", "revision": "1", "start": "a",
                                   "documents": {"a": {"path": "documents/a.xml"}}})}, "manifest lists documents/a.xml"),
    ({"manifest.json": json.dumps({"flow": "f", "revision": "1", "start": "b",
                                   "documents": {"a": {"path": "documents/a.xml"}}}),
      "documents/a.xml": "<Response/>"}, "the start document 'b' is missing"),
    ({"manifest.json": json.dumps({"flow": "f", "revision": "1", "start": "a",
                                   "documents": {"a": {"path": "documents/a.xml"}}}),
      "documents/a.xml": "<Response><Shout/></Response>"}, "documents/a.xml"),
    ({"../evil.txt": "x"}, "points outside the bundle"),
])
def test_broken_bundles_are_refused_with_a_message_naming_the_entry(files, words):
    with pytest.raises(BundleError) as info:
        read_zip(zip_of(files), "upload.zip")
    assert str(info.value).startswith("upload.zip: ") and words in str(info.value)


def test_not_a_zip_at_all():
    with pytest.raises(BundleError, match="bundle: not a zip file"):
        read_zip(b"PK but not really")


def _damaged(data: bytes, how: str) -> bytes:
    """The bundle with every entry marked encrypted, or its first entry's compressed bytes scrambled."""
    out = bytearray(data)
    if how == "encrypted":
        for magic, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = out.find(magic)
            while at >= 0:
                out[at + flag_at] |= 1
                at = out.find(magic, at + 4)
        return bytes(out)
    name_len, extra_len = int.from_bytes(out[26:28], "little"), int.from_bytes(out[28:30], "little")
    start = 30 + name_len + extra_len
    for k in range(start, start + 20):
        out[k] ^= 0x5A
    return bytes(out)


@pytest.mark.parametrize(("how", "words"), [("encrypted", "is encrypted"), ("scrambled", "cannot be unpacked")])
def test_an_encrypted_or_damaged_zip_is_refused_with_a_message(main_menu, how, words):
    graph, compiled = main_menu
    data = _damaged(write_zip(compiled, graph), how)
    for read in (read_zip, flow_from_zip):
        with pytest.raises(BundleError, match=f"^my.zip: entry 'documents/[a-z-]+\\.xml' {words}"):
            read(data, "my.zip")
