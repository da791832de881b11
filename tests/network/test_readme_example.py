"""The README's street-network example runs as written, on the real data (slow).

Its first version used names it never defined (``lon``, ``demand``, ``sites``): a reader who
pasted it got a NameError. This test runs the block itself, taken from the README.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mobility.network import StreetNetwork

pytestmark = [pytest.mark.slow, pytest.mark.network]

README = Path(__file__).resolve().parents[2] / "README.md"


def _network_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("<!-- section:network -->") :]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "the network section has no python block"
    return match.group(1)


def test_the_network_example_runs_as_written(osm_all: StreetNetwork, data_dir: Path) -> None:
    """``osm_all`` first: the graph is in the cache, so the block's own load takes a second."""
    scope: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOBILITY_DATA_DIR", str(data_dir))
        exec(compile(_network_example(), str(README), "exec"), scope)  # the README's own block
    n, m = len(scope["stations"]), len(scope["cells"])
    assert scope["D"].shape == (n, n) and n > 2_000
    assert scope["R"].shape == (m, n) and scope["R"].nnz > 0
    assert scope["s"].node.shape == (n,)
