"""``host --db`` killed with SIGKILL under load: every call the host answered has its event in SQLite, once.

Each case starts the real command as its own process group on a free loopback port, drives a bounded load
from an asyncio client (a unique CallSid per request, remembering which got a whole 200 answer), kills a
process part-way, starts the host again where the kill took it down, waits for the event writers to catch
up and stops it; then looks each answered CallSid up in the database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from killing import integrity, kill_and_recover
from serving import free_port

CASES = {
    # name: (command, workers, what is killed, whether the host must be started again)
    "host": ("host", 1, lambda host: host.answering(), True),
    "writer": ("host", 1, lambda host: host.writers(), False),
    "host-and-writer": ("host", 1, lambda host: host.processes(), True),
    "one-of-two-workers": ("host", 2, lambda host: host.answering()[:1], False),
    "two-workers-and-writers": ("host", 2, lambda host: host.processes(), True),
    "serve": ("serve", 1, lambda host: host.processes(), True),  # the designer's own host
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_answered_call_has_its_event_after_a_sigkill(tmp_path, case):
    command, workers, victims, restart = CASES[case]
    db, log = tmp_path / "events.sqlite", tmp_path / "host.log"
    answered, sent, recorded = kill_and_recover(db, workers, free_port(), log, victims, restart, command=command)
    assert len(answered) > 30, f"too little load to tell: {len(answered)} of {sent} answered"
    missing = answered - set(recorded)
    assert not missing, f"{len(missing)} of {len(answered)} answered calls have no event"
    assert [sid for sid, n in recorded.items() if n > 1] == []  # no event recorded twice
    assert len(recorded) <= sent
    assert integrity(db) == "ok"
    stderr = log.read_text(errors="replace")
    assert "Traceback" not in stderr and "Error:" not in stderr, stderr
    assert [p.name for p in Path(str(db) + ".spool").iterdir()] == []  # every spool file moved, then deleted
