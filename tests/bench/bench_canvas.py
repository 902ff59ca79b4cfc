"""Benchmark: the flow editor in headless Chromium against a real `flexml-designer serve`.

    .venv/bin/python tests/bench/bench_canvas.py [--runs 5] [--edits 10] [--steps 300]

Prints, each against a baseline measured in the same run:
  * open: page load until the canvas is interactive — every step in view drawn and measured
    (Vue Flow draws only the steps in view; the rest as they scroll in) and two frames
    painted — for a 300-step flow and for an empty flow (baseline);
  * edit → badge: from a property edit in the browser to its problem badge appearing
    (and disappearing when fixed) on the 300-step flow, and on a 3-step flow (baseline).
Targets (issue 5): open under 2 s, edit to badge under 200 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from compiler.flow import dumps  # noqa: E402
from designer.store import SQLiteStore  # noqa: E402
from compiler.layout import apply_layout  # noqa: E402
from serving import free_port, wait_until_answering  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# Runs in the page: change a textarea as typing does, then wait until the badge state flips.
EDIT_TO_BADGE = """async ([text, nodeId, wantBadge]) => {
  const area = document.querySelector('textarea[data-field=text]');
  const has = () => !!document.querySelector(`.vue-flow__node[data-id="${nodeId}"] .fc-badge-error`);
  const t0 = performance.now();
  area.value = text;
  area.dispatchEvent(new Event('input', { bubbles: true }));
  await new Promise((resolve, reject) => {
    if (has() === wantBadge) return resolve();
    const obs = new MutationObserver(() => { if (has() === wantBadge) { obs.disconnect(); resolve(); } });
    obs.observe(document.querySelector('.fc-root'), { subtree: true, childList: true, attributes: true });
    setTimeout(() => { obs.disconnect(); reject(new Error('badge did not change')); }, 10000);
  });
  return performance.now() - t0;
}"""


def big_flow(flow_id: str, steps: int) -> nx.DiGraph:
    """Blocks of five: greeting → menu (1: transfer, 2: voicemail, no input: next block)."""
    g = nx.DiGraph(id=flow_id, name=f"{steps} steps", start="say-0", format=1)
    blocks = steps // 5
    for i in range(blocks):
        g.add_node(f"say-{i}", type="Say", text=f"Welcome to department {i}.")
        g.add_node(f"menu-{i}", type="Gather", options=["1", "2"], attrs={"numDigits": 1},
                   prompt=[{"type": "Say", "text": "For sales press 1, to leave a message press 2."}])
        g.add_node(f"dial-{i}", type="Dial", numbers=[f"1516206{5000 + i}"])
        g.add_node(f"rec-{i}", type="Record", attrs={"maxLength": 60})
        g.add_node(f"bye-{i}", type="Hangup")
        g.add_edge(f"say-{i}", f"menu-{i}")
        g.add_edge(f"menu-{i}", f"dial-{i}", branch="1")
        g.add_edge(f"menu-{i}", f"rec-{i}", branch="2")
        g.add_edge(f"rec-{i}", f"bye-{i}")
        if i + 1 < blocks:
            g.add_edge(f"menu-{i}", f"say-{i + 1}", branch="timeout")
    apply_layout(g)
    return g


def small_flow(flow_id: str) -> nx.DiGraph:
    g = nx.DiGraph(id=flow_id, name="3 steps", start="say-0", format=1)
    g.add_node("say-0", type="Say", text="Hello.", x=40, y=40)
    g.add_node("say-1", type="Say", text="Goodbye.", x=320, y=40)
    g.add_node("bye", type="Hangup", x=600, y=40)
    g.add_edge("say-0", "say-1")
    g.add_edge("say-1", "bye")
    return g


def start_server(db: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "FLEXML_REQUIRE_LOGIN")}
    proc = subprocess.Popen([sys.executable, "-m", "designer", "serve", "--port", str(port), "--db", str(db)],
                            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_answering(proc, url, log.read_text)
    return proc, url


PHASES = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const mark = (name) => (performance.getEntriesByName(name)[0] || {}).startTime;
  return {html: nav.responseEnd, scripts: nav.domContentLoadedEventEnd, mounted: mark('fc-mounted'),
          drawn: mark('fc-drawn')};
}"""


def open_time(browser, url: str, count: int, phases: list[dict] | None = None) -> float:
    """Seconds from navigation until the steps in view are drawn and measured and two frames have painted."""
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_selector(f'.fc-root[data-ready="{count}"]', timeout=60000)
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    elapsed = time.perf_counter() - t0
    if phases is not None:
        phases.append(page.evaluate(PHASES))
    page.close()
    return elapsed


def edit_times(browser, url: str, node_id: str, count: int, edits: int) -> tuple[list[float], list[float]]:
    page = browser.new_page(viewport={"width": 1400, "height": 860})
    page.goto(url)
    page.wait_for_selector(f'.fc-root[data-ready="{count}"]', timeout=60000)
    page.locator(f'.vue-flow__node[data-id="{node_id}"] .fc-title').click()
    page.wait_for_selector("textarea[data-field=text]")
    appear, vanish = [], []
    for i in range(edits):
        appear.append(page.evaluate(EDIT_TO_BADGE, ["", node_id, True]))
        vanish.append(page.evaluate(EDIT_TO_BADGE, [f"Welcome, edit {i}.", node_id, False]))
    page.close()
    return appear, vanish


def ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(round(0.95 * (len(values) - 1))))]
    return f"median {statistics.median(values):7.1f} ms  p95 {p95:7.1f} ms  (n={len(values)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="page opens per flow (after one warm-up)")
    parser.add_argument("--edits", type=int, default=10, help="edit/fix pairs per flow")
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-canvas-") as tmp:
        db = Path(tmp) / "designer.sqlite"
        store = SQLiteStore(db)
        big = big_flow("big", args.steps)
        n_big = big.number_of_nodes()
        store.create_flow("big", "Big", dumps(big))
        store.create_flow("empty", "Empty", json.dumps({"directed": True, "multigraph": False, "nodes": [],
                                                        "edges": [], "graph": {"id": "empty", "format": 1}}))
        store.create_flow("small", "Small", dumps(small_flow("small")))
        store.close()
        proc, url = start_server(db, Path(tmp) / "serve.log")
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                open_time(browser, f"{url}/flows/empty", 0)  # warm-up: caches, first imports
                open_time(browser, f"{url}/flows/big", n_big)
                empty = [open_time(browser, f"{url}/flows/empty", 0) for _ in range(args.runs)]
                phases: list[dict] = []
                full = [open_time(browser, f"{url}/flows/big", n_big, phases) for _ in range(args.runs)]
                small_appear, small_vanish = edit_times(browser, f"{url}/flows/small", "say-1", 3, args.edits)
                big_appear, big_vanish = edit_times(browser, f"{url}/flows/big",
                                                    "say-0", n_big, args.edits)
                browser.close()
        finally:
            proc.terminate()
            proc.wait(10)

    e, f = statistics.median(empty), statistics.median(full)
    print(f"canvas benchmark: {n_big}-step flow ({big.number_of_edges()} connections), headless Chromium")
    print(f"open, empty flow (baseline)     median {e * 1000:7.0f} ms  min {min(empty) * 1000:6.0f} ms")
    print(f"open, {n_big}-step flow           median {f * 1000:7.0f} ms  min {min(full) * 1000:6.0f} ms"
          f"  = {f / e:.2f}x the empty flow   (target < 2000 ms)")
    phase = {k: statistics.median(p[k] for p in phases if p.get(k) is not None) for k in phases[0]}
    print(f"  in the browser (median ms from navigation): HTML received {phase['html']:.0f}, scripts loaded "
          f"{phase['scripts']:.0f}, canvas mounted {phase['mounted']:.0f}, all steps drawn {phase['drawn']:.0f}")
    print(f"edit → badge, 3-step (baseline)   {ms(small_appear)}")
    print(f"edit → badge, {n_big}-step          {ms(big_appear)}"
          f"  = {statistics.median(big_appear) / statistics.median(small_appear):.2f}x   (target < 200 ms)")
    print(f"fix → badge gone, 3-step          {ms(small_vanish)}")
    print(f"fix → badge gone, {n_big}-step      {ms(big_vanish)}"
          f"  = {statistics.median(big_vanish) / statistics.median(small_vanish):.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
