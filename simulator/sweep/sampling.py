"""Points of a sweep: every grid combination, or random / Latin-hypercube samples.

Points come out as columns (axis name -> array of length ``n_points``) in a fixed,
seeded order; a point's id is its index in that order, before any constraint drops it.

- grid: the Cartesian product of the axes' values, the last axis varying fastest;
- random: each axis sampled independently and uniformly (by index for a list of values,
  uniform or log-uniform over a continuous range), ``numpy.random.default_rng(seed)``;
- lhs: Latin-hypercube sampling (McKay, Beckman & Conover, Technometrics 1979): each
  axis's unit interval is cut into ``n`` equal strata, every stratum is sampled exactly
  once, and the strata are paired across axes by independent random permutations.
"""

from __future__ import annotations

import numpy as np

from simulator.sweep.spec import SweepSpec

__all__ = ["sample_points", "unit_samples"]


def unit_samples(method: str, n: int, dims: int, seed: int) -> np.ndarray:
    """``float64[n, dims]`` in [0, 1) for random or LHS sampling."""
    rng = np.random.default_rng(seed)
    if method == "random":
        return rng.random((n, dims))
    if method == "lhs":
        strata = np.stack([rng.permutation(n) for _ in range(dims)], axis=1)
        return (strata + rng.random((n, dims))) / n
    raise ValueError(f"unit samples need method random or lhs, not {method!r}")


def sample_points(spec: SweepSpec) -> dict[str, np.ndarray]:
    """The sweep's points as columns, one per axis, plus ``point_id``."""
    n = spec.n_points
    columns: dict[str, np.ndarray] = {"point_id": np.arange(n, dtype=np.int64)}
    if spec.method == "grid":
        shape = tuple(len(axis.values) for axis in spec.axes)
        indices = np.unravel_index(np.arange(n), shape)
        for axis, index in zip(spec.axes, indices, strict=True):
            columns[axis.name] = _values_array(axis.values)[index]
        return columns
    u = unit_samples(spec.method, n, len(spec.axes), spec.seed)
    for j, axis in enumerate(spec.axes):
        values = axis.from_unit(u[:, j])
        columns[axis.name] = _values_array(values.tolist()) if values.dtype == object else values
    return columns


def _values_array(values) -> np.ndarray:
    """A numeric array when every value is numeric, else an object array (e.g. dataflows)."""
    if all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
        for v in values
    ):
        return np.asarray(values)
    return np.array(list(values), dtype=object)
