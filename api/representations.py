"""Models of the GeoJSON and CSV the API sends: the station list, the representations of a plan,
of a night's routes and of a sweep's curve, the map layers and the route sheets.

Each is a pydantic model whose JSON Schema :mod:`api.openapi` puts in the OpenAPI document (or
FastAPI, for a route's ``response_model``). What a library writer produces
(:mod:`mobility.export.plans`, :mod:`mobility.export.routes`, :mod:`mobility.export.curve`) is
described by a model made from the library's own (:func:`part_model`): the fields it writes,
typed and described as the library's model types and describes them, so that a field the
library adds to its model is in the schema too, and a column its writer adds fails the tests
(every model here refuses unknown keys). A CSV is text (:func:`csv_schema`) whose rows are
described by a row model, one field per column, in the columns' order.

The models made from the library's are built on first use (the functions below), when the
document is first asked for: the library modules load then, not when the app starts.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, Union, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.fields import FieldInfo

FieldSpec = tuple[Any, FieldInfo]
"""A field of a model made by :func:`part_model`: its type and its :class:`~pydantic.fields.FieldInfo`."""


class Part(BaseModel):
    """Base of the models here: a key the model does not name is an error (the tests validate
    real answers against the schemas, so that a key the server adds fails them)."""

    model_config = ConfigDict(extra="forbid")


_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


def attribute_docs(cls: type) -> dict[str, str]:
    """The descriptions of a class's attributes in the numpydoc ``Attributes`` section of its
    docstring, by name (an entry ``a, b`` describes both), Sphinx roles (``:class:`~x.Y```) as
    plain ``x.Y``."""
    lines = (inspect.getdoc(cls) or "").splitlines()
    if "Attributes" not in lines:
        return {}
    out: dict[str, list[str]] = {}
    names: list[str] = []
    rest = lines[lines.index("Attributes") + 2 :]  # after the title and its underline
    for k, line in enumerate(rest):
        if line and not line.startswith(" "):
            if k + 1 < len(rest) and set(rest[k + 1]) == {"-"}:
                break  # the next section
            names = [n.strip() for n in line.split(",")]
            for n in names:
                out[n] = []
        elif line.strip():
            for n in names:
                out[n].append(line.strip())
    return {n: _ROLE.sub(r"\1", " ".join(words)) for n, words in out.items() if words}


def described(annotation: Any, description: str) -> FieldSpec:
    """A required field of type ``annotation`` with its ``description``."""
    return annotation, Field(description=description)


def field_of(source: type, name: str) -> FieldSpec:
    """The field ``name`` of ``source`` (a pydantic model, computed fields included, or a
    dataclass), required, typed as ``source`` types it (with its constraints) and described as it
    describes it, in the field or in its docstring's ``Attributes`` (:func:`attribute_docs`).
    ``KeyError`` when ``source`` has no such field."""
    docs = attribute_docs(source)
    if issubclass(source, BaseModel):
        if name in source.model_fields:
            info = source.model_fields[name]
            annotation: Any = info.annotation
            if info.metadata:
                annotation = Annotated.__class_getitem__((annotation, *info.metadata))  # type: ignore[attr-defined]
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else None
            return annotation, Field(description=info.description or docs.get(name), json_schema_extra=extra)
        computed = source.model_computed_fields[name]
        return computed.return_type, Field(description=computed.description or docs.get(name))
    return get_type_hints(source)[name], Field(description=docs.get(name))


def fields_of(source: type, names: Iterable[str]) -> dict[str, FieldSpec]:
    """:func:`field_of` each of ``names``, in that order."""
    return {name: field_of(source, name) for name in names}


def field_names(source: type[BaseModel], *, without: Collection[str] = ()) -> list[str]:
    """The fields a pydantic model dumps (computed ones last), less ``without``."""
    return [n for n in (*source.model_fields, *source.model_computed_fields) if n not in without]


def nullable(spec: FieldSpec, why: str) -> FieldSpec:
    """``spec`` that may also be null (a blank CSV cell), saying ``why`` in its description."""
    annotation, info = spec
    text = f"{info.description} " if info.description else ""
    return annotation | None, Field(
        description=f"{text}Blank {why}.", json_schema_extra=info.json_schema_extra
    )


def part_model(
    name: str, doc: str, fields: Mapping[str, FieldSpec], *, base: type[BaseModel] = Part
) -> type[BaseModel]:
    """A model named ``name`` with the docstring ``doc`` and these fields, in order: a
    :class:`Part` (unknown keys refused), or of ``base`` (a route's ``response_model``, whose
    answer is made by the model: an unknown key is left out rather than failing the request)."""
    made: type[BaseModel] = create_model(name, __base__=base, __doc__=doc, **fields)  # type: ignore[call-overload]
    return made


def list_of(*models: type[BaseModel]) -> Any:
    """The type ``list[A | B | ...]`` of ``models`` (models made at run time)."""
    item: Any = Union.__getitem__(models) if len(models) > 1 else models[0]
    return list.__class_getitem__(item)


def csv_row_model(
    name: str,
    doc: str,
    columns: Sequence[str],
    sources: Sequence[type],
    *,
    own: Mapping[str, FieldSpec] | None = None,
    blank: Mapping[str, str] | None = None,
) -> type[BaseModel]:
    """The model of one row of a CSV a library writer produces: one field per of its ``columns``,
    in order, each typed and described by ``own`` or else by the first of ``sources`` that has
    it (:func:`field_of`); the columns of ``blank`` may be blank (the reason said)."""
    own, blank = own or {}, blank or {}
    fields: dict[str, FieldSpec] = {}
    for column in columns:
        spec = own.get(column) or _first_field(sources, column)
        fields[column] = nullable(spec, blank[column]) if column in blank else spec
    return part_model(name, doc, fields)


def _first_field(sources: Sequence[type], name: str) -> FieldSpec:
    for source in sources:
        try:
            return field_of(source, name)
        except KeyError:
            continue
    raise KeyError(f"no field {name!r} in {[s.__name__ for s in sources]}")


def csv_schema(row: dict[str, Any], model: type[BaseModel], rows: str) -> dict[str, Any]:
    """The JSON Schema of a CSV representation: text whose header names the fields of ``model``
    (the row model, referenced as ``row``) in order, then one row per what ``rows`` says."""
    columns = ", ".join(f"`{c}`" for c in model.model_fields)
    return {
        "type": "string",
        "contentMediaType": "text/csv",
        "contentSchema": {"type": "array", "items": row},
        "examples": [",".join(model.model_fields) + "\r\n"],  # the header row
        "description": f"CSV, UTF-8 with a byte-order mark, CRLF line ends: a header row, then {rows}; "
        f"a blank cell is null. Columns, in order: {columns}. contentSchema describes each row as "
        "an object by column (the cells are text).",
    }


# --- GeoJSON (RFC 7946, WGS84) ---------------------------------------------------------------


class Point(Part):
    """A GeoJSON Point."""

    type: Literal["Point"]
    coordinates: tuple[float, float] = Field(
        description="[longitude, latitude], WGS84.", examples=[[126.910629, 37.555649]]
    )


class LineString(Part):
    """A GeoJSON LineString."""

    type: Literal["LineString"]
    coordinates: list[tuple[float, float]] = Field(
        min_length=2, description="[[longitude, latitude], ...], WGS84."
    )


class Feature(Part):
    """Base of the GeoJSON features."""

    type: Literal["Feature"]


class FeatureCollection(Part):
    """Base of the GeoJSON feature collections."""

    type: Literal["FeatureCollection"]


def feature_model(name: str, doc: str, geometry: Any, properties: type[BaseModel]) -> type[BaseModel]:
    """A :class:`Feature` with this ``geometry`` (type) and ``properties`` (model)."""
    made: type[BaseModel] = create_model(
        name, __base__=Feature, __doc__=doc, geometry=(geometry, ...), properties=(properties, ...)
    )
    return made


def collection_model(
    name: str, doc: str, features: Sequence[type[BaseModel]], members: Mapping[str, FieldSpec] | None = None
) -> type[BaseModel]:
    """A :class:`FeatureCollection` of ``features`` (any of these models), with the other
    ``members`` the writer adds (its ``name``)."""
    fields = {**(members or {}), "features": (list_of(*features), Field())}
    return part_model(name, doc, fields, base=FeatureCollection)


# --- the station list (GET /v1/stations) -------------------------------------------------------


class StationProperties(Part):
    """A station of the list, as the normalized station table has it
    (:data:`mobility.sources.stations.COLUMNS`, its position as the geometry)."""

    station_id: str | None = Field(
        description="Internal id ST-xxx; null where the list gives none that its number joins to.",
        examples=["ST-4"],
    )
    number: int | None = Field(description="Station number (대여소번호).", examples=[102])
    name: str | None = Field(description="Station name (Korean).", examples=["망원역 1번출구 앞"])
    gu: str | None = Field(description="District (자치구), Korean.", examples=["마포구"])
    address: str | None
    docks: int | None = Field(
        description="Docks (거치대수); null when the list gives no count.", examples=[15]
    )
    dock_type: str | None = Field(description='"LCD", "QR", "LCD,QR", or null (운영방식).')
    installed_on: str | None = Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T00:00:00$",
        description="Start of service (YYYY-MM-DDT00:00:00), null when unknown.",
        examples=["2015-09-06T00:00:00"],
    )
    source: str = Field(description="The vintage the row comes from.", examples=["2025-12"])


class StationFeature(Feature):
    """One station: a Point."""

    geometry: Point
    properties: StationProperties


class StationCollection(FeatureCollection):
    """The stations of the server's station-list vintage (``MOBILITY_STATION_MONTH``), as a GeoJSON
    FeatureCollection (RFC 7946), filtered by district and bounding box."""

    name: str = Field(description="stations-<vintage>.", examples=["stations-2025-12"])
    features: list[StationFeature]


# --- map layers (/layers/{file}) ----------------------------------------------------------------


class LayerGeometry(Part):
    """A GeoJSON geometry of a map layer."""

    type: Literal["Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"]
    coordinates: list[Any] = Field(description="Longitude, latitude (WGS84), 6 decimals, per RFC 7946.")


class LayerFeature(Feature):
    """One feature of a map layer: its properties are the layer's columns (those of the
    GeoPackage's layer of the same name)."""

    geometry: LayerGeometry | None
    properties: dict[str, str | int | float | bool | None]


class LayerCollection(FeatureCollection):
    """One map layer as GeoJSON (RFC 7946, WGS84, ``mobility export --format geojson``): stations
    (existing, new), coverage areas, districts, routes, stops or depots."""

    name: str = Field(description="The layer's name (the file's, without .geojson).", examples=["districts"])
    xy_coordinate_resolution: float = Field(
        default=1e-6, description="The coordinates' resolution in degrees (GDAL's GeoJSON writer adds it)."
    )
    features: list[LayerFeature]


# --- a plan's stations (GET /v1/scenarios/{id}/plan, ?format=geojson and ?format=csv) -----------


def kind_properties(
    name: str, doc: str, kind: str, means: str, fields: Mapping[str, FieldSpec]
) -> type[BaseModel]:
    """The properties model ``name`` of the features of one ``kind`` (its ``kind`` property, which
    ``means`` what it says), then ``fields``."""
    return part_model(name, doc, {"kind": described(Literal.__getitem__(kind), means), **fields})


@cache
def plan_geojson() -> type[BaseModel]:
    """The plan's stations as :func:`mobility.export.plans.plan_feature_collection` writes them."""
    from mobility.placement.plan import NewStation, StationAllocation

    new, existing = (
        kind_properties(
            name, f"{doc} (position as the geometry).", kind, means,
            fields_of(source, field_names(source, without=("lat", "lon"))),
        )
        for name, doc, kind, means, source in (
            ("NewStationProperties", "A new station of the plan: its fields in plan.json", "new",
             "A station the plan adds.", NewStation),
            ("ExistingStationProperties", "A station of the baseline with the bikes the plan gives it",
             "existing", "A station of the baseline.", StationAllocation),
        )
    )  # fmt: skip
    return collection_model(
        "PlanFeatureCollection",
        "The plan's stations as GeoJSON (RFC 7946, WGS84): the new ones (kind new) and those of the "
        "baseline (kind existing), each a Point with its fields in plan.json as properties.",
        [
            feature_model("NewStationFeature", "A new station.", Point, new),
            feature_model("ExistingStationFeature", "A station of the baseline.", Point, existing),
        ],
        {"name": described(str, "The scenario's name.")},
    )


@cache
def plan_csv_row() -> type[BaseModel]:
    """A row of :func:`mobility.export.plans.plan_csv`."""
    from mobility.export.plans import PLAN_CSV_COLUMNS
    from mobility.placement.plan import NewStation, StationAllocation

    existing = "for a station of the baseline"
    return csv_row_model(
        "PlanCsvRow",
        "A station of the plan as a row of its CSV: new stations first, in rank order.",
        PLAN_CSV_COLUMNS,
        [NewStation, StationAllocation],
        own={
            "kind": described(
                Literal["new", "existing"], "new: a station the plan adds; existing: one of the baseline."
            ),
            "id": described(str, "The new station's id (NEW-0001) or the baseline station's (ST-4)."),
        },
        blank={"name": "for a new station"}
        | dict.fromkeys(("dong", "rank", "population_newly_covered", "reason"), existing),
    )


# --- a night's routes (GET /v1/rebalancing/runs/{id}/routes, ?format=geojson and ?format=csv) ----


@cache
def routes_geojson() -> type[BaseModel]:
    """The routes, stops and depots as :func:`mobility.export.routes.routes_feature_collection`
    writes them."""
    from mobility.rebalancing.plan import Stop, TruckRoute

    route_fields = {
        **fields_of(TruckRoute, ["truck_id", "depot_id"]),
        "stops": described(int, "Stations the truck stops at."),
        **fields_of(TruckRoute, ["picked_up", "dropped", "distance_km", "hours", "start", "end"]),
        "street_path": described(bool, "The line follows the streets (else straight segments)."),
    }
    stop_fields = {
        **fields_of(TruckRoute, ["truck_id"]),
        **fields_of(Stop, field_names(Stop, without=("lon", "lat"))),
    }
    depot_fields = {
        "depot_id": described(str, "The depot's id (a route's depot_id)."),
        "name": described(str, "The depot's name."),
    }
    route, stop, depot = (
        kind_properties(name, doc, kind, means, fields)
        for name, doc, kind, means, fields in (
            ("RouteProperties", "A truck's night, as routes.json has it.", "route", "A truck's route.",
             route_fields),
            ("StopProperties", "A stop: its fields in routes.json (position as the geometry).", "stop",
             "A stop of a truck.", stop_fields),
            ("DepotProperties", "A depot.", "depot", "Where trucks start and end.", depot_fields),
        )
    )  # fmt: skip
    return collection_model(
        "RoutesFeatureCollection",
        "The night's routes as GeoJSON (RFC 7946, WGS84): each used truck's route (a LineString, "
        "null when it has no length), each stop and each depot (Points).",
        [
            feature_model("RouteFeature", "A truck's route.", LineString | None, route),
            feature_model("StopFeature", "A stop of a truck.", Point, stop),
            feature_model("DepotFeature", "A depot.", Point, depot),
        ],
    )


@cache
def route_sheet_row() -> type[BaseModel]:
    """A row of the route sheet (:func:`mobility.export.routes.route_sheet_csv`)."""
    from mobility.export.routes import BLANK_AT_DEPOT, LISTED_ONLY, ROUTE_SHEET_COLUMNS
    from mobility.rebalancing.plan import Stop, TruckRoute

    return csv_row_model(
        "RouteSheetRow",
        "A stop of the route sheet: per truck, leaving the depot (start), its stops in order, "
        "returning (end); at the depot rows, station_id and name are the depot's, number and "
        "address blank.",
        ROUTE_SHEET_COLUMNS,
        [Stop, TruckRoute],
        own={
            "action": described(
                str, "pick up 수거, drop off 배치, visit 방문; start 출발 and end 복귀 at the depot."
            ),
            "bikes": described(int, "Bikes the driver moves (|quantity|)."),
        },
        blank=dict.fromkeys((*BLANK_AT_DEPOT, *LISTED_ONLY), "at the depot rows"),
    )


# --- a sweep's curve (GET /v1/sweeps/{id}/sweep?format=csv; a sweep job's kpis) ----------------


@cache
def sweep_point() -> type[BaseModel]:
    """A point of a coverage or budget curve as the CSV (:func:`mobility.export.curve.curve_csv`)
    and a sweep job's ``kpis`` give it: :class:`~mobility.placement.sweep.SweepPoint` without
    its ``sites``."""
    from mobility.export.curve import COLUMNS
    from mobility.placement.sweep import SweepPoint

    return csv_row_model(
        "SweepCurvePoint",
        "A point of the curve: its site selection and what it covers.",
        COLUMNS,
        [SweepPoint],
    )


@dataclass(frozen=True)
class Representation:
    """How a GeoJSON or CSV representation is documented: the ``model`` of the GeoJSON, or of a
    CSV's row with what its ``rows`` are (:func:`csv_schema`)."""

    model: Callable[[], type[BaseModel]]
    rows: str | None = None


REPRESENTATIONS: dict[tuple[str, str], Representation] = {
    ("scenario", "geojson"): Representation(plan_geojson),
    ("scenario", "csv"): Representation(plan_csv_row, "one row per station, new stations first by rank"),
    ("rebalancing", "geojson"): Representation(routes_geojson),
    ("rebalancing", "csv"): Representation(route_sheet_row, "one row per stop, per truck in stop order"),
    ("sweep", "csv"): Representation(sweep_point, "one row per point of the curve"),
}
"""The representations other than JSON, by the formats they are registered for
(:func:`api.formats.register_format`) and their name."""

SHEETS = Representation(route_sheet_row, "one row per stop of the truck (routes_all.csv: of every truck)")
"""A night's route sheets (``/sheets/{file}``): the rows of its CSV."""

LAYERS = Representation(lambda: LayerCollection)
"""A map layer (``/layers/{file}``)."""
