"""Revisions in the Publish tab (User fixture, real store): notes, the diff before publishing, unchanged drafts,
comparing two revisions, and the "unpublished changes" marker on the Flows list."""

from __future__ import annotations

import pytest
from nicegui import ui
from nicegui.testing import User

from compiler import flow as flowfile
from designer import services
from designer.app import build
from designer.context import AppContext
from designer.services import NothingToPublish
from designer.ui.editor_state import EditorState
from designer.ui.publish import publish_panel


@pytest.fixture
def editors(user: User, ctx: AppContext) -> dict[str, EditorState]:
    build(ctx)
    opened: dict[str, EditorState] = {}

    @ui.page("/publish-tab/{flow_id}")
    def panel(flow_id: str) -> None:
        editor = opened[flow_id] = EditorState(ctx, flow_id)
        publish_panel(ctx, editor)

    return opened


def edit_draft(ctx: AppContext, flow_id: str, change) -> None:
    record = ctx.store.get_flow(flow_id)
    graph = flowfile.loads(record.graph_json)
    change(graph)
    ctx.store.save_flow(flow_id, flowfile.dumps(graph), record.version)


def add_option_3(graph) -> None:
    graph.nodes["menu"]["options"] = ["1", "2", "0", "3"]
    graph.add_node("open-at-nine", type="Say", text="We open at nine.", x=0, y=0)
    graph.add_edge("menu", "open-at-nine", branch="3")
    graph.add_edge("open-at-nine", "bye")


async def test_publish_keeps_the_note_and_lists_it_with_the_revision(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    await user.open("/publish-tab/main-menu")
    user.find(marker="publish-note").type("first version for the office")
    user.find(marker="publish").click()
    await user.should_see("Published revision 1")
    assert ctx.store.get_revision("main-menu", 1).note == "first version for the office"
    await user.should_see(marker="revision-note-1")
    await user.should_see("first version for the office")


async def test_the_draft_changes_are_listed_before_publishing(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    services.publish(ctx, "main-menu")
    edit_draft(ctx, "main-menu", add_option_3)
    edit_draft(ctx, "main-menu", lambda g: g.nodes["welcome"].update(text="Welcome to the dental office."))
    await user.open("/publish-tab/main-menu")
    await user.should_see("Changes since revision 1")
    await user.should_see("menu: option 3 added, goes to open-at-nine")
    await user.should_see("welcome: text changed")
    await user.should_see("open-at-nine: step added (Speak text), goes to bye")


async def test_an_unchanged_draft_is_not_published_again(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    services.publish(ctx, "main-menu")
    await user.open("/publish-tab/main-menu")
    await user.should_see(marker="no-changes")  # opening lays the example out: moves only, no new calls
    (button,) = user.find(marker="publish").elements
    assert not button.enabled
    with pytest.raises(NothingToPublish, match="no changes since revision 1"):
        services.publish(ctx, "main-menu")
    assert [r.rev for r in ctx.store.list_revisions("main-menu")] == [1]


async def test_an_edit_in_the_tab_enables_publishing_and_lists_the_change(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    services.publish(ctx, "main-menu")
    await user.open("/publish-tab/main-menu")
    await user.should_see(marker="no-changes")
    editors["main-menu"].set_field("welcome", "text", "Hello there.")
    await user.should_see("welcome: text changed")
    (button,) = user.find(marker="publish").elements
    assert button.enabled
    user.find(marker="publish").click()
    await user.should_see("Published revision 2")


async def test_compare_any_two_revisions(user: User, ctx, editors):
    services.create_from_example(ctx, "main-menu")
    services.publish(ctx, "main-menu", note="first")
    edit_draft(ctx, "main-menu", add_option_3)
    services.publish(ctx, "main-menu", note="option 3")
    edit_draft(ctx, "main-menu", lambda g: g.remove_node("vm-failed"))
    services.publish(ctx, "main-menu", note="no failure message")
    await user.open("/publish-tab/main-menu")
    user.find(marker="compare-2").click()
    await user.should_see("Revision 2 against revision 1")
    await user.should_see("menu: option 3 added, goes to open-at-nine")
    assert services.revision_changes(ctx, "main-menu", 1, 3) == [
        "open-at-nine: step added (Speak text), goes to bye", "vm-failed: step removed",
        "menu: option 3 added, goes to open-at-nine", "voicemail: error path no longer goes anywhere (was vm-failed)"]
    assert services.revision_changes(ctx, "main-menu", 2, 2) == []


async def test_flows_list_marks_unpublished_changes(user: User, ctx):
    build(ctx)
    services.create_from_example(ctx, "main-menu")
    services.create_from_example(ctx, "pin-check")
    services.publish(ctx, "main-menu")
    services.publish(ctx, "pin-check")
    edit_draft(ctx, "main-menu", lambda g: g.nodes["welcome"].update(text="Changed."))
    rows = {r.id: r for r in services.flow_rows(ctx)}
    assert rows["main-menu"].unpublished and not rows["pin-check"].unpublished
    await user.open("/")
    await user.should_see(marker="unpublished-main-menu")
    await user.should_not_see(marker="unpublished-pin-check")
