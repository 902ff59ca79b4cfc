"""Killing ``host --db`` on purpose (tests/test_host_kill.py and the benchmark's kill round).

``Host`` starts the real command as its own process group on a loopback port and finds its processes;
``drive`` sends a bounded load of unique calls (a CallSid each) and remembers which got a whole answer;
``recorded`` counts each CallSid's events in the database.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

from serving import free_port, wait_until_answering

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "compiler" / "examples" / "main-menu.json"
NUMBER = "15162065337"
LOAD_SECONDS = 3.0
KILL_AT = 1.5  # seconds into the load
CLIENTS = 24  # requests in flight


class Host:
    """``flexml-designer host EXAMPLE --db DB`` (or ``serve --db DB``: the designer, whose host answers
    ``/flexml/main-menu`` with an apology and an error event while it has no such flow) in its own session;
    its stderr goes to a file."""

    def __init__(self, db: Path, workers: int, port: int, log: Path, command: str = "host"):
        self.url = f"http://127.0.0.1:{port}"
        self.workers = workers
        self.log = log
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
        if command == "host":
            args = ["host", str(EXAMPLE), "--did", f"{NUMBER}=main-menu", "--workers", str(workers)]
        else:
            args = ["serve"]
        with open(log, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "designer", *args, "--port", str(port), "--db", str(db)],
                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        wait_until_answering(self.proc, self.url, lambda: log.read_text(errors="replace"))
        deadline = time.monotonic() + 60
        while len(self.answering()) < workers and time.monotonic() < deadline:  # every worker, not the first
            time.sleep(0.1)
        assert len(self.answering()) == workers, log.read_text(errors="replace")

    def processes(self) -> list[int]:
        """The command's process and all its descendants."""
        found, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo += [int(p) for p in (task / "children").read_text().split()]
            except OSError:
                continue
        return found

    def answering(self) -> list[int]:
        """The processes answering requests: the command itself, or its worker processes."""
        alive = [p for p in self.processes() if not _is_writer(p) and _is_python(p)]
        return alive if self.workers == 1 else [p for p in alive if p != self.proc.pid]

    def writers(self) -> list[int]:
        return [p for p in self.processes() if _is_writer(p)]

    def stop(self) -> None:
        """SIGTERM, as an operator would; then whatever is left of the process group is killed."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                pass
        _wait_group_gone(self.proc.pid)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _is_writer(pid: int) -> bool:
    return "designer.host.event_writer" in _cmdline(pid)


def _is_python(pid: int) -> bool:
    return "python" in _cmdline(pid).split(" ")[0]


def _wait_group_gone(pgid: int, timeout: float = 60.0) -> None:
    """Wait until no process of the group is left (an orphaned writer finishing its work); then kill the rest."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.killpg(pgid, signal.SIGKILL)


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> bytes:
    """One request on a kept-alive connection; the whole answer's body (an error if it is cut short)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 "):
        raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
    return await reader.readexactly(length)


async def drive(url: str, seconds: float, kill_at: float, kill) -> tuple[set[str], int]:
    """Unique calls for ``seconds`` from CLIENTS kept-alive connections (raw HTTP/1.1: a Python client fast
    enough to load the host); ``kill()`` at ``kill_at``. Returns the CallSids answered whole, and how many
    requests were sent."""
    answered: set[str] = set()
    sent = 0
    start = time.monotonic()
    host, port = url.rsplit("/", 1)[1].rsplit(":", 1)
    params = {"From": "15162065338", "To": NUMBER, "Direction": "inbound", "CallStatus": "ringing"}

    def request(sid: str) -> bytes:
        body = json.dumps({**params, "CallSid": sid}).encode()
        return (b"POST /flexml/main-menu HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % (host.encode(), len(body))) + body

    async def caller() -> None:
        nonlocal sent
        conn = None
        while time.monotonic() - start < seconds:
            sid = f"CA-kill-{uuid.uuid4().hex}"
            try:
                if conn is None:
                    conn = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 5)
                sent += 1
                body = await asyncio.wait_for(_post(*conn, request(sid)), 5)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    AttributeError, ValueError):
                if conn is not None:
                    conn[1].close()
                conn = None
                await asyncio.sleep(0.02)  # the host is down or restarting
                continue
            if body.rstrip().endswith(b"</Response>"):
                answered.add(sid)
        if conn is not None:
            conn[1].close()

    async def killer() -> None:
        await asyncio.sleep(kill_at)
        kill()

    await asyncio.gather(killer(), *(caller() for _ in range(CLIENTS)))
    return answered, sent


def recorded(db: Path) -> dict[str, int]:
    """How often each CallSid of the load has its answer's event (a request's decisions are events of their
    own kind, so one answer may have several events, but never the same event twice)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT call_sid, MAX(n) FROM (SELECT call_sid, COUNT(*) AS n FROM events "
                            "WHERE call_sid LIKE 'CA-kill-%' GROUP BY call_sid, kind, target, at) GROUP BY call_sid")
        return dict(rows.fetchall())
    finally:
        conn.close()


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def kill(pids: list[int]) -> None:
    assert pids, "nothing to kill"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def wait_gone(pids: list[int], timeout: float = 10.0) -> None:
    """Wait until the processes ``pids`` have ended (zombies count as ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() and "zombie" not in
                                             _state(pid) for pid in pids):
        time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0]
    except (OSError, IndexError):
        return "zombie"


def kill_and_recover(db: Path, workers: int, port: int, log: Path, victims, restart: bool,
                     seconds: float = LOAD_SECONDS, kill_at: float = KILL_AT,
                     command: str = "host") -> tuple[set[str], int, dict[str, int]]:
    """Load, SIGKILL ``victims(host)`` part-way, start again if ``restart``, wait for the writers, stop.

    Returns the CallSids answered, the requests sent, and the events recorded per CallSid.
    """
    hosts = [Host(db, workers, port, log, command)]
    killed: list[int] = []

    def kill_now() -> None:
        killed.extend(victims(hosts[0]))
        kill(killed)

    try:
        answered, sent = asyncio.run(drive(hosts[0].url, seconds, kill_at, kill_now))
        if restart:
            hosts[0].proc.poll()  # reaps it, if it was killed
            wait_gone(killed)
            hosts.append(Host(db, workers, port, log, command))  # picks up the spool the killed processes left
        deadline = time.monotonic() + 60
        while not answered <= set(recorded(db)) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        for host in reversed(hosts):
            host.stop()
    return answered, sent, recorded(db)
