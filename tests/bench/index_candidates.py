"""The traffic index candidates compared, for ``bench_traffic.py --candidates``.

For each backend (a SQLite file; a throwaway PostgreSQL cluster when one is installed) and each candidate in
CANDIDATES, in the same run:

- what the index costs the event writer: ``--write-events`` events of the scripted calls, in time order, written
  through ``record_rows`` in batches of ``--batch`` into a fresh store that has only that candidate (the
  candidates take turns, three rounds; the fastest run of each, the machine being shared);
- what it buys: one store filled with ``--events`` events (without a traffic index), then for each candidate
  the index is built, the store is closed and opened again (a new connection, or a new pool), and the timeline
  of one call and main-menu revision 2's traffic over 30 days are timed: the first answer and the best of five.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pgcluster

from designer import revision_facts, services
from designer.context import AppContext
from designer.store import open_store

# name: (the index's columns on SQLite, on PostgreSQL); None: no traffic index at all
CANDIDATES = {
    "none": None,
    "(flow_id, rev, at): schema 6": ("(flow_id, rev, at)", "(flow_id, rev, at)"),
    "(flow_id, rev, at, kind, call_sid)": ("(flow_id, rev, at, kind, call_sid)",
                                           "(flow_id, rev, at, kind, call_sid) INCLUDE (id)"),
    "7 columns (schema 6 as first built)": ("(flow_id, rev, at, kind, call_sid, target, digits)",
                                            "(flow_id, rev, at, kind, call_sid, target, digits) INCLUDE (id)"),
}


def set_index(url_or_path: str, columns: tuple[str, str] | None, postgres: bool) -> None:
    """Replace the store's traffic index by the candidate's (or drop it); PostgreSQL then gets VACUUM ANALYZE,
    as autovacuum would do after a bulk load."""
    statements = ["DROP INDEX IF EXISTS events_traffic"]
    if columns is not None:
        statements.append(f"CREATE INDEX events_traffic ON events {columns[1] if postgres else columns[0]}")
    if postgres:
        import psycopg

        with psycopg.connect(url_or_path, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)
            conn.execute("VACUUM ANALYZE events")
    else:
        import sqlite3

        conn = sqlite3.connect(url_or_path)
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.close()


def write_cost(new_store, rows: list[tuple], batch: int, rounds: int = 3) -> dict[str, float]:
    """µs per event written into a fresh store with each candidate (fastest of ``rounds``, candidates in turn)."""
    runs: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    for _ in range(rounds):
        for name, columns in CANDIDATES.items():
            where, postgres = new_store()
            open_store(where).close()  # the schema
            set_index(where, columns, postgres)
            store = open_store(where)
            try:
                start = time.perf_counter()
                for i in range(0, len(rows), batch):
                    store.record_rows(rows[i:i + batch])
                runs[name].append((time.perf_counter() - start) / len(rows) * 1e6)
            finally:
                store.close()
    return {name: min(times) for name, times in runs.items()}


def answers(where: str, sid: str, timed) -> tuple[tuple[float, float], tuple[float, float], int]:
    """(timeline first, best), (traffic first, best) in ms on a store just opened, and the traffic's calls."""
    store = open_store(where)
    try:
        ctx = AppContext(store=store, table=None, public_url="https://ivr.example.com")
        revision_facts._cache.clear()
        timeline = timed(lambda: services.call_timeline(ctx, sid))
        store.close()
        store = open_store(where)  # the traffic's first answer also on a fresh connection
        ctx = AppContext(store=store, table=None, public_url="https://ivr.example.com")
        revision_facts._cache.clear()
        traffic = timed(lambda: services.traffic(ctx, "main-menu", 2, days=30))
        calls = services.traffic(ctx, "main-menu", 2, days=30).calls
    finally:
        store.close()
    return timeline, traffic, calls


def compare(backend: str, new_store, args, templates, fill, timed) -> None:
    where, postgres = new_store()
    store = open_store(where)
    ctx = AppContext(store=store, table=None, public_url="https://ivr.example.com")
    samples = templates(ctx)
    sample_rows = _rows(samples, args.write_events, fill)
    costs = write_cost(new_store, sample_rows, args.batch)
    set_index(where, None, postgres)
    events, calls, sid = fill(store, samples, args.events)
    store.close()
    print(f"\n{backend}: write cost of {len(sample_rows):,} events in batches of {args.batch:,} (fresh stores, "
          f"best of 3); answers over {events:,} events of {calls:,} calls, first after reopening / best of 5")
    base = costs["none"]
    print(f"  {'traffic index':<36} {'µs/event':>9} {'vs none':>8}   {'timeline':>17}   {'traffic, 30 days':>17}")
    for name, columns in CANDIDATES.items():
        set_index(where, columns, postgres)
        (tl_first, tl), (tr_first, tr), n = answers(where, sid, timed)
        verdict = "ok" if max(tl_first, tr_first) < 300 else "OVER 300 ms"
        print(f"  {name:<36} {costs[name]:9.1f} {costs[name] / base:7.2f}×   "
              f"{tl_first:7.1f} / {tl:6.1f} ms   {tr_first:7.1f} / {tr:6.1f} ms  ({n:,} calls) {verdict}")


def _rows(samples: list, events: int, fill) -> list[tuple]:
    """The events ``fill`` would write for ``events`` events, as one list (in time order)."""
    class Collect:
        rows: list[tuple] = []

        def record_rows(self, rows):
            self.rows.extend(rows)

    sink = Collect()
    fill(sink, samples, events, seed=61)
    return sink.rows


def main(args, templates, fill, timed) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["FLEXML_STATE_DIR"] = str(Path(tmp) / "state")
        counter = iter(range(1_000_000))
        compare("SQLite", lambda: (str(Path(tmp) / f"s{next(counter)}.sqlite"), False), args, templates, fill,
                timed)
        if not pgcluster.available():
            print("PostgreSQL is not installed: skipped")
            return
        cluster = pgcluster.Cluster()
        cluster.start()
        try:
            compare("PostgreSQL", lambda: (cluster.new_database(), True), args, templates, fill, timed)
        finally:
            cluster.stop()
