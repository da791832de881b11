"""Dataset fingerprints: the whole file, so that an edit anywhere in an input shows."""

from __future__ import annotations

import os
from pathlib import Path

from mobility.provenance import dataset_version


def test_an_edit_in_the_middle_of_a_file_changes_its_fingerprint(tmp_path: Path) -> None:
    a, b = tmp_path / "trips.csv", tmp_path / "copy" / "trips.csv"
    b.parent.mkdir()
    body = bytearray(b"x" * 5_000_100)
    a.write_bytes(bytes(body))
    body[5_000_000] = ord("y")  # past the first MiB, same size
    b.write_bytes(bytes(body))
    va, vb = dataset_version(a), dataset_version(b)
    assert va["bytes"] == vb["bytes"] and va["file"] == vb["file"]
    assert va["sha256"] != vb["sha256"]


def test_a_rewritten_file_is_hashed_again(tmp_path: Path) -> None:
    f = tmp_path / "stations.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    first = dataset_version(f)["sha256"]
    f.write_text("a,b\n1,3\n", encoding="utf-8")  # same size
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a later modification time
    assert dataset_version(f)["sha256"] != first


def test_a_same_size_same_mtime_replacement_is_hashed_again(tmp_path: Path) -> None:
    """dataset_version remembered its digest per (path, size, mtime), so a long-running process
    (``mobility serve``) recorded the old file's digest for a replacement restored with the old
    modification time; it now shares the cache keys' digest, which also follows the inode and
    change time."""
    f = tmp_path / "stations.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    st = f.stat()
    first = dataset_version(f)["sha256"]
    f.write_text("a,b\n1,3\n", encoding="utf-8")  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old modification time
    assert f.stat().st_mtime_ns == st.st_mtime_ns
    assert dataset_version(f)["sha256"] != first
