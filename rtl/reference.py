"""The functional reference: the integers the RTL must compute, in numpy int64.

The RTL accumulates every output over ``k`` in order, from 0, applying the overflow
rule after every multiply-accumulate (in ws the partial sums of one fold feed the next
fold along ``k``; in os one PE sees all of ``k``)::

    s_0 = 0,   s_{i+1} = rule(s_i + a[m, i] * b[i, n]),   C[m, n] = s_K

- ``wrap``: ``rule`` keeps the low ``B`` bits, so ``C`` is the exact matmul wrapped to
  ``B``-bit two's complement (wrapping at every step or once at the end is the same);
  computed as ``np.matmul`` in int64 (exact: operands of at most 16 bits give products
  below 2**30, and at most 2**32 of them are summed), then wrapped.
- ``saturate``: ``rule`` clamps to ``[-2**(B-1), 2**(B-1) - 1]``; this depends on the
  order, so it is computed step by step over ``k`` (vectorized over ``m`` and ``n``).
  With no intermediate overflow it equals the clamped exact matmul.

Compressed layers (:func:`reference_layer`) run their decoded integer weights: pruned
weights are zeros, and adding 0 leaves an accumulator unchanged even when it saturates,
so the N:M array's order (each column's kept weights in ascending ``k``, padding zeros
in between) gives exactly the in-order sum over all ``k``.
"""

from __future__ import annotations

import numpy as np

from simulator.config import Overflow

__all__ = [
    "accumulate_step",
    "accumulator_range",
    "apply_overflow",
    "reference_layer",
    "reference_matmul",
]


def accumulator_range(bits: int) -> tuple[int, int]:
    """The smallest and largest value of a signed ``bits``-wide accumulator."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def apply_overflow(values: np.ndarray, bits: int, overflow: Overflow) -> np.ndarray:
    """Bring exact int64 ``values`` into ``bits`` bits by wrapping or saturating."""
    values = np.asarray(values, dtype=np.int64)
    low, high = accumulator_range(bits)
    if Overflow(overflow) is Overflow.SATURATE:
        return np.clip(values, low, high)
    if bits >= 64:
        return values
    unsigned = values & np.int64(high * 2 + 1)
    return np.where(unsigned > high, unsigned + 2 * np.int64(low), unsigned)


def accumulate_step(
    acc: np.ndarray, product: np.ndarray, bits: int, overflow: Overflow
) -> np.ndarray:
    """One multiply-accumulate step of a PE: ``rule(acc + product)``, elementwise.

    ``acc`` must be within ``bits`` bits and ``|product| < 2**62``; exact for any
    ``bits`` up to 64 (the int64 sum may wrap only where it is not used, or where
    wrapping to 64 bits is the rule).
    """
    acc = np.asarray(acc, dtype=np.int64)
    product = np.asarray(product, dtype=np.int64)
    with np.errstate(over="ignore"):
        total = acc + product
    if Overflow(overflow) is Overflow.WRAP:
        return apply_overflow(total, bits, overflow)
    low, high = accumulator_range(bits)
    return np.where(
        product > 0,
        np.where(acc > high - product, high, total),
        np.where(acc < low - product, low, total),
    )


def reference_matmul(
    a: np.ndarray, b: np.ndarray, accumulator_bits: int, overflow: Overflow
) -> np.ndarray:
    """``a @ b`` as the RTL computes it (module docstring).

    Parameters
    ----------
    a : array_like of int, shape (m, k)
        Activations, signed.
    b : array_like of int, shape (k, n)
        Weights, signed.
    accumulator_bits : int
        Accumulator width ``B``.
    overflow : Overflow
        ``wrap`` or ``saturate``.

    Returns
    -------
    numpy.ndarray of int64, shape (m, n)
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"need a (m, k) and b (k, n), got shapes {a.shape} and {b.shape}")
    if Overflow(overflow) is Overflow.WRAP:
        return apply_overflow(a @ b, accumulator_bits, overflow)
    acc = np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
    for i in range(a.shape[1]):
        acc = accumulate_step(acc, np.outer(a[:, i], b[i, :]), accumulator_bits, overflow)
    return acc


def reference_layer(
    a: np.ndarray, weights, accumulator_bits: int, overflow: Overflow
) -> np.ndarray:
    """``a @ W`` for a compressed layer's weight operand (module docstring).

    ``weights`` is a :class:`~rtl.operands.WeightOperand` or
    :class:`~rtl.operands.CodebookOperand` (anything with ``decoded()``, the ``[k, n]``
    integer weights), or an integer matrix.
    """
    decoded = weights.decoded() if hasattr(weights, "decoded") else weights
    return reference_matmul(a, decoded, accumulator_bits, overflow)
