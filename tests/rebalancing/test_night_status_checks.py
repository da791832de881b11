"""``mobility rebalance --status`` checks tonight's file as the API's upload does: an id and a
number the station list pairs otherwise are refused, each named by its line; far more bikes than
docks is kept and said in the night's notes (what the command prints as ``note:``).

Before: ``ST-10`` with number 999 was planned as it was given, and 300 bikes at a station of 15
docks passed without a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobility.rebalancing.night import load_night_problem
from mobility.rebalancing.snapshot import SnapshotInputError, every_problem
from mobility.scenario.nightly import nightly_from_dict
from tests.rebalancing.test_night_inputs import SCENARIO


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tonight.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_id_and_a_number_the_list_pairs_otherwise_are_refused(tmp_path: Path, data_dir: Path) -> None:
    """ST-4 is number 102 in the 2025-12 list, ST-10 number 108, ST-18 number 113."""
    status = _file(tmp_path, "station_id,number,bikes\nST-4,102,3\nST-10,999,3\nst-7,113,2\n")
    with pytest.raises(SnapshotInputError) as info, every_problem():
        load_night_problem(nightly_from_dict(SCENARIO), status, data_dir)
    assert str(info.value) == (
        "--status: 2 invalid values:\n"
        "  [ST-10].number (line 3): got 999; expected 108, ST-10's number in the station list; "
        "no listed station has number 999\n"
        "  [st-7].number (line 4): got 113; expected 105, ST-7's number in the station list; "
        "number 113 is ST-18's"
    )


def test_far_more_bikes_than_docks_is_a_note_of_the_night(tmp_path: Path) -> None:
    text = (
        "station_id,bikes,docks,lon,lat\n"
        "ST-4,300,15,126.9104,37.5556\nST-5,25,15,126.9107,37.5547\nST-6,3,10,126.915,37.553\n"
    )
    night = load_night_problem(nightly_from_dict(SCENARIO), _file(tmp_path, text))
    assert night.problem.bikes.tolist() == [300, 25, 3]  # kept: stations do overflow
    assert night.notes == [
        "1 status row of 3 kept but flagged (more bikes than docks + 10, the most the demand model "
        "lets a station hold; a typo?): ST-4 (300 bikes, 15 docks)"
    ]
