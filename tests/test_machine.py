"""The machine description every benchmark prints."""

from __future__ import annotations

from mobility.machine import describe, format_load, machine


def test_machine_reports_cores_memory_and_load() -> None:
    m = machine()
    assert m["cores"] >= 1 and m["ram_gb"] > 0 and m["cpu"]
    assert m["loadavg"] is None or len(m["loadavg"]) == 3
    line = describe(m)
    assert f"{m['cores']} cores" in line and "GB RAM" in line and "load" in line


def test_machine_line_formats_the_load_with_two_decimals() -> None:
    info = {"cores": 2, "ram_gb": 7.8, "cpu": "cpu", "python": "3.11", "loadavg": [0.4, 1.234, 12.0]}
    assert describe(info).endswith("load 0.40 1.23 12.00")
    assert format_load(None) == "n/a"
