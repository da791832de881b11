"""Models of the GBFS v3.0 files of a plan's feed (``GET /v1/scenarios/{id}/gbfs/{file}``).

:func:`mobility.export.gbfs.build_feeds` writes the four files (``gbfs.json``,
``system_information.json``, ``station_information.json``, ``station_status.json``) and checks
them against the official GBFS v3.0 JSON schemas (those the ``gbfs-validator`` package ships).
These models say, for the OpenAPI document (:data:`FEED_FILES`), which of the official fields
the server fills and with what: the Seoul system in Korean and English, every station of the
plan (existing and new) with its docks, and its bikes as the plan allocates them.

Every model refuses a key it does not name (:class:`~api.representations.Part`): the tests
validate the files a real plan serves against them, so that a field the writer adds fails them
until it is described here; they also check that every field named here is one of the official
schema's and that every field the official schema requires is required here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AnyUrl, Field, RootModel
from pydantic.json_schema import SkipJsonSchema

from api.representations import Part, Representation

GbfsVersion = Literal["3.0"]
"""The GBFS version of the files (:data:`mobility.export.gbfs.GBFS_VERSION`)."""

Language = Literal["ko", "en"]
"""The languages of the feed's texts (:data:`mobility.export.gbfs.LANGUAGES`)."""

FeedName = Literal["system_information", "station_information", "station_status"]
"""The feeds ``gbfs.json`` lists (:data:`mobility.export.gbfs.FEEDS`)."""


class GbfsText(Part):
    """A text in one language (GBFS ``Localized String``)."""

    text: str = Field(examples=["망원역 1번출구 앞"])
    language: Language = Field(description="IETF BCP 47 language code: ko (Korean) or en (English).")


class GbfsFile(Part):
    """What every GBFS file starts with."""

    last_updated: datetime = Field(
        description="When the file was made: an RFC 3339 date-time in UTC.",
        examples=["2026-01-05T09:30:00+00:00"],
    )
    ttl: int = Field(ge=0, description="Seconds before the data changes: 0, as a plan's feed is made once.")
    version: GbfsVersion = Field(description="The GBFS version the file conforms to.")


class GbfsFeedLink(Part):
    """One feed of the system."""

    name: FeedName = Field(description="The feed's file name, without .json.")
    url: AnyUrl = Field(
        description="Where the feed is: this server's public URL (MOBILITY_PUBLIC_URL), else the "
        "request's host when the server trusts it (MOBILITY_TRUSTED_HOSTS).",
        examples=[
            "https://bikes.example.org/v1/scenarios/3f2c5a0e9b8d4c6f8a1b2c3d4e5f6a7b/gbfs/station_status.json"
        ],
    )


class GbfsFeedList(Part):
    """The data of ``gbfs.json``."""

    feeds: list[GbfsFeedLink] = Field(min_length=1, description="The feeds of the plan's system.")


class GbfsDiscovery(GbfsFile):
    """``gbfs.json``: the discovery file, linking to the other files of the plan's feed."""

    data: GbfsFeedList


class GbfsSystem(Part):
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


class GbfsStation(Part):
    """One station of ``station_information.json``: an existing one, or one the plan adds."""

    station_id: str = Field(
        description="The station's id: ST-xxx for a station of the list (NO-<number> where the list "
        "gives none), the plan's id for a new one.",
        examples=["ST-4"],
    )
    name: list[GbfsText] = Field(description="The station's name (Korean).")
    short_name: list[GbfsText] | SkipJsonSchema[None] = Field(
        default=None, description="The station's number (대여소번호); absent when it has none."
    )
    lat: float = Field(ge=-90, le=90, description="Latitude (WGS84), 6 decimals.", examples=[37.555649])
    lon: float = Field(ge=-180, le=180, description="Longitude (WGS84), 6 decimals.", examples=[126.910629])
    address: str | SkipJsonSchema[None] = Field(
        default=None,
        description="서울특별시 and the station's district (gu); absent when it has none.",
        examples=["서울특별시 마포구"],
    )
    capacity: int = Field(ge=0, description="Docks at the station (the plan's for a new one).")
    is_virtual_station: bool = Field(description="Always false: every station has docks.")


class GbfsStationList(Part):
    """The data of ``station_information.json``."""

    stations: list[GbfsStation]


class GbfsStationInformation(GbfsFile):
    """``station_information.json``: every station of the plan, existing and new."""

    data: GbfsStationList


class GbfsStationState(Part):
    """One station of ``station_status.json``: its bikes as the plan allocates them."""

    station_id: str = Field(
        description="The station's id, as in station_information.json.", examples=["ST-4"]
    )
    num_vehicles_available: int = Field(ge=0, description="Bikes the plan puts at the station.")
    num_docks_available: int = Field(ge=0, description="Docks left free: capacity less the bikes.")
    is_installed: bool
    is_renting: bool
    is_returning: bool
    last_reported: datetime = Field(description="As last_updated: the plan has no live reports.")


class GbfsStationStateList(Part):
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


FEED_FILES = Representation(lambda: GbfsFeedFile)
"""A file of a plan's GBFS feed (``/gbfs/{file}``), for :data:`api.openapi.EXPORTS`."""

FILE_MODELS = {
    "gbfs": GbfsDiscovery,
    "system_information": GbfsSystemInformation,
    "station_information": GbfsStationInformation,
    "station_status": GbfsStationStatus,
}
"""The model of each file, by its name without ``.json`` (the official schemas' names)."""
