"""The sandbox's objects (Account, DID, Call) as the reference describes them, and its one error type.

Each ``Kind`` lists its fields in the reference's order with their type and
whether PATCH/PUT may change them; the query parser, the database, the JSON
serialiser and the validation all read these tables.

``ApiError(status, message, errors)`` is the only exception the sandbox's routes
raise on purpose; the app turns it into ``{"message": ..., "errors": [...]}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from compiler.catalogue import METHODS
from designer.errors import DesignerError

MAX_INT = 2**63 - 1  # SQLite's largest integer: a number past it is refused, not a 500
ERROR_HANDLERS = ("basic", "none")


class ApiError(DesignerError):
    """An answer other than 200: status code, the reference's message, and per-field details."""

    def __init__(self, status: int, message: str, errors: list[tuple[str | None, str]] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        return {"message": self.message,
                "errors": [{"field": f, "message": m, "reference_sid": None} for f, m in self.errors]}


def invalid_field(field: str, why: str) -> ApiError:
    return ApiError(400, "Invalid field specified", [(field, why)])


def validation_error(field: str, why: str) -> ApiError:
    return ApiError(400, "Object validation error", [(field, why)])


@dataclass(frozen=True)
class Field:
    name: str
    type: str = "str"  # str | int | url | method | json | did | error_handler
    changeable: bool = False
    sql: str | None = None  # an SQL expression when the column differs (e.g. a call's remaining delay)

    @property
    def expr(self) -> str:
        return self.sql or self.name


@dataclass(frozen=True)
class Kind:
    name: str  # "account", "did", "call"
    table: str
    sid: str
    label: str  # used in "Cannot find <label> by SID"
    fields: tuple[Field, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def changeable(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.changeable)


ACCOUNT = Kind("account", "accounts", "account_sid", "account", (
    Field("account_sid"),
    Field("date_created"),
    Field("error_handler", "error_handler", changeable=True),
    Field("login"),
    Field("method", "method", changeable=True),
    Field("name"),
    Field("url", "url", changeable=True),
))

DID = Kind("did", "dids", "did_sid", "did", (
    Field("account_sid", changeable=True),
    Field("country_code"),
    Field("did_sid", changeable=True),
    Field("in_country_format"),
    Field("international_format"),
    Field("method", "method", changeable=True),
    Field("phonenumber"),
    Field("status_callback_method", "method", changeable=True),
    Field("status_callback_url", "url", changeable=True),
    Field("url", "url", changeable=True),
))

# A call's ``delay`` is shown as the seconds still to wait, so it is computed from ``run_at``.
REMAINING_DELAY = ("(CASE WHEN run_at <= :now THEN 0 ELSE CAST(run_at - :now AS INTEGER) "
                   "+ (run_at - :now > CAST(run_at - :now AS INTEGER)) END)")

CALL = Kind("call", "calls", "call_sid", "dialout", (
    Field("account_sid"),
    Field("attributes", "json", changeable=True),
    Field("call_sid"),
    Field("called_did", "did", changeable=True),
    Field("calling_did", "did", changeable=True),
    Field("date_created"),
    Field("delay", "int", changeable=True, sql=REMAINING_DELAY),
    Field("method", "method", changeable=True),
    Field("status_callback_method", "method", changeable=True),
    Field("status_callback_url", "url", changeable=True),
    Field("url", "url", changeable=True),
))

KINDS = {k.name: k for k in (ACCOUNT, DID, CALL)}


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", text)


def clean_value(field: Field, value: Any) -> Any:
    """The stored form of a value sent for ``field``; raises an "Object validation error" naming it."""
    name = field.name
    if field.type == "method":
        if not isinstance(value, str) or value.upper() not in METHODS:
            raise validation_error(name, f"{name} must be POST or GET, not {value!r}")
        return value.upper()
    if field.type == "error_handler":
        if value not in ERROR_HANDLERS:
            raise validation_error(name, f"{name} must be 'basic' or 'none', not {value!r}")
        return value
    if field.type == "url":
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
            raise validation_error(name, f"{name} must be an http:// or https:// URL, not {value!r}")
        return value
    if field.type == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise validation_error(name, f"{name} must be a whole number of seconds, 0 or more, not {value!r}")
        if value > MAX_INT:
            raise validation_error(name, f"{name} must be at most {MAX_INT}, not {value}")
        return value
    if field.type == "json":
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise validation_error(name, f"{name} must be an object of names and values, not {value!r}")
        return value
    if field.type == "did":
        if not isinstance(value, (str, int)) or isinstance(value, bool) or not digits_only(str(value)):
            raise validation_error(name, f"{name} must be a phone number, not {value!r}")
        return digits_only(str(value))
    if value is not None and not isinstance(value, str):
        raise validation_error(name, f"{name} must be a string, not {value!r}")
    return value


def national_formats(number: str) -> tuple[str | None, str | None, str | None]:
    """country_code, in_country_format, international_format for a North American number; None otherwise."""
    if len(number) == 11 and number.startswith("1"):
        a, b, c = number[1:4], number[4:7], number[7:]
        return "USA", f"({a}) {b}-{c}", f"+1 {a}-{b}-{c}"
    return None, None, None
