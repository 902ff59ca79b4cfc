"""The numbers page (``/numbers``): which phone number (DID) rings which flow."""

from __future__ import annotations


from nicegui import ui

from designer import services
from designer.context import AppContext
from designer.services import ServiceError
from designer.ui import carrier_ui
from designer.ui.frame import FormError, empty_state, frame, page_heading



def register(ctx: AppContext) -> None:
    @ui.page("/numbers")
    def numbers_page() -> None:
        with frame("Numbers", "Numbers"):
            NumbersView(ctx).build()


class NumbersView:
    def __init__(self, ctx: AppContext):
        self.ctx = ctx

    def build(self) -> None:
        page_heading("Numbers", "Calls to a number you bind here are answered by its flow's published revision.")
        flows = services.flow_names(self.ctx)
        with ui.card().classes("w-full p-4 gap-3").props("flat bordered"):
            ui.label("Bind a number").classes("font-medium")
            if not flows:
                ui.label("Create a flow first; then bind your phone numbers to it.").classes("text-sm text-slate-500")
            with ui.row().classes("w-full items-start gap-3"):
                self.number = ui.input("Phone number", placeholder="+1 516 206 5337") \
                    .props("outlined dense").classes("w-64").mark("did-input")
                self.flow = ui.select(flows, label="Flow", value=next(iter(flows), None)) \
                    .props("outlined dense").classes("w-72").mark("did-flow")
                ui.button("Bind", icon="link", on_click=self.bind).props("unelevated no-caps") \
                    .classes("mt-0.5").mark("bind")
                self.number.on("keydown.enter", self.bind)
            self.error = FormError("did-error")
            ui.label("E.164: country code and number, e.g. +1 516 206 5337. Spaces, dashes and brackets "
                     "are fine.").classes("text-xs text-slate-500")
        self.table_area()
        carrier_ui.carrier_dids_card(self.ctx, on_change=self.table_area.refresh)

    def bind(self) -> None:
        self.error.clear()
        if not self.flow.value:
            ui.notify("Choose the flow that answers this number", type="warning")
            return
        try:
            digits = services.bind_number(self.ctx, self.number.value or "", self.flow.value)
        except ServiceError as exc:
            self.error.show(str(exc), self.number)
            return
        self.number.value = ""
        ui.notify(f"{services.format_number(digits)} now rings “{self.flow.options[self.flow.value]}”",
                  type="positive")
        self.table_area.refresh()

    def unbind(self, number: str) -> None:
        try:
            services.unbind_number(self.ctx, number)
        except ServiceError as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify(f"{services.format_number(number)} unbound", type="positive")
        self.table_area.refresh()

    @ui.refreshable_method
    def table_area(self) -> None:
        dids = services.bound_numbers(self.ctx)
        if not dids:
            empty_state("dialpad", "No numbers bound", "Bind a phone number to a flow above. Then point the "
                        "number's call handling at this host's account URL (shown when you publish).")
            return
        flows = services.flow_records(self.ctx)
        with ui.column().classes("w-full gap-0 rounded-lg border border-slate-200 bg-white"):
            for number, flow_id in dids.items():
                record = flows.get(flow_id)
                with ui.row().classes("w-full items-center gap-4 px-4 py-2 border-b border-slate-100") \
                        .mark(f"did-{number}"):
                    ui.icon("phone", size="20px").classes("text-primary")
                    ui.label(services.format_number(number)).classes("font-mono w-48")
                    ui.icon("arrow_forward", size="18px").classes("text-slate-400")
                    if record:
                        ui.link(record.name, f"/flows/{flow_id}").classes("grow")
                        if record.published_rev is None:
                            ui.badge("flow not published: callers hear an apology", color="warning") \
                                .props("outline")
                    else:
                        ui.label(flow_id).classes("grow text-slate-500")
                    ui.button(icon="link_off", on_click=lambda n=number: self.unbind(n)) \
                        .props("flat round dense color=secondary").tooltip("Unbind").mark(f"unbind-{number}")
