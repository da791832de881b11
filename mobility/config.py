"""Settings: where the data is, where derived data is cached, which database the service uses.

One :class:`Settings` object (pydantic-settings) reads ``MOBILITY_*`` environment variables.
The data directory is resolved in this order (first that exists wins):

1. an explicit path (``--data-dir`` on the CLI),
2. ``MOBILITY_DATA_DIR``,
3. ``./data/seoul`` (relative to the working directory, then to the project checkout),
4. ``../shared/data/seoul`` (likewise).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from mobility.errors import DataNotFoundError, InputError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout this package was imported from (meaningful for an editable install)."""

DATA_HINT = (
    "Point --data-dir or MOBILITY_DATA_DIR at a folder laid out like shared/data/seoul "
    "(ttareungi/, osm/, population/, boundaries/, layers/), or run `mobility data fetch` "
    "with internet access to download the station list and street network."
)


class Settings(BaseSettings):
    """Process-wide settings, read from ``MOBILITY_*`` environment variables.

    Attributes
    ----------
    data_dir
        Explicit data directory; ``None`` means search the default places.
    cache_dir
        Where derived data goes (compact graphs, matrices, Parquet tables). Git-ignored.
    database_url
        SQLAlchemy URL of the service's job store (SQLite file by default).
    """

    # an empty variable (``MOBILITY_CACHE_DIR=``) is unset, not the current directory
    model_config = SettingsConfigDict(env_prefix="MOBILITY_", extra="ignore", env_ignore_empty=True)

    data_dir: Path | None = None
    cache_dir: Path = Field(default_factory=lambda: PROJECT_ROOT / ".cache")
    database_url: str = Field(
        default_factory=lambda: f"sqlite:///{PROJECT_ROOT / '.cache' / 'mobility.sqlite'}"
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return Settings()


def data_dir_candidates(explicit: Path | str | None = None) -> list[Path]:
    """Every place the data directory is looked for, in order of preference."""
    places: list[Path] = []
    if explicit is not None:
        return [Path(explicit)]
    env = get_settings().data_dir
    if env is not None:
        return [Path(env)]
    for base in (Path.cwd(), PROJECT_ROOT):
        places.append(base / "data" / "seoul")
    for base in (Path.cwd(), PROJECT_ROOT):
        places.append(base.parent / "shared" / "data" / "seoul")
    unique: list[Path] = []
    for p in places:
        if p.resolve() not in [u.resolve() for u in unique]:
            unique.append(p)
    return unique


def resolve_data_dir(explicit: Path | str | None = None) -> Path:
    """Find the Seoul data directory.

    Parameters
    ----------
    explicit
        A path given by the user; when set, only it is tried.

    Returns
    -------
    Path
        The first candidate that is an existing directory.

    Raises
    ------
    DataNotFoundError
        When none exists; the message lists every place tried and how to get data.
    """
    candidates = data_dir_candidates(explicit)
    for p in candidates:
        if p.is_dir():
            return p.resolve()
    files = [p for p in candidates if p.exists()]
    what = "Seoul data directory"
    if files:  # a path that exists but is a file (a CSV given where the folder was meant, say)
        what += f" ({', '.join(str(p) for p in files)}: a file, not a folder)"
    raise DataNotFoundError(what, candidates, DATA_HINT)


def data_file_places(path: Path | str, data_dir: Path | str | None = None) -> list[Path]:
    """Where a file the user names by path is looked for: an absolute path as it is; a relative
    one in the data directory (when one resolves), then in the working directory. Station files
    (``baseline.stations``) and street networks (``coverage.network``) are found so."""
    p = Path(path)
    if p.is_absolute():
        return [p]
    try:
        root = resolve_data_dir(data_dir)
    except DataNotFoundError:
        return [p]
    return [root / p, p]


def cache_dir(sub: str | None = None) -> Path:
    """The cache folder (created on demand), or a named sub-folder of it.

    Raises
    ------
    InputError
        ``MOBILITY_CACHE_DIR`` is not a folder that can be created and written to (a file, a
        path below a file, a read-only place), naming the setting and the value given.
    """
    root = get_settings().cache_dir
    path = root / sub if sub else root
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        ok = False
    else:
        ok = os.access(path, os.W_OK | os.X_OK)
    if not ok:
        raise InputError("MOBILITY_CACHE_DIR", str(root), "a writable folder")
    return path
