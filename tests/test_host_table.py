"""The host's flow table, templated documents, loading flows from files and the store, event recording."""

import json
import threading

import pytest

from compiler import BundleError, CompileError, FlowError, compile_flow, loads, write_zip
from compiler.examples import example, example_text
from compiler.grammar import problems as grammar_problems
from designer.host import (EventRecorder, FlowTable, bind_numbers, load_sources, number_key,
                           table_from_sources, table_from_store)
from designer.host.table import SAY_MAX_CHARS, Template, number_variants, xml_text
from designer.store import CallEvent, SQLiteStore


@pytest.mark.parametrize("text, digits", [
    ("+1 (516) 206-5337", "15162065337"), ("516.206.5337", "5162065337"), ("15162065337", "15162065337"),
    ("sip:+15162065337@10.0.0.1:5060", "15162065337"), ("tel:+44 20 7946 0958", "442079460958"),
    ("", ""), ("call me", ""),
])
def test_normalize_number(text, digits):
    assert number_key(text) == digits


def test_number_variants_with_and_without_country_code_1():
    assert number_variants("15162065337") == ("15162065337", "5162065337")
    assert number_variants("5162065337") == ("5162065337", "15162065337")
    assert number_variants("442079460958") == ("442079460958",)


def test_publish_keeps_old_revisions_and_swaps_whole_snapshots():
    table = FlowTable()
    first = compile_flow(example("main-menu"), revision="1")
    table.serve_revision(first)
    before = table.snapshot
    graph = example("main-menu")
    graph.nodes["welcome"]["text"] = "Hello again."
    table.serve_revision(compile_flow(graph, revision="2"))
    assert table.current_revision("main-menu") == "2"
    assert table.revisions("main-menu") == ["1", "2"]
    assert table.compiled("main-menu", "1") is first
    # a request that took the old snapshot still sees revision 1 as current, whole and unchanged
    assert before.current == {"main-menu": "1"}
    assert before.revision("main-menu").revision == "1"
    assert b"Hello again." in table.snapshot.revision("main-menu").body("welcome", {})


def test_publish_without_current_and_rollback():
    table = FlowTable()
    table.serve_revision(compile_flow(example("pin-check"), revision="1"))
    table.serve_revision(compile_flow(example("pin-check"), revision="2"), current=False)
    assert table.current_revision("pin-check") == "1"
    table.set_current("pin-check", "2")
    assert table.current_revision("pin-check") == "2"
    with pytest.raises(KeyError, match="no revision '5'"):
        table.set_current("pin-check", "5")


def test_bind_unbind_and_remove_flow():
    table = FlowTable()
    table.serve_revision(compile_flow(example("main-menu")))
    table.serve_revision(compile_flow(example("pin-check")))
    assert table.bind("+1 (516) 206-5337", "main-menu") == "15162065337"
    table.bind("5162065338", "pin-check")
    assert table.flow_for_number("516-206-5337") == "main-menu"
    assert table.flow_for_number("+15162065338") == "pin-check"
    table.unbind("+1 516 206 5338")
    assert table.flow_for_number("15162065338") is None
    table.remove_flow("main-menu")
    assert table.flows() == ["pin-check"]
    assert table.numbers() == {}
    with pytest.raises(ValueError, match="has no digits"):
        table.bind("main line", "pin-check")


def test_concurrent_publishes_lose_nothing():
    table = FlowTable()
    compiled = [compile_flow(example("after-hours"), revision=str(r)) for r in range(1, 41)]

    def publish(chunk):
        for c in chunk:
            table.serve_revision(c)

    threads = [threading.Thread(target=publish, args=(compiled[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(table.revisions("after-hours"), key=int) == [str(r) for r in range(1, 41)]


def _templated(text: str, sms: str | None = None):
    nodes = [{"id": "hi", "type": "Say", "text": text}]
    edges = []
    if sms is not None:
        nodes.append({"id": "txt", "type": "Sms", "text": sms})
        edges.append({"source": "hi", "target": "txt"})
    graph = loads(json.dumps({"directed": True, "multigraph": False, "nodes": nodes, "edges": edges,
                              "graph": {"id": "t", "start": "hi", "format": 1}}))
    return compile_flow(graph)


def test_template_documents_render_escaped_and_grammar_valid():
    compiled = _templated("Hi {{ From }}, you called {{ To }}.", sms="From {{ From }}: <{{ Digits }}>")
    template = Template.from_document(compiled.documents["hi"])
    assert len(template.slots) == 2
    out = template.render({"From": "A&B <x>", "To": "1516", "Digits": "1"})
    assert b"<Say>Hi A&amp;B &lt;x&gt;, you called 1516.</Say>" in out
    assert b"<Sms>From A&amp;B &lt;x&gt;: &lt;1&gt;</Sms>" in out
    assert grammar_problems(out) == []


def test_template_mistakes_and_missing_variables_render_empty():
    template = Template.from_document(_templated("Hi {{ From }}!").documents["hi"])
    assert b"<Say>Hi !</Say>" in template.render({})


def test_say_is_capped_at_1024_characters_and_sms_is_not():
    compiled = _templated("{{ From }}", sms="{{ From }}")
    out = Template.from_document(compiled.documents["hi"]).render({"From": "9" * 3000}).decode()
    assert "<Say>" + "9" * SAY_MAX_CHARS + "</Say>" in out
    assert "<Sms>" + "9" * 3000 + "</Sms>" in out


def test_a_document_without_templates_is_served_as_its_bytes():
    compiled = compile_flow(example("main-menu"))
    served = FlowTable().serve_revision(compiled)
    assert served.templates == {}
    assert served.body("welcome", {"From": "x"}) is compiled.documents["welcome"]
    assert served.body("nowhere", {}) is None


def test_xml_text_drops_what_xml_cannot_hold():
    assert xml_text("a\x00b\x1fc\ud800d<&>") == b"abcd&lt;&amp;&gt;"


# --- loading from files -----------------------------------------------------------------------


def _write_examples(tmp_path):
    paths = {}
    for name in ("main-menu", "pin-check"):
        p = tmp_path / f"{name}.json"
        p.write_text(example_text(name))
        paths[name] = p
    graph = example("after-hours")
    bundle = tmp_path / "after-hours-r3.zip"
    bundle.write_bytes(write_zip(compile_flow(graph, revision="3"), graph))
    paths["after-hours"] = bundle
    return paths


def test_load_sources_reads_flow_files_and_bundles(tmp_path):
    paths = _write_examples(tmp_path)
    flows = load_sources(list(paths.values()), base_url="https://ivr.example.com")
    assert [(c.flow, c.revision) for c in flows] == [("main-menu", "1"), ("pin-check", "1"), ("after-hours", "3")]
    assert b'action="https://ivr.example.com/flexml/main-menu/1/menu/gather"' in flows[0].documents["menu"]
    assert b"https://ivr.example.com/flexml/main-menu/1/hours/decide" in flows[0].documents["welcome"]


def test_load_sources_refuses_with_the_file_named(tmp_path):
    paths = _write_examples(tmp_path)
    with pytest.raises(FlowError, match="also in"):
        load_sources([paths["main-menu"], paths["main-menu"]])
    with pytest.raises(FlowError, match="not a flow file"):
        load_sources([tmp_path / "notes.txt"])
    with pytest.raises(FlowError, match="no such file"):
        load_sources([tmp_path / "missing.json"])
    with pytest.raises(BundleError, match="not a zip"):
        (tmp_path / "bad.zip").write_bytes(b"not a zip")
        load_sources([tmp_path / "bad.zip"])
    broken = json.loads(example_text("main-menu"))
    broken["graph"]["start"] = "nowhere"
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    with pytest.raises(CompileError):
        load_sources([tmp_path / "broken.json"])


def test_dids_bind_the_only_flow_or_need_a_flow_id(tmp_path):
    paths = _write_examples(tmp_path)
    single = table_from_sources([paths["pin-check"]], ["+1 516 206 5337"])
    assert single.numbers() == {"15162065337": "pin-check"}
    table = table_from_sources(list(paths.values()), ["5162065337=main-menu"])
    assert table.numbers() == {"5162065337": "main-menu"}
    with pytest.raises(ValueError, match="say which flow answers it"):
        bind_numbers(table, ["15162065338"])
    with pytest.raises(ValueError, match="no flow 'sales'"):
        bind_numbers(table, ["15162065338=sales"])
    with pytest.raises(ValueError, match="not a phone number"):
        bind_numbers(table, ["office=main-menu"])


# --- loading from the store -------------------------------------------------------------------


def _publish(store, name, graph=None):
    graph = graph or example(name)

    def bundle(rev):
        return write_zip(compile_flow(graph, revision=str(rev)), graph)

    return store.add_revision(name, "{}", bundle)


def test_table_from_store_serves_every_revision_current_and_numbers(tmp_path):
    store = SQLiteStore(tmp_path / "d.sqlite")
    store.create_flow("main-menu", "Main menu", "{}")
    store.create_flow("pin-check", "PINs", "{}")
    store.create_flow("draft-only", "Draft", "{}")
    _publish(store, "main-menu")
    graph = example("main-menu")
    graph.nodes["welcome"]["text"] = "Version two."
    _publish(store, "main-menu", graph)
    _publish(store, "pin-check")
    store.set_published("main-menu", 1)  # rolled back
    store.bind_did("15162065337", "main-menu")
    store.bind_did("15162065338", "pin-check")
    table = table_from_store(store)
    assert table.flows() == ["main-menu", "pin-check"]
    assert table.revisions("main-menu") == ["1", "2"]
    assert table.current_revision("main-menu") == "1"
    assert table.flow_for_number("+1 516 206 5338") == "pin-check"
    assert b"Version two." in table.snapshot.revision("main-menu", "2").body("welcome", {})
    store.close()


def test_a_corrupt_bundle_in_the_store_is_skipped_the_rest_answer(tmp_path):
    store = SQLiteStore(tmp_path / "d.sqlite")
    store.create_flow("main-menu", "Main menu", "{}")
    store.create_flow("pin-check", "PINs", "{}")
    _publish(store, "main-menu")
    store.add_revision("pin-check", "{}", lambda rev: b"garbage")
    table = table_from_store(store)
    assert table.flows() == ["main-menu"]
    store.close()


# --- event recording --------------------------------------------------------------------------


def _event(i: int) -> CallEvent:
    return CallEvent(f"CA{i % 7}", "main-menu", "1", "document", "welcome", None, 1000.0 + i, {"n": str(i)})


def test_recorder_writes_batches_from_its_own_thread(tmp_path):
    store = SQLiteStore(tmp_path / "e.sqlite")
    threads = set()

    def sink(events):
        threads.add(threading.get_ident())
        store.record_events(events)

    recorder = EventRecorder(sink, batch=100, interval=0.01)
    for i in range(1000):
        recorder(_event(i))
    assert recorder.flush(timeout=30)
    recorder.close()
    assert recorder.written == 1000 and recorder.dropped == 0
    assert threading.get_ident() not in threads
    assert sum(len(store.call_events(f"CA{k}")) for k in range(7)) == 1000
    store.close()


def test_recorder_bounds_its_queue_and_survives_a_failing_sink():
    gate = threading.Event()
    seen = []

    def sink(events):
        gate.wait(30)
        if len(seen) == 0:
            seen.append(len(events))
            raise OSError("disk full")
        seen.append(len(events))

    recorder = EventRecorder(sink, batch=10, interval=0.01, max_pending=50)
    recorder(_event(0))
    while recorder.pending:  # the writer took the first event and waits in the sink
        threading.Event().wait(0.01)
    for i in range(1, 80):
        recorder(_event(i))
    assert recorder.pending == 50 and recorder.dropped == 29
    gate.set()
    assert recorder.flush(timeout=30)
    recorder.close()
    assert recorder.failed == 1 and recorder.written == 50


def test_a_document_whose_text_is_not_call_variable_text_is_served_as_written_never_run():
    """A document the bundle checks never saw (built by hand): its bad text is not rendered, only escaped."""
    data = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n'
            b"  <Say>{{ 'x'.ljust(999999999) }} &amp; {% for i in range(100000) %}x{% endfor %}</Say>\n"
            b"  <Sms>Hi {{ From }}</Sms>\n</Response>\n")
    template = Template.from_document(data)
    assert len(template.slots) == 1  # only the Sms, which is good call-variable text
    out = template.render({"From": "15551230001"})
    assert b"<Say>{{ 'x'.ljust(999999999) }} &amp; {% for i in range(100000) %}x{% endfor %}</Say>" in out
    assert b"<Sms>Hi 15551230001</Sms>" in out and grammar_problems(out) == []


def test_a_reload_from_the_store_reuses_the_revisions_it_already_holds_and_adds_new_ones(tmp_path):
    from designer.host.follow import table_from_store

    store = SQLiteStore(tmp_path / "r.sqlite")
    graph = example("main-menu")
    store.create_flow("main-menu", "Main", "{}")
    store.add_revision("main-menu", "{}", lambda rev: write_zip(compile_flow(graph, revision=str(rev)), graph))
    first = table_from_store(store)
    store.add_revision("main-menu", "{}", lambda rev: write_zip(compile_flow(graph, revision=str(rev)), graph))
    second = table_from_store(store, first)
    assert second.snapshot.revision("main-menu", "1") is first.snapshot.revision("main-menu", "1")
    assert second.revisions("main-menu") == ["1", "2"] and second.current_revision("main-menu") == "2"
    store.close()
