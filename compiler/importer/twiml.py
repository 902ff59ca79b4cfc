"""Reading a document as TwiML or as FlexML, where the two give the same markup different meanings.

``dialect(parsed)`` says which a document is: ``twiml`` when it uses something only TwiML has
(``<Message>``, a Twilio-only verb or attribute, a Twilio voice), else ``flexml``, with the line
and construct that decided it. ``explicit_defaults`` then writes down what an absent attribute
means in that dialect, where the flow would otherwise mean something else: TwiML's ``<Sms>``
and ``<Message>`` text the caller (``to = {{ From }}``, ``from = {{ To }}``), FlexML's Sms the
called number (the catalogue's empty default).
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.catalogue import STEPS
from compiler.importer.parse import ParsedDocument, local_name

DIALECTS = ("twiml", "flexml")
# verbs and attributes only TwiML has (lower case)
TWIML_VERBS = frozenset({"message", "enqueue", "conference", "client", "sip", "queue", "leave", "connect",
                         "stream", "start", "stop", "pay", "refer", "prompt", "parameter", "siprec", "echo"})
TWIML_ATTRS = frozenset({"input", "speechtimeout", "speechmodel", "hints", "language", "callerid",
                         "statuscallback", "statuscallbackevent", "actiononemptyresult", "partialresultcallback",
                         "transcribe", "transcribecallback", "recordingstatuscallback", "profanityfilter",
                         "enhanced", "ringtone", "answeronbridge", "record", "trim"})
TWIML_VOICE_PREFIXES = ("alice", "polly.", "google.")


@dataclass(frozen=True)
class Dialect:
    name: str  # "twiml" or "flexml"
    line: int | None  # where the deciding construct is; None when nothing decided it
    reason: str  # the construct, in words ("<Message>", "attribute language")
    given: bool = False  # chosen by the user (``dialect=``), not read from the document

    def describe(self) -> str:
        if self.given:
            return f"read as {self.label} (as asked)"
        if self.line is None:
            return f"read as {self.label} (nothing in it is TwiML only)"
        return f"read as {self.label} ({self.reason} on line {self.line} is TwiML)"

    @property
    def label(self) -> str:
        return "TwiML" if self.name == "twiml" else "FlexML"


def dialect(parsed: ParsedDocument, given: str | None = None) -> Dialect:
    """Which language a document is written in; ``given`` ("twiml"/"flexml") overrides the reading."""
    if given in DIALECTS:
        return Dialect(given, None, "", given=True)
    for el in parsed.root.iter():
        tag = local_name(el)
        if not tag:
            continue
        if tag.lower() in TWIML_VERBS:
            return Dialect("twiml", parsed.line(el), f"<{tag}>")
        for name, value in el.attrib.items():
            low = name.rsplit("}", 1)[-1].lower()
            if low in TWIML_ATTRS and not _flexml_attr(tag, low):
                return Dialect("twiml", parsed.line(el), f"<{tag}> attribute {name}")
            if low == "voice" and value.strip().lower().startswith(TWIML_VOICE_PREFIXES):
                return Dialect("twiml", parsed.line(el), f"<{tag}> voice={value!r}")
    return Dialect("flexml", None, "")


def _flexml_attr(tag: str, low_name: str) -> bool:
    spec = STEPS.get(tag) or next((s for t, s in STEPS.items() if t.lower() == tag.lower()), None)
    return spec is not None and any(a.name.lower() == low_name for a in spec.attrs)


def explicit_defaults(fields: dict, which: Dialect) -> list[str]:
    """Write TwiML's meaning of absent attributes into a step's fields; the notes say what was done."""
    spec = STEPS.get(fields.get("type", ""))
    if spec is None or not (spec.twiml_default_to or spec.twiml_default_from):
        return []
    attrs = fields.get("attrs") if isinstance(fields.get("attrs"), dict) else {}
    missing = [(name, value) for name, value in (("to", spec.twiml_default_to), ("from", spec.twiml_default_from))
               if value and not attrs.get(name)]
    if not missing:
        return []
    if which.name == "flexml":
        return [f"<{spec.type}> without {' and '.join(n for n, _ in missing)}: {which.describe()}, so the text goes "
                "to the number the caller dialled and comes from the caller's number, as FlexML does; set 'Send "
                "to' to {{ From }} to text the caller"] if any(n == "to" for n, _ in missing) else []
    attrs = dict(attrs)
    for name, value in missing:
        attrs[name] = value
    fields["attrs"] = attrs
    said = ", ".join(f"{n} = {v}" for n, v in missing)
    return [f"<{spec.type}> without {' and '.join(n for n, _ in missing)}: {which.describe()}, where the text goes to "
            f"the caller; the step sends it with {said} (FlexML would text the number the caller dialled)"]
