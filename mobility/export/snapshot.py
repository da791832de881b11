"""The status snapshot's writers: one per format, for ``mobility demand snapshot`` and the API.

JSON is the document itself (:meth:`~mobility.rebalancing.snapshot.StatusSnapshot.to_dict`);
CSV (UTF-8 with a BOM, :func:`mobility.io.csv_bytes`) and Parquet are its status table
(:meth:`~mobility.rebalancing.snapshot.StatusSnapshot.table`), which
:func:`mobility.rebalancing.snapshot.read_snapshot` reads back to the same document.
"""

from __future__ import annotations

import json
from pathlib import Path

from mobility.errors import InputError
from mobility.io import atomic_path, csv_bytes
from mobility.rebalancing.snapshot import StatusSnapshot

__all__ = ["SNAPSHOT_SUFFIXES", "snapshot_csv", "snapshot_format", "snapshot_json", "write_snapshot"]

SNAPSHOT_SUFFIXES = (".csv", ".parquet", ".json")
"""The file types :func:`write_snapshot` writes (by the file's extension)."""


def snapshot_csv(snapshot: StatusSnapshot) -> str:
    """The status table as CSV text (UTF-8, no index; missing values are empty cells)."""
    return str(snapshot.table().to_csv(index=False))


def snapshot_json(snapshot: StatusSnapshot) -> str:
    """The JSON document (Hangul kept as is), indented."""
    return json.dumps(snapshot.to_dict(), ensure_ascii=False, indent=2) + "\n"


def snapshot_format(out: Path) -> str:
    """The format of ``out`` by its extension (one of :data:`SNAPSHOT_SUFFIXES`), checked before
    any work is done: an :class:`InputError` on ``--out`` otherwise."""
    suffix = out.suffix.lower()
    if suffix not in SNAPSHOT_SUFFIXES:
        raise InputError("--out", str(out), "a file name ending in " + ", ".join(SNAPSHOT_SUFFIXES))
    return suffix


def write_snapshot(snapshot: StatusSnapshot, out: Path) -> Path:
    """Write ``snapshot`` to ``out`` atomically: ``.csv`` or ``.parquet`` (the status table) or
    ``.json`` (the document)."""
    suffix = snapshot_format(out)
    with atomic_path(out) as tmp:
        if suffix == ".parquet":
            snapshot.table().to_parquet(tmp, index=False)
        elif suffix == ".json":
            tmp.write_text(snapshot_json(snapshot), encoding="utf-8")
        else:
            tmp.write_bytes(csv_bytes(snapshot_csv(snapshot)))
    return out
