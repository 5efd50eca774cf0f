"""Weight layouts and the GEMM view every algorithm works on.

Shape conventions (the same as the simulator's :class:`Layer`):

- Linear: ``[out, in]``;
- conv: ``[out, in / groups, kh, kw]``;
- the reduction axis is ``in`` together with the kernel window. A weight tensor is
  seen as its GEMM matrix ``w.reshape(out, -1)`` of shape ``[out, K]`` with
  ``K = in / groups * kh * kw``, flattened in ``(in, kh, kw)`` order; this is the
  simulator's GEMM ``K``. N:M groups, quantization groups and MX blocks run along
  this flattened ``K`` within one output row.
- Weight-pool vectors run along the input-channel direction instead: a conv weight
  is seen as ``[out, kh * kw, in]`` (:func:`channel_last`) and cut into vectors of
  ``v`` consecutive input channels at one kernel position.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "channel_last",
    "check_weight",
    "from_channel_last",
    "from_gemm",
    "gemm_view",
]


def check_weight(weights: np.ndarray, name: str = "weights") -> np.ndarray:
    """Return ``weights`` as float32 after checking it is a finite 2-D or 4-D array.

    Raises
    ------
    ValueError
        If the array has another rank, is empty, or holds NaN or infinity.
    """
    array = np.asarray(weights)
    if array.ndim not in (2, 4):
        raise ValueError(
            f"{name} must be 2-D [out, in] or 4-D [out, in/groups, kh, kw], "
            f"not {array.ndim}-D with shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold real numbers, not dtype {array.dtype}")
    array = array.astype(np.float32, copy=False)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} holds NaN or infinite values")
    return array


def gemm_view(weights: np.ndarray) -> np.ndarray:
    """The ``[out, K]`` GEMM matrix of a weight tensor, ``K = prod(shape[1:])``.

    A view when possible (C-contiguous input); K runs over ``(in, kh, kw)``.
    """
    return weights.reshape(weights.shape[0], -1)


def from_gemm(matrix: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`gemm_view`: reshape ``[out, K]`` back to ``shape``."""
    return matrix.reshape(shape)


def channel_last(weights: np.ndarray) -> np.ndarray:
    """``[out, window, in]``: Linear ``[out, in]`` -> ``[out, 1, in]``; conv
    ``[out, in, kh, kw]`` -> ``[out, kh * kw, in]`` (a copy for conv)."""
    if weights.ndim == 2:
        return weights[:, None, :]
    out, cin, kh, kw = weights.shape
    return weights.transpose(0, 2, 3, 1).reshape(out, kh * kw, cin)


def from_channel_last(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`channel_last` for a tensor of the original ``shape``."""
    if len(shape) == 2:
        return array.reshape(shape)
    out, cin, kh, kw = shape
    return np.ascontiguousarray(array.reshape(out, kh, kw, cin).transpose(0, 3, 1, 2))
