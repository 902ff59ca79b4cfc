"""The flow file: node-link JSON in and out, unknown keys kept, round trips stable, bad files refused clearly."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from compiler import FlowError, dumps, load, loads, save
from compiler.examples import EXAMPLES, example_text
from compiler.flow import add_branch, edge_branches, remove_branch

DESIGN_EXAMPLE = {
    "directed": True, "multigraph": False,
    "graph": {"id": "acme-main", "name": "Acme main line", "start": "welcome", "format": 1},
    "nodes": [
        {"id": "welcome", "type": "Say", "text": "Welcome to Acme.", "attrs": {"voice": "woman"}, "x": 40, "y": 60},
        {"id": "menu", "type": "Gather", "attrs": {"numDigits": 1, "timeout": 5},
         "prompt": [{"type": "Say", "text": "For sales press 1. For voicemail press 2."}]},
        {"id": "sales", "type": "Dial", "numbers": ["15162065340"], "attrs": {"timeout": 20}},
        {"id": "vm", "type": "Record", "attrs": {"maxLength": 120}},
        {"id": "bye", "type": "Hangup"},
    ],
    "edges": [
        {"source": "welcome", "target": "menu"},
        {"source": "menu", "target": "sales", "branch": "1"},
        {"source": "menu", "target": "vm", "branch": "2"},
        {"source": "menu", "target": "bye", "branch": "timeout"},
    ],
}


def test_loads_the_design_example_as_a_digraph():
    graph = loads(json.dumps(DESIGN_EXAMPLE))
    assert isinstance(graph, nx.DiGraph)
    assert graph.graph == {"id": "acme-main", "name": "Acme main line", "start": "welcome", "format": 1}
    assert graph.nodes["welcome"] == {"type": "Say", "text": "Welcome to Acme.", "attrs": {"voice": "woman"},
                                      "x": 40, "y": 60}
    assert graph.edges["menu", "sales"] == {"branch": "1"}
    assert nx.node_link_graph(json.loads(dumps(graph)), edges="edges").nodes["menu"]["attrs"]["numDigits"] == 1


def test_unknown_keys_are_kept_everywhere():
    data = json.loads(json.dumps(DESIGN_EXAMPLE))
    data["graph"]["owner"] = "ops team"
    data["nodes"][0]["note"] = {"colour": "red", "tags": ["greeting"]}
    data["nodes"][0]["attrs"]["futureAttr"] = "kept"
    data["edges"][1]["label"] = "sales"
    data["editor"] = {"zoom": 1.5}
    out = json.loads(dumps(loads(json.dumps(data))))
    assert out["graph"]["owner"] == "ops team"
    assert out["nodes"][0]["note"] == {"colour": "red", "tags": ["greeting"]}
    assert out["nodes"][0]["attrs"]["futureAttr"] == "kept"
    assert {"source": "menu", "target": "sales", "branch": "1", "label": "sales"} in out["edges"]
    assert out["editor"] == {"zoom": 1.5}
    assert "_file_keys" not in out["graph"]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_round_trip_is_stable(name):
    first = dumps(loads(example_text(name)))
    assert dumps(loads(first)) == first
    assert first.endswith("}\n") and "\n  " in first  # sorted keys, two-space indent, trailing newline


def test_round_trip_of_a_flow_with_unknown_keys_and_also_branches():
    data = json.loads(json.dumps(DESIGN_EXAMPLE))
    data["edges"].append({"source": "menu", "target": "bye", "branch": "invalid"})  # same pair as timeout
    data["zzz"] = [1, 2, 3]
    once = dumps(loads(json.dumps(data)))
    assert dumps(loads(once)) == once
    assert json.loads(once)["zzz"] == [1, 2, 3]


def test_also_lets_one_connection_carry_several_branches():
    data = json.loads(json.dumps(DESIGN_EXAMPLE))
    data["edges"][1]["also"] = ["3", "4"]
    graph = loads(json.dumps(data))
    assert edge_branches(graph.edges["menu", "sales"]) == ["1", "3", "4"]
    out = json.loads(dumps(graph))
    assert {"source": "menu", "target": "sales", "branch": "1", "also": ["3", "4"]} in out["edges"]


def test_two_connections_between_the_same_steps_are_merged_not_lost():
    data = json.loads(json.dumps(DESIGN_EXAMPLE))
    data["edges"].append({"source": "menu", "target": "sales", "branch": "3"})
    graph = loads(json.dumps(data))
    assert edge_branches(graph.edges["menu", "sales"]) == ["1", "3"]


def test_add_and_remove_branch_share_one_edge():
    graph = loads(json.dumps(DESIGN_EXAMPLE))
    add_branch(graph, "menu", "sales", "9")
    assert edge_branches(graph.edges["menu", "sales"]) == ["1", "9"]
    remove_branch(graph, "menu", "1")
    assert graph.edges["menu", "sales"] == {"branch": "9"}
    remove_branch(graph, "menu", "9")
    assert not graph.has_edge("menu", "sales")


def test_numeric_ids_become_text():
    data = {"graph": {"id": "n", "start": 1}, "nodes": [{"id": 1, "type": "Say", "text": "Hi"}, {"id": 2, "type": "Hangup"}],
            "edges": [{"source": 1, "target": 2}]}
    graph = loads(json.dumps(data))
    assert list(graph.nodes) == ["1", "2"] and graph.has_edge("1", "2")


def test_links_is_read_as_edges():
    data = dict(DESIGN_EXAMPLE)
    data["links"] = data.pop("edges")
    assert loads(json.dumps(data)).has_edge("menu", "sales")
    assert "links" not in json.loads(dumps(loads(json.dumps(data))))


def test_save_and_load_a_file(tmp_path):
    graph = loads(json.dumps(DESIGN_EXAMPLE))
    path = tmp_path / "flow.json"
    save(graph, path)
    assert dumps(load(path)) == path.read_text(encoding="utf-8")


def test_loading_never_changes_non_ascii_text(tmp_path):
    data = json.loads(json.dumps(DESIGN_EXAMPLE))
    data["nodes"][0]["text"] = "Grüß Gott — 日本語"
    path = tmp_path / "f.json"
    save(loads(json.dumps(data)), path)
    assert "Grüß Gott — 日本語" in path.read_text(encoding="utf-8")
    assert load(path).nodes["welcome"]["text"] == "Grüß Gott — 日本語"


@pytest.mark.parametrize(("text", "words"), [
    ("{not json", "not valid JSON at line 1"),
    ("[1, 2]", "not a flow: expected a JSON object, found list"),
    ('{"graph": {}}', "not a flow: there is no 'nodes' list"),
    ('{"nodes": [], "edges": {}}', "'edges' is not a list"),
    ('{"nodes": [], "directed": false}', "a flow is a directed graph"),
    ('{"nodes": [], "graph": []}', "graph: must be an object"),
    ('{"nodes": [], "graph": {"format": 2}}', "format: version 2 is not supported"),
    ('{"nodes": [{"type": "Say"}]}', "nodes[0]: every step needs an 'id'"),
    ('{"nodes": [{"id": [1]}]}', "nodes[0]: id [1] must be text"),
    ('{"nodes": [{"id": "a"}, {"id": "a"}]}', "nodes[1]: id 'a' is already used by nodes[0]"),
    ('{"nodes": [{"id": "a"}], "edges": [{"source": "a"}]}', "edges[0]: every connection needs a 'source' and a 'target'"),
    ('{"nodes": [{"id": "a"}], "edges": [{"source": "a", "target": {}}]}', "edges[0]: target {} must be a step id"),
    ("[" * 100_000, "nested too deeply"),
    (b"\xff\xfe{", "not valid JSON"),
    ('{"nodes": [{"id": "a", "attrs": {"length": ' + "9" * 5000 + '}}]}', "a number in it is too long to read"),
])
def test_files_that_are_not_flows_are_refused_in_one_line(text, words):
    with pytest.raises(FlowError) as info:
        loads(text, "my.json")
    message = str(info.value)
    assert message.startswith("my.json: ") and words in message and "\n" not in message


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FlowError, match=r"nope.json: no such file$"):
        load(tmp_path / "nope.json")
    with pytest.raises(FlowError, match="is a folder, not a flow file"):
        load(tmp_path)


def test_a_menu_key_written_as_a_number_is_that_key_even_zero():
    from compiler import compile_flow, validate

    data = json.loads(example_text("main-menu"))
    for edge in data["edges"]:
        if edge.get("branch") in ("0", "1"):
            edge["branch"] = int(edge["branch"])
    graph = loads(json.dumps(data))
    assert edge_branches(graph.edges["menu", "operator"]) == ["0"]
    assert edge_branches({}) == edge_branches({"branch": ""}) == ["next"]
    assert [p for p in validate(graph) if p.is_error] == []
    assert compile_flow(graph).routers["menu"].branches == {"0": "operator", "1": "sales", "2": "vm-prompt"}


@pytest.mark.parametrize("number, says", [
    ("1" + "0" * 400, "is too large"), ("1e400", "is too large"), ("-1e400", "is too large"),
    ("Infinity", "Infinity is not a number"), ("NaN", "NaN is not a number"), (str(2**64), "is too large"),
])
def test_a_number_the_designers_pages_cannot_show_is_refused_in_one_line(number, says):
    # attack: a flow with "x": 1e400 or 10**400 was imported; opening it in the editor then failed while
    # the page's data was turned into JSON for the browser ("Integer exceeds 64-bit range"), every time
    text = json.dumps(_MINIMAL).replace('"x": 0', f'"x": {number}')
    assert number in text
    with pytest.raises(FlowError, match=f"not a flow: .*{says}"):
        loads(text)
    assert loads(json.dumps(_MINIMAL).replace('"x": 0', f'"x": {2**53}')).nodes["hi"]["x"] == 2**53


_MINIMAL = {"directed": True, "multigraph": False, "graph": {"id": "f", "name": "F", "start": "hi", "format": 1},
            "nodes": [{"id": "hi", "type": "Say", "text": "Hi", "x": 0, "y": 0}], "edges": []}
