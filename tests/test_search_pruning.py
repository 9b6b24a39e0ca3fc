"""The exactly pruned tiling search (``mapping.search``, ``engine.base._Evaluator``) against
the unpruned one.

Source of truth: the unpruned search, which prices every candidate of the grid and takes
the argmin of the objective's keys (itself checked against a brute-force argmin and the
loop-nest walker in tests/test_engine_oracle.py). The pruned search must choose the same
candidate and loop order for every layer, spec and prunable objective; its bounds must be
lower bounds of the exact prices candidate by candidate; its subset pricing must give the
same numbers as the grid pricing bit for bit; and on a real layer it must price only a
small part of the grid (else the pruning is not on and the other checks prove nothing).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_engine_properties import SETTINGS, layers, specs  # tests/ is on sys.path

from accelsim.engine import MODELS, LoopNest, build_work
from accelsim.engine.base import _evaluator
from accelsim.hardware.spec import PAPER_8X8, PAPER_16X16, Dataflow, HardwareSpec
from accelsim.mapping import CandidateTable, Objective, ObjectiveKind, search
from accelsim.mapping.search import BoundedEvaluator
from accelsim.workload.layer import Layer

OBJECTIVES = [Objective(), Objective(ObjectiveKind.WEIGHTED, 0.3), Objective(ObjectiveKind.WEIGHTED, 5.0)]

#: SqueezeNext-sized layers (1.0-SqNxt-23 shapes): a 1x1 squeeze, a 3x1 and a 1x3 conv, the
#: stem, an FC layer and a 3x3 max pool.
REAL = [
    Layer("squeeze", "conv", ("data",), (64, 55, 55), (16, 55, 55)),
    Layer("3x1", "conv", ("data",), (8, 55, 55), (16, 55, 55), kernel=(3, 1), padding=(1, 0)),
    Layer("1x3", "conv", ("data",), (32, 14, 14), (64, 14, 14), kernel=(1, 3), padding=(0, 1)),
    Layer("stem", "conv", ("data",), (3, 227, 227), (64, 111, 111), kernel=(7, 7), stride=(2, 2)),
    Layer("fc", "fc", ("data",), (128, 1, 1), (1000, 1, 1)),
    Layer("pool", "maxpool", ("data",), (64, 111, 111), (64, 55, 55), kernel=(3, 3), stride=(2, 2)),
]


def _prepared(layer: Layer, spec: HardwareSpec, dataflow: Dataflow):
    work = build_work(layer, spec)
    model = MODELS[dataflow]
    nest = LoopNest(work, model.candidate_tiles(work, spec), spec.model.psum_words)
    table = CandidateTable((nest.k.tile, nest.c.tile, nest.y.tile, nest.x.tile))
    return table, _evaluator(nest, model.compute_model(nest, spec), spec)


def _flows(layer: Layer) -> list[Dataflow]:
    return [Dataflow.STREAM] if layer.kind.is_pool else [Dataflow.WS, Dataflow.OS]


def _check_same_choice(layer: Layer, spec: HardwareSpec, objective: Objective) -> None:
    for flow in _flows(layer):
        table, evaluate = _prepared(layer, spec, flow)
        assert isinstance(evaluate, BoundedEvaluator)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            pruned = search(table, evaluate, objective)
            full = search(table, lambda t, ev=evaluate: ev(t), objective)  # a plain callable: no pruning
        assert (pruned is None) == (full is None), (layer, flow)
        if full is not None:
            assert (pruned.index, pruned.order, pruned.evaluated) == (full.index, full.order, full.evaluated), \
                (layer, flow, objective)


def _check_bounds(layer: Layer, spec: HardwareSpec) -> None:
    for flow in _flows(layer):
        table, evaluate = _prepared(layer, spec, flow)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            full = evaluate(table)
            if len(full) == 0:
                continue
            bounds = evaluate.bounds(table)
            coarse = np.broadcast_to(bounds.cycles, bounds.cycles.shape).ravel()
            coarse_words = np.broadcast_to(bounds.dram_words, bounds.cycles.shape).ravel()
            every = np.arange(coarse.size)
            refined = evaluate.refine(bounds, every)
            exact = evaluate.price(bounds, every)
        # subset pricing is the grid pricing, bit for bit (also for a scattered subset)
        for field in ("index", "cycles", "dram_words", "compute_cycles"):
            np.testing.assert_array_equal(getattr(exact, field), getattr(full, field))
        some = every[::3]
        np.testing.assert_array_equal(evaluate.price(bounds, some).cycles, full.cycles[some])
        # lower bounds, candidate by candidate; infeasible exactly where the exact price is
        assert np.all(coarse <= full.cycles) and np.all(refined.cycles <= full.cycles), (layer, flow)
        assert np.all(coarse <= refined.cycles), (layer, flow)
        assert np.all(coarse_words <= full.dram_words) and np.all(refined.dram_words <= full.dram_words)
        np.testing.assert_array_equal(np.isinf(coarse), np.isinf(full.cycles))


@SETTINGS
@given(layer=layers(), spec=specs(), objective=st.sampled_from(OBJECTIVES))
def test_pruned_search_chooses_what_the_full_search_chooses(layer: Layer, spec: HardwareSpec,
                                                            objective: Objective) -> None:
    _check_same_choice(layer, spec, objective)


@SETTINGS
@given(layer=layers(), spec=specs())
def test_bounds_are_lower_bounds_and_subset_prices_are_exact(layer: Layer, spec: HardwareSpec) -> None:
    _check_bounds(layer, spec)


ODD = PAPER_8X8.with_changes({"global_buffer.double_buffer": False, "global_buffer.dma_conflict_fraction": 0.3,
                              "dram.latency_cycles": 1000})


@pytest.mark.parametrize("spec", [PAPER_8X8, PAPER_16X16, ODD], ids=["8x8", "16x16", "odd"])
@pytest.mark.parametrize("layer", REAL, ids=[layer.name for layer in REAL])
def test_real_layers_same_choice_and_bounds(layer: Layer, spec: HardwareSpec) -> None:
    for objective in OBJECTIVES:
        _check_same_choice(layer, spec, objective)
    _check_bounds(layer, spec)


def test_pruning_prices_a_small_part_of_a_real_grid() -> None:
    """1.0-SqNxt-23's first squeeze on 16x16 (~40,000 candidates under WS): the search prices
    the incumbent and the survivors of both bounds, under 2 % of the grid."""
    table, evaluate = _prepared(REAL[0], PAPER_16X16, Dataflow.WS)
    priced: list[int] = []

    class Counting:
        def __call__(self, t):
            return evaluate(t)

        def bounds(self, t):
            return evaluate.bounds(t)

        def refine(self, bounds, positions):
            return evaluate.refine(bounds, positions)

        def price(self, bounds, positions):
            priced.append(positions.size)
            return evaluate.price(bounds, positions)

    choice = search(table, Counting(), Objective())
    assert choice == search(table, lambda t: evaluate(t), Objective())
    assert table.size > 20_000 and 0 < sum(priced) < 0.02 * table.size, (table.size, priced)


def _numbers(result) -> list[tuple]:
    return [(r.layer.name, r.dataflow, r.tiling, r.cycles, r.compute_cycles, r.dram_cycles, r.dram_words, r.counts,
             r.energy, r.alternatives) for r in result.layers]


def test_grid_memo_is_shared_across_timing_only_specs_and_changes_no_number() -> None:
    """One SimCache across specs that differ only in DRAM timing or the objective reuses each
    layer's prepared grid (``SimCache.grids`` does not grow), and every number equals a fresh
    simulation's; a spec that changes the grid (``model.psum_words``) gets grids of its own."""
    import pickle

    from accelsim.engine import GridMemo
    from accelsim.simulation import SimCache, resolve_graph, simulate_graph

    graph = resolve_graph("sqnxt23")
    timing_only = [PAPER_8X8.with_changes({"clock_hz": 5e8}),
                   PAPER_8X8.with_changes({"dram.latency_cycles": 300, "global_buffer.dma_conflict_fraction": 0.25}),
                   PAPER_8X8.with_changes({"model.tiling_cost": "weighted", "model.tiling_dram_weight": 2.0})]
    other_grid = PAPER_8X8.with_changes({"model.psum_words": 2})
    shared = SimCache()
    first = simulate_graph(graph, PAPER_8X8, cache=shared)
    entries = len(shared.grids)
    assert entries > 0
    for spec in timing_only:
        got = simulate_graph(graph, spec, cache=shared)
        assert len(shared.grids) == entries
        assert _numbers(got) == _numbers(simulate_graph(graph, spec))
        assert got.cycles != first.cycles or spec.model.tiling_cost != PAPER_8X8.model.tiling_cost
    got = simulate_graph(graph, other_grid, cache=shared)
    assert len(shared.grids) > entries
    assert _numbers(got) == _numbers(simulate_graph(graph, other_grid)) and got.cycles != first.cycles
    # a memo that must evict as it goes gives the same numbers; a pickled cache ships no grids
    tiny = SimCache()
    tiny.grids = GridMemo(max_cells=1000)
    for spec in (PAPER_8X8, *timing_only):
        assert _numbers(simulate_graph(graph, spec, cache=tiny)) == _numbers(simulate_graph(graph, spec))
    assert len(tiny.grids) < entries  # it evicted
    assert len(pickle.loads(pickle.dumps(shared)).grids) == 0
