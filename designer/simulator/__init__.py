"""The call simulator: plays the carrier's side of a phone call against a FlexML server.

    result = await simulate_call("http://127.0.0.1:8080/flexml/main-menu",
                                 caller=ScriptedCaller(digits=["2"]), on_event=print)
    result.ok, result.reason, result.duration, print(result.transcript())

It requests the URL with the carrier's request fields (POST: JSON body, GET:
query parameters), runs the verbs top to bottom following
the FlexML reference, follows action and Redirect URLs (relative ones
resolved against the URL just fetched) and sends the status callback at the
end. Time is virtual: speech, pauses, timeouts and transfers advance a clock
that gives ``CallDuration``; nothing sleeps. A call that cannot go on — a
loop, an answer that is not FlexML, an HTTP error, a server that refuses or
does not answer in time — ends as the carrier would end it (the caller hears
an error), with ``ok`` False and the reason in plain words.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from urllib.parse import unquote, urljoin

import httpx

from compiler import CompiledFlow
from compiler.catalogue import DTMF_KEYS, request_fields

from designer.errors import DesignerError
from designer.simulator.callers import (DIAL_OUTCOMES, RECORD_FAILED, Caller, GatherInfo, HangUp, RecordInfo,
                          ScriptedCaller, TransferInfo, check_keys, resolve)
from designer.simulator.events import CallResult, SimEvent, host_document
from designer.simulator.flexml import NotFlexML, Verb, parse_document
from designer.simulator.transport import MAX_ANSWER_BYTES, Fetcher, Sent
from designer.simulator.steps import DocRef, StepMap

__all__ = [
    "CallResult", "Caller", "DIAL_OUTCOMES", "GatherInfo", "HangUp", "MAX_ANSWER_BYTES", "RecordInfo",
    "ScriptedCaller", "SimEvent", "run_call", "simulate_call",
]

CHARS_PER_SECOND = 15.0  # speech rate used to estimate how long a Say lasts
PLAY_SECONDS = 5.0  # assumed length of an audio file (the simulator does not download it)
KEY_SECONDS = 0.5  # time to press one key
FOREVER_REPEATS = 3  # a loop="0" message is heard this many times, then the simulated caller hangs up
ERROR_MESSAGE_SECONDS = 3.0  # the carrier's "application error" message
RECORDINGS_URL = "https://recordings.simulator.invalid"  # where simulated recordings are, by default
SHOWN_FIELDS = ("Digits", "DialCallStatus", "DialCallDuration", "RecordingDuration")  # in transcript lines
DOC_HEADER = "X-FlexML-Document"  # a host may name the document it answered with (router answers)
DECISIONS_HEADER = "X-FlexML-Decisions"  # the built-in host's decisions in that answer: step=branch=reason, …
EXPLAIN_HEADER = "X-FlexML-Explain"  # asks the built-in host for the two headers above (the carrier never does)

EventHook = Callable[[SimEvent], Any]


class CallBroke(DesignerError):
    """The call cannot go on; the message says why in plain words."""


@dataclass
class Request:
    url: str
    method: str = "POST"
    fields: dict[str, Any] = field(default_factory=dict)


def speech_seconds(text: str) -> float:
    return max(1.0, round(len(text) / CHARS_PER_SECOND, 1))


def collect_keys(keys: str, num_digits: int | None, finish_on_key: str) -> tuple[str, str, str]:
    """Apply a Gather's rules to the keys pressed: (digits submitted, how it ended, keys left over).

    How: ``finish`` (the finish key was pressed; it is not part of the digits),
    ``complete`` (numDigits reached) or ``timeout`` (the caller stopped pressing).
    """
    typed = ""
    for i, key in enumerate(keys):
        if finish_on_key and key == finish_on_key:
            return typed, "finish", keys[i + 1:]
        typed += key
        if num_digits and len(typed) >= num_digits:
            return typed, "complete", keys[i + 1:]
    return typed, "timeout", ""


class CallSimulator:
    def __init__(self, url: str, *, caller: Caller, client: httpx.AsyncClient, from_: str, to: str,
                 method: str, max_fetches: int, fetch_timeout: float, on_event: EventHook | None,
                 status_callback_url: str | None, status_callback_method: str, caller_name: str,
                 direction: str, steps: StepMap | None = None, pace: float = 0.0, call_sid: str | None = None,
                 recordings_url: str | None = None):
        self.start_url = url
        self.recordings_url = (recordings_url or RECORDINGS_URL).rstrip("/")
        self.start_method = method
        self.caller = caller
        self.http = Fetcher(client, fetch_timeout)
        self.from_ = from_
        self.to = to
        self.max_fetches = max_fetches
        self.fetch_timeout = fetch_timeout
        self.on_event = on_event
        self.status_url = urljoin(url, status_callback_url) if status_callback_url else None
        self.status_method = status_callback_method
        self.clock = 0.0
        self.answered = False
        self.gathers = 0
        self.url = url  # the document being run
        self.doc: str | None = None
        self.steps = steps
        self.pace = pace
        self.paced_until = 0.0
        self.ref: DocRef | None = None
        self.result = CallResult(url=url, call_sid=call_sid or uuid.uuid4().hex, events=[])
        self.base_fields = request_fields(
            CallerName=caller_name, CallSid=self.result.call_sid, Direction=direction,
            From=from_, OriginalFrom=from_, OriginalTo=to, RequestUrl=url, To=to,
        )

    # ---- events -------------------------------------------------------------------------------------

    async def emit(self, kind: str, text: str, verb: Verb | None = None, **kw: Any) -> SimEvent:
        kw.setdefault("url", self.url)
        kw.setdefault("doc", self.doc if kw["url"] == self.url else host_document(kw["url"] or ""))
        if verb is not None:
            kw.setdefault("line", verb.line)
            kw.setdefault("index", verb.index)
            if self.steps is not None:
                kw.setdefault("step", self.steps.step(self.ref, verb.index))
        event = SimEvent(kind=kind, text=text, at=round(self.clock, 2), **kw)
        if self.pace > 0 and event.at > self.paced_until:  # play the call back in (scaled) real time
            await _sleep((event.at - self.paced_until) * self.pace)
            self.paced_until = event.at
        self.result.events.append(event)
        if self.on_event is not None:
            await resolve(self.on_event(event))
        return event

    # ---- HTTP ---------------------------------------------------------------------------------------

    async def send(self, req: Request) -> Sent:
        return await self.http.send(req.url, req.method, {**self.base_fields, **req.fields})

    async def fetch(self, req: Request) -> list[Verb]:
        """Request the next document and read its verbs; raises CallBroke."""
        if self.result.fetches >= self.max_fetches:
            raise CallBroke(f"the call requested {self.result.fetches} documents without ending; the flow "
                            f"seems to loop forever (next would be {req.url})")
        self.result.fetches += 1
        response, latency, problem = await self.send(req)
        sent = dict(req.fields)
        shown = "".join(f" {k}={v}" for k, v in sent.items() if k in SHOWN_FIELDS)
        if response is None:
            await self.emit("fetch", f"{req.method} {req.url}{shown} -> no answer", url=req.url, doc=None,
                            latency_ms=round(latency, 1), method=req.method, data={"sent": sent})
            raise CallBroke(problem)
        final = response.url
        self.url = final
        decided = decisions_of(response.headers.get(DECISIONS_HEADER))
        self.ref = self.steps.identify(final, response.body, req.fields, decided) if self.steps else None
        self.doc = response.headers.get(DOC_HEADER) or (self.ref.doc if self.ref else host_document(final))
        await self.emit("fetch", f"{req.method} {req.url}{shown} -> {response.status_code} in {latency:.0f} ms",
                        url=final, latency_ms=round(latency, 1), status=response.status_code,
                        method=req.method, data={"sent": sent, "requested": req.url})
        if response.status_code >= 400:
            raise CallBroke(f"{final} answered HTTP {response.status_code} {response.reason}".rstrip())
        for node, branch, reason in decided:
            await self.emit("decision", f"{node}: {branch} ({reason})", data={"node": node, "branch": branch,
                                                                              "reason": reason})
        try:
            return parse_document(response.body)
        except NotFlexML as exc:
            raise CallBroke(f"the answer from {final} is not FlexML: {exc}") from None

    def resolve_url(self, target: str) -> str:
        try:
            return urljoin(self.url, target.strip())
        except ValueError as exc:  # e.g. 'http://[::1' (an unclosed IPv6 address)
            raise CallBroke(f"the document names a URL that cannot be requested: {target.strip()!r} ({exc})") from None

    # ---- the call -----------------------------------------------------------------------------------

    async def run(self) -> CallResult:
        req: Request | None = Request(self.start_url, self.start_method)
        try:
            while req is not None:
                verbs = await self.fetch(req)
                req = await self.run_document(verbs)
        except CallBroke as exc:
            await self.broke(str(exc))
        except NotFlexML as exc:  # a verb's attribute the carrier cannot use, found while running it
            await self.broke(f"the answer from {self.url} is not FlexML: {exc}")
        except HangUp as exc:
            await self.emit("hangup", f"the caller hangs up: {exc}")
            await self.finish(f"the caller hung up: {exc}", "completed")
        await self.status_callback()
        return self.result

    async def finish(self, reason: str, status: str) -> None:
        self.result.reason = reason
        self.result.status = status
        self.result.answered = self.answered
        self.result.duration = round(self.clock, 2) if self.answered else 0.0
        await self.emit("end", f"{reason} ({status})")

    async def broke(self, reason: str) -> None:
        self.result.ok = False
        await self.emit("error", f"{reason}; the caller hears the carrier's error message and the call ends")
        self.answered = True
        self.clock += ERROR_MESSAGE_SECONDS
        await self.finish(f"the call broke: {reason}", "failed")

    async def status_callback(self) -> None:
        if not self.status_url:
            return
        fields = {"CallDuration": self.result.call_duration, "CallStatus": self.result.status,
                  "RequestUrl": self.start_url, "RequestMethod": self.start_method}
        req = Request(self.status_url, self.status_method, fields)
        response, latency, problem = await self.send(req)
        if response is None:
            text = f"{req.method} {req.url} -> no answer: {problem}"
        else:
            text = f"{req.method} {req.url} CallStatus={self.result.status} " \
                   f"CallDuration={self.result.call_duration} -> {response.status_code} in {latency:.0f} ms"
        await self.emit("status", text, url=req.url, doc=None, latency_ms=round(latency, 1), method=req.method,
                        status=response.status_code if response is not None else None, data={"sent": fields})

    async def run_document(self, verbs: list[Verb]) -> Request | None:
        """Run a document's verbs; the next request, or None when the call has ended."""
        for verb in verbs:
            if verb.spec.answers:
                self.answered = True
            step = getattr(self, f"do_{verb.tag.lower()}")
            outcome = await step(verb)
            if outcome is END:
                return None
            if isinstance(outcome, Request):
                return outcome
        await self.finish("the last document ended, so the carrier hung up", "completed")
        return None

    # ---- verbs: each returns None (go on), a Request (fetch it next) or END ------------------------

    async def hear(self, verb: Verb, in_gather: bool = False) -> bool:
        """Play a Say or Play to the caller; False when a Play's file failed."""
        loop = verb.int_attr("loop", minimum=0)
        loop_pause = verb.int_attr("loopPause", minimum=0)
        forever = loop == 0
        times = 1 if forever and in_gather else FOREVER_REPEATS if forever else min(loop, 100)
        speaks = verb.spec.text == "speech"
        if speaks:
            each = speech_seconds(verb.text)
            voice = verb.attrs.get("voice", verb.spec.default("voice"))
            extra = [voice] if voice != verb.spec.default("voice") else []
        else:
            if not verb.text:
                raise CallBroke(f"the answer from {self.url} is not FlexML: {verb.where()} has no file URL")
            url = self.resolve_url(verb.text)
            played = await resolve(_caller_play(self.caller, url))
            if not played:
                await self.emit("play", f"{url}: the file could not be played", verb, data={"file": url,
                                                                                         "failed": True})
                return False
            each = PLAY_SECONDS
            limit = verb.int_attr("timeLimit")
            if verb.bool_attr("streaming") and limit:
                each = float(limit)
            extra = []
        if forever:
            extra.append("repeats until a key is pressed" if in_gather else "repeats until the call ends")
        elif times > 1:
            extra.append(f"{times} times" + (f", {loop_pause} s apart" if loop_pause else ""))
        suffix = f" ({'; '.join(extra)})" if extra else ""
        if speaks:
            await self.emit("say", f'"{verb.text}"{suffix}', verb,
                            data={"speech": verb.text, "voice": voice, "loop": loop})
        else:
            await self.emit("play", f"{url}{suffix}", verb, data={"file": url, "loop": loop})
        self.clock += times * each + (times - 1) * loop_pause
        if forever and not in_gather:
            raise HangUp(f"the message on line {verb.line} repeats until the call ends; "
                         f"the simulated caller heard it {times} times")
        return True

    async def do_say(self, verb: Verb):
        await self.hear(verb)

    async def do_play(self, verb: Verb):
        if await self.hear(verb):
            if verb.attrs.get("action", "").strip():
                return Request(self.resolve_url(verb.attrs["action"]), verb.method_attr())
            return None
        if verb.attrs.get("errorAction", "").strip():
            return Request(self.resolve_url(verb.attrs["errorAction"]), verb.method_attr("errorMethod"))
        return None

    async def do_pause(self, verb: Verb):
        length = verb.int_attr("length", minimum=0)
        await self.emit("pause", f"{length} s of silence", verb, data={"length": length})
        self.clock += length

    async def do_gather(self, verb: Verb):
        num_digits = verb.int_attr("numDigits", None, minimum=0) or None
        finish = verb.key_attr("finishOnKey")
        timeout = verb.int_attr("timeout", minimum=1)
        method = verb.method_attr()
        action = self.resolve_url(verb.attrs["action"]) if verb.attrs.get("action", "").strip() else self.url
        prompts = []
        for child in verb.children:
            if await self.hear(child, in_gather=True):
                prompts.append(child.text)
        forever = any(c.int_attr("loop") == 0 for c in verb.children)
        want = f"{num_digits} digit{'s' if num_digits != 1 else ''}" if num_digits else "digits"
        ends = f", {finish} submits" if finish else ""
        info = GatherInfo(num_digits=num_digits, finish_on_key=finish, timeout=timeout, prompts=tuple(prompts),
                          action=action, url=self.url, doc=self.doc, index=self.gathers)
        self.gathers += 1
        await self.emit("gather", f"waits for {want} (timeout {timeout} s{ends})", verb,
                        data={"numDigits": num_digits, "finishOnKey": finish, "timeout": timeout,
                              "action": action, "prompts": prompts})
        pressed = await self.caller.keys(info)
        pressed = check_keys((pressed or "").strip(), "keys pressed")
        digits, how, left = collect_keys(pressed, num_digits, finish)
        self.clock += KEY_SECONDS * (len(pressed) - len(left))
        if how == "timeout":
            self.clock += timeout
        data = {"pressed": pressed, "digits": digits, "ended_by": how, "ignored": left}
        if not pressed:
            if forever:
                raise HangUp(f"the menu on line {verb.line} repeats until a key is pressed, "
                             f"and the caller pressed nothing")
            await self.emit("keys", f"no input; after {timeout} s the call moves on to the next step", verb,
                            data=data)
            return None
        ignored = f"; {left} after that {'is' if len(left) == 1 else 'are'} ignored" if left else ""
        if how == "finish":
            what = f"pressed {pressed}: {finish} submits " + (f"{digits}" if digits else "no digits")
        elif how == "complete" and left:
            what = f"pressed {pressed}: {digits} completes the {num_digits}-digit input"
        elif how == "complete":
            what = f"pressed {digits}"
        else:
            what = f"pressed {digits}, then nothing for {timeout} s: submits {digits}"
        await self.emit("keys", what + ignored, verb, data=data)
        return Request(action, method, {"Digits": digits})

    async def do_dial(self, verb: Verb):
        numbers = [n for n in verb.numbers if n]
        if not numbers:
            raise CallBroke(f"the answer from {self.url} is not FlexML: {verb.where()} has no number to call")
        timeout = verb.int_attr("timeout", minimum=1)
        time_limit = verb.int_attr("timeLimit")
        outcome = await resolve(self.caller.dial_outcome(list(numbers)))
        if outcome not in DIAL_OUTCOMES:
            raise ValueError(f"dial outcome {outcome!r} must be one of {', '.join(DIAL_OUTCOMES)}")
        talk = 0
        if outcome == "completed":
            talk = float(getattr(self.caller, "dial_seconds", 30.0))
            if time_limit:
                talk = min(talk, float(time_limit))
            took, what = 3.0 + talk, f"answered; the call lasts {talk:g} s"
        elif outcome == "noanswer":
            took, what = float(timeout), f"no answer after {timeout} s"
        elif outcome == "busy":
            took, what = 2.0, "busy"
        else:
            took, what = 1.0, "the call failed"
        star = False
        if outcome == "completed" and callable(getattr(self.caller, "star_in", None)):
            transfer = TransferInfo(tuple(numbers), verb.bool_attr("hangupOnStar"), talk)
            star = bool(await resolve(self.caller.star_in(transfer)))
        if star:
            if verb.bool_attr("hangupOnStar"):
                what = f"answered; after {talk:g} s the caller presses *, which ends the transfer"
            else:
                what += "; the caller presses *, which does nothing here (hangupOnStar is off)"
        who = ", ".join(numbers)
        await self.emit("dial", f"transfer to {who}: {what}", verb,
                        data={"numbers": numbers, "outcome": outcome, "talk": talk})
        self.clock += took
        if verb.attrs.get("action", "").strip():
            fields = {"DialCallStatus": outcome, "DialCallDuration": int(talk)}
            return Request(self.resolve_url(verb.attrs["action"]), verb.method_attr(), fields)
        return None

    async def do_record(self, verb: Verb):
        if verb.bool_attr("recordSession"):
            await self.emit("record", "records the whole call in the background", verb,
                            data={"session": True})
            return None
        info = RecordInfo(max_length=verb.int_attr("maxLength", minimum=1),
                          timeout=verb.int_attr("timeout", minimum=1),
                          finish_on_key=verb.attrs.get("finishOnKey", ""),
                          play_beep=verb.bool_attr("playBeep"), url=self.url, doc=self.doc)
        if info.play_beep:
            self.clock += 1.0
        outcome = await resolve(_caller_record(self.caller, info))
        if outcome == RECORD_FAILED:
            has_error = bool(verb.attrs.get("errorAction", "").strip())
            await self.emit("record", "the recording failed" + ("" if has_error else
                            "; there is no errorAction, so the call moves on"), verb, data={"failed": True})
            if has_error:
                return Request(self.resolve_url(verb.attrs["errorAction"]), verb.method_attr("errorMethod"))
            return None
        spoken = min(max(float(outcome), 0.0), float(info.max_length))
        sid = uuid.uuid4().hex
        fmt = verb.text_attr("fileFormat")
        rec_url = f"{self.recordings_url}/{sid}.{fmt}"
        seconds = int(round(spoken))
        fields = {"RecordingUrl": rec_url, "RecordingURL": rec_url, "RecordingFileSid": sid,
                  "RecordingFileSID": sid, "RecordingDuration": seconds}
        key = str(getattr(self.caller, "record_key", "") or "")
        ends = bool(key) and key in finish_keys(info.finish_on_key) and spoken < info.max_length
        if ends:
            text = (f"the caller speaks for {seconds} s, then presses {key}: recorded" if seconds else
                    f"the caller presses {key} at once: an empty recording (0 s)")
        else:
            text = (f"the caller speaks for {seconds} s: recorded" if seconds else
                    f"the caller stays silent: an empty recording (0 s) after {info.timeout} s of silence")
            if key and spoken < info.max_length:
                text += f"; {key} does not end this recording (finishOnKey {info.finish_on_key!r})"
        await self.emit("record", text, verb, data={"duration": seconds, "url": rec_url, "sid": sid,
                                                    "key": key if ends else None})
        self.clock += spoken + (info.timeout if spoken < info.max_length and not ends else 0)
        if verb.attrs.get("action", "").strip():
            return Request(self.resolve_url(verb.attrs["action"]), verb.method_attr(), fields)
        return None

    async def do_sms(self, verb: Verb):
        to = verb.attrs.get("to", "").strip() or self.to
        sender = verb.attrs.get("from", "").strip() or self.from_
        message = {"to": to, "from": sender, "body": verb.text}
        self.result.sms.append(message)
        await self.emit("sms", f'text to {to} from {sender}: "{verb.text}"', verb, data=message)
        if verb.attrs.get("action", "").strip():
            return Request(self.resolve_url(verb.attrs["action"]), verb.method_attr())
        return None

    async def do_redirect(self, verb: Verb):
        if not verb.text:
            raise CallBroke(f"the answer from {self.url} is not FlexML: {verb.where()} has no URL")
        target = self.resolve_url(verb.text)
        await self.emit("redirect", f"to {target}", verb, data={"target": target})
        return Request(target, verb.method_attr())

    async def do_reject(self, verb: Verb):
        reason = verb.text_attr("reason")
        if self.answered:
            await self.emit("reject", f"reject ({reason}) after the call was answered: the call ends", verb,
                            data={"reason": reason, "answered": True})
            await self.finish("the flow rejected the call after answering it, so the call ended", "completed")
        else:
            await self.emit("reject", f"the call is not answered ({reason})", verb,
                            data={"reason": reason, "answered": False})
            await self.finish(f"the call was rejected without being answered ({reason})",
                              "busy" if reason == "busy" else "failed")
        return END

    async def do_hangup(self, verb: Verb):
        await self.emit("hangup", "the flow hangs up", verb)
        await self.finish("the flow hung up", "completed")
        return END

    async def do_override(self, verb: Verb):
        url = verb.attrs.get("statusCallbackUrl", "").strip()
        method = verb.method_attr("statusCallbackMethod")
        if url:
            self.status_url = self.resolve_url(url)
        self.status_method = method
        await self.emit("override", f"status callback now {method} {self.status_url or '(none)'}", verb,
                        data={"statusCallbackUrl": self.status_url, "statusCallbackMethod": method})


END = object()


_sleep = asyncio.sleep  # replaced in tests


def _caller_play(caller: Caller, url: str):
    ask = getattr(caller, "play_outcome", None)
    return True if ask is None else ask(url)


ANY_KEY = "".join(DTMF_KEYS)


def finish_keys(attr: str) -> str:
    """The keys that end a Record: any key when finishOnKey is not set, none for 'none', else those listed."""
    attr = attr.strip()
    if not attr:
        return ANY_KEY
    return "" if attr.lower() == "none" else attr


def _caller_record(caller: Caller, info: RecordInfo):
    ask = getattr(caller, "record_outcome", None)
    return 8.0 if ask is None else ask(info)


async def simulate_call(url: str, *, caller: Caller | None = None, from_: str = "15551230001",
                        to: str = "15551230002", transport: httpx.AsyncBaseTransport | None = None,
                        method: str = "POST", max_fetches: int = 50, fetch_timeout: float = 10.0,
                        on_event: EventHook | None = None, status_callback_url: str | None = None,
                        status_callback_method: str = "POST", caller_name: str = "",
                        direction: str = "inbound", flows: Iterable[CompiledFlow] = (),
                        pace: float = 0.0, call_sid: str | None = None,
                        recordings_url: str | None = None) -> CallResult:
    """Simulate one call to ``url``; see the module docstring. Never raises for a broken flow.

    ``flows``: the compiled flows the URL serves, when known; events then name the document of
    every answer (also a menu router's) and the flow ``step`` each verb plays.
    ``pace``: real seconds waited per virtual second before each event (0: none), so a
    live transcript unrolls at a watchable speed (0.25 plays a call four times faster).
    ``on_event`` may be a plain or an async function; an exception it raises ends the call.
    ``call_sid``: the CallSid every request carries (default: a new random one).
    ``recordings_url``: where the recordings a Record makes are said to be (``RecordingUrl`` is
    ``{recordings_url}/{file id}.{format}``); by default an address that names no real server (the
    local carrier sandbox passes its own, which plays a short tone there).
    """
    if pace < 0:
        raise ValueError("pace cannot be negative")
    method = method.strip().upper()
    if method not in ("POST", "GET"):
        raise ValueError(f"method {method!r} must be POST or GET")
    if max_fetches < 1:
        raise ValueError("max_fetches must be 1 or more")
    caller = caller if caller is not None else ScriptedCaller()
    async with httpx.AsyncClient(transport=transport, timeout=fetch_timeout, follow_redirects=True,
                                 headers={"User-Agent": "flexml-designer-simulator", EXPLAIN_HEADER: "1"}) as client:
        sim = CallSimulator(url, caller=caller, client=client, from_=from_, to=to, method=method,
                            max_fetches=max_fetches, fetch_timeout=fetch_timeout, on_event=on_event,
                            status_callback_url=status_callback_url,
                            status_callback_method=status_callback_method.strip().upper() or "POST",
                            caller_name=caller_name, direction=direction,
                            steps=StepMap(list(flows)) if flows else None, pace=pace, call_sid=call_sid,
                            recordings_url=recordings_url)
        return await sim.run()


def run_call(url: str, **kwargs: Any) -> CallResult:
    """``simulate_call`` for code without an event loop (the command line, plain tests)."""
    return asyncio.run(simulate_call(url, **kwargs))


def decisions_of(header: str | None) -> list[tuple[str, str, str]]:
    """The decisions a host reported in ``X-FlexML-Decisions``; nothing for a header it cannot read."""
    if not header:
        return []
    out = []
    for part in header.split(", ")[:20]:
        node, _, rest = part.partition("=")
        branch, _, reason = rest.partition("=")
        if node and branch:
            out.append((node[:64], branch[:64], unquote(reason)[:200]))
    return out
