"""flexml-designer unbind NUMBER --db URL"""

from __future__ import annotations

from designer.cli import UserError
from designer.commands.publish import add_store_option

HELP = "Stop ringing a flow for a phone number in a store; every host serving it follows."


def add_arguments(p) -> None:
    p.add_argument("number", metavar="NUMBER", help="the bound number, e.g. +15162065337")
    add_store_option(p)


def run(args) -> int:
    from designer import services
    from designer.commands.publish import store_from
    from designer.context import AppContext

    store = store_from(args.db)
    try:
        ctx = AppContext(store=store, table=None)
        flow = store.dids().get("".join(c for c in args.number if c.isdigit()))
        try:
            services.unbind_number(ctx, args.number)
        except services.ServiceError as exc:
            raise UserError(str(exc)) from None
        print(f"Unbound {args.number} (it rang flow {flow})")
    finally:
        store.close()
    return 0
