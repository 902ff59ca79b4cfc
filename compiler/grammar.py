"""The FlexML grammar (``data/flexml.rng``, RELAX NG) and the check every document passes."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lxml import etree

from compiler.errors import CompilerError
from compiler.templating import with_sample_numbers

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class GrammarError(CompilerError):
    """A document that breaks the FlexML grammar; a compiler bug when it comes from the compiler."""


@lru_cache(maxsize=1)
def relaxng() -> etree.RelaxNG:
    text = resources.files(__package__).joinpath("data/flexml.rng").read_bytes()
    return etree.RelaxNG(etree.fromstring(text, _PARSER))


def problems(data: bytes) -> list[str]:
    """Grammar problems of one document ('line N: message'), empty when it is valid FlexML."""
    try:
        tree = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        return [f"line {exc.lineno}: not well-formed XML: {exc.msg}"]
    rng = relaxng()
    if rng.validate(tree):
        return []
    return [f"line {e.line}: {e.message}" for e in rng.error_log]


def template_problems(data: bytes) -> list[str]:
    """Grammar problems of a compiled document, which may name call numbers (``to="{{ From }}"``): those are
    checked as the phone number the host puts there on a call."""
    return problems(with_sample_numbers(data) if b'="{{' in data else data)


def check_document(data: bytes, name: str = "document") -> None:
    """Raise GrammarError unless a compiled document (see ``template_problems``) is valid FlexML."""
    found = template_problems(data)
    if found:
        raise GrammarError(f"{name}: {'; '.join(found)}")
