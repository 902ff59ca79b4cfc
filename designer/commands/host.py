"""flexml-designer host FLOW.json|BUNDLE.zip … --did NUMBER[=FLOW_ID] … --port N [--workers N]
flexml-designer host --db URL [--port N] [--workers N]   (serve what the store holds, following its changes)"""

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
    p.add_argument("sources", nargs="*", metavar="FLOW.json|BUNDLE.zip",
                   help="flow files (served as revision 1) and export bundles; without any, --db (or $FLEXML_DB) "
                        "names the store whose published flows and numbers are served")
    p.add_argument("--did", action="append", default=[], metavar="NUMBER[=FLOW_ID]",
                   help="a phone number the account URL answers, and its flow (may repeat; "
                        "the flow may be left out when there is only one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes (default 1)")
    p.add_argument("--base-url", default="", metavar="URL",
                   help="public URL the carrier reaches this host at (e.g. https://ivr.example.com); "
                        "used in printed URLs and in documents compiled from flow files")
    p.add_argument("--db", metavar="URL",
                   help="a store: postgresql://user:pass@host:5432/name, or a SQLite path (sqlite:///path). "
                        "Without flow files: serve every flow published in it, following publishes within a second. "
                        "Call events are recorded in it (else printed), and the operators' switches of Hours "
                        "steps kept in it are followed")
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
    from designer.store import SQLiteStore, sqlite_path

    try:
        SQLiteStore(sqlite_path(path)).close()
    except Exception as exc:  # noqa: BLE001 - sqlite3 and OS errors alike: one clear line
        raise UserError(f"--db {path}: cannot open the database: {exc}") from None


def _db_arg(db: str) -> str:
    """A ``--db`` value as the worker processes and the event writer get it (SQLite paths made absolute)."""
    from designer.store import is_postgres, sqlite_path

    return db if is_postgres(db) else os.path.abspath(sqlite_path(db))


def _open_served_store(db: str):
    """The store to serve, opened now; None (said so) while the database cannot be reached."""
    from designer.store import StoreError, is_postgres, open_store, safe_url
    from designer.store.migrations import SchemaTooNew

    if not is_postgres(db):
        _check_db(db)
    try:
        return open_store(db)
    except SchemaTooNew as exc:
        raise UserError(f"--db: {exc}") from None
    except StoreError as exc:
        print(f"{exc}; starting anyway: answering with an apology until {safe_url(db)} is reachable, "
              "retrying every second", file=sys.stderr, flush=True)
        return None


def urls_to_configure(table, public: str) -> list[str]:
    root = f"{public}/flexml"
    if table.trust.required and table.trust.token:  # the store requires the carrier's token (Settings)
        from designer.host.trust import token_segment

        root += "/" + token_segment(table.trust.token)
    lines = ["Configure at the carrier (method POST, or GET):",
             f"  account URL (answers the numbers below)  {root}",
             f"  status callback URL                      {root}/status"]
    for flow in table.flows():
        lines.append(f"  flow {flow} (revision {table.current_revision(flow)})".ljust(43) + f"{root}/{flow}")
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
    if not args.sources:
        args.db = args.db or os.environ.get("FLEXML_DB")
        if not args.db:
            raise UserError("give flow files or bundles to host, or --db URL (or $FLEXML_DB) to serve a store")
        if args.did:
            raise UserError("--did binds numbers for flow files; a store's numbers are bound in it "
                            "(flexml-designer publish --did, or the designer)")
        return _serve_store(args, base)
    served = _hosted(args, base)
    table = served.table
    if args.get:
        return _get(served, args.get)

    from designer.host import EventRecorder, printer
    from designer.host.event_writer import ProcessRecorder

    check_address(args.host, args.port)
    if args.db:
        from designer.store import is_postgres

        if not is_postgres(args.db):
            _check_db(args.db)
    public = base or f"http://{args.host}:{args.port}"
    print(f"Hosting {len(table.flows())} flow(s) on http://{args.host}:{args.port}"
          + (f" with {args.workers} workers" if args.workers > 1 else ""))
    print("\n".join(urls_to_configure(table, public)), flush=True)

    def record():
        if args.db:
            from designer.host.overrides import follow_overrides

            follow_overrides(table, _db_arg(args.db))  # operators' switches of Hours steps, within a second
            return ProcessRecorder(args.db)
        return None if args.quiet else EventRecorder(printer())

    config = {"sources": [os.path.abspath(s) for s in args.sources], "dids": args.did, "base_url": base,
              "db": _db_arg(args.db) if args.db else None, "quiet": args.quiet}
    return _serve(args, table, config, record)


def _serve(args, table, config: dict, record, stop=lambda: None) -> int:
    """Serve ``table`` behind the slow-client guard: ``--workers N`` processes that each build their own
    from ``config``, or this process, recording with ``record()``; ``stop()`` once done with ``table``."""
    import uvicorn

    from designer.host import CONFIG_ENV, hosted
    from designer.host.guard import server_settings

    try:
        guard = server_settings()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    settings = dict(host=args.host, port=args.port, log_level="warning", access_log=args.access_log, **guard)
    if args.workers > 1:
        stop()  # each worker builds (and follows) its own table
        os.environ[CONFIG_ENV] = json.dumps(config)
        from designer.host import workers as host_workers

        if host_workers.supported():  # each worker its own SO_REUSEPORT socket: connections spread evenly
            return host_workers.supervise(args.workers, args.host, args.port, args.access_log)
        uvicorn.run("designer.host:app_from_env", factory=True, workers=args.workers, **settings)
        return 0
    recorder = record()
    try:
        uvicorn.run(hosted(table=table, on_event=recorder, freeze_gc=True).app, **settings)
    finally:
        stop()
        if recorder is not None:
            recorder.close()
    return 0


def _serve_store(args, base: str) -> int:
    """``host --db URL``: answer from what the store holds, following its publishes, binds and unbinds."""
    from designer.host import follow_store, hosted
    from designer.host.event_writer import ProcessRecorder
    from designer.store import safe_url

    db = _db_arg(args.db)
    store = _open_served_store(db)
    follower = follow_store(db, store)
    if store is not None:
        follower.loaded.wait(10)
    if args.get:
        if not follower.loaded.is_set():
            raise UserError(f"--db: cannot reach {safe_url(db)}")
        return _get(hosted(table=follower.table), args.get)
    check_address(args.host, args.port)
    table = follower.table
    public = base or f"http://{args.host}:{args.port}"
    print(f"Hosting the store {safe_url(db)} on http://{args.host}:{args.port}"
          + (f" with {args.workers} workers" if args.workers > 1 else "")
          + ": publishes, binds and unbinds reach this host as they happen")
    print("\n".join(urls_to_configure(table, public)), flush=True)

    def record():
        from designer.host.overrides import follow_overrides

        follow_overrides(table, db)  # operators' switches of Hours steps, within a second (as each worker does)
        return ProcessRecorder(db)

    config = {"db": db, "serve_store": True, "base_url": base, "quiet": args.quiet}
    return _serve(args, table, config, record, stop=follower.stop)
