"""The step catalogue is complete enough to drive forms, palette and docs for non-programmers."""

import pytest

from compiler.catalogue import PALETTE_ORDER, STEPS, VERBS


def test_every_verb_of_the_reference_and_goto():
    assert set(VERBS) == {"Say", "Play", "Pause", "Gather", "Dial", "Record", "Sms", "Redirect", "Reject",
                          "Hangup", "Override"}
    assert set(PALETTE_ORDER) == set(STEPS) and "Goto" in STEPS


@pytest.mark.parametrize("type_", sorted(STEPS))
def test_every_step_and_field_has_a_plain_name_and_help(type_):
    spec = STEPS[type_]
    assert spec.label and spec.icon and spec.help.endswith(".")
    for attr in (*spec.attrs, *spec.extra_fields):
        assert attr.help, (type_, attr.name)
        assert attr.label and attr.label != attr.name, (type_, attr.name)  # a plain name, not the XML one


def test_same_attribute_gets_a_label_that_fits_its_step():
    assert STEPS["Dial"].attr("timeout").label == "Ring for (seconds)"
    assert STEPS["Gather"].attr("timeout").label == "Wait for a key (seconds)"
