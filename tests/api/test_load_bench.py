"""The mixed-load benchmark's harness (``bench/service.py``): what it times and what it compares."""

from __future__ import annotations

import shutil
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from bench.service import cpu_explains, drive_mixed_wrk


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept-alive connections, as wrk uses them
    connected: ClassVar[list[float]] = []
    requested: ClassVar[list[float]] = []

    def setup(self) -> None:
        type(self).connected.append(time.monotonic())
        super().setup()

    def do_GET(self) -> None:
        type(self).requested.append(time.monotonic())
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_held_connections_are_all_open_before_the_first_timed_request() -> None:
    """With ``hold_ms`` every connection is accepted before any request is sent, so no request is
    timed while its connection waits in the server's listen queue; the rate counts only the
    measured seconds."""
    _Recorder.connected, _Recorder.requested = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        start = time.monotonic()
        out = drive_mixed_wrk(
            server.server_address[1], [("GET", "/x", {}, None)], None, 4, 1.0, 0.0, 0.0, 1000.0
        )
    finally:
        server.shutdown()
        server.server_close()
    assert len(_Recorder.connected) >= 4 and _Recorder.requested
    assert max(_Recorder.connected[:4]) < min(_Recorder.requested)
    assert min(_Recorder.requested) - start >= 0.9  # the first requests waited for the hold
    measured_s = out["read"]["requests"] / out["read"]["rps"]
    assert 0.5 < measured_s < 1.6  # 2 s of wrk less the 1 s hold, not 2 s


def _run(reads: int, subs: int, cpu_s: float) -> dict[str, Any]:
    return {"read": {"requests": reads}, "submit": {"requests": subs}, "server_cpu_s": cpu_s}


def test_cpu_explains_the_read_ratio_by_connections_and_cpu_per_read() -> None:
    """Same CPU per read: only the fewer read connections (180 of 200) move a closed loop's
    latency; submissions that double the CPU behind each read explain twice that."""
    only = _run(10_000, 0, 3.0)
    assert cpu_explains({"reads_only": only, "mixed": _run(9_000, 100, 2.7)}, 200) == 0.9
    assert cpu_explains({"reads_only": only, "mixed": _run(9_000, 900, 5.4)}, 200) == 1.8
    assert cpu_explains({"reads_only": _run(0, 0, 0.0), "mixed": only}, 200) is None
