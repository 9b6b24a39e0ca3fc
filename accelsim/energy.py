"""Energy = access counts per level x the spec's cost per access (model.md 7, eq. 7.9).

Counts come from the dataflow models (``accelsim.engine``); costs are the spec's
``energy`` table (Eyeriss's normalised ladder by default: MAC 1, register file 1, inter-PE 2,
global buffer 6, DRAM 200, all per 16-bit access in units of one MAC). Keeping counts and
costs apart (Accelergy's split) lets a study re-price a result without re-simulating.
"""

from __future__ import annotations

from accelsim.hardware.spec import EnergyCosts
from accelsim.results import LEVELS, AccessCounts, EnergyBreakdown


def energy_of(counts: AccessCounts, costs: EnergyCosts) -> EnergyBreakdown:
    """Energy per level (MAC units) of ``counts`` accesses at ``costs`` per access.

    ``costs.scale`` multiplies every level: it maps the Eyeriss ladder onto the magnitude of the
    paper's own (unpublished) table without changing the ratios between levels.
    """
    return EnergyBreakdown(*(getattr(counts, level) * getattr(costs, level) * costs.scale for level in LEVELS))
