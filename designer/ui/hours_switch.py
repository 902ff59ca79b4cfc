"""The operator's switch of a flow's business-hours steps, on the Flows page.

"Closed now" / "Open now" overrides the schedule until a chosen time or until
switched back, without editing or republishing; the next call follows it
(through ``designer.services``). Times are read in the step's own time zone.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from nicegui import ui

from compiler.decisions import at_time, step_zone

from designer import services
from designer.context import AppContext
from designer.services import ServiceError
from designer.ui.frame import sentence

SCHEDULE = "schedule"
CHOICES = {SCHEDULE: "Follow the schedule", "closed": "Closed now", "open": "Open now"}


def hours_switches(ctx: AppContext, flow_id: str) -> None:
    """One switch per Hours step of the flow (nothing when it has none)."""
    nodes = services.hours_steps(ctx, flow_id)
    if not nodes:
        return
    graph = services.draft_graph(ctx, flow_id)
    flow_zone = graph.graph.get("timezone") if isinstance(graph.graph.get("timezone"), str) else None
    with ui.column().classes("w-full gap-1 mt-2 pt-2 border-t border-slate-100").mark(f"switches-{flow_id}"):
        for node in nodes:
            HoursSwitch(ctx, flow_id, node, graph.nodes[node], flow_zone).build()


class HoursSwitch:
    """The switch of one Hours step, showing what it decides now."""

    def __init__(self, ctx: AppContext, flow_id: str, node: str, data: dict, flow_zone: str | None) -> None:
        self.ctx, self.flow_id, self.node, self.data, self.flow_zone = ctx, flow_id, node, data, flow_zone
        self.zone = step_zone(data, flow_zone)

    @property
    def mark(self) -> str:
        return f"switch-{self.flow_id}-{self.node}"

    def build(self) -> None:
        current = services.hours_overrides(self.ctx, self.flow_id).get(self.node)
        with ui.row().classes("w-full items-center gap-3").mark(self.mark):
            ui.icon("schedule", size="20px").classes("text-slate-500")
            ui.label(f"Business hours “{self.node}”").classes("text-sm font-medium text-slate-700")
            # a button group: the choice in force is filled, the others outlined
            self.toggle = ui.toggle(CHOICES, value=current.state if current else SCHEDULE,
                                    on_change=lambda _: self.apply()) \
                .props("dense no-caps unelevated color=white text-color=grey-9 toggle-color=primary "
                       "toggle-text-color=white padding='4px 14px'") \
                .classes("border border-slate-300 rounded-md overflow-hidden divide-x divide-slate-300") \
                .mark(f"{self.mark}-state")
            self.until = ui.input(f"until, {self.zone} time (empty: until switched back)",
                                  value=self._shown(current.until) if current and current.until else "",
                                  on_change=lambda _: self.toggle.value != SCHEDULE and self.apply()) \
                .props(f"dense type=datetime-local stack-label clearable") \
                .classes("w-72").mark(f"{self.mark}-until")
        self.status = ui.label("").classes("text-xs text-slate-600 ml-8").mark(f"{self.mark}-now")
        self.show()

    def _shown(self, until: float) -> str:
        return f"{datetime.fromtimestamp(until, ZoneInfo(self.zone)):%Y-%m-%dT%H:%M}"

    def apply(self) -> None:
        state = self.toggle.value
        try:
            if state == SCHEDULE:
                services.clear_hours_override(self.ctx, self.flow_id, self.node)
            else:
                text = (self.until.value or "").strip()
                until = at_time(text, self.zone).timestamp() if text else None
                services.set_hours_override(self.ctx, self.flow_id, self.node, state, until)
        except (ServiceError, ValueError) as exc:
            ui.notify(f"Business hours “{self.node}”: {sentence(str(exc))}", type="warning")
        self.show()

    def show(self) -> None:
        decided, reason = services.hours_now(self.ctx, self.flow_id, self.node, self.data, self.flow_zone)
        self.status.text = f"Calls now: {reason}. A switch takes effect on the next call."  # the reason
        # starts with the path taken: "closed: outside opening hours (…)"
