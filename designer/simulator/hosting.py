"""Hosting flow files and bundles inside the simulator's process, for ``simulate FLOW.json``.

The built-in host (``designer.host.hosted``) answers through ``httpx.ASGITransport``:
no socket, no port. The host's own events are kept, so a call that the host
could only answer with an apology (an unknown document, say) is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx

from compiler import CompiledFlow
from designer.host.inprocess import BASE_URL, InProcessHost, hosted, load_sources
from designer.store import CallEvent

__all__ = ["BASE_URL", "HostedFlows", "host_sources"]


@dataclass
class HostedFlows:
    """The flows a simulated call may fetch, the host serving them, and the URL the call starts at."""

    flows: list[CompiledFlow]
    host: InProcessHost
    url: str  # the start URL of the chosen flow

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        return self.host.transport

    @property
    def status_url(self) -> str:
        return self.host.status_url

    @property
    def events(self) -> list[CallEvent]:
        return self.host.events

    def host_errors(self) -> list[str]:
        return self.host.host_errors()


def host_sources(paths: list[str | Path], flow: str | None = None, at: datetime | None = None) -> HostedFlows:
    """Serve flow files / bundles in process; the call starts at ``flow`` (default: the first).

    With ``at`` (an aware datetime) the host's Hours steps decide as if it were that time.
    """
    compiled = load_sources(paths)
    ids = [c.flow for c in compiled]
    if flow is not None and flow not in ids:
        raise ValueError(f"no flow {flow!r} in the files given; flows: {', '.join(ids)}")
    host = hosted(compiled)
    if at is not None:
        host.table.now = lambda: at
    return HostedFlows(flows=compiled, host=host, url=host.url(flow or ids[0]))
