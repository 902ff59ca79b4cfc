"""flexml-designer host FLOW.json|BUNDLE.zip … --did NUMBER[=FLOW_ID] … --port N [--workers N]"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from argparse import Namespace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from designer.cli import UserError, check_address

if TYPE_CHECKING:
    from designer.host import InProcessHost

HELP = "Host flow files and export bundles for the carrier, without the designer."


def add_arguments(p) -> None:
    p.add_argument("sources", nargs="+", metavar="FLOW.json|BUNDLE.zip",
                   help="flow files (served as revision 1) and export bundles")
    p.add_argument("--did", action="append", default=[], metavar="NUMBER[=FLOW_ID]",
                   help="a phone number the account URL answers, and its flow (may repeat; "
                        "the flow may be left out when there is only one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default 1)")
    p.add_argument("--base-url", default="", metavar="URL",
                   help="public URL the carrier reaches this host at (e.g. https://ivr.example.com); "
                        "used in printed URLs and in documents compiled from flow files")
    p.add_argument("--db", metavar="PATH", help="record call events in this SQLite file (else print them)")
    p.add_argument("--quiet", action="store_true", help="do not print call events")
    p.add_argument("--access-log", action="store_true", help="also print uvicorn's access log")
    p.add_argument("--get", metavar="PATH",
                   help="do not serve: send one GET request (e.g. '/flexml?To=15162065337') through the "
                        "host and print the answer")


def _base_url(args) -> str:
    base = args.base_url.rstrip("/")
    if base:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UserError(f"--base-url {args.base_url!r} must look like https://ivr.example.com")
    return base


def _hosted(args: Namespace, base: str) -> InProcessHost:
    from designer.host import hosted

    try:
        return hosted(sources=args.sources, numbers=args.did, base_url=base)
    except ValueError as exc:  # a --did spec (the compiler's errors print as they are)
        raise UserError(str(exc)) from None


def _get(host: InProcessHost, path: str) -> int:
    if not path.startswith("/"):
        raise UserError(f"--get {path!r} must be a path starting with /, e.g. /flexml?To=15162065337")
    response = asyncio.run(host.get(path))
    sys.stdout.write(response.text)
    for problem in host.host_errors():
        print(f"(the host logged an error: {problem})", file=sys.stderr)
    return 0


def _check_db(path: str) -> None:
    """Refuse, in one line, an events file that SQLite cannot open (a folder, not a database …)."""
    from designer.store import SQLiteStore

    try:
        SQLiteStore(path).close()
    except Exception as exc:  # noqa: BLE001 - sqlite3 and OS errors alike: one clear line
        raise UserError(f"--db {path}: cannot open the database: {exc}") from None


def urls_to_configure(table, public: str) -> list[str]:
    lines = ["Configure at the carrier (method POST, or GET):",
             f"  account URL (answers the numbers below)  {public}/flexml",
             f"  status callback URL                      {public}/flexml/status"]
    for flow in table.flows():
        lines.append(f"  flow {flow} (revision {table.current_revision(flow)})".ljust(43) + f"{public}/flexml/{flow}")
    numbers = table.numbers()
    if numbers:
        lines.append("Numbers on the account URL:")
        lines += [f"  {number} → {flow}" for number, flow in sorted(numbers.items())]
    else:
        lines.append("No --did numbers: point each number at its flow URL, or add --did NUMBER=FLOW_ID.")
    return lines


def run(args) -> int:
    base = _base_url(args)
    if args.workers < 1:
        raise UserError(f"--workers {args.workers}: must be 1 or more")
    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: must be between 1 and 65535")
    served = _hosted(args, base)
    table = served.table
    if args.get:
        return _get(served, args.get)

    import uvicorn

    from designer.host.event_writer import ProcessRecorder
    from designer.host import CONFIG_ENV, EventRecorder, hosted, printer

    check_address(args.host, args.port)
    if args.db:
        _check_db(args.db)
    public = base or f"http://{args.host}:{args.port}"
    print(f"Hosting {len(table.flows())} flow(s) on http://{args.host}:{args.port}"
          + (f" with {args.workers} workers" if args.workers > 1 else ""))
    print("\n".join(urls_to_configure(table, public)), flush=True)
    from designer.host.guard import server_settings

    try:
        guard = server_settings()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    settings = dict(host=args.host, port=args.port, log_level="warning", access_log=args.access_log, **guard)
    if args.workers > 1:
        os.environ[CONFIG_ENV] = json.dumps({
            "sources": [os.path.abspath(s) for s in args.sources], "dids": args.did, "base_url": base,
            "db": os.path.abspath(args.db) if args.db else None, "quiet": args.quiet})
        from designer.host import workers as host_workers

        if host_workers.supported():  # each worker its own SO_REUSEPORT socket: connections spread evenly
            return host_workers.supervise(args.workers, args.host, args.port, args.access_log)
        uvicorn.run("designer.host:app_from_env", factory=True, workers=args.workers, **settings)
        return 0
    recorder = None
    if args.db:
        recorder = ProcessRecorder(args.db)
    elif not args.quiet:
        recorder = EventRecorder(printer())
    try:
        uvicorn.run(hosted(table=table, on_event=recorder, freeze_gc=True).app, **settings)
    finally:
        if recorder is not None:
            recorder.close()
    return 0
