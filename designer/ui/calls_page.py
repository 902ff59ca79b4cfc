"""The calls page (``/calls``): recent calls from the host's log, with the path of steps each took."""

from __future__ import annotations

from nicegui import ui

from designer import services
from designer.context import AppContext
from designer.ui.frame import clock, empty_state, frame, page_heading

STATUS_COLORS = {"completed": "positive", "busy": "warning", "noanswer": "warning", "cancel": "grey-7",
                 "failed": "negative"}
PATH_SHOWN = 8


def register(ctx: AppContext) -> None:
    @ui.page("/calls")
    def calls_page() -> None:
        with frame("Calls", "Calls"):
            CallsView(ctx).build()


class CallsView:
    def __init__(self, ctx: AppContext):
        self.ctx = ctx

    def build(self) -> None:
        with page_heading("Calls", "Recent calls answered by this host, newest first. Open one to see its path."):
            ui.button("Refresh", icon="refresh", on_click=lambda: self.list_area.refresh()) \
                .props("outline no-caps").mark("refresh")
        self.list_area()

    @ui.refreshable_method
    def list_area(self) -> None:
        services.flush_call_events(self.ctx, timeout=0.5)  # calls that just ended show at once
        calls = [c for c in services.recent_calls(self.ctx, limit=100) if c["call_sid"]]
        if not calls:
            empty_state("call", "No calls yet", "Calls to your published flows appear here, with the steps each "
                        "caller went through. Place a test call from a flow's Test tab to try it.")
            return
        names = services.flow_names(self.ctx)
        columns = [
            {"name": "time", "label": "Time", "field": "time", "align": "left"},
            {"name": "from", "label": "From", "field": "from", "align": "left"},
            {"name": "to", "label": "To", "field": "to", "align": "left"},
            {"name": "flow", "label": "Flow", "field": "flow", "align": "left"},
            {"name": "rev", "label": "Revision", "field": "rev", "align": "center"},
            {"name": "status", "label": "Status", "field": "status", "align": "left"},
            {"name": "duration", "label": "Duration", "field": "duration", "align": "right"},
            {"name": "path", "label": "Path", "field": "path", "align": "left"},
        ]
        rows = []
        for c in calls:
            path = c["path"]
            shown = " → ".join(path[:PATH_SHOWN]) + (f" … (+{len(path) - PATH_SHOWN})" if len(path) > PATH_SHOWN
                                                       else "")
            rows.append({
                "sid": c["call_sid"], "flow_id": c["flow_id"], "time": clock(c["started"]),
                "from": services.format_number(c["from"]) if c["from"].isdigit() else c["from"] or "—",
                "to": services.format_number(c["to"]) if c["to"].isdigit() else c["to"] or "—",
                "flow": names.get(c["flow_id"], c["flow_id"] or "—"), "rev": c["rev"] or "—",
                "status": c["status"] or "in progress", "color": STATUS_COLORS.get(c["status"], "primary"),
                "duration": f"{c['duration']} s" if c["duration"] else "—", "path": shown or "—",
            })
        table = ui.table(columns=columns, rows=rows, row_key="sid", pagination=25) \
            .classes("w-full").props("flat bordered").mark("calls")
        table.add_slot("body-cell-status", r'''
            <q-td :props="props"><q-badge outline :color="props.row.color" :label="props.value" /></q-td>''')
        table.add_slot("body-cell-path", r'''
            <q-td :props="props" class="font-mono text-xs" style="white-space: normal">{{ props.value }}</q-td>''')
        table.on("rowClick", lambda e: self.open(e.args[1]))
        table.props("row-class=cursor-pointer")

    def open(self, row: dict) -> None:
        if not row.get("flow_id") or services.find_flow(self.ctx, row["flow_id"]) is None:
            ui.notify("That flow no longer exists", type="warning")
            return
        ui.navigate.to(f"/flows/{row['flow_id']}?call={row['sid']}")
