"""The properties panel: a form for the selected step, generated from the step catalogue.

Each attribute gets the input its kind calls for (numbers within their range,
selects for allowed values, switches for booleans, text otherwise), its default
as a placeholder and its line of help. Attributes the compiler manages
(action URLs and methods) are not shown. With nothing selected, the panel
shows the flow's own settings (name, start step).
"""

from __future__ import annotations

from typing import Any

from nicegui import events, ui

from compiler.catalogue import CALL_DETAIL_LABELS, DTMF_KEYS, NUMBER_LABELS, SAY, STEPS, Attr, Step, is_jump, step_of
from compiler.flow import edge_branches
from compiler.phones import formatted, read_e164
from compiler.decisions import machine_zone, remembered_names, timezones
from compiler.templating import number_variable
from compiler.validate import DIGIT_BRANCH, Problem

from designer import services
from designer.ui.canvas import branch_label
from designer.ui.decision_panels import decision_panel
from designer.ui.editor_state import EditorState
from designer.ui.island import Island

ANOTHER_NUMBER = "another"  # the "another number" choice of a call-number field


def field_problem(problems: list[Problem], node: str, key: str) -> Problem | None:
    """The problem (errors first) validation finds with one field of a step: ``key`` or a part of it."""
    found = [p for p in problems if p.node == node and (p.field == key or p.field.startswith(key + "."))]
    found.sort(key=lambda p: not p.is_error)
    return found[0] if found else None


def _count(n: int, limit: int | None) -> str:
    return f"{n:,} / {limit:,}" if limit else f"{n:,} characters"


class PropertiesPanel:
    """Renders into ``container``; call ``render()`` when the selection or the flow changed under it."""

    def __init__(self, state: EditorState, container: ui.element) -> None:
        self.state = state
        self.container = container
        self.slots: dict[str, ui.label] = {}  # field key → the line under it that says what is wrong
        self.typed: dict[str, str] = {}  # field key → why the text just typed there is no phone number
        self.slot_node: str | None = None

    def show_problems(self) -> None:
        """Say, under each field of the step shown, what validation finds wrong with it (the Problems tab's words)."""
        node = self.slot_node
        problems = list(getattr(self.state, "problems", []) or [])
        for key, slot in list(self.slots.items()):
            if slot.is_deleted:
                continue
            found = field_problem(problems, node, key) if node is not None else None
            message = self.typed.get(key) or (found.message if found else "")
            warning = not self.typed.get(key) and found is not None and not found.is_error
            slot.text = message
            colour = "text-warning" if warning else "text-negative"
            slot.classes(replace=f"text-xs -mt-1 {colour}" + ("" if message else " hidden"))

    def _slot(self, key: str) -> ui.label:
        """The line under a field where its problem is shown (empty, and hidden by CSS, while it has none)."""
        with Island().classes("w-full"):  # its message changes as the user types: redrawn alone
            slot = ui.label("").classes("text-xs -mt-1 text-negative hidden").props(f'data-problem="{key}"') \
                .mark(f"problem-{key}")
        self.slots[key] = slot
        return slot

    def render(self) -> None:
        self.container.clear()
        self.slots = {}
        self.typed = {}
        self.slot_node = self.state.selected
        with self.container:
            state = self.state
            node = state.selected
            if node is not None and node in state.graph:
                self._step_form(node)
            elif len(state.selection) > 1:
                self._many(state.selection)
            elif len(state.selected_edges) == 1 and not state.selection:
                self._edge(*state.selected_edges[0])
            else:
                self._flow_form()
        self.show_problems()

    # --- nothing selected: the flow itself --------------------------------------------------

    def _start_options(self, nodes: Any) -> dict[str, str]:
        graph = self.state.graph
        return {n: f"{n} — {_step_label(graph.nodes[n])}" for n in nodes if n in graph and graph.nodes[n]}

    def _flow_form(self) -> None:
        state = self.state
        graph = state.graph
        ui.label("Flow").classes("text-lg font-semibold")
        ui.input("Name", value=str(graph.graph.get("name") or state.name),
                 on_change=lambda e: state.rename(e.value or "")).classes("w-full") \
            .props("data-field=name").mark("field-name")
        ui.label(f"Id: {state.flow_id} (used in the host's URLs)").classes("text-xs text-gray-500")
        start = graph.graph.get("start")
        # only the start step until the list is opened: a large flow's page stays small (like the search box)
        start = start if isinstance(start, str) and start in graph and graph.nodes[start] else None
        select = ui.select(self._start_options([start] if start else []), label="Start step (where calls begin)",
                           value=start, on_change=lambda e: state.set_start(e.value)).classes("w-full") \
            .props("data-field=start").mark("field-start")
        select.on("focus", lambda: select.set_options(self._start_options(graph.nodes), value=select.value))
        zone = graph.graph.get("timezone") if isinstance(graph.graph.get("timezone"), str) else ""
        # the 600 zones are listed when the box is focused (like the start step): every page stays small
        zones = ui.select(_zone_options(zone, every=False), value=zone, with_input=True,
                          label="Time zone of business hours (type to search)",
                          on_change=lambda e: state.set_timezone(e.value or None)).classes("w-full") \
            .props("dense options-dense data-field=flow-timezone").mark("field-flow-timezone")
        zones.on("focus", lambda: zones.set_options(_zone_options(zones.value or "", every=True), value=zones.value))
        ui.label("Business-hours steps without a time zone of their own decide in it.") \
            .classes("text-xs text-gray-500")
        ui.label(f"{graph.number_of_nodes()} steps, {graph.number_of_edges()} connections").classes(
            "text-xs text-gray-500")
        with ui.column().classes("gap-1 mt-4 text-sm text-gray-600"):
            ui.label("How to build a flow:").classes("font-semibold")
            ui.label("• Drag a step from the left onto the canvas (or click it).")
            ui.label("• Drag from a step's output dot (right side) to another step to connect them.")
            ui.label("• Click a step to edit it here. Delete removes what is selected.")

    def _many(self, nodes: list[str]) -> None:
        ui.label(f"{len(nodes)} steps selected").classes("text-lg font-semibold")
        with ui.row():
            ui.button("Copy", icon="content_copy", on_click=lambda: self.state.copy()).props("flat no-caps")
            ui.button("Delete", icon="delete", color="negative",
                      on_click=lambda: self.state.delete_selection()).props("flat no-caps")

    def _edge(self, source: str, branch: str) -> None:
        target = dict((b, t) for _, t, d in self.state.graph.out_edges(source, data=True)
                      for b in edge_branches(d)).get(branch, "?")
        ui.label("Connection").classes("text-lg font-semibold")
        ui.label(f"{source} — {branch_label(branch)} → {target}")
        ui.button("Delete connection", icon="delete", color="negative",
                  on_click=lambda: self.state.delete(edges=[(source, branch)])).props("flat no-caps")

    # --- one step -------------------------------------------------------------------------------

    def _step_form(self, node: str) -> None:
        state = self.state
        data = state.graph.nodes[node]
        spec = STEPS.get(data.get("type", ""))
        if spec is None:
            ui.label(f"Step {node}: unknown type {data.get('type')!r}").classes("text-negative")
            ui.button("Delete step", icon="delete", color="negative",
                      on_click=lambda: state.delete([node])).props("flat no-caps")
            return
        with ui.row().classes("items-center gap-2 no-wrap"):
            ui.icon(spec.icon, size="sm").classes("text-gray-700")
            ui.label(spec.label).classes("text-lg font-semibold")
        ui.label(spec.help).classes("text-xs text-gray-600")
        self._id_field(node)
        if state.graph.graph.get("start") == node:
            ui.label("▶ Calls start here").classes("text-sm text-positive font-medium")
        else:
            ui.button("Make this the start step", icon="play_arrow",
                      on_click=lambda: (state.set_start(node), self.render())).props("flat dense no-caps")

        if spec.text is not None:
            self._text_field(node, spec, data)
        if spec.is_menu:
            self._prompt_editor(node, spec, data)
            self._options_editor(node, data)
        if spec.dials:
            self._numbers_editor(node, data)
        if spec.jumps:
            self._goto_target(node, data)
        if spec.decides:
            decision_panel(state, node, spec, self.render)

        fields = [(f"attrs.{a.name}", a) for a in spec.user_attrs]
        fields += [(a.name, a) for a in spec.extra_fields if a.name != "target" and not spec.decides]
        if fields:
            ui.separator().classes("my-2")
            ui.label("Settings").classes("text-sm font-semibold text-gray-700")

        def current(key: str, attr: Attr) -> Any:
            return (data.get("attrs") or {}).get(attr.name) if key.startswith("attrs.") else data.get(attr.name)

        for key, attr in fields:
            if not attr.advanced:
                self._attr_field(node, key, attr, current(key, attr))
        if spec.branches and not spec.is_menu and len(spec.branches) > 1:
            self._what_happens_after(node, spec)
        advanced = [(key, attr) for key, attr in fields if attr.advanced]
        if advanced:
            set_here = any(current(k, a) not in (None, "") for k, a in advanced)
            with ui.expansion("Advanced", icon="tune", value=set_here).classes("w-full") \
                    .props("dense data-field=advanced").mark("advanced"):
                for key, attr in advanced:
                    self._attr_field(node, key, attr, current(key, attr))

        ui.separator().classes("my-2")
        ui.button("Delete step", icon="delete", color="negative",
                  on_click=lambda: state.delete([node])).props("flat dense no-caps")

    def _what_happens_after(self, node: str, spec: Step) -> None:
        """Where the call goes after this step, per output (set by drawing connections)."""
        targets = {b: t for _, t, d in self.state.graph.out_edges(node, data=True) for b in edge_branches(d)}
        with ui.column().classes("gap-0 mt-1").mark("what-next"):
            ui.label("What happens after").classes("text-sm font-semibold text-gray-700")
            for branch in spec.branches:
                where = targets.get(branch)
                text = f"goes to {where}" if where else "not connected: draw a connection from this output"
                ui.label(f"{branch_label(branch).capitalize()}: {text}").classes("text-xs text-gray-600")

    def _id_field(self, node: str) -> None:
        """The step's id: it names the step's document in the host's URLs. Renamed on Enter or leaving."""
        field = ui.input("Step id", value=node).classes("w-full").props("dense data-field=id").mark("field-id")

        def rename(e: events.GenericEventArguments) -> None:
            # the typed value comes with the event: Enter can reach the server before the input's own update
            value = e.args if isinstance(e.args, str) else (field.value or "")
            if value.strip() == node or node not in self.state.graph:
                return
            why = self.state.rename_step(node, value)
            if why:
                ui.notify(f"Step id {value!r}: {why}", type="warning")
                field.value = node
        send_value = "(e) => emit(e.target.value)"
        field.on("keydown.enter", rename, js_handler=send_value)
        field.on("blur", rename, js_handler=send_value)

    def _text_field(self, node: str, spec: Step, data: dict) -> None:
        state = self.state
        label = spec.text_label
        value = data.get("text") if isinstance(data.get("text"), str) else ""
        if spec.text == "url":
            ui.input(label, value=value, placeholder="https://…",
                     on_change=lambda e: state.set_field(node, "text", e.value or "")) \
                .classes("w-full").props("stack-label data-field=text").mark("field-text")
            self._slot("text")
            return
        def changed(e: Any) -> None:
            text = e.value or ""
            counter.text = _count(len(text), spec.text_max)
            over = spec.text_max is not None and len(text) > spec.text_max
            counter.classes(replace="text-xs " + ("text-negative" if over else "text-gray-500"))
            state.set_field(node, "text", text)

        area = ui.textarea(label, value=value, on_change=changed).classes("w-full") \
            .props("rows=4 data-field=text").mark("field-text")
        with Island().classes("self-end -mt-1"):  # typing redraws the count alone, not the panel
            counter = ui.label(_count(len(value), spec.text_max)).classes("text-xs text-gray-500") \
                .props("data-field=text-count").mark("text-count")
        self._slot("text")
        if spec.can_template:
            self._call_detail_menu(area)

    def _call_detail_menu(self, area: ui.textarea) -> None:
        """"Insert a call detail": adds ``{{ From }}`` and the like to the text, chosen by what they mean."""
        def insert(variable: str) -> None:
            text = area.value or ""
            area.set_value(f"{text}{'' if not text or text.endswith(' ') else ' '}{{{{ {variable} }}}}")

        with ui.button("Insert a call detail", icon="data_object").props(
                "flat dense no-caps size=sm data-field=insert-detail").mark("insert-detail"):
            with ui.menu():
                for variable, words in CALL_DETAIL_LABELS.items():
                    ui.menu_item(words.capitalize(), lambda v=variable: insert(v)).mark(f"insert-{variable}")
        ui.label("The caller hears or receives the detail of their own call.").classes("text-xs text-gray-500")

    def _prompt_editor(self, node: str, menu: Step, data: dict) -> None:
        state = self.state
        prompt = [dict(p) for p in (data.get("prompt") or []) if isinstance(p, dict)]
        ui.label("What the caller hears (prompt)").classes("text-sm font-semibold text-gray-700 mt-2")

        def save(rerender: bool = False) -> None:
            state.set_field(node, "prompt", prompt)
            if rerender:
                self.render()

        for i, item in enumerate(prompt):
            with ui.row().classes("w-full items-start no-wrap gap-1"):
                def set_type(e: Any, item: dict = item) -> None:
                    item["type"] = e.value
                    item.pop("attrs", None)
                    save()
                ui.select({t: STEPS[t].label for t in menu.children}, value=item.get("type", menu.children[0]),
                          on_change=set_type).classes("w-28").props("dense")

                def set_text(e: Any, item: dict = item) -> None:
                    item["text"] = e.value or ""
                    save()
                plays = (step_of(item) or SAY).text == "url"
                placeholder = "https://…/prompt.mp3" if plays else "For sales, press 1."
                ui.textarea(value=str(item.get("text") or ""), placeholder=placeholder, on_change=set_text) \
                    .classes("flex-1").props(f"dense autogrow data-field=prompt-{i}") \
                    .mark(f"field-prompt-{i}")

                def remove(i: int = i) -> None:
                    del prompt[i]
                    save(rerender=True)
                ui.button(icon="close", on_click=remove).props("flat dense round size=sm").tooltip("Remove")
            self._slot(f"prompt[{i}]")
        with ui.row().classes("gap-1"):
            ui.button("Add speech", icon="add",
                      on_click=lambda: (prompt.append({"type": "Say", "text": ""}), save(True))) \
                .props("flat dense no-caps size=sm")
            ui.button("Add audio", icon="add",
                      on_click=lambda: (prompt.append({"type": "Play", "text": ""}), save(True))) \
                .props("flat dense no-caps size=sm")

    def _options_editor(self, node: str, data: dict) -> None:
        state = self.state
        options = [str(o) for o in data.get("options") or []]
        ui.label("Menu options (keys the caller presses)").classes("text-sm font-semibold text-gray-700 mt-2")
        ui.label("Each option becomes an output on the step; connect it to what should happen.") \
            .classes("text-xs text-gray-500")

        def check(value: str, i: int) -> str | None:
            if not DIGIT_BRANCH.match(value or ""):
                return "use keys 0-9, * or #"
            if value in options[:i] + options[i + 1:]:
                return "this option is already there"
            return None

        for i, option in enumerate(options):
            with ui.row().classes("items-center no-wrap gap-1"):
                def changed(e: Any, i: int = i) -> None:
                    value = (e.value or "").strip()
                    if check(value, i) is None:
                        options[i] = value
                        state.set_options(node, list(options))
                ui.input(value=option, on_change=changed,
                         validation=lambda v, i=i: check((v or "").strip(), i)) \
                    .classes("w-24").props(f"dense hide-bottom-space prefix=press data-field=option-{i}") \
                    .mark(f"field-option-{i}")

                def remove(i: int = i) -> None:
                    del options[i]
                    state.set_options(node, list(options))
                    self.render()
                ui.button(icon="close", on_click=remove).props("flat dense round size=sm").tooltip("Remove option")
            self._slot(f"options[{i}]")

        def add() -> None:
            free = next((k for k in "1234567890*#" if k not in options), None)
            if free is None:
                ui.notify("Every key already has an option", type="warning")
                return
            options.append(free)
            state.set_options(node, list(options))
            self.render()
        ui.button("Add option", icon="add", on_click=add) \
            .props("flat dense no-caps size=sm data-field=add-option").mark("add-option")

    def _numbers_editor(self, node: str, data: dict) -> None:
        state = self.state
        numbers = [str(n) for n in data.get("numbers") or []]
        ui.label("Phone numbers to call").classes("text-sm font-semibold text-gray-700 mt-2")
        ui.label("Like (516) 206-5340 or +1 516 206 5340; several numbers ring at once, the first to answer "
                 "gets the call.").classes("text-xs text-gray-500")
        self._slot("numbers")
        for i, number in enumerate(numbers):
            with ui.row().classes("items-center no-wrap gap-1 w-full"):
                def changed(value: str, i: int = i) -> None:
                    numbers[i] = value
                    state.set_field(node, "numbers", list(numbers))
                self._phone_input(f"numbers[{i}]", number, changed, "(516) 206-5340", f"number-{i}")

                def remove(i: int = i) -> None:
                    del numbers[i]
                    state.set_field(node, "numbers", list(numbers))
                    self.render()
                ui.button(icon="close", on_click=remove).props("flat dense round size=sm").tooltip("Remove number")
            self._slot(f"numbers[{i}]")

        def add() -> None:
            numbers.append("")
            state.set_field(node, "numbers", list(numbers))
            self.render()
        ui.button("Add number", icon="add", on_click=add) \
            .props("flat dense no-caps size=sm data-field=add-number").mark("add-number")

    def _phone_input(self, key: str, value: str, save: Any, placeholder: str, name: str,
                     label: str | None = None) -> ui.input:
        """A phone number field: read as typed (national forms in Settings' country), stored as E.164, shown
        formatted once the field is left; what cannot be a number is kept as typed and said why under it."""
        region = services.default_region(self.state.ctx)
        stored, _ = read_e164(value, None) if value else (None, None)
        field = ui.input(label, value=formatted(stored) if stored else value, placeholder=placeholder) \
            .classes("flex-1 w-full").props(f"dense stack-label data-field={name}").mark(f"field-{name}")

        def changed(e: Any) -> None:
            text = (e.value or "").strip()
            e164, why = read_e164(text, region) if text else (None, None)
            if text and e164 is None:
                self.typed[key] = why or ""
            else:
                self.typed.pop(key, None)
            save(e164 or text)
            self.show_problems()

        def left() -> None:
            e164, _ = read_e164(field.value or "", region)
            if e164 is not None and field.value != formatted(e164):
                field.set_value(formatted(e164))

        field.on_value_change(changed)
        field.on("blur", left)
        return field

    def _goto_target(self, node: str, data: dict) -> None:
        state = self.state
        graph = state.graph
        options = {n: f"{n} — {_step_label(graph.nodes[n])}" for n in graph.nodes
                   if n != node and graph.nodes[n] and not is_jump(graph.nodes[n])}
        target = data.get("target")
        ui.select(options, label="Go to step", value=target if target in options else None, with_input=True,
                  on_change=lambda e: state.set_field(node, "target", e.value or "")) \
            .classes("w-full").props("data-field=target").mark("field-target")
        ui.label("The call continues at that step, for example back at a menu.").classes("text-xs text-gray-500")

    def _attr_field(self, node: str, key: str, attr: Attr, current: Any) -> None:
        state = self.state
        default = attr.default

        def set_value(value: Any) -> None:
            state.set_field(node, key, value)

        prop = f"data-field={key}"
        if attr.kind == "int":
            def to_int(e: Any) -> None:
                set_value(None if e.value is None else int(e.value))
            ui.number(attr.label, value=_int_or_none(current), min=attr.minimum, max=attr.maximum, precision=0,
                      placeholder=None if default is None else str(default), on_change=to_int) \
                .classes("w-full").props(f"dense stack-label {prop}").mark(f"field-{key}")
        elif attr.kind == "bool":
            value = current if isinstance(current, bool) else (current == "true" if isinstance(current, str)
                                                                else bool(default))
            ui.switch(attr.label, value=value, on_change=lambda e: set_value(bool(e.value))) \
                .props(prop).mark(f"field-{key}")
        elif attr.kind in ("enum", "key"):
            choices = attr.choices or DTMF_KEYS
            blank = f"default ({default})" if default is not None else "not set"
            options = {"": blank, **{c: c for c in choices}}
            ui.select(options, label=attr.label, value=current if current in choices else "",
                      on_change=lambda e: set_value(e.value or None)) \
                .classes("w-full").props(f"dense {prop}").mark(f"field-{key}")
        elif attr.kind == "phone":
            self._phone_field(node, key, attr, "" if current is None else str(current))
        else:
            placeholder = "" if default is None else str(default)
            ui.input(attr.label, value="" if current is None else str(current), placeholder=placeholder,
                     on_change=lambda e: set_value((e.value or "").strip() or None)) \
                .classes("w-full").props(f"dense stack-label {prop}").mark(f"field-{key}")
        self._slot(key)
        ui.label(f"{attr.help} ({attr.name})").classes("text-xs text-gray-500 -mt-1 mb-1")

    def _phone_field(self, node: str, key: str, attr: Attr, current: str) -> None:
        """A phone attribute; one that may name a call number offers plain choices instead of {{ From }}."""
        state = self.state

        def save(value: str) -> None:
            state.set_field(node, key, value or None)

        if not attr.call_number:
            self._phone_input(key, current, save, "(516) 206-5340", key, attr.label)
            return
        remembered = remembered_names(data for _, data in state.graph.nodes(data=True))
        variable = number_variable(current, remembered)
        choices = {v: words.capitalize() for v, words in NUMBER_LABELS.items()}
        choices.update({name: f"The remembered value {name}" for name in remembered})
        if attr.empty_means in NUMBER_LABELS:
            choices[""] = f"{NUMBER_LABELS[attr.empty_means].capitalize()} (when left empty)"
        choices[ANOTHER_NUMBER] = "Another number"
        chosen = variable if variable in choices else ("" if not current and "" in choices else ANOTHER_NUMBER)
        def pick(e: Any) -> None:
            self.typed.pop(key, None)
            if e.value == ANOTHER_NUMBER:
                save("")
                draw_number("")
            else:
                save(f"{{{{ {e.value} }}}}" if e.value else "")
                holder.clear()
                self.show_problems()

        def draw_number(value: str) -> None:
            holder.clear()
            with holder:
                self._phone_input(key, value, save, "(516) 206-5340", f"{key}-number", "Phone number")

        ui.select(choices, label=attr.label, value=chosen, on_change=pick).classes("w-full") \
            .props(f"dense data-field={key}").mark(f"field-{key}")
        holder = ui.column().classes("w-full gap-0")
        if chosen == ANOTHER_NUMBER:
            draw_number(current)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _step_label(data: dict) -> str:
    spec = STEPS.get(data.get("type", ""))
    return spec.label if spec else str(data.get("type"))


def _zone_options(zone: str, every: bool) -> dict[str, str]:
    """The flow's time-zone choices: the machine's, then ``every`` IANA zone (else only ``zone``);
    a ``zone`` that is not one is kept, and says so."""
    options = {"": f"This machine's ({machine_zone()})"}
    known = timezones()
    options.update({z: z for z in sorted(known)} if every else {})
    if zone:
        options.setdefault(zone, zone if zone in known else f"{zone} (not a time zone)")
    return options
