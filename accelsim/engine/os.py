"""Output stationary, SOC-MOP form (OS) on a ``Pr x Pc`` array (model.md 3.2).

The array computes a ``Pr x Pc`` block (*sub-tile*) of **one** output channel's map; every
PE accumulates one output pixel in its register while the ``c, i, j`` loops run innermost.
One weight is broadcast per cycle; zero weights are skipped for the whole array (all PEs
share the weight), which is how OS, and only OS, exploits weight sparsity ``sigma``.

Per sub-tile of ``pr x pc`` active PEs (``pr <= Pr``, ``pc <= Pc``):

* ``win`` input words per channel: the in-image inputs the sub-tile's PEs touch, each read
  once and passed between neighbours, ``((pr-1)*min(sy,R) + R) * ((pc-1)*min(sx,S) + S)`` in
  the map's interior and fewer at its border (padding positions are zeros the array makes,
  never read from the buffer; :func:`band_classes`). Until the independent oracle
  (``accelsim.oracle``) enumerated the windows, the padding was counted as read;
* ``cyc_c = max(R*S*(1-sigma), q*win/B_in)`` cycles per input channel, with ``q = 1-sigma``
  for 1x1 kernels (a zero weight also spares its channel's inputs) else 1  (3.6);
* ``max(ct*cyc_c, pr*pc/B_out)`` cycles per (output channel, sub-tile, c-tile): the finished
  block drains at ``B_out`` words/cycle overlapped with the next block  (3.7);
* ``+ Pr`` per tile: filling the first block  (3.8).

**Deviation from model.md (argued):** model.md charges every sub-tile as a full one
(``pr = min(Pr, ht)``); here each sub-tile class (full ``Pr``-row bands, the remainder of a
full tile, the remainder of the last tile; likewise columns) is charged at its real size, so
a 14-wide tile on a 16-wide array and a 20-wide tile (16 + 4) are both priced exactly.

``B_in`` = ``HardwareSpec.array_read_width`` = ``global_buffer.read_ports x port_width``: the
same buffer-port model WS draws its input vectors and weight loads from (``engine.ws``); in
OS every read port streams input windows (the one broadcast weight per cycle is read a
port-width at a time into a weight FIFO, ``R*S*(1-sigma)/w`` port-cycles per channel, under
1 % of a window's and neglected). Defaults: 4 ports of ``max(Pr, Pc)`` words, i.e. ``4*Pc``
(64 words on 16x16, 32 on 8x8). The old default, ``Pr*Pc`` words every cycle (4,096 bits
on 16x16, 16 times the WS input path of the same buffer), let every 1x1 OS layer run at
``1/(1-sigma)`` of the dense peak; a physical buffer reads a few banks of one row each.
``B_out`` = ``model.os_output_words_per_cycle`` (default ``Pc``).

Accesses (model.md 7.5-7.7), per repetition, with ``nz = 1 - sigma``:
MAC = nz*MACs; RF = 2*nz*MACs (accumulator read + write); inter-PE = 2*nz*MACs; global
buffer = weight broadcasts (one per non-zero weight per output channel and sub-tile) +
input windows (``q*win`` per output channel, sub-tile and input channel) + output drains
(one write per element per c-tile, partial sums read back, ``psum_words`` each for partials)
+ one access per DRAM word.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from accelsim.engine.base import Tiles
from accelsim.engine.traffic import LoopNest, Traffic, band_rows, window_rows
from accelsim.engine.work import Work, WorkKind
from accelsim.hardware.spec import Dataflow, HardwareSpec
from accelsim.mapping.tiling import tile_values
from accelsim.results import AccessCounts


@lru_cache(maxsize=4096)
def band_classes(n_out: int, n_in: int, kernel: int, stride: int, pad: int, quantum: int,
                 tiles: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sub-tile bands of one axis, as classes of equal (size, in-image window).

    Every tile of ``tiles[v]`` output rows (the last one the remainder) is cut into bands of at
    most ``quantum`` rows (one per array row); a band's window is the input rows its outputs
    touch inside the image (padding rows are zeros the array makes, never read), so a band at
    the border reads fewer rows than an interior one. Returns ``(sizes, windows, counts)``:
    the distinct (size, window) pairs that occur (U,) and how many bands of each every
    candidate has (V, U).
    """
    full, new = window_rows(n_out, n_in, kernel, stride, pad)
    cum = np.concatenate([[0], np.cumsum(new)]).tolist()
    full_l = full.tolist()
    index: dict[tuple[int, int], int] = {}
    per_candidate = []
    for t in tiles:
        seen: dict[int, int] = {}
        for tile_start in range(0, n_out, t):
            tile_stop = min(tile_start + t, n_out)
            for start in range(tile_start, tile_stop, quantum):
                stop = min(start + quantum, tile_stop)
                key = (stop - start, int(band_rows(full_l, cum, start, stop)))
                u = index.setdefault(key, len(index))
                seen[u] = seen.get(u, 0) + 1
        per_candidate.append(seen)
    counts = np.zeros((len(tiles), len(index)))
    for v, seen in enumerate(per_candidate):
        for u, n in seen.items():
            counts[v, u] = n
    keys = np.array(list(index), dtype=np.int64).reshape(-1, 2)
    for arr in (keys, counts):
        arr.setflags(write=False)
    return keys[:, 0], keys[:, 1], counts


class OSCompute:
    """OS cycles and accesses over a loop nest's candidate grid."""

    def __init__(self, nest: LoopNest, spec: HardwareSpec) -> None:
        work, pe = nest.work, spec.pe_array
        self.nest, self.work, self.fill = nest, work, pe.rows
        b_in = spec.array_read_width
        b_out = spec.model.os_output_words_per_cycle or pe.cols
        nz = 1.0 - work.sigma
        self.q = nz if work.taps == 1 else 1.0
        (ho, wo), (h, w) = work.out_hw, work.in_hw
        a, row_win, rows = band_classes(ho, h, work.kernel[0], work.stride[0], work.padding[0], pe.rows,
                                        tuple(nest.y.tile.tolist()))
        b, col_win, cols = band_classes(wo, w, work.kernel[1], work.stride[1], work.padding[1], pe.cols,
                                        tuple(nest.x.tile.tolist()))
        self.sub_rows, self.sub_cols = rows.sum(axis=1), cols.sum(axis=1)
        self.row_words, self.col_words = rows @ row_win, cols @ col_win  # window words summed over bands
        # Cycles of one sub-tile of a x b active PEs reducing u input channels, for every
        # (row band, column band) class and distinct c-tile size u; then summed over each
        # candidate's sub-tiles with the count matrices (two small matrix products).
        win = row_win[:, None] * col_win[None, :]
        per_channel = np.maximum(work.taps * nz, self.q * win / b_in)  # (A, B)
        drain = (a[:, None] * b[None, :]) / b_out
        if work.packed:  # each output channel reduces over its own group's Cg channels
            c_sizes, c_mult = np.array([[work.c_per_group, 0]]), np.array([[1, 0]])
        else:
            c_sizes, c_mult = nest.c.classes()
        sizes, inverse = np.unique(c_sizes, return_inverse=True)
        block = np.maximum(sizes[:, None, None] * per_channel[None], drain[None])  # (U, A, B)
        per_size = rows[None] @ (block @ cols.T)  # (U, Vy, Vx): one output channel
        per_size = per_size.reshape(sizes.size, -1)
        inverse = inverse.reshape(c_sizes.shape)
        block_sum = c_mult[:, 0, None] * per_size[inverse[:, 0]] + c_mult[:, 1, None] * per_size[inverse[:, 1]]
        if work.packed:
            block_sum = np.broadcast_to(block_sum, (len(nest.c), block_sum.shape[1]))
        self.block_sum = block_sum  # (Vc, spatial pairs)

    def cycles(self, cp: np.ndarray, sp: np.ndarray, n_tiles: np.ndarray) -> np.ndarray:
        block = self.block_sum[np.ix_(self.nest.cp_c[cp], sp)]
        block *= self.work.out_channels
        block += self.fill * n_tiles
        return block

    def accesses(self, cp: int, sp: int, traffic: Traffic) -> AccessCounts:
        nest, work, pw = self.nest, self.work, self.nest.psum_words
        iy, ix = int(nest.sp_y[sp]), int(nest.sp_x[sp])
        nz = 1.0 - work.sigma
        macs = work.macs / work.reps
        subs = float(self.sub_rows[iy] * self.sub_cols[ix])
        windows = float(self.row_words[iy] * self.col_words[ix])
        k, cg = work.out_channels, work.c_per_group
        weight_reads = k * subs * cg * work.taps * nz
        input_reads = k * cg * windows * self.q
        n_c = int(nest.n_c[cp])
        drains = work.out_words * (1 + 2 * (n_c - 1) * pw)
        gb = weight_reads + input_reads + drains + float(traffic.total)
        return AccessCounts(mac=nz * macs, register_file=2 * nz * macs, inter_pe=2 * nz * macs, global_buffer=gb,
                            dram=float(traffic.total))


class OutputStationary:
    """The OS dataflow (see the module docstring)."""

    dataflow = Dataflow.OS

    def supports(self, work: Work) -> bool:
        return work.kind is WorkKind.CONV

    def candidate_tiles(self, work: Work, spec: HardwareSpec) -> Tiles:
        """Output rows / columns fold onto the array (quantum Pr / Pc); channels are balanced only.

        Channels need no quantum: an OS tile's compute is a sum of a convex function of
        the c-tile sizes (``max(ct*cyc, drain)``) and is independent of the k split.
        """
        ho, wo = work.out_hw
        return (tile_values(work.k_units), tile_values(work.c_units),
                tile_values(ho, spec.pe_array.rows), tile_values(wo, spec.pe_array.cols))

    def compute_model(self, nest: LoopNest, spec: HardwareSpec) -> OSCompute:
        return OSCompute(nest, spec)
