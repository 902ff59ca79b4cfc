"""The event spool: whole records only, each moved into SQLite exactly once, finished files deleted."""

from __future__ import annotations

import logging
import threading

from designer.host.spool import SUFFIX, SpoolWriter, decode, drain, encode
from designer.store import SQLiteStore


def _row(i: int, sid: str = "CA-spool") -> tuple:
    return (sid, "main-menu", "1", "document", "welcome", None, 1000.0 + i, {"From": "15551230000", "n": str(i)})


def _ats(store: SQLiteStore, sid: str = "CA-spool") -> list[float]:
    return sorted(e.at for e in store.call_events(sid))


def test_records_are_moved_once_and_a_new_reader_goes_on_where_the_last_commit_ended(tmp_path):
    folder = str(tmp_path / "db.sqlite.spool")
    writer = SpoolWriter(folder)
    for i in range(10):
        writer.append(_row(i))
    store = SQLiteStore(tmp_path / "db.sqlite")
    assert drain(folder, store) == 10
    assert drain(folder, store) == 0  # nothing new: nothing twice
    store.close()
    for i in range(10, 15):
        writer.append(_row(i))
    again = SQLiteStore(tmp_path / "db.sqlite")  # as a writer process started after a kill would
    assert drain(folder, again) == 5
    assert _ats(again) == [1000.0 + i for i in range(15)]
    assert (tmp_path / "db.sqlite.spool").exists() and len(list((tmp_path / "db.sqlite.spool").iterdir())) == 1
    writer.close()  # finished: the next drain deletes it
    assert drain(folder, again) == 0 and list((tmp_path / "db.sqlite.spool").iterdir()) == []
    assert again.spool_totals(writer.tag) == (15, sum(len(encode(_row(i))) for i in range(15)))


def test_a_record_being_copied_in_is_not_read_until_it_is_whole(tmp_path):
    folder = str(tmp_path / "spool")
    writer = SpoolWriter(folder)
    writer.append(_row(0))
    record = encode(_row(1))
    at = writer.size
    writer._map[at + 8:at + len(record)] = record[8:]  # the payload is in, its length not yet
    store = SQLiteStore(tmp_path / "db.sqlite")
    assert drain(folder, store) == 1
    writer._map[at:at + 8] = record[:8]
    writer.size += len(record)
    assert drain(folder, store) == 1
    assert _ats(store) == [1000.0, 1001.0]


def test_the_cut_end_of_a_killed_writers_file_is_skipped_with_a_warning(tmp_path, caplog):
    folder = tmp_path / "spool"
    folder.mkdir()
    good = encode(_row(0)) + encode(_row(1))
    damaged = bytearray(encode(_row(2)))
    damaged[-1] ^= 0xFF  # the checksum no longer matches
    (folder / f"123-dead-000001{SUFFIX}").write_bytes(good + encode(_row(3))[:20])  # cut short
    other = encode(_row(0, "CA-other")) + encode(_row(1, "CA-other"))
    (folder / f"123-dead-000002{SUFFIX}").write_bytes(other + bytes(damaged))
    store = SQLiteStore(tmp_path / "db.sqlite")
    with caplog.at_level(logging.WARNING, logger="flexml.host"):
        assert drain(str(folder), store) == 4
    assert _ats(store) == [1000.0, 1001.0] and _ats(store, "CA-other") == [1000.0, 1001.0]
    assert list(folder.iterdir()) == []  # no writer holds them: finished, moved, deleted
    assert sum("not a whole call event" in r.message for r in caplog.records) == 2


def test_two_readers_at_once_never_record_an_event_twice(tmp_path):
    folder = str(tmp_path / "spool")
    writers = [SpoolWriter(folder, rotate_bytes=16 << 10) for _ in range(2)]  # small files: many rotations
    stop = threading.Event()
    moved = []

    def reader() -> None:
        store = SQLiteStore(tmp_path / "db.sqlite")
        count = 0
        while not stop.is_set():
            count += drain(folder, store)
        count += drain(folder, store)
        moved.append(count)
        store.close()

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(3000):
        writers[i % 2].append(_row(i))
    for w in writers:
        w.close()
    stop.set()
    for t in threads:
        t.join(60)
    store = SQLiteStore(tmp_path / "db.sqlite")
    assert sum(moved) == 3000
    assert _ats(store) == [1000.0 + i for i in range(3000)]  # each exactly once
    assert list((tmp_path / "spool").iterdir()) == []


def test_decode_names_what_it_found_after_the_whole_records():
    one, two = encode(_row(0)), encode(_row(1))
    assert decode(one + two) == ([_row(0), _row(1)], len(one) + len(two), 0)
    assert decode(one + bytes(64)) == ([_row(0)], len(one), 0)  # zeros: the end
    assert decode(one + two[:10]) == ([_row(0)], len(one), len(two))  # cut: how much the next one needs
    assert decode(one + b"\xff" * 16) == ([_row(0)], len(one), -1)  # a length no record has


def _record(row: object) -> bytes:
    """A record with a whole envelope (length, checksum) around any payload, as a tampered file holds."""
    import marshal
    import zlib

    payload = marshal.dumps(row, 2)
    return len(payload).to_bytes(4, "little") + zlib.adler32(payload).to_bytes(4, "little") + payload


def test_a_tampered_record_that_is_not_an_event_is_skipped_and_every_other_event_still_moves(tmp_path, caplog):
    # attack: a spool record with a good length and checksum whose tuple SQLite cannot store (a list for
    # the CallSid, a params that is not a dict of text) made every drain fail: no event from that file or
    # any later one reached the database, and the writer logged the failure again every cycle
    folder = tmp_path / "spool"
    folder.mkdir()
    poison = [(["CA"], "f", "1", "document", "t", None, 1.0, {}), (*_row(9)[:7], {"From": ["x"]}),
              (*_row(9)[:7], "not a dict"), ("too", "short"), "not a tuple"]
    (folder / f"123-dead-000001{SUFFIX}").write_bytes(
        encode(_row(0)) + b"".join(_record(p) for p in poison) + encode(_row(1)))
    (folder / f"123-dead-000002{SUFFIX}").write_bytes(encode(_row(0, "CA-other")))
    store = SQLiteStore(tmp_path / "db.sqlite")
    with caplog.at_level(logging.WARNING, logger="flexml.host"):
        assert drain(str(folder), store) == 3
    assert _ats(store) == [1000.0, 1001.0] and _ats(store, "CA-other") == [1000.0]
    assert list(folder.iterdir()) == []
    assert sum("not a call event" in r.message for r in caplog.records) == len(poison)


def test_one_answers_events_in_one_record_move_together_and_a_tampered_list_is_skipped_whole(tmp_path, caplog):
    folder = tmp_path / "spool"
    folder.mkdir()
    answer = [_row(0), _row(1), _row(2)]  # two decisions and the answer's own event
    bad = [_row(3), (*_row(4)[:7], "not a dict")]  # one row SQLite cannot store: none of the list is taken
    (folder / f"123-dead-000001{SUFFIX}").write_bytes(encode(answer) + _record(bad) + _record([]) + encode(_row(5)))
    assert decode(encode(answer)) == (answer, len(encode(answer)), 0)
    store = SQLiteStore(tmp_path / "db.sqlite")
    with caplog.at_level(logging.WARNING, logger="flexml.host"):
        assert drain(str(folder), store) == 4
    assert _ats(store) == [1000.0, 1001.0, 1002.0, 1005.0]
    assert sum("not a call event" in r.message for r in caplog.records) == 2
