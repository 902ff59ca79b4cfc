"""Benchmark: the host against a bare Starlette app on the same uvicorn settings, with wrk on loopback.

Run from the project root::

    .venv/bin/python tests/bench/bench_host.py [--duration 5] [--workers 1 2] [--conns 64 256]
    .venv/bin/python tests/bench/bench_host.py --db postgresql://…|auto [--workers 1 2]

With ``--db`` it compares instead, at 64 connections: the bare app, ``host --db SQLITE`` and ``host --db
postgresql://…``, each host serving main-menu published into its store and recording every event in it
(``auto``: a throwaway cluster, tests/pgcluster.py). Target: PostgreSQL >= 0.85x the SQLite figures.

For each worker count it starts two servers as real processes on loopback:

* host — ``flexml-designer host main-menu.json decisions.json --did … --db TMP``
  (the real command: flows from a file, call events recorded in SQLite by an
  event writer process per worker, whose CPU is counted with the host's);
* bare — a Starlette app whose one route returns the same entry document as
  a constant body (``Route`` + ``Response``), on the same server settings: one
  uvicorn process, or one per worker on its own SO_REUSEPORT socket, as ``host``.

and drives each with ``wrk`` (POST with the carrier's JSON body, via a small
Lua script) for the entry document (``/flexml/main-menu``), the Gather
router (``/flexml/main-menu/1/menu/gather`` with ``Digits=1``) and an entry
document that ends at a business-hours step and a split on the caller's number
(``/flexml/decisions``: the host takes both decisions and serves the menu in the
same answer) and a Record's action (``/flexml/main-menu/1/voicemail/recorded`` with a
recording on the carrier's domain and a new CallSid per request: every answer records a
``recording`` event, which the store keeps as a new voicemail), and the entry document with one
request in ten such a recording (``entry+rec``: do voicemails slow the other answers?) at each
connection count. ``main-menu.json`` is the main-menu
example without its business-hours step (the plain entry document);
``decisions.json`` greets, decides hours (open all week, closed dates) and
splits on ``{{ From }}`` before the same menu. Prints requests/s and p50/p99 latency, host/bare ratios and
errors (socket errors and non-2xx answers). Then it sends 5 × 100,000
requests to the host and prints the server's RSS before and after each
100,000, and checks every recorded event reached the database. Last, a kill
round: for each way of killing ``host --db`` with SIGKILL under load (the host,
its event writer, one of two workers), an asyncio client sends unique calls,
and the round prints how many answered calls have no event in the database
afterwards (must be 0) and how many events were recorded twice (must be 0).

Targets: host throughput >= 0.85x bare, host p99 <= 1.3x bare at 64
connections (1 worker), zero errors, RSS flat, no event lost on SIGKILL; the
decisions entry at least 0.85x the plain entry's host throughput; the recorded route as fast as the plain
entry (its event is a queue append, like every other answer's), and every recording counted in the
voicemails table after shutdown.
Load goes to 127.0.0.1 only, for a bounded time or request count.
Not collected by pytest (no assertions).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from serving import free_port  # noqa: E402
import killing  # noqa: E402

EXAMPLE = ROOT / "compiler" / "examples" / "main-menu.json"
NUMBER = "15162065337"
CALL = {"AccountSid": "", "ApiVersion": "2.0", "CallerName": "", "CallSid": "4695bc4a0932bcd2e99492e523db9ee2",
        "CallStatus": "", "Direction": "inbound", "ForwardedFrom": "", "From": "15162065338",
        "OriginalFrom": "15162065338", "OriginalTo": NUMBER, "RequestUrl": "", "To": NUMBER}
EVENTS = True  # the host records every call event in SQLite (--db); --no-events runs it --quiet
RECORDING = {"RecordingUrl": "https://storage.carrierx.com/files/bench.mp3", "RecordingFileSid": "bench",
             "RecordingDuration": "12"}
TARGETS = {"entry": ("/flexml/main-menu", CALL), "router": ("/flexml/main-menu/1/menu/gather", {**CALL, "Digits": "1"}),
           "decide": ("/flexml/decisions", CALL),
           # the same, each request a new call from a new number: the Split reads a number it has not seen
           # (parsed with phonenumbers), and the host's kept answers do not serve it
           "dec-new": ("/flexml/decisions", {**CALL, "From": "1516CALLERNUM"}),
           "recorded": ("/flexml/main-menu/1/voicemail/recorded", {**CALL, **RECORDING})}
UNIQUE_CALLS = {"recorded", "dec-new"}  # targets whose every request is another call (each recording a new
# voicemail; each caller new)
MIXED = "entry+rec"  # the entry URL, one request in ten a recording of a new call (LUA_MIXED)
TARGETS[MIXED] = (TARGETS["entry"][0], CALL)
FLOWS = Path(tempfile.mkdtemp(prefix="bench-host-"))  # the flow files both servers read


def plain_flow():
    """The main-menu example without its business-hours step: welcome → menu, as before decisions."""
    from compiler import load

    graph = load(EXAMPLE)
    graph.remove_nodes_from(["hours", "closed"])
    graph.add_edge("welcome", "menu")
    return graph


def decisions_flow():
    """welcome → Hours (open all week; closed dates) → Split on the caller's number → the same menu."""
    graph = plain_flow()
    graph.graph.update(id="decisions", name="Decisions")
    graph.remove_edge("welcome", "menu")
    graph.add_node("hours", type="Hours", timezone="America/New_York",
                   open={d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                   closed_dates=["01-01", "05-25", "07-04", "09-07", "11-26", "12-25", "2027-01-18"])
    graph.add_node("who", type="Split", value="{{ From }}",
                   cases=[{"branch": "vip", "equals": ["15551234567", "15557654321"]},
                          {"branch": "local", "starts_with": ["1516", "1631"]}])
    graph.add_node("closed", type="Say", text="We are closed today.")
    graph.add_edge("welcome", "hours")
    graph.add_edge("hours", "who", branch="open")
    graph.add_edge("hours", "closed", branch="closed")
    graph.add_edge("who", "menu", branch="local", also=["vip", "else"])
    return graph


def flow_files() -> list[Path]:
    from compiler.flow import dumps

    paths = [FLOWS / "main-menu.json", FLOWS / "decisions.json"]
    for path, graph in zip(paths, (plain_flow(), decisions_flow())):
        if not path.exists():
            path.write_text(dumps(graph))
    return paths

LUA_POST = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = {body}
"""
# the same body with a new CallSid per request (a counter and the thread's random prefix), so every
# recording is a new voicemail row, not a repeat the store ignores
LUA_UNIQUE = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local template = {body}
math.randomseed(os.time())
local prefix = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
local n = 0
request = function()
  n = n + 1
  local body = string.gsub(template, "CALLSID", prefix .. "-" .. n)
  return wrk.format(nil, nil, nil, (string.gsub(body, "CALLERNUM", string.format("%07d", n % 10000000))))
end
"""
# the mixed load: nine plain entry documents, then one recording of a new call, over and over; the entry's
# answers are what the figures are about (does recording voicemails slow them?)
LUA_MIXED = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local entry = {entry}
local template = {body}
local recorded = {path}
math.randomseed(os.time())
local prefix = tostring(os.time()) .. "-" .. tostring(math.random(1, 1000000000))
local n = 0
request = function()
  n = n + 1
  if n % 10 == 0 then
    return wrk.format(nil, recorded, nil, (string.gsub(template, "CALLSID", prefix .. "-" .. n)))
  end
  return wrk.format(nil, nil, nil, entry)
end
"""


# --- the bare baseline app (imported by uvicorn in the server process) -------------------------------


def bare_app():
    """Starlette, one Route, a constant body: the entry document's bytes."""
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    from compiler import compile_flow, load

    body = compile_flow(plain_flow()).documents["welcome"]

    async def constant(request):
        return Response(body, media_type="application/xml")

    return Starlette(routes=[Route("/flexml/{rest:path}", constant, methods=["GET", "POST"])])


def serve_bare(port: int, workers: int) -> None:
    """The bare app on the same server settings as ``host``: one uvicorn process, or with several workers
    one process per worker, each on its own SO_REUSEPORT socket (``designer.host.workers.supervise``)."""
    import uvicorn

    if workers == 1:
        uvicorn.run(bare_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    from designer.host.workers import supervise

    supervise(workers, "127.0.0.1", port, access_log=False,
              command=[sys.executable, __file__, "--serve-bare-worker", str(port)])


def serve_bare_worker(port: int) -> None:
    import uvicorn

    from designer.host.workers import listening_socket

    config = uvicorn.Config(bare_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[listening_socket("127.0.0.1", port)])


# --- servers and measurement ------------------------------------------------------------------------


def wait_until_up(proc: subprocess.Popen, url: str, body: dict) -> bytes:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            return httpx.post(url, json=body, timeout=2).content
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def listening(port: int) -> int:
    """How many sockets listen on ``port`` (one per worker with SO_REUSEPORT, one in all with a shared socket)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if int(line.split()[1].split(":")[1], 16) == port and line.split()[3] == "0A")


class Server:
    def __init__(self, kind: str, workers: int, db: Path | str | None):
        self.kind = kind
        self.workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
        if kind == "store":  # host --db URL: serving what the store holds (main-menu published into it)
            kind = self.kind = "host"
            cmd = [sys.executable, "-m", "designer", "host", "--db", str(db), "--port", str(self.port),
                   "--workers", str(workers)]
        elif kind == "host":
            cmd = [sys.executable, "-m", "designer", "host", *map(str, flow_files()), "--did", f"{NUMBER}=main-menu",
                   "--port", str(self.port), "--workers", str(workers)]
            cmd += ["--db", str(db)] if db else ["--quiet"]
        else:
            cmd = [sys.executable, __file__, "--serve-bare", str(self.port), "--workers", str(workers)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)

    def __enter__(self) -> "Server":
        from compiler import compile_flow

        compiled = compile_flow(plain_flow())
        got = wait_until_up(self.proc, self.url + TARGETS["entry"][0], CALL)
        deadline = time.monotonic() + 60
        while listening(self.port) < self.workers and time.monotonic() < deadline:  # every worker, not the first
            time.sleep(0.1)
        assert got == compiled.documents["welcome"], got[:200]
        if self.kind == "host":
            import httpx

            routed = httpx.post(self.url + TARGETS["router"][0], json=TARGETS["router"][1]).content
            assert routed == compiled.documents["sales"], routed[:200]
            decided = httpx.post(self.url + TARGETS["decide"][0], json=TARGETS["decide"][1],
                                 headers={"X-FlexML-Explain": "1"})
            assert b"<Gather" in decided.content and "who" in decided.headers["x-flexml-decisions"], decided.text
            kept = httpx.post(self.url + TARGETS["recorded"][0], json={**TARGETS["recorded"][1], "CallSid": "check"})
            assert kept.content == compiled.documents["vm-thanks"], kept.text
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def pids(self) -> list[int]:
        """The server's processes: the answering ones (the server, or its worker children) and the event writers."""
        descendants, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            for task in Path(f"/proc/{pid}/task").iterdir():
                children = [int(p) for p in (task / "children").read_text().split()]
                descendants += children
                todo += children
        workers = [p for p in descendants if _is_python(p) and not _is_writer(p)]
        return (workers or [self.proc.pid]) + [p for p in descendants if _is_writer(p)]

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes, event writers included (robust to other load)."""
        ticks = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # a process that just ended
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_mib(self, writers: bool = False) -> float:
        """RSS of the answering processes, or of the event writers."""
        total = 0
        for pid in self.pids():
            if _is_writer(pid) != writers:
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total / 1024


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _is_writer(pid: int) -> bool:
    return "designer.host.event_writer" in _cmdline(pid)


def _is_python(pid: int) -> bool:
    try:
        return "python" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return False


def lua_script(tmp: Path, body: dict, unique: bool = False, mixed: bool = False) -> Path:
    if mixed:
        path, recording = TARGETS["recorded"]
        text = LUA_MIXED.format(entry=json.dumps(json.dumps(body)), path=json.dumps(path),
                                body=json.dumps(json.dumps({**recording, "CallSid": "CALLSID"})))
    elif unique:
        text = LUA_UNIQUE.format(body=json.dumps(json.dumps({**body, "CallSid": "CALLSID"})))
    else:
        text = LUA_POST.format(body=json.dumps(json.dumps(body)))
    path = tmp / f"post-{abs(hash(text))}.lua"
    path.write_text(text)
    return path


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    return float(m.group(1)) * _UNITS[m.group(2)]


# One wrk thread. On these 2 cores, with a second wrk thread competing with the server for CPU, a descheduled
# wrk thread leaves its connections' answers unread, and 2-3 % of requests at 256 connections measured 150-900 ms
# for the bare app too (p99 jumping between about 30 and 600 ms from run to run). One thread drives the same
# requests per second, and p99 then measures the server: about 23 ms, max 30 ms, run after run.
WRK_THREADS = 1


def wrk(url: str, script: Path, conns: int, duration: float, threads: int = WRK_THREADS) -> dict:
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration:g}s", "--timeout", "5s", "--latency",
                          "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
              "requests": int(re.search(r"(\d+) requests in", out).group(1)), "errors": 0}
    for pct in ("50", "99"):
        result[f"p{pct}"] = _ms(re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M).group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        result["errors"] += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        result["errors"] += int(m.group(1))
    return result


def measured(server: Server, url: str, script: Path, conns: int, duration: float) -> dict:
    cpu = server.cpu_seconds()
    result = wrk(url, script, conns, duration)
    result["cpu_us"] = (server.cpu_seconds() - cpu) / max(result["requests"], 1) * 1e6
    return result


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def compare(workers: int, conns_list: list[int], duration: float, rounds: int, tmp: Path) -> list[str]:
    lines = []
    rates: dict[tuple[int, str], float] = {}
    scripts = {name: lua_script(tmp, body, name in UNIQUE_CALLS, name == MIXED) for name, (_, body) in TARGETS.items()}
    recorded = 0
    db = tmp / f"events-w{workers}.sqlite"
    with Server("bare", workers, tmp / "unused.sqlite") as bare, \
            Server("host", workers, db if EVENTS else None) as host:
        for server in (bare, host):  # warm up both
            wrk(server.url + TARGETS["entry"][0], scripts["entry"], 64, 1)
        for conns in conns_list:
            runs: dict[str, tuple[list, list]] = {name: ([], []) for name in TARGETS}
            for _ in range(rounds):  # every target in each round, bare and host alternating: all of them see the
                for name, (path, _) in TARGETS.items():  # same background load, so the ratios between them hold
                    runs[name][0].append(measured(bare, bare.url + path, scripts[name], conns, duration))
                    runs[name][1].append(measured(host, host.url + path, scripts[name], conns, duration))
            for name in TARGETS:
                b_runs, h_runs = runs[name]
                if name == "recorded":
                    recorded += sum(r["requests"] for r in h_runs)
                elif name == MIXED:
                    recorded += sum(r["requests"] // 10 for r in h_runs)
                b = {k: median(b_runs, k) for k in ("rps", "p50", "p99", "cpu_us")}
                h = {k: median(h_runs, k) for k in ("rps", "p50", "p99", "cpu_us")}
                errors = (sum(r["errors"] for r in b_runs), sum(r["errors"] for r in h_runs))
                lines.append(
                    f"{workers:>7} {conns:>5} {name:<7} {b['rps']:>9.0f} {h['rps']:>9.0f} {h['rps'] / b['rps']:>6.2f}x"
                    f" {b['p50']:>7.2f} {b['p99']:>7.2f} {h['p50']:>7.2f} {h['p99']:>7.2f} "
                    f"{h['p99'] / b['p99']:>6.2f}x {b['cpu_us']:>6.1f} {h['cpu_us']:>6.1f} "
                    f"{b['cpu_us'] / h['cpu_us']:>6.2f}x {errors[0]:>5} {errors[1]:>5}")
                print(lines[-1], flush=True)
                rates[(conns, name)] = h["rps"]
            ratio = rates[(conns, "decide")] / rates[(conns, "entry")]
            lines.append(f"{workers:>7} {conns:>5} decisions entry / plain entry (host): {ratio:.2f}x "
                         f"(target >= 0.85x)")
            print(lines[-1], flush=True)
            ratio = rates[(conns, "dec-new")] / rates[(conns, "entry")]
            lines.append(f"{workers:>7} {conns:>5} decisions entry, every request a new caller / plain entry (host): "
                         f"{ratio:.2f}x")
            print(lines[-1], flush=True)
            ratio = rates[(conns, "recorded")] / rates[(conns, "entry")]
            lines.append(f"{workers:>7} {conns:>5} recorded route / plain entry (host): {ratio:.2f}x "
                         f"(each a new voicemail: an event and a voicemails row written)")
            print(lines[-1], flush=True)
            ratio = rates[(conns, MIXED)] / rates[(conns, "entry")]
            lines.append(f"{workers:>7} {conns:>5} entry with one request in ten a new voicemail / plain entry "
                         f"(host): {ratio:.2f}x")
            print(lines[-1], flush=True)
    if EVENTS:
        conn = sqlite3.connect(db)
        kept = conn.execute("SELECT COUNT(*) FROM voicemails").fetchone()[0]
        events = conn.execute("SELECT COUNT(*) FROM events WHERE kind = 'recording'").fetchone()[0]
        conn.close()
        lines.append(f"{workers:>7} after shutdown: {events:,} recording events, {kept:,} voicemails in SQLite; "
                     f"recordings wrk counted answered: about {recorded:,} (not those in flight when it stops)")
        print(lines[-1], flush=True)
    return lines


def compare_stores(workers: int, conns: int, duration: float, rounds: int, tmp: Path, pg_url: str) -> None:
    """bare, ``host --db SQLITE`` and ``host --db postgresql://…`` (each serving main-menu published into its
    store, events recorded in it), alternating runs; prints r/s, p99 and the PostgreSQL/SQLite ratios."""
    from designer.cli import main as cli

    sqlite_db = tmp / f"store-w{workers}.sqlite"
    for db in (str(sqlite_db), pg_url):
        with open(os.devnull, "w") as quiet:
            stdout, sys.stdout = sys.stdout, quiet
            try:
                assert cli(["publish", str(EXAMPLE), "--db", db, "--did", "+" + NUMBER]) == 0
            finally:
                sys.stdout = stdout
    scripts = {name: lua_script(tmp, body, name in UNIQUE_CALLS) for name, (_, body) in TARGETS.items()}
    with Server("bare", workers, None) as bare, Server("store", workers, sqlite_db) as lite, \
            Server("store", workers, pg_url) as pg:
        for server in (bare, lite, pg):
            wrk(server.url + TARGETS["entry"][0], scripts["entry"], 64, 1)
        for name, (path, _) in TARGETS.items():
            runs: dict[str, list[dict]] = {"bare": [], "sqlite": [], "pg": []}
            for _ in range(rounds):
                for key, server in (("bare", bare), ("sqlite", lite), ("pg", pg)):
                    runs[key].append(measured(server, server.url + path, scripts[name], conns, duration))
            m = {k: {f: median(v, f) for f in ("rps", "p99")} for k, v in runs.items()}
            errors = sum(r["errors"] for v in runs.values() for r in v)
            print(f"{workers:>7} {conns:>5} {name:<7} {m['bare']['rps']:>9.0f} {m['sqlite']['rps']:>9.0f} "
                  f"{m['pg']['rps']:>9.0f} {m['pg']['rps'] / m['sqlite']['rps']:>6.2f}x "
                  f"{m['bare']['p99']:>7.2f} {m['sqlite']['p99']:>7.2f} {m['pg']['p99']:>7.2f} "
                  f"{m['sqlite']['p99'] / m['pg']['p99']:>6.2f}x {errors:>5}", flush=True)


def memory(workers: int, rounds: int, per_round: int, tmp: Path) -> None:
    db = tmp / f"memory-w{workers}.sqlite"
    script = lua_script(tmp, TARGETS["router"][1])
    with Server("host", workers, db) as host:
        url = host.url + TARGETS["router"][0]
        answered = 2  # the two checks made when the server came up
        answered += wrk(url, script, 64, 2)["requests"]  # warm up
        time.sleep(1)
        figures = [f"{host.rss_mib():.1f}"]
        writer = [f"{host.rss_mib(writers=True):.1f}"]
        counts = []
        for _ in range(rounds):
            sent = 0
            while sent < per_round:  # short wrk runs until this round has its requests
                sent += wrk(url, script, 64, 2)["requests"]
            answered += sent
            counts.append(sent)
            time.sleep(2)  # let the event writer drain before reading RSS
            figures.append(f"{host.rss_mib():.1f}")
            writer.append(f"{host.rss_mib(writers=True):.1f}")
        print(f"  workers {workers}: RSS MiB after warm-up, then after each round of >= {per_round:,} router "
              f"requests ({', '.join(f'{c:,}' for c in counts)}): {' → '.join(figures)}; "
              f"event writer process{'es' if workers > 1 else ''}: {' → '.join(writer)}", flush=True)
    conn = sqlite3.connect(db)
    stored = conn.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    conn.close()
    print(f"  events in SQLite after shutdown: {stored:,}; answers wrk counted: {answered:,} "
          f"(wrk does not count answers in flight when it stops)", flush=True)


KILLS = {  # name: (workers, what is killed, whether the host is started again)
    "host (SIGKILL), restarted": (1, lambda host: host.answering(), True),
    "event writer (SIGKILL)": (1, lambda host: host.writers(), False),
    "host and writer (SIGKILL), restarted": (1, lambda host: host.processes(), True),
    "one of 2 workers (SIGKILL)": (2, lambda host: host.answering()[:1], False),
}


def kill_round(tmp: Path, seconds: float) -> None:
    print(f"kill round (asyncio client, {killing.CLIENTS} calls in flight, {seconds:g} s, SIGKILL at "
          f"{seconds / 2:g} s):")
    for i, (name, (workers, victims, restart)) in enumerate(KILLS.items()):
        db, log = tmp / f"kill-{i}.sqlite", tmp / f"kill-{i}.log"
        answered, sent, recorded = killing.kill_and_recover(db, workers, free_port(), log, victims, restart,
                                                            seconds=seconds, kill_at=seconds / 2)
        lost = len(answered - set(recorded))
        twice = sum(1 for n in recorded.values() if n > 1)
        tracebacks = log.read_text(errors="replace").count("Traceback")
        print(f"  {name:<38} sent {sent:>6,}  answered {len(answered):>6,}  events lost {lost}  recorded twice "
              f"{twice}  tracebacks {tracebacks}  integrity {killing.integrity(db)}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run (default 5)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--conns", type=int, nargs="+", default=[64, 256])
    p.add_argument("--rounds", type=int, default=3, help="alternating bare/host runs per figure; medians shown")
    p.add_argument("--memory-rounds", type=int, default=5, help="rounds of >= 100,000 requests (0: skip)")
    p.add_argument("--kill-seconds", type=float, default=6.0, help="load per kill case (0: skip the kill round)")
    p.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    p.add_argument("--serve-bare-worker", type=int, metavar="PORT", help=argparse.SUPPRESS)
    p.add_argument("--no-events", action="store_true", help="host with --quiet: no call events recorded")
    p.add_argument("--db", metavar="URL", help="postgresql://… (an empty database), or 'auto' for a throwaway "
                   "cluster: compare host --db on it with host --db SQLITE and the bare app, then stop")
    args = p.parse_args()
    global EVENTS
    EVENTS = not args.no_events
    if args.serve_bare:
        serve_bare(args.serve_bare, args.workers[0])
        return
    if args.serve_bare_worker:
        serve_bare_worker(args.serve_bare_worker)
        return
    if args.db:
        store_round(args)
        return
    print(f"wrk -t{WRK_THREADS} --latency, POST JSON bodies, {args.duration:g} s per run, median of {args.rounds} alternating "
          f"runs, loopback; latencies in ms; host {'records every event in SQLite' if EVENTS else 'records no events (--quiet)'}; CPU: server CPU µs per request "
          f"(ratio bare/host: the throughput ratio on an otherwise idle machine)")
    print("workers conns target   bare r/s  host r/s  ratio  bare p50 p99    host p50 p99  p99 ratio "
          "CPU bare host  ratio  errors b/h")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for workers in args.workers:
            compare(workers, args.conns, args.duration, args.rounds, tmp)
        if args.memory_rounds:
            print("memory (host, Gather router, 64 connections):")
            for workers in args.workers:
                memory(workers, args.memory_rounds, 100_000, tmp)
        if args.kill_seconds:
            kill_round(tmp, args.kill_seconds)


def store_round(args) -> None:
    """``--db``: the stores compared (one database per worker count), 64 connections."""
    import pgcluster

    cluster = None
    if args.db == "auto":
        cluster = pgcluster.Cluster()
        cluster.start()
    print(f"wrk, POST JSON bodies, {args.duration:g} s per run, median of {args.rounds} alternating runs; host --db "
          "serving the store, every call event recorded in it; latencies in ms")
    print("workers conns target   bare r/s  sqlite r/s  pg r/s  pg/sqlite  bare p99 sqlite p99 pg p99  "
          "p99 sqlite/pg  errors")
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            os.environ["FLEXML_STATE_DIR"] = str(Path(tmpdir) / "state")
            for workers in args.workers:
                url = cluster.new_database() if cluster else args.db
                compare_stores(workers, 64, args.duration, args.rounds, Path(tmpdir), url)
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
