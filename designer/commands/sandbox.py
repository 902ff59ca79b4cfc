"""flexml-designer sandbox [--port N] [--host H] [--db PATH] [--login L --password P] [--dids N,N,…]"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from designer.cli import UserError
from designer.sandbox.schema import digits_only

HELP = ("Run a local sandbox of the carrier's FlexML REST API (accounts, DIDs, calls) on its own SQLite file; "
        "created calls are played by the call simulator.")

DEFAULT_DB = Path.home() / ".local" / "share" / "flexml-designer" / "sandbox.sqlite"


def add_arguments(p) -> None:
    p.add_argument("--port", type=int, default=8070, help="port to listen on (default 8070)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--db", default=os.environ.get("FLEXML_SANDBOX_DB", str(DEFAULT_DB)),
                   help=f"the sandbox's SQLite file (default $FLEXML_SANDBOX_DB or {DEFAULT_DB})")
    p.add_argument("--login", help="the endpoint's login (default: kept from the last start, or generated)")
    p.add_argument("--password", help="the endpoint's password (default: kept, or generated)")
    p.add_argument("--dids", default="",
                   help="comma-separated phone numbers to add as the endpoint's DIDs "
                        "(default on first start: 15551230001,15551230002,15551230003)")


def run(args) -> int:
    import uvicorn

    from designer.sandbox import API_PREFIX, DEFAULT_DIDS, create_sandbox_app, setup
    from designer.sandbox.db import SandboxDB

    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: must be between 1 and 65535")
    from designer.host.guard import server_settings

    try:
        guard = server_settings()
    except ValueError as exc:
        raise UserError(str(exc)) from None
    _check_port(args.host, args.port)
    numbers = [n.strip() for n in args.dids.split(",") if n.strip()]
    bad = [n for n in numbers if not digits_only(n)]
    if bad:
        raise UserError(f"--dids: {bad[0]!r} is not a phone number")
    try:
        db = SandboxDB(args.db)
    except Exception as exc:  # sqlite3 errors, permissions
        raise UserError(f"--db {args.db}: cannot open the sandbox's database ({exc})") from None
    first_start = not db.list_all_dids()
    account = setup(db, args.login, args.password, numbers or (DEFAULT_DIDS if first_start else ()))
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    base = f"http://{shown_host}:{args.port}{API_PREFIX}"
    print(f"FlexML REST API sandbox at {base}")
    print(f"  login:    {account['login']}")
    print(f"  password: {account['password']}")
    print(f"  account:  {account['account_sid']}")
    print(f"  DIDs:     {', '.join(db.list_all_dids())}")
    print(f"  database: {args.db}")
    print(f"  try:      curl -u '{account['login']}:{account['password']}' {base}/dids")
    print(f"  sandbox only: POST {base}/sandbox/inbound {{\"to\": DID, \"from\": NUMBER, \"digits\": [\"1\"]}}")
    print(f"  recordings: {base}/sandbox/recordings/… (each plays a short tone)", flush=True)
    uvicorn.run(create_sandbox_app(db, base_url=f"http://{shown_host}:{args.port}"), host=args.host, port=args.port, log_level="warning", **guard)
    return 0


def _check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
