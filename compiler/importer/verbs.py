"""One FlexML or TwiML element to the fields of a flow step, through the step catalogue.

``read_verb(element, line_of)`` gives a ``Verb``: the step's fields (``type``,
``text``, ``attrs``, ``prompt``, ``numbers``), the URLs that link it to other
documents (``action``, ``errorAction``, a Redirect's URL) and notes. Names are
matched in any letter case (``HangUp``, ``numdigits``); values are normalised
where that changes nothing for the caller (``get`` → ``GET``, ``" 5 "`` → ``5``,
``alice`` → ``woman``). What the catalogue does not know is kept beside the
step (``unknown_attrs``, ``unknown_children``) and reported, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from lxml import etree

from compiler import templating
from compiler.catalogue import E164, METHODS, STEPS, Attr, Step, canonical_verb
from compiler.importer.parse import local_name
from compiler.phones import DEFAULT_REGION, read_e164

# TwiML spellings of FlexML verbs
VERB_ALIASES = {"message": "Sms"}
# TwiML voices and what they sound like
VOICE_ALIASES = {"alice": "woman"}
LINK_ATTRS = ("action", "method", "errorAction", "errorMethod")
# TwiML attributes FlexML does not have, with what to tell the user
TWIML_ONLY = {
    "input": "FlexML menus collect keys only (no speech input)",
    "speechtimeout": "FlexML menus collect keys only (no speech input)",
    "speechmodel": "FlexML menus collect keys only (no speech input)",
    "hints": "FlexML menus collect keys only (no speech input)",
    "language": "FlexML has no language setting",
    "callerid": "FlexML's Dial has no callerId",
}
_NUMBER_PUNCT = re.compile(r"[\s().\-]")


@dataclass
class Verb:
    tag: str  # the element's name as written
    type: str | None  # the catalogue's step type, None when unknown
    line: int | None
    fields: dict[str, Any] = field(default_factory=dict)  # node fields (no id, no position)
    links: dict[str, str] = field(default_factory=dict)  # action / errorAction / redirect → URL as written
    methods: dict[str, str] = field(default_factory=dict)  # action / errorAction → method
    xml: str = ""  # the element as written (kept for unknown verbs)
    notes: list[tuple[int | None, str, str]] = field(default_factory=list)  # (line, message, severity)
    exact: bool = False  # keep text as written, outer whitespace and all
    region: str = DEFAULT_REGION  # the country national phone numbers are read in
    twiml: bool = False  # read as TwiML: bare national digits (4155550100) are national numbers too

    def note(self, line: int | None, message: str, severity: str = "warning") -> None:
        self.notes.append((line, message, severity))

    @property
    def known(self) -> bool:
        return self.type is not None


def verb_type(tag: str) -> str | None:
    """The catalogue type for an element name in any case (designer-only steps are not verbs)."""
    low = tag.lower()
    if low in VERB_ALIASES:
        return VERB_ALIASES[low]
    found = canonical_verb(tag)
    if found is None or STEPS[found].designer_only:
        return None
    return found


def read_verb(el: etree._Element, line_of: Callable[[etree._Element], int | None], exact: bool = False,
              region: str = DEFAULT_REGION, twiml: bool = False) -> Verb:
    """``exact``: keep element text byte for byte (documents written by the compiler); ``region``: the country
    national phone numbers (``415-123-4567``) are read in."""
    tag = local_name(el)
    type_ = verb_type(tag)
    line = line_of(el)
    xml = _source(el)
    verb = Verb(tag=tag, type=type_, line=line, xml=xml, exact=exact, region=region, twiml=twiml)
    if type_ is None:
        verb.note(line, f"unknown verb <{tag}>: not a FlexML verb; kept in the flow's "
                                 "unknown_verbs list and left out of the calls")
        return verb
    if tag.lower() in VERB_ALIASES:
        verb.note(line, f"<{tag}> (TwiML) read as <{type_}>", "info")
    elif tag != type_:
        verb.note(line, f"<{tag}> read as <{type_}>", "info")
    spec = STEPS[type_]
    verb.fields["type"] = type_
    attrs, unknown = _read_attrs(el, spec, verb, keep_links=True, line=line)
    if attrs:
        verb.fields["attrs"] = attrs
    if unknown:
        verb.fields["unknown_attrs"] = unknown
    if spec.is_menu:
        _read_prompt(el, spec, verb, line_of)
    elif spec.dials:
        _read_numbers(el, verb, line_of)
    else:
        _read_text(el, spec, verb, line_of)
    if spec.redirects and verb.fields.get("text"):
        verb.links["redirect"] = verb.fields["text"]
    return verb


def _source(el: etree._Element) -> str:
    return etree.tostring(el, encoding="unicode", with_tail=False)


def _read_attrs(el: etree._Element, spec: Step, verb: Verb, *, keep_links: bool,
                line: int | None) -> tuple[dict[str, Any], dict[str, str]]:
    attrs: dict[str, Any] = {}
    unknown: dict[str, str] = {}
    tag = verb.tag if el is None else local_name(el)
    for raw_name, raw_value in el.attrib.items():
        name = raw_name.rsplit("}", 1)[-1]
        attr = _find_attr(spec, name)
        if attr is None:
            why = TWIML_ONLY.get(name.lower())
            unknown[name] = raw_value
            reason = f" ({why})" if why else ""
            verb.note(line, f"<{tag}> attribute {name}={raw_value!r} is not a FlexML attribute of "
                                     f"{spec.type}{reason}; kept under unknown_attrs")
            continue
        if attr.name != name:
            verb.note(line, f"<{tag}> attribute {name} read as {attr.name}", "info")
        value = raw_value.strip()
        if attr.managed:
            if not keep_links:
                unknown[attr.name] = raw_value
                verb.note(line, f"<{tag}> attribute {attr.name} has no effect inside a menu prompt; "
                                         "kept under unknown_attrs")
                continue
            if attr.name in ("method", "errorMethod"):
                key = "action" if attr.name == "method" else "errorAction"
                verb.methods[key] = _method(value, tag, attr.name, verb, line)
            else:
                verb.links[attr.name] = value
            continue
        if attr.name == "voice" and value.lower() not in attr.choices:
            mapped = VOICE_ALIASES.get(value.lower())
            if mapped:
                attrs["voice"] = mapped
                verb.note(line, f"<{tag}> voice {value!r} (TwiML) read as {mapped!r}", "info")
            else:
                unknown["voice"] = raw_value
                verb.note(line, f"<{tag}> voice {value!r} is not a FlexML voice (man, woman); the "
                                         "default voice is used and the value kept under unknown_attrs")
            continue
        if attr.off_words and (value == "" or attr.is_off(value)):
            attrs[attr.name] = attr.off_words[0]
            verb.note(line, f"<{tag}> {attr.name}={raw_value!r}: no finish key, so the keys are submitted when the "
                            f"caller stops pressing; written as {attr.name}=\"{attr.off_words[0]}\"", "info")
            continue
        if not attr.call_number and templating.is_template(value):
            verb.note(line, f"<{tag}> {attr.name}={raw_value!r} is a placeholder from a template, not a value: the "
                            "carrier would receive it as written; the step keeps it for you to replace in the "
                            "designer")
        elif attr.kind == "phone" and not exact_phone(verb, value):
            value = _phone(value, f"<{tag}> {attr.name}", verb, line)
        attrs[attr.name] = _value(attr, value, tag, verb, line)
    return attrs, unknown


def exact_phone(verb: Verb, value: str) -> bool:
    """A phone value kept as written: in a compiler's document, or a call variable (``{{ From }}``)."""
    return verb.exact or templating.is_template(value) or not value.strip()


def _phone(raw: str, what: str, verb: Verb, line: int | None) -> str:
    """A phone number as E.164 digits (``+`` kept when written); national forms read in the verb's region."""
    number = raw.strip()
    if not verb.twiml and E164.match(number):
        return number  # FlexML numbers are E.164: bare digits already carry their country code
    e164, problem = read_e164(number, verb.region)
    if e164 is None:
        verb.note(line, f"{what}: {problem}; kept as written for you to fix in the designer")
        return number
    digits = e164[1:]
    clean = ("+" if number.startswith("+") else "") + digits
    if not number.startswith("+") and digits != re.sub(r"[^0-9]", "", number):  # a country code was added
        verb.note(line, f"{what}: {number!r} has no country code: read as a {verb.region} number, {clean} (the "
                        "editor's reading); change it if the number is in another country")
    elif clean != number:
        verb.note(line, f"{what}: number {number!r} read as {clean!r}", "info")
    return clean


def _find_attr(spec: Step, name: str) -> Attr | None:
    found = spec.attr(name)
    if found is not None and found not in spec.extra_fields:
        return found
    low = name.lower()
    for a in spec.attrs:
        if a.name.lower() == low:
            return a
    return None


def _method(value: str, tag: str, name: str, verb: Verb, line: int | None) -> str:
    up = value.upper()
    if up not in METHODS:
        verb.note(line, f"<{tag}> {name}={value!r} is not POST or GET; POST is used")
        return "POST"
    return up


def _value(attr: Attr, value: str, tag: str, verb: Verb, line: int | None) -> Any:
    kind = attr.kind
    if kind == "int" and re.fullmatch(r"[+-]?[0-9]{1,15}", value):  # longer: past what a flow file may hold
        return int(value)
    if kind == "bool" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "enum":
        for choice in attr.choices:
            if choice.lower() == value.lower():
                return choice
    elif kind not in ("int", "bool"):
        return value
    verb.note(line, f"<{tag}> {attr.name}={value!r} does not fit FlexML; kept for you to fix "
                             "in the designer")
    return value


def _speech_text(el: etree._Element, verb: Verb, line_of) -> str | None:
    """Element text; outer whitespace that spans lines (pretty-printing) is removed."""
    children = [c for c in el if isinstance(c.tag, str)]
    if children:
        verb.fields["unknown_children"] = [_source(c) for c in children]
        names = ", ".join(sorted({f"<{local_name(c)}>" for c in children}))
        verb.note(verb.line, f"<{verb.tag}> contains {names} (SSML), which FlexML does not know; the words are "
                             "kept, with a space where each element was, and the elements under unknown_children")
        text = " ".join(_spoken_words(el).split())
    else:
        text = el.text
    if text is None:
        return None
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()):]
    if not verb.exact and ("\n" in lead or "\n" in trail):
        text = text.strip()
    return text


def _spoken_words(el: etree._Element) -> str:
    """An element's words, with a space at every element boundary (``Hi<break/>Words`` → ``Hi Words``)."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str):
            parts += [" ", _spoken_words(child), " "]
        parts.append(child.tail or "")
    return "".join(parts)


def _read_text(el: etree._Element, spec: Step, verb: Verb, line_of) -> None:
    text = _speech_text(el, verb, line_of)
    if spec.text is None:
        if text is not None and text.strip():
            verb.fields["unknown_text"] = text
            verb.note(verb.line, f"<{verb.tag}> takes no text; {text.strip()[:40]!r} kept under "
                                          "unknown_text")
        return
    if text is None or not text.strip():
        return
    verb.fields["text"] = text.strip() if spec.text == "url" else text


def _read_prompt(el: etree._Element, spec: Step, verb: Verb, line_of) -> None:
    prompt: list[dict[str, Any]] = []
    unknown_children: list[str] = []
    for child in el:
        if not isinstance(child.tag, str):
            continue
        ctag = local_name(child)
        ctype = verb_type(ctag)
        cline = line_of(child)
        if ctype not in spec.children:
            unknown_children.append(_source(child))
            verb.note(cline, f"<{ctag}> inside <{verb.tag}>: a menu prompt holds only "
                             f"{' and '.join(spec.children)}; kept under unknown_children and left out of the calls")
            continue
        sub = Verb(tag=ctag, type=ctype, line=cline, exact=verb.exact)
        attrs, unknown = _read_attrs(child, STEPS[ctype], sub, keep_links=False, line=cline)
        _read_text(child, STEPS[ctype], sub, line_of)
        verb.notes.extend(sub.notes)
        entry: dict[str, Any] = {"type": ctype}
        if "text" in sub.fields:
            entry["text"] = sub.fields["text"]
        if attrs:
            entry["attrs"] = attrs
        if unknown:
            entry["unknown_attrs"] = unknown
        for key in ("unknown_children", "unknown_text"):
            if key in sub.fields:
                entry[key] = sub.fields[key]
        prompt.append(entry)
    if prompt:
        verb.fields["prompt"] = prompt
    if unknown_children:
        verb.fields["unknown_children"] = unknown_children
    if el.text and el.text.strip():
        verb.fields["unknown_text"] = el.text.strip()
        verb.note(verb.line, f"text {el.text.strip()[:40]!r} directly inside <{verb.tag}> is not "
                                      "spoken; put it in a <Say>; kept under unknown_text")


def _read_numbers(el: etree._Element, verb: Verb, line_of) -> None:
    numbers: list[str] = []
    unknown_children: list[str] = []
    unknown_attrs: dict[str, str] = verb.fields.get("unknown_attrs", {})

    def add(raw: str, line: int | None) -> None:
        number = raw.strip()
        if verb.exact:
            numbers.append(_NUMBER_PUNCT.sub("", number))
            return
        numbers.append(_phone(number, f"<{verb.tag}> number", verb, line))

    if el.text and el.text.strip():
        add(el.text, verb.line)  # TwiML: <Dial>415-555-0100</Dial>
    for child in el:
        if not isinstance(child.tag, str):
            continue
        ctag = local_name(child)
        cline = line_of(child)
        if ctag.lower() != "number":
            unknown_children.append(_source(child))
            verb.note(cline, f"<{ctag}> inside <{verb.tag}>: FlexML dials phone numbers only "
                                      "(<Number>); kept under unknown_children")
        else:
            for name, value in child.attrib.items():
                key = f"Number[{len(numbers)}].{name}"
                unknown_attrs[key] = value
                verb.note(cline, f"<{ctag}> attribute {name}={value!r} is not FlexML; kept under "
                                          f"unknown_attrs as {key}")
            add("".join(child.itertext()), cline)
        if child.tail and child.tail.strip():
            add(child.tail, cline)
    if numbers:
        verb.fields["numbers"] = numbers
    if unknown_children:
        verb.fields["unknown_children"] = unknown_children
    if unknown_attrs:
        verb.fields["unknown_attrs"] = unknown_attrs
