"""Every CSV the API serves is written as the CLI writes its CSV files: UTF-8 with a byte-order
mark, through the one writer (:func:`mobility.io.csv_bytes`), so that Excel shows the Hangul names
of a downloaded plan, route sheet or curve (``tests/cli/test_csv_bom.py`` checks the library and
the command line)."""

from __future__ import annotations

import json

import pytest

import api.app  # noqa: F401  # every route module registers its formats on import
from api.formats import Format, formats_for
from api.routes.common import JOB_BASES
from mobility.io import CSV_BOM
from tests.api.api_support import FAKE_PLAN, FAKE_ROUTES

BOM = CSV_BOM.encode("utf-8")

SAMPLES: dict[str, bytes] = {
    "scenario": json.dumps(FAKE_PLAN, ensure_ascii=False).encode(),
    "rebalancing": json.dumps(FAKE_ROUTES, ensure_ascii=False).encode(),
    "sweep": json.dumps(
        {"scenario": "망원", "axis": "new_stations", "points": [{"new_stations": 300, "sited": 300}]},
        ensure_ascii=False,
    ).encode(),
}
"""A stored result document of each job kind that has a CSV representation."""


def _csv_formats() -> list[tuple[str, Format]]:
    return [
        (kind, f)
        for kind in JOB_BASES
        for f in formats_for(kind).values()
        if f.media_type.split(";")[0].strip() == "text/csv"
    ]


def test_every_kind_with_a_csv_has_a_sample() -> None:
    kinds = {kind for kind, _ in _csv_formats()}
    assert kinds >= {"scenario", "rebalancing", "sweep"}
    assert kinds <= set(SAMPLES), "add a sample document of the new kind to SAMPLES"


@pytest.mark.parametrize(("kind", "fmt"), _csv_formats(), ids=lambda v: getattr(v, "name", v))
def test_every_served_csv_starts_with_one_bom(kind: str, fmt: Format) -> None:
    body = fmt.convert(SAMPLES[kind])
    assert body.startswith(BOM) and not body.startswith(BOM + BOM), (kind, body[:20])
    assert "charset=utf-8" in fmt.media_type
    body.decode("utf-8")  # UTF-8 throughout
