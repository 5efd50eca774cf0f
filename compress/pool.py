"""A network-wide weight pool: every layer's vectors replaced by indices into one pool.

Each weight tensor is seen as ``[out, kh * kw, in]`` (:func:`compress.layout.channel_last`)
and cut along the input channels into vectors of ``v`` weights (the last vector of a
row is zero-padded and the padding masked out). Optionally each tensor is first
divided by a scale ``s`` (per layer or per output channel, the root mean square of
its weights), so layers of different magnitude share one pool. One pool of ``P``
vectors is learned by k-means over the vectors of all pooled layers (Euclidean or
cosine, :mod:`compress.kmeans`); each vector is then stored as its index,
``log2 P`` bits per ``v`` weights (0.75 bit per weight for ``v = 8``, ``P = 64``), and

    w_hat[o, t, j*v:(j+1)*v] = s_o * pool[index[o, t, j]]

The pool (``P * v`` float32) is stored once for the whole network. During
fine-tuning the pool vectors learn from the summed gradients of the weights that use
them and the assignment is redone (:mod:`compress.finetune`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from compress.kmeans import assign_vectors, kmeans_vectors
from compress.layout import channel_last, from_channel_last

__all__ = [
    "PoolSpec",
    "PooledLayer",
    "WeightPool",
    "assign_pool",
    "learn_pool",
    "pool_decode",
    "pool_scales",
    "pool_vectors",
]

SCALES = ("none", "layer", "channel")


@dataclass(frozen=True)
class PoolSpec:
    """Vector length ``v``, pool size ``P`` (a power of two), metric and scale kind."""

    vector_length: int = 8
    pool_size: int = 64
    metric: str = "euclidean"
    scale: str = "channel"

    def __post_init__(self) -> None:
        v, p = self.vector_length, self.pool_size
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 256:
            raise ValueError(f"weight pool vector length v must be an integer 1..256, not {v!r}")
        if isinstance(p, bool) or not isinstance(p, int) or p < 2 or p & (p - 1) or p > 65536:
            raise ValueError(
                f"weight pool size P must be a power of two from 2 to 65536, not {p!r}"
            )
        if self.metric not in ("euclidean", "cosine"):
            raise ValueError(
                f"weight pool metric must be 'euclidean' or 'cosine', not {self.metric!r}"
            )
        if self.scale not in SCALES:
            raise ValueError(f"weight pool scale must be one of {SCALES}, not {self.scale!r}")

    @property
    def index_bits(self) -> int:
        """``log2 P``."""
        return self.pool_size.bit_length() - 1


@dataclass(frozen=True, eq=False)
class PooledLayer:
    """One layer's pool indices (int64 ``[out, kh*kw, ceil(in / v)]``) and scales
    (float32 ``[out]`` per channel, ``[1]`` per layer or unscaled)."""

    index: np.ndarray
    scales: np.ndarray


@dataclass(frozen=True, eq=False)
class WeightPool:
    """The shared pool (float32 ``[P, v]``) and every pooled layer."""

    spec: PoolSpec
    codewords: np.ndarray
    layers: dict[str, PooledLayer]


def pool_scales(weights: np.ndarray, scale: str) -> np.ndarray:
    """Per-channel (``[out]``) or per-layer (``[1]``) RMS scale, or ``[1.0]`` for none."""
    w = np.asarray(weights, dtype=np.float64)
    if scale == "none":
        return np.ones(1, np.float32)
    axes = tuple(range(1, w.ndim)) if scale == "channel" else None
    rms = np.sqrt(np.mean(w**2, axis=axes)).reshape(-1)
    return np.where(rms > 0, rms, 1.0).astype(np.float32)


def pool_vectors(
    weights: np.ndarray, v: int, scales: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int]]:
    """Normalized ``[n, v]`` vectors, their coordinate mask and the index grid shape."""
    w = channel_last(np.asarray(weights, dtype=np.float64))
    keep = np.ones(w.shape, bool) if mask is None else channel_last(np.asarray(mask, bool))
    out, window, cin = w.shape
    nvec = -(-cin // v)
    padded = np.zeros((out, window, nvec * v))
    padded[..., :cin] = w / scales.astype(np.float64).reshape(-1, 1, 1)
    covered = np.zeros((out, window, nvec * v), bool)
    covered[..., :cin] = keep
    return padded.reshape(-1, v), covered.reshape(-1, v), (out, window, nvec)


def pool_decode(
    index: np.ndarray,
    codewords: np.ndarray,
    scales: np.ndarray,
    shape: tuple[int, ...],
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """``s_o * pool[index]`` cropped to ``shape`` (float32); zero where ``mask`` is False."""
    out, window, nvec = index.shape
    v = codewords.shape[1]
    vectors = codewords[index].reshape(out, window, nvec * v)
    cin = shape[1]
    scaled = vectors[..., :cin] * np.asarray(scales, np.float32).reshape(-1, 1, 1)
    w = from_channel_last(scaled.astype(np.float32), shape)
    return w if mask is None else np.where(mask, w, np.float32(0.0))


def assign_pool(
    weights: np.ndarray,
    codewords: np.ndarray,
    spec: PoolSpec,
    mask: np.ndarray | None = None,
    scales: np.ndarray | None = None,
) -> PooledLayer:
    """Nearest pool vector for every vector of one layer (scales from the data unless given)."""
    scales = pool_scales(weights, spec.scale) if scales is None else scales
    vectors, covered, grid = pool_vectors(weights, spec.vector_length, scales, mask)
    index = assign_vectors(vectors, codewords, covered, spec.metric)
    return PooledLayer(index.reshape(grid), scales)


def learn_pool(
    layers: Mapping[str, np.ndarray],
    spec: PoolSpec,
    masks: Mapping[str, np.ndarray] | None = None,
    seed: int = 0,
) -> WeightPool:
    """Learn one pool over the vectors of all ``layers`` and assign every layer to it."""
    if not layers:
        raise ValueError("a weight pool needs at least one layer")
    masks = masks or {}
    parts = []
    for name, w in layers.items():
        scales = pool_scales(w, spec.scale)
        vectors, covered, _ = pool_vectors(w, spec.vector_length, scales, masks.get(name))
        parts.append((vectors, covered))
    vectors = np.concatenate([p[0] for p in parts])
    covered = np.concatenate([p[1] for p in parts])
    if vectors.shape[0] < spec.pool_size:
        raise ValueError(
            f"weight pool of P={spec.pool_size} needs at least as many vectors; "
            f"the pooled layers have {vectors.shape[0]}"
        )
    clusters = kmeans_vectors(vectors, spec.pool_size, covered, spec.metric, seed=seed)
    assigned = {
        name: assign_pool(w, clusters.codewords, spec, masks.get(name))
        for name, w in layers.items()
    }
    return WeightPool(spec, clusters.codewords, assigned)
