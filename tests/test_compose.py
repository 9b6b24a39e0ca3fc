"""Compositional pricing is exact: composed totals equal a full simulation of the stitched graph.

The oracle is ``simulate_graph`` on the candidate's own graph (``VariantBuilder.build``, which
``test_codesign_variants`` checks against direct exports). Composition sums per-piece prices in
another order than the simulator sums layers, so floats agree to rounding (1e-12 relative);
params and MACs are integers and agree exactly.
"""

from __future__ import annotations

import functools
import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.codesign.compose import Composer, FamilySpace, NamedSpace
from accelsim.codesign.search import make_builder
from accelsim.codesign.space import DepthSpace
from accelsim.codesign.variants import squeezenext_options
from accelsim.errors import InfeasibleError
from accelsim.hardware import PAPER_8X8, PAPER_16X16, HardwareSpec
from accelsim.pricing import LayerJob, job_key, price_jobs
from accelsim.simulation import Fusion, SimCache, simulate_graph
from accelsim.workload.graph import LayerGraph
from accelsim.workload.layer import INPUT, Layer, LayerKind

REL = 1e-12
WIDTHS = (1.0, 2.0)
STEMS = (5, 7)
FIRST_UNITS = ("parallel", "serial")
#: every drawn candidate comes from this universe: 4 stages, 4 to 10 blocks (C(10, 4) = 210 vectors)
UNIVERSE = tuple(DepthSpace(tuple(range(4, 11)), 4))


def _spec(base: HardwareSpec, fusion: bool, residency: bool) -> HardwareSpec:
    return base.with_changes({"model.fuse_eltwise": fusion, "model.fuse_pool": fusion,
                              "model.activation_residency": residency})


SPECS = tuple(_spec(base, fusion, residency) for base, fusion, residency
              in itertools.product((PAPER_16X16, PAPER_8X8), (True, False), (False, True)))
CACHE = SimCache()
COMPOSER = Composer(CACHE)


@functools.cache
def _space(width: float, stem: int, first_unit: str) -> FamilySpace:
    name, options = squeezenext_options("sqnxt23v2", {"width": width, "stem_kernel": stem, "first_unit": first_unit})
    return FamilySpace(name, make_builder(name, options), UNIVERSE, options)


@functools.cache
def _composed(width: float, stem: int, first_unit: str):  # noqa: ANN202 -- a Composed
    return COMPOSER.compose(_space(width, stem, first_unit), SPECS)


def _assert_equal(composed, i: int, j: int, graph: LayerGraph, spec: HardwareSpec) -> None:  # noqa: ANN001
    full = simulate_graph(graph, spec, cache=CACHE)
    assert composed.feasible[i, j]
    assert composed.cycles[i, j] == pytest.approx(full.cycles, rel=REL)
    assert composed.energy[i, j] == pytest.approx(full.energy, rel=REL)
    assert composed.dram_words[i, j] * spec.word_bytes == pytest.approx(full.dram_words * spec.word_bytes, rel=REL)
    assert int(composed.params[i]) == full.params == graph.params
    assert int(composed.macs[i]) == full.macs
    assert int(composed.macs_paper[i]) == full.macs_paper


@settings(max_examples=220)
@given(width=st.sampled_from(WIDTHS), stem=st.sampled_from(STEMS), first_unit=st.sampled_from(FIRST_UNITS),
       candidate=st.integers(0, len(UNIVERSE) - 1), point=st.integers(0, len(SPECS) - 1))
def test_composed_totals_equal_full_simulation(width: float, stem: int, first_unit: str, candidate: int,
                                               point: int) -> None:
    """Random joint candidates (depth, width, stem, first unit, hardware point with fusion and residency
    on and off): composed cycles, energy, DRAM bytes, params and MACs equal ``simulate_graph``."""
    space = _space(width, stem, first_unit)
    depth = UNIVERSE[candidate]
    _assert_equal(_composed(width, stem, first_unit), candidate, point, space.graph(depth), SPECS[point])


def test_residency_crosses_blocks_where_a_block_reads_its_input_alone() -> None:
    serial = _space(1.0, 5, "serial")
    parallel = _space(1.0, 5, "parallel")
    # a serial first unit starts with a transition conv that alone reads the stage input; a parallel one
    # feeds it to the squeeze conv and the shortcut conv; units 2+ to the squeeze conv and the add
    assert [serial.open_in(f"s{s}u1") for s in range(1, 5)] == [True] * 4
    assert [parallel.open_in(f"s{s}u1") for s in range(1, 5)] == [False] * 4
    assert not any(serial.open_in(f"s{s}{k}") for s in range(1, 5) for k in ("even", "odd"))
    assert serial.open_in("head") and not serial.open_in("stem")
    composer = Composer(CACHE)
    composer.compose(serial, [SPECS[0]])  # residency off: every block is a piece
    assert composer.stats.cross_block_pieces == 0
    assert composer.stats.pieces == 14  # stem, 4 x (u1, even, odd), head
    composer.compose(serial, [SPECS[1]])  # residency on: blocks before u1 and the head join them
    assert composer.stats.cross_block_pieces > 0


def test_named_networks_compose_to_their_simulation() -> None:
    from accelsim.workload.zoo import load_graph

    graphs = [load_graph("sqnxt23"), load_graph("sqnxt23v5")]
    composed = Composer(CACHE).compose(NamedSpace(graphs), SPECS[:2])
    for (i, graph), j in itertools.product(enumerate(graphs), range(2)):
        _assert_equal(composed, i, j, graph, SPECS[j])


def test_infeasible_points_are_explained_like_the_simulator() -> None:
    space = _space(1.0, 5, "serial")
    tiny = PAPER_8X8.with_changes({"global_buffer.size_bytes": "64B"})
    composed = Composer(CACHE).compose(space, [tiny, PAPER_8X8], candidates=UNIVERSE[:3])
    assert not composed.feasible[:, 0].any() and composed.feasible[:, 1].all()
    assert composed.cycles[0, 0] == 0.0
    with pytest.raises(InfeasibleError) as exc:
        simulate_graph(space.graph(UNIVERSE[0]), tiny)
    assert composed.reason(0, 0) == str(exc.value)
    assert composed.reason(0, 1) is None


class _PoolAfterBlock:
    """Two blocks, a conv then a pool reading it: ``fuse_pool`` fuses across the boundary."""

    name = "synthetic"

    def __init__(self) -> None:
        self.candidates = (1, 2)
        self.seeds = (2,)

    def blocks(self, n: int) -> list[tuple[str, tuple[Layer, ...]]]:
        out = []
        source = INPUT
        for k in range(n):
            conv = Layer(f"c{k}", LayerKind.CONV, (source,), (16, 16, 16), (16, 16, 16), kernel=(3, 3), padding=(1, 1))
            out.append(("conv", (conv,)))
            source = conv.name
        pool = Layer("p", LayerKind.MAXPOOL, (source,), (16, 16, 16), (16, 8, 8), kernel=(2, 2), stride=(2, 2))
        return [*out, ("pool", (pool,))]

    def sequence(self, n: int) -> list[str]:
        return [kind for kind, _ in self.blocks(n)]

    def graph(self, n: int) -> LayerGraph:
        graph = LayerGraph(f"synthetic{n}", (16, 16, 16))
        for _, block in self.blocks(n):
            for layer in block:
                graph.add(layer)
        return graph

    def open_in(self, kind: str) -> bool:
        return False


def test_fusion_across_blocks_falls_back_to_whole_networks() -> None:
    space = _PoolAfterBlock()
    spec = PAPER_16X16.with_changes({"model.fuse_pool": True})
    composer = Composer(CACHE)
    composed = composer.compose(space, [spec, PAPER_16X16])
    assert composer.stats.whole_networks == 2
    for i, n in enumerate(space.candidates):
        for j, s in enumerate((spec, PAPER_16X16)):
            _assert_equal(composed, i, j, space.graph(n), s)


def test_price_jobs_is_pure_and_keyed() -> None:
    conv = Layer("a", LayerKind.CONV, (INPUT,), (32, 28, 28), (64, 28, 28), kernel=(3, 3), padding=(1, 1))
    renamed = Layer("b", LayerKind.CONV, ("x",), (32, 28, 28), (64, 28, 28), kernel=(3, 3), padding=(1, 1))
    jobs = [LayerJob(conv, Fusion(), PAPER_16X16), LayerJob(renamed, Fusion(), PAPER_8X8),
            LayerJob(conv, Fusion(fused_into="z"), PAPER_16X16)]
    first, second = price_jobs(jobs), price_jobs(list(reversed(jobs)))
    assert first == list(reversed(second))
    assert first[2].cycles == 0.0 and first[0].cycles > 0
    assert job_key(jobs[0]) == job_key(LayerJob(renamed, Fusion(), PAPER_16X16))  # names are not in the key
    assert job_key(jobs[0]) != job_key(jobs[1])
    import pickle

    assert pickle.loads(pickle.dumps(jobs)) == jobs
    full = simulate_graph(_single(conv), PAPER_16X16)
    assert math.isclose(first[0].cycles, full.cycles) and math.isclose(first[0].energy, full.energy)


def _single(layer: Layer) -> LayerGraph:
    graph = LayerGraph("one", layer.in_shape)
    graph.add(layer)
    return graph
