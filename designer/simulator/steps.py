"""Which document of which compiled flow an answer was, and which flow step each verb plays.

The designer's test-call panel highlights the step being played. When the
simulator is given the compiled flows it calls, ``StepMap`` names the
document of every answer — also for answers whose URL does not name it (a
menu's router, the start URL ``/flexml/{flow}``) — and maps a verb's
position in that document to the flow step it came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable
from urllib.parse import parse_qsl, urlsplit

from compiler import CompiledFlow
from compiler.compile import RETRY_SUFFIX


@dataclass(frozen=True)
class DocRef:
    flow: str
    revision: str
    doc: str
    # the documents the built-in host spliced after ``doc`` in the same answer (its decisions' branches)
    then: tuple[str, ...] = ()


class StepMap:
    def __init__(self, flows: Iterable[CompiledFlow]):
        self.flows: dict[tuple[str, str], CompiledFlow] = {}
        self.current: dict[str, CompiledFlow] = {}
        self.by_body: dict[bytes, DocRef] = {}
        for compiled in flows:
            self.flows[(compiled.flow, compiled.revision)] = compiled
            self.current[compiled.flow] = compiled
            for name, data in compiled.documents.items():
                if name not in compiled.templated:
                    self.by_body.setdefault(data.strip(), DocRef(compiled.flow, compiled.revision, name))

    def identify(self, url: str, body: bytes, sent: dict,
                 decisions: list[tuple[str, str, str]] = ()) -> DocRef | None:
        """The document an answer was: by its URL, its exact bytes, or the router's choice; with the
        decisions the host took in it (``X-FlexML-Decisions``), the documents it spliced in."""
        ref = self._identify(url, body, sent)
        taken = [(node, branch) for node, branch, _ in decisions]
        compiled = self.flows.get((ref.flow, ref.revision)) if ref is not None else None
        if compiled is None or not taken:
            return ref
        if ref.doc == "":  # a decision's own URL: the answer starts with its branch's document
            node, branch = taken.pop(0)
            decision = compiled.decisions.get(node)
            first = decision.branches.get(branch) if decision else None
            if first is None:
                return None
            ref = DocRef(ref.flow, ref.revision, first)
        then: list[str] = []
        doc: str | None = ref.doc
        for node, branch in taken:
            decision = compiled.ends_at(doc) if doc else None
            if decision is None or decision.node != node:
                break
            doc = decision.branches.get(branch)
            if doc is None:
                break
            then.append(doc)
        return DocRef(ref.flow, ref.revision, ref.doc, tuple(then))

    def _identify(self, url: str, body: bytes, sent: dict) -> DocRef | None:
        parts = [p for p in urlsplit(url).path.split("/") if p]
        tail = parts[parts.index("flexml") + 1:] if "flexml" in parts else []
        if len(tail) == 3 and (tail[0], tail[1]) in self.flows:
            return DocRef(tail[0], tail[1], tail[2])
        if len(tail) == 4 and tail[3] == "decide" and (tail[0], tail[1]) in self.flows:
            return DocRef(tail[0], tail[1], "")  # named from the decision taken (see identify)
        found = self.by_body.get(body.strip())
        if found is not None:
            return found
        if len(tail) == 4 and tail[3] == "gather":
            compiled = self.flows.get((tail[0], tail[1]))
            router = compiled.routers.get(tail[2]) if compiled else None
            if router is not None:
                query = dict(parse_qsl(urlsplit(url).query))
                try:
                    attempt = int(query.get("attempt", "1"))
                except ValueError:
                    attempt = 1
                doc = router.route(str(sent.get("Digits", "")), attempt)
                return DocRef(tail[0], tail[1], doc) if doc else None
        if len(tail) in (1, 2):
            compiled = self.flows.get((tail[0], tail[1])) if len(tail) == 2 else self.current.get(tail[0])
            if compiled is not None:
                return DocRef(compiled.flow, compiled.revision, compiled.start)
        return None

    def step(self, ref: DocRef | None, index: int) -> str | None:
        """The flow step played by the verb at ``index`` of a document (None for a compiler-added verb)."""
        if ref is None:
            return None
        compiled = self.flows.get((ref.flow, ref.revision))
        if compiled is None or ref.doc not in compiled.steps:
            return None
        offset = 1 if RETRY_SUFFIX in ref.doc else 0  # a retry document starts with the "not valid" Say,
        position = max(index - offset, 0)  # which belongs to the menu
        steps = list(compiled.steps[ref.doc])
        for doc in ref.then:  # each document's decision step played no verb: the next one's verbs follow
            steps = steps[:-1] + list(compiled.steps.get(doc, ()))
        return steps[position] if 0 <= position < len(steps) else None
