"""Undo and redo: snapshots of the flow file's text, one per change.

A snapshot is the flow's saved JSON before the change, so undoing restores
exactly what was saved. Changes that share a ``coalesce`` key within a couple
of seconds (typing into one field) count as one step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

LIMIT = 100
COALESCE_SECONDS = 2.0


@dataclass
class Entry:
    label: str
    before: str
    coalesce: str | None = None
    at: float = field(default_factory=time.monotonic)


class History:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._undo: list[Entry] = []
        self._redo: list[Entry] = []

    def record(self, label: str, before: str, coalesce: str | None = None) -> None:
        """Remember the state before a change; a new change drops what could be redone."""
        self._redo.clear()
        last = self._undo[-1] if self._undo else None
        now = time.monotonic()
        if coalesce is not None and last is not None and last.coalesce == coalesce \
                and now - last.at < COALESCE_SECONDS:
            last.at = now
            return
        self._undo.append(Entry(label, before, coalesce, now))
        del self._undo[:-self.limit]

    def undo(self, current: str) -> str | None:
        """The snapshot to go back to, or None when there is nothing to undo."""
        if not self._undo:
            return None
        entry = self._undo.pop()
        self._redo.append(Entry(entry.label, current))
        return entry.before

    def redo(self, current: str) -> str | None:
        if not self._redo:
            return None
        entry = self._redo.pop()
        self._undo.append(Entry(entry.label, current))
        return entry.before

    def to_data(self) -> dict[str, list[list[Any]]]:
        """Plain JSON-able data (to keep the history over a page reload); ``load`` takes it back."""
        return {"undo": [[e.label, e.before, e.coalesce] for e in self._undo],
                "redo": [[e.label, e.before, e.coalesce] for e in self._redo]}

    def load(self, data: Any) -> None:
        """Take back what ``to_data`` gave; entries that are not that shape are skipped."""
        def entries(items: Any) -> list[Entry]:
            out = []
            for item in items if isinstance(items, list) else []:
                if isinstance(item, (list, tuple)) and len(item) == 3 and all(isinstance(x, str) for x in item[:2]):
                    out.append(Entry(item[0], item[1], item[2] if isinstance(item[2], str) else None, at=0.0))
            return out[-self.limit:]
        data = data if isinstance(data, dict) else {}
        self._undo, self._redo = entries(data.get("undo")), entries(data.get("redo"))

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_label(self) -> str | None:
        return self._undo[-1].label if self._undo else None

    @property
    def redo_label(self) -> str | None:
        return self._redo[-1].label if self._redo else None
