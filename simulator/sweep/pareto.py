"""Pareto fronts: the points no other point beats in every objective (all minimized)."""

from __future__ import annotations

import numpy as np

__all__ = ["pareto_mask"]


def pareto_mask(objectives: np.ndarray, block: int = 1024) -> np.ndarray:
    """Which rows of ``objectives`` are Pareto-optimal, minimizing every column.

    Row ``i`` is dominated when some row ``j`` is ``<=`` in every objective and ``<`` in
    at least one. Exact duplicates of an optimal point are all kept. Rows with a NaN
    are never optimal.

    Parameters
    ----------
    objectives : float[n, d]
    block : int
        Rows compared at once; memory is ``O(block * n * d)``.

    Returns
    -------
    bool[n]
    """
    values = np.asarray(objectives, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(
            f"objectives must be a 2-D array [points, objectives], not shape {values.shape}"
        )
    valid = ~np.isnan(values).any(axis=1)
    candidates = values[valid]
    optimal = np.zeros(len(candidates), dtype=bool)
    for start in range(0, len(candidates), block):
        rows = candidates[start : start + block, None, :]
        no_worse = (candidates[None, :, :] <= rows).all(axis=2)
        better = (candidates[None, :, :] < rows).any(axis=2)
        optimal[start : start + block] = ~(no_worse & better).any(axis=1)
    mask = np.zeros(len(values), dtype=bool)
    mask[np.flatnonzero(valid)] = optimal
    return mask
