"""Reading a FlexML answer the way the carrier does: bytes to a list of verbs.

``parse_document`` refuses anything the carrier could not run — not XML, a
root other than ``<Response>``, an unknown verb, a verb nested where it may
not be, an attribute that is not a number where a number is needed — with
``NotFlexML`` naming the element and its line. Attributes the carrier does
not use are ignored, as the carrier ignores them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from compiler.catalogue import DTMF_KEYS, METHODS, STEPS, VERBS, Step, canonical_verb

from designer.errors import DesignerError

MAX_WHOLE = 10**9  # the largest whole number an attribute may hold
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True,
                          remove_pis=True)


class _FromCatalogue:
    """Marks an argument left out: the catalogue's default for the verb's attribute applies."""


CATALOGUE: Any = _FromCatalogue()


class NotFlexML(DesignerError):
    """An answer the carrier cannot run; the message names what and the line."""


@dataclass
class Verb:
    """One verb of a document: its name, attributes, text, nested verbs and source line."""

    tag: str
    attrs: dict[str, str]
    text: str
    line: int
    index: int  # position among the document's top-level verbs (0-based)
    children: list["Verb"] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # Dial targets

    def where(self) -> str:
        return f"<{self.tag}> on line {self.line}"

    @property
    def spec(self) -> Step:
        """The catalogue's entry for this verb: its defaults, nesting and flags."""
        return STEPS[self.tag]

    def _default(self, name: str, given: Any) -> Any:
        return self.spec.default(name) if given is CATALOGUE else given

    def text_attr(self, name: str) -> str:
        """An attribute's text; the catalogue's default when it is missing or empty."""
        return self.attrs.get(name, "").strip() or str(self._default(name, CATALOGUE) or "")

    def int_attr(self, name: str, default: int | None = CATALOGUE, minimum: int = 0) -> int | None:
        raw = self.attrs.get(name, "").strip()
        if raw == "":
            return self._default(name, default)
        try:
            value = int(raw)
        except ValueError:
            raise NotFlexML(f"{self.where()}: {name}={raw[:40]!r} is not a whole number") from None
        if abs(value) > MAX_WHOLE:  # (seconds or counts: past this a float sum of them overflows)
            raise NotFlexML(f"{self.where()}: {name}={raw[:24]!r}{'…' if len(raw) > 24 else ''} is too large "
                            f"(at most {MAX_WHOLE:,})")
        attr = self.spec.attr(name)  # the reference's range, as the carrier checks it: refused, never clamped
        lo = attr.minimum if attr is not None and attr.minimum is not None else minimum
        hi = attr.maximum if attr is not None else None
        if value < lo or (hi is not None and value > hi):
            wanted = f"from {lo} to {hi}" if hi is not None else f"{lo} or more"
            raise NotFlexML(f"{self.where()}: {name}={raw!r} is out of range; the carrier takes a whole number "
                            f"{wanted}")
        return value

    def bool_attr(self, name: str, default: bool = CATALOGUE) -> bool:
        raw = self.attrs.get(name, "").strip().lower()
        if raw == "":
            return bool(self._default(name, default))
        if raw in ("true", "1", "yes"):
            return True
        if raw in ("false", "0", "no"):
            return False
        raise NotFlexML(f"{self.where()}: {name}={self.attrs[name]!r} must be true or false")

    def method_attr(self, name: str = "method") -> str:
        raw = self.attrs.get(name, "").strip()
        if raw == "":
            return str(self.spec.default(name) or METHODS[0])
        if raw.upper() not in METHODS:
            raise NotFlexML(f"{self.where()}: {name}={raw!r} must be POST or GET")
        return raw.upper()

    def key_attr(self, name: str, default: str = CATALOGUE) -> str:
        """A single DTMF key; an explicitly empty value switches the key off ('')."""
        if name not in self.attrs:
            return str(self._default(name, default) or "")
        raw = self.attrs[name].strip()
        attr = self.spec.attr(name)
        if attr is not None and attr.is_off(raw):
            return ""  # no finish key (finishOnKey="_"): the keys are submitted on timeout
        if raw != "" and raw not in DTMF_KEYS:
            raise NotFlexML(f"{self.where()}: {name}={raw!r} must be one key: 0-9, * or #")
        return raw


def parse_document(data: bytes) -> list[Verb]:
    """The verbs of a FlexML answer, top to bottom; raises ``NotFlexML``."""
    if not data.strip():
        raise NotFlexML("the answer is empty")
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise NotFlexML(f"not XML: {exc.msg} (line {exc.lineno})") from None
    if not isinstance(root.tag, str) or root.tag != "Response":
        raise NotFlexML(f"the root element is <{root.tag}> on line {root.sourceline}, not <Response>")
    verbs = []
    for index, el in enumerate(e for e in root if isinstance(e.tag, str)):
        verbs.append(_verb(el, index, parent=None))
    return verbs


def _verb(el: etree._Element, index: int, parent: str | None) -> Verb:
    tag = el.tag
    if tag not in VERBS:
        known = canonical_verb(tag) if isinstance(tag, str) else None
        hint = f" (FlexML spells it <{known}>)" if known and known in VERBS else ""
        raise NotFlexML(f"unknown verb <{tag}> on line {el.sourceline}{hint}")
    if parent is not None and tag not in STEPS[parent].children:
        raise NotFlexML(f"<{tag}> on line {el.sourceline} cannot be nested in <{parent}>")
    verb = Verb(tag=tag, attrs={str(k): str(v) for k, v in el.attrib.items()}, text=(el.text or "").strip(),
                line=el.sourceline or 0, index=index)
    for child in el:
        if not isinstance(child.tag, str):
            continue
        if verb.spec.dials and child.tag == verb.spec.child_element:
            verb.numbers.append((child.text or "").strip())
        elif verb.spec.children:
            verb.children.append(_verb(child, index, parent=tag))
        else:
            raise NotFlexML(f"<{child.tag}> on line {child.sourceline} cannot be nested in <{tag}>")
    if verb.spec.dials and not verb.numbers and verb.text:
        verb.numbers.append(verb.text)
    return verb
