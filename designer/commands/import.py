"""flexml-designer import FILE.xml|BUNDLE.zip|DIR [-o FLOW.json] [--id FLOW_ID] [--name NAME] [--entry DOC]
[--server-url URL] [--dialect twiml|flexml] [--region CC]"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from compiler.flow import dumps
from compiler.importer import import_path
from compiler.validate import FLOW_ID, RESERVED_FLOW_IDS

from designer.cli import UserError

HELP = "Turn FlexML or TwiML documents (a file, a folder or an exported bundle) into a flow file."


def add_arguments(p) -> None:
    p.add_argument("source", metavar="FILE.xml|BUNDLE.zip|DIR", help="one document, a folder of them, or a bundle")
    p.add_argument("-o", "--out", metavar="FLOW.json", help="write the flow here (default: standard output)")
    p.add_argument("--id", dest="flow_id", metavar="FLOW_ID", help="the flow's id (a-z, 0-9 and -)")
    p.add_argument("--name", help="the flow's name shown in the designer")
    p.add_argument("--entry", metavar="DOC", help="the document calls start at (name or path in the set)")
    p.add_argument("--server-url", metavar="URL", help="the address of the server the documents came from; their "
                   "paths (/completed) and relative links outside the set are read against it")
    p.add_argument("--dialect", choices=("twiml", "flexml"), help="read every document as TwiML or as FlexML "
                   "(default: TwiML when a document uses something only TwiML has)")
    p.add_argument("--region", default="US", metavar="CC", help="the country national phone numbers "
                   "(415-123-4567) are read in (default: US)")


def run(args) -> int:
    if args.flow_id is not None and (not FLOW_ID.match(args.flow_id) or args.flow_id in RESERVED_FLOW_IDS):
        raise UserError(f"--id {args.flow_id!r}: a flow id uses only a-z, 0-9 and - (not 'status')")
    if not re.fullmatch(r"[A-Za-z]{2}", args.region or ""):
        raise UserError(f"--region {args.region!r}: give a two-letter country code, like US or GB")
    result = import_path(args.source, args.entry, flow_id=args.flow_id, name=args.name,  # ImportRefused: one line
                         server_url=args.server_url, dialect=args.dialect, region=args.region.upper())
    for note in result.notes:
        tag = "note" if note.severity == "info" else "warning"
        print(f"{tag}: {note}", file=sys.stderr)
    text = dumps(result.graph)
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write {args.out}: {exc.strerror}") from None
        steps = result.graph.number_of_nodes()
        print(f"{args.out}: {steps} steps from {len(result.documents)} document(s), start {result.start}",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
