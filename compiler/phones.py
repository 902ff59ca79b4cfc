"""Phone numbers read one way everywhere: E.164 digits, whatever the caller's or the user's formatting.

``phone_digits("+1 (516) 206-5337")`` and ``phone_digits("(516) 206-5337")`` (a national
form, read in ``region``) are both ``"15162065337"``. The reading is ``phonenumbers``'
(Google's libphonenumber); text that is no phone number keeps just its digits, and a
withheld caller ("anonymous", "restricted", …) has none.

Two readings of a typed number, by how sure the reader can be: ``read_e164``
(the editor, the Numbers page: a national form must be a number in use, and
an impossible number gets its reason) and ``e164_or_problem`` (the importer:
any possible number is kept, so an imported flow loses no number it had).
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
    A number written with ``+`` (or as 11+ bare digits) is read without the region and needs only a
    possible length; a national form must also be a number in use in ``region`` (so ``0123456789``
    is refused rather than read as something else).
    """
    raw = str(text or "").strip()[:MAX_CHARS]
    if not raw:
        return None, "enter a phone number"
    if not _PHONE_LIKE.match(raw):
        return None, f"{raw!r} is not a phone number: use digits, like +1 516 206 5340 or (516) 206-5340"
    digits = re.sub(r"[^0-9]", "", raw)
    try:
        international = raw.startswith("+") or region is None  # no region: the digits are E.164's
        parsed = phonenumbers.parse(raw if raw.startswith("+") else "+" + digits if international else raw,
                                    None if international else region)
        if not raw.startswith("+") and not phonenumbers.is_possible_number(parsed) and len(digits) > 10:
            parsed = phonenumbers.parse("+" + digits, None)  # E.164 digits written without their +
    except phonenumbers.NumberParseException:
        return None, f"{raw} has no valid country code: start with + and the country code"
    result = phonenumbers.is_possible_number_with_reason(parsed)
    if result != phonenumbers.ValidationResult.IS_POSSIBLE:  # a local-only number cannot be dialled from afar
        where = phonenumbers.region_code_for_country_code(parsed.country_code)
        local = result == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY
        place = f" for a number in {where} (+{parsed.country_code})" if where not in ("ZZ", "001") and not local else ""
        why = _REASONS.get(result, "is only a local number: add the area code"
                           if result == phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY
                           else "is not a possible phone number")
        return None, f"{raw} {why}{place}"
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not raw.startswith("+") and len(digits) <= 10 and not phonenumbers.is_valid_number(parsed):
        return None, (f"{raw} is not a number in use in {region}; if it is right, type it with its "
                      f"country code (+{parsed.country_code} …)")
    return e164, None


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
