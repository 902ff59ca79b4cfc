"""The compiler's exceptions: everything it raises for bad input is a ``CompilerError``.

Callers that only need "this input will not do" catch the base; each message
names the file, node, field or entry and the bad value. The tree::

    CompilerError
    ├── FlowError       a file that cannot be read as a flow                 (compiler.flow)
    ├── CompileError    a flow with errors; ``problems`` lists them          (compiler.compile)
    ├── GrammarError    a document that breaks the FlexML grammar            (compiler.grammar)
    ├── BundleError     an export bundle that cannot be read                 (compiler.bundle)
    ├── ImportRefused   a document the importer will not read; a ValueError  (compiler.importer.parse)
    └── TemplateError   call-variable text outside the language; a ValueError (compiler.templating.syntax)

Each subclass lives beside the code that raises it; this module holds the base.
"""

from __future__ import annotations

__all__ = ["CompilerError"]


class CompilerError(Exception):
    """Input the compiler cannot use; the message says what and where."""
