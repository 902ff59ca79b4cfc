"""Call variables in Say and Sms text: ``Hello {{ From }}`` — a small language, safe by construction.

A text may hold words, ``{{ Name }}`` (a call variable's value), ``{{ 'words' }}``,
filters (``{{ From | digits }}``, ``{{ CallerName | default('friend') }}``; see
``filters.FILTERS``), ``{% if Name %}`` / ``{% elif Name == 'x' %}`` / ``{% else %}`` /
``{% endif %}`` and ``{# comments #}``; the grammar is in ``syntax``. There is no
attribute access, no calls, no arithmetic, no % formatting, no loops, macros or
includes: ``check`` refuses them from the parsed tree, without running anything.

The parse is bounded (``MAX_TEXT`` characters, ``{% if %}`` nested at most
``MAX_DEPTH`` deep) and never recurses; ``render`` cuts every value and its output
at ``MAX_RENDERED`` characters, so rendering on a live call takes a small, fixed
budget and never raises. XML escaping happens when the rendered text is put into
the document.

API: ``check(text, known_names) -> str | None``, ``render(text, values) -> str``,
``variables(text) -> set[str]``, ``parse(text) -> CallText`` (raises ``TemplateError``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping

from compiler.catalogue import CALL_VARIABLES, E164, NUMBER_VARIABLES, STEPS
from compiler.phones import read_e164
from compiler.templating.evaluate import render_tree
from compiler.templating.filters import FILTERS
from compiler.templating.syntax import MAX_DEPTH, MAX_TEXT, Part, TemplateError, names
from compiler.templating.syntax import parse as parse_tree

__all__ = ["CallText", "FILTERS", "MAX_DEPTH", "MAX_RENDERED", "MAX_TEXT", "TEMPLATED_VERBS", "TemplateError",
           "check", "is_template", "number_name", "number_problem", "number_variable", "parse", "render", "render_number",
           "variables", "with_sample_numbers"]

TEMPLATED_VERBS = ("Say", "Sms")  # document elements whose text the host renders per call
MAX_RENDERED = 4096  # characters of one rendered text, and of each value and filter result in it
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def is_template(text: str) -> bool:
    return "{{" in text or "{%" in text or "{#" in text


@dataclass(frozen=True)
class CallText:
    """A parsed text: render it for each call."""

    source: str
    tree: tuple[Part, ...]
    names: frozenset[str]  # the variables it reads

    @property
    def variables(self) -> set[str]:
        return set(self.names)

    def render(self, values: Mapping[str, object], cap: int = MAX_RENDERED) -> str:
        """The text for one call, at most ``cap`` characters (and never more than MAX_RENDERED). Characters
        an XML document cannot hold (control characters a caller's name might carry) are dropped from the
        values before the text is cut, so the result always fits in a document. Never raises."""
        cap = min(cap, MAX_RENDERED)
        used = {name: _xml_prefix(str(values[name]), cap) for name in self.names if values.get(name) is not None}
        return _NOT_XML.sub("", render_tree(self.tree, used, cap))


def _xml_prefix(text: str, cap: int) -> str:
    """The first ``cap`` characters of ``text`` that an XML document can hold (read ``cap`` at a time, so a
    huge value costs no more than the part of it that is used)."""
    out, start = "", 0
    while len(out) < cap and start < len(text):
        out += _NOT_XML.sub("", text[start:start + cap])
        start += cap
    return out[:cap]


def parse(text: str) -> CallText:
    """A text's tree; raises TemplateError (line and message) for anything the language does not have."""
    found = _parsed(text) if len(text) <= MAX_TEXT else _parse(text)
    if isinstance(found, TemplateError):
        raise TemplateError(found.line, found.message)  # a fresh one: a cached exception would gather tracebacks
    return found


def _parse(text: str) -> CallText | TemplateError:
    try:
        tree = parse_tree(text)
        return CallText(text, tree, frozenset(names(tree)))
    except TemplateError as exc:
        return exc
    except RecursionError:  # the parser does not recurse; kept so that no input can ever raise it
        return TemplateError(None, "call variable text is nested too deeply")


@lru_cache(maxsize=1024)
def _parsed(text: str) -> CallText | TemplateError:
    return _parse(text)


def describe(error: TemplateError) -> str:
    """A TemplateError as one plain sentence for a validation problem."""
    if error.line is None:
        return error.message
    return f"call variable text has a mistake on line {error.line}: {error.message}"


def check(text: str, known_names: Iterable[str] = CALL_VARIABLES) -> str | None:
    """A plain-language problem with a text, or None when it is fine (it uses only ``known_names``)."""
    try:
        parsed = parse(text)
    except TemplateError as exc:
        return describe(exc)
    known = tuple(known_names)
    unknown = sorted(parsed.variables - set(known))
    if unknown:
        return (f"unknown call variable {', '.join(repr(u) for u in unknown)}; "
                f"use one of {', '.join(known)}")
    return None


def variables(text: str) -> set[str]:
    """The variable names a text reads; empty when the text cannot be parsed."""
    try:
        return parse(text).variables
    except TemplateError:
        return set()


def render(text: str, values: Mapping[str, object], cap: int = MAX_RENDERED) -> str:
    """Render for a live call; never raises. A text that does not parse renders as empty text."""
    try:
        return parse(text).render(values, cap)
    except TemplateError:
        return ""


_NUMBER_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,31})\s*\}\}")
SAMPLE_NUMBER = "15550100000"


def number_variable(text: str, remembered: Iterable[str] = ()) -> str | None:
    """The call variable a phone attribute names (``{{ From }}`` → ``From``), or None. Names in
    ``remembered`` (values a Set step gives, ``{{ manager }}``) count too."""
    name = number_name(text)
    return name if name is not None and (name in NUMBER_VARIABLES or name in remembered) else None


def number_name(text: str) -> str | None:
    """The one name a phone attribute's ``{{ name }}`` holds, whatever it is (the host's reading: validation
    checked the name), or None."""
    m = _NUMBER_VARIABLE.fullmatch(text.strip())
    return m.group(1) if m else None


def number_problem(text: str) -> str:
    """Why a templated phone attribute cannot be used (it must be exactly one number variable)."""
    return (f"{text[:60]!r} is not a phone number or a value holding one; use a number in E.164 form, or "
            f"one of {', '.join('{{ ' + v + ' }}' for v in NUMBER_VARIABLES)}, or a value a Remember step "
            "before this one sets ({{ manager }})")


def render_number(variable: str, variables: dict[str, str]) -> str | None:
    """A number variable's value on a live call, as E.164 digits; None when the call has no usable number
    (withheld, empty, or not a phone number). A remembered value may be written in any form of a possible
    number (``+1 555 123 4567``)."""
    value = str(variables.get(variable) or "").strip()
    if E164.fullmatch(value):
        return value
    if not value or len(value) > 40:
        return None
    e164, _ = read_e164(value)
    digits = e164.lstrip("+") if e164 is not None else None
    return digits if digits is not None and E164.fullmatch(digits) else None


# a phone attribute that may hold {{ name }} (as the catalogue marks them), holding one
_SAMPLE_ATTRS = re.compile(rb' (' + "|".join(sorted({a.name for s in STEPS.values() for a in s.attrs if a.call_number})
                                              ).encode() + rb')="\{\{\s*[A-Za-z_][A-Za-z0-9_]{0,31}\s*\}\}"')


def with_sample_numbers(data: bytes) -> bytes:
    """A compiled document with each ``="{{ From }}"`` attribute filled with a sample number (to check its grammar)."""
    return _SAMPLE_ATTRS.sub(b' \\1="' + SAMPLE_NUMBER.encode() + b'"', data)
