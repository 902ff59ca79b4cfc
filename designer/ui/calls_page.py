"""The calls page (``/calls``): every call the host answered, filtered, charted per day, downloadable.

Filters (flow, number, period, outcome, test or real) narrow both the chart of calls per day by
outcome and the list below it, which is read a page at a time from the store's call list. The CSV
download holds every call the filters match. Opening a call shows it in its flow's editor.
"""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

from nicegui import ui

from designer import services
from designer.context import AppContext
from designer.services import OUTCOME_LABELS, CallFilter, ServiceError
from designer.ui.frame import clock, empty_state, frame, page_heading

OUTCOME_COLORS = {"completed": "#16a34a", "busy": "#f59e0b", "noanswer": "#fb923c", "cancel": "#94a3b8",
                  "failed": "#dc2626", "error": "#9f1239", "ended": "#0ea5e9", "in progress": "#6366f1",
                  "other": "#64748b"}
BADGE_COLORS = {"completed": "positive", "busy": "warning", "noanswer": "warning", "cancel": "grey-7",
                "failed": "negative", "error": "negative", "ended": "info", "in progress": "primary",
                "other": "grey-7"}
KINDS = {"all": "Real and test calls", "real": "Real calls", "test": "Test calls"}
PATH_SHOWN = 8
PAGE_SIZE = 25
DEFAULT_DAYS = 30  # the period shown at first: the last 30 days, today included


def register(ctx: AppContext) -> None:
    @ui.page("/calls")
    def calls_page() -> None:
        with frame("Calls", "Calls"):
            CallsView(ctx).build()


class CallsView:
    """One tab's Calls page: its filters, the page of the list shown, and the clock it reads (``now``)."""

    def __init__(self, ctx: AppContext, now: Any = None):
        self.ctx = ctx
        self.now = now or time.time  # injectable: tests choose when "now" is
        today = date.fromtimestamp(self.now())
        self.first, self.last = today - timedelta(days=DEFAULT_DAYS - 1), today
        self.page = 1

    def build(self) -> None:
        with page_heading("Calls", "Every call the host answered, newest first. Open one to see its path."):
            ui.space()
            ui.button("Download CSV", icon="download", on_click=self.download) \
                .props("outline no-caps").mark("download-csv")
            ui.button("Refresh", icon="refresh", on_click=self.refresh).props("outline no-caps").mark("refresh")
        self.filters()
        self.message = ui.label("").classes("text-sm text-negative").mark("filter-error")
        self.message.set_visibility(False)
        self.chart_area()
        self.list_area()

    # --- filters ------------------------------------------------------------------------------------

    def filters(self) -> None:
        flows = {"": "All flows", **services.flow_names(self.ctx)}
        outcomes = {"": "Any outcome", **OUTCOME_LABELS}
        with ui.row().classes("w-full items-end gap-3").mark("filters"):
            self.flow = ui.select(flows, value="", label="Flow", on_change=self.refresh) \
                .props("outlined dense options-dense").classes("w-48").mark("filter-flow")
            self.number = ui.input("Number", placeholder="caller or number called") \
                .props("outlined dense clearable").classes("w-48").mark("filter-number")
            self.number.on("keydown.enter", self.refresh)
            self.number.on("blur", self.refresh)
            self.since = ui.input("From", value=self.first.isoformat(), on_change=self.refresh) \
                .props("outlined dense type=date").classes("w-40").mark("filter-since")
            self.until = ui.input("To", value=self.last.isoformat(), on_change=self.refresh) \
                .props("outlined dense type=date").classes("w-40").mark("filter-until")
            self.outcome = ui.select(outcomes, value="", label="Outcome", on_change=self.refresh) \
                .props("outlined dense options-dense").classes("w-40").mark("filter-outcome")
            self.kind = ui.select(KINDS, value="all", label="Calls", on_change=self.refresh) \
                .props("outlined dense options-dense").classes("w-44").mark("filter-kind")

    def chosen(self) -> tuple[CallFilter, date, date]:
        """The filter the fields describe, and its period; ServiceError naming the field that is wrong."""
        first, last = _day(self.since.value, "From"), _day(self.until.value, "To")
        kind = self.kind.value
        where = CallFilter(flow_id=self.flow.value or None, number=(self.number.value or "").strip(),
                           outcome=self.outcome.value or None,
                           test=None if kind == "all" else kind == "test")
        return services.period_filter(where, first, last), first, last

    def refresh(self, *_: Any) -> None:
        self.page = 1
        self.chart_area.refresh()
        self.list_area.refresh()

    def _chosen_or_say(self) -> tuple[CallFilter, date, date] | None:
        try:
            chosen = self.chosen()
        except ServiceError as exc:
            self.message.text = str(exc)
            self.message.set_visibility(True)
            return None
        self.message.set_visibility(False)
        return chosen

    # --- the chart ----------------------------------------------------------------------------------

    @ui.refreshable_method
    def chart_area(self) -> None:
        chosen = self._chosen_or_say()
        if chosen is None:
            return
        where, first, last = chosen
        days = services.calls_per_day(self.ctx, where, first, last, now=self.now())
        shown = [o for o in OUTCOME_LABELS if any(o in counts for counts in days.values())]
        total = sum(sum(c.values()) for c in days.values())
        options = {
            "animation": False,
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {"top": 0, "data": [OUTCOME_LABELS[o] for o in shown]},
            "grid": {"left": 40, "right": 16, "top": 36, "bottom": 28},
            "xAxis": {"type": "category", "data": [f"{d:%d %b}" for d in days]},
            "yAxis": {"type": "value", "minInterval": 1},
            "series": [{"name": OUTCOME_LABELS[o], "type": "bar", "stack": "calls",
                        "itemStyle": {"color": OUTCOME_COLORS[o]},
                        "data": [counts.get(o, 0) for counts in days.values()]} for o in shown],
        }
        with ui.card().classes("w-full p-3 gap-1").props("flat bordered"):
            ui.label(f"{total:,} call{'s' if total != 1 else ''} from {first:%d %b %Y} to {last:%d %b %Y}, "
                     "by outcome").classes("text-sm text-slate-600").mark("chart-title")
            self.chart = ui.echart(options).classes("w-full h-56").mark("calls-chart")

    # --- the list -----------------------------------------------------------------------------------

    @ui.refreshable_method
    def list_area(self) -> None:
        services.flush_call_events(self.ctx, timeout=0.5)  # calls that just ended show at once
        chosen = self._chosen_or_say()
        if chosen is None:
            return
        where = chosen[0]
        now = self.now()
        calls, total = services.find_calls(self.ctx, where, offset=(self.page - 1) * PAGE_SIZE, limit=PAGE_SIZE,
                                           now=now)
        if not total and not services.find_calls(self.ctx, CallFilter(), limit=1)[1]:
            empty_state("call", "No calls yet", "Calls to your published flows appear here, with the steps each "
                        "caller went through. Place a test call from a flow's Test tab to try it.")
            return
        if not total:
            empty_state("filter_alt_off", "No call matches", "No call matches these filters; widen the period or "
                        "clear a filter.")
            return
        names = services.flow_names(self.ctx)
        columns = [
            {"name": "time", "label": "Time", "field": "time", "align": "left"},
            {"name": "from", "label": "From", "field": "from", "align": "left"},
            {"name": "to", "label": "To", "field": "to", "align": "left"},
            {"name": "flow", "label": "Flow", "field": "flow", "align": "left"},
            {"name": "rev", "label": "Revision", "field": "rev", "align": "center"},
            {"name": "status", "label": "Status", "field": "status", "align": "left"},
            {"name": "ended", "label": "Ended", "field": "ended", "align": "left"},
            {"name": "duration", "label": "Duration", "field": "duration", "align": "right"},
            {"name": "path", "label": "Path", "field": "path", "align": "left"},
        ]
        rows = [self._row(c, names) for c in calls]
        table = ui.table(columns=columns, rows=rows, row_key="sid").classes("w-full") \
            .props("flat bordered hide-pagination :rows-per-page-options=[0]").mark("calls")
        table.add_slot("body-cell-status", r'''
            <q-td :props="props">
              <q-badge outline :color="props.row.color" :label="props.value" />
              <q-badge v-if="props.row.test" class="q-ml-xs" color="grey-6" label="test" />
            </q-td>''')
        table.add_slot("body-cell-path", r'''
            <q-td :props="props" class="font-mono text-xs" style="white-space: normal">{{ props.value }}</q-td>''')
        table.on("rowClick", lambda e: self.open(e.args[1]))
        table.props("row-class=cursor-pointer")
        pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
        with ui.row().classes("w-full items-center gap-3"):
            start = (self.page - 1) * PAGE_SIZE + 1
            ui.label(f"Calls {start:,}–{start + len(calls) - 1:,} of {total:,}").classes("text-sm text-slate-600") \
                .mark("calls-count")
            ui.space()
            if pages > 1:
                ui.pagination(1, pages, direction_links=True, value=self.page, on_change=self._go) \
                    .props("max-pages=7 boundary-numbers").mark("calls-pages")

    def _go(self, e: Any) -> None:
        if e.value and e.value != self.page:
            self.page = int(e.value)
            self.list_area.refresh()

    def _row(self, c: dict, names: dict[str, str]) -> dict:
        path = c["path"]
        shown = " → ".join(path[:PATH_SHOWN]) + (f" … (+{len(path) - PATH_SHOWN})" if len(path) > PATH_SHOWN else "")
        outcome = c["outcome"]
        if c["status_at"]:
            ended = clock(c["status_at"])
        elif outcome in ("ended", "error"):
            ended = clock(c["last_request"] or c["ended"])  # no callback: the time of its last request
        else:
            ended = "—"
        if c["duration"]:
            duration = f"{c['duration']} s"
        elif outcome in ("ended", "error") and c["last_request"]:
            duration = f"≥ {round(c['last_request'] - c['started'])} s"  # at least until its last request
        else:
            duration = "—"
        return {
            "sid": c["call_sid"], "flow_id": c["flow_id"], "time": clock(c["started"]),
            "from": _number(c["from"]), "to": _number(c["to"]),
            "flow": names.get(c["flow_id"], c["flow_id"] or "—"), "rev": c["rev"] or "—",
            "status": OUTCOME_LABELS.get(outcome, outcome), "color": BADGE_COLORS.get(outcome, "primary"),
            "test": c["test"], "ended": ended, "duration": duration, "path": shown or "—",
        }

    def download(self) -> None:
        chosen = self._chosen_or_say()
        if chosen is None:
            return
        where, first, last = chosen
        data = services.calls_csv(self.ctx, where, now=self.now())
        ui.download.content(data, f"calls-{first:%Y%m%d}-{last:%Y%m%d}.csv", "text/csv")

    def open(self, row: dict) -> None:
        if not row.get("flow_id") or services.find_flow(self.ctx, row["flow_id"]) is None:
            ui.notify("That flow no longer exists", type="warning")
            return
        ui.navigate.to(f"/flows/{row['flow_id']}?call={row['sid']}")


def _number(text: str) -> str:
    return services.format_number(text) if text.isdigit() else text or "—"


def _day(text: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(text or "").strip())
    except ValueError:
        raise ServiceError(f"{field}: {str(text or '')[:40]!r} is not a date; pick one like "
                           f"{date.today():%Y-%m-%d}") from None
