"""Best known values of the published benchmark folders (``DIR/bks.csv``).

Every folder of ``shared/benchmarks`` (OR-Library p-median, BRP, 1-PDTSP) lists its instances'
best known objective values in one CSV with at least the columns ``instance`` and
``best_known``; the benchmarks of placement and of rebalancing read it here.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from mobility.errors import DataFileError

__all__ = ["read_bks"]


def read_bks(path: Path | str) -> dict[str, float | None]:
    """``bks.csv`` → ``{instance: best_known}``; a blank ``best_known`` means unknown (``None``).

    Raises
    ------
    DataFileError
        The file cannot be read, lacks the ``instance`` or ``best_known`` column, or holds a value
        that is not a number.
    """
    path = Path(path)
    out: dict[str, float | None] = {}
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            missing = sorted({"instance", "best_known"} - set(reader.fieldnames or ()))
            if missing:
                raise DataFileError(
                    path, f"expected columns instance, best_known; missing {', '.join(missing)}"
                )
            for row in reader:
                text = (row["best_known"] or "").strip()
                value = float(text) if text else None
                out[row["instance"].strip()] = value if value is not None and math.isfinite(value) else None
    except (OSError, ValueError) as exc:
        raise DataFileError(path, f"expected columns instance, best_known with numbers ({exc})") from exc
    return out
