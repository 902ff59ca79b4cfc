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

from compiler.catalogue import DTMF_KEYS, SAY, STEPS, Attr, Step, is_jump, step_of
from compiler.flow import edge_branches
from compiler.validate import DIGIT_BRANCH

from designer.ui.canvas import branch_label
from designer.ui.decision_panels import decision_panel
from designer.ui.editor_state import EditorState

# one-click values for a phone field that may name a call number (Send text's to/from)
CALL_NUMBER_CHOICES = (("The caller", "From"), ("The number called", "To"))


def _count(n: int, limit: int | None) -> str:
    return f"{n:,} / {limit:,}" if limit else f"{n:,} characters"


class PropertiesPanel:
    """Renders into ``container``; call ``render()`` when the selection or the flow changed under it."""

    def __init__(self, state: EditorState, container: ui.element) -> None:
        self.state = state
        self.container = container

    def render(self) -> None:
        self.container.clear()
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

    # --- nothing selected: the flow itself --------------------------------------------------

    def _flow_form(self) -> None:
        state = self.state
        graph = state.graph
        ui.label("Flow").classes("text-lg font-semibold")
        ui.input("Name", value=str(graph.graph.get("name") or state.name),
                 on_change=lambda e: state.rename(e.value or "")).classes("w-full") \
            .props("data-field=name").mark("field-name")
        ui.label(f"Id: {state.flow_id} (used in the host's URLs)").classes("text-xs text-gray-500")
        options = {n: f"{n} — {_step_label(graph.nodes[n])}" for n in graph.nodes if graph.nodes[n]}
        start = graph.graph.get("start")
        ui.select(options, label="Start step (where calls begin)", value=start if start in options else None,
                  on_change=lambda e: state.set_start(e.value)).classes("w-full") \
            .props("data-field=start").mark("field-start")
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
        for key, attr in fields:
            current = (data.get("attrs") or {}).get(attr.name) if key.startswith("attrs.") else data.get(attr.name)
            self._attr_field(node, key, attr, current)

        ui.separator().classes("my-2")
        ui.button("Delete step", icon="delete", color="negative",
                  on_click=lambda: state.delete([node])).props("flat dense no-caps")

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
            return
        def changed(e: Any) -> None:
            text = e.value or ""
            counter.text = _count(len(text), spec.text_max)
            over = spec.text_max is not None and len(text) > spec.text_max
            counter.classes(replace="text-xs self-end -mt-1 " + ("text-negative" if over else "text-gray-500"))
            state.set_field(node, "text", text)

        ui.textarea(label, value=value, on_change=changed).classes("w-full") \
            .props("rows=4 data-field=text").mark("field-text")
        counter = ui.label(_count(len(value), spec.text_max)).classes("text-xs self-end -mt-1 text-gray-500") \
            .props("data-field=text-count").mark("text-count")
        if spec.can_template:
            ui.label("You can use call details like {{ From }} in the text.").classes("text-xs text-gray-500")

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
        ui.label("E.164, like +15162065340; several numbers ring at once, the first to answer gets the call.") \
            .classes("text-xs text-gray-500")
        for i, number in enumerate(numbers):
            with ui.row().classes("items-center no-wrap gap-1 w-full"):
                def changed(e: Any, i: int = i) -> None:
                    numbers[i] = (e.value or "").strip()
                    state.set_field(node, "numbers", list(numbers))
                ui.input(value=number, placeholder="+15162065340", on_change=changed) \
                    .classes("flex-1").props(f"dense data-field=number-{i}").mark(f"field-number-{i}")

                def remove(i: int = i) -> None:
                    del numbers[i]
                    state.set_field(node, "numbers", list(numbers))
                    self.render()
                ui.button(icon="close", on_click=remove).props("flat dense round size=sm").tooltip("Remove number")

        def add() -> None:
            numbers.append("")
            state.set_field(node, "numbers", list(numbers))
            self.render()
        ui.button("Add number", icon="add", on_click=add) \
            .props("flat dense no-caps size=sm data-field=add-number").mark("add-number")

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
        else:
            placeholder = "" if default is None else str(default)
            if attr.kind == "phone" and not placeholder:
                placeholder = "+15162065340 or {{ From }}" if attr.call_number else "+15162065340"
            field = ui.input(attr.label, value="" if current is None else str(current), placeholder=placeholder,
                             on_change=lambda e: set_value((e.value or "").strip() or None)) \
                .classes("w-full").props(f"dense stack-label {prop}").mark(f"field-{key}")
            if attr.call_number:
                with ui.row().classes("gap-1 -mt-1"):
                    for label, variable in CALL_NUMBER_CHOICES:
                        ui.button(label, on_click=lambda _, v=variable, f=field: f.set_value(f"{{{{ {v} }}}}")) \
                            .props("flat dense no-caps size=sm color=primary").mark(f"{key}-is-{variable}")
        ui.label(f"{attr.help} ({attr.name})").classes("text-xs text-gray-500 -mt-1 mb-1")


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _step_label(data: dict) -> str:
    spec = STEPS.get(data.get("type", ""))
    return spec.label if spec else str(data.get("type"))
