"""XML emission: steps to FlexML elements, documents to bytes.

Byte-stable: attributes in catalogue order, booleans as true/false, absent
values dropped, two-space indentation. Emission never changes the flow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from compiler.catalogue import STEPS, Step
from compiler.plan import records_for_host

XML_HEAD = b'<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass(frozen=True)
class Urls:
    """Where a flow's documents and routers live on the host."""

    flow: str
    revision: str
    base_url: str = ""

    @property
    def prefix(self) -> str:
        return f"{self.base_url.rstrip('/')}/flexml/{self.flow}/{self.revision}"

    def document(self, name: str) -> str:
        return f"{self.prefix}/{name}"

    def decide(self, node: str) -> str:
        """Where the host takes a decision step's decision (a Redirect or a Transfer's action requests it)."""
        return f"{self.prefix}/{node}/decide"

    def recorded(self, node: str) -> str:
        """Where a Record's action goes: the host keeps the recording and answers with the rest of the flow."""
        return f"{self.prefix}/{node}/recorded"

    def router(self, gather: str, attempt: int = 1) -> str:
        url = f"{self.prefix}/{gather}/gather"
        return url if attempt <= 1 else f"{url}?attempt={attempt}"


def attr_text(value, kind: str = "string") -> str:
    """An attribute value as FlexML writes it: true/false, whole numbers without padding."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "int":
        return str(int(value))
    if isinstance(value, str):
        return value.strip()
    return str(value)


def set_attrs(el: etree._Element, spec: Step, attrs: dict | None, managed: dict[str, str] | None = None) -> None:
    """Write user attributes and compiler-managed ones in catalogue order."""
    attrs = attrs or {}
    managed = managed or {}
    for a in spec.attrs:
        if a.name in managed:
            el.set(a.name, managed[a.name])
        elif a.name in attrs and (not a.managed or a.settable) and attrs[a.name] not in (None, ""):
            el.set(a.name, attr_text(a.canonical(attrs[a.name]), a.kind))


def verb(type_: str, text: str | None = None, attrs: dict | None = None,
         managed: dict[str, str] | None = None) -> etree._Element:
    """One simple verb element (Say, Play, Pause, Redirect, …)."""
    spec = STEPS[type_]
    el = etree.Element(type_)
    set_attrs(el, spec, attrs, managed)
    if text is not None and spec.text is not None:
        el.text = text.strip() if spec.text == "url" else text
    return el


def step_element(node: str, data: dict, urls: Urls, branches: dict[str, str], attempt: int = 1,
                 document_of: Callable[[str], str] = str) -> etree._Element:
    """The verb a flow step compiles to (a Goto becomes a Redirect).

    ``document_of`` names the document that plays a target step (the compiler
    skips Go to steps, sending a caller straight to where they jump).
    """
    type_ = data["type"]
    spec = STEPS[type_]
    if spec.jumps:
        return verb("Redirect", urls.document(document_of(str(data["target"]))))
    if spec.host_decides:  # the host answers this Redirect's URL itself, or replaces it by the branch taken
        return verb("Redirect", urls.decide(node))
    managed: dict[str, str] = {}
    if spec.is_menu and not sends_keys_away(data):
        managed["action"] = urls.router(node, attempt)
    if spec.outcome_branch and spec.outcome_branch in branches:
        managed["action"] = urls.decide(node)
    if spec.host_records and records_for_host(data):
        managed["action"] = urls.recorded(node)
    if "error" in branches and spec.has_error_branch:
        managed["errorAction"] = urls.document(document_of(branches["error"]))
    el = verb(type_, data.get("text"), data.get("attrs"), managed)
    if spec.is_menu:
        for child in data.get("prompt") or []:
            el.append(verb(child["type"], child.get("text"), child.get("attrs")))
    elif spec.dials:
        for number in data.get("numbers") or []:
            etree.SubElement(el, spec.child_element).text = str(number).strip()
    return el


def sends_keys_away(data: dict) -> bool:
    """A menu whose keys go to another server (its ``attrs.action``), not to the designer's router."""
    spec = STEPS.get(data.get("type", ""))
    attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
    return spec is not None and spec.is_menu and bool(str(attrs.get("action") or "").strip())


def document(verbs: list[etree._Element]) -> bytes:
    root = etree.Element("Response")
    root.extend(verbs)
    etree.indent(root, space="  ")
    return XML_HEAD + etree.tostring(root, encoding="UTF-8") + b"\n"
