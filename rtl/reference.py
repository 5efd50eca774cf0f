"""The functional reference: the integers the RTL must compute, in numpy int64.

The RTL accumulates every output over ``k`` in order, from 0, applying the overflow
rule after every multiply-accumulate (in ws the partial sums of one fold feed the next
fold along ``k``; in os one PE sees all of ``k``)::

    s_0 = 0,   s_{i+1} = rule(s_i + a[m, i] * b[i, n]),   C[m, n] = s_K

the convention of :mod:`compress.fixedpoint`, whose ``apply_overflow`` and
``accumulate_step`` this uses:

- ``wrap``: ``rule`` keeps the low ``B`` bits, so ``C`` is the exact matmul wrapped to
  ``B``-bit two's complement (wrapping at every step or once at the end is the same);
  computed as ``np.matmul`` in int64 (exact: operands of at most 16 bits give products
  below 2**30, and at most 2**32 of them are summed), then wrapped.
- ``saturate``: ``rule`` clamps to ``[-2**(B-1), 2**(B-1) - 1]``; this depends on the
  order, so it is computed step by step over ``k`` (vectorized over ``m`` and ``n``).
  With no intermediate overflow it equals the clamped exact matmul.

Compressed layers (:func:`reference_layer`) run compress's bit-exact integer model: the
products of the kept weights only, in ascending ``k``
(:meth:`compress.IntegerWeights.accumulate` for an operand built from a
CompressedTensor, :func:`compress.kept_matmul` of the keep-mask's entries otherwise).
Pruned weights are zeros on the array, and adding 0 leaves an accumulator unchanged
even when it saturates, so the N:M array's order (each column's kept weights in
ascending ``k``, padding zeros in between) gives exactly these integers.
"""

from __future__ import annotations

import numpy as np

from compress import kept_matmul
from compress.fixedpoint import accumulate_step, accumulator_range, apply_overflow
from rtl.operands import kept_entries
from simulator.config import Overflow

__all__ = [
    "accumulate_step",
    "accumulator_range",
    "apply_overflow",
    "reference_layer",
    "reference_matmul",
]


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
        return apply_overflow(a @ b, accumulator_bits, Overflow.WRAP.value)
    acc = np.zeros((a.shape[0], b.shape[1]), dtype=np.int64)
    for i in range(a.shape[1]):
        acc = accumulate_step(acc, np.outer(a[:, i], b[i, :]), accumulator_bits, "saturate")
    return acc


def reference_layer(
    a: np.ndarray, weights, accumulator_bits: int, overflow: Overflow
) -> np.ndarray:
    """``a @ W`` for a layer's weight operand (module docstring).

    ``weights`` is a :class:`~rtl.operands.WeightOperand` or
    :class:`~rtl.operands.CodebookOperand` (compress's integer model: of its
    CompressedTensor, or of its decoded weights and keep-mask), or an integer matrix
    (:func:`reference_matmul`).
    """
    rule = Overflow(overflow).value
    if not hasattr(weights, "decoded"):
        return reference_matmul(a, weights, accumulator_bits, overflow)
    a = np.asarray(a, dtype=np.int64)
    if weights.integer is not None:
        return weights.integer.accumulate(a, accumulator_bits, rule)[:, :, 0]
    values, columns = kept_entries(weights.decoded(), weights.keep)
    return kept_matmul(a, values, columns, accumulator_bits, rule)
