"""The ``flexml-designer`` command line.

Each subcommand lives in ``designer/commands/<name>.py`` with ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Expected failures raise
``UserError`` (or any ``DesignerError`` or ``CompilerError``) and print one
clear line; a ``CompileError`` prints its problems one per line. No tracebacks.
"""

from __future__ import annotations

import argparse
import importlib
import socket
import sys

from compiler import CompileError, CompilerError

from designer import __version__
from designer.errors import DesignerError

COMMANDS = ("serve", "validate", "compile", "host", "publish", "rollback", "unbind", "hours", "simulate", "import",
            "sandbox")


class UserError(DesignerError):
    """A mistake the user can fix; printed as it is, exit status 1."""


def check_address(host: str, port: int) -> None:
    """Refuse, in one line, an address a server could not listen on (before printing URLs for it)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UserError(f"--host {host!r}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def _modules():
    for name in COMMANDS:
        try:
            yield name, importlib.import_module(f"designer.commands.{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:
            if exc.name != f"designer.commands.{name}":
                raise


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="flexml-designer", description="Draw, compile, host and test FlexML call flows.")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _modules():
        sp = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(sp)
        sp.set_defaults(_run=module.run)
    return p


def _one_line(exc: Exception) -> str:
    """The error's message on one line (a message with line breaks is joined with '; ')."""
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip()) or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not getattr(args, "_run", None):
        p.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except CompileError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except (CompilerError, DesignerError) as exc:
        print(f"flexml-designer {args.command}: {_one_line(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
