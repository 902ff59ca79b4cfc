"""Properties of the decision steps, for people who do not program.

The catalogue says which decision a step takes (``Step.decides``): "hours"
gets a week grid, closed dates, a time-zone picker with search and a line
saying what the step decides right now; "split" gets a value chosen from
plain choices and cases written as sentences; "set" gets name / value rows
with call details to insert. Every change goes through ``EditorState.set_field``
(one undoable edit, saved and validated like any other).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from compiler import compile_flow
from compiler.catalogue import Step, branches_of, step_of
from compiler.decisions import (DAY_NAMES, DAYS, ELSE, SPLIT_TEST_LABELS, SPLIT_TESTS, case_test, describe_case, remembered_names,
                                machine_zone, timezones)

from designer import services
from designer.ui.canvas import branch_label
from designer.ui.editor_state import EditorState

ALL_DAY = "00:00-24:00"
MIDNIGHT = "24:00"  # the end of a range that runs until the day ends
DAY_MODES = {"closed": "Closed", "all": "All day", "hours": "Hours"}
WEEKDAYS = DAYS[:5]
# the call details a Split tests or a Set remembers, in plain words
CALL_DETAILS: tuple[tuple[str, str], ...] = (
    ("the caller's number", "{{ From }}"),
    ("the number they called", "{{ To }}"),
    ("the keys pressed", "{{ Digits }}"),
)
CUSTOM = "custom"


def decision_panel(state: EditorState, node: str, spec: Step, rerender: Callable[[], None]) -> None:
    """The form of a decision step (nothing for other steps)."""
    panel = {"hours": HoursPanel, "split": SplitPanel, "set": SetPanel}.get(spec.decides)
    if panel is not None:
        panel(state, node, rerender).build()


class _Panel:
    def __init__(self, state: EditorState, node: str, rerender: Callable[[], None]) -> None:
        self.state = state
        self.node = node
        self.rerender = rerender

    @property
    def data(self) -> dict:
        return self.state.graph.nodes[self.node]

    def save(self, field: str, value: Any, redraw: bool = False) -> None:
        self.state.set_field(self.node, field, value)
        if redraw:
            self.rerender()


def _heading(text: str, hint: str = "") -> None:
    ui.label(text).classes("text-sm font-semibold text-gray-700 mt-2")
    if hint:
        ui.label(hint).classes("text-xs text-gray-500")


# --- Hours ----------------------------------------------------------------------------------------

def _split_range(text: str) -> tuple[str, str]:
    start, _, end = str(text).partition("-")
    return start.strip(), end.strip()


def day_mode(ranges: list[str]) -> str:
    """How the week grid shows a day: closed, all day, or hours (its ranges)."""
    if not ranges:
        return "closed"
    return "all" if ranges == [ALL_DAY] else "hours"


class HoursPanel(_Panel):
    """Week grid, closed dates, time zone and what the step decides now."""

    def schedule(self) -> dict[str, list[str]]:
        week = self.data.get("open") if isinstance(self.data.get("open"), dict) else {}
        return {day: [str(r) for r in week.get(day) or [] if isinstance(r, str)] for day in DAYS}

    def build(self) -> None:
        self._now_line()
        self._zone_picker()
        self._week_grid()
        self._closed_dates()

    def _now_line(self) -> None:
        zone = self.state.graph.graph.get("timezone")
        decided, reason = services.hours_now(self.state.ctx, self.state.flow_id, self.node, self.data,
                                             zone if isinstance(zone, str) else None)
        colour = "text-positive" if decided == "open" else "text-negative"
        ui.label(f"Calls now: {reason}").classes(f"text-sm font-medium {colour} mt-1") \
            .mark("hours-now")

    def _zone_picker(self) -> None:
        own = self.data.get("timezone") if isinstance(self.data.get("timezone"), str) else ""
        flow_zone = self.state.graph.graph.get("timezone")
        fallback, whose = ((flow_zone, "the flow's") if isinstance(flow_zone, str) and flow_zone in timezones()
                           else (machine_zone(), "this machine's"))
        shown = f"Time zone: {own} (this step's own)" if own else f"Time zone: {fallback} ({whose})"
        ui.label(shown).classes("text-sm text-gray-700 mt-2").mark("hours-zone-line")
        options = {"": f"Same as {whose} ({fallback})", **{z: z for z in sorted(timezones())}}
        if own and own not in options:
            options[own] = f"{own} (not a time zone)"
        ui.select(options, value=own, with_input=True, label="Change the time zone (type to search)",
                  on_change=lambda e: self.save("timezone", e.value or None, redraw=True)) \
            .classes("w-full").props("dense options-dense data-field=timezone").mark("hours-zone")

    def _week_grid(self) -> None:
        _heading("Opening hours", "A range that ends before it starts runs past midnight (e.g. 22:00-02:00).")
        week = self.schedule()

        def store(redraw: bool = True) -> None:
            self.save("open", {day: list(week[day]) for day in DAYS}, redraw=redraw)

        with ui.column().classes("w-full gap-1").mark("hours-week"):
            for day in DAYS:
                self._day_row(day, week, store)
        ui.button("Copy Monday to weekdays", icon="content_copy",
                  on_click=lambda: ([week.__setitem__(d, list(week["mon"])) for d in WEEKDAYS], store())) \
            .props("flat dense no-caps size=sm").mark("hours-copy-monday")

    def _day_row(self, day: str, week: dict[str, list[str]], store: Callable[..., None]) -> None:
        ranges = week[day]
        # the day and its mode on one line, its hours below (a narrow panel keeps them readable)
        with ui.column().classes("w-full gap-0 border-b border-gray-100 pb-1"):
            with ui.row().classes("w-full items-center no-wrap gap-1"):
                ui.label(DAY_NAMES[day][:3]).classes("w-9 text-sm font-medium")

                def set_mode(e: Any) -> None:
                    week[day] = {"closed": [], "all": [ALL_DAY]}.get(e.value, ["09:00-17:00"])
                    store()
                ui.select(DAY_MODES, value=day_mode(ranges), on_change=set_mode) \
                    .classes("w-24").props(f"dense options-dense data-field=hours-{day}").mark(f"hours-{day}")
            if day_mode(ranges) != "hours":
                return
            with ui.column().classes("gap-0 w-full pl-9"):
                for i, text in enumerate(ranges):
                    self._range_row(day, i, text, week, store)
                ui.button("Add hours", icon="add",
                          on_click=lambda: (week[day].append("13:00-17:00"), store())) \
                    .props("flat dense no-caps size=xs").mark(f"hours-{day}-add")

    def _range_row(self, day: str, i: int, text: str, week: dict[str, list[str]],
                   store: Callable[..., None]) -> None:
        start, end = _split_range(text)
        with ui.row().classes("items-center gap-x-1 gap-y-0"):  # wraps in a narrow panel
            def changed(which: int, value: str | None) -> None:
                parts = list(_split_range(week[day][i]))
                parts[which] = (value or "").strip()
                week[day][i] = f"{parts[0]}-{parts[1]}"
                store(redraw=False)
            ui.input(value=start, on_change=lambda e: changed(0, e.value)) \
                .props(f"dense type=time data-field=hours-{day}-{i}-from").classes("w-[6.25rem]") \
                .mark(f"hours-{day}-{i}-from")
            ui.label("to").classes("text-xs text-gray-500")
            # a time field cannot hold 24:00, so "midnight" is a box of its own: the range ends as the day does
            until = ui.input(value="" if end == MIDNIGHT else end, on_change=lambda e: changed(1, e.value)) \
                .props(f"dense type=time data-field=hours-{day}-{i}-to").classes("w-[6.25rem]") \
                .mark(f"hours-{day}-{i}-to")
            until.set_visibility(end != MIDNIGHT)

            def to_midnight(e: Any) -> None:
                until.set_visibility(not e.value)
                if not e.value:
                    until.value = "17:00"  # back to a time of day, to change as needed
                changed(1, MIDNIGHT if e.value else "17:00")
            ui.checkbox("midnight", value=end == MIDNIGHT, on_change=to_midnight) \
                .props(f"dense size=xs data-field=hours-{day}-{i}-midnight").classes("text-xs") \
                .tooltip("The hours run until the end of the day (24:00)").mark(f"hours-{day}-{i}-midnight")

            def remove() -> None:
                del week[day][i]
                store()
            ui.button(icon="close", on_click=remove).props("flat dense round size=xs") \
                .tooltip("Remove these hours").mark(f"hours-{day}-{i}-remove")

    def _closed_dates(self) -> None:
        _heading("Closed dates (holidays)", "Closed all day on these dates, whatever the week says.")
        dates = [str(d) for d in self.data.get("closed_dates") or [] if isinstance(d, str)]
        with ui.column().classes("w-full gap-0").mark("hours-dates"):
            for i, text in enumerate(dates):
                with ui.row().classes("items-center no-wrap gap-1"):
                    shown = f"{text} (every year)" if len(text) == 5 else text
                    ui.label(shown).classes("text-sm grow").mark(f"hours-date-{i}")

                    def remove(i: int = i) -> None:
                        del dates[i]
                        self.save("closed_dates", list(dates), redraw=True)
                    ui.button(icon="close", on_click=remove).props("flat dense round size=xs") \
                        .tooltip("Remove this date").mark(f"hours-date-{i}-remove")
            if not dates:
                ui.label("No closed dates.").classes("text-xs text-gray-500")
        with ui.row().classes("items-center no-wrap gap-1"):
            picked = ui.input("Date").props("dense type=date stack-label data-field=hours-date-new") \
                .classes("w-36").mark("hours-date-new")
            yearly = ui.checkbox("every year").props("dense").classes("text-sm").mark("hours-date-yearly")

            def add() -> None:
                value = (picked.value or "").strip()
                if not value:
                    ui.notify("Choose a date first", type="info")
                    return
                value = value[5:] if yearly.value else value
                if value in dates:
                    ui.notify(f"{value} is already a closed date", type="info")
                    return
                dates.append(value)
                self.save("closed_dates", sorted(dates), redraw=True)
            ui.button("Add", icon="add", on_click=add).props("flat dense no-caps size=sm").mark("hours-date-add")


# --- Split ----------------------------------------------------------------------------------------

def value_choices(state: EditorState) -> dict[str, str]:
    """What a Split can test, in plain words: call details, then values Set steps remember."""
    choices = {text: label for label, text in CALL_DETAILS}
    for name in remembered_names(data for _, data in state.graph.nodes(data=True)):
        choices[f"{{{{ {name} }}}}"] = f"the remembered value {name}"
    return choices


def subject_of(value: str, choices: dict[str, str]) -> str:
    """The words a case's sentence starts with."""
    return choices.get(value.strip(), f"“{value.strip()}”" if value.strip() else "the value")


def _values_text(values: Any) -> str:
    return ", ".join(str(v) for v in values) if isinstance(values, list) else ""


def _values_of(text: str) -> list[str]:
    return [v.strip() for v in (text or "").split(",") if v.strip()]


class SplitPanel(_Panel):
    """The value to test and the cases, as sentences; first match wins, else ``else``."""

    def cases(self) -> list[dict]:
        return [dict(c) for c in self.data.get("cases") or [] if isinstance(c, dict)]

    def build(self) -> None:
        choices = value_choices(self.state)
        value = str(self.data.get("value") or "")
        _heading("What to look at")
        picked = value.strip() if value.strip() in choices else CUSTOM
        ui.select({**choices, CUSTOM: "custom text…"}, value=picked,
                  on_change=lambda e: e.value != CUSTOM and self.save("value", e.value, redraw=True)) \
            .classes("w-full").props("dense data-field=split-value").mark("split-value")
        if picked == CUSTOM:
            ui.input("Custom text", value=value, placeholder="{{ language }}",
                     on_change=lambda e: self.save("value", e.value or "")) \
                .classes("w-full").props("dense data-field=split-custom").mark("split-custom")
        subject = subject_of(value, choices)
        _heading("Cases", "The first case that holds picks its output; later cases are not looked at.")
        cases = self.cases()
        with ui.column().classes("w-full gap-2").mark("split-cases"):
            for i, case in enumerate(cases):
                self._case(i, case, cases, subject)
            with ui.row().classes("items-center gap-1 text-sm text-gray-700").mark("split-else"):
                ui.icon("subdirectory_arrow_right", size="16px")
                ui.label(f"Otherwise → output “{ELSE}”")
        ui.button("Add case", icon="add", on_click=lambda: self._add(cases)) \
            .props("flat dense no-caps size=sm").mark("split-add")

    def _store(self, cases: list[dict], redraw: bool = True) -> None:
        self.save("cases", [dict(c) for c in cases], redraw=redraw)

    def _add(self, cases: list[dict]) -> None:
        taken = {c.get("branch") for c in cases}
        n = next(k for k in range(1, len(cases) + 2) if f"case-{k}" not in taken)
        cases.append({"branch": f"case-{n}", "equals": []})
        self._store(cases)

    def _case(self, i: int, case: dict, cases: list[dict], subject: str) -> None:
        test = case_test(case) or "equals"
        with ui.card().classes("w-full p-2 gap-1").props("flat bordered").mark(f"split-case-{i}"):
            with ui.row().classes("w-full items-center no-wrap gap-1"):
                ui.label(f"{i + 1}. If {subject}").classes("text-sm")
                ui.space()
                ui.button(icon="arrow_upward", on_click=lambda: self._move(cases, i, -1)) \
                    .props("flat dense round size=xs").tooltip("Look at it earlier").mark(f"split-case-{i}-up")
                ui.button(icon="arrow_downward", on_click=lambda: self._move(cases, i, 1)) \
                    .props("flat dense round size=xs").tooltip("Look at it later").mark(f"split-case-{i}-down")
                ui.button(icon="close", on_click=lambda: (cases.pop(i), self._store(cases))) \
                    .props("flat dense round size=xs").tooltip("Remove this case").mark(f"split-case-{i}-remove")

            def set_test(e: Any) -> None:
                old = case_test(case)
                kept = case.pop(old) if old else []
                case[e.value] = True if e.value == "empty" else (["", ""] if e.value == "between" else
                                                                 (kept if isinstance(kept, list) and
                                                                  old != "between" else []))
                self._store(cases)
            ui.select({t: SPLIT_TEST_LABELS[t] for t in SPLIT_TESTS}, value=test, on_change=set_test) \
                .classes("w-full").props(f"dense options-dense data-field=split-case-{i}-test") \
                .mark(f"split-case-{i}-test")
            if test == "between":
                self._between(i, case, cases)
            elif test != "empty":
                def set_values(e: Any) -> None:
                    case[test] = _values_of(e.value)
                    self._store(cases, redraw=False)
                    sentence.text = describe_case(case, subject)
                ui.input("Any of (separate with commas)", value=_values_text(case.get(test)),
                         on_change=set_values) \
                    .classes("w-full").props(f"dense data-field=split-case-{i}-values") \
                    .mark(f"split-case-{i}-values")

            connected = [str(case.get("branch") or "")]  # the name its connection is under

            def set_branch(e: Any) -> None:
                case["branch"] = (e.value or "").strip().lower()
                if self.state.set_cases(self.node, [dict(c) for c in cases], (connected[0], case["branch"])):
                    connected[0] = case["branch"]
            ui.input("Then take the output", value=str(case.get("branch") or ""), on_change=set_branch) \
                .classes("w-full").props(f"dense data-field=split-case-{i}-branch") \
                .mark(f"split-case-{i}-branch")
            sentence = ui.label(describe_case(case, subject)).classes("text-xs text-gray-600 italic") \
                .mark(f"split-case-{i}-sentence")

    def _between(self, i: int, case: dict, cases: list[dict]) -> None:
        bounds = list(case.get("between") or ["", ""])[:2] + ["", ""]
        with ui.row().classes("items-center no-wrap gap-1"):
            def set_bound(which: int, value: Any) -> None:
                bounds[which] = "" if value is None else (str(int(value)) if float(value).is_integer()
                                                          else str(value))
                case["between"] = bounds[:2]
                self._store(cases, redraw=False)
            for which, word in ((0, "from"), (1, "to")):
                ui.number(word, value=_float_or_none(bounds[which]),
                          on_change=lambda e, w=which: set_bound(w, e.value)) \
                    .classes("w-28").props(f"dense data-field=split-case-{i}-{word}") \
                    .mark(f"split-case-{i}-{word}")

    def _move(self, cases: list[dict], i: int, by: int) -> None:
        j = i + by
        if 0 <= j < len(cases):
            cases[i], cases[j] = cases[j], cases[i]
            self._store(cases)


def _float_or_none(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# --- Set ------------------------------------------------------------------------------------------

class SetPanel(_Panel):
    """Name / value rows; each value may take a call detail."""

    def build(self) -> None:
        names = self.data.get("vars") if isinstance(self.data.get("vars"), dict) else {}
        rows = [[str(k), str(v)] for k, v in names.items()]
        _heading("Values to remember", "Later steps read a value as {{ name }}: in text, splits and texts sent.")

        def store(redraw: bool = False) -> None:
            kept: dict[str, str] = {}
            for name, value in rows:
                if name.strip():
                    kept.setdefault(name.strip(), value)
            self.save("vars", kept, redraw=redraw)

        with ui.column().classes("w-full gap-1").mark("set-rows"):
            for i, row in enumerate(rows):
                self._row(i, row, rows, store)
        ui.button("Add a value", icon="add",
                  on_click=lambda: (rows.append([_free_name(rows), ""]), store(True))) \
            .props("flat dense no-caps size=sm").mark("set-add")

    def _row(self, i: int, row: list[str], rows: list[list[str]], store: Callable[..., None]) -> None:
        with ui.row().classes("w-full items-center no-wrap gap-1"):
            def set_name(e: Any) -> None:
                row[0] = (e.value or "").strip()
                store()
            ui.input("Name", value=row[0], on_change=set_name).classes("w-28") \
                .props(f"dense data-field=set-{i}-name").mark(f"set-{i}-name")

            def set_value(e: Any) -> None:
                row[1] = e.value or ""
                store()
            value = ui.input("Value", value=row[1], on_change=set_value).classes("grow") \
                .props(f"dense data-field=set-{i}-value").mark(f"set-{i}-value")
            with ui.button(icon="data_object").props("flat dense round size=sm") \
                    .tooltip("Insert a call detail").mark(f"set-{i}-insert"):
                with ui.menu():
                    for label, text in CALL_DETAILS:
                        ui.menu_item(label.capitalize(),
                                     lambda t=text: value.set_value(f"{value.value or ''}{t}")) \
                            .mark(f"set-{i}-insert-{text.strip('{} ')}")

            def remove() -> None:
                del rows[i]
                store(True)
            ui.button(icon="close", on_click=remove).props("flat dense round size=xs") \
                .tooltip("Forget this value").mark(f"set-{i}-remove")


def _free_name(rows: list[list[str]]) -> str:
    taken = {name for name, _ in rows}
    return next(f"value{k}" for k in range(1, len(rows) + 2) if f"value{k}" not in taken)


# --- the live preview of a decision ---------------------------------------------------------------

def case_titles(state: EditorState, node: str) -> dict[str, str]:
    """Each output of a decision step as the preview titles it: "When open", "When the caller's number …"."""
    data = state.graph.nodes[node]
    titles = {branch: f"When {branch_label(branch)}" for branch in branches_of(data)}
    spec = step_of(data)
    if spec is not None and spec.outcome_branch:
        titles = {b: "When not answered" if b == spec.outcome_branch else "When answered" for b in titles}
    elif spec is not None and spec.decides == "set":
        titles = {b: "Then, with the values remembered" for b in titles}
    if isinstance(data.get("cases"), list):
        subject = subject_of(str(data.get("value") or ""), value_choices(state))
        for case in data["cases"]:
            if isinstance(case, dict) and isinstance(case.get("branch"), str):
                titles[case["branch"]] = f"When {describe_case(case, subject)}"
        titles[ELSE] = "Otherwise (else)"
    return titles


def decision_previews(state: EditorState, node: str | None) -> list[tuple[str, str | None]]:
    """For a selected step the host decides: (title, FlexML the host goes on with, None: the call ends) per
    output, in the step's order; empty for other steps or while the flow does not compile."""
    if node is None or node not in state.graph:
        return []
    try:
        compiled = compile_flow(state.graph, revision="draft", problems=[])
    except Exception:  # the Problems tab says why; the plain preview shows the message
        return []
    decision = compiled.decisions.get(node)
    if decision is None:
        return []
    titles = case_titles(state, node)
    return [(titles.get(branch, branch), None if doc is None else compiled.documents[doc].decode("utf-8"))
            for branch, doc in decision.branches.items()]


def show_decision_previews(container: ui.element, state: EditorState, node: str | None) -> None:
    """Fill ``container`` with one preview per output of the selected decision step."""
    container.clear()
    previews = decision_previews(state, node)
    with container:
        if previews:
            ui.label("The host decides while it answers; in each case it goes on with:") \
                .classes("text-sm font-medium text-gray-700 mt-2")
        for i, (title, xml) in enumerate(previews):
            ui.label(title).classes("text-sm font-semibold mt-2").mark(f"preview-case-{i}")
            if xml is None:
                ui.label("The call ends here.").classes("text-xs text-gray-500")
            else:
                ui.code(xml, language="xml").classes("w-full text-xs")
