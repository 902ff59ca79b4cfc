"""A request's JSON body, read the way the sandbox can afford: capped in size, nesting and numbers.

``read_json(request)`` gives the body's object or raises ``ApiError`` with the
reference's error body: 415 for a body that is not JSON, 400 "Bad request" for
one larger than ``MAX_BODY`` bytes, nested deeper than ``MAX_DEPTH`` or holding
a number SQLite cannot store, 400 "No JSON object could be decoded" for text
that is not a JSON object.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from designer.sandbox.schema import MAX_INT, ApiError

MAX_BODY = 1 << 20  # bytes
MAX_DEPTH = 32  # objects and arrays inside one another


def _bad(why: str, field: str | None = None) -> ApiError:
    return ApiError(400, "Bad request", [(field, why)])


async def _body(request: Request) -> bytes:
    """The body, refused as soon as it is known to pass MAX_BODY (by its Content-Length, or as it arrives)."""
    too_large = f"the body is larger than {MAX_BODY} bytes, the most the sandbox takes"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _bad(too_large)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise _bad(too_large)
        chunks.append(chunk)
    return b"".join(chunks)


def check_values(body: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and integers past SQLite's range, naming the top-level field."""
    todo: list[tuple[Any, int, str | None]] = [(body, 0, None)]
    while todo:
        value, depth, field = todo.pop()
        if isinstance(value, dict):
            items = [(v, depth + 1, field or str(k)) for k, v in value.items()]
        elif isinstance(value, list):
            items = [(v, depth + 1, field) for v in value]
        else:
            if isinstance(value, int) and not isinstance(value, bool) and not -MAX_INT - 1 <= value <= MAX_INT:
                raise _bad(f"{str(value)[:20]}… is out of range (a number from {-MAX_INT - 1} to {MAX_INT})", field)
            continue
        if depth >= MAX_DEPTH:
            raise _bad(f"the body is nested more than {MAX_DEPTH} levels deep", field)
        todo += items


async def read_json(request: Request) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise ApiError(415, "Unsupported media type",
                       [(None, f"send the body as JSON with 'Content-Type: application/json' "
                               f"(this request has {ctype or 'no Content-Type'})")])
    raw = await _body(request)
    try:
        body = json.loads(raw)
    except RecursionError:
        raise _bad(f"the body is nested more than {MAX_DEPTH} levels deep") from None
    except (ValueError, UnicodeDecodeError) as exc:  # a 5000-digit number too: ValueError
        raise ApiError(400, "No JSON object could be decoded", [(None, f"the body is not JSON: {exc}")]) from None
    if not isinstance(body, dict):
        raise ApiError(400, "No JSON object could be decoded",
                       [(None, f"the body must be a JSON object {{...}}, not {type(body).__name__}")])
    check_values(body)
    return body
