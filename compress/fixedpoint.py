"""Integer datapath arithmetic: accumulators that wrap or saturate, and requantization
by a fixed-point multiplier and shift.

Accumulation follows the RTL's convention (``rtl/reference.py``): an output starts at
0 and takes its products in order of ``k``, the overflow rule applied after every
multiply-accumulate::

    s_0 = 0,   s_{i+1} = rule(s_i + p_i)

``wrap`` keeps the low ``B`` bits (two's complement; wrapping at every step or once
at the end is the same), ``saturate`` clamps to ``[-2**(B-1), 2**(B-1) - 1]`` (which
depends on the order).

Requantization (gemmlowp / TFLite style). A positive real multiplier ``M`` (for a
layer ``M = s_a s_w / s_out``) is held as a 31-bit integer ``M0`` and a right shift,
``M ~ M0 / 2**shift`` with ``2**30 <= M0 < 2**31`` (:func:`quantize_multiplier`;
``M0`` is ``M 2**shift`` rounded to nearest), so::

    |M0 / 2**shift - M| <= min(2**-(shift + 1), 2**-31 M)

(the second for ``M >= 2**-31``, where the shift is not capped). An accumulator ``x``
becomes ``y = floor((x M0 + 2**(shift-1)) / 2**shift)`` (:func:`requantize`): the
exact product, rounded once to nearest with ties toward ``+inf`` (add half,
arithmetic shift right, as hardware and TFLite's single-rounding mode do). Hence
``y = round(x M0 / 2**shift)`` exactly and

    |y - x M| <= 1/2 + |x| |M0 / 2**shift - M| <= 1/2 + 2**-31 |x| M

Several accumulators of one output (one per scale group along ``K``) share one shift,
taken from the largest of their multipliers: ``y = floor((sum_g x_g M0_g +
2**(shift-1)) / 2**shift)``, the exact wide sum rounded once, so the bound becomes
``1/2 + 2**-(shift+1) sum_g |x_g|``. The wide sum is computed exactly in int64 by
splitting ``M0`` into two 16-bit limbs; accumulators must fit 32 bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

__all__ = [
    "MULTIPLIER_BITS",
    "FixedPointMultiplier",
    "Overflow",
    "accumulate_step",
    "accumulator_range",
    "apply_overflow",
    "check_accumulator_bits",
    "quantize_multiplier",
    "requantize",
]

MULTIPLIER_BITS = 31
MAX_SHIFT = 62  # 2**(shift-1) fits int64; the shift is at least 16 (needed by the limbs)
MAX_MULTIPLIER = 2.0**14
MAX_GROUPS = 1 << 14  # keeps the limb sums of 32-bit accumulators inside int64
REQUANTIZE_BITS = 32
_LIMB = 16


class Overflow(StrEnum):
    """What an accumulator does past its width: two's-complement wrap or saturate.

    The same values as the simulator's config field ``accumulator_overflow``.
    """

    WRAP = "wrap"
    SATURATE = "saturate"


def check_accumulator_bits(bits: object, most: int = 64) -> int:
    """Validate an accumulator width: an integer from 2 to ``most``."""
    if isinstance(bits, bool) or not isinstance(bits, int | np.integer) or not 2 <= bits <= most:
        raise ValueError(f"accumulator bits must be an integer from 2 to {most}, not {bits!r}")
    return int(bits)


def accumulator_range(bits: int) -> tuple[int, int]:
    """The smallest and largest value of a signed ``bits``-wide accumulator."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def apply_overflow(values: np.ndarray, bits: int, overflow: Overflow | str) -> np.ndarray:
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
    acc: np.ndarray, product: np.ndarray, bits: int, overflow: Overflow | str
) -> np.ndarray:
    """One multiply-accumulate: ``rule(acc + product)``, elementwise (int64).

    ``acc`` must be within ``bits`` bits and ``|product| < 2**62``; exact for any
    ``bits`` up to 64 (saturation compares before adding, so nothing overflows int64).
    """
    acc = np.asarray(acc, dtype=np.int64)
    product = np.asarray(product, dtype=np.int64)
    with np.errstate(over="ignore"):
        total = acc + product
    if Overflow(overflow) is Overflow.WRAP:
        return apply_overflow(total, bits, Overflow.WRAP)
    low, high = accumulator_range(bits)
    return np.where(
        product > 0,
        np.where(acc > high - product, high, total),
        np.where(acc < low - product, low, total),
    )


@dataclass(frozen=True, eq=False)
class FixedPointMultiplier:
    """Integer multipliers sharing a right shift along their last axis.

    Attributes
    ----------
    multiplier : numpy.ndarray
        int64 ``[..., G]``, each below ``2**31``; the largest of a row is at least
        ``2**30`` unless the shift was capped at 62 (multipliers below ``2**-31``).
    shift : numpy.ndarray
        int64 ``[...]``, from 16 to 62.
    """

    multiplier: np.ndarray
    shift: np.ndarray

    @property
    def real(self) -> np.ndarray:
        """float64 ``M0 / 2**shift``, the multiplier actually applied."""
        return np.ldexp(self.multiplier.astype(np.float64), -self.shift[..., None])


def quantize_multiplier(real: np.ndarray | float) -> FixedPointMultiplier:
    """``M0`` and ``shift`` for positive real multipliers ``[..., G]`` (a scalar is ``[1]``).

    The shift of each row comes from its largest multiplier ``frac 2**e``
    (``0.5 <= frac < 1``): ``shift = 31 - e``, one less when ``frac 2**31`` rounds up
    to ``2**31``, at most 62; then ``M0_g = rne(M_g 2**shift)``, exact in float64.

    Raises
    ------
    ValueError
        If a multiplier is not positive and finite, or the largest is ``>= 2**14``.
    """
    r = np.atleast_1d(np.asarray(real, dtype=np.float64))
    if r.size == 0 or not np.all(np.isfinite(r)) or np.any(r <= 0):
        raise ValueError(f"requantization multipliers must be positive and finite, not {r!r}")
    top = r.max(axis=-1)
    if np.any(top >= MAX_MULTIPLIER):
        raise ValueError(
            f"requantization multiplier {float(top.max())!r} is out of range (must be < 2**14)"
        )
    frac, exponent = np.frexp(top)
    shift = MULTIPLIER_BITS - exponent.astype(np.int64)
    shift -= np.rint(np.ldexp(frac, MULTIPLIER_BITS)) >= 2.0**MULTIPLIER_BITS
    shift = np.minimum(shift, MAX_SHIFT)
    multiplier = np.rint(np.ldexp(r, shift[..., None])).astype(np.int64)
    return FixedPointMultiplier(multiplier, shift)


def requantize(acc: np.ndarray, fpm: FixedPointMultiplier) -> np.ndarray:
    """``floor((sum_g acc_g M0_g + 2**(shift-1)) / 2**shift)``, exactly (module docstring).

    Parameters
    ----------
    acc : array_like of int, shape (..., G)
        Accumulators of at most 32 bits; the trailing axes broadcast against
        ``fpm.multiplier`` (``[N, G]`` multipliers take ``[M, N, G]`` accumulators).
    fpm : FixedPointMultiplier

    Returns
    -------
    numpy.ndarray of int64, shape (...)
    """
    acc = np.asarray(acc, dtype=np.int64)
    low, high = accumulator_range(REQUANTIZE_BITS)
    if acc.size and (acc.min() < low or acc.max() > high):
        raise ValueError("requantization takes accumulators of at most 32 bits")
    if fpm.multiplier.shape[-1] > MAX_GROUPS:
        raise ValueError(f"requantization sums at most {MAX_GROUPS} groups per output")
    # x M0 = x hi 2**16 + x lo; floor((A 2**16 + C) / 2**s) = floor((A + floor(C / 2**16))
    # / 2**(s-16)) for s >= 16, and every partial sum stays below 2**62.
    hi = fpm.multiplier >> _LIMB
    lo = fpm.multiplier & ((1 << _LIMB) - 1)
    sum_hi = (acc * hi).sum(axis=-1)
    sum_lo = (acc * lo).sum(axis=-1)
    half = np.left_shift(np.int64(1), fpm.shift - 1)
    return (sum_hi + ((sum_lo + half) >> _LIMB)) >> (fpm.shift - _LIMB)
