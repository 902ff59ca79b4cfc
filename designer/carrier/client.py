"""A typed client for the carrier's FlexML REST API (accounts, DIDs, calls).

    client = CarrierClient("https://api.carrierx.com/flexml/v1", login, password)
    page = client.dids.list(filter='phonenumber like "1516%"', order="phonenumber desc", limit=50)
    for did in client.dids.iterate():          # every page, following pagination.next
        ...
    client.dids.patch(did.did_sid, url="https://ivr.example.com/flexml")
    call = client.calls.create(calling_did="15162065319", called_did="15162065318", url=...)

Every failure is a ``CarrierError`` whose message is plain words: bad
credentials, invalid field X, object validation error, unknown SID X,
unsupported media type, cannot connect to URL.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Generic, Iterator, TypeVar

import httpx

from designer.errors import DesignerError


class CarrierError(DesignerError):
    """The carrier refused or could not be reached; ``str(exc)`` is meant for the user."""

    def __init__(self, message: str, status: int | None = None, fields: list[str] | None = None,
                 reply: dict[str, Any] | None = None):
        super().__init__(message)
        self.status = status
        self.fields = fields or []
        self.reply = reply or {}


@dataclass
class Account:
    account_sid: str | None = None
    date_created: str | None = None
    error_handler: str | None = None
    login: str | None = None
    method: str | None = None
    name: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class DID:
    account_sid: str | None = None
    country_code: str | None = None
    did_sid: str | None = None
    in_country_format: str | None = None
    international_format: str | None = None
    method: str | None = None
    phonenumber: str | None = None
    status_callback_method: str | None = None
    status_callback_url: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


@dataclass
class Call:
    account_sid: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    call_sid: str | None = None
    called_did: str | None = None
    calling_did: str | None = None
    date_created: str | None = None
    delay: int | None = None
    method: str | None = None
    status_callback_method: str | None = None
    status_callback_url: str | None = None
    url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


T = TypeVar("T", Account, DID, Call)


def from_json(cls: type[T], data: dict[str, Any]) -> T:
    """An object from the carrier's JSON; fields left out by field filtering stay None, ``raw`` keeps it all."""
    names = {f.name for f in dataclasses.fields(cls)} - {"raw"}
    kwargs = {k: v for k, v in data.items() if k in names}
    if cls is Call and kwargs.get("attributes") is None:
        kwargs.pop("attributes", None)
    return cls(**kwargs, raw=dict(data))


def to_json(obj: Account | DID | Call) -> dict[str, Any]:
    """The whole object as the carrier's JSON (what a PUT sends)."""
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.name != "raw"}


@dataclass
class Page(Generic[T]):
    items: list[T]
    count: int
    total: int | None
    has_more: bool
    limit: int
    offset: int
    next: str | None = None
    previous: str | None = None


class CarrierClient:
    """Synchronous client; ``transport`` lets tests talk to an app in process."""

    def __init__(self, base_url: str, login: str, password: str, transport: httpx.BaseTransport | None = None,
                 timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.login = login
        self._http = httpx.Client(auth=(login, password), transport=transport, timeout=timeout,
                                  headers={"Accept": "application/json"})
        self.accounts = _Resource(self, "accounts", Account)
        self.dids = _Resource(self, "dids", DID)
        self.calls = _Calls(self, "calls", Call)
        self.sandbox = SandboxExtras(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "CarrierClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path_or_url: str, *, params: dict[str, Any] | None = None,
                json: Any = None, content: bytes | None = None, headers: dict[str, str] | None = None) -> Any:
        """One request; the decoded JSON answer (None for an empty one). Raises CarrierError.

        An absolute URL (a page link from an answer) is only requested at the base URL's own address:
        the login and password go nowhere else."""
        url = path_or_url if path_or_url.startswith(("http://", "https://")) else f"{self.base_url}{path_or_url}"
        if _origin(url) != _origin(self.base_url):
            raise CarrierError(f"the carrier's answer links to another address ({url}); not followed, so the "
                               f"password is only sent to {self.base_url}")
        try:
            response = self._http.request(method, url, params=params, json=json, content=content,
                                          headers=headers)
        except httpx.TimeoutException:
            raise CarrierError(f"the carrier at {self.base_url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise CarrierError(f"cannot connect to {self.base_url}: {exc}") from None
        if response.status_code == 200:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise CarrierError(f"the carrier at {self.base_url} answered with something that is not JSON "
                                   f"— is the base URL right? (it usually ends in /flexml/v1)") from None
        raise _error(response, self)


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of a URL (the default port spelled out): where a request goes."""
    parsed = httpx.URL(url)
    return parsed.scheme, parsed.host, parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)


def _error(response: httpx.Response, client: CarrierClient) -> CarrierError:
    try:
        reply = response.json()
    except ValueError:
        reply = {}
    if not isinstance(reply, dict):
        reply = {}
    message = str(reply.get("message") or response.reason_phrase or "")
    details = [e for e in reply.get("errors") or [] if isinstance(e, dict)]
    fields = [str(e["field"]) for e in details if e.get("field")]
    detail = "; ".join(str(e.get("message")) for e in details if e.get("message"))
    status = response.status_code
    low = message.lower()
    if status == 401:
        text = (f"bad credentials: the carrier refused login {client.login!r} "
                f"(use the FlexML endpoint's login and password)")
    elif status == 404 and "by sid" in low:
        sid = response.request.url.path.rstrip("/").rsplit("/", 1)[-1]
        text = f"unknown SID {sid}: {detail or message}"
    elif status == 404 and low.startswith("cannot find"):
        text = f"{message[0].lower()}{message[1:]}" + (f": {detail}" if detail else "")
    elif status == 404:
        text = (f"not found: {response.request.method} {response.request.url} "
                f"— is the base URL right? (it usually ends in /flexml/v1)")
    elif status == 415:
        text = f"unsupported media type: {detail or 'the carrier wants JSON'}"
    elif "invalid field" in low:
        text = f"invalid field {', '.join(fields) or '?'}: {detail or message}"
    elif "validation" in low:
        text = f"object validation error: {detail or message}"
    elif "json" in low:
        text = f"the carrier could not read the request body: {detail or message}"
    else:
        text = f"the carrier answered {status} {message}" + (f": {detail}" if detail else "")
    return CarrierError(text, status, fields, reply)


def _fields_param(value: str | list[str] | tuple[str, ...] | None) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else ",".join(value)


class _Resource(Generic[T]):
    def __init__(self, client: CarrierClient, path: str, cls: type[T]):
        self.client, self.path, self.cls = client, path, cls

    def _page(self, data: dict[str, Any]) -> Page[T]:
        pagination = data.get("pagination") or {}
        items = [from_json(self.cls, item) for item in data.get("items") or []]
        return Page(items=items, count=int(data.get("count", len(items))), total=data.get("total"),
                    has_more=bool(data.get("has_more")), limit=int(data.get("limit", 0)),
                    offset=int(data.get("offset", 0)), next=pagination.get("next"),
                    previous=pagination.get("previous"))

    def list(self, *, offset: int | None = None, limit: int | None = None, order: str | None = None,
             filter: str | None = None, include_fields: str | list[str] | None = None,
             exclude_fields: str | list[str] | None = None) -> Page[T]:
        params = {"offset": offset, "limit": limit, "order": order, "filter": filter,
                  "include_fields": _fields_param(include_fields), "exclude_fields": _fields_param(exclude_fields)}
        data = self.client.request("GET", f"/{self.path}", params={k: v for k, v in params.items() if v is not None})
        return self._page(data)

    def page(self, url: str) -> Page[T]:
        """Another page, from a ``Page.next`` or ``Page.previous`` URL."""
        return self._page(self.client.request("GET", url))

    def pages(self, **query: Any) -> Iterator[Page[T]]:
        """Every page of a list, following ``pagination.next``."""
        page = self.list(**query)
        yield page
        while page.has_more and page.next:
            page = self.page(page.next)
            yield page

    def iterate(self, **query: Any) -> Iterator[T]:
        """Every item of a list, across pages."""
        for page in self.pages(**query):
            yield from page.items

    def get(self, sid: str, *, include_fields: str | list[str] | None = None,
            exclude_fields: str | list[str] | None = None) -> T:
        params = {"include_fields": _fields_param(include_fields), "exclude_fields": _fields_param(exclude_fields)}
        data = self.client.request("GET", f"/{self.path}/{sid}",
                                   params={k: v for k, v in params.items() if v is not None})
        return from_json(self.cls, data)

    def patch(self, sid: str, changes: dict[str, Any] | None = None, **fields: Any) -> T:
        """Change some fields: ``patch(sid, url=..., method="POST")`` or ``patch(sid, {"url": ...})``."""
        body = dict(changes or {}, **fields)
        return from_json(self.cls, self.client.request("PATCH", f"/{self.path}/{sid}", json=body))

    def put(self, sid: str, whole: T | dict[str, Any]) -> T:
        """Replace the whole object (every field must be there; ``get`` it, change it, ``put`` it)."""
        body = whole if isinstance(whole, dict) else to_json(whole)
        return from_json(self.cls, self.client.request("PUT", f"/{self.path}/{sid}", json=body))


class _Calls(_Resource[Call]):
    def create(self, *, calling_did: str, called_did: str, url: str | None = None, method: str | None = None,
               delay: int | None = None, status_callback_url: str | None = None,
               status_callback_method: str | None = None, attributes: dict[str, Any] | None = None) -> Call:
        body = {"calling_did": calling_did, "called_did": called_did, "url": url, "method": method, "delay": delay,
                "status_callback_url": status_callback_url, "status_callback_method": status_callback_method,
                "attributes": attributes}
        data = self.client.request("POST", f"/{self.path}", json={k: v for k, v in body.items() if v is not None})
        return from_json(Call, data)

    def delete(self, sid: str) -> None:
        self.client.request("DELETE", f"/{self.path}/{sid}")


class SandboxExtras:
    """Routes only the local sandbox has (``flexml-designer sandbox``), not the real carrier."""

    def __init__(self, client: CarrierClient):
        self.client = client

    def inbound(self, to: str, from_: str = "15550001111", digits: list[str] | None = None,
                dial_outcome: str = "completed") -> dict[str, Any]:
        """Someone calls the DID ``to``; the answer holds the call's ``transcript``, ``ok`` and ``reason``."""
        return self.client.request("POST", "/sandbox/inbound", json={
            "to": to, "from": from_, "digits": list(digits or []), "dial_outcome": dial_outcome})

    def call(self, call_sid: str) -> dict[str, Any]:
        """A created call's ``state`` (scheduled, playing, done) and, once played, its ``result``."""
        return self.client.request("GET", f"/sandbox/calls/{call_sid}")
