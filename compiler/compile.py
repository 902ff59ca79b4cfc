"""The compiler: a validated flow to grammar-checked FlexML documents and a routing table.

    flow (DiGraph) → validate → plan (split into documents) → emit → grammar check

``compile_flow`` refuses a flow with errors (``CompileError`` carries the
problems). The result is everything a host needs, without the graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import networkx as nx

from compiler import templating
from compiler.catalogue import GATHER, STEPS
from compiler.decisions import Decision, split_branches
from compiler.emit import Urls, document, sends_keys_away, step_element, verb
from compiler.errors import CompilerError
from compiler.flow import flow_id, start_of
from compiler.grammar import check_document
from compiler.plan import Plan, ends_at_decision, make_plan, records_for_host, walk
from compiler.validate import Problem, only_errors, validate

RETRY_SUFFIX = ".retry"


class CompileError(CompilerError):
    """A flow that validation finds errors in; ``problems`` lists them (the message shows the first 20)."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(str(p) for p in problems[:20])
        more = f"\n… and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"the flow has {len(problems)} error(s):\n{lines}{more}")


@dataclass
class Router:
    """How a menu's router answers: digits → document name."""

    branches: dict[str, str]
    timeout: str | None
    invalid: str | None
    retries: int
    retry_docs: list[str]
    finish_on_key: str = GATHER.default("finishOnKey")

    def route(self, digits: str, attempt: int = 1) -> str | None:
        """The document to answer with, or None to end the call.

        Empty digits take the timeout branch; digits that match no option take
        the invalid branch, else the menu is asked again (up to ``retries``
        times), then the timeout branch.
        """
        if self.finish_on_key and digits.endswith(self.finish_on_key) and digits not in self.branches:
            digits = digits[: -len(self.finish_on_key)]
        if digits == "":
            return self.timeout
        if digits in self.branches:
            return self.branches[digits]
        if self.invalid is not None:
            return self.invalid
        attempt = max(attempt, 1)  # a missing or mangled ?attempt= is the first attempt
        if attempt <= len(self.retry_docs):
            return self.retry_docs[attempt - 1]
        return self.timeout

    def to_json(self) -> dict:
        return {"branches": self.branches, "timeout": self.timeout, "invalid": self.invalid,
                "retries": self.retries, "retry_docs": self.retry_docs, "finishOnKey": self.finish_on_key}

    @classmethod
    def from_json(cls, data: dict) -> "Router":
        return cls(branches={str(k): str(v) for k, v in data["branches"].items()},
                   timeout=data.get("timeout"), invalid=data.get("invalid"),
                   retries=int(data.get("retries", 0)), retry_docs=list(data.get("retry_docs", [])),
                   finish_on_key=str(data.get("finishOnKey", GATHER.default("finishOnKey"))))


@dataclass
class CompiledFlow:
    flow: str
    name: str
    revision: str
    start: str
    base_url: str
    documents: dict[str, bytes]  # name → document bytes
    steps: dict[str, list[str]]  # document name → the steps it plays, in order
    routers: dict[str, Router]
    templated: set[str] = field(default_factory=set)  # documents whose text uses call variables
    # decision steps the host takes (node → Decision); a document whose last step is one ends with a Redirect
    # to the decision's URL, which the host replaces by the branch taken
    decisions: dict[str, Decision] = field(default_factory=dict)
    # Record steps whose action is the host's ``recorded`` route (node → the document that follows, None when
    # the call ends after the recording)
    recordings: dict[str, str | None] = field(default_factory=dict)

    @property
    def needs_host(self) -> bool:
        """A static web server cannot serve it: the host takes decisions while it answers, or keeps recordings."""
        return bool(self.decisions or self.recordings)

    def ends_at(self, name: str) -> Decision | None:
        """The decision a document ends at (its last step is a decision step), or None."""
        path = self.steps.get(name)
        decision = self.decisions.get(path[-1]) if path else None
        return decision if decision is not None and STEPS[decision.type].host_decides else None

    def manifest(self) -> dict:
        return {
            "format": 1,
            "flow": self.flow,
            "name": self.name,
            "revision": self.revision,
            "base_url": self.base_url,
            "start": self.start,
            "documents": {
                name: {"path": f"documents/{name}.xml", "steps": self.steps[name],
                       "templated": name in self.templated}
                for name in sorted(self.documents)
            },
            "routers": {name: self.routers[name].to_json() for name in sorted(self.routers)},
            "decisions": {name: self.decisions[name].to_json() for name in sorted(self.decisions)},
            "recordings": {name: self.recordings[name] for name in sorted(self.recordings)},
            "needs_host": self.needs_host,
        }


def compile_flow(graph: nx.DiGraph, revision: str = "1", base_url: str = "",
                 problems: list[Problem] | None = None) -> CompiledFlow:
    """Compile a flow; ``problems`` may pass an earlier ``validate`` result to skip re-validating."""
    found = only_errors(validate(graph) if problems is None else problems)
    found += _check_location(str(revision), base_url)
    if found:
        raise CompileError(found)
    urls = Urls(flow_id(graph), str(revision), base_url)
    plan = make_plan(graph)
    nodes = graph.nodes
    documents: dict[str, bytes] = {}
    steps: dict[str, list[str]] = {}
    templated: set[str] = set()
    routers: dict[str, Router] = {}

    def document_of(node: str) -> str:
        """The document a caller is sent to for ``node``: a Go to step's final target, else the node's own."""
        seen = set()
        while STEPS[nodes[node]["type"]].jumps and node not in seen:
            seen.add(node)
            node = str(nodes[node]["target"])
        return node

    def build(name: str, root: str, prefix: list | None = None, attempt: int = 1) -> None:
        path = walk(plan, root)
        verbs = list(prefix or [])
        for i, node in enumerate(path):
            verbs.append(step_element(node, nodes[node], urls, plan.branches.get(node, {}), attempt if i == 0 else 1,
                                      document_of))
        last_next = plan.cont.get(path[-1])
        if last_next is not None:
            verbs.append(verb("Redirect", urls.document(document_of(last_next))))
        data = document(verbs)
        check_document(data, name)
        documents[name] = data
        steps[name] = path
        if any(_uses_template(nodes[n]) for n in path) or any(
                el.text and templating.is_template(el.text) for el in prefix or []):
            templated.add(name)

    for root in plan.roots:
        build(root, root)
    for node in plan.roots:
        data = nodes[node]
        if not STEPS[data["type"]].is_menu or sends_keys_away(data):
            continue  # a menu that sends its keys to another server has no router here
        routers[node] = _router(node, data, plan, document_of)
        retry_text = _field(data, "retryText")
        for k, doc in enumerate(routers[node].retry_docs, start=1):
            prefix = [verb("Say", retry_text)] if retry_text else []
            build(doc, node, prefix, attempt=k + 1)

    decisions = {node: _decision(node, nodes[node], plan.branches.get(node, {}), document_of,
                                 graph.graph.get("timezone"))
                 for path in steps.values() for node in path if node in plan.branches
                 and ends_at_decision(nodes[node], plan.branches[node])}
    recordings = {node: (document_of(plan.branches[node]["next"]) if "next" in plan.branches[node] else None)
                  for path in steps.values() for node in path if node in plan.branches
                  and records_for_host(nodes[node])}
    return CompiledFlow(flow=urls.flow, name=str(graph.graph.get("name") or urls.flow), revision=urls.revision,
                        start=start_of(graph) or "", base_url=base_url, documents=documents, steps=steps,
                        routers=routers, templated=templated, decisions=decisions, recordings=recordings)


def _decision(node: str, data: dict, branches: dict[str, str], document_of, flow_timezone: object) -> Decision:
    """What the host needs to take a step's decision: its fields and the document of each branch."""
    spec = STEPS[data["type"]]
    fields = {k: data[k] for k in spec.host_fields if data.get(k) not in (None, "")}
    if "timezone" in spec.host_fields and "timezone" not in fields and isinstance(flow_timezone, str) \
            and flow_timezone:
        fields["timezone"] = flow_timezone  # the flow's zone travels with the step: the host needs no graph
    outputs = split_branches(data) if spec.case_branches else list(spec.branches)
    return Decision(node, spec.type, fields,
                    {b: (document_of(branches[b]) if b in branches else None) for b in outputs})


REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
BASE_URL = re.compile(r"^https?://[^\s<>\"'?#]+$")


def _check_location(revision: str, base_url: str) -> list[Problem]:
    """The revision and base URL end up in every URL; refuse what would break them."""
    out = []
    if not REVISION.match(revision):
        out.append(Problem(None, "revision", f"{revision!r} cannot be part of a URL; use letters, digits, "
                                             "., _ and - (at most 64)"))
    if base_url and not BASE_URL.match(base_url):
        out.append(Problem(None, "base_url", f"{base_url!r} is not a base URL like https://ivr.example.com "
                                             "(http:// or https://, no spaces, query or #)"))
    return out


def _field(data: dict, name: str):
    """A designer field of a step (menu retries, retry text), its catalogue default when absent or null."""
    value = data.get(name)
    return STEPS[data["type"]].attr(name).default if value is None else value


def _router(node: str, data: dict, plan: Plan, document_of) -> Router:
    branches = {b: document_of(t) for b, t in plan.branches.get(node, {}).items()}
    attrs = data.get("attrs") or {}
    has_invalid = "invalid" in branches
    retries = 0 if has_invalid else int(_field(data, "retries"))
    return Router(
        branches={b: t for b, t in branches.items() if b not in ("timeout", "invalid", "next")},
        timeout=branches.get("timeout"),
        invalid=branches.get("invalid"),
        retries=retries,
        retry_docs=[f"{node}{RETRY_SUFFIX}{k}" for k in range(1, retries + 1)],
        finish_on_key=_finish_key(STEPS[data["type"]], attrs.get("finishOnKey")),
    )


def _finish_key(spec, value) -> str:
    """The key a router strips from the end of the digits: none when the menu's finish key is off."""
    attr = spec.attr("finishOnKey")
    if attr.is_off(value):
        return ""
    return str(value or attr.default)


def _uses_template(data: dict) -> bool:
    spec = STEPS.get(data.get("type"))
    prompt = data.get("prompt") if spec is not None and spec.is_menu else None
    texts = [data.get("text")] + [c.get("text") for c in prompt or [] if isinstance(c, dict)]
    attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
    texts += [attrs.get(a.name) for a in spec.attrs if a.call_number] if spec else []
    return any(isinstance(t, str) and templating.is_template(t) for t in texts)
