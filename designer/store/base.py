"""The store's interface (``Store``), its records and errors, and what every backend shares.

``Store`` is the interface the rest of the app uses: every method called on a
store outside this package is in it (a test checks). Flows are saved as their
node-link JSON text; a revision also keeps its export bundle, so the host
serves it without recompiling.

Every flow save carries the version the editor last saw; a save against a
newer version raises ``StaleFlow`` (a second tab must not silently overwrite).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol
from urllib.parse import urlsplit, urlunsplit

from designer.errors import DesignerError
from designer.store.calls import CallFilter


class StoreError(DesignerError):
    """A store operation that cannot be done; the message says which object."""


class SpoolConflict(StoreError):
    """A spool file's position in the database is not where the reader started: another reader moved it."""


class StaleFlow(StoreError):
    """The flow changed since the editor loaded it (another tab or user saved)."""


@dataclass
class FlowRecord:
    id: str
    name: str
    graph_json: str
    version: int
    updated_at: float
    published_rev: int | None = None
    numbers: list[str] = field(default_factory=list)


@dataclass
class Revision:
    flow_id: str
    rev: int
    graph_json: str
    bundle: bytes
    created_at: float
    note: str = ""


@dataclass
class CallEvent:
    call_sid: str
    flow_id: str
    rev: str
    kind: str  # "document", "router", "decision", "recording", "error", "status"
    target: str  # document name or router node, or the reason for an error
    digits: str | None
    at: float
    params: dict[str, Any] = field(default_factory=dict)

    def row(self) -> tuple:
        """The event as a plain tuple in field order (what ``record_rows`` and the event spool's records hold)."""
        return (self.call_sid, self.flow_id, self.rev, self.kind, self.target, self.digits, self.at, self.params)


# The decisions the host took while answering a request travel on that request's event, not as events of their
# own (one row written per request, however many decisions it took): ``decisions`` holds "step branch" per
# line, in the order taken, ``reasons`` why, one line each. Events recorded before this were one "decision"
# event per decision; readers take both (``decision_events``).
DECISIONS = "decisions"
REASONS = "reasons"


def decisions_param(pairs: list[tuple[str, str]]) -> str:
    """``decisions`` for (step, branch) pairs: "step branch" per line (line breaks in either made spaces)."""
    return _lines([f"{node} {branch}" for node, branch in pairs])


def reasons_param(reasons: list[str], cap: int) -> str:
    """``reasons``: one line each, each cut to ``cap`` characters."""
    return _lines([r[:cap] for r in reasons])


def _lines(items: list[str]) -> str:
    text = "\n".join(items)
    if text.count("\n") == len(items) - 1 and "\r" not in text:  # the usual case: no item breaks a line
        return text
    return "\n".join(i.replace("\r", " ").replace("\n", " ") for i in items)


def decision_pairs(text: str | None) -> list[tuple[str, str]]:
    """(step, branch) pairs of a ``decisions`` text (or of an older event's ``decided``: one pair)."""
    out = []
    for line in str(text or "").split("\n"):
        node, _, branch = line.rpartition(" ")
        if node:
            out.append((node, branch))
    return out


def decision_events(events: Iterable[CallEvent]) -> list[CallEvent]:
    """A call's events with the decisions each answer took as ``decision`` events before it (target: the
    step; params ``branch`` and ``reason``), as events recorded before decisions travelled with their
    request were stored."""
    out: list[CallEvent] = []
    for event in events:
        pairs = decision_pairs(event.params.get(DECISIONS)) if DECISIONS in event.params else ()
        if pairs:
            reasons = str(event.params.get(REASONS, "")).split("\n")
            out.extend(CallEvent(event.call_sid, event.flow_id, event.rev, "decision", node, None, event.at,
                                 {"branch": branch, "reason": reasons[i] if i < len(reasons) else ""})
                       for i, (node, branch) in enumerate(pairs))
        out.append(event)
    return out


@dataclass(frozen=True)
class Voicemail:
    """A recording a Record step's action reported: who left it, when, how long, where the carrier keeps it."""

    id: int
    call_sid: str
    flow_id: str
    rev: str
    node: str  # the Record step
    caller: str  # the From number
    called: str  # the To number
    at: float
    duration: int | None  # seconds, as the carrier reported it (None: not given)
    url: str  # the carrier's recording URL (on a host the user allows)
    file_sid: str
    heard_at: float | None = None  # None: new

    @property
    def new(self) -> bool:
        return self.heard_at is None


def voicemail_values(rows: list[tuple]) -> list[tuple]:
    """The voicemails rows of ``CallEvent.row()``s hold: a ``recording`` event whose URL the host kept.

    (call_sid, flow_id, rev, node, caller, called, at, duration, url, file_sid) each."""
    out = []
    for sid, flow, rev, kind, target, _digits, at, params in rows:
        if kind != "recording" or not params.get("RecordingUrl") or "not_stored" in params:
            continue
        duration = params.get("RecordingDuration", "")
        out.append((sid, flow, rev, target, params.get("From", ""), params.get("To", ""), at,
                    int(duration) if str(duration).isdigit() and len(str(duration)) < 10 else None,
                    params["RecordingUrl"], params.get("RecordingFileSid", "")))
    return out


@dataclass(frozen=True)
class SpoolMark:
    """Events read from bytes ``start``..``end`` of spool file ``name`` (written by ``tag``)."""

    name: str
    tag: str
    start: int
    end: int
    events: int


@dataclass(frozen=True)
class SpoolPosition:
    """How far a spool file has been moved into the events table; ``done`` once the file is deleted."""

    offset: int
    events: int
    done: bool


@dataclass(frozen=True)
class HoursOverride:
    """An operator's switch of one Hours step: ``state`` "open" or "closed", until ``until`` (epoch
    seconds) or, when None, until cleared."""

    flow_id: str
    node: str
    state: str
    until: float | None
    set_at: float


OVERRIDE_STATES = ("open", "closed")


@dataclass(frozen=True)
class TrafficCount:
    """How many events of one revision in a period share a kind, target, digits and answer.

    ``answer`` is a router's (or a recording's) answer, the document it answered with, or a decision's branch.
    """

    kind: str
    target: str
    digits: str | None
    answer: str | None
    count: int
    decisions: tuple[tuple[str, str], ...] = ()  # (step, branch) the host took in those answers, in order


@dataclass(frozen=True)
class TrafficEnding:
    """How many calls' last request was this one: its kind, target and answer, and the decisions the host took
    in that answer (step, branch), in order (an event recorded before decisions travelled with their request:
    the last one whose branch it spliced in)."""

    kind: str
    target: str
    answer: str | None
    decisions: tuple[tuple[str, str], ...]
    count: int


@dataclass(frozen=True)
class TrafficCounts:
    """The aggregates the traffic overlay is computed from (``Store.traffic``): no event is loaded one by one."""

    calls: int
    counts: list[TrafficCount]
    endings: list[TrafficEnding]


# what the host records per request and decision; "recording": a Record step's action (voicemail route)
TRAFFIC_KINDS = ("document", "router", "decision", "error", "recording")
_REQUESTS = "('document', 'router', 'error', 'recording')"  # one of these per request the host answered


def traffic_queries(mark: str, field: "Callable[[str, str], str]") -> tuple[str, str]:
    """The two aggregate queries of ``Store.traffic`` in one SQL dialect: ``mark`` is its parameter mark,
    ``field(column, name)`` reads a string field of the JSON text in ``column``.

    Each takes (flow, rev, since, until). The first counts events by kind, target, digits, answer (a
    router's answer, an older decision event's branch) and the decisions taken in the answer; the second
    counts calls by their last request (and the decisions taken in that answer), so its counts add up to the
    calls. ``decided`` is what events recorded before decisions travelled with their request named.
    """
    where = f"flow_id = {mark} AND rev = {mark} AND at >= {mark} AND at < {mark}"
    answer = (f"CASE WHEN kind IN ('router', 'recording') THEN {field('params', 'answer')} "
              f"WHEN kind = 'decision' THEN {field('params', 'branch')} END")
    # an error's target is its reason, and junk digits come with it: errors are only counted
    counts = (f"SELECT kind, CASE WHEN kind = 'error' THEN '' ELSE target END AS target, "
              f"CASE WHEN kind = 'router' THEN digits END AS digits, {answer} AS answer, "
              f"{field('params', DECISIONS)} AS decisions, COUNT(*) AS n FROM events "
              f"WHERE {where} AND kind IN {tuple(TRAFFIC_KINDS)} GROUP BY 1, 2, 3, 4, 5")
    endings = (
        f"SELECT e.kind, CASE WHEN e.kind = 'error' THEN '' ELSE e.target END AS target, "
        f"CASE WHEN e.kind IN ('router', 'recording') THEN {field('e.params', 'answer')} END AS answer, "
        f"COALESCE({field('e.params', DECISIONS)}, {field('e.params', 'decided')}) AS decisions, "
        f"COUNT(*) AS n FROM events e "
        f"WHERE e.id IN (SELECT MAX(id) FROM events WHERE {where} AND kind IN {_REQUESTS} GROUP BY call_sid) "
        f"GROUP BY 1, 2, 3, 4")
    return counts, endings


def traffic_counts(counts: list, endings: list) -> TrafficCounts:
    """``TrafficCounts`` from the rows of ``traffic_queries`` (tuples or mappings in column order)."""
    def values(row) -> tuple:
        return tuple(row.values()) if isinstance(row, dict) else tuple(row)

    last = [TrafficEnding(str(k), str(t), a, tuple(decision_pairs(d)), int(n))
            for k, t, a, d, n in map(values, endings)]
    return TrafficCounts(calls=sum(e.count for e in last),
                         counts=[TrafficCount(str(k), str(t), d, a, int(n), tuple(decision_pairs(p)))
                                 for k, t, d, a, p, n in map(values, counts)],
                         endings=last)


class Store(Protocol):
    """What the designer, the host and the event writer call on a store."""

    path: str  # where the data lives (the carrier's password key file is kept beside it)

    def close(self) -> None: ...
    # flows
    def list_flows(self) -> list[FlowRecord]: ...
    def get_flow(self, flow_id: str) -> FlowRecord | None: ...
    def create_flow(self, flow_id: str, name: str, graph_json: str) -> FlowRecord: ...
    def save_flow(self, flow_id: str, graph_json: str, expected_version: int, name: str | None = None) -> int: ...
    def rename_flow(self, flow_id: str, name: str) -> None: ...
    def delete_flow(self, flow_id: str) -> None: ...
    # revisions
    def add_revision(self, flow_id: str, graph_json: str, bundle_for_rev, note: str = "") -> Revision: ...
    def list_revisions(self, flow_id: str) -> list[Revision]: ...
    def get_revision(self, flow_id: str, rev: int) -> Revision | None: ...
    def published_revisions(self) -> list[Revision]: ...
    def set_published(self, flow_id: str, rev: int) -> None: ...
    # changes hosts follow: publish, restore, bind, unbind and delete each count one
    def changes(self) -> int: ...
    def wait_for_changes(self, seen: int, timeout: float) -> int: ...
    # numbers
    def bind_did(self, number: str, flow_id: str) -> None: ...
    def unbind_did(self, number: str) -> None: ...
    def dids(self) -> dict[str, str]: ...
    # calls
    def record_events(self, events: list[CallEvent]) -> None: ...
    def record_rows(self, rows: list[tuple], mark: SpoolMark | None = None) -> None: ...  # ``CallEvent.row()``s
    # the event spool's file positions (designer/host/spool.py)
    def spool_positions(self) -> dict[str, SpoolPosition]: ...
    def spool_done(self, name: str) -> None: ...
    def spool_totals(self, tag: str) -> tuple[int, int]: ...
    # operators' switches of Hours steps ("closed now" / "open now", until a time or cleared)
    def set_override(self, flow_id: str, node: str, state: str, until: float | None) -> None: ...
    def clear_override(self, flow_id: str, node: str) -> None: ...
    def overrides(self, flow_id: str | None = None) -> list[HoursOverride]: ...
    # the call list (one row per call, kept by record_rows; designer/store/calls.py)
    def recent_calls(self, limit: int = 50, flow_id: str | None = None) -> list[dict]: ...
    def find_calls(self, where: CallFilter, offset: int = 0, limit: int = 50, now: float | None = None) -> list[dict]: ...
    def count_calls(self, where: CallFilter, now: float | None = None) -> int: ...
    def calls_by_hour(self, where: CallFilter, origin: float, now: float | None = None) -> list[tuple[int, str, int]]: ...
    def delete_calls_before(self, before: float, limit: int = 500) -> int: ...  # retention, in small batches
    def call_events(self, call_sid: str) -> list[CallEvent]: ...
    # the voicemail inbox (filled from "recording" events by record_rows)
    def voicemails(self, flow_id: str | None = None, limit: int = 200) -> list[Voicemail]: ...
    def count_new_voicemails(self, flow_id: str | None = None) -> int: ...
    def mark_voicemail_heard(self, voicemail_id: int) -> None: ...
    def delete_voicemail(self, voicemail_id: int) -> None: ...
    # one revision's call events in [since, until), counted in the database (GROUP BY), for the traffic overlay
    def traffic(self, flow_id: str, rev: str, since: float, until: float) -> TrafficCounts: ...
    # settings
    def get_setting(self, key: str, default: str | None = None) -> str | None: ...
    def set_setting(self, key: str, value: str) -> None: ...
    def add_setting(self, key: str, value: str) -> bool: ...
    # sign-in sessions (by random token)
    def add_session(self, token: str) -> None: ...
    def session_alive(self, token: str, since: float = 0.0) -> bool: ...
    def end_session(self, token: str) -> None: ...
    def end_all_sessions(self, before: float | None = None, keep: str | None = None) -> None: ...


EVENT_ROWS = 100  # events per multi-row INSERT statement
# json.dumps without its per-call set-up (a third of the cost for a small dict); same output as
# json.dumps(obj, separators=(",", ":"))
_encode_params = json.encoder.c_make_encoder(
    None, None, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True)


def params_json(params: dict[str, Any]) -> str:
    """An event's parameters as compact JSON text (str values, as the host records them)."""
    return "".join(_encode_params(params, 0)) if params else "{}"


def _token_hash(token: str) -> str:
    """What the sessions table keeps of a token: a copy of the database signs no one in."""
    return hashlib.sha256(token.encode()).hexdigest()


def safe_url(url: str) -> str:
    """The URL without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
