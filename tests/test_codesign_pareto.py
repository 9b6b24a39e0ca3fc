"""The Pareto front against a brute-force O(n^2) dominance check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.codesign.pareto import pareto_mask


def brute_force(points: list[tuple[float, ...]]) -> list[bool]:
    """Point i is on the front iff no j is <= everywhere and < somewhere (the definition)."""
    def dominates(q: tuple[float, ...], p: tuple[float, ...]) -> bool:
        return all(a <= b for a, b in zip(q, p, strict=True)) and any(a < b for a, b in zip(q, p, strict=True))

    return [not any(dominates(q, p) for q in points) for p in points]


# small integer grids make ties and exact duplicates common
coords = st.integers(0, 4).map(float) | st.floats(0, 1e9, allow_nan=False)
point_sets = st.integers(1, 3).flatmap(
    lambda d: st.lists(st.tuples(*[coords] * d), min_size=0, max_size=60))


@settings(max_examples=300, deadline=None)
@given(point_sets)
def test_matches_brute_force(points: list[tuple[float, ...]]) -> None:
    if not points:
        assert pareto_mask(np.empty((0, 3))).shape == (0,)
        return
    assert pareto_mask(points).tolist() == brute_force(points)


def test_hand_example_with_duplicates() -> None:
    points = [(1, 5, 1), (1, 5, 1), (2, 2, 2), (3, 3, 3), (0, 9, 9), (2, 2, 3)]
    # (3,3,3) and (2,2,3) are dominated by (2,2,2); the duplicated (1,5,1) pair both stay
    assert pareto_mask(points).tolist() == [True, True, True, False, True, False]


def test_rejects_nan_and_bad_shapes() -> None:
    with pytest.raises(ValueError, match="NaN"):
        pareto_mask([(1.0, float("nan"))])
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        pareto_mask([1.0, 2.0])
