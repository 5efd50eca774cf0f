"""N:M structured pruning along the reduction axis, and its metadata.

In every group of ``M`` consecutive weights of one output row along the flattened
reduction axis ``K`` (``(in, kh, kw)`` order, see :mod:`compress.layout`), the ``N``
of largest magnitude are kept, as NVIDIA's Automatic SParsity (ASP) does for 2:4.
When ``K`` is not a multiple of ``M`` the last group of a row is shorter and keeps
``min(N, its length)``; hardware would see it padded with zeros.

Two ways to store which positions were kept, both accounted:

- per-value positions: each kept value carries its offset in the group,
  ``ceil(log2 M)`` bits (2 bits per value for 2:4, what sparse tensor cores store);
- the minimal code: each group stores the rank of its kept subset among the
  ``C(M, N)`` subsets, ``ceil(log2 C(M, N))`` bits per group (3 bits for 2:4 instead
  of 4), ranked in the combinatorial number system
  ``rank = sum_i C(c_i, i + 1)`` over the sorted kept offsets ``c_0 < c_1 < ...``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from compress.layout import gemm_view

__all__ = [
    "NMPattern",
    "check_nm",
    "nm_from_positions",
    "nm_from_ranks",
    "nm_group_ranks",
    "nm_mask",
    "nm_metadata_bits",
    "nm_minimal_bits_per_group",
    "nm_position_bits",
    "nm_positions",
]

MAX_MINIMAL_M = 62  # C(62, 31) still fits an int64


class NMPattern(NamedTuple):
    """An N:M pattern: at most ``n`` nonzeros in every ``m`` consecutive weights along ``K``.

    The one N:M type of sparsa, validated here only: integers with ``1 <= n <= m``
    (``n == m`` is dense, :attr:`is_dense`). It unpacks as ``n, m = pattern``.
    :meth:`parse` reads ``"2:4"``.
    """

    n: int
    m: int

    @classmethod
    def of(cls, n: object, m: object) -> NMPattern:
        """Validate ``n`` and ``m``; the error names the bad value."""
        for label, value in (("N", n), ("M", m)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"N:M pattern: {label} must be a positive integer, not {value!r}")
        if n > m:
            raise ValueError(f"N:M pattern {n}:{m}: N must be <= M (keep N of every M)")
        return cls(int(n), int(m))

    @classmethod
    def parse(cls, text: object) -> NMPattern:
        """``"2:4"`` (or an ``(n, m)`` pair, or an NMPattern) -> ``NMPattern(2, 4)``."""
        if isinstance(text, tuple) and len(text) == 2:
            return cls.of(*text)
        parts = str(text).strip().split(":")
        try:
            n, m = (int(p) for p in parts)
        except ValueError:
            raise ValueError(
                f"N:M pattern must look like 'N:M' with integers 1 <= N <= M, not {text!r}"
            ) from None
        return cls.of(n, m)

    @property
    def is_dense(self) -> bool:
        return self.n == self.m

    @property
    def density(self) -> float:
        return self.n / self.m

    def __str__(self) -> str:
        return f"{self.n}:{self.m}"


def check_nm(n: object, m: object) -> NMPattern:
    """Validate an N:M pattern: integers with ``1 <= N <= M`` (:meth:`NMPattern.of`)."""
    return NMPattern.of(n, m)


def _groups(k: int, m: int) -> int:
    return -(-k // m)


def nm_mask(weights: np.ndarray, n: int, m: int) -> np.ndarray:
    """Keep the ``n`` largest ``|w|`` of every ``m`` consecutive weights along ``K``.

    Parameters
    ----------
    weights : numpy.ndarray
        ``[out, in]`` or ``[out, in/groups, kh, kw]``, any float dtype.
    n, m : int
        The pattern, ``1 <= n <= m``.

    Returns
    -------
    numpy.ndarray
        bool, the shape of ``weights``: True where a weight is kept. Exactly ``n`` per
        full group (even when some of them are zero); ties go to the lower position.
    """
    n, m = check_nm(n, m)
    matrix = np.abs(gemm_view(np.asarray(weights, dtype=np.float64)))
    out, k = matrix.shape
    groups = _groups(k, m)
    padded = np.full((out, groups * m), -1.0)  # pads sort after every |w| >= 0
    padded[:, :k] = matrix
    grouped = padded.reshape(out, groups, m)
    order = np.argsort(-grouped, axis=-1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(m)[None, None, :], axis=-1)
    keep = (rank < n).reshape(out, groups * m)[:, :k]
    return keep.reshape(np.shape(weights))


def nm_position_bits(m: int) -> int:
    """Bits of one per-value position: ``ceil(log2 M)`` (0 when ``M == 1``)."""
    return (int(m) - 1).bit_length()


def nm_minimal_bits_per_group(n: int, m: int) -> int:
    """Bits of the minimal per-group code: ``ceil(log2 C(M, N))``."""
    n, m = check_nm(n, m)
    return (math.comb(m, n) - 1).bit_length()


def nm_metadata_bits(shape: tuple[int, ...], n: int, m: int, encoding: str = "positions") -> int:
    """Exact metadata bits of an N:M tensor of ``shape``.

    ``positions``: ``kept * ceil(log2 M)`` with ``kept = out * (full_groups * N +
    min(N, tail))``; ``minimal``: ``out * ceil(K / M) * ceil(log2 C(M, N))``.
    """
    n, m = check_nm(n, m)
    out, k = shape[0], math.prod(shape[1:])
    if encoding == "positions":
        kept = out * ((k // m) * n + min(n, k % m))
        return kept * nm_position_bits(m)
    if encoding == "minimal":
        return out * _groups(k, m) * nm_minimal_bits_per_group(n, m)
    raise ValueError(f"N:M metadata encoding must be 'positions' or 'minimal', not {encoding!r}")


def nm_positions(mask: np.ndarray, m: int) -> np.ndarray:
    """Offset within its group of every kept value, in storage order.

    Storage order is row-major over the ``[out, K]`` GEMM view. Returns int64 in
    ``[0, m)``, one per True in ``mask``.
    """
    flat = gemm_view(np.asarray(mask, dtype=bool))
    _, cols = np.nonzero(flat)
    return (cols % m).astype(np.int64)


def nm_from_positions(positions: np.ndarray, shape: tuple[int, ...], n: int, m: int) -> np.ndarray:
    """Rebuild the mask of an N:M tensor of ``shape`` from its per-value positions."""
    n, m = check_nm(n, m)
    out, k = shape[0], math.prod(shape[1:])
    per_row = (k // m) * n + min(n, k % m)
    positions = np.asarray(positions, dtype=np.int64)
    if positions.size != out * per_row:
        raise ValueError(
            f"N:M positions: expected {out * per_row} positions for shape {shape} at {n}:{m}, "
            f"got {positions.size}"
        )
    group = np.concatenate([np.repeat(np.arange(k // m), n), np.full(min(n, k % m), k // m)])
    cols = group[None, :] * m + positions.reshape(out, per_row)
    mask = np.zeros((out, k), dtype=bool)
    np.put_along_axis(mask, cols, True, axis=1)
    return mask.reshape(shape)


def _comb_table(m: int, n: int) -> np.ndarray:
    """``table[c, i] = C(c, i)`` for ``c <= m``, ``i <= n`` (int64)."""
    return np.array([[math.comb(c, i) for i in range(n + 1)] for c in range(m + 1)], np.int64)


def _full_groups_only(shape: tuple[int, ...], m: int) -> None:
    k = math.prod(shape[1:])
    if k % m:
        raise ValueError(
            f"the minimal N:M code needs K divisible by M: K={k} (shape {shape}), M={m}"
        )
    if m > MAX_MINIMAL_M:
        raise ValueError(f"the minimal N:M code supports M <= {MAX_MINIMAL_M}, not {m}")


def nm_group_ranks(mask: np.ndarray, n: int, m: int) -> np.ndarray:
    """Rank of each group's kept subset, ``sum_i C(c_i, i + 1)``, in ``[0, C(M, N))``.

    Returns int64 ``[out * K / M]`` in storage order. Needs ``K % M == 0`` and exactly
    ``n`` kept per group.
    """
    n, m = check_nm(n, m)
    _full_groups_only(np.shape(mask), m)
    grouped = gemm_view(np.asarray(mask, dtype=bool)).reshape(-1, m)
    if np.any(grouped.sum(axis=1) != n):
        raise ValueError(f"mask is not {n}:{m}: some group does not keep exactly {n}")
    offsets = np.nonzero(grouped)[1].reshape(-1, n)  # sorted within each group
    table = _comb_table(m, n)
    return table[offsets, np.arange(1, n + 1)[None, :]].sum(axis=1)


def nm_from_ranks(ranks: np.ndarray, shape: tuple[int, ...], n: int, m: int) -> np.ndarray:
    """Inverse of :func:`nm_group_ranks`: the mask of ``shape`` from group ranks.

    Unranks greedily: for ``i = N .. 1`` the offset is the largest ``c`` with
    ``C(c, i) <= r``, then ``r -= C(c, i)``.
    """
    n, m = check_nm(n, m)
    _full_groups_only(shape, m)
    remaining = np.asarray(ranks, dtype=np.int64).copy()
    table = _comb_table(m, n)
    mask = np.zeros((remaining.size, m), dtype=bool)
    rows = np.arange(remaining.size)
    for i in range(n, 0, -1):
        offset = (table[None, :, i] <= remaining[:, None]).sum(axis=1) - 1
        mask[rows, offset] = True
        remaining -= table[offset, i]
    return mask.reshape(shape)
