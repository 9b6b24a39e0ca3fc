"""Layer time from compute cycles and DRAM traffic (model.md section 4).

``w_d = bandwidth / (clock * word_bytes)`` DRAM words per cycle (16 GB/s, 1 GHz, 2-byte
words: 8), latency ``L`` cycles.

* Double-buffered global buffer (``global_buffer.double_buffer``, default): the DMA engine
  streams the next tile while the array computes the current one, so
  ``T = max(T_comp, D / w_d) + 2 L + first_tile / w_d`` (eq. 4.2): the latency is paid at the
  start and the end of the layer, and the first tile's inputs and weights are loaded before
  the array can start.
* Single buffer: every tile is loaded, computed and written back in turn,
  ``T = T_comp + D / w_d + 2 L n_tiles`` (eq. 4.3).

All functions take numpy arrays (one entry per candidate) or scalars.
"""

from __future__ import annotations

import numpy as np

from accelsim.hardware.spec import HardwareSpec


def dram_cycles(dram_words: np.ndarray | float, spec: HardwareSpec) -> np.ndarray | float:
    """Cycles to move ``dram_words`` at the DRAM bandwidth (no latency)."""
    return dram_words / spec.dram_words_per_cycle


def layer_cycles(
    compute: np.ndarray | float,
    dram_words: np.ndarray | float,
    prologue_words: np.ndarray | float,
    n_tiles: np.ndarray | float,
    spec: HardwareSpec,
) -> np.ndarray | float:
    """Cycles of a layer (eq. 4.2 with double buffering, else eq. 4.3)."""
    transfer = dram_cycles(dram_words, spec)
    latency = spec.dram.latency_cycles
    if spec.global_buffer.double_buffer:
        return np.maximum(compute, transfer) + 2 * latency + dram_cycles(prologue_words, spec)
    return compute + transfer + 2 * latency * n_tiles


def buffer_copies(spec: HardwareSpec) -> int:
    """Copies of a tile the buffer holds: 2 with double buffering (eq. 5.1), else 1."""
    return 2 if spec.global_buffer.double_buffer else 1
