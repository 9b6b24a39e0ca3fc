"""Energy = access counts per level x the spec's cost per access (model.md 7, eq. 7.9).

Counts come from the dataflow models (``accelsim.engine``); costs are the spec's
``energy`` table (Eyeriss's normalised ladder by default: MAC 1, register file 1, inter-PE 2,
global buffer 6, DRAM 200, all per 16-bit access in units of one MAC). Keeping counts and
costs apart (Accelergy's split) lets a study re-price a result without re-simulating.
"""

from __future__ import annotations

from accelsim.hardware.spec import EnergyCosts
from accelsim.results import LEVELS, AccessCounts, EnergyBreakdown

#: Levels inside the accelerator: the costs the paper "slightly modified considering the
#: architecture of the reference accelerator" (section 3). DRAM is off-chip.
ON_CHIP = ("mac", "register_file", "inter_pe", "global_buffer")


def level_scale(level: str, costs: EnergyCosts) -> float:
    """The calibration factor on ``level``'s cost: ``costs.scale`` on chip, ``costs.dram_scale`` for DRAM.

    Why two factors: the paper modified the Eyeriss costs for *its* accelerator (PE array,
    register files, global buffer); a DRAM access is a property of the memory chip and the
    interface, not of that architecture, so one global factor that also shrinks DRAM would
    let a fit to on-chip differences move the off-chip cost (and with it every DRAM-bound
    ranking). DRAM keeps Eyeriss's 200 (``dram_scale = 1``) unless a cross-validated fit says
    otherwise.
    """
    return costs.scale if level in ON_CHIP else costs.dram_scale


def energy_of(counts: AccessCounts, costs: EnergyCosts) -> EnergyBreakdown:
    """Energy per level (MAC units) of ``counts`` accesses at ``costs`` per access.

    ``costs.scale`` multiplies the on-chip levels (it maps the Eyeriss ladder onto the magnitude
    of the paper's own unpublished table without changing the ratios between them);
    ``costs.dram_scale`` multiplies the DRAM level (see :func:`level_scale`).
    """
    return EnergyBreakdown(*(getattr(counts, level) * getattr(costs, level) * level_scale(level, costs)
                             for level in LEVELS))
