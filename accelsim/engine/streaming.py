"""Streaming layers: pooling, global pooling, standalone residual add (model.md 3.3).

All ``Pr*Pc`` PEs perform compares or adds, so the array needs
``ceil(ops / (Pr*Pc)) + Pr`` cycles (eq. 3.9) with ``ops = K*Ho*Wo*R*S`` (pool),
``C*H*W`` (global pool) or ``K*Ho*Wo`` per extra operand (add). The layer is tiled like a
depthwise conv without weights (a channel's output needs only that channel's input): tiles
of channels and output rows / columns, pooling windows re-reading their halo across row and
column tiles. The search therefore minimises the DMA prologue and any halo re-reads; the
layer is DRAM-bound in practice.

Accesses (model.md 7): MAC = RF = ops, inter-PE = 0, global buffer = 2 per DRAM word (in
through the DMA, out to the array and back), DRAM = the traffic. A resident input or output
(inter-layer residency) skips the DMA half of its words' buffer accesses but not the array's:
one buffer access per input word read (halo re-reads included) or output word written.
"""

from __future__ import annotations

import numpy as np

from accelsim.engine.base import Tiles
from accelsim.engine.traffic import LoopNest, Traffic
from accelsim.engine.work import Work, WorkKind
from accelsim.hardware.spec import Dataflow, HardwareSpec
from accelsim.mapping.tiling import tile_values
from accelsim.results import AccessCounts


class StreamCompute:
    """Streaming cycles (independent of the tiling) and accesses."""

    def __init__(self, nest: LoopNest, spec: HardwareSpec) -> None:
        pe = spec.pe_array
        self.nest = nest
        self.ops = nest.work.ops
        self.total = -(-self.ops // (pe.rows * pe.cols)) + pe.rows

    def cycles(self, cp: np.ndarray, sp: np.ndarray, n_tiles: np.ndarray) -> np.ndarray:
        return np.full((cp.size, sp.size), float(self.total))

    def accesses(self, cp: int, sp: int, traffic: Traffic) -> AccessCounts:
        work = self.nest.work
        words = float(traffic.total)
        # the array's side of resident tensors (their DMA side is gone with their DRAM words)
        in_place = work.n_inputs * work.in_channels * int(self.nest.halo[sp]) if work.input_resident else 0
        in_place += work.final_out_words if work.output_resident else 0
        return AccessCounts(mac=self.ops, register_file=self.ops, inter_pe=0.0, global_buffer=2 * words + in_place,
                            dram=words)


class Streaming:
    """The streaming dataflow of pooling and element-wise layers."""

    dataflow = Dataflow.STREAM

    def supports(self, work: Work) -> bool:
        return work.kind is WorkKind.STREAM

    def candidate_tiles(self, work: Work, spec: HardwareSpec) -> Tiles:
        ho, wo = work.out_hw
        return tile_values(work.k_units), tile_values(work.c_units), tile_values(ho), tile_values(wo)

    def compute_model(self, nest: LoopNest, spec: HardwareSpec) -> StreamCompute:
        return StreamCompute(nest, spec)
