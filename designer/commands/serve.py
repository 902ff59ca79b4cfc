"""flexml-designer serve [--host 127.0.0.1] [--port 8080] [--db PATH] [--public-url URL] [--require-login]
[--forwarded-allow-ips ADDRESSES]"""

from __future__ import annotations

import os
from pathlib import Path

from designer.cli import UserError, check_address

HELP = "Run the designer in the browser, and the host answering the carrier at /flexml (SQLite or PostgreSQL)."
DEFAULT_DB = Path("~/.local/share/flexml-designer/designer.sqlite")


def default_db() -> str:
    return os.environ.get("FLEXML_DB") or str(DEFAULT_DB.expanduser())


def add_arguments(p) -> None:
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other address requires a sign-in)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument("--db", default=None, metavar="URL",
                   help="the store: a SQLite file (default $FLEXML_DB or ~/.local/share/flexml-designer/"
                        "designer.sqlite) or postgresql://user:pass@host:5432/name, shared with `host --db` processes")
    p.add_argument("--public-url", default=None, metavar="URL",
                   help="where the carrier reaches this server, e.g. https://ivr.example.com (kept in settings)")
    p.add_argument("--require-login", action="store_true",
                   help="ask for the password even on 127.0.0.1 (also: FLEXML_REQUIRE_LOGIN=1)")
    p.add_argument("--forwarded-allow-ips", default=os.environ.get("FLEXML_FORWARDED_ALLOW_IPS") or None,
                   metavar="ADDRESSES",
                   help="believe X-Forwarded-For/-Proto only from these proxy addresses (comma-separated, '*' for "
                        "any; also: FLEXML_FORWARDED_ALLOW_IPS); by default from no one")


def run(args) -> int:
    from designer import services
    from designer.app import is_loopback, run as run_app
    from designer.context import AppContext
    from designer.host import follow_store
    from designer.store import StoreError, is_postgres, open_store, safe_url, sqlite_path

    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port}: use a port from 1 to 65535")
    db = args.db or default_db()
    if not is_postgres(db):
        db = sqlite_path(db)
    try:
        store = open_store(db)
    except (OSError, StoreError, Exception) as exc:  # sqlite3 errors too: one clear line
        raise UserError(f"--db {safe_url(db)}: cannot open the database: {exc}") from None
    # the designer's own host follows the store too: what `flexml-designer publish` puts in it is served here
    follower = follow_store(db, store)
    follower.loaded.wait(10)
    ctx = AppContext(store=store, table=follower.table, public_url=f"http://127.0.0.1:{args.port}")
    if args.public_url:
        try:
            services.set_public_url(ctx, args.public_url)
        except services.ServiceError as exc:
            raise UserError(f"--public-url: {exc}") from None
    elif store.get_setting(services.PUBLIC_URL_SETTING) is None and args.host not in ("0.0.0.0", "::"):
        ctx.public_url = f"http://{args.host}:{args.port}"
    forced = os.environ.get("FLEXML_REQUIRE_LOGIN", "").lower() in ("1", "true", "yes")
    from designer.host.guard import server_settings

    try:
        server_settings()  # checked here, for one clear line; the app reads them again
    except ValueError as exc:
        raise UserError(str(exc)) from None
    check_address(args.host, args.port)  # a port in use or an unknown --host: one line, before any URL is printed
    run_app(ctx, args.host, args.port, require_login=args.require_login or forced or not is_loopback(args.host),
            forwarded_allow_ips=args.forwarded_allow_ips)
    return 0
