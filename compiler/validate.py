"""Validation: every problem in a flow, each with node id, field and a plain message.

``validate(graph)`` returns all problems, errors first in node order, then
warnings. Field names are the flow file's: ``type``, ``text``, ``attrs.timeout``,
``numbers[0]``, ``prompt[1].text``, ``branch 1``, ``target``, ``start`` …
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from functools import total_ordering
from typing import Any
from urllib.parse import urlsplit

import networkx as nx

from compiler import templating
from compiler.catalogue import CALL_VARIABLES, DTMF_KEYS, E164, SAY, STEPS, Attr, Step, branches_of, is_jump
from compiler.decisions import hours_problems, set_problems, split_problems
from compiler.flow import edge_branches, reached_from, start_of
from compiler.loops import silent_loops
from compiler.phones import read_e164
from compiler.validate_rules import ProvidedBefore, media_problems, menu_away_problems, path_variable_problems, \
    placeholder_problem, reads_provided, relative_url_problem, top_problems

NODE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
FLOW_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
DIGIT_BRANCH = re.compile(r"^[0-9*#]{1,32}\Z")
URL = re.compile(r"^https?://[^\s<>\"]+$|^/[^\s<>\"]*$")
MEDIA_URL = re.compile(r"^(https?|hls|rtmp)://[^\s<>\"]+$")
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
RESERVED_FLOW_IDS = {"status"}
MAX_NUMBERS = 10
MAX_INT_DIGITS = 18  # a whole number typed as text; Python refuses to read more than 4,300 digits


@total_ordering
@dataclass(frozen=True)
class Problem:
    node: str | None  # None: the flow as a whole
    field: str
    message: str
    severity: str = "error"  # or "warning"

    def __lt__(self, other: "Problem") -> bool:  # flow-wide problems (node None) sort first
        return self._key() < other._key()

    def _key(self) -> tuple:
        return (self.node is not None, self.node or "", self.field, self.message, self.severity)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = f"node {self.node}" if self.node is not None else "flow"
        tail = "" if self.is_error else " (warning)"
        return f"{where}: {self.field}: {self.message}{tail}"


def only_errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.is_error]


def validate(graph: nx.DiGraph) -> list[Problem]:
    return Validation(graph).problems


class Validation:
    """``validate(graph)``, kept up to date edit by edit (the editor checks after every keystroke).

    ``update(graph, changed)`` checks again only what an edit of the ``changed`` steps (their fields or
    outgoing connections; no step added or removed) can affect: those steps, and when their links
    changed (connections, type, a Go to's target, a Set's names) the steps they led to and lead to, the
    Go to steps, the steps whose text reads values set upstream, and the flow-wide loop and reachability
    checks. Anything else (``changed`` None, steps added or removed, the flow's own fields changed)
    checks the whole flow. ``problems`` is always what ``validate`` would return.
    """

    def __init__(self, graph: nx.DiGraph) -> None:
        self.recheck(graph)

    def recheck(self, graph: nx.DiGraph) -> list[Problem]:
        """Check the whole flow."""
        self._graph = graph
        self._flow_fields = copy.deepcopy(graph.graph)
        self._known = _names_known(graph)  # call fields, and the names a Set step before it gives
        self._before = ProvidedBefore(graph)  # walked only when a text needs it
        self._links = {n: _links_of(graph, n) for n in graph._node}
        self._jumps = {n for n, d in graph._node.items() if is_jump(d)}
        self._readers = {n for n, d in graph._node.items() if _reads_upstream(d)}
        self._nodes = {n: self._check(graph, n) for n in graph._node}
        self._graph_wide = _check_graph(graph)
        return self._assemble(graph)

    def update(self, graph: nx.DiGraph, changed: set[str] | None) -> list[Problem]:
        """The problems after an edit that changed only the ``changed`` steps (None: anything)."""
        if changed is None or graph is not self._graph or graph._node.keys() != self._nodes.keys() or not changed <= self._nodes.keys() \
                or graph.graph != self._flow_fields:
            return self.recheck(graph)
        affected = set(changed)
        links = {n: _links_of(graph, n) for n in changed}
        if any(links[n] != self._links[n] for n in changed):
            for n in changed:
                affected.update(t for t, _ in self._links[n][0])
                affected.update(t for t, _ in links[n][0])
            self._links.update(links)
            for n in changed:
                (self._jumps.add if is_jump(graph._node[n]) else self._jumps.discard)(n)
            self._before = ProvidedBefore(graph)
            known = _names_known(graph)
            affected.update(n for n in known.keys() | self._known.keys() if known.get(n) != self._known.get(n))
            self._known = known
            affected |= self._jumps | self._readers
            self._graph_wide = _check_graph(graph)
        for n in changed:
            (self._readers.add if _reads_upstream(graph._node[n]) else self._readers.discard)(n)
        for n in affected:
            if n in self._nodes:
                self._nodes[n] = self._check(graph, n)
        return self._assemble(graph)

    def moved(self, graph: nx.DiGraph, changed: set[str]) -> list[Problem]:
        """The problems after an edit that changed only the ``changed`` steps' canvas positions (``x``, ``y``):
        the same as before, as no check reads a position (another graph, or steps added or removed: all)."""
        if graph is not self._graph or graph._node.keys() != self._nodes.keys() or not changed <= self._nodes.keys() \
                or graph.graph != self._flow_fields:
            return self.recheck(graph)
        return self.problems

    def _check(self, graph: nx.DiGraph, node: str) -> list[Problem]:
        return _check_node(graph, node, graph._node[node], self._known.get(node, CALL_VARIABLES), self._before)

    def _assemble(self, graph: nx.DiGraph) -> list[Problem]:
        out = _check_flow(graph)
        for found in self._nodes.values():
            out += found
        out += self._graph_wide
        out += _check_remembered_numbers(graph)  # a Set value's text and a Send text field: cheap, every time
        self.problems = [p for p in out if p.is_error] + [p for p in out if not p.is_error]
        return self.problems


def _links_of(graph: nx.DiGraph, node: str) -> tuple:
    """What other steps' checks read of a step: its connections, type, Go to target, a Set's names, being empty."""
    data = graph._node[node]
    out = tuple((t, tuple(edge_branches(d))) for t, d in graph._succ[node].items())
    values = data.get("vars")
    names = tuple(values) if isinstance(values, dict) else None
    return out, data.get("type"), data.get("target") if is_jump(data) else None, names, bool(data)


def _reads_upstream(data: dict) -> bool:
    """Whether a step's text reads values only steps before it can give (its check depends on them)."""
    spec = STEPS.get(data.get("type")) if isinstance(data.get("type"), str) else None
    return spec is not None and reads_provided(spec, data)


# --- the flow as a whole -------------------------------------------------------------


def _check_flow(graph: nx.DiGraph) -> list[Problem]:
    out = []
    fid = graph.graph.get("id")
    if not fid:
        out.append(Problem(None, "id", "the flow has no id; give it one of lower-case letters, digits and -"))
    elif not isinstance(fid, str) or not FLOW_ID.match(fid):
        out.append(Problem(None, "id", f"flow id {fid!r} may use only a-z, 0-9 and - (at most 63, "
                                       "starting with a letter or digit)"))
    elif fid in RESERVED_FLOW_IDS:
        out.append(Problem(None, "id", f"flow id {fid!r} is reserved by the host; choose another"))
    start = start_of(graph)
    if start is None:
        out.append(Problem(None, "start", "the flow has no start step; choose where calls begin"))
    elif start not in graph or _is_phantom(graph, start):
        out.append(Problem(None, "start", f"the start step {start!r} does not exist"))
    return out


def _is_phantom(graph: nx.DiGraph, node: str) -> bool:
    """A node that exists only because a connection points at it."""
    return not graph.nodes[node]


# --- one step --------------------------------------------------------------------------


def _check_node(graph: nx.DiGraph, node: str, data: dict, known: tuple[str, ...] = CALL_VARIABLES,
                before: ProvidedBefore | None = None) -> list[Problem]:
    if _is_phantom(graph, node):
        return [
            Problem(src, f"branch {b}", f"connects to step {node!r}, which does not exist")
            for src, _, d in graph.in_edges(node, data=True) for b in edge_branches(d)
        ] or [Problem(node, "type", "the step has no type")]
    out = []
    if not NODE_ID.match(node):
        out.append(Problem(node, "id", f"step id {node!r} may use only letters, digits, - and _ (at most 64)"))
    type_ = data.get("type")
    spec = STEPS.get(type_) if isinstance(type_, str) else None
    if spec is None:
        known = ", ".join(STEPS)
        what = "the step has no type" if type_ is None else f"unknown step type {type_!r}"
        return out + [Problem(node, "type", f"{what}; use one of {known}")]
    out += _check_attrs(node, spec, data.get("attrs"), "attrs", known)
    if spec.host_decides:
        out += _check_decision(graph, node, spec, data, known)
    for extra in spec.extra_fields:
        if extra.kind in DECISION_KINDS:
            continue  # checked by _check_decision
        if data.get(extra.name) is not None and extra.name != "target":  # null: the default, as in attrs
            msg = _check_value(extra, data[extra.name])
            if msg:
                out.append(Problem(node, extra.name, msg))
            elif extra.name == "retryText" and data[extra.name]:
                out += _check_text(node, SAY, data[extra.name], extra.name)  # the compiler speaks it with a Say
    out += _check_text(node, spec, data.get("text"), "text", known)
    if spec.is_menu:
        out += _check_prompt(node, spec, data.get("prompt"), known)
    if spec.dials:
        out += _check_numbers(node, data.get("numbers"))
    if spec.jumps:
        target = data.get("target")
        if not target:
            out.append(Problem(node, "target", "choose the step to go to"))
        elif str(target) not in graph or _is_phantom(graph, str(target)):
            out.append(Problem(node, "target", f"goes to step {target!r}, which does not exist"))
        elif str(target) == node:
            out.append(Problem(node, "target", "a Go to step cannot go to itself"))
        else:
            chain = _goto_chain(graph, node)
            if chain[-1] in chain[:-1]:
                out.append(Problem(node, "target", f"Go to steps {' → '.join(chain)} only jump to each other; "
                                                   "the call would never reach a step. Point one at a real step"))
            elif (landing := STEPS.get(graph._node[chain[-1]].get("type"))) is not None and landing.at_top:
                after = next(iter(graph._succ[chain[-1]]), None)
                out.append(Problem(node, "target", f"jumps to {chain[-1]!r} ({landing.label}), which works only at "
                                   "the top of the call's first document; jump to "
                                   + (f"{after!r}, the step after it," if after else "the step after it") + " instead"))
    out += _check_branches(graph, node, spec, data)
    for found in (media_problems(node, spec, data), top_problems(graph, node, spec),
                  menu_away_problems(graph, node, spec, data), path_variable_problems(graph, node, spec, data, before)):
        out += [Problem(*f) for f in found]
    if spec.first_only and start_of(graph) != node:
        out.append(Problem(node, "type", f"{spec.type} leaves a call unanswered only as the first step; here "
                                         "the call is already answered, so it acts as a hang-up", "warning"))
    return out


def _goto_chain(graph: nx.DiGraph, node: str) -> list[str]:
    """``node`` and the Go to steps it jumps through; ends at the first non-Goto step or a repeat."""
    chain = [node]
    while True:
        data = graph.nodes[chain[-1]]
        target = data.get("target")
        if not is_jump(data) or target is None or str(target) not in graph:
            return chain
        chain.append(str(target))
        if chain[-1] in chain[:-1]:
            return chain


def _check_attrs(node: str, spec: Step, attrs: Any, where: str, known: tuple[str, ...] = CALL_VARIABLES) -> list[Problem]:
    """``known``: the names call-variable text may read here (a phone field may name a remembered number)."""
    if attrs is None:
        attrs = {}
    if not isinstance(attrs, dict):
        return [Problem(node, where, f"must be a set of name: value pairs, found {attrs!r}")]
    out = []
    for name, value in attrs.items():
        attr = spec.attr(name)
        field = f"{where}.{name}"
        if attr is None or attr in spec.extra_fields:
            known = ", ".join(a.name for a in spec.user_attrs) or "none"
            out.append(Problem(node, field, f"{spec.type} has no attribute {name!r}; it has: {known}"))
        elif value is None or value == "":
            continue  # a cleared field: not written, the carrier's default applies
        elif attr.managed and attr.settable:
            msg = _check_value(attr, value)
            if msg:
                out.append(Problem(node, field, msg))
        elif attr.managed:
            out.append(Problem(node, field, f"{name} is set from the step's connections; remove it and "
                                            "connect the step instead"))
        else:
            # attributes are sent as written: call variables only in phone attributes marked call_number
            msg = None if attr.call_number or not isinstance(value, str) else placeholder_problem(value)
            remembered = attr.call_number and isinstance(value, str) and len(known) > len(CALL_VARIABLES) and \
                templating.number_variable(value, known[len(CALL_VARIABLES):]) is not None  # a Set step's name
            msg = msg or (None if remembered else _check_value(attr, value))
            if msg:
                out.append(Problem(node, field, msg))
    for a in spec.user_attrs:
        if a.required and attrs.get(a.name) in (None, ""):
            out.append(Problem(node, f"{where}.{a.name}", f"{spec.type} needs its {a.label or a.name}: "
                                                          f"without it the step does nothing"))
    if spec.media and isinstance(attrs, dict) and attrs.get("timeLimit") not in (None, 0) \
            and not attrs.get("streaming"):
        out.append(Problem(node, f"{where}.timeLimit", "timeLimit only applies when streaming is on",
                           "warning"))
    return out


def _check_value(attr: Attr, value: Any) -> str | None:
    """Why ``value`` does not fit ``attr``, or None."""
    kind = attr.kind
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return f"{value!r} is not a whole number"
        if isinstance(value, str):
            if not re.fullmatch(r"-?[0-9]+", value.strip()):
                return f"{value!r} is not a whole number"
            if len(value.strip()) > MAX_INT_DIGITS:
                return f"{value.strip()[:20]}… has {len(value.strip()):,} digits; use a smaller whole number"
            value = int(value)
        lo, hi = attr.minimum, attr.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return f"{value} is out of range: use a whole number {attr.describe_range()}"
        return None
    if kind == "bool":
        if isinstance(value, bool) or value in ("true", "false"):
            return None
        return f"{value!r} is not true or false"
    if not isinstance(value, str):
        return f"{value!r} must be text"
    bad = NOT_XML.search(value)
    if bad:
        return f"contains the control character {bad.group()!r}, which a FlexML document cannot hold"
    if attr.is_off(value):
        return None
    if kind == "enum":
        if attr.canonical(value) not in attr.choices:
            return f"{value!r} is not allowed; use one of {', '.join(attr.choices)}"
    elif kind == "key":
        if value not in DTMF_KEYS:
            off = f", or {' or '.join(attr.off_words)} for none" if attr.off_words else ""
            return f"{value!r} is not a phone key; use one of {' '.join(DTMF_KEYS)}{off}"
    elif kind == "keys":
        if value != "none" and not re.fullmatch(r"[0-9*#]+", value):
            return f"{value!r} must be phone keys (0-9, *, #) or the word none"
    elif kind == "phone":
        if attr.call_number and not E164.match(value):
            return None if templating.number_variable(value) else templating.number_problem(value)
        if not E164.match(value):
            return f"{value!r} is not a phone number in E.164 form (like 15162065340 or +15162065340)"
        return impossible_number(value)
    elif kind == "url":
        if not url_ok(value):
            return relative_url_problem(value) or \
                f"{value!r} is not a URL (http://…, https://… or a path starting with /)"
    return None


def url_ok(text: str, media: bool = False) -> bool:
    """An absolute http(s) URL with a host (also hls/rtmp when ``media``), or a path (when not ``media``).

    Beyond the shape, the URL must parse: ``http://[::1`` or ``http://host:port`` would fail at the carrier.
    """
    if not (MEDIA_URL if media else URL).match(text):
        return False
    if text.startswith("/"):
        return True
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    return bool(parts.hostname)


def _check_text(node: str, spec: Step, text: Any, field: str,
                known: tuple[str, ...] = CALL_VARIABLES) -> list[Problem]:
    if spec.text is None:
        if text not in (None, ""):
            return [Problem(node, field, f"{spec.type} takes no text")]
        return []
    if text is None or (isinstance(text, str) and not text.strip()):
        if spec.text_required:
            return [Problem(node, field, f"{spec.type} needs {spec.text_noun}")]
        return []
    if not isinstance(text, str):
        return [Problem(node, field, f"{text!r} must be text")]
    bad = NOT_XML.search(text)
    if bad:
        return [Problem(node, field, f"contains the control character {bad.group()!r}, which a FlexML "
                                     "document cannot hold")]
    out = []
    too_long = spec.text_max is not None and len(text) > spec.text_max
    if too_long:
        out.append(Problem(node, field, f"is {len(text):,} characters; {spec.type} speaks at most "
                                        f"{spec.text_max:,}"))
    placeholder = None if spec.can_template else placeholder_problem(text)
    if placeholder:
        out.append(Problem(node, field, placeholder))
    elif spec.text == "url":
        if not url_ok(text.strip(), media=spec.media):
            kinds = "http://, https://, hls:// or rtmp://" if spec.media else \
                "http://, https:// or a path starting with /"
            relative = None if spec.media else relative_url_problem(text.strip())
            out.append(Problem(node, field, relative or f"{text.strip()!r} is not a URL; use {kinds}"))
    # one length problem is enough: a text too long to speak is not also reported as too long to check
    if spec.can_template and templating.is_template(text) and not (too_long and len(text) > templating.MAX_TEXT):
        msg = templating.check(text, known)
        if msg:
            out.append(Problem(node, field, msg))
    return out


def _check_prompt(node: str, menu: Step, prompt: Any, known: tuple[str, ...] = CALL_VARIABLES) -> list[Problem]:
    if prompt is None:
        return [Problem(node, "prompt", "the menu has no prompt; callers will hear silence", "warning")]
    if not isinstance(prompt, list):
        return [Problem(node, "prompt", f"must be a list of {' or '.join(menu.children)} steps")]
    out = []
    for i, child in enumerate(prompt):
        where = f"prompt[{i}]"
        if not isinstance(child, dict) or child.get("type") not in menu.children:
            found = child.get("type") if isinstance(child, dict) else child
            out.append(Problem(node, f"{where}.type", f"{found!r} cannot be part of a menu prompt; "
                                                     f"use {' or '.join(menu.children)}"))
            continue
        spec = STEPS[child["type"]]
        out += _check_attrs(node, spec, child.get("attrs"), f"{where}.attrs")
        out += _check_text(node, spec, child.get("text"), f"{where}.text", known)
    return out


def _check_numbers(node: str, numbers: Any) -> list[Problem]:
    if not numbers:
        return [Problem(node, "numbers", "Transfer needs at least one phone number")]
    if not isinstance(numbers, list):
        return [Problem(node, "numbers", "must be a list of phone numbers")]
    out = []
    if len(numbers) > MAX_NUMBERS:
        out.append(Problem(node, "numbers", f"{len(numbers)} numbers; dial at most {MAX_NUMBERS} at once"))
    for i, num in enumerate(numbers):
        if not isinstance(num, str) or not E164.match(num):
            out.append(Problem(node, f"numbers[{i}]", f"{num!r} is not a phone number in E.164 form "
                                                      "(like 15162065340 or +15162065340)"))
        elif why := impossible_number(num):
            out.append(Problem(node, f"numbers[{i}]", why))
    return out


def impossible_number(e164: str) -> str | None:
    """Why an E.164-shaped number cannot be dialled (``compiler.phones.read_e164``), or None."""
    return read_e164(e164, None)[1]



def _check_branches(graph: nx.DiGraph, node: str, spec: Step, data: dict) -> list[Problem]:
    out = []
    seen: dict[str, str] = {}
    never = _option_checker(spec, data) if spec.digit_branches else None
    for target, edata in graph._succ[node].items():  # raw adjacency: no view per node
        for branch in edge_branches(edata):
            field = f"branch {branch}"
            if spec.terminal:
                out.append(Problem(node, field, f"{spec.label} ends the call's path; it cannot connect "
                                                f"to {target!r}"))
                continue
            if branch in seen:
                if seen[branch] == target:
                    out.append(Problem(node, field, f"is listed twice on the connection to {target!r}; "
                                                    "remove one"))
                else:
                    out.append(Problem(node, field, f"connects to both {seen[branch]!r} and {target!r}; "
                                                    "one output leads to one step"))
                continue
            seen[branch] = target
            if branch in spec.branches or (spec.case_branches and branch in branches_of(data)):
                continue
            if never is not None and DIGIT_BRANCH.match(branch):
                msg = never(branch)
                if msg:
                    out.append(Problem(node, field, msg))
                continue
            allowed = ", ".join(branches_of(data) if spec.case_branches else spec.branches) or "none"
            if spec.digit_branches:
                allowed = f"digit options (like 1, 42, *), {allowed}"
            out.append(Problem(node, field, f"{spec.label} has no output {branch!r}; its outputs are {allowed}"))
    if spec.is_menu:
        if "timeout" not in seen:
            out.append(Problem(node, "branch timeout", "no path when the caller presses nothing: the call "
                                                       "ends; connect 'no input'", "warning"))
        if _sends_away(data):
            return out  # its keys go to another server: menu_away_problems says what may connect
        out += _check_options(node, data.get("options"), seen, never)
        if "invalid" not in seen and not _int_or(data.get("retries"), spec.default("retries")):
            out.append(Problem(node, "branch invalid", "no path for a wrong key and no retries: the call "
                                                       "takes the no-input path; connect 'invalid'", "warning"))
        if not any(DIGIT_BRANCH.match(b) for b in seen):
            out.append(Problem(node, "options", "the menu has no options connected", "warning"))
    return out


def _int_or(value: Any, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _sends_away(data: dict) -> bool:
    attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
    return bool(str(attrs.get("action") or "").strip())


def _option_checker(spec: Step, data: dict):
    """A function telling why a menu option can never match (numDigits, finishOnKey), or None."""
    attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
    num_digits = attrs.get("numDigits")
    num_digits = int(num_digits) if isinstance(num_digits, int) and not isinstance(num_digits, bool) or (
        isinstance(num_digits, str) and re.fullmatch(r"[0-9]{1,18}", num_digits.strip())) else None
    finish_attr = spec.attr("finishOnKey")
    finish = attrs.get("finishOnKey") or finish_attr.default  # absent or cleared: the carrier's default
    if finish_attr.is_off(finish):
        finish = ""

    def never(option: str) -> str | None:
        if num_digits is not None and len(option) > num_digits:
            return (f"option {option!r} has {len(option)} keys but the menu takes {num_digits} (numDigits); "
                    "it can never match")
        if isinstance(finish, str) and finish and finish in option:
            return (f"option {option!r} contains {finish!r}, the key that ends input (finishOnKey); "
                    "it can never match")
        return None

    return never


def _check_options(node: str, options: Any, connected: dict[str, str], never) -> list[Problem]:
    """The menu's declared options (its outputs on the canvas); connected ones are checked as branches."""
    if options is None:
        return []
    if not isinstance(options, list):
        return [Problem(node, "options", f"must be a list of key options like [\"1\", \"2\"], found {options!r}")]
    out = []
    listed: set[str] = set()
    for i, option in enumerate(options):
        field = f"options[{i}]"
        text = str(option) if isinstance(option, (str, int)) and not isinstance(option, bool) else None
        if text is None or not DIGIT_BRANCH.match(text):
            out.append(Problem(node, field, f"{option!r} is not a key option; use keys 0-9, * and # "
                                            "(like 1, 42 or *)"))
            continue
        if text in listed:
            out.append(Problem(node, field, f"option {text!r} is listed twice"))
            continue
        listed.add(text)
        if text not in connected:
            msg = never(text)
            if msg:
                out.append(Problem(node, field, msg))
            else:
                out.append(Problem(node, field, f"option {text!r} is not connected; a caller who presses it "
                                                "is treated as pressing a wrong key", "warning"))
    return out


# --- decision steps (Hours, Split, Set) ---------------------------------------------------

DECISION_KINDS = frozenset(("zone", "schedule", "dates", "calltext", "cases", "vars"))
# what a caller gets on an unconnected output of a decision step
_UNCONNECTED = {
    "closed": "callers outside hours hear nothing more and the call ends",
    "open": "callers during opening hours hear nothing more and the call ends",
    "else": "a call that matches no case hears nothing more and the call ends",
    "next": "nothing reads the remembered values and the call ends here",
}


def _names_known(graph: nx.DiGraph) -> dict[str, tuple[str, ...]]:
    """Per step, the names its call-variable text may read: the call fields, and every name a Set step
    from which the step can be reached (following connections and Go to jumps) remembers.

    The rule is "set somewhere upstream", not "set on every path": on a path that skipped the Set,
    ``{{ name }}`` reads as empty text (``| default('…')`` gives a fallback)."""
    sets = [(n, d) for n, d in graph.nodes(data=True) if (spec := STEPS.get(d.get("type"))) is not None
            and spec.decides == "set" and isinstance(d.get("vars"), dict)]
    if not sets:
        return {}
    extra: dict[str, set[str]] = {}
    for node, data in sets:
        names = {str(k) for k in data["vars"]}
        for n in reached_from(graph, list(graph.successors(node))):
            extra.setdefault(n, set()).update(names)
    return {n: (*CALL_VARIABLES, *sorted(names - set(CALL_VARIABLES))) for n, names in extra.items()}


# per step type, its fields that hold a phone number and may name a call variable
_PHONE_FIELDS = {kind: tuple(a.name for a in spec.attrs if a.call_number) for kind, spec in STEPS.items()}


def _check_remembered_numbers(graph: nx.DiGraph) -> list[Problem]:
    """A phone field that names a remembered value (``to="{{ manager }}"``) gets a number: each Set step
    before it that gives the name a literal value must give a possible phone number. (A value from a call
    field, ``{{ From }}``, is read per call; the host leaves the field out when it is not a number.)"""
    readers: dict[str, list[tuple[str, str]]] = {}  # name → (step, field) of phone fields reading it
    for node, data in graph._node.items():  # runs on every edit: most steps have no phone field at all
        fields = _PHONE_FIELDS.get(data.get("type")) if isinstance(data.get("type"), str) else None
        if not fields:
            continue
        attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
        for field in fields:
            value = attrs.get(field)
            name = templating.number_name(value) if isinstance(value, str) else None
            if name is not None and name not in CALL_VARIABLES:
                readers.setdefault(name, []).append((node, field))
    out: list[Problem] = []
    if not readers:
        return out
    for node, data in graph.nodes(data=True):
        spec = STEPS.get(data.get("type")) if isinstance(data.get("type"), str) else None
        values = data.get("vars") if spec is not None and spec.decides == "set" else None
        if not isinstance(values, dict):
            continue
        wanted = {n: v for n, v in values.items() if n in readers and isinstance(v, str)
                  and not templating.is_template(v)}
        if not wanted:
            continue
        after = reached_from(graph, list(graph.successors(node)))
        for name, value in wanted.items():
            for reader, field in readers[name]:
                if reader not in after:
                    continue
                _, why = read_e164(value)
                if why is not None:
                    label = STEPS[graph.nodes[reader]["type"]].label
                    out.append(Problem(node, f"vars.{name}", f"{why}, but {label} step {reader!r} uses "
                                                             f"{{{{ {name} }}}} as its {field!r} number"))
    return out


def _check_decision(graph: nx.DiGraph, node: str, spec: Step, data: dict, known: tuple[str, ...]) -> list[Problem]:
    """The decision's fields (problems from compiler.decisions, named by field) and its unconnected outputs."""
    if spec.decides == "hours":
        issues = hours_problems(data, graph.graph.get("timezone"))
    elif spec.decides == "split":
        issues = split_problems(data, set(known))
    else:
        issues = set_problems(data, set(CALL_VARIABLES))
    out = [Problem(node, i.field, i.message, i.severity) for i in issues]
    texts: list[tuple[str, Any]] = []
    if spec.decides == "split":
        value = data.get("value")
        if not isinstance(value, str) or not value.strip():
            out.append(Problem(node, "value", "choose the value to test, e.g. {{ From }} (the caller's number)"))
        else:
            texts.append(("value", value))
    if spec.decides == "set" and isinstance(data.get("vars"), dict):
        texts += [(f"vars.{k}", v) for k, v in data["vars"].items() if isinstance(v, str)]
    for field, text in texts:
        bad = NOT_XML.search(text)
        if bad:
            out.append(Problem(node, field, f"contains the control character {bad.group()!r}"))
        elif templating.is_template(text) and (msg := templating.check(text, known)):
            out.append(Problem(node, field, msg))
    connected = {b for _, d in graph._succ[node].items() for b in edge_branches(d)}
    for branch in branches_of(data):
        if branch not in connected:
            why = _UNCONNECTED.get(branch, f"calls taking '{branch}' hear nothing more and the call ends")
            out.append(Problem(node, f"branch {branch}", f"not connected: {why}", "warning"))
    return out


# --- the graph -------------------------------------------------------------------------


def _check_graph(graph: nx.DiGraph) -> list[Problem]:
    """The checks that follow connections across the flow: they read only its links (see ``_links_of``)."""
    return _check_cycles(graph) + _check_reachability(graph) + _check_silent_loops(graph)


def _check_silent_loops(graph: nx.DiGraph) -> list[Problem]:
    return [Problem(menu, "branch timeout", message, "warning") for menu, message in silent_loops(graph)]


def _check_cycles(graph: nx.DiGraph) -> list[Problem]:
    if nx.is_directed_acyclic_graph(graph):
        return []
    out = []
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1:
            (only,) = component
            if not graph.has_edge(only, only):
                continue
        sub = graph.subgraph(component)
        cycle = nx.find_cycle(sub)
        names = [u for u, _ in cycle] + [cycle[0][0]]
        back_from, back_to = cycle[-1][0], cycle[-1][1]
        out.append(Problem(back_from, "connections",
                           f"steps {' → '.join(names)} form a loop; connect {back_from!r} to a 'Go to' step "
                           f"that jumps to {back_to!r} instead"))
    return out


def _check_reachability(graph: nx.DiGraph) -> list[Problem]:
    start = start_of(graph)
    if start is None or start not in graph:
        return []
    reached = reached_from(graph, [start])
    return [
        Problem(n, "connections", "no path from the start reaches this step", "warning")
        for n in graph.nodes if n not in reached and not _is_phantom(graph, n)
    ]
