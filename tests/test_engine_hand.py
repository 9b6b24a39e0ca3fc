"""Hand-derived cycle counts for tiny layers (the derivation is in each test's comments).

Spec HAND: a 4x4 array (Pr = Pc = 4), 128 KB buffer (everything fits), latency L = 10
cycles, 2e12 B/s at 1 GHz with 2-byte words -> w_d = 1000 words/cycle, sigma = 0.5.
Buffer ports: P = 4 read ports of w = max(Pr, Pc) = 4 words, so the OS input path is
B_in = P*w = 16 words/cycle (drain B_out = Pc = 4 words/cycle), and in WS an input vector
takes v = ceil(Pr/w) = 1 port-cycle and a weight block F = Pr*ceil(Pc/w) = 4 port-cycles:
a pass costs max(T, (T*v + F)/P) = max(T, (T + 4)/4) and a tile F/P + Pr + Pc - 1 = 8 more.
With double buffering, the tile pipeline (accelsim.engine.timing):
T = first + max(T_comp, steady) + last, first = N0*L + D0/w_d (the first tile's loads, one
transfer per tensor), last = L + D1/w_d (the last tile's output write-back), steady = the
other transfers' latencies and words. A one-tile layer has no steady part:
T = T_comp + (N0 + 1)*L + D/w_d, i.e. with inputs and weights, T_comp + 30 + D/1000.

Why the search keeps these layers in one tile: every extra tile adds the WS fill
F/P + Pr + Pc - 1 = 8 cycles or the OS fill Pr = 4 cycles to T_comp and more DMA transfers,
while the first load it could shrink is below one cycle at w_d = 1000.
"""

from __future__ import annotations

import pytest

from accelsim.engine import MODELS, build_work, map_fixed
from accelsim.errors import SpecError
from accelsim.hardware.spec import REFERENCE, Dataflow, HardwareSpec
from accelsim.simulation import simulate_layer
from accelsim.workload.layer import Layer

# Hand derivations work at the reference 1 GHz clock and unscaled Eyeriss costs.
HAND = HardwareSpec().with_changes({
    **REFERENCE,
    "pe_array.rows": 4, "pe_array.cols": 4, "dram.latency_cycles": 10,
    "dram.bandwidth_bytes_per_s": 2e12, "sparsity.weight_sparsity": 0.5,
})


def test_1x1_conv_ws_and_os() -> None:
    # C = K = 8, 6x6 map, 1x1 kernel: MACs = 8*8*36 = 2304.
    layer = Layer("pw", "conv", ("data",), (8, 6, 6), (8, 6, 6))
    # WS: passes = R*S * ceil(8/4) * ceil(8/4) = 4, T = 36: 4*max(36, 40/4) + 8 = 152.
    # D = inputs 8*36 + weights 64 + outputs 288 = 640 words; first tile = 288 + 64 = 352.
    # T = first (2 transfers: 20 + 0.352) + 152 + last (10 + 0.288) = 182.64.
    ws = simulate_layer(layer, HAND, dataflow="ws")
    assert ws.compute_cycles == 152
    assert ws.dram_words == 640
    assert ws.cycles == pytest.approx(182.64)
    assert ws.tiling.describe() == "k8 c8 y6 x6 [k>c>s]"
    # OS: the 6x6 map is cut into sub-tiles 4x4, 4x2, 2x4, 2x2. 1x1 kernel: q = 1 - sigma = 0.5,
    # per channel max(1*0.5, 0.5*win/16) = 0.5 (win = pr*pc <= 16), so a sub-tile takes
    # max(8 * 0.5, pr*pc/4) = max(4, {4, 2, 2, 1}) = 4 cycles: 16 per output channel,
    # 8 channels -> 128, + Pr = 132. T = 132 + 30 + 0.64 = 162.64.
    os_ = simulate_layer(layer, HAND, dataflow="os")
    assert os_.compute_cycles == pytest.approx(132)
    assert os_.cycles == pytest.approx(162.64)
    # PE utilisation: non-zero MACs 2304 * 0.5 = 1152 on 16 PEs for 162.64 cycles; the dense
    # throughput counts all 2304 MACs: twice the utilisation times the PE count.
    assert os_.utilisation == pytest.approx(1152 / (162.64 * 16))
    assert os_.efficiency == pytest.approx(2304 / 162.64)
    # auto picks the faster: OS; WS is kept as the alternative
    auto = simulate_layer(layer, HAND)
    assert auto.dataflow is Dataflow.OS
    assert [(a.dataflow, round(a.cycles, 3)) for a in auto.alternatives] == [(Dataflow.WS, 182.64)]


def test_register_file_bounds_the_pe_state_and_ws_weight_double_buffering() -> None:
    # The layer above. Per-PE state [A]: WS holds weight + input + partial sum (1 word each at
    # psum_words=1) = 3 words, + 1 for the next pass's weight when double-buffered; OS holds weight +
    # input + accumulator = 3. 16-bit words: 8 B = 4 words double-buffers WS, 6 B = 3 words cannot.
    layer = Layer("pw", "conv", ("data",), (8, 6, 6), (8, 6, 6))
    roomy = HAND.with_changes({"pe_array.register_file_bytes": 8})
    assert (roomy.rf_words, roomy.pe_state_words(Dataflow.WS), roomy.ws_weight_double_buffered) == (4, 3, True)
    assert simulate_layer(layer, roomy, dataflow="ws").compute_cycles == 152  # as with 512 B above
    tight = HAND.with_changes({"pe_array.register_file_bytes": 6})
    assert (tight.rf_words, tight.ws_weight_double_buffered) == (3, False)
    # no double buffering: every pass loads its weights, passes*(max(T, T*v/P) + F/P + Pr + Pc - 1)
    # = 4*(36 + 1 + 7) = 176, and T = 176 + 30 + 0.64 = 206.64 (one tile: three transfers, 640 words)
    ws = simulate_layer(layer, tight, dataflow="ws")
    assert ws.compute_cycles == 176 and ws.cycles == pytest.approx(206.64)
    # OS keeps its 3-word state: unchanged (132 compute cycles, as above)
    assert simulate_layer(layer, tight, dataflow="os").compute_cycles == pytest.approx(132)
    # 4 B = 2 words holds neither dataflow: the spec is refused, naming the field
    with pytest.raises(SpecError, match=r"^pe_array\.register_file_bytes: 4 B \(2 words\) holds no allowed "
                                        r"dataflow's per-PE state \(words needed: WS 3, OS 3\)$"):
        HAND.with_changes({"pe_array.register_file_bytes": 4})
    # 32-bit partial sums need one word more each
    with pytest.raises(SpecError, match=r"6 B \(3 words\) .* \(words needed: WS 4, OS 4\)$"):
        HAND.with_changes({"model.psum_words": 2, "pe_array.register_file_bytes": 6})


def test_1x1_conv_ws_energy() -> None:
    # WS accesses of the layer above (model.md 7.1-7.4, 7.8):
    #   MAC 2304; RF = MACs + weights loaded (64 * 1 spatial tile) = 2368; inter-PE 2*2304 = 4608;
    #   GB = inputs read per column fold (8*36*2 = 576) + psum writes per row fold (8*36*2 = 576)
    #        + psum reads (576 - 288 = 288) + weight reads 64 + DMA words 640 = 2144; DRAM 640.
    # Energy = 2304*1 + 2368*1 + 4608*2 + 2144*6 + 640*200 = 154752 MAC units.
    ws = simulate_layer(Layer("pw", "conv", ("data",), (8, 6, 6), (8, 6, 6)), HAND, dataflow="ws")
    assert ws.counts.to_dict() == {"mac": 2304, "register_file": 2368, "inter_pe": 4608,
                                   "global_buffer": 2144, "dram": 640}
    assert ws.energy.total == 154752


def test_3x3_conv() -> None:
    # C = K = 4, 6x6 input, pad 1 -> 6x6 output.
    layer = Layer("c3", "conv", ("data",), (4, 6, 6), (4, 6, 6), kernel=(3, 3), padding=(1, 1))
    # WS: 9 taps * 1 * 1 = 9 passes of T = 36: 324 + 8 = 332.
    # D = 4*36 + 4*4*9 + 4*36 = 432 in 3 transfers. T = 332 + 30 + 0.432.
    ws = simulate_layer(layer, HAND, dataflow="ws")
    assert ws.compute_cycles == 332
    assert ws.cycles == pytest.approx(362.432)
    # OS: R*S*(1 - sigma) = 4.5 > win/B_in (largest 6*6/16 = 2.25), so 4.5 cycles per channel;
    # a sub-tile takes max(4 * 4.5, drain <= 4) = 18; 4 sub-tiles * 4 channels * 18 = 288, + 4.
    os_ = simulate_layer(layer, HAND, dataflow="os")
    assert os_.compute_cycles == pytest.approx(292)
    assert os_.cycles == pytest.approx(322.432)


def test_fc_layer() -> None:
    # FC 16 -> 8 is a 1x1 conv on a 1x1 map: T = 1, so each pass is bound by the weight load.
    layer = Layer("fc", "fc", ("data",), (16, 1, 1), (8, 1, 1))
    # WS: ceil(16/4) * ceil(8/4) = 8 passes in one tile. The first block loads alone (4 rows
    # of 4 words over 4 ports: 1 cycle); passes 1-7 stream one vector while the next block
    # loads, max(1, (1 + 4)/4) = 1.25 each (the load binds: 16 weights in 1.25 cycles, 12.8
    # words/cycle; the old max(T, Pr) pass capped it at Pc = 4); pass 8 has no next block:
    # max(1, 1/4) = 1; then the skew Pr + Pc - 1 = 7. 1 + 8.75 + 1 + 7 = 17.75 (the engine
    # charged pass 8 a block load too, 18, until the stepped oracle showed it).
    # D = 16 + 128 + 8 = 152 in 3 transfers: T = 17.75 + 30 + 0.152.
    # OS: one 1x1 sub-tile per output, 16 channels * 0.5 = 8 cycles each: 8*8 + 4 = 68 -> WS wins.
    fc = simulate_layer(layer, HAND)
    assert fc.dataflow is Dataflow.WS
    assert fc.compute_cycles == 17.75
    assert fc.cycles == pytest.approx(47.902)
    assert fc.alternatives[0].cycles == pytest.approx(68 + 30.152)


def test_fc_memory_bound_on_the_paper_array() -> None:
    # FC 64 -> 256 on the default 16x16 spec (w_d = 8 words/cycle, L = 100), tiled kt = 16:
    # P = 4 ports of 16 words, F = 16: 16 tiles, each ceil(64/16)*ceil(16/16) = 4 passes, three
    # of them loading the next block, max(1, (1 + 16)/4) = 4.25, the last none, max(1, 1/4) = 1;
    # + F/P + Pr + Pc - 1: 12.75 + 1 + 4 + 31 = 48.75 -> T_comp = 780.
    # D = 64 + 64*256 + 256 = 16704 words -> 2088 cycles > T_comp: memory-bound.
    # Transfers under k>c>s: inputs once (c and s run once inside k), 16 weight tiles, 16
    # output tiles of 16 words: 33. first = 2 transfers of 64 + 1024 words = 200 + 136 = 336;
    # last = 100 + 16/8 = 102; steady = 30 transfers * 100 + (16704 - 1088 - 16)/8 = 4950.
    # T = 336 + max(780, 4950) + 102 = 5388: latency per transfer dominates small tiles (the
    # search would take one tile here: 64*256 weights fit half of the buffer).
    spec = HardwareSpec().with_changes(dict(REFERENCE))
    layer = Layer("fc", "fc", ("data",), (64, 1, 1), (256, 1, 1))
    work = build_work(layer, spec)
    m = map_fixed(MODELS[Dataflow.WS], work, spec, (16, 64, 1, 1), ("k", "c", "s"))
    assert m.compute_cycles == 780
    assert m.dram_words == 16704
    assert m.cycles == pytest.approx(5388)
    # Single buffer (the weight double buffer stays on): T_comp + D/w_d + L per transfer =
    # 780 + 2088 + 100*33.
    single = spec.with_changes({"global_buffer.double_buffer": False})
    m = map_fixed(MODELS[Dataflow.WS], build_work(layer, single), single, (16, 64, 1, 1), ("k", "c", "s"))
    assert m.cycles == 780 + 2088 + 100 * 33


def test_max_pool() -> None:
    # 3x3/2 max pool, 4 channels, 7x7 -> 3x3: ops = 4*9*9 = 324 compares on 16 PEs:
    # ceil(324/16) + Pr = 21 + 4 = 25 cycles (eq. 3.9).
    # Untiled D = inputs 4*49 (output rows 0..2 read input rows 0..6) + outputs 36 = 232.
    # One-channel tiles shrink the first tile to 49 words; smaller spatial tiles would re-read
    # halo rows; none of that is worth a whole cycle here, so the untiled tile wins on DRAM
    # words (232) and then on the larger-tiles tie-break.
    # T = first (1 transfer, no weights: 10 + 0.196) + 25 + last (10 + 0.036) = 45.232.
    pool = simulate_layer(Layer("pool", "maxpool", ("data",), (4, 7, 7), (4, 3, 3), kernel=(3, 3), stride=(2, 2)),
                          HAND)
    assert pool.dataflow is Dataflow.STREAM
    assert pool.compute_cycles == 25
    assert pool.dram_words == 232
    assert pool.cycles == pytest.approx(45.232)
    assert pool.counts.global_buffer == 2 * 232


def test_depthwise_conv() -> None:
    # 8 channels, 3x3 depthwise, pad 1, 6x6: MACs = 8*36*9 = 2592.
    layer = Layer("dw", "conv", ("data",), (8, 6, 6), (8, 6, 6), kernel=(3, 3), padding=(1, 1), groups=8)
    # WS packs gp = min(4//1, 4//1) = 4 groups per pass: 9 taps * ceil(8/4) = 18 passes of
    # T = 36: 648 + 8 = 656 cycles.
    # D = 288 + 72 + 288 = 648 in 3 transfers: T = 656 + 30 + 0.648 = 686.648; PE utilisation
    # 1296 non-zero MACs / (686.648 * 16) < 1/Pc.
    ws = simulate_layer(layer, HAND, dataflow="ws")
    assert ws.compute_cycles == 656
    assert ws.cycles == pytest.approx(686.648)
    assert ws.utilisation < 1 / 4
    # OS: one output channel at a time over its own input channel (Cg = 1): per sub-tile
    # max(1 * 4.5, drain {4, 2, 2, 1}) = 4.5; 4 sub-tiles * 8 channels = 144, + 4 = 148.
    os_ = simulate_layer(layer, HAND, dataflow="os")
    assert os_.compute_cycles == pytest.approx(148)
    assert os_.cycles == pytest.approx(178.648)
    assert simulate_layer(layer, HAND).dataflow is Dataflow.OS


def test_use_once_weights_stream_at_the_dram_rate_on_8x8() -> None:
    # SqueezeNext's FC 128 -> 1000 on the paper's 8x8 (667 MHz: w_d = 16e9/(667e6*2) = 11.99
    # words/cycle). Every weight is used once (T = 1). Buffer ports: P = 4 of w = 8 words, F = 8:
    # a pass costs max(1, (1 + 8)/4) = 2.25 cycles for 64 weights = 28.4 words/cycle, so the
    # array's weight-load path outruns the DRAM and the layer is DRAM-bound: its time is the
    # DMA engine's busy time (words at ~12 words/cycle plus a latency per transfer; the weights
    # do not fit the 8K-word half, so they come in several tiles). The old max(T, Pr) pass fed
    # weights at Pc = 8 words/cycle: at least 128,000/8 = 16,000 compute cycles.
    from accelsim.hardware import PAPER_8X8

    # the derivation's assumptions, whatever the calibration picks: 667 MHz, no bank conflicts
    # (the DMA words stream at w_d), no per-layer overhead
    spec = PAPER_8X8.with_changes({"clock_hz": 667e6, "model.layer_overhead_cycles": 0.0,
                                   "global_buffer.dma_conflict_fraction": 0.0})
    layer = Layer("fc", "fc", ("data",), (128, 1, 1), (1000, 1, 1))
    fc = simulate_layer(layer, spec)
    assert fc.dataflow is Dataflow.WS and fc.bound == "memory"
    w_d = spec.dram_words_per_cycle
    assert fc.compute_cycles < 128_000 / 8  # faster than the old Pc-words/cycle cap
    assert fc.cycles == pytest.approx(fc.dram_cycles, rel=1e-12)  # DMA-bound: the pipeline is the DMA
    # the calibrated overhead H (engine/timing.py) adds once to the layer, outside the pipeline
    h = PAPER_8X8.model.layer_overhead_cycles
    with_h = simulate_layer(layer, spec.with_changes({"model.layer_overhead_cycles": h}))
    assert with_h.cycles == pytest.approx(fc.cycles + h, rel=1e-12)
    assert fc.dram_words / w_d < fc.cycles < 128_000 / 8
