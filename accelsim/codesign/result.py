"""Results of a depth-redistribution search: candidates, the base, the Pareto front.

Units: ``cycles`` are clock cycles per inference; ``energy`` is in units of one MAC's energy;
``edp`` is energy x cycles (MAC-energy x cycles); ``params`` count weights + biases + BN
gamma/beta; ``macs`` are pure multiply-accumulates (``macs_paper`` adds one per conv/FC output
element, the paper's Table 3 convention); ``time_rel`` is cycles relative to the base network
on the same hardware; accuracies are top-1/top-5 in percent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from accelsim.codesign.budget import BudgetSet
from accelsim.codesign.space import Depth
from accelsim.hardware.area import area_of
from accelsim.hardware.spec import HardwareSpec

if TYPE_CHECKING:
    import pandas as pd


class Objective(StrEnum):
    """What the ranking minimises."""

    CYCLES = "cycles"
    ENERGY = "energy"
    EDP = "edp"  #: energy x cycles

    def of(self, candidate: Candidate) -> float:
        return float(getattr(candidate, self.value))


class SearchMethod(StrEnum):
    EXHAUSTIVE = "exhaustive"  #: every vector of the space was simulated
    LOCAL_SEARCH = "local-search"  #: multi-start steepest descent (``accelsim.codesign.heuristic``)


@dataclass(frozen=True, slots=True)
class Accuracy:
    """Top-1 / top-k accuracy in percent; ``source`` says where it comes from.

    ``k`` is 5 except on data with fewer than 5 classes, where training reports top-k with
    k = classes (``top5`` then holds that top-k).
    """

    top1: float
    top5: float
    source: str
    k: int = 5


@dataclass(frozen=True, slots=True)
class Candidate:
    """One depth vector of the family, measured on the search's hardware.

    Attributes:
        depth: units per stage.
        params, macs, macs_paper: model size and work (see the module docstring).
        cycles, energy: simulated cycles and energy (MAC units) per inference.
        feasible: meets every budget.
        pareto: on the Pareto front over (cycles, energy, params) among feasible candidates.
        paper: the paper's network with exactly this structure and its printed ImageNet accuracy.
        measured: accuracy measured by training it (``--train-top``), else None.
    """

    depth: Depth
    params: int
    macs: int
    macs_paper: int
    cycles: float
    energy: float
    feasible: bool = True
    pareto: bool = False
    paper_name: str | None = None
    paper: Accuracy | None = None
    measured: Accuracy | None = None

    @property
    def edp(self) -> float:
        return self.energy * self.cycles

    @property
    def blocks(self) -> int:
        return sum(self.depth)

    def to_dict(self, base_cycles: float) -> dict[str, Any]:
        return {
            "depth": list(self.depth),
            "blocks": self.blocks,
            "params": self.params,
            "macs": self.macs,
            "macs_paper": self.macs_paper,
            "cycles": self.cycles,
            "time_rel": self.cycles / base_cycles,
            "energy": self.energy,
            "edp": self.edp,
            "feasible": self.feasible,
            "pareto": self.pareto,
            "paper": self.paper_name,
            "paper_top1": self.paper.top1 if self.paper else None,
            "paper_top5": self.paper.top5 if self.paper else None,
            "accuracy_top1": self.measured.top1 if self.measured else None,
            "accuracy_top5": self.measured.top5 if self.measured else None,
            "accuracy_k": self.measured.k if self.measured else None,
        }


@dataclass(frozen=True, slots=True)
class ReferencePoint:
    """One of the paper's networks of the base's width (e.g. v1-v5), simulated on the same hardware."""

    name: str
    label: str
    depth: Depth
    params: int
    cycles: float
    energy: float
    top1: float


@dataclass(frozen=True)
class RedistributionResult:
    """Everything a redistribution search found.

    Attributes:
        network: the base preset's paper name.
        options: the family's constructor options (width, stem_kernel, first_unit, groups).
        hardware: the accelerator every candidate ran on.
        budgets, objective, min_per_stage: what was asked.
        method: exhaustive or local search; ``space_size`` vectors were in the space.
        base: the base network (its own depth), measured like a candidate.
        candidates: every evaluated candidate, ranked: feasible ones first, by the objective,
            then cycles, energy, params and depth (a total order, so ranks are reproducible).
        references: the paper's variants of the base's width, for plots.
        cache_hits, cache_misses: layer simulations served from / added to the shared cache.
        version: accelsim's version.
        meta: search facts (the base depth, the block totals searched).
        training: how the ``measured`` accuracies were obtained (data, epochs, seed), if any.
    """

    network: str
    options: Mapping[str, Any]
    hardware: HardwareSpec
    budgets: BudgetSet
    objective: Objective
    min_per_stage: int
    method: SearchMethod
    space_size: int
    base: Candidate
    candidates: tuple[Candidate, ...]
    references: tuple[ReferencePoint, ...] = ()
    cache_hits: int = 0
    cache_misses: int = 0
    version: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    training: Mapping[str, Any] | None = None

    @property
    def evaluated(self) -> int:
        return len(self.candidates)

    def ranked(self) -> tuple[Candidate, ...]:
        """Feasible candidates, best first."""
        return tuple(c for c in self.candidates if c.feasible)

    @property
    def best(self) -> Candidate:
        return self.ranked()[0]

    def pareto_front(self) -> tuple[Candidate, ...]:
        """Feasible non-dominated candidates, by increasing cycles (then energy, params)."""
        return tuple(sorted((c for c in self.candidates if c.pareto),
                            key=lambda c: (c.cycles, c.energy, c.params, c.depth)))

    def candidate(self, depth: Depth) -> Candidate | None:
        return next((c for c in self.candidates if c.depth == tuple(depth)), None)

    def with_measured(self, measured: Mapping[Depth, Accuracy],
                      training: Mapping[str, Any] | None = None) -> RedistributionResult:
        """A copy with measured accuracies attached to the candidates (and base) trained.

        ``training`` records how they were measured (data source, epochs, image size, seed).
        """
        def attach(c: Candidate) -> Candidate:
            return replace(c, measured=measured[c.depth]) if c.depth in measured else c

        return replace(self, base=attach(self.base), candidates=tuple(attach(c) for c in self.candidates),
                       training=dict(training) if training is not None else self.training)

    def to_dict(self, top: int | None = None) -> dict[str, Any]:
        """The ``redistribute --json`` object; ``candidates`` lists the ``top`` best feasible ones."""
        ranked = self.ranked()
        shown = ranked if top is None else ranked[:top]
        base_cycles = self.base.cycles
        base = self.base.to_dict(base_cycles)
        return {
            "version": self.version,
            "network": self.network,
            "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.options.items()},
            "hardware": self.hardware.model_dump(mode="json"),
            "hardware_label": self.hardware.label,
            "area_mm2": area_of(self.hardware).total,
            "area_breakdown_mm2": area_of(self.hardware).to_dict(),
            "budgets": self.budgets.to_list(),
            "objective": self.objective.value,
            "min_per_stage": self.min_per_stage,
            "method": self.method.value,
            "space_size": self.space_size,
            "evaluated": self.evaluated,
            "feasible": len(ranked),
            "cache": {"hits": self.cache_hits, "misses": self.cache_misses},
            "training": dict(self.training) if self.training is not None else None,
            "base": base | {"rank": next((i + 1 for i, c in enumerate(ranked) if c.depth == self.base.depth), None)},
            "pareto_front": [list(c.depth) for c in self.pareto_front()],
            "references": [
                {"name": r.name, "label": r.label, "depth": list(r.depth), "params": r.params,
                 "cycles": r.cycles, "time_rel": r.cycles / base_cycles, "energy": r.energy, "top1": r.top1}
                for r in self.references
            ],
            "candidates": [c.to_dict(base_cycles) | {"rank": i + 1} for i, c in enumerate(shown)],
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per evaluated candidate (all of them, ranked; ``rank`` is empty when infeasible)."""
        import pandas as pd

        rows = []
        rank = 0
        area = area_of(self.hardware)
        for c in self.candidates:
            row = c.to_dict(self.base.cycles)
            rank += c.feasible
            row["rank"] = rank if c.feasible else None
            row["depth"] = "[" + ",".join(map(str, c.depth)) + "]"
            row["is_base"] = c.depth == self.base.depth
            row["area_mm2"] = area.total  # every candidate runs on the one accelerator
            row.update({f"area_{part}_mm2": value for part, value in area.to_dict().items()})
            rows.append(row)
        frame = pd.DataFrame(rows)
        frame["rank"] = frame["rank"].astype("Int64")  # empty (not NaN floats) for infeasible rows
        front = ["rank", "depth", "blocks", "params", "macs", "cycles", "time_rel", "energy", "edp", "pareto"]
        return frame[front + [c for c in frame.columns if c not in front]]
