"""Benchmark: a call's timeline and the traffic overlay with 1,000,000 call events in the store (issue 16).

    .venv/bin/python tests/bench/bench_traffic.py [--events 1000000] [--postgres URL|auto]

The store is filled with realistic calls: three flows with three revisions each are published, scripted
callers (menus, wrong keys, silence, transfers answered and not, texts, voicemail) call every revision through
the designer's own host, and the events the host recorded are copied with fresh call ids over 90 days until
the table holds ``--events`` rows. Prints the time to answer one call's timeline and the traffic of one
revision over 30 days (the first answer, and the best of five; then the first answers again on the store opened
afresh: a new connection, or a new pool), each against a plain ``SELECT count(*) FROM events`` measured in the
same run on the same database. Target: each under 300 ms.

``--candidates`` compares the traffic index candidates instead (tests/bench/index_candidates.py): what each
costs the event writer per event and what the timeline and traffic answers take with it, on SQLite and
PostgreSQL in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from call_scripts import FRONT_DESK, MAIN_LINE, OTHER, VIP  # noqa: E402

from compiler.catalogue import STEPS  # noqa: E402
from compiler.examples import example  # noqa: E402
from designer import revision_facts, services  # noqa: E402
from designer.context import AppContext  # noqa: E402
from designer.host import FlowTable  # noqa: E402
from designer.host.inprocess import hosted  # noqa: E402
from designer.simulator import ScriptedCaller, simulate_call  # noqa: E402
from designer.store import SQLiteStore, open_store  # noqa: E402
from call_scripts import TUESDAY_10AM  # noqa: E402

DAYS = 90
SCRIPTS = [(("1",), {}), (("2",), {}), (("0",), {"dial_outcome": "busy"}), (("9", "9", "9"), {}), (("",), {}),
           (("5", "2"), {}), ((), {"patience": 0}), (("1234",), {}), ((), {"from_": VIP}),
           ((), {"from_": VIP, "dial_outcome": "noanswer"}), (("12#", "1234"), {})]


def flows() -> list[dict]:
    return [FRONT_DESK, nx.node_link_data(example("main-menu"), edges="edges"),
            nx.node_link_data(example("pin-check"), edges="edges")]


def templates(ctx: AppContext) -> list[tuple[str, str, list[tuple]]]:
    """(flow, rev, the events the host recorded for one call) for each script on each revision of each flow."""
    ctx.table = FlowTable(now=lambda: TUESDAY_10AM)
    out = []
    for graph in flows():
        record = services.import_flow(ctx, json.dumps(graph).encode(), "flow.json")[0]
        for rev in range(1, 4):
            draft = json.loads(services.find_flow(ctx, record.id).graph_json)
            said = next(n for n in draft["nodes"] if STEPS[n["type"]].text == "speech" and n.get("text"))
            said["text"] += f" (version {rev})"
            ctx.store.save_flow(record.id, json.dumps(draft), services.find_flow(ctx, record.id).version)
            services.publish(ctx, record.id)
            for digits, caller in SCRIPTS:
                kw = dict(caller)
                from_ = kw.pop("from_", OTHER)
                seen: list = []
                h = hosted(table=ctx.table, on_event=seen.append)
                asyncio.run(simulate_call(h.url(record.id, str(rev)), caller=ScriptedCaller(digits=list(digits), **kw),
                                          transport=h.transport, status_callback_url=h.status_url, from_=from_,
                                          to=MAIN_LINE))
                if seen:
                    out.append((record.id, str(rev), [e.row() for e in seen]))
    return out


def calls_in_time_order(samples: list, events: int, seed: int, now: float):
    """(flow, the sample's events, start time) of calls started over DAYS days before ``now``, oldest first,
    until they hold about ``events`` events: the events table fills in time order, as the event writer fills
    it (a call's events stay a few minutes apart, between other calls' events)."""
    rng = random.Random(seed)
    weights = [len(rows) ** 4 for _, _, rows in samples]  # longer calls more often: about 7 events a call
    picked, total = [], 0
    while total < events:
        flow, _rev, rows = rng.choices(samples, weights)[0]
        picked.append((flow, rows))
        total += len(rows)
    starts = sorted(now - rng.random() * DAYS * 86400 for _ in picked)
    for (flow, rows), start in zip(picked, starts):
        yield flow, rows, start


def fill(store, samples: list, target: int, seed: int = 16) -> tuple[int, int, str]:
    """Copy the sampled calls with fresh ids over DAYS days until ``target`` events; (events, calls, one sid)."""
    written = calls = 0
    batch: list[tuple] = []
    one = ""
    now = time.time()
    for flow, rows, start in calls_in_time_order(samples, target, seed, now):
        first = rows[0][6]
        sid = f"CA{calls:08x}"
        calls += 1
        for (_, f, r, kind, target_, digits, at, params) in rows:
            batch.append((sid, f, r, kind, target_, digits, start + (at - first), params))
        written += len(rows)
        if not one and flow == "main-menu" and len(rows) >= 6 and start > now - 20 * 86400:
            one = sid
        if len(batch) >= 20_000:
            store.record_rows(batch)
            batch = []
    if batch:
        store.record_rows(batch)
    return written, calls, one


def timed(fn, rounds: int = 5) -> tuple[float, float]:
    """(first call, best of ``rounds``) in milliseconds."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times[0], min(times)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=1_000_000)
    p.add_argument("--postgres", help="a PostgreSQL URL to fill instead of a SQLite file (an empty database), "
                   "or 'auto' for a throwaway cluster (tests/pgcluster.py)")
    p.add_argument("--explain", action="store_true", help="also print the traffic queries' plans")
    p.add_argument("--candidates", action="store_true",
                   help="compare the traffic index candidates (CANDIDATES) on SQLite and PostgreSQL in one run: "
                        "µs per event written, and the timeline and traffic answers, first after reopening the "
                        "store and best of five")
    p.add_argument("--write-events", type=int, default=200_000, help="events written per store to price an index")
    p.add_argument("--batch", type=int, default=2000, help="events per record_rows call when pricing (the event "
                   "writer moves up to 2 MB of records, a few thousand events, per transaction under load)")
    args = p.parse_args()
    if args.candidates:
        import index_candidates

        index_candidates.main(args, templates, fill, timed)
        return
    cluster = None
    if args.postgres == "auto":
        import os

        import pgcluster

        cluster = pgcluster.Cluster()
        cluster.start()
        args.postgres = cluster.new_database()
        os.environ["FLEXML_STATE_DIR"] = tempfile.mkdtemp(prefix="flexml-bench-state-")
    try:
        run(args)
    finally:
        if cluster is not None:
            cluster.stop()


def run(args) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.postgres) if args.postgres else SQLiteStore(Path(tmp) / "bench.sqlite")
        ctx = AppContext(store=store, table=None, public_url="https://ivr.example.com")
        samples = templates(ctx)  # (their events went to lists, not the store)
        t0 = time.perf_counter()
        events, calls, sid = fill(store, samples, args.events)
        filled = time.perf_counter() - t0
        if args.postgres:  # what autovacuum does after a bulk load: statistics and the visibility map
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE events")
        total = events
        backend = "PostgreSQL" if args.postgres else "SQLite"
        print(f"{backend}: {total:,} events of {calls:,} calls ({events / calls:.1f} per call), "
              f"3 flows × 3 revisions, {DAYS} days; filled in {filled:.1f} s")
        count = _counter(store, args.postgres)
        base_first, base = timed(count)
        revision_facts._cache.clear()  # the first timeline reads the revision's bundle
        tl_first, tl = timed(lambda: services.call_timeline(ctx, sid))
        timeline = services.call_timeline(ctx, sid)
        revision_facts._cache.clear()
        tr_first, tr = timed(lambda: services.traffic(ctx, "main-menu", 2, days=30))
        traffic = services.traffic(ctx, "main-menu", 2, days=30)
        print(f"SELECT count(*) FROM events (baseline): first {base_first:7.1f} ms, best {base:7.1f} ms")
        print(f"timeline of one call ({len(timeline.entries)} lines): first {tl_first:7.1f} ms, best {tl:7.1f} ms "
              f"({tl / base:.3f}× baseline)")
        print(f"traffic, main-menu revision 2, 30 days ({traffic.calls:,} calls): first {tr_first:7.1f} ms, "
              f"best {tr:7.1f} ms ({tr / base:.2f}× baseline)")
        if args.explain:
            _explain(store, args.postgres)
        store.close()
        import index_candidates  # the first answers again, each on a store opened afresh (a new connection or pool)

        (tl_cold, _), (tr_cold, _), _ = index_candidates.answers(args.postgres or store.path, sid, timed)
        print(f"after reopening the store: timeline first {tl_cold:7.1f} ms, traffic first {tr_cold:7.1f} ms")
        verdict = "under" if max(tl_first, tr_first, tl_cold, tr_cold) < 300 else "OVER"
        print(f"target: each under 300 ms — {verdict}")


def _explain(store, url: str | None) -> None:
    from designer.store.base import traffic_queries

    since = time.time() - 30 * 86400
    args = ("main-menu", "2", since, time.time())
    if url:
        import psycopg

        queries = traffic_queries("%s", lambda column, name: f"(({column})::json ->> '{name}')")
        with psycopg.connect(url) as conn:
            for q in queries:
                print("\n".join(r[0] for r in conn.execute("EXPLAIN ANALYZE " + q, args)))
    else:
        import sqlite3

        queries = traffic_queries("?", lambda column, name: f"json_extract({column}, '$.{name}')")
        conn = sqlite3.connect(store.path)
        for q in queries:
            print("\n".join(str(r) for r in conn.execute("EXPLAIN QUERY PLAN " + q, args)))


def _counter(store, url: str | None):
    if url:
        import psycopg

        conn = psycopg.connect(url)
        return lambda: conn.execute("SELECT count(*) FROM events").fetchone()
    import sqlite3

    conn = sqlite3.connect(store.path)
    return lambda: conn.execute("SELECT count(*) FROM events").fetchone()


if __name__ == "__main__":
    main()
