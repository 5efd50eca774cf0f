"""OCP Microscaling (MX) block formats, v1.0: MXINT8, MXFP8, MXFP6, MXFP4.

A block of ``k = 32`` consecutive elements shares one scale ``X``, an E8M0 number
(8 exponent bits, no sign, no mantissa): code ``c`` in ``[0, 254]`` is
``X = 2**(c - 127)``, code 255 is NaN. The value of element ``i`` is ``X * P_i``.
(OCP Microscaling Formats (MX) Specification v1.0, 2023, sections 5.1-5.4.)

Conversion (section 6.3 of the specification)::

    shared_exp = floor(log2(max_i |V_i|)) - emax_elem      (clamped to [-127, 127])
    X          = 2**shared_exp
    P_i        = quantize_to_element_format(V_i / X)        (round to nearest even,
                                                              saturating at +-max)

``emax_elem`` is the exponent of the element type's largest normal: 8 (E4M3),
15 (E5M2), 4 (E3M2), 2 (E2M3, E2M1) and 0 for INT8. An all-zero block gets
``X = 2**-127``. Elements: FP8 E4M3 / E5M2, FP6 E3M2 / E2M3 and FP4 E2M1 as in
:mod:`compress.minifloat`; INT8 is two's complement with an implicit scale of
``2**-6`` (values ``q / 64``, ``q`` in ``[-128, 127]``). Like the reference
``microxcaling`` library, INT8 encoding saturates at ``+-127 / 64``; decoding
accepts -128.

Blocks run along the reduction axis ``K`` of each row of the ``[out, K]`` GEMM view
(:mod:`compress.layout`); the last block of a row may be shorter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compress.layout import gemm_view
from compress.minifloat import E2M1, E2M3, E3M2, E4M3, E5M2, FloatFormat

__all__ = [
    "MX_FORMATS",
    "MXFormat",
    "MXQuantized",
    "decode_e8m0",
    "mx_dequantize",
    "mx_quantize",
]

BLOCK = 32
E8M0_BIAS = 127
E8M0_NAN = 255
INT8_FRACTION_BITS = 6


@dataclass(frozen=True)
class MXFormat:
    """An MX format: its element type and block size.

    ``element`` is a :class:`FloatFormat` or the string ``'int8'``.
    """

    name: str
    element: FloatFormat | str
    block_size: int = BLOCK

    def __post_init__(self) -> None:
        if not isinstance(self.element, FloatFormat) and self.element != "int8":
            raise ValueError(
                f"MX format {self.name!r}: element must be a FloatFormat or 'int8', "
                f"not {self.element!r}"
            )
        size = self.block_size
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"MX block_size must be a positive integer, not {size!r}")

    @property
    def element_bits(self) -> int:
        return 8 if self.element == "int8" else self.element.bits

    @property
    def emax_elem(self) -> int:
        return 0 if self.element == "int8" else self.element.emax

    def element_values(self, codes: np.ndarray) -> np.ndarray:
        """float64 value ``P`` of element codes (uint8 bit patterns)."""
        codes = np.asarray(codes, dtype=np.uint8)
        if self.element == "int8":
            return codes.view(np.int8).astype(np.float64) / (1 << INT8_FRACTION_BITS)
        return self.element.decode(codes)

    def encode_elements(self, scaled: np.ndarray) -> np.ndarray:
        """Saturating round-to-nearest-even of ``V / X`` to element codes (uint8)."""
        if self.element == "int8":
            q = np.clip(np.rint(scaled * (1 << INT8_FRACTION_BITS)), -127, 127)
            return q.astype(np.int8).view(np.uint8)
        return self.element.encode(scaled, saturate=True)


MXINT8 = MXFormat("mxint8", "int8")
MXFP8 = MXFormat("mxfp8", E4M3)
MXFP8_E5M2 = MXFormat("mxfp8-e5m2", E5M2)
MXFP6 = MXFormat("mxfp6", E3M2)
MXFP6_E2M3 = MXFormat("mxfp6-e2m3", E2M3)
MXFP4 = MXFormat("mxfp4", E2M1)

MX_FORMATS = {f.name: f for f in (MXINT8, MXFP8, MXFP8_E5M2, MXFP6, MXFP6_E2M3, MXFP4)}


def decode_e8m0(codes: np.ndarray) -> np.ndarray:
    """float64 ``2**(c - 127)`` for E8M0 codes, NaN for 255."""
    c = np.asarray(codes, dtype=np.int64)
    return np.where(c == E8M0_NAN, np.nan, np.ldexp(1.0, c - E8M0_BIAS))


@dataclass(frozen=True, eq=False)
class MXQuantized:
    """An MX-encoded ``[out, ...]`` tensor.

    Attributes
    ----------
    format : MXFormat
    codes : numpy.ndarray
        uint8 element codes, the shape of the input.
    scale_codes : numpy.ndarray
        uint8 E8M0 codes ``[out, ceil(K / block_size)]``.
    """

    format: MXFormat
    codes: np.ndarray
    scale_codes: np.ndarray

    def dequantize(self) -> np.ndarray:
        return mx_dequantize(self.codes, self.scale_codes, self.format)


def _blocks(matrix: np.ndarray, block: int) -> np.ndarray:
    """``[out, K]`` -> zero-padded ``[out, nblocks, block]``."""
    out, k = matrix.shape
    nblocks = -(-k // block)
    padded = np.zeros((out, nblocks * block), dtype=matrix.dtype)
    padded[:, :k] = matrix
    return padded.reshape(out, nblocks, block)


def mx_quantize(weights: np.ndarray, fmt: MXFormat) -> MXQuantized:
    """Encode ``weights`` (``[out, ...]``, finite) in the MX format ``fmt``."""
    w = np.asarray(weights, dtype=np.float64)
    matrix = gemm_view(w)
    k = matrix.shape[1]
    blocks = _blocks(matrix, fmt.block_size)
    amax = np.abs(blocks).max(axis=-1)
    exponent = np.frexp(amax)[1] - 1  # floor(log2 amax) for amax > 0
    shared = np.where(amax > 0, exponent - fmt.emax_elem, -E8M0_BIAS)
    shared = np.clip(shared, -E8M0_BIAS, E8M0_BIAS)
    scaled = np.ldexp(blocks, -shared[..., None])  # V / X, exact
    codes = fmt.encode_elements(scaled).reshape(matrix.shape[0], -1)[:, :k]
    return MXQuantized(fmt, codes.reshape(w.shape), (shared + E8M0_BIAS).astype(np.uint8))


def mx_dequantize(codes: np.ndarray, scale_codes: np.ndarray, fmt: MXFormat) -> np.ndarray:
    """``X * P`` per element, in float32, the shape of ``codes``."""
    codes = np.asarray(codes, dtype=np.uint8)
    matrix = gemm_view(codes)
    k = matrix.shape[1]
    scale = np.repeat(decode_e8m0(scale_codes), fmt.block_size, axis=1)[:, :k]
    return (fmt.element_values(matrix) * scale).astype(np.float32).reshape(codes.shape)
