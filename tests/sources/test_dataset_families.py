"""One list of dataset families: the catalogue's, read by ``mobility data --family`` and the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mobility.errors import InputError
from mobility.sources import catalog
from mobility.sources.catalog import all_datasets, dataset_families


@pytest.fixture
def fake_families(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from api.schemas import published_names

    published_names.cache_clear()
    monkeypatch.setattr(catalog, "dataset_families", lambda data_dir=None: ("alpha", "other"))
    yield
    published_names.cache_clear()


def test_families_are_the_catalogues_and_other(tmp_path: Path) -> None:
    families = dataset_families()
    assert list(families) == sorted({s.family for s in all_datasets()} | {"other"})
    assert {"stations", "network", "other"} <= set(families)
    (tmp_path / "stray.bin").write_bytes(b"x")  # an undescribed file is family "other"
    assert dataset_families(tmp_path) == families


@pytest.mark.usefixtures("fake_families")
def test_the_cli_and_the_api_read_the_one_list() -> None:
    from api.schemas import published_names
    from mobility.cli.data import check_families

    check_families(["alpha"], None)
    with pytest.raises(InputError, match="expected one of alpha, other"):
        check_families(["stations"], None)
    assert published_names("dataset_family") == ("alpha", "other")
