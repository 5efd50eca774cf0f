"""Number formats of a compressed tensor: small frozen descriptions, no arrays.

Each has a ``name``, the bits of one stored code (``code_bits``; for vector formats
the bits of one vector index) and its ``scale_granularity``.
"""

from __future__ import annotations

from dataclasses import dataclass

from compress.minifloat import FloatFormat
from compress.mx import MXFormat
from compress.quant import IntSpec

__all__ = [
    "FP32_BITS",
    "CodebookValues",
    "Encoding",
    "FloatValues",
    "Fp32Values",
    "IntValues",
    "LowRankValues",
    "MXValues",
    "VectorValues",
]

FP32_BITS = 32


@dataclass(frozen=True)
class Fp32Values:
    """Values kept as float32 (codes are their IEEE bit patterns)."""

    @property
    def name(self) -> str:
        return "fp32"

    code_bits = FP32_BITS
    scale_granularity = "none"


@dataclass(frozen=True)
class IntValues:
    """Uniform integer codes, :mod:`compress.quant`."""

    spec: IntSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def code_bits(self) -> int:
        return self.spec.bits

    @property
    def scale_granularity(self) -> str:
        g = self.spec.granularity.value
        return f"group:{self.spec.group_size}" if g == "group" else g


@dataclass(frozen=True)
class FloatValues:
    """FP8 (or smaller) codes times a float32 scale per tensor or channel (or none)."""

    format: FloatFormat
    scale: str = "channel"

    def __post_init__(self) -> None:
        if self.scale not in ("none", "tensor", "channel"):
            raise ValueError(
                f"float format scale must be 'none', 'tensor' or 'channel', not {self.scale!r}"
            )

    @property
    def name(self) -> str:
        return self.format.name

    @property
    def code_bits(self) -> int:
        return self.format.bits

    @property
    def scale_granularity(self) -> str:
        return self.scale


@dataclass(frozen=True)
class MXValues:
    """OCP MX block format: element codes and one E8M0 scale per block along ``K``."""

    format: MXFormat

    @property
    def name(self) -> str:
        return self.format.name

    @property
    def code_bits(self) -> int:
        return self.format.element_bits

    @property
    def scale_granularity(self) -> str:
        return f"block:{self.format.block_size}"


@dataclass(frozen=True)
class CodebookValues:
    """Scalar k-means sharing: ``bits``-bit indices into a per-layer float32 codebook."""

    bits: int
    zero_centroid: bool = False

    @property
    def name(self) -> str:
        return f"kmeans{self.bits}"

    @property
    def code_bits(self) -> int:
        return self.bits

    scale_granularity = "none"


@dataclass(frozen=True)
class VectorValues:
    """Vector indices: a network-wide weight ``pool`` (named) or per-layer ``mvq``."""

    kind: str
    bits: int
    vector_length: int
    pool: str | None = None
    scale: str = "none"

    def __post_init__(self) -> None:
        if self.kind not in ("pool", "mvq"):
            raise ValueError(f"vector encoding kind must be 'pool' or 'mvq', not {self.kind!r}")
        if (self.kind == "pool") != (self.pool is not None):
            raise ValueError("vector encoding: a pool name is required exactly for kind 'pool'")

    @property
    def name(self) -> str:
        return f"{self.kind}{1 << self.bits}x{self.vector_length}"

    @property
    def code_bits(self) -> int:
        return self.bits

    @property
    def scale_granularity(self) -> str:
        return self.scale


@dataclass(frozen=True)
class LowRankValues:
    """Two float32 factors of rank ``rank``."""

    rank: int

    @property
    def name(self) -> str:
        return f"lowrank{self.rank}"

    code_bits = FP32_BITS
    scale_granularity = "none"


Encoding = (
    Fp32Values | IntValues | FloatValues | MXValues | CodebookValues | VectorValues | LowRankValues
)
