"""``smallest_per_row``: the neighbour lists that pinned results rest on."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from mobility.arrays import smallest_per_row


@settings(max_examples=200, deadline=None)
@given(
    values=arrays(
        np.float64,
        st.tuples(st.integers(1, 12), st.integers(1, 40)),
        elements=st.sampled_from([0.0, 1.5, 2.0, 7.25, np.inf]),  # few values: ties everywhere
    ),
    data=st.data(),
)
def test_same_as_a_stable_sort_ties_by_column(values: np.ndarray, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, values.shape[1]))
    got = smallest_per_row(values, k)
    assert got.dtype == np.int64 and got.shape == (values.shape[0], k)
    np.testing.assert_array_equal(got, np.argsort(values, axis=1, kind="stable")[:, :k])


def test_a_real_travel_matrix_with_ties() -> None:
    # whole seconds, as a truck network rounds them: many rows hold equal travel times
    rng = np.random.default_rng(7)
    travel = np.round(rng.gamma(4.0, 60.0, size=(300, 300)))
    got = smallest_per_row(travel, 25)
    np.testing.assert_array_equal(got, np.argsort(travel, axis=1, kind="stable")[:, :25])


@pytest.mark.parametrize("k", [0, 4])
def test_k_outside_the_columns_is_refused(k: int) -> None:
    with pytest.raises(ValueError, match=f"between 1 and 3 .* got {k}"):
        smallest_per_row(np.zeros((2, 3)), k)
