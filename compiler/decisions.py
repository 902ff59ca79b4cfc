"""Decision steps the host takes while it answers: Hours, Split and Set.

FlexML has no conditions, so these steps never reach the carrier as markup:
the host evaluates them at request time and serves the chosen branch's verbs
in the same answer. This module is the pure part: reading a step's fields,
the plain-language problems with them (``hours_problems`` …), and the
decision itself (``hours_state``, ``split_branch``), each returning the branch
and a reason a person can read in a call's timeline.

Hours: ``open`` maps ``mon`` … ``sun`` to ranges ``"09:00-17:00"``; ``"00:00-24:00"``
is all day; a range that ends before it starts runs past midnight and belongs
to the day it starts on. Times are wall-clock times in the step's zone, so a
daylight-saving change moves nothing: 09:00 is 09:00 on both sides of it.
``closed_dates`` holds ``YYYY-MM-DD`` (one day) or ``MM-DD`` (that day every
year). An operator's ``Override`` (closed now / open now, until a time or until
cleared) wins over the schedule.

Split: the first case whose test holds picks its branch, else ``else``. Phone
numbers are compared in one form (E.164 digits, ``phonenumbers``), whatever the
caller's formatting; a withheld caller's number is empty.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from compiler.catalogue import STEPS
from compiler.phones import WITHHELD, phone_digits, phone_forms

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES: dict[str, str] = {
    "mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday",
    "fri": "Friday", "sat": "Saturday", "sun": "Sunday",
}
SPLIT_TESTS: tuple[str, ...] = ("equals", "starts_with", "ends_with", "contains", "between", "empty")
SPLIT_TEST_LABELS: dict[str, str] = {
    "equals": "is", "starts_with": "starts with", "ends_with": "ends with", "contains": "contains",
    "between": "is a number between", "empty": "is empty (for a caller: withheld)",
}
ELSE = "else"
BRANCH_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}\Z")
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}\Z")
MAX_RANGES_PER_DAY = 8
MAX_CLOSED_DATES = 400
MAX_CASES = 50
MAX_CASE_VALUES = 100
MAX_VALUE_CHARS = 256
MAX_VARS = 20
_RANGE = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])\Z")
_FULL_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_YEARLY_DATE = re.compile(r"^[0-9]{2}-[0-9]{2}\Z")
_NUMBER = re.compile(r"^[+-]?[0-9]{1,15}(\.[0-9]{1,6})?\Z")


@dataclass(frozen=True)
class Issue:
    """A problem with a decision step's field; validation turns it into a ``Problem`` of the node."""

    field: str
    message: str
    severity: str = "error"


# ---------------------------------------------------------------- hours

@dataclass(frozen=True)
class Range:
    start: int  # minutes after midnight
    end: int  # minutes after midnight; <= start runs past midnight

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def text(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class Override:
    """The operator's switch: ``state`` "open" or "closed", until ``until`` (epoch seconds) or cleared."""

    state: str
    until: float | None = None

    def active(self, now: float) -> bool:
        return self.until is None or now < self.until


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_range(text: object) -> Range | None:
    """``"09:00-17:00"`` as a Range; None when it is not one (read once per text: the host asks per call)."""
    return _parse_range(text) if isinstance(text, str) else None


@lru_cache(maxsize=4096)
def _parse_range(text: str) -> Range | None:
    m = _RANGE.match(text.strip())
    if not m:
        return None
    start, end = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
    if start > 24 * 60 or end > 24 * 60 or start == 24 * 60:
        return None
    return Range(start, end)


@lru_cache(maxsize=1)
def timezones() -> frozenset[str]:
    """The IANA zone names this machine knows (``tzdata`` ships them where the system has none)."""
    return frozenset(available_timezones())


def zone_problem(name: object) -> str | None:
    if not isinstance(name, str) or name not in timezones():
        return (f"{name!r} is not a time zone; use an IANA name such as America/New_York or "
                f"Europe/London")
    return None


def machine_zone() -> str:
    """The zone of the machine the host runs on, as an IANA name where it can be found, else UTC."""
    try:
        link = os.path.realpath("/etc/localtime")
        marker = "/zoneinfo/"
        if marker in link and link.split(marker, 1)[1] in timezones():
            return link.split(marker, 1)[1]
    except OSError:
        pass
    return "UTC"


def schedule_of(node: dict) -> dict[str, list[Range]]:
    """The node's weekly ranges that parse (problems are ``hours_problems``' job)."""
    opening = node.get("open")
    out: dict[str, list[Range]] = {d: [] for d in DAYS}
    if isinstance(opening, dict):
        for day in DAYS:
            ranges = opening.get(day)
            if isinstance(ranges, list):
                out[day] = [r for r in map(parse_range, ranges[:MAX_RANGES_PER_DAY]) if r]
    return out


def _minutes_of(day: str, ranges: list[Range]) -> list[tuple[int, int, str]]:
    """Week minutes (0 = Monday 00:00) that each range covers, overnight ones split at midnight."""
    base = DAYS.index(day) * 1440
    spans = []
    for r in ranges:
        if r.overnight:
            spans.append((base + r.start, base + 1440, f"{DAY_NAMES[day]} {r.text()}"))
            nxt = (base + 1440) % (7 * 1440)
            spans.append((nxt, nxt + r.end, f"{DAY_NAMES[day]} {r.text()}"))
        else:
            spans.append((base + r.start, base + r.end, f"{DAY_NAMES[day]} {r.text()}"))
    return spans


def hours_problems(node: dict, flow_timezone: object = None) -> list[Issue]:
    """Every problem with an Hours step's zone, schedule and closed dates, in plain words."""
    issues: list[Issue] = []
    zone = node.get("timezone")
    if zone not in (None, ""):
        if (p := zone_problem(zone)) is not None:
            issues.append(Issue("timezone", p))
    elif flow_timezone not in (None, "") and (p := zone_problem(flow_timezone)) is not None:
        issues.append(Issue("timezone", f"the flow's time zone: {p}"))
    opening = node.get("open")
    if opening is not None and not isinstance(opening, dict):
        issues.append(Issue("open", "must map days (mon … sun) to lists of ranges like 09:00-17:00"))
        opening = {}
    opening = opening or {}
    for day in opening:
        if day not in DAYS:
            issues.append(Issue(f"open.{day}", f"{day!r} is not a day; use {', '.join(DAYS)}"))
    spans = []
    for day in DAYS:
        ranges = opening.get(day, [])
        if not isinstance(ranges, list):
            issues.append(Issue(f"open.{day}", "must be a list of ranges like 09:00-17:00"))
            continue
        if len(ranges) > MAX_RANGES_PER_DAY:
            issues.append(Issue(f"open.{day}", f"has {len(ranges)} ranges; at most {MAX_RANGES_PER_DAY}"))
        for i, text in enumerate(ranges[:MAX_RANGES_PER_DAY]):
            where = f"open.{day}[{i}]"
            r = parse_range(text)
            if r is None:
                issues.append(Issue(where, f"{str(text)[:40]!r} is not a range like 09:00-17:00 "
                                           "(24-hour times; 00:00-24:00 is all day)"))
                continue
            if r.start == r.end:
                issues.append(Issue(where, f"{r.text()} is empty; 00:00-24:00 is all day"))
                continue
            if r.overnight and r.start <= 19 * 60 and r.end >= 7 * 60:  # e.g. 17:00-09:00: reversed daytime?
                issues.append(Issue(where, f"{r.text()} runs past midnight, until {_hhmm(r.end)} the next "
                                           f"morning; if you meant {_hhmm(r.end)}-{_hhmm(r.start)}, swap "
                                           "the times", "warning"))
            spans.extend((a, b, label, where) for a, b, label in _minutes_of(day, [r]))
    spans.sort()
    for (a1, b1, l1, _), (a2, b2, l2, w2) in zip(spans, spans[1:]):
        if a2 < b1 and l1 != l2:
            issues.append(Issue(w2, f"{l2} overlaps {l1}"))
    if not spans and not node.get("closed_dates"):
        issues.append(Issue("open", "no opening hours: every call takes the 'closed' path", "warning"))
    dates = node.get("closed_dates", [])
    if not isinstance(dates, list):
        issues.append(Issue("closed_dates", "must be a list of dates like 2026-12-25 (or 12-25 every year)"))
        dates = []
    if len(dates) > MAX_CLOSED_DATES:
        issues.append(Issue("closed_dates", f"has {len(dates)} dates; at most {MAX_CLOSED_DATES}"))
    for i, text in enumerate(dates[:MAX_CLOSED_DATES]):
        if _closed_date(text) is None:
            issues.append(Issue(f"closed_dates[{i}]", f"{str(text)[:40]!r} is not a date like 2026-12-25 "
                                                      "(or 12-25 for every year)"))
    return issues


def _closed_date(text: object) -> tuple[int | None, int, int] | None:
    """(year or None for every year, month, day), or None when it is not a date."""
    return _read_date(text) if isinstance(text, str) else None


@lru_cache(maxsize=4096)
def _read_date(text: str) -> tuple[int | None, int, int] | None:
    text = text.strip()
    try:
        if _FULL_DATE.match(text):
            d = date.fromisoformat(text)
            return d.year, d.month, d.day
        if _YEARLY_DATE.match(text):
            month, day = int(text[:2]), int(text[3:])
            date(2024, month, day)  # a leap year: 02-29 is a date
            return None, month, day
    except ValueError:
        return None
    return None


def _is_closed_date(node: dict, today: date) -> str | None:
    for text in (node.get("closed_dates") or [])[:MAX_CLOSED_DATES]:
        d = _closed_date(text)
        if d and d[1:] == (today.month, today.day) and d[0] in (None, today.year):
            return str(text).strip()
    return None


def step_zone(node: dict, flow_timezone: str | None = None) -> str:
    """The zone an Hours step decides in: its own, else the flow's, else the machine's."""
    for name in (node.get("timezone"), flow_timezone):
        if isinstance(name, str) and name in timezones():
            return name
    return machine_zone()


def hours_state(node: dict, at: datetime, *, flow_timezone: str | None = None,
                override: Override | None = None) -> tuple[str, str]:
    """``("open" | "closed", reason)`` for a call at ``at`` (an aware datetime)."""
    return Hours.of(node, flow_timezone).state(at, override)


@dataclass(frozen=True)
class Hours:
    """An Hours step read once (zone, ranges, closed dates), to decide many calls: the host prepares one
    per step when it serves a revision."""

    zone: str
    tz: ZoneInfo
    schedule: dict[str, list[Range]]
    closed: dict[tuple[int, int], tuple[tuple[int | None, str], ...]]  # (month, day) → (year or None, as written)
    _last: list = field(default_factory=lambda: [(None, None)], compare=False, repr=False)  # [(minute, answer)]

    @classmethod
    def of(cls, node: dict, flow_timezone: str | None = None) -> "Hours":
        zone = step_zone(node, flow_timezone)
        closed: dict[tuple[int, int], list[tuple[int | None, str]]] = {}
        for text in (node.get("closed_dates") or [])[:MAX_CLOSED_DATES]:
            d = _closed_date(text)
            if d:
                closed.setdefault((d[1], d[2]), []).append((d[0], str(text).strip()))
        return cls(zone, ZoneInfo(zone), schedule_of(node), {k: tuple(v) for k, v in closed.items()})

    def closed_on(self, day: date) -> str | None:
        """The closed date (as written) that ``day`` is, or None."""
        for year, text in self.closed.get((day.month, day.day), ()):
            if year in (None, day.year):
                return text
        return None

    def state(self, at: datetime, override: Override | None = None) -> tuple[str, str]:
        """``("open" | "closed", reason)`` for a call at ``at`` (an aware datetime).

        The schedule's answer is the same for a whole minute: the host asks per call, so the last minute's
        answer is kept (no time-zone arithmetic for the other calls of that minute)."""
        stamp_s = at.timestamp()
        if override is not None and override.active(stamp_s):
            local = at.astimezone(self.tz)
            stamp = f"{DAY_NAMES[DAYS[local.weekday()]]} {local.hour:02d}:{local.minute:02d} {self.zone}"
            until = "" if override.until is None else \
                f" until {datetime.fromtimestamp(override.until, self.tz):%a %d %b %H:%M}"
            return override.state, f"{override.state}, switched by the operator{until} ({stamp})"
        minute = int(stamp_s // 60)
        kept = self._last[0]
        if kept[0] == minute:
            return kept[1]
        answer = self._scheduled(at)
        self._last[0] = (minute, answer)  # one pair, replaced whole: a thread sees the old or the new one
        return answer

    def _scheduled(self, at: datetime) -> tuple[str, str]:
        local = at.astimezone(self.tz)
        today = DAYS[local.weekday()]
        stamp = f"{DAY_NAMES[today]} {local.hour:02d}:{local.minute:02d} {self.zone}"
        if self.closed and (holiday := self.closed_on(local.date())) is not None:
            return "closed", f"closed all day: {holiday} is a closed date ({stamp})"
        minute = local.hour * 60 + local.minute
        for r in self.schedule[today]:
            if (r.start <= minute < r.end) or (r.overnight and minute >= r.start):
                return "open", f"open: {DAY_NAMES[today]} {r.text()} ({stamp})"
        yesterday = DAYS[(local.weekday() - 1) % 7]
        if not self.closed or self.closed_on(local.date() - timedelta(days=1)) is None:
            for r in self.schedule[yesterday]:
                if r.overnight and minute < r.end:
                    return "open", f"open: {DAY_NAMES[yesterday]} {r.text()} ({stamp})"
        return "closed", f"closed: outside opening hours ({stamp})"


def week_summary(node: dict) -> str:
    """One line a person reads: ``Mon-Fri 09:00-17:00; Sat 10:00-12:00; Sun closed``."""
    schedule = schedule_of(node)
    parts: list[tuple[list[str], str]] = []
    for day in DAYS:
        text = ", ".join(r.text() for r in schedule[day]) or "closed"
        if parts and parts[-1][1] == text:
            parts[-1][0].append(day)
        else:
            parts.append(([day], text))
    def days(group: list[str]) -> str:
        first, last = group[0].capitalize(), group[-1].capitalize()
        return first if len(group) == 1 else f"{first}-{last}"
    return "; ".join(f"{days(g)} {t}" for g, t in parts)


# ---------------------------------------------------------------- split

def _number(text: object) -> float | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text) if math.isfinite(text) else None
    if isinstance(text, str) and _NUMBER.match(text.strip()):
        return float(text.strip())
    return None


def case_test(case: dict) -> str | None:
    """The test a case uses (the one key of ``SPLIT_TESTS`` it holds), or None."""
    found = [t for t in SPLIT_TESTS if t in case]
    return found[0] if len(found) == 1 else None


def split_problems(node: dict, names: set[str]) -> list[Issue]:
    """Problems with a Split's cases; ``names`` are the variables its value may read."""
    issues: list[Issue] = []
    cases = node.get("cases")
    if not isinstance(cases, list) or not cases:
        return [Issue("cases", "has no cases: add one, e.g. \"the caller's number starts with 1516\"")]
    if len(cases) > MAX_CASES:
        issues.append(Issue("cases", f"has {len(cases)} cases; at most {MAX_CASES}"))
    seen: set[str] = set()
    for i, case in enumerate(cases[:MAX_CASES]):
        where = f"cases[{i}]"
        if not isinstance(case, dict):
            issues.append(Issue(where, "must be an object with a branch and one test"))
            continue
        branch = case.get("branch")
        if not isinstance(branch, str) or not BRANCH_NAME.match(branch) or branch == ELSE:
            issues.append(Issue(f"{where}.branch", f"{str(branch)[:40]!r} is not an output name: lower-case "
                                                   "letters, digits and -, not 'else'"))
        elif branch in seen:
            issues.append(Issue(f"{where}.branch", f"output {branch!r} is used by two cases"))
        else:
            seen.add(branch)
        test = case_test(case)
        if test is None:
            present = [t for t in SPLIT_TESTS if t in case]
            issues.append(Issue(where, "needs exactly one test: " + ", ".join(SPLIT_TESTS)
                                + (f" (it has {', '.join(present)})" if present else "")))
            continue
        operand = case[test]
        if test == "empty":
            if operand is not True:
                issues.append(Issue(f"{where}.empty", "must be true"))
        elif test == "between":
            if not (isinstance(operand, list) and len(operand) == 2
                    and all(_number(v) is not None for v in operand)):
                issues.append(Issue(f"{where}.between", "must be two numbers, low and high, e.g. [1, 10]"))
            elif _number(operand[0]) > _number(operand[1]):
                issues.append(Issue(f"{where}.between", f"{operand[0]} is more than {operand[1]}: "
                                                        "write the low number first"))
        else:
            if not isinstance(operand, list) or not operand or not all(isinstance(v, str) for v in operand):
                issues.append(Issue(f"{where}.{test}", "must be a list of one or more texts"))
            elif len(operand) > MAX_CASE_VALUES:
                issues.append(Issue(f"{where}.{test}", f"has {len(operand)} values; at most {MAX_CASE_VALUES}"))
            elif any(len(v) > MAX_VALUE_CHARS or not v.strip() for v in operand):
                issues.append(Issue(f"{where}.{test}", f"each value must be 1 to {MAX_VALUE_CHARS} characters"))
    return issues


def split_branches(node: dict) -> list[str]:
    """A Split's outputs: its cases' branches in order, then ``else``."""
    out = []
    for case in node.get("cases") or []:
        if isinstance(case, dict) and isinstance(case.get("branch"), str) and case["branch"] not in out:
            out.append(case["branch"])
    return [*out, ELSE]


def case_holds(case: dict, value: str, *, phone: bool, region: str = "US") -> bool:
    test = case_test(case)
    if test is None:
        return False
    operand = case[test]
    value = value.strip()[:MAX_VALUE_CHARS]
    if test == "empty":
        return (phone_digits(value, region) if phone else value) == "" or value.lower() in WITHHELD
    if test == "between":
        n, low, high = _number(value), *(map(_number, operand) if len(operand) == 2 else (None, None))
        return n is not None and low is not None and high is not None and low <= n <= high
    if phone:
        forms = set(phone_forms(value, region))
        wanted = [phone_digits(v, region) if test == "equals" else re.sub(r"[^0-9]", "", v) for v in operand]
    else:
        forms = {value.casefold()}
        wanted = [v.strip().casefold() for v in operand]
    wanted = [w for w in wanted if w]
    if test == "equals":
        return any(w in forms for w in wanted)
    if test == "starts_with":
        return any(f.startswith(w) for f in forms for w in wanted)
    if test == "ends_with":
        return any(f.endswith(w) for f in forms for w in wanted)
    return any(w in f for f in forms for w in wanted)


def describe_case(case: dict, subject: str = "the value") -> str:
    """A case as a sentence: ``the caller's number starts with 1516 or 1631``."""
    test = case_test(case)
    if test is None:
        return f"{subject} (no test)"
    operand = case[test]
    if test == "empty":
        return f"{subject} is empty"
    if test == "between":
        return f"{subject} is a number from {operand[0]} to {operand[1]}"
    return f"{subject} {SPLIT_TEST_LABELS[test]} {' or '.join(map(str, operand))}"


def split_branch(node: dict, value: str, *, phone: bool, region: str = "US") -> tuple[str, str]:
    """``(branch, reason)``: the first case that holds for ``value``, else ``else``."""
    return Split.of(node, phone=phone, region=region).branch(value)


@dataclass(frozen=True)
class Split:
    """A Split step's cases read once (numbers in their one form), to decide many calls; the same answers
    as ``case_holds`` case by case."""

    cases: tuple[tuple[dict, str, object, str], ...]  # (case, test, operand as compared, the reason's end)
    phone: bool
    region: str = "US"

    @classmethod
    def of(cls, node: dict, *, phone: bool, region: str = "US") -> "Split":
        out = []
        for case in (node.get("cases") or [])[:MAX_CASES]:
            test = case_test(case) if isinstance(case, dict) else None
            if test is None:
                continue
            operand = case[test]
            if test == "between":
                operand = tuple(map(_number, operand)) if isinstance(operand, list) and len(operand) == 2 \
                    else (None, None)
            elif test == "empty":
                operand = None
            elif phone:
                wanted = [phone_digits(v, region) if test == "equals" else re.sub(r"[^0-9]", "", v) for v in operand]
                operand = tuple(w for w in wanted if w)
            else:
                operand = tuple(w for w in (v.strip().casefold() for v in operand) if w)
            if test == "equals":
                operand = frozenset(operand)
            out.append((case, test, operand, describe_case(case, "")))  # the reason, after the value
        return cls(tuple(out), phone, region)

    def branch(self, value: str) -> tuple[str, str]:
        """``(branch, reason)``: the first case that holds for ``value``, else ``else``.

        Per call, so written for speed: the forms of the value are one or two, and plain loops over them
        cost less than generator expressions."""
        value = value.strip()[:MAX_VALUE_CHARS]
        forms = phone_forms(value, self.region) if self.phone else (value.casefold(),)
        full = forms[0] if self.phone and forms else ""
        for case, test, operand, told in self.cases:
            holds = False
            if test == "starts_with":  # str.startswith takes the tuple of values: one call per form
                for f in forms:
                    if f.startswith(operand):
                        holds = True
                        break
            elif test == "equals":
                holds = not operand.isdisjoint(forms)
            elif test == "ends_with":
                for f in forms:
                    if f.endswith(operand):
                        holds = True
                        break
            elif test == "contains":
                holds = any(w in f for f in forms for w in operand)
            elif test == "empty":
                holds = (full if self.phone else value) == "" or value.lower() in WITHHELD
            else:  # between
                n, (low, high) = _number(value), operand
                holds = n is not None and low is not None and high is not None and low <= n <= high
            if holds:
                return case["branch"], repr(value[:40] or "(empty)") + told
        return ELSE, f"{value[:40] or '(empty)'!r} matched no case"


# ---------------------------------------------------------------- set

def set_problems(node: dict, reserved: set[str]) -> list[Issue]:
    """Problems with a Set step's names; its values are call-variable text, checked by validation."""
    values = node.get("vars")
    if not isinstance(values, dict) or not values:
        return [Issue("vars", "sets nothing: add a name and a value")]
    issues = []
    if len(values) > MAX_VARS:
        issues.append(Issue("vars", f"sets {len(values)} values; at most {MAX_VARS}"))
    for name, value in list(values.items())[:MAX_VARS]:
        if not VAR_NAME.match(str(name)):
            issues.append(Issue(f"vars.{str(name)[:40]}", "a name is letters, digits and _ (not first), "
                                                           "up to 32 characters"))
        elif name in reserved:
            issues.append(Issue(f"vars.{name}", f"{name!r} is a call field's name; choose another"))
        if not isinstance(value, str):
            issues.append(Issue(f"vars.{str(name)[:40]}", "the value must be text"))
        elif len(value) > MAX_VALUE_CHARS:
            issues.append(Issue(f"vars.{name}", f"the value is {len(value)} characters; at most "
                                                f"{MAX_VALUE_CHARS}"))
    return issues


def remembered_names(nodes: Iterable[dict]) -> list[str]:
    """The names Set steps among ``nodes`` (step fields) remember, in the order they first appear."""
    out: list[str] = []
    for data in nodes:
        spec = STEPS.get(data.get("type")) if isinstance(data.get("type"), str) else None
        values = data.get("vars") if spec is not None and spec.decides == "set" else None
        for name in values if isinstance(values, dict) else ():
            if isinstance(name, str) and VAR_NAME.match(name) and name not in out:
                out.append(name)
    return out


def at_time(text: str, zone: str | None = None) -> datetime:
    """``2026-12-24T18:30`` (in ``zone``, else the machine's) as an aware datetime; ValueError if not."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{text[:40]!r} is not a time like 2026-12-24T18:30") from exc
    if value.tzinfo is None:
        if zone is not None and zone_problem(zone) is not None:
            raise ValueError(zone_problem(zone))
        value = value.replace(tzinfo=ZoneInfo(zone or machine_zone()))
    return value


# ---------------------------------------------------------------- the compiled decision

# Dial outcomes that mean the transfer was not answered (the carrier's CallStatus values and the spellings
# other carriers use); anything else, and a missing field, counts as answered
NOT_ANSWERED = frozenset({"busy", "noanswer", "no-answer", "no_answer", "failed", "cancel", "canceled",
                          "cancelled"})
DIAL_STATUS_FIELDS: tuple[str, ...] = ("DialCallStatus", "DialStatus", "CallStatus")
NO_ANSWER = "no-answer"


def dial_outcome(params: dict[str, str]) -> tuple[str, str]:
    """``("next" | "no-answer", reason)`` from a Dial action request's status fields."""
    for name in DIAL_STATUS_FIELDS:
        value = str(params.get(name) or "").strip()
        if value:
            if value.lower() in NOT_ANSWERED:
                return NO_ANSWER, f"the transfer was not answered ({name}={value[:20]})"
            return "next", f"the transfer was answered ({name}={value[:20]})"
    return "next", "the carrier sent no outcome: counted as answered"


@dataclass(frozen=True)
class Decision:
    """A step the host decides while it answers, as the compiler hands it over (no graph needed).

    ``branches`` maps each output to the document that plays it (None: the call ends there).
    """

    node: str
    type: str
    spec: dict
    branches: dict[str, str | None]

    def to_json(self) -> dict:
        return {"type": self.type, **self.spec, "branches": self.branches}

    @classmethod
    def from_json(cls, node: str, data: dict) -> "Decision":
        type_ = str(data.get("type"))
        spec = STEPS.get(type_)
        fields = spec.host_fields if spec is not None else ()
        branches = data.get("branches") if isinstance(data.get("branches"), dict) else {}
        return cls(node, type_, {k: data[k] for k in fields if k in data},
                   {str(k): (None if v is None else str(v)) for k, v in branches.items()})


__all__ = [
    "DAYS", "DIAL_STATUS_FIELDS", "Decision", "ELSE", "Issue", "NO_ANSWER", "dial_outcome", "Override", "Range", "SPLIT_TESTS", "at_time", "case_holds", "describe_case",
    "hours_problems", "hours_state", "machine_zone", "parse_range", "schedule_of",
    "remembered_names", "set_problems", "split_branch", "split_branches", "split_problems", "step_zone", "timezones",
    "week_summary", "zone_problem",
]
