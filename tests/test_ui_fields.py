"""The properties panel says what is wrong next to each field, reads phone numbers one way and offers plain
choices (User fixture on the real editor page and store)."""

from __future__ import annotations

from nicegui.testing import User

from designer import services
from tests.test_ui_editor import fire, make_flow, open_editor, stored


def transfer_flow(ctx, numbers: list[str]) -> None:
    make_flow(ctx, "transfer", [{"id": "sales", "type": "Dial", "numbers": numbers, "x": 0, "y": 0}], [],
              start="sales")


def element(user: User, marker: str):
    (found,) = user.find(marker=marker).elements
    return found


async def test_a_national_number_is_stored_as_e164_and_shown_formatted(user: User, ctx):
    transfer_flow(ctx, [""])
    await open_editor(user, ctx, "transfer")
    fire(user, "selectionChange", {"nodes": ["sales"], "edges": []})
    field = element(user, "field-number-0")
    field.value = "(516) 206-5340"
    assert stored(ctx, "transfer").nodes["sales"]["numbers"] == ["+15162065340"]
    assert element(user, "problem-numbers[0]").text == ""
    user.find(marker="field-number-0").trigger("blur")  # leaving the field shows the number formatted
    assert field.value == "+1 516-206-5340"
    assert stored(ctx, "transfer").nodes["sales"]["numbers"] == ["+15162065340"]


async def test_an_impossible_number_is_refused_next_to_the_field_with_the_reason(user: User, ctx):
    transfer_flow(ctx, ["+15162065340"])
    await open_editor(user, ctx, "transfer")
    fire(user, "selectionChange", {"nodes": ["sales"], "edges": []})
    assert element(user, "field-number-0").value == "+1 516-206-5340"
    element(user, "field-number-0").value = "+1516206534"  # one digit short
    slot = element(user, "problem-numbers[0]")
    assert slot.text == "+1516206534 is too short for a number in US (+1)"
    assert stored(ctx, "transfer").nodes["sales"]["numbers"] == ["+1516206534"]  # what was typed is kept
    element(user, "field-number-0").value = "516 206 5340"
    assert element(user, "problem-numbers[0]").text == ""


async def test_the_default_country_reads_national_numbers(user: User, ctx):
    services.set_default_region(ctx, "GB")
    transfer_flow(ctx, [""])
    await open_editor(user, ctx, "transfer")
    fire(user, "selectionChange", {"nodes": ["sales"], "edges": []})
    element(user, "field-number-0").value = "020 7946 0958"
    assert stored(ctx, "transfer").nodes["sales"]["numbers"] == ["+442079460958"]


async def test_an_empty_number_list_is_said_under_the_numbers(user: User, ctx):
    transfer_flow(ctx, [])
    await open_editor(user, ctx, "transfer")
    fire(user, "selectionChange", {"nodes": ["sales"], "edges": []})
    slot = element(user, "problem-numbers")
    assert slot.text == "Transfer needs at least one phone number"
    user.find(marker="add-number").click()
    element(user, "field-number-0").value = "+1 516 206 5340"
    assert element(user, "problem-numbers").text == ""


async def test_a_setting_out_of_range_is_said_as_you_type(user: User, ctx):
    make_flow(ctx, "say", [{"id": "hello", "type": "Say", "text": "", "x": 0, "y": 0}], [], start="hello")
    await open_editor(user, ctx, "say")
    fire(user, "selectionChange", {"nodes": ["hello"], "edges": []})
    assert element(user, "problem-text").text == "Say needs the text to speak"
    element(user, "field-text").value = "Hello"
    assert element(user, "problem-text").text == ""
    element(user, "field-attrs.loop").value = 500
    slot = element(user, "problem-attrs.loop")
    assert "500" in slot.text


async def test_voicemail_shows_the_few_fields_a_person_needs(user: User, ctx):
    make_flow(ctx, "vm", [{"id": "voicemail", "type": "Record", "x": 0, "y": 0},
                          {"id": "thanks", "type": "Say", "text": "Thanks", "x": 0, "y": 200}],
              [{"source": "voicemail", "target": "thanks"}], start="voicemail")
    await open_editor(user, ctx, "vm")
    fire(user, "selectionChange", {"nodes": ["voicemail"], "edges": []})
    advanced = element(user, "advanced")
    assert advanced.value is False  # closed: nothing in it is set
    for everyday in ("attrs.maxLength", "attrs.playBeep", "attrs.finishOnKey"):
        assert advanced not in element(user, f"field-{everyday}").ancestors()
    for rare in ("attrs.containerSid", "attrs.fileSid", "attrs.integerKey1", "attrs.callbackUrl"):
        assert advanced in element(user, f"field-{rare}").ancestors()
    await user.should_see("Next: goes to thanks")
    await user.should_see("Error: not connected: draw a connection from this output")


async def test_insert_a_call_detail_adds_it_to_the_text(user: User, ctx):
    make_flow(ctx, "say", [{"id": "hello", "type": "Say", "text": "You called from", "x": 0, "y": 0}], [],
              start="hello")
    await open_editor(user, ctx, "say")
    fire(user, "selectionChange", {"nodes": ["hello"], "edges": []})
    user.find(marker="insert-From").click()
    assert stored(ctx, "say").nodes["hello"]["text"] == "You called from {{ From }}"


async def test_a_new_text_goes_to_the_caller(user: User, ctx):
    make_flow(ctx, "blank", [], [])
    await open_editor(user, ctx, "blank")
    fire(user, "nodeDrop", {"type": "Sms", "x": 0, "y": 0})
    (node,) = stored(ctx, "blank").nodes
    assert stored(ctx, "blank").nodes[node]["attrs"] == {"to": "{{ From }}"}
    fire(user, "selectionChange", {"nodes": [node], "edges": []})
    assert element(user, "field-attrs.to").value == "From"
    assert element(user, "field-attrs.from").value == ""  # left empty: the carrier uses the caller's number
