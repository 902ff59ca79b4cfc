"""NiceGUI components for the carrier: settings with "Test connection", the carrier's numbers, "Call me".

Self-contained: each takes the ``AppContext`` and does its work through
``designer.carrier.service`` (network calls run off the event loop). Pages
mount them:

- ``carrier_settings_card(ctx)`` — Settings page
- ``carrier_dids_card(ctx)`` (also ``numbers_card``) — Numbers page
- ``call_me_dialog(ctx, flow_id)`` / ``call_me_button(ctx, flow_id)`` — a flow's publish panel
"""

from __future__ import annotations

from typing import Callable

from nicegui import run, ui

from designer.carrier import service as cs
from designer import services
from designer.context import AppContext
from designer.services import ServiceError
from designer.ui.frame import card_heading


def _plain(exc: Exception) -> str:
    text = str(exc)
    return text[:1].upper() + text[1:]


def carrier_settings_card(ctx: AppContext) -> ui.card:
    """The carrier's API address and the FlexML endpoint's login and password, and a connection test."""
    settings = cs.carrier_settings(ctx)
    with ui.card().classes("w-full p-4 gap-3").props("flat bordered").mark("carrier-settings") as card:
        card_heading("cell_tower", "Carrier account")
        ui.label("The FlexML endpoint's API address, login and password (not your website login). The designer "
                 "uses them to list your numbers, point them at this host, and place test calls.") \
            .classes("text-sm text-slate-500")
        with ui.row().classes("w-full items-start gap-3"):
            base_url = ui.input("API address", value=settings.base_url, placeholder=cs.DEFAULT_BASE_URL) \
                .props("outlined dense").classes("w-96").mark("carrier-base-url")
            login = ui.input("Login", value=settings.login).props("outlined dense").classes("w-48") \
                .mark("carrier-login")
            # the saved password is never sent to the browser: leave the field empty to keep it
            kept = bool(settings.password_for(settings.base_url))
            password = ui.input("Password", placeholder="saved; type to change" if kept else "",
                                password=True, password_toggle_button=True) \
                .props("outlined dense").classes("w-48").mark("carrier-password")
        result = ui.label("").classes("text-sm").mark("carrier-result")
        if settings.unreadable:
            result.text = "The saved password cannot be read on this machine (its key file is missing); enter it again."
            result.classes(replace="text-sm text-negative")
        elif settings.password_elsewhere:
            result.text = _plain(cs.reenter_password(settings.password_address, settings.base_url))
            result.classes(replace="text-sm text-negative")

        def show(text: str, ok: bool) -> None:
            result.text = text
            result.classes(replace=f"text-sm {'text-positive' if ok else 'text-negative'}")

        def save() -> bool:
            try:
                cs.save_carrier_settings(ctx, base_url.value or "", login.value or "", password.value or "")
            except ServiceError as exc:
                show(_plain(exc), False)
                return False
            base_url.value = cs.carrier_settings(ctx).base_url
            return True

        def save_clicked() -> None:
            if save():
                show("Carrier settings saved.", True)

        async def test_clicked() -> None:
            if not save():
                return
            show("Connecting…", True)
            try:
                show(await run.io_bound(cs.check_connection, ctx), True)
            except ServiceError as exc:
                show(_plain(exc), False)

        with ui.row().classes("gap-2"):
            ui.button("Save", on_click=save_clicked).props("unelevated no-caps").mark("carrier-save")
            ui.button("Test connection", icon="wifi_tethering", on_click=test_clicked) \
                .props("outline no-caps").mark("carrier-test")
    return card


class CarrierNumbersCard:
    """The carrier's DIDs; each can be bound to a flow (pointing it at this host) or released."""

    def __init__(self, ctx: AppContext, on_change: Callable[[], None] | None = None):
        self.ctx = ctx
        self.on_change = on_change
        self.numbers: list[cs.CarrierNumber] | None = None
        self.problem = ""

    def build(self) -> ui.card:
        with ui.card().classes("w-full p-4 gap-3").props("flat bordered").mark("carrier-numbers") as card:
            with ui.row().classes("w-full items-center"):
                card_heading("cell_tower", "Numbers at the carrier")
                ui.space()
                ui.button(icon="refresh", on_click=self.load).props("flat round dense") \
                    .tooltip("Load again from the carrier").mark("carrier-refresh")
            ui.label("Binding a number here sets its call URL, method and status callback at the carrier to this "
                     "host, and routes its calls to the flow.").classes("text-sm text-slate-500")
            if not cs.carrier_settings(self.ctx).complete:
                self.problem = "not set up"  # known at once: no spinner, no round trip
            self.rows()
        if not self.problem:
            ui.timer(0.05, self.load, once=True)
        return card

    async def load(self) -> None:
        if not cs.carrier_settings(self.ctx).complete:
            self.numbers, self.problem = None, "not set up"
        else:
            try:
                self.numbers, self.problem = await run.io_bound(cs.carrier_numbers, self.ctx), ""
            except ServiceError as exc:
                self.numbers, self.problem = None, _plain(exc)
        self.rows.refresh()

    @ui.refreshable_method
    def rows(self) -> None:
        if self.problem == "not set up":
            with ui.row().classes("items-center gap-2"):
                ui.label("Set up the carrier account first:").classes("text-sm")
                ui.link("Settings", "/settings").classes("text-sm")
            return
        if self.problem:
            ui.label(self.problem).classes("text-sm text-negative").mark("carrier-problem")
            return
        if self.numbers is None:
            ui.spinner(size="md")
            return
        if not self.numbers:
            ui.label("The carrier account has no numbers.").classes("text-sm text-slate-500")
            return
        records = cs.local_flows(self.ctx)
        flows = {fid: r.name for fid, r in records.items()}
        with ui.column().classes("w-full gap-0 rounded-lg border border-slate-200 bg-white"):
            for n in self.numbers:
                with ui.row().classes("w-full items-center gap-4 px-4 py-2 border-b border-slate-100") \
                        .mark(f"carrier-did-{n.number}"):
                    ui.icon("phone", size="20px").classes("text-primary")
                    ui.label(n.display).classes("font-mono w-40")
                    with ui.column().classes("grow gap-0"):
                        if n.points_here and n.flow_id:
                            ui.label(f"rings “{flows.get(n.flow_id, n.flow_id)}” on this host").classes("text-sm")
                            if n.flow_id in records and records[n.flow_id].published_rev is None:
                                ui.label("the flow is not published yet: callers hear an apology") \
                                    .classes("text-xs text-warning")
                        elif n.points_here:
                            ui.label("points at this host, but no flow is bound: callers hear an apology") \
                                .classes("text-sm text-warning")
                        else:
                            ui.label(f"calls go to {n.url}" if n.url else "calls go to the account's URL") \
                                .classes("text-sm text-slate-500")
                    choice = ui.select(flows, label="Flow", value=n.flow_id if n.flow_id in flows else None) \
                        .props("outlined dense").classes("w-56").mark(f"carrier-flow-{n.number}")
                    ui.button("Bind", icon="link", on_click=lambda n=n, c=choice: self.bind(n, c.value)) \
                        .props("unelevated no-caps dense").mark(f"carrier-bind-{n.number}")
                    if n.points_here:
                        ui.button(icon="link_off", on_click=lambda n=n: self.release(n)) \
                            .props("flat round dense color=secondary").tooltip("Stop sending its calls here") \
                            .mark(f"carrier-release-{n.number}")

    async def bind(self, number: cs.CarrierNumber, flow_id: str | None) -> None:
        if not flow_id:
            ui.notify("Choose the flow that answers this number", type="warning")
            return
        try:
            await run.io_bound(cs.bind_did_at_carrier, self.ctx, number.did_sid, flow_id)
        except ServiceError as exc:
            ui.notify(_plain(exc), type="negative", multi_line=True)
            return
        record = cs.local_flows(self.ctx).get(flow_id)
        ui.notify(f"{number.display} now rings “{record.name if record else flow_id}”: the carrier sends its calls "
                  f"to this host", type="positive")
        await self.changed()

    async def release(self, number: cs.CarrierNumber) -> None:
        try:
            await run.io_bound(cs.unbind_did_at_carrier, self.ctx, number.did_sid)
        except ServiceError as exc:
            ui.notify(_plain(exc), type="negative", multi_line=True)
            return
        ui.notify(f"{number.display} no longer sends its calls here", type="positive")
        await self.changed()

    async def changed(self) -> None:
        await self.load()
        if self.on_change is not None:
            self.on_change()


def carrier_dids_card(ctx: AppContext, on_change: Callable[[], None] | None = None) -> ui.card:
    """The carrier's numbers, each bindable to a flow; ``on_change`` runs after a bind or release."""
    return CarrierNumbersCard(ctx, on_change).build()


numbers_card = carrier_dids_card  # the name the Numbers page looks for


def call_me_dialog(ctx: AppContext, flow_id: str) -> ui.dialog:
    """A dialog (call ``.open()``): the carrier calls the number entered and plays the flow from this host."""
    with ui.dialog() as dialog, ui.card().classes("w-96 gap-3").mark("call-me-dialog"):
        ui.label("Call me").classes("text-lg font-medium")
        ui.label("The carrier calls your phone and plays this flow's published revision from this host.") \
            .classes("text-sm text-slate-500")
        to = ui.input("Your phone number", placeholder="+1 516 206 5337").props("outlined dense autofocus") \
            .classes("w-full").mark("call-me-number")
        result = ui.label("").classes("text-sm").mark("call-me-result")
        calls_link = ui.link("The call appears in Calls once the carrier fetches the flow", "/calls") \
            .classes("text-xs")
        calls_link.set_visibility(False)

        async def call() -> None:
            result.classes(replace="text-sm")
            result.text = "Asking the carrier…"
            try:
                placed = await run.io_bound(cs.place_call, ctx, flow_id, to.value or "")
            except ServiceError as exc:
                result.text = _plain(exc)
                result.classes(replace="text-sm text-negative")
                return
            result.text = (f"The carrier is calling {services.format_number(placed.called_did or '')} "
                           f"from {services.format_number(placed.calling_did or '')} (call {placed.call_sid}).")
            result.classes(replace="text-sm text-positive")
            calls_link.set_visibility(True)

        to.on("keydown.enter", call)
        with ui.row().classes("w-full justify-end gap-2"):
            ui.button("Close", on_click=dialog.close).props("flat no-caps").mark("call-me-close")
            ui.button("Call", icon="phone_forwarded", on_click=call).props("unelevated no-caps").mark("call-me-call")
    return dialog


def call_me_button(ctx: AppContext, flow_id: str) -> ui.button:
    """A "Call me" button opening ``call_me_dialog``."""
    dialog = call_me_dialog(ctx, flow_id)
    return ui.button("Call me", icon="phone_forwarded", on_click=dialog.open).props("outline no-caps") \
        .mark("call-me")
