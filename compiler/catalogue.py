"""The step catalogue: every FlexML verb and designer step, with its attributes.

This one table drives validation, the designer's palette and property forms,
the importer and the generated docs. Facts come from the FlexML reference.

Attribute kinds:
  int     whole number, optional ``minimum``/``maximum``
  bool    true/false
  enum    one of ``choices``
  key     one DTMF key (0-9, * or #)
  keys    one or more DTMF keys, or the word ``none`` (Record finishOnKey)
  url     absolute http(s) URL or a path
  phone   E.164 number
  string  free text
Designer fields of decision steps (Hours, Split, Set) have their own kinds, checked by
compiler.decisions: zone (IANA name), schedule (day → ranges), dates (closed dates),
calltext (call-variable text), cases (a Split's tests), vars (a Set's names → texts).
A ``managed`` attribute is written by the compiler from the step's
connections (action URLs and their methods); users never set it by hand.

This is the only list of each step fact (defaults, nesting, limits, starting
values, id prefixes, palette order, labels, request fields). Code elsewhere
asks a step's flags and methods (``is_menu``, ``ends_path``, ``dials``,
``jumps``, ``default(name)``, ``starting_values()``, …) instead of comparing
step names; tests/test_catalogue_facts.py scans the code for that.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from typing import Any

DTMF_KEYS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#")
METHODS = ("POST", "GET")


@dataclass(frozen=True)
class Attr:
    name: str
    kind: str
    help: str
    default: Any = None
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    managed: bool = False
    label: str = ""  # plain name for forms; filled from ATTR_LABELS
    call_number: bool = False  # a phone attribute that may name the caller's or called number: {{ From }}
    any_case: bool = False  # an enum read in any letter case (get → GET), written as its choice
    off_words: tuple[str, ...] = ()  # words that switch a key off; the first is what FlexML is given
    settable: bool = False  # a managed URL the user may set instead: the step then talks to that server
    required: bool = False  # the verb means nothing without it (Override's statusCallbackUrl)
    not_streaming: bool = False  # a Play key that streaming disables (reference: forwardOnKey, rewindOnKey)

    def canonical(self, value: Any) -> Any:
        """The value as FlexML writes it: an ``any_case`` enum's choice, a key's off word as its first."""
        if isinstance(value, str):
            text = value.strip()
            if self.any_case:
                for choice in self.choices:
                    if choice.lower() == text.lower():
                        return choice
            if text.lower() in self.off_words:
                return self.off_words[0]
        return value

    def is_off(self, value: Any) -> bool:
        """Whether ``value`` switches this key off (``_`` or ``none`` for a menu's finish key)."""
        return isinstance(value, str) and value.strip().lower() in self.off_words
    empty_means: str = ""  # the call number (a NUMBER_VARIABLES name) the carrier uses when it is left empty
    advanced: bool = False  # shown under "Advanced" in the form: few people need it

    def describe_range(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"from {self.minimum} to {self.maximum}"
        if self.minimum is not None:
            return f"{self.minimum} or more"
        if self.maximum is not None:
            return f"at most {self.maximum}"
        return ""


@dataclass(frozen=True)
class Step:
    type: str
    label: str  # plain name shown in the palette
    icon: str  # Material icon name
    help: str
    attrs: tuple[Attr, ...] = ()
    # element content: None, or what `text` holds ("speech", "url", "message")
    text: str | None = None
    text_required: bool = False
    text_max: int | None = None
    children: tuple[str, ...] = ()  # verbs allowed nested inside (Gather prompt)
    child_element: str | None = None  # Dial: <Number>
    # fixed branches; Gather adds digit branches on top of these
    branches: tuple[str, ...] = ("next",)
    digit_branches: bool = False
    terminal: bool = False  # ends a path: no outgoing connections
    designer_only: bool = False  # not a FlexML verb (Goto)
    extra_fields: tuple[Attr, ...] = ()  # designer fields kept beside attrs
    can_template: bool = False  # text may use {{ call variables }}
    id_prefix: str = ""  # new steps are named "{id_prefix}-1", …; the type in lower case when empty
    # fields a new step starts with, besides its type and text (values may be lists: not hashed)
    starting: tuple[tuple[str, Any], ...] = field(default=(), hash=False)
    answers: bool = True  # running it answers the call (Reject, Redirect and Override do not)
    first_only: bool = False  # only allowed as a flow's first step (Reject)
    media: bool = False  # its URL text is an audio file or stream (Play): hls:// and rtmp:// allowed
    jumps: bool = False  # a designer jump to another step by its ``target`` (Goto)
    redirects: bool = False  # the verb that hands the call to another document's URL (Redirect)
    reports: str = ""  # what its action request tells the next URL (lost when an import flattens it)
    # a decision the host takes while it answers: "hours", "split" or "set" (designer steps that never reach
    # the carrier), "" for the rest; ``host_fields`` are the step fields the host needs to decide
    decides: str = ""
    host_fields: tuple[str, ...] = ()
    case_branches: bool = False  # its outputs are its cases' names, then "else" (Split)
    outcome_branch: str = ""  # an output taken from the action request's outcome (Dial: "no-answer")
    # call variables only its action request carries (the keys pressed, a recording's details)
    provides: tuple[str, ...] = ()
    at_top: bool = False  # only at the top of a document: the flow's first step, nothing leading to it (Override)
    twiml_default_to: str = ""  # TwiML's reading of an absent ``to`` (Message/Sms texts the caller: {{ From }})
    twiml_default_from: str = ""  # … and of an absent ``from`` (the number the caller dialled: {{ To }})
    twiml_reasks: bool = False  # TwiML re-requests the same document when it has no action (Gather, Record)
    # its action goes to the host's ``recorded`` route, which keeps the recording (a voicemail) and answers with
    # the rest of the flow; not when it records the whole call in the background (``recordSession``)
    host_records: bool = False

    def attr(self, name: str) -> Attr | None:
        return _ATTR_INDEX[self.type].get(name)

    def default(self, name: str) -> Any:
        """The catalogue's default for an attribute or designer field (None when it has none)."""
        found = self.attr(name)
        return found.default if found is not None else None

    @property
    def user_attrs(self) -> tuple[Attr, ...]:
        """Attributes a user may set: not managed, or managed but ``settable`` (a menu's other server)."""
        return tuple(a for a in self.attrs if not a.managed or a.settable)

    @property
    def is_menu(self) -> bool:
        """A menu: digit options each lead to their own step (Gather)."""
        return self.digit_branches

    @property
    def ends_path(self) -> bool:
        """Nothing follows it: no outgoing connections."""
        return self.terminal

    @property
    def dials(self) -> bool:
        """It holds phone numbers to call as child elements (Dial's <Number>)."""
        return self.child_element is not None

    @property
    def host_decides(self) -> bool:
        """The host evaluates it while answering and serves the chosen branch in the same answer."""
        return bool(self.decides)

    @property
    def has_error_branch(self) -> bool:
        return "error" in self.branches

    @property
    def default_branch(self) -> str | None:
        """The branch a call takes when the step ends without a choice: next, or a menu's timeout."""
        return self.branches[0] if self.branches else None

    @property
    def templated_text_limit(self) -> int | None:
        """Most characters of this step's text the carrier uses once call variables are filled in."""
        return self.text_max if self.can_template else None

    @property
    def text_label(self) -> str:
        """The form label of the step's text ("Text to speak")."""
        return TEXT_KINDS[self.text][0] if self.text else "Text"

    @property
    def text_noun(self) -> str:
        """The step's text in a sentence ("the text to speak")."""
        return TEXT_KINDS[self.text][1] if self.text else "the text"

    def starting_values(self) -> dict[str, Any]:
        """A fresh step as the palette drops it: empty where the user must fill something in."""
        data: dict[str, Any] = {"type": self.type}
        if self.text is not None:
            data["text"] = ""
        data.update(copy.deepcopy(dict(self.starting)))
        return data


# what a step's text holds → (form label, the words a message uses for it)
TEXT_KINDS: dict[str, tuple[str, str]] = {
    "speech": ("Text to speak", "the text to speak"),
    "url": ("URL", "the URL"),
    "message": ("Message", "the message"),
}


def _key(name: str, help: str) -> Attr:
    return Attr(name, "key", help, choices=DTMF_KEYS)


def _method(name: str = "method", help: str = "HTTP method for the action URL.", settable: bool = False) -> Attr:
    return Attr(name, "enum", help, default="POST", choices=METHODS, managed=True, any_case=True,
                settable=settable)


def _action(name: str = "action", help: str = "URL requested next; set from the step's connections.",
            settable: bool = False) -> Attr:
    return Attr(name, "url", help, managed=True, settable=settable)


SAY = Step(
    "Say", "Speak text", "record_voice_over",
    "Reads text to the caller with a synthetic voice (at most 1,024 characters).",
    attrs=(
        Attr("loop", "int", "How many times to speak the text; 0 repeats until the call ends.",
             default=1, minimum=0, maximum=100),
        Attr("loopPause", "int", "Seconds of silence between repetitions.", default=0, minimum=0, maximum=300),
        Attr("voice", "enum", "The voice that reads the text.", default="man", choices=("man", "woman")),
    ),
    text="speech", text_required=True, text_max=1024, can_template=True,
)

PLAY = Step(
    "Play", "Play audio", "music_note",
    "Plays an audio file (wav, mp3, ogg, …) or stream to the caller.",
    attrs=(
        _action(),
        Attr("controlSkip", "int", "Seconds skipped by the forward and rewind keys.", default=60, minimum=1),
        _action("errorAction", "URL requested when the file cannot be played; set from the error connection."),
        _method("errorMethod", "HTTP method for the error URL."),
        replace(_key("forwardOnKey", "Key that skips forward by controlSkip seconds (not while streaming)."),
                not_streaming=True),
        Attr("loop", "int", "How many times to play the file; 0 repeats until the call ends.",
             default=1, minimum=0, maximum=100),
        Attr("loopPause", "int", "Seconds of silence between repetitions.", default=0, minimum=0, maximum=300),
        _method(),
        Attr("minorControlSkip", "int", "Seconds skipped by the minor forward and rewind keys.", minimum=1),
        _key("minorForwardOnKey", "Key that skips forward by minorControlSkip seconds."),
        _key("minorRewindOnKey", "Key that skips back by minorControlSkip seconds."),
        _key("pauseOnKey", "Key that pauses playback."),
        _key("restartOnKey", "Key that resumes paused playback."),
        replace(_key("rewindOnKey", "Key that skips back by controlSkip seconds (not while streaming)."),
                not_streaming=True),
        _key("stopOnKey", "Key that stops playback."),
        Attr("streaming", "bool", "On for a live stream (needed for hls:// and rtmp:// URLs; turns off the "
             "forward and rewind keys).", default=False),
        Attr("timeLimit", "int", "Seconds of a stream to play; 0 means no limit.", default=0, minimum=0),
    ),
    text="url", text_required=True, media=True,
    branches=("next", "error"),
)

PAUSE = Step(
    "Pause", "Pause", "hourglass_empty",
    "Waits in silence before the next step.",
    attrs=(Attr("length", "int", "Seconds of silence.", default=1, minimum=1),),
)

GATHER = Step(
    "Gather", "Menu / collect digits", "dialpad",
    "Plays a prompt and collects keys the caller presses; each option leads to its own step.",
    attrs=(
        _action(help="Leave empty: the designer answers the keys (connect the options). Or the address of "
                     "another server that receives the keys pressed (then the menu has no options).",
                settable=True),
        Attr("finishOnKey", "key", "Key that submits the digits pressed so far; none (or _) for no finish key: "
             "the keys are submitted when the caller stops pressing.", default="#", choices=DTMF_KEYS,
             off_words=("_", "none")),
        _method(help="HTTP method for the other server's address.", settable=True),
        Attr("numDigits", "int", "How many digits to collect; empty collects until timeout or the finish key.",
             minimum=1),
        Attr("timeout", "int", "Seconds to wait for the caller's next key.", default=5, minimum=1),
    ),
    children=("Say", "Play"),
    branches=("timeout", "invalid"),
    digit_branches=True,
    provides=("Digits",),
    twiml_reasks=True,
    id_prefix="menu",
    starting=(("options", ["1", "2"]), ("prompt", [{"type": "Say", "text": ""}])),
    extra_fields=(
        Attr("retries", "int", "Times the menu is asked again after a wrong key when there is no "
             "'invalid' connection, before the no-input path.", default=2, minimum=0, maximum=5),
        Attr("retryText", "string", "Said before the menu is asked again after a wrong key.",
             default="Sorry, that is not a valid choice."),
    ),
)

DIAL = Step(
    "Dial", "Transfer call", "phone_forwarded",
    "Connects the caller to one or more phone numbers.",
    attrs=(
        _action(help="URL requested when the transferred call ends; not used by the designer."),
        Attr("hangupOnStar", "bool", "Let the caller end the transfer by pressing *.", default=False),
        _method(),
        Attr("timeout", "int", "Seconds to wait for an answer.", default=30, minimum=1),
        Attr("timeLimit", "int", "Longest the transferred call may last, in seconds; 0 means no limit.",
             default=0, minimum=0),
    ),
    child_element="Number",
    id_prefix="transfer", starting=(("numbers", []),),
    reports="the transfer's outcome",
    branches=("next", "no-answer"), outcome_branch="no-answer",
)

RECORD = Step(
    "Record", "Voicemail / record", "voicemail",
    "Records the caller, for example a voicemail message.",
    attrs=(
        _action(help="URL requested when the recording ends; set from the connections."),
        Attr("callbackUrl", "url", "URL told about the recording once it is stored.", advanced=True),
        Attr("containerSid", "string", "Storage container for the recording.", advanced=True),
        Attr("direction", "enum", "Which side to record: in (caller) or out (called party); both when empty.",
             choices=("in", "out"), advanced=True),
        _action("errorAction", "URL requested when recording fails; set from the error connection."),
        _method("errorMethod", "HTTP method for the error URL."),
        Attr("fileFormat", "enum", "Audio format of the recording.", default="wav", choices=("wav", "mp3", "ul"),
             advanced=True),
        Attr("fileMode", "enum", "Append to or overwrite an existing file.", default="append",
             choices=("append", "overwrite"), advanced=True),
        Attr("fileSid", "string", "Existing storage file to record into (overrides the container).",
             advanced=True),
        Attr("finishOnKey", "keys", "Keys that end the recording (e.g. # or 123); 'none' disables; "
             "any key when empty."),
        Attr("integerKey1", "int", "Your own number stored with the recording.", advanced=True),
        Attr("integerKey2", "int", "Your own number stored with the recording.", advanced=True),
        Attr("maxLength", "int", "Longest recording, in seconds.", default=3600, minimum=1),
        _method(),
        Attr("playBeep", "bool", "Beep before recording starts.", default=True),
        Attr("timeout", "int", "Seconds of silence that end the recording.", default=5, minimum=1, advanced=True),
        Attr("trim", "enum", "Remove silence at the start and end.", default="trim-silence",
             choices=("trim-silence", "do-not-trim"), advanced=True),
        Attr("recordSession", "bool", "Record the whole call in the background.", default=False,
             advanced=True),
        Attr("stringKey1", "string", "Your own label stored with the recording.", advanced=True),
        Attr("stringKey2", "string", "Your own label stored with the recording.", advanced=True),
    ),
    branches=("next", "error"),
    reports="the recording's details",
    provides=("RecordingUrl", "RecordingFileSid", "RecordingDuration"),
    twiml_reasks=True,
    host_records=True,
)

SMS = Step(
    "Sms", "Send text", "sms",
    "Sends a text message during the call.",
    attrs=(
        _action(help="URL requested after sending; not used by the designer."),
        Attr("from", "phone", "Number the text comes from (E.164), or {{ To }} for the number the caller "
             "dialled; the caller's number when empty.", call_number=True, empty_means="From"),
        _method(),
        Attr("to", "phone", "Number the text goes to (E.164), or {{ From }} to text the caller; the called "
             "number when empty.", call_number=True, empty_means="To"),
    ),
    text="message", text_required=True, can_template=True, id_prefix="text",
    twiml_default_to="{{ From }}", twiml_default_from="{{ To }}",
    starting=(("attrs", {"to": "{{ From }}"}),),  # texting the caller: an empty "to" would text the called number
)

REDIRECT = Step(
    "Redirect", "Redirect", "call_split",
    "Hands the call to FlexML at another URL.",
    attrs=(Attr("method", "enum", "HTTP method for the URL.", default="POST", choices=METHODS, any_case=True),),
    text="url", text_required=True, branches=(), terminal=True, answers=False, redirects=True,
)

REJECT = Step(
    "Reject", "Reject", "phone_disabled",
    "Refuses the call without answering it (only as the first step).",
    attrs=(Attr("reason", "enum", "What the carrier is told.", default="rejected", choices=("rejected", "busy")),),
    branches=(), terminal=True, answers=False, first_only=True,
)

HANGUP = Step(
    "Hangup", "Hang up", "call_end",
    "Ends the call.",
    branches=(), terminal=True,
)

OVERRIDE = Step(
    "Override", "Status callback", "settings_phone",
    "Sends this call's status callback to another URL (only as the first step).",
    attrs=(
        Attr("statusCallbackUrl", "url", "URL told when the call ends.", required=True),
        Attr("statusCallbackMethod", "enum", "HTTP method for the status callback.", default="POST",
             choices=METHODS, any_case=True),
    ),
    answers=False, at_top=True,
)

GOTO = Step(
    "Goto", "Go to", "redo",
    "Jumps to another step, for example back to a menu.",
    branches=(), terminal=True, designer_only=True, jumps=True,
    extra_fields=(Attr("target", "string", "The step to jump to."),),
    starting=(("target", ""),),
)

HOURS = Step(
    "Hours", "Business hours", "schedule",
    "Takes the 'open' or 'closed' path by the time of the call: a weekly schedule, closed dates "
    "(holidays) and an operator's switch (closed now / open now).",
    branches=("open", "closed"), designer_only=True, decides="hours",
    host_fields=("timezone", "open", "closed_dates"),
    extra_fields=(
        Attr("timezone", "zone", "IANA time zone the schedule is in (e.g. America/New_York); empty: the "
             "flow's time zone, else the host machine's."),
        Attr("open", "schedule", "Opening hours by day (mon … sun), ranges like 09:00-17:00; 00:00-24:00 is "
             "all day; a range that ends before it starts runs past midnight."),
        Attr("closed_dates", "dates", "Dates closed all day: 2026-12-25, or 12-25 for every year."),
    ),
    starting=(("timezone", ""), ("open", {"mon": ["09:00-17:00"], "tue": ["09:00-17:00"],
                                          "wed": ["09:00-17:00"], "thu": ["09:00-17:00"],
                                          "fri": ["09:00-17:00"], "sat": [], "sun": []}),
              ("closed_dates", [])),
)

SPLIT = Step(
    "Split", "Split by value", "alt_route",
    "Takes the path of the first case that holds for a value of the call (the caller's number, the keys "
    "pressed, a remembered value), else the 'else' path.",
    branches=("else",), designer_only=True, decides="split", host_fields=("value", "cases"),
    case_branches=True,
    extra_fields=(
        Attr("value", "calltext", "The value to test, e.g. {{ From }} (the caller's number)."),
        Attr("cases", "cases", "Tests in order (equals, starts_with, ends_with, contains, between, empty), "
             "each with the output it takes."),
    ),
    starting=(("value", "{{ From }}"), ("cases", [])),
)

SET = Step(
    "Set", "Remember values", "edit_note",
    "Remembers values (literal or from call fields) that later text, splits and send-text fields read "
    "as {{ name }}.",
    designer_only=True, decides="set", host_fields=("vars",), id_prefix="set",
    extra_fields=(Attr("vars", "vars", "Names and their values (text that may use call variables)."),),
    starting=(("vars", {}),),
)

# in palette order
STEPS: dict[str, Step] = {
    s.type: s
    for s in (SAY, PLAY, GATHER, DIAL, HOURS, SPLIT, SET, RECORD, SMS, PAUSE, GOTO, REDIRECT, HANGUP, REJECT,
              OVERRIDE)
}
# Plain names for the forms (the FlexML name stays in the flow file and the XML).
ATTR_LABELS: dict[str, str] = {
    "loop": "Repeat (times)", "loopPause": "Pause between repeats (seconds)", "voice": "Voice",
    "controlSkip": "Skip by (seconds)", "forwardOnKey": "Fast-forward key", "minorControlSkip": "Small skip by (seconds)",
    "minorForwardOnKey": "Small fast-forward key", "minorRewindOnKey": "Small rewind key", "pauseOnKey": "Pause key",
    "restartOnKey": "Resume key", "rewindOnKey": "Rewind key", "stopOnKey": "Stop key", "streaming": "Live stream",
    "timeLimit": "Time limit (seconds)", "length": "Length (seconds)", "finishOnKey": "Finish key",
    "numDigits": "Number of digits", "timeout": "Timeout (seconds)", "hangupOnStar": "Caller can end with *",
    "callbackUrl": "Recording callback URL", "containerSid": "Storage container", "direction": "Record which side",
    "fileFormat": "File format", "fileMode": "Existing file", "fileSid": "Storage file",
    "integerKey1": "Number tag 1", "integerKey2": "Number tag 2", "maxLength": "Longest recording (seconds)",
    "playBeep": "Beep first", "trim": "Trim silence", "recordSession": "Record the whole call",
    "stringKey1": "Text tag 1", "stringKey2": "Text tag 2", "from": "Send from", "to": "Send to",
    "method": "HTTP method", "action": "Next URL", "errorAction": "Error URL", "errorMethod": "Error HTTP method",
    "reason": "Reason", "statusCallbackUrl": "Status callback URL",
    "statusCallbackMethod": "Status callback method", "retries": "Ask again after a wrong key (times)",
    "retryText": "Said before asking again", "target": "Go to step",
    "timezone": "Time zone", "open": "Opening hours", "closed_dates": "Closed dates", "value": "Value to test",
    "cases": "Cases", "vars": "Values to remember",
}
_STEP_LABELS: dict[tuple[str, str], str] = {
    ("Gather", "timeout"): "Wait for a key (seconds)",
    ("Dial", "timeout"): "Ring for (seconds)",
    ("Dial", "timeLimit"): "Longest transfer (seconds)",
    ("Record", "timeout"): "Silence that ends it (seconds)",
    ("Record", "finishOnKey"): "Keys that end it",
    ("Play", "timeLimit"): "Stream time limit (seconds)",
}


def _labelled(spec: Step) -> Step:
    def named(a: Attr) -> Attr:
        return replace(a, label=_STEP_LABELS.get((spec.type, a.name)) or ATTR_LABELS.get(a.name) or a.name)
    return replace(spec, attrs=tuple(map(named, spec.attrs)), extra_fields=tuple(map(named, spec.extra_fields)),
                   id_prefix=spec.id_prefix or spec.type.lower())


STEPS = {t: _labelled(s) for t, s in STEPS.items()}
VERBS: tuple[str, ...] = tuple(t for t, s in STEPS.items() if not s.designer_only)
PALETTE_ORDER: tuple[str, ...] = tuple(STEPS)  # the palette offers the steps in catalogue order

_ATTR_INDEX: dict[str, dict[str, Attr]] = {
    s.type: {a.name: a for a in (*s.attrs, *s.extra_fields)} for s in STEPS.values()
}

# What Play takes (reference: Supported File Formats and Protocols): file extensions, and the schemes that
# play live streams only (streaming must be true for them)
MEDIA_FORMATS: tuple[str, ...] = ("aac", "al", "alaw", "flac", "g722", "m3u8", "mp3", "mp4", "mp4a", "ogg",
                                  "ul", "ulaw", "wav")
STREAM_SCHEMES: tuple[str, ...] = ("hls", "rtmp")

# A phone number as FlexML takes it (E.164 digits, + optional): the one check for phone attributes, Transfer
# numbers, a number a call variable holds on a live call, and numbers bound to flows
E164 = re.compile(r"^\+?[1-9][0-9]{6,14}$")

# call variables that hold a phone number: what a phone attribute marked call_number may name
NUMBER_VARIABLES: tuple[str, ...] = ("From", "To", "OriginalFrom", "OriginalTo", "ForwardedFrom")

# The fields the carrier sends with every request of a call (reference: Request Data).
REQUEST_FIELDS: tuple[str, ...] = (
    "AccountSid", "ApiVersion", "CallerName", "CallSid", "CallStatus", "Direction", "ForwardedFrom",
    "From", "OriginalFrom", "OriginalTo", "RequestUrl", "To",
)
# Call variables a Say or Sms text may use: the request fields, the keys pressed and a recording's details.
CALL_VARIABLES: tuple[str, ...] = (
    *REQUEST_FIELDS, "Digits", "RecordingUrl", "RecordingFileSid", "RecordingDuration",
)

# Call details a person can insert into a templated text, in words ("the caller's number" → From).
CALL_DETAIL_LABELS: dict[str, str] = {
    "From": "the caller's number", "To": "the number they called", "CallerName": "the caller's name",
    "Digits": "the keys they pressed", "RecordingUrl": "the recording's link",
    "RecordingDuration": "the recording's length (seconds)", "CallSid": "the call's id",
}
# The plain words for a call number a phone field can name.
NUMBER_LABELS: dict[str, str] = {"From": "the caller", "To": "the number they called"}


API_VERSION = "2.0"  # the ApiVersion a call's requests carry


def request_fields(**values: str) -> dict[str, str]:
    """Every request field of a call, empty unless given: ``request_fields(From="1516…", To=…)``."""
    unknown = set(values) - set(REQUEST_FIELDS)
    if unknown:
        raise ValueError(f"not a request field: {', '.join(sorted(unknown))}")
    return {name: values.get(name, API_VERSION if name == "ApiVersion" else "") for name in REQUEST_FIELDS}


def step(type_: str) -> Step | None:
    return STEPS.get(type_)


def step_of(data: dict) -> Step | None:
    """The catalogue's entry for a node's data (its ``type``); None when the type is missing or unknown."""
    type_ = data.get("type")
    return STEPS.get(type_) if isinstance(type_, str) else None


def is_jump(data: dict) -> bool:
    """Whether a node jumps to another step by its ``target`` (a Go to step)."""
    spec = step_of(data)
    return spec is not None and spec.jumps


def canonical_verb(name: str) -> str | None:
    """The catalogue's spelling of a verb name in any letter case (``HangUp`` → ``Hangup``)."""
    return _LOWER.get(name.lower())


_LOWER = {t.lower(): t for t in STEPS}


def branches_of(node: dict) -> list[str]:
    """Outputs a node offers: fixed branches plus, for a menu, its digit options."""
    spec = STEPS.get(node.get("type", ""))
    if spec is None:
        return []
    out = []
    if spec.digit_branches:
        out.extend(str(o) for o in node.get("options", []) or [])
    if spec.case_branches:
        for case in node.get("cases") or []:
            if isinstance(case, dict) and isinstance(case.get("branch"), str) and case["branch"] not in out:
                out.append(case["branch"])
    out.extend(b for b in spec.branches if b not in out)
    return out
