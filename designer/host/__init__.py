"""The built-in host: answers the carrier's requests for published flows and phone numbers.

Public API (the designer and the ``host`` command build on these)::

    table = FlowTable()                       # or table_from_store(store)
    table.serve_revision(compiled)            # atomic swap; older revisions keep answering
    table.bind("+1 (516) 206-5337", "main-menu")
    app = create_host_app(table, on_event=EventRecorder(store.record_events))

Modules: ``table`` (flows in memory), ``app`` (the ASGI handler),
``events`` and ``event_writer`` (recording off the answer path), ``workers``; this one loads flows from
files and from the store.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from compiler import BundleError, CompiledFlow, FlowError, compile_flow, load, read_zip

from designer.host.event_writer import ProcessRecorder
from designer.host.app import MAX_BODY, HostHandler, create_host_app, host_routes, read_params
from designer.host.events import EventRecorder, describe, printer
from designer.host.table import FlowTable, ServedRevision, Snapshot, number_key
from designer.store import CallEvent, Store

__all__ = [
    "CallEvent", "EventRecorder", "FlowTable", "HostHandler", "MAX_BODY", "ServedRevision", "Snapshot",
    "app_from_env", "bind_numbers", "create_host_app", "describe", "host_routes", "load_sources",
    "number_key", "printer", "ProcessRecorder", "read_params", "table_from_sources", "table_from_store",
]

log = logging.getLogger("flexml.host")

CONFIG_ENV = "FLEXML_HOST_CONFIG"


def load_sources(paths: list[str | Path], base_url: str = "") -> list[CompiledFlow]:
    """Compiled flows from flow files (``.json``, compiled as revision 1) and bundles (``.zip``).

    Raises FlowError, CompileError or BundleError naming the file; two sources
    giving the same revision of the same flow are refused.
    """
    out: list[CompiledFlow] = []
    seen: dict[tuple[str, str], str] = {}
    for raw in paths:
        path = Path(raw)
        suffix = path.suffix.lower()
        if suffix == ".zip":
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                raise BundleError(f"{path}: no such file") from None
            except OSError as exc:
                raise BundleError(f"{path}: cannot read: {exc.strerror}") from None
            compiled = read_zip(data, str(path))
        elif suffix == ".json":
            compiled = compile_flow(load(path), revision="1", base_url=base_url)
        else:
            raise FlowError(f"{path}: not a flow file (.json) or an export bundle (.zip)")
        key = (compiled.flow, compiled.revision)
        if key in seen:
            raise FlowError(f"{path}: flow {compiled.flow!r} revision {compiled.revision} is also in {seen[key]}")
        if compiled.flow == "status":
            raise FlowError(f"{path}: a flow cannot be called 'status' (that address takes status callbacks)")
        seen[key] = str(path)
        out.append(compiled)
    return out


def bind_numbers(table: FlowTable, dids: list[str]) -> dict[str, str]:
    """Bind ``NUMBER[=FLOW]`` specs; a bare number binds the only flow. Raises ValueError with a clear message."""
    flows = table.flows()
    bound: dict[str, str] = {}
    for spec in dids:
        number, _, flow = str(spec).partition("=")
        flow = flow.strip()
        if not flow:
            if len(flows) != 1:
                raise ValueError(f"--did {spec}: say which flow answers it (NUMBER=FLOW_ID); "
                                 f"flows: {', '.join(flows) or 'none'}")
            flow = flows[0]
        if flow not in flows:
            raise ValueError(f"--did {spec}: no flow {flow!r}; flows: {', '.join(flows) or 'none'}")
        if not number_key(number):
            raise ValueError(f"--did {spec}: {number.strip()!r} is not a phone number")
        bound[table.bind(number, flow)] = flow
    return bound


def table_from_sources(paths: list[str | Path], dids: list[str] = (), base_url: str = "") -> FlowTable:
    """A table serving flow files and bundles; for one flow given twice, the last revision is current."""
    table = FlowTable()
    for compiled in load_sources(list(paths), base_url):
        table.serve_revision(compiled, current=True)
    bind_numbers(table, list(dids))
    return table


def table_from_store(store: Store) -> FlowTable:
    """A table holding every stored revision, the published one current, and the store's numbers.

    A revision whose bundle cannot be read is skipped (and logged): the others keep answering.
    """
    table = FlowTable()
    for rev in store.published_revisions():
        try:
            compiled = read_zip(rev.bundle, f"flow {rev.flow_id} revision {rev.rev}")
        except BundleError as exc:
            log.error("not serving %s", exc)
            continue
        table.serve_revision(compiled, current=False)
    for record in store.list_flows():
        if record.published_rev is not None and str(record.published_rev) in table.revisions(record.id):
            table.set_current(record.id, str(record.published_rev))
    for number, flow in store.dids().items():
        if number_key(number):
            table.bind(number, flow)
    return table


def app_from_env():
    """App factory for ``uvicorn --factory`` worker processes; reads ``$FLEXML_HOST_CONFIG`` (JSON).

    Keys: ``sources`` (paths), ``dids`` (NUMBER[=FLOW] specs), ``base_url``, ``db`` (SQLite path for
    events, or absent), ``quiet`` (no event lines when there is no db).
    """
    config = json.loads(os.environ.get(CONFIG_ENV, "{}"))
    table = table_from_sources(config.get("sources", []), config.get("dids", []), config.get("base_url", ""))
    recorder = None
    if config.get("db"):
        recorder = ProcessRecorder(config["db"])
    elif not config.get("quiet"):
        recorder = EventRecorder(printer())

    return create_host_app(table, recorder, freeze_gc=True)  # closes the recorder at shutdown
