"""flexml-designer simulate FLOW.json|BUNDLE.zip|URL [--digits 1,#,…] [--from N] [--to N] [--dial-outcome …]
[--at 2026-12-24T18:30 [--tz ZONE]] [--db URL]"""

from __future__ import annotations

import sys
from urllib.parse import urlsplit

from designer.cli import UserError

HELP = ("Simulate a phone call to a flow file, an export bundle or a FlexML URL, and print what the "
        "caller hears.")


def add_arguments(p) -> None:
    from designer.simulator.callers import DIAL_OUTCOMES

    p.add_argument("target", metavar="FLOW.json|BUNDLE.zip|URL",
                   help="a flow file or bundle (hosted in this process for the call) or an http(s) URL")
    p.add_argument("--digits", default=None, metavar="KEYS,KEYS,…",
                   help="keys pressed at each menu in turn, e.g. '1,1234#,-' ('-' or empty: no input)")
    p.add_argument("--from", dest="from_", default="15551230001", metavar="NUMBER", help="the caller's number")
    p.add_argument("--to", default="15551230002", metavar="NUMBER", help="the number called")
    p.add_argument("--dial-outcome", default="completed", choices=DIAL_OUTCOMES,
                   help="how transfers end (default completed); busy, noanswer and failed take a "
                        "transfer's 'not answered' path")
    p.add_argument("--at", metavar="TIME",
                   help="call as if it were this time, e.g. 2026-12-24T18:30 (business-hours steps decide "
                        "by it; flow files and bundles only)")
    p.add_argument("--tz", metavar="ZONE",
                   help="the time zone of --at, e.g. America/New_York (default: the machine's)")
    p.add_argument("--method", default="POST", type=str.upper, choices=("POST", "GET"),
                   help="how the first URL is requested (default POST)")
    p.add_argument("--record-fails", action="store_true", help="recordings fail (tests the error path)")
    p.add_argument("--record-seconds", type=float, default=8.0, metavar="S",
                   help="how long the caller speaks into a recording; 0 = silence (default 8)")
    p.add_argument("--record-key", default="", metavar="KEY",
                   help="a key the caller presses when done speaking into a recording (e.g. '#')")
    p.add_argument("--star-in-transfer", action="store_true",
                   help="the caller presses * during an answered transfer (ends it where hangupOnStar is on)")
    p.add_argument("--play-fails", action="store_true", help="audio files fail to play")
    p.add_argument("--status-callback", metavar="URL",
                   help="status callback URL (flow files: the in-process host's /flexml/status)")
    p.add_argument("--max-fetches", type=int, default=50, metavar="N",
                   help="documents a call may request before it counts as a loop (default 50)")
    p.add_argument("--timeout", type=float, default=10.0, metavar="S",
                   help="seconds a server has to answer each request (default 10)")
    p.add_argument("--db", default=None, metavar="URL",
                   help="record the call in this store (a SQLite file or postgresql://…), marked as a test call: "
                        "it shows on the designer's Calls page (flow files and bundles only)")


def parse_digits(text: str | None) -> list[str | None]:
    if text is None:
        return []
    entries = []
    for raw in text.split(","):
        entry = raw.strip()
        entries.append(None if entry in ("", "-") else entry)
    return entries


def run(args) -> int:
    from designer.simulator.callers import ScriptedCaller
    from designer.simulator.events import origin
    from designer.simulator import run_call

    if args.max_fetches < 1:
        raise UserError("--max-fetches must be 1 or more")
    if not args.timeout > 0:  # also refuses nan
        raise UserError("--timeout must be more than 0 seconds")
    if not 0 <= args.record_seconds < float("inf"):
        raise UserError("--record-seconds must be 0 or more seconds")
    try:
        caller = ScriptedCaller(digits=parse_digits(args.digits), dial_outcome=args.dial_outcome,
                                record_fails=args.record_fails, play_fails=args.play_fails,
                                record_seconds=args.record_seconds, record_key=args.record_key,
                                star_in_transfer=args.star_in_transfer)
    except ValueError as exc:
        raise UserError(f"--{exc}") from None

    at = None
    if args.tz is not None and args.at is None:
        raise UserError("--tz gives the zone of --at; add --at TIME")
    if args.at is not None:
        from compiler.decisions import at_time

        try:
            at = at_time(args.at, args.tz)
        except ValueError as exc:
            raise UserError(f"--at: {exc}") from None
    target = args.target
    hosted = store = None
    if target.startswith(("http://", "https://")):
        try:
            urlsplit(target).port  # reads the host and port: an unclosed [ or a port past 65535 fail here
        except ValueError as exc:
            raise UserError(f"{target!r} is not a URL that can be called: {exc}") from None
        if at is not None:
            raise UserError("--at works for flow files and bundles (hosted here), not for a URL: the server "
                            "there keeps its own clock")
        if args.db:
            raise UserError("--db records calls to flow files and bundles (hosted here); the server at a URL "
                            "records its own calls")
        url, transport, flows, status_url = target, None, [], args.status_callback
    elif "://" in target:
        raise UserError(f"{target!r}: only http:// and https:// URLs can be called")
    else:
        from designer.simulator.hosting import host_sources
        store = _open_store(args.db) if args.db else None
        hosted = host_sources([target], at=at)  # a bad file raises FlowError/CompileError/BundleError: one clear line
        url, transport, flows = hosted.url, hosted.transport, hosted.flows
        status_url = args.status_callback or hosted.status_url

    print(f"Calling {url} from {args.from_} to {args.to}" + (f" at {at:%a %Y-%m-%d %H:%M %Z}" if at else ""))
    base = origin(url)  # URLs on the called server are printed as paths

    def show(event) -> None:
        print(event.line_text(base), flush=True)

    result = run_call(url, caller=caller, from_=args.from_, to=args.to, transport=transport,
                      method=args.method, max_fetches=args.max_fetches, fetch_timeout=args.timeout,
                      on_event=show, status_callback_url=status_url, flows=flows)
    print(result.summary())
    if hosted is not None and store is not None:
        _record(store, hosted.events, args.db)
    problems = hosted.host_errors() if hosted else []
    for problem in problems:
        print(f"the host answered with an apology: {problem}", file=sys.stderr)
    if not result.ok:
        raise UserError(result.reason)
    if problems:
        return 1
    return 0


def _open_store(db: str):
    from designer.store import StoreError, open_store, safe_url

    try:
        return open_store(db)
    except (OSError, StoreError, Exception) as exc:  # sqlite3 errors too: one clear line
        raise UserError(f"--db {safe_url(db)}: cannot open the database: {exc}") from None


def _record(store, events, db: str) -> None:
    """The host's events of this call into ``store``, marked as a test call."""
    from designer.store import safe_url
    from designer.store.calls import as_test

    try:
        store.record_events([as_test(e) for e in events])
    finally:
        store.close()
    print(f"recorded in {safe_url(db)} as a test call ({len(events)} events)")
