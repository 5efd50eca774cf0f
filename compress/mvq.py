"""Masked vector quantization (MVQ): N:M pruning, then k-means on the kept positions.

The ``[out, K]`` GEMM matrix is cut along ``K`` into vectors of ``v`` weights (the
last one per row zero-padded and masked out). After pruning, each vector has a
coordinate mask ``m``; k-means with ``k = 2**bits`` codewords measures distances and
updates codewords over the kept coordinates only (:func:`compress.kmeans.kmeans_vectors`),
so pruned zeros never pull codewords toward zero. The layer stores, per vector, a
``bits``-bit index, plus the pruning metadata and its own codebook (``k * v``
float32); decoding is ``w_hat = m * codeword[index]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compress.kmeans import check_bits, kmeans_vectors
from compress.layout import gemm_view

__all__ = ["MaskedVQ", "mvq", "mvq_decode", "mvq_vectors"]


@dataclass(frozen=True, eq=False)
class MaskedVQ:
    """Codewords (float32 ``[k, v]``) and indices (int64 ``[out, ceil(K / v)]``)."""

    codewords: np.ndarray
    index: np.ndarray


def mvq_vectors(
    weights: np.ndarray, mask: np.ndarray, v: int
) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """``[n, v]`` vectors along ``K``, their coordinate mask, and the grid ``(out, nvec)``."""
    matrix = gemm_view(np.asarray(weights, dtype=np.float64))
    keep = gemm_view(np.asarray(mask, dtype=bool))
    out, k = matrix.shape
    nvec = -(-k // v)
    padded = np.zeros((out, nvec * v))
    padded[:, :k] = matrix
    covered = np.zeros((out, nvec * v), bool)
    covered[:, :k] = keep
    return padded.reshape(-1, v), covered.reshape(-1, v), (out, nvec)


def mvq(weights: np.ndarray, mask: np.ndarray, bits: int, v: int = 8, seed: int = 0) -> MaskedVQ:
    """Cluster the masked ``v``-vectors of one layer into ``2**bits`` codewords."""
    bits = check_bits(bits, "MVQ bits")
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ValueError(f"MVQ vector length v must be a positive integer, not {v!r}")
    vectors, covered, grid = mvq_vectors(weights, mask, v)
    k = min(1 << bits, vectors.shape[0])
    clusters = kmeans_vectors(vectors, k, covered, seed=seed)
    codewords = np.zeros((1 << bits, v), np.float32)
    codewords[:k] = clusters.codewords
    return MaskedVQ(codewords, clusters.index.reshape(grid))


def mvq_decode(
    index: np.ndarray, codewords: np.ndarray, mask: np.ndarray, shape: tuple[int, ...]
) -> np.ndarray:
    """``m * codeword[index]`` in the weight's ``shape`` (float32)."""
    out = index.shape[0]
    k = int(np.prod(shape[1:]))
    dense = codewords[index].reshape(out, -1)[:, :k].reshape(shape)
    return np.where(mask, dense, np.float32(0.0)).astype(np.float32)
