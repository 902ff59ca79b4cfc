"""Call variables in Say and Sms text: ``Hello {{ From }}``.

Texts are jinja2 templates run in a sandbox. Mistakes are found when the
flow is validated (``check``); on a live call ``render`` never raises: a
failing expression renders as empty text. XML escaping happens when the
rendered text is put into the document.
"""

from __future__ import annotations

import re
from functools import lru_cache

from jinja2 import TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from compiler.catalogue import CALL_VARIABLES, E164, NUMBER_VARIABLES

MAX_RENDERED = 4096
MAX_REPEAT = 1024  # 'ab' * n and n ** m stay small: a call's text must not eat the host's memory or time


class _CallTextEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, plus bounds on the two operators that can blow up a result from a short text."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator: str, left, right):
        if operator == "**":
            if isinstance(right, (int, float)) and abs(right) > 64:
                raise SecurityError("exponent too large in call variable text")
            return left ** right
        for seq, times in ((left, right), (right, left)):
            if isinstance(seq, (str, list, tuple)) and isinstance(times, int) and times * max(len(seq), 1) > MAX_REPEAT:
                raise SecurityError("repetition too large in call variable text")
        return left * right


_env = _CallTextEnvironment(autoescape=False)
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


@lru_cache(maxsize=4096)
def check(text: str) -> str | None:
    """A plain-language problem with a template text, or None when it is fine."""
    try:
        ast = _env.parse(text)
        # finding the variables runs jinja's code generator, which refuses unknown filters and tests
        undeclared = meta.find_undeclared_variables(ast)
    except TemplateSyntaxError as exc:  # TemplateAssertionError ('No filter named …') is one too
        return f"call variable text has a mistake on line {exc.lineno}: {exc.message}"
    if next(ast.find_all((nodes.For, nodes.Macro, nodes.CallBlock)), None) is not None:
        return "call variable text may use {{ … }} and {% if %}, but no loops or macros"
    unknown = sorted(undeclared - set(CALL_VARIABLES))
    if unknown:
        return (f"unknown call variable {', '.join(repr(u) for u in unknown)}; "
                f"use one of {', '.join(CALL_VARIABLES)}")
    try:
        _compiled(text).render({name: "15551230001" for name in CALL_VARIABLES})  # a trial call
    except Exception as exc:  # noqa: BLE001 - any compile or trial failure (SecurityError too) is a user mistake
        return f"call variable text cannot be used: {exc}"
    return None


_NUMBER_VARIABLE = re.compile(r"\{\{\s*([A-Za-z]+)\s*\}\}")
SAMPLE_NUMBER = "15550100000"


def number_variable(text: str) -> str | None:
    """The call variable a phone attribute names (``{{ From }}`` → ``From``), or None."""
    m = _NUMBER_VARIABLE.fullmatch(text.strip())
    return m.group(1) if m and m.group(1) in NUMBER_VARIABLES else None


def number_problem(text: str) -> str:
    """Why a templated phone attribute cannot be used (it must be exactly one number variable)."""
    return (f"{text!r} is not a phone number or a call variable holding one; use a number in E.164 form, "
            f"or one of {', '.join('{{ ' + v + ' }}' for v in NUMBER_VARIABLES)}")


def render_number(variable: str, variables: dict[str, str]) -> str | None:
    """A number variable's value on a live call, as E.164 digits; None when the call has no usable number
    (withheld, empty, or not a phone number)."""
    value = str(variables.get(variable) or "").strip()
    return value if E164.fullmatch(value) else None


_SAMPLE_ATTRS = re.compile(rb'="\{\{\s*(?:' + "|".join(NUMBER_VARIABLES).encode() + rb')\s*\}\}"')


def with_sample_numbers(data: bytes) -> bytes:
    """A compiled document with each ``="{{ From }}"`` attribute filled with a sample number (to check its grammar)."""
    return _SAMPLE_ATTRS.sub(b'="' + SAMPLE_NUMBER.encode() + b'"', data)


@lru_cache(maxsize=4096)
def _compiled(text: str):
    return _env.from_string(text)


def render(text: str, variables: dict[str, str]) -> str:
    """Render for a live call; never raises. Unknown or failing parts become empty.

    Characters an XML document cannot hold (control characters a caller's
    name might carry) are dropped, so the result always fits in a document.
    """
    safe = {k: str(variables.get(k, "") or "") for k in CALL_VARIABLES}
    try:
        out = _compiled(text).render(safe)
    except Exception:  # noqa: BLE001 - a live call must go on
        return ""
    return _NOT_XML.sub("", out)[:MAX_RENDERED]
