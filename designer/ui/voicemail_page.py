"""The voicemail page (``/voicemail``): messages callers left at Record steps, per flow, with a player.

Each message shows who called, when, how long it is and whether it is new; the player plays the carrier's
recording URL (only URLs on the recording hosts allowed in Settings are ever kept). Playing a message
or pressing "Mark as heard" marks it heard; "Delete" asks first. The navigation's badge counts the new ones.
"""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from designer import services
from designer.context import AppContext
from designer.services import Voicemail
from designer.ui.frame import ago, clock, empty_state, frame, page_heading, refresh_badge

ALL_FLOWS = ""


def register(ctx: AppContext) -> None:
    @ui.page("/voicemail")
    def voicemail_page(flow: str = ALL_FLOWS) -> None:
        with frame("Voicemail", "Voicemail"):
            VoicemailView(ctx, flow).build()


def length(seconds: int | None) -> str:
    """'42 s', '2 min 5 s'; '—' when the carrier did not say."""
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min {seconds % 60} s"


def caller_text(number: str) -> str:
    return services.format_number(number) if number.isdigit() else number or "unknown caller"


class VoicemailView:
    def __init__(self, ctx: AppContext, flow: str = ALL_FLOWS):
        self.ctx = ctx
        self.flow = flow

    def build(self) -> None:
        with page_heading("Voicemail", "Messages callers left at the Record steps of your flows, newest first. "
                                       "Playing one marks it heard."):
            ui.button("Refresh", icon="refresh", on_click=lambda: self.list_area.refresh()) \
                .props("outline no-caps").mark("refresh")
        self.list_area()

    @ui.refreshable_method
    def list_area(self) -> None:
        messages = services.voicemails(self.ctx)
        refresh_badge()
        if not messages:
            empty_state("voicemail", "No voicemails yet",
                        "When a caller leaves a message at a Record step of a published flow, it appears here "
                        "with a player. To try it offline, call a flow through the local carrier sandbox "
                        "(flexml-designer sandbox).")
            return
        names = services.flow_names(self.ctx)
        by_flow: dict[str, list[Voicemail]] = {}
        for message in messages:
            by_flow.setdefault(message.flow_id, []).append(message)
        options = {ALL_FLOWS: "All flows", **{f: names.get(f, f) for f in by_flow}}
        if self.flow not in options:
            self.flow = ALL_FLOWS

        def choose(e) -> None:
            self.flow = e.value or ALL_FLOWS
            self.list_area.refresh()

        ui.select(options, value=self.flow, label="Flow", on_change=choose).props("outlined dense") \
            .classes("w-64").mark("flow-filter")
        for flow_id, group in by_flow.items():
            if self.flow and flow_id != self.flow:
                continue
            with ui.card().classes("w-full p-4 gap-2").props("flat bordered").mark(f"flow-{flow_id}"):
                with ui.row().classes("items-center gap-2"):
                    ui.icon("account_tree", size="20px").classes("text-primary")
                    ui.label(names.get(flow_id, flow_id)).classes("font-medium")
                    summary = ui.label("").classes("text-sm text-slate-500").mark(f"summary-{flow_id}")
                new = {m.id for m in group if m.new}

                def show(summary=summary, new=new, total=len(group)) -> None:
                    summary.text = f"{total} message{'s' if total != 1 else ''}" + (f", {len(new)} new" if new else "")

                show()
                for message in group:
                    self.message_row(message, lambda m, new=new, show=show: (new.discard(m), show()))

    def message_row(self, message: Voicemail, heard_one: Callable[[int], object]) -> None:
        with ui.row().classes("w-full items-center gap-4 py-2 border-t border-slate-100 no-wrap") \
                .mark(f"vm-{message.id}") as row:
            state = ui.badge("New" if message.new else "Heard") \
                .props(f"color={'primary' if message.new else 'grey-6'}").classes("w-14 justify-center") \
                .mark(f"state-{message.id}")
            with ui.column().classes("gap-0 w-48"):
                ui.label(caller_text(message.caller)).classes("font-medium text-slate-800").mark(f"caller-{message.id}")
                ui.label(f"{clock(message.at)} · {ago(message.at)}").classes("text-xs text-slate-500")
            ui.label(length(message.duration)).classes("text-sm text-slate-600 w-20").mark(f"length-{message.id}")
            player = ui.audio(message.url).classes("grow").mark(f"audio-{message.id}")
            player.props(f'data-voicemail="{message.id}" preload="metadata"')
            heard = ui.button("Mark as heard", icon="done", on_click=lambda: mark_heard()) \
                .props("flat dense no-caps").mark(f"heard-{message.id}")
            heard.set_visibility(message.new)
            ui.button(icon="delete", on_click=lambda: self.confirm_delete(message, row)) \
                .props("flat dense round color=negative").tooltip("Delete this message") \
                .mark(f"delete-{message.id}")

        def mark_heard() -> None:
            if state.text == "Heard":
                return
            services.mark_voicemail_heard(self.ctx, message.id)
            state.text = "Heard"
            state.props("color=grey-6")
            heard.set_visibility(False)
            heard_one(message.id)
            refresh_badge()

        player.on("play", mark_heard)  # listening to it is hearing it

    def confirm_delete(self, message: Voicemail, row: ui.row) -> None:
        with ui.dialog() as dialog, ui.card().classes("p-4 gap-3"):
            ui.label(f"Delete the message from {caller_text(message.caller)} ({clock(message.at)})?") \
                .classes("font-medium")
            ui.label("It is removed from this inbox; the recording stays in the carrier's storage.") \
                .classes("text-sm text-slate-500")
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps").mark("cancel-delete")

                def delete() -> None:
                    services.delete_voicemail(self.ctx, message.id)
                    dialog.close()
                    ui.notify("Message deleted", type="positive")
                    self.list_area.refresh()

                ui.button("Delete", icon="delete", on_click=delete).props("unelevated no-caps color=negative") \
                    .mark("confirm-delete")
        dialog.open()
