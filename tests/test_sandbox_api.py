"""The carrier client against the sandbox over real HTTP on loopback: the reference's REST API.

Pagination, filters, ordering and field filtering on lists; PATCH and PUT;
credentials, unknown SIDs, malformed JSON, unsupported media types.
"""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import httpx
import pytest

from designer.carrier.client import DID, Account, CarrierClient, CarrierError, to_json
from designer.sandbox import create_sandbox_app, setup
from designer.sandbox.db import SandboxDB
from designer.sandbox.server import free_port, running

LOGIN, PASSWORD = "tester", "s3cret"
NUMBERS = [f"1555123{n:04d}" for n in range(1, 26)]  # 25 DIDs: three pages of 10


def start(tmp_path, numbers=NUMBERS):
    db = SandboxDB(tmp_path / "sandbox.sqlite")
    account = setup(db, LOGIN, PASSWORD, dids=numbers)
    return db, account


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    db, account = start(tmp_path_factory.mktemp("sandbox"))
    with running(create_sandbox_app(db, poll=0.1)) as url:
        yield SimpleNamespace(url=f"{url}/flexml/v1", db=db, account=account)


@pytest.fixture()
def fresh(tmp_path):
    """A sandbox of its own, for tests that change objects."""
    db, account = start(tmp_path, NUMBERS[:3])
    with running(create_sandbox_app(db, poll=0.1)) as url:
        with CarrierClient(f"{url}/flexml/v1", LOGIN, PASSWORD) as client:
            yield SimpleNamespace(url=f"{url}/flexml/v1", db=db, account=account, client=client)


@pytest.fixture()
def client(sandbox):
    with CarrierClient(sandbox.url, LOGIN, PASSWORD) as c:
        yield c


def link(url: str | None) -> tuple[str, dict[str, str]] | None:
    """A pagination URL as (address without query, query parameters): parameter order does not matter."""
    if url is None:
        return None
    parsed = httpx.URL(url)
    return str(parsed.copy_with(query=None)), dict(parsed.params)


def numbers(page) -> list[str]:
    return [d.phonenumber for d in page.items]


# --- accounts ----------------------------------------------------------------------------------


def test_accounts_list_shows_the_logged_in_account_with_every_field(client, sandbox):
    page = client.accounts.list()
    assert (page.count, page.total, page.has_more, page.limit, page.offset) == (1, 1, False, 10, 0)
    assert page.next is None and page.previous is None
    account = page.items[0]
    assert isinstance(account, Account)
    assert set(account.raw) == {"account_sid", "date_created", "error_handler", "login", "method", "name", "url"}
    assert (account.login, account.error_handler, account.method, account.url) == (LOGIN, "basic", "POST", None)
    assert account.date_created.endswith("Z") and "password" not in account.raw


def test_account_by_sid_and_field_filtering(client, sandbox):
    sid = sandbox.account["account_sid"]
    assert client.accounts.get(sid).login == LOGIN
    only = client.accounts.get(sid, include_fields="name,login")
    assert set(only.raw) == {"name", "login"}
    assert set(client.accounts.get(sid, exclude_fields=["date_created", "url"]).raw) == {
        "account_sid", "error_handler", "login", "method", "name"}


def test_account_patch_changes_only_the_changeable_fields(fresh):
    sid = fresh.account["account_sid"]
    changed = fresh.client.accounts.patch(sid, url="http://127.0.0.1:9/flexml", method="GET", error_handler="none")
    assert (changed.url, changed.method, changed.error_handler, changed.login) == (
        "http://127.0.0.1:9/flexml", "GET", "none", LOGIN)
    assert fresh.client.accounts.get(sid).method == "GET"
    with pytest.raises(CarrierError, match=r"^invalid field name: name cannot be changed") as exc:
        fresh.client.accounts.patch(sid, name="other")
    assert exc.value.status == 400 and exc.value.fields == ["name"]
    with pytest.raises(CarrierError, match=r"^invalid field colour"):
        fresh.client.accounts.patch(sid, colour="blue")
    with pytest.raises(CarrierError, match=r"^object validation error: method must be POST or GET, not 'PUT'"):
        fresh.client.accounts.patch(sid, method="PUT")
    with pytest.raises(CarrierError, match=r"^object validation error: url must be an http"):
        fresh.client.accounts.patch(sid, url="ftp://example.com/x")
    assert fresh.client.accounts.get(sid).name == "sandbox"


def test_account_put_needs_the_whole_object_and_refuses_unchangeable_values(fresh):
    sid = fresh.account["account_sid"]
    account = fresh.client.accounts.get(sid)
    account.method, account.url = "GET", ""
    body = dict(to_json(account), password=PASSWORD)  # the reference's example sends the password too
    put = fresh.client.accounts.put(sid, body)
    assert (put.method, put.url) == ("GET", None)  # "" clears the url, as in the reference's example
    partial = {k: v for k, v in to_json(account).items() if k not in ("name", "error_handler")}
    with pytest.raises(CarrierError, match=r"^object validation error: missing: PUT needs the whole object") as exc:
        fresh.client.accounts.put(sid, partial)
    assert sorted(exc.value.fields) == ["error_handler", "name"]
    account.login = "someone-else"
    with pytest.raises(CarrierError, match=r"^invalid field login: login cannot be changed"):
        fresh.client.accounts.put(sid, account)
    assert fresh.client.accounts.get(sid).login == LOGIN


# --- DIDs, pagination ---------------------------------------------------------------------------


def test_dids_have_every_field_of_the_reference(client):
    did = client.dids.list(limit=1).items[0]
    assert isinstance(did, DID)
    assert set(did.raw) == {"account_sid", "country_code", "did_sid", "in_country_format", "international_format",
                            "method", "phonenumber", "status_callback_method", "status_callback_url", "url"}
    assert (did.phonenumber, did.country_code, did.in_country_format, did.international_format) == (
        "15551230001", "USA", "(555) 123-0001", "+1 555-123-0001")
    assert client.dids.get(did.did_sid) == did


def test_default_page_is_ten_items_with_has_more_and_a_next_url(client, sandbox):
    page = client.dids.list()
    assert (page.count, page.total, page.limit, page.offset, page.has_more) == (10, 25, 10, 0, True)
    assert numbers(page) == NUMBERS[:10]
    assert page.previous is None
    assert link(page.next) == (f"{sandbox.url}/dids", {'limit': '10', 'offset': '10'})


def test_offset_and_limit_give_previous_and_next_urls(client, sandbox):
    page = client.dids.list(offset=2, limit=4)
    assert numbers(page) == NUMBERS[2:6]
    assert (page.count, page.total, page.has_more) == (4, 25, True)
    assert link(page.previous) == (f"{sandbox.url}/dids", {'offset': '0', 'limit': '4'})
    assert link(page.next) == (f"{sandbox.url}/dids", {'offset': '6', 'limit': '4'})
    assert numbers(client.dids.page(page.next)) == NUMBERS[6:10]
    assert numbers(client.dids.page(page.previous)) == NUMBERS[0:4]


def test_last_page_has_no_next_and_past_the_end_is_empty_with_a_previous(client, sandbox):
    last = client.dids.list(offset=20)
    assert (last.count, last.has_more, last.next) == (5, False, None)
    assert link(last.previous) == (f"{sandbox.url}/dids", {'offset': '10', 'limit': '10'})
    beyond = client.dids.list(offset=30, limit=4)  # the reference's example: no items, a previous URL
    assert (beyond.count, beyond.items, beyond.has_more, beyond.total) == (0, [], False, 25)
    assert link(beyond.previous) == (f"{sandbox.url}/dids", {'offset': '26', 'limit': '4'})


def test_pagination_keeps_the_filter_and_order_in_its_urls(client):
    page = client.dids.list(filter='phonenumber like "1555123001%"', order="phonenumber desc", limit=3)
    assert numbers(page) == ["15551230019", "15551230018", "15551230017"]
    second = client.dids.page(page.next)
    assert numbers(second) == ["15551230016", "15551230015", "15551230014"]
    assert (second.total, second.offset) == (10, 3)


def test_iterate_follows_every_page(client):
    assert [d.phonenumber for d in client.dids.iterate(limit=7)] == NUMBERS
    assert [p.count for p in client.dids.pages(limit=7)] == [7, 7, 7, 4]
    assert [d.phonenumber for d in client.dids.iterate(order="phonenumber desc")] == NUMBERS[::-1]


def test_limit_up_to_one_thousand(client):
    assert client.dids.list(limit=1000).count == 25
    assert client.dids.list(limit=0).count == 0
    for bad in (1001, -1):
        with pytest.raises(CarrierError, match=r"limit must be between 0 and 1000"):
            client.dids.list(limit=bad)
    with pytest.raises(CarrierError, match=r"offset must be a whole number, not 'x'"):
        client.dids.list(offset="x")


def test_order_by_field_ascending_by_default(client):
    assert numbers(client.dids.list(order="phonenumber", limit=3)) == NUMBERS[:3]
    assert numbers(client.dids.list(order="phonenumber asc", limit=3)) == NUMBERS[:3]
    assert numbers(client.dids.list(order="phonenumber desc", limit=3)) == NUMBERS[:-4:-1]
    with pytest.raises(CarrierError, match=r"^invalid field colour: cannot order by 'colour'"):
        client.dids.list(order="colour desc")
    with pytest.raises(CarrierError, match=r"order is a field name then asc or desc"):
        client.dids.list(order="phonenumber sideways")


# --- filters ------------------------------------------------------------------------------------


@pytest.mark.parametrize("expression, expected", [
    ('phonenumber eq "15551230007"', ["15551230007"]),
    ("phonenumber eq 15551230007", ["15551230007"]),
    ('phonenumber gt "15551230023"', ["15551230024", "15551230025"]),
    ('phonenumber ge "15551230024"', ["15551230024", "15551230025"]),
    ('phonenumber lt "15551230003"', ["15551230001", "15551230002"]),
    ('phonenumber le "15551230002"', ["15551230001", "15551230002"]),
    ('phonenumber like "%0012"', ["15551230012"]),
    ('phonenumber like "1555123002%"', ["15551230020", "15551230021", "15551230022", "15551230023",
                                        "15551230024", "15551230025"]),
    ('international_format like "+1 555-123-001%"', [f"155512300{n}" for n in range(10, 20)]),
    ('in_country_format like "(555) 1%-0025"', ["15551230025"]),
    ('phonenumber in ("15551230003", "15551230011")', ["15551230003", "15551230011"]),
    ("phonenumber in ('15551230004')", ["15551230004"]),
    ('phonenumber ge "15551230010" and phonenumber le "15551230012"', ["15551230010", "15551230011",
                                                                       "15551230012"]),
    ('phonenumber like "1555123000%" and phonenumber in ("15551230001", "15551230002", "15551230020")',
     ["15551230001", "15551230002"]),
    ('url eq null and phonenumber eq "15551230001"', ["15551230001"]),
    ('url ne null', []),
])
def test_filter_operators(client, expression, expected):
    assert numbers(client.dids.list(filter=expression, limit=1000)) == expected


def test_ne_excludes_only_the_value(client):
    page = client.dids.list(filter='phonenumber ne "15551230001"', limit=1000)
    assert page.total == 24 and "15551230001" not in numbers(page)


def test_like_is_case_sensitive_and_ilike_is_not(client):
    assert client.dids.list(filter='country_code like "US%"').total == 25
    assert client.dids.list(filter='country_code like "us%"').total == 0
    assert client.dids.list(filter='country_code ilike "us%"').total == 25
    assert client.dids.list(filter='country_code ilike "U%a"').total == 25
    assert client.dids.list(filter='country_code like "U%A"').total == 25
    assert client.dids.list(filter='country_code like "U%a"').total == 0


@pytest.mark.parametrize("expression, message", [
    ('colour eq "red"', r"^invalid field colour: 'colour' in the filter is not a field of a did"),
    ('phonenumber is "1"', r"unknown operator 'is' after 'phonenumber'"),
    ("phonenumber eq", r"ends where a value was expected"),
    ('phonenumber eq "1', r"cannot read the filter"),
    ('phonenumber in "1"', r"'in' needs a list in parentheses"),
    ('phonenumber eq "1" or url eq null', r"conditions are combined with 'and'; found 'or'"),
])
def test_bad_filters_say_what_is_wrong(client, expression, message):
    with pytest.raises(CarrierError, match=message) as exc:
        client.dids.list(filter=expression)
    assert exc.value.status == 400


# --- field filtering ----------------------------------------------------------------------------


def test_include_and_exclude_fields_on_lists(client):
    page = client.dids.list(include_fields="phonenumber,url", limit=2)
    assert [set(d.raw) for d in page.items] == [{"phonenumber", "url"}] * 2
    assert page.items[0].did_sid is None  # left out, not lost: raw shows it was not sent
    page = client.dids.list(exclude_fields=["url", "method", "account_sid"], limit=1)
    assert set(page.items[0].raw) == {"country_code", "did_sid", "in_country_format", "international_format",
                                      "phonenumber", "status_callback_method", "status_callback_url"}
    both = client.dids.list(include_fields="phonenumber,url", exclude_fields="url", limit=1)
    assert set(both.items[0].raw) == {"phonenumber"}


def test_field_lists_tolerate_quotes_and_spaces_as_in_the_reference(client, sandbox):
    response = httpx.get(f"{sandbox.url}/dids", params={"exclude_fields": '"url"', "limit": 1},
                         auth=(LOGIN, PASSWORD))
    assert response.status_code == 200 and "url" not in response.json()["items"][0]
    page = client.dids.list(include_fields='"phonenumber", "did_sid"', limit=1)
    assert set(page.items[0].raw) == {"phonenumber", "did_sid"}


def test_unknown_field_in_field_filtering_is_an_invalid_field(client):
    with pytest.raises(CarrierError, match=r"^invalid field colour: include_fields: 'colour'"):
        client.dids.list(include_fields="phonenumber,colour")
    with pytest.raises(CarrierError, match=r"^invalid field colour: exclude_fields"):
        client.dids.get(client.dids.list(limit=1).items[0].did_sid, exclude_fields="colour")


# --- DID updates --------------------------------------------------------------------------------


def test_did_patch_and_put(fresh):
    did = fresh.client.dids.list().items[0]
    patched = fresh.client.dids.patch(did.did_sid, url="http://127.0.0.1:9/flexml", method="GET",
                                      status_callback_url="http://127.0.0.1:9/flexml/status")
    assert (patched.url, patched.method, patched.status_callback_url, patched.phonenumber) == (
        "http://127.0.0.1:9/flexml", "GET", "http://127.0.0.1:9/flexml/status", did.phonenumber)
    assert fresh.client.dids.list(filter='method eq "GET"').total == 1
    with pytest.raises(CarrierError, match=r"^invalid field phonenumber: phonenumber cannot be changed"):
        fresh.client.dids.patch(did.did_sid, phonenumber="15550000000")
    whole = fresh.client.dids.get(did.did_sid)
    whole.status_callback_method, whole.url = "GET", None
    put = fresh.client.dids.put(did.did_sid, whole)
    assert (put.status_callback_method, put.url, put.method) == ("GET", None, "GET")
    whole.country_code = "GBR"
    with pytest.raises(CarrierError, match=r"^invalid field country_code"):
        fresh.client.dids.put(did.did_sid, whole)
    body = to_json(fresh.client.dids.get(did.did_sid))
    del body["status_callback_url"]
    with pytest.raises(CarrierError, match=r"^object validation error: missing: PUT needs the whole object"):
        fresh.client.dids.put(did.did_sid, body)
    with pytest.raises(CarrierError, match=r"^object validation error: there is no account 'nope'"):
        fresh.client.dids.patch(did.did_sid, account_sid="nope")


def test_did_put_of_the_references_sample_body(fresh):
    did = fresh.client.dids.list().items[0]
    assert did.status_callback_url is None
    # the reference's sample, with this sandbox's ids: no status_callback_url, which this DID does not have
    sample = {"phonenumber": did.phonenumber, "did_sid": did.did_sid, "account_sid": did.account_sid,
              "url": "http://ow-fcc4d-app01.int/pvtest/pi", "status_callback_method": "POST", "method": "GET",
              "country_code": did.country_code, "in_country_format": did.in_country_format,
              "international_format": did.international_format}
    put = fresh.client.dids.put(did.did_sid, sample)
    assert (put.url, put.method, put.status_callback_url) == ("http://ow-fcc4d-app01.int/pvtest/pi", "GET", None)


# --- errors -------------------------------------------------------------------------------------


def test_bad_credentials(sandbox):
    with CarrierClient(sandbox.url, LOGIN, "wrong") as bad:
        with pytest.raises(CarrierError, match=r"^bad credentials: the carrier refused login 'tester'") as exc:
            bad.dids.list()
    assert exc.value.status == 401
    with CarrierClient(sandbox.url, "nobody", PASSWORD) as bad:
        with pytest.raises(CarrierError, match=r"^bad credentials"):
            bad.accounts.list()
    response = httpx.get(f"{sandbox.url}/dids", auth=(LOGIN, "wrong"))
    assert (response.status_code, response.json()["message"]) == (401, "Bad credentials")
    response = httpx.get(f"{sandbox.url}/dids")
    assert (response.status_code, response.json()["message"]) == (401, "Unauthorized")
    assert response.headers["www-authenticate"].startswith("Basic")


def test_unknown_sids(client):
    for resource, label in ((client.dids, "did"), (client.accounts, "account"), (client.calls, "call")):
        with pytest.raises(CarrierError, match=rf"^unknown SID 0000-nope: no {label} has the SID '0000-nope'") as e:
            resource.get("0000-nope")
        assert e.value.status == 404
    with pytest.raises(CarrierError, match=r"^unknown SID 0000-nope"):
        client.calls.delete("0000-nope")
    with pytest.raises(CarrierError, match=r"^unknown SID 0000-nope"):
        client.dids.patch("0000-nope", method="GET")


def test_reference_messages_for_unknown_sids_and_routes(sandbox):
    auth = (LOGIN, PASSWORD)
    response = httpx.get(f"{sandbox.url}/calls/nope", auth=auth)
    assert (response.status_code, response.json()["message"]) == (404, "Cannot find dialout by SID")
    response = httpx.get(f"{sandbox.url}/dids/nope", auth=auth)
    assert (response.status_code, response.json()["message"]) == (404, "Cannot find did by SID")
    response = httpx.get(f"{sandbox.url}/bindings", auth=auth)
    assert (response.status_code, response.json()["message"]) == (404, "Not Found")
    response = httpx.delete(f"{sandbox.url}/dids", auth=auth)
    assert (response.status_code, response.json()["message"]) == (405, "Method Not Allowed")


def test_malformed_json_and_unsupported_media_type(sandbox, client):
    sid = client.dids.list(limit=1).items[0].did_sid
    auth = (LOGIN, PASSWORD)
    json_header = {"Content-Type": "application/json"}
    response = httpx.patch(f"{sandbox.url}/dids/{sid}", content=b'{"method": "GET",}', headers=json_header,
                           auth=auth)
    assert (response.status_code, response.json()["message"]) == (400, "No JSON object could be decoded")
    response = httpx.patch(f"{sandbox.url}/dids/{sid}", content=b'["GET"]', headers=json_header, auth=auth)
    assert (response.status_code, response.json()["message"]) == (400, "No JSON object could be decoded")
    assert "must be a JSON object" in response.json()["errors"][0]["message"]
    response = httpx.patch(f"{sandbox.url}/dids/{sid}", data={"method": "GET"}, auth=auth)  # a form, as curl -d
    assert (response.status_code, response.json()["message"]) == (415, "Unsupported media type")
    response = httpx.post(f"{sandbox.url}/calls", content=b"calling_did=1", headers={"Content-Type": "text/plain"},
                          auth=auth)
    assert (response.status_code, response.json()["message"]) == (415, "Unsupported media type")
    assert client.dids.get(sid).method == "POST"  # nothing changed


def test_carrier_errors_read_plainly_for_raw_bodies(client):
    with pytest.raises(CarrierError, match=r"^unsupported media type: send the body as JSON") as exc:
        client.request("POST", "/calls", content=b"calling_did=1", headers={"Content-Type": "text/plain"})
    assert exc.value.status == 415
    with pytest.raises(CarrierError, match=r"^the carrier could not read the request body: the body is not JSON"):
        client.request("POST", "/calls", content=b"{", headers={"Content-Type": "application/json"})


def test_cannot_connect():
    port = free_port()
    with CarrierClient(f"http://127.0.0.1:{port}/flexml/v1", LOGIN, PASSWORD) as c:
        with pytest.raises(CarrierError, match=rf"^cannot connect to http://127.0.0.1:{port}/flexml/v1"):
            c.accounts.list()


def test_a_base_url_that_is_not_the_api_says_so(sandbox):
    root = sandbox.url.removesuffix("/flexml/v1")
    with CarrierClient(root, LOGIN, PASSWORD) as c:
        with pytest.raises(CarrierError, match=r"^not found: GET .*/accounts — is the base URL right"):
            c.accounts.list()


def test_a_failure_inside_the_sandbox_is_a_500_without_a_traceback(fresh, monkeypatch):
    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(fresh.db, "list", broken)  # the disk fails under the sandbox
    response = httpx.get(f"{fresh.url}/dids", auth=(LOGIN, PASSWORD))
    assert response.status_code == 500
    assert response.json()["message"] == "Internal server error"
    assert "Traceback" not in response.text and "sqlite3" not in response.text
    with pytest.raises(CarrierError, match=r"^the carrier answered 500 Internal server error"):
        fresh.client.dids.list()


# --- the reference's own examples ---------------------------------------------------------------


def test_reference_example_empty_calls_page_with_offset_and_limit(client, sandbox):
    page = client.calls.list(offset=2, limit=4)  # GET /calls?offset=2&limit=4
    assert (page.count, page.has_more, page.items, page.limit, page.offset, page.total) == (0, False, [], 4, 2, 0)
    assert link(page.previous) == (f"{sandbox.url}/calls", {"limit": "4", "offset": "0"}) and page.next is None


@pytest.mark.parametrize("expression, found", [
    ('name eq "sandbox"', True), ('name ne "sandbox"', False), ('name like "sand%"', True),
    ('name like "s%x"', True), ('name like "S%"', False), ('name ilike "SandBOX%"', True),
    ('name in ("active", "sandbox")', True), ('name in ("active", "suspended")', False),
])
def test_reference_example_filters_on_accounts(client, expression, found):
    page = client.accounts.list(offset=0, limit=10, order="name", filter=expression)
    assert page.total == (1 if found else 0)
