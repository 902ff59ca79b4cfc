"""A plain flow page for ``/flows/{id}`` used only while the canvas editor (``designer.ui.editor``) is absent.

It lists the steps and mounts the Publish and Test call tabs, so a flow can
be published and test-called from any build of the designer.
"""

from __future__ import annotations

from nicegui import ui

from ..context import AppContext
from .editor_state import EditorState, FlowNotFound
from .frame import empty_state, frame, sentence
from .publish import publish_panel
from .testcall import test_call_panel


def register(ctx: AppContext) -> None:
    @ui.page("/flows/{flow_id}")
    def flow_page(flow_id: str, call: str = "") -> None:
        try:
            editor = EditorState(ctx, flow_id)
        except FlowNotFound as exc:
            with frame("Flow not found", "Flows"):
                empty_state("search_off", "Flow not found", sentence(str(exc)))
                ui.link("Back to flows", "/")
            return
        with frame(editor.name, "Flows"):
            ui.label(editor.name).classes("text-2xl font-semibold")
            with ui.row().classes("w-full gap-6 items-start no-wrap"):
                with ui.column().classes("grow gap-1").mark("steps"):
                    for node, data in editor.graph.nodes(data=True):
                        ui.label(f"{node}: {data.get('type')} {data.get('text') or ''}").classes("text-sm")
                with ui.card().classes("w-[26rem] p-3").props("flat bordered"):
                    with ui.tabs().classes("w-full") as tabs:
                        publish_tab = ui.tab("Publish", icon="rocket_launch")
                        test_tab = ui.tab("Test call", icon="call")
                    with ui.tab_panels(tabs, value=publish_tab).classes("w-full"):
                        with ui.tab_panel(publish_tab):
                            publish_panel(ctx, editor)
                        with ui.tab_panel(test_tab):
                            test_call_panel(ctx, editor)
