"""The supply-chain step (.ci/audit.sh) with a stand-in for pip-audit: it fails on a known
vulnerability unless allow-listed with a reason, and says "SKIPPED" (passing only when not
required) when the vulnerability service cannot be reached."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from mobility.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / ".ci" / "audit.sh"

STUB = """#!/usr/bin/env python3
import json, sys
args = sys.argv[1:]
if "--dry-run" in args:
    print("INFO: Dry run: would have audited 2 packages"); sys.exit(0)
if MODE == "offline":
    sys.stderr.write("requests.exceptions.ConnectionError: Max retries exceeded\\n"); sys.exit(1)
ignored = {args[i + 1] for i, a in enumerate(args) if a == "--ignore-vuln"}
vulns = [v for v in [{"id": "GHSA-test-0001", "fix_versions": ["9.9"]}] if v["id"] not in ignored]
report = {"dependencies": [{"name": "leftpad", "version": "1.0", "vulns": vulns if MODE == "vuln" else []},
                           {"name": "ok", "version": "2.0", "vulns": []}]}
json.dump(report, open(args[args.index("--output") + 1], "w"))
sys.exit(1 if any(d["vulns"] for d in report["dependencies"]) else 0)
"""


def _run(tmp_path: Path, mode: str, allow: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    stub = tmp_path / "pip-audit"
    stub.write_text(STUB.replace("MODE ==", f"{mode!r} =="))
    stub.chmod(0o755)
    allow_file = tmp_path / "allow.txt"
    allow_file.write_text("# header\n" + allow)
    full = {**os.environ, "PIP_AUDIT": str(stub), "MOBILITY_AUDIT_ALLOW": str(allow_file), **env}
    return subprocess.run(["bash", str(SCRIPT)], env=full, capture_output=True, text=True, timeout=60)


def test_clean_environment_passes(tmp_path: Path) -> None:
    r = _run(tmp_path, "clean")
    assert r.returncode == 0 and "no known vulnerabilities (2 packages" in r.stdout, r.stdout + r.stderr


def test_known_vulnerability_fails(tmp_path: Path) -> None:
    r = _run(tmp_path, "vuln")
    assert r.returncode == 1 and "leftpad 1.0: GHSA-test-0001 (fixed in 9.9)" in r.stdout, r.stdout


def test_allow_listed_with_reason_passes(tmp_path: Path) -> None:
    r = _run(tmp_path, "vuln", "GHSA-test-0001  only in the docs build, never installed in the service\n")
    assert r.returncode == 0, r.stdout + r.stderr


def test_allow_list_entry_without_reason_fails(tmp_path: Path) -> None:
    r = _run(tmp_path, "vuln", "GHSA-test-0001\n")
    assert r.returncode == 1 and "without a reason" in r.stdout


@pytest.mark.parametrize(("required", "code"), [("0", 0), ("1", 1)])
def test_unreachable_service_is_said_plainly(tmp_path: Path, required: str, code: int) -> None:
    r = _run(tmp_path, "offline", MOBILITY_AUDIT_REQUIRED=required)
    assert r.returncode == code and "could not query the vulnerability service" in r.stdout
    if code == 0:
        assert "SKIPPED, not passed" in r.stdout and "2 packages" in r.stdout


def test_the_real_allow_list_has_reasons() -> None:
    lines = (PROJECT_ROOT / ".ci" / "pip-audit-allow.txt").read_text().splitlines()
    entries = [ln.split() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
    assert all(len(e) >= 2 for e in entries), entries
    assert json.dumps(entries)  # parseable ids
