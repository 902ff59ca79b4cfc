"""flexml-designer validate FLOW.json"""

from __future__ import annotations

import sys

from compiler import only_errors, load, validate

HELP = "Check a flow file; prints one line per problem (node <id>: <field>: <message>)."


def add_arguments(p) -> None:
    p.add_argument("flow", metavar="FLOW.json")
    p.add_argument("--quiet-warnings", action="store_true", help="print errors only")


def run(args) -> int:
    problems = validate(load(args.flow))
    for problem in problems:
        if problem.is_error or not args.quiet_warnings:
            print(problem, file=sys.stderr if problem.is_error else sys.stdout)
    if only_errors(problems):
        return 1
    print(f"{args.flow}: valid" + (f" ({len(problems)} warning(s))" if problems else ""))
    return 0
