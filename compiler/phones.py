"""Phone numbers read one way everywhere: E.164 digits, whatever the caller's or the user's formatting.

``phone_digits("+1 (516) 206-5337")`` and ``phone_digits("(516) 206-5337")`` (a national
form, read in ``region``) are both ``"15162065337"``. The reading is ``phonenumbers``'
(Google's libphonenumber); text that is no phone number keeps just its digits, and a
withheld caller ("anonymous", "restricted", …) has none.
"""

from __future__ import annotations

import re

import phonenumbers

DEFAULT_REGION = "US"  # how a national number without its country code is read
MAX_CHARS = 256
WITHHELD = frozenset({"", "anonymous", "restricted", "private", "unknown", "unavailable", "withheld"})
_PHONE_LIKE = re.compile(r"^\+?[0-9(][0-9 ().-]{1,30}\Z")


def phone_digits(text: str, region: str = DEFAULT_REGION) -> str:
    """A phone number as E.164 digits without ``+``; national forms are read in ``region``."""
    text = str(text or "").strip()[:MAX_CHARS]
    if text.lower() in WITHHELD:
        return ""
    digits = re.sub(r"[^0-9]", "", text)
    if not _PHONE_LIKE.match(text):
        return digits
    try:
        parsed = phonenumbers.parse(text if text.startswith("+") or len(digits) <= 10 else "+" + digits, region)
    except phonenumbers.NumberParseException:
        return digits
    if not phonenumbers.is_possible_number(parsed):
        return digits
    return f"{parsed.country_code}{parsed.national_number}"


def national_digits(digits: str, region: str = DEFAULT_REGION) -> str:
    """The national part of E.164 digits (``15162065337`` → ``5162065337``); the digits when unknown."""
    try:
        return str(phonenumbers.parse("+" + digits, region).national_number)
    except phonenumbers.NumberParseException:
        return digits


def e164_or_problem(text: str, region: str = DEFAULT_REGION) -> tuple[str | None, str | None]:
    """A number as FlexML takes it (E.164 digits), or None and why not.

    An international form (``+1 415 …``, or digits that already start with a country code) keeps its
    digits; a national form (``415-123-4567``) is read in ``region`` and gets its country code.
    """
    raw = str(text or "").strip()[:MAX_CHARS]
    if not raw:
        return None, "no number given"
    if not _PHONE_LIKE.match(raw):
        return None, f"{raw!r} is not a phone number"
    digits = re.sub(r"[^0-9]", "", raw)
    if raw.startswith("+") or len(digits) > 10 and not digits.startswith("0"):
        try:  # already international: keep its digits when they are a possible number
            possible = phonenumbers.is_possible_number(phonenumbers.parse("+" + digits, None))
        except phonenumbers.NumberParseException:
            possible = False
        return (digits, None) if possible else (None, f"{raw!r} is not a possible phone number")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None, f"{raw!r} is not a phone number in {region}"
    if not phonenumbers.is_possible_number(parsed):
        return None, f"{raw!r} is not a possible phone number in {region}"
    return f"{parsed.country_code}{parsed.national_number}", None

