"""The editor's Publish tab: publish (refused while errors remain), carrier URLs, revisions, downloads."""

from __future__ import annotations

from typing import Any, Callable

from nicegui import ui

from compiler import Problem, only_errors

from designer import services
from designer.context import AppContext
from designer.services import NothingToPublish, PublishRefused, ServiceError
from designer.ui.carrier_ui import call_me_button
from designer.ui.downloads import download_bundle, download_flow_file
from designer.ui.frame import ago, clock
from designer.ui.unpublished import draft_changes

MAX_SHOWN_PROBLEMS = 8
MAX_SHOWN_CHANGES = 30


def on_editor_change(editor: Any, callback: Callable[[], Any]) -> None:
    """Call ``callback`` after each edit, whatever shape the editor's ``on_change`` has."""
    hook = getattr(editor, "on_change", None)
    if hook is None:
        return
    if isinstance(hook, list):
        hook.append(callback)
    elif hasattr(hook, "subscribe"):
        hook.subscribe(callback)
    elif hasattr(hook, "append"):
        hook.append(callback)
    elif callable(hook):
        hook(callback)


def current_errors(ctx: AppContext, editor: Any) -> list[Problem]:
    found = getattr(editor, "problems", None)
    if found is None:
        found = services.problems(ctx, editor.flow_id)
    return only_errors(list(found))


def publish_panel(ctx: AppContext, editor: Any, is_shown: Callable[[], bool] | None = None) -> "PublishPanel":
    """The panel; ``is_shown`` says whether it is on screen (it starts stale when not: see ``shown``)."""
    panel = PublishPanel(ctx, editor)
    if is_shown is not None:
        panel.is_shown = is_shown
    panel.build()
    return panel


class PublishPanel:
    def __init__(self, ctx: AppContext, editor: Any):
        self.ctx = ctx
        self.editor = editor
        self.flow_id: str = editor.flow_id
        self.note: str = ""
        # the editor says whether the panel is on screen: the draft's changes (a diff of the whole flow)
        # are listed again after an edit only then, or when the panel is shown next (``shown``)
        self.is_shown: Callable[[], bool] = lambda: True
        self._stale = False

    def build(self) -> None:
        self._stale = not self.is_shown()  # off screen: the draft's diff waits until the panel is shown
        with ui.column().classes("w-full gap-4").mark("publish-panel"):
            self.status_area()
            self.urls_area()
            self.revisions_area()
        on_editor_change(self.editor, self._edited)

    def _edited(self) -> None:
        was_stale, self._stale = self._stale, not self.is_shown()
        if not (was_stale and self._stale):  # while hidden, the outdated status is cleared once
            self.status_area.refresh()

    def shown(self) -> None:
        """The panel came on screen: bring its status up to date."""
        if self._stale:
            self._stale = False
            self.status_area.refresh()

    # --- publishing ---------------------------------------------------------------------

    @ui.refreshable_method
    def status_area(self) -> None:
        if self._stale:  # edited while the panel is hidden: worked out when it is shown
            return
        record = services.find_flow(self.ctx, self.flow_id)
        if record is None:
            ui.label("This flow was deleted.").classes("text-negative")
            return
        found = current_errors(self.ctx, self.editor)
        with ui.column().classes("w-full gap-2"):
            if record.published_rev:
                rev = services.find_revision(self.ctx, self.flow_id, record.published_rev)
                ui.label(f"Published: revision {record.published_rev}, {ago(rev.created_at if rev else None)}") \
                    .classes("text-sm text-slate-600").mark("published-status")
            else:
                ui.label("Not published yet: the host does not answer for this flow.") \
                    .classes("text-sm text-slate-600").mark("published-status")
            rev, said, calls = draft_changes(self.ctx, self.editor) if hasattr(self.editor, "graph") \
                else (None, [], True)
            unchanged = bool(rev) and not calls
            if rev:
                self.change_list(said, f"Changes since revision {rev}", f"No changes since revision {rev}: "
                                 "there is nothing new to publish.", mark="draft-changes")
                if said and unchanged:
                    ui.label("Only positions on the canvas changed: calls would go exactly as now, so there "
                             "is nothing to publish.").classes("text-xs text-slate-600").mark("no-changes")
            ui.input("Note (what this revision is for)", value=self.note, placeholder="e.g. new holiday hours",
                     on_change=lambda e: setattr(self, "note", e.value or "")) \
                .props("dense outlined maxlength=500 data-testid=publish-note").classes("w-full").mark("publish-note")
            button = ui.button("Publish", icon="rocket_launch", on_click=self.on_publish) \
                .props("unelevated no-caps data-testid=publish").classes("w-full").mark("publish")
            if found:
                button.disable()
                self.problem_list(found)
            elif unchanged:
                button.disable()
            else:
                ui.label("Publishing makes a new revision; calls already in progress finish on theirs.") \
                    .classes("text-xs text-slate-500")

    def change_list(self, said: list[str], title: str, empty: str, mark: str) -> None:
        """Sentences of a diff under a title; ``empty`` when there are none."""
        with ui.column().classes("w-full gap-0 p-2 rounded-lg bg-slate-50 border border-slate-200") \
                .props(f"data-testid={mark}").mark(mark):
            if not said:
                ui.label(empty).classes("text-sm text-slate-600").mark("no-changes")
                return
            ui.label(title).classes("text-sm font-medium text-slate-800")
            for sentence in said[:MAX_SHOWN_CHANGES]:
                ui.label(f"• {sentence}").classes("text-xs text-slate-700").mark("change")
            if len(said) > MAX_SHOWN_CHANGES:
                ui.label(f"… and {len(said) - MAX_SHOWN_CHANGES} more").classes("text-xs text-slate-500")

    def problem_list(self, found: list[Problem]) -> None:
        with ui.column().classes("w-full gap-1 p-3 rounded-lg bg-red-50 border border-red-200") \
                .mark("publish-problems"):
            ui.label(f"Fix {len(found)} error{'s' if len(found) != 1 else ''} before publishing:") \
                .classes("text-sm font-medium text-negative")
            for problem in found[:MAX_SHOWN_PROBLEMS]:
                where = f"{problem.node}: " if problem.node else ""
                link = ui.label(f"{where}{problem.field}: {problem.message}").classes("text-xs text-red-900")
                if problem.node and hasattr(self.editor, "select"):
                    link.classes("cursor-pointer hover:underline")
                    link.on("click", lambda n=problem.node: self.editor.select(n))
            if len(found) > MAX_SHOWN_PROBLEMS:
                ui.label(f"… and {len(found) - MAX_SHOWN_PROBLEMS} more").classes("text-xs text-red-900")

    def on_publish(self) -> None:
        """The Publish button: publish the flow through the services and show what happened."""
        try:
            revision = services.publish(self.ctx, self.flow_id, note=self.note)
        except NothingToPublish as exc:
            ui.notify(f"Nothing to publish: the draft is the same as revision {exc.rev}", type="info")
            self.status_area.refresh()
            return
        except PublishRefused as exc:
            ui.notify(f"Not published: {len(exc.problems)} error(s) to fix first", type="negative")
            self.status_area.refresh()
            return
        except ServiceError as exc:
            ui.notify(f"Not published: {exc}", type="negative")
            return
        ui.notify(f"Published revision {revision.rev}: the host now answers with it", type="positive")
        self.note = ""
        self.status_area.refresh()
        self.urls_area.refresh()
        self.revisions_area.refresh()

    # --- what to paste at the carrier ---------------------------------------------------

    @ui.refreshable_method
    def urls_area(self) -> None:
        urls = services.carrier_urls(self.ctx, self.flow_id)
        with ui.column().classes("w-full gap-2"):
            ui.label("Paste at the carrier").classes("text-sm font-medium text-slate-800")
            for label, key, hint in (
                ("Account URL (calls to bound numbers)", "account", "The number's flow is looked up by To."),
                ("Flow URL (this flow only)", "flow", ""),
                ("Status callback URL", "status", ""),
            ):
                self.copy_field(label, urls[key], key, hint)
            record = services.find_flow(self.ctx, self.flow_id)
            if record is not None and record.published_rev:
                call_me_button(self.ctx, self.flow_id)
            if "127.0.0.1" in urls["account"] or "localhost" in urls["account"]:
                with ui.row().classes("items-center gap-1 no-wrap"):
                    ui.icon("info", size="16px").classes("text-warning")
                    ui.link("Set the public address the carrier can reach", "/settings").classes("text-xs")

    def copy_field(self, label: str, value: str, key: str, hint: str = "") -> None:
        field = ui.input(label, value=value).props('readonly dense outlined input-class="font-mono text-xs"').classes("w-full") \
            .mark(f"url-{key}")
        with field.add_slot("append"):
            ui.button(icon="content_copy", on_click=lambda v=value: self.copy(v)) \
                .props("flat round dense size=sm").tooltip("Copy").mark(f"copy-{key}")
        if hint:
            field.props(f'hint="{hint}"')

    def copy(self, value: str) -> None:
        ui.clipboard.write(value)
        ui.notify("Copied", type="positive", timeout=1000)

    # --- revisions and downloads --------------------------------------------------------

    @ui.refreshable_method
    def revisions_area(self) -> None:
        record = services.find_flow(self.ctx, self.flow_id)
        revisions = services.revisions(self.ctx, self.flow_id)
        with ui.row().classes("w-full gap-2"):
            ui.button("Flow file", icon="download", on_click=lambda: download_flow_file(self.ctx, self.flow_id)) \
                .props("outline no-caps dense").mark("download-flow")
            bundle = ui.button("Bundle (.zip)", icon="folder_zip", on_click=lambda: download_bundle(self.ctx, self.flow_id)) \
                .props("outline no-caps dense").mark("download-bundle")
            if not revisions:
                bundle.disable()
                bundle.tooltip("Publish first: a bundle holds a published revision")
        if services.needs_host(self.ctx, self.flow_id):
            ui.label("This flow needs the host: serve its bundle with “flexml-designer host BUNDLE.zip”, "
                     "not a static web server.") \
                .classes("text-xs text-amber-800 bg-amber-50 rounded p-2").mark("needs-host")
        ui.label("Revisions").classes("text-sm font-medium text-slate-800")
        if not revisions:
            ui.label("None yet. Each publish keeps a revision you can restore.").classes("text-xs text-slate-500")
            return
        with ui.column().classes("w-full gap-0 rounded border border-slate-200").mark("revisions"):
            for rev in revisions:
                live = record is not None and record.published_rev == rev.rev
                with ui.row().classes("w-full items-center gap-2 px-2 py-1 border-b border-slate-100 no-wrap") \
                        .mark(f"revision-{rev.rev}"):
                    ui.label(f"r{rev.rev}").classes("font-mono text-sm w-10")
                    with ui.column().classes("gap-0 grow min-w-0"):
                        ui.label(clock(rev.created_at)).classes("text-xs text-slate-500")
                        if rev.note:
                            ui.label(rev.note).classes("text-xs text-slate-800 truncate") \
                                .props(f"data-testid=revision-note-{rev.rev}") \
                                .mark(f"revision-note-{rev.rev}").tooltip(rev.note)
                    if live:
                        ui.badge("live", color="positive").props("outline")
                    ui.button(icon="download", on_click=lambda r=rev.rev: download_bundle(self.ctx, self.flow_id, r)) \
                        .props("flat round dense size=sm").tooltip("Download this revision's bundle")
                    older = [r.rev for r in revisions if r.rev < rev.rev]
                    if older:
                        ui.button(icon="difference", on_click=lambda o=older[0], r=rev.rev: self.compare(o, r)) \
                            .props(f"flat round dense size=sm data-testid=compare-{rev.rev}") \
                            .tooltip("What this revision changed") \
                            .mark(f"compare-{rev.rev}")
                    ui.button("Restore", on_click=lambda r=rev.rev: self.confirm_restore(r)) \
                        .props("flat dense no-caps size=sm").mark(f"restore-{rev.rev}")

    def compare(self, old: int, new: int) -> None:
        """A dialog with the changes between any two revisions (chosen with two selects)."""
        numbers = {r.rev: f"revision {r.rev}" + (f" — {r.note}" if r.note else "")
                   for r in services.revisions(self.ctx, self.flow_id)}
        chosen = {"old": old, "new": new}
        with ui.dialog() as dialog, ui.card().classes("w-[32rem] gap-3").mark("compare-dialog"):
            ui.label("Compare revisions").classes("text-lg font-medium")
            with ui.row().classes("w-full no-wrap gap-2"):
                ui.select(numbers, label="From", value=old, on_change=lambda e: pick("old", e.value)) \
                    .classes("grow").props("dense").mark("compare-old")
                ui.select(numbers, label="To", value=new, on_change=lambda e: pick("new", e.value)) \
                    .classes("grow").props("dense").mark("compare-new")

            @ui.refreshable
            def result() -> None:
                try:
                    said = services.revision_changes(self.ctx, self.flow_id, chosen["old"], chosen["new"])
                except ServiceError as exc:
                    ui.label(str(exc)).classes("text-negative")
                    return
                self.change_list(said, f"Revision {chosen['new']} against revision {chosen['old']}",
                                 "The two revisions are the same.", mark="revision-changes")

            def pick(which: str, value: Any) -> None:
                chosen[which] = int(value)
                result.refresh()

            result()
            with ui.row().classes("w-full justify-end"):
                ui.button("Close", on_click=dialog.close).props("flat no-caps")
        dialog.open()

    def confirm_restore(self, rev: int) -> None:
        with ui.dialog() as dialog, ui.card().classes("w-96 gap-3"):
            ui.label(f"Restore revision {rev}?").classes("text-lg font-medium")
            ui.label(f"The draft you are editing is replaced by revision {rev}'s flow. Nothing goes live: "
                     "calls keep getting the published revision until you publish. Your current draft is "
                     "not lost: Undo (Ctrl+Z) in this tab brings it back, also after reloading the tab.") \
                .classes("text-sm text-slate-600")

            def restore() -> None:
                try:
                    services.restore_revision(self.ctx, self.flow_id, rev)
                except ServiceError as exc:
                    ui.notify(str(exc), type="negative")
                    return
                dialog.close()
                reload = getattr(self.editor, "reload", None)
                if reload is not None:
                    reload(undo_label=f"Restore revision {rev}")
                ui.notify(f"Draft restored from revision {rev}", type="positive")
                self.status_area.refresh()

            with ui.row().classes("w-full justify-end gap-2"):
                ui.button("Cancel", on_click=dialog.close).props("flat no-caps")
                ui.button("Restore", on_click=restore).props("unelevated no-caps").mark("restore-confirm")
        dialog.open()

