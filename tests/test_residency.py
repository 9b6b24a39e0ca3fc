"""Inter-layer residency (``model.activation_residency``): a tensor stays in the global buffer
between a producer and its one consumer that runs next.

Sources of the expected numbers: hand derivations in the comments (the 2-layer chain), the
brute-force loop-nest walker of ``tests/oracle.py`` (every tiling and loop order, with a
resident input and/or output), an exhaustive search over every tile size and order (the
reduced capacity and the no-spill rule), and the residency-off run of the same network (a
plan that keeps tensors on chip may never cost more).
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest
from oracle import ExhaustiveTiles, walk  # tests/oracle.py (pytest puts tests/ on sys.path)
from test_engine_oracle import CONVS, conv, tilings  # the oracle cases and their tilings
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.engine import MODELS, LoopNest, build_work, map_best, map_fixed, min_buffer_words
from accelsim.engine.timing import DmaStream, layer_cycles
from accelsim.hardware import PAPER_CONFIGS
from accelsim.hardware.spec import REFERENCE, Dataflow, HardwareSpec
from accelsim.mapping import LOOP_ORDERS, Objective
from accelsim.reporting.figure6 import stage_efficiency
from accelsim.simulation import Fusion, SimCache, plan_fusion, simulate_graph, simulate_layer
from accelsim.workload.graph import LayerGraph
from accelsim.workload.layer import Layer
from accelsim.workload.zoo import load_graph

ON = {"model.activation_residency": True}
#: 1 GHz, 8 DRAM words/cycle, 100-cycle latency, 16x16 PEs, 128 KB; single buffer so that a
#: layer that fits runs as one tile (everything serial: L per DMA transfer) and the numbers stay round
SINGLE = HardwareSpec().with_changes({**REFERENCE, "global_buffer.double_buffer": False})
#: the oracle's deliberately odd 2x3 array
ODD = HardwareSpec().with_changes({**REFERENCE, "pe_array.rows": 2, "pe_array.cols": 3})
runner = CliRunner()


def chain() -> LayerGraph:
    """data 4x8x8 -> a (1x1, 4->8) -> b (1x1, 8->4)."""
    g = LayerGraph("chain", (4, 8, 8))
    g.add(Layer("a", "conv", ("data",), (4, 8, 8), (8, 8, 8)))
    g.add(Layer("b", "conv", ("a",), (8, 8, 8), (4, 8, 8)))
    return g


# ---- a hand-derived 2-layer chain ------------------------------------------------------------

def test_chain_intermediate_write_and_read_disappear() -> None:
    """Everything fits one tile (65,536-word buffer), so each tensor moves once.

    Off: a reads its input 4*8*8 = 256 and weights 8*4 = 32, writes 8*8*8 = 512 -> 800 words;
         b reads the 512 back, weights 4*8 = 32, writes 4*8*8 = 256 -> 800 words.  Total 1600.
    On:  a's 512-word output stays in the buffer (its only consumer b runs next; 512 words
         next to tiny tiles): a = 256 + 32 = 288, b = 32 + 256 = 288.  Total 576 = 1600 - 2*512.
    Cycles (single buffer, one tile: compute + words/8 + 100 per DMA transfer, one transfer per
    tensor moved: off 3 (input, weights, output), on 2 (the resident one moves no transfer). Both
    layers run OS (sigma 0.4; 1x1
    so a zero weight also spares its input: q = 0.6; an 8x8 sub-tile's window is 64 words):
      a: per output channel max(4 * max(0.6, 0.6*64/256), 64/16 drain) = 4; 8 channels + Pr
         fill 16 -> 48 compute (WS: max(64,16) + 2*16 + 16 - 1 = 111 is slower);
      b: max(8 * 0.6, 4) = 4.8 per channel, 4 channels + 16 -> 35.2 compute.
      off: a = 48 + 800/8 + 300 = 448, b = 35.2 + 100 + 300 = 435.2  (883.2)
      on:  a = 48 + 288/8 + 200 = 284, b = 35.2 + 36 + 200 = 271.2   (555.2)
    Global-buffer accesses drop by exactly the DMA side of the 512 words, per layer.
    """
    off = simulate_graph(chain(), SINGLE)
    on = simulate_graph(chain(), SINGLE.with_changes(ON))
    assert [lr.dram_words for lr in off.layers] == [800, 800]
    assert [lr.dram_words for lr in on.layers] == [288, 288]
    assert [lr.dataflow for lr in on.layers] == [Dataflow.OS, Dataflow.OS]
    assert [lr.cycles for lr in off.layers] == pytest.approx([448, 435.2], rel=1e-12)
    assert [lr.cycles for lr in on.layers] == pytest.approx([284, 271.2], rel=1e-12)
    for a, b in zip(off.layers, on.layers, strict=True):
        assert a.counts.global_buffer - b.counts.global_buffer == pytest.approx(512, rel=1e-12)
        assert (a.counts.mac, a.counts.register_file) == (b.counts.mac, b.counts.register_file)
    plan = plan_fusion(chain(), SINGLE.with_changes(ON))
    assert plan["a"] == Fusion(output_resident=True, reserved_words=512)
    assert plan["b"] == Fusion(input_resident=True, reserved_words=512)


def test_default_off_plans_nothing() -> None:
    assert SINGLE.model.activation_residency is False
    plan = plan_fusion(chain(), SINGLE)
    assert plan == {"a": Fusion(), "b": Fusion()}


# ---- the oracle: every tiling and loop order with a resident tensor -------------------------

ORACLE_CASES = [c for c in CONVS if c[0] in ("1x1", "3x3_pad", "3x3_s2", "grouped", "depthwise", "fc")]
FLAGS = [(True, False), (False, True), (True, True)]


@pytest.mark.parametrize("flags", FLAGS, ids=["in", "out", "in+out"])
@pytest.mark.parametrize("case", ORACLE_CASES, ids=[c[0] for c in ORACLE_CASES])
@pytest.mark.parametrize("dataflow", [Dataflow.WS, Dataflow.OS])
def test_resident_tensors_equal_walker(case, dataflow, flags) -> None:
    """DRAM words per tensor, cycles (the prologue loses the resident input), array-side buffer
    accesses and the footprint bound are exactly the walker's, with a fused shortcut too."""
    layer = conv(*case)
    for shortcut in (0, 1):
        work = build_work(layer, ODD, shortcut_tensors=shortcut, input_resident=flags[0], output_resident=flags[1],
                          reserved_words=100)
        reps = work.reps
        for tiles, order in itertools.product(tilings(work), LOOP_ORDERS):
            ref = walk(work, ODD, dataflow, tiles, order)
            got = map_fixed(MODELS[dataflow], work, ODD, tiles, order)
            where = f"{layer.name} {dataflow} {flags} tiles={tiles} order={order}"
            if flags[0]:
                assert ref.inputs == 0, where
            t = got.traffic
            assert (t.inputs, t.weights, t.output_writes, t.output_reads, t.shortcut) == tuple(
                reps * x for x in (ref.inputs, ref.weights, ref.output_writes, ref.output_reads, ref.shortcut)), where
            expected = layer_cycles(reps * ref.compute_cycles, DmaStream(*ref.dma_aggregates(reps)), ODD)
            assert got.cycles == pytest.approx(expected, rel=1e-12), where
            assert ref.max_tile_words * 2 <= got.footprint_words, where
            array_gb = got.counts.global_buffer - got.counts.dram
            assert array_gb == pytest.approx(reps * ref.gb_array, rel=1e-12), where


def test_resident_pool_equals_walker() -> None:
    # 8 px, k3 s2, ceil mode: ceil(5/2) + 1 = 4 outputs (a 7 px input gives 3: the shape checks refuse 4)
    pool = Layer("pool", "maxpool", ("x",), (3, 8, 8), (3, 4, 4), kernel=(3, 3), stride=(2, 2), ceil_mode=True)
    for flags in FLAGS:
        work = build_work(pool, ODD, input_resident=flags[0], output_resident=flags[1])
        plain = build_work(pool, ODD)
        for tiles, order in itertools.product(tilings(work), LOOP_ORDERS):
            ref = walk(work, ODD, Dataflow.STREAM, tiles, order)
            got = map_fixed(MODELS[Dataflow.STREAM], work, ODD, tiles, order)
            assert got.dram_words == ref.dram, (flags, tiles, order)
            expected = layer_cycles(ref.compute_cycles, DmaStream(*ref.dma_aggregates()), ODD)
            assert got.cycles == pytest.approx(expected, rel=1e-12)
            # the array still reads the inputs (halo included) and writes the outputs in the
            # buffer: only the DMA side of the resident words is gone
            base = map_fixed(MODELS[Dataflow.STREAM], plain, ODD, tiles, order)
            saved = base.dram_words - got.dram_words
            assert got.counts.global_buffer == pytest.approx(base.counts.global_buffer - saved, rel=1e-12)


def test_closed_form_best_order_admits_no_spill_with_a_resident_output() -> None:
    """The search's closed form equals the minimum over the explicit orders that spill no
    partial sums, and without the restriction some candidates would pick a spilling order."""
    restricted = False
    for case in CONVS:
        for df in (Dataflow.WS, Dataflow.OS):
            work = build_work(conv(*case), ODD, output_resident=True, shortcut_tensors=1)
            nest = LoopNest(work, MODELS[df].candidate_tiles(work, ODD), 2)
            cp, sp = np.arange(nest.pairs[0]), np.arange(nest.pairs[1])
            explicit = [nest.traffic(cp, sp, o) for o in range(6)]
            allowed = np.min([np.where(t.output_reads > 0, np.inf, t.total) for t in explicit], axis=0)
            np.testing.assert_array_equal(nest.best_words(cp, sp), allowed)
            np.testing.assert_array_equal(nest.traffic(cp, sp).total, allowed)
            restricted |= bool((np.min([t.total for t in explicit], axis=0) < allowed).any())
            for i, j in itertools.product(range(0, cp.size, 3), range(0, sp.size, 3)):
                assert nest.traffic_at(i, j, nest.best_order(i, j)).output_reads == 0
    assert restricted  # the rule bites somewhere, so the test discriminates


@pytest.mark.parametrize("flags", FLAGS, ids=["in", "out", "in+out"])
@pytest.mark.parametrize("dataflow", [Dataflow.WS, Dataflow.OS])
def test_search_uses_the_buffer_left_by_the_reservation(dataflow, flags) -> None:
    """Brute force: every tile size and every loop order (a resident output: only orders that
    spill nothing), costed by the walker, keeping those whose working set fits in half of
    (buffer - reserved words); the best by (whole cycles, DRAM words, compute cycles) must be
    what the pruned search returns."""
    layer = Layer("l", "conv", ("x",), (5, 4, 5), (4, 4, 5), kernel=(3, 3), padding=(1, 1))
    spec = ODD.with_changes({"global_buffer.size_bytes": 360})  # 180 words
    reserved = 60
    work = build_work(layer, spec, input_resident=flags[0], output_resident=flags[1], reserved_words=reserved)
    best = None
    ho, wo = work.out_hw
    for tiles in itertools.product(*(range(1, n + 1) for n in (work.k_units, work.c_units, ho, wo))):
        footprint = map_fixed(MODELS[dataflow], work, spec, tiles, LOOP_ORDERS[0]).footprint_words
        if footprint > spec.buffer_words - reserved:
            continue
        for order in LOOP_ORDERS:
            ref = walk(work, spec, dataflow, tiles, order)
            if flags[1] and ref.output_reads:
                continue
            cycles = layer_cycles(ref.compute_cycles, DmaStream(*ref.dma_aggregates()), spec)
            key = (math.ceil(cycles - 1e-6), ref.dram, ref.compute_cycles)
            best = key if best is None else min(best, key)
    got = map_best(MODELS[dataflow], work, spec, Objective())
    assert best is not None and got is not None
    assert (math.ceil(got.cycles - 1e-6), got.dram_words) == best[:2]
    assert got.compute_cycles == pytest.approx(best[2], rel=1e-12)
    assert got.footprint_words <= spec.buffer_words - reserved
    # the same search on a buffer with the reserved words cut off, and an unpruned one
    smaller = spec.with_changes({"global_buffer.size_bytes": 2 * (spec.buffer_words - reserved)})
    same = map_best(MODELS[dataflow], build_work(layer, smaller, input_resident=flags[0],
                                                 output_resident=flags[1]), smaller, Objective())
    every = map_best(ExhaustiveTiles(MODELS[dataflow]), work, spec, Objective())
    assert (same.tiling, same.cycles, same.dram_words) == (got.tiling, got.cycles, got.dram_words)
    assert (every.cycles, every.dram_words) == pytest.approx((got.cycles, got.dram_words), rel=1e-12)
    # the reservation matters: the full buffer admits a better tiling
    free = map_best(MODELS[dataflow], build_work(layer, spec, input_resident=flags[0], output_resident=flags[1]),
                    spec, Objective())
    assert (math.ceil(free.cycles - 1e-6), free.dram_words) < best[:2]


# ---- when a tensor is not kept on chip ---------------------------------------------------------

def test_tensor_larger_than_the_buffer_is_not_resident() -> None:
    """a writes 8x16x16 = 2048 words; the buffer has 1024: no residency, same results."""
    g = LayerGraph("big", (4, 16, 16))
    g.add(Layer("a", "conv", ("data",), (4, 16, 16), (8, 16, 16)))
    g.add(Layer("b", "conv", ("a",), (8, 16, 16), (4, 16, 16)))
    spec = SINGLE.with_changes({"global_buffer.size_bytes": "2KB"})
    plan = plan_fusion(g, spec.with_changes(ON))
    assert plan == {"a": Fusion(), "b": Fusion()}
    on, off = simulate_graph(g, spec.with_changes(ON)), simulate_graph(g, spec)
    assert [lr.dram_words for lr in on.layers] == [lr.dram_words for lr in off.layers]


def test_tensor_that_fits_but_leaves_no_room_for_a_tile_is_not_resident() -> None:
    """p: 11x11 conv 1x18x18 -> 9x8x8 (576 words) on a 1024-word double buffer. Its smallest
    tile (one input channel's 11x11 window 121 + weights 121 + one output 1 = 243 words, two
    copies: 486) fits the whole buffer, but not next to its 576-word output (1062 > 1024):
    the edge falls back to DRAM instead of raising InfeasibleError."""
    g = LayerGraph("tight", (1, 18, 18))
    g.add(Layer("p", "conv", ("data",), (1, 18, 18), (9, 8, 8), kernel=(11, 11)))
    g.add(Layer("c", "conv", ("p",), (9, 8, 8), (4, 8, 8)))
    spec = HardwareSpec().with_changes({**REFERENCE, "global_buffer.size_bytes": "2KB"})
    assert min_buffer_words(build_work(g["p"], spec), spec) == 486
    assert min_buffer_words(build_work(g["p"], spec, output_resident=True, reserved_words=576), spec) == 1062
    plan = plan_fusion(g, spec.with_changes(ON))
    assert plan == {"p": Fusion(), "c": Fusion()}
    on, off = simulate_graph(g, spec.with_changes(ON)), simulate_graph(g, spec)
    assert on.cycles == off.cycles and [lr.dram_words for lr in on.layers] == [lr.dram_words for lr in off.layers]


def test_tensor_with_two_consumers_is_not_resident() -> None:
    """a feeds b (which runs next) and c: a's output must reach DRAM for c. b's output feeds
    only c, which runs next: resident."""
    g = LayerGraph("fork", (4, 8, 8))
    g.add(Layer("a", "conv", ("data",), (4, 8, 8), (8, 8, 8)))
    g.add(Layer("b", "conv", ("a",), (8, 8, 8), (8, 8, 8)))
    g.add(Layer("c", "add", ("a", "b"), (8, 8, 8), (8, 8, 8)))
    spec = SINGLE.with_changes({**ON, "model.fuse_eltwise": False})
    plan = plan_fusion(g, spec)
    assert not plan["a"].output_resident and not plan["b"].input_resident
    # the add reads two operands: a standalone add's operands never stay (single-input rule)
    assert not plan["b"].output_resident and not plan["c"].input_resident


def test_residual_block_keeps_the_fused_add_output_and_reads_the_shortcut() -> None:
    """x -> s (1x1 8->4) -> e (1x1 4->8) -> add(x, e) fused into e -> n (1x1 8->8).

    x = data is never resident; s -> e: resident (4*8*8 = 256 words); e -> n: e writes the
    add's output (8*8*8 = 512 words, only n reads it; the add does not run): resident. The
    shortcut x is read from DRAM at e's output write (512 words) as before.
    e: DRAM = weights 32 + shortcut 512 (its input and its output stay on chip).
    """
    g = LayerGraph("res", (8, 8, 8))
    g.add(Layer("s", "conv", ("data",), (8, 8, 8), (4, 8, 8)))
    g.add(Layer("e", "conv", ("s",), (4, 8, 8), (8, 8, 8)))
    g.add(Layer("add", "add", ("data", "e"), (8, 8, 8), (8, 8, 8)))
    g.add(Layer("n", "conv", ("add",), (8, 8, 8), (8, 8, 8)))
    spec = SINGLE.with_changes(ON)
    plan = plan_fusion(g, spec)
    assert plan["add"].fused_into == "e"
    assert plan["e"] == Fusion(shortcut_tensors=1, input_resident=True, output_resident=True, reserved_words=768)
    assert plan["n"] == Fusion(input_resident=True, reserved_words=512)
    r = simulate_graph(g, spec)
    assert r.layer("e").dram_words == 32 + 512
    assert r.layer("s").dram_words == 512 + 32  # input from DRAM, output stays
    assert r.layer("n").dram_words == 64 + 512  # weights, output to DRAM (network output)


def test_concat_parts_are_not_resident() -> None:
    """a and b both write into the concat read by d: neither part is a layer's only input,
    so nothing stays on chip (a concat's output would need all its parts resident)."""
    g = LayerGraph("cat", (4, 8, 8))
    g.add(Layer("a", "conv", ("data",), (4, 8, 8), (4, 8, 8)))
    g.add(Layer("b", "conv", ("data",), (4, 8, 8), (4, 8, 8)))
    g.add(Layer("cat", "concat", ("a", "b"), (8, 8, 8), (8, 8, 8)))
    g.add(Layer("d", "conv", ("cat",), (8, 8, 8), (4, 8, 8)))
    plan = plan_fusion(g, SINGLE.with_changes(ON))
    assert all(f == Fusion() for f in plan.values())


def test_edge_that_would_cost_cycles_is_not_taken() -> None:
    """1.0-SqNxt-23 on 8x8/32KB: s3u1.sep1x3's 64x14x14 output (12,544 words) fits next to
    both layers' smallest tiles, but the 3,840 of 16,384 buffer words it leaves them force
    small tiles, and the tile pipeline pays a latency per DMA transfer: the pair would save
    31,744 DRAM words but take ~212 more cycles, so rule (d) of plan_residency leaves the
    tensor in DRAM."""
    g = load_graph("1.0-SqNxt-23")
    spec = PAPER_CONFIGS["8x8"].with_changes(ON)
    plan = plan_fusion(g, spec)
    p, c = g["s3u1.sep1x3"], g["s3u1.expand"]
    words = math.prod(p.out_shape)
    assert words == 12_544
    assert plan[p.name] == Fusion() and plan[c.name] == Fusion(shortcut_tensors=1)  # the add fused into c
    p1 = Fusion(output_resident=True, reserved_words=words)
    c1 = Fusion(shortcut_tensors=1, input_resident=True, reserved_words=words)
    assert min_buffer_words(build_work(p, spec, output_resident=True, reserved_words=words), spec) <= spec.buffer_words
    assert min_buffer_words(build_work(c, spec, shortcut_tensors=1, input_resident=True, reserved_words=words),
                            spec) <= spec.buffer_words
    before = [simulate_layer(p, spec, fusion=plan[p.name]), simulate_layer(c, spec, fusion=plan[c.name])]
    after = [simulate_layer(p, spec, fusion=p1), simulate_layer(c, spec, fusion=c1)]
    assert sum(r.cycles for r in after) > sum(r.cycles for r in before)
    assert sum(r.dram_words for r in after) < sum(r.dram_words for r in before)


def test_memo_keeps_resident_and_plain_costs_apart() -> None:
    """One shared cache: the same layer signature with and without residency are two entries."""
    cache = SimCache()
    on = simulate_graph(chain(), SINGLE.with_changes(ON), cache=cache)
    layer = chain()["b"]
    plain = simulate_layer(layer, SINGLE.with_changes(ON), cache=cache)
    resident = simulate_layer(layer, SINGLE.with_changes(ON), fusion=Fusion(input_resident=True, reserved_words=512),
                              cache=cache)
    assert (plain.dram_words, resident.dram_words) == (800, 288)
    assert resident.dram_words == on.layer("b").dram_words


# ---- 1.0-SqNxt-23 on the paper's configurations --------------------------------------------------

@pytest.mark.parametrize("config", ["16x16", "8x8"])
def test_sqnxt23_residency_never_costs_more(config: str) -> None:
    g = load_graph("1.0-SqNxt-23")
    spec = PAPER_CONFIGS[config]
    off, on = simulate_graph(g, spec), simulate_graph(g, spec.with_changes(ON))
    dram_off, dram_on = (sum(lr.dram_words for lr in r.layers) for r in (off, on))
    assert on.cycles <= off.cycles * (1 + 1e-12)
    assert dram_on < dram_off
    assert on.energy < off.energy
    assert on.macs == off.macs
    s_off, s_on = stage_efficiency(off), stage_efficiency(on)
    print(f"\n{spec.label}: cycles {off.cycles:,.0f} -> {on.cycles:,.0f}, DRAM words {dram_off:,.0f} -> "
          f"{dram_on:,.0f}, energy {off.energy:.4g} -> {on.energy:.4g}, conv1 share "
          f"{s_off.first_conv_share:.1%} -> {s_on.first_conv_share:.1%}, stage-1 drop {s_off.drop:.1%} -> "
          f"{s_on.drop:.1%}")
    if config == "16x16":  # stage-1 and stage-2 activations fit 128 KB: a large saving
        assert on.cycles < 0.95 * off.cycles


# ---- CLI ------------------------------------------------------------------------------------------

def test_cli_run_set_residency_drops_dram() -> None:
    def dram_mb(args: list[str]) -> float:
        result = runner.invoke(app, ["run", "sqnxt23", "--no-band", *args])  # the point's DRAM; bands add nothing
        assert result.exit_code == 0, result.output
        return float(re.search(r"DRAM ([\d.]+) MB", result.stdout).group(1))

    assert dram_mb(["--set", "model.activation_residency=true"]) < 0.8 * dram_mb([])
    schema = runner.invoke(app, ["hw", "schema", "--markdown"])
    assert "| `model.activation_residency` | true / false | false |" in schema.stdout
