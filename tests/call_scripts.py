"""Calls through the designer's own host into its store, for the timeline and traffic tests: a flow with every
verb a timeline shows (say, menu, text, transfer with an outcome, recording, hours, split, set), published, and
simulated callers following scripts."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from designer import services
from designer.host import FlowTable
from designer.host.events import EventRecorder
from designer.simulator import ScriptedCaller, simulate_call

NY = ZoneInfo("America/New_York")
TUESDAY_10AM = datetime(2026, 12, 1, 10, 0, tzinfo=NY)  # open
VIP = "15551230001"
OTHER = "15557770000"
MAIN_LINE = "15162065337"

FRONT_DESK = {
    "directed": True, "multigraph": False,
    "graph": {"id": "front-desk", "name": "Front desk", "start": "welcome", "format": 1},
    "nodes": [
        {"id": "welcome", "type": "Say", "text": "Welcome to Acme.", "x": 0, "y": 0},
        {"id": "hours", "type": "Hours", "timezone": "America/New_York",
         "open": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}, "x": 0, "y": 100},
        {"id": "closed", "type": "Say", "text": "We are closed.", "x": 300, "y": 100},
        {"id": "lang", "type": "Set", "vars": {"language": "en"}, "x": 0, "y": 200},
        {"id": "who", "type": "Split", "value": "{{ From }}", "cases": [{"branch": "vip", "equals": [VIP]}],
         "x": 0, "y": 300},
        {"id": "desk", "type": "Dial", "numbers": ["15162065340"], "x": -300, "y": 400},
        {"id": "sorry", "type": "Say", "text": "Nobody answered.", "x": -300, "y": 500},
        {"id": "menu", "type": "Gather", "attrs": {"numDigits": 1, "timeout": 5}, "retries": 1,
         "options": ["1", "2"], "prompt": [{"type": "Say", "text": "For a text, press 1. To leave a message, press 2."}],
         "x": 0, "y": 400},
        {"id": "text", "type": "Sms", "attrs": {"to": "15162065343"}, "text": "Call from {{ From }}.", "x": 300, "y": 500},
        {"id": "vm", "type": "Record", "attrs": {"maxLength": 60, "finishOnKey": "#"}, "x": 0, "y": 500},
        {"id": "thanks", "type": "Say", "text": "Thank you.", "x": 0, "y": 600},
        {"id": "bye", "type": "Hangup", "x": 0, "y": 700},
    ],
    "edges": [
        {"source": "welcome", "target": "hours"},
        {"source": "hours", "target": "lang", "branch": "open"},
        {"source": "hours", "target": "closed", "branch": "closed"},
        {"source": "lang", "target": "who"},
        {"source": "who", "target": "desk", "branch": "vip"},
        {"source": "who", "target": "menu", "branch": "else"},
        {"source": "desk", "target": "bye"},
        {"source": "desk", "target": "sorry", "branch": "no-answer"},
        {"source": "sorry", "target": "menu"},
        {"source": "menu", "target": "text", "branch": "1"},
        {"source": "menu", "target": "vm", "branch": "2"},
        {"source": "text", "target": "thanks"},
        {"source": "vm", "target": "thanks"},
        {"source": "thanks", "target": "bye"},
    ],
}


def serve(ctx, graph: dict = FRONT_DESK, now: datetime = TUESDAY_10AM) -> str:
    """Store, publish and serve ``graph`` in ``ctx``'s own host, its events recorded into the store; the flow id."""
    ctx.table = FlowTable(now=lambda: now)
    ctx.recorder = EventRecorder(ctx.store.record_events, interval=0.02)
    record = services.import_flow(ctx, json.dumps(graph).encode(), "flow.json")[0]
    services.publish(ctx, record.id)
    return record.id


def call(ctx, flow_id: str, *digits: str, from_: str = OTHER, flows=None, **caller) -> object:
    """One simulated call of the published flow through the designer's host; its result, events stored.
    ``flows`` (compiled) names the step of each verb in the result; ``caller`` goes to the ScriptedCaller."""
    host = services.published_host(ctx, flow_id)
    result = asyncio.run(simulate_call(host.url(flow_id), caller=ScriptedCaller(digits=list(digits), **caller),
                                       transport=host.transport, status_callback_url=host.status_url,
                                       from_=from_, to=MAIN_LINE, flows=flows))
    assert ctx.recorder.flush(timeout=10)
    return result
