"""The space of depth vectors: every way to distribute a block budget over the stages.

A depth vector ``(d_1, ..., d_s)`` gives the units per stage. With a total of ``n`` blocks
and at least ``m`` per stage, taking ``m`` from every stage first leaves ``n - s*m`` free
blocks to place in ``s`` stages, so by stars and bars there are
``C(n - s*m + s - 1, s - 1)`` vectors (``C(n - 1, s - 1)`` for ``m = 1``; 21 blocks over 4
stages: ``C(20, 3) = 1140``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from math import comb

from accelsim.errors import BudgetError

Depth = tuple[int, ...]


def count_distributions(total: int, n_stages: int, min_per_stage: int = 1) -> int:
    """How many depth vectors have ``n_stages`` entries >= ``min_per_stage`` summing to ``total``."""
    free = total - n_stages * min_per_stage
    if n_stages < 1 or free < 0:
        return 0
    return comb(free + n_stages - 1, n_stages - 1)


def distributions(total: int, n_stages: int, min_per_stage: int = 1) -> Iterator[Depth]:
    """Every such depth vector once, in lexicographic order (smallest first stage first)."""
    if n_stages < 1 or total < n_stages * min_per_stage:
        return
    if n_stages == 1:
        yield (total,)
        return
    rest_floor = (n_stages - 1) * min_per_stage
    for first in range(min_per_stage, total - rest_floor + 1):
        for tail in distributions(total - first, n_stages - 1, min_per_stage):
            yield (first, *tail)


@dataclass(frozen=True)
class DepthSpace:
    """Depth vectors of ``n_stages`` stages, >= ``min_per_stage`` each, with a total in ``totals``.

    Attributes:
        totals: allowed block totals, ascending (one for ``blocks=N``, a range for ``blocks<=N``).
        n_stages: stages per vector.
        min_per_stage: the smallest number of units a stage may keep (>= 1).
    """

    totals: tuple[int, ...]
    n_stages: int
    min_per_stage: int = 1

    def __post_init__(self) -> None:
        if self.n_stages < 1:
            raise BudgetError(f"depth space: needs at least one stage; got {self.n_stages}")
        if self.min_per_stage < 1:
            raise BudgetError(f"min-per-stage: must be >= 1; got {self.min_per_stage}")
        if not self.totals or min(self.totals) < self.n_stages * self.min_per_stage:
            raise BudgetError(f"depth space: totals {list(self.totals)} cannot give {self.n_stages} stages "
                              f"at least {self.min_per_stage} block(s) each")
        object.__setattr__(self, "totals", tuple(sorted(set(self.totals))))

    @property
    def size(self) -> int:
        return sum(count_distributions(t, self.n_stages, self.min_per_stage) for t in self.totals)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[Depth]:
        """Every vector, by total then lexicographically."""
        for total in self.totals:
            yield from distributions(total, self.n_stages, self.min_per_stage)

    def __contains__(self, depth: object) -> bool:
        return (isinstance(depth, tuple) and len(depth) == self.n_stages
                and all(isinstance(d, int) and d >= self.min_per_stage for d in depth)
                and sum(depth) in self.totals)

    def neighbours(self, depth: Sequence[int], max_step: int = 2) -> Iterator[Depth]:
        """Vectors one move away, in a fixed order.

        A move takes ``k`` blocks (1 <= k <= ``max_step``) from one stage to another; when
        several totals are allowed it may also add or remove ``k`` blocks in one stage.
        Steps of 2 matter: the separable convs alternate 3x1/1x3 first, so consecutive units
        of a stage can cost differently and a 1-block move may look worse than a 2-block one.
        """
        base = tuple(depth)
        seen: set[Depth] = {base}
        for k in range(1, max_step + 1):
            for src in range(self.n_stages):
                if base[src] - k < self.min_per_stage:
                    continue
                for dst in range(self.n_stages):
                    if dst != src:
                        moved = list(base)
                        moved[src] -= k
                        moved[dst] += k
                        yield from _new(tuple(moved), seen)
            if len(self.totals) > 1:
                for stage in range(self.n_stages):
                    for delta in (k, -k):
                        changed = list(base)
                        changed[stage] += delta
                        candidate = tuple(changed)
                        if candidate in self:
                            yield from _new(candidate, seen)

    def clamp(self, weights: Sequence[float], total: int) -> Depth:
        """The vector of ``total`` blocks closest to proportional to ``weights``.

        Largest-remainder rounding, then stages below ``min_per_stage`` take blocks from the
        largest stages. Used to carry a base network's shape to another total: [6,6,8,1] at 42
        gives [12,12,16,2], and at its own total gives itself. Ties go to the earlier stage.
        """
        if total not in self.totals:
            raise BudgetError(f"depth space: total {total} is not one of {list(self.totals)}")
        if len(weights) != self.n_stages or min(weights) < 0:
            raise BudgetError(f"depth space: expected {self.n_stages} weights >= 0; got {list(weights)}")
        scale = float(sum(weights))
        shares = [total * w / scale for w in weights] if scale > 0 else [total / self.n_stages] * self.n_stages
        counts = [int(s) for s in shares]
        order = sorted(range(self.n_stages), key=lambda i: (-(shares[i] - counts[i]), i))
        for i in order[: total - sum(counts)]:
            counts[i] += 1
        for i in range(self.n_stages):
            while counts[i] < self.min_per_stage:
                donor = max(range(self.n_stages), key=lambda j: (counts[j], -j))
                counts[donor] -= 1
                counts[i] += 1
        return tuple(counts)


def _new(depth: Depth, seen: set[Depth]) -> Iterator[Depth]:
    if depth not in seen:
        seen.add(depth)
        yield depth
