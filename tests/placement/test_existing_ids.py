"""A plan names every baseline station by a unique id, the 54 without an ST id included."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from mobility.placement.pipeline import _existing_allocations
from mobility.sources.stations import load_station_list


def test_stations_without_an_st_id_are_named_by_their_number(data_dir: Path) -> None:
    """They were written as the text "<NA>", 54 times: the 2025 plan failed its own check of
    unique ids and its GBFS feed had 54 stations of one id. Route plans call them N<number>."""
    st = load_station_list("2025-12", data_dir=data_dir).table
    fleet = SimpleNamespace(docks=np.zeros(len(st), int), bikes=np.zeros(len(st), int))
    ids = [a.station_id for a in _existing_allocations(SimpleNamespace(stations=st), fleet)]  # type: ignore[arg-type]
    assert len(set(ids)) == len(ids) == len(st) and "<NA>" not in ids
    numberless = np.flatnonzero(st["station_id"].isna().to_numpy())
    assert len(numberless) == 54
    assert [ids[i] for i in numberless] == [f"N{int(n)}" for n in st["number"].iloc[numberless]]
    listed = np.flatnonzero(st["station_id"].notna().to_numpy())
    assert [ids[i] for i in listed] == st["station_id"].iloc[listed].astype(str).tolist()
