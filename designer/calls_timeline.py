"""A stored call as a timeline: each step it played, in order, with the time, keys pressed and what they chose,
texts sent, transfers and their outcome, recordings, decisions (branch and why), the revision, the status callback.

The host records one event per request it answered (a document, a menu's router, a decision's URL) and one per
decision it took while answering (``designer.host``). ``answers`` turns those into the steps each answer played,
with the revision's facts (``designer.revision_facts``); ``call_timeline`` makes plain records of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from compiler.catalogue import CALL_VARIABLES, STEPS, step_of
from compiler.decisions import DIAL_STATUS_FIELDS
from compiler.templating import TemplateError, is_template, parse
from designer.revision_facts import RevisionFacts, revision_facts
from designer.store import CallEvent, Store

RECORDING = "recording"  # the event kind of a Record step's recording (the voicemail route writes it)
END_OF_CALL = "(end of call)"  # a router's answer when the branch taken ends the call
TEXT_SHOWN = 160  # characters of a step's text a timeline line shows
QUIET_SECONDS = 600  # a call with no status callback and no request for this long is over


# --- which steps each answer played ---------------------------------------------------------------------


@dataclass
class Answer:
    """One answer of the host: the event (its index in the call's events), the steps it played in order
    (decisions it took spliced in), and the decision events taken in it by step."""

    index: int
    kind: str
    target: str
    steps: list[str]
    decisions: dict[str, int] = field(default_factory=dict)  # decision step → index of its event


def answers(steps_of: dict[str, list[str]], events: list[tuple],
            branches: dict[str, dict[str, str | None]] | None = None) -> list[Answer]:
    """The answers of a call from its events in order: ("document", name), ("router", step, answer) and
    ("decision", step, branch); other kinds are passed over.

    A document plays its steps in order. A router event means the caller pressed keys at that menu (or a
    transfer reported its outcome), so what follows that step in the answer before was not played; the router
    answered with document ``answer``. A recording event with an ``answer`` (the Record step's action) is read
    the same way. Decision events come before the answer they were taken in: an answer
    ending at that step goes on with the branch's document (``branches``: step → branch → document).
    """
    out: list[Answer] = []
    pending: list[tuple[int, str, str]] = []
    branches = branches or {}

    def go_on(answer: Answer) -> None:  # the host spliced the branch documents of the decisions it took
        while pending and answer.steps and answer.steps[-1] == pending[0][1]:
            index, node, branch = pending.pop(0)
            answer.decisions[node] = index
            doc = branches.get(node, {}).get(branch)
            if doc not in steps_of:
                break
            answer.steps.extend(steps_of[doc])
        for index, node, _ in pending:  # taken, but not at the end of what was played (a hand-made bundle)
            answer.decisions.setdefault(node, index)
        pending.clear()

    for index, (kind, target, *rest) in enumerate(events):
        answer = rest[0] if rest else None
        if kind == "decision":
            pending.append((index, target, str(answer)))
        elif kind == "document":
            out.append(Answer(index, kind, target, list(steps_of.get(target, []))))
            go_on(out[-1])
        elif kind == "router" or (kind == RECORDING and answer):  # a recording answered like a router
            item = Answer(index, kind, target, [])
            if pending and pending[0][1] == target:
                item.decisions[target] = pending.pop(0)[0]  # the decision's own URL (a transfer's outcome)
            elif out and target in out[-1].steps:
                last = out[-1].steps
                del last[last.index(target) + 1:]
            if answer in steps_of:
                item.steps = list(steps_of[answer])
            out.append(item)
            go_on(item)
    return out


def event_rows(events: list[CallEvent]) -> list[tuple]:
    """A call's events as ``answers`` reads them: (kind, target, the answer document or a decision's branch)."""
    return [(e.kind, e.target, e.params.get("branch" if e.kind == "decision" else "answer")) for e in events]


def ended_at(facts: RevisionFacts, steps: list[str]) -> int:
    """Where, in the steps of a call's last answer, the call ended: the first menu when what follows it would
    have sent the caller on (the answer ends in a Redirect, or a Record or Dial with an action, yet no request
    came: the caller hung up while the menu waited), else the last step. Returns an index into ``steps`` (-1 when there are none)."""
    if not steps:
        return -1
    return next((i for i, s in enumerate(steps[:-1]) if s in facts.routers), len(steps) - 1)


def last_answer_goes_on(facts: RevisionFacts, answer: Answer, events: list[tuple]) -> bool:
    """Whether the last document played in ``answer`` ends by sending the caller on (``RevisionFacts.goes_on``)."""
    doc = _last_document(facts, answer, events)
    return doc is not None and doc in facts.goes_on


def _last_document(facts: RevisionFacts, answer: Answer, events: list[tuple]) -> str | None:
    """The document an answer ended with: its own, or the branch of the last decision spliced into it."""
    doc = answer.target if answer.kind == "document" else (events[answer.index][2] if len(events[answer.index]) > 2
                                                            else None)
    for node, index in answer.decisions.items():
        if facts.host_decides(node):
            doc = facts.branch_document(node, events[index][2] if len(events[index]) > 2 else None) or doc
    return doc


# --- menus: what the keys chose ----------------------------------------------------------------------------


NO_INPUT, INVALID, OPTION = "no input", "invalid", "option"


def keys_outcome(facts: RevisionFacts, menu: str, digits: str | None) -> tuple[str, str]:
    """(what the keys were: "option", "no input" or "invalid"; the option's key) at a menu's router."""
    router = facts.routers.get(menu)
    typed = digits or ""
    if router is not None and router.finish_on_key and typed.endswith(router.finish_on_key) \
            and typed not in router.branches:
        typed = typed[:-len(router.finish_on_key)]
    if typed == "":
        return NO_INPUT, ""
    if router is not None and typed in router.branches:
        return OPTION, typed
    return INVALID, typed


# --- the timeline --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a call's timeline. ``kind``: step, keys, sms, transfer, recording, decision, status, error,
    end; ``link`` a recording's URL (http or https only)."""

    at: float
    kind: str
    title: str
    detail: str = ""
    step: str | None = None
    link: str | None = None


@dataclass
class CallTimeline:
    call_sid: str
    flow_id: str = ""
    rev: str = ""
    found: bool = False  # the store has events of this call
    revision_found: bool = False  # the revision it ran on is still stored (its steps are known)
    revision_note: str = ""
    started: float | None = None
    ended: float | None = None
    caller: str = ""
    called: str = ""
    status: str = ""  # the status callback's CallStatus, when one came
    duration: str = ""  # … and its CallDuration (seconds)
    entries: list[TimelineEntry] = field(default_factory=list)
    path: list[str] = field(default_factory=list)  # the steps played, in order (what the canvas draws)


def call_timeline(store: Store, call_sid: str) -> CallTimeline:
    """The timeline of one stored call (``found`` False when the store has no event of it)."""
    events = store.call_events(call_sid)
    timeline = CallTimeline(call_sid)
    if not events:
        return timeline
    first = next((e for e in events if e.kind in ("document", "router")), events[0])
    timeline.found = True
    timeline.flow_id, timeline.rev = first.flow_id, first.rev
    timeline.started, timeline.ended = events[0].at, events[-1].at
    timeline.caller = _first(events, "From")
    timeline.called = _first(events, "To")
    status = next((e for e in reversed(events) if e.kind == "status"), None)
    if status is not None:
        timeline.status = str(status.params.get("CallStatus") or status.target)
        timeline.duration = str(status.params.get("CallDuration") or "")
    facts = revision_facts(store, first.flow_id, first.rev) if first.flow_id else None
    if facts is not None:
        timeline.revision_found, timeline.revision_note = True, facts.note
    over = status is not None or time.time() - events[-1].at > QUIET_SECONDS
    timeline.entries = _entries(facts, events, _call_values(events), over, timeline)
    return timeline


def _entries(facts: RevisionFacts | None, events: list[CallEvent], values: dict[str, str], over: bool,
             timeline: CallTimeline) -> list[TimelineEntry]:
    out: list[TimelineEntry] = []
    used: set[int] = set()
    played: list[Answer] = []
    if facts is not None:
        rows = event_rows(events)
        played = answers(facts.steps_of, rows, facts.branches)
        if played and over and last_answer_goes_on(facts, played[-1], rows):
            last = played[-1].steps
            del last[ended_at(facts, last) + 1:]
    by_index = {a.index: a for a in played}
    seen_recordings: set[str] = set()
    for index, event in enumerate(events):
        answer = by_index.get(index)
        if answer is not None and facts is not None:
            used.update(answer.decisions.values())
            out.extend(_answer_entries(facts, answer, events, values))
            timeline.path.extend(answer.steps)
        elif event.kind == "error":
            out.append(TimelineEntry(event.at, "error", "The host answered with an apology", event.target))
        elif event.kind == "status":
            duration = event.params.get("CallDuration")
            out.append(TimelineEntry(event.at, "status", f"Status callback: {event.params.get('CallStatus') or event.target}",
                                     f"the call lasted {duration} s" if duration else ""))
        elif event.kind == "decision" and index not in used and facts is None:
            out.append(_decision_entry(None, event.target, event))
        elif event.kind in ("document", "router") and facts is None:  # the revision is gone: what was asked
            out.append(TimelineEntry(event.at, "step", f"Requested {event.target}", _router_detail(event)))
        url = event.params.get("RecordingUrl")
        if url or event.kind == RECORDING:
            key = str(event.params.get("RecordingFileSid") or url or index)
            if key not in seen_recordings:
                seen_recordings.add(key)
                out.append(_recording_entry(event))
    out.sort(key=lambda e: e.at)  # stable: the order within one answer stays
    return out


def _answer_entries(facts: RevisionFacts, answer: Answer, events: list[CallEvent],
                    values: dict[str, str]) -> list[TimelineEntry]:
    event = events[answer.index]
    out: list[TimelineEntry] = []
    if answer.kind == "router" and answer.target in facts.routers:
        outcome, key = keys_outcome(facts, answer.target, event.digits)
        chose = f"went on to {answer.steps[0]}" if answer.steps else "the call ended there"
        if outcome == OPTION:
            title = f"Pressed {event.digits} at {answer.target}: option {key}"
        elif outcome == NO_INPUT:
            title = f"No keys pressed at {answer.target} (no input)"
        else:
            title = f"Pressed {event.digits} at {answer.target}: not an option (invalid)"
        out.append(TimelineEntry(event.at, "keys", title, chose, answer.target))
    elif answer.kind == "router" and answer.target in answer.decisions:
        out.append(_transfer_outcome(facts, answer.target, event, events[answer.decisions[answer.target]]))
    for step in answer.steps:
        if step in answer.decisions and facts.host_decides(step):
            out.append(_decision_entry(facts, step, events[answer.decisions[step]]))
        else:
            out.append(_step_entry(facts, step, event.at, values))
    if answer.kind == "router" and event.params.get("answer") == END_OF_CALL:
        out.append(TimelineEntry(event.at, "end", "The call ended there (the branch taken leads nowhere)", "",
                                 answer.target))
    return out


def _transfer_outcome(facts: RevisionFacts, node: str, event: CallEvent, decision: CallEvent) -> TimelineEntry:
    spec = STEPS.get(facts.decision_types.get(node, ""))
    answered = spec is None or str(decision.params.get("branch", "")) != spec.outcome_branch
    reason = str(decision.params.get("reason", ""))
    fields = ", ".join(f"{name}={event.params[name]}" for name in DIAL_STATUS_FIELDS if event.params.get(name))
    detail = reason + (f" ({fields})" if fields and fields not in reason else "")
    return TimelineEntry(event.at, "transfer", f"Transfer {node}: {'answered' if answered else 'not answered'}",
                         detail, node)


def _decision_entry(facts: RevisionFacts | None, node: str, event: CallEvent) -> TimelineEntry:
    kind = str(event.params.get("step") or (facts.decision_types.get(node, "") if facts else ""))
    spec = STEPS.get(kind)
    label = spec.label if spec is not None else "Decision"
    return TimelineEntry(event.at, "decision", f"{label} {node}: {event.params.get('branch', '?')}",
                         str(event.params.get("reason", "")), node)


def _step_entry(facts: RevisionFacts, step: str, at: float, values: dict[str, str]) -> TimelineEntry:
    data = facts.node(step)
    spec = step_of(data)
    if spec is None:
        return TimelineEntry(at, "step", f"Step {step}", "", step)
    attrs = data.get("attrs") if isinstance(data.get("attrs"), dict) else {}
    if spec.text == "message":  # a text message: to, from and body as this call sent them
        to = _render(str(attrs.get("to") or ""), values) or values.get("To", "")
        sender = _render(str(attrs.get("from") or ""), values) or values.get("From", "")
        body = _render(str(data.get("text") or ""), values)
        return TimelineEntry(at, "sms", f"Text sent to {to or '?'} from {sender or '?'}", _short(body), step)
    if spec.dials:
        numbers = ", ".join(str(n) for n in data.get("numbers") or [])
        reported = spec.outcome_branch and spec.outcome_branch in facts.branches.get(step, {})
        return TimelineEntry(at, "transfer", f"Transfer {step} to {numbers or '?'}",
                             "" if reported else "its outcome is not reported to the host (no "
                             f"'{spec.outcome_branch}' connection)", step)
    if spec.is_menu:
        prompt = next((p.get("text") for p in data.get("prompt") or [] if isinstance(p, dict) and p.get("text")), "")
        return TimelineEntry(at, "step", f"Menu {step}", _short(_render(str(prompt), values)), step)
    if spec.jumps:
        return TimelineEntry(at, "step", f"Go to {data.get('target', '?')}", "", step)
    text = data.get("text")
    detail = _short(_render(str(text), values)) if isinstance(text, str) else ""
    return TimelineEntry(at, "step", f"{spec.label} {step}", detail, step)


def _recording_entry(event: CallEvent) -> TimelineEntry:
    refused = event.params.get("not_stored")
    if refused:  # the host answered, but kept nothing of it (a host not allowed, no URL, no token)
        return TimelineEntry(event.at, "recording", "Recording not kept", _short(str(refused)),
                             event.target if event.kind == RECORDING else None, None)
    url = str(event.params.get("RecordingUrl") or "")
    seconds = str(event.params.get("RecordingDuration") or "")
    detail = " · ".join(p for p in (f"{seconds} s" if seconds else "length not reported",
                                    str(event.params.get("RecordingFileSid") or "")) if p)
    link = url if url.lower().startswith(("https://", "http://")) else None
    return TimelineEntry(event.at, "recording", "Recording" + (f" ({seconds} s)" if seconds else ""), detail,
                         event.target if event.kind == RECORDING else None, link)


def _router_detail(event: CallEvent) -> str:
    parts = [f"keys {event.digits}" if event.digits else "", str(event.params.get("answer") or "")]
    return " → ".join(p for p in parts if p)


def _first(events: list[CallEvent], name: str) -> str:
    return next((str(e.params[name]) for e in events if e.params.get(name)), "")


def _call_values(events: list[CallEvent]) -> dict[str, str]:
    """The call's fields its texts may use ({{ From }} …), from the first event that has each."""
    values: dict[str, str] = {}
    for e in events:
        for name in CALL_VARIABLES:
            if name not in values and e.params.get(name):
                values[name] = str(e.params[name])
    return values


def _render(text: str, values: dict[str, Any]) -> str:
    if not is_template(text):
        return text
    try:
        return parse(text).render(values)
    except TemplateError:
        return text


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_SHOWN else text[:TEXT_SHOWN - 1] + "…"
