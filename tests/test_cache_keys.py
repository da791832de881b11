"""Cache keys cover every input: a changed input never gets an old input's cached result.

Each test builds its own tiny inputs in ``tmp_path`` and its own cache folder; none reads or
writes the real data directory.
"""

from __future__ import annotations

import gzip
import os
import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mobility import config
from mobility.cache import array_key, cache_key, cached_load
from mobility.network.street import HIGHWAY_CODE, EdgeTable, StreetNetwork, build_network
from mobility.quality import QualityReport
from mobility.sources.base import DatasetSpec, Loaded


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh cache folder for one test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MOBILITY_CACHE_DIR", str(folder))
    config.get_settings.cache_clear()
    yield folder
    config.get_settings.cache_clear()


def _same_size_and_mtime(path: Path, content: bytes) -> None:
    """Replace ``path``'s content, keeping its size and modification time (as ``touch -r`` does)."""
    st = path.stat()
    assert len(content) == st.st_size
    path.write_bytes(content)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns


def _line(fingerprint: str = "cache-keys-line") -> StreetNetwork:
    """Four nodes on a 100 m spaced line, residential, both ways."""
    tail = np.array([10, 11, 12, 11, 12, 13])
    head = np.array([11, 12, 13, 10, 11, 12])
    return build_network(
        name="line",
        fingerprint=fingerprint,
        node_id=np.array([10, 11, 12, 13]),
        lon=np.array([127.0, 127.001, 127.002, 127.003]),
        lat=np.full(4, 37.5),
        edges=EdgeTable(
            tail_id=tail,
            head_id=head,
            length_m=np.full(6, 100.0),
            highway=np.full(6, HIGHWAY_CODE["residential"], dtype=np.uint8),
            oneway=np.ones(6, dtype=bool),
        ),
    )


# ---- file keys ---------------------------------------------------------------------------------


def test_a_file_replaced_with_same_size_and_mtime_gets_a_new_key(tmp_path: Path) -> None:
    f = tmp_path / "stations.csv"
    f.write_bytes(b"number,docks\n101,10\n")
    before = cache_key([f], what="stations")
    _same_size_and_mtime(f, b"number,docks\n101,99\n")
    assert cache_key([f], what="stations") != before


def test_a_file_replaced_by_a_copy_with_the_old_mtime_gets_a_new_key(tmp_path: Path) -> None:
    """``cp`` of another file over it, then ``touch -r`` back: a new inode, same size and mtime."""
    f = tmp_path / "grid.csv"
    f.write_bytes(b"cell,pop\na,10\n")
    key = cache_key([f])
    other = tmp_path / "other.csv"
    other.write_bytes(b"cell,pop\na,20\n")
    st = f.stat()
    other.replace(f)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (f.stat().st_size, f.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert cache_key([f]) != key


# ---- array keys ----------------------------------------------------------------------------------


def test_array_key_keeps_the_boundary_between_parts() -> None:
    a, b, c = np.array([1]), np.array([2]), np.array([3])
    assert array_key(np.concatenate([a, b]), c) != array_key(a, np.concatenate([b, c]))
    assert array_key("ab", "c") != array_key("a", "bc")
    assert array_key(np.zeros(2, np.int64)) != array_key(np.zeros(2, np.float64))  # same bytes
    assert array_key(np.arange(4)[::2]) == array_key(np.array([0, 2]))  # a strided view hashes


def test_travel_matrix_of_sources_ab_and_target_c_is_not_served_for_a_and_bc(cache: Path) -> None:
    from mobility.network.matrix import travel_matrix
    from mobility.network.profiles import apply_profile

    walk = apply_profile(_line("cache-keys-matrix"), "walk")
    two_by_one = travel_matrix(walk, np.array([0, 1]), np.array([2]), weight="length")
    one_by_two = travel_matrix(walk, np.array([0]), np.array([1, 2]), weight="length")
    assert two_by_one.shape == (2, 1) and two_by_one.ravel().tolist() == [200.0, 100.0]
    assert one_by_two.shape == (1, 2) and one_by_two.ravel().tolist() == [100.0, 200.0]


def test_a_cut_short_matrix_entry_is_computed_again(cache: Path) -> None:
    """A ``.npy`` cut in half (a full disk) raised numpy's 'Failed to read all data'."""
    from mobility.network.matrix import travel_matrix
    from mobility.network.profiles import apply_profile

    walk = apply_profile(_line("cache-keys-cut-matrix"), "walk")
    first = travel_matrix(walk, np.array([0, 1, 2, 3]), weight="length")
    (entry,) = (cache / "matrices").glob("*.npy")
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    again = travel_matrix(walk, np.array([0, 1, 2, 3]), weight="length")
    assert np.array_equal(first, again) and again[0, 3] == 300.0
    assert np.array_equal(np.load(entry), np.load(entry))  # rewritten whole


def test_a_cut_short_radius_entry_is_computed_again(cache: Path) -> None:
    """The ``.radius.npz`` of ``within_radius`` goes through the same damaged-entry check."""
    from mobility.network.matrix import within_radius
    from mobility.network.profiles import apply_profile

    walk = apply_profile(_line("cache-keys-cut-radius"), "walk")
    first = within_radius(walk, np.array([0, 1]), np.array([2, 3]), 250.0, weight="length")
    (entry,) = (cache / "matrices").glob("*.radius.npz")
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    again = within_radius(walk, np.array([0, 1]), np.array([2, 3]), 250.0, weight="length")
    assert (first != again).nnz == 0 and again[0, 0] == 200.0


def test_within_radius_of_sources_ab_and_target_c_is_not_served_for_a_and_bc(cache: Path) -> None:
    from mobility.network.matrix import within_radius
    from mobility.network.profiles import apply_profile

    walk = apply_profile(_line("cache-keys-radius"), "walk")
    assert within_radius(walk, np.array([0, 1]), np.array([2]), 500.0).shape == (2, 1)
    one_by_two = within_radius(walk, np.array([0]), np.array([1, 2]), 500.0)
    assert one_by_two.shape == (1, 2) and one_by_two.toarray().ravel().tolist() == [100.0, 200.0]


# ---- profiles with hourly speeds ---------------------------------------------------------------


def test_truck_night_matrix_follows_the_hourly_speeds(cache: Path) -> None:
    """KTDB speeds matched onto a network change with the KTDB files, not with the network's."""
    from mobility.network.matrix import travel_matrix
    from mobility.network.profiles import apply_profile

    net = _line("cache-keys-night")
    fast = apply_profile(net, "truck-night", hourly_kph=np.full((net.n_edges, 24), 36.0))
    slow = apply_profile(net, "truck-night", hourly_kph=np.full((net.n_edges, 24), 18.0))
    assert fast.fingerprint != slow.fingerprint
    src, tgt = np.array([0]), np.array([3])
    assert travel_matrix(fast, src, tgt).tolist() == [[30.0]]  # 300 m at 10 m/s
    assert travel_matrix(slow, src, tgt).tolist() == [[60.0]]  # not the cached 30 s
    again = apply_profile(net, "truck-night", hourly_kph=np.full((net.n_edges, 24), 36.0))
    assert again.fingerprint == fast.fingerprint  # same speeds, same key: the cache still serves


# ---- walking coverage --------------------------------------------------------------------------


def _tiny_data_dir(root: Path) -> Path:
    (root / "population").mkdir(parents=True)
    row = (
        "다사000000,953000,1952000,126.978,37.566,중구,Jung-gu,11140,1114052,11140520,소공동,within,100,50,50"
    )
    header = (
        "kostat_grid_id,x_5179,y_5179,lon,lat,gu_kr,gu_en,adm2_code,adm3_code,census_code8,"
        "dong_kr,dong_match,pop_total,pop_male,pop_female"
    )
    (root / "population" / "seoul_pop_grid_100m.csv").write_text(f"{header}\n{row}\n", encoding="utf-8")
    (root / "osm").mkdir()
    (root / "osm" / "seoul_best_graph.graphml.gz").write_bytes(gzip.compress(b"<graphml>first</graphml>"))
    return root


def test_walking_coverage_follows_the_network_file(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mobility.placement import coverage

    data = _tiny_data_dir(tmp_path / "data")
    computed: list[int] = []

    def compute(*args: object) -> coverage.WalkingCoverage:
        radius_m, network = float(str(args[3])), str(args[4])
        computed.append(1)
        share = 0.5 * len(computed)
        return coverage.WalkingCoverage(radius_m, network, 100.0, 100.0 * share, share, {"중구": share})

    monkeypatch.setattr(coverage, "_compute", compute)
    lon, lat = np.array([126.978]), np.array([37.566])
    first = coverage.walking_coverage(lon, lat, data_dir=data)
    assert coverage.walking_coverage(lon, lat, data_dir=data) == first and len(computed) == 1
    graph = data / "osm" / "seoul_best_graph.graphml.gz"
    graph.write_bytes(gzip.compress(b"<graphml>other street network</graphml>"))
    again = coverage.walking_coverage(lon, lat, data_dir=data)
    assert len(computed) == 2 and again.covered_share == 1.0


def test_a_damaged_coverage_entry_is_rebuilt(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mobility.placement import coverage

    data = _tiny_data_dir(tmp_path / "data")
    result = coverage.WalkingCoverage(300.0, "osm-all", 100.0, 50.0, 0.5, {"중구": 0.5})
    monkeypatch.setattr(coverage, "_compute", lambda *args: result)
    lon, lat = np.array([126.978]), np.array([37.566])
    assert coverage.walking_coverage(lon, lat, data_dir=data) == result
    (entry,) = (cache / "coverage").glob("*.json")
    entry.write_bytes(entry.read_bytes()[:20])  # cut short
    assert coverage.walking_coverage(lon, lat, data_dir=data) == result


# ---- damaged entries -----------------------------------------------------------------------------


def test_cached_load_rebuilds_an_entry_it_cannot_read(cache: Path) -> None:
    builds: list[Path] = []

    def build(tmp: Path) -> None:
        builds.append(tmp)
        with tmp.open("wb") as fh:
            np.save(fh, np.arange(1000))

    def load(path: Path) -> np.ndarray:
        with path.open("rb") as fh:
            out: np.ndarray = np.load(fh)
        return out

    assert cached_load("t", "k", ".npy", build, load).sum() == 499500
    entry = cache / "t" / "k.npy"
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    assert cached_load("t", "k", ".npy", build, load).sum() == 499500 and len(builds) == 2
    assert cached_load("t", "k", ".npy", build, load).sum() == 499500 and len(builds) == 2


# ---- mobility data info ------------------------------------------------------------------------


def one_dataset(monkeypatch: pytest.MonkeyPatch, root: Path, calls: list[int]) -> None:
    """One dataset, ``own.csv`` under ``root``, whose loader reads the number lookup (the API
    dump, numbers 1 and 2): ``calls`` gets the lookup's size at every load."""
    from mobility.sources import catalog
    from mobility.sources.stations import STATION_VINTAGES

    def load(data_dir: Path) -> Loaded[pd.DataFrame]:
        known = set(pd.read_csv(data_dir / STATION_VINTAGES["api-2025-05"])["number"])
        table = pd.read_csv(data_dir / "own.csv")
        report = QualityReport("stations_x", rows_read=len(table))
        report.drop("number not in the number-ID lookup", ~table["number"].isin(known))
        calls.append(len(known))
        return Loaded(table, report)

    specs = [DatasetSpec("stations_x", "stations", "own.csv", "a station list", load=load)]
    monkeypatch.setattr(catalog, "all_datasets", lambda data_dir=None: specs)
    api = root / STATION_VINTAGES["api-2025-05"]
    api.parent.mkdir(parents=True, exist_ok=True)
    api.write_text("number\n1\n2\n", encoding="utf-8")
    (root / "own.csv").write_text("number\n1\n2\n3\n", encoding="utf-8")


def test_data_info_row_follows_a_dependency_replaced_with_same_size_and_mtime(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mobility.sources.catalog import dataset_info
    from mobility.sources.stations import STATION_VINTAGES

    calls: list[int] = []
    one_dataset(monkeypatch, tmp_path, calls)
    first = dataset_info(tmp_path)[0]
    assert first.report is not None and first.report.rows_kept == 2
    _same_size_and_mtime(tmp_path / STATION_VINTAGES["api-2025-05"], b"number\n1\n7\n")
    again = dataset_info(tmp_path)[0]
    assert not again.cached and calls == [2, 2]
    assert again.report is not None and again.report.rows_kept == 1


def test_data_info_row_pickled_by_older_code_is_loaded_again(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row whose report lacks a field today's QualityReport has (older code) is not shown."""
    from mobility.sources.catalog import dataset_info

    calls: list[int] = []
    one_dataset(monkeypatch, tmp_path, calls)
    dataset_info(tmp_path)
    (entry,) = (cache / "catalog").glob("*.pkl")
    with entry.open("rb") as fh:
        old = pickle.load(fh)
    del old.report.__dict__["examples"]  # as pickled before QualityReport had ``examples``
    entry.write_bytes(pickle.dumps(old))
    row = dataset_info(tmp_path)[0]
    assert not row.cached and calls == [2, 2]
    assert row.to_dict()["report"]["rows_kept"] == 2


def test_data_info_key_covers_the_quality_report_code() -> None:
    import mobility.errors
    import mobility.quality
    from mobility.sources import catalog

    code = catalog._code_files()
    assert Path(mobility.quality.__file__) in code and Path(mobility.errors.__file__) in code


def test_the_number_lookup_memo_follows_a_same_size_and_mtime_replacement(tmp_path: Path) -> None:
    """The in-process memo of a long-running process (``mobility serve``) notices the new file."""
    from mobility.sources.stations import STATION_VINTAGES, station_number_lookup_loaded

    api = tmp_path / STATION_VINTAGES["api-2025-05"]
    api.parent.mkdir(parents=True)
    header = "STA_LOC,RENT_ID,RENT_NO,RENT_NM,RENT_ID_NM,HOLD_NUM,STA_ADD1,STA_ADD2,STA_LAT,STA_LONG,RNUM\n"
    rows = (
        "마포구,ST-10,00108,a,108. a,12,x,y,37.55274582,126.91861725,1\n"
        "광진구,ST-11,00503,b,503. b,15,x,y,37.53666687,127.07359314,2\n"
    )
    api.write_text(header + rows, encoding="utf-8")
    before = station_number_lookup_loaded(tmp_path).table
    _same_size_and_mtime(api, (header + rows.replace("ST-11,", "ST-12,")).encode())
    after = station_number_lookup_loaded(tmp_path).table
    assert before["station_id"].tolist() != after["station_id"].tolist()


def test_seoul_boundary_memo_follows_a_same_size_and_mtime_replacement(tmp_path: Path) -> None:
    """The outline memo of a long-running process notices new polygons of the same size and mtime."""
    import json

    from mobility.sources.boundaries import DISTRICTS_RELPATH, GU_CODES, seoul_boundary

    def districts(west: str) -> bytes:
        features = []
        for i, (code, gu) in enumerate(zip(GU_CODES["kostat_code"], GU_CODES["gu_kr"], strict=True)):
            x0: str | float = west if i == 0 else round(127.0 + i / 100, 2)
            x1 = round(127.005 + i / 100, 3)
            ring = [[x0, 37.5], [x1, 37.5], [x1, 37.6], [x0, 37.6], [x0, 37.5]]
            features.append(
                {
                    "type": "Feature",
                    "properties": {"adm2_code": int(code), "gu_kr": gu, "pop_census2020": 1},
                    "geometry": {"type": "Polygon", "coordinates": [ring]},
                }
            )
        text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
        return text.replace(f'"{west}"', west).encode()  # the west edge as a number

    f = tmp_path / DISTRICTS_RELPATH
    f.parent.mkdir(parents=True)
    f.write_bytes(districts("126.90"))
    assert seoul_boundary(tmp_path).bounds[0] == pytest.approx(126.9)
    _same_size_and_mtime(f, districts("126.80"))
    assert seoul_boundary(tmp_path).bounds[0] == pytest.approx(126.8)


# ---- the plan's rider simulation ---------------------------------------------------------------


def _simulation_key(monkeypatch: pytest.MonkeyPatch, root: Path, stations: pd.DataFrame) -> str:
    """The cache key ``mobility plan``'s rider simulation files one network's figures under."""
    from mobility import cache as cache_module
    from mobility.simulation.data import StationSet
    from mobility.simulation.model import RiderParams
    from mobility.simulation.plans import _run_network

    keys: list[str] = []

    def record(kind: str, key: str, suffix: str, build: object) -> Path:
        keys.append(key)
        out = root / "figures.json"
        out.write_text("{}", encoding="utf-8")
        return out

    monkeypatch.setattr(cache_module, "cached_file", record)
    ss = StationSet(stations, source="test")
    _run_network(
        ss, None, None, day="2019-06-12", replications=1, seed=0, params=RiderParams(), root=root,
        label="before",
    )  # fmt: skip
    return keys[0]


def test_plan_simulation_key_follows_the_districts_and_the_potential_model_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A station's district sets its district figures and usage trend, and the population grid
    and layers rate the new stations: none of them was in the key, so a plan with corrected
    districts (or a new population grid) was served the figures of the old one."""
    root = tmp_path / "data"
    for rel in ("ttareungi/trips.csv", "population/seoul_pop_grid_100m.csv", "layers/lanes.geojson"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("a\n1\n", encoding="utf-8")
    stations = pd.DataFrame(
        {
            "station_id": ["ST-1", "ST-2"], "number": [101, 102], "name": ["가", "나"],
            "gu": ["종로구", "중구"], "lat": [37.57, 37.56], "lon": [126.98, 126.99], "docks": [10, 12],
        }
    )  # fmt: skip
    first = _simulation_key(monkeypatch, root, stations)
    assert _simulation_key(monkeypatch, root, stations.copy()) == first
    moved = stations.assign(gu=["종로구", "종로구"])
    assert _simulation_key(monkeypatch, root, moved) != first
    _same_size_and_mtime(root / "population" / "seoul_pop_grid_100m.csv", b"a\n2\n")
    assert _simulation_key(monkeypatch, root, stations) != first
    later = _simulation_key(monkeypatch, root, stations)
    _same_size_and_mtime(root / "layers" / "lanes.geojson", b"a\n3\n")
    assert _simulation_key(monkeypatch, root, stations) != later


def test_plan_simulation_key_follows_the_package_not_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keyed on code_version(), whose dirty part hashes the whole tree's diff, the entry was
    missed after any edit of the README or tests; the package's own source is what counts."""
    from mobility import provenance

    root = tmp_path / "data"
    (root / "ttareungi").mkdir(parents=True)
    (root / "ttareungi" / "trips.csv").write_text("a\n1\n", encoding="utf-8")
    stations = pd.DataFrame(
        {"station_id": ["ST-1"], "number": [101], "name": ["가"], "gu": ["종로구"], "lat": [37.57],
         "lon": [126.98], "docks": [10]}
    )  # fmt: skip
    first = _simulation_key(monkeypatch, root, stations)
    monkeypatch.setattr(provenance, "code_version", lambda: "0.1.0+gabc.dirty.readme-edit")
    assert _simulation_key(monkeypatch, root, stations) == first
    monkeypatch.setattr(provenance, "package_digest", lambda: "another-engine")
    assert _simulation_key(monkeypatch, root, stations) != first
