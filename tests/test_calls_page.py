"""The Calls page through NiceGUI's User fixture: filters, pages, the chart and the CSV download, over a real
SQLite store holding calls made for the test; the retention setting; test calls from the editor's Test tab."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, datetime, timedelta

import pytest
from nicegui.testing import User

from designer import services
from designer.app import build
from designer.context import AppContext
from designer.store import CallEvent

DAY = 86400.0


@pytest.fixture
def designer(user: User, ctx: AppContext) -> User:
    build(ctx)
    return user


def make_calls(ctx: AppContext) -> list[dict]:
    """40 calls over the last five days (three flows, two callers, a quarter of them test calls)."""
    for flow in ("acme", "pins", "hours"):
        services.create_blank(ctx, flow.capitalize())
    now = time.time()
    specs, events = [], []
    for i in range(40):
        flow = ("acme", "pins", "hours")[i % 3]
        started = now - 3600 - i * (5 * DAY / 40)
        caller = "15551230001" if i % 2 else "15557654321"
        busy, test = i % 5 == 0, i % 4 == 0
        marks = {"test": "1"} if test else {}
        events += [CallEvent(f"CA{i:02d}", flow, "1", "document", "start", None, started,
                             {"From": caller, "To": "15162065337", **marks}),
                   CallEvent(f"CA{i:02d}", "", "", "status", "busy" if busy else "completed", None, started + 30,
                             {"CallStatus": "busy" if busy else "completed", "CallDuration": "30", **marks})]
        specs.append({"sid": f"CA{i:02d}", "flow": flow, "started": started, "from": caller,
                      "outcome": "busy" if busy else "completed", "test": test})
    ctx.store.record_events(events)
    return specs


def table_rows(user: User) -> list[dict]:
    (table,) = user.find(marker="calls").elements
    return table.rows


def choose(user: User, marker: str, value) -> None:
    user.find(marker=marker).elements.pop().value = value


async def test_filters_narrow_the_list_the_chart_and_the_csv(designer: User, ctx):
    specs = make_calls(ctx)
    await designer.open("/calls")
    await designer.should_see("Calls 1–25 of 40")
    assert len(table_rows(designer)) == 25
    (chart,) = designer.find(marker="calls-chart").elements
    assert sum(sum(s["data"]) for s in chart.options["series"]) == 40
    assert {s["name"] for s in chart.options["series"]} == {"completed", "busy"}

    choose(designer, "filter-flow", "pins")
    pins = [s for s in specs if s["flow"] == "pins"]
    await designer.should_see(f"Calls 1–{len(pins)} of {len(pins)}")
    assert {r["flow"] for r in table_rows(designer)} == {"Pins"}
    assert [r["sid"] for r in table_rows(designer)] == [s["sid"] for s in pins]  # newest first

    choose(designer, "filter-kind", "test")
    wanted = [s for s in pins if s["test"]]
    await designer.should_see(f"Calls 1–{len(wanted)} of {len(wanted)}")
    assert all(r["test"] for r in table_rows(designer))
    (chart,) = designer.find(marker="calls-chart").elements
    assert sum(sum(s["data"]) for s in chart.options["series"]) == len(wanted)

    designer.find(marker="download-csv").click()
    response = await designer.download.next()
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert [r["call"] for r in rows] == [s["sid"] for s in wanted]
    assert {r["test call"] for r in rows} == {"yes"}

    choose(designer, "filter-kind", "all")
    choose(designer, "filter-flow", "")
    choose(designer, "filter-outcome", "busy")
    busy = [s for s in specs if s["outcome"] == "busy"]
    await designer.should_see(f"Calls 1–{len(busy)} of {len(busy)}")
    assert {r["status"] for r in table_rows(designer)} == {"busy"}

    choose(designer, "filter-outcome", "")
    designer.find(marker="filter-number").type("555 765 4321").trigger("keydown.enter")
    theirs = [s for s in specs if s["from"] == "15557654321"]
    await designer.should_see(f"Calls 1–{len(theirs)} of {len(theirs)}")
    assert {r["from"] for r in table_rows(designer)} == {"+1 555 765 4321"}


async def test_a_period_shows_its_days_and_a_wrong_one_says_why(designer: User, ctx):
    specs = make_calls(ctx)
    await designer.open("/calls")
    today = date.today()
    yesterday = today - timedelta(days=1)
    choose(designer, "filter-since", yesterday.isoformat())
    choose(designer, "filter-until", yesterday.isoformat())
    theirs = [s for s in specs if datetime.fromtimestamp(s["started"]).date() == yesterday]
    await designer.should_see(f"{len(theirs)} call{'s' if len(theirs) != 1 else ''} from {yesterday:%d %b %Y}")
    (chart,) = designer.find(marker="calls-chart").elements
    assert chart.options["xAxis"]["data"] == [f"{yesterday:%d %b}"]
    choose(designer, "filter-until", (yesterday - timedelta(days=2)).isoformat())
    await designer.should_see("the period ends")
    choose(designer, "filter-until", "not a day")
    await designer.should_see("To: 'not a day' is not a date")


async def test_pages_of_the_list(designer: User, ctx):
    specs = make_calls(ctx)
    await designer.open("/calls")
    await designer.should_see("Calls 1–25 of 40")
    choose(designer, "calls-pages", 2)
    await designer.should_see("Calls 26–40 of 40")
    assert [r["sid"] for r in table_rows(designer)] == [s["sid"] for s in specs[25:]]


async def test_a_call_without_callback_shows_ended_at_its_last_request(designer: User, ctx):
    services.create_blank(ctx, "Acme")
    started = time.time() - 120
    ctx.store.record_events([
        CallEvent("CAEND", "acme", "1", "document", "start", None, started, {"From": "15551230001"}),
        CallEvent("CAEND", "acme", "1", "router", "menu", "1", started + 12, {"answer": "bye", "end": "1"}),
        CallEvent("CAON", "acme", "1", "document", "start", None, started + 60, {"From": "15551230002"}),
    ])
    await designer.open("/calls")
    await designer.should_see("Calls 1–2 of 2")
    on, ended = table_rows(designer)
    assert (ended["status"], ended["duration"], ended["ended"]) == (
        "ended", "≥ 12 s", time.strftime("%d %b %H:%M:%S", time.localtime(started + 12)))
    assert (on["status"], on["duration"], on["ended"]) == ("in progress", "—", "—")


async def test_the_retention_setting_is_kept_and_checked(designer: User, ctx):
    await designer.open("/settings")
    await designer.should_see("Voicemail messages are not deleted by it.")
    choose(designer, "retention-days", 30)
    designer.find(marker="save-retention").click()
    await designer.should_see("Calls are kept for 30 days")
    assert services.call_retention_days(ctx) == 30
    choose(designer, "retention-days", 0)
    designer.find(marker="save-retention").click()
    await designer.should_see("Keep call events for: 0 days; choose from 1 to 3,650 days")
    assert services.call_retention_days(ctx) == 30
