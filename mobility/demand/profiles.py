"""Station demand profiles: hourly rental and return rates per station and day type.

What the data offers
--------------------
* **Trips** (rental history, OA-15182): the full month 2016-03 (early network), a 1 % systematic
  sample of 2018 (each row stands for 100 trips) and the full day 2022-01-01 (a holiday). They
  tell *when* in the day and *where to* a station's trips go, but cover few recent stations
  and few days.
* **2023 monthly rentals and returns per station** (OA-15249): the *level* of demand of today's
  network, month by month, but no time of day.

The model
---------
For station ``i``, day type ``d`` (weekday / weekend-or-holiday) and clock hour ``h``::

    rent_rate[i, d, h]   = L_rent[i, d]   * s_rent[i, d, h]
    return_rate[i, d, h] = L_return[i, d] * s_return[i, d, h]

* **Hourly shares** ``s`` come from the trips (each observed trip row is one observation of the
  hour of the day, whatever its sampling weight). Stations with few rows borrow strength by
  empirical-Bayes shrinkage (a Dirichlet–multinomial model): ``s = (n_h + α p_h) / (n + α)``
  where ``p`` is the pooled profile of the station's ``k`` nearest stations that have trips
  (a spatial prior: offices next to offices, homes next to homes) and ``α`` is estimated once per
  day type and direction by the method of moments: with the Pearson statistic
  ``X²_i = Σ_h n_i (ŝ_ih − p_ih)² / p_ih``, ``E[X²_i] = (H − 1)(n_i + α)/(1 + α)``, so
  ``α = ((H−1) Σ n_i − Σ X²_i) / (Σ X²_i − (H−1) m)``. A station without trips gets its
  neighbours' profile.
* **Weekend/weekday ratio** ``ρ_i`` of daily volume from the trip datasets that cover both day
  types (2016-03 and 2018), shrunk the same way (a beta–binomial on the weekend share of a
  station's rows) toward its neighbours.
* **Levels** ``L`` from the 2023 monthly totals: over the months in which a station reported,
  with ``D_wd`` weekdays and ``D_we`` weekend/holiday days (Korean public holidays from the
  ``holidays`` package), ``L[wd] = total / (D_wd + ρ D_we)`` and ``L[we] = ρ L[wd]``. So, by
  construction, ``Σ_d Σ_h rate[i, d, h] · D_d = total`` — the rates reproduce the 2023 counts
  they were fitted on. A station of the 2025 list that has no 2023 usage (opened later) takes
  the median level of its district's stations (flagged in ``level_source``).

Censoring
---------
There is no stock (bikes-on-dock) history in our data, so we cannot see when a station was
empty. Rentals recorded at a station are *served* rentals: at stations that run dry they are a
lower bound of demand. We therefore (1) take only the *shape* of the day from trips and the
*level* from the monthly totals, (2) treat returns as uncensored (Seoul capacity is soft: riders
leave bikes beside full racks, and these returns are recorded), and (3) report the rental rates
as a lower bound. The consequence, stated in the README: at chronically empty stations the
targets are, if anything, too low.

OD structure
------------
``StationProfiles.od`` is a long table ``(day_type, hour, rent_station, return_station, trips,
share)``: among the trip rows renting at ``rent_station`` in that hour and day type, the share
that returned at ``return_station``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.spatial import cKDTree

from mobility.demand.holidays import DAY_TYPES, count_day_types, day_type_codes, month_day_types
from mobility.errors import InputError
from mobility.quality import QualityReport
from mobility.sources.base import EARTH_RADIUS_M

HOURS = 24


@dataclass(frozen=True)
class ProfileParams:
    """How profiles are estimated.

    Attributes
    ----------
    neighbours
        Number of nearest stations (with trips) pooled into a station's prior profile.
    prior_floor
        Weight of the citywide profile mixed into each prior, so no hour has zero probability.
    min_alpha, max_alpha
        Bounds of the estimated shrinkage strength (in trip rows).
    level_year
        Year of the monthly usage that sets levels.
    """

    neighbours: int = 10
    prior_floor: float = 0.02
    min_alpha: float = 1.0
    max_alpha: float = 5000.0
    level_year: int = 2023

    def __post_init__(self) -> None:
        if self.neighbours < 1:
            raise InputError("ProfileParams.neighbours", self.neighbours, ">= 1")
        if not 0 <= self.prior_floor < 1:
            raise InputError("ProfileParams.prior_floor", self.prior_floor, "in [0, 1)")
        if not 0 < self.min_alpha <= self.max_alpha:
            raise InputError("ProfileParams.min_alpha", self.min_alpha, f"in (0, max_alpha={self.max_alpha}]")


@dataclass(frozen=True, eq=False)
class StationProfiles:
    """Hourly rental and return rates of every station, by day type.

    Attributes
    ----------
    stations
        One row per station (same order as the arrays): ``number``, ``station_id``, ``name``,
        ``gu``, ``lat``, ``lon``, ``docks``, ``rentals``/``returns`` (2023 totals),
        ``days_weekday``/``days_weekend`` (days behind those totals), ``rho`` (weekend/weekday
        volume ratio), ``trip_rows`` (observed trip rows), ``level_source``.
    rent, ret
        Rates in trips per hour, shape ``(stations, 2, 24)``: axis 1 is
        ``DAY_TYPES = ("weekday", "weekend")``.
    od
        Long OD table (see the module docstring).
    alpha
        Estimated shrinkage strength per ``"rent_weekday"``, ``"return_weekend"``, ...
    report
        Rows of the inputs that could not be used, with reasons.
    """

    stations: pd.DataFrame
    rent: np.ndarray
    ret: np.ndarray
    od: pd.DataFrame
    alpha: dict[str, float] = field(default_factory=dict)
    report: QualityReport = field(default_factory=lambda: QualityReport("demand_profiles"))

    def index_of(self, station: int | str) -> int:
        """Row of a station given by number (``102``, ``"00102"``) or exact / partial name."""
        numbers = self.stations["number"].astype("int64").to_numpy()
        key = unicodedata.normalize("NFC", str(station).strip())  # decomposed Hangul (macOS) too
        if key.isdigit():
            hit = np.flatnonzero(numbers == int(key))
            if hit.size:
                return int(hit[0])
        names = self.stations["name"].astype("string").fillna("").str.normalize("NFC")
        exact = np.flatnonzero((names == key).to_numpy())
        if exact.size:
            return int(exact[0])
        part = np.flatnonzero(names.str.contains(key, regex=False).to_numpy())
        if part.size == 1:
            return int(part[0])
        if part.size > 1:
            examples = ", ".join(f"{numbers[i]} {names.iloc[i]}" for i in part[:5])
            raise InputError("station", station, f"one station; the name matches several: {examples}")
        raise InputError("station", station, "a station number or name of the 2025-12 station list")

    def day_index(self, day_type: str) -> int:
        """0 for ``"weekday"``, 1 for ``"weekend"`` (also accepts ``"holiday"``)."""
        key = {"weekday": 0, "weekend": 1, "holiday": 1, "weekend-holiday": 1}.get(day_type)
        if key is None:
            raise InputError("day_type", day_type, "weekday or weekend")
        return key

    def hourly(self, day_type: str) -> tuple[np.ndarray, np.ndarray]:
        """Rental and return rates of all stations for one day type, each ``(stations, 24)``."""
        d = self.day_index(day_type)
        return self.rent[:, d, :], self.ret[:, d, :]

    def od_matrix(self, day_type: str, hour: int) -> sp.csr_matrix:
        """Destination shares as a sparse ``(stations, stations)`` matrix for one day type and hour.

        Row ``i`` holds, for trips renting at station ``i`` in that clock hour, the share ending
        at each station (rows of stations without observed trips in that hour are empty).
        """
        if not 0 <= int(hour) < HOURS:
            raise InputError("hour", hour, "0..23")
        d = DAY_TYPES[self.day_index(day_type)]
        n = len(self.stations)
        pos = pd.Series(np.arange(n), index=self.stations["number"].astype("int64").to_numpy())
        if len(self.od) == 0:
            return sp.csr_matrix((n, n))
        sub = self.od[(self.od["day_type"] == d) & (self.od["hour"] == int(hour))]
        rows = pos.reindex(sub["rent_station"].astype("int64")).to_numpy()
        cols = pos.reindex(sub["return_station"].astype("int64")).to_numpy()
        ok = ~(np.isnan(rows) | np.isnan(cols))
        return sp.csr_matrix(
            (sub["share"].to_numpy(float)[ok], (rows[ok].astype(np.int64), cols[ok].astype(np.int64))),
            shape=(n, n),
        )

    def to_frame(self) -> pd.DataFrame:
        """The station demand table: one row per station, day type and hour."""
        n = len(self.stations)
        rows = pd.DataFrame(
            {
                "row": np.repeat(np.arange(n), 2 * HOURS),
                "day_type": np.tile(np.repeat(np.array(DAY_TYPES), HOURS), n),
                "hour": np.tile(np.arange(HOURS), 2 * n).astype(np.int16),
                "rent_rate": self.rent.reshape(-1),
                "return_rate": self.ret.reshape(-1),
            }
        )
        st = self.stations.reset_index(drop=True).copy()
        st["row"] = np.arange(n)
        out = st.merge(rows, on="row").drop(columns="row")
        return out

    @classmethod
    def from_frame(cls, table: pd.DataFrame, od: pd.DataFrame | None = None) -> StationProfiles:
        """Rebuild profiles from :meth:`to_frame` output (e.g. read back from Parquet)."""
        need = {"number", "day_type", "hour", "rent_rate", "return_rate"}
        missing = need - set(table.columns)
        if missing:
            raise InputError("profile table", sorted(missing), f"columns {sorted(need)}")
        table = table.sort_values(["number", "day_type", "hour"], kind="stable")
        n = table["number"].nunique()
        if len(table) != n * 2 * HOURS:
            raise InputError("profile table rows", len(table), f"{n * 2 * HOURS} (stations x 2 x 24)")
        rent = table["rent_rate"].to_numpy(float).reshape(n, 2, HOURS)
        ret = table["return_rate"].to_numpy(float).reshape(n, 2, HOURS)
        first = table.groupby("number", sort=True).head(1)
        st = first.drop(columns=["day_type", "hour", "rent_rate", "return_rate"]).reset_index(drop=True)
        empty_od = pd.DataFrame(
            columns=["day_type", "hour", "rent_station", "return_station", "trips", "share"]
        )
        return cls(stations=st, rent=rent, ret=ret, od=od if od is not None else empty_od)


# --------------------------------------------------------------------------- helpers


def _xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat), np.radians(lon)
    return EARTH_RADIUS_M * np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def estimate_alpha(counts: np.ndarray, prior: np.ndarray, *, lo: float = 1.0, hi: float = 5000.0) -> float:
    """Dirichlet–multinomial concentration by the method of moments (see module docstring).

    Parameters
    ----------
    counts
        Observed counts, shape ``(stations, categories)``.
    prior
        Prior shares per station, same shape, rows summing to 1 and positive.
    lo, hi
        Bounds of the result.
    """
    n = counts.sum(axis=1)
    use = n >= 2
    if not use.any():
        return hi
    c, p, nn = counts[use], prior[use], n[use]
    h = counts.shape[1]
    shares = c / nn[:, None]
    x2 = (nn[:, None] * (shares - p) ** 2 / p).sum(axis=1)
    sx2 = float(x2.sum())
    denom = sx2 - (h - 1) * len(nn)
    if denom <= 0:  # no more dispersion than multinomial noise: pool fully
        return hi
    alpha = ((h - 1) * float(nn.sum()) - sx2) / denom
    return float(np.clip(alpha, lo, hi))


def _neighbour_prior(
    counts: np.ndarray, xyz: np.ndarray, k: int, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pooled shares of the ``k`` nearest stations with data (excluding the station itself).

    ``counts`` has shape ``(stations, categories)``; returns the prior shares, same shape, and
    the citywide shares.
    """
    total = counts.sum(axis=0)
    city = (total + 1.0) / (total.sum() + counts.shape[1])
    has = np.flatnonzero(counts.sum(axis=1) > 0)
    n = counts.shape[0]
    if has.size == 0:
        return np.tile(city, (n, 1)), city
    kk = min(k + 1, has.size)
    _, nb = cKDTree(xyz[has]).query(xyz, k=kk)
    nb = np.atleast_2d(nb).reshape(n, kk)
    nb_rows = has[nb]  # (n, kk) station rows
    self_hit = nb_rows == np.arange(n)[:, None]
    # keep the k nearest that are not the station itself
    keep = np.cumsum(~self_hit, axis=1) <= k
    weight = (~self_hit & keep).astype(float)
    pooled = np.einsum("nk,nkc->nc", weight, counts[nb_rows])
    sums = pooled.sum(axis=1, keepdims=True)
    shares = np.where(sums > 0, pooled / np.where(sums > 0, sums, 1.0), city[None, :])
    return (1.0 - floor) * shares + floor * city[None, :], city


def _shrink(counts: np.ndarray, prior: np.ndarray, alpha: float) -> np.ndarray:
    n = counts.sum(axis=1, keepdims=True)
    return (counts + alpha * prior) / (n + alpha)


def _trip_hour_counts(
    trips: Mapping[str, pd.DataFrame], numbers: np.ndarray, report: QualityReport
) -> tuple[np.ndarray, np.ndarray, dict[str, dict[str, int]]]:
    """Rows per (station, day type, hour) for rentals and returns, and day counts per dataset."""
    pos = pd.Series(np.arange(len(numbers)), index=pd.Index(numbers, dtype="int64"))
    rent = np.zeros((len(numbers), 2, HOURS))
    ret = np.zeros((len(numbers), 2, HOURS))
    days: dict[str, dict[str, int]] = {}
    for name, df in trips.items():
        for col in ("rent_time", "return_time", "rent_station", "return_station"):
            if col not in df.columns:
                raise InputError(f"trips[{name!r}]", f"columns {list(df.columns)}", f"a column {col!r}")
        rt = pd.to_datetime(df["rent_time"])
        dd = rt.dt.normalize().dropna().unique()
        days[name] = {str(k): v for k, v in count_day_types(dd).items()}
        for kind, tcol, scol, target in (
            ("rent", "rent_time", "rent_station", rent),
            ("return", "return_time", "return_station", ret),
        ):
            t = pd.to_datetime(df[tcol])
            st = pd.to_numeric(df[scol], errors="coerce")
            ok_time = t.notna()
            report.drop(f"{name}: {kind} event without a time", ~ok_time)
            known = st.isin(pos.index)
            report.drop(
                f"{name}: {kind} event at a station not in the station list",
                ok_time & ~known,
                example=st.astype("string"),
            )
            m = (ok_time & known).to_numpy()
            rows = pos.loc[st[m].astype("int64")].to_numpy()
            codes = day_type_codes(t[m])
            hours = t[m].dt.hour.to_numpy()
            np.add.at(target, (rows, codes, hours), 1.0)
    return rent, ret, days


def _od_table(trips: Mapping[str, pd.DataFrame], numbers: np.ndarray) -> pd.DataFrame:
    known = set(int(x) for x in numbers)
    parts = []
    for df in trips.values():
        rs = pd.to_numeric(df["rent_station"], errors="coerce")
        es = pd.to_numeric(df["return_station"], errors="coerce")
        t = pd.to_datetime(df["rent_time"])
        m = rs.isin(known) & es.isin(known) & t.notna()
        parts.append(
            pd.DataFrame(
                {
                    "day_type": np.where(day_type_codes(t[m]) == 1, "weekend", "weekday"),
                    "hour": t[m].dt.hour.to_numpy().astype(np.int16),
                    "rent_station": rs[m].astype("int64").to_numpy(),
                    "return_station": es[m].astype("int64").to_numpy(),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["day_type", "hour", "rent_station", "return_station", "trips", "share"])
    allp = pd.concat(parts, ignore_index=True)
    keys = ["day_type", "hour", "rent_station", "return_station"]
    od = allp.groupby(keys, sort=True).size().rename("trips").reset_index()
    od["trips"] = od["trips"].astype(np.int64)
    out_tot = od.groupby(["day_type", "hour", "rent_station"])["trips"].transform("sum")
    od["share"] = od["trips"] / out_tot
    return od


def _usage_levels(usage: pd.DataFrame, numbers: np.ndarray, year: int, report: QualityReport) -> pd.DataFrame:
    """2023 totals per station and the weekday / weekend days behind them."""
    need = {"number", "month", "rentals", "returns"}
    if not need <= set(usage.columns):
        raise InputError("usage", f"columns {list(usage.columns)}", f"columns {sorted(need)}")
    u = usage.copy()
    u["month"] = u["month"].astype("string")
    in_year = u["month"].str.startswith(str(year)).fillna(False)
    u = u[in_year]
    u["number"] = pd.to_numeric(u["number"], errors="coerce")
    report.drop("usage: another year", count=int((~in_year).sum()))
    report.drop("usage: station not in the station list", ~u["number"].isin(numbers))
    u = u[u["number"].isin(numbers)]
    per_month = {m: month_day_types(str(m)) for m in u["month"].unique()}
    u["days_weekday"] = u["month"].map(lambda m: per_month[m]["weekday"]).astype(float)
    u["days_weekend"] = u["month"].map(lambda m: per_month[m]["weekend"]).astype(float)
    g = u.groupby("number").agg(
        rentals=("rentals", "sum"),
        returns=("returns", "sum"),
        days_weekday=("days_weekday", "sum"),
        days_weekend=("days_weekend", "sum"),
        months=("month", "nunique"),
    )
    return g


def build_profiles(
    trips: Mapping[str, pd.DataFrame],
    usage: pd.DataFrame,
    stations: pd.DataFrame,
    *,
    params: ProfileParams | None = None,
) -> StationProfiles:
    """Estimate hourly rental and return rates of every station (see the module docstring).

    Parameters
    ----------
    trips
        Dataset name -> trips with ``rent_time``, ``return_time``, ``rent_station`` and
        ``return_station`` (station numbers).
    usage
        Monthly usage: ``number``, ``month`` (``YYYY-MM``), ``rentals``, ``returns``.
    stations
        Station list: ``number``, ``name``, ``gu``, ``lat``, ``lon``, ``docks`` (and optionally
        ``station_id``).

    Returns
    -------
    StationProfiles
        Rates for each station of ``stations``, ordered by station number (the same order a
        table read back with :meth:`StationProfiles.from_frame` has).
    """
    params = params or ProfileParams()
    report = QualityReport("demand_profiles")
    for col in ("number", "lat", "lon", "gu", "docks"):
        if col not in stations.columns:
            raise InputError("stations", f"columns {list(stations.columns)}", f"a column {col!r}")
    st = stations.sort_values("number", kind="stable").reset_index(drop=True)
    numbers = st["number"].astype("int64").to_numpy()
    if len(set(numbers.tolist())) != len(numbers):
        raise InputError("stations.number", "duplicates", "unique station numbers")
    n = len(st)
    # rows read: two events (a rental and a return) per trip row, plus the monthly usage rows
    report.rows_read = 2 * sum(len(df) for df in trips.values()) + len(usage)
    xyz = _xyz(st["lat"].to_numpy(float), st["lon"].to_numpy(float))

    rent_c, ret_c, days = _trip_hour_counts(trips, numbers, report)
    rent_s = np.zeros_like(rent_c)
    ret_s = np.zeros_like(ret_c)
    alpha: dict[str, float] = {}
    for d, dname in enumerate(DAY_TYPES):
        for label, counts, shares in (("rent", rent_c, rent_s), ("return", ret_c, ret_s)):
            prior, _ = _neighbour_prior(counts[:, d], xyz, params.neighbours, params.prior_floor)
            a = estimate_alpha(counts[:, d], prior, lo=params.min_alpha, hi=params.max_alpha)
            alpha[f"{label}_{dname}"] = a
            shares[:, d] = _shrink(counts[:, d], prior, a)

    # weekend / weekday volume ratio from datasets covering both day types
    both = [k for k, v in days.items() if v["weekday"] > 0 and v["weekend"] > 0]
    d_wd = float(sum(days[k]["weekday"] for k in both))
    d_we = float(sum(days[k]["weekend"] for k in both))
    if both:
        sub = {k: trips[k] for k in both}
        r2, e2, _ = _trip_hour_counts(sub, numbers, QualityReport("ratio"))
        split = (r2 + e2).sum(axis=2)  # (n, 2) rows by day type
        prior, _ = _neighbour_prior(split, xyz, params.neighbours, params.prior_floor)
        a = estimate_alpha(split, prior, lo=params.min_alpha, hi=params.max_alpha)
        alpha["weekend_share"] = a
        q = _shrink(split, prior, a)[:, 1]
        rho = (q / d_we) / ((1.0 - q) / d_wd)
    else:
        rho = np.ones(n)

    lv = _usage_levels(usage, numbers, params.level_year, report)
    st = st.merge(lv, left_on="number", right_index=True, how="left")
    has_usage = st["rentals"].notna().to_numpy()
    rentals = st["rentals"].fillna(0).to_numpy(float)
    returns = st["returns"].fillna(0).to_numpy(float)
    dwd = st["days_weekday"].fillna(0).to_numpy(float)
    dwe = st["days_weekend"].fillna(0).to_numpy(float)
    denom = dwd + rho * dwe
    safe = np.where(denom > 0, denom, 1.0)
    lvl_rent = np.stack([rentals / safe, rho * rentals / safe], axis=1)
    lvl_ret = np.stack([returns / safe, rho * returns / safe], axis=1)
    source = np.where(has_usage, f"{params.level_year} monthly usage", "district median")
    # stations without usage: median daily level of their district (else of the city)
    gu = st["gu"].astype("string").fillna("").to_numpy()
    for arr in (lvl_rent, lvl_ret):
        for d in range(2):
            level = pd.Series(arr[:, d])
            med = level[has_usage].groupby(gu[has_usage]).median()
            city = float(level[has_usage].median()) if has_usage.any() else 0.0
            fill = pd.Series(gu[~has_usage]).map(med).fillna(city).to_numpy(float)
            arr[~has_usage, d] = fill
    report.warn("station without 2023 usage: district median level", count=int((~has_usage).sum()))

    rent = lvl_rent[:, :, None] * rent_s
    ret = lvl_ret[:, :, None] * ret_s
    keep = [c for c in ("number", "station_id", "name", "gu", "lat", "lon", "docks") if c in stations.columns]
    out = st[keep].copy()
    out["rentals"] = rentals
    out["returns"] = returns
    out["days_weekday"] = dwd
    out["days_weekend"] = dwe
    out["rho"] = rho
    out["trip_rows"] = (rent_c.sum(axis=(1, 2)) + ret_c.sum(axis=(1, 2))).astype(np.int64)
    out["level_source"] = source
    return StationProfiles(
        stations=out.reset_index(drop=True),
        rent=rent,
        ret=ret,
        od=_od_table(trips, numbers),
        alpha=alpha,
        report=report,
    )


def profile_summary(profiles: StationProfiles, station: int | str, day_type: str) -> dict[str, Any]:
    """One station's 24-hour profile as a plain dict (for the CLI and the API)."""
    i = profiles.index_of(station)
    d = profiles.day_index(day_type)
    row = profiles.stations.iloc[i]
    return {
        "number": int(row["number"]),
        "name": str(row["name"]),
        "gu": str(row["gu"]),
        "docks": int(row["docks"]) if pd.notna(row["docks"]) else None,
        "day_type": DAY_TYPES[d],
        "level_source": str(row["level_source"]),
        "trip_rows": int(row["trip_rows"]),
        "rentals_per_day": float(profiles.rent[i, d].sum()),
        "returns_per_day": float(profiles.ret[i, d].sum()),
        "hours": [
            {
                "hour": h,
                "rent_rate": float(profiles.rent[i, d, h]),
                "return_rate": float(profiles.ret[i, d, h]),
            }
            for h in range(HOURS)
        ],
    }
