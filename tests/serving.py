"""A real server process for a test or a benchmark: a free loopback port, and waiting until it answers."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_answering(proc: subprocess.Popen, url: str, output: Callable[[], str], timeout: float = 60.0) -> None:
    """Poll ``url``/flexml/status until the server answers; RuntimeError with its output if it exits or
    does not answer within ``timeout`` seconds (then it is stopped)."""
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}:\n{output()}")
        try:
            httpx.get(url + "/flexml/status", timeout=1)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                proc.terminate()
                raise RuntimeError(f"the server did not answer in {timeout:g} s:\n{output()}") from None
            time.sleep(0.1)
