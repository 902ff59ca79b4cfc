"""The editor's Publish and Test call tabs through NiceGUI's User fixture, on a real store and host."""

from __future__ import annotations

import asyncio
import io
import zipfile

import httpx
import pytest
from nicegui import app, ui
from nicegui.testing import User

from compiler import flow as flowfile
from designer import services
from designer.app import build
from designer.context import AppContext
from designer.ui.editor_state import EditorState
from designer.ui.publish import publish_panel
from designer.ui.testcall import test_call_panel


@pytest.fixture
def editors(user: User, ctx: AppContext) -> dict[str, EditorState]:
    """A bare page holding both panels over one EditorState (the one the editor page would pass)."""
    build(ctx)
    opened: dict[str, EditorState] = {}

    @ui.page("/panels/{flow_id}")
    def panels(flow_id: str) -> None:
        editor = opened[flow_id] = EditorState(ctx, flow_id)
        publish_panel(ctx, editor)
        test_call_panel(ctx, editor)

    return opened


def edit_draft(ctx: AppContext, flow_id: str, change) -> None:
    record = ctx.store.get_flow(flow_id)
    graph = flowfile.loads(record.graph_json)
    change(graph)
    ctx.store.save_flow(flow_id, flowfile.dumps(graph), record.version)


async def wait_for(condition, what: str) -> None:
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_publish_is_refused_while_errors_remain(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    edit_draft(ctx, "main-menu", lambda g: g.nodes["sales"].update(numbers=["12"]))
    await user.open("/panels/main-menu")
    await user.should_see("Fix 1 error before publishing:")
    await user.should_see("sales: numbers[0]: '12' is not a phone number in E.164 form")
    (button,) = user.find(marker="publish").elements
    assert not button.enabled
    user.find("sales: numbers[0]").click()  # a problem selects its step
    assert editors["main-menu"].selection == ["sales"]
    assert ctx.store.list_revisions("main-menu") == []


async def test_publish_then_the_host_answers_and_the_bundle_downloads(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    await user.open("/panels/main-menu")
    await user.should_see("Not published yet")
    (account,) = user.find(marker="url-account").elements
    (flow_url,) = user.find(marker="url-flow").elements
    assert (account.value, flow_url.value) == ("https://ivr.example.com/flexml",
                                               "https://ivr.example.com/flexml/main-menu")
    user.find(marker="publish").click()
    await user.should_see("Published revision 1: the host now answers with it")
    await user.should_see("Published: revision 1")
    await user.should_see(marker="revision-1")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://carrier") as carrier:
        answer = await carrier.post("/flexml/main-menu", json={"CallSid": "CA9", "To": "15162065337"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/xml"
    assert b"Thank you for calling Acme." in answer.content
    assert b'action="/flexml/main-menu/1/menu/gather"' in answer.content

    user.find(marker="download-bundle").click()
    bundle = await user.download.next()
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert "manifest.json" in names and "documents/welcome.xml" in names


async def test_restore_a_revision_into_the_draft(user: User, ctx, editors):
    services.create_from_example(ctx, "after-hours")
    services.publish(ctx, "after-hours-message")
    edit_draft(ctx, "after-hours-message", lambda g: g.nodes["closed"].update(text="Changed my mind."))
    await user.open("/panels/after-hours-message")
    assert editors["after-hours-message"].graph.nodes["closed"]["text"] == "Changed my mind."
    user.find(marker="restore-1").click()
    await user.should_see("Restore revision 1?")
    user.find(marker="restore-confirm").click()
    await user.should_see("Draft restored from revision 1")
    restored = services.draft_graph(ctx, "after-hours-message").nodes["closed"]["text"]
    assert restored.startswith("Thank you for calling. Our office is closed.")
    assert editors["after-hours-message"].graph.nodes["closed"]["text"] == restored  # the editor reloaded


async def test_test_call_on_the_draft_follows_the_keypad(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    await user.open("/panels/main-menu")
    user.find(marker="key-1").click()
    await user.should_see("Start a call first")
    user.find(marker="start-call").click()
    await user.should_see("For sales, press 1. To leave a message, press 2. For the operator, press 0.")
    await user.should_see("The menu waits for 1 key")
    editor = editors["main-menu"]
    assert editor.highlighted == ["menu"]
    user.find(marker="key-2").click()
    await user.should_see("You pressed 2")
    await user.should_see("Please leave a message after the beep. Press pound when you are done.")
    await user.should_see("Recording: the caller leaves a message. Press # to end it, or wait.")
    user.find(marker="key-#").click()
    await user.should_see("the caller speaks for 8 s, then presses #: recorded")
    await user.should_see("Call ended")
    assert editor.path[:5] == ["welcome", "menu", "vm-prompt", "voicemail", "vm-thanks"]
    services.flush_call_events(ctx, timeout=5)
    (call,), _ = services.find_calls(ctx, services.CallFilter())
    # a test call is recorded like a real one, with the status callback the simulator sends, marked a test
    assert (call["flow_id"], call["rev"], call["test"], call["outcome"]) == ("main-menu", "draft", True, "completed")
    assert int(call["duration"]) > 0
    assert services.find_calls(ctx, services.CallFilter(test=False)) == ([], 0)


async def test_hanging_up_a_test_call_sends_its_status_callback(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    await user.open("/panels/main-menu")
    user.find(marker="start-call").click()
    await user.should_see("The menu waits for 1 key")
    user.find(marker="hang-up").click()
    await user.should_see("You hung up.")
    for _ in range(50):  # the status callback goes out in the background
        services.flush_call_events(ctx, timeout=1)
        calls, _ = services.find_calls(ctx, services.CallFilter())
        if calls and calls[0]["status"]:
            break
        await asyncio.sleep(0.05)
    (call,) = calls
    assert (call["outcome"], call["test"], call["rev"]) == ("completed", True, "draft")


async def test_test_call_star_ends_a_transfer_that_allows_it(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    await user.open("/panels/main-menu")
    user.find(marker="start-call").click()
    await user.should_see("The menu waits for 1 key")
    user.find(marker="key-0").click()  # the operator: a transfer with hangupOnStar
    await user.should_see("Transfer answered: the caller talks to 15162065341. Press * to end it and go on with "
                          "the flow, or wait.")
    user.find(marker="key-*").click()
    await user.should_see("transfer to 15162065341: answered; after 30 s the caller presses *, which ends the "
                          "transfer")
    await user.should_see("Call ended")


async def test_test_call_on_the_published_flow_is_logged(user: User, ctx, editors):
    services.create_from_example(ctx, "pin-check")
    services.publish(ctx, "pin-check")
    await user.open("/panels/pin-check")
    user.find(marker="call-source").elements.pop().value = "published"
    user.find(marker="start-call").click()
    await user.should_see("Please enter your four digit PIN, then press pound.")
    for key in "1234#":
        user.find(marker=f"key-{key}").click()
    await user.should_see("Thank you. Your PIN is correct. Connecting you to your account team.")
    await user.should_see("Call ended")
    ctx.recorder.flush()
    (call,) = services.recent_calls(ctx)
    assert call["flow_id"] == "pin-check" and call["rev"] == "1" and call["test"]  # a test call, marked so
    assert call["path"][:3] == ["ask-pin", "granted", "account-team"]


async def test_test_call_on_a_broken_draft_says_what_to_fix(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    edit_draft(ctx, "main-menu", lambda g: g.nodes["welcome"].update(type="Shout"))
    await user.open("/panels/main-menu")
    user.find(marker="start-call").click()
    await user.should_see("The draft has 1 error(s) to fix first")


async def test_hang_up_ends_a_waiting_call(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    await user.open("/panels/main-menu")
    user.find(marker="start-call").click()
    await user.should_see("The menu waits for 1 key")
    user.find(marker="hang-up").click()
    await user.should_see("You hung up.")
    (start,) = user.find(marker="start-call").elements
    await wait_for(lambda: start.enabled, "Start call enabled again")


async def test_calling_the_published_flow_before_publishing_says_so(user: User, ctx, editors):
    services.create_from_example(ctx, "after-hours")
    await user.open("/panels/after-hours-message")
    user.find(marker="call-source").elements.pop().value = "published"
    user.find(marker="start-call").click()
    await user.should_see("This flow is not published yet; publish it or call the draft")


async def test_a_failing_recording_takes_the_error_path(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    await user.open("/panels/main-menu")
    user.find(marker="record-fails").elements.pop().value = True
    user.find(marker="start-call").click()
    await user.should_see("The menu waits for 1 key")
    user.find(marker="key-2").click()
    await user.should_see("Sorry, we could not record your message.")
    await user.should_see("Call ended")
    assert "vm-failed" in editors["main-menu"].path


async def test_a_publish_panel_off_screen_lists_the_changes_only_once_shown(user: User, ctx):
    build(ctx)
    services.create_from_example(ctx, "main-menu")
    on_screen = [False]
    panels = []

    @ui.page("/hidden-publish")
    def page() -> None:
        panels.append(publish_panel(ctx, EditorState(ctx, "main-menu"), is_shown=lambda: on_screen[0]))

    await user.open("/hidden-publish")
    await user.should_not_see(marker="published-status")  # a large flow's diff is not worked out on opening
    on_screen[0] = True
    panels[0].shown()
    await user.should_see("Not published yet: the host does not answer for this flow.")
    await user.should_see(marker="publish")
