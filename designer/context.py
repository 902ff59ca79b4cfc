"""What the designer's pages and services share: the store, the host's flow table, settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from designer.store import SQLiteStore


@dataclass
class AppContext:
    store: SQLiteStore
    table: Any  # designer.host.FlowTable: what the host answers from, swapped atomically on publish
    public_url: str = "http://127.0.0.1:8080"  # where the carrier reaches this host (shown on Publish)
    recorder: Any = None  # designer.host.events.SpoolRecorder (or EventRecorder) writing call events to the store
