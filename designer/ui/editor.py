"""The flow editor page: palette, canvas, and the side panel (properties, problems, preview …).

``register(ctx)`` adds ``/flows/{flow_id}``: the draft, editable. ``?call=<sid>``
shows that call's path and timeline on the revision it ran on, and
``?traffic=1[&rev=N&days=30]`` a revision's traffic, both read-only
(``designer.ui.revision_view``). Each open tab gets its own ``EditorState``; the
shell's Publish and Test call panels are mounted when their modules exist.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from nicegui import app, background_tasks, ui

from compiler.catalogue import STEPS

from designer import services
from designer.context import AppContext
from designer.ui import frame
from designer.ui.canvas import FlowCanvas, search_label
from designer.ui.decision_panels import show_decision_previews
from designer.ui.editor_state import EditorState, FlowNotFound
from designer.ui.properties import PropertiesPanel
from designer.ui.import_notes import ImportNotes
from designer.ui.island import Island
from designer.ui.publish import publish_panel
from designer.ui.revision_view import RevisionView
from designer.ui.unpublished import draft_changes
from designer.ui.testcall import test_call_panel

log = logging.getLogger(__name__)

STEP_MIME = "application/x-flexml-step"
MAX_PROBLEMS_SHOWN = 200
PREVIEW_DELAY = 0.25  # seconds of quiet before the preview is rebuilt
UNPUBLISHED_CHECK = 2.0  # seconds between looks for a publish made in the Publish tab or elsewhere
ELSEWHERE_CHECK = 3.0  # seconds between looks at the store for a newer version saved by someone else
HISTORY_KEY = "editor_history"  # app.storage.tab[f"{HISTORY_KEY}:{flow_id}"]: undo history kept over a reload
HISTORY_KEPT_AFTER_CLOSE = 300.0  # seconds a closed (or reloading) tab's history waits for the tab to come back
SIDE_DEFAULT_WIDTH = "clamp(300px, 32vw, 440px)"  # leaves the canvas room on a 1024 px screen
SIDE_MIN, SIDE_MAX = 280, 900  # px the side panel can be dragged to
SIDE_WIDTH_KEY, SIDE_OPEN_KEY = "editor_side_width", "editor_side_open"  # in app.storage.user
# Runs in the browser on pointerdown on the panel's edge: resizes it live, sends the final width.
SIDE_RESIZE_JS = f"""(e) => {{
  const panel = document.querySelector('.fc-side');
  const startX = e.clientX, startW = panel.getBoundingClientRect().width;
  const width = (m) => Math.round(Math.max({SIDE_MIN}, Math.min({SIDE_MAX}, window.innerWidth - 320,
                                                                startW + startX - m.clientX)));
  const move = (m) => {{ panel.style.width = width(m) + 'px'; }};
  const up = (m) => {{
    window.removeEventListener('pointermove', move); window.removeEventListener('pointerup', up);
    emit(width(m));
  }};
  window.addEventListener('pointermove', move); window.addEventListener('pointerup', up);
  e.preventDefault();
}}"""
# a tooltip shown when a palette drag began would stay on screen: its anchor never saw the mouse leave
HIDE_TOOLTIP_JS = "e.currentTarget.dispatchEvent(new MouseEvent('mouseleave'));"


def register(ctx: AppContext) -> None:
    @ui.page("/flows/{flow_id}", title="FlexML Designer")
    def editor_page(flow_id: str, call: str | None = None, traffic: str | None = None, rev: str | None = None,
                    days: str | None = None) -> None:
        if call or traffic:
            RevisionView(ctx, flow_id, call=call, rev=rev, days=_days(days)).build()
        else:
            Editor(ctx, flow_id).build()


class Editor:
    """The widgets of one editor tab, wired to its ``EditorState``."""

    def __init__(self, ctx: AppContext, flow_id: str) -> None:
        self.ctx = ctx
        self.flow_id = flow_id
        self.state: EditorState | None = None

    def build(self) -> None:
        try:
            self.state = state = EditorState(self.ctx, self.flow_id)
        except FlowNotFound as exc:
            with ui.column().classes("p-8 gap-2"):
                ui.label("This flow cannot be opened").classes("text-xl font-semibold")
                ui.label(str(exc))
                ui.link("Back to the flows", "/")
            return
        ui.page_title(f"{state.name} · FlexML Designer")
        frame.header("Flows")  # the app's navigation bar
        ui.context.client.content.classes("p-0 gap-0")
        height = "calc(100vh - 57px)"
        with ui.column().classes("w-full gap-0 no-wrap").style(f"height: {height}"):
            self._toolbar()
            with ui.row().classes("w-full flex-1 no-wrap gap-0 min-h-0"):
                self._palette()
                with ui.element("div").classes("flex-1 h-full min-w-0 relative"):
                    self.canvas = FlowCanvas(f"flow-{uuid.uuid4().hex[:8]}", state.initial_view())
                    self._elsewhere_banner()
                self._side_panel()
        self._stale_dialog()
        self._keep_history_in_tab()
        self._wire_canvas()
        state.on_select.append(self._selection_changed)
        state.on_change.append(self._flow_changed)
        state.on_saved.append(self._show_saved)
        state.on_stale.append(self.stale_dialog.open)
        self._refresh_problems()
        self._refresh_history_buttons()
        self._show_saved()
        self.properties.render()

    # --- layout -----------------------------------------------------------------------------

    def _toolbar(self) -> None:
        state = self.state
        with Island().classes("w-full"), \
                ui.row().classes("w-full items-center gap-1 px-2 py-1 border-b bg-white no-wrap"):
            ui.button(icon="arrow_back", on_click=lambda: ui.navigate.to("/")).props("flat round dense") \
                .tooltip("All flows")
            # what changes as the user types (the name, "Saved", the markers, undo and redo) is in islands:
            # redrawn without the toolbar's other buttons
            with Island().classes("min-w-0"), ui.row().classes("items-center gap-0 no-wrap"):
                self.title = ui.label(state.name).classes("text-lg font-semibold mr-2 truncate")
                self.saved = ui.label("").classes("text-xs").props("data-testid=saved")
                self.unpublished = ui.badge("Unpublished changes", color="warning") \
                    .props("outline data-testid=unpublished").classes("ml-2").mark("unpublished") \
                    .tooltip("The draft differs from what the host serves; the Publish tab lists the changes")
            self.unpublished.set_visibility(False)
            ui.timer(UNPUBLISHED_CHECK, self._show_unpublished)
            ui.space()
            with Island(), ui.row().classes("items-center gap-1 no-wrap"):
                self.undo_button = ui.button(icon="undo", on_click=self.undo).props("flat dense").mark("undo") \
                    .tooltip("Undo (Ctrl+Z)")
                self.redo_button = ui.button(icon="redo", on_click=self.redo).props("flat dense").mark("redo") \
                    .tooltip("Redo (Ctrl+Shift+Z)")
            ui.separator().props("vertical")
            ui.button(icon="content_copy", on_click=self.copy).props("flat dense").tooltip("Copy (Ctrl+C)")
            ui.button(icon="content_paste", on_click=lambda: self.paste()).props("flat dense") \
                .tooltip("Paste (Ctrl+V)")
            ui.button(icon="delete", on_click=state.delete_selection).props("flat dense").mark("delete-selection") \
                .tooltip("Delete what is selected (Delete)")
            ui.separator().props("vertical")
            ui.button("Tidy up", icon="account_tree", on_click=state.auto_layout).props("flat dense no-caps") \
                .mark("auto-layout") \
                .tooltip("Arrange the steps in rows, top to bottom")
            ui.button(icon="zoom_out", on_click=lambda: self.canvas.zoom(1 / 1.25)).props("flat dense") \
                .tooltip("Zoom out (or scroll the mouse wheel)")
            ui.button(icon="zoom_in", on_click=lambda: self.canvas.zoom(1.25)).props("flat dense") \
                .tooltip("Zoom in")
            ui.button(icon="fit_screen", on_click=lambda: self.canvas.fit_view()).props("flat dense") \
                .tooltip("Fit the flow on screen (a large one: the selected or the start step, readable)")
            ui.separator().props("vertical")
            ui.button("Traffic", icon="insights", on_click=lambda: ui.navigate.to(f"/flows/{self.flow_id}?traffic=1")) \
                .props("flat dense no-caps").mark("traffic") \
                .tooltip("How callers went through the published revision: numbers on the steps, connections by use")
            ui.separator().props("vertical")
            self._search()
            self.side_toggle = ui.button(icon="view_sidebar", on_click=self.toggle_side).props(
                "flat dense data-testid=side-toggle").tooltip("Show or hide the side panel")

    def _palette(self) -> None:
        with ui.column().classes("w-48 h-full overflow-y-auto gap-1 p-2 border-r bg-white no-wrap shrink-0"):
            ui.label("Steps").classes("text-xs font-semibold text-gray-500 uppercase")
            ui.label("Drag onto the canvas").classes("text-xs text-gray-400 -mt-1")
            for type_, spec in STEPS.items():  # the catalogue's order is the palette's
                item = ui.element("div").classes(
                    "fc-palette-item w-full flex items-center gap-2 px-2 py-1 rounded border bg-gray-50 "
                    "cursor-grab hover:bg-blue-50 select-none text-sm") \
                    .props(f'draggable=true data-step="{type_}"')
                with item:
                    ui.icon(spec.icon, size="xs").classes("text-gray-700")
                    ui.label(spec.label)
                item.tooltip(spec.help)
                item.on("dragstart", js_handler=f"(e) => {{ e.dataTransfer.setData('{STEP_MIME}', '{type_}'); "
                                                f"e.dataTransfer.effectAllowed = 'copy'; {HIDE_TOOLTIP_JS} }}")
                item.on("dragend", js_handler=f"(e) => {{ {HIDE_TOOLTIP_JS} }}")
                item.on("click", lambda t=type_: self.canvas.drop_at_centre(t))
                item.props("tabindex=0 role=button") \
                    .on("keydown.enter", lambda t=type_: self.canvas.drop_at_centre(t))

    def _search(self) -> None:
        """Find a step by id, label or text: type, pick, and the canvas centres on it and selects it."""
        # the options (every step) are filled in when the box is focused: a large flow's page stays small
        self.search = ui.select({}, with_input=True, clearable=False,
                                on_change=lambda e: self._found(e.value)) \
            .props('dense outlined options-dense hide-dropdown-icon placeholder="Find a step…" '
                   'input-debounce=150').classes("fc-search w-56")
        self.search.on("focus", lambda: self.search.set_options(self._search_options()))

    def _search_options(self) -> dict[str, str]:
        graph = self.state.graph
        return {n: search_label(graph, n) for n in graph.nodes if graph.nodes[n]}

    def _found(self, node: str | None) -> None:
        if not node:
            return
        self.search.set_value(None)
        if node not in self.state.graph:
            ui.notify(f"There is no step {node!r} any more", type="warning")
            return
        self.state.select(node)
        self.canvas.focus_node(node)
        self.set_side_open(True)
        self.tabs.value = "properties"

    def toggle_side(self) -> None:
        self.set_side_open(not self.side.visible)

    def set_side_open(self, open_: bool) -> None:
        """Show or hide the side panel (remembered for this user's next visit)."""
        if self.side.visible != open_:
            self.side.set_visibility(open_)
            app.storage.user[SIDE_OPEN_KEY] = open_
            if open_ and self.tabs.value == "publish" and self.publish is not None:
                self.publish.shown()

    def _side_resized(self, width: Any) -> None:
        try:
            px = max(SIDE_MIN, min(SIDE_MAX, int(width)))
        except (TypeError, ValueError):
            return
        app.storage.user[SIDE_WIDTH_KEY] = px
        self.side.style(f"width: {px}px")

    def _side_panel(self) -> None:
        width = app.storage.user.get(SIDE_WIDTH_KEY)
        width = f"{int(width)}px" if isinstance(width, int) else SIDE_DEFAULT_WIDTH
        with ui.column().classes("fc-side h-full gap-0 border-l bg-white no-wrap shrink-0 relative") \
                .style(f"width: {width}") as self.side:
            ui.element("div").classes("fc-side-grip").props("data-testid=side-resize title='Drag to resize'") \
                .on("pointerdown", lambda e: self._side_resized(e.args), js_handler=SIDE_RESIZE_JS)
            self.import_notes = ImportNotes(self.state)
            with ui.tabs().classes("w-full") \
                    .props("dense no-caps inline-label outside-arrows mobile-arrows align=left") as self.tabs:
                ui.tab("properties", "Properties")
                with ui.tab("problems", "Problems"):
                    self.problem_badge = ui.badge("", color="negative").classes("ml-1").props("rounded")
                ui.tab("preview", "Preview")
                ui.tab("publish", "Publish")
                ui.tab("testcall", "Test call")
            self.tabs.on_value_change(self._tab_changed)
            with ui.tab_panels(self.tabs, value="properties").classes("w-full flex-1 min-h-0") \
                    .props("animated=false") as self.panels:
                with ui.tab_panel("properties").classes("overflow-y-auto gap-2"):
                    container = ui.column().classes("w-full gap-2")
                    self.properties = PropertiesPanel(self.state, container)
                with ui.tab_panel("problems").classes("overflow-y-auto"):
                    self.problem_list = ui.column().classes("w-full gap-1")
                with ui.tab_panel("preview").classes("overflow-y-auto"):
                    self.preview_title = ui.label("").classes("text-sm text-gray-600")
                    self.preview_code = ui.code("", language="xml").classes("w-full text-xs")
                    self.preview_message = ui.label("").classes("text-sm")
                    self.preview_cases = ui.column().classes("w-full gap-0")
                with ui.tab_panel("publish").classes("overflow-y-auto"):
                    self.publish = self._mount(lambda ctx, state: publish_panel(
                        ctx, state, is_shown=lambda: self.tabs.value == "publish" and self.side.visible))
                with ui.tab_panel("testcall").classes("overflow-y-auto"):
                    self._mount(test_call_panel)
        self.side.set_visibility(app.storage.user.get(SIDE_OPEN_KEY, True) is not False)
        self._preview_due: float | None = None
        ui.timer(PREVIEW_DELAY / 2, self._preview_tick)

    def _mount(self, panel: Callable[..., Any]) -> Any:
        try:
            return panel(self.ctx, self.state)
        except Exception as exc:  # another part's bug must not take the editor down
            log.exception("side panel %s failed", getattr(panel, "__name__", panel))
            ui.label(f"This panel could not be shown: {exc}").classes("text-negative")
            return None

    def _tab_changed(self, e: Any) -> None:
        if e.value == "preview":
            self.refresh_preview()
        elif e.value == "publish" and self.publish is not None:
            self.publish.shown()

    def _elsewhere_banner(self) -> None:
        """Says so, before any edit, when another tab or person saves this flow."""
        with ui.row().classes("absolute top-2 left-1/2 -translate-x-1/2 z-10 items-center gap-2 px-3 py-1 "
                              "rounded shadow bg-amber-100 text-amber-900 text-sm no-wrap") \
                .mark("changed-elsewhere") as self.elsewhere:
            ui.icon("sync_problem")
            ui.label("This flow was just changed in another tab or by someone else.")
            ui.button("Load it", on_click=self._reload_from_store).props("flat dense no-caps size=sm")
        self.elsewhere.set_visibility(False)
        ui.timer(ELSEWHERE_CHECK, self._check_elsewhere)

    def _check_elsewhere(self) -> None:
        record = services.find_flow(self.ctx, self.flow_id)
        changed = record is not None and record.version != self.state.version and not self.state.stale
        if changed != self.elsewhere.visible:
            self.elsewhere.set_visibility(changed)

    def _stale_dialog(self) -> None:
        with ui.dialog().props("persistent") as self.stale_dialog, ui.card().classes("max-w-md"):
            ui.label("This flow was changed somewhere else").classes("text-lg font-semibold")
            ui.label("Another tab or person saved this flow after you opened it. Your latest change here "
                     "is not saved. Either load the other version (your unsaved change is dropped), or keep "
                     "yours (it replaces the other one).")
            with ui.row().classes("w-full justify-end"):
                ui.button("Load their version", on_click=self._reload_from_store).props("flat no-caps")
                ui.button("Keep mine", color="negative", on_click=self._keep_mine).props("no-caps")

    def _keep_history_in_tab(self) -> None:
        """Undo and redo survive a reload of this tab: the history is kept on the server, in NiceGUI's
        per-tab storage (the browser's sessionStorage holds only the tab's id), and taken back when the
        flow is still exactly as the history left it. A tab that is closed has it dropped a while later."""
        key = f"{HISTORY_KEY}:{self.flow_id}"
        state = self.state
        client = ui.context.client
        kept_now: list[Any] = [None]  # what this page last kept (the storage converts what it is given)

        def keep(tab: Any) -> None:
            tab[key] = {"text": state.text, "history": state.history.to_data()}
            kept_now[0] = tab.get(key)

        def forget_later(tab: Any) -> None:
            def forget() -> None:
                if tab.get(key) is kept_now[0]:  # no newer page of this tab took it over
                    tab.pop(key, None)
            asyncio.get_running_loop().call_later(HISTORY_KEPT_AFTER_CLOSE, forget)

        async def adopt() -> None:
            await client.connected()
            if client.is_deleted:
                return
            with client:  # the tab's storage is found through the page being served
                adopt_now()

        def adopt_now() -> None:
            tab = app.storage.tab
            kept = tab.get(key)
            if isinstance(kept, dict) and kept.get("text") == state.text \
                    and not state.history.can_undo and not state.history.can_redo:
                state.history.load(kept.get("history"))
                self._refresh_history_buttons()
            state.on_change.append(lambda: keep(tab))
            client.on_disconnect(lambda: forget_later(tab))
            keep(tab)
        # a task, not a ui.timer: a timer is an element, and its going after it fired redrew the whole page
        background_tasks.create(adopt(), name=f"adopt history {self.flow_id}")

    # --- canvas events ------------------------------------------------------------------------

    def _wire_canvas(self) -> None:
        state = self.state
        state.attach(self.canvas)
        c = self.canvas
        c.on("ready", lambda e: self._canvas_ready(bool((e.args or {}).get("initial"))))
        c.on("node-drop", lambda e: self._drop(e.args))
        c.on("edge-added", lambda e: self._connect(e.args))
        c.on("nodes-moved", lambda e: state.move(list(e.args or [])))
        c.on("delete-selected", lambda e: state.delete(
            (e.args or {}).get("nodes", []), _edge_pairs((e.args or {}).get("edges", []))))
        c.on("selection-change", lambda e: state.canvas_selected(
            list((e.args or {}).get("nodes", [])), _edge_pairs((e.args or {}).get("edges", []))))
        c.on("copy", lambda e: self.copy((e.args or {}).get("nodes")))
        c.on("paste", lambda e: self.paste((e.args or {}).get("x"), (e.args or {}).get("y")))
        c.on("undo", self.undo)
        c.on("redo", self.redo)

    def _canvas_ready(self, drew_initial: bool) -> None:
        self.state.canvas_is_ready(fit=True, drew_initial=drew_initial)
        # drawn: never resend it. Quietly (dict.pop, not the props' own pop): a change of props is an update,
        # which sent the whole canvas element again and made the browser redraw it, just after opening
        dict.pop(self.canvas.props, "initial", None)

    def _drop(self, args: dict) -> None:
        args = args if isinstance(args, dict) else {}
        node = self.state.add_step(str(args.get("type", "")), _coordinate(args.get("x")), _coordinate(args.get("y")))
        if node is None:
            ui.notify(f"Unknown step type {args.get('type')!r}", type="warning")
            return
        self.state.select(node)
        self.tabs.value = "properties"

    def _connect(self, args: dict) -> None:
        args = args or {}
        ok = self.state.connect(str(args.get("source")), str(args.get("sourceHandle") or "next"),
                                str(args.get("target")))
        if not ok:
            ui.notify("Those two steps cannot be connected that way", type="warning")

    def copy(self, nodes: list[str] | None = None) -> None:
        n = self.state.copy(nodes)
        if n:
            ui.notify(f"Copied {n} step{'s' if n != 1 else ''}", position="bottom", timeout=1200)

    def paste(self, x: float | None = None, y: float | None = None) -> None:
        if not self.state.paste(x, y):
            ui.notify("Nothing to paste: select steps and copy them first", position="bottom", timeout=1500)

    def undo(self) -> None:
        if not self.state.undo():
            ui.notify("Nothing to undo", position="bottom", timeout=1000)

    def redo(self) -> None:
        if not self.state.redo():
            ui.notify("Nothing to redo", position="bottom", timeout=1000)

    # --- reactions ----------------------------------------------------------------------------

    def _selection_changed(self) -> None:
        if self.state.selection:
            self.set_side_open(True)  # a step chosen to edit: show its properties
        self.properties.render()
        self._schedule_preview()

    def _flow_changed(self, reason: str) -> None:
        # the "Unpublished changes" marker follows on its timer (UNPUBLISHED_CHECK): comparing a large draft
        # with its published revision after every keystroke would slow typing down
        self.title.text = self.state.name
        self._refresh_problems()
        self.properties.show_problems()
        self._refresh_history_buttons()
        self._schedule_preview()
        if reason in ("undo", "redo", "reload"):
            self.properties.render()

    def _show_unpublished(self) -> None:
        """The toolbar's "Unpublished changes" marker: shown when a published flow's draft differs."""
        try:
            rev, _, calls = draft_changes(self.ctx, self.state)
        except Exception:  # noqa: BLE001 - a marker must never take the editor down
            log.exception("comparing flow %s with its published revision failed", self.state.flow_id)
            return
        self.unpublished.set_visibility(bool(rev) and calls)

    def _show_saved(self) -> None:
        state = self.state
        if state.save_status == "stale":
            self.saved.text = "Not saved: changed elsewhere"
            self.saved.classes(replace="text-xs text-negative font-semibold")
        elif state.save_status == "error":
            self.saved.text = f"Not saved: {state.save_error}"
            self.saved.classes(replace="text-xs text-negative font-semibold")
        else:
            self.saved.text = "✓ Saved" if state.saves else "All changes saved"
            self.saved.classes(replace="text-xs text-positive")

    def _refresh_history_buttons(self) -> None:
        h = self.state.history
        self.undo_button.set_enabled(h.can_undo)
        self.redo_button.set_enabled(h.can_redo)

    def _refresh_problems(self) -> None:
        problems = self.state.problems
        if problems == getattr(self, "_shown_problems", None):
            return
        self._shown_problems = list(problems)
        errors = sum(1 for p in problems if p.is_error)
        warnings = len(problems) - errors
        self.problem_badge.text = str(errors or warnings)
        self.problem_badge.props(f"color={'negative' if errors else 'warning'}")
        self.problem_badge.set_visibility(bool(problems))
        self.problem_list.clear()
        with self.problem_list:
            if not problems:
                ui.label("No problems. The flow is ready to publish.").classes("text-positive")
                return
            parts = [f"{errors} error{'s' if errors != 1 else ''}" if errors else "",
                     f"{warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""]
            ui.label(", ".join(p for p in parts if p)).classes("text-sm font-semibold")
            for p in problems[:MAX_PROBLEMS_SHOWN]:
                icon, colour = ("error", "text-negative") if p.is_error else ("warning", "text-warning")
                row = ui.row().classes("w-full items-start no-wrap gap-2 p-1 rounded hover:bg-gray-100 "
                                       "cursor-pointer").props(f'data-problem="{p.node or ""}"')
                with row:
                    ui.icon(icon).classes(colour)
                    with ui.column().classes("gap-0"):
                        where = f"Step {p.node}" if p.node is not None else "Flow"
                        ui.label(f"{where} · {p.field}").classes("text-xs text-gray-500")
                        ui.label(p.message).classes("text-sm")
                row.on("click", lambda node=p.node: self._problem_clicked(node))
            if len(problems) > MAX_PROBLEMS_SHOWN:
                ui.label(f"… and {len(problems) - MAX_PROBLEMS_SHOWN} more").classes("text-sm text-gray-500")

    def _problem_clicked(self, node: str | None) -> None:
        if node is None:
            self.state.select(None)
        else:
            self.state.select(node)
            self.tabs.value = "properties"
        self.properties.render()

    def _schedule_preview(self) -> None:
        if self.tabs.value == "preview":
            self._preview_due = time.monotonic() + PREVIEW_DELAY

    def _preview_tick(self) -> None:
        if self._preview_due is not None and time.monotonic() >= self._preview_due:
            self._preview_due = None
            self.refresh_preview()

    def refresh_preview(self) -> None:
        node = self.state.selected
        kind, text, document = self.state.preview(node)
        what = f"FlexML for step {node}" if node else "FlexML of the start step"
        self.preview_title.text = f"{what}: document {document!r}, served at /flexml/{self.flow_id}/<rev>/{document}" \
            if document else what
        if kind == "xml":
            self.preview_code.content = text
            self.preview_code.set_visibility(True)
            self.preview_message.text = ""
        else:
            self.preview_code.set_visibility(False)
            self.preview_message.text = text
        show_decision_previews(self.preview_cases, self.state, node)

    # --- other tabs and sessions ------------------------------------------------------------

    def _reload_from_store(self) -> None:
        self.stale_dialog.close()
        self.elsewhere.set_visibility(False)
        self.state.reload()
        ui.notify("Loaded the newer version", position="bottom")

    def _keep_mine(self) -> None:
        self.stale_dialog.close()
        self.state.keep_mine()
        if self.state.stale:
            self.stale_dialog.open()


def _days(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _coordinate(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if abs(number) < 1e9 else 0.0  # also NaN → 0


def _edge_pairs(edges: list) -> list[tuple[str, str]]:
    out = []
    for e in edges or []:
        if isinstance(e, dict) and e.get("source") is not None and e.get("branch") is not None:
            out.append((str(e["source"]), str(e["branch"])))
    return out
