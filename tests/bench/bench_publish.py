"""Benchmark: publish propagation, the time from ``flexml-designer publish`` returning to every host serving
the new revision.

Run from the project root::

    .venv/bin/python tests/bench/bench_publish.py [--db postgresql://… | --db auto] [--publishes 100] [--hosts 2]

Starts ``--hosts`` real ``host --db URL`` processes on loopback (each with its own state folder, as on its
own machine), then publishes main-menu ``--publishes`` times with the real command (in this process) and,
after each returns, polls every host's ``/flexml/main-menu`` until it names the new revision. Prints the
median, p90, p99 and the largest time, for PostgreSQL (LISTEN/NOTIFY) and, with ``--sqlite`` also, a SQLite
file (the change counter poll), in the same run. Target: p99 under 1 s. ``--db auto`` (the default) makes a
throwaway cluster (tests/pgcluster.py). Not collected by pytest (no assertions).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import pgcluster  # noqa: E402
from serving import free_port, wait_until_answering  # noqa: E402

EXAMPLE = ROOT / "compiler" / "examples" / "main-menu.json"


def publish(db: str) -> int:
    """Publish main-menu; the revision number printed."""
    from designer.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["publish", str(EXAMPLE), "--db", db]) == 0
    return int(out.getvalue().split(" revision ")[1].split()[0])


def hosts(db: str, count: int, tmp: Path) -> list[tuple[subprocess.Popen, str]]:
    started = []
    for i in range(count):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
        env["FLEXML_STATE_DIR"] = str(tmp / f"host{i}")
        proc = subprocess.Popen([sys.executable, "-m", "designer", "host", "--db", db, "--port", str(port)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        url = f"http://127.0.0.1:{port}"
        wait_until_answering(proc, url, lambda: "")
        started.append((proc, url))
    return started


def measure(db: str, count: int, publishes: int, tmp: Path) -> list[float]:
    publish(db)
    running = hosts(db, count, tmp)
    times = []
    try:
        with httpx.Client(timeout=5) as client:
            for _ in range(publishes):
                rev = publish(db)
                returned = time.perf_counter()
                wanted = f"/flexml/main-menu/{rev}/menu/gather"
                waiting = [url for _, url in running]
                while waiting:
                    waiting = [u for u in waiting if wanted not in client.get(u + "/flexml/main-menu").text]
                    if time.perf_counter() - returned > 30:
                        raise RuntimeError(f"revision {rev} did not reach {waiting} in 30 s")
                times.append(time.perf_counter() - returned)
    finally:
        for proc, _ in running:
            proc.terminate()
            proc.wait(30)
    return times


def report(label: str, times: list[float]) -> None:
    ms = sorted(t * 1000 for t in times)
    p = lambda q: ms[min(len(ms) - 1, int(round(q * (len(ms) - 1))))]  # noqa: E731
    print(f"{label:<28} {len(ms):>5} {statistics.median(ms):>8.1f} {p(0.9):>8.1f} {p(0.99):>8.1f} {ms[-1]:>8.1f}",
          flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--db", default="auto", help="postgresql://… (an empty database) or 'auto' (default)")
    p.add_argument("--publishes", type=int, default=100)
    p.add_argument("--hosts", type=int, default=2)
    p.add_argument("--sqlite", action="store_true", help="also measure a SQLite store (the change-counter poll)")
    args = p.parse_args()
    cluster = None
    url = args.db
    if args.db == "auto":
        cluster = pgcluster.Cluster()
        cluster.start()
        url = cluster.new_database()
    print(f"{args.publishes} publishes, {args.hosts} hosts; ms from publish returning to every host serving it")
    print(f"{'store':<28} {'n':>5} {'median':>8} {'p90':>8} {'p99':>8} {'max':>8}")
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            os.environ["FLEXML_STATE_DIR"] = str(tmp / "cli")
            report("PostgreSQL (LISTEN/NOTIFY)", measure(url, args.hosts, args.publishes, tmp / "pg"))
            if args.sqlite:
                report("SQLite (counter poll)", measure(str(tmp / "s.sqlite"), args.hosts, args.publishes,
                                                        tmp / "lite"))
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
