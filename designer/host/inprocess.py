"""Serving flows inside this process: the one set-up the host command, the simulator and test calls share.

    host = hosted(sources=["main-menu.json"], numbers=["+1 516 206 5337"])
    host.table                      # the FlowTable it answers from
    host.app                        # the ASGI app (``uvicorn.run(host.app)`` serves it on a socket)
    host.transport                  # httpx.ASGITransport: requests without a socket or port
    host.url("main-menu")           # http://designer.local/flexml/main-menu
    host.events                     # the host's call events, when no ``on_event`` was given

``load_sources`` compiles flow files (``.json``, as revision 1) and reads
export bundles (``.zip``); ``serving_table`` publishes compiled flows and
binds ``NUMBER[=FLOW]`` specs. Bad input raises the compiler's errors naming
the file, or ``ValueError`` naming the number spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from starlette.applications import Starlette

from compiler import BundleError, CompiledFlow, FlowError, compile_flow, load, read_zip

from designer.host.app import create_host_app
from designer.host.table import FlowTable, number_key
from designer.host.trust import token_segment
from designer.store import CallEvent

BASE_URL = "http://designer.local"  # what in-process requests are addressed to (no name lookup is made)


def load_sources(paths: Iterable[str | Path], base_url: str = "") -> list[CompiledFlow]:
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


def bind_numbers(table: FlowTable, dids: Iterable[str]) -> dict[str, str]:
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


def serving_table(flows: Iterable[CompiledFlow] = (), numbers: Iterable[str] = ()) -> FlowTable:
    """A table serving ``flows`` (for one flow given twice, the last is current) and ``numbers`` specs."""
    table = FlowTable()
    for compiled in flows:
        table.serve_revision(compiled, current=True)
    bind_numbers(table, numbers)
    return table


@dataclass
class InProcessHost:
    """The built-in host over one table, reachable in process through ``transport``."""

    table: FlowTable
    app: Starlette
    transport: httpx.AsyncBaseTransport
    events: list[CallEvent] = field(default_factory=list)  # kept when no on_event was given
    base_url: str = BASE_URL

    @property
    def root(self) -> str:
        """``{base}/flexml``, with the carrier's token when the table requires it (a test call is recorded
        like a real one)."""
        trust = self.table.trust
        return f"{self.base_url}/flexml" + (f"/{token_segment(trust.token)}" if trust.required and trust.token
                                            else "")

    def url(self, flow: str, rev: str | None = None) -> str:
        """The flow's start URL; with ``rev``, that revision's (``draft`` for an editor's draft)."""
        return f"{self.root}/{flow}" + (f"/{rev}" if rev else "")

    @property
    def status_url(self) -> str:
        return f"{self.root}/status"

    def host_errors(self) -> list[str]:
        """The reasons of the apologies the host answered with (an unknown document, say)."""
        return [str(e.target) for e in self.events if e.kind == "error"]

    async def get(self, path: str) -> httpx.Response:
        """One GET request (``/flexml?To=…``) through the host."""
        async with httpx.AsyncClient(transport=self.transport, base_url=self.base_url) as client:
            return await client.get(path)


def hosted(flows: Iterable[CompiledFlow] = (), numbers: Iterable[str] = (), *, sources: Iterable[str | Path] = (),
           base_url: str = "", table: FlowTable | None = None, on_event: Callable[[CallEvent], None] | None = None,
           freeze_gc: bool = False) -> InProcessHost:
    """Serve compiled ``flows`` and flow files or bundles (``sources``) in process, or an existing ``table``.

    ``numbers`` are ``NUMBER[=FLOW]`` specs; ``base_url`` goes into documents
    compiled from flow files. Events go to ``on_event`` (a recorder), else to
    the host's ``events`` list. ``freeze_gc`` as in ``create_host_app``.
    """
    if table is None:
        table = serving_table([*flows, *load_sources(sources, base_url)], numbers)
    events: list[CallEvent] = []
    app = create_host_app(table, on_event if on_event is not None else events.append, freeze_gc=freeze_gc)
    return InProcessHost(table=table, app=app, transport=httpx.ASGITransport(app=app), events=events)
