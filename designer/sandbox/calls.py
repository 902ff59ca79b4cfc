"""Playing the sandbox's calls: outbound calls after their delay, inbound calls on demand.

A ``Player`` runs one call against a FlexML URL and returns what happened as
a plain dict (``ok``, ``reason``, ``status``, ``duration``, ``transcript``,
``events``, ``status_callback``). The default player is the designer's call
simulator (``designer.simulator.simulate_call``), which sends the status
callback itself; for a player that does not (its result has no
``status_callback`` key) it is sent here, as the carrier sends it: a JSON body
for POST, query parameters for GET.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import httpx

from compiler.catalogue import request_fields
from designer.sandbox.db import SandboxDB

log = logging.getLogger("flexml.sandbox")


@dataclass
class CallPlan:
    """Everything needed to place one call against a FlexML URL."""

    call_sid: str
    url: str
    method: str
    from_: str
    to: str
    direction: str  # "inbound" or "outbound-api"
    account_sid: str = ""
    digits: list[str] = field(default_factory=list)
    dial_outcome: str = "completed"
    status_callback_url: str | None = None
    status_callback_method: str = "POST"
    recordings_url: str | None = None  # where the sandbox serves what the call records (None: the simulator's)

    def request_fields(self) -> dict[str, str]:
        """The fields the carrier sends with every request of the call (reference: Request Data)."""
        return request_fields(CallSid=self.call_sid, Direction=self.direction, From=self.from_,
                              OriginalFrom=self.from_, OriginalTo=self.to, To=self.to, RequestUrl=self.url)


Player = Callable[[CallPlan, "httpx.AsyncBaseTransport | None"], Awaitable[dict[str, Any]]]


def _event_dict(event: Any) -> dict[str, Any]:
    keys = ("kind", "text", "url", "doc", "at")
    if callable(getattr(event, "to_json", None)):
        return event.to_json()
    if isinstance(event, dict):
        return {k: event.get(k) for k in keys}
    return {k: getattr(event, k, None) for k in keys}


async def simulator_player(plan: CallPlan, transport: httpx.AsyncBaseTransport | None) -> dict[str, Any]:
    """Play the call with the designer's simulator (``designer.simulator``), which also sends the status callback."""
    try:
        from designer.simulator import ScriptedCaller, simulate_call
    except ImportError as exc:  # the simulator is a separate part of the designer
        return {"ok": False, "status": "failed", "duration": 0, "transcript": "",
                "reason": f"the call simulator is not available ({exc})", "events": []}
    try:
        caller = ScriptedCaller(digits=list(plan.digits), dial_outcome=plan.dial_outcome)
    except ValueError as exc:  # keys that are not phone keys (a call's sandbox_digits attribute)
        return {"ok": False, "status": "failed", "duration": 0, "transcript": "", "events": [],
                "reason": f"the call's script cannot be played: {exc}"}
    options: dict[str, Any] = {"status_callback_url": plan.status_callback_url,
                               "status_callback_method": plan.status_callback_method, "direction": plan.direction}
    if "call_sid" in inspect.signature(simulate_call).parameters:
        options["call_sid"] = plan.call_sid
    if plan.recordings_url and "recordings_url" in inspect.signature(simulate_call).parameters:
        options["recordings_url"] = plan.recordings_url
    result = await simulate_call(plan.url, caller=caller, from_=plan.from_, to=plan.to, transport=transport,
                                 method=plan.method, **options)
    ok = bool(getattr(result, "ok", False))
    events = list(getattr(result, "events", []))
    status_events = [e for e in events if getattr(e, "kind", None) == "status"]
    return {
        "ok": ok,
        "status": getattr(result, "status", None) or ("completed" if ok else "failed"),
        "reason": str(getattr(result, "reason", "")),
        "duration": int(getattr(result, "call_duration", 0) or 0),
        "transcript": result.transcript(),
        "events": [_event_dict(e) for e in events],
        "status_callback": status_events[-1].text if status_events else None,
    }


async def send_status_callback(plan: CallPlan, result: dict[str, Any],
                               transport: httpx.AsyncBaseTransport | None) -> str | None:
    """Tell the status callback URL how the call ended; returns what happened, or None when there is no URL."""
    url = plan.status_callback_url
    method = (plan.status_callback_method or "POST").upper()
    if not url:
        return None
    data = dict(plan.request_fields(), CallStatus=str(result.get("status") or "completed"),
                CallDuration=str(result.get("duration", 0)), RequestUrl=plan.url, RequestMethod=plan.method)
    try:
        async with httpx.AsyncClient(transport=transport, timeout=10.0) as client:
            if method == "GET":
                response = await client.get(url, params=data)
            else:
                response = await client.post(url, json=data)
        return f"{method} {url}: {response.status_code}"
    except httpx.HTTPError as exc:
        return f"{method} {url}: failed ({exc.__class__.__name__}: {exc})"


async def play(plan: CallPlan, player: Player, transport: httpx.AsyncBaseTransport | None) -> dict[str, Any]:
    """Run the call and send its status callback; never raises (a failure is part of the result)."""
    try:
        result = await player(plan, transport)
    except Exception as exc:  # a broken flow or host must not take the sandbox down
        log.exception("call %s failed", plan.call_sid)
        result = {"ok": False, "status": "failed", "duration": 0, "transcript": "", "events": [],
                  "reason": f"the call could not be played: {exc.__class__.__name__}: {exc}"}
    if "status_callback" not in result:  # the simulator sends it itself (it knows about <Override>)
        result["status_callback"] = await send_status_callback(plan, result, transport)
    result.update(url=plan.url, method=plan.method, call_sid=plan.call_sid, direction=plan.direction,
                  **{"from": plan.from_, "to": plan.to})
    return result


class CallScheduler:
    """Plays scheduled calls when their delay is over. ``wake()`` after a call is created or changed."""

    def __init__(self, db: SandboxDB, plan_for: Callable[[dict[str, Any]], CallPlan | dict[str, Any]],
                 player: Player, transport: httpx.AsyncBaseTransport | None = None, poll: float = 0.5):
        self.db, self.plan_for, self.player, self.transport, self.poll = db, plan_for, player, transport, poll
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._playing: set[asyncio.Task] = set()

    def start(self) -> None:
        self.db.recover_interrupted()
        self._task = asyncio.create_task(self._loop())

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        tasks = [t for t in [self._task, *self._playing] if t]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t

    async def _loop(self) -> None:
        while True:
            for call in self.db.take_due_calls():
                task = asyncio.create_task(self._play(call))
                self._playing.add(task)
                task.add_done_callback(self._playing.discard)
            next_at = self.db.next_run_at()
            wait = self.poll if next_at is None else min(self.poll, max(0.0, next_at - self.db.clock()))
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=wait)

    async def _play(self, call: dict[str, Any]) -> None:
        plan = self.plan_for(call)
        if isinstance(plan, dict):  # nothing to call: the reason why
            self.db.finish_call(call["call_sid"], plan)
            return
        self.db.finish_call(call["call_sid"], await play(plan, self.player, self.transport))
