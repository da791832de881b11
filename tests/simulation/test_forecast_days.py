"""A morning past the demand data (tonight's, in 2026) is simulated as a forecast, not refused.

The monthly counts end in 2025-12; the nightly run of 2026-12-06 used to solve its routes and then
fail with ``--day: got '2026-12-07'; expected a day in 2019..2025``.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from mobility.cli import app
from mobility.errors import InputError
from mobility.simulation.days import FORECAST_YEARS, LAST_NIGHT, forecast_from, morning_night_problem

MONTHS = [str(p) for p in pd.period_range("2019-01", "2025-12", freq="M")]


def test_a_day_in_the_data_is_no_forecast() -> None:
    assert forecast_from(pd.Timestamp("2025-12-31"), MONTHS) is None
    assert forecast_from(pd.Timestamp("2019-01-01"), MONTHS) is None
    assert forecast_from(pd.Timestamp("2026-12-07"), []) is None  # no data: the season model says why


def test_a_day_past_the_data_is_forecast_from_the_month_after_its_last() -> None:
    assert forecast_from(pd.Timestamp("2026-12-07"), MONTHS) == "2026-01"
    assert forecast_from(pd.Timestamp("2027-12-31"), MONTHS) == "2026-01"
    # data to 2025-06: the rest of 2025 has its year factor, 2026 is forecast from 2025-07
    assert forecast_from(pd.Timestamp("2025-09-02"), MONTHS[:-6]) is None
    assert forecast_from(pd.Timestamp("2026-03-02"), MONTHS[:-6]) == "2025-07"


def test_a_day_beyond_the_horizon_is_refused_by_its_option() -> None:
    assert FORECAST_YEARS == 2
    with pytest.raises(InputError) as err:
        forecast_from(pd.Timestamp("2028-01-01"), MONTHS, "night")
    assert err.value.field == "night" and "2028-01-01" in str(err.value)
    assert "a day to 2027-12-31 (the data ends 2025-12" in str(err.value)


@pytest.mark.parametrize(
    ("night", "ok"),
    [
        (None, True),
        (dt.date(2018, 12, 31), False),
        (dt.date(2019, 1, 1), True),
        (dt.date(2025, 12, 31), True),  # its morning, 2026-01-01, is a forecast
        (dt.date(2026, 12, 6), True),  # tonight
        (dt.date(2027, 12, 30), True),
        (dt.date(2027, 12, 31), False),  # its morning is 2028-01-01
    ],
)
def test_which_nights_have_a_morning_after(night: dt.date | None, ok: bool) -> None:
    why = morning_night_problem(night)
    assert (why is None) is ok, why
    if not ok:
        assert f"got '{night}'" in str(why) and f"to {LAST_NIGHT}" in str(why)


@pytest.mark.slow
def test_tonights_morning_after_is_simulated_as_a_forecast(data_dir: Path) -> None:
    """12 real 마포구 stations, the night of 2026-12-06: the morning of Monday 7 December is
    simulated from the rates forecast from the data before 2026-01, and says so; a night in the
    data is not a forecast."""
    from mobility.simulation.morning import morning_after
    from mobility.sources.stations import load_station_list

    st = load_station_list("2025-12", data_dir=data_dir).table
    st = st[st["gu"] == "마포구"].head(12).reset_index(drop=True)
    bikes = np.full(len(st), 5)

    def run(night: str) -> tuple[object, float]:
        m = morning_after(
            st, bikes, {"none": None}, night=night, profiles=None, replications=2, data_dir=data_dir
        )
        return m, m.outcomes[0].window_empty.mean + m.outcomes[0].lost_empty.mean

    tonight, _ = run("2026-12-06")
    assert tonight.day == "2026-12-07" and tonight.day_type == "weekday"  # type: ignore[attr-defined]
    assert tonight.forecast_from == "2026-01"  # type: ignore[attr-defined]
    assert any("2026-12-07 forecast from the history before 2026-01" in n for n in tonight.notes)  # type: ignore[attr-defined]
    # the model column's level is the simulator's season model, the same as the night's curves'
    from mobility.simulation.model import demand_level
    from mobility.sources.usage import load_citywide_monthly_usage

    monthly = load_citywide_monthly_usage(data_dir).table
    level = demand_level(pd.Timestamp("2026-12-07"), monthly)
    assert tonight.model_level == pytest.approx(level, abs=1e-4) and level < 1  # type: ignore[attr-defined]
    # and its note says that level, not the profiles' (it said "at the profile level" whatever it was)
    assert any(f"{level:.2f} × the profiles' level" in n for n in tonight.notes)  # type: ignore[attr-defined]
    in_data, _ = run("2025-12-07")
    assert in_data.forecast_from is None  # type: ignore[attr-defined]
    assert not any("forecast" in n for n in in_data.notes)  # type: ignore[attr-defined]
    with pytest.raises(InputError) as err:
        run("2027-12-31")
    assert err.value.field == "night"


def test_rebalance_refuses_a_night_it_cannot_simulate_before_solving(tmp_path: Path) -> None:
    """2028: exit 2 naming ``night.date`` and the way out (``--no-simulate``); nothing written."""
    scn = {
        "name": "mini",
        "night": {"date": "2028-06-01"},
        "depots": [{"id": "A", "name": "창고", "lon": 126.98, "lat": 37.56}],
        "trucks": [{"depot": "A", "count": 1, "capacity": 8}],
        "targets": {"source": "snapshot", "tolerance": 0},
        "network": {"source": "straight"},
        "solver": {"time_limit": 2, "workers": 1},
    }
    sp = tmp_path / "mini.yaml"
    sp.write_text(yaml.safe_dump(scn, allow_unicode=True), encoding="utf-8")
    st = tmp_path / "snap.csv"
    st.write_text("station_id,bikes,docks,target,lon,lat\nST-1,9,10,5,126.97,37.55\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["rebalance", str(sp), "--status", str(st), "--out", str(out)]
    mobility = str(Path(sys.executable).parent / "mobility")
    res = subprocess.run([mobility, *argv], capture_output=True, text=True, check=False)
    assert res.returncode == 2, res.stderr
    said = " ".join(res.stderr.split())
    assert "night.date" in said and "2028-06-01" in said and "--no-simulate" in said, said
    assert not out.exists()
    again = CliRunner().invoke(app, [*argv, "--no-simulate", "--no-maps", "--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["valid"] is True and not (out / "morning.json").exists()
