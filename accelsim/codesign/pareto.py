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
