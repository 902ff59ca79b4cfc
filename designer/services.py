"""What the designer's pages do, without UI: create, copy, import, publish, export, bind numbers, read calls.

Every function takes the ``AppContext`` and raises ``ServiceError`` (a
one-line message naming the object and the problem) for anything a user can
get wrong. Pages show that message; tests call these functions directly.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import PurePath

import networkx as nx

from compiler import (BundleError, CompiledFlow, CompileError, FlowError, GrammarError, Problem, compile_flow,
                      only_errors, validate, write_zip)
from compiler import flow as flowfile
from compiler.bundle import flow_from_zip
from compiler.catalogue import step_of
from compiler.decisions import Override, hours_state
from compiler.diff import call_changes, describe_changes
from compiler.examples import EXAMPLES, example
from compiler.importer import ImportRefused, import_document
from compiler.phones import DEFAULT_REGION, read_e164, region_choices
from compiler.validate import FLOW_ID, RESERVED_FLOW_IDS

from designer.calls_timeline import CallTimeline, answers, call_timeline as _call_timeline, event_rows
from designer.context import AppContext
from designer.revision_facts import revision_facts
from designer.traffic import Traffic, traffic as _traffic
from designer.errors import DesignerError
from designer.host.inprocess import InProcessHost, hosted
from designer.host.table import clock_from_env
from designer.host.trust import (RECORDING_HOSTS_SETTING, REQUIRE_TOKEN_SETTING, TOKEN_SETTING, CarrierTrust,
                                 new_token, parse_hosts, token_segment, trust_from_settings)
from designer.store import OVERRIDE_STATES, CallEvent, CallFilter, FlowRecord, HoursOverride, Revision, StaleFlow, \
    StoreError, Voicemail
from designer.store.calls import OUTCOME_LABELS, OUTCOMES, QUIET_MINUTES, as_test
from designer.store.retention import RETENTION_DEFAULT_DAYS, RETENTION_MAX_DAYS, RETENTION_MIN_DAYS, \
    RETENTION_SETTING, retention_days

__all__ = ["ServiceError", "PublishRefused", "NothingToPublish", "StaleFlow", "StoreError",  # and the functions below
           "CallFilter", "OUTCOMES", "OUTCOME_LABELS", "QUIET_MINUTES", "RETENTION_DEFAULT_DAYS", "RETENTION_MAX_DAYS",
           "RETENTION_MIN_DAYS"]

MAX_UPLOAD_BYTES = flowfile.MAX_FLOW_BYTES
IMPORT_NOTES = "import_notes"  # graph key: the importer's notes, [{"text", "node"}], until dismissed
SECRET_SETTING = "storage_secret"
PUBLIC_URL_SETTING = "public_url"
MAX_PAGE = 200  # calls on one page of the Calls page, at most
MAX_PERIOD_DAYS = 366  # the longest period the Calls page's chart counts
CSV_PAGE = 5000  # calls read at a time for a CSV download


class ServiceError(DesignerError):
    """Something the user asked for that cannot be done; the message says what and why."""


class PublishRefused(ServiceError):
    """The flow still has errors; ``problems`` lists them."""

    def __init__(self, flow_id: str, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"flow {flow_id!r} has {len(problems)} error(s); fix them before publishing")


class NothingToPublish(ServiceError):
    """The draft calls the same as the published revision (at most steps moved): no new revision is made."""

    def __init__(self, flow_id: str, rev: int):
        self.rev = rev
        super().__init__(f"flow {flow_id!r} has no changes since revision {rev}; nothing to publish")


# --- ids and names ---------------------------------------------------------------------


def slugify(name: str) -> str:
    """A URL-safe flow id from a name: 'Acme Main Line!' → 'acme-main-line'."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:50].strip("-")
    return slug or "flow"


def unique_flow_id(ctx: AppContext, name: str) -> str:
    base = slugify(name)
    if base in RESERVED_FLOW_IDS:
        base = f"{base}-flow"
    taken = {f.id for f in ctx.store.list_flows()}
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base}-{n}"
        n += 1
    return candidate


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError("a flow needs a name")
    if len(name) > 120:
        raise ServiceError(f"the name is {len(name)} characters; use at most 120")
    return name


def _get(ctx: AppContext, flow_id: str) -> FlowRecord:
    record = ctx.store.get_flow(flow_id)
    if record is None:
        raise ServiceError(f"there is no flow {flow_id!r} (was it deleted?)")
    return record


def find_flow(ctx: AppContext, flow_id: str) -> FlowRecord | None:
    """The stored flow, or None when there is none (deleted, say)."""
    return ctx.store.get_flow(flow_id)


def flow_records(ctx: AppContext) -> dict[str, FlowRecord]:
    """Every stored flow by id, in the store's order."""
    return {r.id: r for r in ctx.store.list_flows()}


def flow_names(ctx: AppContext) -> dict[str, str]:
    """Flow id → name, in the store's order (for choosers and tables)."""
    return {r.id: r.name for r in ctx.store.list_flows()}


def draft_graph(ctx: AppContext, flow_id: str) -> nx.DiGraph:
    return flowfile.loads(_get(ctx, flow_id).graph_json, f"flow {flow_id}")


def _store_new(ctx: AppContext, graph: nx.DiGraph, name: str, wanted_id: str = "") -> FlowRecord:
    name = _clean_name(name)
    free = FLOW_ID.match(wanted_id) and wanted_id not in RESERVED_FLOW_IDS and ctx.store.get_flow(wanted_id) is None
    graph.graph["id"] = wanted_id if free else unique_flow_id(ctx, name)
    graph.graph["name"] = name
    graph.graph.setdefault("format", flowfile.FORMAT)
    try:
        return ctx.store.create_flow(graph.graph["id"], name, flowfile.dumps(graph))
    except StoreError as exc:
        raise ServiceError(str(exc)) from None


def save_draft(ctx: AppContext, flow_id: str, graph_json: str, version: int, name: str | None = None) -> int:
    """Save the editor's draft over ``version``; returns the new version.

    Raises ``StaleFlow`` when the flow was saved elsewhere since ``version``
    and ``StoreError`` when it cannot be saved (deleted, say).
    """
    return ctx.store.save_flow(flow_id, graph_json, version, name=name)


# --- create, copy, rename, delete ------------------------------------------------------


def blank_graph() -> nx.DiGraph:
    graph = nx.DiGraph(start="welcome", format=flowfile.FORMAT)
    graph.add_node("welcome", type="Say", text="Hello, thank you for calling.", x=40, y=40)
    return graph


def create_blank(ctx: AppContext, name: str) -> FlowRecord:
    """A new flow with one greeting step to start from."""
    return _store_new(ctx, blank_graph(), name)


def examples() -> dict[str, str]:
    """Example name → description, in the order they are offered."""
    return dict(EXAMPLES)


def example_title(name: str) -> str:
    return str(example(name).graph.get("name") or name)


def example_icon(name: str) -> str:
    """The Material icon an example's file names for it (``graph.icon``)."""
    return str(example(name).graph.get("icon") or "description")


def create_from_example(ctx: AppContext, name: str, flow_name: str | None = None) -> FlowRecord:
    if name not in EXAMPLES:
        raise ServiceError(f"there is no example {name!r}; choose one of {', '.join(EXAMPLES)}")
    graph = example(name)
    return _store_new(ctx, graph, flow_name or str(graph.graph.get("name") or name))


def duplicate(ctx: AppContext, flow_id: str, name: str | None = None) -> FlowRecord:
    record = _get(ctx, flow_id)
    graph = flowfile.loads(record.graph_json, f"flow {flow_id}")
    return _store_new(ctx, graph, name or f"Copy of {record.name}"[:120])  # names are at most 120 characters


def rename(ctx: AppContext, flow_id: str, name: str) -> FlowRecord:
    """Rename a flow (its id, and so its host URL, stays)."""
    name = _clean_name(name)
    record = _get(ctx, flow_id)
    graph = flowfile.loads(record.graph_json, f"flow {flow_id}")
    graph.graph["name"] = name
    try:
        ctx.store.save_flow(flow_id, flowfile.dumps(graph), record.version, name=name)
    except StoreError as exc:
        raise ServiceError(str(exc)) from None
    return _get(ctx, flow_id)


def delete(ctx: AppContext, flow_id: str) -> None:
    """Delete a flow, its revisions and its numbers; the host stops answering for it."""
    record = _get(ctx, flow_id)
    if ctx.table is not None:
        for number in record.numbers:
            ctx.table.unbind(number)
    ctx.store.delete_flow(flow_id)
    if ctx.table is not None:
        ctx.table.remove_flow(flow_id)


# --- import ----------------------------------------------------------------------------


@dataclass
class Upload:
    """A flow read from an uploaded file, with what the importer had to say about it."""

    graph: nx.DiGraph
    notes: list[str]


def parse_upload(data: bytes, filename: str) -> Upload:
    """A flow from an uploaded flow file (.json), bundle (.zip) or FlexML/TwiML document (.xml)."""
    where = PurePath(filename or "upload").name
    if not data:
        raise ServiceError(f"{where}: the file is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ServiceError(f"{where}: the file is {len(data):,} bytes; at most {MAX_UPLOAD_BYTES:,} are accepted")
    try:
        if data[:2] == b"PK":
            return Upload(flow_from_zip(data, where), [])
        if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<" or where.lower().endswith(".xml"):  # or UTF-16
            result = import_document(data, name=where)
            notes = [str(n) for n in result.notes]
            if notes:  # kept with the flow, shown in the editor until dismissed
                result.graph.graph[IMPORT_NOTES] = [{"text": text, "node": n.node}
                                                    for text, n in zip(notes, result.notes)]
            return Upload(result.graph, notes)
        return Upload(flowfile.loads(data, where), [])
    except (FlowError, BundleError) as exc:
        raise ServiceError(str(exc)) from None
    except ImportRefused as exc:
        raise ServiceError(str(exc) if where in str(exc) else f"{where}: {exc}") from None
    except RecursionError:  # input nested beyond what Python reads, wherever it was noticed
        raise ServiceError(f"{where}: the file is nested too deeply to be a flow") from None


def import_flow(ctx: AppContext, data: bytes, filename: str) -> tuple[FlowRecord, list[str]]:
    """Import an uploaded file as a new flow (a fresh id if the file's is taken); returns it and the notes."""
    upload = parse_upload(data, filename)
    graph = upload.graph
    stem = PurePath(filename or "imported").stem
    name = " ".join(str(graph.graph.get("name") or graph.graph.get("id") or stem or "Imported flow").split())[:120]
    # keep the file's own id when it is free, so its host URL stays the same
    return _store_new(ctx, graph, name, wanted_id=str(graph.graph.get("id") or "")), upload.notes


# --- publish, revisions, export --------------------------------------------------------


def problems(ctx: AppContext, flow_id: str) -> list[Problem]:
    return validate(draft_graph(ctx, flow_id))


def checked_draft(ctx: AppContext, flow_id: str) -> nx.DiGraph:
    """The draft under its store id, refused (PublishRefused) while validation finds errors."""
    graph = draft_graph(ctx, flow_id)
    graph.graph["id"] = flow_id
    found = only_errors(validate(graph))
    if found:
        raise PublishRefused(flow_id, found)
    return graph


def publish(ctx: AppContext, flow_id: str, note: str = "") -> Revision:
    """Validate, compile, store an immutable revision with its bundle, and make the host serve it.

    ``note`` says what the revision is for ("new holiday hours"). A draft with no changes since the
    published revision raises ``NothingToPublish`` instead of making an identical revision.
    """
    graph = checked_draft(ctx, flow_id)
    record = _get(ctx, flow_id)
    if record.published_rev and not _changes_since(ctx, flow_id, record.published_rev, graph, calls_only=True):
        raise NothingToPublish(flow_id, record.published_rev)
    note = " ".join(str(note or "").split())[:MAX_NOTE_CHARS]
    compiled: list[CompiledFlow] = []

    def bundle_for_rev(rev: int) -> bytes:
        c = compile_flow(graph, revision=str(rev), problems=[])
        compiled.append(c)
        return write_zip(c, graph)

    try:
        revision = ctx.store.add_revision(flow_id, flowfile.dumps(graph), bundle_for_rev, note)
    except StoreError as exc:
        raise ServiceError(str(exc)) from None
    except (CompileError, GrammarError) as exc:  # a compiler bug, not the user's: say so plainly
        raise ServiceError(f"flow {flow_id!r} could not be compiled: {exc}") from None
    if ctx.table is not None:
        ctx.table.serve_revision(compiled[-1], current=True)
    return revision


MAX_NOTE_CHARS = 500


def revision_graph(ctx: AppContext, flow_id: str, rev: int) -> nx.DiGraph:
    """A stored revision's flow, under the flow's id (ServiceError when there is no such revision)."""
    revision = ctx.store.get_revision(flow_id, rev)
    if revision is None:
        raise ServiceError(f"flow {flow_id!r} has no revision {rev}")
    graph = flowfile.loads(revision.graph_json, f"flow {flow_id} revision {rev}")
    graph.graph["id"] = flow_id
    return graph


def _changes_since(ctx: AppContext, flow_id: str, rev: int, graph: nx.DiGraph, calls_only: bool = False) -> list[str]:
    """Sentences for what ``graph`` changes against revision ``rev``; ``calls_only`` leaves out moves."""
    draft = graph.copy()
    draft.graph["id"] = flow_id
    describe = call_changes if calls_only else describe_changes
    return describe(revision_graph(ctx, flow_id, rev), draft)


def unpublished_changes(ctx: AppContext, flow_id: str) -> list[str] | None:
    """What the draft changes against the published revision, in sentences; None when never published."""
    record = _get(ctx, flow_id)
    if not record.published_rev:
        return None
    return _changes_since(ctx, flow_id, record.published_rev, draft_graph(ctx, flow_id))


def revision_changes(ctx: AppContext, flow_id: str, old_rev: int, new_rev: int) -> list[str]:
    """What revision ``new_rev`` changed against ``old_rev``, in sentences ("menu: option 3 added, …")."""
    return describe_changes(revision_graph(ctx, flow_id, old_rev), revision_graph(ctx, flow_id, new_rev))


def revisions(ctx: AppContext, flow_id: str) -> list[Revision]:
    return ctx.store.list_revisions(flow_id)


def find_revision(ctx: AppContext, flow_id: str, rev: int) -> Revision | None:
    """A stored revision of a flow, or None."""
    return ctx.store.get_revision(flow_id, rev)


def restore_revision(ctx: AppContext, flow_id: str, rev: int) -> int:
    """Copy a revision's flow into the draft (a new save); returns the draft's new version."""
    record = _get(ctx, flow_id)
    revision = ctx.store.get_revision(flow_id, rev)
    if revision is None:
        raise ServiceError(f"flow {flow_id!r} has no revision {rev}")
    graph = flowfile.loads(revision.graph_json, f"flow {flow_id} revision {rev}")
    graph.graph["name"] = record.name
    try:
        return ctx.store.save_flow(flow_id, flowfile.dumps(graph), record.version)
    except StoreError as exc:
        raise ServiceError(str(exc)) from None


def flow_revisions(ctx: AppContext, flow_id: str) -> tuple[FlowRecord, list[Revision]]:
    """The flow and its revisions, newest first."""
    return _get(ctx, flow_id), ctx.store.list_revisions(flow_id)


def rollback(ctx: AppContext, flow_id: str, rev: int) -> int | None:
    """Make revision ``rev`` the one new calls get (the draft is not touched); returns the one before."""
    record = _get(ctx, flow_id)
    if ctx.store.get_revision(flow_id, rev) is None:
        known = [r.rev for r in ctx.store.list_revisions(flow_id)]
        raise ServiceError(f"flow {flow_id!r} has no revision {rev}"
                           + (f" (it has {known[-1]}–{known[0]})" if known else " (it was never published)"))
    if record.published_rev != rev:
        ctx.store.set_published(flow_id, rev)
        if ctx.table is not None and str(rev) in ctx.table.revisions(flow_id):
            ctx.table.set_current(flow_id, str(rev))
    return record.published_rev


def compile_draft(ctx: AppContext, flow_id: str, revision: str = "draft") -> CompiledFlow:
    """The draft compiled in memory (for test calls); raises PublishRefused while it has errors."""
    graph = checked_draft(ctx, flow_id)
    try:
        return compile_flow(graph, revision=revision, problems=[])
    except (CompileError, GrammarError) as exc:
        raise ServiceError(f"flow {flow_id!r} could not be compiled: {exc}") from None


def draft_host(ctx: AppContext, flow_id: str) -> InProcessHost:
    """The draft compiled in memory as revision "draft" and served in process, for a test call.

    Raises PublishRefused while the draft has errors. Its events are recorded, marked as a test call.
    """
    return hosted([compile_draft(ctx, flow_id)], on_event=test_events(_record_now(ctx)))


def published_host(ctx: AppContext, flow_id: str) -> InProcessHost:
    """The designer's own host, in process, for a test call: its events are recorded like the carrier's,
    marked as a test call."""
    if ctx.table is None or ctx.table.compiled(flow_id) is None:
        raise ServiceError("this flow is not published yet; publish it or call the draft")
    return hosted(table=ctx.table, on_event=test_events(_record_now(ctx)))


def export_bundle(ctx: AppContext, flow_id: str, rev: int | None = None) -> tuple[str, bytes]:
    """(file name, zip bytes): a stored revision's bundle, the published one by default."""
    record = _get(ctx, flow_id)
    rev = rev if rev is not None else record.published_rev
    if rev is None:
        raise ServiceError(f"flow {flow_id!r} is not published yet; publish it to export a bundle")
    revision = ctx.store.get_revision(flow_id, rev)
    if revision is None:
        raise ServiceError(f"flow {flow_id!r} has no revision {rev}")
    return f"{flow_id}-r{rev}.zip", revision.bundle


def export_flow_file(ctx: AppContext, flow_id: str) -> tuple[str, bytes]:
    record = _get(ctx, flow_id)
    graph = flowfile.loads(record.graph_json, f"flow {flow_id}")
    return f"{flow_id}.json", flowfile.dumps(graph).encode()


# --- numbers ---------------------------------------------------------------------------


def checked_number(text: str, region: str = DEFAULT_REGION) -> str:
    """A number a user typed, read as E.164 and stored as digits: '+1 (516) 206-5337' → '15162065337'.

    A national form ('(516) 206-5337') is read in ``region`` (Settings' default country). Raises
    ServiceError saying why for what cannot be a phone number (``designer.host.table.number_key``
    only strips to digits).
    """
    raw = (text or "").strip()
    if not raw:
        raise ServiceError("enter a phone number, like +1 516 206 5337")
    e164, why = read_e164(raw, region)
    if e164 is None:
        raise ServiceError(f"{why}; a phone number is its country code and number, like +1 516 206 5337")
    return e164.lstrip("+")


REGION_SETTING = "default_region"


def default_region(ctx: AppContext) -> str:
    """The country whose national forms phone numbers are read in ("US" unless Settings says otherwise)."""
    return ctx.store.get_setting(REGION_SETTING) or DEFAULT_REGION


def set_default_region(ctx: AppContext, region: str) -> str:
    """Set the default country (a two-letter region code phonenumbers knows, like "US" or "GB")."""
    code = (region or "").strip().upper()
    if code not in phone_regions():
        raise ServiceError(f"{region!r} is not a country code this designer knows; use one like US or GB")
    ctx.store.set_setting(REGION_SETTING, code)
    return code


def phone_regions() -> dict[str, str]:
    """Region code → "US (+1)", for the default-country choice."""
    return region_choices()


def bind_number(ctx: AppContext, number: str, flow_id: str) -> str:
    """Route calls to ``number`` to a flow; returns the stored (digits-only) number."""
    digits = checked_number(number, default_region(ctx))
    _get(ctx, flow_id)
    ctx.store.bind_did(digits, flow_id)
    if ctx.table is not None:
        ctx.table.bind(digits, flow_id)
    return digits


def bound_numbers(ctx: AppContext) -> dict[str, str]:
    """Every bound number (digits only) → the flow id it rings."""
    return ctx.store.dids()


def unbind_number(ctx: AppContext, number: str) -> None:
    digits = re.sub(r"\D", "", number or "")
    if digits not in ctx.store.dids():
        raise ServiceError(f"number {number[:40]!r} is not bound to any flow")
    ctx.store.unbind_did(digits)
    if ctx.table is not None:
        ctx.table.unbind(digits)


def format_number(digits: str) -> str:
    """Readable E.164: '15162065337' → '+1 516 206 5337' (North America), else '+' and digits."""
    if len(digits) == 11 and digits.startswith("1"):
        return f"+1 {digits[1:4]} {digits[4:7]} {digits[7:]}"
    return f"+{digits}"


# --- calls -----------------------------------------------------------------------------

def path_from_documents(steps_of: dict[str, list[str]], events: list[tuple],
                        decisions: dict[str, dict[str, str | None]] | None = None) -> list[str]:
    """The steps a call played, from its events in order (``designer.calls_timeline.answers``)."""
    return [step for answer in answers(steps_of, events, decisions) for step in answer.steps]


def call_path(ctx: AppContext, call_sid: str) -> list[str]:
    """The step ids a stored call went through, in order (repeats kept)."""
    events = ctx.store.call_events(call_sid)
    if not events:
        return []
    first = next((e for e in events if e.kind in ("document", "router")), events[0])
    facts = revision_facts(ctx.store, first.flow_id, first.rev)  # read once per revision, kept
    if facts is None:
        return []
    return path_from_documents(facts.steps_of, event_rows(events), facts.branches)


def flush_call_events(ctx: AppContext, timeout: float = 0.5) -> None:
    """Wait (up to ``timeout`` seconds) until the host's recorded call events are in the store."""
    if ctx.recorder is not None:
        ctx.recorder.flush(timeout=timeout)


def recent_calls(ctx: AppContext, limit: int = 50, flow_id: str | None = None) -> list[dict]:
    """Recent calls, newest first, each with its ``path`` of step ids."""
    return _with_paths(ctx, ctx.store.recent_calls(limit=limit, flow_id=flow_id))


def _with_paths(ctx: AppContext, calls: list[dict]) -> list[dict]:
    for call in calls:
        call["path"] = call_path(ctx, call["call_sid"])
    return calls


def find_calls(ctx: AppContext, where: CallFilter, offset: int = 0, limit: int = 25,
               now: float | None = None) -> tuple[list[dict], int]:
    """One page of the calls ``where`` matches (newest first, each with its ``path``), and how many match."""
    limit = max(1, min(int(limit), MAX_PAGE))
    calls = ctx.store.find_calls(where, offset=max(0, int(offset)), limit=limit, now=now)
    return _with_paths(ctx, calls), ctx.store.count_calls(where, now=now)


def day_start(day: date) -> float:
    """The epoch second a local day (this machine's time zone) starts at."""
    return time.mktime(day.timetuple())


def period_filter(where: CallFilter, first: date, last: date) -> CallFilter:
    """``where`` limited to calls started on local days ``first`` to ``last`` (both included)."""
    if last < first:
        raise ServiceError(f"the period ends ({last:%d %b %Y}) before it starts ({first:%d %b %Y})")
    if (last - first).days >= MAX_PERIOD_DAYS:
        raise ServiceError(f"choose a period of at most {MAX_PERIOD_DAYS} days")
    return replace(where, since=day_start(first), until=day_start(last + timedelta(days=1)))


def calls_per_day(ctx: AppContext, where: CallFilter, first: date, last: date,
                  now: float | None = None) -> dict[date, dict[str, int]]:
    """Calls started on each local day from ``first`` to ``last`` that ``where`` matches, by outcome
    (``designer.store.OUTCOMES``); every day of the period is there, an empty dict if it had none."""
    where = period_filter(where, first, last)
    days: dict[date, dict[str, int]] = {first + timedelta(days=i): {} for i in range((last - first).days + 1)}
    for hour, outcome, n in ctx.store.calls_by_hour(where, where.since, now=now):
        day = datetime.fromtimestamp(where.since + hour * 3600).date()
        if day in days:
            days[day][outcome] = days[day].get(outcome, 0) + n
    return days


CSV_COLUMNS = ("call", "started", "flow", "revision", "from", "to", "outcome", "status callback", "duration (s)",
               "last request", "events", "test call")


def calls_csv(ctx: AppContext, where: CallFilter, now: float | None = None) -> bytes:
    """Every call ``where`` matches, newest first, as CSV (UTF-8, a header row): what the Calls page shows."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    offset = 0
    while True:
        page = ctx.store.find_calls(where, offset=offset, limit=CSV_PAGE, now=now)
        for c in page:
            writer.writerow([_csv_cell(v) for v in (
                c["call_sid"], _iso(c["started"]), c["flow_id"], c["rev"], c["from"], c["to"], c["outcome"],
                c["status"], c["duration"], _iso(c["last_request"]), c["events"], "yes" if c["test"] else "no")])
        if len(page) < CSV_PAGE:
            return out.getvalue().encode("utf-8")
        offset += CSV_PAGE


def _iso(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).astimezone().isoformat(timespec="seconds") if ts else ""


def _csv_cell(value: object) -> object:
    """A cell a spreadsheet will not run: text starting with = + - @ (a caller's forged number) is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not value[1:].isdigit():
        return "'" + value
    return value


def test_events(on_event: Callable[[CallEvent], None]) -> Callable[[CallEvent], None]:
    """An event hook that marks every event a test call (the Calls page shows and filters them as tests)."""
    return lambda event: on_event(as_test(event))


test_events.__test__ = False  # a service, not a pytest test


def _record_now(ctx: AppContext) -> Callable[[CallEvent], None]:
    """Where a test call's events go: the host's recorder, else straight into the store."""
    if ctx.recorder is not None:
        return ctx.recorder
    return lambda event: ctx.store.record_events([event])


# --- retention of call events ------------------------------------------------------------


def call_retention_days(ctx: AppContext) -> int:
    """How many days call events are kept (the setting, else RETENTION_DEFAULT_DAYS)."""
    return retention_days(ctx.store)


def set_call_retention_days(ctx: AppContext, days: object) -> int:
    """Keep call events for ``days`` (a whole number, or its text) days; ServiceError naming the value."""
    if isinstance(days, float) and days.is_integer():
        days = int(days)
    try:
        value = int(str("" if days is None else days).strip())
    except ValueError:
        raise ServiceError(f"keep call events for: {str(days)[:40]!r} is not a whole number of days") from None
    if not RETENTION_MIN_DAYS <= value <= RETENTION_MAX_DAYS:
        raise ServiceError(f"keep call events for: {value} days; choose from {RETENTION_MIN_DAYS} to "
                           f"{RETENTION_MAX_DAYS:,} days")
    ctx.store.set_setting(RETENTION_SETTING, str(value))
    return value


def call_timeline(ctx: AppContext, call_sid: str) -> CallTimeline:
    """One call's timeline: steps, keys, texts, transfers, recordings, decisions, revision, status callback."""
    flush_call_events(ctx, timeout=0.2)
    return _call_timeline(ctx.store, call_sid)


TRAFFIC_PERIODS = {1: "the last 24 hours", 7: "the last 7 days", 30: "the last 30 days", 90: "the last 90 days"}
DAY = 86400.0


def traffic(ctx: AppContext, flow_id: str, rev: int | str, days: int = 30, until: float | None = None) -> Traffic:
    """The traffic of revision ``rev`` over the ``days`` before ``until`` (default: now), counted by the store."""
    if days not in TRAFFIC_PERIODS:
        raise ServiceError(f"{days!r} days is not a traffic period; choose one of {', '.join(map(str, TRAFFIC_PERIODS))}")
    facts = revision_facts(ctx.store, flow_id, str(rev))
    if facts is None:
        raise ServiceError(f"flow {flow_id!r} has no revision {rev} (was it deleted?)")
    end = time.time() if until is None else float(until)
    since = end - days * DAY
    return _traffic(facts, ctx.store.traffic(flow_id, str(rev), since, end), since, end)


def viewed_revision(ctx: AppContext, flow_id: str, rev: int | str) -> nx.DiGraph | None:
    """A revision's flow as it was published (what the canvas shows read-only), or None when it is gone."""
    text = str(rev)
    if not text.isdigit() or len(text) > 9:  # a revision number a URL made up: none such
        return None
    try:
        return revision_graph(ctx, flow_id, int(text))
    except (ServiceError, FlowError):
        return None


# --- settings and first run ------------------------------------------------------------


def storage_secret(ctx: AppContext) -> str:
    """The browser-session signing secret, created once and kept in the store."""
    secret = ctx.store.get_setting(SECRET_SETTING)
    if not secret:
        secret = secrets.token_urlsafe(32)
        ctx.store.set_setting(SECRET_SETTING, secret)
    return secret


def public_url(ctx: AppContext) -> str:
    return (ctx.store.get_setting(PUBLIC_URL_SETTING) or ctx.public_url).rstrip("/")


def set_public_url(ctx: AppContext, url: str) -> str:
    url = (url or "").strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/<>\"]+(/[^\s<>\"]*)?", url):
        raise ServiceError(f"{url!r} is not a web address; use one like https://ivr.example.com")
    ctx.store.set_setting(PUBLIC_URL_SETTING, url)
    ctx.public_url = url
    return url


def carrier_urls(ctx: AppContext, flow_id: str) -> dict[str, str]:
    """The URLs to give the carrier (Publish tab, number binding), with the secret token when it is required."""
    base = public_url(ctx) + "/flexml"
    trust = carrier_trust(ctx)
    if trust.required and trust.token:
        base += "/" + token_segment(trust.token)
    return {"account": base, "flow": f"{base}/{flow_id}", "status": f"{base}/status"}


# --- who may write the call list and the voicemail inbox (designer.host.trust) -----------------------


def carrier_trust(ctx: AppContext) -> CarrierTrust:
    """What the hosts trust: the carrier's token (required or not) and the recording hosts allowed."""
    return trust_from_settings(ctx.store.get_setting)


def recording_hosts_now(ctx: AppContext) -> tuple[str, ...]:
    """The recording hosts allowed, from memory (this process's host trust) when it has it: read per page."""
    return ctx.table.trust.recording_hosts if ctx.table is not None else carrier_trust(ctx).recording_hosts


def _trust_changed(ctx: AppContext) -> CarrierTrust:
    """This process's host trusts the new settings at once (other host processes follow within a second)."""
    trust = carrier_trust(ctx)
    if ctx.table is not None:
        ctx.table.trust = trust
    return trust


def set_token_required(ctx: AppContext, required: bool) -> CarrierTrust:
    """Require the secret token in every carrier URL (made the first time), or stop requiring it.

    Requiring it changes the URLs to give the carrier: numbers bound before must be bound again."""
    if required and not ctx.store.get_setting(TOKEN_SETTING):
        ctx.store.set_setting(TOKEN_SETTING, new_token())
    ctx.store.set_setting(REQUIRE_TOKEN_SETTING, "1" if required else "0")
    return _trust_changed(ctx)


def new_carrier_token(ctx: AppContext) -> CarrierTrust:
    """A new secret token (the old one stops working: carrier URLs must be given again)."""
    ctx.store.set_setting(TOKEN_SETTING, new_token())
    return _trust_changed(ctx)


def set_recording_hosts(ctx: AppContext, text: str) -> CarrierTrust:
    """The hosts a recording's URL may be on to be kept as a voicemail (comma or space separated)."""
    try:
        hosts = parse_hosts(text)
    except ValueError as exc:
        raise ServiceError(str(exc)) from None
    if not hosts:
        raise ServiceError("give at least one recording host (the carrier's is carrierx.com); with none, no "
                           "voicemail would ever be kept")
    ctx.store.set_setting(RECORDING_HOSTS_SETTING, ", ".join(hosts))
    return _trust_changed(ctx)


# --- the voicemail inbox -------------------------------------------------------------------------------


def voicemails(ctx: AppContext, flow_id: str | None = None, limit: int = 200) -> list[Voicemail]:
    """Voicemails (of one flow), newest first; the host's latest events are written first."""
    flush_call_events(ctx, timeout=0.5)
    return ctx.store.voicemails(flow_id, limit)


def new_voicemail_count(ctx: AppContext) -> int:
    """How many voicemails no one has heard yet (the navigation's badge)."""
    return ctx.store.count_new_voicemails()


def mark_voicemail_heard(ctx: AppContext, voicemail_id: int) -> None:
    ctx.store.mark_voicemail_heard(voicemail_id)


def delete_voicemail(ctx: AppContext, voicemail_id: int) -> None:
    ctx.store.delete_voicemail(voicemail_id)


def seed_first_run(ctx: AppContext) -> bool:
    """Prepare a new database (secret, first-run mark); True the first time."""
    storage_secret(ctx)
    if ctx.store.get_setting("first_run_at"):
        return False
    ctx.store.set_setting("first_run_at", str(time.time()))
    return True


@dataclass
class FlowRow:
    id: str
    name: str
    updated_at: float
    published_rev: int | None
    numbers: list[str]
    steps: int
    unpublished: bool = False  # published, and the draft has changed since


def flow_rows(ctx: AppContext) -> list[FlowRow]:
    rows = []
    for r in ctx.store.list_flows():
        try:
            steps = len(json.loads(r.graph_json).get("nodes", []))
        except (ValueError, RecursionError, AttributeError):
            steps = 0
        rows.append(FlowRow(r.id, r.name, r.updated_at, r.published_rev, r.numbers, steps,
                            unpublished=_draft_differs(ctx, r)))
    return rows


# --- operators' switches of Hours steps ----------------------------------------------------------


def hours_steps(ctx: AppContext, flow_id: str) -> list[str]:
    """The flow's Hours steps (in its draft), which an operator may switch."""
    graph = draft_graph(ctx, flow_id)
    return [n for n, d in graph.nodes(data=True) if getattr(step_of(d), "decides", "") == "hours"]


def set_hours_override(ctx: AppContext, flow_id: str, node: str, state: str, until: float | None = None) -> None:
    """Switch an Hours step "closed" or "open" now, until ``until`` (epoch seconds) or until cleared.

    It takes effect on the next call, without a republish: in this process at once, in every
    ``host --db`` worker within about a second.
    """
    if state not in OVERRIDE_STATES:
        raise ServiceError(f"{state!r} is not a switch; use one of {', '.join(OVERRIDE_STATES)}")
    if node not in hours_steps(ctx, flow_id):
        raise ServiceError(f"flow {flow_id!r} has no business-hours step {node!r}")
    if until is not None and until <= time.time():
        raise ServiceError("the switch would end before it starts: choose a time in the future")
    ctx.store.set_override(flow_id, node, state, until)
    if ctx.table is not None:
        ctx.table.set_override(flow_id, node, Override(state, until))


def clear_hours_override(ctx: AppContext, flow_id: str, node: str) -> None:
    """Let the schedule decide again."""
    ctx.store.clear_override(flow_id, node)
    if ctx.table is not None:
        ctx.table.set_override(flow_id, node, None)


def hours_overrides(ctx: AppContext, flow_id: str) -> dict[str, HoursOverride]:
    """The flow's switches in force now, by Hours step (expired ones are left out)."""
    now = time.time()
    return {o.node: o for o in ctx.store.overrides(flow_id) if o.until is None or o.until > now}


def _draft_differs(ctx: AppContext, record: FlowRecord) -> bool:
    """True when a published flow's draft has changes the host does not serve yet."""
    if not record.published_rev:
        return False
    try:
        return bool(_changes_since(ctx, record.id, record.published_rev,
                                   flowfile.loads(record.graph_json, f"flow {record.id}"), calls_only=True))
    except (ServiceError, FlowError):
        return True


def hours_now(ctx: AppContext, flow_id: str, node: str, data: dict, flow_zone: str | None = None,
              at: datetime | None = None) -> tuple[str, str]:
    """What Hours step ``node`` (its fields ``data`` as the editor has them) decides at ``at`` (default:
    now), with the operator's switch: ``("open" | "closed", a sentence)``."""
    zone = flow_zone if isinstance(flow_zone, str) and flow_zone else None
    switch = hours_overrides(ctx, flow_id).get(node)
    override = Override(switch.state, switch.until) if switch is not None else None
    now = at or (ctx.table.now if ctx.table is not None else clock_from_env())()
    return hours_state(data, now, flow_timezone=zone, override=override)


def test_call_host(ctx: AppContext, flow_id: str, published: bool, at: datetime | None = None) -> InProcessHost:
    """The host a test call reaches: the draft (compiled in memory) or the published revision.

    With ``at`` (an aware datetime) its Hours steps decide as if it were that time; the call then
    runs on a host of its own, so real calls keep the real clock. Operators' switches apply.
    """
    if published and at is None:
        return published_host(ctx, flow_id)
    if published:
        compiled = ctx.table.compiled(flow_id) if ctx.table is not None else None
        if compiled is None:
            raise ServiceError("this flow is not published yet; publish it or call the draft")
        host = hosted([compiled], on_event=test_events(_record_now(ctx)))
    else:
        host = draft_host(ctx, flow_id)
    host.table.set_overrides({(flow_id, o.node): Override(o.state, o.until) for o in ctx.store.overrides(flow_id)})
    if at is not None:
        host.table.now = lambda: at
    return host


test_call_host.__test__ = False  # a service, not a pytest test


def needs_host(ctx: AppContext, flow_id: str) -> bool:
    """The flow takes decisions while it answers (hours, splits, remembered values, transfer outcomes), so
    only the host (``flexml-designer host BUNDLE.zip``) can serve it, not a static web server."""
    graph = draft_graph(ctx, flow_id)
    for node, data in graph.nodes(data=True):
        spec = step_of(data)
        if spec is None:
            continue
        used = {b for _, _, d in graph.out_edges(node, data=True) for b in flowfile.edge_branches(d)}
        if spec.decides or (spec.outcome_branch and spec.outcome_branch in used):
            return True
    return False
