"""Query parameters of the sandbox's list routes: offset, limit, order, filter, include/exclude fields.

``parse_filter(kind, text)`` reads the reference's syntax::

    name eq "x"          status in ("active", "suspended")      name like "A%t"
    delay gt 40 and method eq "POST"

and gives an SQL condition with named parameters; field names are checked
against the object's fields, so only known columns ever reach the SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from designer.sandbox.schema import MAX_INT, ApiError, Field, Kind, invalid_field

DEFAULT_LIMIT = 10
MAX_LIMIT = 1000
OPERATORS = ("eq", "ne", "gt", "ge", "lt", "le", "like", "ilike", "in")

_TOKEN = re.compile(r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<punct>[(),])
  | (?P<word>[^\s(),"']+)
)""", re.VERBOSE)


def bad_request(why: str, field_name: str | None = None) -> ApiError:
    return ApiError(400, "Bad request", [(field_name, why)])


@dataclass
class Query:
    offset: int = 0
    limit: int = DEFAULT_LIMIT
    where: str = "1"
    params: dict[str, Any] = field(default_factory=dict)
    order: str = ""
    fields: tuple[str, ...] | None = None  # None: every field


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise bad_request(f"cannot read the filter at {text[pos:]!r} (an unclosed quote?)", "filter")
        pos = m.end()
        kind = m.lastgroup or "word"
        out.append((kind, m.group(kind)))
    return out


def _literal(kind: str, text: str) -> Any:
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    low = text.lower()
    if low == "null":
        return None
    if low in ("true", "false"):
        return low == "true"
    return text


def _typed(f: Field, value: Any) -> Any:
    if value is None or f.type not in ("int",):
        return value if value is None or isinstance(value, str) else str(value)
    try:
        number = int(str(value))
    except ValueError:
        raise bad_request(f"{f.name} is a number; {value!r} is not", "filter") from None
    if not -MAX_INT - 1 <= number <= MAX_INT:
        raise bad_request(f"{f.name} {value} is out of range (a number from {-MAX_INT - 1} to {MAX_INT})", "filter")
    return number


def _glob(pattern: str) -> str:
    """A case-sensitive ``like`` pattern (``%`` = any text) as an SQLite GLOB pattern."""
    return "".join("*" if ch == "%" else f"[{ch}]" if ch in "*?[]" else ch for ch in pattern)


def _like(pattern: str) -> str:
    return re.sub(r"([\\_])", r"\\\1", pattern)


def parse_filter(kind: Kind, text: str, params: dict[str, Any]) -> str:
    """The SQL condition for ``text``; adds its values to ``params`` (named ``f0``, ``f1``…)."""
    tokens = _tokens(text)
    if not tokens:
        return "1"
    conditions: list[str] = []
    i = 0

    def take(what: str) -> tuple[str, str]:
        nonlocal i
        if i >= len(tokens):
            raise bad_request(f"the filter {text!r} ends where {what} was expected", "filter")
        i += 1
        return tokens[i - 1]

    def param(value: Any) -> str:
        name = f"f{len(params)}"
        params[name] = value
        return f":{name}"

    while True:
        kind_tok, name = take("a field name")
        f = kind.field(name) if kind_tok == "word" else None
        if f is None:
            raise invalid_field(name, f"{name!r} in the filter is not a field of a {kind.name} "
                                      f"(fields: {', '.join(kind.names)})")
        if f.type == "json":
            raise invalid_field(name, f"{name!r} cannot be filtered on")
        _, op = take(f"an operator ({', '.join(OPERATORS)})")
        op = op.lower()
        if op not in OPERATORS:
            raise bad_request(f"unknown operator {op!r} after {name!r} (use one of {', '.join(OPERATORS)})",
                              "filter")
        col = f.expr
        if op == "in":
            if take("'('") != ("punct", "("):
                raise bad_request(f"'in' needs a list in parentheses, e.g. {name} in (\"a\", \"b\")", "filter")
            values = []
            while True:
                vk, vt = take("a value")
                if vk == "punct":
                    raise bad_request(f"a value was expected in the list after {name} in", "filter")
                values.append(_typed(f, _literal(vk, vt)))
                sep = take("',' or ')'")
                if sep == ("punct", ")"):
                    break
                if sep != ("punct", ","):
                    raise bad_request(f"values in a list are separated by commas, not {sep[1]!r}", "filter")
            conditions.append(f"{col} IN ({', '.join(param(v) for v in values)})")
        else:
            vk, vt = take("a value")
            if vk == "punct":
                raise bad_request(f"a value was expected after {name} {op}, not {vt!r}", "filter")
            value = _typed(f, _literal(vk, vt))
            if op in ("like", "ilike"):
                if not isinstance(value, str):
                    raise bad_request(f"{op} needs a text pattern, e.g. {name} {op} \"A%\"", "filter")
                if f.type == "int":
                    col = f"CAST({col} AS TEXT)"
                conditions.append(f"{col} GLOB {param(_glob(value))}" if op == "like"
                                  else f"{col} LIKE {param(_like(value))} ESCAPE '\\'")
            elif op in ("eq", "ne"):
                conditions.append(f"{col} {'IS' if op == 'eq' else 'IS NOT'} {param(value)}")
            else:
                if value is None:
                    raise bad_request(f"{op} cannot compare with null", "filter")
                sym = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}[op]
                conditions.append(f"{col} {sym} {param(value)}")
        if i == len(tokens):
            return " AND ".join(f"({c})" for c in conditions)
        _, joiner = take("'and'")
        if joiner.lower() != "and":
            raise bad_request(f"conditions are combined with 'and'; found {joiner!r}", "filter")


def parse_order(kind: Kind, text: str) -> str:
    parts = []
    for item in filter(None, (p.strip().strip("\"'") for p in text.split(","))):
        words = item.split()
        name, direction = words[0], (words[1].lower() if len(words) > 1 else "asc")
        f = kind.field(name)
        if f is None:
            raise invalid_field(name, f"cannot order by {name!r}: not a field of a {kind.name}")
        if len(words) > 2 or direction not in ("asc", "desc"):
            raise bad_request(f"order is a field name then asc or desc, e.g. '{name} desc'; got {item!r}", "order")
        parts.append(f"{f.expr} {direction.upper()}")
    return ", ".join(parts)


def field_list(kind: Kind, text: str, param_name: str) -> list[str]:
    names = [p.strip().strip("\"'").strip() for p in text.strip().strip("\"'").split(",")]
    names = [n for n in names if n]
    for n in names:
        if n not in kind.names:
            raise invalid_field(n, f"{param_name}: {n!r} is not a field of a {kind.name} "
                                   f"(fields: {', '.join(kind.names)})")
    return names


def parse_fields(kind: Kind, query: dict[str, str]) -> tuple[str, ...] | None:
    include, exclude = query.get("include_fields"), query.get("exclude_fields")
    if include is None and exclude is None:
        return None
    names = field_list(kind, include, "include_fields") if include is not None else list(kind.names)
    if exclude is not None:
        dropped = set(field_list(kind, exclude, "exclude_fields"))
        names = [n for n in names if n not in dropped]
    return tuple(n for n in kind.names if n in names)


def _int(query: dict[str, str], name: str, default: int, low: int, high: int | None) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be a whole number, not {raw[:40]!r}{'…' if len(raw) > 40 else ''}",
                          name) from None
    if value < low or (high is not None and value > high):
        limit = f"between {low} and {high}" if high is not None else f"{low} or more"
        raise bad_request(f"{name} must be {limit}, not {value}", name)
    return value


def parse_list_query(kind: Kind, query: dict[str, str]) -> Query:
    q = Query(offset=_int(query, "offset", 0, 0, MAX_INT - MAX_LIMIT),
              limit=_int(query, "limit", DEFAULT_LIMIT, 0, MAX_LIMIT))
    if query.get("filter"):
        q.where = parse_filter(kind, query["filter"], q.params)
    if query.get("order"):
        q.order = parse_order(kind, query["order"])
    q.fields = parse_fields(kind, query)
    return q
