"""The sandbox's filter language against a plain-Python reading of the reference, on random data (hypothesis).

Runs the query layer over a real SQLite file, without HTTP: every random
filter must select exactly the DIDs the reference's definitions select, in
the order asked.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from designer.sandbox import setup
from designer.sandbox.db import SandboxDB
from designer.sandbox.query import parse_list_query
from designer.sandbox.schema import DID, ApiError

URLS = [None, "http://a.example/flexml", "http://b.example/flexml", "https://A.example/x_y%z"]
FIELDS = ["url", "method", "status_callback_url", "phonenumber"]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = SandboxDB(tmp_path_factory.mktemp("filters") / "sandbox.sqlite")
    account = setup(db, "u", "p", dids=[f"1555000{n:04d}" for n in range(12)])
    yield db, account["account_sid"]
    db.close()


def quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def like_regex(pattern: str, flags: int = 0) -> re.Pattern:
    return re.compile("".join(".*" if ch == "%" else re.escape(ch) for ch in pattern) + r"\Z", flags | re.S)


values = st.sampled_from(URLS[1:] + ["POST", "GET", "15550000003", "http://a.example/flexml?q", "A", ""])
patterns = st.sampled_from(["%", "http%", "%example%", "HTTP%", "%flexml", "%x_y%", "http://_.example%", "%0%3",
                            "POST", "p%"])


@st.composite
def conditions(draw):
    field = draw(st.sampled_from(FIELDS))
    op = draw(st.sampled_from(["eq", "ne", "gt", "ge", "lt", "le", "like", "ilike", "in", "eq null", "ne null"]))
    if op in ("eq null", "ne null"):
        word = op.split()[0]
        return f"{field} {word} null", (lambda v, w=word: (v is None) == (w == "eq")), field
    if op in ("like", "ilike"):
        pattern = draw(patterns)
        rx = like_regex(pattern, re.I if op == "ilike" else 0)
        return f"{field} {op} {quote(pattern)}", (lambda v, rx=rx: v is not None and bool(rx.match(v))), field
    if op == "in":
        chosen = draw(st.lists(values, min_size=1, max_size=3))
        return f"{field} in ({', '.join(quote(v) for v in chosen)})", (lambda v, c=tuple(chosen): v in c), field
    value = draw(values)
    test = {"eq": lambda v: v == value, "ne": lambda v: v != value,
            "gt": lambda v: v is not None and v > value, "ge": lambda v: v is not None and v >= value,
            "lt": lambda v: v is not None and v < value, "le": lambda v: v is not None and v <= value}[op]
    return f"{field} {op} {quote(value)}", test, field


filters = st.lists(conditions(), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(assignments=st.lists(st.tuples(st.sampled_from(URLS), st.sampled_from(["POST", "GET"]),
                                      st.sampled_from(URLS)), min_size=12, max_size=12),
       parts=filters, descending=st.booleans())
def test_random_filters_select_what_the_reference_says(db, assignments, parts, descending):
    db, account = db
    for (url, method, status), did in zip(assignments, db._exec("SELECT did_sid FROM dids ORDER BY rowid")):
        db.update(DID, did[0], {"url": url, "method": method, "status_callback_url": status})
    expression = " and ".join(text for text, _, _ in parts)
    q = parse_list_query(DID, {"filter": expression, "limit": "1000",
                               "order": f"phonenumber {'desc' if descending else 'asc'}"})
    got = [d["phonenumber"] for d in db.list(DID, account, q)[0]]
    everyone = [d for d in db.list(DID, account, parse_list_query(DID, {"limit": "1000"}))[0]]
    expected = sorted((d["phonenumber"] for d in everyone if all(test(d[field]) for _, test, field in parts)),
                      reverse=descending)
    assert got == expected, expression


@pytest.mark.parametrize("expression", ['phonenumber eq "1" and', "and", 'phonenumber in ()', "(", "phonenumber"])
def test_incomplete_filters_are_bad_requests(expression):
    with pytest.raises(ApiError) as exc:
        parse_list_query(DID, {"filter": expression})
    assert exc.value.status == 400 and exc.value.errors


@pytest.mark.parametrize("op", ["like", "ilike"])
def test_only_percent_is_a_wildcard(db, op):
    db, account = db
    first, second = [r[0] for r in db._exec("SELECT did_sid FROM dids ORDER BY rowid LIMIT 2")]
    db.update(DID, first, {"url": "http://a.example/x_y"})
    db.update(DID, second, {"url": "http://a.example/xzy"})
    for pattern, expected in (("%x_y", ["15550000000"]), ("http://_.example%", []), ("%x*y", []),
                              ("%x?y", []), ("%[x]%", [])):
        q = parse_list_query(DID, {"filter": f'url {op} "{pattern}"'})
        assert [d["phonenumber"] for d in db.list(DID, account, q)[0]] == expected, pattern
