"""A brute-force reference for the analytical engine: a loop-nest walker and a step simulator.

It shares no code and no closed form with ``accelsim.engine``: it literally runs the tile
loops of a small layer in a given order, steps the PE array and the buffer ports through
every pass, and replays every DMA transfer through its own event loop. What it shares with
the engine is the *hardware* (the spec's fields) and the model's stated rules of that
hardware (design/model.md, the README's model section), written here as a machine, not as
cost formulas:

* **Residency** (DRAM words). One tile of each tensor (inputs, weights, outputs) is resident.
  When the loop moves to an iteration that needs a different tile of a tensor, that tile is
  fetched from DRAM (outputs: the old tile is written back first, as partial sums if some of
  its input-channel tiles are still to come, else as final outputs plus the fused shortcut
  read; the new tile's partial sums are read back if it was resident before).
* **Halo.** An input tile's words are the set of in-image input coordinates its output
  pixels' windows touch (padding is never fetched), enumerated pixel by pixel.
* **The buffer ports.** ``read_ports`` ports, each reading ``port_width_words`` words (null:
  one array row or column, ``max(Pr, Pc)``) per cycle, shared by everything the array reads.
  The simulation clock of a WS pass ticks in *port slots*, one port for one cycle (``P``
  slots a cycle); a line of ``n`` words takes as many slots as it takes ``w``-word reads to
  cover it, counted read by read.
* **WS** (model.md 3.1). Output channels sit on PE columns, input channels on PE rows, one
  kernel tap per pass; packed groups are placed block-diagonally, block by block, until the
  next block runs off the array. A pass streams the tile's pixels as input vectors (one
  Pr-word buffer line each: the buffer lays a pixel's channel vector out one array row
  wide), at most one vector a cycle into the array. A weight block is loaded over the
  row-addressed weight-load path, every PE row rewritten (``Pr`` lines of ``Pc`` words).
  With weight double buffering the next pass's block loads in the port slots the vectors
  leave free, the pass ending when both are done, and the last pass of a tile has no next
  block to load; without it, load, stream and drain run in turn for every pass. The
  systolic fill and drain is stepped on the PE grid: a vector reaches PE ``(r, c)`` ``r + c``
  cycles after it enters and the bottom PE's partial sum is written a cycle later, so a
  tile's last vector leaves the array when its wavefront has crossed the far corner.
* **OS** (model.md 3.2). Output pixels sit on PEs, ``Pr x Pc`` per block of one output
  channel; a block reduces its channels one at a time. Per channel the array is sent one
  weight broadcast per non-zero weight (``R*S*(1 - sigma)`` of them: uniform sparsity, no
  load imbalance, the model's [A]; for a 1x1 kernel a zero weight also spares its channel's
  inputs) and the distinct in-image input words its PEs' windows touch, each read once and
  passed between neighbours (padding positions are zeros the array makes, never read);
  the words stream through all ports continuously, so a channel takes as long as the
  slower of its broadcasts and its words. A finished block drains at the drain width while
  the next block computes (a block takes as long as the slower of the two, model.md 3.7),
  and each tile first fills the array, one PE row per cycle (3.8).
* **Streaming layers** (3.9): every PE does one compare/add a cycle, stepped until the
  operations run out, after the same row-by-row fill.
* **Buffer accesses** are counted per pass / per block, partial-sum reads by tracking which
  output elements already hold a partial sum.
* **DMA.** Every fetch of a tensor tile, every output eviction, partial-sum read-back and
  shortcut read is one transfer; the walker records, per tile in execution order, its loads
  (words per transfer), its compute cycles and the write-backs that follow it
  (``Walk.tiles``). :func:`replay` runs that sequence through an event loop of one DMA
  engine and the array: serial without double buffering; with it, the ping-pong schedule
  (the DMA serves tile i+1's loads and tile i-1's write-backs while tile i computes).
* **Inter-layer residency** (``work.input_resident`` / ``output_resident``). A resident input
  is never fetched (its tile changes cost no DRAM words) and is read in place (no input tile
  in the working set or the first load); a resident output's final values are never written
  to DRAM (partial-sum spills still are). The buffer capacity the search may use is the
  engine's business; ``tests/test_residency.py`` checks it against an exhaustive search.

The engine's closed form of the layer time is a lower bound of :func:`replay`'s makespan,
equal to it for a single buffer and for a one-tile layer without a fused shortcut
(``engine.timing``; the walker stages a shortcut read with its tile's loads, the engine lets
it overlap the compute). :class:`ExhaustiveTiles` at the end is not part of the oracle: it
wraps an engine model to propose every tiling, for the pruned-search test.

Found by this oracle and fixed in the engine: a WS tile's last pass was charged the load of
a next weight block it does not have; OS windows counted padding positions as buffer reads.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from accelsim.hardware.spec import Dataflow, HardwareSpec

if TYPE_CHECKING:
    from accelsim.engine.work import Work


@dataclass(frozen=True)
class Machine:
    """The hardware the oracle steps, read from the spec's fields (no engine rule)."""

    rows: int
    cols: int
    ports: int
    port_words: int
    weight_double_buffer: bool
    drain_words: int
    psum_words: int
    dram_words_per_cycle: float
    latency: float
    double_buffer: bool
    conflict: float
    overhead: float = 0.0  #: fixed control cycles per layer (model.layer_overhead_cycles)

    @classmethod
    def of(cls, spec: HardwareSpec) -> Machine:
        pe, gb = spec.pe_array, spec.global_buffer
        return cls(rows=pe.rows, cols=pe.cols, ports=gb.read_ports,
                   port_words=gb.port_width_words or max(pe.rows, pe.cols),  # the field: null = one row/column
                   weight_double_buffer=spec.ws_weight_double_buffered,  # the flag and the RF room for it
                   drain_words=spec.model.os_output_words_per_cycle or pe.cols,  # null = one row a cycle
                   psum_words=spec.model.psum_words,
                   dram_words_per_cycle=spec.dram.bandwidth_bytes_per_s / (spec.clock_hz * spec.word_bytes),
                   latency=float(spec.dram.latency_cycles), double_buffer=gb.double_buffer,
                   conflict=gb.dma_conflict_fraction, overhead=spec.model.layer_overhead_cycles)


@dataclass
class Walk:
    """What the walker counted (words, cycles, accesses) for one tiling and loop order."""

    inputs: int = 0
    weights: int = 0
    output_writes: int = 0
    output_reads: int = 0
    shortcut: int = 0
    compute_cycles: float = 0.0
    gb_array: float = 0.0  #: global-buffer accesses by the array (not counting DMA words)
    max_tile_words: int = 0
    first_tile_words: int = 0
    first_transfers: int = 0
    last_words: int = 0
    transfers: int = 0
    n_tiles: int = 0
    tiles_seen: list = field(default_factory=list)
    #: per tile in execution order: [load transfer words], compute cycles, [write-back words]
    tiles: list = field(default_factory=list)

    @property
    def dram(self) -> int:
        return self.inputs + self.weights + self.output_writes + self.output_reads + self.shortcut

    def dma_aggregates(self, reps: int = 1) -> tuple[float, float, float, float, float]:
        """``(words, transfers, first words, first transfers, last write-back words)`` of ``reps``
        repetitions run back to back, as counted (``engine.timing.DmaStream``'s fields)."""
        return (float(reps * self.dram), float(reps * self.transfers), float(self.first_tile_words),
                float(self.first_transfers), float(self.last_words))


# ---- the PE array and the buffer ports, stepped -----------------------------------------------
def _reads(words: int, width: int) -> int:
    """Port reads (slots) that cover a line of ``words`` words, ``width`` words a read."""
    reads, left = 0, words
    while left > 0:
        left -= width
        reads += 1
    return reads


def _wavefront(m: Machine) -> int:
    """Cycles from a pass's last vector entering PE (0, 0) to its last partial sum in the buffer:
    the vector reaches PE (r, c) r + c cycles later, the bottom PE's sum is written a cycle after."""
    return max(r + c + 1 for r in range(m.rows) for c in range(m.cols) if r == m.rows - 1)


def _port_pass(m: Machine, start: int, vectors: int, vector_slots: int, weight_slots: int) -> int:
    """Step the ports slot by slot from ``start`` (in slots, ``P`` a cycle): ``vectors`` input
    vectors go first whenever one is due (vector j no earlier than cycle j of the pass: the
    array takes one a cycle), weight-line reads take every other slot. Returns the slot the
    pass ends: all vectors consumed by the array and all weight reads done."""
    p = m.ports
    slot, sent, busy, left = start, 0, 0, weight_slots
    while sent < vectors or busy or left:
        if not busy and sent < vectors and slot >= start + sent * p:
            busy = vector_slots
        if busy:
            busy -= 1
            if not busy:
                sent += 1
        elif left:
            left -= 1
        slot += 1
    return max(slot, start + vectors * p)


@functools.lru_cache(maxsize=4096)
def _ws_tile_cycles(m: Machine, pixels: int, passes: int) -> float:
    """Cycles of one WS tile: ``passes`` passes, each streaming ``pixels`` input vectors."""
    vector = _reads(m.rows, m.port_words)  # one Pr-word line per pixel
    block = sum(_reads(m.cols, m.port_words) for _row in range(m.rows))  # every PE row rewritten
    drain = _wavefront(m) * m.ports
    if m.weight_double_buffer:
        slot = _port_pass(m, 0, 0, vector, block)  # the first block: nothing to overlap it with
        for i in range(passes):
            slot = _port_pass(m, slot, pixels, vector, block if i + 1 < passes else 0)
        slot += drain
    else:
        slot = 0
        for _ in range(passes):
            slot = _port_pass(m, slot, 0, vector, block)  # load, then stream, then drain
            slot = _port_pass(m, slot, pixels, vector, 0) + drain
    return slot / m.ports


def _fill(m: Machine) -> int:
    """Cycles to fill the array before a tile's first block: one PE row a cycle."""
    return sum(1 for _row in range(m.rows))


def _diagonal_groups(m: Machine, c_per_group: int, k_per_group: int) -> int:
    """Groups of ``Cg x Kg`` weights placed block-diagonally until the next one runs off the array."""
    row = col = placed = 0
    while row + c_per_group <= m.rows and col + k_per_group <= m.cols:
        row, col, placed = row + c_per_group, col + k_per_group, placed + 1
    return placed


# ---- the walk ---------------------------------------------------------------------------------
def _ranges(n: int, t: int) -> list[range]:
    return [range(a, min(a + t, n)) for a in range(0, n, t)]


def _touched(outs: range, n_in: int, kernel: int, stride: int, pad: int) -> set[int]:
    return {o * stride - pad + i for o in outs for i in range(kernel) if 0 <= o * stride - pad + i < n_in}


def walk(work: Work, spec: HardwareSpec, dataflow: Dataflow, tiles: tuple[int, int, int, int],
         order: tuple[str, str, str]) -> Walk:
    """Walk ``work`` (one repetition) tiled by ``tiles = (kt, ct, ht, wt)`` in loop ``order``.

    ``kt`` is in units of ``work.k_units`` (groups when packed).
    """
    m = Machine.of(spec)
    kt, ct, ht, wt = tiles
    (ho, wo), (h, w) = work.out_hw, work.in_hw
    (r, s), (sy, sx), (py, px) = work.kernel, work.stride, work.padding
    psum = m.psum_words
    k_tiles = _ranges(work.k_units, kt)
    c_tiles = _ranges(work.c_units, ct)
    s_tiles = [(ys, xs) for ys in _ranges(ho, ht) for xs in _ranges(wo, wt)]  # x innermost
    loops = {"k": range(len(k_tiles)), "c": range(len(c_tiles)), "s": range(len(s_tiles))}

    def channels(ki: int, ci: int) -> tuple[list[int], list[int]]:
        """Output channels and input channels of a (k, c) tile."""
        if work.packed:
            groups = k_tiles[ki]
            return ([g * work.k_per_group + j for g in groups for j in range(work.k_per_group)],
                    [g * work.c_per_group + j for g in groups for j in range(work.c_per_group)])
        return list(k_tiles[ki]), list(c_tiles[ci])

    out = Walk()
    resident: dict[str, tuple | None] = {"in": None, "w": None, "out": None}
    done_c: dict[tuple[int, int], int] = {}  # c-tiles accumulated per output tile
    written: set[tuple[int, int, int]] = set()  # output elements holding a partial sum (WS)
    n_c = len(c_tiles)

    def out_elements(key: tuple[int, int]) -> int:
        ki, si = key
        ys, xs = s_tiles[si]
        return len(channels(ki, 0)[0]) * len(ys) * len(xs)

    def transfer(words: int, into: list) -> None:
        if words > 0:
            out.transfers += 1
            into.append(words)

    def evict_out() -> None:
        key = resident["out"]
        if key is None:
            return
        loads, _, writes = out.tiles[-1]  # the tile that last used this output tile
        if done_c[key] == n_c:
            if not work.output_resident:
                out.output_writes += out_elements(key)  # final: one word per element
                transfer(out_elements(key), writes)
            out.shortcut += work.shortcut_tensors * out_elements(key)
            for _ in range(work.shortcut_tensors):  # read at the final write, staged with the tile
                transfer(out_elements(key), loads)
        else:
            out.output_writes += psum * out_elements(key)
            transfer(psum * out_elements(key), writes)

    for idx in itertools.product(*(loops[name] for name in order)):
        it = dict(zip(order, idx, strict=True))
        ki, ci, si = it["k"], it["c"], it["s"]
        ys, xs = s_tiles[si]
        k_ch, c_ch = channels(ki, ci)
        rows, cols = _touched(ys, h, r, sy, py), _touched(xs, w, s, sx, px)
        in_words = 0 if work.input_resident else work.n_inputs * len(c_ch) * len(rows) * len(cols)
        # every output channel of the tile needs its own inputs' weights: Cg when packed, else ct
        w_words = len(k_ch) * (work.c_per_group if work.packed else len(c_ch)) * r * s if work.has_weights else 0
        in_key = (ki, si) if work.packed else (ci, si)
        loads: list[int] = []
        if resident["in"] != in_key:
            resident["in"] = in_key
            out.inputs += in_words
            for _ in range(work.n_inputs if in_words else 0):  # one transfer per operand tensor
                transfer(in_words // work.n_inputs, loads)
        if resident["w"] != (ki, ci):
            resident["w"] = (ki, ci)
            out.weights += w_words
            transfer(w_words, loads)
        out_key = (ki, si)
        if resident["out"] != out_key:
            evict_out()
            resident["out"] = out_key
            if done_c.get(out_key, 0) > 0:
                out.output_reads += psum * out_elements(out_key)
                transfer(psum * out_elements(out_key), loads)
        compute_before = out.compute_cycles
        first_c, last_c = done_c.get(out_key, 0) == 0, done_c.get(out_key, 0) + 1 == n_c
        done_c[out_key] = done_c.get(out_key, 0) + 1
        tile_words = in_words + w_words + len(k_ch) * len(ys) * len(xs) * (psum + work.shortcut_tensors)
        out.max_tile_words = max(out.max_tile_words, tile_words)
        if out.n_tiles == 0:
            out.first_tile_words = in_words + w_words
            out.first_transfers = len(loads)
        out.n_tiles += 1
        if dataflow is Dataflow.WS:
            _ws_tile(work, m, k_ch, c_ch, ys, xs, written, out)
        elif dataflow is Dataflow.OS:
            _os_tile(work, m, len(k_ch), len(c_ch), ys, xs, first_c, last_c, out)
        out.tiles.append((loads, out.compute_cycles - compute_before, []))
    evict_out()
    last_writes = out.tiles[-1][2]
    out.last_words = last_writes[-1] if last_writes and not work.output_resident else 0
    if dataflow is Dataflow.STREAM:  # the whole array compares/adds, independent of tiling
        out.compute_cycles = float(_stream_cycles(m, work.ops))
        out.tiles = [(loads, out.compute_cycles / out.n_tiles, writes) for loads, _, writes in out.tiles]
    return out


def _stream_cycles(m: Machine, ops: int) -> int:
    """Every PE does one compare/add a cycle until none are left, after the fill."""
    cycles, left = 0, ops
    while left > 0:
        left -= m.rows * m.cols
        cycles += 1
    return cycles + _fill(m)


def _ws_tile(work: Work, m: Machine, k_ch: list[int], c_ch: list[int], ys: range, xs: range,
             written: set, out: Walk) -> None:
    pr, pc, psum = m.rows, m.cols, m.psum_words
    pixels = [(y, x) for y in ys for x in xs]
    t = len(pixels)
    if work.packed:  # folds of the groups that fit the diagonal; each brings Kg outputs and Cg inputs
        gp = _diagonal_groups(m, work.c_per_group, work.k_per_group)
        groups = sorted({k // work.k_per_group for k in k_ch})
        chunks = (groups[i:i + gp] for i in range(0, len(groups), gp))
        # (output channels, input channels, weights) of each pass: block-diagonal groups
        fold_list = [([g * work.k_per_group + j for g in chunk for j in range(work.k_per_group)],
                      len(chunk) * work.c_per_group, len(chunk) * work.k_per_group * work.c_per_group)
                     for chunk in chunks]
    else:
        fold_list = [(k_ch[j:j + pc], len(c_ch[i:i + pr]), len(k_ch[j:j + pc]) * len(c_ch[i:i + pr]))
                     for i in range(0, len(c_ch), pr) for j in range(0, len(k_ch), pc)]
    passes = 0
    for _tap in range(work.taps):
        for ks, c_active, weights in fold_list:
            passes += 1
            out.gb_array += t * c_active  # input vectors
            out.gb_array += weights  # weights shifted into the PEs
            for k in ks:
                for y, x in pixels:
                    out.gb_array += psum  # partial sum written
                    if (k, y, x) in written:
                        out.gb_array += psum  # ... after reading the previous one
                    written.add((k, y, x))
    out.compute_cycles += _ws_tile_cycles(m, t, passes)


def _os_tile(work: Work, m: Machine, n_k: int, n_cin: int, ys: range, xs: range, first_c: bool,
             last_c: bool, out: Walk) -> None:
    psum = m.psum_words
    port_rate = m.ports * m.port_words  # words the ports deliver a cycle, every port streaming inputs
    nz = 1.0 - work.sigma
    broadcasts = work.taps * nz  # non-zero weights of a channel's kernel slice, one per cycle
    spared = nz if work.taps == 1 else 1.0  # a zero 1x1 weight spares its channel's inputs too
    (h, w), (r, s), (sy, sx), (py, px) = work.in_hw, work.kernel, work.stride, work.padding
    reduce_c = work.c_per_group if work.packed else n_cin
    cycles = 0.0
    for _k in range(n_k):
        for band_y in _ranges(len(ys), m.rows):
            for band_x in _ranges(len(xs), m.cols):
                pe_rows = range(ys[band_y.start], ys[band_y.stop - 1] + 1)  # output rows on the PE rows
                pe_cols = range(xs[band_x.start], xs[band_x.stop - 1] + 1)
                words = len(_touched(pe_rows, h, r, sy, py)) * len(_touched(pe_cols, w, s, sx, px))
                compute = 0.0
                for _c in range(reduce_c):
                    compute += max(broadcasts, spared * words / port_rate)
                    out.gb_array += broadcasts + spared * words
                results = len(pe_rows) * len(pe_cols)
                cycles += max(compute, results / m.drain_words)  # drained while the next block computes
                out.gb_array += results * (1 if last_c else psum)  # drain
                if not first_c:
                    out.gb_array += results * psum  # partial sums read back
    out.compute_cycles += cycles + _fill(m)


# ---- the DMA engine and the array, replayed ---------------------------------------------------
def replay(result: Walk, spec: HardwareSpec, reps: int = 1) -> float:
    """Cycles of the walked layer (``reps`` repetitions back to back) by an event loop over its
    transfers and tiles: one DMA engine, one transfer at a time, ``latency + words / rate``
    each. Single buffer: each tile loads, computes and writes back before the next starts.
    Double buffer (ping-pong halves): the engine serves tile 0's and tile 1's loads, then after
    each tile i is done its write-backs and tile i+2's loads (tile i's half is free again);
    tile i computes once its loads are in and tile i-1 is done. Transfers that run next to the
    array (all but tile 0's loads and the very last write-back) lose ``dma_conflict_fraction``
    of their buffer cycles to it. The layer's fixed control time (``layer_overhead_cycles``)
    is added once, after the pipeline."""
    m = Machine.of(spec)
    seq = result.tiles * reps
    n = len(seq)
    if not m.double_buffer:
        clock = 0.0
        for loads, compute, writes in seq:
            for words in (*loads, *writes):
                clock += m.latency + words / m.dram_words_per_cycle
            clock += compute
        return clock + m.overhead
    last = (n - 1, len(seq[-1][2]) - 1)
    events: list[tuple[str, int]] = [("load", 0)] + ([("load", 1)] if n > 1 else [])
    for i in range(n):
        events.append(("write", i))
        if i + 2 < n:
            events.append(("load", i + 2))
    dma_free, end = 0.0, 0.0
    loaded: dict[int, float] = {}
    done: dict[int, float] = {}

    def finished(i: int) -> float:  # tile i's compute, resolved when first needed
        if i not in done:
            done[i] = max(loaded[i], finished(i - 1) if i else 0.0) + seq[i][1]
        return done[i]

    for kind, i in events:
        ready = (finished(i - 2) if i >= 2 else 0.0) if kind == "load" else finished(i)
        words_list = seq[i][0] if kind == "load" else seq[i][2]
        clock = max(dma_free, ready) if words_list else ready
        for j, words in enumerate(words_list):
            quiet = (kind == "load" and i == 0) or (kind == "write" and (i, j) == last)
            clock += m.latency + words * (1.0 if quiet else 1.0 + m.conflict) / m.dram_words_per_cycle
        if words_list:
            dma_free = clock
        if kind == "load":
            loaded[i] = max(clock, ready)
        end = max(end, clock)
    return max(end, finished(n - 1)) + m.overhead  # the layer's fixed control time, outside the pipeline


class ExhaustiveTiles:
    """A dataflow model proposing every tile size 1..n along every dimension (no pruning).

    Wraps a real model (``accelsim.engine.MODELS[df]``): same compute model, unpruned
    candidates, so ``map_best`` over it is the brute-force optimum the pruned search must reach.
    """

    def __init__(self, base) -> None:
        self.base, self.dataflow = base, base.dataflow

    def supports(self, work) -> bool:
        return self.base.supports(work)

    def candidate_tiles(self, work, spec):
        ho, wo = work.out_hw
        return tuple(np.arange(n, 0, -1) for n in (work.k_units, work.c_units, ho, wo))

    def compute_model(self, nest, spec):
        return self.base.compute_model(nest, spec)
