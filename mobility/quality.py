"""Data-quality accounting: rows that cannot be used are counted with their reason, never silently dropped.

Loaders return a table together with a :class:`QualityReport`; ``mobility data check`` prints the
reports of every dataset.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

import pandas as pd


class Rows(TypedDict, total=False):
    """How :meth:`QualityReport.drop` and :meth:`QualityReport.warn` are told the rows besides a mask.

    Attributes
    ----------
    count
        Number of rows, when there is no mask.
    example
        Values to quote as examples (filtered by the mask when it has the same length).
    """

    count: int | None
    example: pd.Series | None


@dataclass
class QualityReport:
    """What happened to the rows of one dataset.

    Attributes
    ----------
    dataset
        Dataset name (e.g. ``"stations_2025-12"``).
    rows_read
        Records read from the source.
    dropped
        Reason -> number of records that were left out for that reason.
    warnings
        Reason -> number of records kept but flagged (e.g. a typo in a date that was repaired).
    examples
        Reason -> a few example values, to make a report actionable.
    """

    dataset: str
    rows_read: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rows_kept(self) -> int:
        """Rows that made it into the table."""
        return self.rows_read - sum(self.dropped.values())

    def dropped_notes(self, label: str) -> list[str]:
        """The rows left out, as notes a result and a command show: one per reason, with the
        count and the first example, e.g. ``"--to new.csv: 1 of 2,799 rows left out: coordinates
        outside Seoul (e.g. 35.1,129.0)"``; empty when every row was kept.

        Parameters
        ----------
        label
            What was read, as the user named it (``"--to new.csv"``, ``"station file x.csv"``).
        """
        notes = []
        for reason, n in self.dropped.items():
            examples = self.examples.get(reason, [])
            eg = f" (e.g. {', '.join(examples)})" if examples else ""
            notes.append(f"{label}: {n:,} of {self.rows_read:,} rows left out: {reason}{eg}")
        return notes

    def drop(self, reason: str, mask: pd.Series | None = None, **rows: Unpack[Rows]) -> None:
        """Record ``count`` rows (or the true entries of ``mask``) dropped for ``reason``."""
        self._record(self.dropped, reason, mask, **rows)

    def warn(self, reason: str, mask: pd.Series | None = None, **rows: Unpack[Rows]) -> None:
        """Record ``count`` rows (or the true entries of ``mask``) kept but flagged for ``reason``."""
        self._record(self.warnings, reason, mask, **rows)

    def _record(
        self,
        counter: Counter[str],
        reason: str,
        mask: pd.Series | None,
        count: int | None = None,
        example: pd.Series | None = None,
    ) -> None:
        n = int(mask.sum()) if mask is not None else int(count or 0)
        if n:
            counter[reason] += n
            self._example(reason, example, mask)

    def _example(self, reason: str, values: pd.Series | None, mask: pd.Series | None) -> None:
        if values is None:
            return
        vals = values[mask] if mask is not None and len(values) == len(mask) else values
        self.examples.setdefault(reason, [])
        room = 3 - len(self.examples[reason])
        self.examples[reason].extend(str(v) for v in vals.head(max(room, 0)).tolist())

    @property
    def ok(self) -> bool:
        """True when no row was dropped."""
        return not self.dropped

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return {
            "dataset": self.dataset,
            "rows_read": self.rows_read,
            "rows_kept": self.rows_kept,
            "dropped": dict(self.dropped),
            "warnings": dict(self.warnings),
            "examples": self.examples,
        }
