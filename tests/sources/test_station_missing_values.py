"""Kept stations without a dock count or a district are counted as warnings, never shown as 0."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mobility.sources.stations import (
    DOCKS_MISSING,
    GU_MISSING,
    GU_OUTSIDE_SEOUL,
    NO_DOCK_COUNTS,
    UNREADABLE_DOCKS,
    docks_total,
    docks_total_text,
    load_station_list,
    stations_from_csv_bytes,
)


def test_api_dump_warns_kept_stations_without_docks(data_dir: Path) -> None:
    loaded = load_station_list("api-2025-05", data_dir)
    report = loaded.report
    assert report.warnings[DOCKS_MISSING] == 14  # 15 without HOLD_NUM, one of them has zero coordinates
    assert len(report.examples[DOCKS_MISSING]) == 3
    assert all(sid.startswith("ST-") for sid in report.examples[DOCKS_MISSING])
    assert docks_total(loaded.table["docks"]) == (37358, 14)
    assert docks_total_text(loaded.table["docks"]) == "37,358 docks (14 without a count)"


def test_master_warns_no_dock_counts_and_districts(data_dir: Path) -> None:
    loaded = load_station_list("master", data_dir)
    report = loaded.report
    assert report.warnings[NO_DOCK_COUNTS] == len(loaded.table) == 3344
    assert DOCKS_MISSING not in report.warnings
    assert report.warnings[GU_OUTSIDE_SEOUL] == 2
    assert sorted(report.examples[GU_OUTSIDE_SEOUL]) == ["ST-3190", "ST-3191"]  # 경기도 하남시
    assert report.warnings[GU_MISSING] == 1
    assert report.examples[GU_MISSING] == ["ST-164"]  # address "주소없음"
    assert docks_total(loaded.table["docks"]) == (None, 3344)
    assert docks_total_text(loaded.table["docks"]) == "docks unknown (no dock counts)"


def test_blank_and_unreadable_docks_are_told_apart_and_dropped_rows_not_counted() -> None:
    csv = (
        "대여소번호,대여소명,자치구,주소,위도,경도,거치대수\n"
        "1,a,마포구,서울 마포구 x,37.55,126.90,10\n"
        "2,b,마포구,서울 마포구 y,37.55,126.91,\n"
        "3,c,마포구,서울 마포구 z,37.55,126.92,x\n"
        "4,d,,경기도 하남시 학암동 1,37.48,127.15,5\n"
        "5,e,,주소없음,37.49,127.00,5\n"
        "6,f,마포구,서울 마포구 w,0,0,\n"
    ).encode()
    loaded = stations_from_csv_bytes(csv, source="t")
    w = loaded.report.warnings
    assert w[DOCKS_MISSING] == 1 and loaded.report.examples[DOCKS_MISSING] == ["2"]
    assert w[UNREADABLE_DOCKS] == 1
    assert w[GU_OUTSIDE_SEOUL] == 1 and loaded.report.examples[GU_OUTSIDE_SEOUL] == ["4"]
    assert w[GU_MISSING] == 1 and loaded.report.examples[GU_MISSING] == ["5"]
    assert len(loaded.table) == 5  # the zero-coordinate row is dropped, not warned
    assert docks_total(loaded.table["docks"]) == (20, 2)


def test_complete_counts_have_a_plain_total() -> None:
    assert docks_total_text(pd.Series([3, 4], dtype="Int64")) == "7 docks"
    assert docks_total(pd.Series([], dtype="Int64")) == (0, 0)
