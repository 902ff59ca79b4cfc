"""Phone numbers read one way everywhere: E.164, whatever the caller's or the user's formatting.

``read_e164`` is the one reading of a written number (phonenumbers, Google's libphonenumber): the
editor's Transfer, Send text and Split fields, the Numbers page, the importer and validation all use
it. ``"(516) 206-5340"`` read in region US is ``"+15162065340"``; ``"+1516206534"`` (one digit
short) is refused with the reason. ``phone_digits`` is the same reading as bare digits for comparing
numbers (a caller's ``From``, a Split's cases): text that is no phone number keeps just its digits,
and a withheld caller ("anonymous", "restricted", …) has none.
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


def phone_digits(text: str, region: str = DEFAULT_REGION) -> str:
    """A phone number as E.164 digits without ``+`` (``read_e164``); else the digits it has ("" when withheld)."""
    forms = phone_forms(text, region)
    return forms[0] if forms else ""


@lru_cache(maxsize=CACHED)
def phone_forms(text: str, region: str = DEFAULT_REGION) -> tuple[str, ...]:
    """The forms a Split compares a number in: ``(E.164 digits, national digits)`` (``"+1 516 206 5340"`` →
    ``("15162065340", "5162065340")``); the digits alone for text that is no phone number; ``()`` for a
    withheld caller. One reading of the number (a caller not seen before costs one parse)."""
    text = str(text or "").strip()[:MAX_CHARS]
    if text.lower() in WITHHELD:
        return ()
    e164, _, parsed = _read(text, region)
    if e164 is None or parsed is None:
        digits = re.sub(r"[^0-9]", "", text)
        return (digits, national_digits(digits, region)) if digits else ()
    return e164[1:], str(parsed.national_number)


@lru_cache(maxsize=CACHED)
def national_digits(digits: str, region: str = DEFAULT_REGION) -> str:
    """The national part of E.164 digits (``15162065337`` → ``5162065337``); the digits when unknown."""
    try:
        return str(phonenumbers.parse("+" + digits, region).national_number)
    except phonenumbers.NumberParseException:
        return digits


_REASONS = {
    phonenumbers.ValidationResult.TOO_SHORT: "is too short",
    phonenumbers.ValidationResult.TOO_LONG: "is too long",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "has no valid country code",
    phonenumbers.ValidationResult.INVALID_LENGTH: "has the wrong number of digits",
}


def read_e164(text: str, region: str | None = DEFAULT_REGION) -> tuple[str | None, str | None]:
    """A typed phone number as ``(E.164 with +, None)``, or ``(None, why it is impossible)``.

    ``"(516) 206-5340"`` in region US is ``("+15162065340", None)``; ``"+1516206534"``
    (one digit short) is ``(None, "+1516206534 is too short for a number in the US (+1)")``.
    A number written with ``+`` (or as 11+ bare digits, or with ``region`` None: stored E.164) is read
    without the region; every number needs a possible length for its country. A national form written
    with a leading 0 must also be a number in use in ``region`` (so ``0123456789`` is refused rather
    than read as something else).
    """
    e164, why, _ = _read(text, region)
    return e164, why


def _read(text: str, region: str | None) -> tuple[str | None, str | None, phonenumbers.PhoneNumber | None]:
    raw = str(text or "").strip()[:MAX_CHARS]
    if not raw:
        return None, "enter a phone number", None
    if not _PHONE_LIKE.match(raw):
        return None, f"{raw!r} is not a phone number: use digits, like +1 516 206 5340 or (516) 206-5340", None
    digits = re.sub(r"[^0-9]", "", raw)
    try:
        international = raw.startswith("+") or region is None  # no region: the digits are E.164's
        parsed = phonenumbers.parse(raw if raw.startswith("+") else "+" + digits if international else raw,
                                    None if international else region)
        if not raw.startswith("+") and not phonenumbers.is_possible_number(parsed) and len(digits) > 10:
            parsed = phonenumbers.parse("+" + digits, None)  # E.164 digits written without their +
    except phonenumbers.NumberParseException:
        return None, f"{raw} has no valid country code: start with + and the country code", None
    result = phonenumbers.is_possible_number_with_reason(parsed)
    if result != phonenumbers.ValidationResult.IS_POSSIBLE:  # a local-only number cannot be dialled from afar
        where = phonenumbers.region_code_for_country_code(parsed.country_code)
        local = result == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY
        place = f" for a number in {where} (+{parsed.country_code})" if where not in ("ZZ", "001") and not local else ""
        why = _REASONS.get(result, "is only a local number: add the area code"
                           if result == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY
                           else "is not a possible phone number")
        return None, f"{raw} {why}{place}", parsed
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not raw.startswith("+") and digits.startswith("0") and not phonenumbers.is_valid_number(parsed):
        return None, (f"{raw} is not a number in use in {region}; if it is right, type it with its "
                      f"country code (+{parsed.country_code} …)"), parsed
    return e164, None, parsed


def formatted(e164: str) -> str:
    """E.164 shown the international way: ``+15162065340`` → ``+1 516-206-5340``; the text when unreadable."""
    try:
        parsed = phonenumbers.parse("+" + str(e164).lstrip("+"), None)
    except phonenumbers.NumberParseException:
        return str(e164)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def region_choices() -> dict[str, str]:
    """Every region phonenumbers knows → "US (+1)", sorted by code."""
    return {code: f"{code} (+{phonenumbers.country_code_for_region(code)})"
            for code in sorted(phonenumbers.SUPPORTED_REGIONS)}
