"""The machine a benchmark ran on: cores, memory, CPU model, Python and load.

Every benchmark (the ``bench/`` scripts and ``mobility bench ...``) prints this beside its figures,
because a time means little without the machine and what else it was doing.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["describe", "format_load", "machine"]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def machine() -> dict[str, Any]:
    """Describe this machine for a benchmark's output.

    Returns
    -------
    dict
        ``cores`` (available to this process), ``ram_gb`` (total), ``cpu`` (model name),
        ``python`` (version) and ``loadavg`` (1, 5 and 15 minutes, or ``None`` where the system
        does not report it).
    """
    ram_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {
        "cores": _cores(),
        "ram_gb": ram_gb,
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "loadavg": load,
    }


def format_load(load: Sequence[float] | None) -> str:
    """A load average (1, 5 and 15 minutes) with two decimals, e.g. ``0.40 0.31 0.20``.

    Parameters
    ----------
    load
        The three figures of :func:`os.getloadavg` (or ``machine()["loadavg"]``); ``None`` or
        empty where the system does not report them.

    Returns
    -------
    str
        The figures separated by spaces, or ``n/a``.
    """
    return " ".join(f"{x:.2f}" for x in load) if load else "n/a"


def describe(info: dict[str, Any] | None = None) -> str:
    """One line for a benchmark's header, e.g. ``2 cores, 23.5 GB RAM, AMD EPYC ..., load 0.40 0.30 0.20``."""
    m = info if info is not None else machine()
    load = format_load(m["loadavg"])
    return f"{m['cores']} cores, {m['ram_gb']} GB RAM, {m['cpu']}, Python {m['python']}, load {load}"
