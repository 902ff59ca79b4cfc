"""Hours, Split and Set decisions (compiler/decisions.py): what the host decides for a call."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from compiler.phones import phone_digits

from compiler.decisions import (DAYS, Decision, Override, at_time, dial_outcome, hours_problems, hours_state,
                                set_problems, split_branch, split_branches, split_problems, week_summary)

NY = ZoneInfo("America/New_York")
OFFICE = {
    "timezone": "America/New_York",
    "open": {"mon": ["09:00-17:00"], "tue": ["09:00-12:00", "13:00-17:00"], "wed": ["09:00-17:00"],
             "thu": ["09:00-17:00"], "fri": ["22:00-02:00"], "sat": ["10:00-14:00"], "sun": ["00:00-24:00"]},
    "closed_dates": ["2026-12-25", "01-01"],
}


def state(node: dict, *wall: int, zone: ZoneInfo = NY, **kw) -> str:
    return hours_state(node, datetime(*wall, tzinfo=zone), **kw)[0]


def test_opening_and_closing_minutes():
    # Monday 2026-12-07
    assert state(OFFICE, 2026, 12, 7, 8, 59) == "closed"
    assert state(OFFICE, 2026, 12, 7, 9, 0) == "open"
    assert state(OFFICE, 2026, 12, 7, 16, 59) == "open"
    assert state(OFFICE, 2026, 12, 7, 17, 0) == "closed"


def test_lunch_break_between_two_ranges():
    assert state(OFFICE, 2026, 12, 8, 11, 59) == "open"
    assert state(OFFICE, 2026, 12, 8, 12, 30) == "closed"
    assert state(OFFICE, 2026, 12, 8, 13, 0) == "open"


def test_range_past_midnight_belongs_to_the_day_it_starts_on():
    assert state(OFFICE, 2026, 12, 11, 21, 59) == "closed"  # Friday
    assert state(OFFICE, 2026, 12, 11, 23, 30) == "open"
    assert state(OFFICE, 2026, 12, 12, 1, 59) == "open"  # Saturday morning, Friday's range
    reason = hours_state(OFFICE, datetime(2026, 12, 12, 1, 59, tzinfo=NY))[1]
    assert "Friday 22:00-02:00" in reason


def test_all_day_and_midnight():
    assert state(OFFICE, 2026, 12, 12, 23, 59) == "closed"  # Saturday night
    assert state(OFFICE, 2026, 12, 13, 0, 0) == "open"  # Sunday 00:00-24:00
    assert state(OFFICE, 2026, 12, 13, 23, 59) == "open"
    assert state(OFFICE, 2026, 12, 14, 0, 0) == "closed"  # Monday opens at 09:00


def test_the_example_schedule_has_no_problems():
    assert hours_problems(OFFICE) == []
    overlapping = {**OFFICE, "open": {**OFFICE["open"], "sat": ["00:00-24:00"]}}
    assert [p.field for p in hours_problems(overlapping)] == ["open.sat[0]"]  # Friday's night runs into it


def test_zone_of_the_step_not_of_the_caller():
    # 14:00 UTC is 09:00 in New York (EST)
    assert hours_state(OFFICE, datetime(2026, 12, 7, 14, 0, tzinfo=timezone.utc))[0] == "open"
    assert hours_state(OFFICE, datetime(2026, 12, 7, 13, 59, tzinfo=timezone.utc))[0] == "closed"


def test_flow_zone_is_used_when_the_step_has_none():
    node = {k: v for k, v in OFFICE.items() if k != "timezone"}
    at = datetime(2026, 12, 7, 14, 30, tzinfo=timezone.utc)  # 09:30 New York, 14:30 London
    assert hours_state(node, at, flow_timezone="America/New_York")[0] == "open"
    assert hours_state(node, datetime(2026, 12, 7, 19, 0, tzinfo=timezone.utc),
                       flow_timezone="Europe/London")[0] == "closed"


def test_holidays_full_date_and_every_year():
    assert state(OFFICE, 2026, 12, 25, 10, 0) == "closed"  # a Friday, but 22:00 would be open too
    assert state(OFFICE, 2026, 12, 25, 23, 0) == "closed"
    assert "2026-12-25" in hours_state(OFFICE, datetime(2026, 12, 25, 10, 0, tzinfo=NY))[1]
    assert state(OFFICE, 2027, 1, 1, 10, 0) == "closed"  # 01-01 every year (a Friday)
    assert state(OFFICE, 2031, 1, 1, 10, 0) == "closed"  # a Wednesday: open otherwise
    assert state(OFFICE, 2031, 1, 2, 10, 0) == "open"


def test_overnight_range_of_a_holiday_does_not_spill_into_the_next_morning():
    assert state(OFFICE, 2026, 12, 26, 1, 0) == "closed"  # Friday 25th closed, so its night too
    node = {**OFFICE, "open": {"fri": ["22:00-02:00"]}}
    assert state(node, 2026, 12, 19, 1, 0) == "open"  # Saturday 01:00: Friday 18th's night
    assert state(node, 2026, 12, 20, 1, 0) == "closed"  # Sunday 01:00: Saturday has no range
    assert state(node, 2026, 12, 26, 1, 0) == "closed"  # Friday 25th closed: its night too
    assert state(node, 2026, 12, 12, 1, 0) == "open"


def test_daylight_saving_skipped_hour():
    # New York 2026-03-08 (Sunday): 02:00 jumps to 03:00
    node = {"timezone": "America/New_York", "open": {"sun": ["02:30-04:00"]}}
    before = datetime(2026, 3, 8, 6, 59, tzinfo=timezone.utc)  # 01:59 EST
    after = before + timedelta(minutes=1)  # 03:00 EDT
    assert hours_state(node, before)[0] == "closed"
    assert hours_state(node, after)[0] == "open"
    assert hours_state(node, after + timedelta(minutes=59))[0] == "open"  # 03:59
    assert hours_state(node, after + timedelta(hours=1))[0] == "closed"  # 04:00


def test_daylight_saving_repeated_hour():
    # New York 2026-11-01 (Sunday): 01:00-02:00 happens twice; both are within 01:00-01:59 wall time
    node = {"timezone": "America/New_York", "open": {"sun": ["01:00-02:00"]}}
    first = datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc)  # 01:30 EDT
    second = datetime(2026, 11, 1, 6, 30, tzinfo=timezone.utc)  # 01:30 EST
    assert hours_state(node, first)[0] == "open"
    assert hours_state(node, second)[0] == "open"
    assert hours_state(node, datetime(2026, 11, 1, 7, 0, tzinfo=timezone.utc))[0] == "closed"  # 02:00 EST


def test_override_wins_until_it_expires():
    at = datetime(2026, 12, 7, 10, 0, tzinfo=NY)  # open by the schedule
    until = (at + timedelta(hours=1)).timestamp()
    closed = Override("closed", until)
    assert hours_state(OFFICE, at, override=closed)[0] == "closed"
    assert "operator" in hours_state(OFFICE, at, override=closed)[1]
    assert hours_state(OFFICE, at + timedelta(hours=1), override=closed)[0] == "open"  # expired
    assert hours_state(OFFICE, at + timedelta(days=30), override=Override("closed"))[0] == "closed"
    assert state(OFFICE, 2026, 12, 25, 10, 0, override=Override("open")) == "open"  # open on a holiday


def test_hours_problems_name_the_field():
    problems = hours_problems({"timezone": "Mars/Base", "open": {"mon": ["9-5", "08:00-10:00", "09:00-11:00"],
                                                                  "funday": []},
                               "closed_dates": ["2026-02-30", "xmas"]})
    fields = {(p.field, p.severity) for p in problems}
    assert ("timezone", "error") in fields
    assert ("open.mon[0]", "error") in fields  # not a range
    assert ("open.mon[2]", "error") in fields  # overlaps 08:00-10:00
    assert ("open.funday", "error") in fields
    assert ("closed_dates[0]", "error") in fields  # no 30 February
    assert ("closed_dates[1]", "error") in fields
    by_field = {p.field: p.message for p in problems}
    assert "Mars/Base" in by_field["timezone"] and "IANA" in by_field["timezone"]
    assert "overlaps" in by_field["open.mon[2]"]


def test_reversed_daytime_range_is_a_warning_and_a_real_night_shift_is_not():
    [p] = hours_problems({"timezone": "UTC", "open": {"mon": ["17:00-09:00"]}})
    assert p.severity == "warning" and "09:00-17:00" in p.message
    assert hours_problems({"timezone": "UTC", "open": {"mon": ["22:00-06:00"]}}) == []


def test_overnight_range_overlapping_the_next_morning():
    problems = hours_problems({"timezone": "UTC", "open": {"sun": ["22:00-10:00"], "mon": ["09:00-17:00"]}})
    assert any(p.field == "open.mon[0]" and "overlaps" in p.message for p in problems)


def test_empty_schedule_warns_that_every_call_is_closed():
    [p] = hours_problems({"timezone": "UTC", "open": {}})
    assert p.severity == "warning" and "closed" in p.message


def test_huge_schedules_are_refused_not_walked():
    problems = hours_problems({"timezone": "UTC", "open": {"mon": ["09:00-10:00"] * 10_000},
                               "closed_dates": ["2026-01-01"] * 100_000})
    assert {p.field for p in problems} >= {"open.mon", "closed_dates"}


@pytest.mark.parametrize("text", ["+1 (516) 206-5337", "15162065337", "(516) 206-5337", "516-206-5337",
                                  "+15162065337", " 1 516 206 5337 "])
def test_phone_numbers_in_one_form(text):
    assert phone_digits(text) == "15162065337"


def test_withheld_callers_have_no_number():
    for text in ("", "anonymous", "Restricted", "private"):
        assert phone_digits(text) == ""


WHO = {"cases": [{"branch": "vip", "equals": ["(516) 206-5337", "+44 20 7946 0000"]},
                 {"branch": "local", "starts_with": ["1516", "631"]},
                 {"branch": "ends", "ends_with": ["99"]},
                 {"branch": "withheld", "empty": True}]}


def test_split_first_match_wins_whatever_the_formatting():
    assert split_branch(WHO, "+1 516 206 5337", phone=True)[0] == "vip"  # also starts with 1516
    assert split_branch(WHO, "442079460000", phone=True)[0] == "vip"
    assert split_branch(WHO, "+15169990000", phone=True)[0] == "local"
    assert split_branch(WHO, "16315550000", phone=True)[0] == "local"  # 631 matches the national form
    assert split_branch(WHO, "+12125550199", phone=True)[0] == "ends"
    assert split_branch(WHO, "anonymous", phone=True)[0] == "withheld"
    assert split_branch(WHO, "", phone=True)[0] == "withheld"
    branch, reason = split_branch(WHO, "+12125550100", phone=True)
    assert branch == "else" and "matched no case" in reason


def test_split_on_text_and_numbers():
    node = {"cases": [{"branch": "small", "between": [1, 9]}, {"branch": "big", "between": ["10", "99.5"]},
                      {"branch": "spanish", "contains": ["ES"]}, {"branch": "none", "empty": True}]}
    assert split_branch(node, "1", phone=False)[0] == "small"
    assert split_branch(node, "9", phone=False)[0] == "small"
    assert split_branch(node, "10", phone=False)[0] == "big"
    assert split_branch(node, "99.5", phone=False)[0] == "big"
    assert split_branch(node, "100", phone=False)[0] == "else"
    assert split_branch(node, "es-MX", phone=False)[0] == "spanish"  # any case
    assert split_branch(node, "  ", phone=False)[0] == "none"
    assert split_branch(node, "twelve", phone=False)[0] == "else"


def test_split_branches_and_problems():
    assert split_branches(WHO) == ["vip", "local", "ends", "withheld", "else"]
    assert [p.field for p in split_problems({"cases": []}, set())] == ["cases"]
    problems = split_problems({"cases": [{"branch": "else", "equals": ["1"]},
                                         {"branch": "a", "equals": ["1"], "contains": ["2"]},
                                         {"branch": "b", "between": [9, 1]},
                                         {"branch": "b", "equals": []},
                                         {"branch": "c", "empty": "yes"}]}, set())
    fields = [p.field for p in problems]
    assert fields == ["cases[0].branch", "cases[1]", "cases[2].between", "cases[3].branch", "cases[3].equals",
                      "cases[4].empty"]


def test_set_problems():
    assert set_problems({"vars": {"language": "es", "caller": "{{ From }}"}}, {"From", "To"}) == []
    problems = set_problems({"vars": {"From": "x", "2x": "y", "ok": 5}}, {"From"})
    assert [p.field for p in problems] == ["vars.From", "vars.2x", "vars.ok"]
    assert [p.field for p in set_problems({"vars": {}}, set())] == ["vars"]


def test_week_summary_reads_like_a_sign_on_the_door():
    node = {"open": {d: ["09:00-17:00"] for d in DAYS[:5]} | {"sat": ["10:00-12:00"]}}
    assert week_summary(node) == "Mon-Fri 09:00-17:00; Sat 10:00-12:00; Sun closed"


def test_at_time_for_simulated_calls():
    at = at_time("2026-12-24T18:30", "America/New_York")
    assert at.utcoffset() == timedelta(hours=-5)
    assert at_time("2026-12-24T18:30+01:00").utcoffset() == timedelta(hours=1)
    with pytest.raises(ValueError, match="not a time"):
        at_time("tomorrow")
    with pytest.raises(ValueError, match="time zone"):
        at_time("2026-12-24T18:30", "Nowhere/City")


@pytest.mark.parametrize("params,branch", [
    ({"DialCallStatus": "busy"}, "no-answer"), ({"DialCallStatus": "no-answer"}, "no-answer"),
    ({"DialCallStatus": "noanswer"}, "no-answer"), ({"DialCallStatus": "failed"}, "no-answer"),
    ({"DialCallStatus": "canceled"}, "no-answer"), ({"DialStatus": "cancel"}, "no-answer"),
    ({"CallStatus": "busy"}, "no-answer"), ({"DialCallStatus": "completed"}, "next"),
    ({"DialStatus": "answered"}, "next"), ({}, "next"), ({"DialCallStatus": ""}, "next"),
    ({"DialCallStatus": "completed", "CallStatus": "busy"}, "next"),  # the first field present decides
])
def test_transfer_outcome_from_each_status_spelling(params, branch):
    assert dial_outcome(params)[0] == branch


def test_decision_json_round_trip_keeps_only_what_the_host_needs():
    data = {"type": "Hours", "timezone": "UTC", "open": {"mon": ["09:00-17:00"]}, "closed_dates": [],
            "x": 40, "branches": {"open": "menu", "closed": None}}
    decision = Decision.from_json("hours", data)
    assert decision.spec == {"timezone": "UTC", "open": {"mon": ["09:00-17:00"]}, "closed_dates": []}
    assert Decision.from_json("hours", decision.to_json()) == decision
