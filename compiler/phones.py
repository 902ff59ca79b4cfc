"""Phone numbers read one way everywhere: E.164 digits, whatever the caller's or the user's formatting.

``phone_digits("+1 (516) 206-5337")`` and ``phone_digits("(516) 206-5337")`` (a national
form, read in ``region``) are both ``"15162065337"``. The reading is ``phonenumbers``'
(Google's libphonenumber); text that is no phone number keeps just its digits, and a
withheld caller ("anonymous", "restricted", …) has none.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

DEFAULT_REGION = "US"  # how a national number without its country code is read
MAX_CHARS = 256
WITHHELD = frozenset({"", "anonymous", "restricted", "private", "unknown", "unavailable", "withheld"})
_PHONE_LIKE = re.compile(r"^\+?[0-9(][0-9 ().-]{1,30}\Z")
CACHED = 8192  # readings kept: a split's own numbers and recent callers cost a dict lookup, not a parse


@lru_cache(maxsize=CACHED)
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


@lru_cache(maxsize=CACHED)
def national_digits(digits: str, region: str = DEFAULT_REGION) -> str:
    """The national part of E.164 digits (``15162065337`` → ``5162065337``); the digits when unknown."""
    try:
        return str(phonenumbers.parse("+" + digits, region).national_number)
    except phonenumbers.NumberParseException:
        return digits
