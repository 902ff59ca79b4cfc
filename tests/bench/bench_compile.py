"""Benchmark: validate + compile a 1,000-step and a 10,000-step flow.

Run from the project root::

    .venv/bin/python tests/bench/bench_compile.py [--runs 9]

Prints, for each size, the median of several runs of validate + compile_flow
(milliseconds; the best run in brackets, steadier on a busy shared machine),
the baseline (plain ``lxml.etree.tostring`` of the same documents, parsed once
up front), the ratio between them, and the 10,000/1,000-step ratio. Targets: 1,000 steps under 100 ms; 10,000 steps at
most 12x the 1,000-step time. Not collected by pytest (no assertions).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import networkx as nx
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from compiler import compile_flow, only_errors, validate  # noqa: E402
from compiler.flow import add_branch  # noqa: E402


def realistic_flow(steps: int) -> nx.DiGraph:
    """A large IVR: a main menu leading to departments, each a small sub-menu with
    greetings, transfers, voicemail with an error path, texts and Go to steps back
    to the department menu and the main menu. About 16 steps per department."""
    g = nx.DiGraph(id=f"bench-{steps}", name=f"Benchmark {steps}", start="welcome", format=1)
    g.add_node("welcome", type="Say", text="Thank you for calling Acme Corporation.", attrs={"voice": "woman"})
    g.add_node("main", type="Gather", attrs={"numDigits": 3, "timeout": 5}, retries=2,
               prompt=[{"type": "Say", "text": "Please enter the three digit department number."}])
    g.add_node("main-timeout", type="Say", text="We did not hear a choice.")
    g.add_node("main-again", type="Goto", target="main")
    g.add_edge("welcome", "main")
    add_branch(g, "main", "main-timeout", "timeout")
    g.add_edge("main-timeout", "main-again")
    dept = 0
    while len(g) + 16 <= steps:
        d = f"d{dept}"
        n = {k: f"{d}-{k}" for k in ("hello", "menu", "sales-say", "sales", "after-sales", "vm-say", "vm",
                                      "vm-ok", "vm-bad", "bye", "sms", "hours", "pause", "again", "top", "quiet")}
        g.add_node(n["hello"], type="Say", text=f"Department {dept}.", attrs={"voice": "man"})
        g.add_node(n["menu"], type="Gather", attrs={"numDigits": 1, "timeout": 6},
                   prompt=[{"type": "Say", "text": "For sales press 1. To leave a message press 2. For opening "
                                                   "hours press 3. To hear this again press 9. For the main "
                                                   "menu press 0."},
                           {"type": "Play", "text": "https://media.example.com/beep.wav"}])
        g.add_node(n["sales-say"], type="Say", text="Connecting you to sales. Calls may be recorded.")
        g.add_node(n["sales"], type="Dial", numbers=[f"1516206{dept % 10000:04d}", "15162065340"],
                   attrs={"timeout": 20, "hangupOnStar": True})
        g.add_node(n["after-sales"], type="Say", text="Sales could not take your call.")
        g.add_node(n["vm-say"], type="Say", text="Please leave a message after the beep.")
        g.add_node(n["vm"], type="Record", attrs={"maxLength": 120, "fileFormat": "mp3", "finishOnKey": "#"})
        g.add_node(n["vm-ok"], type="Say", text="Thank you, {{ From }}. Goodbye.")
        g.add_node(n["vm-bad"], type="Say", text="Sorry, we could not record your message.")
        g.add_node(n["sms"], type="Sms", text="Thanks for your message.", attrs={"to": "15162065399"})
        g.add_node(n["bye"], type="Hangup")
        g.add_node(n["hours"], type="Play", text="https://media.example.com/hours.mp3", attrs={"loop": 2})
        g.add_node(n["pause"], type="Pause", attrs={"length": 1})
        g.add_node(n["again"], type="Goto", target=n["menu"])
        g.add_node(n["top"], type="Goto", target="main")
        g.add_node(n["quiet"], type="Goto", target="main")
        add_branch(g, "main", n["hello"], f"{dept:03d}")
        g.add_edge(n["hello"], n["menu"])
        add_branch(g, n["menu"], n["sales-say"], "1")
        add_branch(g, n["menu"], n["vm-say"], "2")
        add_branch(g, n["menu"], n["hours"], "3")
        add_branch(g, n["menu"], n["again"], "9")
        add_branch(g, n["menu"], n["top"], "0")
        add_branch(g, n["menu"], n["quiet"], "timeout")
        g.add_edge(n["sales-say"], n["sales"])
        g.add_edge(n["sales"], n["after-sales"])
        g.add_edge(n["after-sales"], n["vm-say"])
        g.add_edge(n["vm-say"], n["vm"])
        g.add_edge(n["vm"], n["vm-ok"])
        add_branch(g, n["vm"], n["vm-bad"], "error")
        g.add_edge(n["vm-ok"], n["sms"])
        g.add_edge(n["sms"], n["bye"])
        g.add_edge(n["vm-bad"], n["bye"])
        g.add_edge(n["hours"], n["pause"])
        add_branch(g, n["hours"], n["pause"], "error")
        g.add_edge(n["pause"], n["again"])
        dept += 1
    # The rest: press 999 for a long announcement (a chain of Says, then hang up).
    previous, branch = "main", "999"
    while len(g) < steps:
        node = f"news-{len(g)}"
        last = len(g) == steps - 1
        g.add_node(node, **({"type": "Hangup"} if last else {"type": "Say", "text": f"News item {len(g)}."}))
        add_branch(g, previous, node, branch)
        previous, branch = node, "next"
    return g


def measure(sizes: tuple[int, ...], runs: int) -> dict[int, dict]:
    """Median times per size; sizes are measured in turn within each run, so that
    load from other processes on a shared machine falls on all of them alike."""
    graphs = {n: realistic_flow(n) for n in sizes}
    trees = {}
    for n, graph in graphs.items():
        found = only_errors(validate(graph))
        assert not found, found[:3]
        compiled = compile_flow(graph)  # also warms caches (grammar, templates)
        trees[n] = ([etree.fromstring(data) for data in compiled.documents.values()], len(compiled.documents))

    def compile_once(n):
        compile_flow(graphs[n])  # validates, plans, emits and grammar-checks every document

    def serialise(n):
        for tree in trees[n][0]:
            etree.tostring(tree, encoding="UTF-8", xml_declaration=True)

    times: dict[tuple[str, int], list[float]] = {}
    for _ in range(runs):
        for n in sizes:
            for label, fn in (("compile", compile_once), ("baseline", serialise)):
                t0 = time.perf_counter()
                fn(n)
                times.setdefault((label, n), []).append((time.perf_counter() - t0) * 1000)
    return {n: {"steps": len(graphs[n]), "docs": trees[n][1],
                "compile": statistics.median(times["compile", n]),
                "baseline": statistics.median(times["baseline", n]),
                "compile_best": min(times["compile", n]),
                "baseline_best": min(times["baseline", n])} for n in sizes}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=9, help="runs per figure; the median is printed")
    args = p.parse_args(argv)
    results = measure((1_000, 10_000), args.runs)
    print(f"median of {args.runs} runs (best run in brackets)")
    print(f"{'steps':>7} {'docs':>6} {'validate+compile ms':>24} {'lxml tostring ms':>20} {'ratio':>7}")
    for r in results.values():
        print(f"{r['steps']:>7} {r['docs']:>6} {r['compile']:>14.1f} ({r['compile_best']:>6.1f}) "
              f"{r['baseline']:>11.2f} ({r['baseline_best']:>5.2f}) {r['compile'] / r['baseline']:>6.1f}x")
    growth = results[10_000]["compile"] / results[1_000]["compile"]
    best_growth = results[10_000]["compile_best"] / results[1_000]["compile_best"]
    print(f"10,000 / 1,000 steps: {growth:.1f}x (best runs {best_growth:.1f}x)  target at most 12x")
    print(f"1,000 steps: {results[1_000]['compile']:.1f} ms (best {results[1_000]['compile_best']:.1f} ms)  "
          "target under 100 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
