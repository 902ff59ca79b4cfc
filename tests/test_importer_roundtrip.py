"""Round trip: compile → import the compiled documents → compile gives the same documents, byte for byte."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import compile_flow, dumps, only_errors, loads, validate, write_dir, write_zip
from compiler.bundle import open_zip
from compiler.examples import EXAMPLES, example
from compiler.importer import import_documents, import_path
from compiler.plan import records_for_host
from tests.strategies import valid_flows

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def recompiled(compiled, result):
    return compile_flow(result.graph, revision=result.revision, base_url=result.base_url)


def assert_same(before, after):
    assert sorted(after.documents) == sorted(before.documents)
    for name, data in before.documents.items():
        assert after.documents[name] == data, name
    assert {k: r.to_json() for k, r in after.routers.items()} == {k: r.to_json() for k, r in before.routers.items()}
    assert after.steps == before.steps
    assert after.start == before.start


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("revision, base_url", [("1", ""), ("7", "https://ivr.example.com/app")])
def test_every_example_survives_the_round_trip_through_its_bundle(name, revision, base_url):
    graph = example(name)
    compiled = compile_flow(graph, revision=revision, base_url=base_url)
    result = import_documents(open_zip(write_zip(compiled, graph)))
    assert only_errors(validate(result.graph)) == []
    assert_same(compiled, recompiled(compiled, result))
    assert result.graph.graph["id"] == graph.graph["id"] and result.graph.graph["name"] == graph.graph["name"]
    assert result.revision == revision and result.base_url == base_url
    # the step ids are the flow's own, and nothing was left unexplained
    assert set(result.graph.nodes) <= set(graph.nodes)
    assert [n for n in result.notes if n.severity == "warning"] == []


def test_main_menu_comes_back_with_its_options_and_paths():
    graph = example("main-menu")
    compiled = compile_flow(graph)
    g = import_documents(open_zip(write_zip(compiled, graph))).graph
    assert g.nodes["menu"]["options"] == ["0", "1", "2"]  # the manifest keeps them in key order
    assert g.nodes["menu"]["retries"] == 2
    def paths(flow):  # a connection to a Go to step and one to where it jumps lead the same way
        def to(v):
            return flow.nodes[v]["target"] if flow.nodes[v].get("type") == "Goto" else v
        return {(u, to(v), d.get("branch", "next")) for u, v, d in flow.edges(data=True)}
    assert paths(g) == paths(graph)
    assert g.nodes["again"] == {"type": "Goto", "target": "menu", "x": g.nodes["again"]["x"],
                                "y": g.nodes["again"]["y"]}


def test_a_bundle_file_and_a_compiled_folder_import_alike(tmp_path):
    graph = example("pin-check")
    compiled = compile_flow(graph, revision="4")
    (tmp_path / "pins.zip").write_bytes(write_zip(compiled, graph))
    write_dir(compiled, graph, tmp_path / "out")
    from_zip = import_path(tmp_path / "pins.zip")
    from_dir = import_path(tmp_path / "out")
    assert dumps(from_zip.graph) == dumps(from_dir.graph)
    assert_same(compiled, recompiled(compiled, from_dir))


def test_changed_retry_text_and_no_retry_text_come_back():
    for text in ("Try again, please.", ""):
        graph = example("main-menu")
        graph.nodes["menu"]["retryText"] = text
        compiled = compile_flow(graph)
        result = import_documents(open_zip(write_zip(compiled, graph)))
        assert result.graph.nodes["menu"]["retryText"] == text
        assert_same(compiled, recompiled(compiled, result))


@PROPERTY
@given(valid_flows(), st.sampled_from([("1", ""), ("12", "https://ivr.example.com"),
                                       ("r3", "http://127.0.0.1:8080/base")]))
def test_random_valid_flows_survive_the_round_trip(graph, where):
    revision, base_url = where
    compiled = compile_flow(graph, revision=revision, base_url=base_url)
    result = import_documents(open_zip(write_zip(compiled, graph)))
    assert_same(compiled, recompiled(compiled, result))
    # the imported flow is a flow file like any other
    assert dumps(loads(dumps(result.graph))) == dumps(result.graph)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_flows(decisions=True))
def test_random_flows_with_decisions_survive_the_round_trip_through_their_bundle(graph):
    # Hours, Split and Set steps and a Transfer's not-answered path: the bundle keeps them (its manifest's
    # decisions), so the host serves the imported flow as it served the drawn one
    compiled = compile_flow(graph)
    result = import_documents(open_zip(write_zip(compiled, graph)))
    again = recompiled(compiled, result)
    assert_same(compiled, again)
    assert {n: d.to_json() for n, d in again.decisions.items()} == \
        {n: d.to_json() for n, d in compiled.decisions.items()}


@PROPERTY
@given(valid_flows())
def test_a_second_round_trip_changes_nothing(graph):
    compiled = compile_flow(graph)
    first = import_documents(open_zip(write_zip(compiled, graph)))
    again = compile_flow(first.graph)
    second = import_documents(open_zip(write_zip(again, first.graph)))
    assert dumps(second.graph) == dumps(first.graph)


def _distinct(graph):
    """Give every step distinct content, so no two documents' tails look alike by chance."""
    for node, data in graph.nodes(data=True):
        k = int(node[1:])
        if data["type"] in ("Say", "Sms"):
            data["text"] = f"{data['text'].strip()} {node}"  # pasted text loses outer line breaks
        elif data["type"] == "Play":
            data["text"] = f"{data['text']}#{node}"
        elif data["type"] == "Pause":
            data["attrs"] = {"length": k + 1}
        elif data["type"] == "Dial":
            data["numbers"] = [f"1555000{k:04d}"]
    return graph


@PROPERTY
@given(valid_flows().filter(lambda g: all(d["type"] != "Gather" and not records_for_host(d)
                                          for _, d in g.nodes(data=True))).map(_distinct))
def test_documents_without_their_manifest_round_trip_too(graph):
    """Menus need the bundle's routers, and what follows a Record its recordings; everything else comes back
    from the documents alone.

    Without the manifest's step lists, verbs that look alike are told apart only by
    their place, so steps get distinct content here; the ids of steps after the first
    of each document are new, which no document shows.
    """
    compiled = compile_flow(graph, revision="5")
    files = {k: v for k, v in open_zip(write_zip(compiled, graph)).items() if k.startswith("documents/")}
    result = import_documents(files, entry=compiled.start)
    if any(b"/flexml/" in data for data in files.values()):  # read from the URLs
        assert result.graph.graph["id"] == graph.graph["id"] and result.revision == "5"
    again = compile_flow(result.graph, revision="5")
    assert again.documents == compiled.documents


def test_a_bundle_unpacked_and_zipped_again_under_a_folder_imports_alike():
    graph = example("main-menu")
    compiled = compile_flow(graph, revision="2")
    entries = open_zip(write_zip(compiled, graph))
    nested = import_documents({f"Downloads/acme/{k}": v for k, v in entries.items()})
    assert dumps(nested.graph) == dumps(import_documents(entries).graph)
    assert_same(compiled, recompiled(compiled, nested))
