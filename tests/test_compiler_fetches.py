"""How many HTTP fetches a caller's path costs: the compiler inlines wherever FlexML allows."""

from __future__ import annotations

import json

from lxml import etree

from compiler import CompiledFlow, compile_flow, loads
from compiler.examples import example
from tests.flowwalk import resolve
from tests.test_flow_file import DESIGN_EXAMPLE


def call(compiled: CompiledFlow, keys: list[str | None], limit: int = 20,
         decide: dict[str, str] | None = None) -> tuple[list[str], list[str]]:
    """Play a call through the documents like the carrier would; ``None`` in ``keys`` is no input.

    A Redirect to a decision (``…/{node}/decide``) is what the host replaces by the branch's verbs in the
    same answer: no fetch; ``decide`` names the branch taken (default: the step's first, e.g. ``open``).

    Returns the URLs fetched (the first is the flow's entry) and what the caller
    met on the way (``Say:<text>``, ``Dial:<numbers>``, ``Record``, ``Hangup``). A Record's action (the
    host's ``recorded`` route) is fetched, and answers with the document that follows the Record.
    """
    keys = list(keys)
    fetched = [f"/flexml/{compiled.flow}"]
    heard: list[str] = []
    doc = compiled.start
    while len(fetched) < limit:
        following = None
        for verb in etree.fromstring(compiled.documents[doc]):
            if verb.tag == "Say":
                heard.append(f"Say:{verb.text}")
            elif verb.tag == "Dial":
                heard.append("Dial:" + ",".join(n.text for n in verb))
            elif verb.tag == "Hangup":
                heard.append(verb.tag)
                return fetched, heard
            elif verb.tag == "Record":
                heard.append(verb.tag)
                if verb.get("action"):  # the recording's details go to the host, which answers with the rest
                    following = verb.get("action")
                    kind, node, _ = resolve(compiled, following)
                    assert kind == "recorded"
                    doc = compiled.recordings[node]
                    break
            elif verb.tag == "Gather":
                heard.append("Gather")
                key = keys.pop(0) if keys else None
                if key is not None:
                    following = verb.get("action")
                    kind, node, attempt = resolve(compiled, following)
                    doc = compiled.routers[node].route(key, attempt)
                    break
            elif verb.tag == "Redirect":
                following = verb.text
                kind, doc, _ = resolve(compiled, following)
                if kind == "decide":
                    decision = compiled.decisions[doc]
                    doc = decision.branches[(decide or {}).get(doc, next(iter(decision.branches)))]
                    following = "inline"
                break
        if following is None:
            return fetched, heard
        if following == "inline":
            if doc is None:
                return fetched, heard
            continue
        fetched.append(following)
        if doc is None:  # the router ended the call
            return fetched, heard
    raise AssertionError("the call did not end")


def test_welcome_menu_press_1_transfer_is_two_fetches():
    compiled = compile_flow(loads(json.dumps(DESIGN_EXAMPLE)))
    fetched, heard = call(compiled, ["1"])
    assert fetched == ["/flexml/acme-main", "/flexml/acme-main/1/menu/gather"]
    assert heard == ["Say:Welcome to Acme.", "Gather", "Dial:15162065340"]


def test_main_menu_example_press_1_is_two_fetches_and_a_voicemail_one_more():
    compiled = compile_flow(example("main-menu"))
    fetched, heard = call(compiled, ["1"])
    assert len(fetched) == 2 and heard[-1] == "Dial:15162065340"
    fetched, heard = call(compiled, ["2"])
    # the third is the Record's action: the carrier's one request with the recording, which the host keeps
    # as a voicemail; its answer is the rest of the flow itself, no Redirect to fetch after it
    assert fetched == ["/flexml/main-menu", "/flexml/main-menu/1/menu/gather", "/flexml/main-menu/1/voicemail/recorded"]
    assert heard[-3:] == ["Record", "Say:Thank you. Goodbye.", "Hangup"]


def test_no_input_path_runs_inline_without_a_fetch():
    compiled = compile_flow(loads(json.dumps(DESIGN_EXAMPLE)))
    fetched, heard = call(compiled, [])
    assert fetched == ["/flexml/acme-main"]
    assert heard == ["Say:Welcome to Acme.", "Gather", "Hangup"]


def test_menu_again_by_goto_then_an_option_costs_one_fetch_each():
    compiled = compile_flow(example("main-menu"))
    # no choice → "We did not hear a choice." and the ask-again menu, in the same document → press 1: its Go to
    # the menu is answered by the router with the menu's document → press 0 → operator
    fetched, heard = call(compiled, [None, "1", "0"])
    assert fetched == ["/flexml/main-menu", "/flexml/main-menu/1/ask-again/gather", "/flexml/main-menu/1/menu/gather"]
    assert heard == ["Say:Thank you for calling Acme.", "Gather", "Say:We did not hear a choice.", "Gather", "Gather",
                     "Dial:15162065341"]


def test_wrong_key_is_asked_again_in_one_fetch_then_the_option_in_one_more():
    compiled = compile_flow(example("main-menu"))
    fetched, heard = call(compiled, ["7", "0"])
    assert fetched == ["/flexml/main-menu", "/flexml/main-menu/1/menu/gather",
                       "/flexml/main-menu/1/menu/gather?attempt=2"]
    assert "Say:Sorry, that is not a valid choice." in heard and heard[-1] == "Dial:15162065341"


def test_pin_check_wrong_pin_returns_to_the_prompt_through_the_goto():
    compiled = compile_flow(example("pin-check"))
    fetched, heard = call(compiled, ["9999", "1234"])
    assert heard.count("Gather") == 2 and heard[-1] == "Dial:15162065342"
    assert len(fetched) == 4  # entry, router → wrong PIN, Go to the prompt, router → granted
