"""The built-in host: answers the carrier's requests for published flows and phone numbers.

Public API (the designer and the ``host`` command build on these)::

    table = FlowTable()                       # or table_from_store(store)
    table.serve_revision(compiled)            # atomic swap; older revisions keep answering
    table.bind("+1 (516) 206-5337", "main-menu")
    app = create_host_app(table, on_event=EventRecorder(store.record_events))
    host = hosted(sources=["main-menu.json"])  # in process: host.transport, host.url("main-menu")

Modules: ``table`` (flows in memory), ``app`` (the ASGI handler),
``events`` and ``event_writer`` (recording off the answer path), ``inprocess`` (flow files and
bundles served in this process: ``hosted``), ``workers``; this one loads flows from the store.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from designer.host.event_writer import ProcessRecorder
from designer.host.app import MAX_BODY, HostHandler, create_host_app, host_routes, read_params
from designer.host.events import EventRecorder, Recorder, describe, printer
from designer.host.follow import table_from_store
from designer.host.inprocess import InProcessHost, bind_numbers, hosted, load_sources, serving_table
from designer.host.table import FlowTable, ServedRevision, Snapshot, number_key
from designer.store import CallEvent, Store

if TYPE_CHECKING:
    from designer.host.follow import StoreFollower

__all__ = [
    "CallEvent", "EventRecorder", "FlowTable", "HostHandler", "InProcessHost", "MAX_BODY", "Recorder",
    "ServedRevision", "Snapshot", "app_from_env", "bind_numbers", "create_host_app", "describe", "host_routes",
    "hosted", "load_sources", "number_key", "printer", "ProcessRecorder", "read_params", "serving_table",
    "table_from_sources", "table_from_store", "follow_store",
]

log = logging.getLogger("flexml.host")

CONFIG_ENV = "FLEXML_HOST_CONFIG"
STORE_LOAD_WAIT = 10.0  # seconds a worker waits for the store before answering (with apologies) without it


def table_from_sources(paths: list[str | Path], dids: list[str] = (), base_url: str = "") -> FlowTable:
    """A table serving flow files and bundles; for one flow given twice, the last revision is current."""
    return serving_table(load_sources(paths, base_url), dids)


def follow_store(db: str, store: Store | None = None) -> "StoreFollower":
    """A started ``StoreFollower`` keeping a new table loaded from the store ``db`` names."""
    from designer.host.follow import StoreFollower
    from designer.store import open_store, safe_url

    return StoreFollower(lambda: open_store(db), FlowTable(), store=store, where=safe_url(db)).start()



def app_from_env():
    """App factory for ``uvicorn --factory`` worker processes; reads ``$FLEXML_HOST_CONFIG`` (JSON).

    Keys: ``sources`` (paths), ``dids`` (NUMBER[=FLOW] specs), ``base_url``, ``db`` (store URL or SQLite
    path for events and the operators' switches of Hours steps, or absent), ``serve_store`` (serve what
    the ``db`` store holds, following its changes), ``quiet`` (no event lines when there is no db).
    """
    config = json.loads(os.environ.get(CONFIG_ENV, "{}"))
    if config.get("serve_store"):
        follower = follow_store(config["db"])
        follower.loaded.wait(STORE_LOAD_WAIT)  # answer from the store's flows from the first request on
        table = follower.table
    else:
        table = table_from_sources(config.get("sources", []), config.get("dids", []), config.get("base_url", ""))
    recorder = None
    if config.get("db"):
        recorder = ProcessRecorder(config["db"])
        from designer.host.overrides import follow_overrides

        follow_overrides(table, config["db"])  # operators' switches of Hours steps, within a second
    elif not config.get("quiet"):
        recorder = EventRecorder(printer())

    return create_host_app(table, recorder, freeze_gc=True)  # closes the recorder at shutdown
