"""Hosts that serve a shared PostgreSQL store: two real ``host --db postgresql://…`` processes follow what
``publish``, ``unbind`` and a restore put in it, calls in progress keep their revision, and restarting the
database under load loses no answered request's events."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest

from compiler import dumps, load
from designer.cli import main
from designer.store.postgres import PostgresStore
from tests.serving import free_port, wait_until_answering

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "compiler" / "examples"
NUMBER, OTHER = "15162065337", "15162065399"
SORRY = "Sorry, we cannot take your call"  # the host's apology for a number no flow answers
DEADLINE = 1.0  # what the issue promises: a change reaches every host within a second


class HostProcess:
    """``flexml-designer host --db URL`` with its own state folder (as on its own machine); stderr to a file."""

    def __init__(self, url: str, folder: Path, workers: int = 1):
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder / "host.log"
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
        env["FLEXML_STATE_DIR"] = str(folder / "state")
        with open(self.log, "ab") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "designer", "host", "--db", url, "--port", self.url.rsplit(":", 1)[1],
                 "--workers", str(workers)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
                start_new_session=True)
        wait_until_answering(self.proc, self.url, self.output)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str) -> str:
        return httpx.get(self.url + path, timeout=5).text

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()


_EDITS = iter(range(1, 1_000_000))


def publish(url: str, flow: str, *extra: str, changed: bool = False) -> None:
    """Publish an example; ``changed``: a copy whose greeting differs (an unchanged flow makes no revision)."""
    source = EXAMPLES / f"{flow}.json"
    if changed:
        graph = load(source)
        start = graph.graph["start"]
        graph.nodes[start]["text"] = f"{graph.nodes[start].get('text', '')} Edit {next(_EDITS)}."
        source = Path(tempfile.mkdtemp(prefix="flexml-publish-")) / f"{flow}.json"
        source.write_text(dumps(graph))
    assert main(["publish", str(source), "--db", url, *extra]) == 0


def reaches_all(hosts: list[HostProcess], path: str, wanted: str, deadline: float = DEADLINE) -> bool:
    """Whether every host answers ``path`` with text containing ``wanted`` before ``deadline`` seconds pass."""
    end = time.monotonic() + deadline
    waiting = list(hosts)
    while waiting:
        waiting = [h for h in waiting if wanted not in h.get(path)]
        if waiting and time.monotonic() > end:
            return False
        if waiting:
            time.sleep(0.01)
    return True


@pytest.fixture
def hosts(pg_url, tmp_path):
    publish(pg_url, "main-menu", "--did", "+" + NUMBER)
    started = [HostProcess(pg_url, tmp_path / "a"), HostProcess(pg_url, tmp_path / "b", workers=2)]
    yield started
    for host in started:
        host.stop()


def test_publish_restore_bind_and_unbind_each_reach_both_hosts_within_a_second(pg_url, hosts, capsys):
    for host in hosts:
        assert "/flexml/main-menu/1/menu/gather" in host.get(f"/flexml?To={NUMBER}")
    publish(pg_url, "main-menu", "--note", "second", changed=True)
    assert "Published flow main-menu revision 2 (second)" in capsys.readouterr().out
    assert reaches_all(hosts, "/flexml/main-menu", "/flexml/main-menu/2/menu/gather")

    store = PostgresStore(pg_url)  # a restore (rollback) in the designer
    try:
        store.set_published("main-menu", 1)
    finally:
        store.close()
    assert reaches_all(hosts, "/flexml/main-menu", "/flexml/main-menu/1/menu/gather")

    for host in hosts:
        assert SORRY in host.get(f"/flexml?To={OTHER}")
    publish(pg_url, "pin-check", "--did", "+" + OTHER)  # a new flow, and a number bound to it
    assert reaches_all(hosts, f"/flexml?To={OTHER}", "/flexml/pin-check/1/")

    assert main(["unbind", "+" + OTHER, "--db", pg_url]) == 0
    assert reaches_all(hosts, f"/flexml?To={OTHER}", SORRY)
    assert reaches_all(hosts, f"/flexml?To={NUMBER}", "/flexml/main-menu/1/")  # the other number still rings


def test_a_call_that_started_on_revision_1_finishes_on_it_after_revision_2(pg_url, hosts):
    first = hosts[1].get(f"/flexml?To={NUMBER}")  # the call starts: its next request names revision 1
    assert "/flexml/main-menu/1/menu/gather" in first
    publish(pg_url, "main-menu", changed=True)
    assert reaches_all(hosts, "/flexml/main-menu", "/flexml/main-menu/2/menu/gather")
    for host in hosts:
        routed = httpx.post(host.url + "/flexml/main-menu/1/menu/gather", data={"Digits": "1", "CallSid": "CA-r1"})
        assert "<Number>15162065340</Number>" in routed.text  # revision 1's sales transfer, answered in full


def test_a_host_started_while_the_database_is_down_says_so_and_serves_it_once_it_is_up(pg_cluster, pg_url,
                                                                                        tmp_path):
    publish(pg_url, "main-menu", "--did", "+" + NUMBER)
    pg_cluster.stop_server()
    try:
        host = HostProcess(pg_url, tmp_path / "late")
    finally:
        pg_cluster.start_server()
    try:
        assert "cannot reach the database" in host.output()
        assert reaches_all([host], f"/flexml?To={NUMBER}", "/flexml/main-menu/1/menu/gather", deadline=30)
    finally:
        host.stop()


def test_restarting_the_database_under_load_loses_no_answered_requests_events(pg_cluster, pg_url, hosts):
    answered: list[str] = []
    failed: list[str] = []
    stop = threading.Event()

    def load(host: HostProcess, prefix: str) -> None:
        with httpx.Client(base_url=host.url, timeout=5) as client:
            n = 0
            while not stop.is_set() and n < 3000:
                sid = f"{prefix}-{n}"
                n += 1
                try:
                    response = client.post("/flexml", data={"To": NUMBER, "CallSid": sid, "From": "1555"})
                except httpx.HTTPError as exc:
                    failed.append(f"{sid}: {exc}")
                    continue
                (answered if "<Response>" in response.text else failed).append(sid)
                time.sleep(0.002)

    threads = [threading.Thread(target=load, args=(h, f"CA-{i}")) for i, h in enumerate(hosts)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    pg_cluster.restart()
    time.sleep(1.0)
    stop.set()
    for t in threads:
        t.join()
    assert failed == [] and len(answered) > 50

    publish(pg_url, "main-menu", changed=True)  # the hosts reconnected and follow the store again
    assert reaches_all(hosts, "/flexml/main-menu", "/flexml/main-menu/2/menu/gather", deadline=30)

    store = PostgresStore(pg_url)
    try:
        deadline = time.monotonic() + 60
        while True:
            with store._pool.connection() as conn:
                recorded = {r["call_sid"] for r in conn.execute("SELECT DISTINCT call_sid FROM events")}
            missing = [sid for sid in answered if sid not in recorded]
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert missing == [], f"{len(missing)} answered requests have no event: {missing[:5]}"
    finally:
        store.close()
