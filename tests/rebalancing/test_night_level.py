"""``targets.level``: the night's dissatisfaction curves at the profiles' level (2023's mean day),
at the morning's own citywide level (season and year from the monthly counts), or (``auto``,
the default) at the morning's level where it is below the profiles' and theirs where it is not.

A January morning has about a third of the mean day's riders; with the profiles' level the
curves promised ~2.8 times the failures the simulator sees (README, *The morning after*).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mobility.demand.inventory import curves_from_profiles
from mobility.errors import InputError
from mobility.io import atomic_write_csv
from mobility.rebalancing.night import NightInputs, load_night_problem
from mobility.scenario.nightly import nightly_from_dict
from mobility.simulation.model import demand_level
from mobility.sources.usage import load_citywide_monthly_usage
from tests.simulation.test_perf_review_prep import small_profiles


def test_the_level_scales_the_rates_the_curves_are_made_of() -> None:
    prof = small_profiles()
    doubled = small_profiles()
    doubled.rent[...] *= 2.0  # the frozen profiles' arrays, in place
    doubled.ret[...] *= 2.0
    for day_type in ("weekday", "weekend"):
        at_two = curves_from_profiles(prof, day_type=day_type, level=2.0)
        want = curves_from_profiles(doubled, day_type=day_type)
        for got, exp in zip(at_two, want, strict=True):
            np.testing.assert_allclose(got.costs, exp.costs, rtol=1e-12)
        plain = curves_from_profiles(prof, day_type=day_type)
        assert any(not np.allclose(a.costs, b.costs) for a, b in zip(plain, at_two, strict=True))
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(InputError, match="level"):
            curves_from_profiles(prof, level=bad)


def test_the_mornings_level_on_the_real_counts(data_dir: Path) -> None:
    """2022-01-02 is 0.36 of the 2023 mean day, 2023-06-14 1.36; 2026 is forecast from the data
    (2025's level carried by the 2024->2025 trend, 0.86 a year); 2018 is refused by its field."""
    monthly = load_citywide_monthly_usage(data_dir).table
    jan = demand_level(pd.Timestamp("2022-01-02"), monthly)
    jun = demand_level(pd.Timestamp("2023-06-14"), monthly)
    assert jan == pytest.approx(0.362, abs=0.005) and jun == pytest.approx(1.356, abs=0.01)
    dec25, dec26 = (demand_level(pd.Timestamp(d), monthly) for d in ("2025-12-07", "2026-12-07"))
    assert dec26 < dec25  # the counts fell from 2024 to 2025: the trend carries the fall on
    with pytest.raises(InputError) as err:
        demand_level(pd.Timestamp("2018-06-01"), monthly, "night.date")
    assert err.value.field == "night.date"


def _night(tmp_path: Path, data_dir: Path, level: str, night: str = "2022-01-01") -> NightInputs:
    from mobility.sources.stations import load_station_list

    st = load_station_list("2025-12", data_dir=data_dir).table
    st = st[st["gu"] == "마포구"].head(10).reset_index(drop=True)
    snap = pd.DataFrame(
        {"station_id": st["station_id"], "bikes": 3, "docks": st["docks"], "lon": st["lon"], "lat": st["lat"]}
    )
    scn = nightly_from_dict(
        {
            "name": "t",
            "night": {"date": night},
            "depots": [{"id": "A", "lon": 126.91, "lat": 37.56}],
            "trucks": [{"depot": "A", "count": 1, "capacity": 10}],
            "targets": {"source": "demand", "level": level},
            "network": {"source": "straight"},
        }
    )
    return load_night_problem(scn, atomic_write_csv(tmp_path / f"snap-{level}-{night}.csv", snap), data_dir)


def test_a_night_at_the_mornings_level(tmp_path: Path, data_dir: Path) -> None:
    """The same stations and stock: the curves of Sunday 2 January 2022 at its own level expect
    fewer failures than at the 2023 mean day's, and the problem records the level."""
    plain, scaled = _night(tmp_path, data_dir, "profile"), _night(tmp_path, data_dir, "morning")
    assert plain.level == 1.0 and plain.problem.meta["demand_level"] == 1.0
    assert scaled.level == pytest.approx(0.362, abs=0.005)
    assert scaled.problem.meta["demand_level"] == pytest.approx(scaled.level, abs=1e-4)
    stock = plain.problem.bikes
    assert 0 < scaled.problem.dissatisfaction(stock) < plain.problem.dissatisfaction(stock)
    assert plain.problem.meta["day_type"] == scaled.problem.meta["day_type"] == "weekend"


@pytest.mark.parametrize(
    ("night", "morning_level"),
    [("2022-01-01", 0.362), ("2023-06-13", 1.356)],  # a Sunday of January; a Wednesday of June
)
def test_auto_scales_down_to_a_quiet_morning_and_never_up(
    tmp_path: Path, data_dir: Path, night: str, morning_level: float
) -> None:
    """``auto`` takes the morning's level below the profiles' mean day and the profiles' above it."""
    auto, morning = _night(tmp_path, data_dir, "auto", night), _night(tmp_path, data_dir, "morning", night)
    assert morning.level == pytest.approx(morning_level, abs=0.01)
    assert auto.level == pytest.approx(min(morning_level, 1.0), abs=0.01)
    assert auto.problem.meta["demand_level"] == pytest.approx(auto.level, abs=1e-4)
    same = morning if morning_level < 1 else _night(tmp_path, data_dir, "profile", night)
    stock = auto.problem.bikes
    want = same.problem.dissatisfaction(stock)
    assert auto.problem.dissatisfaction(stock) == pytest.approx(want, rel=1e-12)


def test_auto_is_the_default_and_the_shipped_scenarios() -> None:
    """Measured on eleven real nights (README): scaled down it helped on every morning below the
    mean day, scaled up it hurt on every one above. The benchmark night stays at the profiles'."""
    from mobility.scenario.nightly import load_nightly

    scn = load_nightly(Path(__file__).resolve().parents[2] / "scenarios" / "seoul-nightly.yaml")
    assert scn.targets.level == "auto"
    assert nightly_from_dict({"name": "t", "depots": [{"id": "A", "lon": 127.0, "lat": 37.55}],
                              "trucks": [{"depot": "A"}]}).targets.level == "auto"  # fmt: skip


def test_an_unknown_level_is_refused_by_its_field() -> None:
    body = {"name": "t", "depots": [{"id": "A", "lon": 127.0, "lat": 37.55}], "trucks": [{"depot": "A"}]}
    with pytest.raises(InputError) as err:
        nightly_from_dict(body | {"targets": {"level": "season"}})
    assert err.value.field == "targets.level" and "'auto', 'profile' or 'morning'" in err.value.expected
