"""simulate / simulate_graph / simulate_layer: fusion, memoisation, dataflow forcing, errors.

Graphs are built by hand so every expected number is derivable here; one test runs a zoo
preset end to end.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from accelsim import __version__
from accelsim.engine import MODELS, build_work, map_best, map_fixed
from accelsim.errors import InfeasibleError, SpecError, WorkloadError
from accelsim.hardware import PAPER_CONFIGS
from accelsim.hardware.spec import Dataflow, HardwareSpec
from accelsim.mapping import Objective, ObjectiveKind
from accelsim.simulation import SimCache, plan_fusion, simulate, simulate_graph, simulate_layer
from accelsim.workload.graph import LayerGraph
from accelsim.workload.layer import Layer

SPEC = HardwareSpec()


def residual_net(blocks: int = 3) -> LayerGraph:
    """stem conv 3->16 on 16x16, then ``blocks`` identical residual blocks
    (squeeze 1x1 16->8, expand 3x3 8->16, add), a 2x2 max pool and an FC 16*8*8 -> 10."""
    g = LayerGraph("resnet-ish", (3, 16, 16))
    g.add(Layer("stem", "conv", ("data",), (3, 16, 16), (16, 16, 16), kernel=(3, 3), padding=(1, 1)))
    prev = "stem"
    for b in range(1, blocks + 1):
        g.add(Layer(f"b{b}_squeeze", "conv", (prev,), (16, 16, 16), (8, 16, 16)))
        g.add(Layer(f"b{b}_expand", "conv", (f"b{b}_squeeze",), (8, 16, 16), (16, 16, 16), kernel=(3, 3),
                    padding=(1, 1)))
        g.add(Layer(f"b{b}_add", "add", (prev, f"b{b}_expand"), (16, 16, 16), (16, 16, 16)))
        prev = f"b{b}_add"
    g.add(Layer("pool", "maxpool", (prev,), (16, 16, 16), (16, 8, 8), kernel=(2, 2), stride=(2, 2)))
    g.add(Layer("fc", "fc", ("pool",), (1024, 1, 1), (10, 1, 1), flattened_from=(16, 8, 8)))
    return g


def test_network_result_is_the_sum_of_its_layers() -> None:
    graph = residual_net()
    calls: list[tuple[int, int]] = []
    r = simulate_graph(graph, SPEC, progress=lambda done, total: calls.append((done, total)))
    assert [lr.layer.name for lr in r.layers] == [layer.name for layer in graph.layers()]
    assert calls == [(i, len(graph)) for i in range(1, len(graph) + 1)]
    assert r.cycles == sum(lr.cycles for lr in r.layers)
    assert r.energy == pytest.approx(sum(lr.energy.total for lr in r.layers))
    assert r.macs == graph.macs and r.params == graph.params
    assert r.version == __version__ and r.network == "resnet-ish"
    d = r.to_dict()
    assert set(d["totals"]) >= {"cycles", "energy", "macs", "params", "time_s"}
    assert d["layers"][0]["dataflow"] in ("ws", "os")
    assert d["layers"][-1]["name"] == "fc"
    assert r.time_s == r.cycles / SPEC.clock_hz


def test_repeated_blocks_are_simulated_once() -> None:
    # Distinct cache keys: stem; squeeze (x3, same signature); expand with a fused shortcut
    # (x3); pool; fc. Fused adds are free rows and never reach the cache: 5 misses, 4 hits.
    cache = SimCache()
    simulate_graph(residual_net(3), SPEC, cache=cache)
    assert (cache.misses, cache.hits, len(cache)) == (5, 4, 5)
    assert cache.candidates > 0
    # A deeper variant shares every entry: no new misses, 13 hits (stem, 5+5 block convs, pool, fc).
    simulate_graph(residual_net(5), SPEC, cache=cache)
    assert (cache.misses, cache.hits) == (5, 4 + 13)
    # Another spec is another key.
    simulate_graph(residual_net(1), SPEC.with_changes({"pe_array.rows": 8}), cache=cache)
    assert cache.misses == 10


def test_fused_residual_add() -> None:
    r = simulate_graph(residual_net(1), SPEC)
    add, expand = r.layer("b1_add"), r.layer("b1_expand")
    assert add.fused_into == "b1_expand" and add.dataflow is Dataflow.STREAM
    assert (add.cycles, add.energy.total, add.dram_words) == (0, 0, 0)
    # The expand conv reads the shortcut once: exactly K*Ho*Wo = 16*16*16 more words than the
    # same conv without the add, for the same tiling.
    fused = map_best(MODELS[expand.dataflow], build_work(expand.layer, SPEC, shortcut_tensors=1), SPEC, Objective())
    assert fused.traffic.shortcut == 16 * 16 * 16
    assert expand.dram_words == fused.dram_words
    # the plain conv priced at the fused conv's own tiling and order (not its own optimum, which
    # may differ): the only difference is the shortcut read
    t = fused.tiling
    plain = map_fixed(MODELS[expand.dataflow], build_work(expand.layer, SPEC), SPEC, (t.kt, t.ct, t.ht, t.wt), t.order)
    assert plain.traffic.shortcut == 0
    assert fused.dram_words - plain.dram_words == 16 * 16 * 16
    assert fused.compute_cycles == plain.compute_cycles


def test_unfused_add_streams() -> None:
    spec = SPEC.with_changes({"model.fuse_eltwise": False})
    add = simulate_graph(residual_net(1), spec).layer("b1_add")
    assert add.fused_into is None and add.dataflow is Dataflow.STREAM
    # two 16x16x16 operands in, one out: 3 * 4096 words; 4096 adds on 256 PEs: 16 + Pr cycles
    assert add.dram_words == 3 * 4096
    assert add.compute_cycles == 4096 / 256 + 16


def test_fused_pool() -> None:
    g = LayerGraph("conv-pool", (4, 8, 8))
    g.add(Layer("conv", "conv", ("data",), (4, 8, 8), (8, 8, 8)))
    g.add(Layer("pool", "maxpool", ("conv",), (8, 8, 8), (8, 4, 4), kernel=(2, 2), stride=(2, 2)))
    spec = SPEC.with_changes({"model.fuse_pool": True})
    r = simulate_graph(g, spec)
    assert r.layer("pool").fused_into == "conv" and r.layer("pool").cycles == 0
    # the conv writes the pooled 8x4x4 tensor instead of 8x8x8: inputs 256 + weights 32 + 128
    assert r.layer("conv").dram_words == 4 * 64 + 32 + 8 * 16
    unfused = simulate_graph(g, SPEC)
    assert unfused.layer("pool").fused_into is None and unfused.layer("pool").cycles > 0


def test_layer_overhead_adds_once_per_layer_the_array_runs() -> None:
    """model.layer_overhead_cycles: every layer that runs pays it once, a fused layer does not,
    and it changes no tiling, no DRAM word and no energy (it is control time, not data)."""
    g = LayerGraph("conv-pool", (4, 8, 8))
    g.add(Layer("conv", "conv", ("data",), (4, 8, 8), (8, 8, 8)))
    g.add(Layer("pool", "maxpool", ("conv",), (8, 8, 8), (8, 4, 4), kernel=(2, 2), stride=(2, 2)))
    for fuse, running in ((False, 2), (True, 1)):
        spec = SPEC.with_changes({"model.fuse_pool": fuse})
        base = simulate_graph(g, spec)
        slow = simulate_graph(g, spec.with_changes({"model.layer_overhead_cycles": 500.0}))
        assert slow.cycles - base.cycles == pytest.approx(500 * running)
        for a, b in zip(base.layers, slow.layers, strict=True):
            assert (a.tiling, a.dram_words, a.energy.total) == (b.tiling, b.dram_words, b.energy.total)
            assert b.cycles - a.cycles == pytest.approx(0 if a.fused_into else 500)


def fire_pool() -> LayerGraph:
    """A fire-style expand pair (1x1 3->4, 3x3 3->6 on 8x8), their concat, a 2x2/2 max pool, a 1x1 conv."""
    g = LayerGraph("fire-pool", (3, 8, 8))
    g.add(Layer("e1", "conv", ("data",), (3, 8, 8), (4, 8, 8)))
    g.add(Layer("e3", "conv", ("data",), (3, 8, 8), (6, 8, 8), kernel=(3, 3), padding=(1, 1)))
    g.add(Layer("cat", "concat", ("e1", "e3"), (4, 8, 8), (10, 8, 8)))
    g.add(Layer("pool", "maxpool", ("cat",), (10, 8, 8), (10, 4, 4), kernel=(2, 2), stride=(2, 2)))
    g.add(Layer("next", "conv", ("pool",), (10, 4, 4), (2, 4, 4)))
    return g


def test_pool_after_concat_streams_from_its_producers() -> None:
    """Pooling is per channel, so pool(concat(e1, e3)) = concat(pool(e1), pool(e3)): with
    fuse_pool each producer writes its channels pooled and the pool costs nothing.
    Hand count (everything fits one tile of the 128 KB buffer):
      e1 reads 3*64 = 192 inputs and 4*3 = 12 weights, writes 4*4*4 = 64 pooled (not 4*64 = 256);
      e3 reads 192 and 6*3*9 = 162 weights, writes 6*16 = 96 pooled (not 384);
      unfused, the pool reads the 640-word concat and writes 160: the fused plan saves
      (256 + 384 - 64 - 96) + 640 + 160 = 1280 DRAM words, and 'next' is unchanged."""
    spec = SPEC.with_changes({"model.fuse_pool": True})
    plan = plan_fusion(fire_pool(), spec)
    assert plan["e1"].pooled_shape == (4, 4, 4) and plan["e3"].pooled_shape == (6, 4, 4)
    assert plan["pool"].fused_into == "e3"  # the last producer finishes the pooled tensor
    fused, unfused = simulate_graph(fire_pool(), spec), simulate_graph(fire_pool(), SPEC)
    assert fused.layer("e1").dram_words == 192 + 12 + 64
    assert fused.layer("e3").dram_words == 192 + 162 + 96
    assert fused.layer("pool").cycles == 0 and fused.layer("pool").dram_words == 0
    assert unfused.layer("pool").dram_words == 640 + 160
    assert unfused.dram_words - fused.dram_words == 1280
    assert fused.layer("next").dram_words == unfused.layer("next").dram_words
    # not fused when the concat has a second consumer (its unpooled channels are needed)
    g = fire_pool()
    g.add(Layer("side", "conv", ("cat",), (10, 8, 8), (2, 8, 8)))
    assert plan_fusion(g, spec)["pool"].fused_into is None


def test_add_not_fused_when_producer_feeds_another_layer() -> None:
    g = LayerGraph("branch", (8, 4, 4))
    g.add(Layer("a", "conv", ("data",), (8, 4, 4), (8, 4, 4)))
    g.add(Layer("b", "conv", ("a",), (8, 4, 4), (8, 4, 4)))
    g.add(Layer("c", "conv", ("b",), (8, 4, 4), (8, 4, 4)))
    g.add(Layer("add", "add", ("a", "b"), (8, 4, 4), (8, 4, 4)))
    plan = plan_fusion(g, SPEC)
    assert plan["add"].fused_into is None  # "b" also feeds "c": its raw output must be written
    assert plan["b"].shortcut_tensors == 0


def test_dataflow_forcing() -> None:
    graph = residual_net(1)
    for forced in ("ws", "os"):
        r = simulate_graph(graph, SPEC, dataflow=forced)
        for lr in r.layers:
            if lr.layer.kind.value in ("conv", "fc"):
                assert lr.dataflow.value == forced and lr.alternatives == ()
            elif lr.fused_into is None:
                assert lr.dataflow is Dataflow.STREAM  # pooling cannot run WS/OS: it streams
    auto = simulate_graph(graph, SPEC)
    ws, os_ = (simulate_graph(graph, SPEC, dataflow=d) for d in ("ws", "os"))
    for a, w, o in zip(auto.layers, ws.layers, os_.layers, strict=True):
        assert a.cycles == min(w.cycles, o.cycles) or abs(a.cycles - min(w.cycles, o.cycles)) < 1
    with pytest.raises(SpecError, match="dataflow"):
        simulate_graph(graph, SPEC, dataflow="is")


def test_spec_dataflows_restrict_auto() -> None:
    r = simulate_graph(residual_net(1), SPEC.with_changes({"dataflows": ["ws"]}))
    assert {lr.dataflow for lr in r.layers} <= {Dataflow.WS, Dataflow.STREAM}


def test_dense_first_layer() -> None:
    graph = residual_net(1)
    dense_spec = SPEC.with_changes({"sparsity.sparse_first_layer": False})
    sparse = simulate_graph(graph, SPEC, dataflow="os")
    dense = simulate_graph(graph, dense_spec, dataflow="os")
    # 3x3 stem on OS: dense it needs R*S = 9 cycles per input channel instead of 9*0.6
    assert dense.layer("stem").compute_cycles > sparse.layer("stem").compute_cycles
    assert dense.layer("stem").counts.mac == graph["stem"].macs
    assert sparse.layer("stem").counts.mac == pytest.approx(0.6 * graph["stem"].macs)
    assert dense.layer("b1_squeeze").cycles == sparse.layer("b1_squeeze").cycles


def test_infeasible_buffer_names_layer_and_minimum() -> None:
    # Smallest tile of the 3x3 stem: one channel of a 3x3 input window (9 words) + 9 weights
    # + 1 output = 19 words, two copies (double buffering) = 38 words = 76 bytes.
    spec = SPEC.with_changes({"global_buffer.size_bytes": 64})
    with pytest.raises(InfeasibleError, match=r"layer 'stem' .*at least 76 bytes"):
        simulate_graph(residual_net(1), spec)
    assert simulate_layer(residual_net(1)["stem"], SPEC.with_changes({"global_buffer.size_bytes": 76})).cycles > 0


def test_simulate_accepts_graph_json_module_and_name(tmp_path) -> None:
    graph = residual_net(1)
    by_graph = simulate(graph)
    path = tmp_path / "g.json"
    graph.save_json(path)
    assert simulate(str(path)).cycles == by_graph.cycles
    assert simulate(graph, "8x8").hardware.pe_array.rows == 8
    with pytest.raises(WorkloadError, match="preset names only"):
        simulate(graph, width=2.0)
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
    r = simulate(module, input_shape=(3, 16, 16))
    assert [lr.layer.kind.value for lr in r.layers] == ["conv", "maxpool"]
    assert r.layers[0].layer.macs == 8 * 16 * 16 * 27


def test_simulate_zoo_preset() -> None:
    cache = SimCache()
    r = simulate("sqnxt23", "16x16", cache=cache)
    assert r.network == "1.0-SqNxt-23"
    assert abs(r.macs - 278.00e6) < 0.005e6  # networks.md: 278.00 M pure MACs
    fused = [lr for lr in r.layers if lr.fused_into is not None]
    assert sum(lr.layer.kind == "add" for lr in fused) == 21  # depth (6, 6, 8, 1): one add per unit
    # the calibrated paper config fuses pools (model.fuse_pool): the stem's max pool into conv1 and
    # the final average pool into conv_final, each the only consumer of its conv
    assert PAPER_CONFIGS["16x16"].model.fuse_pool
    assert sorted((lr.layer.name, lr.fused_into) for lr in fused if lr.layer.kind != "add") == [
        ("pool1", "conv1"), ("pool_final", "conv_final")]
    assert cache.misses < len(r.layers) / 2  # repeated units are simulated once
    with pytest.raises(WorkloadError):
        simulate("sqnxt999")


def test_concat_is_free() -> None:
    g = LayerGraph("fire", (8, 6, 6))
    g.add(Layer("e1", "conv", ("data",), (8, 6, 6), (4, 6, 6)))
    g.add(Layer("e3", "conv", ("data",), (8, 6, 6), (4, 6, 6), kernel=(3, 3), padding=(1, 1)))
    g.add(Layer("cat", "concat", ("e1", "e3"), (4, 6, 6), (8, 6, 6)))
    cat = simulate_graph(g, SPEC).layer("cat")
    assert (cat.cycles, cat.dram_words, cat.energy.total, cat.tiling, cat.fused_into) == (0, 0, 0, None, None)
    assert cat.dataflow is Dataflow.STREAM


def test_weighted_tiling_cost_trades_cycles_for_dram() -> None:
    """With a large DRAM weight every layer's chosen tiling moves no more words than the
    lexicographic choice (which minimises whole cycles first), and never fewer cycles."""
    graph = residual_net(2)
    small = SPEC.with_changes({"global_buffer.size_bytes": "4KB"})
    lex = simulate_graph(graph, small)
    weighted = simulate_graph(graph, small.with_changes({"model.tiling_cost": "weighted",
                                                         "model.tiling_dram_weight": 1e6}))
    for a, b in zip(lex.layers, weighted.layers, strict=True):
        if a.dataflow is b.dataflow and a.dataflow is not Dataflow.STREAM:
            assert b.dram_words <= a.dram_words
            assert b.cycles >= a.cycles - 1
    assert weighted.dram_words < lex.dram_words


def test_joint_tiling_cost_is_the_documented_formula() -> None:
    """``tiling_cost: joint`` picks the candidate minimising cycles/fewest + w * words/fewest over
    every feasible tiling (each under its best loop order), recomputed here from the priced
    candidate space; and on a small buffer it moves fewer DRAM words than cycles-first."""
    from accelsim.engine import candidate_space

    small = SPEC.with_changes({"global_buffer.size_bytes": "4KB"})
    layer = residual_net(1)["b1_expand"]
    for weight in (0.25, 1.0, 4.0):
        spec = small.with_changes({"model.tiling_cost": "joint", "model.tiling_joint_weight": weight})
        for flow in (Dataflow.WS, Dataflow.OS):
            work = build_work(layer, spec)
            space = candidate_space(MODELS[flow], work, spec)
            whole = np.ceil(space.cycles - 1e-6)
            cost = whole / whole.min() + weight * space.dram_words / space.dram_words.min()
            got = map_best(MODELS[flow], work, spec, Objective(ObjectiveKind.JOINT, joint_weight=weight))
            assert got is not None
            got_cost = math.ceil(got.cycles - 1e-6) / whole.min() + weight * got.dram_words / space.dram_words.min()
            assert got_cost == pytest.approx(cost.min(), rel=1e-12), (weight, flow)
    lex = simulate_graph(residual_net(2), small)
    joint = simulate_graph(residual_net(2), small.with_changes({"model.tiling_cost": "joint"}))
    assert joint.dram_words < lex.dram_words and joint.cycles >= lex.cycles - 1


def test_package_level_simulate_survives_submodule_import() -> None:
    # accelsim.simulate is the function even after the module that defines it is imported
    # (a submodule named 'simulate' would shadow it on the package).
    import accelsim
    import accelsim.simulation

    assert callable(accelsim.simulate) and accelsim.simulate is accelsim.simulation.simulate
