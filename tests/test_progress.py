"""A stage's progress lands in its share of the whole (:func:`mobility.progress.within`)."""

from __future__ import annotations

import pytest

from mobility.progress import no_progress, within
from tests.progress_support import Heard


def test_a_stage_s_shares_land_in_its_part_of_the_whole() -> None:
    whole = Heard()
    stage = within(within(whole, 0.5, 1.0), 0.0, 0.5, prefix="after: ")  # the first half of the second half
    stage("loading the trips", 0.0)
    stage("fitting the rider model")
    stage("day 1 of 2 simulated", 0.5)
    stage("day 2 of 2 simulated", 1.0)
    stage("beyond its end", 7.0)  # clipped to the stage's end
    assert whole.messages[0] == "after: loading the trips"
    assert whole.shares == [0.5, None, 0.625, 0.75, 0.75]


@pytest.mark.parametrize(("start", "end"), [(0.6, 0.5), (-0.1, 0.5), (0.5, 1.5)])
def test_a_share_outside_the_whole_is_refused(start: float, end: float) -> None:
    with pytest.raises(ValueError, match="0 <= start <= end <= 1"):
        within(no_progress, start, end)
