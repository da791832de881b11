"""One reading of text encodings: the file sampler (``base.detect_encoding``, behind the trip,
usage and population loaders) and the table decoder (``decode_table_bytes``, behind the station
lists, GBFS station files, station-list uploads and status CSVs) give the same answer."""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd
import pytest

from mobility.errors import DataFileError
from mobility.sources import base, stations
from mobility.sources import trips as tr

TEXT = "대여소번호,대여소명,위도,경도\n102,망원역 1번출구 앞,37.5556,126.9106\n"

SAMPLES: dict[str, tuple[bytes, str]] = {
    "utf-8": (TEXT.encode("utf-8"), "utf-8"),
    "utf-8-sig": (TEXT.encode("utf-8-sig"), "utf-8"),
    "cp949": (TEXT.encode("cp949"), "cp949"),
    "euc-kr": (TEXT.encode("euc-kr"), "cp949"),
    "utf-16-le-bom": (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "utf-16"),
    "utf-16-be-bom": (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "utf-16"),
    "ascii": (b"station_id,bikes\nST-4,3\n", "utf-8"),
}


def test_the_station_decoder_is_the_base_one() -> None:
    # station lists, GBFS, uploads and status CSVs (snapshot_from_csv) decode through this name
    assert stations.decode_table_bytes is base.decode_table_bytes


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_entry_points_agree(tmp_path: Path, name: str) -> None:
    raw, expected = SAMPLES[name]
    path = tmp_path / f"{name}.csv"
    path.write_bytes(raw)
    text, enc = stations.decode_table_bytes(raw, path)
    assert enc == expected
    assert text == TEXT or name == "ascii"
    assert stations.read_table_text(path) == (text, enc)
    assert base.detect_encoding(path) == expected
    for cut in range(2, len(raw) + 1):  # every sample holding a BOM, mid-character cuts included
        assert base.detect_encoding(path, sample_bytes=cut) == expected, cut


def test_a_character_cut_by_the_sample_is_no_error(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    raw = TEXT.encode("utf-8")
    path.write_bytes(raw)
    cut = raw.index("망".encode()) + 1  # one byte into a three-byte character
    assert base.decode_table_bytes(raw[:cut], path, final=False)[1] == "utf-8"
    assert base.detect_encoding(path, sample_bytes=cut) == "utf-8"
    with pytest.raises(DataFileError, match="unknown text encoding"):  # the whole of a cut file is not UTF-8
        base.decode_table_bytes(b"\xff" + raw[:cut], path)


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00garbag", b"\xc9\xff\xfe,\n"])
def test_both_entry_points_refuse_alike(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(raw)
    with pytest.raises(DataFileError) as by_bytes:
        stations.decode_table_bytes(raw, path)
    with pytest.raises(DataFileError) as by_file:
        base.detect_encoding(path)
    assert str(by_file.value) == str(by_bytes.value)
    assert "unknown text encoding" in str(by_file.value)


def test_csv_loaders_read_utf16(tmp_path: Path) -> None:
    # read_csv_counted (usage, population) and the trip ingest take what a station list takes
    table = "gu,people\n마포구,372745\n중구,121312\n"
    utf8, utf16 = tmp_path / "p8.csv", tmp_path / "p16.csv"
    utf8.write_text(table, encoding="utf-8")
    utf16.write_text(table, encoding="utf-16")
    frame8, _ = base.read_csv_counted(utf8, ["gu", "people"])
    frame16, _ = base.read_csv_counted(utf16, ["gu", "people"])
    pd.testing.assert_frame_equal(frame16, frame8)

    fixture = Path(__file__).resolve().parent.parent / "fixtures" / "trips" / "official_2021_utf8_bom.csv"
    copy = tmp_path / fixture.name
    copy.write_text(fixture.read_text(encoding="utf-8-sig"), encoding="utf-16")
    want, got = tr.load_trips(fixture), tr.load_trips(copy)
    pd.testing.assert_frame_equal(got.table, want.table)
    assert got.report.dropped == want.report.dropped
