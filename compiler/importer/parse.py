"""Safe parsing of pasted or uploaded FlexML/TwiML documents for the importer.

No entity expansion, no DTD loading, no network, no huge trees, a size limit
per document. What is not XML is refused with ``ImportRefused`` naming the
document and line, with a hint for the usual mistakes (unquoted attribute
values, a ``<`` before a URL, placeholders such as ``<file>`` left in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from compiler.errors import CompilerError

MAX_DOCUMENT_BYTES = 1024 * 1024

_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                       huge_tree=False, remove_comments=True, remove_pis=True)


class ImportRefused(CompilerError, ValueError):
    """Input the importer will not read; the message names the file and line and says why."""


@dataclass
class ParsedDocument:
    name: str  # where it came from: a path inside the set ("ivr/menu.xml")
    root: etree._Element
    line_offset: int  # lines stripped before the XML started (added to sourceline)
    notes: list[tuple[int | None, str]]  # (line, message) found while parsing

    def line(self, el: etree._Element) -> int | None:
        return None if el.sourceline is None else el.sourceline + self.line_offset


_BOMS = (b"\xef\xbb\xbf",)
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)


def parse_document(name: str, data: bytes | str) -> ParsedDocument:
    """Parse one document safely; ``ImportRefused`` for anything that is not a usable document."""
    if isinstance(data, str):
        data = _str_to_bytes(data)
    if len(data) > MAX_DOCUMENT_BYTES:
        raise ImportRefused(f"{name}: the document is {len(data):,} bytes; "
                            f"a document may be at most {MAX_DOCUMENT_BYTES:,}")
    for bom in _BOMS:
        if data.startswith(bom):
            data = data[len(bom):]
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        data = _utf16_to_utf8(name, data)
    stripped = data.lstrip()
    line_offset = data[: len(data) - len(stripped)].count(b"\n")
    data = stripped
    if not data:
        raise ImportRefused(f"{name}: the document is empty")
    if not data.startswith(b"<"):
        raise ImportRefused(f"{name}: line {1 + line_offset}: not XML: a FlexML document starts with "
                            "<Response> (or <?xml …?>)")
    _refuse_entities(name, data, line_offset)
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ImportRefused(syntax_message(name, data, exc, line_offset)) from None
    except ValueError as exc:  # e.g. an encoding lxml does not know
        raise ImportRefused(f"{name}: cannot read the document: {exc}") from None
    notes: list[tuple[int | None, str]] = []
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None:
        if list(dtd.iterentities()):
            raise ImportRefused(f"{name}: the document declares entities (<!ENTITY …>); FlexML needs none, "
                                "so it is refused for safety")
        notes.append((1 + line_offset, "the <!DOCTYPE …> declaration is ignored"))
    for el in root.iter():
        if isinstance(el, etree._Entity):
            line = None if el.sourceline is None else el.sourceline + line_offset
            raise ImportRefused(f"{name}: line {line}: entity reference {el.text} is not allowed; "
                                "write the text itself")
    tag = local_name(root)
    if tag.lower() != "response":
        raise ImportRefused(f"{name}: line {(root.sourceline or 1) + line_offset}: the document starts with "
                            f"<{tag}>; a FlexML document is wrapped in <Response> … </Response>")
    if tag != "Response":
        notes.append((root.sourceline, f"<{tag}> read as <Response>"))
    return ParsedDocument(name=name, root=root, line_offset=line_offset, notes=notes)


def local_name(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _str_to_bytes(text: str) -> bytes:
    # a declaration naming another encoding would lie about UTF-8 bytes: drop it, keep its line
    text = text.lstrip("\ufeff")
    text = re.sub(r"^(\s*)<\?xml[^>]*\?>", r"\1", text, count=1)
    return text.encode("utf-8")


def _utf16_to_utf8(name: str, data: bytes) -> bytes:
    try:
        return _str_to_bytes(data.decode("utf-16"))
    except UnicodeDecodeError:
        raise ImportRefused(f"{name}: starts like UTF-16 text but cannot be decoded") from None


def _refuse_entities(name: str, data: bytes, line_offset: int) -> None:
    doctype = _DOCTYPE.search(data)
    if doctype is None:
        return
    entity = _ENTITY_DECL.search(data, doctype.start())
    if entity is not None:
        line = data.count(b"\n", 0, entity.start()) + 1 + line_offset
        raise ImportRefused(f"{name}: line {line}: the document declares entities (<!ENTITY …>); FlexML "
                            "needs none, so it is refused for safety")


_UNQUOTED = re.compile(r"""([A-Za-z_][\w.-]*)\s*=\s*([^\s"'<>/=]+)""")
_PLACEHOLDER = re.compile(r"<([A-Za-z_][\w-]*)>")
_TAG_URL = re.compile(r"<\s*((?:https?|hls|rtmp)://.*?)(?=</|$)", re.IGNORECASE)


def syntax_message(name: str, data: bytes, exc: etree.XMLSyntaxError, line_offset: int = 0) -> str:
    """One line: where the XML breaks, lxml's reason and, when we recognise it, how to fix it."""
    lineno = exc.lineno or 1
    lines = data.decode("utf-8", "replace").splitlines()
    text = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    msg = re.sub(r", line \d+, column \d+$", "", exc.msg or "not well-formed")
    msg = " ".join(msg.replace(", use XML_PARSE_HUGE option", "").split())
    where = f"{name}: line {lineno + line_offset}"
    column = exc.position[1] if exc.position else None
    if column:
        where += f", column {column}"
    hint = _hint(exc, msg, text)
    out = f"{where}: not well-formed XML: {msg}"
    if text.strip():
        out += f" in {text.strip()[:80]!r}"
    return f"{out}; {hint}" if hint else out


def _hint(exc: etree.XMLSyntaxError, msg: str, text: str) -> str | None:
    if "Excessive depth" in msg:
        return "FlexML nests elements three deep at most (<Response>, <Gather>, <Say>)"
    if "AttValue" in msg:
        m = _UNQUOTED.search(text)
        if m:
            return f'attribute values need quotes: {m.group(1)}="{m.group(2)}"'
        return 'attribute values need quotes: name="value"'
    if "Unescaped '<'" in msg:
        m = _PLACEHOLDER.search(text)
        if m:
            return (f"'{m.group(0)}' looks like a placeholder from an example: replace it with a real "
                    "value (a '<' inside an attribute must be written &lt;)")
        return "a '<' inside an attribute value must be written &lt;"
    m = _TAG_URL.search(text)
    if m:
        url = m.group(1).strip().rstrip(">")
        hint = f"a URL is plain text between the tags, not a tag: write it without the '<' before it ({url})"
        placeholder = _PLACEHOLDER.search(url)
        if placeholder:
            hint += f", and replace '{placeholder.group(0)}', a placeholder from an example, with the real name"
        return hint
    if "mismatch" in msg.lower() or "end tag" in msg.lower():
        return "every <Verb> needs its </Verb> (or write it as <Verb/>)"
    if "&" in text and ("EntityRef" in msg or "xmlParseEntityRef" in msg):
        return "write & as &amp; in text and URLs"
    return None
