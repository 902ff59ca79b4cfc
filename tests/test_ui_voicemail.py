"""The Voicemail page, its navigation badge and the carrier-trust settings, through NiceGUI's User fixture, over a
real SQLite store and the designer's own host (calls placed by the simulator, in process)."""

from __future__ import annotations

import httpx
import pytest
from nicegui import app, ui
from nicegui.testing import User

from designer import services
from designer.app import build
from designer.context import AppContext
from designer.simulator import simulate_call
from designer.simulator.callers import ScriptedCaller
from designer.ui.publish import publish_panel
from designer.ui.editor_state import EditorState

SANDBOX = "http://127.0.0.1:8070/flexml/v1/sandbox/recordings"


@pytest.fixture
def designer(user: User, ctx: AppContext) -> User:
    build(ctx)
    services.create_from_example(ctx, "main-menu")
    services.publish(ctx, "main-menu")
    services.bind_number(ctx, "+15162065337", "main-menu")
    return user


async def leave_message(from_: str, seconds: float, account: str = "http://test/flexml",
                        recordings_url: str = SANDBOX) -> None:
    """A caller presses 2 at the main menu and speaks for ``seconds`` (the carrier calls the designer's host)."""
    result = await simulate_call(account, to="15162065337", from_=from_, transport=httpx.ASGITransport(app),
                                 caller=ScriptedCaller(digits=["2"], record_seconds=seconds),
                                 recordings_url=recordings_url)
    assert result.ok, result.transcript()
    assert "Thank you. Goodbye." in " ".join(result.said())  # the rest of the flow, after the recording


def badge(user: User) -> str | None:
    """The navigation badge's number; None when it is hidden (no new messages)."""
    try:
        (element,) = user.find(marker="voicemail-badge").elements  # visible elements only
    except AssertionError:
        return None
    return element.text


async def test_messages_are_listed_played_marked_heard_and_deleted(designer: User, ctx):
    await leave_message("15551230001", 7)
    await leave_message("15557654321", 75)
    await designer.open("/voicemail")
    await designer.should_see("Main menu")
    await designer.should_see("2 messages, 2 new")
    await designer.should_see("+1 555 765 4321")
    await designer.should_see("1 min 15 s")
    await designer.should_see("7 s")
    assert badge(designer) == "2"
    first, second = services.voicemails(ctx)  # newest first
    assert first.caller == "15557654321" and first.url.startswith(SANDBOX + "/")
    (player,) = designer.find(marker=f"audio-{first.id}").elements
    assert player.props["src"] == first.url

    designer.find(marker=f"heard-{second.id}").click()
    (state,) = designer.find(marker=f"state-{second.id}").elements
    assert state.text == "Heard"
    assert badge(designer) == "1"
    await designer.should_see("2 messages, 1 new")
    assert [v.new for v in services.voicemails(ctx)] == [True, False]

    designer.find(marker=f"audio-{first.id}").trigger("play")  # playing it is hearing it
    (state,) = designer.find(marker=f"state-{first.id}").elements
    assert state.text == "Heard"
    assert badge(designer) is None and services.new_voicemail_count(ctx) == 0

    designer.find(marker=f"delete-{second.id}").click()
    await designer.should_see("Delete the message from +1 555 123 0001")
    designer.find(marker="cancel-delete").click()
    assert len(services.voicemails(ctx)) == 2
    designer.find(marker=f"delete-{second.id}").click()
    designer.find(marker="confirm-delete").click()
    await designer.should_see("Message deleted")
    assert [v.id for v in services.voicemails(ctx)] == [first.id]
    await designer.should_not_see("+1 555 123 0001")


async def test_the_badge_counts_new_messages_on_every_page(designer: User, ctx):
    await designer.open("/calls")
    assert badge(designer) is None
    await leave_message("15551230001", 3)
    services.flush_call_events(ctx, timeout=2)  # the host's events reach the store a moment after the call
    await designer.open("/")
    assert badge(designer) == "1"


async def test_a_recording_from_a_host_not_allowed_is_no_message(designer: User, ctx):
    await leave_message("15551230001", 3, recordings_url="https://evil.example/rec")
    services.flush_call_events(ctx, timeout=2)
    await designer.open("/voicemail")
    await designer.should_see("No voicemails yet")
    (call,) = [c for c in services.recent_calls(ctx) if c["call_sid"]]
    refused = [e for e in ctx.store.call_events(call["call_sid"]) if e.kind == "recording"]
    assert refused[0].params["not_stored"] == "recording from a host not allowed: evil.example"


async def test_requiring_the_token_changes_the_urls_and_unsigned_calls_leave_nothing(designer: User, ctx):
    await designer.open("/settings")
    designer.find(marker="require-token").click()
    await designer.should_see("Carrier URLs now carry a secret token")
    token = services.carrier_trust(ctx).token
    assert len(token) >= 24
    await designer.should_see(f"Carrier account URL: {services.public_url(ctx)}/flexml/~{token}")
    designer.find(marker="new-token").click()
    await designer.should_see("New token: give the carrier the new URLs")
    assert services.carrier_trust(ctx).token != token
    token = services.carrier_trust(ctx).token
    await designer.should_see(f"Carrier account URL: {services.public_url(ctx)}/flexml/~{token}")

    @ui.page("/publish/{flow_id}")
    def publish(flow_id: str) -> None:
        publish_panel(ctx, EditorState(ctx, flow_id))

    await designer.open("/publish/main-menu")
    (account,) = designer.find(marker="url-account").elements
    (status,) = designer.find(marker="url-status").elements
    assert account.value.endswith(f"/flexml/~{token}") and status.value.endswith(f"/flexml/~{token}/status")

    await leave_message("15551230001", 4)  # the old URL, without the token: answered, not recorded
    await leave_message("15551230002", 4, account="http://test/flexml/~not-the-token")
    services.flush_call_events(ctx, timeout=2)
    assert services.voicemails(ctx) == [] and [c for c in services.recent_calls(ctx) if c["call_sid"]] == []
    await leave_message("15551230003", 4, account=f"http://test/flexml/~{token}")
    (message,) = services.voicemails(ctx)
    assert message.caller == "15551230003"


async def test_recording_hosts_are_checked_and_saved(designer: User, ctx):
    await designer.open("/settings")
    designer.find(marker="recording-hosts").clear().type("carrierx.com, http://x")
    designer.find(marker="save-recording-hosts").click()
    await designer.should_see("Recording host 'http://x' is not a host name")
    designer.find(marker="recording-hosts").clear().type("carrierx.com media.example.com")
    designer.find(marker="save-recording-hosts").click()
    await designer.should_see("Recording hosts saved")
    assert services.carrier_trust(ctx).recording_hosts == ("carrierx.com", "media.example.com")
    await leave_message("15551230001", 3)  # the sandbox's address is no longer allowed
    assert services.voicemails(ctx) == []


def test_the_pages_may_play_audio_from_the_recording_hosts_only():
    from designer.ui.headers import CONTENT_SECURITY_POLICY, content_security_policy

    policy = content_security_policy(("carrierx.com", "127.0.0.1", "::1"))
    assert "media-src 'self' blob: carrierx.com:* *.carrierx.com:* 127.0.0.1:*;" in policy
    assert policy.replace(" carrierx.com:* *.carrierx.com:* 127.0.0.1:*", "") == CONTENT_SECURITY_POLICY
    assert content_security_policy(()) == CONTENT_SECURITY_POLICY


async def test_a_test_call_on_the_published_flow_carries_the_token_and_leaves_its_message(designer: User, ctx):
    services.set_token_required(ctx, True)
    host = services.test_call_host(ctx, "main-menu", published=True)
    assert host.url("main-menu").endswith(f"/flexml/~{services.carrier_trust(ctx).token}/main-menu")
    result = await simulate_call(host.url("main-menu"), transport=host.transport, from_="15550001111",
                                 caller=ScriptedCaller(digits=["2"]), recordings_url=SANDBOX)
    assert result.ok, result.transcript()
    (message,) = services.voicemails(ctx)
    assert message.caller == "15550001111"
