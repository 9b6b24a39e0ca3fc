"""Depth redistribution: which split of a block budget over the stages runs best on a given accelerator.

The SqueezeNext paper moved units out of the first stage (23v2 [6,6,8,1] -> 23v5 [2,4,14,1])
because the first stage's few channels on a large map use a 16x16 array poorly. This module
searches that design space systematically: every distribution of the budget over the stages
(or a documented local search when there are too many), each candidate simulated on the same
hardware with one shared layer cache, ranked by an objective, with the Pareto front over
(cycles, energy, params).

Flow: ``BudgetSet`` -> ``DepthSpace`` -> (exhaustive | ``heuristic.local_search``) proposing
depth vectors -> ``compose`` prices them from their blocks' distinct layers (each simulated once) ->
budgets, ranking, Pareto -> ``RedistributionResult``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from accelsim import __version__
from accelsim.codesign.budget import Budget, BudgetKey, BudgetSet, format_count
from accelsim.codesign.heuristic import LocalSearchOptions, local_search, starting_points
from accelsim.codesign.pareto import pareto_mask
from accelsim.codesign.result import (
    Accuracy,
    Candidate,
    Objective,
    RedistributionResult,
    ReferencePoint,
    SearchMethod,
)
from accelsim.codesign.space import Depth, DepthSpace
from accelsim.codesign.variants import PROBE_UNITS, VariantBuilder, squeezenext_options
from accelsim.errors import BudgetError
from accelsim.execution import as_executor
from accelsim.hardware.spec import HardwareSpec
from accelsim.limits import MAX_REDISTRIBUTE_WORK, REDISTRIBUTE_LAYERS_PER_BLOCK

#: Spaces larger than this are searched with the local search instead of enumerated.
EXHAUSTIVE_LIMIT = 20_000

#: ``progress(done, total)``: candidates evaluated so far; ``total`` is None when unknown (local search).
ProgressCallback = Callable[[int, int | None], None]

#: Family options a caller may override (the SqueezeNext constructor's), besides depth.
FAMILY_OPTIONS = ("width", "stem_kernel", "first_unit", "groups")


class CandidateEvaluator:
    """Prices depth vectors of one family on one accelerator by composition (``compose``).

    ``evaluate_many(depths)`` composes the totals of many depth vectors at once from the
    prices of their blocks' distinct layers (each simulated once, in ``cache``); results are
    memoised by depth, so the local search can ask again for free. The totals equal a full
    simulation of each stitched graph (``tests/test_compose.py``).
    """

    def __init__(self, builder: VariantBuilder, hardware: HardwareSpec, cache: Any, name: str = "",
                 executor: Any = None) -> None:
        from accelsim.codesign.compose import Composer, FamilySpace
        from accelsim.pricing import executor_pricer

        self.builder, self.hardware, self.cache = builder, hardware, cache
        self.space = FamilySpace(name or "family", builder, ())
        self.composer = Composer(cache, pricer=executor_pricer(as_executor(executor), cache))
        self._seen: dict[Depth, Candidate] = {}

    def __contains__(self, depth: object) -> bool:
        """Whether ``depth`` was already priced."""
        return depth in self._seen

    def evaluate_many(self, depths: Iterable[Depth]) -> list[Candidate]:
        """Candidates for ``depths`` (in order). Raises InfeasibleError if a layer fits no tile."""
        from accelsim.errors import InfeasibleError

        wanted = [tuple(d) for d in depths]
        new = list(dict.fromkeys(d for d in wanted if d not in self._seen))
        if new:
            c = self.composer.compose(self.space, [self.hardware], candidates=new)
            for i, depth in enumerate(new):
                if not c.feasible[i, 0]:
                    raise InfeasibleError(c.reason(i, 0) or f"depth {list(depth)}: infeasible")
                self._seen[depth] = Candidate(depth, int(c.params[i]), int(c.macs[i]), int(c.macs_paper[i]),
                                              float(c.cycles[i, 0]), float(c.energy[i, 0]))
        return [self._seen[d] for d in wanted]

    def evaluate(self, depth: Depth) -> Candidate:
        return self.evaluate_many([depth])[0]


def _violation(candidate: Candidate, budgets: BudgetSet) -> float:
    """Sum of relative overshoots over the limits (0 when feasible): steers the local search."""
    return sum(max(0.0, float(getattr(candidate, b.key.value)) / b.value - 1.0) for b in budgets.limits)


def _rank_key(candidate: Candidate, objective: Objective) -> tuple[Any, ...]:
    return (not candidate.feasible, objective.of(candidate), candidate.cycles, candidate.energy,
            candidate.params, candidate.depth)


def _paper_variants(network_options: Mapping[str, Any]) -> dict[Depth, tuple[str, Accuracy]]:
    """Depth -> (paper name, printed accuracy) of Table 3 networks built exactly like this family.

    Only Table 3 rows whose depth the paper prints are used (1.0-SqNxt-23 v1-v5, 2.0-SqNxt-23,
    v4, v5); a candidate is a paper network only if width, stem, first-unit design and groups
    also match that network's preset.
    """
    from accelsim.paper import TABLE3
    from networks.registry import get_preset

    family = {k: network_options[k] for k in FAMILY_OPTIONS}
    out: dict[Depth, tuple[str, Accuracy]] = {}
    for row in TABLE3:
        if row.depth is None:
            continue
        options = get_preset(row.name).options
        if all(options[k] == v for k, v in family.items()):
            out[tuple(row.depth)] = (row.name, Accuracy(row.top1, row.top5, f"paper ({row.name})"))
    return out


def _references(network_options: Mapping[str, Any], evaluator: CandidateEvaluator,
                cache: Any) -> tuple[ReferencePoint, ...]:
    """The paper's Table 3 SqueezeNext rows of the same width and groups, simulated (v1-v5 at 1.0).

    Rows of this family come from the stitched graphs; others (e.g. v1's 7x7 stem and parallel
    first unit when the base is v2) are loaded from the zoo once.
    """
    from accelsim.paper import TABLE3
    from accelsim.simulation import simulate_graph
    from accelsim.workload.zoo import load_graph
    from networks.registry import get_preset

    points = []
    family = {k: network_options[k] for k in FAMILY_OPTIONS}
    for row in TABLE3:
        if row.depth is None:
            continue
        options = get_preset(row.name).options
        if options["width"] != family["width"] or options["groups"] != family["groups"]:
            continue
        if all(options[k] == v for k, v in family.items()) and len(row.depth) == evaluator.builder.n_stages:
            c = evaluator.evaluate(tuple(row.depth))
            params, cycles, energy = c.params, c.cycles, c.energy
        else:
            graph = load_graph(row.name)
            result = simulate_graph(graph, evaluator.hardware, cache=cache)
            params, cycles, energy = graph.params, result.cycles, result.energy
        suffix = row.name.rsplit("-", 1)[-1]
        label = suffix[suffix.index("v"):] if "v" in suffix else "v1"
        points.append(ReferencePoint(row.name, label, tuple(row.depth), params, cycles, energy, row.top1))
    return tuple(points)


def _infeasible_message(candidates: Iterable[Candidate], budgets: BudgetSet) -> str:
    """One line: which budgets failed and the best value any candidate reached for each limit."""
    pool = list(candidates)
    best = []
    for limit in budgets.limits:
        key = limit.key.value
        lowest = min(getattr(c, key) for c in pool)
        text = f"{lowest:,}" if isinstance(lowest, int) else f"{lowest:.4g}"
        best.append(f"{key} {text} (limit {format_count(limit.value)})")
    return (f"no candidate meets the budgets {', '.join(budgets.to_list())} "
            f"({len(pool)} evaluated); best achievable: {'; '.join(best)}")


def _spec(hardware: HardwareSpec | str | Path | None) -> HardwareSpec:
    """A spec, a YAML path, a built-in name ('8x8'), or None for the paper's 16x16/128KB."""
    from accelsim.hardware import resolve_hardware

    return resolve_hardware(hardware)


def make_builder(network: str, options: Mapping[str, Any]) -> VariantBuilder:
    """Export the family once at the probe depth (disk-cached by the zoo) and cut it into templates.

    Stitched graphs get the name and ``meta`` a direct ``load_graph(network, depth=...)`` gives.
    """
    from accelsim.workload.zoo import effective_overrides, load_graph, variant_name

    family = {k: options[k] for k in FAMILY_OPTIONS}
    probe = load_graph(network, **family, depth=(PROBE_UNITS,) * len(options["depth"]))

    def graph_name(depth: Depth) -> str:
        return variant_name(network, {**family, "depth": depth})

    def graph_meta(depth: Depth) -> dict[str, Any]:
        changed = effective_overrides(network, {**family, "depth": depth})
        overrides = {k: (list(v) if isinstance(v, tuple) else v) for k, v in changed.items()}
        return {**probe.meta, "overrides": overrides}

    return VariantBuilder(probe, graph_name, graph_meta)


def planned_work(space: DepthSpace, knobs: LocalSearchOptions, exhaustive_limit: int,
                 base: Depth) -> tuple[int, int]:
    """``(candidates, layers per candidate)`` a search of ``space`` plans, estimated before any work.

    Enumerated: every vector of the space. Local search: each start's descent moves at most
    about as many times as there are blocks to shift, scoring every neighbour (a stage pair and
    a step of 1..``max_step`` blocks) per move; capped at the space's size. Layers: about
    ``REDISTRIBUTE_LAYERS_PER_BLOCK`` per block of the largest total.
    """
    top = max(space.totals)
    layers = REDISTRIBUTE_LAYERS_PER_BLOCK * top + 10
    if space.size <= exhaustive_limit:
        return space.size, layers
    starts = len(starting_points(space, base, knobs))
    per_step = space.n_stages * (space.n_stages - 1) + (2 * space.n_stages if len(space.totals) > 1 else 0)
    neighbours = per_step * knobs.max_step  # moves between stages (and, over several totals, adds/removes)
    return min(space.size, starts * top * neighbours), layers


def check_work(space: DepthSpace, knobs: LocalSearchOptions, exhaustive_limit: int, base: Depth) -> None:
    """Refuse, before any work, a search planning more than ``MAX_REDISTRIBUTE_WORK`` layer evaluations."""
    candidates, layers = planned_work(space, knobs, exhaustive_limit, base)
    if candidates * layers > MAX_REDISTRIBUTE_WORK:
        raise BudgetError(f"--budget: {space.n_stages} stages and up to {max(space.totals)} blocks plan about "
                          f"{candidates * layers:,} layer evaluations ({candidates:,} candidates x {layers:,} "
                          f"layers), over the limit of {MAX_REDISTRIBUTE_WORK:,}; give fewer blocks or stages")


def redistribute(
    network: str,
    hardware: HardwareSpec | str | Path | None = None,
    *,
    budgets: Iterable[str | Budget] | BudgetSet = (),
    objective: Objective | str = Objective.CYCLES,
    min_per_stage: int = 1,
    width: float | None = None,
    depth: Iterable[int] | None = None,
    stem_kernel: int | None = None,
    first_unit: str | None = None,
    groups: int | None = None,
    exhaustive_limit: int = EXHAUSTIVE_LIMIT,
    search_options: LocalSearchOptions | None = None,
    cache: Any = None,
    progress: ProgressCallback | None = None,
    executor: Any = None,
) -> RedistributionResult:
    """Search the distributions of a block budget over the stages of a SqueezeNext network.

    Args:
        network: a SqueezeNext preset name or alias (``"1.0-SqNxt-23v2"``, ``"sqnxt23v5"``).
        hardware: a ``HardwareSpec``, a YAML path, a built-in name (``"8x8"``, ``"16x16"``) or
            None for the paper's 16x16/128KB accelerator.
        budgets: expressions such as ``"blocks=21"``, ``"params<=1.0M"`` (see ``budget``);
            without a block budget the base network's total is kept.
        objective: ``cycles``, ``energy`` or ``edp`` (energy x cycles), minimised.
        min_per_stage: fewest units any stage may keep (>= 1).
        width, depth, stem_kernel, first_unit, groups: override the preset's options
            (``depth`` sets the base network, whose total is the default budget).
        exhaustive_limit: enumerate spaces up to this size, else run the local search.
        search_options: knobs of the local search (random starts, step, seed); defaults if None.
        cache: a ``SimCache`` to share with other work (a fresh one by default).
        progress: called after each candidate with (done, total) (with a cluster: as each
            task's candidates come back).
        executor: where the distinct layers are priced (``accelsim.execution``): None here; a
            ``distributed.Client`` or a Dask ``Executor`` on its workers, in chunks
            (``accelsim.pricing.executor_pricer``); candidates are composed here. The result,
            cache counts included, is the in-process one.

    Raises:
        WorkloadError: the base is not a SqueezeNext network, or an option is invalid.
        BudgetError: a budget is malformed, leaves too few blocks, or no candidate meets it.
    """
    from accelsim.simulation import SimCache

    budget_set = budgets if isinstance(budgets, BudgetSet) else BudgetSet.parse(budgets)
    area = next((b for b in budget_set.limits if b.key is BudgetKey.AREA), None)
    if area is not None:
        raise BudgetError(f"budget {str(area)!r}: redistribute runs on one accelerator, whose area does not "
                          "depend on the network; search hardware under an area budget with accelsim codesign")
    goal = Objective(objective)
    overrides = {"width": width, "stem_kernel": stem_kernel, "first_unit": first_unit, "groups": groups,
                 "depth": None if depth is None else tuple(depth)}
    name, options = squeezenext_options(network, overrides)
    base_depth: Depth = options["depth"]
    n_stages = len(base_depth)
    space = DepthSpace(budget_set.block_totals(sum(base_depth), n_stages, min_per_stage), n_stages, min_per_stage)
    knobs = search_options or LocalSearchOptions()
    check_work(space, knobs, exhaustive_limit, base_depth)
    spec = _spec(hardware)
    cache = SimCache() if cache is None else cache
    evaluator = CandidateEvaluator(make_builder(name, options), spec, cache, name, executor)

    done = 0

    def evaluate(vector: Depth, total: int | None) -> Candidate:
        nonlocal done
        fresh = vector not in evaluator
        candidate = evaluator.evaluate(vector)
        if fresh:
            done += 1
            if progress is not None:
                progress(done, total)
        return candidate

    if space.size <= exhaustive_limit:
        method = SearchMethod.EXHAUSTIVE
        evaluated = evaluator.evaluate_many(space)
        done = len(evaluated)
        if progress is not None:
            progress(done, space.size)
    else:
        method = SearchMethod.LOCAL_SEARCH

        def score(vector: Depth) -> tuple[Any, ...]:
            c = evaluate(vector, None)
            return (_violation(c, budget_set), goal.of(c), c.depth)

        trace = local_search(space, score, starting_points(space, base_depth, knobs), knobs)
        evaluated = [evaluator.evaluate(v) for v in trace.evaluated]
        if base_depth in space and base_depth not in trace.evaluated:
            # the base is ranked and Pareto-checked like any candidate whenever it is in the space
            evaluated.append(evaluate(base_depth, None))

    paper = _paper_variants(options)
    candidates = _finish(evaluated, budget_set, goal, paper)
    if not any(c.feasible for c in candidates):
        raise BudgetError(_infeasible_message(candidates, budget_set))
    base = next((c for c in candidates if c.depth == base_depth), None)
    if base is None:
        raw = evaluator.evaluate(base_depth)
        paper_entry = paper.get(base_depth)
        base = replace(raw, feasible=budget_set.holds(raw) and base_depth in space,
                       paper_name=paper_entry[0] if paper_entry else None,
                       paper=paper_entry[1] if paper_entry else None)
    references = _references(options, evaluator, cache)
    stats = _cache_stats(cache)
    return RedistributionResult(
        network=name,
        options={k: options[k] for k in FAMILY_OPTIONS},
        hardware=spec,
        budgets=budget_set,
        objective=goal,
        min_per_stage=min_per_stage,
        method=method,
        space_size=space.size,
        base=base,
        candidates=candidates,
        references=references,
        cache_hits=stats[0],
        cache_misses=stats[1],
        version=__version__,
        meta={"base_depth": list(base_depth), "totals": list(space.totals)},
    )


def _finish(evaluated: list[Candidate], budgets: BudgetSet, objective: Objective,
            paper: Mapping[Depth, tuple[str, Accuracy]]) -> tuple[Candidate, ...]:
    """Flag feasibility, the paper's networks and the Pareto front; sort into rank order."""
    flagged = []
    for c in evaluated:
        entry = paper.get(c.depth)
        flagged.append(replace(c, feasible=budgets.holds(c), paper_name=entry[0] if entry else None,
                               paper=entry[1] if entry else None))
    feasible = [c for c in flagged if c.feasible]
    front = pareto_mask([(c.cycles, c.energy, float(c.params)) for c in feasible]) if feasible else []
    on_front = {c.depth for c, keep in zip(feasible, front, strict=True) if keep}
    ranked = [replace(c, pareto=c.depth in on_front) for c in flagged]
    return tuple(sorted(ranked, key=lambda c: _rank_key(c, objective)))


def _cache_stats(cache: Any) -> tuple[int, int]:
    return int(cache.hits), int(cache.misses)
