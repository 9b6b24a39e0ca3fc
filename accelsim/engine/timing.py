"""Layer time: the pipeline of tile loads, compute and write-backs behind one DMA engine.

``w_d = bandwidth / (clock * word_bytes)`` DRAM words per cycle (16 GB/s at 667 MHz, 2-byte
words: 12), ``L`` = ``dram.latency_cycles``.

**The pipeline** (double-buffered global buffer, ``global_buffer.double_buffer``). The tiles
run in loop order; tile ``i`` needs its *loads* (the operand tiles that changed since tile
``i-1``: an input tile, a weight tile, partial sums read back, a fused shortcut), computes
for ``c_i`` cycles, and may leave *write-backs* (an evicted output tile: partial sums or final
values). The buffer holds two tile working sets (ping-pong halves). One DMA engine serves
every transfer in turn, in the order ``L0, L1, W0, L2, W1, ..., L(n-1), W(n-2), W(n-1)``:
while the array computes tile ``i`` in one half, the DMA writes back tile ``i-1`` from the
other half and then loads tile ``i+1`` into it. So

* tile ``i`` computes once its loads are in and tile ``i-1`` is done;
* the write-back of tile ``i`` starts once tile ``i`` is done;
* the loads of tile ``i+2`` start once tile ``i`` is done (they reuse its half);
* a transfer of ``m`` words occupies the DMA engine ``L + m/w_d`` cycles: the engine has one
  burst in flight, so each transfer's latency is paid on its timeline (it can be hidden only
  behind *compute*, never behind another transfer);
* DMA words that move while the array computes (every transfer except the first tile's loads
  and the last write-back) contend with the array for the buffer's banks: a fraction
  ``beta`` = ``global_buffer.dma_conflict_fraction`` of their buffer cycles lose the bank to
  the array and are retried, so they take ``(1 + beta) m / w_d`` (see that field).

**The closed form** used by the tiling search, from six aggregates of the tile sequence
(:class:`DmaStream`: DMA words ``D``, transfers ``N``, the first tile's ``D0`` words in
``N0`` transfers, the last write-back's ``D1`` words, ``N1 = [D1 > 0]``) and the compute
``C = sum c_i``::

    first  = N0 L + D0 / w_d                               # nothing computes before it
    last   = N1 (L + D1 / w_d)                             # nothing follows it
    steady = (N - N0 - N1) L + (1 + beta) (D - D0 - D1) / w_d
    T      = first + max(C, steady) + last + H

Compared with the old ``max(C, D/w_d) + 2L + D0/w_d``: a DRAM-bound layer no longer pays
the first tile's words twice (they are in ``first``, not also in ``steady``), a
compute-bound layer now pays its last write-back (``last``), and latency is charged per
transfer, so a tiling with many small tiles pays for them.

**What the closed form is** (``tests/test_pipeline.py`` checks every claim against an
independent discrete-event simulation of the schedule above, on 3,000 random tile
sequences and on the brute-force walker's real tile sequences under every tiling and loop
order): a *lower bound* of the pipeline's makespan for any tile sequence, because the first
tile's loads precede all compute and all other DMA, the last write-back follows both, all
compute is serial and all DMA is serial. It is *exact* when every tile is alike and the
layer is compute-bound (``c >= l + w`` per tile). The simulated makespan is in turn at most
that of the synchronous schedule ``l_0 + sum_i max(c_i, w_(i-1) + l_(i+1)) + w_(n-1)``
(a feasible schedule with the same DMA order). The gap to the lower bound is the start-up
and drain bubbles plus tiles whose compute and DMA do not balance one by one; measured:
the walker's sequences (small test layers of 1-8 tiles) median 0, 90th percentile 9.5%,
worst 27% (an 8-tile grouped conv); random sequences median 0.7%. Real layers have many
near-identical tiles (full tiles plus one remainder per dimension), where the bound is
tight; the search ranks tilings on it.

**The layer overhead** ``H`` = ``model.layer_overhead_cycles`` (default 0) is added to every
layer the array runs (conv, FC, an unfused pool or add; a fused layer costs nothing): the
fixed work outside the tile pipeline. The accelerator runs one layer at a time (SqNxt §3), so
between two layers the controller loads the next layer's descriptor (loop bounds, tile
sizes, base addresses, dataflow) and reconfigures the array and the DMA engine, and the
array's last results must be out before the next layer's first tile may start (layer
``n+1`` reads what layer ``n`` wrote). None of it scales with the layer's size, so it is a
constant per layer, the same on 8x8 and 16x16. The paper says its cycles model the "control
logic" but gives no number: an [A] knob, range 0-2000 cycles (2000 = 20 DRAM latencies);
the paper calibration fits it. It shifts every candidate tiling of a layer equally, so it
never changes the chosen tiling (except through the joint cost's normalisation), and it
weighs most on networks of many small layers: it is why a 1.0-width SqueezeNext on 16x16
is slower relative to its 2.0-width sibling than the pipeline alone predicts.

**Single buffer**: nothing overlaps, every tile loads, computes and writes back in turn:
``T = C + N L + D / w_d + H`` (no bank conflicts: DMA and array never run together).

All functions take numpy arrays (one entry per candidate) or scalars.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.hardware.spec import HardwareSpec

Num = np.ndarray | float


@dataclass(frozen=True, eq=False)
class DmaStream:
    """The DMA side of a layer's tile sequence, aggregated (arrays over candidates or floats).

    Attributes:
        words: DRAM words moved, loads and write-backs (``D``).
        transfers: DMA transfers, one per tensor tile moved (``N``).
        first_words, first_transfers: the first tile's loads (``D0`` in ``N0`` transfers).
        last_words: the last write-back (the last tile's final output, ``D1``; 0 if none).
    """

    words: Num
    transfers: Num
    first_words: Num
    first_transfers: Num
    last_words: Num


def dram_cycles(dram_words: Num, spec: HardwareSpec) -> Num:
    """Cycles to move ``dram_words`` at the DRAM bandwidth (no latency)."""
    return dram_words / spec.dram_words_per_cycle


def _parts(dma: DmaStream, spec: HardwareSpec) -> tuple[Num, Num, Num]:
    """``(first, steady, last)`` DMA occupancy of the double-buffered pipeline (module docstring)."""
    latency = spec.dram.latency_cycles
    beta = spec.global_buffer.dma_conflict_fraction
    last_transfers = np.where(np.asarray(dma.last_words) > 0, 1.0, 0.0)
    first = dma.first_transfers * latency + dram_cycles(dma.first_words, spec)
    last = last_transfers * latency + dram_cycles(dma.last_words, spec)
    steady = ((dma.transfers - dma.first_transfers - last_transfers) * latency
              + (1.0 + beta) * dram_cycles(dma.words - dma.first_words - dma.last_words, spec))
    return first, steady, last


def layer_cycles(compute: Num, dma: DmaStream, spec: HardwareSpec) -> Num:
    """Cycles of a layer: the tile pipeline's closed form (double buffer), or the serial sum,
    plus the layer's fixed overhead ``model.layer_overhead_cycles`` (module docstring)."""
    overhead = spec.model.layer_overhead_cycles
    if spec.global_buffer.double_buffer:
        first, steady, last = _parts(dma, spec)
        return first + np.maximum(compute, steady) + last + overhead
    return compute + dma.transfers * spec.dram.latency_cycles + dram_cycles(dma.words, spec) + overhead


def dma_busy_cycles(dma: DmaStream, spec: HardwareSpec) -> Num:
    """Cycles the DMA engine is busy (latencies, words and bank-conflict retries included)."""
    if spec.global_buffer.double_buffer:
        first, steady, last = _parts(dma, spec)
        return first + steady + last
    return dma.transfers * spec.dram.latency_cycles + dram_cycles(dma.words, spec)


def steady_cost_per_word(spec: HardwareSpec) -> float:
    """DMA cycles one more steady-state word costs (``(1 + beta) / w_d``; ``1 / w_d`` single-buffered)."""
    beta = spec.global_buffer.dma_conflict_fraction if spec.global_buffer.double_buffer else 0.0
    return (1.0 + beta) / spec.dram_words_per_cycle


def buffer_copies(spec: HardwareSpec) -> int:
    """Copies of a tile the buffer holds: 2 with double buffering (eq. 5.1), else 1."""
    return 2 if spec.global_buffer.double_buffer else 1
