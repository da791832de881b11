"""GBFS v3.0 feed files for a network (current or planned), validated against the official schemas.

Writes ``gbfs.json`` (manifest of feeds), ``system_information.json``,
``station_information.json`` and ``station_status.json``. Station status comes from the bikes in
the layers: a plan's allocation, or for the current network the fleet spread by docks (no
city-wide real-time snapshot exists in the data). New (planned) stations are included like
existing ones, marked by a ``NEW-`` id when the plan gave none.

Each file is built as its pydantic model (:data:`FILE_MODELS`: :class:`GbfsDiscovery`,
:class:`GbfsSystemInformation`, :class:`GbfsStationInformation`, :class:`GbfsStationStatus`),
the models the API's OpenAPI document publishes for ``GET /v1/scenarios/{id}/gbfs/{file}``
(:class:`GbfsFeedFile`): they say which of the official fields the writer fills and with what.
Every model refuses a key it does not name; the tests check that every field named here is one
of the official schema's and that every field the official schema requires is required here.

Validation uses the official GBFS v3.0 JSON schemas (MobilityData ``gbfs-json-schema``) as shipped
inside the ``gbfs-validator`` PyPI package (``gbfs_validator/data/schemas/v3.0``), checked with
``jsonschema`` (draft-07) plus an RFC 3339 check of every timestamp.
"""

from __future__ import annotations

import importlib.resources
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import pandas as pd
from pydantic import AnyUrl, AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer, RootModel
from pydantic.json_schema import SkipJsonSchema

from mobility.export.layers import MapLayers
from mobility.io import atomic_write_json

GbfsVersion = Literal["3.0"]
"""The GBFS version of the files."""

Language = Literal["ko", "en"]
"""The languages of the feed's texts: IETF BCP 47 codes."""

FeedName = Literal["system_information", "station_information", "station_status"]
"""The feeds ``gbfs.json`` lists, in its order."""

GBFS_VERSION: GbfsVersion = get_args(GbfsVersion)[0]
FEEDS: tuple[FeedName, ...] = get_args(FeedName)
LANGUAGES: tuple[Language, ...] = get_args(Language)

Timestamp = Annotated[
    AwareDatetime,
    # datetime.isoformat: "+00:00" as the files have always said, where pydantic writes "Z"
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    # the serializer's str would otherwise drop the format from the published schema
    Field(json_schema_extra={"format": "date-time"}),
]
"""An RFC 3339 date-time with its offset (GBFS v3.0 ``Timestamp``)."""


class GbfsPart(BaseModel):
    """Base of the GBFS models: a key the model does not name is an error, so that a field the
    writer adds fails until it is described here."""

    model_config = ConfigDict(extra="forbid")


class GbfsText(GbfsPart):
    """A text in one language (GBFS ``Localized String``)."""

    text: str = Field(examples=["망원역 1번출구 앞"])
    language: Language = Field(description="IETF BCP 47 language code: ko (Korean) or en (English).")


class GbfsFile(GbfsPart):
    """What every GBFS file starts with."""

    last_updated: Timestamp = Field(
        description="When the file was made: an RFC 3339 date-time in UTC.",
        examples=["2026-01-05T09:30:00+00:00"],
    )
    ttl: int = Field(ge=0, description="Seconds before the data changes: 0, as a plan's feed is made once.")
    version: GbfsVersion = Field(description="The GBFS version the file conforms to.")


class GbfsFeedLink(GbfsPart):
    """One feed of the system."""

    name: FeedName = Field(description="The feed's file name, without .json.")
    url: AnyUrl = Field(
        description="Where the feed is. The API's: this server's public URL (MOBILITY_PUBLIC_URL), "
        "else the request's host when the server trusts it (MOBILITY_TRUSTED_HOSTS); mobility "
        "export's: its --base-url, else the folder's file:// URI.",
        examples=[
            "https://bikes.example.org/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b/gbfs/station_status.json"
        ],
    )


class GbfsFeedList(GbfsPart):
    """The data of ``gbfs.json``."""

    feeds: list[GbfsFeedLink] = Field(min_length=1, description="The feeds of the plan's system.")


class GbfsDiscovery(GbfsFile):
    """``gbfs.json``: the discovery file, linking to the other files of the plan's feed."""

    data: GbfsFeedList


class GbfsSystem(GbfsPart):
    """The data of ``system_information.json``: Seoul's public bike system (따릉이)."""

    system_id: str = Field(examples=["seoul-ttareungi"])
    languages: list[Language] = Field(description="The languages of the feed's texts.")
    name: list[GbfsText] = Field(description="The system's name, in Korean and English.")
    opening_hours: str = Field(description="OSM opening_hours of the system.", examples=["24/7"])
    feed_contact_email: str = Field(description="Where to report a problem with the feed.")
    timezone: str = Field(description="The system's time zone (IANA).", examples=["Asia/Seoul"])
    attribution_organization_name: list[GbfsText] = Field(
        description="Whose data the stations are, in Korean and English."
    )


class GbfsSystemInformation(GbfsFile):
    """``system_information.json``: the system the plan's stations belong to."""

    data: GbfsSystem


class GbfsStation(GbfsPart):
    """One station of ``station_information.json``: an existing one, or one the plan adds."""

    # in the order the files have always had their keys: the optional ones last

    station_id: str = Field(
        description="The station's id: ST-xxx for a station of the list (NO-<number> where the list "
        "gives none), the plan's id for a new one.",
        examples=["ST-4"],
    )
    name: list[GbfsText] = Field(description="The station's name (Korean).")
    lat: float = Field(ge=-90, le=90, description="Latitude (WGS84), 6 decimals.", examples=[37.555649])
    lon: float = Field(ge=-180, le=180, description="Longitude (WGS84), 6 decimals.", examples=[126.910629])
    capacity: int = Field(ge=0, description="Docks at the station (the plan's for a new one).")
    is_virtual_station: bool = Field(description="Always false: every station has docks.")
    short_name: list[GbfsText] | SkipJsonSchema[None] = Field(
        default=None, description="The station's number (대여소번호); absent when it has none."
    )
    address: str | SkipJsonSchema[None] = Field(
        default=None,
        description="서울특별시 and the station's district (gu); absent when it has none.",
        examples=["서울특별시 마포구"],
    )


class GbfsStationList(GbfsPart):
    """The data of ``station_information.json``."""

    stations: list[GbfsStation]


class GbfsStationInformation(GbfsFile):
    """``station_information.json``: every station of the plan, existing and new."""

    data: GbfsStationList


class GbfsStationState(GbfsPart):
    """One station of ``station_status.json``: its bikes as the plan allocates them."""

    station_id: str = Field(
        description="The station's id, as in station_information.json.", examples=["ST-4"]
    )
    num_vehicles_available: int = Field(ge=0, description="Bikes the plan puts at the station.")
    num_docks_available: int = Field(ge=0, description="Docks left free: capacity less the bikes.")
    is_installed: bool
    is_renting: bool
    is_returning: bool
    last_reported: Timestamp = Field(description="As last_updated: the plan has no live reports.")


class GbfsStationStateList(GbfsPart):
    """The data of ``station_status.json``."""

    stations: list[GbfsStationState]


class GbfsStationStatus(GbfsFile):
    """``station_status.json``: the plan's bikes and free docks at each station."""

    data: GbfsStationStateList


class GbfsFeedFile(
    RootModel[GbfsDiscovery | GbfsSystemInformation | GbfsStationInformation | GbfsStationStatus]
):
    """One file of a plan's GBFS v3.0 feed: ``gbfs.json`` (:class:`GbfsDiscovery`),
    ``system_information.json``, ``station_information.json`` or ``station_status.json``, each
    valid against the official GBFS v3.0 schema of its name."""


FILE_MODELS: dict[str, type[GbfsFile]] = {
    "gbfs": GbfsDiscovery,
    "system_information": GbfsSystemInformation,
    "station_information": GbfsStationInformation,
    "station_status": GbfsStationStatus,
}
"""The model of each file, by its name without ``.json`` (the official schemas' names)."""


def dump(model: GbfsFile) -> dict[str, Any]:
    """A GBFS file's model as the JSON document it is written as (absent fields left out)."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


@cache
def schema(name: str) -> dict[str, Any]:
    """The official GBFS v3.0 JSON schema of feed ``name`` (e.g. ``"station_information"``)."""
    res = importlib.resources.files("gbfs_validator") / "data" / "schemas" / "v3.0" / f"{name}.json"
    return dict(json.loads(res.read_text(encoding="utf-8")))


def validate(name: str, doc: dict[str, Any]) -> list[str]:
    """Schema errors of ``doc`` as feed ``name`` (empty when valid), each with its JSON path."""
    import jsonschema

    validator = jsonschema.Draft7Validator(schema(name), format_checker=jsonschema.FormatChecker())
    errors = [
        f"{name}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in validator.iter_errors(doc)
    ]
    errors.extend(_check_times(name, doc))
    return errors


def _check_times(name: str, doc: dict[str, Any]) -> list[str]:
    out = []
    stamps = [("last_updated", doc.get("last_updated"))]
    for i, st in enumerate(
        doc.get("data", {}).get("stations", []) if isinstance(doc.get("data"), dict) else []
    ):
        if "last_reported" in st:
            stamps.append((f"data/stations/{i}/last_reported", st["last_reported"]))
    for path, v in stamps:
        try:
            ok = isinstance(v, str) and datetime.fromisoformat(v).tzinfo is not None and "T" in v
        except ValueError:
            ok = False
        if not ok:
            out.append(f"{name}: {path}: {v!r} is not an RFC 3339 date-time with offset")
    return out


def _localized(text: str, en: str | None = None) -> list[GbfsText]:
    out = [GbfsText(text=text, language="ko")]
    if en:
        out.append(GbfsText(text=en, language="en"))
    return out


def _all_stations(layers: MapLayers) -> pd.DataFrame:
    frames = []
    for gdf in (layers.existing_stations, layers.new_stations):
        if len(gdf):
            df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
            df["lat"] = gdf.geometry.y
            df["lon"] = gdf.geometry.x
            frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["station_id", "name", "gu", "docks", "bikes", "kind", "lat", "lon"])
    return pd.concat(frames, ignore_index=True)


def build_feeds(
    layers: MapLayers,
    *,
    base_url: str,
    now: datetime | None = None,
    ttl: int = 0,
    contact_email: str = "gbfs@example.invalid",
    system_id: str = "seoul-ttareungi",
) -> dict[str, dict[str, Any]]:
    """The four GBFS documents (``gbfs``, ``system_information``, ``station_information``,
    ``station_status``) as dicts, each built as its model (:data:`FILE_MODELS`) and dumped
    (:func:`dump`); ``base_url`` is where the files will be served from.

    Raises
    ------
    pydantic.ValidationError
        When a value breaks its model (a bug of this writer or of the layers, not a user error).
    """
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    st = _all_stations(layers)
    info, status = [], []
    records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in st.to_dict("records")]
    for r in records:
        docks = int(r["docks"]) if pd.notna(r["docks"]) else 0
        bikes = int(r["bikes"]) if pd.notna(r["bikes"]) else 0
        number = r.get("number")
        info.append(
            GbfsStation(
                station_id=str(r["station_id"]),
                name=_localized(str(r["name"])),
                lat=round(float(r["lat"]), 6),
                lon=round(float(r["lon"]), 6),
                capacity=max(docks, 0),
                is_virtual_station=False,
                short_name=_localized(str(number)) if number is not None and pd.notna(number) else None,
                address=f"서울특별시 {r['gu']}" if r.get("gu") else None,
            )
        )
        status.append(
            GbfsStationState(
                station_id=str(r["station_id"]),
                num_vehicles_available=max(bikes, 0),
                num_docks_available=max(docks - bikes, 0),
                is_installed=True,
                is_renting=True,
                is_returning=True,
                last_reported=stamp,
            )
        )
    base = base_url.rstrip("/") + "/"
    system = GbfsSystem(
        system_id=system_id,
        languages=list(LANGUAGES),
        name=_localized("서울자전거 따릉이", "Seoul Bike Ttareungi"),
        opening_hours="24/7",
        feed_contact_email=contact_email,
        timezone="Asia/Seoul",
        attribution_organization_name=_localized(
            "서울특별시 (서울 열린데이터광장)", "Seoul Metropolitan Government, Seoul Open Data Plaza"
        ),
    )
    head: dict[str, Any] = {"last_updated": stamp, "ttl": ttl, "version": GBFS_VERSION}
    feeds = [GbfsFeedLink(name=f, url=AnyUrl(f"{base}{f}.json")) for f in FEEDS]
    files: dict[str, GbfsFile] = {
        "gbfs": GbfsDiscovery(**head, data=GbfsFeedList(feeds=feeds)),
        "system_information": GbfsSystemInformation(**head, data=system),
        "station_information": GbfsStationInformation(**head, data=GbfsStationList(stations=info)),
        "station_status": GbfsStationStatus(**head, data=GbfsStationStateList(stations=status)),
    }
    return {name: dump(model) for name, model in files.items()}


def write_gbfs(
    layers: MapLayers,
    out_dir: Path | str,
    *,
    base_url: str | None = None,
    now: datetime | None = None,
) -> list[Path]:
    """Validate and write the GBFS v3.0 files to ``out_dir``; raises ValueError on a schema error.

    ``base_url`` defaults to the ``file://`` URI of ``out_dir`` (feeds must be absolute URIs).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    docs = build_feeds(layers, base_url=base_url or out.resolve().as_uri(), now=now)
    errors = [e for name, doc in docs.items() for e in validate(name, doc)]
    if errors:  # a bug in this writer, not a user error
        raise ValueError("GBFS output does not validate:\n" + "\n".join(errors[:20]))
    return [atomic_write_json(out / f"{name}.json", doc, indent=None) for name, doc in docs.items()]
