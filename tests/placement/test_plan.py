"""The Plan object: JSON round trip, schema, GeoJSON."""

from __future__ import annotations

import json

import jsonschema
import pytest

from mobility.errors import InputError
from mobility.export.plans import PLAN_CSV_COLUMNS, plan_csv, plan_feature_collection
from mobility.placement.plan import (
    CityKPI,
    DistrictKPI,
    NewStation,
    Plan,
    StationAllocation,
    plan_json_schema,
)
from mobility.provenance import Provenance
from mobility.stats import SolverStats


def sample_plan() -> Plan:
    stats = SolverStats(
        solver="cp-sat", status="optimal", objective=10.0, bound=10.0, seconds=0.1, seed=0, gap=0.0
    )
    city = CityKPI(
        stations=2,
        docks=30,
        bikes=25,
        population=1000.0,
        bikes_per_10k=250.0,
        covered_population=800.0,
        covered_share=0.8,
    )
    return Plan(
        scenario="tiny",
        radius_m=300.0,
        min_spacing_m=250.0,
        population_source="grid",
        population_total=1000.0,
        new_stations=[
            NewStation(
                id="NEW-0001",
                lat=37.5,
                lon=127.0,
                gu="강남구",
                dong="역삼1동",
                docks=15,
                bikes=12,
                population_newly_covered=300.0,
                predicted_trips=None,
                rank=1,
                candidate_id=7,
                reason="covers 300 residents",
            )
        ],
        existing_stations=[
            StationAllocation(
                station_id="ST-1",
                number=101,
                name="망원역",
                gu="마포구",
                lat=37.55,
                lon=126.91,
                docks=15,
                bikes=13,
            )
        ],
        districts=[
            DistrictKPI(
                gu="강남구",
                population=1000.0,
                stations_before=1,
                stations=2,
                docks=30,
                bikes=25,
                bikes_per_10k=250.0,
                min_bikes_per_10k=None,
                covered_share_before=0.5,
                covered_share=0.8,
            )
        ],
        city_before=city,
        city_after=city,
        siting_stats=stats,
        fleet_stats=stats,
        provenance=Provenance(code_version="test", datasets={}, scenario={"name": "tiny"}, seed=0),
        greedy_covered_population=700.0,
    )


def test_round_trip_through_json() -> None:
    plan = sample_plan()
    text = json.dumps(plan.to_dict(), ensure_ascii=False)
    assert "강남구" in text  # Hangul unescaped
    back = Plan.from_dict(json.loads(text))
    assert back == plan
    assert back.total_bikes == 25


def test_document_validates_against_published_schema() -> None:
    schema = plan_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(sample_plan().to_dict(), schema)
    bad = sample_plan().to_dict()
    bad["new_stations"][0]["docks"] = "many"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_from_dict_names_the_bad_field() -> None:
    d = sample_plan().to_dict()
    del d["city_after"]
    with pytest.raises(InputError, match="city_after"):
        Plan.from_dict(d)


def test_geojson_has_every_station() -> None:
    gj = plan_feature_collection(sample_plan())
    kinds = sorted(f["properties"]["kind"] for f in gj["features"])
    assert kinds == ["existing", "new"]
    assert gj["features"][0]["geometry"]["coordinates"] == [127.0, 37.5]


def test_plan_csv_writes_whole_numbers_as_integers() -> None:
    plan = sample_plan()
    new = plan.new_stations[0].model_copy(
        update={"population_newly_covered": 10065.0, "predicted_trips": 12.5}
    )
    text = plan_csv(plan.model_copy(update={"new_stations": [new]})).decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    row = dict(zip(header.split(","), first.split(","), strict=False))
    assert header.split(",") == list(PLAN_CSV_COLUMNS)
    assert row["population_newly_covered"] == "10065"
    assert (row["lat"], row["docks"], row["predicted_trips"]) == ("37.5", "15", "12.5")
