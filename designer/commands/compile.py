"""flexml-designer compile FLOW.json --out DIR | --zip FILE [--base-url URL]"""

from __future__ import annotations

from pathlib import Path

from compiler import compile_flow, load, write_dir, write_zip

from designer.cli import UserError

HELP = "Compile a flow file to FlexML documents: a folder (--out) or a bundle zip (--zip)."


def add_arguments(p) -> None:
    p.add_argument("flow", metavar="FLOW.json")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", metavar="DIR", help="write documents/, manifest.json and flow.json here")
    target.add_argument("--zip", metavar="FILE", help="write an export bundle")
    p.add_argument("--base-url", default="", metavar="URL",
                   help="public URL of the host (e.g. https://ivr.example.com); URLs are paths without it")
    p.add_argument("--revision", default="1", help="revision named in the document URLs (default 1)")


def run(args) -> int:
    base = args.base_url.rstrip("/")
    if base and not base.startswith(("http://", "https://")):
        raise UserError(f"--base-url {args.base_url!r} must start with http:// or https://")
    graph = load(args.flow)
    compiled = compile_flow(graph, revision=args.revision, base_url=base)
    try:
        if args.zip:
            Path(args.zip).write_bytes(write_zip(compiled, graph))
            print(f"{args.zip}: {len(compiled.documents)} documents, start {compiled.start}")
        else:
            write_dir(compiled, graph, args.out)
            print(f"{args.out}: {len(compiled.documents)} documents, start {compiled.start}")
    except OSError as exc:
        raise UserError(f"cannot write output: {exc.strerror}: {exc.filename}") from None
    return 0
