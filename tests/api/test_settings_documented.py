"""Every setting of the service is in the README's settings table, with its default.

The table named about half of them (``MOBILITY_LOCAL_PROCESSES``, ``MOBILITY_HEARTBEAT_SECONDS``
and ``MOBILITY_WARM_WEB`` were nowhere), so an operator could not know they exist."""

from __future__ import annotations

import re
from pathlib import Path

from api.settings import ApiSettings

README = Path(__file__).resolve().parents[2] / "README.md"


def _settings_table() -> dict[str, str]:
    """The README's settings table: each variable it names -> the default cell of its row."""
    section = README.read_text(encoding="utf-8").split("**Settings.**", 1)[1].split("\n\n###", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `MOBILITY_") and len(cells) == 3:
            names, defaults = re.findall(r"`(MOBILITY_\w+)`", cells[0]), cells[1].split(" / ")
            for k, name in enumerate(names):
                rows[name] = defaults[min(k, len(defaults) - 1)]
    return rows


def test_every_setting_has_a_row_with_its_default() -> None:
    table = _settings_table()
    fields = ApiSettings.model_fields
    assert sorted(table) == sorted(f"MOBILITY_{name.upper()}" for name in fields)
    for name, field in fields.items():
        default = field.default
        if isinstance(default, bool):
            assert table[f"MOBILITY_{name.upper()}"] == str(default).lower(), name
        elif isinstance(default, int | float):
            assert float(table[f"MOBILITY_{name.upper()}"].replace(",", "")) == default, name
        elif isinstance(default, str):
            assert table[f"MOBILITY_{name.upper()}"] == f"`{default}`", name
