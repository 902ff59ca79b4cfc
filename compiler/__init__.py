"""FlexML Designer's compiler: flows (networkx graphs) to linked FlexML documents.

Pure library: no UI, HTTP or database imports. The pipeline::

    load (flow.py) → validate (validate.py) → plan (plan.py) → emit (emit.py)
      → grammar check (grammar.py) → bundle (bundle.py)
"""

from compiler.bundle import BundleError, read_zip, write_dir, write_zip
from compiler.catalogue import STEPS, VERBS, Attr, Step
from compiler.compile import CompiledFlow, CompileError, Router, compile_flow
from compiler.errors import CompilerError
from compiler.flow import FlowError, dumps, load, loads, save
from compiler.grammar import GrammarError, check_document
from compiler.validate import Problem, only_errors, validate

__all__ = [
    "Attr", "BundleError", "CompileError", "CompiledFlow", "CompilerError", "FlowError", "GrammarError", "Problem",
    "Router", "STEPS", "Step", "VERBS", "check_document", "compile_flow", "dumps", "load", "loads", "only_errors",
    "read_zip", "save", "validate", "write_dir", "write_zip",
]
