"""The machine description every benchmark prints."""

from __future__ import annotations

from mobility.machine import describe, machine


def test_machine_reports_cores_memory_and_load() -> None:
    m = machine()
    assert m["cores"] >= 1 and m["ram_gb"] > 0 and m["cpu"]
    assert m["loadavg"] is None or len(m["loadavg"]) == 3
    line = describe(m)
    assert f"{m['cores']} cores" in line and "GB RAM" in line and "load" in line
