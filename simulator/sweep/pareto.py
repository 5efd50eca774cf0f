"""Pareto fronts: the points no other point beats in every objective (all minimized)."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["pareto_mask"]


@numba.njit(cache=True)
def _front_of_sorted(values: np.ndarray) -> np.ndarray:
    """Optimal flags for rows already in lexicographic order (see :func:`pareto_mask`)."""
    n, d = values.shape
    front = np.empty(n, dtype=np.int64)
    size = 0
    optimal = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        dominated = False
        for f in range(size):
            j = front[f]
            no_worse = True
            better = False
            for c in range(d):
                if values[j, c] > values[i, c]:
                    no_worse = False
                    break
                if values[j, c] < values[i, c]:
                    better = True
            if no_worse and better:
                dominated = True
                break
        if not dominated:
            front[size] = i
            size += 1
            optimal[i] = True
    return optimal


def pareto_mask(objectives: np.ndarray) -> np.ndarray:
    """Which rows of ``objectives`` are Pareto-optimal, minimizing every column.

    Row ``i`` is dominated when some row ``j`` is ``<=`` in every objective and ``<`` in
    at least one. Exact duplicates of an optimal point are all kept; rows with a NaN are
    never optimal.

    Rows are visited in lexicographic order, in which any dominator of a row comes before
    it; since domination is transitive, a dominated row is always dominated by some row
    already on the front, so each row is compared with the front found so far only:
    ``O(n log n + n * front)`` rather than ``O(n^2)``.

    Parameters
    ----------
    objectives : float[n, d]

    Returns
    -------
    bool[n]
    """
    values = np.asarray(objectives, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(
            f"objectives must be a 2-D array [points, objectives], not shape {values.shape}"
        )
    valid = np.flatnonzero(~np.isnan(values).any(axis=1))
    order = valid[np.lexsort(values[valid].T[::-1])]
    mask = np.zeros(len(values), dtype=bool)
    mask[order] = _front_of_sorted(np.ascontiguousarray(values[order]))
    return mask
