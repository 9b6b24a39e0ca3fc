"""Weight stationary (WS) on a ``Pr x Pc`` array (model.md 3.1).

The array holds a ``Pr x Pc`` block of one kernel tap's weights: rows split the input
channels, columns the output channels. A *pass* streams the ``T = ht*wt`` input vectors of
the tile through the stationary block; partial sums flow down the columns into the global
buffer. Taps are separate passes (a per-tap 1x1 decomposition).

Per tile with ``ct`` input and ``kt`` output channels (packed small groups: ``gt`` groups,
``gp`` per pass):

* ``passes = R*S * ceil(ct/Pr) * ceil(kt/Pc)`` (packed: ``R*S * ceil(gt/gp)``)  (3.1, 3.4)
**The buffer ports and the weight-load path** (one model with OS: ``global_buffer.read_ports``
``P`` ports of ``port_width`` ``w`` words, ``HardwareSpec.array_read_width``). A pass reads
``T`` input vectors (``v = ceil(Pr/w)`` port-cycles each; 1 by default, ``w = max(Pr, Pc)``)
and, for the next pass, a new ``Pr x Pc`` block of weights: ``F = Pr * ceil(Pc/w)``
port-cycles (the array's weight-load path writes one row of a block per port-cycle over
row-addressed weight buses, every row rewritten). The array consumes at most one input
vector per cycle (the systolic stream), and all ``P`` ports are shared, so

* weight double buffering (``HardwareSpec.ws_weight_double_buffered``): the next weights load
  while this pass streams: a pass costs ``max(T, (T*v + F) / P)``; each tile pays its first
  weight load ``F/P`` and the systolic skew ``Pr + Pc - 1`` once, and its last pass has no
  next block to load (it costs ``max(T, T*v/P)``):
  ``(passes - 1) * max(T, (T*v + F)/P) + max(T, T*v/P) + F/P + Pr + Pc - 1``  (3.2 with the
  load priced). Until the independent oracle (``accelsim.oracle``, which steps the ports slot
  by slot) found it, every pass was charged a next block, so a tile of ``n`` passes paid
  ``n + 1`` block loads: too slow by ``max(T, (T*v + F)/P) - max(T, T*v/P)`` a tile whenever
  the load does not hide behind the stream (``T < F/(P - v)``: FC layers, tiny tiles);
* without it: ``passes * (max(T, T*v/P) + F/P + Pr + Pc - 1)`` (3.3, SCALE-Sim's fold cost).

Why: the old ``max(T, Pr)`` pass cost fixed the weight-load path at ``Pc`` words/cycle, so a
use-once weight (an FC layer, ``T = 1``) streamed at ``Pc`` words/cycle whatever the buffer
and DRAM could do (8 on 8x8, below the 12 the DRAM delivers). Now a use-once weight streams
at ``P*w`` words/cycle less the input vector's share, and the DMA side of the tile pipeline
(``engine.timing``) caps it at the DRAM rate: an FC layer runs at the slower of the two. With
the defaults (``P = 4``, ``w = Pc``) a conv pass with ``T >= Pr/3`` costs ``T`` as before;
shorter streams and each tile's first load get cheaper. ``max`` of linear functions of ``T``
is convex in ``T``, so the tiling pruning rule 1 (balanced splits) still holds.

Summed over tiles these factor into per-dimension fold sums (``sum_i ceil(ct_i/Pr)``) times
the spatial stream sum ``sum_s pass(T_s)`` over the tile classes (full tiles and
remainders), which is exactly the per-tile sum, remainder tiles included (checked against a
literal walk in ``tests/oracle.py``). WS cannot skip zero weights (model.md 6).

Accesses (model.md 7.1-7.4, 7.8), per repetition:
MAC = MACs; RF = MACs + weights loaded into the PEs (``Wt * n_s``); inter-PE = 2 MACs (input
hop right, psum hop down); global buffer = input reads (each input word once per tap and
column fold: ``R*S*C*Ho*Wo*sum_k ceil(kt/Pc)``; packed: once per tap) + psum writes (one per
output per pass, ``psum_words`` each) + psum reads (all but each output's first write) +
weight reads (``Wt * n_s``) + one access per DRAM word.
"""

from __future__ import annotations

import numpy as np

from accelsim.engine.base import Tiles
from accelsim.engine.traffic import LoopNest, Traffic
from accelsim.engine.work import Work, WorkKind, pack_factor
from accelsim.hardware.spec import Dataflow, HardwareSpec
from accelsim.mapping.tiling import tile_values
from accelsim.results import AccessCounts


def ws_port_costs(spec: HardwareSpec) -> tuple[int, int, int]:
    """``(P, v, F)``: read ports, port-cycles per input vector (``ceil(Pr/w)``) and port-cycles
    to load one ``Pr x Pc`` weight block (``Pr * ceil(Pc/w)``), ``w`` = ``spec.port_width``."""
    pr, pc, width = spec.pe_array.rows, spec.pe_array.cols, spec.port_width
    return spec.global_buffer.read_ports, -(-pr // width), pr * -(-pc // width)


class WSCompute:
    """WS cycles and accesses over a loop nest's candidate grid."""

    def __init__(self, nest: LoopNest, spec: HardwareSpec) -> None:
        work, pe = nest.work, spec.pe_array
        self.nest, self.work = nest, work
        pr, pc = pe.rows, pe.cols
        if work.packed:
            self.k_folds = nest.k.folds(pack_factor(work.c_per_group, work.k_per_group, spec))
            self.c_folds = np.ones(len(nest.c), dtype=np.int64)
        else:
            self.k_folds = nest.k.folds(pc)
            self.c_folds = nest.c.folds(pr)
        ys, yn = nest.y.classes()
        xs, xn = nest.x.classes()
        stream = ys[:, :, None, None] * xs[None, None, :, :]  # T of every (y-class, x-class) tile
        mult = yn[:, :, None, None] * xn[None, None, :, :]
        ports, v, load = ws_port_costs(spec)
        self.last_pass_saving = np.zeros(nest.pairs[1])
        if spec.ws_weight_double_buffered:  # the flag, if the register file has room for the next weight
            stream_sum = (mult * np.maximum(stream, (stream * v + load) / ports)).sum(axis=(1, 3))
            self.tile_overhead = load / ports + pr + pc - 1
            # a tile's last pass has no next block to load: it costs max(T, T*v/P)
            saving = mult * (np.maximum(stream, (stream * v + load) / ports) - np.maximum(stream, stream * v / ports))
            self.last_pass_saving = saving.sum(axis=(1, 3)).ravel()
        else:
            per_pass = np.maximum(stream, stream * v / ports) + load / ports + pr + pc - 1
            stream_sum = (mult * per_pass).sum(axis=(1, 3))
            self.tile_overhead = 0
        self.stream_sum = stream_sum.ravel()  # per spatial pair
        self.fold_pairs = self.k_folds[nest.cp_k] * self.c_folds[nest.cp_c]  # per channel pair

    def cycles(self, cp: np.ndarray, sp: np.ndarray, n_tiles: np.ndarray) -> np.ndarray:
        out = (self.work.taps * self.fold_pairs[cp])[:, None] * self.stream_sum[None, sp]
        if self.tile_overhead:
            out += self.tile_overhead * n_tiles
            kc_tiles = (self.nest.n_k[cp] * self.nest.n_c[cp])[:, None]
            out -= kc_tiles * self.last_pass_saving[None, sp]
        return out

    def accesses(self, cp: int, sp: int, traffic: Traffic) -> AccessCounts:
        nest, work, pw = self.nest, self.work, self.nest.psum_words
        macs = work.macs / work.reps
        ho, wo = work.out_hw
        pixels_taps = work.taps * ho * wo
        weight_loads = float(work.weight_words * nest.n_s[sp])
        col_folds = 1 if work.packed else int(self.k_folds[nest.cp_k[cp]])
        row_folds = 1 if work.packed else int(self.c_folds[nest.cp_c[cp]])
        in_reads = pixels_taps * work.in_channels * col_folds
        psum_writes = pixels_taps * work.out_channels * row_folds * pw
        psum_reads = psum_writes - work.out_words * pw
        gb = in_reads + psum_writes + psum_reads + weight_loads + float(traffic.total)
        return AccessCounts(mac=macs, register_file=macs + weight_loads, inter_pe=2 * macs, global_buffer=gb,
                            dram=float(traffic.total))


class WeightStationary:
    """The WS dataflow (see the module docstring)."""

    dataflow = Dataflow.WS

    def supports(self, work: Work) -> bool:
        return work.kind is WorkKind.CONV

    def candidate_tiles(self, work: Work, spec: HardwareSpec) -> Tiles:
        """Channels fold onto the array (quantum Pc / Pr / gp); spatial tiles are balanced only."""
        pr, pc = spec.pe_array.rows, spec.pe_array.cols
        k_quantum = pack_factor(work.c_per_group, work.k_per_group, spec) if work.packed else pc
        ho, wo = work.out_hw
        return (tile_values(work.k_units, k_quantum), tile_values(work.c_units, pr),
                tile_values(ho), tile_values(wo))

    def compute_model(self, nest: LoopNest, spec: HardwareSpec) -> WSCompute:
        return WSCompute(nest, spec)
