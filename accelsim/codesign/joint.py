"""Joint hardware x network co-design: every network candidate on every hardware point, composed.

Quick use::

    from accelsim.codesign import codesign
    r = codesign("sqnxt23v2", vary={"pe": ["8x8", "16x16"], "buffer": ["32KB", "128KB"]},
                 widths=[1.0, 2.0], budgets=["blocks=21", "area<=10mm2"], objective="edap")
    r.best(5), r.pareto_front()     # Design rows
    r.to_dataframe()                # every design point (pandas, imported on first use)

The space is the product of

* a **hardware grid**, exactly as ``sweep``'s (``hw_sweep.make_axes``: any spec field, the
  ``pe`` and ``buffer`` shorthands, first axis slowest), and
* a **network space**: a SqueezeNext base with lists of widths, stem kernels, first-unit
  designs and groups (their product is the *families*), each with every depth vector the
  ``redistribute`` budgets allow (``blocks=N``, ``blocks<=N``, ``min_per_stage``); or a list
  of named networks (any zoo preset or layer-graph JSON), each one candidate.

Every (candidate, hardware point) is a *design point*. Totals come from
``accelsim.codesign.compose``: each distinct layer is simulated once per hardware point and the
candidates are composed by matrix products, exactly (see there). Budgets limit ``params``,
``macs``, ``cycles``, ``energy`` and ``area`` (mm²); objectives are ``cycles``, ``energy``,
``edp`` (energy x cycles), ``area`` and ``edap`` (energy x cycles x area). The Pareto front is
over (cycles, energy, area, params) among the points that run and meet the budgets. Points that
cannot run (a layer fits no tile of the buffer) are counted with the reason, never dropped.

Units: cycles per inference; energy in units of one MAC's energy; area in mm²; ``dram_bytes``
per inference.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from accelsim import __version__
from accelsim.codesign.budget import BudgetKey, BudgetSet, format_count
from accelsim.codesign.compose import Composed, Composer, FamilySpace, NamedSpace
from accelsim.codesign.hw_sweep import DEFAULT_MAX_POINTS as MAX_HARDWARE_POINTS
from accelsim.codesign.hw_sweep import Axis, bounded_axes, build_grid, grid_size
from accelsim.codesign.pareto import dominators, pareto_indices
from accelsim.codesign.space import DepthSpace
from accelsim.errors import BudgetError, SpecError, WorkloadError
from accelsim.hardware.area import PARTS, area_of
from accelsim.hardware.overrides import base_spec
from accelsim.hardware.spec import PAPER_CONFIGS, HardwareSpec
from accelsim.simulation import spec_key

if TYPE_CHECKING:
    import pandas as pd

#: Spaces with more design points (candidates x hardware points) than this fail unless raised.
DEFAULT_MAX_POINTS = 5_000_000

#: ``progress(done, total)``: design points composed so far.
ProgressCallback = Callable[[int, int], None]


class JointObjective(StrEnum):
    """What the ranking minimises."""

    CYCLES = "cycles"
    ENERGY = "energy"
    EDP = "edp"  #: energy x cycles
    AREA = "area"  #: mm²
    EDAP = "edap"  #: energy x cycles x area


@dataclass(frozen=True)
class Family:
    """One network family of the space: its options and its candidates (depth vectors or one name)."""

    label: str
    options: Mapping[str, Any]
    candidates: tuple[Any, ...]
    base_depth: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Design:
    """One design point: a network candidate on a hardware point."""

    index: int  #: flat index: candidate * hardware points + point
    network: str
    family: str
    options: Mapping[str, Any]
    depth: tuple[int, ...] | None
    point: int
    labels: tuple[str, ...]
    hardware_label: str
    cycles: float
    energy: float
    area_mm2: float
    params: int
    macs: int
    dram_bytes: float
    feasible: bool
    pareto: bool
    rank: int | None = None
    paper: str | None = None

    @property
    def edp(self) -> float:
        return self.energy * self.cycles

    @property
    def edap(self) -> float:
        return self.energy * self.cycles * self.area_mm2

    def to_dict(self, axes: Sequence[Axis]) -> dict[str, Any]:
        return {
            "rank": self.rank, "network": self.network, "family": self.family,
            "depth": list(self.depth) if self.depth is not None else None,
            **{k: (list(v) if isinstance(v, tuple) else v) for k, v in self.options.items()},
            **{a.key: label for a, label in zip(axes, self.labels, strict=True)},
            "point": self.point, "hardware_label": self.hardware_label,
            "cycles": self.cycles, "energy": self.energy, "edp": self.edp, "area_mm2": self.area_mm2,
            "edap": self.edap, "params": self.params, "macs": self.macs, "dram_bytes": self.dram_bytes,
            "feasible": self.feasible, "pareto": self.pareto, "paper": self.paper,
        }


@dataclass(frozen=True)
class Reference:
    """One of the paper's networks on one of the paper's accelerators, with where it stands."""

    name: str
    label: str  #: ``v5``
    hardware: str  #: ``16x16/128KB``
    depth: tuple[int, ...]
    cycles: float
    energy: float
    area_mm2: float
    params: int
    in_space: bool  #: this exact design point is in the space
    dominated_by: int  #: feasible design points that dominate it (0: it would be on the front)

    @property
    def on_front(self) -> bool:
        return self.dominated_by == 0

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "hardware": self.hardware, "depth": list(self.depth),
                "cycles": self.cycles, "energy": self.energy, "area_mm2": self.area_mm2, "params": self.params,
                "in_space": self.in_space, "dominated_by": self.dominated_by, "on_front": self.on_front}


@dataclass(frozen=True)
class CodesignResult:
    """Every design point of a joint search, as arrays (rows: candidates, columns: hardware points).

    Attributes:
        families: the network families (and their candidates), in order; ``cand_family`` maps
            each candidate row to its family.
        specs, axes, labels: the hardware points (grid order), the varied axes and each point's labels.
        cycles, energy, dram_bytes: ``(n, m)`` totals (0 where the point cannot run).
        runs: ``(n, m)`` the point runs (every layer fits the buffer); ``feasible``: runs and meets
            every budget.
        params, macs: ``(n,)`` per candidate; area, area_parts: ``(m,)`` and ``(m, 4)`` per point.
        front: flat indices of the Pareto front over (cycles, energy, area, params), feasible points.
        infeasible: ``[(reason, points)]`` for points that cannot run, most frequent first.
        budget_failures: points that run but break each budget, by budget.
        references: the paper's v1-v5 on the paper's two accelerators.
        stats: points, distinct layers simulated, pieces, timings (see ``compose``).
    """

    network: str
    mode: str  #: "family" (a SqueezeNext base and its variants) or "networks" (a list of named networks)
    families: tuple[Family, ...]
    base: HardwareSpec
    axes: tuple[Axis, ...]
    specs: tuple[HardwareSpec, ...]
    labels: tuple[tuple[str, ...], ...]
    objective: JointObjective
    budgets: BudgetSet
    min_per_stage: int
    cand_family: np.ndarray
    cand_index: np.ndarray  #: position of each candidate within its family
    cycles: np.ndarray
    energy: np.ndarray
    dram_bytes: np.ndarray
    runs: np.ndarray
    feasible: np.ndarray
    params: np.ndarray
    macs: np.ndarray
    area: np.ndarray
    area_parts: np.ndarray
    front: np.ndarray
    infeasible: tuple[tuple[str, int], ...]
    budget_failures: Mapping[str, int]
    references: tuple[Reference, ...]
    stats: Mapping[str, Any]
    version: str = __version__
    meta: Mapping[str, Any] = field(default_factory=dict)

    # ---- shape --------------------------------------------------------------------------
    @property
    def n_candidates(self) -> int:
        return int(self.cycles.shape[0])

    @property
    def n_points(self) -> int:
        return int(self.cycles.shape[1])

    @property
    def size(self) -> int:
        """Design points: candidates x hardware points."""
        return self.n_candidates * self.n_points

    def objective_values(self) -> np.ndarray:
        """``(n, m)`` objective per design point, +inf where infeasible."""
        area = self.area[None, :]
        value = {JointObjective.CYCLES: lambda: self.cycles, JointObjective.ENERGY: lambda: self.energy,
                 JointObjective.EDP: lambda: self.energy * self.cycles,
                 JointObjective.AREA: lambda: np.broadcast_to(area, self.cycles.shape),
                 JointObjective.EDAP: lambda: self.energy * self.cycles * area}[self.objective]()
        return np.where(self.feasible, value, np.inf)

    def _order(self, flat: np.ndarray) -> np.ndarray:
        """``flat`` indices sorted by (objective, cycles, energy, area, params, index): a total order."""
        n, m = divmod(flat, self.n_points)
        obj = self.objective_values().ravel()[flat]
        keys = (flat, self.params[n], self.area[m], self.energy.ravel()[flat], self.cycles.ravel()[flat], obj)
        return flat[np.lexsort(keys)]

    def ranked_indices(self, top: int | None = None) -> np.ndarray:
        """Flat indices of the feasible points, best first (``top`` of them)."""
        values = self.objective_values().ravel()
        feasible = np.flatnonzero(np.isfinite(values))
        if top is not None and top < len(feasible):
            cut = np.partition(values[feasible], top - 1)[top - 1]
            feasible = feasible[values[feasible] <= cut]  # ties at the cut stay, the total order decides
            return self._order(feasible)[:top]
        return self._order(feasible)

    @property
    def feasible_count(self) -> int:
        return int(self.feasible.sum())

    def design(self, flat: int, rank: int | None = None) -> Design:
        """The design point at flat index ``flat`` (``candidate * n_points + point``)."""
        i, j = divmod(int(flat), self.n_points)
        family = self.families[int(self.cand_family[i])]
        candidate = family.candidates[int(self.cand_index[i])]
        depth = candidate if self.mode == "family" else None
        name = _variant(self.network, family, depth) if self.mode == "family" else str(candidate)
        return Design(int(flat), name, family.label, family.options, depth, j, self.labels[j], self.specs[j].label,
                      float(self.cycles[i, j]), float(self.energy[i, j]), float(self.area[j]), int(self.params[i]),
                      int(self.macs[i]), float(self.dram_bytes[i, j]), bool(self.feasible[i, j]),
                      bool(self._front_set().__contains__(int(flat))), rank, _paper_name(family, depth))

    def _front_set(self) -> set[int]:
        cached = self.__dict__.get("_front_cache")
        if cached is None:
            cached = set(int(x) for x in self.front)
            object.__setattr__(self, "_front_cache", cached)
        return cached

    def best(self, top: int = 10) -> list[Design]:
        """The ``top`` best feasible designs by the objective."""
        return [self.design(f, rank=k) for k, f in enumerate(self.ranked_indices(top), start=1)]

    def pareto_front(self) -> list[Design]:
        """The Pareto front over (cycles, energy, area, params), by increasing cycles."""
        order = self.front[np.lexsort((self.front, self.energy.ravel()[self.front], self.cycles.ravel()[self.front]))]
        return [self.design(f) for f in order]

    def to_dict(self, top: int | None = 10) -> dict[str, Any]:
        """The ``codesign --json`` object: the space, counts, the ``top`` best and the whole front."""
        return {
            "version": self.version,
            "network": self.network,
            "mode": self.mode,
            "families": [{"label": f.label, "options": {k: (list(v) if isinstance(v, tuple) else v)
                                                         for k, v in f.options.items()},
                          "candidates": len(f.candidates)} for f in self.families],
            "base_hardware": self.base.model_dump(mode="json"),
            "varied": [a.to_dict() for a in self.axes],
            "hardware_points": [{"point": j, "labels": list(self.labels[j]), "hardware_label": s.label,
                                 "area_mm2": float(self.area[j]),
                                 "area_breakdown_mm2": dict(zip(PARTS, map(float, self.area_parts[j]), strict=True))}
                                for j, s in enumerate(self.specs)],
            "objective": self.objective.value,
            "budgets": self.budgets.to_list(),
            "min_per_stage": self.min_per_stage,
            "design_points": self.size,
            "feasible": self.feasible_count,
            "cannot_run": [{"reason": r, "points": k} for r, k in self.infeasible],
            "over_budget": dict(self.budget_failures),
            "stats": dict(self.stats),
            "best": [d.to_dict(self.axes) for d in self.best(top if top is not None else 10)],
            "pareto_front": [d.to_dict(self.axes) for d in self.pareto_front()],
            "references": [r.to_dict() for r in self.references],
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per design point (candidate-major, grid order within); ``rank`` empty where infeasible."""
        import pandas as pd

        n, m = self.n_candidates, self.n_points
        cand = np.repeat(np.arange(n), m)
        point = np.tile(np.arange(m), n)
        names = []
        depths = []
        for i in range(n):
            family = self.families[int(self.cand_family[i])]
            candidate = family.candidates[int(self.cand_index[i])]
            if self.mode == "family":
                names.append(_variant(self.network, family, candidate))
                depths.append("[" + ",".join(map(str, candidate)) + "]")
            else:
                names.append(str(candidate))
                depths.append("")
        rank = np.zeros(n * m, dtype=np.int64)
        order = self.ranked_indices()
        rank[order] = np.arange(1, len(order) + 1)
        area = self.area[point]
        frame = pd.DataFrame({
            "rank": pd.array(np.where(rank > 0, rank, 0), dtype="Int64"),
            "network": pd.Categorical.from_codes(cand, names) if len(set(names)) == len(names)
            else np.array(names, dtype=object)[cand],
            "family": pd.Categorical.from_codes(self.cand_family[cand], [f.label for f in self.families]),
            "depth": pd.Categorical.from_codes(cand, depths) if len(set(depths)) == len(depths)
            else np.array(depths, dtype=object)[cand],
            "point": point,
        })
        frame.loc[rank == 0, "rank"] = pd.NA
        for k, axis in enumerate(self.axes):
            frame[axis.key] = pd.Categorical.from_codes(point, [labels[k] for labels in self.labels]) \
                if len({labels[k] for labels in self.labels}) == m else np.array([lb[k] for lb in self.labels])[point]
        frame["hardware_label"] = np.array([s.label for s in self.specs], dtype=object)[point]
        cycles, energy = self.cycles.ravel(), self.energy.ravel()
        frame["cycles"] = cycles
        frame["energy"] = energy
        frame["edp"] = cycles * energy
        frame["area_mm2"] = area
        frame["edap"] = cycles * energy * area
        frame["params"] = self.params[cand]
        frame["macs"] = self.macs[cand]
        frame["dram_bytes"] = self.dram_bytes.ravel()
        frame["runs"] = self.runs.ravel()
        frame["feasible"] = self.feasible.ravel()
        pareto = np.zeros(n * m, dtype=bool)
        pareto[self.front] = True
        frame["pareto"] = pareto
        for p, part in enumerate(PARTS):
            frame[f"area_{part}_mm2"] = self.area_parts[point, p]
        return frame


def _variant(network: str, family: Family, depth: Any) -> str:
    from accelsim.workload.zoo import variant_name

    return variant_name(network, {**family.options, "depth": tuple(depth)})


def _paper_name(family: Family, depth: Any) -> str | None:
    """The Table 3 network with exactly this structure, if any."""
    if depth is None:
        return None
    from accelsim.paper import TABLE3
    from networks.registry import get_preset

    for row in TABLE3:
        if row.depth is not None and tuple(row.depth) == tuple(depth):
            options = get_preset(row.name).options
            if all(options[k] == v for k, v in family.options.items()):
                return row.name
    return None


# ---- building the space -------------------------------------------------------------------------
FAMILY_KEYS = ("width", "stem_kernel", "first_unit", "groups")


def _families(network: str, widths: Sequence[float] | None, stems: Sequence[int] | None,
              first_units: Sequence[str] | None, groups: Sequence[int] | None, budgets: BudgetSet,
              min_per_stage: int) -> tuple[str, list[Family], list[FamilySpace]]:
    from accelsim.codesign.search import make_builder
    from accelsim.codesign.variants import squeezenext_options

    name, preset = squeezenext_options(network, {})
    lists = {"width": widths, "stem_kernel": stems, "first_unit": first_units, "groups": groups}
    for key, values in lists.items():
        if values is not None and len(set(values)) != len(values):
            raise WorkloadError(f"--{key.replace('_kernel', '').replace('_', '-')}: a value is listed twice")
    choices = [list(values) if values else [preset[key]] for key, values in lists.items()]
    families, spaces = [], []
    base_depth = tuple(preset["depth"])
    n_stages = len(base_depth)
    space = DepthSpace(budgets.block_totals(sum(base_depth), n_stages, min_per_stage), n_stages, min_per_stage)
    depths = tuple(space)
    for combo in itertools.product(*choices):
        overrides = dict(zip(FAMILY_KEYS, combo, strict=True))
        _, options = squeezenext_options(network, overrides)
        family_options = {k: options[k] for k in FAMILY_KEYS}
        builder = make_builder(name, options)
        from accelsim.workload.zoo import variant_name

        label = variant_name(name, family_options)
        families.append(Family(label, family_options, depths, base_depth))
        spaces.append(FamilySpace(label, builder, depths, family_options))
    return name, families, spaces


def _named(networks: Sequence[str]) -> tuple[list[Family], NamedSpace]:
    from accelsim.codesign.hw_sweep import _graph

    graphs = [_graph(n, {}) for n in networks]
    space = NamedSpace(graphs)
    return [Family("networks", {}, tuple(g.name for g in graphs))], space


# ---- the search -----------------------------------------------------------------------------------
def codesign(
    networks: str | Sequence[str],
    base: HardwareSpec | str | Path | None = None,
    vary: Mapping[str, Sequence[Any]] | None = None,
    *,
    widths: Sequence[float] | None = None,
    stems: Sequence[int] | None = None,
    first_units: Sequence[str] | None = None,
    groups: Sequence[int] | None = None,
    budgets: Sequence[str] | BudgetSet = (),
    min_per_stage: int = 1,
    objective: JointObjective | str = JointObjective.CYCLES,
    max_points: int = DEFAULT_MAX_POINTS,
    max_hardware_points: int = MAX_HARDWARE_POINTS,
    composer: Composer | None = None,
    progress: ProgressCallback | None = None,
    executor: Any = None,
    price_progress: ProgressCallback | None = None,
) -> CodesignResult:
    """Search the product of a hardware grid and a network space (see the module docstring).

    Args:
        networks: one SqueezeNext preset (the base of the family space), or several zoo names /
            layer-graph JSON files (each one candidate; widths, stems, ... and block budgets then
            do not apply).
        base, vary: the hardware grid, as for ``sweep`` (``vary`` maps fields to value lists).
        widths, stems, first_units, groups: lists of SqueezeNext options (default: the base's).
        budgets: ``blocks=N``, ``blocks<=N``, ``params<=``, ``macs<=``, ``cycles<=``, ``energy<=``,
            ``area<=1.5mm2``.
        objective: cycles, energy, edp, area or edap.
        max_points: largest number of design points accepted; max_hardware_points: of grid points.
        composer: a ``Composer`` to reuse (its prices and plans); a new one by default.
        progress: ``progress(done, total)`` in design points.
        executor: where the distinct layer jobs are priced (``accelsim.execution``): None here;
            a ``distributed.Client`` or a Dask ``Executor`` on its workers, in chunks of 128 to
            1,024 jobs (``accelsim.pricing.executor_pricer``); candidates are composed here.
            The result is the in-process one (its ``stats`` timings aside). Not with ``composer``
            (which has its own pricer).
        price_progress: ``price_progress(done, total)`` in layer jobs, as the executor's tasks
            come back (cluster only).

    Raises:
        SpecError: an unknown field, a bad value, a grid or space over its limit.
        WorkloadError: an unknown network, a network option that does not apply.
        BudgetError: a malformed budget, or no design point meets the budgets (naming the best
            value reached for each limit, e.g. the smallest area).
    """
    started = time.perf_counter()
    goal = _objective(objective)
    budget_set = budgets if isinstance(budgets, BudgetSet) else BudgetSet.parse(budgets)
    spec0 = base_spec(base)
    axes = bounded_axes(vary, spec0, max_hardware_points, "codesign", "hardware points", "--max-hardware-points")
    m = grid_size(axes)
    items = [networks] if isinstance(networks, str) else list(networks)
    if not items:
        raise WorkloadError("codesign: no network given")
    if len(items) == 1 and _is_squeezenext(items[0]):
        mode = "family"
        network, families, spaces = _families(items[0], widths, stems, first_units, groups, budget_set,
                                              min_per_stage)
    else:
        given = [k for k, v in (("--width", widths), ("--stem", stems), ("--first-unit", first_units),
                                ("--groups", groups)) if v]
        if given or budget_set.blocks is not None:
            what = ", ".join(given + (["blocks budgets"] if budget_set.blocks is not None else []))
            raise WorkloadError(f"codesign: {what} apply to one SqueezeNext base; got the network list "
                                f"{', '.join(items)}")
        mode, network = "networks", ", ".join(items)
        families, named = _named(items)
        spaces = [named]
    n = sum(len(f.candidates) for f in families)
    if n * m > max_points:
        raise SpecError(f"codesign: {n * m:,} design points ({n:,} networks x {m:,} hardware points) exceed the "
                        f"limit of {max_points:,}; narrow the space or raise --max-points")
    grid = build_grid(spec0, axes)
    specs = tuple(spec for _, spec in grid)
    labels = tuple(tuple(a.labels[i] for a, i in zip(axes, combo, strict=True)) for combo, _ in grid)
    if composer is None:
        from accelsim.execution import as_executor
        from accelsim.pricing import executor_pricer
        from accelsim.simulation import SimCache

        cache = SimCache()
        composer = Composer(cache, pricer=executor_pricer(as_executor(executor), cache, progress=price_progress))
    elif executor is not None:
        raise WorkloadError("codesign: give a composer or an executor, not both (a composer has its own pricer)")
    before = composer.stats.to_dict()
    misses0 = composer.cache.misses
    parts: list[Composed] = []
    done = 0
    for k, space in enumerate(spaces):
        def step(d: int, t: int, offset: int = done, size: int = len(families[k].candidates) * m) -> None:
            if progress is not None and t:
                progress(offset + size * d // t, n * m)

        parts.append(composer.compose(space, specs, progress=step))
        done += len(families[k].candidates) * m
    setup = time.perf_counter() - started
    cycles = np.concatenate([p.cycles for p in parts])
    energy = np.concatenate([p.energy for p in parts])
    dram = np.concatenate([p.dram_words for p in parts]) * np.array([s.word_bytes for s in specs])[None, :]
    runs = np.concatenate([p.feasible for p in parts])
    params = np.concatenate([p.params for p in parts])
    macs = np.concatenate([p.macs for p in parts])
    cand_family = np.concatenate([np.full(len(p.candidates), k, dtype=np.int64) for k, p in enumerate(parts)])
    cand_index = np.concatenate([np.arange(len(p.candidates), dtype=np.int64) for p in parts])
    areas = [area_of(s) for s in specs]
    area = np.array([a.total for a in areas])
    area_parts = np.array([[getattr(a, part) for part in PARTS] for a in areas]).reshape(len(specs), len(PARTS))
    feasible, failures = _budgets(budget_set, runs, cycles, energy, params, macs, area)
    if not feasible.any():
        raise BudgetError(_nothing_feasible(budget_set, runs, cycles, energy, params, macs, area, specs))
    t0, cpu0 = time.perf_counter(), time.process_time()
    flat = np.flatnonzero(feasible.ravel())
    i, j = np.divmod(flat, m)
    values = np.column_stack([cycles.ravel()[flat], energy.ravel()[flat], area[j], params[i].astype(float)])
    front = flat[pareto_indices(values)]
    front.sort()
    pareto_seconds, pareto_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    infeasible = _cannot_run(parts, specs)
    stats_now = composer.stats.to_dict()
    delta = {k: stats_now[k] - before[k] for k in stats_now}
    stats = {
        "design_points": n * m, "candidates": n, "hardware_points": m, "families": len(families),
        "distinct_layers_simulated": composer.cache.misses - misses0,
        "layer_jobs_priced": delta["jobs_priced"], "pieces": delta["pieces"],
        "cross_block_pieces": delta["cross_block_pieces"], "piece_plans": delta["representative_plans"],
        "whole_networks": delta["whole_networks"],
        "price_seconds": delta["price_seconds"], "compose_seconds": delta["compose_seconds"],
        "price_cpu_seconds": delta["price_cpu_seconds"], "compose_cpu_seconds": delta["compose_cpu_seconds"],
        "compose_points_per_second": (n * m / delta["compose_seconds"]) if delta["compose_seconds"] > 0 else None,
        "compose_points_per_cpu_second": (n * m / delta["compose_cpu_seconds"])
        if delta["compose_cpu_seconds"] > 0 else None,
        "pareto_seconds": pareto_seconds, "pareto_cpu_seconds": pareto_cpu, "seconds": setup + pareto_seconds,
        "composition": _exactness_note(delta, specs),
    }
    result = CodesignResult(network, mode, tuple(families), spec0, axes, specs, labels, goal, budget_set,
                            min_per_stage, cand_family, cand_index, cycles, energy, dram, runs, feasible, params,
                            macs, area, area_parts, front, infeasible, failures, (), stats,
                            meta={"objective": goal.value})
    references = _references(result, composer) if mode == "family" else ()
    object.__setattr__(result, "references", references)
    if progress is not None:
        progress(n * m, n * m)
    return result


def _objective(objective: JointObjective | str) -> JointObjective:
    try:
        return JointObjective(objective)
    except ValueError:
        raise SpecError(f"objective: expected one of {', '.join(o.value for o in JointObjective)}; "
                        f"got {objective!r}") from None


def _is_squeezenext(name: str) -> bool:
    if name.endswith(".json"):
        return False
    from accelsim.workload.zoo import resolve_name
    from networks.registry import get_preset

    return bool(get_preset(resolve_name(name)).family == "squeezenext")


def _budgets(budgets: BudgetSet, runs: np.ndarray, cycles: np.ndarray, energy: np.ndarray, params: np.ndarray,
             macs: np.ndarray, area: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Feasible = runs and meets every limit; and how many running points break each limit."""
    feasible = runs.copy()
    failures: dict[str, int] = {}
    shape = runs.shape
    for limit in budgets.limits:
        value = {BudgetKey.CYCLES: lambda: cycles, BudgetKey.ENERGY: lambda: energy,
                 BudgetKey.PARAMS: lambda: np.broadcast_to(params[:, None], shape),
                 BudgetKey.MACS: lambda: np.broadcast_to(macs[:, None], shape),
                 BudgetKey.AREA: lambda: np.broadcast_to(area[None, :], shape)}[limit.key]()
        ok = value <= limit.value
        failures[str(limit)] = int((runs & ~ok).sum())
        feasible &= ok
    return feasible, failures


def _nothing_feasible(budgets: BudgetSet, runs: np.ndarray, cycles: np.ndarray, energy: np.ndarray,
                      params: np.ndarray, macs: np.ndarray, area: np.ndarray,
                      specs: Sequence[HardwareSpec]) -> str:
    if not runs.any():
        return "codesign: no design point runs: every hardware point's buffer is too small for some layer"
    best = []
    for limit in budgets.limits:
        key = limit.key
        if key is BudgetKey.AREA:
            j = int(np.argmin(area))
            best.append(f"area {area[j]:.4g} mm² on {specs[j].label} (limit {format_count(limit.value)} mm²)")
            continue
        source = {BudgetKey.CYCLES: cycles, BudgetKey.ENERGY: energy}.get(key)
        value = (source[runs].min() if source is not None
                 else (params if key is BudgetKey.PARAMS else macs).min())
        text = f"{int(value):,}" if key in (BudgetKey.PARAMS, BudgetKey.MACS) else f"{value:.4g}"
        best.append(f"{key.value} {text} (limit {format_count(limit.value)})")
    return (f"codesign: no design point meets the budgets {', '.join(budgets.to_list())} "
            f"({runs.size:,} design points); best reached: {'; '.join(best)}")


def _cannot_run(parts: Sequence[Composed], specs: Sequence[HardwareSpec]) -> tuple[tuple[str, int], ...]:
    """Reasons for the points that cannot run, with their counts (one reason per (family, point) column)."""
    counts: dict[str, int] = {}
    for part in parts:
        bad_columns = np.flatnonzero(~part.feasible.all(axis=0))
        for j in bad_columns:
            rows = np.flatnonzero(~part.feasible[:, j])
            reason = part.reason(int(rows[0]), int(j)) or "infeasible"
            label = f"{specs[j].label}: {reason}"
            counts[label] = counts.get(label, 0) + len(rows)
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _exactness_note(delta: Mapping[str, Any], specs: Sequence[HardwareSpec]) -> str:
    residency = any(s.model.activation_residency for s in specs)
    if delta["whole_networks"]:
        return (f"{delta['whole_networks']:,} candidates simulated whole (fusion crosses their blocks); "
                "the rest composed exactly")
    if residency and delta["cross_block_pieces"]:
        return (f"composed exactly; activation residency can cross block boundaries, so "
                f"{delta['cross_block_pieces']} pieces of several blocks were planned and simulated as one each")
    return "composed exactly: every block priced on its own (no layer interacts across blocks)"


def _references(result: CodesignResult, composer: Composer) -> tuple[Reference, ...]:
    """The paper's width-1.0 SqueezeNext rows (v1-v5) on the paper's two accelerators, and their standing."""
    from accelsim.paper import TABLE3
    from accelsim.workload.zoo import load_graph

    rows = [row for row in TABLE3 if row.depth is not None and row.name.startswith("1.0-SqNxt-23")]
    graphs = [load_graph(row.name) for row in rows]
    specs = list(PAPER_CONFIGS.values())
    composed = composer.compose(NamedSpace(graphs), specs)
    keys = [spec_key(s) for s in result.specs]
    flat_cycles, flat_energy = result.cycles.ravel(), result.energy.ravel()
    feasible = result.feasible.ravel()
    m = result.n_points
    idx = np.flatnonzero(feasible)
    i, j = np.divmod(idx, m)
    c, e, a, p = flat_cycles[idx], flat_energy[idx], result.area[j], result.params[i]
    out = []
    for r, (row, _graph) in enumerate(zip(rows, graphs, strict=True)):
        suffix = row.name.rsplit("-", 1)[-1]
        label = suffix[suffix.index("v"):] if "v" in suffix else "v1"
        for h, spec in enumerate(specs):
            rc, re_, ra, rp = float(composed.cycles[r, h]), float(composed.energy[r, h]), area_of(spec).total, \
                int(composed.params[r])
            dominated = int(dominators(np.column_stack([c, e, a, p]), [rc, re_, ra, rp]).sum())
            in_space = _in_space(result, row.name, tuple(row.depth), spec, keys)
            out.append(Reference(row.name, label, spec.label, tuple(row.depth), rc, re_, ra, rp, in_space, dominated))
    return tuple(out)


def _in_space(result: CodesignResult, name: str, depth: tuple[int, ...], spec: HardwareSpec,
              keys: Sequence[str]) -> bool:
    from networks.registry import get_preset

    options = get_preset(name).options
    if not any(spec_key(spec) == k and area_of(spec).total == area_of(s).total
               for k, s in zip(keys, result.specs, strict=True)):
        return False
    return any(all(options[k] == v for k, v in f.options.items()) and depth in f.candidates for f in result.families)


def reference_flat_index(result: CodesignResult, reference: Reference) -> int | None:
    """The flat index of a reference's design point in the space, or None if it is not in it."""
    from networks.registry import get_preset

    options = get_preset(reference.name).options
    spec = next(s for s in PAPER_CONFIGS.values() if s.label == reference.hardware)
    key = spec_key(spec)
    points = [j for j, s in enumerate(result.specs) if spec_key(s) == key and area_of(s).total == area_of(spec).total]
    if not points:
        return None
    offset = 0
    for f in result.families:
        if all(options[k] == v for k, v in f.options.items()) and reference.depth in f.candidates:
            row = offset + f.candidates.index(reference.depth)
            return row * result.n_points + points[0]
        offset += len(f.candidates)
    return None


def compose_rate(result: CodesignResult) -> float | None:
    """Design points composed per second of the compose step (pricing excluded)."""
    value = result.stats.get("compose_points_per_second")
    return None if value is None or not math.isfinite(value) else float(value)
