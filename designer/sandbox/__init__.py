"""A local sandbox of the carrier's FlexML REST API (``/flexml/v1/...``), on its own SQLite file.

It answers like the reference: accounts, DIDs and calls; pagination, filters
and field filtering on lists; PATCH (changeable fields only) and PUT (the whole
object); HTTP basic auth with the endpoint's login and password; errors as
``{"message": ..., "errors": [{"field", "message"}]}`` with the reference's
status codes and messages — never a traceback.

A created call is played by the call simulator against its url after its
``delay``, then its status callback is sent. Two routes exist only here, not at
the real carrier:

- ``POST /flexml/v1/sandbox/inbound`` ``{"to": DID, "from": NUMBER, "digits": ["1"],
  "dial_outcome": "completed"}``: someone calls one of the DIDs; the DID's
  url/method are used, or the account's when the DID has no url. Answers with
  the transcript of the call.
- ``GET /flexml/v1/sandbox/calls/{call_sid}``: a call's state (``scheduled``,
  ``playing``, ``done``) and, once played, its transcript.
- ``GET /flexml/v1/sandbox/recordings/{file id}.{format}`` (no sign-in): what a simulated call
  recorded, which is always a short generated tone (``designer.sandbox.recordings``). A Record's
  action request carries this URL as ``RecordingUrl``.

A call's custom attribute ``sandbox_digits`` (e.g. ``"1,2"``) gives the keys the
called party presses in an outbound call.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import secrets
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from designer.sandbox.body import read_json
from designer.sandbox.calls import CallPlan, CallScheduler, Player, play, simulator_player
from designer.sandbox.db import SandboxDB, new_sid
from designer.sandbox.query import parse_fields, parse_list_query
from designer.sandbox.recordings import RECORDING_NAME, RECORDINGS_PATH, recordings_url, tone_wav
from designer.sandbox.schema import (ACCOUNT, CALL, DID, ApiError, Kind, clean_value, digits_only, invalid_field,
                             validation_error)
from designer.simulator.callers import DIAL_OUTCOMES, check_keys

log = logging.getLogger("flexml.sandbox")

API_PREFIX = "/flexml/v1"
DEFAULT_DIDS = ("15551230001", "15551230002", "15551230003")

Handler = Callable[[Request, dict[str, Any]], Awaitable[Response]]


def error_response(exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="flexml"'} if exc.status == 401 else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


def setup(db: SandboxDB, login: str | None = None, password: str | None = None,
          dids: tuple[str, ...] | list[str] = DEFAULT_DIDS) -> dict[str, Any]:
    """Create the endpoint's account (first start) and its DIDs; returns the account with its password."""
    account = db.ensure_account(login, password)
    for number in dids:
        if digits_only(number):
            db.add_did(account["account_sid"], digits_only(number))
    return account


class Sandbox:
    """The routes, over one database; ``app()`` builds the Starlette application."""

    def __init__(self, db: SandboxDB, player: Player = simulator_player,
                 transport: httpx.AsyncBaseTransport | None = None, poll: float = 0.5, base_url: str | None = None):
        self.db = db
        # where callers reach this sandbox (its recordings' URLs start with it): given, else as the last
        # request to its API was addressed
        self.base_url = base_url.rstrip("/") if base_url else None
        self._seen_base: str | None = None
        self.player = player
        self.transport = transport
        self.scheduler = CallScheduler(db, self.plan_for_call, player, transport, poll)

    # --- plumbing ----------------------------------------------------------------------

    def authenticate(self, request: Request) -> dict[str, Any]:
        header = request.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or not encoded:
            raise ApiError(401, "Unauthorized", [(None, "send the endpoint's login and password "
                                                       "with HTTP basic authentication")])
        try:
            login, _, password = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise ApiError(401, "Bad credentials", [(None, "the Authorization header cannot be read")]) from None
        account = self.db.account_by_login(login)
        if account is None or not secrets.compare_digest(account["password"].encode(), password.encode()):
            raise ApiError(401, "Bad credentials", [(None, "wrong login or password for this endpoint")])
        return account

    def route(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            self._seen_base = str(request.base_url).rstrip("/")
            try:
                return await handler(request, self.authenticate(request))
            except ApiError as exc:
                return error_response(exc)
        return endpoint

    @staticmethod
    async def read_json(request: Request) -> dict[str, Any]:
        return await read_json(request)

    @staticmethod
    def project(obj: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
        return obj if fields is None else {k: v for k, v in obj.items() if k in fields}

    def list_page(self, kind: Kind, request: Request, account: dict[str, Any]) -> JSONResponse:
        query = dict(request.query_params)
        q = parse_list_query(kind, query)
        items, total = self.db.list(kind, account["account_sid"], q)
        pagination: dict[str, str] = {}
        if q.offset > 0:
            pagination["previous"] = str(request.url.include_query_params(limit=q.limit,
                                                                          offset=max(0, q.offset - q.limit)))
        has_more = q.offset + len(items) < total
        if has_more and q.limit > 0:
            pagination["next"] = str(request.url.include_query_params(limit=q.limit, offset=q.offset + q.limit))
        return JSONResponse({"count": len(items), "has_more": has_more,
                             "items": [self.project(i, q.fields) for i in items], "limit": q.limit,
                             "offset": q.offset, "pagination": pagination, "total": total})

    def get_one(self, kind: Kind, request: Request, account: dict[str, Any]) -> JSONResponse:
        fields = parse_fields(kind, dict(request.query_params))
        obj = self.db.get(kind, account["account_sid"], request.path_params["sid"])
        return JSONResponse(self.project(obj, fields))

    # --- PATCH / PUT -------------------------------------------------------------------

    def _check_related(self, kind: Kind, account: dict[str, Any], values: dict[str, Any]) -> None:
        if kind is CALL and "calling_did" in values:
            if self.db.did_by_number(account["account_sid"], values["calling_did"]) is None:
                raise validation_error("calling_did", f"calling_did {values['calling_did']} is not one of "
                                                      f"this endpoint's DIDs")
        if kind is DID and "account_sid" in values and values["account_sid"] != account["account_sid"]:
            raise validation_error("account_sid", f"there is no account {values['account_sid']!r} "
                                                  f"on this endpoint")

    def changes(self, kind: Kind, account: dict[str, Any], current: dict[str, Any], body: dict[str, Any],
                whole: bool) -> dict[str, Any]:
        """The values to store for a PATCH (``whole=False``) or PUT body; refuses what the reference refuses."""
        values: dict[str, Any] = {}
        for key, value in body.items():
            f = kind.field(key)
            if f is None:
                if whole and kind is ACCOUNT and key == "password" and value == account["password"]:
                    continue  # the reference's PUT example sends the password back
                raise invalid_field(key, f"{key!r} is not a field of a {kind.name} "
                                         f"(fields: {', '.join(kind.names)})")
            if not f.changeable:
                if whole and value == current[key]:
                    continue
                raise invalid_field(key, f"{key} cannot be changed (a {kind.name}'s changeable fields: "
                                         f"{', '.join(kind.changeable)})")
            values[key] = clean_value(f, value)
        if whole:
            # every field that has a value must be sent; one not set (null) may be left out and stays unset,
            # as in the reference's own DID PUT sample, which has no status_callback_url
            missing = [n for n in kind.names if n not in body and current.get(n) is not None]
            if missing:
                raise ApiError(400, "Object validation error",
                               [(n, "missing: PUT needs the whole object (use PATCH to change some fields)")
                                for n in missing])
        self._check_related(kind, account, values)
        return values

    def update_handler(self, kind: Kind, whole: bool) -> Handler:
        async def handler(request: Request, account: dict[str, Any]) -> Response:
            sid = request.path_params["sid"]
            current = self.db.get(kind, account["account_sid"], sid)
            body = await self.read_json(request)
            values = self.changes(kind, account, current, body, whole)
            self.db.update(kind, sid, values)
            if kind is CALL:
                self.scheduler.wake()
            return JSONResponse(self.db.get(kind, account["account_sid"], values.get(kind.sid, sid)))
        return handler

    # --- routes ------------------------------------------------------------------------

    async def list_accounts(self, request: Request, account: dict[str, Any]) -> Response:
        return self.list_page(ACCOUNT, request, account)

    async def list_dids(self, request: Request, account: dict[str, Any]) -> Response:
        return self.list_page(DID, request, account)

    async def list_calls(self, request: Request, account: dict[str, Any]) -> Response:
        return self.list_page(CALL, request, account)

    def getter(self, kind: Kind) -> Handler:
        async def handler(request: Request, account: dict[str, Any]) -> Response:
            return self.get_one(kind, request, account)
        return handler

    async def create_call(self, request: Request, account: dict[str, Any]) -> Response:
        body = await self.read_json(request)
        values: dict[str, Any] = {}
        for key, value in body.items():
            f = CALL.field(key)
            if f is None or not f.changeable:
                why = "is set by the carrier" if f else f"is not a field of a call (fields: {', '.join(CALL.names)})"
                raise invalid_field(key, f"{key} {why}")
            values[key] = clean_value(f, value)
        missing = [n for n in ("calling_did", "called_did") if not values.get(n)]
        if missing:
            raise ApiError(400, "Object validation error", [(n, f"{n} is required to create a call") for n in missing])
        self._check_related(CALL, account, values)
        call = self.db.create_call(account["account_sid"], values)
        self.scheduler.wake()
        return JSONResponse(call)

    async def delete_call(self, request: Request, account: dict[str, Any]) -> Response:
        self.db.delete_call(account["account_sid"], request.path_params["sid"])
        return Response(status_code=200)

    async def inbound(self, request: Request, account: dict[str, Any]) -> Response:
        body = await self.read_json(request)
        to = digits_only(str(body.get("to", "")))
        did = self.db.did_by_number(account["account_sid"], to) if to else None
        if did is None:
            raise ApiError(404, "Cannot find did by phone number",
                           [("to", f"{body.get('to')!r} is not one of this endpoint's DIDs")])
        digits = body.get("digits", [])
        if isinstance(digits, str):
            digits = [d for d in digits.split(",")]
        if not isinstance(digits, list):
            raise validation_error("digits", "digits is a list of key presses, e.g. [\"1\", \"42#\"]")
        for i, entry in enumerate(digits):
            try:
                check_keys(str(entry).strip() if isinstance(entry, (str, int)) else "?", f"digits[{i}]")
            except ValueError:
                raise validation_error("digits", f"digits[{i}] is {str(entry)[:40]!r}; each entry is phone "
                                                 "keys (0-9, * or #), e.g. [\"1\", \"42#\"]") from None
        if str(body.get("dial_outcome", "completed")) not in DIAL_OUTCOMES:
            raise validation_error("dial_outcome", f"dial_outcome is {body.get('dial_outcome')!r}; use one of "
                                                   f"{', '.join(DIAL_OUTCOMES)}")
        url, method = (did["url"], did["method"]) if did["url"] else (account["url"], account["method"])
        if not url:
            raise validation_error("url", f"DID {to} has no url and neither has the account: "
                                          f"nothing to answer the call")
        plan = CallPlan(call_sid=new_sid().replace("-", ""), url=url, method=method,
                        from_=digits_only(str(body.get("from", ""))) or "15550000000", to=to,
                        direction="inbound", account_sid=account["account_sid"], digits=[str(d) for d in digits],
                        dial_outcome=str(body.get("dial_outcome", "completed")),
                        status_callback_url=did["status_callback_url"],
                        status_callback_method=did["status_callback_method"],
                        recordings_url=self.recordings_base())
        return JSONResponse(await play(plan, self.player, self.transport))

    def recordings_base(self) -> str | None:
        """Where this sandbox's recordings are (None before anyone reached it: the simulator's default)."""
        base = self.base_url or self._seen_base
        return recordings_url(base) if base else None

    async def recording(self, request: Request) -> Response:
        """A simulated recording: the short generated tone, for any file id a simulated call made."""
        name = request.path_params["name"]
        if not RECORDING_NAME.match(name):
            return error_response(ApiError(404, "Cannot find recording", [
                ("name", f"{name[:40]!r} is not a recording of this sandbox ({{32 hex digits}}.wav, .mp3 or .ul)")]))
        return Response(tone_wav(), media_type="audio/wav", headers={"Cache-Control": "public, max-age=3600"})

    async def played_call(self, request: Request, account: dict[str, Any]) -> Response:
        record = self.db.call_record(account["account_sid"], request.path_params["sid"])
        if record is None:
            raise ApiError(404, "Cannot find dialout by SID",
                           [("call_sid", f"no call has the SID {request.path_params['sid']!r}")])
        return JSONResponse(record)

    def plan_for_call(self, call: dict[str, Any]) -> CallPlan | dict[str, Any]:
        """Where an outbound call goes: its url, else the calling DID's, else the account's."""
        account = self.db.account(call["account_sid"])
        did = self.db.did_by_number(call["account_sid"], call["calling_did"]) or {}
        for source in (call, did, account):
            if source.get("url"):
                url, method = source["url"], source.get("method") or "POST"
                break
        else:
            return {"ok": False, "status": "failed", "duration": 0, "transcript": "", "events": [],
                    "reason": "the call, its calling DID and the account have no url: nothing to play"}
        digits = str((call.get("attributes") or {}).get("sandbox_digits", ""))
        return CallPlan(call_sid=call["call_sid"], url=url, method=method, from_=call["calling_did"],
                        to=call["called_did"], direction="outbound-api", account_sid=call["account_sid"],
                        digits=[d.strip() for d in digits.split(",") if d.strip()],
                        status_callback_url=call["status_callback_url"] or did.get("status_callback_url"),
                        status_callback_method=(call["status_callback_method"] if call["status_callback_url"]
                                                else did.get("status_callback_method") or "POST"),
                        recordings_url=self.recordings_base())

    def app(self) -> Starlette:
        r = self.route
        p = API_PREFIX
        routes = [
            Route(f"{p}/accounts", r(self.list_accounts), methods=["GET"]),
            Route(f"{p}/accounts/{{sid}}", r(self.getter(ACCOUNT)), methods=["GET"]),
            Route(f"{p}/accounts/{{sid}}", r(self.update_handler(ACCOUNT, whole=False)), methods=["PATCH"]),
            Route(f"{p}/accounts/{{sid}}", r(self.update_handler(ACCOUNT, whole=True)), methods=["PUT"]),
            Route(f"{p}/dids", r(self.list_dids), methods=["GET"]),
            Route(f"{p}/dids/{{sid}}", r(self.getter(DID)), methods=["GET"]),
            Route(f"{p}/dids/{{sid}}", r(self.update_handler(DID, whole=False)), methods=["PATCH"]),
            Route(f"{p}/dids/{{sid}}", r(self.update_handler(DID, whole=True)), methods=["PUT"]),
            Route(f"{p}/calls", r(self.list_calls), methods=["GET"]),
            Route(f"{p}/calls", r(self.create_call), methods=["POST"]),
            Route(f"{p}/calls/{{sid}}", r(self.getter(CALL)), methods=["GET"]),
            Route(f"{p}/calls/{{sid}}", r(self.update_handler(CALL, whole=False)), methods=["PATCH"]),
            Route(f"{p}/calls/{{sid}}", r(self.update_handler(CALL, whole=True)), methods=["PUT"]),
            Route(f"{p}/calls/{{sid}}", r(self.delete_call), methods=["DELETE"]),
            Route(f"{p}/sandbox/inbound", r(self.inbound), methods=["POST"]),
            Route(f"{p}/sandbox/calls/{{sid}}", r(self.played_call), methods=["GET"]),
            Route(f"{RECORDINGS_PATH}/{{name}}", self.recording, methods=["GET"]),
        ]

        async def http_error(request: Request, exc: Exception) -> Response:
            status = getattr(exc, "status_code", 500)
            message = {404: "Not Found", 405: "Method Not Allowed"}.get(status, "Bad request")
            return error_response(ApiError(status, message, [(None, f"{request.method} {request.url.path}: "
                                                                    f"{getattr(exc, 'detail', '')}")]))

        async def server_error(request: Request, exc: Exception) -> Response:
            log.exception("sandbox error on %s %s", request.method, request.url.path)
            return error_response(ApiError(500, "Internal server error",
                                           [(None, f"the sandbox failed: {exc.__class__.__name__}")]))

        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette):
            self.scheduler.start()
            try:
                yield
            finally:
                await self.scheduler.stop()

        return Starlette(routes=routes, lifespan=lifespan,
                         exception_handlers={HTTPException: http_error, Exception: server_error})


def create_sandbox_app(db: SandboxDB | str | Path, *, player: Player = simulator_player,
                       transport: httpx.AsyncBaseTransport | None = None, poll: float = 0.5,
                       base_url: str | None = None) -> Starlette:
    """The sandbox's ASGI app over ``db`` (a SandboxDB or a path to its SQLite file); ``base_url`` is where
    callers reach it (its recordings' URLs start with it; default: as requests to it are addressed)."""
    if not isinstance(db, SandboxDB):
        db = SandboxDB(db)
    return Sandbox(db, player=player, transport=transport, poll=poll, base_url=base_url).app()
