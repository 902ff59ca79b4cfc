"""Benchmark: what issue 15's path check costs validation, against a baseline measured in the same run.

Run from the project root::

    .venv/bin/python tests/bench/bench_fidelity.py [--menus 1000] [--runs 5]

Builds a chain of menus, each option leading to a Say. The baseline Says speak plain text; the measured
ones speak ``You pressed {{ Digits }}`` and ``… {{ RecordingUrl }}`` (with no Record step: every one warns),
so validation walks the flow to see which steps a menu or a recording can come before. Prints the median
seconds of ``validate`` for both and their ratio. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from compiler import validate  # noqa: E402
from tests.strategies import make_flow  # noqa: E402


def chain(menus: int, text: str):
    nodes, edges = {}, []
    for i in range(menus):
        nodes[f"m{i}"] = {"type": "Gather", "prompt": [{"type": "Say", "text": "Press 1."}], "options": ["1"]}
        nodes[f"s{i}"] = {"type": "Say", "text": text}
        edges.append((f"m{i}", f"s{i}", "1"))
        if i:
            edges.append((f"m{i - 1}", f"m{i}", "timeout"))
    nodes["end"] = {"type": "Hangup"}
    edges.append((f"m{menus - 1}", "end", "timeout"))
    return make_flow(nodes, edges, start="m0")


def median_seconds(graph, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        validate(graph)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--menus", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    plain = median_seconds(chain(args.menus, "Thank you."), args.runs)
    checked = median_seconds(chain(args.menus, "You pressed {{ Digits }} at {{ RecordingUrl }}."), args.runs)
    print(f"{2 * args.menus + 1} steps: validate plain texts {plain:.3f} s, texts with Digits/RecordingUrl "
          f"{checked:.3f} s, ratio {checked / plain:.2f}")


if __name__ == "__main__":
    main()
