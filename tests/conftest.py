"""Shared fixtures: the real Seoul data directory and a per-session cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from mobility.config import resolve_data_dir
from mobility.errors import DataNotFoundError


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real Seoul data directory; the suite fails loudly (not skips) when it is missing."""
    try:
        return resolve_data_dir()
    except DataNotFoundError as exc:  # pragma: no cover - CI always has the data
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Tiny hand-made files for edge cases (bad encodings, broken rows)."""
    return Path(__file__).parent / "fixtures"
