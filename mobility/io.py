"""Writing results safely: nothing is ever half-written.

Every writer in the package goes through :func:`atomic_write` (or :func:`atomic_path`): the
content goes to a temporary file in the destination folder, which is renamed over the target
only when complete.

Every CSV goes through :func:`csv_bytes` / :func:`atomic_write_csv`: UTF-8 **with a byte-order
mark**, so that Excel (which opens a BOM-less UTF-8 CSV as CP949) shows the Hangul names, and
CRLF line ends (RFC 4180), whoever formatted the rows.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

CSV_BOM = "\ufeff"
"""The byte-order mark every CSV of the package starts with (see :func:`csv_bytes`)."""


@contextmanager
def atomic_path(target: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On an exception the temporary file is removed and ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        # mkstemp creates 0600 files; give the result the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def can_create_dir(path: Path) -> bool:
    """Whether folder ``path`` exists or can be made: its nearest existing ancestor is a folder
    the user may write in (:func:`os.access`). Root may write anywhere as far as ``os.access``
    knows, yet not in ``/proc``: for root a probe folder is created there and removed at once."""
    path = path.absolute()
    base = path if path.exists() else next((p for p in path.parents if p.exists()), Path(path.anchor))
    if not base.is_dir() or not os.access(base, os.W_OK | os.X_OK):
        return False
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        return True
    probe: Path | None = None
    try:
        probe = Path(tempfile.mkdtemp(prefix=".mobility-probe-", dir=base))
        return True
    except OSError:
        return False
    finally:
        if probe is not None:
            with contextlib.suppress(OSError):
                probe.rmdir()


class _NativeStdoutToStderr:
    """What native code writes to file descriptor 1 goes to stderr while any block runs.

    Solvers print on stdout from C++ (HiGHS's ``Running HiGHS ...`` banner even with OR-Tools'
    output off, and OR-Tools takes no HiGHS parameters), where it would mix with a command's
    table or ``--json``. Blocks may run in several threads at once (API jobs): the first one in
    redirects, the last one out restores.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._saved: int | None = None

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._active == 0:
                sys.stdout.flush()
                self._saved = os.dup(1)
                os.dup2(2, 1)
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0 and self._saved is not None:
                    sys.stdout.flush()
                    os.dup2(self._saved, 1)
                    os.close(self._saved)
                    self._saved = None


native_stdout_to_stderr = _NativeStdoutToStderr()
"""``with native_stdout_to_stderr(): ...``: native output on stdout goes to stderr meanwhile
(every MIP solve of :mod:`mobility.placement` runs inside it)."""


@contextmanager
def staged_files(out_dir: Path | str, *, owns: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a hidden folder inside ``out_dir`` to write a set of files into; on success move each
    of them into ``out_dir`` (an atomic rename each, all after the last one is written).

    ``owns`` names every file the command may write there (``map.html`` of ``--maps``, ...). A file
    of ``out_dir`` so named that this run did not write is from an earlier run and is removed once
    the new set is in, so that the folder holds one run's files, not the new ones beside the last
    run's (a ``--no-maps`` plan beside the maps of another). No other file of the folder is touched.

    A run that fails part-way (a simulation or a map after the routes) then leaves the previous
    set of files whole. On an exception the staging folder and what it holds are removed and
    ``out_dir`` is left untouched, the earlier run's files included.
    """
    owned = set(owns)
    if any(name != Path(name).name or name in ("", ".", "..") for name in owned):
        raise ValueError(f"owns: file names of the folder, not paths: {sorted(owned)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        yield stage
        new = sorted(stage.iterdir())
        stale = [out / name for name in sorted(owned - {f.name for f in new})]
        for f in new:
            f.replace(out / f.name)
        for f in stale:  # after the new set is in: a failure before leaves the last set whole
            if f.is_file() or f.is_symlink():
                f.unlink(missing_ok=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def atomic_write_text(target: Path | str, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically and return the target path."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def atomic_write_bytes(target: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the target path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_json(target: Path | str, obj: Any, *, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON (UTF-8, Hangul kept as is, not ``\\uXXXX``) atomically."""
    return atomic_write_text(target, json.dumps(obj, ensure_ascii=False, indent=indent, default=str) + "\n")


def _crlf(text: str) -> str:
    """CSV text with every record ended by CRLF (RFC 4180), whatever its writer used; line breaks
    inside quoted cells are kept as they are (the rows are read and written again by :mod:`csv`)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(csv.reader(io.StringIO(text, newline="")))
    return out.getvalue()


def csv_bytes(table: pd.DataFrame | str) -> bytes:
    """A table (no index) or CSV text already formatted, as the bytes of a CSV file: UTF-8
    **with a byte-order mark**, every record ended by CRLF (RFC 4180) whichever it is.

    Excel on Windows opens a BOM-less UTF-8 CSV as CP949/ANSI and shows the station names as
    mojibake; with the BOM, Hangul appears correctly on double-click. Readers of the package
    (``pandas.read_csv(..., encoding="utf-8-sig")``, the snapshot and station readers) skip it.
    """
    if isinstance(table, str):
        text = _crlf(table.removeprefix(CSV_BOM))
    else:
        text = str(table.to_csv(index=False, lineterminator="\r\n"))
    return (CSV_BOM + text).encode("utf-8")


def atomic_write_csv(target: Path | str, table: pd.DataFrame | str) -> Path:
    """Write ``table`` as CSV (:func:`csv_bytes`: UTF-8 with a BOM) atomically; return the target."""
    return atomic_write_bytes(target, csv_bytes(table))
