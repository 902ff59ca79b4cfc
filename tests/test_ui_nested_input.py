"""The designer given the attack texts and nested files of issue 11 (NiceGUI User fixture): every upload
answers with a visible message, a typed edit is saved and its problem shown, and a save that fails is
never reported as saved."""

from __future__ import annotations

import io
import sqlite3
import zipfile

import pytest
from nicegui import ui
from nicegui.elements.upload_files import SmallFileUpload
from nicegui.testing import User

from designer.app import build
from designer.context import AppContext
from tests.test_ui_editor import fire, make_flow, open_editor, stored

BAD_DOCUMENT = b"<Response><Say>{{ '%999999999d' % 1 }}</Say></Response>"  # 56 bytes; froze `serve` for 14 s
DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.fixture
def designer(user: User, ctx: AppContext) -> User:
    build(ctx)
    return user


async def upload(designer: User, name: str, data: bytes) -> None:
    await designer.open("/")
    designer.find("import").click()
    (element,) = designer.find(ui.upload).elements
    await element.handle_uploads([SmallFileUpload(name, "application/octet-stream", data)])


async def test_uploading_the_short_document_with_a_freezing_text_imports_it_and_says_what_to_fix(designer, ctx):
    await upload(designer, "bad.xml", BAD_DOCUMENT)
    await designer.should_see(marker="import-notes")
    await designer.should_see("no % formatting")
    (record,) = ctx.store.list_flows()
    assert "'%999999999d' % 1" in record.graph_json  # nothing the user wrote is lost


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("name, data", [
    ("deep.json", DEEP),
    ("deep.zip", _zip({"manifest.json": DEEP, "flow.json": DEEP})),
])
async def test_uploading_a_file_nested_100000_deep_shows_why_it_cannot_be_imported(designer, ctx, name, data):
    await upload(designer, name, data)
    await designer.should_see(f"Could not import: {name}")
    await designer.should_see("nested too deeply")
    assert ctx.store.list_flows() == []


@pytest.mark.parametrize("text, problem", [
    ("{{ " + "(" * 500 + "1" + ")" * 500 + " }}", "brackets are not allowed"),
    ("{{ " + "-" * 1000 + "1 }}", "no arithmetic"),
    ("{{ 'x'.ljust(999999999) }}", "no attribute or method access"),
])
async def test_a_typed_attack_text_is_saved_and_its_problem_shown(user: User, ctx, text, problem):
    make_flow(ctx, "typed", [{"id": "hello", "type": "Say", "text": "Hi", "x": 0, "y": 0}], [], start="hello")
    await open_editor(user, ctx, "typed")
    fire(user, "selectionChange", {"nodes": ["hello"], "edges": []})
    next(iter(user.find(marker="field-text").elements)).value = text
    await user.should_see(problem)
    assert stored(ctx, "typed").nodes["hello"]["text"] == text
    await user.should_see("✓ Saved")


async def test_an_edit_the_store_cannot_save_says_not_saved_with_the_reason(user: User, ctx):
    make_flow(ctx, "lost", [{"id": "hello", "type": "Say", "text": "Hi", "x": 0, "y": 0}], [], start="hello")
    await open_editor(user, ctx, "lost")
    await user.should_see("All changes saved")
    fire(user, "selectionChange", {"nodes": ["hello"], "edges": []})
    with sqlite3.connect(ctx.store.path) as db:  # the database starts refusing writes under the page
        db.execute("CREATE TRIGGER refuse BEFORE UPDATE ON flows BEGIN SELECT RAISE(ABORT, 'disk is full'); END")
    next(iter(user.find(marker="field-text").elements)).value = "Hello there"
    await user.should_see("Not saved:")
    await user.should_see("disk is full")
    await user.should_not_see("All changes saved")
    await user.should_not_see("✓ Saved")
