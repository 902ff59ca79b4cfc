"""The FlexML grammar (``data/flexml.rng``, RELAX NG) and the check every document passes.

A compiled document (or one from a bundle) is also checked for what the host
renders on a call: its Say and Sms texts must be valid call-variable text.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from lxml import etree

from compiler.catalogue import MEDIA_FORMATS, STEPS
from compiler.errors import CompilerError
from compiler.catalogue import CALL_VARIABLES
from compiler.templating import TEMPLATED_VERBS, check, is_template, variables, with_sample_numbers

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
    return _grammar_problems(tree)


def _grammar_problems(tree: etree._Element) -> list[str]:
    rng = relaxng()
    if not rng.validate(tree):
        return [f"line {e.line}: {e.message}" for e in rng.error_log]
    return reference_problems(tree)


def reference_problems(tree: etree._Element) -> list[str]:
    """What the reference says that the grammar cannot: a played file's format, and template placeholders
    (``{{ container_sid }}``) in attributes, which the carrier receives as written."""
    out = []
    for el in tree.iter():
        spec = STEPS.get(el.tag) if isinstance(el.tag, str) else None
        if spec is None:
            continue
        if spec.media and el.get("streaming") != "true" and el.text:
            name = el.text.strip().split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]
            ext = name.rsplit(".", 1)[1].lower() if "." in name.strip(".") else ""
            if ext and ext not in MEDIA_FORMATS:
                out.append(f"line {el.sourceline}: {el.tag} plays .{ext}, which is not one of the formats "
                           f"{', '.join(MEDIA_FORMATS)}")
        for name, value in el.attrib.items():
            attr = spec.attr(name)
            if "{{" in value or "{%" in value:
                if attr is None or not attr.call_number:
                    out.append(f"line {el.sourceline}: {el.tag} {name}={value!r} holds a template placeholder, "
                               "which the carrier would receive as written")
    return out


def text_problems(tree: etree._Element) -> list[str]:
    """Say and Sms texts that are not valid call-variable text ('line N: Say text: message').

    A name other than a call field's is a value a Set step remembers (validation checks it against the
    flow's Set steps; a document alone cannot tell), read as empty text on a call that did not set it."""
    out = []
    for el in tree.iter(*TEMPLATED_VERBS):
        if el.text and is_template(el.text):
            found = check(el.text, (*CALL_VARIABLES, *variables(el.text)))
            if found:
                out.append(f"line {el.sourceline}: {el.tag} text: {found}")
    return out


def template_problems(data: bytes) -> list[str]:
    """Problems of a compiled document, which may name call numbers (``to="{{ From }}"``: checked as the phone
    number the host puts there on a call) and use call variables in its Say and Sms texts."""
    try:
        tree = etree.fromstring(with_sample_numbers(data) if b'="{{' in data else data, _PARSER)
    except etree.XMLSyntaxError as exc:
        return [f"line {exc.lineno}: not well-formed XML: {exc.msg}"]
    return _grammar_problems(tree) + text_problems(tree)


def check_document(data: bytes, name: str = "document") -> None:
    """Raise GrammarError unless a compiled document (see ``template_problems``) is valid FlexML."""
    found = template_problems(data)
    if found:
        raise GrammarError(f"{name}: {'; '.join(found)}")
