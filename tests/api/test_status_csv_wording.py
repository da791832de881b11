"""A bad cell of a status CSV is quoted as the number it spells whatever its neighbours: ``-4``,
never ``-4.0`` because another cell of its column is blank or a decimal; the API's 422 and the
CLI's message (``mobility rebalance --status``, :func:`mobility.rebalancing.snapshot.read_snapshot`)
say it alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mobility.errors import InputError
from mobility.rebalancing.snapshot import read_snapshot
from tests.api.api_support import Api

ALONE = "station_id,bikes,target\nST-4,3,-4\nST-5,3,2\n"
NEIGHBOURS = {
    "alone": ALONE,
    "beside a blank": "station_id,bikes,target\nST-4,3,-4\nST-5,3,\n",
    "beside a decimal": "station_id,bikes,target\nST-4,3,-4\nST-5,3,2.5\n",
    "beside another bad cell": "station_id,bikes,target\nST-4,3,-4\nST-5,3,-5\n",
}


def _first(api: Api, text: str) -> dict[str, Any]:
    r = api.client.post(
        "/v1/rebalancing/snapshots/csv",
        content=text.encode(),
        headers=api.h("ops", **{"Content-Type": "text/csv"}),
    )
    assert r.status_code == 422, r.text
    return dict(r.json()["errors"][0])


@pytest.mark.parametrize("case", sorted(NEIGHBOURS))
def test_a_bad_cell_is_quoted_alike_whatever_its_neighbours(api_lite: Api, tmp_path: Path, case: str) -> None:
    first = _first(api_lite, NEIGHBOURS[case])
    assert (first["field"], first["problem"]) == ("body[ST-4].target (line 2)", "got -4; expected >= 0")
    path = tmp_path / "status.csv"
    path.write_text(NEIGHBOURS[case], encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_snapshot(path)
    assert str(info.value) == f"--status[ST-4].target (line 2): {first['problem']}"


def test_a_status_csv_reads_each_number_as_written(tmp_path: Path) -> None:
    path = tmp_path / "status.csv"
    path.write_text("station_id,docks,bikes,lon,lat,clipped\nST-4,15,3,126.91,37.55,-4\nST-5,,0,,,\n")
    first, second = read_snapshot(path).stations
    assert (first.docks, first.bikes, first.lon, first.lat, first.clipped) == (15, 3, 126.91, 37.55, -4.0)
    assert (second.docks, second.bikes, second.lon, second.clipped) == (None, 0, None, None)
