"""The best known values of the published benchmark folders (``bks.csv``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobility.best_known import read_bks
from mobility.errors import DataFileError

BENCH = Path(__file__).resolve().parents[1].parent / "shared" / "benchmarks"


def test_bks_blank_is_unknown(tmp_path: Path) -> None:
    p = tmp_path / "bks.csv"
    p.write_text("instance,best_known\na,10\nb,\n", encoding="utf-8")
    assert read_bks(p) == {"a": 10.0, "b": None}


@pytest.mark.parametrize(
    ("folder", "instance", "value"), [("brp", "8Bergamo20", 12700.0), ("pmed", "pmed1", 5819.0)]
)
def test_every_published_folder_reads(folder: str, instance: str, value: float) -> None:
    assert read_bks(BENCH / folder / "bks.csv")[instance] == value


@pytest.mark.parametrize("text", ["instance,n\na,3\n", "instance,best_known\na,ten\n"])
def test_a_bad_file_names_itself(tmp_path: Path, text: str) -> None:
    p = tmp_path / "bks.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DataFileError, match=r"bks\.csv"):
        read_bks(p)
