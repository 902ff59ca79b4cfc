"""The step reference (docs/steps.md), rendered from the step catalogue.

    python -m compiler.docs > docs/steps.md

The catalogue's dataclasses are read generically: every field of ``Step`` and
``Attr`` is shown, those without a plain phrasing below as ``field: value``, so a
field added to the catalogue appears here without changing this module.
tests/test_docs.py fails when docs/steps.md is not what this renders.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import MISSING, Field, fields
from typing import Any

from compiler.catalogue import CALL_VARIABLES, NUMBER_VARIABLES, PALETTE_ORDER, STEPS, Attr, Step

COMMAND = "python -m compiler.docs > docs/steps.md"

KINDS: dict[str, str] = {
    "int": "a whole number",
    "bool": "true or false",
    "enum": "one of the listed choices",
    "key": "one phone key: 0-9, * or #",
    "keys": "one or more phone keys, or the word `none`",
    "url": "an absolute http(s) URL or a path",
    "phone": "a phone number in E.164 form",
    "string": "free text",
}
TEXT_KINDS: dict[str, str] = {"speech": "the text spoken", "url": "the URL", "message": "the message texted"}
BRANCH_NAMES: dict[str, str] = {"next": "next", "timeout": "no input", "invalid": "invalid", "error": "error"}

# Attr fields shown in their own column; the rest go to "notes"
ATTR_COLUMNS = ("name", "label", "kind", "minimum", "maximum", "default", "choices", "help")
ATTR_NOTES: dict[str, str] = {
    "managed": "set by the compiler from the step's connections",
    "call_number": "may also be " + ", ".join(f"`{{{{ {v} }}}}`" for v in NUMBER_VARIABLES),
}
# Step fields shown in the heading, the tables or the outputs line; the rest go to the list of facts
STEP_SHOWN = ("type", "label", "icon", "help", "attrs", "extra_fields", "branches", "digit_branches", "terminal")
STEP_FACTS: dict[str, str] = {
    "designer_only": "A designer step, not a FlexML verb: the compiler writes it as FlexML.",
    "can_template": "The content may use [call variables](call-variables.md), e.g. `{{ From }}`.",
}


def render_steps(steps: Mapping[str, Step] = STEPS, order: Iterable[str] = PALETTE_ORDER) -> str:
    """docs/steps.md: a summary table, then each step's content, outputs, attributes and designer fields."""
    ordered = [steps[t] for t in order if t in steps] + [s for t, s in steps.items() if t not in tuple(order)]
    lines = [
        f"<!-- Generated from compiler/catalogue.py by `{COMMAND}`; do not edit by hand. -->",
        "",
        "# Steps",
        "",
        "Every step of the designer's palette, as the step catalogue (`compiler/catalogue.py`) defines it:",
        "validation, the palette, the property forms and the importer all read the same table.",
        "In a [flow file](flow-format.md) a step's `type` is the name in brackets and its attributes",
        "are under `attrs`; designer fields sit beside them on the step.",
        "",
        "| step | type | outputs | what it does |",
        "|---|---|---|---|",
    ]
    lines += [f"| [{_cell(s.label)}](#{_anchor(s)}) | `{s.type}` | {_cell(_outputs(s))} | {_cell(s.help)} |"
              for s in ordered]
    lines += ["", "Attribute kinds: " + "; ".join(f"**{k}** {v}" for k, v in KINDS.items()) + "."]
    for spec in ordered:
        lines += ["", *_step_section(spec)]
    lines += ["", "## Call variables", "",
              "Text that may use call variables can name these fields of the call: "
              + ", ".join(f"`{v}`" for v in CALL_VARIABLES) + ".", ""]
    return "\n".join(lines)


def _step_section(spec: Step) -> list[str]:
    lines = [f"## {spec.label} (`{spec.type}`)", "", spec.help, "", f"Outputs: {_outputs(spec)}."]
    facts = list(_step_facts(spec))
    if facts:
        lines += [""] + [f"- {fact}" for fact in facts]
    if spec.attrs:
        lines += ["", "Attributes:", "", *_attr_table(spec.attrs, "attribute")]
    if spec.extra_fields:
        lines += ["", "Designer fields (kept on the step beside its attributes):", "",
                  *_attr_table(spec.extra_fields, "field")]
    return lines


def _outputs(spec: Step) -> str:
    names = ["one per menu option (a key such as `1`)"] if spec.digit_branches else []
    names += [f"`{b}` ({BRANCH_NAMES[b]})" if BRANCH_NAMES.get(b, b) != b else f"`{b}`" for b in spec.branches]
    if not names:
        return "none (a path ends here)"
    return ", ".join(names)


def _step_facts(spec: Step) -> Iterable[str]:
    """A sentence for each Step field not shown elsewhere whose value differs from the field's default."""
    for f in fields(spec):
        value = getattr(spec, f.name)
        if f.name in STEP_SHOWN or _is_default(f, value):
            continue
        if f.name == "text":
            required = ", required" if spec.text_required else ""
            limit = f", at most {spec.text_max:,} characters" if spec.text_max else ""
            yield f"Content (`text`{required}): {TEXT_KINDS.get(value, value)}{limit}."
        elif f.name in ("text_required", "text_max") and spec.text:
            continue  # said with the content
        elif f.name == "children":
            yield "Its prompt may hold: " + ", ".join(f"`{c}`" for c in value) + " (under `prompt`)."
        elif f.name == "child_element":
            yield f"Its numbers (`numbers`) become `<{value}>` elements."
        elif f.name in STEP_FACTS:
            yield STEP_FACTS[f.name]
        else:
            yield f"`{f.name}`: {_value(value)}"


def _attr_table(attrs: Iterable[Attr], what: str) -> list[str]:
    rows = [f"| {what} | label | kind | range | default | choices | notes | help |",
            "|---|---|---|---|---|---|---|---|"]
    for a in attrs:
        notes = [ATTR_NOTES.get(f.name) or f"{f.name}: {_value(getattr(a, f.name))}"
                 for f in fields(a) if f.name not in ATTR_COLUMNS and not _is_default(f, getattr(a, f.name))]
        cells = [f"`{a.name}`", a.label, a.kind, a.describe_range(), _value(a.default) if a.default is not None else "",
                 ", ".join(f"`{c}`" for c in a.choices), "; ".join(notes), a.help]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return rows


def _is_default(f: Field, value: Any) -> bool:
    if f.default is not MISSING:
        return value == f.default
    if f.default_factory is not MISSING:
        return value == f.default_factory()
    return False


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, int):
        return f"`{value}`"
    if isinstance(value, str):
        return f"`{value}`" if value and "`" not in value else repr(value)
    if isinstance(value, (tuple, list)):
        return ", ".join(_value(v) for v in value)
    return f"`{value!r}`"


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _anchor(spec: Step) -> str:
    """GitHub's anchor for the step's heading, ``## Speak text (`Say`)`` → ``speak-text-say``."""
    heading = f"{spec.label} ({spec.type})".lower()
    return "".join(c for c in heading.replace(" ", "-") if c.isalnum() or c in "-_")


def main() -> None:
    sys.stdout.buffer.write(render_steps().encode("utf-8"))


if __name__ == "__main__":
    main()
