"""What the designer's pages and services share: the store, the host's flow table, settings."""

from __future__ import annotations

from dataclasses import dataclass

from designer.host.events import Recorder
from designer.host.table import FlowTable
from designer.store import Store


@dataclass
class AppContext:
    store: Store
    table: FlowTable | None  # what the host answers from, swapped atomically on publish; built by app.build()
    public_url: str = "http://127.0.0.1:8080"  # where the carrier reaches this host (shown on Publish)
    recorder: Recorder | None = None  # writes the host's call events to the store (app.build() makes one:
    # a SpoolRecorder, so every answered call's events survive a kill)
