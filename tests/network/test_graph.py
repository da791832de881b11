"""StreetNetwork loaders and the parallel-edge rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mobility.errors import DataNotFoundError, InputError
from mobility.network import apply_profile, load_network
from mobility.network.street import HIGHWAY_CODE, EdgeTable, StreetNetwork, build_network


def tiny(**kw: object) -> StreetNetwork:
    """0 -> 1 twice (100 m and 40 m, same class), 1 -> 2, 2 -> 0, a self-loop on 2, a dangling edge."""
    args: dict[str, object] = dict(
        name="tiny",
        fingerprint="tiny",
        node_id=np.array([10, 11, 12]),
        lon=np.array([127.0, 127.001, 127.002]),
        lat=np.array([37.5, 37.5, 37.501]),
        tail_id=np.array([10, 10, 11, 12, 12, 12]),
        head_id=np.array([11, 11, 12, 10, 12, 99]),
        length_m=np.array([100.0, 40.0, 50.0, 60.0, 5.0, 1.0]),
        highway=np.full(6, HIGHWAY_CODE["residential"], dtype=np.uint8),
        oneway=np.ones(6, dtype=bool),
    )
    args.update(kw)
    edges = {k: args.pop(k) for k in ("tail_id", "head_id", "length_m", "highway", "oneway")}
    return build_network(**args, edges=EdgeTable(**edges))  # type: ignore[arg-type]


def test_parallel_edges_keep_the_shortest() -> None:
    net = tiny()
    assert net.n_edges == 3
    assert net.info["dropped_parallel"] == 1
    assert net.info["dropped_self_loops"] == 1
    assert net.info["dropped_dangling"] == 1
    e01 = np.flatnonzero((net.tail == 0) & (net.head == 1))
    assert net.length_m[e01].tolist() == [40.0]


def test_parallel_edges_of_different_classes_keep_the_minimum_per_weight() -> None:
    # a 40 m footway and a 100 m residential street between the same nodes
    net = tiny(
        highway=np.array([HIGHWAY_CODE["residential"], HIGHWAY_CODE["footway"], 10, 10, 10, 10], np.uint8)
    )
    assert net.n_edges == 4  # both parallels kept in the base network (different classes)
    walk = apply_profile(net, "walk")
    csr = walk.csr("length")
    # walking ignores one-way rules: 3 pairs and their reverses, one CSR entry each
    assert csr.nnz == walk.n_edges == 6
    assert csr[0, 1] == pytest.approx(40.0)  # not 140 (scipy would sum duplicates)
    assert csr[1, 0] == pytest.approx(40.0)
    truck = apply_profile(net, "truck")  # footway not allowed
    assert truck.csr("length")[0, 1] == pytest.approx(100.0)


def test_npz_round_trip(tmp_path: Path) -> None:
    net = tiny()
    p = tmp_path / "n.npz"
    net.save_npz(p)
    back = StreetNetwork.load_npz(p)
    assert back.n_edges == net.n_edges and back.name == "tiny"
    np.testing.assert_array_equal(back.length_m, net.length_m)
    np.testing.assert_array_equal(back.x, net.x)


def test_unknown_source_is_a_clear_error(data_dir: Path) -> None:
    with pytest.raises(InputError, match="osm-all"):
        load_network("osmall", data_dir)
    with pytest.raises(DataNotFoundError):
        load_network("no/such/file.graphml", data_dir)


def test_moct_csv_real(data_dir: Path) -> None:
    net = load_network("moct", data_dir)
    assert net.n_nodes == 7405
    assert net.info["dropped_dangling"] == 307  # links ending in Gangdong-gu / Gyeonggi
    assert net.n_edges == 19660 - net.info["dropped_parallel"]
    assert net.speed_kph is not None and np.nanmedian(net.speed_kph) > 0
    assert bool(net.oneway.all())


def test_ktdb_real(data_dir: Path) -> None:
    net = load_network("ktdb", data_dir)
    assert (net.n_nodes, net.n_edges) == (4000, 8531)
    assert net.hourly_kph is not None and net.hourly_kph.shape == (8531, 24)
    assert net.info["ktdb_speed_links_matched"] == 8529
    assert net.length_m.sum() / 1000 == pytest.approx(3437, rel=0.01)
    # night is faster than the evening peak on average
    assert np.nanmean(net.hourly_kph[:, 3]) > np.nanmean(net.hourly_kph[:, 18])


def test_moct_plus_ktdb_real(data_dir: Path) -> None:
    net = load_network("moct+ktdb", data_dir)
    assert net.n_nodes == 7543
    assert net.hourly_kph is not None
    assert net.info["ktdb_speed_links_matched"] > 1000


def test_moct_plus_ktdb_speed_of_a_link_several_ktdb_links_share(data_dir: Path) -> None:
    """두텁바위로 (MOCT link 1020050200, 1,015 m) is the ITS link of five KTDB stubs of 6–12 m whose
    02:00 speeds are 4, 18, 13, 17 and 9 km/h: it takes their median, 13 km/h, not the first
    row's 4 km/h (which made it a 15-minute drive at night)."""
    net = load_network("moct+ktdb", data_dir)
    assert net.hourly_kph is not None
    tail = np.flatnonzero(net.node_id == 1020005500)
    head = np.flatnonzero(net.node_id == 1020035800)
    (k,) = np.flatnonzero(np.isin(net.tail, tail) & np.isin(net.head, head))
    assert net.length_m[k] == pytest.approx(1015.0, abs=1.0)
    np.testing.assert_array_equal(net.hourly_kph[k, :4], [12.0, 12.0, 13.0, 13.0])


def test_osm_all_counts(osm_all: StreetNetwork) -> None:
    assert osm_all.n_nodes == 142_664
    assert osm_all.n_edges + osm_all.info["dropped_parallel"] + osm_all.info["dropped_self_loops"] == 389_944
    assert osm_all.x.min() > 900_000 and osm_all.y.min() > 1_900_000  # EPSG:5179 metres
    km = osm_all.km_by_class()
    assert km["residential"] > km["primary"] > 0
    assert osm_all.geom_offsets is not None and osm_all.geom_lon is not None
    assert osm_all.geom_offsets[-1] == len(osm_all.geom_lon)


def test_moct_official_shapefile_layout(data_dir: Path, tmp_path: Path) -> None:
    """MOCT_NODE/MOCT_LINK shapefiles (EPSG:5186, CP949), written from the real 2018 Jongno-gu tables."""
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import LineString

    folder = data_dir / "osm" / "moct_nodelink_2018"
    nodes = pd.read_csv(folder / "Seoul_node.csv")
    links = pd.read_csv(folder / "Seoul_link_utf8.csv")
    links = links[links["DEPT_CODE"] == 11110]
    nodes = nodes[nodes["Id"].isin(set(links["Source"]) | set(links["Target"]))]
    pos = nodes.set_index("Id")[["longitude", "latitude"]]
    links = links[links["Source"].isin(pos.index) & links["Target"].isin(pos.index)]
    node_gdf = gpd.GeoDataFrame(
        {"NODE_ID": nodes["Id"].astype(str), "NODE_NAME": nodes["NODE_NAME"]},
        geometry=gpd.points_from_xy(nodes["longitude"], nodes["latitude"]),
        crs=4326,
    ).to_crs(5186)
    geoms = [
        LineString([pos.loc[s].to_numpy(), pos.loc[t].to_numpy()])
        for s, t in zip(links["Source"], links["Target"], strict=True)
    ]
    link_gdf = gpd.GeoDataFrame(
        {
            "LINK_ID": links["LINK_ID"].astype(str),
            "F_NODE": links["Source"].astype(str),
            "T_NODE": links["Target"].astype(str),
            "ROAD_RANK": links["ROAD_RANK"].astype(str),
            "ROAD_NAME": links["ROAD_NAME"].fillna(""),
            "MAX_SPD": links["MAX_SPD"],
            "LENGTH": links["SHAPE_STLe"],
        },
        geometry=geoms,
        crs=4326,
    ).to_crs(5186)
    out = tmp_path / "moct"
    out.mkdir()
    node_gdf.to_file(out / "MOCT_NODE.shp", encoding="cp949")
    link_gdf.to_file(out / "MOCT_LINK.shp", encoding="cp949")
    net = load_network(out, use_cache=False)
    csv_net = load_network("moct", data_dir)
    assert net.n_nodes == len(nodes)
    assert net.n_edges == len(links) - net.info["dropped_parallel"]
    # coordinates survive the EPSG:5186 round trip to well under a metre
    idx = np.searchsorted(np.sort(csv_net.node_id), net.node_id)
    order = np.argsort(csv_net.node_id)
    np.testing.assert_allclose(net.x, csv_net.x[order][idx], atol=0.5)
    assert net.geom_offsets is not None
    by_shp = load_network(out / "MOCT_LINK.shp", use_cache=False)
    assert by_shp.n_edges == net.n_edges


def test_fetched_graph_round_trips_through_graphml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``fetch_osm_graph`` (no internet here: osmnx's download is replaced by a tiny graph)."""
    import networkx as nx
    import osmnx as ox

    from mobility.network.graph import fetch_osm_graph

    def fake(place: str, network_type: str, simplify: bool) -> nx.MultiDiGraph:
        g = nx.MultiDiGraph(crs="epsg:4326")
        g.add_node(1, x=126.9779, y=37.5663)
        g.add_node(2, x=126.9790, y=37.5663)
        g.add_edge(1, 2, length=97.0, highway="primary", oneway=False)
        g.add_edge(2, 1, length=97.0, highway="primary", oneway=False)
        g.add_edge(1, 2, length=120.0, highway="primary", oneway=False)  # a longer parallel
        return g

    monkeypatch.setattr(ox, "graph_from_place", fake)
    g = fetch_osm_graph(network_type="drive")
    path = tmp_path / "seoul_drive.graphml"
    ox.save_graphml(g, filepath=path)
    net = load_network(path, use_cache=False)
    assert (net.n_nodes, net.n_edges) == (2, 2)
    assert sorted(net.length_m.tolist()) == [97.0, 97.0]
    with pytest.raises(InputError):
        fetch_osm_graph(network_type="boat")


@pytest.mark.parametrize("damage", ["not a zip", "cut in half"])
def test_damaged_cache_entry_is_rebuilt(tmp_path: Path, damage: str) -> None:
    """Garbage, or a real ``.npz`` cut short (``BadZipFile``, not a ``ValueError``): rebuilt."""
    import networkx as nx
    import osmnx as ox

    from mobility.config import cache_dir
    from mobility.network.graph import clear_memory_cache

    g = nx.MultiDiGraph(crs="epsg:4326")
    g.add_node(1, x=126.9779, y=37.5663)
    g.add_node(2, x=126.9790, y=37.5663)
    g.add_edge(1, 2, length=97.0, highway="residential", oneway=True)
    path = tmp_path / "two.graphml"
    ox.save_graphml(g, filepath=path)
    net = load_network(path)
    entry = cache_dir("graphs") / f"{net.fingerprint}.npz"
    assert entry.exists()
    raw = entry.read_bytes()
    entry.write_bytes(b"not a zip" if damage == "not a zip" else raw[: len(raw) // 2])
    clear_memory_cache()
    again = load_network(path)
    assert again.n_edges == 1 and again.length_m.tolist() == [97.0]
    entry.unlink()


def test_quality_report_counts_every_dropped_edge() -> None:
    rep = tiny().quality_report()
    assert rep.rows_read == 6 and rep.rows_kept == 3
    assert rep.dropped["self-loop"] == 1
    assert rep.dropped["end node not in the node table"] == 1
    assert sum(rep.dropped.values()) == 3
