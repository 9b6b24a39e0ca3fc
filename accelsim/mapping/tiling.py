"""Candidate tile sizes, loop orders and the candidate table of the tiling search.

A layer's tile loops are ``k`` (output channels, or groups for packed small-group convs),
``c`` (input channels) and ``s`` (spatial tiles: ``n_y`` bands of ``ht`` output rows times
``n_x`` strips of ``wt`` output columns, x innermost inside s). A *tiling* fixes the four tile
sizes and the order of the three loops. This module knows nothing about costs: it proposes
tile sizes, and the search (``mapping.search``) ranks them with an evaluator passed in.

Pruning rules (each is lossless for the cost model of ``accelsim.engine``, and the engine's
tests check the pruned search against an exhaustive one on small layers):

1. **Only sizes that change a ceil-count.** Along a dimension of ``n`` with tile ``t``, the
   tile loop runs ``m = ceil(n/t)`` times over ``m - 1`` full tiles and one remainder
   ``r = n - (m-1)*t``. Every tile size with the same ``m`` gives the same loop count, hence
   the same re-fetch factors, tile count and (up to border clipping) halo traffic. Among
   them the smallest, ``ceil(n/m)``, is the most *balanced* split: it has the smallest
   buffer footprint (the largest tile is smallest), the smallest first tile (DMA prologue),
   and, because it is majorised by every other split with ``m`` parts, the smallest sum of
   any convex per-tile cost (``max(T, Pr)`` stream lengths in WS, ``max(ct*cyc, drain)``
   sub-tile times in OS). So ``{ceil(n/m) : m = 1..n}`` (about ``2*sqrt(n)`` values) covers
   every count.
2. **Plus multiples of the array quantum where folds are counted.** Where a dimension is
   folded onto ``P`` array rows or columns (WS input/output channels, OS output rows/cols),
   the fold sum ``sum_i ceil(t_i/P)`` is *not* convex in the split, and tiles that are
   multiples of ``P`` reach its global minimum ``ceil(n/P)`` whatever their count. So the
   multiples of ``P`` below ``n`` are kept as well.
3. **Infeasible tiles are dropped** by the evaluator, first wholesale: a channel-tile pair
   that does not fit with the smallest spatial tile fits with none (and vice versa), so such
   rows and columns of the candidate grid are never priced; the remaining misfits are
   marked infinitely slow. A tile that exceeds the buffer cannot run, and dropping it early
   keeps the vectorised evaluation proportional to the plausible set.
4. **Loop orders are not enumerated as candidates.** A loop order changes only the
   re-fetch factors, hence only the DRAM words; every objective is non-decreasing in DRAM
   words with everything else fixed, so the evaluator prices each tile under its best order
   (a closed form over the 6 orders, ``engine.traffic``) and resolves the order of the
   winner. Orders that differ only in the position of a loop whose count is 1 are exactly
   equivalent (that loop changes no tile); the fixed priority of :data:`LOOP_ORDERS` breaks
   such ties.

5. **Bounds, in the search.** Of what remains, ``mapping.search`` prices exactly only the
   candidates whose lower bound can still match the best (its "exact pruning"): a lossless
   cut too, proved there and checked against pricing every candidate.

Candidate values are sorted in decreasing size, so the flat candidate index (the final
tie-break of the search) prefers larger tiles, i.e. fewer tiles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: The tile-loop orders, outermost first, in tie-break priority order.
LOOP_ORDERS: tuple[tuple[str, str, str], ...] = (
    ("k", "c", "s"),
    ("c", "k", "s"),
    ("k", "s", "c"),
    ("s", "k", "c"),
    ("c", "s", "k"),
    ("s", "c", "k"),
)

#: Candidate dimensions, in the axis order of a :class:`CandidateTable`.
DIMS: tuple[str, str, str, str] = ("k", "c", "y", "x")


@lru_cache(maxsize=4096)
def _tile_values(n: int, quantum: int) -> np.ndarray:
    counts = np.arange(1, n + 1)
    values = set((-(-n // counts)).tolist())  # ceil(n/m) for every count m (rule 1)
    if quantum > 1:
        values.update(range(quantum, n, quantum))  # multiples of the array quantum (rule 2)
    out = np.array(sorted(values, reverse=True), dtype=np.int64)
    out.setflags(write=False)
    return out


def tile_values(n: int, quantum: int = 1) -> np.ndarray:
    """Candidate tile sizes for a dimension of ``n`` (decreasing, read-only int64 array).

    ``quantum``: the array width this dimension is folded onto (1 when no fold is counted).
    Always contains ``n`` (one tile) and ``1``.
    """
    if n < 1:
        raise ValueError(f"dimension size must be >= 1; got {n}")
    return _tile_values(int(n), max(int(quantum), 1))


@dataclass(frozen=True, eq=False)
class Split:
    """One dimension of size ``n`` split by each of an array of tile sizes.

    Attributes:
        n: the dimension's size.
        tile: tile sizes ``t`` (V,), the size of every tile but the last.
        count: ``m = ceil(n/t)`` (V,), the trip count of the tile loop.
        last: ``r = n - (m-1)*t`` (V,), the size of the last tile (``1 <= r <= t``).
    """

    n: int
    tile: np.ndarray
    count: np.ndarray
    last: np.ndarray

    @classmethod
    def of(cls, n: int, tiles: np.ndarray | list[int]) -> Split:
        tile = np.asarray(tiles, dtype=np.int64)
        if tile.size and (tile.min() < 1 or tile.max() > n):
            raise ValueError(f"tile sizes must be in 1..{n}; got {tile.tolist()}")
        count = -(-n // tile)
        return cls(n, tile, count, n - (count - 1) * tile)

    def __len__(self) -> int:
        return int(self.tile.size)

    def folds(self, quantum: int) -> np.ndarray:
        """``sum_i ceil(t_i / quantum)`` over the tiles: array passes needed for the dimension."""
        q = max(int(quantum), 1)
        return (self.count - 1) * -(-self.tile // q) + -(-self.last // q)

    def classes(self) -> tuple[np.ndarray, np.ndarray]:
        """Tile sizes and multiplicities as ``(V, 2)`` arrays: ``(t, m-1)`` and ``(r, 1)``."""
        sizes = np.stack([self.tile, self.last], axis=1)
        counts = np.stack([self.count - 1, np.ones_like(self.count)], axis=1)
        return sizes, counts

    def sub_classes(self, quantum: int) -> tuple[np.ndarray, np.ndarray]:
        """Sub-tiles of at most ``quantum`` as ``(V, 3)`` sizes and multiplicities.

        Every tile of size ``h`` is cut into ``h // quantum`` full sub-tiles and one partial
        sub-tile of ``h % quantum`` (if non-zero). Classes: full ``quantum``, the full tiles'
        remainder ``t % quantum`` and the last tile's remainder ``r % quantum``.
        Unused classes have multiplicity 0 (and a size of 0).
        """
        q = max(int(quantum), 1)
        t_rem, r_rem = self.tile % q, self.last % q
        full = (self.count - 1) * (self.tile // q) + self.last // q
        sizes = np.stack([np.full_like(self.tile, q), t_rem, r_rem], axis=1)
        counts = np.stack([full, (self.count - 1) * (t_rem > 0), (r_rem > 0).astype(np.int64)], axis=1)
        return sizes, counts


@dataclass(frozen=True, eq=False)
class CandidateTable:
    """The Cartesian product of per-dimension candidate tile sizes, indexed lazily.

    ``values[d]`` holds dimension ``DIMS[d]``'s sizes; candidate ``i`` is the flat (C-order)
    index into the ``shape`` grid, so ``unravel(i)`` gives per-dimension indices.
    """

    values: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(int(v.size) for v in self.values)  # type: ignore[return-value]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def unravel(self, index: np.ndarray | int) -> tuple[np.ndarray, ...]:
        return np.unravel_index(index, self.shape)

    def sizes(self, index: int) -> tuple[int, int, int, int]:
        """The ``(kt, ct, ht, wt)`` of candidate ``index``."""
        ik, ic, iy, ix = (int(i) for i in self.unravel(index))
        k, c, y, x = self.values
        return int(k[ik]), int(c[ic]), int(y[iy]), int(x[ix])
