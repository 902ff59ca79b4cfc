"""The call list: one row per call in the ``calls`` table, kept up to date as events are written.

Both backends share what is here: how a batch of events is folded into one summary per call
(``summarise``), the upsert that merges a summary into the table (``upsert_sql``), and the filters,
outcome and columns the Calls page reads (``CallFilter``, ``outcome_sql``, ``where_sql``).

A call's **outcome** is worked out when it is read, in SQL, from its row:

- the status callback's ``CallStatus`` when one arrived (completed, busy, noanswer, cancel, failed);
- ``error`` when the host's last answer was an apology (which hangs up);
- ``ended`` when its last answer ended the call (the host marks such events ``end``: the document it
  served leaves the carrier nothing more to request) or when no request came for ``QUIET_MINUTES``;
- ``in progress`` otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

# No request for this long and no status callback: the call is over. Longer than any wait a flow leaves
# between two requests (a menu's timeout, a message played 100 times with pauses, the carrier's longest
# recording, 3600 s) except a transfer, which can last as long as the people talk.
QUIET_MINUTES = 60
QUIET_SECONDS = QUIET_MINUTES * 60

CALLBACK_STATUSES = ("completed", "busy", "noanswer", "cancel", "failed")  # what the carrier sends
OUTCOMES = (*CALLBACK_STATUSES, "error", "ended", "in progress", "other")
OUTCOME_LABELS = {"completed": "completed", "busy": "busy", "noanswer": "no answer", "cancel": "cancelled",
                  "failed": "failed", "error": "host error", "ended": "ended", "in progress": "in progress",
                  "other": "other status"}
END_PARAM = "end"  # an event's parameter the host sets to "1" when its answer ended the call
TEST_PARAM = "test"  # "1" on every event of a test call (the editor's Test tab, ``simulate --db``)
NOT_REQUESTS = ("status", "decision")  # event kinds that are not a request the host answered

COLUMNS = ("call_sid", "flow_id", "rev", "started", "last_request", "last_at", "from_number", "to_number",
           "status", "duration", "status_at", "ended", "test", "events")

SQLITE_TABLE = """CREATE TABLE calls (
    call_sid TEXT PRIMARY KEY,
    flow_id TEXT NOT NULL DEFAULT '',
    rev TEXT NOT NULL DEFAULT '',
    started REAL NOT NULL,
    last_request REAL,
    last_at REAL NOT NULL,
    from_number TEXT NOT NULL DEFAULT '',
    to_number TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT '',
    duration INTEGER,
    status_at REAL,
    ended TEXT NOT NULL DEFAULT '',
    test INTEGER NOT NULL DEFAULT 0,
    events INTEGER NOT NULL DEFAULT 0
)"""
POSTGRES_TABLE = SQLITE_TABLE.replace("REAL", "DOUBLE PRECISION")
# One index: the list (newest first), every filter (all of them bound the start time: the page always has a
# period), the chart and retention read calls by start time. Each further index cost the event writer 5-10 µs
# per call (tests/bench/bench_calls.py); a flow's or an outcome's calls are found fast enough in that range.
INDEXES = ("CREATE INDEX calls_started ON calls (started)",)


def _backfill(field: str, number: str) -> str:
    """The migration's statement that fills ``calls`` from the events already stored (``field`` reads one
    field of ``params``; ``number`` turns text into an integer, or NULL when it is not one). Events from
    before the host marked the answers that end a call: a menu's "(end of call)" answer counts as one."""
    request = "kind NOT IN ('status', 'decision')"

    def first(expr: str, where: str, order: str = "id") -> str:
        return f"(SELECT {expr} FROM events x WHERE x.call_sid = e.call_sid AND {where} ORDER BY {order} LIMIT 1)"

    last_status = "kind = 'status'"
    return f"""INSERT INTO calls ({", ".join(COLUMNS)})
SELECT e.call_sid,
    COALESCE({first("flow_id", request)}, MAX(e.flow_id)),
    COALESCE({first("rev", request)}, ''),
    MIN(e.at),
    MAX(CASE WHEN e.{request} THEN e.at END),
    MAX(e.at),
    COALESCE({first(field.format("From"), field.format("From") + " <> ''")}, ''),
    COALESCE({first(field.format("To"), field.format("To") + " <> ''")}, ''),
    COALESCE({first("target", last_status, "at DESC, id DESC")}, ''),
    {first(number.format(field.format("CallDuration")), last_status, "at DESC, id DESC")},
    MAX(CASE WHEN e.kind = 'status' THEN e.at END),
    COALESCE({first("CASE WHEN kind = 'error' THEN 'error' WHEN " + field.format(END_PARAM)
                    + " = '1' OR (kind = 'router' AND " + field.format("answer")
                    + " = '(end of call)') THEN 'hangup' ELSE '' END",
                    request, "at DESC, id DESC")}, ''),
    0,
    SUM(CASE WHEN e.kind <> 'decision' THEN 1 ELSE 0 END)
FROM events e WHERE e.call_sid <> '' GROUP BY e.call_sid"""


SQLITE_BACKFILL = _backfill("json_extract(params, '$.{}')",
                            "(CASE WHEN length({0}) BETWEEN 1 AND 9 AND {0} NOT GLOB '*[^0-9]*' THEN CAST({0} AS INTEGER) END)")
POSTGRES_BACKFILL = _backfill("(params::json->>'{}')", "(CASE WHEN {0} ~ '^[0-9]{{1,9}}$' THEN CAST({0} AS INTEGER) END)")


def as_test(event):
    """``event`` (a ``CallEvent``) marked as an event of a test call."""
    event.params[TEST_PARAM] = "1"
    return event


@dataclass
class CallSummary:
    """What a batch of events says about one call (merged into its row by ``upsert_sql``)."""

    call_sid: str
    flow_id: str = ""
    rev: str = ""
    started: float = 0.0
    last_request: float | None = None
    last_at: float = 0.0
    from_number: str = ""
    to_number: str = ""
    status: str = ""
    duration: int | None = None
    status_at: float | None = None
    ended: str = ""
    test: int = 0
    events: int = 0

    def row(self) -> tuple:
        return (self.call_sid, self.flow_id, self.rev, self.started, self.last_request, self.last_at,
                self.from_number, self.to_number, self.status, self.duration, self.status_at, self.ended,
                self.test, self.events)


def _duration(text: Any) -> int | None:
    text = str(text or "").strip()
    return int(text) if text.isdigit() and len(text) <= 9 else None


def summarise(rows: list[tuple]) -> list[tuple]:
    """One summary row per call of ``rows`` (``CallEvent.row()`` tuples, in the order written); events
    without a CallSid (requests the host could not tie to a call) have none."""
    calls: dict[str, CallSummary] = {}
    for sid, flow, rev, kind, target, _digits, at, params in rows:
        if not sid:
            continue
        call = calls.get(sid)
        if call is None:
            call = calls[sid] = CallSummary(sid, started=at, last_at=at)
        if kind != "decision":  # requests and callbacks (events from before decisions travelled with them)
            call.events += 1
        if at < call.started:
            call.started = at
        if at > call.last_at:
            call.last_at = at
        if params:
            if not call.from_number and params.get("From"):
                call.from_number = params["From"]
            if not call.to_number and params.get("To"):
                call.to_number = params["To"]
            if params.get(TEST_PARAM) == "1":
                call.test = 1
        if kind == "status":
            if call.status_at is None or at >= call.status_at:
                call.status, call.status_at = target, at
                call.duration = _duration(params.get("CallDuration") if params else None)
            if not call.flow_id:
                call.flow_id = flow
        elif kind != "decision":
            if not call.rev and rev:
                call.flow_id, call.rev = flow, rev
            elif not call.flow_id:
                call.flow_id = flow
            if call.last_request is None or at >= call.last_request:
                call.last_request = at
                call.ended = "error" if kind == "error" else "hangup" if params and params.get(END_PARAM) == "1" \
                    else ""
    return [c.row() for c in calls.values()]


def upsert_sql(placeholder: str, at_most: str) -> str:
    """The statement merging one ``summarise`` row into ``calls`` (``placeholder``: ``?`` or ``%s``;
    ``at_most``: ``MAX`` in SQLite, ``GREATEST`` in PostgreSQL). Each field keeps the value of the
    earlier or later event as it should, whatever order batches arrive in."""
    def later(column: str) -> str:  # the larger of two nullable times
        return f"{at_most}(COALESCE(calls.{column}, excluded.{column}), COALESCE(excluded.{column}, calls.{column}))"

    newer_request = "excluded.last_request IS NOT NULL AND (calls.last_request IS NULL OR " \
                    "excluded.last_request >= calls.last_request)"
    newer_status = "excluded.status_at IS NOT NULL AND (calls.status_at IS NULL OR " \
                   "excluded.status_at >= calls.status_at)"
    at_least = "MIN" if at_most == "MAX" else "LEAST"
    return (f"INSERT INTO calls ({', '.join(COLUMNS)}) VALUES ({', '.join([placeholder] * len(COLUMNS))}) "
            "ON CONFLICT (call_sid) DO UPDATE SET "
            "flow_id = CASE WHEN (calls.rev = '' AND excluded.rev <> '') OR calls.flow_id = '' "
            "THEN excluded.flow_id ELSE calls.flow_id END, "
            "rev = CASE WHEN calls.rev = '' THEN excluded.rev ELSE calls.rev END, "
            f"started = {at_least}(calls.started, excluded.started), "
            f"last_request = {later('last_request')}, "
            f"last_at = {at_most}(calls.last_at, excluded.last_at), "
            "from_number = CASE WHEN calls.from_number = '' THEN excluded.from_number ELSE calls.from_number END, "
            "to_number = CASE WHEN calls.to_number = '' THEN excluded.to_number ELSE calls.to_number END, "
            f"status = CASE WHEN {newer_status} THEN excluded.status ELSE calls.status END, "
            f"duration = CASE WHEN {newer_status} THEN excluded.duration ELSE calls.duration END, "
            f"status_at = {later('status_at')}, "
            f"ended = CASE WHEN {newer_request} THEN excluded.ended ELSE calls.ended END, "
            f"test = {at_most}(calls.test, excluded.test), "
            "events = calls.events + excluded.events")


# --- reading ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallFilter:
    """What the Calls page shows: every field optional. ``number`` matches the caller's or the called
    number (its digits, anywhere in it); ``since``/``until`` bound the start time (epoch seconds,
    ``until`` excluded); ``outcome`` is one of ``OUTCOMES``; ``test`` True: test calls only, False:
    real calls only."""

    flow_id: str | None = None
    number: str = ""
    since: float | None = None
    until: float | None = None
    outcome: str | None = None
    test: bool | None = None


def outcome_sql(placeholder: str) -> str:
    """The outcome of a row, as an SQL expression with one parameter: the start of the quiet period (now
    minus ``QUIET_SECONDS``)."""
    known = ", ".join(f"'{s}'" for s in CALLBACK_STATUSES)
    return (f"(CASE WHEN status IN ({known}) THEN status WHEN status <> '' THEN 'other' "
            "WHEN ended = 'error' THEN 'error' "
            f"WHEN ended <> '' OR COALESCE(last_request, last_at) < {placeholder} THEN 'ended' "
            "ELSE 'in progress' END)")


def quiet_from(now: float | None) -> float:
    """Calls with no request since this time (and no status callback) are over (``now``: default the clock)."""
    return (time.time() if now is None else now) - QUIET_SECONDS


def where_sql(f: CallFilter, placeholder: str, quiet_from: float) -> tuple[str, list]:
    """The WHERE clause (empty or starting with `` WHERE``) and its parameters for filter ``f``."""
    parts: list[str] = []
    params: list = []
    if f.flow_id:
        parts.append(f"flow_id = {placeholder}")
        params.append(f.flow_id)
    digits = "".join(ch for ch in f.number if ch.isdigit())[:32]
    if digits:
        parts.append(f"(from_number LIKE {placeholder} OR to_number LIKE {placeholder})")
        params += [f"%{digits}%", f"%{digits}%"]
    if f.since is not None:
        parts.append(f"started >= {placeholder}")
        params.append(f.since)
    if f.until is not None:
        parts.append(f"started < {placeholder}")
        params.append(f.until)
    if f.outcome:
        parts.append(f"{outcome_sql(placeholder)} = {placeholder}")
        params += [quiet_from, f.outcome]
    if f.test is not None:
        parts.append(f"test = {placeholder}")
        params.append(1 if f.test else 0)
    return (" WHERE " + " AND ".join(parts) if parts else ""), params


def list_sql(f: CallFilter, placeholder: str, quiet_from: float, offset: int, limit: int) -> tuple[str, list]:
    """One page of calls matching ``f``, newest first, each with its ``outcome``."""
    where, params = where_sql(f, placeholder, quiet_from)
    sql = (f"SELECT {', '.join(COLUMNS)}, {outcome_sql(placeholder)} AS outcome FROM calls{where} "
           f"ORDER BY started DESC, call_sid LIMIT {placeholder} OFFSET {placeholder}")
    return sql, [quiet_from, *params, int(limit), int(offset)]


def count_sql(f: CallFilter, placeholder: str, quiet_from: float) -> tuple[str, list]:
    where, params = where_sql(f, placeholder, quiet_from)
    return f"SELECT COUNT(*) AS n FROM calls{where}", params


def hourly_sql(f: CallFilter, placeholder: str, quiet_from: float, origin: float, integer_division: str) -> \
        tuple[str, list]:
    """Calls matching ``f`` counted by hour since ``origin`` (an epoch second) and outcome: rows of
    (hour, outcome, n). The caller turns hours into local days (exact across daylight-saving changes)."""
    where, params = where_sql(f, placeholder, quiet_from)
    hour = integer_division.format(f"(started - {placeholder})", "3600")
    sql = (f"SELECT {hour} AS hour, {outcome_sql(placeholder)} AS outcome, COUNT(*) AS n FROM calls{where} "
           "GROUP BY 1, 2 ORDER BY 1, 2")
    return sql, [origin, quiet_from, *params]


def call_dict(row: Any) -> dict:
    """A calls row (by column name) as the dict the services and pages read: ``ended`` is the time of its
    last event (as ``recent_calls`` always said), ``last_request`` of its last request, ``status_at`` of its
    status callback; ``ended_by`` is "hangup", "error" or ""; ``outcome`` as ``outcome_sql`` says."""
    return {
        "call_sid": row["call_sid"], "flow_id": row["flow_id"], "rev": row["rev"], "started": row["started"],
        "last_request": row["last_request"], "ended": row["last_at"], "events": row["events"],
        "from": row["from_number"], "to": row["to_number"], "status": row["status"],
        "duration": "" if row["duration"] is None else str(row["duration"]), "status_at": row["status_at"],
        "ended_by": row["ended"], "test": bool(row["test"]),
        "outcome": row["outcome"] if "outcome" in row.keys() else "",
    }
