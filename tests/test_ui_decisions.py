"""The decision steps' panels, the Flows page switch and the test call's time, through NiceGUI's User fixture.

Real SQLite store, real host app (in process); the host's clock is the suite's fixed time
(conftest: Tuesday 2026-12-01 10:00 in New York), when the main menu's business hours are open.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from nicegui import app, ui
from nicegui.testing import User

from compiler import flow as flowfile
from designer import services
from designer.app import build
from designer.context import AppContext
from designer.ui.editor_state import EditorState
from designer.ui.properties import PropertiesPanel
from designer.ui.testcall import test_call_panel


@pytest.fixture
def panels(user: User, ctx: AppContext) -> dict[str, EditorState]:
    """``/props/FLOW/STEP``: the properties panel of one selected step, and the test call panel."""
    build(ctx)
    opened: dict[str, EditorState] = {}

    @ui.page("/props/{flow_id}/{node}")
    def props(flow_id: str, node: str) -> None:
        state = opened[flow_id] = EditorState(ctx, flow_id)
        state.select(node)
        PropertiesPanel(state, ui.column().classes("w-96")).render()
        test_call_panel(ctx, state)

    return opened


def edit_draft(ctx: AppContext, flow_id: str, change) -> None:
    record = ctx.store.get_flow(flow_id)
    graph = flowfile.loads(record.graph_json)
    change(graph)
    ctx.store.save_flow(flow_id, flowfile.dumps(graph), record.version)


def one(user: User, marker: str):
    (element,) = user.find(marker=marker).elements
    return element


def add_split(graph) -> None:
    graph.add_node("who", type="Split", value="{{ From }}",
                   cases=[{"branch": "vip", "equals": ["15551234567"]},
                          {"branch": "local", "starts_with": ["1516", "1631"]}])
    graph.add_node("vip-hi", type="Say", text="Hello, valued caller.")
    graph.add_node("local-hi", type="Say", text="Hello, neighbour.")
    graph.add_node("other-hi", type="Say", text="Hello, stranger.")
    graph.remove_edges_from(list(graph.out_edges("welcome")))
    graph.add_edge("welcome", "who")
    graph.add_edge("who", "vip-hi", branch="vip")
    graph.add_edge("who", "local-hi", branch="local")
    graph.add_edge("who", "other-hi", branch="else")


async def test_hours_panel_edits_the_week_and_the_closed_dates(user: User, ctx, panels):
    services.create_from_example(ctx, "main-menu")
    await user.open("/props/main-menu/hours")
    await user.should_see("Calls now: open: Tuesday 09:00-17:00")
    await user.should_see("Time zone: America/New_York (this step's own)")
    state = panels["main-menu"]

    one(user, "hours-sun").value = "all"
    assert state.graph.nodes["hours"]["open"]["sun"] == ["00:00-24:00"]
    one(user, "hours-mon-0-to").value = "18:30"
    assert state.graph.nodes["hours"]["open"]["mon"] == ["09:00-18:30"]
    one(user, "hours-tue-0-midnight").value = True  # a time field cannot hold 24:00
    assert state.graph.nodes["hours"]["open"]["tue"] == ["09:00-24:00"]
    assert not [p for p in state.problems if p.node == "hours" and p.is_error]
    one(user, "hours-tue-0-midnight").value = False
    assert state.graph.nodes["hours"]["open"]["tue"] == ["09:00-17:00"]
    user.find(marker="hours-mon-add").click()
    assert state.graph.nodes["hours"]["open"]["mon"] == ["09:00-18:30", "13:00-17:00"]
    user.find(marker="hours-copy-monday").click()
    for day in ("tue", "wed", "thu", "fri"):
        assert state.graph.nodes["hours"]["open"][day] == ["09:00-18:30", "13:00-17:00"]
    assert state.graph.nodes["hours"]["open"]["sat"] == ["10:00-14:00"]  # weekends are left alone

    one(user, "hours-date-new").value = "2026-12-01"
    user.find(marker="hours-date-add").click()
    assert "2026-12-01" in state.graph.nodes["hours"]["closed_dates"]
    await user.should_see("Calls now: closed all day: 2026-12-01 is a closed date")  # today, in New York
    one(user, "hours-date-new").value = "2026-11-26"
    one(user, "hours-date-yearly").value = True
    user.find(marker="hours-date-add").click()
    await user.should_see("11-26 (every year)")
    assert "11-26" in state.graph.nodes["hours"]["closed_dates"]

    one(user, "hours-zone").value = ""
    await user.should_see("Time zone: ")
    assert "timezone" not in state.graph.nodes["hours"]
    await asyncio.sleep(0.1)
    saved = services.draft_graph(ctx, "main-menu").nodes["hours"]
    assert saved["open"]["mon"] == ["09:00-18:30", "13:00-17:00"] and "11-26" in saved["closed_dates"]


async def test_the_flows_time_zone_is_set_on_the_flow_and_steps_without_their_own_use_it(user, ctx, panels):
    services.create_from_example(ctx, "main-menu")
    edit_draft(ctx, "main-menu", lambda g: g.nodes["hours"].pop("timezone"))
    await user.open("/props/main-menu/-")  # nothing selected: the flow's own form
    await user.should_see("Time zone of business hours (type to search)")
    zones = one(user, "field-flow-timezone")
    assert list(zones.options) == [""]  # the zones are listed when the box is focused: every page stays small
    user.find(marker="field-flow-timezone").trigger("focus")
    assert "Europe/London" in zones.options and len(zones.options) > 300
    zones.value = "Europe/London"
    assert panels["main-menu"].graph.graph["timezone"] == "Europe/London"
    await asyncio.sleep(0.1)
    assert services.draft_graph(ctx, "main-menu").graph["timezone"] == "Europe/London"
    await user.open("/props/main-menu/hours")
    await user.should_see("Time zone: Europe/London (the flow's)")
    await user.should_see("Calls now: open: Tuesday 09:00-17:00 (Tuesday 15:00 Europe/London)")


async def test_split_cases_read_as_sentences_and_keep_their_order(user: User, ctx, panels):
    services.create_from_example(ctx, "main-menu")
    edit_draft(ctx, "main-menu", add_split)
    await user.open("/props/main-menu/who")
    await user.should_see("the caller's number is 15551234567")
    await user.should_see("the caller's number starts with 1516 or 1631")
    await user.should_see("Otherwise → output “else”")
    state = panels["main-menu"]

    one(user, "split-case-1-values").value = "1516, 1631, 1212"
    await user.should_see("the caller's number starts with 1516 or 1631 or 1212")
    user.find(marker="split-case-1-up").click()
    assert [c["branch"] for c in state.graph.nodes["who"]["cases"]] == ["local", "vip"]
    one(user, "split-case-1-test").value = "empty"
    await user.should_see("the caller's number is empty")
    assert state.graph.nodes["who"]["cases"][1] == {"branch": "vip", "empty": True}
    user.find(marker="split-add").click()
    assert state.graph.nodes["who"]["cases"][2]["branch"] == "case-1"
    one(user, "split-value").value = "{{ Digits }}"
    await user.should_see("the keys pressed starts with 1516 or 1631 or 1212")
    assert state.graph.nodes["who"]["value"] == "{{ Digits }}"


async def test_renaming_a_cases_output_keeps_its_connection(user: User, ctx, panels):
    services.create_from_example(ctx, "main-menu")
    edit_draft(ctx, "main-menu", add_split)
    await user.open("/props/main-menu/who")
    state = panels["main-menu"]

    def targets() -> dict[str, str]:
        return {b: t for _, t, d in state.graph.out_edges("who", data=True) for b in flowfile.edge_branches(d)}

    field = one(user, "split-case-0-branch")
    for typed in ("vi", "", "v", "gold"):  # typed key by key, cleared on the way: the connection follows
        field.value = typed
    assert state.graph.nodes["who"]["cases"][0]["branch"] == "gold"
    assert targets() == {"gold": "vip-hi", "local": "local-hi", "else": "other-hi"}
    assert not [p for p in state.problems if p.node == "who"]  # no output left unconnected
    one(user, "split-case-1-branch").value = "gold"  # another case's name: its connection stays put
    assert targets() == {"gold": "vip-hi", "local": "local-hi", "else": "other-hi"}
    assert state.undo()  # the renames typed in a row are one step to undo, connection and all
    assert targets()["vip"] == "vip-hi" and state.graph.nodes["who"]["cases"][0]["branch"] == "vip"


async def test_a_send_text_number_can_be_a_remembered_value_picked_by_name(user: User, ctx, panels):
    services.create_from_example(ctx, "main-menu")

    def add(graph) -> None:
        graph.add_node("boss", type="Set", vars={"manager": "+1 555 123 4567"})
        graph.add_node("tell", type="Sms", text="A caller asked for you.")
        graph.remove_edges_from(list(graph.out_edges("welcome")))
        graph.add_edge("welcome", "boss")
        graph.add_edge("boss", "tell")
        graph.add_edge("tell", "hours")
    edit_draft(ctx, "main-menu", add)
    await user.open("/props/main-menu/tell")
    to = one(user, "field-attrs.to")
    assert to.options["manager"] == "The remembered value manager"
    to.value = "manager"
    state = panels["main-menu"]
    assert state.graph.nodes["tell"]["attrs"]["to"] == "{{ manager }}"
    assert not [p for p in state.problems if p.node in ("tell", "boss") and p.is_error]


async def test_split_between_takes_two_numbers(user: User, ctx, panels):
    services.create_from_example(ctx, "main-menu")
    edit_draft(ctx, "main-menu", add_split)
    await user.open("/props/main-menu/who")
    one(user, "split-case-0-test").value = "between"
    one(user, "split-case-0-from").value = 100
    one(user, "split-case-0-to").value = 199
    assert panels["main-menu"].graph.nodes["who"]["cases"][0] == {"branch": "vip", "between": ["100", "199"]}


async def test_set_rows_remember_values_and_insert_call_details(user: User, ctx, panels):
    services.create_from_example(ctx, "main-menu")
    edit_draft(ctx, "main-menu", lambda g: g.add_node("remember", type="Set", vars={"language": "es"}))
    await user.open("/props/main-menu/remember")
    state = panels["main-menu"]
    one(user, "set-0-value").value = "en"
    assert state.graph.nodes["remember"]["vars"] == {"language": "en"}
    user.find(marker="set-add").click()
    one(user, "set-1-name").value = "caller"
    user.find(marker="set-1-insert-From").click()
    assert state.graph.nodes["remember"]["vars"] == {"language": "en", "caller": "{{ From }}"}
    user.find(marker="set-0-remove").click()
    assert state.graph.nodes["remember"]["vars"] == {"caller": "{{ From }}"}


async def test_flows_page_switch_closes_the_line_for_the_next_call(user: User, ctx):
    build(ctx)
    services.create_from_example(ctx, "main-menu")
    services.publish(ctx, "main-menu")
    await user.open("/")
    await user.should_see("Business hours “hours”")
    await user.should_see("Calls now: open: Tuesday 09:00-17:00")

    one(user, "switch-main-menu-hours-state").value = "closed"
    await user.should_see("Calls now: closed, switched by the operator")
    assert services.hours_overrides(ctx, "main-menu")["hours"].state == "closed"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://carrier") as carrier:
        answer = await carrier.post("/flexml/main-menu", json={"CallSid": "CA1", "To": "15162065337"})
    assert b"Our office is closed right now." in answer.content

    one(user, "switch-main-menu-hours-until").value = "2020-01-01T09:00"  # in the past
    await user.should_see("switch would end before it starts")
    assert services.hours_overrides(ctx, "main-menu")["hours"].until is None  # the switch stays as it was
    one(user, "switch-main-menu-hours-until").value = "2099-01-01T12:00"
    assert services.hours_overrides(ctx, "main-menu")["hours"].until is not None
    await user.should_see("until Thu 01 Jan 12:00")

    one(user, "switch-main-menu-hours-state").value = "schedule"
    await user.should_see("Calls now: open: Tuesday 09:00-17:00")
    assert services.hours_overrides(ctx, "main-menu") == {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://carrier") as carrier:
        answer = await carrier.post("/flexml/main-menu", json={"CallSid": "CA2", "To": "15162065337"})
    assert b"For sales, press 1." in answer.content


async def test_test_call_pretends_another_time(user: User, ctx, panels):
    services.create_from_example(ctx, "main-menu")
    await user.open("/props/main-menu/hours")
    one(user, "call-when").value = "other"
    one(user, "call-at").value = "2026-12-25T10:00"  # Christmas: a closed date
    user.find(marker="start-call").click()
    await user.should_see("Pretending it is Fri 2026-12-25 10:00")
    await user.should_see("Our office is closed right now.")
    await user.should_see("Call ended")

    one(user, "call-when").value = "now"  # the host's clock: open
    user.find(marker="start-call").click()
    await user.should_see("For sales, press 1.")
    user.find(marker="hang-up").click()
    await user.should_see("You hung up.")


async def test_test_call_comes_from_the_number_given(user: User, ctx, panels):
    services.create_from_example(ctx, "main-menu")
    edit_draft(ctx, "main-menu", add_split)
    await user.open("/props/main-menu/who")
    one(user, "call-from").value = "+1 (516) 555-0199"
    user.find(marker="start-call").click()
    await user.should_see("Hello, neighbour.")
    await user.should_see("Call ended")
    one(user, "call-from").value = ""  # withheld
    user.find(marker="start-call").click()
    await user.should_see("Hello, stranger.")


async def test_preview_shows_what_the_host_sends_in_each_case(user: User, ctx):
    from test_ui_editor import fire, open_editor

    services.create_from_example(ctx, "main-menu")
    edit_draft(ctx, "main-menu", add_split)
    await open_editor(user, ctx, "main-menu")
    fire(user, "selectionChange", {"nodes": ["who"], "edges": []})
    next(iter(user.find(ui.tabs).elements)).value = "preview"
    await user.should_see("When the caller's number is 15551234567")
    await user.should_see("When the caller's number starts with 1516 or 1631")
    await user.should_see("Otherwise (else)")
    codes = [c.content for c in user.find(ui.code).elements]
    for said in ("Hello, valued caller.", "Hello, neighbour.", "Hello, stranger."):
        assert any(said in c and "<Response>" in c for c in codes), said


async def test_preview_of_hours_shows_the_open_and_the_closed_answer(user: User, ctx):
    from test_ui_editor import fire, open_editor

    services.create_from_example(ctx, "main-menu")
    await open_editor(user, ctx, "main-menu")
    fire(user, "selectionChange", {"nodes": ["hours"], "edges": []})
    next(iter(user.find(ui.tabs).elements)).value = "preview"
    await user.should_see("When open")
    await user.should_see("When closed")
    codes = [c.content for c in user.find(ui.code).elements]
    assert any("Our office is closed right now." in c for c in codes)
