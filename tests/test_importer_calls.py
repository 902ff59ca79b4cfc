"""Imported documents, compiled and hosted, play to a (simulated) caller what the originals said."""

from __future__ import annotations

from pathlib import Path

import httpx

from compiler import compile_flow
from compiler.importer import import_path
from designer.host import FlowTable, create_host_app
from designer.simulator import ScriptedCaller, simulate_call

FIXTURES = Path(__file__).parent / "fixtures" / "import"


async def call(path: Path, *digits: str | None):
    result = import_path(path)
    compiled = compile_flow(result.graph)
    table = FlowTable()
    table.serve_revision(compiled, current=True)
    transport = httpx.ASGITransport(app=create_host_app(table))
    return await simulate_call(f"http://host/flexml/{compiled.flow}", transport=transport,
                               caller=ScriptedCaller(digits=list(digits)), flows=[compiled])


async def test_reference_sample_without_keys_says_so_and_hangs_up():
    result = await call(FIXTURES / "reference" / "call-flow-gather.xml")
    assert result.ok, result.reason
    assert [s.strip() for s in result.said()] == ["Please enter the extension of the party you would like to "
                                                  "reach.", "You did not enter an extension."]
    assert "hangup" in result.kinds()


async def test_twiml_set_any_key_reaches_the_transfer():
    result = await call(FIXTURES / "twiml", "1")
    said = result.said()
    assert said[:2] == ["Thanks for calling the E.T. Phone Home Service.",
                        "Press 1 to talk to someone. Press 2 to leave a message."]
    assert "You will now be connected." in said
    dials = [e for e in result.events if e.kind == "dial"]
    assert dials and "+14155550100" in dials[0].text
    # after the transfer the call goes to the Dial's action, outside the imported set
    assert result.fetched()[-1].startswith("https://example.com/after-dial")


async def test_linked_set_loops_back_to_the_start_when_nobody_presses_a_key():
    result = await call(FIXTURES / "linked", None, None)
    said = result.said()
    assert said.count("Welcome to Acme.") >= 2  # the Redirect back to main.xml became a Go to
