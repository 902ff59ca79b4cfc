"""Phone numbers typed by a person, read one way (compiler/phones.read_e164)."""

from __future__ import annotations

import pytest

from compiler.phones import formatted, read_e164


@pytest.mark.parametrize("typed", ["(516) 206-5340", "516 206 5340", "+1 516 206 5340", "15162065340",
                                   "+15162065340", "516.206.5340"])
def test_national_and_international_forms_read_as_e164(typed: str) -> None:
    assert read_e164(typed, "US") == ("+15162065340", None)


def test_one_digit_short_is_refused_with_the_reason() -> None:
    number, why = read_e164("+1516206534", "US")
    assert number is None
    assert why is not None and "+1516206534" in why and "too short" in why


def test_the_default_country_reads_national_forms() -> None:
    assert read_e164("020 7946 0958", "GB") == ("+442079460958", None)
    number, why = read_e164("020 7946 0958", "US")
    assert number is None and why


def test_text_that_is_no_number_says_so() -> None:
    number, why = read_e164("call me", "US")
    assert number is None and "not a phone number" in (why or "")
    assert read_e164("", "US")[0] is None


def test_formatted_shows_e164_readably() -> None:
    assert formatted("+15162065340") == "+1 516-206-5340"
    assert formatted("15162065340") == "+1 516-206-5340"
