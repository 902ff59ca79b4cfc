"""Follow the URLs inside compiled documents the way the carrier would, without a host.

``walk_urls(compiled)`` starts at the start document and follows every URL a
call can take: Redirect text, Play/Record ``errorAction``, and each Gather's
``action`` (its router), asking ``Router.route`` for every option, no input,
a wrong key and every retry attempt, and each decision's URL (``…/{node}/decide``: a
Redirect the host replaces, or a Transfer's action) to every branch's document. It returns which documents were reached
and, for each fetch, the document that answered. Every URL must name a
document or router of the same flow and revision; anything else is a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from compiler import CompiledFlow


class DanglingUrl(AssertionError):
    pass


@dataclass
class Walk:
    documents: set[str] = field(default_factory=set)
    # (document, URL found in it, document that answers that URL)
    links: list[tuple[str, str, str]] = field(default_factory=list)
    external: set[str] = field(default_factory=set)  # URLs leaving the flow (the user's Redirect steps)

    def steps(self, compiled: CompiledFlow) -> set[str]:
        return {s for doc in self.documents for s in compiled.steps[doc]}


def resolve(compiled: CompiledFlow, url: str) -> tuple[str, str | None, int]:
    """('doc', name, 0), ('router', node, attempt), ('decide', node, 0) or ('recorded', node, 0) for a URL
    inside ``compiled``;
    ('external', None, 0) for a URL that is not under the flow's own prefix."""
    parts = urlsplit(url)
    base = urlsplit(compiled.base_url)
    prefix = f"{base.path.rstrip('/')}/flexml/{compiled.flow}/{compiled.revision}/"
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc) or not parts.path.startswith(prefix):
        return "external", None, 0
    rest = parts.path[len(prefix):].split("/")
    if len(rest) == 1 and rest[0] in compiled.documents:
        return "doc", rest[0], 0
    if len(rest) == 2 and rest[1] == "gather" and rest[0] in compiled.routers:
        attempt = int(parse_qs(parts.query).get("attempt", ["1"])[0])
        return "router", rest[0], attempt
    if len(rest) == 2 and rest[1] == "decide" and rest[0] in compiled.decisions:
        return "decide", rest[0], 0
    if len(rest) == 2 and rest[1] == "recorded" and rest[0] in compiled.recordings:
        return "recorded", rest[0], 0
    raise DanglingUrl(f"{url!r} names no document or router of the flow")


def urls_in(data: bytes) -> list[tuple[str, str]]:
    """(kind, URL) for every URL a call may follow out of one document."""
    root = etree.fromstring(data)
    out = []
    for el in root:
        if el.tag == "Redirect":
            out.append(("redirect", el.text.strip()))
        if el.get("errorAction"):
            out.append(("errorAction", el.get("errorAction")))
        if el.tag in ("Gather", "Dial", "Record") and el.get("action"):
            out.append(("action", el.get("action")))
    return out


def router_answers(compiled: CompiledFlow, node: str, attempt: int) -> list[str | None]:
    """Documents the router can answer with: every option, no input, and a wrong key."""
    router = compiled.routers[node]
    wrong = "9" * 40  # no option is 40 keys long
    inputs = [*router.branches, "", wrong, wrong + router.finish_on_key]
    return [router.route(digits, attempt) for digits in inputs]


def walk_urls(compiled: CompiledFlow) -> Walk:
    walk = Walk()
    todo = [compiled.start]
    while todo:
        doc = todo.pop()
        if doc in walk.documents:
            continue
        walk.documents.add(doc)
        for _kind, url in urls_in(compiled.documents[doc]):
            kind, name, attempt = resolve(compiled, url)
            if kind == "external":
                walk.external.add(url)
                continue
            answers = [name] if kind == "doc" else list(compiled.decisions[name].branches.values()) \
                if kind == "decide" else [compiled.recordings[name]] if kind == "recorded" \
                else router_answers(compiled, name, attempt)
            for answer in answers:
                if answer is None:
                    continue  # the router ends the call
                if answer not in compiled.documents:
                    raise DanglingUrl(f"router {name} answers with {answer!r}, which is no document")
                walk.links.append((doc, url, answer))
                todo.append(answer)
    return walk


def served(compiled: CompiledFlow, name: str, taken: dict[str, str] | None = None) -> bytes:
    """What the host answers for document ``name`` (no call variables): each decision it ends at replaced by
    the verbs of the branch taken (``taken``: node → branch; default each step's first, e.g. ``open``).

    Built with lxml from the compiled documents, independently of the host's byte splicing."""
    from compiler.emit import document
    from designer.host.decide import MAX_CHAIN

    from compiler.emit import Urls

    verbs: list = []
    seen = {name}
    for _ in range(MAX_CHAIN):  # a branch may lead back (through a Go to): the host stops after MAX_CHAIN
        root = etree.fromstring(compiled.documents[name])
        elements = list(root)
        node = compiled.steps[name][-1]
        decision = compiled.decisions.get(node)
        last = elements[-1] if elements else None
        if decision is None or last is None or last.tag != "Redirect" or not last.text.endswith(f"/{node}/decide"):
            return document(verbs + elements)
        verbs += elements[:-1]
        branch = (taken or {}).get(node, next(iter(decision.branches)))
        name = decision.branches[branch]
        if name is None:
            return document(verbs)
        if name in seen:  # back to a document already in the answer: a Redirect to it, its verbs not repeated
            again = etree.Element("Redirect")
            again.text = Urls(compiled.flow, compiled.revision, compiled.base_url).document(name)
            return document(verbs + [again])
        seen.add(name)
    return document(verbs + list(etree.fromstring(compiled.documents[name])))
