"""A brute-force loop-nest walker: the reference the analytical engine is checked against.

It literally runs the tile loops of a small layer in a given order and counts what happens,
with no closed forms:

* **Residency.** One tile of each tensor (inputs, weights, outputs) is resident. When the
  loop moves to an iteration that needs a different tile of a tensor, that tile is fetched
  from DRAM (outputs: the old tile is written back first, as partial sums if some of its
  input-channel tiles are still to come, else as final outputs plus the fused shortcut
  read; the new tile's partial sums are read back if it was resident before).
* **Halo.** An input tile's words are the set of in-image input coordinates its output
  pixels' windows touch (padding is never fetched), enumerated pixel by pixel.
* **Compute.** WS: each tile's passes are enumerated (tap x input-channel fold x
  output-channel fold, or packed group folds), costing ``max(T, Pr)`` each plus the per-tile
  fill; OS: each tile's output channels and ``Pr x Pc`` sub-tiles are enumerated. Global-
  buffer accesses are counted per pass / per sub-tile, partial-sum reads by tracking which
  output elements already hold a partial sum.
* **DMA events.** Every fetch of a tensor tile, every output eviction, partial-sum read-back
  and shortcut read is one transfer; the walker records, per tile in execution order, its
  loads (words per transfer), its compute cycles and the write-backs that follow it
  (``Walk.tiles``), which ``tests/test_pipeline.py`` replays through a discrete-event
  simulation of the DMA/compute pipeline.
* **Inter-layer residency** (``work.input_resident`` / ``output_resident``). A resident input
  is never fetched (its tile changes cost no DRAM words) and is read in place (no input tile
  in the working set or the first load); a resident output's final values are never written
  to DRAM (partial-sum spills still are). The buffer capacity the search may use is the
  engine's business; ``tests/test_residency.py`` checks it against an exhaustive search.

Only the per-tile / per-pass cost rules of model.md are shared with the engine; every sum,
re-fetch count, halo and remainder is counted here by enumeration.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from accelsim.engine.work import Work, pack_factor
from accelsim.hardware.spec import Dataflow, HardwareSpec


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

    def dma(self, reps: int = 1):
        """The aggregates the engine's timing uses, for ``reps`` repetitions run back to back."""
        from accelsim.engine.timing import DmaStream

        return DmaStream(float(reps * self.dram), float(reps * self.transfers), float(self.first_tile_words),
                         float(self.first_transfers), float(self.last_words))


def _ranges(n: int, t: int) -> list[range]:
    return [range(a, min(a + t, n)) for a in range(0, n, t)]


def _touched(outs: range, n_in: int, kernel: int, stride: int, pad: int) -> set[int]:
    return {o * stride - pad + i for o in outs for i in range(kernel) if 0 <= o * stride - pad + i < n_in}


def walk(work: Work, spec: HardwareSpec, dataflow: Dataflow, tiles: tuple[int, int, int, int],
         order: tuple[str, str, str]) -> Walk:
    """Walk ``work`` (one repetition) tiled by ``tiles = (kt, ct, ht, wt)`` in loop ``order``.

    ``kt`` is in units of ``work.k_units`` (groups when packed).
    """
    kt, ct, ht, wt = tiles
    (ho, wo), (h, w) = work.out_hw, work.in_hw
    (r, s), (sy, sx), (py, px) = work.kernel, work.stride, work.padding
    psum = spec.model.psum_words
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
            _ws_tile(work, spec, k_ch, c_ch, ys, xs, written, out)
        elif dataflow is Dataflow.OS:
            _os_tile(work, spec, len(k_ch), len(c_ch), ys, xs, first_c, last_c, out)
        out.tiles.append((loads, out.compute_cycles - compute_before, []))
    evict_out()
    last_writes = out.tiles[-1][2]
    out.last_words = last_writes[-1] if last_writes and not work.output_resident else 0
    if dataflow is Dataflow.STREAM:  # eq. 3.9: the whole array compares/adds, independent of tiling
        out.compute_cycles = -(-work.ops // (spec.pe_array.rows * spec.pe_array.cols)) + spec.pe_array.rows
        out.tiles = [(loads, out.compute_cycles / out.n_tiles, writes) for loads, _, writes in out.tiles]
    return out


def _ws_tile(work: Work, spec: HardwareSpec, k_ch: list[int], c_ch: list[int], ys: range, xs: range,
             written: set, out: Walk) -> None:
    pr, pc = spec.pe_array.rows, spec.pe_array.cols
    psum = spec.model.psum_words
    pixels = [(y, x) for y in ys for x in xs]
    t = len(pixels)
    if work.packed:  # folds of gp groups; each group brings Kg outputs and Cg inputs
        gp = pack_factor(work.c_per_group, work.k_per_group, spec)
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
    # the buffer-port rule of model.md 3.2 as accelsim prices it: P ports of w words; an input
    # vector takes ceil(Pr/w) port-cycles, a weight block Pr*ceil(Pc/w), at most one vector a cycle
    ports, width = spec.global_buffer.read_ports, spec.port_width
    vector, block = -(-pr // width), pr * -(-pc // width)
    if spec.ws_weight_double_buffered:
        out.compute_cycles += passes * max(t, (t * vector + block) / ports) + block / ports + pr + pc - 1
    else:
        out.compute_cycles += passes * (max(t, t * vector / ports) + block / ports + pr + pc - 1)


def _os_tile(work: Work, spec: HardwareSpec, n_k: int, n_cin: int, ys: range, xs: range, first_c: bool,
             last_c: bool, out: Walk) -> None:
    pr, pc = spec.pe_array.rows, spec.pe_array.cols
    psum = spec.model.psum_words
    b_in = spec.global_buffer.read_ports * spec.port_width  # every read port streams inputs
    b_out = spec.model.os_output_words_per_cycle or pc
    nz = 1.0 - work.sigma
    q = nz if work.taps == 1 else 1.0
    (r, s), (sy, sx) = work.kernel, work.stride
    reduce_c = work.c_per_group if work.packed else n_cin
    cycles = 0.0
    for _k in range(n_k):
        for sub_y in _ranges(len(ys), pr):
            for sub_x in _ranges(len(xs), pc):
                a, b = len(sub_y), len(sub_x)
                win = ((a - 1) * min(sy, r) + r) * ((b - 1) * min(sx, s) + s)
                per_channel = max(work.taps * nz, q * win / b_in)
                cycles += max(reduce_c * per_channel, a * b / b_out)
                out.gb_array += reduce_c * work.taps * nz  # weight broadcasts
                out.gb_array += reduce_c * win * q  # input windows
                out.gb_array += a * b * (1 if last_c else psum)  # drain
                if not first_c:
                    out.gb_array += a * b * psum  # partial sums read back
    out.compute_cycles += cycles + pr


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
