"""Pareto fronts of points whose every coordinate is minimised.

Point ``q`` dominates ``p`` when ``q <= p`` in every coordinate and ``q < p`` in at least one.
Equal points do not dominate each other, so duplicates on the front all stay on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def pareto_mask(points: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Which rows of an ``(n, d)`` array are not dominated by any other row.

    Sort-then-filter, ``O(n * f)`` for a front of ``f`` points: after a lexicographic sort a
    dominating point always comes before the points it dominates (it is <= everywhere and
    differs somewhere), and a dominated dominator is itself dominated by an earlier front
    point (dominance is transitive), so each point need only be checked against the front
    found so far.

    Returns:
        boolean array of shape ``(n,)``, True on the front.
    """
    values = np.asarray(points, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"pareto_mask: expected an (n, d) array; got shape {values.shape}")
    n = values.shape[0]
    mask = np.zeros(n, dtype=bool)
    if n == 0:
        return mask
    if np.isnan(values).any():
        raise ValueError("pareto_mask: points must not contain NaN")
    order = np.lexsort(values.T[::-1])
    front = np.empty_like(values)
    size = 0
    for index in order:
        p = values[index]
        kept = front[:size]
        dominated = np.any(np.all(kept <= p, axis=1) & np.any(kept < p, axis=1)) if size else False
        if not dominated:
            front[size] = p
            size += 1
            mask[index] = True
    return mask


#: Relative difference below which two objective values count as equal when a design is compared
#: with a reference priced another way: the same network priced whole and composed from its
#: blocks sums the same layer costs in another order, which differs in the last bits (~1e-15),
#: so an exact comparison counts the reference's own copy in the space as dominating it.
DOMINANCE_RTOL = 1e-9


def dominators(points: np.ndarray, reference: Sequence[float], rtol: float = DOMINANCE_RTOL) -> np.ndarray:
    """Which rows of ``points`` (n, d) dominate ``reference`` (d,): no worse in every coordinate
    and better in at least one, where "better" and "worse" mean by more than ``rtol`` of the
    reference's value (a copy of the reference that differs by rounding neither dominates it nor
    is dominated)."""
    values = np.asarray(points, dtype=float)
    ref = np.asarray(reference, dtype=float)
    slack = rtol * np.abs(ref)
    no_worse = np.all(values <= ref + slack, axis=1)
    better = np.any(values < ref - slack, axis=1)
    return no_worse & better


def pareto_indices(points: Sequence[Sequence[float]] | np.ndarray, exact_limit: int = 4096,
                   chunk: int = 8192) -> np.ndarray:
    """Indices (ascending) of the rows of ``points`` not dominated by any other row: ``pareto_mask``'s
    front, fast for millions of rows.

    While more than ``exact_limit`` rows remain, the front of a sample of them (every k-th row in
    lexicographic order, plus the best rows of each coordinate) is found exactly, and every row
    strictly dominated by one of its points is dropped, in vectorised chunks. Dropping a row that
    an actual row dominates never removes a front point, so the exact ``pareto_mask`` on the
    survivors gives the same front. Most rows of a design space fall to a few good points.
    """
    values = np.asarray(points, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"pareto_indices: expected an (n, d) array; got shape {values.shape}")
    if np.isnan(values).any():
        raise ValueError("pareto_indices: points must not contain NaN")
    alive = np.arange(values.shape[0])
    width = 16  # filter points in the first round: few, since most rows fall to the first good points
    while len(alive) > exact_limit:
        v = values[alive]
        order = np.lexsort(v.T[::-1])
        picks = [order[:: max(1, len(order) // 1024)]]
        picks += [np.argsort(v[:, d], kind="stable")[:64] for d in range(v.shape[1])]
        sample = np.unique(np.concatenate(picks))
        filt = v[sample[pareto_mask(v[sample])]]
        if len(filt) > width:  # the most balanced front points: smallest sum of per-coordinate ranks
            ranks = np.argsort(np.argsort(filt, axis=0), axis=0).sum(axis=1)
            filt = filt[np.argsort(ranks, kind="stable")[:width]]
        width = min(256, width * 4)
        dominated = np.zeros(len(v), dtype=bool)
        for start in range(0, len(v), chunk):
            block = v[start:start + chunk, None, :]
            le = (filt[None, :, :] <= block).all(axis=2)
            lt = (filt[None, :, :] < block).any(axis=2)
            dominated[start:start + chunk] = (le & lt).any(axis=1)
        if dominated.sum() < 0.05 * len(v):  # the front itself is large: finish exactly
            break
        alive = alive[~dominated]
    return np.sort(alive[_blocked_front(values[alive], block=min(chunk, 1024))])


def _blocked_front(values: np.ndarray, block: int = 1024) -> np.ndarray:
    """``np.flatnonzero(pareto_mask(values))``, a block of rows at a time.

    In lexicographic order every dominator of a row comes before it, and a dominator that is not
    itself on the front is dominated by an earlier front row (transitivity). So a row is on the
    front iff neither a front row of the earlier blocks nor an earlier row of its own block
    dominates it: two vectorised comparisons per block instead of one loop step per row.
    """
    n = values.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort(values.T[::-1])
    sorted_values = values[order]
    front_rows: list[np.ndarray] = []
    front = np.empty((0, values.shape[1]))
    for start in range(0, n, block):
        b = sorted_values[start:start + block]
        if len(front):
            le = (front[None, :, :] <= b[:, None, :]).all(axis=2)
            lt = (front[None, :, :] < b[:, None, :]).any(axis=2)
            out = (le & lt).any(axis=1)
        else:
            out = np.zeros(len(b), dtype=bool)
        le = (b[None, :, :] <= b[:, None, :]).all(axis=2)  # [p, q]: q <= p everywhere
        lt = (b[None, :, :] < b[:, None, :]).any(axis=2)
        earlier = np.tri(len(b), k=-1, dtype=bool)  # q before p in the order
        out |= (le & lt & earlier).any(axis=1)
        keep = np.flatnonzero(~out)
        front_rows.append(order[start + keep])
        front = np.vstack([front, b[keep]])
    return np.sort(np.concatenate(front_rows))

