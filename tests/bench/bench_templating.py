"""Benchmark: checking and rendering call-variable text, against baselines measured in the same run.

Run from the project root::

    .venv/bin/python tests/bench/bench_templating.py [--runs 7]

Prints, in microseconds per operation (median of several runs; best in brackets):

- ``check`` of the issue-11 attack texts (each refused from its parse) and of a typical text, uncached;
- ``render`` of a typical text (``Hello {{ From }}, you pressed {{ Digits | digits }}.``) per call, against
  a baseline of ``str.replace`` doing the same substitution, and against jinja2's sandbox rendering the
  same text compiled once (what the host used before);
- ``render`` of the worst text the language allows in a Say (a value repeated 40 times with a filter) with
  a 60 KB caller value, capped at 1,024 characters.

Peak memory of checking all attack texts is printed too (tracemalloc). Not collected by pytest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from compiler.templating import render  # noqa: E402
from compiler.templating.syntax import TemplateError, parse  # noqa: E402

ATTACKS = {
    "'%999999999d' % 1": "{{ '%999999999d' % 1 }}",
    "'x'.ljust(999999999)": "{{ 'x'.ljust(999999999) }}",
    "'x'|center(3e8)": "{{ 'x'|center(3e8) }}",
    "lipsum(100000)": "{{ lipsum(100000) }}",
    "range|map(center)": "{{ range(100000)|map('center', 5000)|join }}",
    "(((10**64)**64)**64)**64": "{{ (((10**64)**64)**64)**64 }}",
    "500 brackets": "{{ " + "(" * 500 + "1" + ")" * 500 + " }}",
    "4,000 minus signs": "{{ " + "-" * 4000 + "1 }}",
    "1,500 plus terms": "{{ " + "+".join(["1"] * 1500) + " }}",
    "for over range(100000)": "{% for i in range(100000) %}{{ From }}{% endfor %}",
}
TYPICAL = "Hello {{ From }}, you pressed {{ Digits | digits }}."
WORST = "{{ CallerName | upper }}" * 40
VALUES = {"From": "15551230001", "Digits": "1234#"}


def timed(fn, repeat: int, runs: int) -> tuple[float, float]:
    """Median and best microseconds per call of ``fn`` over ``runs`` runs of ``repeat`` calls."""
    results = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        results.append((time.perf_counter() - start) / repeat * 1e6)
    return statistics.median(results), min(results)


def refuse(text: str) -> None:
    try:
        parse(text)  # uncached: the parser itself
    except TemplateError:
        return
    raise SystemExit(f"not refused: {text[:60]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    runs = ap.parse_args().runs

    print("check (refused from the parse, uncached), µs per text:")
    for name, text in ATTACKS.items():
        med, best = timed(lambda: refuse(text), 200, runs)
        print(f"  {name:28} {med:9.1f}  [{best:.1f}]")
    med, best = timed(lambda: parse(TYPICAL), 2000, runs)
    print(f"  {'typical text (accepted)':28} {med:9.1f}  [{best:.1f}]")
    tracemalloc.start()
    for text in ATTACKS.values():
        refuse(text + " ")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  peak memory checking all attack texts: {peak / 1024:.0f} KiB")

    try:  # not a dependency of the project any more; NiceGUI installs it
        import jinja2.sandbox
        compiled = jinja2.sandbox.ImmutableSandboxedEnvironment().from_string(
            "Hello {{ From }}, you pressed {{ Digits }}.")
    except ImportError:
        compiled = None

    def replace() -> str:
        return "Hello {From}, you pressed {Digits}.".replace("{From}", VALUES["From"]).replace(
            "{Digits}", " ".join(VALUES["Digits"]))

    print("render per call, µs:")
    ours, ours_best = timed(lambda: render(TYPICAL, VALUES), 20000, runs)
    base, base_best = timed(replace, 20000, runs)
    print(f"  {'typical text':28} {ours:9.2f}  [{ours_best:.2f}]")
    print(f"  {'baseline str.replace':28} {base:9.2f}  [{base_best:.2f}]   ratio {ours / base:.1f}x")
    if compiled is not None:
        jin, jin_best = timed(lambda: compiled.render(VALUES), 20000, runs)
        print(f"  {'jinja2 sandbox (before)':28} {jin:9.2f}  [{jin_best:.2f}]   ours/jinja {ours / jin:.2f}x")
    huge = {"CallerName": "a" * 60_000}
    worst, worst_best = timed(lambda: render(WORST, huge, cap=1024), 2000, runs)
    print(f"  {'worst Say, 60 KB value':28} {worst:9.2f}  [{worst_best:.2f}]   "
          f"{len(render(WORST, huge, cap=1024))} characters out")


if __name__ == "__main__":
    main()
