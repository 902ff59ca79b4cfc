"""The designer's operations over a real SQLite store (no UI)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from compiler import flow as flowfile
from compiler import read_zip
from designer import services
from designer.context import AppContext
from designer.services import PublishRefused, ServiceError
from designer.store import CallEvent, SQLiteStore


def test_slugify_makes_url_safe_ids():
    assert services.slugify("Acme Main Line!") == "acme-main-line"
    assert services.slugify("  Ünïcode  café ") == "unicode-cafe"
    assert services.slugify("!!!") == "flow"


def test_create_blank_gets_unique_ids_from_the_name(ctx):
    a = services.create_blank(ctx, "Sales line")
    b = services.create_blank(ctx, "Sales line")
    c = services.create_blank(ctx, "Status")  # 'status' is the host's callback route
    assert (a.id, b.id, c.id) == ("sales-line", "sales-line-2", "status-flow")
    graph = services.draft_graph(ctx, "sales-line-2")
    assert graph.graph["id"] == "sales-line-2" and graph.graph["name"] == "Sales line"
    assert graph.graph["start"] in graph


def test_blank_name_is_refused(ctx):
    with pytest.raises(ServiceError, match="needs a name"):
        services.create_blank(ctx, "   ")


@pytest.mark.parametrize("name", ["main-menu", "pin-check", "after-hours"])
def test_every_example_can_be_created_and_published(ctx, name):
    record = services.create_from_example(ctx, name)
    assert services.draft_graph(ctx, record.id).graph["id"] == record.id
    revision = services.publish(ctx, record.id)
    assert revision.rev == 1
    compiled = read_zip(revision.bundle)
    assert compiled.flow == record.id and compiled.revision == "1"
    assert ctx.store.get_flow(record.id).published_rev == 1


def test_unknown_example_is_named(ctx):
    with pytest.raises(ServiceError, match="no example 'nope'"):
        services.create_from_example(ctx, "nope")


def test_duplicate_rename_delete(ctx):
    original = services.create_from_example(ctx, "main-menu")
    copy = services.duplicate(ctx, original.id)
    assert copy.name == "Copy of Main menu" and copy.id == "copy-of-main-menu"
    assert services.draft_graph(ctx, copy.id).number_of_nodes() == \
        services.draft_graph(ctx, original.id).number_of_nodes()

    renamed = services.rename(ctx, copy.id, "Support line")
    assert renamed.id == copy.id and renamed.name == "Support line"
    assert services.draft_graph(ctx, copy.id).graph["name"] == "Support line"

    services.bind_number(ctx, "+1 516 206 5337", copy.id)
    services.publish(ctx, copy.id)
    services.delete(ctx, copy.id)
    assert ctx.store.get_flow(copy.id) is None
    assert ctx.store.dids() == {}
    assert ctx.store.list_revisions(copy.id) == []
    with pytest.raises(ServiceError, match="no flow 'copy-of-main-menu'"):
        services.rename(ctx, copy.id, "x")


def test_duplicate_a_flow_whose_name_is_near_the_longest_allowed(ctx):
    original = services.create_blank(ctx, "Support line for " + "x" * 100)  # 117 characters, allowed
    copy = services.duplicate(ctx, original.id)
    assert copy.id != original.id and copy.name.startswith("Copy of Support line for x") and len(copy.name) == 120


def test_publish_refuses_a_flow_with_errors_and_lists_them(ctx):
    record = services.create_from_example(ctx, "main-menu")
    graph = services.draft_graph(ctx, record.id)
    graph.nodes["sales"]["numbers"] = ["not a number"]
    ctx.store.save_flow(record.id, flowfile.dumps(graph), record.version)
    with pytest.raises(PublishRefused) as info:
        services.publish(ctx, record.id)
    assert [(p.node, p.field) for p in info.value.problems] == [("sales", "numbers[0]")]
    assert ctx.store.list_revisions(record.id) == []


def test_revisions_number_up_and_restore_copies_into_the_draft(ctx):
    record = services.create_from_example(ctx, "after-hours")
    services.publish(ctx, record.id)
    graph = services.draft_graph(ctx, record.id)
    graph.nodes["closed"]["text"] = "We moved."
    ctx.store.save_flow(record.id, flowfile.dumps(graph), ctx.store.get_flow(record.id).version)
    second = services.publish(ctx, record.id)
    assert second.rev == 2 and b"We moved." in read_zip(second.bundle).documents["closed"]

    version = services.restore_revision(ctx, record.id, 1)
    assert ctx.store.get_flow(record.id).version == version
    assert services.draft_graph(ctx, record.id).nodes["closed"]["text"].startswith("Thank you for calling")
    assert [r.rev for r in services.revisions(ctx, record.id)] == [2, 1]  # restoring does not publish
    with pytest.raises(ServiceError, match="no revision 9"):
        services.restore_revision(ctx, record.id, 9)


def test_export_bundle_and_flow_file(ctx):
    record = services.create_from_example(ctx, "pin-check")
    with pytest.raises(ServiceError, match="not published yet"):
        services.export_bundle(ctx, record.id)
    services.publish(ctx, record.id)
    name, data = services.export_bundle(ctx, record.id)
    assert name == "pin-check-r1.zip"
    assert set(zipfile.ZipFile(io.BytesIO(data)).namelist()) >= {"manifest.json", "flow.json"}
    name, data = services.export_flow_file(ctx, record.id)
    assert name == "pin-check.json"
    assert flowfile.loads(data).graph["id"] == "pin-check"


def test_import_flow_file_keeps_its_id_when_free(ctx):
    _, data = services.export_flow_file(ctx, services.create_from_example(ctx, "pin-check").id)
    again, notes = services.import_flow(ctx, data, "pin-check.json")
    assert again.id == "pin-check-2"  # taken, so a new one
    assert notes == []
    services.delete(ctx, "pin-check")
    assert services.import_flow(ctx, data, "pin.json")[0].id == "pin-check"


def test_import_a_bundle(ctx):
    record = services.create_from_example(ctx, "after-hours")
    services.publish(ctx, record.id)
    _, bundle = services.export_bundle(ctx, record.id)
    imported, _ = services.import_flow(ctx, bundle, "after-hours-r1.zip")
    assert imported.id == "after-hours-message-2"
    assert services.draft_graph(ctx, imported.id).number_of_nodes() == 9  # with its business-hours step
    assert services.draft_graph(ctx, imported.id).nodes["hours"]["type"] == "Hours"
    assert services.draft_graph(ctx, imported.id).nodes["text-hours"]["attrs"] == {"to": "{{ From }}", "from": "{{ To }}"}


@pytest.mark.parametrize("data, message", [
    (b"", "notes.json: the file is empty"),
    (b"{not json", "notes.json: not valid JSON at line 1"),
    (b'{"a": 1}', "notes.json: not a flow: there is no 'nodes' list"),
    (b"PK\x03\x04garbage", "notes.json: not a zip file"),
])
def test_bad_uploads_give_one_clear_line(ctx, data, message):
    with pytest.raises(ServiceError) as info:
        services.import_flow(ctx, data, "/tmp/x/notes.json")
    assert str(info.value).startswith(message)
    assert ctx.store.list_flows() == []


def test_import_a_flexml_document(ctx):
    xml = (b'<?xml version="1.0"?><Response><Say>Hello from the old IVR.</Say><Hangup/></Response>')
    record, notes = services.import_flow(ctx, xml, "old-ivr.xml")
    assert notes == []
    graph = services.draft_graph(ctx, record.id)
    assert any(d.get("text") == "Hello from the old IVR." for _, d in graph.nodes(data=True))
    assert services.publish(ctx, record.id).rev == 1
    with pytest.raises(ServiceError, match="old-ivr.xml"):
        services.import_flow(ctx, b"<Response><Say>unclosed</Response>", "old-ivr.xml")


def test_import_a_utf16_flexml_document(ctx):
    data = '<?xml version="1.0" encoding="UTF-16"?><Response><Say>Grüß Gott</Say></Response>'.encode("utf-16")
    record, _ = services.import_flow(ctx, data, "greeting.xml")
    graph = services.draft_graph(ctx, record.id)
    assert [d.get("text") for _, d in graph.nodes(data=True)] == ["Grüß Gott"]


def test_import_notes_reach_the_user(ctx):
    xml = b'<Response>\n  <Say voice="alice" colour="blue">Hi</Say>\n  <Conference>room</Conference>\n</Response>'
    record, notes = services.import_flow(ctx, xml, "twiml.xml")
    assert services.draft_graph(ctx, record.id).number_of_nodes() >= 1
    text = "\n".join(notes)
    assert "colour" in text and "Conference" in text
    assert all(n.startswith("twiml.xml line ") for n in notes)


@pytest.mark.parametrize("text, digits", [
    ("+1 (516) 206-5337", "15162065337"),
    ("15162065337", "15162065337"),
    ("+44 20 7946 0958", "442079460958"),
])
def test_numbers_are_normalised(text, digits):
    assert services.checked_number(text) == digits


@pytest.mark.parametrize("text", ["", "12", "0123456789", "+1 516 abc", "1" * 16])
def test_bad_numbers_are_refused(text):
    with pytest.raises(ServiceError):
        services.checked_number(text)


def test_bind_and_unbind(ctx):
    record = services.create_from_example(ctx, "main-menu")
    assert services.bind_number(ctx, "+1 516-206-5337", record.id) == "15162065337"
    assert ctx.store.get_flow(record.id).numbers == ["15162065337"]
    with pytest.raises(ServiceError, match="no flow 'ghost'"):
        services.bind_number(ctx, "+15162065338", "ghost")
    services.unbind_number(ctx, "+1 516 206 5337")
    assert ctx.store.dids() == {}
    with pytest.raises(ServiceError, match="not bound"):
        services.unbind_number(ctx, "15162065337")


def test_path_cuts_a_document_at_the_gather_a_router_answered():
    steps = {"welcome": ["welcome", "menu", "no-input", "again"], "sales": ["sales"]}
    assert services.path_from_documents(steps, [("document", "welcome"), ("router", "menu", "sales")]) == \
        ["welcome", "menu", "sales"]
    # no keys pressed: the Gather falls through to the steps after it
    assert services.path_from_documents(steps, [("document", "welcome"), ("document", "welcome")]) == \
        ["welcome", "menu", "no-input", "again"] * 2


def test_call_path_from_stored_events(ctx):
    record = services.create_from_example(ctx, "main-menu")
    services.publish(ctx, record.id)
    params = {"From": "15551230001", "To": "15162065337"}
    ctx.store.record_events([
        CallEvent("CA1", record.id, "1", "decision", "hours", None, 100.0, {"branch": "open", "step": "Hours"}),
        CallEvent("CA1", record.id, "1", "document", "welcome", None, 100.0, params),
        CallEvent("CA1", record.id, "1", "router", "menu", "2", 101.0, dict(params, answer="vm-prompt")),
        CallEvent("CA1", record.id, "1", "recording", "voicemail", None, 130.0, dict(params, answer="vm-thanks")),
        CallEvent("CA1", record.id, "1", "status", "completed", None, 140.0,
                  {"CallStatus": "completed", "CallDuration": "40"}),
    ])
    # the business-hours step is part of the path: it decided, then its branch's document played
    assert services.call_path(ctx, "CA1") == ["welcome", "hours", "menu", "vm-prompt", "voicemail", "vm-thanks",
                                              "bye"]
    (call,) = services.recent_calls(ctx)
    assert call["path"][:3] == ["welcome", "hours", "menu"] and call["status"] == "completed"
    assert services.call_path(ctx, "nope") == []
    # a caller who hangs up while recording: the carrier never requests the Record's action
    ctx.store.record_events([CallEvent("CA2", e.flow_id, e.rev, e.kind, e.target,
                                       e.digits, e.at, e.params) for e in ctx.store.call_events("CA1")
                             if e.kind in ("decision", "document", "router")])
    assert services.call_path(ctx, "CA2") == ["welcome", "hours", "menu", "vm-prompt", "voicemail"]


def test_settings_public_url_and_carrier_urls(ctx):
    assert services.carrier_urls(ctx, "acme") == {
        "account": "https://ivr.example.com/flexml", "flow": "https://ivr.example.com/flexml/acme",
        "status": "https://ivr.example.com/flexml/status"}
    services.set_public_url(ctx, "https://phones.example.org/")
    assert services.public_url(ctx) == "https://phones.example.org"
    with pytest.raises(ServiceError, match="not a web address"):
        services.set_public_url(ctx, "phones example")


def test_first_run_seeding_happens_once(ctx):
    assert services.seed_first_run(ctx) is True
    secret = services.storage_secret(ctx)
    assert services.seed_first_run(ctx) is False
    assert services.storage_secret(ctx) == secret and len(secret) > 20


def test_flow_rows_summarise_the_list(ctx):
    services.create_from_example(ctx, "main-menu")
    services.bind_number(ctx, "+15162065337", "main-menu")
    (row,) = services.flow_rows(ctx)
    assert (row.id, row.name, row.published_rev, row.numbers, row.steps) == \
        ("main-menu", "Main menu", None, ["15162065337"], 14)
    assert json.loads(services.export_flow_file(ctx, "main-menu")[1])["graph"]["name"] == "Main menu"


def test_the_hosts_table_follows_publish_bind_and_delete(tmp_path):
    from designer.host import FlowTable

    store = SQLiteStore(tmp_path / "d.sqlite")
    ctx = AppContext(store=store, table=FlowTable())
    services.create_from_example(ctx, "main-menu")
    services.publish(ctx, "main-menu")
    graph = services.draft_graph(ctx, "main-menu")
    graph.nodes["welcome"]["text"] = "Thanks for calling."  # an unchanged draft makes no new revision
    services.save_draft(ctx, "main-menu", flowfile.dumps(graph), store.get_flow("main-menu").version)
    services.publish(ctx, "main-menu")
    assert ctx.table.current_revision("main-menu") == "2"
    assert ctx.table.revisions("main-menu") == ["1", "2"]  # calls in progress keep revision 1
    services.bind_number(ctx, "+1 516 206 5337", "main-menu")
    assert ctx.table.flow_for_number("15162065337") == "main-menu"
    services.unbind_number(ctx, "15162065337")
    assert ctx.table.flow_for_number("15162065337") is None
    services.bind_number(ctx, "+1 516 206 5337", "main-menu")
    services.delete(ctx, "main-menu")
    assert ctx.table.flows() == [] and ctx.table.flow_for_number("15162065337") is None
    store.close()
