"""The local search against exhaustive search on small spaces (synthetic costs).

The costs mimic what the simulator produces: per-stage first-unit cost plus later units whose
cost alternates with period 2 (3x1-first and 1x3-first separable convs), in several currencies
(cycles, energy, params), combined as single costs, products (EDP) and under budget
penalties. The heuristic must return the exhaustive optimum exactly. The same check with the
real simulator lives in ``tests/test_codesign_search.py``.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from accelsim.codesign.heuristic import LocalSearchOptions, local_search, starting_points
from accelsim.codesign.space import Depth, DepthSpace


def stage_cost(rng: np.random.Generator, stages: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    first = rng.uniform(1.0, 5.0, stages)
    odd = rng.uniform(0.5, 3.0, stages)
    even = odd * rng.uniform(0.6, 1.6, stages)
    return first, odd, even


def separable(depth: Depth, costs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    first, odd, even = costs
    total = 0.0
    for s, d in enumerate(depth):
        later = d - 1
        total += first[s] + even[s] * ((later + 1) // 2) + odd[s] * (later // 2)
    return total


def exhaustive(space: DepthSpace, key) -> Depth:  # type: ignore[no-untyped-def]
    return min(space, key=key)


CASES = list(itertools.product(range(6), [(12,), (9, 10, 11, 12, 13, 14)], [1, 2], ["cycles", "edp", "budget"]))


@pytest.mark.parametrize(("seed", "totals", "m", "objective"), CASES)
def test_finds_the_exhaustive_optimum(seed: int, totals: tuple[int, ...], m: int, objective: str) -> None:
    rng = np.random.default_rng(seed)
    space = DepthSpace(totals, n_stages=4, min_per_stage=m)
    cycles_c, energy_c, params_c = (stage_cost(rng, 4) for _ in range(3))
    params_limit = float(np.median([separable(d, params_c) for d in space]))

    def key(depth: Depth) -> tuple[float, float, Depth]:
        cycles, energy = separable(depth, cycles_c), separable(depth, energy_c)
        if objective == "cycles":
            return (0.0, cycles, depth)
        if objective == "edp":
            return (0.0, cycles * energy, depth)
        violation = max(0.0, separable(depth, params_c) / params_limit - 1.0)
        return (violation, energy, depth)

    starts = starting_points(space, (6, 6, 8, 1), LocalSearchOptions())
    trace = local_search(space, key, starts)
    assert trace.best == exhaustive(space, key)
    assert len(set(trace.evaluated)) == len(trace.evaluated)  # each vector priced once


def test_starting_points_are_deterministic_and_in_space() -> None:
    space = DepthSpace((40,), n_stages=4)
    a = starting_points(space, (6, 6, 8, 1), LocalSearchOptions(seed=3))
    b = starting_points(space, (6, 6, 8, 1), LocalSearchOptions(seed=3))
    assert a == b and all(s in space for s in a)
    # the base shape carried to 40 blocks: 40*(6,6,8,1)/21 = (11.43, 11.43, 15.24, 1.90) -> floors
    # (11, 11, 15, 1), two spare blocks to the largest remainders (.90, then .43 of stage 1)
    assert a[0] == (12, 11, 15, 2)
    assert (37, 1, 1, 1) in a and (1, 1, 1, 37) in a


def test_descent_on_a_linear_cost_goes_to_the_cheapest_stage() -> None:
    # hand check: cost = sum(w_s * d_s) with w = (4, 3, 1, 2) is minimised by stuffing stage 3
    space = DepthSpace((30,), n_stages=4)
    trace = local_search(space, lambda d: 4 * d[0] + 3 * d[1] + d[2] + 2 * d[3], [(10, 10, 5, 5)])
    assert trace.best == (1, 1, 27, 1)
