"""Magnitude pruning: unstructured (per layer or one global threshold) and filters.

Every function returns boolean keep-masks of the weight's own shape (True = kept);
``weights * mask`` is the pruned tensor. Ties in magnitude go to the lower flat
position, so the kept count is exact: ``keep = round((1 - amount) * size)``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from compress.layout import gemm_view

__all__ = ["channel_mask", "check_amount", "global_magnitude_masks", "magnitude_mask"]

log = logging.getLogger(__name__)


def check_amount(amount: object, what: str = "prune amount") -> float:
    """Validate a pruned fraction: a real number with ``0 <= amount < 1``."""
    if isinstance(amount, bool) or not isinstance(amount, int | float | np.floating):
        raise ValueError(f"{what} must be a fraction in [0, 1), not {amount!r}")
    if not 0.0 <= float(amount) < 1.0:
        raise ValueError(f"{what} must be a fraction in [0, 1) (0.9 = prune 90%), not {amount!r}")
    return float(amount)


def _keep_largest(scores: np.ndarray, keep: int) -> np.ndarray:
    """Bool mask over flat ``scores`` keeping the ``keep`` largest (ties: lower index)."""
    order = np.argsort(-scores, kind="stable")
    mask = np.zeros(scores.size, dtype=bool)
    mask[order[:keep]] = True
    return mask


def magnitude_mask(weights: np.ndarray, amount: float) -> np.ndarray:
    """Prune the fraction ``amount`` of smallest ``|w|`` in one tensor.

    Keeps the ``round((1 - amount) * size)`` weights of largest magnitude (at least
    one). Returns bool of ``weights.shape``.
    """
    amount = check_amount(amount)
    w = np.abs(np.asarray(weights, dtype=np.float64)).ravel()
    keep = max(1, round((1.0 - amount) * w.size))
    return _keep_largest(w, keep).reshape(np.shape(weights))


def global_magnitude_masks(
    weights: Mapping[str, np.ndarray], amount: float
) -> dict[str, np.ndarray]:
    """One magnitude threshold across all tensors: prune the ``amount`` smallest ``|w|``
    of the union, so layers with small weights lose more.

    Each layer keeps at least one weight. Returns one bool mask per name.
    """
    amount = check_amount(amount)
    if not weights:
        raise ValueError("global pruning needs at least one weight tensor")
    names = list(weights)
    flat = [np.abs(np.asarray(weights[name], dtype=np.float64)).ravel() for name in names]
    sizes = [f.size for f in flat]
    everything = np.concatenate(flat)
    keep = max(1, round((1.0 - amount) * everything.size))
    mask = np.split(_keep_largest(everything, keep), np.cumsum(sizes)[:-1])
    masks = {}
    for name, layer_mask, scores in zip(names, mask, flat, strict=True):
        if not layer_mask.any():
            layer_mask[np.argmax(scores)] = True
            log.info("global pruning would empty %s; keeping its largest weight", name)
        masks[name] = layer_mask.reshape(np.shape(weights[name]))
    return masks


def channel_mask(weights: np.ndarray, amount: float, norm: str = "l1") -> np.ndarray:
    """Prune whole output channels (filters, rows of the ``[out, K]`` GEMM view).

    The score of filter ``f`` is ``||w_f||_1`` (``norm='l1'``) or ``||w_f||_2``
    (``'l2'``); the ``round(amount * out)`` lowest-scoring filters are removed, at
    least one kept. Returns bool of ``weights.shape``, constant along each filter.
    """
    amount = check_amount(amount, "channel prune amount")
    if norm not in ("l1", "l2"):
        raise ValueError(f"channel pruning norm must be 'l1' or 'l2', not {norm!r}")
    matrix = gemm_view(np.asarray(weights, dtype=np.float64))
    order = 1 if norm == "l1" else 2
    scores = np.linalg.norm(matrix, ord=order, axis=1)
    keep = max(1, matrix.shape[0] - round(amount * matrix.shape[0]))
    rows = _keep_largest(scores, keep)
    return np.broadcast_to(rows[:, None], matrix.shape).reshape(np.shape(weights)).copy()
