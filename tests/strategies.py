"""Hypothesis strategies for random *valid* flows, shared by every part's tests.

Usage (run pytest as ``python -m pytest`` from the project root, as the test
command does, so ``tests`` is importable)::

    from hypothesis import given, settings
    from tests.strategies import valid_flows

    @settings(max_examples=50, deadline=None)
    @given(valid_flows())
    def test_something(graph):   # a networkx.DiGraph in the flow format of docs/flow-format.md
        ...

``valid_flows(min_steps=1, max_steps=14)`` draws flows that ``compiler.validate``
finds no problem with at all (no errors, no warnings):

- every step type of the catalogue (Say, Play, Pause, Gather, Dial, Record,
  Sms, Hangup, Reject and Override (only as the first step), Redirect, Goto),
  live streams (hls://, rtmp://) with streaming on, methods in any letter case,
  menus without a finish key (``_`` or ``none``);
  with random attributes in range, XML-special characters and call variables
  (``{{ From }}``) in texts;
- the graph is a DAG in which every step is reachable from the start: each new
  step fills an open output of an earlier step, and spare outputs may later
  join steps created after them (so steps are reached from two places);
- menus (Gather) have a prompt, one to four key options (several may share a
  target, stored with the ``also`` edge extension), a ``timeout`` path, and
  an ``invalid`` path or retries; Play and Record may have ``error`` paths;
- Go to steps jump to any other non-Goto step, often back to an earlier menu,
  which is how the flow loops (never so that a menu's no-input path comes straight back
  to it: that is a warning for a silent caller).

Flow ids are ``prop-<n>``; step ids are ``s0``, ``s1`` … in creation order
(``s0`` is the start). ``valid_flow_data()`` gives the same flows as node-link
dicts (what ``compiler.flow.dumps`` writes), for tests of the file format.

``valid_flows(decisions=True)`` also draws the decision steps the host takes (Hours, Split, Set) and
Transfers with a ``no-answer`` path, every output of them connected.

``make_flow(nodes, edges, start=None, flow_id="t")`` writes a small flow by
hand: ``make_flow({"hi": {"type": "Say", "text": "Hi"}, "bye": {"type": "Hangup"}},
[("hi", "bye")])``; an edge is ``(source, target)`` or ``(source, target, branch)``.

``tests/flowwalk.py`` follows the URLs inside compiled documents (Redirects,
errorActions, Gather routers) and reports which documents a call can reach.
"""

from __future__ import annotations

import networkx as nx
from hypothesis import strategies as st

from compiler.flow import add_branch, to_data
from compiler.loops import silent_loops

KEYS = "0123456789*"  # '#' is the menus' default finish key, so options avoid it
TERMINAL = ("Hangup", "Redirect", "Goto")
FLOWING = ("Say", "Play", "Pause", "Gather", "Dial", "Record", "Sms")
STEP_TYPES = FLOWING + TERMINAL
_DRAWN = STEP_TYPES + ("Gather", "Gather", "Say")  # menus are what IVRs are made of
# the start is no Goto; Override only starts a flow (it goes at the top of the first document)
_STARTS = FLOWING + ("Gather", "Gather", "Say", "Hangup", "Redirect", "Reject", "Override")
DECIDING = ("Hours", "Split", "Set")
_DRAWN_DECISIONS = _DRAWN + DECIDING + DECIDING
_STARTS_DECISIONS = _STARTS + DECIDING
_ranges = st.sampled_from(["09:00-17:00", "00:00-24:00", "22:00-02:00", "08:30-12:00", "13:00-18:45"])
_SPLIT_TESTS = st.sampled_from([
    {"equals": ["15551234567", "+44 20 7946 0000"]}, {"starts_with": ["1516", "1631"]}, {"ends_with": ["00"]},
    {"contains": ["555"]}, {"between": [1, 5]}, {"empty": True},
])

_words = st.sampled_from([
    "Welcome", "to", "Acme", "press", "one", "sales", "<b>", "&", "\"quoted\"", "it's", "café", "日本",
    "{{ From }}", "{{ To }}", "  ", "\n", "goodbye.",
])
_texts = st.lists(_words, min_size=1, max_size=8).map(" ".join).filter(lambda t: t.strip())
# possible numbers (the editor refuses impossible ones): a country code and a national number of its length
_numbers = st.builds(lambda plus, cc_rest: f"{'+' if plus else ''}{cc_rest[0]}{cc_rest[1]}",
                     st.booleans(), st.one_of(
                         st.tuples(st.just("1"), st.from_regex(r"\A[2-9][0-9]{2}[2-9][0-9]{6}\Z")),
                         st.tuples(st.just("44"), st.from_regex(r"\A7[0-9]{9}\Z")),
                         st.tuples(st.just("7"), st.from_regex(r"\A9[0-9]{9}\Z"))))
_media = st.sampled_from([
    "https://media.example.com/hello.mp3", "http://media.example.com/a%20b.wav?x=1&y=2",
    "https://cdn.example.com/hold-music.ogg", "https://cdn.example.com/stream", "https://c.example/AUDIO.ULAW",
])
_streams = st.sampled_from(["hls://live.example.com/radio.m3u8", "rtmp://live.example.com/app/stream",
                            "https://live.example.com/radio.m3u8"])
_redirects = st.sampled_from(["https://other.example.com/flexml", "/elsewhere/start", "http://x.example/a?b=c&d=e"])


def _optional(attrs: dict) -> st.SearchStrategy[dict]:
    """A random subset of ``attrs`` (name → strategy), drawn together."""
    return st.fixed_dictionaries({}, optional=attrs)


_ATTRS: dict[str, st.SearchStrategy[dict]] = {
    "Say": _optional({"voice": st.sampled_from(["man", "woman"]), "loop": st.integers(0, 100),
                      "loopPause": st.integers(0, 300)}),
    "Play": _optional({"loop": st.integers(0, 100), "controlSkip": st.integers(1, 120),
                       "forwardOnKey": st.sampled_from(list("0123456789*#")), "streaming": st.just(False)}),
    "Pause": _optional({"length": st.integers(1, 30)}),
    "Dial": _optional({"timeout": st.integers(1, 60), "timeLimit": st.integers(0, 3600),
                       "hangupOnStar": st.booleans()}),
    "Record": _optional({"maxLength": st.integers(1, 3600), "fileFormat": st.sampled_from(["wav", "mp3", "ul"]),
                         "finishOnKey": st.sampled_from(["#", "123", "none", "*"]), "playBeep": st.booleans(),
                         "direction": st.sampled_from(["in", "out"]),
                         # attributes are sent as written: placeholders ({{ From }}) only in texts
                         "stringKey1": _texts.filter(lambda t: "{{" not in t)}),
    "Sms": _optional({"to": _numbers, "from": _numbers}),
    "Override": st.fixed_dictionaries(
        {"statusCallbackUrl": st.sampled_from(["https://cb.example.com/status", "/status"])},
        optional={"statusCallbackMethod": st.sampled_from(["POST", "GET", "get", "Post"])}),
    "Redirect": _optional({"method": st.sampled_from(["POST", "GET", "get"])}),
    "Hangup": st.just({}),
    "Reject": _optional({"reason": st.sampled_from(["rejected", "busy"])}),
}


@st.composite
def _step(draw, type_: str) -> dict:
    node: dict = {"type": type_}
    if type_ in _ATTRS:
        attrs = draw(_ATTRS[type_])
        if attrs:
            node["attrs"] = attrs
    if type_ in ("Say", "Sms"):
        node["text"] = draw(_texts)
    elif type_ == "Play":
        if draw(st.integers(0, 3)) == 0:  # a live stream: streaming on, and no forward/rewind keys
            node["text"] = draw(_streams)
            node["attrs"] = {**{k: v for k, v in node.get("attrs", {}).items() if k != "forwardOnKey"},
                             "streaming": True, **draw(_optional({"timeLimit": st.integers(1, 600)}))}
        else:
            node["text"] = draw(_media)
    elif type_ == "Redirect":
        node["text"] = draw(_redirects)
    elif type_ == "Dial":
        node["numbers"] = draw(st.lists(_numbers, min_size=1, max_size=3))
    elif type_ == "Gather":
        options = draw(st.lists(st.text(KEYS, min_size=1, max_size=2), min_size=1, max_size=4, unique=True))
        attrs = draw(_optional({"timeout": st.integers(1, 10)}))
        if draw(st.booleans()):
            attrs["numDigits"] = max(len(o) for o in options) + draw(st.integers(0, 1))
        if draw(st.booleans()):
            attrs["finishOnKey"] = draw(st.sampled_from(["#", "_", "none"]))  # or no finish key
        node["attrs"] = attrs
        node["options"] = options
        node["retries"] = draw(st.integers(0, 3))
        node["prompt"] = draw(st.lists(
            st.one_of(st.builds(lambda t: {"type": "Say", "text": t}, _texts),
                      st.builds(lambda u: {"type": "Play", "text": u}, _media)),
            min_size=1, max_size=2))
    elif type_ == "Hours":
        node["timezone"] = draw(st.sampled_from(["America/New_York", "Europe/London", "UTC"]))
        node["open"] = {"mon": [draw(_ranges)], "wed": ["09:00-12:00", "13:00-17:00"], "sat": []}
        node["closed_dates"] = draw(st.sampled_from([[], ["12-25"], ["2026-12-24", "01-01"]]))
    elif type_ == "Split":
        node["value"] = draw(st.sampled_from(["{{ From }}", "{{ Digits }}", "{{ To }}", "{{ CallerName }}"]))
        tests = draw(st.lists(_SPLIT_TESTS, min_size=1, max_size=3))
        node["cases"] = [{"branch": f"case-{i}", **t} for i, t in enumerate(tests)]
    elif type_ == "Set":
        node["vars"] = draw(st.sampled_from([{"language": "es"}, {"caller": "{{ From }}", "mood": "<&\"'>"}]))
    node["x"], node["y"] = draw(st.integers(-500, 500)), draw(st.integers(-500, 500))
    return node


def _outputs(node: dict, decisions: bool = False) -> list[str]:
    """The branches a new step offers to later steps."""
    type_ = node["type"]
    if type_ == "Hours":
        return ["open", "closed"]
    if type_ == "Split":
        return [*(c["branch"] for c in node["cases"]), "else"]
    if type_ == "Dial" and decisions:
        return ["next", "no-answer"]
    if type_ in TERMINAL or type_ == "Reject":
        return []
    if type_ == "Gather":
        return [*node["options"], "timeout", "invalid"]
    if type_ in ("Play", "Record"):
        return ["next", "error"]
    return ["next"]


@st.composite
def valid_flows(draw, min_steps: int = 1, max_steps: int = 14, decisions: bool = False) -> nx.DiGraph:
    """A random flow that validates without a single problem (see the module docstring)."""
    count = draw(st.integers(min_steps, max_steps))
    graph = nx.DiGraph(id=f"prop-{draw(st.integers(0, 999))}", name="Property flow", start="s0", format=1)
    open_slots: list[tuple[str, str]] = []  # (step, branch) not yet connected
    required: set[tuple[str, str]] = set()  # menu options and timeouts must end up connected
    gotos: list[str] = []

    def add(type_: str, parent: tuple[str, str] | None) -> str:
        node_id = f"s{len(graph)}"
        data = draw(_step(type_))
        graph.add_node(node_id, **data)
        if parent is not None:
            add_branch(graph, parent[0], node_id, parent[1])
            open_slots.remove(parent)
            required.discard(parent)
        for branch in _outputs(data, decisions):
            open_slots.append((node_id, branch))
            if type_ == "Gather" and (branch != "invalid" or not data["retries"]):
                required.add((node_id, branch))
            if type_ in DECIDING:  # an unconnected decision output is a warning
                required.add((node_id, branch))
        if type_ == "Goto":
            gotos.append(node_id)
        return node_id

    add(draw(st.sampled_from(_STARTS_DECISIONS if decisions else _STARTS)), None)
    while len(graph) < count and open_slots:
        parent = draw(st.sampled_from(open_slots))
        add(draw(st.sampled_from(_DRAWN_DECISIONS if decisions else _DRAWN)), parent)

    # Spare outputs join later steps (a step reached from two places) ...
    order = {n: i for i, n in enumerate(graph.nodes)}
    for slot in list(open_slots):
        later = [n for n in graph.nodes if order[n] > order[slot[0]]]
        if later and draw(st.integers(0, 3)) == 0:
            add_branch(graph, slot[0], draw(st.sampled_from(later)), slot[1])
            open_slots.remove(slot)
            required.discard(slot)
    # ... and a menu's options and timeout always lead somewhere.
    for slot in sorted(required, key=lambda s: (order[s[0]], s[1])):
        add(draw(st.sampled_from(("Hangup", "Goto", "Say"))), slot)

    # Go to steps jump anywhere but to themselves or another Goto, most often to a menu.
    targets = [n for n, d in graph.nodes(data=True) if d["type"] not in ("Goto", "Override")]  # Override: top only
    menus = [n for n in targets if graph.nodes[n]["type"] == "Gather"]
    for goto in gotos:
        if not targets:  # only the Override start and Go to steps: nowhere to jump, so the call ends here
            graph.nodes[goto]["type"] = "Hangup"
            continue
        pool = menus if menus and draw(st.booleans()) else targets
        graph.nodes[goto]["target"] = draw(st.sampled_from(pool))
        if silent_loops(graph):  # a menu's no-input path may not lead back to it with no limit (a warning)
            safe = [t for t in targets if not silent_loops(_jumping(graph, goto, t))]
            if safe:
                graph.nodes[goto]["target"] = draw(st.sampled_from(safe))
            else:
                graph.nodes[goto].pop("target")
                graph.nodes[goto]["type"] = "Hangup"
    return graph


def _jumping(graph: nx.DiGraph, goto: str, target: str) -> nx.DiGraph:
    graph = graph.copy()
    graph.nodes[goto]["target"] = target
    return graph


def valid_flow_data(min_steps: int = 1, max_steps: int = 14) -> st.SearchStrategy[dict]:
    """``valid_flows`` as node-link dicts, as a flow file holds them."""
    return valid_flows(min_steps, max_steps).map(to_data)


def make_flow(nodes: dict[str, dict], edges: list[tuple] = (), start: str | None = None,
              flow_id: str = "t", **graph_attrs) -> nx.DiGraph:
    """A small hand-written flow: ``nodes`` maps id → fields, ``edges`` holds
    ``(source, target)`` or ``(source, target, branch)``; the start defaults to the first node."""
    graph = nx.DiGraph(id=flow_id, name=graph_attrs.pop("name", flow_id),
                       start=start if start is not None else next(iter(nodes)), format=1, **graph_attrs)
    for node_id, fields in nodes.items():
        graph.add_node(node_id, **fields)
    for source, target, *branch in edges:
        add_branch(graph, source, target, branch[0] if branch else "next")
    return graph
