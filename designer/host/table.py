"""The host's flow table: compiled flows held in memory, ready to answer the carrier.

``FlowTable`` keeps every published revision of every flow (calls in progress
finish on the revision they started with), the revision new calls get, and
which phone number (DID) rings which flow. Readers take one immutable
``Snapshot``; ``serve_revision``/``bind``/… build new dicts and swap the reference,
so a request never sees half an update and never waits on a lock.

Documents are prepared once, when a revision is served: plain documents as their bytes;
documents whose Say/Sms text uses call variables as byte chunks around the
parsed texts, rendered per request (within a fixed length, XML-escaped, never
raising). A text that is not valid call-variable text (a hand-made document
the checks missed) stays as it is written, escaped: it is never run.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from lxml import etree

from compiler import CompiledFlow, Router
from compiler.catalogue import CALL_VARIABLES, SAY, STEPS
from compiler.decisions import Override, at_time
from compiler.emit import XML_HEAD, Urls
from compiler.templating import MAX_RENDERED, CallText, TemplateError, check, is_template, number_name, parse, \
    render_number, variables
from designer.host.decide import Decisions
from designer.host.trust import CarrierTrust

SAY_MAX_CHARS = SAY.text_max  # the carrier reads at most this many characters of one Say
# verbs whose text may use call variables → most characters of the rendered text, as the catalogue says
TEMPLATED_TAGS = {spec.type: min(spec.templated_text_limit or MAX_RENDERED, MAX_RENDERED)
                  for spec in STEPS.values() if spec.can_template}
# phone attributes that may name a call variable ({{ From }}), by verb: as the catalogue marks them
NUMBER_ATTRS = {spec.type: tuple(a.name for a in spec.attrs if a.call_number) for spec in STEPS.values()
                if any(a.call_number for a in spec.attrs)}

log = logging.getLogger("flexml.host")

_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False)


def number_key(text: str) -> str:
    """The key a number is bound and looked up under, digits only: '+1 (516) 206-5337' → '15162065337'.

    It never refuses: what has no digits gives ''. (``designer.services.checked_number`` is the check a
    user's number must pass.)

    A SIP or tel URI keeps the user part: 'sip:+15162065337@10.0.0.1' → '15162065337'.
    """
    text = str(text or "").strip()
    if "@" in text:
        text = text.split("@", 1)[0]
    return "".join(ch for ch in text if "0" <= ch <= "9")


def number_variants(number: str) -> tuple[str, ...]:
    """Spellings one DID may be bound under: as given, and with/without the country code 1."""
    if len(number) == 11 and number.startswith("1"):
        return number, number[1:]
    if len(number) == 10:
        return number, "1" + number
    return (number,)


def xml_text(text: str) -> bytes:
    """Text safe to put between XML tags: escaped, without characters XML cannot hold."""
    text = _NOT_XML_CHAR.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode("utf-8")


def _call_text(text: str | None) -> CallText | None:
    """A Say/Sms text to render per call; None for plain text, or for text that is not valid call-variable
    text (it is then served as written)."""
    # names a Set step remembers are known too (validation checked them against the flow's Set steps)
    if not text or not is_template(text) or check(text, {*CALL_VARIABLES, *variables(text)}) is not None:
        return None
    try:
        return parse(text)
    except TemplateError:
        return None


@dataclass(frozen=True)
class Template:
    """A document with call variables: fixed byte chunks around slots.

    A slot is ``("text", parsed, cap)`` — a Say or Sms text (a ``CallText``), rendered, cut at
    ``cap`` characters and XML-escaped — or ``("number", attribute, variable)`` —
    a phone attribute naming a call variable (``to="{{ From }}"``), written as
    ``to="15551230001"`` when the call has such a number and left out (so the
    carrier's default applies) when it has none.
    """

    chunks: tuple[bytes, ...]
    slots: tuple[tuple[str, Any, Any], ...]

    def render(self, variables: dict[str, str]) -> bytes:
        out = [self.chunks[0]]
        for (kind, source, how), chunk in zip(self.slots, self.chunks[1:]):
            if kind == "text":
                out.append(xml_text(source.render(variables, how)))
            else:
                number = render_number(how, variables)
                if number is not None:
                    out.append(b" " + source.encode() + b'="' + number.encode() + b'"')
            out.append(chunk)
        return b"".join(out)

    @classmethod
    def from_document(cls, data: bytes) -> "Template | None":
        """Split a document at its templated Say/Sms texts and Sms numbers; None when it has none."""
        root = etree.fromstring(data, _PARSER)
        text = data.decode("utf-8")
        marker = "\ue000"
        while marker in text:
            marker += "\ue001"
        slots: list[tuple[str, Any, Any]] = []
        for el in root.iter(*{*TEMPLATED_TAGS, *NUMBER_ATTRS}):
            for name in [n for n in el.keys() if n in NUMBER_ATTRS.get(el.tag, ())]:  # in the element's order
                variable = number_name(el.get(name, ""))  # a call field or a remembered value
                if variable is not None:
                    slots.append(("number", name, variable))
                    el.set(name, f"{marker}{len(slots) - 1}{marker}")
            parsed = _call_text(el.text) if el.tag in TEMPLATED_TAGS else None
            if parsed is not None:
                slots.append(("text", parsed, TEMPLATED_TAGS[el.tag]))
                el.text = f"{marker}{len(slots) - 1}{marker}"
        if not slots:
            return None
        body = XML_HEAD + etree.tostring(root, encoding="UTF-8") + b"\n"
        mark = re.escape(marker.encode())
        # a number slot stands for its whole attribute (name, quotes and the space before it)
        parts = re.split(rb' [A-Za-z]+="' + mark + rb'\d+' + mark + rb'"|' + mark + rb'\d+' + mark, body)
        return cls(chunks=tuple(parts), slots=tuple(slots))


@dataclass(frozen=True)
class ServedRevision:
    """One revision of one flow, prepared for answering."""

    compiled: CompiledFlow
    static: dict[str, bytes]
    templates: dict[str, Template]
    decisions: Decisions = Decisions({}, {}, {})
    prefix: str = ""  # the flow's URLs in documents start with it (``/flexml/{flow}/{rev}``)

    @property
    def flow(self) -> str:
        return self.compiled.flow

    @property
    def revision(self) -> str:
        return self.compiled.revision

    @property
    def start(self) -> str:
        return self.compiled.start

    @property
    def routers(self) -> dict[str, Router]:
        return self.compiled.routers

    def has_document(self, name: str) -> bool:
        return name in self.static or name in self.templates

    def body(self, name: str, variables: dict[str, str]) -> bytes | None:
        """A document's bytes for one request, or None when the revision has no such document."""
        data = self.static.get(name)
        if data is not None:
            return data
        template = self.templates.get(name)
        return None if template is None else template.render(variables)

    @classmethod
    def prepare(cls, compiled: CompiledFlow) -> "ServedRevision":
        static: dict[str, bytes] = {}
        templates: dict[str, Template] = {}
        for name, data in compiled.documents.items():
            template = Template.from_document(data) if name in compiled.templated else None
            if template is None:
                static[name] = data
            else:
                templates[name] = template
        urls = Urls(compiled.flow, compiled.revision, compiled.base_url)
        ends_of = {name: compiled.steps[name][-1] for name in compiled.documents if compiled.ends_at(name)}
        return cls(compiled=compiled, static=static, templates=templates,
                   decisions=Decisions.prepare(compiled.decisions, ends_of, urls, static),
                   prefix=urls.prefix)


@dataclass(frozen=True)
class Snapshot:
    """What the host answers from at one moment; never changed after it is built."""

    revisions: dict[str, dict[str, ServedRevision]] = field(default_factory=dict)  # flow → rev → revision
    current: dict[str, str] = field(default_factory=dict)  # flow → revision new calls get
    dids: dict[str, str] = field(default_factory=dict)  # normalised number → flow

    def flow_for_number(self, number: str) -> str | None:
        for variant in number_variants(number_key(number)):
            flow = self.dids.get(variant)
            if flow is not None:
                return flow
        return None

    def revision(self, flow: str, rev: str | None = None) -> ServedRevision | None:
        """A revision of a flow; the current one when ``rev`` is None."""
        revs = self.revisions.get(flow)
        if revs is None:
            return None
        if rev is None:
            rev = self.current.get(flow)
            if rev is None:
                return None
        return revs.get(rev)


CLOCK_ENV = "FLEXML_CLOCK"  # "2026-12-24T18:30" (the machine's zone) or with an offset: the host's clock, fixed


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def clock_from_env() -> Callable[[], datetime]:
    """The clock Hours steps decide by: the real one, or the fixed time ``$FLEXML_CLOCK`` names (for demos
    and tests: "what would a caller get at 18:30 on Christmas Eve?"). A time that cannot be read is logged
    and the real clock used."""
    text = os.environ.get(CLOCK_ENV, "").strip()
    if not text:
        return utc_now
    try:
        at = at_time(text)
    except ValueError as exc:
        log.error("$%s: %s; using the real clock", CLOCK_ENV, exc)
        return utc_now
    return lambda: at


class FlowTable:
    """Compiled flows in memory; every change swaps in a new ``Snapshot``.

    ``now`` is the clock Hours steps decide by (the simulator passes another time); ``overrides`` holds
    the operators' switches by (flow, Hours step), an immutable dict swapped whole; ``trust`` what the host
    trusts of a request (``designer.host.trust``: the carrier's token, the recording hosts allowed),
    swapped whole too.
    """

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._lock = threading.Lock()
        self.snapshot = Snapshot()
        self.now = now or clock_from_env()
        self.overrides: dict[tuple[str, str], Override] = {}
        self.trust = CarrierTrust()

    # --- operator switches of Hours steps ---------------------------------------------------

    def set_overrides(self, overrides: dict[tuple[str, str], Override]) -> None:
        """Replace every switch at once (a host refreshing them from the store)."""
        self.overrides = dict(overrides)

    def set_override(self, flow: str, node: str, override: Override | None) -> None:
        """Switch one Hours step (None clears the switch: the schedule decides again)."""
        with self._lock:
            changed = {k: v for k, v in self.overrides.items() if k != (flow, node)}
            if override is not None:
                changed[(flow, node)] = override
            self.overrides = changed

    def override(self, flow: str, node: str) -> Override | None:
        return self.overrides.get((flow, node)) if self.overrides else None

    # --- changes (copy, change, swap) -----------------------------------------------------

    def serve_revision(self, compiled: CompiledFlow, current: bool = True) -> ServedRevision:
        """Start answering with a compiled revision; with ``current`` new calls get it. Older ones stay served."""
        return self.serve_prepared(ServedRevision.prepare(compiled), current)

    def serve_prepared(self, served: ServedRevision, current: bool = True) -> ServedRevision:
        """``serve_revision`` for a revision already prepared (by this table or another: they never change)."""
        flow, rev = str(served.flow), str(served.revision)
        with self._lock:
            snap = self.snapshot
            revisions = dict(snap.revisions)
            revisions[flow] = {**revisions.get(flow, {}), rev: served}
            cur = dict(snap.current)
            if current or flow not in cur:
                cur[flow] = rev
            self.snapshot = Snapshot(revisions, cur, snap.dids)
        return served

    def set_current(self, flow: str, rev: str) -> None:
        """Make an already published revision the one new calls get (a rollback)."""
        rev = str(rev)
        with self._lock:
            snap = self.snapshot
            if rev not in snap.revisions.get(flow, {}):
                raise KeyError(f"flow {flow!r} has no revision {rev!r} in the host")
            self.snapshot = Snapshot(snap.revisions, {**snap.current, flow: rev}, snap.dids)

    def remove_flow(self, flow: str) -> None:
        """Stop answering for a flow (all revisions) and the numbers bound to it."""
        with self._lock:
            snap = self.snapshot
            revisions = {k: v for k, v in snap.revisions.items() if k != flow}
            cur = {k: v for k, v in snap.current.items() if k != flow}
            dids = {k: v for k, v in snap.dids.items() if v != flow}
            self.snapshot = Snapshot(revisions, cur, dids)

    remove = remove_flow

    def replace_with(self, other: "FlowTable") -> None:
        """Answer from everything ``other`` holds instead (a full reload from the store), in one swap."""
        with self._lock:
            self.snapshot = other.snapshot

    def bind(self, number: str, flow: str) -> str:
        """Ring ``flow`` for calls to ``number``; returns the normalised number."""
        normalised = number_key(number)
        if not normalised:
            raise ValueError(f"phone number {number!r} has no digits")
        with self._lock:
            snap = self.snapshot
            self.snapshot = Snapshot(snap.revisions, snap.current, {**snap.dids, normalised: flow})
        return normalised

    def unbind(self, number: str) -> None:
        """Stop answering ``number`` on the account URL, however it was spelled when bound."""
        spellings = number_variants(number_key(number))
        with self._lock:
            snap = self.snapshot
            dids = {k: v for k, v in snap.dids.items() if k not in spellings}
            self.snapshot = Snapshot(snap.revisions, snap.current, dids)

    # --- reading --------------------------------------------------------------------------

    def flows(self) -> list[str]:
        return sorted(self.snapshot.revisions)

    def current_revision(self, flow: str) -> str | None:
        return self.snapshot.current.get(flow)

    def revisions(self, flow: str) -> list[str]:
        return list(self.snapshot.revisions.get(flow, {}))

    def compiled(self, flow: str, rev: str | None = None) -> CompiledFlow | None:
        served = self.snapshot.revision(flow, rev)
        return None if served is None else served.compiled

    def numbers(self) -> dict[str, str]:
        return dict(self.snapshot.dids)

    def flow_for_number(self, number: str) -> str | None:
        return self.snapshot.flow_for_number(number)
