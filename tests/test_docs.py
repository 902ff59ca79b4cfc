"""The docs are checked: docs/steps.md is what the catalogue renders, and every step and setting is in it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from compiler.catalogue import STEPS, Attr, Step
from compiler.docs import COMMAND, render_steps

ROOT = Path(__file__).resolve().parents[1]
STEPS_MD = ROOT / "docs" / "steps.md"


def test_the_step_reference_is_up_to_date():
    assert STEPS_MD.read_text(encoding="utf-8") == render_steps(), (
        f"docs/steps.md is out of date with compiler/catalogue.py: regenerate it with `{COMMAND}` "
        "(from the project folder, with .venv/bin/python)")


def test_the_command_prints_the_reference():
    done = subprocess.run([sys.executable, "-m", "compiler.docs"], cwd=ROOT, capture_output=True, check=True)
    assert done.stdout.decode("utf-8") == render_steps()


def sections(markdown: str) -> dict[str, str]:
    """Step type → the text of its ``## Label (`Type`)`` section."""
    out = {}
    for chunk in markdown.split("\n## ")[1:]:
        heading, _, body = chunk.partition("\n")
        if heading.endswith("`)"):
            out[heading.rsplit("(`", 1)[1][:-2]] = heading + "\n" + body
    return out


def test_every_step_its_settings_and_outputs_are_documented():
    found = sections(render_steps())
    assert set(found) == set(STEPS)
    for type_, spec in STEPS.items():
        text = found[type_]
        assert spec.label in text and spec.help in text
        for branch in spec.branches:
            assert f"`{branch}`" in text.split("Outputs:", 1)[1].split("\n", 1)[0], (type_, branch)
        for attr in (*spec.attrs, *spec.extra_fields):
            row = next((line for line in text.splitlines() if line.startswith(f"| `{attr.name}` |")), None)
            assert row is not None, f"{type_}.{attr.name} is not in the reference"
            assert attr.kind in row and attr.help.replace("|", "\\|") in row and attr.describe_range() in row
            for choice in attr.choices:
                assert f"`{choice}`" in row


def test_the_menu_row_shows_range_default_and_choices():
    text = sections(render_steps())["Gather"]
    assert "| `finishOnKey` | Finish key | key |  | `#` | `0`, `1`," in text
    assert "| `retries` | Ask again after a wrong key (times) | int | from 0 to 5 | `2` |" in text
    assert "one per menu option" in text and "`timeout` (no input)" in text


@dataclass(frozen=True)
class FlaggedAttr(Attr):
    beta: bool = False


@dataclass(frozen=True)
class FlaggedStep(Step):
    channel: str = "voice"


def test_a_field_added_to_the_catalogue_appears_without_changing_the_generator():
    spec = FlaggedStep("Beep", "Beep", "music_note", "Beeps.", channel="video",
                       attrs=(FlaggedAttr("tone", "int", "Pitch in hertz.", minimum=100, beta=True, label="Tone"),
                              FlaggedAttr("volume", "int", "Loudness.", label="Volume")))
    text = render_steps({"Beep": spec}, order=())
    assert "- `channel`: `video`" in text
    tone = next(line for line in text.splitlines() if line.startswith("| `tone` |"))
    volume = next(line for line in text.splitlines() if line.startswith("| `volume` |"))
    assert "beta: `true`" in tone and "100 or more" in tone
    assert "beta" not in volume  # a field at its default says nothing
