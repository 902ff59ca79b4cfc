"""The editor's import notes: what the importer changed or could not map, kept with the flow until dismissed.

The notes live in the flow file (``graph.import_notes``: ``[{"text", "node"}]``), so they survive
reloads, copies and downloads; dismissing one is an ordinary undoable edit.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from nicegui import ui

from designer.services import IMPORT_NOTES
from designer.ui.editor_state import EditorState
from designer.ui.island import Island


def notes_of(graph: nx.DiGraph) -> list[dict[str, Any]]:
    """The flow's import notes that are still shown (well-formed ones only)."""
    found = graph.graph.get(IMPORT_NOTES)
    if not isinstance(found, list):
        return []
    return [n for n in found if isinstance(n, dict) and isinstance(n.get("text"), str)]


class ImportNotes:
    """A panel over the side tabs listing the notes; hidden when there are none."""

    def __init__(self, state: EditorState) -> None:
        self.state = state
        self.shown: list[dict[str, Any]] | None = None
        with Island().classes("w-full"):  # drawn again on its own, and only when the notes change
            self.box = ui.column().classes("w-full gap-0 border-b bg-amber-50").mark("import-notes-panel")
        state.on_change.append(lambda: self.render())
        self.render()

    def render(self) -> None:
        notes = notes_of(self.state.graph)
        if notes == self.shown:
            return
        self.shown = [dict(n) for n in notes]
        self.box.clear()
        self.box.set_visibility(bool(notes))
        if not notes:
            return
        with self.box, ui.expansion(f"Import notes ({len(notes)})", icon="info", value=True) \
                .classes("w-full text-sm").props("dense"):
            with ui.column().classes("w-full gap-1 max-h-48 overflow-y-auto"):
                for i, note in enumerate(notes):
                    with ui.row().classes("w-full items-start gap-1 no-wrap").mark("import-note"):
                        text = ui.label(note["text"]).classes("text-xs text-slate-800 grow")
                        node = note.get("node")
                        if isinstance(node, str) and node in self.state.graph:
                            text.classes("cursor-pointer hover:underline")
                            text.on("click", lambda n=node: self.state.select(n))
                        ui.button(icon="close", on_click=lambda i=i: self.dismiss(i)) \
                            .props("flat round dense size=xs").tooltip("Dismiss").mark(f"dismiss-note-{i}")
            ui.button("Dismiss all", on_click=lambda: self.dismiss(None)) \
                .props("flat dense no-caps size=sm").mark("dismiss-all-notes")

    def dismiss(self, index: int | None) -> None:
        """Dismiss one note (by position) or all of them; Undo brings them back."""
        def edit(graph: nx.DiGraph) -> None:
            kept = notes_of(graph)
            if index is not None and 0 <= index < len(kept):
                del kept[index]
            else:
                kept = []
            if kept:
                graph.graph[IMPORT_NOTES] = kept
            else:
                graph.graph.pop(IMPORT_NOTES, None)
        self.state.change("Dismiss import note" if index is not None else "Dismiss import notes", edit)
