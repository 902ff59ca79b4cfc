"""Decisions the host takes while it answers: Hours, Split, Set and a Transfer's outcome.

A document whose last step is a decision ends with ``<Redirect>{prefix}/{node}/decide</Redirect>``
(so it stays valid FlexML on its own). When the host answers it, it drops that Redirect, takes the
decision and appends the chosen branch document's verbs inside the same ``<Response>``, repeating
(at most ``MAX_CHAIN`` times) while the appended document ends at another decision. The carrier
never sees a decision and the caller pays no round trip for it.

Values a Set step remembers travel with the call, not in one process's memory: the host appends
them to the flow's URLs it writes in that answer (``…/menu/gather?v.language=es``) and reads them
back from the query string of later requests, so any host process can answer any request.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple
from urllib.parse import quote

from compiler.catalogue import CALL_VARIABLES, NUMBER_VARIABLES, STEPS
from compiler.decisions import (DIAL_STATUS_FIELDS, MAX_VALUE_CHARS, MAX_VARS, VAR_NAME, Decision, Hours,
                                Override, Split, dial_outcome)
from compiler.emit import Urls
from compiler.templating import CallText, TemplateError, parse

MAX_CHAIN = 16  # decisions taken in one answer; a flow is a DAG, so this only bounds a hand-made bundle
VAR_PREFIX = "v."  # a remembered value in a URL's query: ?v.language=es
_CALL_FIELDS = frozenset(CALL_VARIABLES)
_NUMBERS = frozenset(NUMBER_VARIABLES)
_CLOSE = b"</Response>\n"


class Taken(NamedTuple):
    """One decision taken in an answer: which step, the branch and the reason a person reads (a tuple: made
    per request, cheaply)."""

    node: str
    type: str
    branch: str
    reason: str


@dataclass(frozen=True)
class Decider:
    """A decision prepared once per served revision (texts parsed), taken per request."""

    decision: Decision
    kind: str  # "hours", "split", "set"; "" for a Transfer's outcome
    value: CallText | str | None = None
    phone: bool = False
    values: tuple[tuple[str, CallText | str], ...] = ()
    hours: Hours | None = None
    split: Split | None = None
    name: str | None = None  # a Split's value is one call field or remembered value ({{ From }}): its name

    def reads(self) -> frozenset[str]:
        """The call fields and remembered values this decision's branch depends on (an Hours step: none, it
        reads the clock)."""
        if self.kind == "split":
            return frozenset((self.name,)) if self.name is not None else _names(self.value)
        if self.kind == "set":
            return frozenset().union(*(_names(text) for _, text in self.values))
        if self.kind == "":
            return frozenset(DIAL_STATUS_FIELDS)
        return frozenset()

    @classmethod
    def prepare(cls, decision: Decision) -> "Decider":
        spec = STEPS.get(decision.type)
        kind = spec.decides if spec is not None else ""
        if kind == "hours":
            return cls(decision, kind, hours=Hours.of(decision.spec))
        if kind == "split":
            value = _text(str(decision.spec.get("value") or ""))
            names = value.names if isinstance(value, CallText) else frozenset()
            phone = bool(names) and names <= _NUMBERS
            one = _ONE_NAME.match(value.source) if isinstance(value, CallText) else None
            return cls(decision, kind, value=value, phone=phone, split=Split.of(decision.spec, phone=phone),
                       name=one.group(1) if one else None)
        if kind == "set":
            raw = decision.spec.get("vars") if isinstance(decision.spec.get("vars"), dict) else {}
            values = tuple((str(k), _text(str(v))) for k, v in list(raw.items())[:MAX_VARS]
                           if VAR_NAME.match(str(k)) and str(k) not in _CALL_FIELDS)
            return cls(decision, kind, values=values)
        return cls(decision, kind)

    def take(self, variables: dict[str, str], now: datetime, override: Override | None,
             remembered: dict[str, str]) -> Taken:
        """The branch for this request; a Set adds its values to ``remembered`` (and ``variables``)."""
        d = self.decision
        if self.kind == "hours":
            branch, reason = self.hours.state(now, override)  # type: ignore[union-attr]
        elif self.kind == "split":
            value = _value(self.name, variables) if self.name is not None else _render(self.value, variables)
            branch, reason = self.split.branch(value)  # type: ignore[union-attr]
        elif self.kind == "set":
            for name, text in self.values:
                value = _render(text, variables)[:MAX_VALUE_CHARS]
                remembered[name] = value
                variables[name] = value
            branch, reason = "next", "remembered " + ", ".join(n for n, _ in self.values)
        else:
            branch, reason = dial_outcome(variables)
        return Taken(d.node, d.type, branch, reason)


def _names(text: CallText | str | None) -> frozenset[str]:
    return text.names if isinstance(text, CallText) else frozenset()


def _text(text: str) -> CallText | str:
    try:
        return parse(text) if ("{{" in text or "{%" in text or "{#" in text) else text
    except TemplateError:
        return text  # a hand-made bundle's text that does not parse stays as written


_ONE_NAME = re.compile(r"^\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,31})\s*\}\}\Z")


def _render(text: CallText | str | None, variables: dict[str, str]) -> str:
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    one = _ONE_NAME.match(text.source)  # the usual {{ From }}: the value itself, without the renderer
    if one is not None:
        return _value(one.group(1), variables)
    return text.render(variables, MAX_VALUE_CHARS)


def _value(name: str, variables: dict[str, str]) -> str:
    """``{{ name }}`` rendered: the value itself, without the renderer (as it renders it)."""
    value = str(variables.get(name) or "")
    if not (value.isascii() and value.isprintable()):
        value = _NOT_XML.sub("", value)
    return value[:MAX_VALUE_CHARS]


_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def header_value(taken: list[Taken]) -> bytes:
    """The decisions of an answer for ``X-FlexML-Decisions``: ``node=branch=reason, …`` (reason URL-encoded)."""
    return ", ".join(f"{t.node}={t.branch}={_header_text(t.reason)}" for t in taken).encode()


def _header_text(text: str) -> str:
    if text.isascii() and text.isprintable():  # the usual reason: escape only what separates the parts
        return text.replace("%", "%25").replace(",", "%2C").replace("=", "%3D")
    return quote(text, safe=" :()-'")


def remembered_of(params: dict[str, str]) -> dict[str, str]:
    """Values a call carries in its URL (``v.NAME``), capped in count and length; call fields never."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if key.startswith(VAR_PREFIX) and len(out) < MAX_VARS:
            name = key[len(VAR_PREFIX):]
            if VAR_NAME.match(name) and name not in _CALL_FIELDS:
                out[name] = value[:MAX_VALUE_CHARS]
    return out


def redirect_tail(urls: Urls, node: str) -> bytes:
    """How a document ending at ``node``'s decision ends: the Redirect the host replaces."""
    return b"  <Redirect>" + urls.decide(node).encode() + b"</Redirect>\n" + _CLOSE


def inner(body: bytes) -> bytes:
    """A document's verbs: what is between ``<Response>`` and ``</Response>`` (lines as emitted)."""
    start = body.find(b"<Response>")
    if start < 0:
        return b""  # <Response/>: no verbs
    end = body.rfind(b"</Response>")
    return body[start + len(b"<Response>\n"):end]


def with_remembered(body: bytes, prefix: str, remembered: dict[str, str]) -> bytes:
    """The answer with the remembered values appended to every URL of this flow it holds."""
    if not remembered:
        return body
    query = "&amp;".join(f"{VAR_PREFIX}{name}={quote(value, safe='')}" for name, value in remembered.items())
    pattern = _url_pattern(prefix)

    def add(m: re.Match) -> bytes:
        url = m.group(2)
        joiner = b"&amp;" if b"?" in url else b"?"
        return m.group(1) + url + joiner + query.encode()

    return pattern.sub(add, body)


_PATTERNS: dict[str, re.Pattern] = {}


def _url_pattern(prefix: str) -> re.Pattern:
    pattern = _PATTERNS.get(prefix)
    if pattern is None:
        p = re.escape(prefix.encode())
        pattern = re.compile(rb'((?:action|errorAction)="|<Redirect[^>]*>)(' + p + rb'/[^"<]*)')
        if len(_PATTERNS) < 1024:
            _PATTERNS[prefix] = pattern
    return pattern


DocBody = Callable[[str, dict[str, str]], "bytes | None"]


@dataclass(frozen=True)
class Decisions:
    """A served revision's decisions, prepared: what ``chain`` needs besides the request.

    ``openings`` and ``verbs`` are the plain (not templated) documents' parts, cut once when the revision is
    served, so a decision costs the answer a dictionary lookup, not a search through the bytes.
    """

    deciders: dict[str, Decider]  # node → its decision
    tails: dict[str, bytes]  # node → the Redirect a document ending at it ends with
    ends_of: dict[str, str]  # document name → the decision node it ends at
    openings: dict[str, bytes] = field(default_factory=dict)  # plain document ending at a decision → its
    # bytes before that Redirect (how an answer starts)
    verbs: dict[str, bytes] = field(default_factory=dict)  # plain document a branch leads to → its verbs as
    # appended to an answer (without the Redirect of a decision it ends at)
    prefix: str = ""  # the revision's URLs start with it: a document already in an answer is a Redirect to it
    plans: dict[str, "Plan"] = field(default_factory=dict)  # plain document → what its answer depends on
    answers: dict[tuple, tuple] = field(default_factory=dict)  # answers kept (``chain``), at most MEMO_SIZE

    @classmethod
    def prepare(cls, decisions: dict[str, Decision], ends_of: dict[str, str], urls: Urls,
                plain: dict[str, bytes] | None = None) -> "Decisions":
        """``plain``: the revision's documents served as they are (name → bytes), cut here once."""
        tails = {n: redirect_tail(urls, n) for n in decisions}
        targets = {doc for d in decisions.values() for doc in d.branches.values() if doc is not None}
        openings: dict[str, bytes] = {}
        verbs: dict[str, bytes] = {}
        for name, data in (plain or {}).items():
            node = ends_of.get(name)
            if node is None:
                if name in targets:
                    verbs[name] = inner(data)
                continue
            tail = tails.get(node, b"")
            if not tail or not data.endswith(tail):
                continue  # not as the compiler writes it: chain looks at it per request (and serves it whole)
            openings[name] = data[:-len(tail)]
            if name in targets:
                verbs[name] = inner(openings[name] + _CLOSE)
        deciders = {n: Decider.prepare(d) for n, d in decisions.items()}
        return cls(deciders, tails, dict(ends_of), openings, verbs, urls.prefix,
                   plans={doc: plan for doc in openings if (plan := _plan(doc, deciders, ends_of, verbs))})


@dataclass(frozen=True)
class Plan:
    """What the answer to a plain document ending at a decision depends on, when every document its
    decisions can lead to is plain too: the clock (to the minute) and the switches of its Hours steps, and
    the values its Splits, Sets and transfer outcomes read. The same inputs give the same answer."""

    hours: tuple[str, ...]
    names: tuple[str, ...]


def _plan(doc: str, deciders: dict[str, Decider], ends_of: dict[str, str], verbs: dict[str, bytes]) -> Plan | None:
    hours: list[str] = []
    names: set[str] = set()
    seen: set[str] = set()
    todo = [ends_of[doc]]
    while todo:
        node = todo.pop()
        decider = deciders.get(node)
        if node in seen or decider is None:
            continue
        seen.add(node)
        if decider.kind == "hours":
            hours.append(node)
        names |= decider.reads()
        for target in decider.decision.branches.values():
            if target is None:
                continue
            if target not in verbs:
                return None  # a templated document (its text reads the call): answered as it comes
            if target in ends_of:
                todo.append(ends_of[target])
    return Plan(tuple(sorted(hours)), tuple(sorted(names)))


MEMO_SIZE = 2048  # answers kept per revision (a new caller's number in a Split is a new one); then started anew
MAX_KEY_CHARS = 256  # an answer is kept only when the values it depends on are this short together (memory: at
# most MEMO_SIZE answers of a few KB per revision)


def chain(first: bytes, ends: str | None, table: Decisions, body_of: DocBody, variables: dict[str, str],
          now: Callable[[], datetime], override_of: Callable[[str], Override | None],
          remembered: dict[str, str], taken: list[Taken], doc: str | None = None) -> bytes:
    """``first`` (document ``doc``'s bytes) with every decision it ends at taken and the chosen verbs appended
    (``decide``), kept for the next request with the same inputs when the document has a ``Plan``: an
    Hours step's answer holds for its minute, a Split's for the value it reads."""
    plan = table.plans.get(doc) if ends is not None and doc is not None else None
    if plan is None:
        return decide(first, ends, table, body_of, variables, now, override_of, remembered, taken, doc)
    values = tuple(map(variables.get, plan.names))
    if sum(len(v) for v in values if v) > MAX_KEY_CHARS:  # a request's long values are not kept
        return decide(first, ends, table, body_of, variables, now, override_of, remembered, taken, doc)
    at = now() if plan.hours else None
    if at is not None:
        stamp = at.timestamp()
        switches = tuple((o.state, o.until) if (o := override_of(n)) is not None and o.active(stamp) else None
                         for n in plan.hours)  # the switch's end is in the reason
        key: tuple = (doc, len(taken), int(stamp // 60), switches, values)
    else:
        key = (doc, len(taken), values)
    kept = table.answers.get(key)
    if kept is not None:
        body, steps, written = kept
        taken.extend(steps)
        if written:  # what its Sets remembered, as taking them would
            remembered.update(written)
            variables.update(written)
        return body
    before = len(taken)
    body = decide(first, ends, table, body_of, variables, (lambda: at) if at is not None else now, override_of,
                  remembered, taken, doc)
    steps = tuple(taken[before:])
    written = {name: remembered[name] for step in steps if (d := table.deciders.get(step.node)) is not None
               and d.kind == "set" for name, _ in d.values if name in remembered}  # what its Sets remembered
    if len(table.answers) >= MEMO_SIZE:
        table.answers.clear()
    table.answers[key] = (body, steps, written)
    return body


def decide(first: bytes, ends: str | None, table: Decisions, body_of: DocBody, variables: dict[str, str],
           now: Callable[[], datetime], override_of: Callable[[str], Override | None],
           remembered: dict[str, str], taken: list[Taken], doc: str | None = None) -> bytes:
    """``first`` (document ``doc``'s bytes) with every decision it ends at taken and the chosen verbs appended.

    ``ends`` is the decision node the document ends at (None: it ends at none); ``taken`` receives the
    decisions. A branch to no document, a missing document or too many decisions in a row end the answer
    there: the result is always one whole ``<Response>``. A branch back to a document already in the answer
    (through a Go to) ends it with a Redirect to that document: its verbs are not repeated (an Override
    first in it would be misplaced), the carrier fetches it anew.
    """
    if ends is None:
        return first
    parts: list[bytes] = []
    body: bytes | None = first  # None: the document ``name`` is plain and its parts are prepared
    name, node = doc, ends
    seen = {doc}  # the documents in this answer
    at: datetime | None = None
    while node is not None and len(taken) < MAX_CHAIN:
        decider = table.deciders.get(node)
        if decider is None:
            break
        part = None if name is None else (table.verbs if parts else table.openings).get(name)
        if part is None:
            tail = table.tails.get(node, b"")
            if body is None or not tail or not body.endswith(tail):
                break  # not the document the compiler wrote: serve it as it is
            part = body[:-len(tail)] if not parts else inner(body[:-len(tail)] + _CLOSE)
        parts.append(part)
        if decider.kind == "hours" and at is None:
            at = now()
        step = decider.take(variables, at, override_of(node), remembered)  # type: ignore[arg-type]
        taken.append(step)
        name = decider.decision.branches.get(step.branch)
        if name is None:
            return b"".join(parts) + _CLOSE
        if name in seen:
            return b"".join(parts) + b"  <Redirect>" + f"{table.prefix}/{name}".encode() + b"</Redirect>\n" + _CLOSE
        seen.add(name)
        body = None if name in table.verbs else body_of(name, variables)
        if body is None and name not in table.verbs:
            return b"".join(parts) + _CLOSE  # a missing document: the answer ends here
        node = table.ends_of.get(name)
    if not parts:
        return first
    if body is None and node is None:
        return b"".join(parts) + table.verbs[name] + _CLOSE  # type: ignore[index]
    if body is None:  # stopped at a decision: that document is served whole, with its Redirect
        body = body_of(name, variables)  # type: ignore[arg-type]
        if body is None:
            return b"".join(parts) + _CLOSE
    return b"".join(parts) + inner(body) + _CLOSE
