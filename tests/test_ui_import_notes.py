"""Import notes stay with the flow, shown in the editor until dismissed (User fixture, real store)."""

from __future__ import annotations

from nicegui.testing import User

from designer import services
from designer.services import IMPORT_NOTES
from tests.test_ui_editor import fire, open_editor, stored

TWIML = b'<Response>\n  <Say voice="alice" colour="blue">Hi</Say>\n  <Conference>room</Conference>\n</Response>'


async def test_import_notes_are_kept_with_the_flow_and_shown_until_dismissed(user: User, ctx):
    record, notes = services.import_flow(ctx, TWIML, "twiml.xml")
    assert len(notes) >= 2
    kept = stored(ctx, record.id).graph[IMPORT_NOTES]
    assert [n["text"] for n in kept] == notes
    await open_editor(user, ctx, record.id)
    await user.should_see(f"Import notes ({len(notes)})")
    for note in notes:
        await user.should_see(note)
    user.find(marker="dismiss-note-0").click()
    assert [n["text"] for n in stored(ctx, record.id).graph[IMPORT_NOTES]] == notes[1:]
    await user.should_see(f"Import notes ({len(notes) - 1})")
    await user.should_not_see(notes[0])
    fire(user, "undo")  # dismissing is an ordinary edit
    assert [n["text"] for n in stored(ctx, record.id).graph[IMPORT_NOTES]] == notes
    user.find(marker="dismiss-all-notes").click()
    assert IMPORT_NOTES not in stored(ctx, record.id).graph
    await user.should_not_see("Import notes (")


async def test_notes_survive_reopening_the_flow(user: User, ctx):
    record, notes = services.import_flow(ctx, TWIML, "twiml.xml")
    await open_editor(user, ctx, record.id)
    await user.should_see(notes[-1])
    await user.open(f"/flows/{record.id}")  # opened again: a new tab over the stored flow
    await user.should_see(notes[-1])
