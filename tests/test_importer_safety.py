"""Hostile input: entity bombs, external entities, zips escaping their folder, huge files."""

from __future__ import annotations

import io
import zipfile

import pytest

from compiler import compile_flow, dumps, loads, write_zip
from compiler.examples import example
from compiler.importer import (MAX_DOCUMENT_BYTES, MAX_DOCUMENTS, MAX_SET_BYTES, ImportRefused, import_document,
                               import_documents, import_path)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Response><Say>&lol9;</Say></Response>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Response><Say>&xxe;</Say></Response>
"""


def test_billion_laughs_is_refused_without_expanding():
    with pytest.raises(ImportRefused) as info:
        import_document(BILLION_LAUGHS, "lol.xml")
    assert str(info.value) == ("lol.xml: line 3: the document declares entities (<!ENTITY …>); FlexML needs none, "
                               "so it is refused for safety")


def test_external_entity_is_refused_and_the_file_is_never_read():
    with pytest.raises(ImportRefused) as info:
        import_document(EXTERNAL_ENTITY, "xxe.xml")
    assert "declares entities" in str(info.value)
    assert "root:" not in str(info.value)


def test_utf16_entity_bomb_is_refused_too():
    data = b"\xff\xfe" + BILLION_LAUGHS.decode().replace('<?xml version="1.0"?>', "").encode("utf-16-le")
    with pytest.raises(ImportRefused, match="declares entities"):
        import_document(data, "lol16.xml")


def test_external_dtd_is_not_fetched():
    # port 9 (discard) on loopback: a fetch would fail or hang; the parser never tries
    data = b'<!DOCTYPE Response SYSTEM "http://127.0.0.1:9/evil.dtd">\n<Response><Hangup/></Response>'
    result = import_document(data, "dtd.xml")
    assert result.graph.nodes[result.start]["type"] == "Hangup"
    assert "dtd.xml line 1: the <!DOCTYPE …> declaration is ignored" in [str(n) for n in result.notes]


def test_deep_nesting_is_refused_with_a_plain_reason():
    data = b"<Response>" + b"<Say>" * 400 + b"x" + b"</Say>" * 400 + b"</Response>"
    with pytest.raises(ImportRefused) as info:
        import_document(data, "deep.xml")
    assert "Excessive depth" in str(info.value) and "three deep at most" in str(info.value)
    assert "XML_PARSE_HUGE" not in str(info.value)


def test_a_100_mb_file_is_refused_by_its_size(tmp_path, monkeypatch):
    big = tmp_path / "big.xml"
    with big.open("wb") as fh:  # sparse: no 100 MB written to disk
        fh.truncate(100 * 1024 * 1024)
    reads = []
    real_open = type(big).open

    def counting_open(self, *args, **kwargs):
        fh = real_open(self, *args, **kwargs)
        real_read = fh.read
        fh.read = lambda n=-1: reads.append(n) or real_read(n)  # type: ignore[method-assign]
        return fh

    monkeypatch.setattr(type(big), "open", counting_open)
    with pytest.raises(ImportRefused) as info:
        import_path(big)
    assert str(info.value) == (f"{big}: the file is 104,857,600 bytes; a document may be at most "
                               f"{MAX_DOCUMENT_BYTES:,}")
    assert all(0 <= n <= 4 for n in reads)  # at most the few bytes that tell a zip from XML


def test_a_100_mb_bundle_file_is_refused_by_its_size(tmp_path):
    big = tmp_path / "big.zip"
    with big.open("wb") as fh:
        fh.truncate(100 * 1024 * 1024)
    with pytest.raises(ImportRefused, match="the file is 104,857,600 bytes; a bundle may be at most"):
        import_path(big)


def test_large_documents_in_memory_and_in_a_folder_are_refused(tmp_path):
    huge = b"<Response><Say>" + b"a" * MAX_DOCUMENT_BYTES + b"</Say></Response>"
    with pytest.raises(ImportRefused, match="a document may be at most"):
        import_document(huge, "huge.xml")
    (tmp_path / "huge.xml").write_bytes(huge)
    with pytest.raises(ImportRefused, match="huge.xml: the file is .* a document may be at most"):
        import_path(tmp_path)


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["../evil.xml", "documents/../../evil.xml", "/etc/evil.xml", "C:/evil.xml"])
def test_zip_entries_escaping_the_bundle_are_refused(tmp_path, name):
    path = tmp_path / "evil.zip"
    path.write_bytes(_zip({"main.xml": b"<Response><Hangup/></Response>", name: b"<Response/>"}))
    with pytest.raises(ImportRefused) as info:
        import_path(path)
    assert "points outside the bundle" in str(info.value)
    assert not (tmp_path.parent / "evil.xml").exists()


def test_zip_bomb_entry_is_refused(tmp_path):
    path = tmp_path / "bomb.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("main.xml", b"<Response><Say>" + b" " * (50 * 1024 * 1024) + b"</Say></Response>")
    path.write_bytes(buf.getvalue())
    assert path.stat().st_size < 1024 * 1024
    with pytest.raises(ImportRefused, match="main.xml"):
        import_path(path)


def test_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "flow.zip"
    path.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(ImportRefused, match="not a zip file"):
        import_path(path)


def test_a_zip_of_plain_documents_imports(tmp_path):
    path = tmp_path / "docs.zip"
    path.write_bytes(_zip({"ivr/main.xml": b"<Response><Say>Hi</Say><Redirect>bye.xml</Redirect></Response>",
                           "ivr/bye.xml": b"<Response><Hangup/></Response>"}))
    result = import_path(path)
    assert result.start == "main"
    assert list(result.graph.successors("main")) == ["bye"]


def test_symlinks_in_a_folder_are_not_followed(tmp_path):
    (tmp_path / "main.xml").write_bytes(b"<Response><Hangup/></Response>")
    (tmp_path / "passwd.xml").symlink_to("/etc/passwd")
    result = import_path(tmp_path)
    assert list(result.documents) == ["main.xml"]


def test_a_manifest_pointing_outside_is_refused(tmp_path):
    graph = example("after-hours")
    with zipfile.ZipFile(io.BytesIO(write_zip(compile_flow(graph), graph))) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries["manifest.json"] = entries["manifest.json"].replace(b"documents/closed.xml", b"../closed.xml")
    with pytest.raises(ImportRefused, match="manifest.json: lists ../closed.xml, which is not among the files"):
        import_documents(entries)


def test_too_many_documents_are_refused():
    files = {f"d{i}.xml": b"<Response/>" for i in range(MAX_DOCUMENTS + 1)}
    with pytest.raises(ImportRefused, match=f"import at most {MAX_DOCUMENTS} documents"):
        import_documents(files)


def test_too_many_bytes_in_a_set_are_refused():
    doc = b"<Response><Say>" + b"a" * (MAX_DOCUMENT_BYTES - 100) + b"</Say></Response>"
    files = {f"d{i}.xml": doc for i in range(MAX_SET_BYTES // len(doc) + 1)}
    with pytest.raises(ImportRefused, match=f"the documents add up to .* bytes; at most {MAX_SET_BYTES:,}"):
        import_documents(files)


def test_missing_path_is_one_clear_line(tmp_path):
    with pytest.raises(ImportRefused, match=r"nothing\.xml: no such file or folder"):
        import_path(tmp_path / "nothing.xml")
    with pytest.raises(ImportRefused, match="no .xml documents in this folder"):
        import_path(tmp_path)


def test_numbers_too_long_for_a_flow_are_kept_as_text_to_fix_and_never_raise(tmp_path):
    # attack: attempt=<5,000 digits> in a menu's action URL gave a ValueError traceback from `import`;
    # numDigits="99999999999999999999" became a number the flow file cannot hold (it then failed to load)
    huge = "9" * 5000
    text = (f'<Response><Gather numDigits="99999999999999999999" action="/flexml/f/1/menu/gather?attempt={huge}">'
            '<Say>hi</Say></Gather></Response>').encode()
    result = import_document(text, "big.xml")
    gather = next(d for _, d in result.graph.nodes(data=True) if d.get("type") == "Gather")
    assert gather["attrs"]["numDigits"] == "99999999999999999999"
    assert any("numDigits" in str(note) and "does not fit FlexML" in str(note) for note in result.notes)
    assert loads(dumps(result.graph)).nodes  # what import writes, validate and the designer read back
