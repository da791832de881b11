"""GBFS v3.0 feed files for a network (current or planned), validated against the official schemas.

Writes ``gbfs.json`` (manifest of feeds), ``system_information.json``,
``station_information.json`` and ``station_status.json``. Station status comes from the bikes in
the layers: a plan's allocation, or for the current network the fleet spread by docks (no
city-wide real-time snapshot exists in the data). New (planned) stations are included like
existing ones, marked by a ``NEW-`` id when the plan gave none.

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
from typing import Any

import pandas as pd

from mobility.export.layers import MapLayers
from mobility.io import atomic_write_json

GBFS_VERSION = "3.0"
FEEDS = ("system_information", "station_information", "station_status")
LANGUAGES = ("ko", "en")


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


def _localized(text: str, en: str | None = None) -> list[dict[str, str]]:
    out = [{"text": text, "language": "ko"}]
    if en:
        out.append({"text": en, "language": "en"})
    return out


def _envelope(data: dict[str, Any], now: str, ttl: int) -> dict[str, Any]:
    return {"last_updated": now, "ttl": ttl, "version": GBFS_VERSION, "data": data}


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
    ``station_status``) as dicts; ``base_url`` is where the files will be served from."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0).isoformat()
    st = _all_stations(layers)
    info, status = [], []
    records: list[dict[str, Any]] = [{str(k): v for k, v in r.items()} for r in st.to_dict("records")]
    for r in records:
        docks = int(r["docks"]) if pd.notna(r["docks"]) else 0
        bikes = int(r["bikes"]) if pd.notna(r["bikes"]) else 0
        s: dict[str, Any] = {
            "station_id": str(r["station_id"]),
            "name": _localized(str(r["name"])),
            "lat": round(float(r["lat"]), 6),
            "lon": round(float(r["lon"]), 6),
            "capacity": max(docks, 0),
            "is_virtual_station": False,
        }
        number = r.get("number")
        if number is not None and pd.notna(number):
            s["short_name"] = _localized(str(number))
        if r.get("gu"):
            s["address"] = f"서울특별시 {r['gu']}"
        info.append(s)
        status.append(
            {
                "station_id": str(r["station_id"]),
                "num_vehicles_available": max(bikes, 0),
                "num_docks_available": max(docks - bikes, 0),
                "is_installed": True,
                "is_renting": True,
                "is_returning": True,
                "last_reported": stamp,
            }
        )
    base = base_url.rstrip("/") + "/"
    system = {
        "system_id": system_id,
        "languages": list(LANGUAGES),
        "name": _localized("서울자전거 따릉이", "Seoul Bike Ttareungi"),
        "opening_hours": "24/7",
        "feed_contact_email": contact_email,
        "timezone": "Asia/Seoul",
        "attribution_organization_name": _localized(
            "서울특별시 (서울 열린데이터광장)", "Seoul Metropolitan Government, Seoul Open Data Plaza"
        ),
    }
    return {
        "gbfs": _envelope({"feeds": [{"name": f, "url": f"{base}{f}.json"} for f in FEEDS]}, stamp, ttl),
        "system_information": _envelope(system, stamp, ttl),
        "station_information": _envelope({"stations": info}, stamp, ttl),
        "station_status": _envelope({"stations": status}, stamp, ttl),
    }


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
