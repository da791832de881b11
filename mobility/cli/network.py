"""``mobility network``: street network summary and travel matrices between points."""

from __future__ import annotations

import functools
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import numpy as np
import pandas as pd
import typer

from mobility.cli.common import (
    DataDirOption,
    JsonOption,
    check_out_file,
    console,
    err_console,
    print_error,
    print_json,
    print_styled,
    summary_cell,
)
from mobility.errors import DataFileError, InputError, MobilityError

F = TypeVar("F", bound=Callable[..., Any])


def _user_errors(fn: F) -> F:
    """Print a :class:`MobilityError` as one line and exit 2; show warnings on stderr."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
                result = fn(*args, **kwargs)
            for w in caught:
                if issubclass(w.category, UserWarning):
                    print_styled("warning:", "yellow", w.message)
            return result
        except MobilityError as exc:
            print_error(exc)
            raise typer.Exit(2) from exc

    return wrapper  # type: ignore[return-value]


SourceOption = Annotated[
    str,
    typer.Option(
        "--source",
        "-s",
        help="Network: osm-all, osm-drive, moct, moct+ktdb, ktdb, or a GraphML/shapefile path.",
    ),
]

LON_COLUMNS = ("lon", "longitude", "lng", "x", "경도")
LAT_COLUMNS = ("lat", "latitude", "y", "위도")
ID_COLUMNS = ("id", "station_id", "name", "이름", "명칭", "대여소명")
"""Point id columns, first found wins (Korean headers as for 경도/위도)."""


def read_points(points: str, data_dir: Path | None) -> pd.DataFrame:
    """Points with ``id``, ``lon``, ``lat``: a station vintage/file, or a CSV with lon/lat columns."""
    path = Path(points)
    if path.suffix.lower() in {".csv", ".txt"} and path.is_file():
        try:
            head = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
        except (UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise DataFileError(path, f"not a UTF-8 CSV ({exc})") from exc
        cols = {c.strip().lower(): c for c in head.columns}
        lon_c = next((cols[c] for c in LON_COLUMNS if c in cols), None)
        lat_c = next((cols[c] for c in LAT_COLUMNS if c in cols), None)
        if lon_c is not None and lat_c is not None and "대여소번호" not in head.columns:
            df = pd.read_csv(path, encoding="utf-8-sig")
            lon = pd.to_numeric(df[lon_c], errors="coerce")
            lat = pd.to_numeric(df[lat_c], errors="coerce")
            bad = lon.isna() | lat.isna()
            if bad.any():
                rows = (np.flatnonzero(bad.to_numpy())[:5] + 2).tolist()
                raise InputError(f"{path.name}:{lon_c}/{lat_c}", f"non-numeric at lines {rows}", "numbers")
            id_col = next((cols[c] for c in ID_COLUMNS if c in cols), None)
            ids = df[id_col].astype(str) if id_col else pd.Series(np.arange(len(df)).astype(str))
            return pd.DataFrame({"id": ids.to_numpy(), "lon": lon.to_numpy(), "lat": lat.to_numpy()})
    from mobility.sources.stations import load_station_list

    st = load_station_list(points, data_dir, field="--points").table
    ids = st["station_id"].astype("string").fillna(st["number"].astype("string")).astype(str)
    return pd.DataFrame(
        {"id": ids.to_numpy(), "lon": st["lon"].to_numpy(float), "lat": st["lat"].to_numpy(float)}
    )


def _cli_profile(name: str) -> Any:
    """The profile named by ``--profile``, checked before any work (the error names the option)."""
    from mobility.network.profiles import get_profile

    try:
        return get_profile(name)
    except InputError as exc:
        raise InputError("--profile", name, exc.expected) from exc


def _cli_source(source: str, data_dir: Path | None) -> str:
    """``--source`` checked before any work: a named network or an existing path (the error names
    the option)."""
    from mobility.network.graph import network_key

    try:
        network_key(source, data_dir)
    except InputError as exc:
        raise InputError("--source", source, exc.expected) from exc
    return source


def _print_summary(title: str, summary: dict[str, Any]) -> None:
    """``summary`` as a two-column table (key, value)."""
    from rich.table import Table

    t = Table(title=title, show_header=False)
    for k, v in summary.items():
        t.add_row(k.replace("_", " "), summary_cell(v))
    console.print(t)


def _district_summary(net: Any, data_dir: Path | None) -> list[dict[str, Any]] | str:
    """Nodes and km (edge midpoints) per gu, or why it is unavailable."""
    try:
        import geopandas as gpd

        from mobility.sources.boundaries import load_districts

        gu = load_districts(data_dir).table
    except Exception as exc:  # boundaries are optional for this summary
        return f"unavailable ({type(exc).__name__}: {exc})"
    mid_lon = 0.5 * (net.lon[net.tail] + net.lon[net.head])
    mid_lat = 0.5 * (net.lat[net.tail] + net.lat[net.head])
    pts = gpd.GeoDataFrame(
        {"length_m": net.length_m}, geometry=gpd.points_from_xy(mid_lon, mid_lat), crs="EPSG:4326"
    )
    j = gpd.sjoin(pts, gu[["gu_kr", "geometry"]], predicate="within", how="left")
    j = j[~j.index.duplicated()]
    km = j.groupby("gu_kr")["length_m"].sum() / 1000.0
    npts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(net.lon, net.lat), crs="EPSG:4326")
    nj = gpd.sjoin(npts, gu[["gu_kr", "geometry"]], predicate="within", how="left")
    nj = nj[~nj.index.duplicated()]
    nodes = nj.groupby("gu_kr").size()
    rows = [
        {"gu": g, "nodes": int(nodes.get(g, 0)), "km": round(float(km.get(g, 0.0)), 1)}
        for g in gu["gu_kr"].tolist()
    ]
    rows.append(
        {
            "gu": "(outside Seoul)",
            "nodes": int(nj["gu_kr"].isna().sum()),
            "km": round(float(j.loc[j["gu_kr"].isna(), "length_m"].sum() / 1000.0), 1),
        }
    )
    return rows


def register(app: typer.Typer) -> None:
    """Add the ``network`` command group to ``app``."""
    grp = typer.Typer(
        help="Street networks: summary, travel-time and distance matrices.", no_args_is_help=True
    )
    app.add_typer(grp, name="network")
    grp.command("info")(info_cmd)
    grp.command("matrix")(matrix_cmd)


@_user_errors
def info_cmd(
    source: SourceOption = "osm-all",
    profile: Annotated[
        str | None,
        typer.Option("--profile", "-p", help="Also apply a profile: walk, bike, truck, truck-night, any."),
    ] = None,
    districts: Annotated[bool, typer.Option("--districts/--no-districts", help="Per-gu figures.")] = True,
    data_dir: DataDirOption = None,
    json_out: JsonOption = False,
) -> None:
    """Nodes, edges, components, km by road class and per district."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    from mobility.network.graph import load_network
    from mobility.network.profiles import profiled

    prof = _cli_profile(profile) if profile is not None else None
    _cli_source(source, data_dir)
    t0 = time.perf_counter()
    with err_console.status(f"loading {source} ..."):
        net = load_network(source, data_dir, progress=lambda m: err_console.print(m))
    load_s = time.perf_counter() - t0
    n = net.n_nodes
    adj = csr_matrix((np.ones(net.n_edges, np.int8), (net.tail, net.head)), shape=(n, n))
    n_scc, lab = connected_components(adj, directed=True, connection="strong")
    n_wcc, _ = connected_components(adj, directed=True, connection="weak")
    out: dict[str, Any] = {
        "source": net.name,
        "nodes": n,
        "edges": net.n_edges,
        "strong_components": int(n_scc),
        "largest_strong_component": int(np.bincount(lab).max()) if n else 0,
        "weak_components": int(n_wcc),
        "km_by_class": {k: round(v, 1) for k, v in sorted(net.km_by_class().items(), key=lambda kv: -kv[1])},
        "has_hourly_speeds": net.hourly_kph is not None,
        "loader": {k: v for k, v in net.info.items() if not k.startswith("_")},
        "quality": net.quality_report().to_dict(),
        "load_seconds": round(load_s, 2),
    }
    if prof is not None:
        with err_console.status(f"applying profile {prof.name} ..."):
            p = profiled(source, prof, data_dir)
        out["profile"] = {
            "name": prof.name,
            "nodes": p.n_nodes,
            "edges": p.n_edges,
            "km": round(float(p.metres.sum()) / 1000.0, 1),
            "hours_total": round(float(p.seconds.sum()) / 3600.0, 1),
            "dropped": p.dropped.as_dict(),
        }
    if districts:
        with err_console.status("summing per district ..."):
            out["districts"] = _district_summary(net, data_dir)
    if json_out:
        print_json(out)
        return
    from rich.table import Table

    t = Table(title=f"network {net.name}", show_header=False)
    for k in ("nodes", "edges", "strong_components", "largest_strong_component", "weak_components"):
        t.add_row(k, f"{out[k]:,}")
    t.add_row("load seconds", str(out["load_seconds"]))
    console.print(t)
    kc = Table(title="km by road class (each direction counted)")
    kc.add_column("class")
    kc.add_column("km", justify="right")
    for k, v in out["km_by_class"].items():
        kc.add_row(k, f"{v:,.1f}")
    console.print(kc)
    if "profile" in out:
        _print_summary(f"profile {prof.name if prof else ''}", out["profile"])
    if isinstance(out.get("districts"), list):
        dt = Table(title="per district (edge midpoints, each direction counted)")
        dt.add_column("gu")
        dt.add_column("nodes", justify="right")
        dt.add_column("km", justify="right")
        for r in out["districts"]:
            dt.add_row(r["gu"], f"{r['nodes']:,}", f"{r['km']:,.1f}")
        console.print(dt)
    elif "districts" in out:
        err_console.print(f"districts: {out['districts']}")


@_user_errors
def matrix_cmd(
    points: Annotated[
        str,
        typer.Option(
            "--points",
            help="Station vintage (2025-12, 2019-12, ...), a station file, or a CSV with lon/lat.",
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Output .npz or .parquet (long format).")],
    profile: Annotated[
        str, typer.Option("--profile", "-p", help="walk, bike, truck, truck-night, any.")
    ] = "walk",
    source: SourceOption = "osm-all",
    weight: Annotated[str, typer.Option("--weight", help="time (s) or length (m).")] = "time",
    warn_beyond_m: Annotated[
        float, typer.Option(min=0, help="Warn for points farther from the network (m).")
    ] = 250.0,
    data_dir: DataDirOption = None,
    json_out: JsonOption = False,
) -> None:
    """A travel-time (s) or distance (m) matrix between points (node to node; snap distances saved)."""
    from mobility.io import atomic_path
    from mobility.network.matrix import travel_matrix
    from mobility.network.profiles import profiled
    from mobility.network.snap import snap_points

    if weight not in ("time", "length"):
        raise InputError("--weight", weight, "'time' or 'length'")
    suffix = "".join(out.suffixes[-1:]).lower()
    if suffix not in {".npz", ".parquet"}:
        raise InputError("--out", str(out), "a path ending in .npz or .parquet")
    check_out_file(out)
    prof = _cli_profile(profile)
    _cli_source(source, data_dir)
    t0 = time.perf_counter()
    pts = read_points(points, data_dir)
    if pts.empty:
        raise InputError("--points", points, "a table with at least one point")
    with err_console.status(f"loading {source} and applying {prof.name} ..."):
        p = profiled(source, prof, data_dir)
    s = snap_points(p, pts["lon"].to_numpy(), pts["lat"].to_numpy(), warn_beyond_m=warn_beyond_m)
    with err_console.status(f"{len(pts)} × {len(pts)} {weight} matrix ..."):
        dist = travel_matrix(p, s.node, weight=weight)  # type: ignore[arg-type]
    unit = "s" if weight == "time" else "m"
    ids = pts["id"].astype(str).to_numpy()
    if suffix == ".npz":
        with atomic_path(out) as tmp, tmp.open("wb") as fh:
            np.savez(
                fh,
                matrix=dist,
                ids=ids.astype("U"),
                lon=pts["lon"].to_numpy(),
                lat=pts["lat"].to_numpy(),
                node=s.node,
                snap_m=s.distance_m,
                unit=np.array(unit),
                profile=np.array(prof.name),
                source=np.array(p.net.name),
            )
    else:
        n = len(ids)
        frame = pd.DataFrame(
            {
                "from_id": np.repeat(ids, n),
                "to_id": np.tile(ids, n),
                f"value_{unit}": dist.ravel(),
            }
        )
        with atomic_path(out) as tmp:
            frame.to_parquet(tmp, index=False)
    summary = {
        "points": len(pts),
        "profile": prof.name,
        "source": p.net.name,
        "weight": weight,
        "unit": unit,
        "out": str(out),
        "snap_m_median": round(float(np.median(s.distance_m)), 1) if len(s) else None,
        "snap_beyond": s.n_beyond,
        "finite_share": float(np.isfinite(dist).mean()) if dist.size else 1.0,
        "seconds": round(time.perf_counter() - t0, 2),
    }
    if json_out:
        print_json(summary)
    else:
        _print_summary(f"{weight} matrix", summary)
