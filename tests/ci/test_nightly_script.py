"""docker/nightly.sh run for real (with ``sh`` and ``bash``) against a small HTTP server in the test
that plays the API: a night is saved whole or not at all, and the exit code says whether a retry can
help (2: permanent, 75: retryable) with the API's reason on stderr."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mobility.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "docker" / "nightly.sh"
NIGHT = "2025-12-01"
RUN = "/v1/rebalancing/runs/3f2c5a0e"
CSV = "truck_id,seq,station_id,name\nT01,1,ST-4,망원역\n"
GEOJSON = json.dumps({"type": "FeatureCollection", "features": []})
MORNING = {"day": "2025-12-02", "forecast_from": None, "outcomes": [{"method": "ours", "station": "망원역"}]}
SUCCEEDED_WITH_MORNING = {
    "id": "3f2c5a0e",
    "status": "succeeded",
    "links": {"routes": "routes", "morning": "morning"},
}
PERMANENT, RETRYABLE = 2, 75
TOOLS = [
    "curl", "awk", "sed", "tr", "tail", "head", "cat", "cp", "grep", "mktemp", "rm", "mv", "mkdir", "date",
    "sleep",
]  # fmt: skip
"""What the script runs, for a PATH without python3."""


@dataclass
class Answer:
    """How the fake API answers one route: status, JSON body, and whether the body is cut short."""

    status: int = 200
    body: Any = None
    truncated: bool = False


@dataclass
class FakeApi:
    """The answers by route, and the requests received (method, path, headers)."""

    post: Answer = field(default_factory=lambda: Answer(202, {"id": "3f2c5a0e", "status": "queued"}))
    polls: list[Answer] = field(
        default_factory=lambda: [Answer(200, {"id": "3f2c5a0e", "status": "succeeded"})]
    )
    csv: Answer = field(default_factory=lambda: Answer(200, CSV))
    geojson: Answer = field(default_factory=lambda: Answer(200, GEOJSON))
    morning: Answer = field(default_factory=lambda: Answer(200, MORNING))
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    url: str = ""

    def answer(self, method: str, path: str) -> Answer:
        if method == "POST" and path == "/v1/rebalancing/runs":
            return self.post
        if path == RUN:
            return self.polls.pop(0) if len(self.polls) > 1 else self.polls[0]
        if path == f"{RUN}/routes?format=csv":
            return self.csv
        if path == f"{RUN}/routes?format=geojson":
            return self.geojson
        if path == f"{RUN}/morning":
            return self.morning
        return Answer(404, {"detail": f"no route {path}"})


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            api.requests.append((self.command, self.path, dict(self.headers)))
            a = api.answer(self.command, self.path)
            text = a.body if isinstance(a.body, str) else json.dumps(a.body, ensure_ascii=False)
            data = text.encode()
            self.send_response(a.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data) + (1000 if a.truncated else 0)))
            if self.command == "POST" and a.status in (200, 202):
                self.send_header("Location", RUN)
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = a.truncated  # the connection closes before the promised length

        def do_GET(self) -> None:
            self._reply()

        def do_POST(self) -> None:
            self._reply()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(params=["sh", "bash"])
def shell(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _run(
    shell: str, url: str, tmp_path: Path, request: str | None = '{"fleet": {}}', **env: str
) -> subprocess.CompletedProcess[str]:
    request_file = tmp_path / "tonight.json"
    if request is not None:
        request_file.write_text(request, encoding="utf-8")
    full = {
        **os.environ,
        "MOBILITY_URL": url,
        "MOBILITY_OPS_KEY": "mob_test",
        "REQUEST_FILE": str(request_file),
        "OUT_DIR": str(tmp_path / "out"),
        "NIGHT": NIGHT,
        "POLL_SECONDS": "0",
        "MAX_WAIT_SECONDS": "5",
        **env,
    }
    return subprocess.run(
        [shell, str(SCRIPT)], env=full, capture_output=True, text=True, encoding="utf-8", timeout=60
    )


def _out(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "out").iterdir())


def test_a_night_saves_both_files_with_the_date_as_idempotency_key(
    shell: str, api: FakeApi, tmp_path: Path
) -> None:
    api.polls = [Answer(503, {"detail": "restarting"}), Answer(200, {"status": "running"}), *api.polls]
    r = _run(shell, api.url, tmp_path)
    assert r.returncode == 0, r.stderr
    assert _out(tmp_path) == [f"routes-{NIGHT}.csv", f"routes-{NIGHT}.geojson"]
    assert (tmp_path / "out" / f"routes-{NIGHT}.csv").read_text(encoding="utf-8") == CSV
    method, path, headers = api.requests[0]
    assert (method, path) == ("POST", "/v1/rebalancing/runs")
    assert headers["Idempotency-Key"] == f"nightly-{NIGHT}" and headers["X-API-Key"] == "mob_test"


@pytest.mark.parametrize("python3", [True, False])
def test_a_run_with_its_morning_after_saves_morning_json(
    shell: str, api: FakeApi, tmp_path: Path, python3: bool
) -> None:
    api.polls = [Answer(200, SUCCEEDED_WITH_MORNING)]
    if not python3:
        bin_dir = _bin_without_python3(tmp_path)
        shell = str(bin_dir / shell)
    r = _run(shell, api.url, tmp_path, **({} if python3 else {"PATH": str(bin_dir)}))
    assert r.returncode == 0, r.stderr
    assert _out(tmp_path) == [f"morning-{NIGHT}.json", f"routes-{NIGHT}.csv", f"routes-{NIGHT}.geojson"]
    saved = json.loads((tmp_path / "out" / f"morning-{NIGHT}.json").read_text(encoding="utf-8"))
    assert saved == MORNING


def test_a_failed_morning_download_keeps_the_night(shell: str, api: FakeApi, tmp_path: Path) -> None:
    """The routes are the night's product; the morning after is a report on them."""
    api.polls = [Answer(200, SUCCEEDED_WITH_MORNING)]
    api.morning = Answer(503, {"detail": "restarting"})
    r = _run(shell, api.url, tmp_path)
    assert r.returncode == 0, r.stderr
    assert _out(tmp_path) == [f"routes-{NIGHT}.csv", f"routes-{NIGHT}.geojson"]
    assert "the morning after was not saved" in r.stderr and "HTTP 503" in r.stderr


def test_a_run_without_morning_after_asks_for_none(shell: str, api: FakeApi, tmp_path: Path) -> None:
    r = _run(shell, api.url, tmp_path)
    assert r.returncode == 0, r.stderr
    assert not any(path.endswith("/morning") for _, path, _ in api.requests)


def test_a_second_download_cut_short_leaves_no_file_of_the_night(
    shell: str, api: FakeApi, tmp_path: Path
) -> None:
    api.geojson = Answer(200, GEOJSON, truncated=True)
    r = _run(shell, api.url, tmp_path)
    assert r.returncode == RETRYABLE, r.stderr
    assert _out(tmp_path) == []  # neither the complete CSV nor a temporary file
    assert "routes?format=geojson" in r.stderr


def test_a_422_prints_the_api_s_detail_and_is_permanent(shell: str, api: FakeApi, tmp_path: Path) -> None:
    api.post = Answer(422, {"detail": "fleet.trucks: 트럭이 없습니다; expected at least 1", "errors": []})
    r = _run(shell, api.url, tmp_path)
    assert r.returncode == PERMANENT
    assert "HTTP 422: fleet.trucks: 트럭이 없습니다; expected at least 1" in r.stderr
    assert len(api.requests) == 1 and _out(tmp_path) == []


def _bin_without_python3(tmp_path: Path) -> Path:
    """A folder of links to the script's tools and the two shells, and no python3."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in [*TOOLS, "sh", "bash"]:
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    return bin_dir


def test_the_detail_is_printed_without_python3_too(api: FakeApi, tmp_path: Path) -> None:
    bin_dir = _bin_without_python3(tmp_path)
    api.post = Answer(401, {"detail": "unknown or revoked API key"})
    r = _run(str(bin_dir / "sh"), api.url, tmp_path, PATH=str(bin_dir))
    assert r.returncode == PERMANENT
    assert "HTTP 401:" in r.stderr and "unknown or revoked API key" in r.stderr


def test_a_409_says_the_key_was_used_and_how_to_resubmit(shell: str, api: FakeApi, tmp_path: Path) -> None:
    api.post = Answer(409, {"detail": "Idempotency-Key already used with a different request body"})
    r = _run(shell, api.url, tmp_path)
    assert r.returncode == PERMANENT
    assert "Idempotency-Key already used with a different request body" in r.stderr
    assert f"nightly-{NIGHT}" in r.stderr and f"NIGHT={NIGHT}-2" in r.stderr


def test_a_missing_request_file_is_permanent_and_sends_nothing(
    shell: str, api: FakeApi, tmp_path: Path
) -> None:
    r = _run(shell, api.url, tmp_path, request=None)
    assert r.returncode == PERMANENT
    assert "tonight.json is not a readable file" in r.stderr
    assert api.requests == []


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_server_error_is_retryable(shell: str, api: FakeApi, tmp_path: Path, status: int) -> None:
    api.post = Answer(status, {"detail": "internal error (request id 7d1e)"})
    r = _run(shell, api.url, tmp_path)
    assert r.returncode == RETRYABLE
    assert f"HTTP {status}: internal error (request id 7d1e)" in r.stderr


def test_no_answer_is_retryable(shell: str, tmp_path: Path) -> None:
    r = _run(shell, "http://127.0.0.1:9", tmp_path)  # discard port: nothing listens
    assert r.returncode == RETRYABLE
    assert "no complete answer" in r.stderr


def test_a_failed_run_is_permanent_with_its_reason(shell: str, api: FakeApi, tmp_path: Path) -> None:
    api.polls = [Answer(200, {"status": "failed", "error": {"type": "InputError", "message": "no trucks"}})]
    r = _run(shell, api.url, tmp_path)
    assert r.returncode == PERMANENT
    assert "failed: no trucks" in r.stderr and f"NIGHT={NIGHT}-2" in r.stderr


def test_a_run_not_finished_in_time_is_retryable(shell: str, api: FakeApi, tmp_path: Path) -> None:
    api.polls = [Answer(200, {"status": "running"})]
    r = _run(shell, api.url, tmp_path, MAX_WAIT_SECONDS="0")
    assert r.returncode == RETRYABLE
    assert "still running" in r.stderr


def test_the_script_is_posix_sh_and_passes_shellcheck() -> None:
    assert SCRIPT.read_text(encoding="utf-8").startswith("#!/bin/sh\n")
    subprocess.run(["sh", "-n", str(SCRIPT)], check=True)
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    r = subprocess.run(["shellcheck", "-s", "sh", str(SCRIPT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
