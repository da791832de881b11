"""The rider model behind the simulator, fitted on the real data: rates, destinations, ride times.

Pure functions from tables and arrays to the arrays of a
:class:`~mobility.simulation.engine.SimulationProblem`; the data wiring lives in
:mod:`mobility.simulation.data`.

Arrival rates
-------------
The rate of riders at station ``i`` in clock hour ``h`` of a day of type ``d`` is the demand
model's profile (:class:`~mobility.demand.profiles.StationProfiles`: 2023 level times the hourly
shape from the trips), spread evenly over the hour's four 15-minute slots, times a *season
factor* for the day's month and a *year factor* for its year::

    rate[i, slot] = rent[i, d, h(slot)] / 4 * season[month] * year[year] * day[date]

times a *day factor* (:class:`DayFactors`) for public holidays and for the month's split between
weekdays and weekends. Season and year factors come from the citywide monthly trip counts
2019–2025 (OA-15248):
``daily trips[y, m] = level[y] * season[m]`` (season factors average 1), fitted by alternating
means, and ``year[y] = level[y] / level[2023]``. A month or year can
be left out of the fit (honest out-of-sample validation).

The profiles have one weekend/holiday type and the season factor is the same for every day of a
month, so both miss that a public holiday is quieter than an ordinary weekend day and that the
weekend's share of a month's volume changes with the season (less leisure riding in winter). The
day factor corrects both from the dated trips the model is fitted on, from counts only (weather
is not used): ``holiday`` = geometric mean over the public holidays in the trips of (trips that
day / mean trips of the ordinary weekend days of its month) (0.86 over 19 holidays of 2016–2018),
and ``month[type][m]`` = (mean daily trips of that day type in month ``m`` / the month's mean
day), divided by its mean over the months (January weekends 0.95, June weekends 1.09, June
weekdays 0.96). The citywide volume is the city's:
a station set other than the profiles' own (the 2019 network, a plan with new stations) shares
the same citywide expected demand among its stations, in proportion to their profile rates. A
station without its own history (one that opened after 2023) takes the demand model's district
median level; a station the profiles lack (a plan's new station) takes the demand-potential
model's predicted level with the shape of its 5 nearest stations, or their mean rate when the
potential model is unavailable (flagged in ``rate_source``).

Censoring
---------
The profile levels come from *recorded* rentals, which are served rentals: at stations that ran
dry, some demand was never recorded. The simulator takes the profile rates as the demand (a
lower bound where stations ran dry) and does not re-inflate them, because without stock history
the unseen part cannot be identified. Consequently the simulated *lost* trips are the trips lost
on top of those already missing from the records, and the simulated served rentals can only fall
below the recorded ones; the validation measures by how much.

Destinations
------------
An origin–destination model per origin ``i``, smoothed toward a gravity prior so that pairs
never seen in the (sampled) trips remain possible::

    p(d | i) = (c[i, d] + alpha * g[i, d]) / (c[i] + alpha)
    g[i, i] = s0,   g[i, d] ∝ (1 - s0) exp(-T[i, d] / tau)   for the K nearest d by bike time

``c`` counts trip rows from ``i`` to ``d``, ``s0`` is the observed share of round trips (back to
the start station), ``tau`` the mean bike time of observed one-way trips, and ``alpha`` a
pseudo-count (how many trips the prior is worth).

Ride times
----------
A one-way ride takes ``T[o, d] * exp(mu + sigma Z)`` seconds with ``T`` the bike time on the
street network and ``mu``, ``sigma`` the median and robust spread (1.4826 · MAD) of
``log(duration / T)`` over the observed trips; a round trip takes ``exp(loop_mu + loop_sigma Z)``
seconds fitted the same way on the observed round trips.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from mobility.arrays import smallest_per_row
from mobility.errors import InputError, given_as
from mobility.simulation.days import check_day_in_years, forecast_from
from mobility.simulation.engine import RebalanceRule

SLOTS_PER_HOUR = 4


@dataclass(frozen=True)
class RiderParams:
    """Parameters of the rider model.

    Attributes
    ----------
    walk_radius_m
        A rider at an empty station walks to a station with a bike within this walking distance.
    walk_speed_kph
        Walking speed for the detour.
    ride_on_neighbours
        How many nearest stations a rider at a full station tries, nearest first.
    od_neighbours
        Destinations of the gravity prior per origin.
    od_alpha
        Pseudo-count of the gravity prior.
    rebalance
        The operator's daytime rebalancing rule (default: none).
    """

    walk_radius_m: float = 500.0
    walk_speed_kph: float = 4.5
    ride_on_neighbours: int = 10
    od_neighbours: int = 60
    od_alpha: float = 20.0
    rebalance: RebalanceRule = field(default_factory=RebalanceRule)

    def __post_init__(self) -> None:
        if not 0 <= self.walk_radius_m <= 5000:
            raise InputError("walk_radius_m", self.walk_radius_m, "in [0, 5000] metres")
        if self.walk_speed_kph <= 0:
            raise InputError("walk_speed_kph", self.walk_speed_kph, "> 0")
        if self.ride_on_neighbours < 0:
            raise InputError("ride_on_neighbours", self.ride_on_neighbours, ">= 0")
        if self.od_neighbours < 1:
            raise InputError("od_neighbours", self.od_neighbours, ">= 1")
        if self.od_alpha <= 0:
            raise InputError("od_alpha", self.od_alpha, "> 0")


@dataclass(frozen=True)
class SeasonModel:
    """Season and year factors of daily demand (see the module docstring).

    ``trend``: when the model is a forecast (fitted on the months before a day only, see
    :func:`fit_season`), the yearly growth of the level over the last two whole fitted years; a
    later year's factor is the last year's level grown by ``trend`` from the middle of that year
    to the day.
    """

    season: dict[int, float]
    year: dict[int, float]
    base_year: int = 2023
    trend: float | None = None

    def factor(self, day: pd.Timestamp) -> float:
        """Season times year factor of ``day``; a year outside the data is an error."""
        last = max(self.year)
        if self.trend is not None and day.year > last:
            years = (day - pd.Timestamp(year=last, month=7, day=1)).days / 365.25
            return float(self.season[day.month] * self.year[last] * self.trend**years)
        check_day_in_years(day, self.year.keys(), "--day")
        return self.season[day.month] * self.year[day.year]


def fit_season(
    monthly: pd.DataFrame, *, base_year: int = 2023, exclude: tuple[str, ...] = (), before: str | None = None
) -> SeasonModel:
    """Season and year factors from citywide monthly trips.

    Parameters
    ----------
    monthly
        ``month`` (``YYYY-MM``) and ``trips`` columns.
    base_year
        Year whose factor is 1 (the profile levels' year).
    exclude
        Months (``YYYY-MM``) not to use (held out for validation). A base-year month held out
        does not enter the base year's mean either.
    before
        A forecast from the past (``YYYY-MM``): season and year levels are fitted on the months
        before this one only, and later years grow by the trend of the last two whole fitted
        years (``SeasonModel.trend``). The base year's months then serve only as the unit of
        the profile levels (its mean daily count), whatever their date.
    """
    m = monthly.copy()
    m["month"] = m["month"].astype(str)
    m = m[~m["month"].isin(exclude)]
    ts = pd.to_datetime(m["month"] + "-01")
    m["year"] = ts.dt.year.to_numpy()
    m["mon"] = ts.dt.month.to_numpy()
    m["daily"] = m["trips"].to_numpy(float) / ts.dt.days_in_month.to_numpy()
    unit = None
    if before is not None:
        base = m[m["year"] == base_year]
        if base.empty:
            raise InputError("monthly", f"no month of {base_year}", f"months of the base year {base_year}")
        unit = float(base["daily"].mean())
        m = m[m["month"] < before]
        if m["year"].nunique() < 2:
            raise InputError("before", before, "at least two years of months before it")
    # multiplicative model daily = year level x season, fitted by alternating means (a year
    # with a month held out is still levelled correctly)
    season = pd.Series(1.0, index=sorted(m["mon"].unique()))
    for _ in range(50):
        adj = (m["daily"] / m["mon"].map(season)).groupby(m["year"]).mean()
        season = (m["daily"] / m["year"].map(adj)).groupby(m["mon"]).mean()
        season = season / season.mean()
    adj = (m["daily"] / m["mon"].map(season)).groupby(m["year"]).mean()
    trend = None
    if unit is not None:
        whole = adj[m.groupby("year")["mon"].nunique() == 12]  # whole years only for the trend
        trend = float(whole.iloc[-1] / whole.iloc[-2]) if len(whole) >= 2 else 1.0
        year = (adj / unit).to_dict()  # the base year's mean day is the unit of the profiles
    else:
        if base_year not in adj.index:
            raise InputError("monthly", f"no month of {base_year}", f"months of the base year {base_year}")
        year = (adj / adj[base_year]).to_dict()
    return SeasonModel(
        season={int(str(k)): float(v) for k, v in season.items()},
        year={int(str(k)): float(v) for k, v in year.items()},
        base_year=base_year,
        trend=trend,
    )


def demand_level(day: pd.Timestamp, monthly: pd.DataFrame, option: str = "--day") -> float:
    """The citywide demand of ``day`` relative to the profiles' level (the 2023 mean day): its
    season times year factor (:func:`fit_season` on the citywide ``monthly`` counts), forecast
    from all of them for a day past the data (:func:`~mobility.simulation.days.forecast_from`).

    The night's dissatisfaction curves use it (``targets.level: morning``): the profiles carry
    the 2023 mean level, and a January morning has about a third of it (0.36 on 2022-01-02).
    The day factors (holidays, the weekend's share by month) are not in it.

    Raises
    ------
    InputError
        Naming ``option`` when ``day`` is before the data or past the forecast's reach.
    """
    before = forecast_from(day, monthly["month"].astype(str), option)
    with given_as(option, argument="--day"):  # a day before the data: named as the caller gave it
        return float(fit_season(monthly, before=before).factor(day))


@dataclass(frozen=True)
class DayFactors:
    """Day-type corrections of the season model, fitted on the dated trips (see :func:`fit_day_factors`).

    ``holiday``: a public holiday's volume relative to an ordinary weekend day of the same month
    (geometric mean over the holidays in the trips). ``month``: per day type (``weekday``,
    ``weekend``) and month, that day type's share of the month's volume relative to its share
    over the year (1 where the trips do not cover the month).
    """

    holiday: float = 1.0
    month: dict[str, dict[int, float]] | None = None
    holidays_used: int = 0

    def factor(self, day: pd.Timestamp) -> float:
        """The correction for ``day``."""
        from mobility.demand.holidays import day_type, is_holiday

        f = self.holiday if is_holiday(day.date()) else 1.0
        if self.month is not None:
            f *= self.month.get(day_type(day), {}).get(day.month, 1.0)
        return f


def fit_day_factors(dates: pd.Series, *, min_days: int = 4) -> DayFactors:
    """Holiday and month-by-day-type factors from the rental dates of the trips (weather-free).

    Daily trip counts per dataset month: each public holiday is compared with the ordinary
    (non-holiday) weekend days of its month (at least ``min_days``), and the mean daily count of
    weekdays and of weekend days (holidays included) with the month's mean day. Only counts are
    used, so a sampled dataset (1 %) contributes its shape, not its level.
    """
    from mobility.demand.holidays import is_holiday

    d = pd.to_datetime(dates, errors="coerce").dropna().dt.normalize()
    if d.empty:
        return DayFactors()
    counts = d.value_counts().sort_index()
    months = pd.DatetimeIndex(counts.index).to_period("M")
    log_ratios: list[float] = []
    shares: dict[str, dict[int, list[float]]] = {"weekday": {}, "weekend": {}}
    for m in months.unique():
        c = counts[months == m]
        hol = np.array([is_holiday(x.date()) for x in c.index])
        wkend = np.array([x.weekday() >= 5 for x in c.index])
        ordinary_weekend = c[wkend & ~hol]
        if len(ordinary_weekend) >= min_days and ordinary_weekend.mean() > 0:
            for v in c[hol]:
                if v > 0:
                    log_ratios.append(float(np.log(v / ordinary_weekend.mean())))
        days_in_month = m.days_in_month
        if len(c) < days_in_month - 1:  # a partial month (a single day): no month shape
            continue
        for name, mask in (("weekday", ~(wkend | hol)), ("weekend", wkend | hol)):
            if mask.sum() >= min_days:
                shares[name].setdefault(m.month, []).append(float(c[mask].mean() / c.mean()))
    month: dict[str, dict[int, float]] = {}
    for name, by_month in shares.items():
        g = {k: float(np.mean(v)) for k, v in by_month.items()}
        mean = float(np.mean(list(g.values()))) if g else 1.0
        month[name] = {k: v / mean for k, v in g.items()}
    return DayFactors(
        holiday=float(np.exp(np.mean(log_ratios))) if log_ratios else 1.0,
        month=month,
        holidays_used=len(log_ratios),
    )


def slot_rates(hourly: np.ndarray, factor: float = 1.0) -> np.ndarray:
    """``(stations, 24)`` hourly rates -> ``(stations, 96)`` expected arrivals per 15-min slot."""
    if hourly.ndim != 2 or hourly.shape[1] != 24:
        raise InputError("hourly rates", hourly.shape, "(stations, 24)")
    return np.repeat(hourly * factor / SLOTS_PER_HOUR, SLOTS_PER_HOUR, axis=1)


def nearest_rates(known_xy: np.ndarray, known_rates: np.ndarray, xy: np.ndarray, k: int = 5) -> np.ndarray:
    """Mean rate rows of the ``k`` nearest known stations for each point (new stations)."""
    from scipy.spatial import cKDTree

    kk = min(k, len(known_xy))
    _, nb = cKDTree(known_xy).query(xy, k=kk)
    nb = np.asarray(nb).reshape(len(xy), kk)
    out: np.ndarray = known_rates[nb].mean(axis=1)
    return out


@dataclass(frozen=True)
class RideTimes:
    """Fitted ride-time spread (see the module docstring)."""

    mu: float
    sigma: float
    loop_mu: float
    loop_sigma: float
    trips_used: int


def _robust(x: np.ndarray) -> tuple[float, float]:
    med = float(np.median(x))
    return med, float(1.4826 * np.median(np.abs(x - med)))


def fit_ride_times(
    origin: np.ndarray, dest: np.ndarray, minutes: np.ndarray, ride_s: np.ndarray
) -> RideTimes:
    """Fit the log-normal spread of ride times around the network bike times.

    ``origin``/``dest`` are station rows (``-1`` for unknown); ``minutes`` the recorded durations.
    """
    ok = (origin >= 0) & (dest >= 0) & np.isfinite(minutes) & (minutes >= 1) & (minutes <= 240)
    o, d, s = origin[ok], dest[ok], minutes[ok] * 60.0
    loop = o == d
    t = ride_s[o[~loop], d[~loop]].astype(float)
    good = t > 0
    if good.sum() < 10 or loop.sum() < 10:
        raise InputError("trips", int(ok.sum()), "at least 10 one-way and 10 round trips to fit ride times")
    mu, sigma = _robust(np.log(s[~loop][good] / t[good]))
    lmu, lsig = _robust(np.log(s[loop]))
    return RideTimes(mu=mu, sigma=sigma, loop_mu=lmu, loop_sigma=lsig, trips_used=int(ok.sum()))


@dataclass(frozen=True)
class ODModel:
    """Destination distributions per origin in CSR layout (see the module docstring)."""

    ptr: np.ndarray
    dest: np.ndarray
    cum: np.ndarray
    round_trip_share: float
    tau_s: float
    trips_used: int

    def probabilities(self) -> sp.csr_matrix:
        """The destination shares as a sparse ``(n, n)`` matrix (rows sum to 1)."""
        n = len(self.ptr) - 1
        p = np.diff(np.concatenate([[0.0], self.cum]))
        starts = self.ptr[:-1]
        first = np.zeros(len(self.cum), dtype=bool)
        first[starts[np.diff(self.ptr) > 0]] = True
        p[first] = self.cum[first]
        return sp.csr_matrix((p, self.dest, self.ptr), shape=(n, n))


def fit_od(origin: np.ndarray, dest: np.ndarray, ride_s: np.ndarray, params: RiderParams) -> ODModel:
    """Fit the smoothed origin–destination model from trip rows (station rows; -1 unknown)."""
    n = ride_s.shape[0]
    ok = (origin >= 0) & (dest >= 0)
    o, d = origin[ok].astype(np.int64), dest[ok].astype(np.int64)
    counts = sp.csr_matrix((np.ones(len(o)), (o, d)), shape=(n, n))
    counts.sum_duplicates()
    loop = o == d
    s0 = float(loop.mean()) if len(o) else 0.1
    one_way = ride_s[o[~loop], d[~loop]].astype(float)
    tau = float(one_way[one_way > 0].mean()) if (one_way > 0).any() else 600.0
    k = min(params.od_neighbours, n - 1)
    rs = np.array(ride_s, dtype=float, copy=True)
    np.fill_diagonal(rs, np.inf)
    if k > 0:
        nb = smallest_per_row(rs, k)
        w = np.exp(-np.take_along_axis(rs, nb, axis=1) / tau)
        w_sum = w.sum(axis=1, keepdims=True)
        w = np.where(w_sum > 0, w / np.where(w_sum > 0, w_sum, 1.0), 1.0 / k) * (1.0 - s0)
        rows = np.concatenate([np.repeat(np.arange(n), k), np.arange(n)])
        cols = np.concatenate([nb.ravel(), np.arange(n)])
        vals = np.concatenate([w.ravel(), np.full(n, s0)])
    else:
        rows, cols, vals = np.arange(n), np.arange(n), np.ones(n)
    prior = sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
    c_i = np.asarray(counts.sum(axis=1)).ravel()
    mix = (counts + params.od_alpha * prior).tocsr()
    mix = sp.diags(1.0 / (c_i + params.od_alpha)) @ mix
    mix = mix.tocsr()
    mix.sort_indices()
    mix.eliminate_zeros()
    data = mix.data
    ptr = mix.indptr.astype(np.int64)
    cum = np.empty_like(data)
    for i in range(n):  # row-wise cumulative sums (n rows, cheap)
        a, b = ptr[i], ptr[i + 1]
        c = np.cumsum(data[a:b])
        cum[a:b] = c / c[-1]
    return ODModel(
        ptr=ptr,
        dest=mix.indices.astype(np.int32),
        cum=cum,
        round_trip_share=s0,
        tau_s=tau,
        trips_used=int(ok.sum()),
    )


def neighbour_lists(
    dist: np.ndarray, limit: float, k: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, the other columns with ``dist <= limit`` (at most ``k``), nearest first, as CSR.

    ``dist`` is a dense ``(n, n)`` matrix (``inf`` where unreachable).

    Only the entries within ``limit`` can be kept, so the rows are ranked down to the most any
    row has (a 500 m walk: a few dozen of Seoul's 2,140 stations, where ranking every entry of
    every row took 1.4 s); the first ``m`` of a row's ``(distance, column)`` order are the same
    whatever ``k >= m`` it was cut at, so the lists are those of the full ranking.
    """
    n = dist.shape[0]
    dd = np.array(dist, dtype=float, copy=True)
    np.fill_diagonal(dd, np.inf)
    kk = n - 1 if k is None else min(k, n - 1)
    if kk > 0:
        kk = min(kk, int((dd <= limit).sum(axis=1).max()))
    if kk <= 0:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int32), np.zeros(0)
    part = smallest_per_row(dd, kk)
    vals = np.take_along_axis(dd, part, axis=1)
    keep = vals <= limit
    ptr = np.concatenate([[0], np.cumsum(keep.sum(axis=1))]).astype(np.int64)
    return ptr, part[keep].astype(np.int32), vals[keep]


def district_drift(
    gu: np.ndarray, district_monthly: pd.DataFrame, before: str, *, base_year: int = 2023, months: int = 3
) -> np.ndarray:
    """Per station, how its district's share of the city's trips moved from the profile year to the
    ``months`` months before ``before`` (``YYYY-MM``).

    ``factor[g] = share of g over the recent months / share of g over the base year`` (shares over
    the 25 gu; trips not assigned to a gu are left out); 1 for a station whose district is unknown
    or has no trips. Multiplying the base-year station rates by it (and re-levelling the citywide
    total) moves each district to its recent share: recent history only, nothing of ``before``
    or later.
    """
    t = district_monthly[district_monthly["assigned"].astype(bool)]
    month = t["month"].astype(str)
    recent = sorted(m for m in month.unique() if m < before)[-months:]
    if not recent:
        raise InputError("before", before, "months of district trips before it")

    def share(mask: pd.Series) -> pd.Series:
        s = t[mask.to_numpy()].groupby("gu_kr")["trips"].sum().astype(float)
        return s / s.sum()

    ratio = share(month.isin(recent)) / share(month.str.startswith(str(base_year)))
    ratio = ratio.replace([np.inf, -np.inf], np.nan)
    return pd.Series(np.asarray(gu, dtype=object)).map(ratio).fillna(1.0).to_numpy(float)
