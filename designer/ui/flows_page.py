"""The flows page (``/``): every flow with its state, and how to start a new one."""

from __future__ import annotations

from nicegui import events, ui

from designer import services
from designer.context import AppContext
from designer.services import FlowRow, ServiceError
from designer.ui.downloads import download_bundle, download_flow_file
from designer.ui.hours_switch import hours_switches
from designer.ui.frame import ago, empty_state, frame, page_heading, sentence

SEARCH_FROM = 6  # show the search box once the list is this long
FIRST_STEPS = (
    ("touch_app", "Open an example below"),
    ("call", "Test call: answer the menu with the keypad"),
    ("rocket_launch", "Publish, then paste the URL at your carrier"),
)


def register(ctx: AppContext) -> None:
    @ui.page("/")
    def flows_page() -> None:
        with frame("Flows", "Flows"):
            FlowsView(ctx).build()


class FlowsView:
    """One browser tab's flows list (its own search text and dialogs)."""

    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self.query = ""

    def build(self) -> None:
        heading = page_heading("Flows", "Call flows you draw, test and publish to your phone numbers.")
        with heading:
            self.search = ui.input(placeholder="Search flows", on_change=self._search) \
                .props("dense outlined clearable").classes("w-64").mark("search")
            ui.button("Import", icon="upload_file", on_click=self.import_dialog) \
                .props("outline no-caps").mark("import")
            ui.button("New flow", icon="add", on_click=self.new_dialog).props("unelevated no-caps").mark("new-flow")
        self.list_area()
        self.examples_area()

    # --- the list ----------------------------------------------------------------------

    def _search(self, e: events.ValueChangeEventArguments) -> None:
        self.query = (e.value or "").strip().lower()
        self.list_area.refresh()

    @ui.refreshable_method
    def list_area(self) -> None:
        rows = services.flow_rows(self.ctx)
        self.search.set_visibility(len(rows) >= SEARCH_FROM)
        if not rows:
            with empty_state("account_tree", "No flows yet",
                             "A flow is what callers hear and do when they call one of your numbers. "
                             "Start from one of the examples below, or draw your own."):
                ui.button("New flow", icon="add", on_click=self.new_dialog) \
                    .props("unelevated no-caps size=lg").classes("mt-2").mark("new-flow-empty")
                with ui.row().classes("gap-6 mt-4 text-sm text-slate-600 justify-center"):
                    for n, (icon, text) in enumerate(FIRST_STEPS, start=1):
                        with ui.row().classes("items-center gap-2 no-wrap"):
                            ui.label(str(n)).classes("w-6 h-6 rounded-full bg-primary text-white text-xs "
                                                     "flex items-center justify-center")
                            ui.icon(icon, size="18px").classes("text-slate-500")
                            ui.label(text)
            return
        shown = [r for r in rows if self.query in f"{r.name} {r.id} {' '.join(r.numbers)}".lower()]
        if not shown:
            ui.label(f"No flow matches “{self.query}”.").classes("text-slate-500 py-4").mark("no-match")
            return
        with ui.column().classes("w-full gap-2"):
            for row in shown:
                self.flow_card(row)

    def flow_card(self, row: FlowRow) -> None:
        with ui.card().classes("w-full px-4 py-3").props("flat bordered").mark(f"flow-{row.id}"):
            with ui.row().classes("w-full items-center gap-4 no-wrap"):
                ui.icon("account_tree", size="28px").classes("text-primary")
                with ui.column().classes("gap-0 min-w-0 grow"):
                    ui.link(row.name, f"/flows/{row.id}") \
                        .classes("text-base font-medium text-slate-900 no-underline hover:underline truncate")
                    ui.label(f"{row.id} · {row.steps} step{'s' if row.steps != 1 else ''} · "
                             f"changed {ago(row.updated_at)}").classes("text-xs text-slate-500")
                with ui.row().classes("gap-1 items-center"):
                    for number in row.numbers[:3]:
                        ui.chip(services.format_number(number), icon="phone").props("dense outline color=primary")
                    if len(row.numbers) > 3:
                        ui.chip(f"+{len(row.numbers) - 3} more").props("dense outline")
                if row.published_rev:
                    ui.badge(f"Published · revision {row.published_rev}", color="positive") \
                        .props("outline").classes("px-2 py-1")
                    if row.unpublished:
                        ui.badge("Unpublished changes", color="warning") \
                            .props(f"outline data-testid=unpublished-{row.id}").classes("px-2 py-1") \
                            .mark(f"unpublished-{row.id}") \
                            .tooltip("The draft has changed since this revision; publish to make it live")
                else:
                    ui.badge("Draft, not published", color="grey-7").props("outline").classes("px-2 py-1")
                ui.button("Open", icon="edit", on_click=lambda r=row: ui.navigate.to(f"/flows/{r.id}")) \
                    .props("flat no-caps color=primary").mark(f"open-{row.id}")
                with ui.button(icon="more_vert").props("flat round dense color=secondary") \
                        .mark(f"menu-{row.id}"):
                    with ui.menu():
                        ui.menu_item("Rename…", lambda r=row: self.rename_dialog(r)).mark(f"rename-{row.id}")
                        ui.menu_item("Duplicate", lambda r=row: self.duplicate(r)).mark(f"duplicate-{row.id}")
                        ui.menu_item("Download flow file", lambda r=row: download_flow_file(self.ctx, r.id)) \
                            .mark(f"download-flow-{row.id}")
                        if row.published_rev:
                            ui.menu_item("Download bundle (.zip)", lambda r=row: download_bundle(self.ctx, r.id)) \
                                .mark(f"download-bundle-{row.id}")
                        ui.separator()
                        ui.menu_item("Delete…", lambda r=row: self.delete_dialog(r)) \
                            .classes("text-negative").mark(f"delete-{row.id}")
            hours_switches(self.ctx, row.id)

    # --- examples ----------------------------------------------------------------------

    @ui.refreshable_method
    def examples_area(self) -> None:
        ui.label("Start from an example").classes("text-lg font-medium text-slate-800 mt-2")
        with ui.row().classes("w-full gap-4 items-stretch"):
            for name, description in services.examples().items():
                graph_title = services.example_title(name)
                with ui.card().classes("w-72 p-4 gap-2").props("flat bordered").mark(f"example-{name}"):
                    with ui.row().classes("items-center gap-2 no-wrap"):
                        ui.icon(services.example_icon(name), size="24px").classes("text-primary")
                        ui.label(graph_title).classes("font-medium text-slate-900")
                    ui.label(description).classes("text-sm text-slate-500 grow")
                    ui.button("Use this example", icon="arrow_forward",
                              on_click=lambda n=name: self.from_example(n)) \
                        .props("outline no-caps color=primary").mark(f"use-{name}")

    def from_example(self, name: str) -> None:
        try:
            record = services.create_from_example(self.ctx, name)
        except ServiceError as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify(f"Created “{record.name}” from the example", type="positive")
        ui.navigate.to(f"/flows/{record.id}")

    # --- dialogs and actions -----------------------------------------------------------

    def new_dialog(self) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96 gap-3"):
            ui.label("New flow").classes("text-lg font-medium")
            name = ui.input("Name", placeholder="e.g. Main line").props("autofocus").classes("w-full").mark("new-name")
            ui.label("It starts with one greeting; add steps from the palette.").classes("text-sm text-slate-500")

            def create() -> None:
                try:
                    record = services.create_blank(self.ctx, name.value or "")
                except ServiceError as exc:
                    name.props(f'error error-message="{_attr(sentence(str(exc)))}"')
                    return
                dialog.close()
                ui.notify(f"Created “{record.name}”", type="positive")
                ui.navigate.to(f"/flows/{record.id}")

            name.on("keydown.enter", create)
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Create", on_click=create).props("unelevated no-caps").mark("create")
        dialog.open()

    def rename_dialog(self, row: FlowRow) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96 gap-3"):
            ui.label("Rename flow").classes("text-lg font-medium")
            name = ui.input("Name", value=row.name).props("autofocus").classes("w-full").mark("rename-name")
            ui.label(f"Its address stays /flexml/{row.id}.").classes("text-sm text-slate-500")

            def save() -> None:
                try:
                    record = services.rename(self.ctx, row.id, name.value or "")
                except ServiceError as exc:
                    name.props(f'error error-message="{_attr(sentence(str(exc)))}"')
                    return
                dialog.close()
                ui.notify(f"Renamed to “{record.name}”", type="positive")
                self.list_area.refresh()

            name.on("keydown.enter", save)
            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Rename", on_click=save).props("unelevated no-caps").mark("rename-save")
        dialog.open()

    def duplicate(self, row: FlowRow) -> None:
        try:
            record = services.duplicate(self.ctx, row.id)
        except ServiceError as exc:
            ui.notify(str(exc), type="negative")
            return
        ui.notify(f"Created “{record.name}”", type="positive")
        self.list_area.refresh()

    def delete_dialog(self, row: FlowRow) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-[28rem] gap-3"):
            with ui.row().classes("items-center gap-2"):
                ui.icon("warning", size="28px").classes("text-negative")
                ui.label(f"Delete “{row.name}”?").classes("text-lg font-medium")
            consequences = ["its drafts and every published revision are deleted"]
            if row.numbers:
                numbers = ", ".join(services.format_number(n) for n in row.numbers)
                consequences.append(f"calls to {numbers} will no longer be answered by it")
            elif row.published_rev:
                consequences.append(f"the host stops answering /flexml/{row.id}")
            ui.label("This cannot be undone: " + "; ".join(consequences) + ".").classes("text-sm text-slate-600")

            def confirm() -> None:
                try:
                    services.delete(self.ctx, row.id)
                except ServiceError as exc:
                    ui.notify(str(exc), type="negative")
                    return
                dialog.close()
                ui.notify(f"Deleted “{row.name}”", type="positive")
                self.list_area.refresh()

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps").mark("delete-cancel")
                ui.button("Delete", icon="delete", on_click=confirm).props("unelevated no-caps color=negative") \
                    .mark("delete-confirm")
        dialog.open()

    def import_dialog(self) -> None:
        kinds = "a flow file (.json), an exported bundle (.zip) or a FlexML or TwiML document (.xml)"
        with ui.dialog() as dialog, ui.card().classes("w-[30rem] gap-3"):
            ui.label("Import a flow").classes("text-lg font-medium")
            ui.label(f"Choose {kinds}. It is added as a new flow.").classes("text-sm text-slate-500")
            error = ui.label("").classes("text-sm text-negative").mark("import-error")

            async def received(e: events.UploadEventArguments) -> None:
                data = await e.file.read()
                try:
                    record, notes = services.import_flow(self.ctx, data, e.file.name)
                except ServiceError as exc:
                    error.text = f"Could not import: {exc}"
                    upload.reset()
                    return
                dialog.close()
                ui.notify(f"Imported “{record.name}”", type="positive")
                self.list_area.refresh()
                if notes:
                    self.import_notes_dialog(record.name, notes)

            upload = ui.upload(on_upload=received, auto_upload=True, max_file_size=services.MAX_UPLOAD_BYTES,
                               on_rejected=lambda: setattr(error, "text", "That file is too large to import.")) \
                .props('accept=".json,.zip,.xml,application/json,application/zip,text/xml" flat bordered') \
                .classes("w-full").mark("upload")
            with ui.row().classes("w-full justify-end"):
                ui.button("Close", on_click=dialog.close).props("flat no-caps")
        dialog.open()

    def import_notes_dialog(self, name: str, notes: list[str]) -> None:
        """What the importer changed, kept aside or could not map: shown, never dropped silently."""
        with ui.dialog() as dialog, ui.card().classes("w-[36rem] gap-2").mark("import-notes"):
            ui.label(f"Imported “{name}” — {len(notes)} note(s)").classes("text-lg font-medium")
            ui.label("Check these steps in the editor:").classes("text-sm text-slate-500")
            with ui.scroll_area().classes("w-full max-h-80"):
                for note in notes:
                    ui.label(note).classes("text-sm").mark("import-note")
            with ui.row().classes("w-full justify-end"):
                ui.button("OK", on_click=dialog.close).props("unelevated no-caps")
        dialog.open()



def _attr(text: str) -> str:
    return text.replace('"', "'")
