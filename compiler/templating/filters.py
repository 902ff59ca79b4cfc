"""The filters call-variable text may use: ``{{ From | digits }}``.

None can make a text grow without bound: each keeps or shrinks its input,
except ``digits`` (at most twice as long) and ``default`` (its own quoted
words), and the renderer cuts every result at a fixed length anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

SPOKEN_KEYS = frozenset("0123456789*#")
_NOT_A_KEY = re.compile(r"[^0-9*#]+")


@dataclass(frozen=True)
class FilterSpec:
    function: Callable[..., str]
    arguments: int  # how many quoted words it takes: 0 or 1
    help: str


def _default(value: str, fallback: str) -> str:
    return value if value.strip() else fallback


def _digits(value: str) -> str:
    return " ".join(_NOT_A_KEY.sub("", value))


FILTERS: dict[str, FilterSpec] = {
    "default": FilterSpec(_default, 1, "the quoted words when the value is empty: {{ CallerName | default('friend') }}"),
    "digits": FilterSpec(_digits, 0, "keys one by one, for Say: '1234#' becomes '1 2 3 4 #' (other characters "
                                     "are dropped)"),
    "upper": FilterSpec(str.upper, 0, "CAPITAL LETTERS"),
    "lower": FilterSpec(str.lower, 0, "small letters"),
    "title": FilterSpec(str.title, 0, "Each Word Capitalised"),
    "capitalize": FilterSpec(str.capitalize, 0, "First letter capital, the rest small"),
    "trim": FilterSpec(str.strip, 0, "without spaces at either end"),
}
