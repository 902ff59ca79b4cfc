"""flexml-designer rollback FLOW_ID [REV] --db URL"""

from __future__ import annotations

import time

from designer.cli import UserError
from designer.commands.publish import add_store_option

HELP = ("List a flow's revisions in a store, or make an earlier one the revision new calls get (a rollback "
        "without the designer); every host serving it follows. The draft is left as it is.")


def add_arguments(p) -> None:
    p.add_argument("flow", metavar="FLOW_ID", help="the flow's id, e.g. main-menu")
    p.add_argument("rev", metavar="REV", nargs="?", default=None,
                   help="the revision to serve to new calls (leave out to list the revisions)")
    add_store_option(p)


def _revision_number(text: str) -> int:
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise UserError(f"REV {text[:40]!r}: a revision number (1, 2, …) is needed")
    return int(text)


def run(args) -> int:
    from designer import services
    from designer.commands.publish import store_from
    from designer.context import AppContext

    rev = None if args.rev is None else _revision_number(args.rev)
    store = store_from(args.db)
    try:
        ctx = AppContext(store=store, table=None)
        try:
            if rev is None:
                record, revisions = services.flow_revisions(ctx, args.flow)
                if not revisions:
                    print(f"Flow {args.flow} has no revisions yet (publish it first)")
                for r in revisions:
                    live = "  ← new calls get this one" if r.rev == record.published_rev else ""
                    note = f"  {r.note}" if r.note else ""
                    print(f"  revision {r.rev:<4} {time.strftime('%Y-%m-%d %H:%M', time.localtime(r.created_at))}{note}{live}")
                return 0
            before = services.rollback(ctx, args.flow, rev)
        except services.ServiceError as exc:
            raise UserError(str(exc)) from None
        if before == rev:
            print(f"Flow {args.flow} already serves revision {rev} to new calls; nothing changed")
        else:
            print(f"Flow {args.flow}: new calls get revision {rev} (was {before or 'none'}); "
                  "calls in progress finish on the revision they started with")
    finally:
        store.close()
    return 0
