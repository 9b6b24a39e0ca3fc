"""Properties of the engine that must hold for every layer and spec (hypothesis).

Small layers (every kernel shape, strides 1-2, padding, grouped and depthwise) on arrays of
2..16 PEs a side; each property runs 50-60 examples.

Whole-cycle resolution: the tiling objective compares cycles rounded up to whole cycles
(``mapping.search.Objective``), so where a property compares two *chosen* mappings it holds
to within that resolution: if every candidate gets no slower, the best whole-cycle count
cannot increase, so the chosen cycles can exceed the other's by less than one cycle.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from accelsim.engine import MODELS, build_work, candidate_space, map_best, min_buffer_words, touched
from accelsim.hardware.spec import Dataflow, HardwareSpec
from accelsim.mapping import Objective
from accelsim.workload.layer import Layer

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KERNELS = [((1, 1), (0, 0)), ((3, 3), (1, 1)), ((3, 3), (0, 0)), ((1, 3), (0, 1)), ((3, 1), (1, 0)),
           ((5, 5), (2, 2))]


@st.composite
def layers(draw) -> Layer:
    kind = draw(st.sampled_from(["conv", "conv", "conv", "depthwise", "grouped", "fc"]))
    if kind == "fc":
        c, k = draw(st.integers(1, 64)), draw(st.integers(1, 64))
        return Layer("fc", "fc", ("data",), (c, 1, 1), (k, 1, 1))
    (kernel, pad) = draw(st.sampled_from(KERNELS))
    stride = draw(st.sampled_from([1, 1, 2]))
    h, w = draw(st.integers(kernel[0], 20)), draw(st.integers(kernel[1], 20))
    c, k, groups = draw(st.integers(1, 32)), draw(st.integers(1, 32)), 1
    if kind == "depthwise":
        k, groups = c, c
    elif kind == "grouped":
        groups = draw(st.sampled_from([2, 4]))
        c, k = groups * max(1, c // groups), groups * max(1, k // groups)
    ho = (h + 2 * pad[0] - kernel[0]) // stride + 1
    wo = (w + 2 * pad[1] - kernel[1]) // stride + 1
    return Layer("l", "conv", ("data",), (c, h, w), (k, ho, wo), kernel=kernel, stride=(stride, stride),
                 padding=pad, groups=groups)


@st.composite
def specs(draw) -> HardwareSpec:
    side = draw(st.sampled_from([2, 4, 8, 16]))
    return HardwareSpec().with_changes({
        "pe_array.rows": side,
        "pe_array.cols": draw(st.sampled_from([side, max(2, side // 2)])),
        "global_buffer.size_bytes": draw(st.sampled_from([1024, 4096, 16384, 131072])),
        "global_buffer.double_buffer": draw(st.booleans()),
        "dram.bandwidth_bytes_per_s": draw(st.sampled_from([2e9, 16e9, 64e9])),
        "dram.latency_cycles": draw(st.sampled_from([0, 100])),
        "sparsity.weight_sparsity": draw(st.sampled_from([0.0, 0.4, 0.7])),
    })


def best(layer: Layer, spec: HardwareSpec, dataflow: Dataflow):
    mapped = map_best(MODELS[dataflow], build_work(layer, spec), spec, Objective())
    assume(mapped is not None)  # buffer too small for this layer: nothing to check
    return mapped


@SETTINGS
@given(layers(), specs(), st.sampled_from([Dataflow.WS, Dataflow.OS]))
def test_cycles_respect_compute_and_bandwidth_bounds(layer, spec, dataflow) -> None:
    m = best(layer, spec, dataflow)
    pes = spec.pe_array.rows * spec.pe_array.cols
    dense = 1.0 if dataflow is Dataflow.WS else 1.0 - spec.sparsity.weight_sparsity
    assert m.cycles >= layer.macs * dense / pes - 1e-9
    assert m.compute_cycles >= layer.macs * dense / pes - 1e-9
    assert m.cycles >= m.dram_words / spec.dram_words_per_cycle - 1e-9


@SETTINGS
@given(layers(), specs(), st.sampled_from([Dataflow.WS, Dataflow.OS]))
def test_traffic_at_least_compulsory_and_tile_fits(layer, spec, dataflow) -> None:
    m = best(layer, spec, dataflow)
    c, h, w = layer.in_shape
    k, ho, wo = layer.out_shape
    work = build_work(layer, spec)
    rows = touched(ho, h, work.kernel[0], work.stride[0], work.padding[0], (ho,)).total[0]
    cols = touched(wo, w, work.kernel[1], work.stride[1], work.padding[1], (wo,)).total[0]
    assert m.dram_words >= c * rows * cols + layer.weights + k * ho * wo  # each word moved at least once
    assert m.footprint_words <= spec.buffer_words
    assert min_buffer_words(work, spec) <= m.footprint_words


@SETTINGS
@given(layers(), specs(), st.sampled_from([Dataflow.WS, Dataflow.OS]), st.sampled_from([2, 4, 16]))
def test_more_bandwidth_is_never_slower(layer, spec, dataflow, factor) -> None:
    slow = best(layer, spec, dataflow)
    fast_spec = spec.with_changes({"dram.bandwidth_bytes_per_s": spec.dram.bandwidth_bytes_per_s * factor})
    fast = best(layer, fast_spec, dataflow)
    assert math.ceil(fast.cycles - 1e-6) <= math.ceil(slow.cycles - 1e-6)


@SETTINGS
@given(layers(), specs(), st.sampled_from([Dataflow.WS, Dataflow.OS]), st.sampled_from([2, 4, 32]))
def test_bigger_buffer_never_needs_more_traffic_or_time(layer, spec, dataflow, factor) -> None:
    """With the lexicographic cost a bigger buffer may trade DRAM words for cycles (a bigger
    first tile can be faster yet move more words), so the chosen tiling's traffic can grow.
    What holds: the candidates of the small buffer stay feasible in the big one, hence the
    fewest DRAM words any tiling achieves never increases, and the chosen cycles never
    increase (in whole cycles)."""
    big_spec = spec.with_changes({"global_buffer.size_bytes": spec.global_buffer.size_bytes * factor})
    small, big = best(layer, spec, dataflow), best(layer, big_spec, dataflow)
    work_small, work_big = build_work(layer, spec), build_work(layer, big_spec)
    min_small = candidate_space(MODELS[dataflow], work_small, spec).dram_words.min()
    min_big = candidate_space(MODELS[dataflow], work_big, big_spec).dram_words.min()
    assert min_big <= min_small
    assert math.ceil(big.cycles - 1e-6) <= math.ceil(small.cycles - 1e-6)


@SETTINGS
@given(layers(), specs(), st.sampled_from([0.1, 0.3, 0.5]))
def test_more_sparsity_is_never_slower_in_os(layer, spec, extra) -> None:
    sigma = spec.sparsity.weight_sparsity
    assume(sigma + extra < 1.0)
    sparse = spec.with_changes({"sparsity.weight_sparsity": sigma + extra})
    before, after = best(layer, spec, Dataflow.OS), best(layer, sparse, Dataflow.OS)
    assert math.ceil(after.cycles - 1e-6) <= math.ceil(before.cycles - 1e-6)


@SETTINGS
@given(layers(), specs())
def test_energy_is_counts_times_costs_and_positive(layer, spec) -> None:
    """Each level's energy is its access count x its cost x the scale, the total their sum, and
    the counts are those the layer's shape fixes independently of any tiling: one MAC per
    multiply-accumulate (x (1 - sparsity) in OS, which skips zero weights; pure MACs from the
    layer's shape), and DRAM at least every weight and every output once."""
    from accelsim.simulation import simulate_layer

    assume(map_best(MODELS[Dataflow.WS], build_work(layer, spec), spec, Objective()) is not None)
    r = simulate_layer(layer, spec)
    costs = spec.energy
    # the calibrated scale applies on chip only; DRAM has its own factor (energy.dram_scale)
    levels = ("mac", "register_file", "inter_pe", "global_buffer", "dram")
    for lvl in levels:
        scale = costs.dram_scale if lvl == "dram" else costs.scale
        assert getattr(r.energy, lvl) == pytest.approx(getattr(r.counts, lvl) * getattr(costs, lvl) * scale,
                                                       rel=1e-12), lvl
    assert r.energy.total == pytest.approx(sum(getattr(r.energy, lvl) for lvl in levels), rel=1e-12)
    assert r.counts.dram == r.dram_words
    c, h, w = layer.in_shape
    k, ho, wo = layer.out_shape
    pure_macs = k * ho * wo * (c // layer.groups) * layer.kernel[0] * layer.kernel[1]
    kept = 1 - spec.sparsity.weight_sparsity if r.dataflow is Dataflow.OS else 1.0
    assert r.counts.mac == pytest.approx(pure_macs * kept, rel=1e-12)
    assert r.dram_words >= k * (c // layer.groups) * layer.kernel[0] * layer.kernel[1] + k * ho * wo
