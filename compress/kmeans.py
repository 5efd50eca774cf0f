"""k-means weight sharing: scalar (Deep Compression) and masked vector k-means.

Scalar sharing (Han et al., "Deep Compression", ICLR 2016, section 3): the weights
of one layer are clustered into ``k = 2**bits`` centroids ``c`` minimizing
``sum_i (w_i - c_{a(i)})**2``; each weight is replaced by its centroid index
``a(i)`` (``bits`` bits) and the layer stores the ``k`` centroids once. Centroids
start linearly spaced over ``[min w, max w]`` (the paper's best initialization,
because it keeps the rare large weights). Lloyd's iterations then alternate
nearest-centroid assignment and ``c_j = mean{w_i : a(i) = j}``; an empty cluster
keeps its centroid.

Fine-tuning shares gradients: ``dL/dc_j = sum_{i : a(i) = j} dL/dw_i``
(:func:`centroid_gradient`).

Vector k-means clusters ``v``-vectors with an optional per-coordinate mask:
the distance and the codeword update use only masked-in coordinates,
``d(x, c) = sum_t m_t (x_t - c_t)**2`` and
``c_t = sum_i m_it x_it / sum_i m_it`` over the cluster (masked vector quantization;
padding coordinates are masked out the same way). With ``metric='cosine'`` the
assignment maximizes the masked cosine similarity instead; updates stay means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ScalarClusters",
    "VectorClusters",
    "assign_vectors",
    "centroid_gradient",
    "check_bits",
    "codeword_gradient",
    "kmeans_scalar",
    "kmeans_vectors",
]

DEFAULT_ITERATIONS = 30


def check_bits(bits: object, what: str = "k-means bits") -> int:
    """Validate a codebook index width: an integer from 1 to 16."""
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not 1 <= bits <= 16:
        raise ValueError(f"{what} must be an integer from 1 to 16, not {bits!r}")
    return int(bits)


@dataclass(frozen=True, eq=False)
class ScalarClusters:
    """Centroids (float32 ``[k]``) and the index of every clustered weight (int64)."""

    centroids: np.ndarray
    index: np.ndarray


@dataclass(frozen=True, eq=False)
class VectorClusters:
    """Codewords (float32 ``[k, v]``) and the index of every vector (int64 ``[n]``)."""

    codewords: np.ndarray
    index: np.ndarray


def _nearest_sorted(values: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the nearest centroid (ties to the lower one) for 1-D data."""
    order = np.argsort(centroids, kind="stable")
    ordered = centroids[order]
    midpoints = (ordered[:-1] + ordered[1:]) / 2.0
    return order[np.searchsorted(midpoints, values, side="right")]


def kmeans_scalar(
    values: np.ndarray,
    bits: int,
    iterations: int = DEFAULT_ITERATIONS,
    zero_centroid: bool = False,
) -> ScalarClusters:
    """Cluster 1-D ``values`` into ``2**bits`` centroids with linear initialization.

    With ``zero_centroid`` code 0 is reserved for an exact 0.0 (fillers of relative
    indexing decode to zero) and the other ``2**bits - 1`` centroids are learned; no
    value is assigned to it.
    """
    bits = check_bits(bits)
    x = np.asarray(values, dtype=np.float64).ravel()
    learned = (1 << bits) - (1 if zero_centroid else 0)
    if x.size == 0:
        raise ValueError("k-means needs at least one value")
    if learned < 1:
        raise ValueError(f"k-means with a zero centroid needs bits >= 1 and k >= 2, not {bits}")
    centroids = np.linspace(x.min(), x.max(), learned)
    for _ in range(iterations):
        index = _nearest_sorted(x, centroids)
        sums = np.bincount(index, weights=x, minlength=learned)
        counts = np.bincount(index, minlength=learned)
        updated = np.where(counts > 0, sums / np.maximum(counts, 1), centroids)
        if np.array_equal(updated, centroids):
            break
        centroids = updated
    index = _nearest_sorted(x, centroids)
    if zero_centroid:
        centroids = np.concatenate([[0.0], centroids])
        index = index + 1
    return ScalarClusters(centroids.astype(np.float32), index.astype(np.int64))


def centroid_gradient(grad: np.ndarray, index: np.ndarray, k: int) -> np.ndarray:
    """``dL/dc_j = sum_{i : a(i) = j} dL/dw_i`` (float64 ``[k]``)."""
    return np.bincount(np.ravel(index), weights=np.ravel(grad), minlength=k)


def codeword_gradient(
    grad: np.ndarray, index: np.ndarray, k: int, mask: np.ndarray | None = None
) -> np.ndarray:
    """Vector version: ``dL/dc_j = sum_{i : a(i) = j} m_i * dL/dx_i`` (float64 ``[k, v]``)."""
    g = np.asarray(grad, dtype=np.float64)
    if mask is not None:
        g = g * mask
    out = np.zeros((k, g.shape[1]))
    np.add.at(out, np.ravel(index), g)
    return out


def _masked_distances(
    x: np.ndarray, mask: np.ndarray, codewords: np.ndarray, metric: str
) -> np.ndarray:
    """``[n, k]`` dissimilarity: masked squared distance or negative masked cosine."""
    mx = mask * x
    cross = mx @ codewords.T
    if metric == "euclidean":
        return (mx * x).sum(axis=1)[:, None] - 2.0 * cross + mask @ (codewords**2).T
    norm_x = np.sqrt((mx * x).sum(axis=1))[:, None]
    norm_c = np.sqrt(mask @ (codewords**2).T)
    return -cross / np.maximum(norm_x * norm_c, 1e-30)


def assign_vectors(
    vectors: np.ndarray,
    codewords: np.ndarray,
    mask: np.ndarray | None = None,
    metric: str = "euclidean",
    chunk: int = 8192,
) -> np.ndarray:
    """Index of the nearest codeword for every vector (int64 ``[n]``), ties to the lower."""
    if metric not in ("euclidean", "cosine"):
        raise ValueError(f"vector k-means metric must be 'euclidean' or 'cosine', not {metric!r}")
    x = np.asarray(vectors, dtype=np.float64)
    m = np.ones_like(x) if mask is None else np.asarray(mask, dtype=np.float64)
    c = np.asarray(codewords, dtype=np.float64)
    parts = [
        np.argmin(_masked_distances(x[s : s + chunk], m[s : s + chunk], c, metric), axis=1)
        for s in range(0, x.shape[0], chunk)
    ]
    return np.concatenate(parts).astype(np.int64)


def _init_plus_plus(x: np.ndarray, m: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding under the masked Euclidean distance."""
    chosen = [int(rng.integers(x.shape[0]))]
    best = _masked_distances(x, m, (m * x)[chosen], "euclidean")[:, 0]
    for _ in range(1, k):
        weights = np.maximum(best, 0.0)
        total = weights.sum()
        pick = (
            int(rng.choice(x.shape[0], p=weights / total))
            if total > 0
            else int(rng.integers(x.shape[0]))
        )
        chosen.append(pick)
        best = np.minimum(best, _masked_distances(x, m, (m * x)[[pick]], "euclidean")[:, 0])
    return (m * x)[chosen]  # masked-out coordinates start at zero


def kmeans_vectors(
    vectors: np.ndarray,
    k: int,
    mask: np.ndarray | None = None,
    metric: str = "euclidean",
    iterations: int = DEFAULT_ITERATIONS,
    seed: int = 0,
) -> VectorClusters:
    """Masked k-means of ``[n, v]`` vectors into ``k`` codewords, k-means++ seeded.

    Deterministic for a given ``seed``. Coordinates no vector of a cluster covers keep
    their previous codeword value.
    """
    x = np.asarray(vectors, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"vector k-means needs a non-empty [n, v] array, not shape {x.shape}")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"vector k-means needs k, a positive integer, not {k!r}")
    m = np.ones_like(x) if mask is None else np.asarray(mask, dtype=np.float64)
    rng = np.random.default_rng(seed)
    codewords = _init_plus_plus(x, m, int(k), rng)
    for _ in range(iterations):
        index = assign_vectors(x, codewords, m, metric)
        sums = np.zeros_like(codewords)
        weight = np.zeros_like(codewords)
        np.add.at(sums, index, m * x)
        np.add.at(weight, index, m)
        updated = np.where(weight > 0, sums / np.maximum(weight, 1e-300), codewords)
        if np.allclose(updated, codewords, rtol=0, atol=0):
            break
        codewords = updated
    index = assign_vectors(x, codewords, m, metric)
    return VectorClusters(codewords.astype(np.float32), index)
