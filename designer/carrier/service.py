"""The designer's carrier actions, without UI: settings, test connection, DIDs, binding, "call me".

Every function takes the ``AppContext`` and raises ``ServiceError`` with a
plain one-line message (the carrier's refusal included); the pages show it and
tests call these functions directly. Carrier settings live in the store:
``carrier_base_url``, ``carrier_login``, ``carrier_password`` (encrypted, see
``secret_box``) and ``carrier_password_address``: the API address the password
was saved for. The password is only ever sent to that address; after the
address changes it must be entered again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from designer import services
from designer.carrier.client import DID, Call, CarrierClient, CarrierError
from designer.context import AppContext
from designer.carrier.secret_box import PREFIX, SecretBox
from designer.services import ServiceError
from designer.store import FlowRecord

BASE_URL_SETTING = "carrier_base_url"
LOGIN_SETTING = "carrier_login"
PASSWORD_SETTING = "carrier_password"
PASSWORD_ADDRESS_SETTING = "carrier_password_address"
DEFAULT_BASE_URL = "https://api.carrierx.com/flexml/v1"


@dataclass
class CarrierSettings:
    base_url: str
    login: str
    password: str
    unreadable: bool = False  # a password is saved but cannot be read (its key file is missing or changed)
    password_address: str = ""  # the API address the saved password belongs to (only ever sent there)

    @property
    def complete(self) -> bool:
        return bool(self.base_url and self.login and self.password)

    @property
    def password_elsewhere(self) -> bool:
        """A password is saved, but for another API address than the current one."""
        return bool(self.password) and self.password_address != self.base_url

    def password_for(self, base_url: str) -> str:
        """The saved password if it was saved for ``base_url``, else ''."""
        return self.password if self.password and self.password_address == base_url else ""


def reenter_password(old: str, new: str) -> ServiceError:
    """Why a saved password is not used: it was entered for another API address."""
    return ServiceError(f"the saved password was entered for {old or 'another address'}; re-enter the password "
                        f"for the new address {new} (it is never sent to an address it was not entered for)")


@dataclass
class CarrierNumber:
    """A DID at the carrier, as the Numbers page shows it."""

    did_sid: str
    number: str  # digits only
    display: str  # +1 516 206 5337
    url: str | None
    method: str | None
    status_callback_url: str | None
    flow_id: str | None  # the flow bound to it in the designer
    points_here: bool  # the carrier sends its calls to this designer's host


def _box(ctx: AppContext) -> SecretBox:
    return SecretBox.beside(ctx.store.path)


def carrier_settings(ctx: AppContext) -> CarrierSettings:
    get = ctx.store.get_setting
    stored = get(PASSWORD_SETTING)
    password = _box(ctx).open(stored)
    if password and not stored.startswith(PREFIX):  # saved in plain text by an earlier version: seal it now
        ctx.store.set_setting(PASSWORD_SETTING, _box(ctx).seal(password))
    base_url = get(BASE_URL_SETTING) or ""
    address = get(PASSWORD_ADDRESS_SETTING)
    if stored and address is None:  # saved by an earlier version, always together with the address
        address = base_url
        ctx.store.set_setting(PASSWORD_ADDRESS_SETTING, address)
    return CarrierSettings(base_url, get(LOGIN_SETTING) or "", password or "",
                           unreadable=bool(stored) and password is None, password_address=address or "")


def save_carrier_settings(ctx: AppContext, base_url: str, login: str, password: str) -> CarrierSettings:
    """Check and store the carrier's API address and the FlexML endpoint's credentials.

    An empty ``password`` keeps the one saved before, if it can be read and was saved for this same
    API address (a password is never carried over to a new address). The password is stored
    encrypted (``secret_box``), with its key in a file beside the database.
    """
    base_url = (base_url or "").strip().rstrip("/")
    login = (login or "").strip()
    if not re.fullmatch(r"https?://[^\s/<>\"]+(/[^\s<>\"]*)?", base_url):
        raise ServiceError(f"carrier API address {base_url!r} is not a web address; "
                           f"use one like {DEFAULT_BASE_URL}")
    if not login:
        raise ServiceError("enter the FlexML endpoint's login")
    if not password:
        saved = carrier_settings(ctx)
        if saved.unreadable:
            raise ServiceError(f"the saved password cannot be read (its key file {_box(ctx).key_path} is missing "
                               "or changed); enter the password again")
        if not saved.password:
            raise ServiceError("enter the FlexML endpoint's password")
        if not saved.password_for(base_url):
            raise reenter_password(saved.password_address, base_url)
        password = saved.password
    ctx.store.set_setting(PASSWORD_SETTING, _box(ctx).seal(password))
    ctx.store.set_setting(PASSWORD_ADDRESS_SETTING, base_url)
    ctx.store.set_setting(BASE_URL_SETTING, base_url)
    ctx.store.set_setting(LOGIN_SETTING, login)
    return CarrierSettings(base_url, login, password, password_address=base_url)


def carrier_client(ctx: AppContext) -> CarrierClient:
    settings = carrier_settings(ctx)
    if settings.unreadable:
        raise ServiceError("the saved carrier password cannot be read on this machine (its key file is missing); "
                           "enter it again in Settings")
    if settings.password_elsewhere:
        raise reenter_password(settings.password_address, settings.base_url)
    if not settings.complete:
        raise ServiceError("the carrier is not set up yet: enter its API address, login and password in Settings")
    return CarrierClient(settings.base_url, settings.login, settings.password_for(settings.base_url))


def _carrier_failed(exc: CarrierError) -> ServiceError:
    return ServiceError(f"carrier: {exc}")


def check_connection(ctx: AppContext) -> str:
    """One line saying whether the carrier answers with these settings, and what it holds."""
    with carrier_client(ctx) as client:
        try:
            account = client.accounts.list(limit=1)
            dids = client.dids.list(limit=1, include_fields="did_sid")
        except CarrierError as exc:
            raise _carrier_failed(exc) from None
    name = account.items[0].name if account.items else "?"
    count = dids.total if dids.total is not None else dids.count
    return f"Connected to {client.base_url} as {client.login}: account {name!r}, {count} number(s)."


def local_flows(ctx: AppContext) -> dict[str, FlowRecord]:
    """This designer's flows by id: what a carrier number can be bound to."""
    return services.flow_records(ctx)


def carrier_numbers(ctx: AppContext) -> list[CarrierNumber]:
    """The carrier's DIDs with where they point and the flow each is bound to here."""
    bound = ctx.store.dids()
    base = services.public_url(ctx)
    with carrier_client(ctx) as client:
        try:
            dids = list(client.dids.iterate(limit=1000))
        except CarrierError as exc:
            raise _carrier_failed(exc) from None
    out = []
    for did in dids:
        number = did.phonenumber or ""
        out.append(CarrierNumber(
            did_sid=did.did_sid or "", number=number, display=services.format_number(number) if number else "",
            url=did.url, method=did.method, status_callback_url=did.status_callback_url,
            flow_id=bound.get(number), points_here=bool(did.url and did.url.startswith(f"{base}/flexml"))))
    return out


def bind_did_at_carrier(ctx: AppContext, did_sid: str, flow_id: str, direct: bool = False) -> DID:
    """Point a carrier DID at this host and route its calls to ``flow_id``.

    The DID's url becomes the host's account URL ``{public}/flexml`` (the host
    picks the flow by the number called), or with ``direct`` the flow's own URL
    ``{public}/flexml/{flow}``; its method POST and its status callback
    ``{public}/flexml/status``. The number is bound to the flow in the store
    and in the host's table.
    """
    if ctx.store.get_flow(flow_id) is None:
        raise ServiceError(f"flow {flow_id!r} does not exist")
    urls = services.carrier_urls(ctx, flow_id)
    with carrier_client(ctx) as client:
        try:
            did = client.dids.patch(did_sid, url=urls["flow"] if direct else urls["account"], method="POST",
                                    status_callback_url=urls["status"], status_callback_method="POST")
        except CarrierError as exc:
            raise _carrier_failed(exc) from None
    services.bind_number(ctx, did.phonenumber or "", flow_id)
    return did


def unbind_did_at_carrier(ctx: AppContext, did_sid: str) -> DID:
    """Stop sending the DID's calls here: clear its url and status callback at the carrier, unbind it here."""
    with carrier_client(ctx) as client:
        try:
            did = client.dids.patch(did_sid, url=None, status_callback_url=None)
        except CarrierError as exc:
            raise _carrier_failed(exc) from None
    if did.phonenumber in ctx.store.dids():
        services.unbind_number(ctx, did.phonenumber)
    return did


def place_call(ctx: AppContext, flow_id: str, to: str, from_did: str | None = None, delay: int = 0) -> Call:
    """"Call me": the carrier calls ``to`` and plays the flow's published revision from this host.

    The calling number is ``from_did`` if given, else a carrier DID bound to the
    flow, else the carrier's first DID.
    """
    record = ctx.store.get_flow(flow_id)
    if record is None:
        raise ServiceError(f"flow {flow_id!r} does not exist")
    if record.published_rev is None:
        raise ServiceError(f"flow {flow_id!r} is not published yet: publish it before calling with it")
    number = services.checked_number(to)
    urls = services.carrier_urls(ctx, flow_id)
    with carrier_client(ctx) as client:
        try:
            if from_did:
                calling = services.checked_number(from_did)
            else:
                dids = [d.phonenumber for d in client.dids.iterate(limit=1000, include_fields="phonenumber")]
                if not dids:
                    raise ServiceError("the carrier account has no numbers (DIDs) to call from")
                calling = next((d for d in dids if d in record.numbers), dids[0])
            return client.calls.create(calling_did=calling, called_did=number, url=urls["flow"], method="POST",
                                       status_callback_url=urls["status"], status_callback_method="POST",
                                       delay=delay or None)
        except CarrierError as exc:
            raise _carrier_failed(exc) from None
