"""The host's HTTP side: one raw ASGI handler answering every ``/flexml…`` route.

==========================================  =========================================
``/flexml``                                  account URL: the flow bound to ``To``
``/flexml/{flow}``                           start document of the current revision
``/flexml/{flow}/{rev}``                     start document of that revision
``/flexml/{flow}/{rev}/{doc}``               one document of one revision
``/flexml/{flow}/{rev}/{node}/gather``       Gather router (``?attempt=N``)
``/flexml/{flow}/{rev}/{node}/decide``       a decision step's decision (a Redirect, a Transfer's action)
``/flexml/{flow}/{rev}/{node}/recorded``     a Record's action: the recording kept, the rest of the flow
``/flexml/status``                           status callbacks, recorded
``/flexml/~{token}/…``                       any of the above, carrying the secret token (``trust``)
==========================================  =========================================

A Record's action (``…/recorded``) records a ``recording`` event with the recording's
``RecordingUrl``, ``RecordingFileSid`` and ``RecordingDuration`` (either spelling of the names),
which the store keeps as a voicemail; a missing URL, or one on a host that is not allowed, is
not kept (the event's ``not_stored`` says why). Either way the answer is the rest of the flow.
When the token is required (``designer.host.trust``), a request without it is answered as usual
but records nothing.

Parameters arrive as a POST JSON body (what the carrier sends), a form body or
GET query parameters. Every answer is 200 ``application/xml`` and valid
FlexML; anything wrong (unknown number, flow, revision or document, a body
that is malformed, too large or of the wrong type, junk digits) gets a short
spoken apology and ``<Hangup/>``, and an ``error`` event naming the reason.

The handler is a plain ASGI callable (no middleware, no Request object):
bodies are read incrementally up to a cap and parsed only as far as needed.
"""

from __future__ import annotations

import gc
import json
import logging
import re
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from compiler.catalogue import REQUEST_FIELDS
from compiler.decisions import DIAL_STATUS_FIELDS
from designer.errors import DesignerError
from designer.host.decide import Taken, chain, header_value, remembered_of, with_remembered
from designer.host.table import FlowTable, ServedRevision, Snapshot, xml_text
from designer.host.trust import MAX_TOKEN_CHARS, TOKEN_MARK, with_token
from designer.store import DECISIONS, REASONS, CallEvent, decisions_param, reasons_param
from designer.store.calls import END_PARAM

log = logging.getLogger("flexml.host")

MAX_BODY = 64 * 1024
MAX_DIGITS = 64
MAX_PARAM_CHARS = 512
MAX_ATTEMPT = 100

SORRY = "Sorry, we cannot take your call right now. Please try again later. Goodbye."
SORRY_KEYS = "Sorry, we could not understand the keys you pressed. Goodbye."

# carrier parameter spellings → the one name the host uses
ALIASES = {"digits": "Digits", "RecordingURL": "RecordingUrl", "RecordingFileSID": "RecordingFileSid"}
# parameters kept with an event when not empty: the call's request fields but the account, API version and
# CallSid (CallSid and Digits have their own columns; OriginalFrom and OriginalTo only when they differ from
# From and To), a recording's details and what the status callback adds
KEPT = (
    *(f for f in REQUEST_FIELDS if f not in ("AccountSid", "ApiVersion", "CallSid")),
    "RecordingUrl", "RecordingFileSid", "RecordingDuration", "CallDuration", "RequestMethod",
)
_KEPT = frozenset(KEPT)
# what a later step of a call keeps (a menu's router, a document named in the URL): the call's From, To and
# the like are on its first event already, and leaving them out keeps the event writer's work per event small
_KEPT_LATER = frozenset(("CallStatus", "RecordingUrl", "RecordingFileSid", "RecordingDuration", "CallDuration",
                         *DIAL_STATUS_FIELDS, "DialCallDuration"))  # a transfer's outcome, for its timeline
RECORDING_FIELDS = ("RecordingUrl", "RecordingFileSid", "RecordingDuration")
_DURATION = re.compile(r"\s*(\d{1,9})(?:\.\d*)?\s*")
_DIGITS = re.compile(r"[0-9*#]*")
_JSON = json.JSONDecoder()

OnEvent = Callable[[CallEvent], None]


def apology(text: str = SORRY) -> bytes:
    """A document that says ``text`` and hangs up."""
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n  <Say>' + xml_text(text)
            + b"</Say>\n  <Hangup/>\n</Response>\n")


SORRY_BODY = apology(SORRY)
SORRY_KEYS_BODY = apology(SORRY_KEYS)
EMPTY_BODY = b'<?xml version="1.0" encoding="UTF-8"?>\n<Response/>\n'
HANGUP_BODY = b'<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n  <Hangup/>\n</Response>\n'

_CONTENT_TYPE = (b"content-type", b"application/xml")
_LENGTHS: dict[int, bytes] = {}


def _length(n: int) -> bytes:
    value = _LENGTHS.get(n)
    if value is None:
        value = str(n).encode()
        if len(_LENGTHS) < 4096:
            _LENGTHS[n] = value
    return value


DOC_HEADER = b"x-flexml-document"  # which document a router answered with
DECISIONS_HEADER = b"x-flexml-decisions"  # decisions taken in the answer, for the simulator's transcript
# the request header that asks for those two (the simulator sends it; the carrier does not, so its answers
# carry no header it would not read)
EXPLAIN_HEADER = b"x-flexml-explain"


def ends_call(body: bytes) -> bool:
    """Whether the carrier, having played this answer, has nothing more to request: the call is over.

    What makes it request again: a menu's keys, a Redirect, an ``action`` or ``errorAction`` URL; a
    transfer keeps the call going for as long as people talk. Tags and attribute names only (text between
    tags has its ``<`` escaped); four substring searches, about a microsecond for a typical document.
    """
    return not (b"<Gather" in body or b"<Redirect" in body or b"<Dial" in body or b'ction="' in body)


class BadRequest(DesignerError):
    """Input the host cannot use; the message is the reason logged with the event."""


class HostHandler:
    """ASGI app for the ``/flexml`` routes of one ``FlowTable``."""

    def __init__(self, table: FlowTable, on_event: OnEvent | None = None, max_body: int = MAX_BODY):
        self.table = table
        self.on_event = on_event
        self.max_body = max_body
        self.unrecorded = 0  # requests answered without the carrier's token while it is required

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return
        taken: list[Taken] = []
        try:
            body, event = await self.answer(scope, receive, taken)
        except Exception as exc:  # noqa: BLE001 - whatever happens, the caller hears an apology
            log.exception("host failed on %s", scope.get("path"))
            body = SORRY_BODY
            event = CallEvent("", "", "", "error", f"host error: {type(exc).__name__}", None, time.time(),
                              {"path": str(scope.get("path", ""))[:MAX_PARAM_CHARS]})
        headers = [_CONTENT_TYPE, (b"content-length", _length(len(body)))]
        if event is not None:
            if event.call_sid and event.kind != "status" and ends_call(body):
                event.params[END_PARAM] = "1"  # the call list shows it ended, with or without a status callback
            if taken:  # the decisions taken travel with the request's event: one row written, not one each
                event.params[DECISIONS] = decisions_param([(t.node, t.branch) for t in taken])
                event.params[REASONS] = reasons_param([t.reason for t in taken], MAX_PARAM_CHARS)
            if (taken or event.kind == "router") and _header(scope, EXPLAIN_HEADER):  # the simulator shows them
                if event.kind == "router" and event.params.get("answer", "").isascii():
                    headers.append((DOC_HEADER, event.params["answer"].encode()))
                if taken:
                    headers.append((DECISIONS_HEADER, header_value(taken)))
            if self.on_event is not None:
                try:
                    self.on_event(event)  # a queue append: the answer does not wait on storage
                except Exception:  # noqa: BLE001 - recording never breaks a call
                    log.exception("on_event failed")
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    # --- one request ----------------------------------------------------------------------

    async def answer(self, scope: dict, receive: Callable,
                     taken: list[Taken] | None = None) -> tuple[bytes, CallEvent | None]:
        """The answer to one request and its event (None: not recorded); decisions taken while answering are
        added to ``taken``."""
        taken = [] if taken is None else taken
        parts = route_parts(scope)
        given = None
        if parts and parts[0].startswith(TOKEN_MARK):
            given, parts = parts[0][1:1 + MAX_TOKEN_CHARS], parts[1:]
        trust = self.table.trust
        try:
            params = await read_params(scope, receive, self.max_body)
        except BadRequest as exc:
            body, event = SORRY_BODY, self._event(query_params(scope), "", "", "error", str(exc), scope)
        else:
            body, event = self._dispatch(parts, params, scope, taken)
        if not trust.records(given):  # the token is required and this request has not got it: nothing recorded
            self.unrecorded += 1
            taken.clear()
            return body, None
        if given is not None and trust.authentic(given):  # the call stays authenticated: its URLs carry the token
            served = self.table.snapshot.revision(event.flow_id, event.rev) if event.flow_id else None
            body = with_token(body, trust.token, served.compiled.base_url if served is not None else "")
        return body, event

    def _dispatch(self, parts: list[str] | None, params: dict[str, str], scope: dict,
                  taken: list[Taken]) -> tuple[bytes, CallEvent]:
        snap = self.table.snapshot
        if parts is None:
            return SORRY_BODY, self._event(params, "", "", "error", "unknown address", scope)
        n = len(parts)
        if n == 0:
            return self._account(snap, params, scope, taken)
        if n == 1 and parts[0] == "status":
            return self._status(snap, params)
        if n <= 3:
            return self._document(snap, params, scope, parts[0], parts[1] if n > 1 else None,
                                  parts[2] if n > 2 else None, taken)
        if n == 4 and parts[3] == "gather":
            return self._router(snap, params, scope, parts[0], parts[1], parts[2], taken)
        if n == 4 and parts[3] == "decide":
            return self._decide(snap, params, scope, parts[0], parts[1], parts[2], taken)
        if n == 4 and parts[3] == "recorded":
            return self._recorded(snap, params, scope, parts[0], parts[1], parts[2], taken)
        return SORRY_BODY, self._event(params, "", "", "error", "unknown address", scope)

    def _event(self, params: dict[str, str], flow: str, rev: str, kind: str, target: str, scope: dict | None,
               digits: str | None = None, later: bool = False, **extra: str) -> CallEvent:
        keep = _KEPT_LATER if later else _KEPT
        kept = {k: v[:MAX_PARAM_CHARS] for k, v in params.items() if v and k in keep}
        if "OriginalFrom" in kept and kept["OriginalFrom"] == kept.get("From"):
            del kept["OriginalFrom"]
        if "OriginalTo" in kept and kept["OriginalTo"] == kept.get("To"):
            del kept["OriginalTo"]
        kept.update(extra)
        if kind == "error" and scope is not None:
            kept["path"] = str(scope.get("path", ""))[:MAX_PARAM_CHARS]
            kept["method"] = str(scope.get("method", ""))
        return CallEvent(params.get("CallSid", "")[:MAX_PARAM_CHARS], flow[:MAX_PARAM_CHARS],
                         rev[:MAX_PARAM_CHARS], kind, target[:MAX_PARAM_CHARS], digits, time.time(), kept)

    def _account(self, snap: Snapshot, params: dict[str, str], scope: dict,
                 taken: list[Taken]) -> tuple[bytes, CallEvent]:
        to = params.get("To", "")
        if not to:
            return SORRY_BODY, self._event(params, "", "", "error", "no To number in the request", scope)
        flow = snap.flow_for_number(to)
        if flow is None:
            return SORRY_BODY, self._event(params, "", "", "error", f"number {to!r} is not bound to a flow", scope)
        return self._document(snap, params, scope, flow, None, None, taken)

    # --- decisions --------------------------------------------------------------------------

    def _serve(self, served: ServedRevision, doc: str, params: dict[str, str], scope: dict,
               taken: list[Taken]) -> bytes | None:
        """A document's answer: rendered, every decision it ends at taken (verbs appended), remembered
        values added to its URLs; None when the revision has no such document."""
        remembered = remembered_of(params) if b"v." in scope.get("query_string", b"") else {}
        if remembered:
            params.update(remembered)  # text and splits read them as {{ name }}
        body = served.body(doc, params)
        if body is None:
            return None
        ends = served.decisions.ends_of.get(doc)
        if ends is not None:
            body = chain(body, ends, served.decisions, served.body, params, self.table.now,
                         lambda node: self.table.override(served.flow, node), remembered, taken, doc)
        return with_remembered(body, served.prefix, remembered) if remembered else body

    def _decide(self, snap: Snapshot, params: dict[str, str], scope: dict, flow: str, rev: str, node: str,
                taken: list[Taken]) -> tuple[bytes, CallEvent]:
        served = snap.revision(flow, rev)
        decider = None if served is None else served.decisions.deciders.get(node)
        if served is None or decider is None:
            reason = (f"unknown flow {flow!r}" if flow not in snap.revisions
                      else f"flow {flow!r} has no revision {rev!r}" if served is None
                      else f"flow {flow!r} revision {rev} has no decision step {node!r}")
            return SORRY_BODY, self._event(params, flow if flow in snap.revisions else "", rev, "error", reason,
                                           scope)
        remembered = remembered_of(params) if b"v." in scope.get("query_string", b"") else {}
        params.update(remembered)
        now = self.table.now() if decider.kind == "hours" else None
        step = decider.take(params, now, self.table.override(served.flow, node), remembered)  # type: ignore[arg-type]
        taken.append(step)
        doc = decider.decision.branches.get(step.branch)
        if doc is None:
            return HANGUP_BODY, self._event(params, flow, rev, "router", node, None, later=True,
                                            answer="(end of call)")
        body = served.body(doc, params)
        if body is None:
            return SORRY_BODY, self._event(params, flow, rev, "error", f"decision {node!r} leads to missing "
                                           f"document {doc!r}", scope)
        ends = served.decisions.ends_of.get(doc)
        if ends is not None:
            body = chain(body, ends, served.decisions, served.body, params, self.table.now,
                         lambda n: self.table.override(served.flow, n), remembered, taken, doc)
        if remembered:
            body = with_remembered(body, served.prefix, remembered)
        return body, self._event(params, flow, rev, "router", node, None, later=True, answer=doc)

    def _document(self, snap: Snapshot, params: dict[str, str], scope: dict, flow: str, rev: str | None,
                  doc: str | None, taken: list[Taken]) -> tuple[bytes, CallEvent]:
        served = snap.revision(flow, rev)
        if served is None:
            if flow not in snap.revisions:
                reason = f"unknown flow {flow!r}"
            elif rev is None:
                reason = f"flow {flow!r} has no published revision"
            else:
                reason = f"flow {flow!r} has no revision {rev!r}"
            return SORRY_BODY, self._event(params, flow if flow in snap.revisions else "", rev or "", "error",
                                           reason, scope)
        name = served.start if doc is None else doc
        body = self._serve(served, name, params, scope, taken)
        if body is None:
            return SORRY_BODY, self._event(params, served.flow, served.revision, "error",
                                           f"flow {flow!r} revision {served.revision} has no document {name!r}",
                                           scope)
        return body, self._event(params, served.flow, served.revision, "document", name, None, later=doc is not None)

    def _router(self, snap: Snapshot, params: dict[str, str], scope: dict, flow: str, rev: str,
                node: str, taken: list[Taken]) -> tuple[bytes, CallEvent]:
        served = snap.revision(flow, rev)
        router = None if served is None else served.routers.get(node)
        if served is None or router is None:
            reason = (f"unknown flow {flow!r}" if flow not in snap.revisions
                      else f"flow {flow!r} has no revision {rev!r}" if served is None
                      else f"flow {flow!r} revision {rev} has no menu {node!r}")
            return SORRY_BODY, self._event(params, flow if flow in snap.revisions else "", rev, "error", reason,
                                           scope)
        raw = params.get("Digits", "")
        digits = raw.strip()
        if len(digits) > MAX_DIGITS or not _DIGITS.fullmatch(digits):
            return SORRY_KEYS_BODY, self._event(params, flow, rev, "error", f"junk digits {raw[:80]!r}", scope,
                                                digits=raw[:MAX_DIGITS])
        attempt = attempt_of(scope)
        doc = router.route(digits, attempt)
        if doc is None:
            return HANGUP_BODY, self._event(params, flow, rev, "router", node, None, digits=digits, later=True,
                                            answer="(end of call)", attempt=str(attempt))
        body = self._serve(served, doc, params, scope, taken)
        if body is None:
            return SORRY_BODY, self._event(params, flow, rev, "error", f"menu {node!r} routes to missing "
                                           f"document {doc!r}", scope, digits=digits)
        return body, self._event(params, flow, rev, "router", node, None, digits=digits, later=True, answer=doc,
                                 attempt=str(attempt))

    def _recorded(self, snap: Snapshot, params: dict[str, str], scope: dict, flow: str, rev: str, node: str,
                  taken: list[Taken]) -> tuple[bytes, CallEvent]:
        """A Record's action: keep the recording (when it may be kept) and answer with the rest of the flow."""
        served = snap.revision(flow, rev)
        if served is None or node not in served.compiled.recordings:
            reason = (f"unknown flow {flow!r}" if flow not in snap.revisions
                      else f"flow {flow!r} has no revision {rev!r}" if served is None
                      else f"flow {flow!r} revision {rev} has no Record step {node!r}")
            return SORRY_BODY, self._event(params, flow if flow in snap.revisions else "", rev, "error", reason,
                                           scope)
        url = params.get("RecordingUrl", "").strip()
        refused = self.table.trust.recording_refused(url)
        kept = dict(params)
        if refused is None:
            kept["RecordingUrl"] = url
            match = _DURATION.fullmatch(params.get("RecordingDuration", ""))
            kept["RecordingDuration"] = (match.group(1).lstrip("0") or "0") if match else ""
        else:  # nothing of a recording that is not kept goes into the call's record
            for name in RECORDING_FIELDS:
                kept.pop(name, None)
        doc = served.compiled.recordings[node]
        body = HANGUP_BODY if doc is None else self._serve(served, doc, params, scope, taken)
        if body is None:
            return SORRY_BODY, self._event(params, flow, rev, "error", f"Record {node!r} leads to missing "
                                           f"document {doc!r}", scope)
        extra = {"answer": doc or "(end of call)"}
        if refused is not None:
            extra["not_stored"] = refused
        return body, self._event(kept, flow, rev, "recording", node, None, **extra)

    def _status(self, snap: Snapshot, params: dict[str, str]) -> tuple[bytes, CallEvent]:
        flow = snap.flow_for_number(params.get("To", "")) or ""
        url = params.get("RequestUrl", "")
        if "/flexml/" in url:
            tail = url.split("/flexml/", 1)[1].split("?", 1)[0].split("/")
            if tail and tail[0].startswith(TOKEN_MARK):
                tail = tail[1:]
            if tail and tail[0] in snap.revisions:
                flow = tail[0]
        return EMPTY_BODY, self._event(params, flow, "", "status", params.get("CallStatus", ""), None)


# --- request parsing --------------------------------------------------------------------------


def route_parts(scope: dict) -> list[str] | None:
    """Path segments after ``/flexml`` (``[]`` for the account URL), or None for another path."""
    path: str = scope.get("path", "")
    root = scope.get("root_path", "")
    if root and path.startswith(root) and not path.startswith("/flexml"):
        path = path[len(root):]
    if path == "/flexml" or path == "/flexml/":
        return []
    if not path.startswith("/flexml/"):
        return None
    parts = path[8:].rstrip("/").split("/")
    if any(p == "" for p in parts):
        return None
    return parts


def attempt_of(scope: dict) -> int:
    query: bytes = scope.get("query_string", b"")
    if b"attempt=" not in query:
        return 1
    for key, value in parse_qsl(query.decode("latin-1")):
        if key == "attempt":
            try:
                return min(max(int(value), 1), MAX_ATTEMPT)
            except ValueError:
                return 1
    return 1


def _header(scope: dict, name: bytes) -> bytes:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value
    return b""


async def read_body(scope: dict, receive: Callable, cap: int) -> bytes:
    declared = _header(scope, b"content-length")
    if declared:
        try:
            if int(declared) > cap:
                raise BadRequest(f"body of {int(declared):,} bytes is larger than {cap:,}")
        except ValueError:
            raise BadRequest(f"content-length {declared[:40]!r} is not a number") from None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise BadRequest("the request ended before its body arrived")
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > cap:
                raise BadRequest(f"body is larger than {cap:,} bytes")
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if value is None:
        return ""
    return None  # lists and objects carry no call parameter


def _canonical(params: dict[str, str]) -> dict[str, str]:
    for alias, name in ALIASES.items():
        if alias in params:
            value = params.pop(alias)
            params.setdefault(name, value)
    return params


def query_params(scope: dict) -> dict[str, str]:
    query: bytes = scope.get("query_string", b"")
    if not query:
        return {}
    return _canonical(dict(parse_qsl(query.decode("latin-1"), keep_blank_values=True)))


async def read_params(scope: dict, receive: Callable, cap: int = MAX_BODY) -> dict[str, str]:
    """Query parameters, overlaid by a JSON or form body; names canonical (``digits`` → ``Digits``)."""
    params = query_params(scope)
    body = await read_body(scope, receive, cap)
    if body.strip():
        ctype = _header(scope, b"content-type").split(b";", 1)[0].strip().lower()
        if ctype == b"application/json" or ctype.endswith(b"+json") or (not ctype and body.lstrip()[:1] == b"{"):
            params.update(_canonical(_json_params(body)))
        elif ctype == b"application/x-www-form-urlencoded" or not ctype:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise BadRequest("form body is not UTF-8 text") from None
            params.update(_canonical(dict(parse_qsl(text, keep_blank_values=True))))
        else:
            raise BadRequest(f"content type {ctype.decode('latin-1')[:80]!r} is not JSON or a form")
    return params


def _json_params(body: bytes) -> dict[str, str]:
    try:
        data = _JSON.decode(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRequest("JSON body is not UTF-8 text") from None
    except (ValueError, RecursionError):
        raise BadRequest("body is not valid JSON") from None
    if type(data) is not dict:
        raise BadRequest(f"JSON body is a {type(data).__name__}, not an object")
    out = {k: v for k, v in data.items() if type(v) is str}
    if len(out) < len(data):  # numbers, booleans, nulls (lists and objects carry no call parameter)
        for key, value in data.items():
            if type(value) is not str:
                text = _text(value)
                if text is not None:
                    out[key] = text
    return out


# --- the app ----------------------------------------------------------------------------------


def host_routes(table: FlowTable, on_event: OnEvent | None = None, max_body: int = MAX_BODY) -> list[BaseRoute]:
    """The host's routes, to add to another Starlette/FastAPI app (the designer mounts these)."""
    return _routes(HostHandler(table, on_event, max_body))


def _routes(handler: HostHandler) -> list[BaseRoute]:
    return [Route("/flexml/{rest:path}", handler, name="flexml-path"), Route("/flexml", handler, name="flexml")]


class HostApp(Starlette):
    """Starlette with the host's routes; ``/flexml`` requests go straight to the handler.

    The handler answers everything itself (never raises), so the error and
    routing layers are skipped on the carrier's path; other paths and the
    lifespan go through Starlette as usual.
    """

    def __init__(self, handler: HostHandler, lifespan: Any = None):
        super().__init__(routes=_routes(handler), lifespan=lifespan)
        self.handler = handler

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/flexml") and not scope.get("root_path"):
            await self.handler(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_host_app(table: FlowTable, on_event: OnEvent | None = None, *, max_body: int = MAX_BODY,
                    lifespan: Any = None, freeze_gc: bool = False) -> Starlette:
    """A Starlette app answering every ``/flexml…`` route from ``table``.

    Without a ``lifespan`` of its own, an ``on_event`` with a ``close()`` (an
    ``EventRecorder``) is started with the server and closed when it shuts
    down, so queued events are written. ``freeze_gc`` (for a process that is only the host, like the
    ``host`` command) moves everything loaded at start-up out of the garbage
    collector's reach: full collections then scan only what requests create,
    instead of pausing answers for tens of milliseconds.
    """
    if lifespan is None and (freeze_gc or callable(getattr(on_event, "close", None))):
        lifespan = _host_lifespan(on_event, freeze_gc)
    return HostApp(HostHandler(table, on_event, max_body), lifespan=lifespan)


def _host_lifespan(recorder: Any, freeze_gc: bool):
    @asynccontextmanager
    async def lifespan(app):
        if callable(getattr(recorder, "start", None)):
            recorder.start()  # a spooling recorder's writer moves what earlier processes left, calls or not
        if freeze_gc:
            gc.collect()
            gc.freeze()
        yield
        if callable(getattr(recorder, "close", None)):
            recorder.close()

    return lifespan
