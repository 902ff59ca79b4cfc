"""Benchmark: what the per-request session check costs (issue 11).

    .venv/bin/python tests/bench/bench_session_check.py [--calls 20000] [--sessions 1000]

Every page request and page action of a signed-in browser now looks its token up in the store's
sessions table (SHA-256 of the token, then one indexed SELECT). Prints microseconds per check
against a baseline measured in the same run on the same database: reading one setting (one indexed
SELECT, no hashing), the cheapest store read there is.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from designer.store import SQLiteStore  # noqa: E402


def per_call(fn, calls: int) -> float:
    """Microseconds per call, best of three rounds."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--calls", type=int, default=20000)
    p.add_argument("--sessions", type=int, default=1000, help="live sessions in the table")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "bench.sqlite")
        store.set_setting("password_hash", "x" * 120)
        for n in range(args.sessions):
            store.add_session(f"token-{n}")
        baseline = per_call(lambda: store.get_setting("password_hash"), args.calls)
        alive = per_call(lambda: store.session_alive("token-7", since=0.0), args.calls)
        dead = per_call(lambda: store.session_alive("not a token", since=0.0), args.calls)
        store.close()
    print(f"read one setting (baseline):      {baseline:7.1f} µs")
    print(f"session check, live token:        {alive:7.1f} µs  ({alive / baseline:.2f}× baseline)")
    print(f"session check, unknown token:     {dead:7.1f} µs  ({dead / baseline:.2f}× baseline)")
    print(f"({args.sessions} sessions in the table, best of 3 × {args.calls} calls)")


if __name__ == "__main__":
    main()
