"""Small floating-point formats with exact round-to-nearest-even: FP8, FP6, FP4.

A code of ``1 + e + m`` bits holds sign ``s``, exponent field ``E`` and mantissa
field ``M``; with bias ``b``::

    E == 0:  (-1)**s * 2**(1 - b) * (M / 2**m)          (subnormal)
    E > 0:   (-1)**s * 2**(E - b) * (1 + M / 2**m)       (normal)

Special values depend on the format:

- E4M3 (FP8, Micikevicius et al., "FP8 Formats for Deep Learning", 2022, and the OCP
  8-bit floating point specification): bias 7, no infinities, NaN only at
  ``S.1111.111``; so ``E = 15`` holds normal numbers and the largest is
  ``2**8 * 1.75 = 448``.
- E5M2 (same sources): bias 15, IEEE 754 conventions: ``E = 31, M = 0`` is infinity,
  ``E = 31, M != 0`` NaN; largest finite ``2**15 * 1.75 = 57344``.
- E2M1 (FP4), E3M2 and E2M3 (FP6), the element types of the OCP Microscaling
  Formats (MX) Specification v1.0, section 5.3: biases 1, 3, 1; no infinities or NaN;
  largest 6, 28 and 7.5.

Encoding rounds to the nearest representable value, ties to the even mantissa
(``numpy.rint`` on the value divided by its exact power-of-two quantum). Beyond the
largest finite value it saturates to +-max (``saturate=True``, the OCP "saturating"
conversion) or gives infinity (E5M2) / NaN (E4M3); formats without specials always
saturate. Signed zeros are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["E2M1", "E2M3", "E3M2", "E4M3", "E5M2", "FLOAT_FORMATS", "FloatFormat"]

_SPECIALS = ("ieee", "fn", "none")


@dataclass(frozen=True)
class FloatFormat:
    """A sign-exponent-mantissa format of at most 8 bits.

    Parameters
    ----------
    name : str
    exponent_bits, mantissa_bits : int
        Field widths ``e >= 1`` and ``m >= 0`` with ``1 + e + m <= 8``.
    bias : int
        Exponent bias.
    special : str
        ``'ieee'`` (infinity and NaN at the all-ones exponent), ``'fn'`` (no infinity,
        NaN only at the all-ones code, as E4M3) or ``'none'`` (every code finite).
    """

    name: str
    exponent_bits: int
    mantissa_bits: int
    bias: int
    special: str

    def __post_init__(self) -> None:
        e, m = self.exponent_bits, self.mantissa_bits
        if not (isinstance(e, int) and isinstance(m, int) and e >= 1 and m >= 0 and e + m <= 7):
            raise ValueError(
                f"float format {self.name!r}: need exponent_bits >= 1, mantissa_bits >= 0 and "
                f"1 + e + m <= 8 bits, not e={e!r}, m={m!r}"
            )
        if self.special not in _SPECIALS:
            raise ValueError(
                f"float format {self.name!r}: special must be one of {_SPECIALS}, "
                f"not {self.special!r}"
            )

    def __hash__(self) -> int:
        return hash((self.name, self.exponent_bits, self.mantissa_bits, self.bias, self.special))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FloatFormat):
            return NotImplemented
        mine = (self.name, self.exponent_bits, self.mantissa_bits, self.bias, self.special)
        theirs = (other.name, other.exponent_bits, other.mantissa_bits, other.bias, other.special)
        return mine == theirs

    @property
    def bits(self) -> int:
        return 1 + self.exponent_bits + self.mantissa_bits

    @cached_property
    def table(self) -> np.ndarray:
        """float64 ``[2**bits]``: the value of every code (NaN and +-inf included)."""
        codes = np.arange(1 << self.bits)
        m = self.mantissa_bits
        sign = np.where(codes >> (self.bits - 1) & 1, -1.0, 1.0)
        exp = (codes >> m) & ((1 << self.exponent_bits) - 1)
        man = (codes & ((1 << m) - 1)).astype(np.float64)
        normal = np.ldexp(1.0 + man / (1 << m), exp - self.bias)
        subnormal = np.ldexp(man / (1 << m), 1 - self.bias)
        value = sign * np.where(exp == 0, subnormal, normal)
        top = exp == (1 << self.exponent_bits) - 1
        if self.special == "ieee":
            value = np.where(top & (man == 0), sign * np.inf, value)
            value = np.where(top & (man != 0), np.nan, value)
        elif self.special == "fn":
            value = np.where(top & (man == (1 << m) - 1), np.nan, value)
        return value

    @cached_property
    def _positive(self) -> np.ndarray:
        """Finite non-negative values in code order (increasing)."""
        half = self.table[: 1 << (self.bits - 1)]
        return half[np.isfinite(half)]

    @property
    def max_normal(self) -> float:
        """The largest finite value."""
        return float(self._positive[-1])

    @property
    def min_subnormal(self) -> float:
        """The smallest positive value."""
        return float(self._positive[1])

    @property
    def emax(self) -> int:
        """Exponent of the largest normal, ``floor(log2(max_normal))``."""
        return int(np.frexp(self.max_normal)[1]) - 1

    @property
    def nan_code(self) -> int | None:
        return None if self.special == "none" else (1 << self.bits) - 1

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """float64 values of integer ``codes`` (any shape)."""
        return self.table[np.asarray(codes, dtype=np.int64)]

    def encode(self, values: np.ndarray, saturate: bool = True) -> np.ndarray:
        """Round ``values`` to this format, ties to even; uint8 codes of the same shape.

        NaN maps to the NaN code (``ValueError`` if the format has none).
        """
        x = np.asarray(values, dtype=np.float64)
        negative = np.signbit(x)
        a = np.abs(x)
        nan = np.isnan(a)
        if nan.any() and self.nan_code is None:
            raise ValueError(f"{self.name} has no NaN encoding; the input holds NaN")
        finite_a = np.where(np.isfinite(a), a, 0.0)
        exponent = np.frexp(finite_a)[1] - 1  # floor(log2 a) for a > 0
        exponent = np.maximum(exponent, 1 - self.bias)
        quantum = np.ldexp(1.0, exponent - self.mantissa_bits)
        rounded = np.rint(finite_a / quantum) * quantum
        over = (rounded > self.max_normal) | np.isinf(a)
        rounded = np.where(over, self.max_normal, rounded)
        magnitude = np.searchsorted(self._positive, rounded).astype(np.int64)
        if saturate or self.special == "none":
            overflow_code = magnitude
        elif self.special == "ieee":
            overflow_code = np.full_like(
                magnitude, (((1 << self.exponent_bits) - 1) << self.mantissa_bits)
            )
        else:
            overflow_code = np.full_like(magnitude, (1 << (self.bits - 1)) - 1)
        magnitude = np.where(over, overflow_code, magnitude)
        if self.nan_code is not None:
            magnitude = np.where(nan, (1 << (self.bits - 1)) - 1, magnitude)
        return (magnitude | (negative.astype(np.int64) << (self.bits - 1))).astype(np.uint8)

    def round(self, values: np.ndarray, saturate: bool = True) -> np.ndarray:
        """``decode(encode(values))``: the nearest representable values (float64)."""
        return self.decode(self.encode(values, saturate))


E4M3 = FloatFormat("e4m3", 4, 3, 7, "fn")
E5M2 = FloatFormat("e5m2", 5, 2, 15, "ieee")
E3M2 = FloatFormat("e3m2", 3, 2, 3, "none")
E2M3 = FloatFormat("e2m3", 2, 3, 1, "none")
E2M1 = FloatFormat("e2m1", 2, 1, 1, "none")

FLOAT_FORMATS = {f.name: f for f in (E4M3, E5M2, E3M2, E2M3, E2M1)}
