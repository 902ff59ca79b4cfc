"""Hosting flow files and bundles inside the simulator's process, for ``simulate FLOW.json``.

The built-in host (``designer.host``) answers through ``httpx.ASGITransport``:
no socket, no port. The host's own events are kept, so a call that the host
could only answer with an apology (an unknown document, say) is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx

from compiler import CompiledFlow

BASE_URL = "http://designer.local"


@dataclass
class HostedFlows:
    flows: list[CompiledFlow]
    transport: httpx.AsyncBaseTransport
    url: str  # the start URL of the first flow
    status_url: str
    events: list = field(default_factory=list)  # designer.store.CallEvent records from the host

    def host_errors(self) -> list[str]:
        return [str(e.target) for e in self.events if e.kind == "error"]


def host_sources(paths: list[str | Path], flow: str | None = None) -> HostedFlows:
    """Serve flow files / bundles in process; the call starts at ``flow`` (default: the first)."""
    from designer.host import FlowTable, create_host_app, load_sources

    compiled = load_sources(list(paths))
    table = FlowTable()
    for c in compiled:
        table.serve_revision(c, current=True)
    ids = [c.flow for c in compiled]
    if flow is not None and flow not in ids:
        raise ValueError(f"no flow {flow!r} in the files given; flows: {', '.join(ids)}")
    events: list = []
    app = create_host_app(table, on_event=events.append)
    start = flow or ids[0]
    return HostedFlows(flows=compiled, transport=httpx.ASGITransport(app=app), url=f"{BASE_URL}/flexml/{start}",
                       status_url=f"{BASE_URL}/flexml/status", events=events)
