"""The voicemail inbox in the store (SQLite and PostgreSQL): filled from the host's "recording" events as they
are written, listed per flow, counted, marked heard, deleted."""

from __future__ import annotations

import pytest

from designer.store import CallEvent, SpoolMark

URL = "https://storage.carrierx.com/files/{}.wav"


def recording(sid: str, flow: str = "main-menu", at: float = 100.0, duration: str = "12", **params) -> CallEvent:
    kept = {"From": "15551230001", "To": "15162065337", "RecordingUrl": URL.format(sid), "RecordingFileSid": sid,
            "RecordingDuration": duration, "answer": "vm-thanks", **params}
    return CallEvent(f"CA-{sid}", flow, "1", "recording", "voicemail", None, at, {k: v for k, v in kept.items() if v})


@pytest.fixture
def store(any_store):
    return any_store


def test_recording_events_become_voicemails_newest_first_per_flow(store):
    store.record_events([
        CallEvent("CA-a", "main-menu", "1", "document", "welcome", None, 99.0, {"From": "15551230001"}),
        recording("a", at=100.0),
        recording("b", flow="after-hours", at=101.0, duration=""),
        recording("c", at=102.0, From="15559990000"),
    ])
    inbox = store.voicemails()
    assert [(v.call_sid, v.flow_id, v.node, v.caller, v.called, v.duration, v.url, v.file_sid, v.new)
            for v in inbox] == [
        ("CA-c", "main-menu", "voicemail", "15559990000", "15162065337", 12, URL.format("c"), "c", True),
        ("CA-b", "after-hours", "voicemail", "15551230001", "15162065337", None, URL.format("b"), "b", True),
        ("CA-a", "main-menu", "voicemail", "15551230001", "15162065337", 12, URL.format("a"), "a", True),
    ]
    assert [v.call_sid for v in store.voicemails("main-menu")] == ["CA-c", "CA-a"]
    assert [v.call_sid for v in store.voicemails(limit=1)] == ["CA-c"]
    assert store.count_new_voicemails() == 3 and store.count_new_voicemails("after-hours") == 1


def test_a_recording_the_host_did_not_keep_is_no_voicemail(store):
    refused = CallEvent("CA-x", "main-menu", "1", "recording", "voicemail", None, 1.0,
                        {"From": "15551230001", "not_stored": "recording from a host not allowed: evil.example"})
    store.record_events([refused, recording("y", not_stored="no RecordingUrl in the request: nothing stored")])
    assert store.voicemails() == [] and store.count_new_voicemails() == 0
    assert [e.kind for e in store.call_events("CA-x")] == ["recording"]  # the event itself is kept


def test_the_carrier_sending_the_same_recording_twice_leaves_one_voicemail(store):
    store.record_events([recording("a")])
    store.record_events([recording("a", at=100.5)])
    assert len(store.voicemails()) == 1


def test_marking_heard_counts_once_and_deleting_removes_only_that_one(store):
    store.record_events([recording("a", at=1.0), recording("b", at=2.0)])
    b, a = store.voicemails()
    store.mark_voicemail_heard(a.id)
    first = store.voicemails()[1].heard_at
    store.mark_voicemail_heard(a.id)
    assert store.voicemails()[1].heard_at == first and first is not None
    assert store.count_new_voicemails() == 1
    store.delete_voicemail(b.id)
    assert [v.call_sid for v in store.voicemails()] == ["CA-a"]
    assert store.count_new_voicemails() == 0
    store.delete_voicemail(b.id)  # already gone: nothing happens
    store.mark_voicemail_heard(99999)


def test_voicemails_moved_in_from_a_spool_land_with_their_events(store):
    rows = [recording("s", at=5.0).row()]
    store.record_rows(rows, SpoolMark("spool-1", "tag", 0, 100, 1))
    assert [v.call_sid for v in store.voicemails()] == ["CA-s"]
