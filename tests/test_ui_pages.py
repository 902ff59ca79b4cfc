"""The designer's pages and forms through NiceGUI's User fixture, over a real SQLite store."""

from __future__ import annotations

import httpx
import pytest
from nicegui import app, ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from compiler import flow as flowfile
from designer import services
from designer.app import build
from designer.context import AppContext
from designer.simulator.callers import ScriptedCaller
from designer.simulator import simulate_call


@pytest.fixture
def designer(user: User, ctx: AppContext) -> User:
    build(ctx)
    return user


def input_error(user: User, marker: str) -> str:
    (element,) = user.find(marker=marker).elements
    return str(element.props.get("error-message", "")) if element.props.get("error") is not None else ""


async def test_first_run_shows_examples_and_one_clear_button(designer: User, ctx):
    await designer.open("/")
    await designer.should_see("No flows yet")
    await designer.should_see("Start from an example")
    for name in ("Main menu", "PIN check", "After-hours message"):
        await designer.should_see(name)
    designer.find("use-main-menu").click()
    await designer.should_see("Main menu")
    assert [f.id for f in ctx.store.list_flows()] == ["main-menu"]


async def test_new_flow_needs_a_name_then_opens(designer: User, ctx):
    await designer.open("/")
    designer.find("new-flow").click()
    designer.find("create").click()
    assert "needs a name" in input_error(designer, "new-name")
    assert ctx.store.list_flows() == []
    designer.find("new-name").type("Support line")
    designer.find("create").click()
    await designer.should_see("Created “Support line”")
    assert ctx.store.get_flow("support-line").name == "Support line"


async def test_rename_and_duplicate(designer: User, ctx):
    services.create_from_example(ctx, "main-menu")
    await designer.open("/")
    designer.find("rename-main-menu").click()
    designer.find("rename-name").clear().type("Acme front desk")
    designer.find("rename-save").click()
    await designer.should_see("Renamed to “Acme front desk”")
    await designer.should_see("Acme front desk")
    assert ctx.store.get_flow("main-menu").name == "Acme front desk"

    designer.find("duplicate-main-menu").click()
    await designer.should_see("Copy of Acme front desk")
    assert ctx.store.get_flow("copy-of-acme-front-desk") is not None


async def test_delete_asks_first(designer: User, ctx):
    services.create_from_example(ctx, "after-hours")
    services.bind_number(ctx, "+15162065337", "after-hours-message")
    await designer.open("/")
    designer.find("delete-after-hours-message").click()
    await designer.should_see("Delete “After-hours message”?")
    await designer.should_see("calls to +1 516 206 5337 will no longer be answered by it")
    designer.find("delete-cancel").click()
    assert ctx.store.get_flow("after-hours-message") is not None

    designer.find("delete-after-hours-message").click()
    designer.find("delete-confirm").click()
    await designer.should_see("Deleted “After-hours message”")
    await designer.should_see("No flows yet")
    assert ctx.store.get_flow("after-hours-message") is None and ctx.store.dids() == {}


async def test_search_appears_for_a_long_list_and_filters(designer: User, ctx):
    for i in range(3):
        services.create_blank(ctx, f"Sales {i}")
    await designer.open("/")
    await designer.should_not_see(marker="search")  # three flows: no search box
    for name in ("Support", "Billing", "PIN line"):
        services.create_blank(ctx, name)
    await designer.open("/")
    await designer.should_see(marker="search")
    designer.find("search").type("bill")
    await designer.should_see("Billing")
    await designer.should_not_see("Sales 1")
    designer.find("search").clear().type("zzz")
    await designer.should_see("No flow matches")


async def test_import_a_flow_file_and_a_bad_one(designer: User, ctx):
    services.create_from_example(ctx, "pin-check")
    _, data = services.export_flow_file(ctx, "pin-check")
    services.delete(ctx, "pin-check")
    await designer.open("/")
    designer.find("import").click()
    (upload,) = designer.find(ui.upload).elements
    await upload.handle_uploads([SmallFileUpload("broken.json", "application/json", b'{"nodes": 3}')])
    await designer.should_see("Could not import: broken.json: not a flow: there is no 'nodes' list")
    assert ctx.store.list_flows() == []
    await upload.handle_uploads([SmallFileUpload("pin.json", "application/json", data)])
    await designer.should_see("Imported “PIN check”")
    assert ctx.store.get_flow("pin-check") is not None


async def test_importing_twiml_shows_what_was_not_mapped(designer: User, ctx):
    await designer.open("/")
    designer.find("import").click()
    (upload,) = designer.find(ui.upload).elements
    twiml = b'<Response>\n  <Say>Hello</Say>\n  <Conference>room</Conference>\n</Response>'
    await upload.handle_uploads([SmallFileUpload("old.xml", "text/xml", twiml)])
    await designer.should_see(marker="import-notes")
    await designer.should_see("Conference")
    assert len(ctx.store.list_flows()) == 1


async def test_download_flow_file_from_the_list(designer: User, ctx):
    services.create_from_example(ctx, "after-hours")
    await designer.open("/")
    designer.find("download-flow-after-hours-message").click()
    response = await designer.download.next()
    assert flowfile.loads(response.content).graph["id"] == "after-hours-message"


async def test_bind_a_number_with_validation(designer: User, ctx):
    services.create_from_example(ctx, "main-menu")
    await designer.open("/numbers")
    await designer.should_see("No numbers bound")
    designer.find(marker="did-input").type("555-12")
    designer.find(marker="bind").click()
    await designer.should_see("'555-12' is not a phone number in E.164 form")
    assert ctx.store.dids() == {}

    designer.find(marker="did-input").clear().type("+1 (516) 206-5337")
    designer.find(marker="bind").click()
    await designer.should_see("+1 516 206 5337 now rings “Main menu”")
    assert ctx.store.dids() == {"15162065337": "main-menu"}
    assert ctx.table.flow_for_number("15162065337") == "main-menu"
    await designer.should_see("flow not published")

    designer.find("unbind-15162065337").click()
    await designer.should_see("No numbers bound")
    assert ctx.store.dids() == {}


async def test_calls_list_after_a_call_through_the_host(designer: User, ctx):
    services.create_from_example(ctx, "main-menu")
    services.publish(ctx, "main-menu")
    services.bind_number(ctx, "+15162065337", "main-menu")
    # the carrier calls the account URL of the designer's own server: the host routes on the NiceGUI app
    result = await simulate_call("http://test/flexml", to="15162065337", from_="15551230001",
                                 caller=ScriptedCaller(digits=["2"]), transport=httpx.ASGITransport(app),
                                 status_callback_url="http://test/flexml/status")
    assert result.ok, result.transcript()
    assert "Please leave a message after the beep." in " ".join(result.said())
    await designer.open("/calls")
    (table,) = designer.find(marker="calls").elements
    (row,) = table.rows
    assert (row["from"], row["to"], row["flow"], row["rev"], row["status"]) == \
        ("+1 555 123 0001", "+1 516 206 5337", "Main menu", "1", "completed")
    assert row["path"].startswith("welcome → hours → menu → vm-prompt → voicemail")
    assert row["duration"].endswith(" s")

    # opening a call goes to its flow with the call id (the editor draws the path; here a page stands in for it)
    @ui.page("/flows/{flow_id}")
    def flow_page(flow_id: str, call: str = "") -> None:
        ui.label(f"flow {flow_id}, path of {call}: {' → '.join(services.call_path(ctx, call))}")

    designer.find(marker="calls").trigger("rowClick", [{}, {"sid": row["sid"], "flow_id": "main-menu"}, 0])
    await designer.should_see(f"flow main-menu, path of {row['sid']}: welcome → hours → menu → vm-prompt")


async def test_calls_page_empty_state(designer: User):
    await designer.open("/calls")
    await designer.should_see("No calls yet")


async def test_settings_public_url_and_password(designer: User, ctx):
    await designer.open("/settings")
    designer.find("public-url").clear().type("not a url")
    designer.find("save-url").click()
    await designer.should_see("'not a url' is not a web address")
    designer.find("public-url").clear().type("https://ivr.acme.example/")
    designer.find("save-url").click()
    await designer.should_see("Public address saved")
    assert services.public_url(ctx) == "https://ivr.acme.example"

    designer.find("new-password").type("short")
    designer.find("confirm-password").type("short")
    designer.find("change-password").click()
    await designer.should_see("The password is 5 characters; use at least 8")
    designer.find("new-password").clear().type("correct horse")
    designer.find("confirm-password").clear().type("correct horse")
    designer.find("change-password").click()
    await designer.should_see("Password changed")
    from designer.ui import auth
    assert auth.check_password("correct horse", ctx.store.get_setting(auth.HASH_SETTING))


async def test_nav_links_reach_every_page(designer: User):
    await designer.open("/")
    for label, text in (("numbers", "Bind a number"), ("calls", "No calls yet"), ("settings", "Public address"),
                        ("flows", "No flows yet")):
        designer.find(f"nav-{label}").click()
        await designer.should_see(text)


async def test_repeated_wrong_passwords_are_slowed_down(user: User, ctx):
    from designer.ui import auth

    auth.set_password(ctx, "correct horse")
    build(ctx, require_login=True)
    try:
        await user.open("/calls")
        await user.should_see("Enter the designer's password.")
        for _ in range(5):
            user.find(marker="password").clear().type("guess")
            user.find(marker="sign-in").click()
            await user.should_see("Wrong password; try again")
        user.find(marker="password").clear().type("correct horse")
        user.find(marker="sign-in").click()
        await user.should_see("Too many wrong passwords; try again in 30 seconds")
        await user.should_not_see("No calls yet")
    finally:
        auth.config.required = False


async def test_sign_in_guards_pages_but_not_the_host(user: User, ctx):
    from designer.ui import auth

    build(ctx, require_login=True)
    try:
        await user.open("/numbers")
        await user.should_see("Set a password")
        answer = await user.http_client.post("/flexml/anything", json={"CallSid": "CA1"})
        assert answer.status_code == 200 and b"<Hangup/>" in answer.content
        user.find(marker="password").type("correct horse")
        user.find(marker="confirm").type("correct horse")
        user.find(marker="sign-in").click()
        await user.should_see("Bind a number")
        assert auth.check_password("correct horse", ctx.store.get_setting(auth.HASH_SETTING))
    finally:
        auth.config.required = False


async def test_changing_the_password_signs_out_every_other_browser(user: User, ctx):
    from designer.ui import auth

    auth.set_password(ctx, "correct horse")
    build(ctx, require_login=True)
    try:
        await user.open("/settings")
        user.find(marker="password").type("correct horse")
        user.find(marker="sign-in").click()
        await user.should_see("Public address")
        ctx.store.add_session("another browser's token")
        user.find("current-password").type("correct horse")
        user.find("new-password").type("battery staple")
        user.find("confirm-password").type("battery staple")
        user.find("change-password").click()
        await user.should_see("Password changed")
        assert not ctx.store.session_alive("another browser's token")
        await user.open("/settings")  # this browser stays signed in
        await user.should_see("Public address")
    finally:
        auth.config.required = False
