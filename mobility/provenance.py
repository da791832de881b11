"""Where a result came from: code version, dataset versions, scenario, seed.

Every Plan and RebalancingPlan embeds a :class:`Provenance`, so a reviewer can tell exactly
what produced it and re-run it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import platform
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field

from mobility import __version__
from mobility.cache import file_digest
from mobility.config import PROJECT_ROOT


def _git(*args: str) -> str:
    """The output of ``git args`` in the project checkout (raises when git is missing or fails)."""
    return subprocess.run(
        ["git", "-C", str(PROJECT_ROOT), *args], capture_output=True, text=True, timeout=5, check=True
    ).stdout.strip()


def _change_digest() -> str:
    """A short SHA-256 of the uncommitted change: ``git diff HEAD`` plus the untracked files under
    ``mobility/`` (names and contents); ``""`` when the tree is clean."""
    diff = _git("diff", "HEAD", "--no-ext-diff", "--no-color")
    untracked = sorted(_git("ls-files", "--others", "--exclude-standard", "--", "mobility").splitlines())
    if not diff and not untracked:
        return ""
    h = hashlib.sha256(diff.encode())
    for name in untracked:
        h.update(b"\0" + name.encode() + b"\0")
        with contextlib.suppress(OSError):  # removed since listed: its name still counts
            h.update((PROJECT_ROOT / name).read_bytes())
    return h.hexdigest()[:12]


@lru_cache(maxsize=1)
def code_version() -> str:
    """Package version plus the git commit when run from a checkout; a tree with uncommitted
    changes adds ``.dirty`` and a short hash of the change (:func:`_change_digest`), so two
    different edits of the same commit give different versions. Computed once per process."""
    try:
        commit = _git("rev-parse", "--short=12", "HEAD")
        change = _change_digest()
        return f"{__version__}+g{commit}{f'.dirty.{change}' if change else ''}"
    except (OSError, subprocess.SubprocessError):
        return __version__


RESULT_LIBRARIES = (
    "ortools", "numpy", "numba", "scipy", "pandas", "pyarrow", "duckdb", "scikit-learn",
    "shapely", "pyproj", "geopandas", "pyroutingkit",
)  # fmt: skip
"""The installed packages a result's figures depend on: the solvers (OR-Tools with its HiGHS, SCIP
and CP-SAT), the compiled search (numba), the numerics and the geometry. numpy picks its kernels
by the processor's instruction set, so a result is reproduced with the same versions and CPU."""


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """``{distribution: version}`` of :data:`RESULT_LIBRARIES` (those installed), and ``cpu``:
    the processor's model and architecture. Computed once per process."""
    from mobility.machine import machine

    out = {}
    for name in RESULT_LIBRARIES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[name] = importlib.metadata.version(name)
    out["cpu"] = f"{machine()['cpu']} ({platform.machine()})"
    return out


@lru_cache(maxsize=1)
def package_digest() -> str:
    """A short SHA-256 of the ``mobility`` package's source (every ``.py`` file's path and
    content): the code part of a cache key. Unlike :func:`code_version` it ignores edits outside
    the package (the README, tests, benchmarks), which change no result, and needs no git.
    Computed once per process."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def dataset_version(path: Path | str) -> dict[str, Any]:
    """Identity of one input dataset: name, size and a SHA-256 of the whole file (16 hex digits).

    The whole file, so that a change anywhere in it shows (the head alone missed an edit in the
    middle of a trip file); the Seoul data directory is about 130 MB, read at disk speed once per
    process and file version (:func:`mobility.cache.file_digest`, the digest the cache keys use).
    """
    p = Path(path)
    return {"file": p.name, "bytes": p.stat().st_size, "sha256": file_digest(p)[:16]}


def content_version(content: Any, **about: Any) -> dict[str, Any]:
    """Identity of content a result was computed from that is not a file of its own (a snapshot or
    a station list sent in a request, a job's routes): ``about`` (its name, id, station count,
    ...), the size of its canonical JSON (keys sorted, no spaces, UTF-8) and a SHA-256 of it (16
    hex digits, as :func:`dataset_version`'s): the same content gives the same hash, whatever
    order its keys came in.

    Parameters
    ----------
    content
        JSON-ready content (dicts, lists, strings, numbers; anything else is written as its
        ``str``).
    **about
        What the entry says of the content besides, first in it (e.g. ``name``, ``stations``).

    Returns
    -------
    dict[str, Any]
        ``about`` with ``bytes`` and ``sha256``.
    """
    body = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    blob = body.encode("utf-8")
    return {**about, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()[:16]}


@dataclass(frozen=True)
class Provenance:
    """Inputs and code a result was computed from.

    ``fanned_out`` is recorded by simulations only (``None`` elsewhere): whether the replications
    ran as tasks on a Dask cluster (:mod:`mobility.simulation.fanout`) or in the calling process.
    ``libraries`` (:func:`library_versions`) is filled by :meth:`collect`; a document read back
    keeps what it recorded.
    """

    code_version: str
    datasets: dict[str, dict[str, Any]]
    scenario: dict[str, Any] | None = None
    seed: int | None = None
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    python: str = field(default_factory=platform.python_version)
    libraries: Annotated[
        dict[str, str],
        Field(
            description="Versions of the solvers and numeric libraries the result was computed "
            "with, and the CPU (`cpu`): the same inputs and seed give the same result with the "
            "same versions and processor. Empty in documents written before it was recorded."
        ),
    ] = field(default_factory=dict)
    fanned_out: Annotated[
        bool | None,
        Field(
            description="The replications ran as tasks on a Dask cluster (false: in one process; "
            "null: not a simulation, or not recorded)."
        ),
    ] = None

    @classmethod
    def collect(
        cls,
        datasets: dict[str, Path | str],
        *,
        scenario: dict[str, Any] | None = None,
        seed: int | None = None,
        fanned_out: bool | None = None,
    ) -> Provenance:
        """Fingerprint the named dataset files and record the current code version."""
        return cls(
            code_version=code_version(),
            datasets={name: dataset_version(p) for name, p in datasets.items()},
            scenario=scenario,
            seed=seed,
            libraries=library_versions(),
            fanned_out=fanned_out,
        )

    def with_files(self, files: Mapping[str, Path], *, skip_known: bool = False) -> Provenance:
        """This provenance with ``files`` fingerprinted under their names (a later stage's inputs,
        e.g. ``simulation.network``), the named ones it holds already replaced.

        ``skip_known``: leave out a file whose name and content the provenance already records
        under another name (the morning after's trips, recorded by the night too).
        """
        added = {name: dataset_version(p) for name, p in files.items()}
        if skip_known:
            have = {(d.get("file"), d.get("sha256")) for d in self.datasets.values()}
            added = {k: v for k, v in added.items() if (v["file"], v["sha256"]) not in have}
        return replace(self, datasets={**self.datasets, **added})

    def with_contents(
        self, contents: Mapping[str, dict[str, Any]], *, request: Mapping[str, Any] | None = None
    ) -> Provenance:
        """This provenance with content that is not a file recorded under its name (each entry a
        :func:`content_version`, e.g. ``{"status": ...}`` for a snapshot sent in a request, or
        :func:`~mobility.rebalancing.plan.routes_version`), the named ones it holds already
        replaced; with ``request``, the request that named that content (its ids, without the
        content itself) recorded as the scenario's ``request``.
        """
        scenario = self.scenario if request is None else {**(self.scenario or {}), "request": dict(request)}
        return replace(self, datasets={**self.datasets, **contents}, scenario=scenario)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)
