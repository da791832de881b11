"""API worker processes that each listen on their own socket (``SO_REUSEPORT``), so the kernel
spreads new connections evenly between them.

uvicorn's ``--workers`` hands one listening socket to every process and lets them race to
accept. On uvloop (libuv >= 1.45, one ``accept()`` per event-loop iteration) the race is
lopsided: connections that arrive while the server is idle all go to whichever process wakes
first (all 50 or all 200 kept-alive connections of a benchmark on one of two workers, the
other idle, in each of four runs). With one socket per process in a ``SO_REUSEPORT`` group the
kernel assigns each connection to a process by a hash of its addresses, whatever the processes
are doing (87-113 of 200 on each of two). Each socket has its own listen queue; a burst of new
connections to a busy worker still waits there one event-loop iteration per connection ahead
of it.

Linux only (``SO_REUSEPORT`` load-balances only there); elsewhere ``mobility serve`` keeps
uvicorn's own workers.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import time
from collections import deque
from types import FrameType

log = logging.getLogger("mobility.api")

BACKLOG = 2048
"""Listen queue of each worker's socket (uvicorn's default)."""

MAX_RESTARTS = 5
"""Workers that die more often than this within :data:`RESTART_WINDOW_SECONDS` stop the server
(a port taken by another program, an app that cannot start) instead of restarting forever."""

RESTART_WINDOW_SECONDS = 60.0
STOP_SECONDS = 30.0
"""How long a worker may take to finish its requests after SIGTERM before it is killed."""


def reuse_port_supported() -> bool:
    """Whether the kernel balances connections between ``SO_REUSEPORT`` sockets (Linux)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` in the port's ``SO_REUSEPORT`` group."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError:
        sock.close()
        raise
    return sock


def serve_one(host: str, port: int, log_level: str) -> None:
    """One worker process: its own socket, the app built from the environment (``create_app``)."""
    import uvicorn

    sock = listen_socket(host, port)
    config = uvicorn.Config(
        "api.app:create_app", factory=True, host=host, port=port, log_level=log_level, access_log=False
    )
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(workers: int, host: str, port: int, log_level: str) -> None:
    """Run ``workers`` processes of :func:`serve_one` until SIGINT or SIGTERM; restart one that
    dies (a ``kill -9``), unless they keep dying (:data:`MAX_RESTARTS`)."""
    listen_socket(host, port).close()  # the port is free (or ours): fail here, not in a restart loop
    ctx = multiprocessing.get_context("spawn")
    stopping: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)

    def start() -> multiprocessing.process.BaseProcess:
        proc = ctx.Process(target=serve_one, args=(host, port, log_level), name="mobility-api")
        proc.start()
        return proc

    procs = [start() for _ in range(workers)]
    deaths: deque[float] = deque()
    try:
        while not stopping:
            time.sleep(0.2)
            for i, proc in enumerate(procs):
                if proc.is_alive() or stopping:
                    continue
                now = time.monotonic()
                deaths.append(now)
                while deaths and deaths[0] < now - RESTART_WINDOW_SECONDS:
                    deaths.popleft()
                if len(deaths) > MAX_RESTARTS:
                    raise SystemExit(
                        f"API workers died {len(deaths)} times within {RESTART_WINDOW_SECONDS:g} s"
                    )
                log.warning("API worker %s exited with %s; starting another", proc.pid, proc.exitcode)
                procs[i] = start()
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        for proc in procs:
            proc.join(STOP_SECONDS)
            if proc.is_alive():
                proc.kill()
                proc.join()
