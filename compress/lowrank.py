"""Low-rank factorization by truncated SVD.

The ``[out, K]`` GEMM matrix ``W = U S V^T`` is replaced by ``A = U_r S_r``
(``[out, r]``) and ``B = V_r^T`` (``[r, K]``), the best rank-``r`` approximation in
the Frobenius norm (Eckart-Young). The rank is either the smallest ``r`` whose kept
energy ``sum_{i<r} s_i**2 / sum_i s_i**2`` reaches ``energy``, or the largest ``r``
with ``r * (out + K) <= param_ratio * out * K`` (at least 1). Factorization saves
storage only when ``r * (out + K) < out * K``; :attr:`LowRank.saves_storage` says so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from compress.layout import gemm_view

__all__ = ["LowRank", "low_rank"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class LowRank:
    """Factors ``left`` (float32 ``[out, r]``) and ``right`` (float32 ``[r, K]``)."""

    shape: tuple[int, ...]
    left: np.ndarray
    right: np.ndarray
    energy: float

    @property
    def rank(self) -> int:
        return int(self.left.shape[1])

    @property
    def factor_params(self) -> int:
        """``r * (out + K)``."""
        return self.left.size + self.right.size

    @property
    def dense_params(self) -> int:
        return self.left.shape[0] * self.right.shape[1]

    @property
    def saves_storage(self) -> bool:
        return self.factor_params < self.dense_params

    def reconstruct(self) -> np.ndarray:
        """``A @ B`` in float32, reshaped to the weight's shape."""
        return (self.left @ self.right).astype(np.float32).reshape(self.shape)


def low_rank(
    weights: np.ndarray, energy: float | None = None, param_ratio: float | None = None
) -> LowRank:
    """Truncated SVD of ``weights`` (``[out, ...]``), rank by ``energy`` or ``param_ratio``."""
    if (energy is None) == (param_ratio is None):
        raise ValueError("low-rank needs exactly one of energy (0 < e <= 1) or param_ratio (> 0)")
    if energy is not None and not 0.0 < float(energy) <= 1.0:
        raise ValueError(f"low-rank energy must be in (0, 1], not {energy!r}")
    if param_ratio is not None and not float(param_ratio) > 0.0:
        raise ValueError(f"low-rank param_ratio must be > 0, not {param_ratio!r}")
    matrix = gemm_view(np.asarray(weights, dtype=np.float64))
    out, k = matrix.shape
    u, s, vt = np.linalg.svd(matrix, full_matrices=False)
    cumulative = np.cumsum(s**2) / max(float((s**2).sum()), 1e-300)
    if energy is not None:
        rank = int(np.searchsorted(cumulative, float(energy) - 1e-12) + 1)
    else:
        rank = int(float(param_ratio) * out * k // (out + k))
    rank = int(min(max(rank, 1), s.size))
    result = LowRank(
        tuple(np.shape(weights)),
        (u[:, :rank] * s[:rank]).astype(np.float32),
        vt[:rank].astype(np.float32),
        float(cumulative[rank - 1]),
    )
    if not result.saves_storage:
        log.warning(
            "rank %d of a %dx%d matrix stores %d values, not fewer than the dense %d: "
            "low-rank saves nothing here",
            rank,
            out,
            k,
            result.factor_params,
            result.dense_params,
        )
    return result
