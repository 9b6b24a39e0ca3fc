"""Co-design: depth redistribution of SqueezeNext networks on a given accelerator.

Quick use::

    from accelsim.codesign import redistribute
    result = redistribute("1.0-SqNxt-23v2", "16x16", budgets=["blocks=21"])
    result.best.depth, result.pareto_front()
    result.to_dataframe()          # every candidate (pandas, imported on first use)

Modules: ``budget`` (budget expressions), ``space`` (enumeration of depth vectors),
``variants`` (stitched layer graphs), ``pareto``, ``heuristic`` (local search for big spaces),
``search`` (the search itself), ``result`` (result types), ``sweep`` (hardware design-space
sweeps: ``sweep(networks, base, vary=...)``), ``compose`` (compositional pricing: distinct layers
priced once, candidates composed by matrix products), ``joint`` (hardware x network co-design:
``codesign(network, base, vary=..., widths=..., budgets=...)``). No plotting here: see
``accelsim.reporting.redistribute_plot``.
"""

from accelsim.codesign.budget import Budget, BudgetKey, BudgetSet, parse_budget
from accelsim.codesign.heuristic import LocalSearchOptions
from accelsim.codesign.hw_sweep import SweepPoint, SweepResult, sweep
from accelsim.codesign.joint import CodesignResult, Design, JointObjective, codesign
from accelsim.codesign.pareto import pareto_mask
from accelsim.codesign.result import (
    Accuracy,
    Candidate,
    Objective,
    RedistributionResult,
    ReferencePoint,
    SearchMethod,
)
from accelsim.codesign.search import EXHAUSTIVE_LIMIT, redistribute
from accelsim.codesign.space import DepthSpace, count_distributions, distributions

__all__ = [
    "EXHAUSTIVE_LIMIT",
    "Accuracy",
    "Budget",
    "BudgetKey",
    "BudgetSet",
    "Candidate",
    "CodesignResult",
    "Design",
    "JointObjective",
    "DepthSpace",
    "LocalSearchOptions",
    "Objective",
    "RedistributionResult",
    "ReferencePoint",
    "SearchMethod",
    "SweepPoint",
    "SweepResult",
    "codesign",
    "count_distributions",
    "distributions",
    "parse_budget",
    "pareto_mask",
    "redistribute",
    "sweep",
]
