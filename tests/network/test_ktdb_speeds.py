"""The one join of KTDB hourly speeds onto links (:func:`mobility.network.ktdb.hourly_speeds_for_ids`),
for the KTDB shapefile as for GraphML networks."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from mobility.network.ktdb import load_ktdb

KTDB = Path("osm") / "ktdb_lev55_2023"
SHP = "seoul_link_lev5.5_2023"


def _ktdb_copy(data_dir: Path, tmp_path: Path, extra_rows: list[str]) -> Path:
    """The real link shapefile beside the real ``AverageSpeed_LINK.csv`` with ``extra_rows`` added."""
    for ext in (".shp", ".shx", ".dbf", ".prj"):
        shutil.copy(data_dir / KTDB / f"{SHP}{ext}", tmp_path / f"{SHP}{ext}")
    csv = (data_dir / KTDB / "AverageSpeed_LINK.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "AverageSpeed_LINK.csv").write_text(
        csv.rstrip("\n") + "\n" + "\n".join(extra_rows) + "\n", encoding="utf-8-sig"
    )
    return tmp_path / f"{SHP}.shp"


def test_a_ktdb_link_with_several_speed_rows_takes_their_median(data_dir: Path, tmp_path: Path) -> None:
    """Link 1013669 (경인로, 구로구; 58 km/h at 00-01 h in the real file) given two more rows of
    10 and 20 km/h: the shapefile's link takes the hour-by-hour median (20), as a GraphML edge
    with that id does, not the first row's 58."""
    row = "1013669,1160001701,일반국도,경인로,서울특별시 구로구,0.157,6," + ",".join(["{v}"] * 24)
    shp = _ktdb_copy(data_dir, tmp_path, [row.format(v=10), row.format(v=20)])
    net = load_ktdb(shp)
    real = load_ktdb(data_dir / KTDB / f"{SHP}.shp")
    assert net.hourly_kph is not None and real.hourly_kph is not None
    assert real.info["links_read"] == net.info["links_read"] == 8531
    assert net.info["ktdb_speed_links_matched"] == real.info["ktdb_speed_links_matched"] == 8529
    same = (net.hourly_kph == real.hourly_kph) | (np.isnan(net.hourly_kph) & np.isnan(real.hourly_kph))
    differ = np.flatnonzero(~same.all(axis=1))
    assert differ.size == 1  # only the link with the added rows
    (k,) = differ
    assert real.hourly_kph[k, 0] == 58.0
    assert net.hourly_kph[k].tolist() == [20.0] * 24
    assert net.speed_kph is not None and net.speed_kph[k] == pytest.approx(20.0)
