"""The carrier components in the designer's pages (NiceGUI User fixture) against the sandbox on loopback."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from capture_server import capture_server
from nicegui import ui
from nicegui.testing import User

from designer.carrier import service as cs
from designer import services
from designer.app import build
from designer.carrier.client import CarrierClient
from designer.context import AppContext
from designer.sandbox import create_sandbox_app, setup
from designer.sandbox.db import SandboxDB
from designer.sandbox.server import running
from designer.store import SQLiteStore
from designer.ui.carrier_ui import call_me_button

LOGIN, PASSWORD = "designer", "pw"
SALES = "15551230001"


@pytest.fixture
def world(tmp_path):
    db = SandboxDB(tmp_path / "sandbox.sqlite")
    setup(db, LOGIN, PASSWORD, dids=[SALES, "15551230002"])
    store = SQLiteStore(tmp_path / "designer.sqlite")
    ctx = AppContext(store=store, table=None, public_url="https://ivr.example.com")
    with running(create_sandbox_app(db, poll=0.05)) as url:
        with CarrierClient(f"{url}/flexml/v1", LOGIN, PASSWORD) as carrier:
            yield SimpleNamespace(ctx=ctx, api=f"{url}/flexml/v1", carrier=carrier)
    store.close()


@pytest.fixture
def designer(user: User, world) -> User:
    build(world.ctx)
    return user


def only(user: User, marker: str):
    (element,) = user.find(marker=marker).elements
    return element


async def test_settings_card_saves_and_tests_the_connection(designer: User, world):
    await designer.open("/settings")
    await designer.should_see("Carrier account")
    designer.find("carrier-base-url").clear().type(world.api)
    designer.find("carrier-login").clear().type(LOGIN)
    designer.find("carrier-password").clear().type("wrong")
    designer.find("carrier-test").click()
    await designer.should_see("Carrier: bad credentials: the carrier refused login 'designer'")
    designer.find("carrier-password").clear().type(PASSWORD)
    designer.find("carrier-test").click()
    await designer.should_see(f"Connected to {world.api} as {LOGIN}: account 'sandbox', 2 number(s).")
    assert cs.carrier_settings(world.ctx) == cs.CarrierSettings(world.api, LOGIN, PASSWORD, password_address=world.api)


async def test_the_saved_password_never_reaches_the_page_and_an_empty_field_keeps_it(designer: User, world):
    cs.save_carrier_settings(world.ctx, world.api, LOGIN, PASSWORD)
    await designer.open("/settings")
    field = only(designer, "carrier-password")
    assert field.value == "" and field.props.get("placeholder") == "saved; type to change"
    designer.find("carrier-test").click()
    await designer.should_see(f"Connected to {world.api} as {LOGIN}: account 'sandbox', 2 number(s).")
    assert cs.carrier_settings(world.ctx).password == PASSWORD


async def test_changing_the_address_without_the_password_sends_it_nowhere(designer: User, world):
    cs.save_carrier_settings(world.ctx, world.api, LOGIN, PASSWORD)
    with capture_server() as (elsewhere, seen):
        await designer.open("/settings")
        designer.find("carrier-base-url").clear().type(elsewhere)
        designer.find("carrier-test").click()  # the password field left empty: "keep the saved one"
        await designer.should_see("re-enter the password for the new address")
        assert seen == []  # no request at all, so no login and password
    assert cs.carrier_settings(world.ctx).base_url == world.api


async def test_a_password_left_for_another_address_is_not_offered_as_saved(designer: User, world):
    cs.save_carrier_settings(world.ctx, world.api, LOGIN, PASSWORD)
    world.ctx.store.set_setting(cs.BASE_URL_SETTING, "https://other.example/flexml/v1")
    await designer.open("/settings")
    await designer.should_see("re-enter the password for the new address https://other.example/flexml/v1")
    assert only(designer, "carrier-password").props.get("placeholder") == ""


async def test_settings_card_refuses_a_bad_address(designer: User, world):
    await designer.open("/settings")
    designer.find("carrier-base-url").clear().type("carrier please")
    designer.find("carrier-save").click()
    await designer.should_see("Carrier API address 'carrier please' is not a web address")
    assert cs.carrier_settings(world.ctx).base_url == ""


async def test_numbers_card_asks_for_settings_first(designer: User):
    await designer.open("/numbers")
    await designer.should_see("Set up the carrier account first:")


async def test_numbers_card_binds_a_carrier_did_to_a_flow(designer: User, world):
    cs.save_carrier_settings(world.ctx, world.api, LOGIN, PASSWORD)
    flow = services.create_from_example(world.ctx, "main-menu").id
    await designer.open("/numbers")
    await designer.should_see("Numbers at the carrier")
    await designer.should_see("+1 555 123 0001")
    only(designer, f"carrier-flow-{SALES}").value = flow
    designer.find(f"carrier-bind-{SALES}").click()
    await designer.should_see("+1 555 123 0001 now rings “Main menu”")
    did = world.carrier.dids.list(filter=f'phonenumber eq "{SALES}"').items[0]
    assert (did.url, did.status_callback_url) == ("https://ivr.example.com/flexml",
                                                  "https://ivr.example.com/flexml/status")
    assert world.ctx.store.dids() == {SALES: flow}
    await designer.should_see("rings “Main menu” on this host")
    await designer.should_see("the flow is not published yet: callers hear an apology")
    await designer.should_see(marker=f"did-{SALES}")  # the page's own list of bound numbers follows
    designer.find(f"carrier-release-{SALES}").click()
    await designer.should_see("+1 555 123 0001 no longer sends its calls here")
    assert world.carrier.dids.get(did.did_sid).url is None and world.ctx.store.dids() == {}
    await designer.should_not_see(marker=f"did-{SALES}")


async def test_call_me_dialog_places_a_call(user: User, world):
    cs.save_carrier_settings(world.ctx, world.api, LOGIN, PASSWORD)
    flow = services.create_from_example(world.ctx, "main-menu").id
    services.publish(world.ctx, flow)

    @ui.page("/call-me-test")
    def page() -> None:
        call_me_button(world.ctx, flow)

    await user.open("/call-me-test")
    user.find("call-me").click()
    user.find("call-me-number").type("555")
    user.find("call-me-call").click()
    await user.should_see("555 is too short for a number in US (+1)")  # read as the Numbers page reads it
    user.find("call-me-number").clear().type("+1 (555) 987-6543")
    user.find("call-me-call").click()
    await user.should_see("The carrier is calling +1 555 987 6543 from +1 555 123 0001")
    await user.should_see("The call appears in Calls once the carrier fetches the flow")
    sid = only(user, "call-me-result").text.rsplit("(call ", 1)[1].rstrip(").")
    assert world.carrier.sandbox.call(sid)["url"] == f"https://ivr.example.com/flexml/{flow}"
