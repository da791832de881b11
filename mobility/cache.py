"""A disk cache for expensive derived data, keyed on its inputs.

A key is a hash of (a) every input file's resolved path, size and modification time and (b) any
parameters that change the result. When an input changes, the key changes and the entry is
rebuilt; stale entries are simply never read again (delete the cache folder,
``MOBILITY_CACHE_DIR`` or ``.cache/``, to reclaim their space).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from mobility.config import cache_dir
from mobility.io import atomic_path

T = TypeVar("T")


def file_fingerprint(path: Path | str) -> dict[str, Any]:
    """Identity of one input file: resolved path, size in bytes and mtime in nanoseconds."""
    p = Path(path).resolve()
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def files_stamp(root: Path, relpaths: Iterable[str]) -> tuple[tuple[str, int, int], ...]:
    """``(relpath, size, mtime_ns)`` of each file below ``root`` (``-1, -1`` when missing): a
    hashable key for an in-process memo that must notice when its input files change."""
    out = []
    for rel in relpaths:
        p = root / rel
        st = p.stat() if p.is_file() else None
        out.append((rel, st.st_size if st else -1, st.st_mtime_ns if st else -1))
    return tuple(out)


def cache_key(inputs: Iterable[Path | str] = (), **params: Any) -> str:
    """A short stable hash of input-file fingerprints and JSON-serialisable parameters."""
    payload = {
        "inputs": [file_fingerprint(p) for p in inputs],
        "params": params,
    }
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def array_key(*arrays: Any) -> str:
    """A hash of numpy arrays' bytes (for keying on point sets rather than files)."""
    h = hashlib.sha256()
    for a in arrays:
        buf = memoryview(a).cast("B") if hasattr(a, "__array__") else str(a).encode()
        h.update(bytes(buf))
    return h.hexdigest()[:20]


def cached_file(
    kind: str,
    key: str,
    suffix: str,
    build: Callable[[Path], None],
) -> Path:
    """Return the cache file ``<cache>/<kind>/<key><suffix>``, building it first if missing.

    Parameters
    ----------
    kind
        Sub-folder naming the kind of derived data (``"graphs"``, ``"matrices"``, ...).
    key
        From :func:`cache_key` or :func:`array_key`.
    suffix
        File ending, e.g. ``".npz"`` or ``".parquet"``.
    build
        Writes the entry to the path it is given (a temporary file renamed on success, so a
        crash never leaves a half-written entry behind).
    """
    target = cache_dir(kind) / f"{key}{suffix}"
    if not target.exists():
        with atomic_path(target) as tmp:
            build(tmp)
    return target
