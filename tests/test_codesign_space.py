"""Enumeration of depth vectors: counts against stars and bars, brute force and a hand check."""

from __future__ import annotations

import itertools
from math import comb

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim.codesign.space import DepthSpace, count_distributions, distributions
from accelsim.errors import BudgetError


def test_hand_checked_count_21_blocks_over_4_stages() -> None:
    # C(20, 3) = 20 * 19 * 18 / 6 = 1140
    assert count_distributions(21, 4) == 1140
    vectors = list(distributions(21, 4))
    assert len(vectors) == len(set(vectors)) == 1140
    assert (6, 6, 8, 1) in vectors and (2, 4, 14, 1) in vectors
    assert vectors[0] == (1, 1, 1, 18) and vectors[-1] == (18, 1, 1, 1)
    assert vectors == sorted(vectors)


@given(st.integers(1, 16), st.integers(1, 4), st.integers(1, 3))
def test_count_matches_brute_force(total: int, stages: int, m: int) -> None:
    brute = [v for v in itertools.product(range(m, total + 1), repeat=stages) if sum(v) == total]
    assert list(distributions(total, stages, m)) == sorted(brute)
    # min-per-stage generalisation of stars and bars: C(n - s*m + s - 1, s - 1)
    expected = comb(total - stages * m + stages - 1, stages - 1) if total >= stages * m else 0
    assert count_distributions(total, stages, m) == len(brute) == expected


def test_space_over_several_totals() -> None:
    space = DepthSpace(totals=(4, 5, 6), n_stages=4, min_per_stage=1)
    # C(3,3) + C(4,3) + C(5,3) = 1 + 4 + 10
    assert space.size == 15 == len(list(space))
    assert (1, 1, 1, 1) in space and (3, 1, 1, 1) in space and (1, 1, 1, 4) not in space


def test_space_rejects_impossible_totals() -> None:
    with pytest.raises(BudgetError, match="at least 2 block"):
        DepthSpace(totals=(7,), n_stages=4, min_per_stage=2)


def test_neighbours_stay_in_space_and_are_unique() -> None:
    space = DepthSpace(totals=(10,), n_stages=4, min_per_stage=2)
    near = list(space.neighbours((2, 2, 4, 2), max_step=2))
    assert len(near) == len(set(near))
    assert all(v in space for v in near)
    # only stage 3 can give blocks: 1 or 2 to each of 3 other stages
    assert sorted(near) == sorted([(3, 2, 3, 2), (2, 3, 3, 2), (2, 2, 3, 3),
                                   (4, 2, 2, 2), (2, 4, 2, 2), (2, 2, 2, 4)])
    several = DepthSpace(totals=(4, 5), n_stages=2)
    assert sorted(several.neighbours((2, 2), max_step=1)) == [(1, 3), (2, 3), (3, 1), (3, 2)]


def test_clamp_carries_the_base_shape() -> None:
    space = DepthSpace(totals=(21, 42), n_stages=4)
    assert space.clamp([6, 6, 8, 1], 21) == (6, 6, 8, 1)
    assert space.clamp([6, 6, 8, 1], 42) == (12, 12, 16, 2)
    # 21 * (2, 2, 2, 1) / 7 = (6, 6, 6, 3) exactly
    assert space.clamp([2, 2, 2, 1], 21) == (6, 6, 6, 3)
    # 21 / 4 = 5.25 each: the one spare block goes to the first stage (tie -> earlier stage)
    assert space.clamp([1, 1, 1, 1], 21) == (6, 5, 5, 5)
    # all weight on stage 1: the others are raised to the minimum from the largest stage
    assert space.clamp([1, 0, 0, 0], 21) == (18, 1, 1, 1)
