"""The editor's Test call tab: call the draft or the published flow, press keys, watch and hear it.

The call runs through the simulator against a host in this process (the
draft: compiled in memory as revision "draft"; the published flow: the
designer's own host); either way the call shows on the Calls page, marked as a test call, with the
status callback the simulator sends at its end. The caller is the
person at the keypad: at each menu the call waits for their keys, up to the
menu's timeout. Each step played is highlighted on the canvas.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
from nicegui import background_tasks, ui

from compiler import CompiledFlow
from compiler.decisions import at_time, timezones
from designer import services
from designer.context import AppContext
from designer.ui.frame import sentence
from designer.services import PublishRefused, ServiceError
from designer.simulator.callers import RECORD_FAILED, GatherInfo, RecordInfo, ScriptedCaller, TransferInfo
from designer.simulator import ANY_KEY, CallResult, SimEvent, finish_keys, simulate_call

KEYPAD = (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"), ("*", "0", "#"))
ICONS = {"fetch": "cloud_download", "say": "record_voice_over", "play": "music_note", "pause": "pause",
         "gather": "dialpad", "keys": "touch_app", "dial": "phone_forwarded", "sms": "sms", "record": "mic",
         "redirect": "redo", "reject": "block", "hangup": "call_end", "status": "info", "error": "error",
         "end": "flag", "override": "tune"}
QUIET = {"fetch", "status"}  # shown small and grey
DIAL_CHOICES = {"completed": "answered", "busy": "busy", "noanswer": "not answered", "failed": "failing"}


CALLER_NUMBER = "15550000001"  # who a test call comes from unless the panel says otherwise
RECORD_WAIT = 4.0  # seconds a test call's recording (or transfer) waits for a key before it goes on by itself


class KeypadCaller(ScriptedCaller):
    """A caller whose keys come from the panel's keypad, waiting up to the menu's timeout for each key."""

    def __init__(self, on_wait=None, timeout_scale: float = 1.0, dial_outcome: str = "completed",
                 record_fails: bool = False, on_record=None, on_transfer=None):
        super().__init__(dial_outcome=dial_outcome, record_fails=record_fails)
        self.pressed: asyncio.Queue[str] = asyncio.Queue()
        self.on_wait = on_wait
        self.on_record = on_record
        self.on_transfer = on_transfer
        self.timeout_scale = timeout_scale

    def _clear(self) -> None:
        while not self.pressed.empty():  # keys pressed before now do not count
            self.pressed.get_nowait()

    async def _key(self, wait: float) -> str | None:
        """The next key pressed within ``wait`` seconds, or None."""
        try:
            return await asyncio.wait_for(self.pressed.get(), wait)
        except asyncio.TimeoutError:
            return None

    async def star_in(self, transfer: TransferInfo) -> bool:
        """Where * ends the transfer, the caller may press it within RECORD_WAIT seconds."""
        if not transfer.hangup_on_star:
            return False
        self._clear()
        if self.on_transfer is not None:
            self.on_transfer(transfer)
        deadline = asyncio.get_running_loop().time() + RECORD_WAIT * self.timeout_scale
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            key = await self._key(left)
            if key is None:
                return False
            if key == "*":
                return True
        return False

    async def record_outcome(self, record: RecordInfo) -> float | str:
        """The caller leaves a message; a key from the keypad within RECORD_WAIT seconds ends it."""
        self.record_key = ""
        if self.record_fails:
            return RECORD_FAILED
        keys = finish_keys(record.finish_on_key)
        if keys:
            self._clear()
            if self.on_record is not None:
                self.on_record(record, keys)
            self.record_key = await self._key(RECORD_WAIT * self.timeout_scale) or ""
        return self.record_seconds

    def press(self, key: str) -> None:
        self.pressed.put_nowait(key)

    async def keys(self, gather: GatherInfo) -> str | None:
        if self.on_wait is not None:
            self.on_wait(gather)
        wait = max(1.0, float(gather.timeout or 5)) * self.timeout_scale
        keys = ""
        while (key := await self._key(wait)) is not None:
            keys += key
            if gather.finish_on_key and key == gather.finish_on_key:
                break
            if gather.num_digits and len(keys) >= gather.num_digits:
                break
        return keys or None


async def hung_up(transport: httpx.AsyncBaseTransport, status_url: str, call_sid: str, seconds: float) -> None:
    """Send the status callback of a test call the person at the keypad hung up."""
    async with httpx.AsyncClient(transport=transport) as client:
        await client.post(status_url, json={"CallSid": call_sid, "CallStatus": "completed",
                                            "CallDuration": str(round(seconds))})


def test_call_panel(ctx: AppContext, editor: Any) -> "TestCallPanel":
    panel = TestCallPanel(ctx, editor)
    panel.build()
    return panel


test_call_panel.__test__ = False  # a UI builder, not a pytest test


class TestCallPanel:
    __test__ = False  # not a pytest class

    def __init__(self, ctx: AppContext, editor: Any):
        self.ctx = ctx
        self.editor = editor
        self.flow_id: str = editor.flow_id
        self.caller: KeypadCaller | None = None
        self.task: asyncio.Task | None = None
        self.result: CallResult | None = None
        self.path: list[str] = []
        self.base = ""  # the in-process host's address, left out of the URLs the transcript shows

    def build(self) -> None:
        with ui.column().classes("w-full gap-3").mark("test-call-panel"):
            with ui.row().classes("w-full items-center gap-2"):
                self.source = ui.toggle({"draft": "Draft", "published": "Published"}, value="draft") \
                    .props("dense no-caps unelevated toggle-color=primary").mark("call-source") \
                    .tooltip("Call the draft as it is now, or the revision the host serves")
                ui.space()
                self.speak = ui.switch("Speak", value=False).props("dense").mark("speak") \
                    .tooltip("Read spoken text aloud with the browser's voice")
            with ui.row().classes("w-full gap-2"):
                self.start_button = ui.button("Start call", icon="call", on_click=self.start) \
                    .props("unelevated no-caps color=positive").classes("grow").mark("start-call")
                self.hangup_button = ui.button("Hang up", icon="call_end", on_click=self.hang_up) \
                    .props("unelevated no-caps color=negative").classes("grow").mark("hang-up")
                self.hangup_button.disable()
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                ui.label("Transfers are").classes("text-sm text-slate-600")
                self.dial_outcome = ui.select(DIAL_CHOICES, value="completed") \
                    .props("dense options-dense borderless").classes("text-sm").mark("dial-outcome")
                ui.space()
                self.record_fails = ui.checkbox("Recording fails").props("dense").classes("text-sm") \
                    .mark("record-fails")
            with ui.row().classes("w-full items-center gap-2 no-wrap"):
                ui.label("Pretend it is").classes("text-sm text-slate-600")
                self.when = ui.toggle({"now": "now", "other": "another time"}, value="now") \
                    .props("dense no-caps unelevated toggle-color=primary").mark("call-when")
                self.at = ui.input(placeholder="2026-12-24T18:30").props("dense type=datetime-local") \
                    .classes("grow").mark("call-at").bind_visibility_from(self.when, "value", value="other")
            self.from_number = ui.input("Call from", value=CALLER_NUMBER,
                                        placeholder="the caller's number; empty: withheld") \
                .props("dense stack-label").classes("w-full").mark("call-from")
            self.state = ui.label("Press Start call, then answer the menus with the keypad.") \
                .classes("text-sm text-slate-600").mark("call-state")
            with ui.grid(columns=3).classes("w-full gap-2").mark("keypad"):
                for row in KEYPAD:
                    for key in row:
                        ui.button(key, on_click=lambda k=key: self.press(k)) \
                            .props("outline").classes("font-mono text-base h-10").mark(f"key-{key}")
            ui.label("Transcript").classes("text-sm font-medium text-slate-800")
            with ui.scroll_area().classes("w-full h-80 rounded border border-slate-200 bg-slate-50") as self.scroller:
                self.transcript = ui.column().classes("w-full gap-1 p-2").mark("transcript")

    # --- running a call -----------------------------------------------------------------

    def _pretend_time(self) -> datetime | None:
        """The chosen time (in the flow's zone, else the machine's), or None for now; ValueError if unreadable."""
        if self.when.value != "other":
            return None
        text = (self.at.value or "").strip()
        if not text:
            raise ValueError("choose the time to pretend it is, or pick 'now'")
        zone = self.editor.graph.graph.get("timezone") if hasattr(self.editor, "graph") else None
        return at_time(text, zone if isinstance(zone, str) and zone in timezones() else None)

    def _target(self) -> tuple[str, httpx.AsyncBaseTransport, list[CompiledFlow], str]:
        published = self.source.value == "published"
        host = services.test_call_host(self.ctx, self.flow_id, published, self._pretend_time())
        rev = None if published else "draft"
        self.base = host.base_url
        compiled = host.table.compiled(self.flow_id, rev)
        return host.url(self.flow_id, rev), host.transport, [compiled] if compiled is not None else [], \
            host.status_url

    def start(self) -> None:
        if self.task is not None and not self.task.done():
            return
        try:
            url, transport, flows, status_url = self._target()
        except PublishRefused as exc:
            first = exc.problems[0]
            self.state.text = f"The draft has {len(exc.problems)} error(s) to fix first (e.g. {first})."
            self.state.classes(replace="text-sm text-negative")
            return
        except (ServiceError, ValueError) as exc:
            self.state.text = sentence(str(exc))
            self.state.classes(replace="text-sm text-negative")
            return
        self.transcript.clear()
        if self.when.value == "other":
            self._line("status", f"Pretending it is {self._pretend_time():%a %Y-%m-%d %H:%M %Z}")
        self.path = []
        self.result = None
        self.caller = KeypadCaller(on_wait=self._waiting, dial_outcome=self.dial_outcome.value or "completed",
                                   record_fails=bool(self.record_fails.value), on_record=self._recording,
                                   on_transfer=self._transferred)
        self.state.classes(replace="text-sm text-slate-600")
        self.state.text = "Calling…"
        self.start_button.disable()
        self.hangup_button.enable()
        self.task = background_tasks.create(self._run(url, transport, flows, status_url), name=f"test call {self.flow_id}")

    async def _run(self, url: str, transport: httpx.AsyncBaseTransport, flows: list[CompiledFlow],
                   status_url: str) -> None:
        call_sid, started = uuid.uuid4().hex, time.monotonic()
        try:
            # with speech on, the transcript keeps pace with the voice (virtual seconds played in real time)
            self.result = await simulate_call(url, caller=self.caller, transport=transport, on_event=self._event,
                                              flows=flows, from_=(self.from_number.value or "").strip(),
                                              to="15550000002", status_callback_url=status_url,
                                              pace=1.0 if self.speak.value else 0.0, call_sid=call_sid)
            verdict = "Call ended" if self.result.ok else "Call broke"
            self.state.text = f"{verdict}: {self.result.reason} ({self.result.call_duration} s)."
        except asyncio.CancelledError:
            # as the carrier does when a caller hangs up: the status callback, so the call shows as ended
            background_tasks.create(hung_up(transport, status_url, call_sid, time.monotonic() - started),
                                    name=f"test call {self.flow_id} hung up")
            if not self.transcript.is_deleted:
                self.state.text = "You hung up."
                self._line("hangup", "You hung up.")
            raise
        finally:
            if not self.transcript.is_deleted:
                self.start_button.enable()
                self.hangup_button.disable()
                if self.path and hasattr(self.editor, "show_path"):
                    self.editor.show_path(list(self.path))

    def hang_up(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def press(self, key: str) -> None:
        if self.caller is None or self.task is None or self.task.done():
            ui.notify("Start a call first", type="info", timeout=1200)
            return
        self.caller.press(key)
        self._line("keys", f"You pressed {key}")

    def _waiting(self, gather: GatherInfo) -> None:
        want = f"{gather.num_digits} key{'s' if gather.num_digits != 1 else ''}" if gather.num_digits else "keys"
        finish = f", then {gather.finish_on_key}" if gather.finish_on_key and gather.num_digits != 1 else ""
        self.state.text = f"The menu waits for {want}{finish} ({gather.timeout} s of silence ends it)."

    def _transferred(self, transfer: TransferInfo) -> None:
        self.state.text = (f"Transfer answered: the caller talks to {', '.join(transfer.numbers)}. Press * to end "
                           "it and go on with the flow, or wait.")

    def _recording(self, record: RecordInfo, keys: str) -> None:
        which = "a key" if keys == ANY_KEY else " or ".join(keys)
        self.state.text = f"Recording: the caller leaves a message. Press {which} to end it, or wait."

    async def _event(self, event: SimEvent) -> None:
        if self.transcript.is_deleted:  # the page was closed: end the call
            raise asyncio.CancelledError
        if event.step and (not self.path or self.path[-1] != event.step):
            self.path.append(event.step)
            if hasattr(self.editor, "highlight"):
                self.editor.highlight([event.step])
        if event.kind == "keys":
            return  # the keypad already showed each key
        text = event.data.get("speech", event.text) if event.kind == "say" else event.text.replace(self.base, "")
        self._line(event.kind, text, event.step)
        if event.kind == "say" and self.speak.value and text:
            self.transcript.client.run_javascript(f"(() => {{ const u = new SpeechSynthesisUtterance({json.dumps(text)}); "
                              "window.speechSynthesis.speak(u); }})()")

    def _line(self, kind: str, text: str, step: str | None = None) -> None:
        quiet = kind in QUIET
        with self.transcript:
            with ui.row().classes("w-full items-start gap-2 no-wrap").mark(f"line-{kind}"):
                ui.icon(ICONS.get(kind, "chevron_right"), size="16px") \
                    .classes("mt-0.5 " + ("text-slate-400" if quiet else "text-negative" if kind == "error"
                                          else "text-primary"))
                ui.label(text).classes("text-xs text-slate-400 break-all" if quiet else "text-sm text-slate-800")
                if step:
                    ui.space()
                    ui.label(step).classes("text-xs font-mono text-slate-400 whitespace-nowrap")
        self.scroller.scroll_to(percent=1.0)
