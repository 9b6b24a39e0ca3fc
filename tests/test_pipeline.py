"""The tile pipeline's closed form (``accelsim.engine.timing``) against a discrete-event
simulation of the same pipeline, written here from the schedule's rules alone.

The simulated pipeline (double-buffered global buffer, one DMA engine):

* the DMA engine serves transfers one at a time in the fixed ping-pong order
  ``L0, L1, W0, L2, W1, ..., L(n-1), W(n-2), W(n-1)`` (``Li``: tile i's loads, ``Wi``: the
  write-backs that follow tile i; either may be empty);
* a transfer of m words takes ``L + m/w_d`` cycles, or ``L + (1 + beta) m/w_d`` unless it is
  one of tile 0's loads or the very last write-back (the only transfers that never run next
  to the array);
* tile i computes for ``c_i`` cycles once its loads are in and tile i-1 is done;
* ``Wi`` starts when tile i is done; ``L(i+2)`` starts when tile i is done (same half);
* the makespan is the time the last event ends.

Claims checked (they are the timing module's docstring): the closed form is a lower bound
of the simulated makespan for every tile sequence; equal to it for equal compute-bound
tiles; and above it by at most ``2 * max_i c_i + max transfer`` (start-up and drain bubbles).
Sequences: random ones (tile counts 1-60, random loads, computes, write-backs, latency,
bandwidth, conflict fraction) and the brute-force walker's real tile sequences of small
layers under every loop order, whose aggregates the engine must reproduce exactly.
"""

from __future__ import annotations

import itertools
import random

import pytest
from oracle import walk
from test_engine_oracle import CONVS, SPEC, conv, tilings

from accelsim.engine import MODELS, build_work, map_fixed
from accelsim.engine.timing import DmaStream, layer_cycles
from accelsim.hardware.spec import Dataflow, HardwareSpec
from accelsim.mapping.tiling import LOOP_ORDERS


def simulate_pipeline(tiles, latency: float, wd: float, beta: float) -> float:
    """Makespan of the double-buffered pipeline above. ``tiles``: [(loads, compute, writes)]."""
    n = len(tiles)
    last_write = (n - 1, len(tiles[-1][2]) - 1) if tiles[-1][2] else None
    dma_free = 0.0
    load_done = [0.0] * n
    compute_done = [0.0] * n
    end = 0.0

    def run(words: float, ready: float, slowed: bool) -> float:
        nonlocal dma_free
        start = max(dma_free, ready)
        dma_free = start + latency + words * ((1.0 + beta) if slowed else 1.0) / wd
        return dma_free

    def load(i: int) -> None:
        ready = compute_done[i - 2] if i >= 2 else 0.0  # its half is free once tile i-2 is done
        t = ready
        for words in tiles[i][0]:
            t = run(words, ready, slowed=i != 0)
        load_done[i] = max(t, ready)

    def compute(i: int) -> None:
        start = max(load_done[i], compute_done[i - 1] if i else 0.0)
        compute_done[i] = start + tiles[i][1]

    def write(i: int) -> None:
        nonlocal end
        for j, words in enumerate(tiles[i][2]):
            end = max(end, run(words, compute_done[i], slowed=(i, j) != last_write))

    # The DMA queue is fixed (L0, L1, then Wi, L(i+2) for each i); every event's inputs
    # are resolved before it in this order (compute i needs loads i, from earlier in the queue).
    load(0)
    if n > 1:
        load(1)
    for i in range(n):
        compute(i)
        write(i)
        if i + 2 < n:
            load(i + 2)
    return max(end, compute_done[-1], dma_free)


def aggregates(tiles) -> tuple[float, DmaStream]:
    loads = [w for t in tiles for w in t[0]]
    writes = [w for t in tiles for w in t[2]]
    last = tiles[-1][2][-1] if tiles[-1][2] else 0.0
    dma = DmaStream(float(sum(loads) + sum(writes)), float(len(loads) + len(writes)), float(sum(tiles[0][0])),
                    float(len(tiles[0][0])), float(last))
    return float(sum(t[1] for t in tiles)), dma


def spec_for(latency: int, wd: float, beta: float, double: bool = True) -> HardwareSpec:
    # 1 GHz, 2-byte words: bandwidth = 2e9 * wd bytes/s gives wd words per cycle
    return HardwareSpec().with_changes({"clock_hz": 1e9, "dram.latency_cycles": latency,
                                        "dram.bandwidth_bytes_per_s": 2e9 * wd,
                                        "global_buffer.dma_conflict_fraction": beta,
                                        "global_buffer.double_buffer": double})


def step_bound(tiles, latency: float, wd: float, beta: float) -> float:
    """Makespan of the *synchronous* schedule: step i runs tile i's compute while the DMA does
    W(i-1) then L(i+1), and lasts the longer of the two. It satisfies every rule of the
    pipeline with the same DMA order, so the greedy simulation can only be earlier."""
    n = len(tiles)

    def dma(words, slowed: bool) -> float:
        return sum(latency + w * ((1.0 + beta) if slowed else 1.0) / wd for w in words)

    writes = [t[2] for t in tiles]
    last = writes[-1][-1:] if writes[-1] else []
    writes[-1] = writes[-1][:-1]
    total = dma(tiles[0][0], slowed=False) + dma(last, slowed=False)
    for i in range(n):
        between = (dma(writes[i - 1], True) if i else 0.0) + (dma(tiles[i + 1][0], True) if i + 1 < n else 0.0)
        total += max(tiles[i][1], between)
    return total + dma(writes[-1], True)


def check(tiles, latency: int, wd: float, beta: float) -> tuple[float, float]:
    compute, dma = aggregates(tiles)
    closed = float(layer_cycles(compute, dma, spec_for(latency, wd, beta)))
    des = simulate_pipeline(tiles, latency, wd, beta)
    assert closed <= des + 1e-6 * des + 1e-9, (tiles, latency, wd, beta, closed, des)
    assert des <= step_bound(tiles, latency, wd, beta) * (1 + 1e-9) + 1e-9, (tiles, latency, wd, beta, closed, des)
    return closed, des


def random_tiles(rng: random.Random, n: int):
    tiles = []
    for i in range(n):
        loads = [rng.choice([0, rng.randint(1, 3000)]) for _ in range(rng.randint(0 if i else 1, 3))]
        loads = [w for w in loads if w] or ([rng.randint(1, 3000)] if i == 0 else [])
        writes = [rng.randint(1, 2000) for _ in range(rng.choice([0, 0, 1, 2]))]
        tiles.append((loads, float(rng.choice([0, rng.randint(1, 4000)])), writes))
    if not tiles[-1][2] and rng.random() < 0.8:
        tiles[-1][2].append(rng.randint(1, 2000))
    return tiles


def test_closed_form_bounds_the_simulation_on_random_sequences() -> None:
    rng = random.Random(20260901)
    excess = []
    for _ in range(3000):
        n = rng.choice([1, 2, 3, rng.randint(4, 60)])
        latency, wd, beta = rng.choice([0, 10, 100]), rng.choice([1.0, 8.0, 12.0, 64.0]), rng.choice([0.0, 0.25])
        closed, des = check(random_tiles(rng, n), latency, wd, beta)
        excess.append((des - closed) / des if des else 0.0)
    # the bound is not vacuous: most sequences are within a few percent
    excess.sort()
    assert excess[len(excess) // 2] < 0.05


@pytest.mark.parametrize("n", [1, 2, 3, 7, 40])
def test_equal_compute_bound_tiles_are_exact(n) -> None:
    # every tile loads 1200 + 300 words (2 transfers), computes 1000 cycles, writes 600 words:
    # per tile l + w = 3*100 + 2100/12 = 475 <= 1000, so T = first + n*c + last exactly
    tiles = [([1200, 300], 1000.0, [600]) for _ in range(n)]
    closed, des = check(tiles, 100, 12.0, 0.0)
    assert des == pytest.approx(closed, rel=1e-12)
    assert closed == pytest.approx(2 * 100 + 1500 / 12 + n * 1000 + 100 + 600 / 12, rel=1e-12)


def test_dram_bound_tiles_pay_the_first_load_once() -> None:
    # 10 tiles, 6000 words loaded (1 transfer) and 1200 written each, compute 100: DRAM-bound.
    # first = 100 + 500; steady = 18 transfers * 100 + (72000 - 6000 - 1200)/12 = 1800 + 5400;
    # last = 100 + 100: T = 600 + 7200 + 200 = 8000. The old form, max(C, D/w_d) + 2L + D0/w_d,
    # said 6000 + 200 + 500 = 6700: it counted the first load twice and latency only twice.
    tiles = [([6000], 100.0, [1200]) for _ in range(10)]
    closed, des = check(tiles, 100, 12.0, 0.0)
    assert closed == pytest.approx(8000)
    assert des >= closed


def test_bank_conflicts_slow_only_the_overlapped_transfers() -> None:
    tiles = [([6000], 100.0, [1200]) for _ in range(10)]
    compute, dma = aggregates(tiles)
    base = float(layer_cycles(compute, dma, spec_for(100, 12.0, 0.0)))
    slowed = float(layer_cycles(compute, dma, spec_for(100, 12.0, 0.5)))
    # only the 64800 steady words are slowed: 0.5 * 64800 / 12 = 2700 more cycles
    assert slowed - base == pytest.approx(2700)
    check(tiles, 100, 12.0, 0.5)


def test_layer_overhead_is_paid_once_per_layer() -> None:
    # the DRAM-bound case above (8000 cycles) and the single-buffered one below (9000), each
    # with model.layer_overhead_cycles = 700: one fixed 700 per layer, however many tiles
    tiles = [([6000], 100.0, [1200]) for _ in range(10)]
    compute, dma = aggregates(tiles)
    for double, expected in ((True, 8000 + 700), (False, 9000 + 700)):
        spec = spec_for(100, 12.0, 0.0, double=double).with_changes({"model.layer_overhead_cycles": 700.0})
        assert float(layer_cycles(compute, dma, spec)) == pytest.approx(expected)
    # 40 equal compute-bound tiles (exact closed form, above): 40 * 1000 + first 325 + last 150 + 700
    tiles = [([1200, 300], 1000.0, [600]) for _ in range(40)]
    compute, dma = aggregates(tiles)
    spec = spec_for(100, 12.0, 0.0).with_changes({"model.layer_overhead_cycles": 700.0})
    assert float(layer_cycles(compute, dma, spec)) == pytest.approx(40_000 + 325 + 150 + 700)


def test_single_buffer_is_serial() -> None:
    tiles = [([6000], 100.0, [1200]) for _ in range(10)]
    compute, dma = aggregates(tiles)
    # C + N L + D / w_d = 1000 + 20 * 100 + 72000 / 12
    assert float(layer_cycles(compute, dma, spec_for(100, 12.0, 0.5, double=False))) == pytest.approx(9000)


@pytest.mark.parametrize("case", CONVS[:6], ids=[c[0] for c in CONVS[:6]])
@pytest.mark.parametrize("dataflow", [Dataflow.WS, Dataflow.OS])
def test_walker_tile_sequences(case, dataflow) -> None:
    """Real tile sequences (the walker's, every tiling and order): the engine's DMA aggregates
    equal the walker's, and its cycles bound the simulated pipeline as documented."""
    layer = conv(*case)
    for latency, wd in ((100, 12.0), (10, 1.0)):
        spec = spec_for(latency, wd, 0.0).with_changes({"pe_array.rows": SPEC.pe_array.rows,
                                                        "pe_array.cols": SPEC.pe_array.cols})
        work = build_work(layer, spec)
        for tiles, order in itertools.product(tilings(work), LOOP_ORDERS):
            ref = walk(work, spec, dataflow, tiles, order)
            got = map_fixed(MODELS[dataflow], work, spec, tiles, order)
            where = f"{layer.name} {dataflow} tiles={tiles} order={order}"
            sequence = ref.tiles * work.reps
            compute, dma = aggregates(sequence)
            assert dma.transfers == work.reps * ref.transfers, where
            assert (dma.first_words, dma.first_transfers, dma.last_words) == (
                ref.first_tile_words, ref.first_transfers, ref.last_words), where
            assert got.cycles == pytest.approx(float(layer_cycles(compute, dma, spec)), rel=1e-12), where
            check(sequence, latency, wd, 0.0)
