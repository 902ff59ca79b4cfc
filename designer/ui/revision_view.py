"""A published revision on the canvas, read-only: a call's path and timeline (``/flows/{id}?call=SID``), or the
traffic of a revision over a period (``/flows/{id}?traffic=1&rev=N&days=30``).

A call is drawn on the revision it ran on, never on the draft: the draft may say something else by now. The
toolbar says which revision this is and that it cannot be edited here, with a way back to the draft.
"""

from __future__ import annotations

import time
import uuid

from nicegui import ui

from designer import services
from designer.context import AppContext
from designer.ui import frame
from compiler.layout import apply_layout, overlapping
from designer.ui.canvas import FlowCanvas, graph_view

ICONS = {"step": "radio_button_checked", "keys": "dialpad", "sms": "sms", "transfer": "phone_forwarded",
         "recording": "mic", "decision": "call_split", "status": "flag", "error": "error", "end": "call_end"}
DEFAULT_DAYS = 30
TIMELINE_SHOWN = 400  # lines of a timeline drawn (a call with thousands of requests is not a real call)


class RevisionView:
    """One tab showing a revision read-only, with the call's timeline or the traffic panel beside it."""

    def __init__(self, ctx: AppContext, flow_id: str, call: str | None = None, rev: str | None = None,
                 days: int = DEFAULT_DAYS) -> None:
        self.ctx = ctx
        self.flow_id = flow_id
        self.call = call
        self.rev = rev
        self.days = days if days in services.TRAFFIC_PERIODS else DEFAULT_DAYS
        self.timeline = None
        self.ready = False  # the browser's canvas is mounted
        self.marks: dict | None = None  # the traffic numbers the canvas shows

    def build(self) -> None:
        record = services.find_flow(self.ctx, self.flow_id)
        frame.header("Flows")
        if record is None:
            with ui.column().classes("p-8 gap-2"):
                ui.label("This flow cannot be opened").classes("text-xl font-semibold")
                ui.label(f"there is no flow {self.flow_id!r}")
                ui.link("Back to the flows", "/")
            return
        self.name = record.name
        if self.call:
            self.timeline = services.call_timeline(self.ctx, self.call)
            self.rev = self.timeline.rev or None
        elif not self.rev:
            self.rev = str(record.published_rev) if record.published_rev else None
        ui.page_title(f"{record.name} · revision {self.rev or '?'} · FlexML Designer")
        ui.context.client.content.classes("p-0 gap-0")
        graph = services.viewed_revision(self.ctx, self.flow_id, self.rev) if self.rev else None
        if graph is not None and overlapping(graph):
            apply_layout(graph)  # drawn as the editor draws it: steps without room laid out (nothing is saved)
        with ui.column().classes("w-full gap-0 no-wrap").style("height: calc(100vh - 57px)"):
            self._toolbar(record, graph is not None)
            with ui.row().classes("w-full flex-1 no-wrap gap-0 min-h-0"):
                with ui.element("div").classes("flex-1 h-full min-w-0 relative"):
                    if graph is not None:
                        nodes, edges = graph_view(graph)
                        self.canvas = FlowCanvas(f"rev-{uuid.uuid4().hex[:8]}",
                                                 {"nodes": list(nodes.values()), "edges": list(edges.values()),
                                                  "badges": {}}, readonly=True)
                        self.canvas.on("ready", lambda e: self._ready())
                    else:
                        self.canvas = None
                        self._gone()
                with ui.column().classes("fc-side h-full gap-2 border-l bg-white no-wrap shrink-0 overflow-y-auto p-3") \
                        .style("width: clamp(320px, 34vw, 460px)"):
                    if self.call:
                        self._timeline_panel()
                    else:
                        self.traffic_panel = ui.column().classes("w-full gap-2")
        if not self.call:
            self.show_traffic()

    # --- the toolbar: which revision, read-only, back to the draft --------------------------------------------

    def _toolbar(self, record, found: bool) -> None:
        with ui.row().classes("w-full items-center gap-2 px-2 py-1 border-b bg-amber-50 no-wrap"):
            ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to(f"/flows/{self.flow_id}")) \
                .props("flat round dense").tooltip("Back to the draft")
            ui.label(record.name).classes("text-lg font-semibold truncate")
            label = f"Revision {self.rev} · read-only" if found else "Revision not available"
            ui.badge(label, color="warning" if found else "negative").props("data-testid=revision-badge") \
                .classes("text-sm").tooltip("What callers heard then; edit the draft to change the flow")
            if found and record.published_rev and str(record.published_rev) != str(self.rev):
                ui.label(f"(revision {record.published_rev} is published now)").classes("text-xs text-gray-600")
            ui.space()
            if not self.call and found:
                self._traffic_controls(record)
            ui.button("Back to the draft", icon="edit", on_click=lambda: ui.navigate.to(f"/flows/{self.flow_id}")) \
                .props("outline dense no-caps").mark("back-to-draft")

    def _gone(self) -> None:
        with ui.column().classes("absolute inset-0 items-center justify-center gap-2 text-gray-600"):
            ui.icon("history_toggle_off", size="48px")
            if self.call and self.timeline is not None and not self.timeline.found:
                ui.label(f"There is no call {self.call!r} in the call log.").classes("text-lg")
            elif self.rev and not str(self.rev).isdigit():
                ui.label(f"This call ran on {self.rev!r}, not on a published revision: its steps as they were "
                         "then are not kept.").classes("text-lg text-center max-w-lg")
            elif self.rev:
                ui.label(f"Revision {self.rev} of this flow is gone (its flow was deleted and made again?): "
                         "the steps this call took cannot be drawn.").classes("text-lg text-center max-w-lg")
            else:
                ui.label("This flow has no published revision yet: publish it, and calls' traffic shows here.") \
                    .classes("text-lg text-center max-w-lg")

    def _ready(self) -> None:
        self.ready = True
        if self.timeline is not None and self.timeline.path:
            self.canvas.set_path(self.timeline.path)
        if self.marks is not None:
            self.canvas.set_traffic(self.marks)

    # --- a call's timeline -------------------------------------------------------------------------------

    def _timeline_panel(self) -> None:
        t = self.timeline
        ui.label("Call timeline").classes("text-lg font-semibold")
        if not t.found:
            ui.label(f"No events of call {self.call!r} are stored.").classes("text-negative")
            return
        facts = [f"Call {t.call_sid}", f"from {_number(t.caller)} to {_number(t.called)}",
                 f"on revision {t.rev}" + ("" if t.revision_found else " (no longer stored)"),
                 f"started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(t.started))}"]
        ui.label(" · ".join(facts)).classes("text-sm text-gray-700").props("data-testid=timeline-facts")
        status = (f"Status: {t.status}" + (f", {t.duration} s" if t.duration else "")) if t.status \
            else "No status callback arrived for this call"
        ui.label(status).classes("text-sm font-medium")
        if t.path:
            ui.label(f"Showing the path of call {t.call_sid}: {len(t.path)} steps").classes("text-xs text-gray-500")
        with ui.column().classes("w-full gap-1").props("data-testid=timeline"):
            for entry in t.entries[:TIMELINE_SHOWN]:
                with ui.row().classes("w-full items-start no-wrap gap-2 py-1 border-b border-gray-100") \
                        .props(f'data-entry="{entry.kind}"'):
                    ui.icon(ICONS.get(entry.kind, "circle"), size="18px").classes("text-gray-600 mt-0.5")
                    with ui.column().classes("gap-0 min-w-0"):
                        ui.label(entry.title).classes("text-sm")
                        if entry.detail:
                            ui.label(entry.detail).classes("text-xs text-gray-600 break-words")
                        if entry.link:
                            ui.link("Listen to the recording", entry.link, new_tab=True).classes("text-xs")
                    ui.space()
                    ui.label(time.strftime("%H:%M:%S", time.localtime(entry.at))).classes("text-xs text-gray-400")
            if len(t.entries) > TIMELINE_SHOWN:
                ui.label(f"… and {len(t.entries) - TIMELINE_SHOWN} more lines").classes("text-sm text-gray-500")

    # --- traffic ---------------------------------------------------------------------------------------------

    def _traffic_controls(self, record) -> None:
        revisions = [str(r.rev) for r in services.revisions(self.ctx, self.flow_id)]
        ui.select({r: f"Revision {r}" for r in revisions}, value=self.rev if self.rev in revisions else None,
                  on_change=lambda e: ui.navigate.to(f"/flows/{self.flow_id}?traffic=1&rev={e.value}&days={self.days}")) \
            .props("dense outlined options-dense").classes("w-36").mark("traffic-revision")
        ui.select({d: label.capitalize() for d, label in services.TRAFFIC_PERIODS.items()}, value=self.days,
                  on_change=lambda e: self._period(e.value)).props("dense outlined options-dense") \
            .classes("w-44").mark("traffic-period")
        self.traffic_switch = ui.switch("Traffic", value=True, on_change=lambda e: self.show_traffic()) \
            .mark("traffic-switch")

    def _period(self, days: int) -> None:
        self.days = int(days)
        self.show_traffic()

    def show_traffic(self) -> None:
        if self.canvas is None:
            return
        self.traffic_panel.clear()
        if not self.traffic_switch.value:
            self._mark({})
            with self.traffic_panel:
                ui.label("Traffic is hidden. Switch it on to see how callers went through this revision.")
            return
        try:
            traffic = services.traffic(self.ctx, self.flow_id, self.rev, self.days)
        except services.ServiceError as exc:
            with self.traffic_panel:
                ui.label(str(exc)).classes("text-negative")
            return
        self._mark({
            "steps": {s: {"reached": t.reached, "ended": t.ended} for s, t in traffic.steps.items()},
            "edges": {f"{s}|{b}": n for (s, b), n in traffic.edges.items()},
            "busiest": traffic.busiest,
        })
        with self.traffic_panel:
            ui.label("Traffic").classes("text-lg font-semibold")
            ui.label(f"Revision {self.rev}, {services.TRAFFIC_PERIODS[self.days]}: {traffic.calls} "
                     f"call{'' if traffic.calls == 1 else 's'}"
                     + (f", {traffic.errors} requests answered with an apology" if traffic.errors else "")) \
                .classes("text-sm").props("data-testid=traffic-summary")
            ui.label("Each step shows how many times callers reached it and how many calls ended there; "
                     "connections are as wide as their use.").classes("text-xs text-gray-600")
            for node, menu in sorted(traffic.menus.items()):
                total = sum(menu.options.values()) + menu.no_input + menu.invalid
                with ui.card().classes("w-full p-2 gap-1").props(f'data-menu="{node}"'):
                    ui.label(f"Menu {node}").classes("font-medium")
                    rows = [(f"pressed {k}", n) for k, n in sorted(menu.options.items())]
                    rows += [("no input", menu.no_input), ("invalid keys", menu.invalid)]
                    for label, n in rows:
                        share = f" ({100 * n / total:.0f}%)" if total else ""
                        ui.label(f"{label}: {n}{share}").classes("text-sm")


    def _mark(self, marks: dict) -> None:
        """Show ``marks`` on the canvas now, or as soon as it is mounted."""
        self.marks = marks
        if self.ready:
            self.canvas.set_traffic(marks)


def _number(digits: str) -> str:
    return services.format_number(digits) if digits.isdigit() else (digits or "unknown")
