"""A disk cache for expensive derived data, keyed on its inputs.

A key is a hash of (a) every input file's resolved path, size, modification time and a SHA-256
of its content and (b) any parameters that change the result. When an input changes, the key
changes and the entry is rebuilt, even when the new file has the old one's size and modification
time; stale entries are simply never read again (delete the cache folder, ``MOBILITY_CACHE_DIR``
or ``.cache/``, to reclaim their space). A file's digest is computed once per process and file
version (its path, size, modification and change times and inode), at about 1.5 GB/s.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from mobility.config import cache_dir
from mobility.io import atomic_path

T = TypeVar("T")


_DIGESTS: dict[tuple[str, int, int, int, int], str] = {}
_DIGESTS_LOCK = threading.Lock()


def file_digest(path: Path | str) -> str:
    """SHA-256 (hex) of a file's whole content, remembered for the process per file version.

    The version is the resolved path, size, modification time, change time and inode: writing
    the file in place or replacing it (even with ``touch -r`` to restore the old modification
    time) changes the change time or the inode, so the content is read again.
    """
    p = Path(path).resolve()
    st = p.stat()
    version = (str(p), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    with _DIGESTS_LOCK:
        known = _DIGESTS.get(version)
    if known is not None:
        return known
    with p.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    with _DIGESTS_LOCK:
        _DIGESTS[version] = digest
    return digest


def file_fingerprint(path: Path | str) -> dict[str, Any]:
    """Identity of one input file: resolved path, size in bytes, mtime in nanoseconds and the
    SHA-256 of its content (:func:`file_digest`; ``None`` for a folder).

    The content digest is what makes a key follow the data: a file replaced by another of the
    same size and modification time (a copy with ``cp -p``, a restore from an archive, an edit
    followed by ``touch -r``) gets a new key instead of the old file's cached result.
    """
    p = Path(path).resolve()
    st = p.stat()
    digest = file_digest(p) if p.is_file() else None
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}


def files_stamp(root: Path, relpaths: Iterable[str]) -> tuple[tuple[str, int, int], ...]:
    """``(relpath, size, content)`` of each file below ``root`` (``-1, -1`` when missing): a
    hashable key for an in-process memo that must notice when its input files change.

    ``content`` is the first 60 bits of the file's SHA-256 (:func:`file_digest`, read once per
    file version), so a file replaced by another of the same size and modification time is
    noticed by a long-running process (``mobility serve``) too.
    """
    out = []
    for rel in relpaths:
        p = root / rel
        st = p.stat() if p.is_file() else None
        out.append((rel, st.st_size if st else -1, int(file_digest(p)[:15], 16) if st else -1))
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
    """A hash of numpy arrays (for keying on point sets rather than files).

    Each part is hashed with its dtype and shape (strings: with their length) before its bytes,
    so that the boundary between two parts is part of the key: sources ``[a, b]`` and targets
    ``[c]`` never share a key with sources ``[a]`` and targets ``[b, c]``, nor ``int64`` values
    with ``float64`` values of the same bytes.
    """
    import numpy as np

    h = hashlib.sha256()
    for a in arrays:
        if hasattr(a, "__array__"):
            arr = np.ascontiguousarray(a)
            head = f"array|{arr.dtype.str}|{arr.shape}|"
            if arr.dtype.hasobject:
                raise TypeError("array_key hashes arrays of numbers, booleans or fixed-width strings")
            h.update(head.encode())
            h.update(arr.data)
        else:
            data = str(a).encode()
            h.update(f"str|{len(data)}|".encode())
            h.update(data)
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


def cached_load(
    kind: str,
    key: str,
    suffix: str,
    build: Callable[[Path], None],
    load: Callable[[Path], T],
) -> T:
    """:func:`cached_file`, then ``load`` it; an entry that cannot be loaded is rebuilt once.

    A damaged entry (a file cut short by a full disk or a crash of the machine before the data
    reached the disk, a copy of the cache folder interrupted half-way) raises whatever its reader
    raises (``EOFError``, ``zipfile.BadZipFile``, ``json.JSONDecodeError``, pyarrow's errors...):
    it is deleted, built again and loaded; an error of the fresh entry is raised.

    Parameters
    ----------
    kind, key, suffix, build
        As for :func:`cached_file`.
    load
        Reads the entry at the path it is given.
    """
    got = load_or_discard(cached_file(kind, key, suffix, build), load)
    return got if got is not None else load(cached_file(kind, key, suffix, build))


def load_or_discard(path: Path, load: Callable[[Path], T]) -> T | None:
    """``load(path)`` of a cache entry, or ``None`` when there is none or it cannot be read.

    An entry its reader refuses (cut short by a full disk, an interrupted copy of the cache
    folder: ``EOFError``, ``zipfile.BadZipFile``, pyarrow's and numpy's errors...) is deleted, so
    the caller builds it again. The one place that decides what a damaged entry is; callers that
    write their entries themselves (``travel_matrix``, ``load_trips``) use it as
    :func:`cached_load` does.
    """
    if not path.exists():
        return None
    try:
        return load(path)
    except Exception:  # any reader's error: the entry is damaged
        path.unlink(missing_ok=True)
        return None


_KEPT: dict[tuple[str, ...], tuple[tuple[tuple[str, int, str], ...], Any]] = {}
_KEPT_LOCK = threading.Lock()


def _version(paths: Iterable[Path | str]) -> tuple[tuple[str, int, str], ...]:
    """Path, size and content digest (:func:`file_digest`, read once per file version) of each file."""
    return tuple((str(p), Path(p).stat().st_size, file_digest(p)) for p in paths)


def kept_while_unchanged(key: tuple[str, ...], read: Callable[[], tuple[T, Iterable[Path]]]) -> T:
    """``read()``'s value, kept in this process and read again only when a file it came from changes.

    For small tables read on every request of a long-running process (``mobility serve``), whose
    files are known only once read (a named station vintage resolves to its file).

    Parameters
    ----------
    key
        What is read (its kind and parameters, the data directory).
    read
        Returns the value and the files it was read from.

    Returns
    -------
    T
        The value, shared between calls: do not change it.
    """
    with _KEPT_LOCK:
        hit = _KEPT.get(key)
    if hit is not None:
        version, value = hit
        try:
            if _version(v[0] for v in version) == version:
                return value
        except OSError:  # a file it came from is gone: read again
            pass
    value, sources = read()
    with _KEPT_LOCK:
        _KEPT[key] = (_version(sources), value)
    return value
