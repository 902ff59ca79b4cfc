"""flexml-designer hours FLOW [STEP] --db URL (--closed | --open [--until TIME] | --clear | --status)"""

from __future__ import annotations

from designer.cli import UserError
from designer.commands.publish import add_store_option

HELP = ("The operator's switch of a flow's business-hours step: closed now, open now (until a time or until "
        "cleared), back to the schedule, or what calls get now. Every host serving the store follows within "
        "a second; nothing is republished.")


def add_arguments(p) -> None:
    p.add_argument("flow", metavar="FLOW", help="the flow's id, as on the Flows page")
    p.add_argument("step", metavar="STEP", nargs="?", default=None,
                   help="the business-hours step's id (needed only when the flow has more than one)")
    add_store_option(p)
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--closed", dest="switch", action="store_const", const="closed",
                      help="calls take the 'closed' path from now on")
    what.add_argument("--open", dest="switch", action="store_const", const="open",
                      help="calls take the 'open' path from now on")
    what.add_argument("--clear", dest="switch", action="store_const", const="clear",
                      help="the schedule decides again")
    what.add_argument("--status", dest="switch", action="store_const", const="status",
                      help="print what calls get now, and any switch in force")
    p.add_argument("--until", metavar="TIME", default=None,
                   help="with --closed or --open: until then, e.g. 2026-12-26T09:00 (in the step's time zone, "
                        "or with an offset); without it, until cleared")


def run(args) -> int:
    from designer import services
    from designer.commands.publish import store_from
    from designer.context import AppContext

    if args.until is not None and args.switch not in ("closed", "open"):
        raise UserError("--until goes with --closed or --open")
    store = store_from(args.db)
    try:
        ctx = AppContext(store=store, table=None)
        try:
            flow_zone, steps = _steps(services, ctx, args.flow)
            nodes = [args.step] if args.step is not None else list(steps)
            if args.step is not None and args.step not in steps:
                raise UserError(f"flow {args.flow!r} has no business-hours step {args.step[:40]!r}; "
                                f"it has: {', '.join(steps) or 'none'}")
            if args.switch != "status" and len(nodes) != 1:
                raise UserError(f"flow {args.flow!r} has {len(nodes)} business-hours steps ({', '.join(nodes)}); "
                                "name the one to switch")
            if args.switch in ("closed", "open"):
                until = _until(args.until, steps[nodes[0]]) if args.until else None
                services.set_hours_override(ctx, args.flow, nodes[0], args.switch, until)
            elif args.switch == "clear":
                services.clear_hours_override(ctx, args.flow, nodes[0])
            for node in nodes:
                print(_status(services, ctx, args.flow, node, steps[node], flow_zone))
        except services.ServiceError as exc:
            raise UserError(str(exc)) from None
    finally:
        store.close()
    return 0


def _steps(services, ctx, flow: str) -> tuple[str | None, dict[str, tuple[dict, str]]]:
    """The flow's time zone and its Hours steps: id → (fields, the zone it decides in)."""
    from compiler.decisions import step_zone

    graph = services.draft_graph(ctx, flow)
    zone = graph.graph.get("timezone") if isinstance(graph.graph.get("timezone"), str) else None
    steps = {n: (graph.nodes[n], step_zone(graph.nodes[n], zone)) for n in services.hours_steps(ctx, flow)}
    if not steps:
        raise UserError(f"flow {flow!r} has no business-hours step")
    return zone, steps


def _until(text: str, step: tuple[dict, str]) -> float:
    from compiler.decisions import at_time

    try:
        return at_time(text, step[1]).timestamp()
    except ValueError as exc:
        raise UserError(f"--until: {exc}") from None


def _status(services, ctx, flow: str, node: str, step: tuple[dict, str], flow_zone: str | None) -> str:
    """``main-menu hours: calls now: closed, switched by the operator until … (…)``."""
    _, reason = services.hours_now(ctx, flow, node, step[0], flow_zone)  # the reason starts with the path
    switched = node in services.hours_overrides(ctx, flow)
    return f"{flow} {node}: calls now: {reason}" + ("" if switched else "; no switch, the schedule decides")
