"""A vectorised argmin over candidate tilings that knows no cost formulas.

The evaluator (from ``accelsim.engine``) prices a :class:`~accelsim.mapping.tiling.CandidateTable`
with one numpy operation per formula over all candidates and returns an :class:`Evaluation`
of the feasible ones. :func:`search` ranks them with an :class:`Objective` and returns the
winner. Ties are broken by a fixed key, so the choice is deterministic:

1. the objective's keys in order (with a relative tolerance of ``1e-9``, so that float noise
   of equal formulas never decides);
2. the smallest flat candidate index (candidate values are sorted by decreasing tile size,
   so this prefers fewer, larger tiles); the evaluator has already fixed the loop order
   per candidate with its own fixed priority.

**Exact pruning** (:class:`BoundedEvaluator`). An evaluator that can also give a cheap
*lower bound* of every candidate's cycles and DRAM words (``bounds``) and price any subset
exactly (``price``) lets the search skip most of the exact pricing without changing the
winner: it prices the candidate with the smallest bounded first key (the incumbent), whose
exact first key is ``u``, and then prices only the candidates whose bounded key is within
the first key's tie tolerance of ``u`` (first under the coarse ``bounds``, then under the
tighter ``refine`` of their survivors). Why that is exact: each key
is non-decreasing in cycles and DRAM words (float rounding is monotone, so a bound computed
with the same operations on smaller operands stays below), hence a candidate whose bound
exceeds ``u + tol(u)`` has a first key above ``best + tol(best)`` (``best <= u``) and could
not survive the first key of :func:`argbest` anyway; the survivors keep their exact prices
and their increasing candidate order, so every later key and the index tie-break see the
same values. JOINT normalises by the best DRAM words of *all* feasible candidates, so it is
never pruned. If a bound is NaN or no incumbent is finite the search prices everything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

from accelsim.mapping.tiling import CandidateTable

_RTOL = 1e-9


class ObjectiveKind(StrEnum):
    LEXICOGRAPHIC = "lexicographic"  #: fewest cycles, then fewest DRAM words, then fewest compute cycles
    WEIGHTED = "weighted"  #: cycles + dram_weight * DRAM words, then DRAM words, then compute cycles
    #: cycles / fewest cycles + joint_weight * DRAM words / fewest DRAM words (the paper's "cost
    #: function of inference speed and the number of DRAM accesses"), then cycles, then DRAM words
    JOINT = "joint"


@dataclass(frozen=True)
class Objective:
    """How candidates are ranked. ``dram_weight`` (cycles per DRAM word) is used by WEIGHTED.

    Cycles are compared in whole cycles (rounded up): the hardware runs whole cycles, and
    the model's fractional cycles (``words / w_d``) must not let a sub-cycle saving, e.g. a
    first tile a few words smaller, outrank hundreds of extra DRAM words in the next key.
    """

    kind: ObjectiveKind = ObjectiveKind.LEXICOGRAPHIC
    dram_weight: float = 0.0
    joint_weight: float = 1.0

    def keys(self, ev: Evaluation) -> tuple[np.ndarray, ...]:
        """Ranking keys, most significant first (smaller is better).

        JOINT normalises each term by its best value over the feasible candidates of this
        layer, so the cost is dimensionless and ``joint_weight`` reads as an exchange rate:
        with 1.0 a tiling may spend 1 % more cycles to save more than 1 % of DRAM words.
        """
        if self.kind is ObjectiveKind.JOINT:
            whole = _whole_cycles(ev.cycles)
            feasible = np.isfinite(ev.cycles)
            if not feasible.any():
                return (whole, ev.dram_words, ev.compute_cycles)
            best_cycles = max(float(whole[feasible].min()), 1.0)
            best_words = max(float(ev.dram_words[feasible].min()), 1.0)
            cost = whole / best_cycles + self.joint_weight * ev.dram_words / best_words
            return (cost, whole, ev.dram_words)
        return (self._first_key(ev.cycles, ev.dram_words), ev.dram_words, ev.compute_cycles)

    @property
    def prunable(self) -> bool:
        """Whether the first key is a per-candidate non-decreasing function of cycles and DRAM
        words alone (JOINT's depends on every candidate's prices)."""
        return self.kind is not ObjectiveKind.JOINT

    def bound_key(self, bounds: Bounds) -> np.ndarray:
        """A lower bound of each candidate's first key, from lower bounds of its cycles and
        words (:meth:`keys`' own first-key function, so monotone in the same operations; flat,
        C-order over the bounds' grid)."""
        return self._first_key(bounds.cycles, bounds.dram_words).ravel()

    def _first_key(self, cycles: np.ndarray, dram_words: np.ndarray) -> np.ndarray:
        """The first ranking key of LEXICOGRAPHIC (whole cycles) and WEIGHTED (plus weighted words)."""
        whole = _whole_cycles(cycles)
        if self.kind is ObjectiveKind.WEIGHTED:
            return whole + self.dram_weight * dram_words
        return whole


def _whole_cycles(cycles: np.ndarray) -> np.ndarray:
    """Cycles rounded up to whole cycles (the tolerance keeps an exact integer from rounding up)."""
    return np.ceil(cycles - 1e-6)


@dataclass(frozen=True, eq=False)
class Bounds:
    """Lower bounds of the prices of a grid of candidates (arrays broadcastable to one shape).

    ``cycles`` is infinite for a candidate known infeasible; positions are C-order flat
    positions into the broadcast shape, which the evaluator maps back to candidates.
    """

    cycles: np.ndarray
    dram_words: np.ndarray
    #: per objective, what the search derives from the bounds alone (the bounds of a grid
    #: shared across specs, ``engine.GridMemo``, are then ranked once)
    derived: dict[Objective, tuple[np.ndarray, int, bool, int]] = field(default_factory=dict, compare=False, repr=False)


@runtime_checkable
class BoundedEvaluator(Protocol):
    """An evaluator that can bound every candidate cheaply and price any subset exactly."""

    def __call__(self, table: CandidateTable) -> Evaluation:
        """Every candidate priced (the unpruned search, and trade-off studies)."""
        ...

    def bounds(self, table: CandidateTable) -> Bounds:
        """Lower bounds of every candidate's cycles and DRAM words (cheap, coarse)."""
        ...

    def refine(self, bounds: Bounds, positions: np.ndarray) -> Bounds:
        """Tighter lower bounds (1-D) of the candidates at ``positions`` of ``bounds``."""
        ...

    def price(self, bounds: Bounds, positions: np.ndarray) -> Evaluation:
        """The exact prices of the candidates at ``positions`` (increasing) of ``bounds``;
        an infeasible candidate gets infinite cycles."""
        ...


@dataclass(frozen=True, eq=False)
class Evaluation:
    """Prices of candidates of a table (all arrays have the same length).

    Candidates the evaluator skipped are absent; those it found infeasible (e.g. over the
    buffer) have infinite ``cycles``.

    Attributes:
        index: flat candidate indices into the table (increasing).
        cycles: layer cycles of each candidate (``inf``: infeasible).
        dram_words: DRAM words moved.
        compute_cycles: PE-array cycles.
        order: index into ``LOOP_ORDERS`` of each candidate's best loop order, or None when
            the evaluator prices the best order in closed form and resolves it for the winner.
    """

    index: np.ndarray
    cycles: np.ndarray
    dram_words: np.ndarray
    compute_cycles: np.ndarray
    order: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.index.size)


@dataclass(frozen=True)
class Choice:
    """The winner of a search: flat candidate index, loop order (-1: left to the evaluator)
    and search statistics."""

    index: int
    order: int
    evaluated: int
    feasible: int


def argbest(keys: tuple[np.ndarray, ...]) -> int:
    """Position of the lexicographically smallest row of ``keys`` (first on exact ties).

    Each key narrows the survivors to those within a relative ``1e-9`` of its minimum.
    """
    alive = np.arange(keys[0].size)
    for key in keys:
        values = key[alive]
        best = values.min()
        alive = alive[values <= best + _RTOL * abs(best) + 1e-12]
        if alive.size == 1:
            break
    return int(alive[0])


def search(
    table: CandidateTable,
    evaluate: Callable[[CandidateTable], Evaluation],
    objective: Objective,
) -> Choice | None:
    """Evaluate every candidate of ``table`` and return the best, or None if none is feasible.

    A :class:`BoundedEvaluator` is searched with exact pruning (module docstring) unless the
    objective is JOINT; the choice is the same either way.
    """
    if objective.prunable and all(hasattr(evaluate, m) for m in ("bounds", "refine", "price")):  # a BoundedEvaluator
        choice = _pruned_search(table, evaluate, objective)
        if choice is not False:
            return choice
    ev = evaluate(table)
    if len(ev) == 0:
        return None
    pos = argbest(objective.keys(ev))
    if not np.isfinite(ev.cycles[pos]):
        return None
    order = -1 if ev.order is None else int(ev.order[pos])
    return Choice(index=int(ev.index[pos]), order=order, evaluated=table.size,
                  feasible=int(np.isfinite(ev.cycles).sum()))


def _pruned_search(table: CandidateTable, evaluate: BoundedEvaluator, objective: Objective) -> Choice | None | bool:
    """:func:`search` pricing only the candidates the lower bounds cannot rule out; False when
    the bounds give no finite incumbent (the caller then prices everything).

    The incumbent is the candidate with the smallest coarse bound, priced exactly; the coarse
    bounds of the whole grid and then the refined bounds of their survivors are held against
    it. (More incumbents, or a second one from the refined bounds, prune a little more but
    cost more per search than the few extra survivors do: pricing is vectorised.)
    """
    bounds = evaluate.bounds(table)
    derived = bounds.derived.get(objective)
    if derived is None:
        key = objective.bound_key(bounds)
        derived = bounds.derived[objective] = (key, int(np.argmin(key)) if key.size else -1,
                                               bool(np.isnan(key).any()), int(np.isfinite(bounds.cycles).sum()))
    key, smallest, nan, feasible = derived
    if key.size == 0:
        return None
    if nan:
        return False
    incumbent = float(objective.keys(evaluate.price(bounds, np.array([smallest])))[0][0])
    if not np.isfinite(incumbent):
        return False
    keep = np.flatnonzero(key <= _tolerance(incumbent))
    refined = objective.bound_key(evaluate.refine(bounds, keep))
    if np.isnan(refined).any():
        return False
    keep = keep[refined <= _tolerance(incumbent)]
    ev = evaluate.price(bounds, keep)
    pos = argbest(objective.keys(ev))
    order = -1 if ev.order is None else int(ev.order[pos])
    return Choice(index=int(ev.index[pos]), order=order, evaluated=table.size, feasible=feasible)


def _tolerance(best: float) -> float:
    """The largest first key :func:`argbest` keeps when ``best`` is the smallest."""
    return best + _RTOL * abs(best) + 1e-12
