"""``host --workers N``: N worker processes, each listening on the port with its own socket.

uvicorn's own ``--workers`` shares one listening socket, and whichever worker
wakes first accepts a whole burst of connections: measured with one wrk thread
opening 64 keep-alive connections, one worker got 62 and the other 2, and the
pair answered no faster than one. Here every worker binds the port with
``SO_REUSEPORT``, so the kernel spreads new connections evenly across them.

The supervisor starts the workers, restarts one that dies (after a pause, so a
worker that cannot start does not spin), and on SIGTERM or SIGINT stops them
all; each worker's shutdown writes its queued call events. Where the system has
no ``SO_REUSEPORT``, ``supported()`` is False and the command falls back to
uvicorn's workers.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

RESTART_PAUSE = 1.0  # seconds before a worker that died is started again


def supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` that other workers may bind too (SO_REUSEPORT)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    sock.listen(2048)
    return sock


def supervise(workers: int, host: str, port: int, access_log: bool, command: list[str] | None = None) -> int:
    """Run ``workers`` worker processes until SIGTERM/SIGINT; returns the exit status.

    ``command`` runs one worker (default: this module's ``worker_main`` serving ``$FLEXML_HOST_CONFIG``).
    """
    command = command or [sys.executable, "-m", "designer.host.workers", host, str(port), "1" if access_log else "0"]
    procs: list[subprocess.Popen | None] = [None] * workers
    started = [0.0] * workers
    pause = [RESTART_PAUSE] * workers
    stopping = False

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for i in range(workers):
            procs[i], started[i] = subprocess.Popen(command), time.monotonic()
        while not stopping:
            time.sleep(0.2)
            for i, proc in enumerate(procs):
                if proc is None or proc.poll() is None or stopping:
                    continue
                # a worker that died soon after starting waits longer each time (up to a minute)
                pause[i] = min(pause[i] * 2, 60.0) if time.monotonic() - started[i] < 10 else RESTART_PAUSE
                print(f"host worker {proc.pid} exited with status {proc.returncode}; starting another in "
                      f"{pause[i]:.0f} s", file=sys.stderr, flush=True)
                deadline = time.monotonic() + pause[i]
                while time.monotonic() < deadline and not stopping:
                    time.sleep(0.1)
                if not stopping:
                    procs[i], started[i] = subprocess.Popen(command), time.monotonic()
    finally:
        for proc in procs:
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in procs:
            if proc is None:
                continue
            try:
                proc.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def worker_main(argv: list[str]) -> int:
    """One worker: the app from ``$FLEXML_HOST_CONFIG`` on its own SO_REUSEPORT socket."""
    import uvicorn

    from designer.host import app_from_env
    from designer.host.guard import server_settings

    host, port, access_log = argv[0], int(argv[1]), argv[2] == "1"
    try:
        sock = listening_socket(host, port)
    except OSError as exc:
        print(f"host worker: cannot listen on {host}:{port}: {exc.strerror}", file=sys.stderr)
        return 1
    config = uvicorn.Config(app_from_env(), host=host, port=port, log_level="warning", access_log=access_log,
                            **server_settings())
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
