"""flexml-designer publish FLOW.json|BUNDLE.zip --db URL [--did NUMBER …] [--note TEXT] [--id FLOW_ID]"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from designer.cli import UserError

HELP = "Validate, compile and publish a flow file or bundle into a store (for CI/CD); every host serving it follows."
MAX_FILE_BYTES = 32 << 20


def add_arguments(p) -> None:
    p.add_argument("source", metavar="FLOW.json|BUNDLE.zip", help="a flow file or an exported bundle")
    add_store_option(p)
    p.add_argument("--did", action="append", default=[], metavar="NUMBER",
                   help="a phone number (E.164, e.g. +15162065337) to ring this flow (may repeat)")
    p.add_argument("--note", default="", metavar="TEXT", help="kept with the revision (e.g. the commit id)")
    p.add_argument("--id", default=None, metavar="FLOW_ID",
                   help="publish as this flow id (default: the id in the file, else the file's name)")


def add_store_option(p) -> None:
    """``--db URL``: the store a command of the CI/CD kind (publish, unbind, rollback, hours) works on."""
    p.add_argument("--db", default=None, metavar="URL",
                   help="the store: postgresql://user:pass@host:5432/name or a SQLite path (default $FLEXML_DB)")


def store_from(db: str | None):
    """The store a ``--db`` value (or $FLEXML_DB) names, opened; one clear line when it cannot be."""
    from designer.store import StoreError, open_store, safe_url

    db = db or os.environ.get("FLEXML_DB")
    if not db:
        raise UserError("--db URL is needed (or $FLEXML_DB): postgresql://user:pass@host:5432/name or a SQLite path")
    try:
        return open_store(db)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - sqlite3 and OS errors alike: one clear line
        raise UserError(f"--db {safe_url(db)}: cannot open the database: {exc}") from None


def _read(path: str) -> bytes:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_FILE_BYTES:
            raise UserError(f"{path}: the file is larger than {MAX_FILE_BYTES:,} bytes")
        return p.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}") from None


def _flow_id(graph, source: str, wanted: str | None) -> str:
    from compiler.validate import FLOW_ID, RESERVED_FLOW_IDS
    from designer import services

    flow_id = wanted or str(graph.graph.get("id") or "") or services.slugify(Path(source).stem)
    if not FLOW_ID.match(flow_id) or flow_id in RESERVED_FLOW_IDS:
        raise UserError(f"{source}: {flow_id!r} cannot be a flow id (lowercase letters, digits and dashes); "
                        "give one with --id")
    return flow_id


def run(args) -> int:
    from compiler import only_errors, validate
    from compiler import flow as flowfile
    from designer import services
    from designer.context import AppContext
    from designer.store import StoreError

    try:
        graph = services.parse_upload(_read(args.source), args.source).graph
    except services.ServiceError as exc:
        raise UserError(str(exc)) from None
    flow_id = _flow_id(graph, args.source, args.id)
    graph.graph["id"] = flow_id
    problems = validate(graph)
    if only_errors(problems):
        for problem in only_errors(problems):
            print(f"{args.source}: {problem}", file=sys.stderr)
        print(f"{args.source}: not published ({len(only_errors(problems))} error(s))", file=sys.stderr)
        return 1
    numbers = []
    for did in args.did:
        try:
            numbers.append(services.checked_number(did))
        except services.ServiceError as exc:
            raise UserError(f"--did {did}: {exc}") from None
    store = store_from(args.db)
    try:
        ctx = AppContext(store=store, table=None)
        name = " ".join(str(graph.graph.get("name") or flow_id).split())[:120]
        graph.graph["name"] = name
        text = flowfile.dumps(graph)
        record = store.get_flow(flow_id)
        try:
            if record is None:
                store.create_flow(flow_id, name, text)
            else:
                store.save_flow(flow_id, text, record.version, name=name)
            try:
                rev, published = services.publish(ctx, flow_id, note=args.note).rev, True
            except services.NothingToPublish as exc:  # a pipeline run again on the same flow: nothing to do
                rev, published = exc.rev, False
            for number in numbers:
                services.bind_number(ctx, number, flow_id)
        except services.PublishRefused as exc:
            for problem in exc.problems:
                print(f"{args.source}: {problem}", file=sys.stderr)
            return 1
        except (services.ServiceError, StoreError) as exc:
            raise UserError(str(exc)) from None
        urls = services.carrier_urls(ctx, flow_id)
        if published:
            print(f"Published flow {flow_id} revision {rev}" + (f" ({args.note})" if args.note else ""))
        else:
            print(f"Flow {flow_id} has no changes since revision {rev}; it stays published, nothing new made")
        print(f"  flow URL                                 {urls['flow']}")
        print(f"  account URL (answers the numbers below)  {urls['account']}")
        print(f"  status callback URL                      {urls['status']}")
        bound = sorted(n for n, f in store.dids().items() if f == flow_id)
        if bound:
            print("Numbers on the account URL:")
            print("\n".join(f"  +{n} → {flow_id}" for n in bound))
    finally:
        store.close()
    return 0
