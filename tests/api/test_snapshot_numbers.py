"""The status CSV upload takes stations known by their number only, as ``mobility rebalance``
does: the project's own derived snapshot (``mobility demand snapshot``) uploads as it is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from tests.api.api_support import RUN, Api, keys_for, make_settings


@pytest.fixture(scope="module")
def derived_csv() -> str:
    """The snapshot ``mobility demand snapshot --date 2022-01-01 --at 22:00 --out x.csv`` writes
    (the same library calls, on the real data)."""
    from mobility.demand.data import load_profiles
    from mobility.demand.snapshot import derive_snapshot_from_data
    from mobility.export.snapshot import snapshot_csv
    from mobility.rebalancing.snapshot import snapshot_from_table

    prof = load_profiles()
    table = derive_snapshot_from_data(prof, "2022-01-01", at=22.0)
    return snapshot_csv(snapshot_from_table(table, name="derived 2022-01-01 22:00", label="snapshot"))


@pytest.fixture
def api_full_body(sqlite_url: str, fake_kinds: None) -> Iterator[Api]:
    """App on SQLite with the default body limit (the derived snapshot is about 0.3 MB)."""
    default = ApiSettings.model_fields["max_body_bytes"].default
    settings = make_settings(sqlite_url, max_body_bytes=default)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, keys_for(sqlite_url))


def _upload(api: Api, text: str) -> Any:
    return api.client.post(
        "/v1/rebalancing/snapshots/csv?name=night",
        content=text.encode("utf-8"),
        headers=api.h("ops", **{"Content-Type": "text/csv"}),
    )


def _problem(r: Any) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    assert "{" not in r.json()["detail"]  # never a dump of the row
    return r.json()["errors"][0]


def test_the_derived_snapshot_uploads_with_the_stations_and_bikes_the_cli_reads(
    api_full_body: Api, derived_csv: str, tmp_path: Path
) -> None:
    api_lite = api_full_body
    from mobility.demand.data import load_profiles
    from mobility.quality import QualityReport
    from mobility.rebalancing.build import assemble_stations
    from mobility.rebalancing.snapshot import read_snapshot

    path = tmp_path / "x.csv"
    path.write_text(derived_csv, encoding="utf-8")
    cli = read_snapshot(path)
    number_only = [s for s in cli.stations if s.station_id is None]
    assert len(number_only) >= 50  # the stations the published list knows by number only
    # the stations and bikes `mobility rebalance --status x.csv` plans for
    night = assemble_stations(cli.table(), load_profiles().stations, QualityReport("status"))

    stored = _upload(api_lite, derived_csv)
    assert stored.status_code == 201, stored.text
    assert stored.json()["stations"] == len(cli.stations)
    assert stored.json()["bikes"] == sum(s.bikes for s in cli.stations)
    doc = api_lite.client.get(stored.headers["Location"], headers=api_lite.h("viewer")).json()
    api = {s["station_id"] or f"N{s['number']}": s["bikes"] for s in doc["stations"]}
    assert api == {s.key: s.bikes for s in cli.stations}
    assert api == dict(zip(night["station_id"], night["bikes"].tolist(), strict=True))
    # a number-only station took its name, position and docks from the station list, by number
    first = next(s for s in doc["stations"] if s["number"] == number_only[0].number)
    assert first["station_id"] is None and first["lon"] is not None and first["docks"] is not None
    assert first["name"] == number_only[0].name


def test_a_number_only_row_as_the_reviewer_sent_it(api_lite: Api) -> None:
    stored = _upload(api_lite, "station_id,number,bikes\n,4280,4\n")
    assert stored.status_code == 201, stored.text
    doc = api_lite.client.get(stored.headers["Location"], headers=api_lite.h("viewer")).json()
    (station,) = doc["stations"]
    assert (station["number"], station["bikes"], station["docks"]) == (4280, 4, 5)
    assert station["name"] == "북가좌2동 주민센터"


def test_a_row_resolved_by_neither_id_nor_number_is_named(api_lite: Api) -> None:
    unknown = _problem(_upload(api_lite, "station_id,number,bikes\nST-4,,3\n,4280,4\n,999999,2\n"))
    assert unknown["field"] == "body[number 999999].number (line 4)"  # the number the file gave
    assert unknown["problem"].startswith("got 999999; expected a station of the station list (2025-12")
    assert unknown["problem"].endswith("(number 999999 is not in the list)")
    nothing = _problem(_upload(api_lite, "station_id,number,bikes\nST-4,,3\n,,2\n"))
    assert nothing["field"] == "body[line 3].station_id"
    assert nothing["problem"] == "missing; expected a station id or a number"
    listed = api_lite.client.get("/v1/rebalancing/snapshots", headers=api_lite.h("viewer")).json()
    assert listed["total"] == 0


def test_the_json_route_takes_a_number_and_names_a_station_without_either(api_lite: Api) -> None:
    one = dict(RUN["snapshot"]["stations"][0])
    del one["station_id"]
    ok = api_lite.client.post(
        "/v1/rebalancing/snapshots",
        json={"name": "by number", "stations": [one | {"number": 102}]},
        headers=api_lite.h("ops"),
    )
    assert ok.status_code == 201, ok.text
    bad = api_lite.client.post(
        "/v1/rebalancing/snapshots",
        json={"name": "neither", "stations": [RUN["snapshot"]["stations"][1], one]},
        headers=api_lite.h("ops"),
    )
    err = _problem(bad)
    assert err["field"] == "body.stations.1.station_id"
    assert err["problem"] == "missing; expected a station id or a number"  # as the CSV route says it
