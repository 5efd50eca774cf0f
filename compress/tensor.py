"""CompressedTensor: what a recipe leaves of one weight tensor, with its exact storage.

Shapes follow :mod:`compress.layout`: Linear ``[out, in]``, conv
``[out, in / groups, kh, kw]``, reduction along ``in`` and the kernel window, the
GEMM view ``[out, K]`` with ``K`` in ``(in, kh, kw)`` order. Storage order is
row-major over the GEMM view.

A :class:`CompressedTensor` holds

- ``values``: the dequantized weights (float32, the original shape, zero where
  pruned), for accuracy;
- ``sparsity``: the structure (dense, unstructured, N:M, channel), the keep-mask and
  how positions are stored (bitmask, relative index, N:M positions or minimal code,
  channel bitmap);
- ``encoding``: the number format (a small frozen description, no arrays);
- the stored arrays: integer ``codes`` (one per stored entry in storage order, or
  a grid of vector indices), ``scales`` / ``zero_points``, the ``codebook`` of shared
  weights, low-rank ``factors``, and the Huffman codes of the value and index streams.

:attr:`CompressedTensor.storage` is the exact storage account in bits, split into
values, indices/metadata, codebooks and scales (formulas in :func:`storage_bits`), and
:attr:`CompressedTensor.stats` the array-free :class:`compress.stats.WeightStats` the
simulator consumes. :func:`compress.codec.decode` rebuilds ``values`` bit for bit from the
stored arrays alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

import numpy as np

from compress.encoding import (
    FP32_BITS,
    Encoding,
    IntValues,
    LowRankValues,
    MXValues,
    VectorValues,
)
from compress.huffman import HuffmanCode, to_symbols
from compress.layout import gemm_view
from compress.nm import NMPattern, nm_metadata_bits
from compress.sparse_index import RelativeIndex

if TYPE_CHECKING:
    from compress.stats import WeightStats

__all__ = [
    "CompressedTensor",
    "IndexKind",
    "Sparsity",
    "SparsityKind",
    "StorageBits",
    "storage_bits",
]


class SparsityKind(StrEnum):
    DENSE = "dense"
    UNSTRUCTURED = "unstructured"
    NM = "nm"
    CHANNEL = "channel"


class IndexKind(StrEnum):
    """How the positions of stored values are recorded."""

    NONE = "none"
    BITMASK = "bitmask"
    RELATIVE = "relative"
    NM_POSITIONS = "nm-positions"
    NM_MINIMAL = "nm-minimal"
    CHANNEL = "channel-bitmap"


_INDEX_FOR = {
    SparsityKind.DENSE: {IndexKind.NONE},
    SparsityKind.UNSTRUCTURED: {IndexKind.BITMASK, IndexKind.RELATIVE},
    SparsityKind.NM: {IndexKind.NM_POSITIONS, IndexKind.NM_MINIMAL},
    SparsityKind.CHANNEL: {IndexKind.CHANNEL},
}


@dataclass(frozen=True, eq=False)
class Sparsity:
    """Which weights are stored and how their positions are recorded.

    Attributes
    ----------
    kind : SparsityKind
    mask : numpy.ndarray or None
        bool, the weight's shape, True where kept; None when dense.
    index : IndexKind
        Must suit ``kind``: none (dense), bitmask or relative (unstructured),
        nm-positions or nm-minimal (N:M), channel-bitmap (channel).
    nm : tuple of (int, int) or None
        ``(N, M)`` for N:M.
    relative : RelativeIndex or None
        The gap stream when ``index`` is relative (its fillers are stored zeros).
    """

    kind: SparsityKind = SparsityKind.DENSE
    mask: np.ndarray | None = None
    index: IndexKind = IndexKind.NONE
    nm: NMPattern | None = None
    relative: RelativeIndex | None = None

    def __post_init__(self) -> None:
        kind, index = SparsityKind(self.kind), IndexKind(self.index)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "index", index)
        if index not in _INDEX_FOR[kind]:
            allowed = sorted(i.value for i in _INDEX_FOR[kind])
            raise ValueError(f"{kind.value} sparsity: index must be one of {allowed}, not {index}")
        if (kind is SparsityKind.DENSE) != (self.mask is None):
            raise ValueError("sparsity: a mask is required exactly when the kind is not dense")
        if (kind is SparsityKind.NM) != (self.nm is not None):
            raise ValueError("sparsity: nm=(N, M) is required exactly for N:M sparsity")
        if (index is IndexKind.RELATIVE) != (self.relative is not None):
            raise ValueError("sparsity: the relative gap stream is required exactly for 'relative'")
        if self.nm is not None:
            object.__setattr__(self, "nm", NMPattern.of(*self.nm))

    def stored_mask(self, shape: tuple[int, ...]) -> np.ndarray:
        """bool of ``shape``: where an entry is stored (kept values and fillers)."""
        if self.mask is None:
            return np.ones(shape, bool)
        if self.relative is None:
            return self.mask
        stored = np.zeros(math.prod(shape), bool)
        stored[self.relative.positions] = True
        return stored.reshape(shape)

    def entries(self, shape: tuple[int, ...]) -> int:
        """Stored value entries: every weight (dense), kept + fillers (relative), or kept."""
        if self.mask is None:
            return math.prod(shape)
        if self.relative is not None:
            return self.relative.entries
        return int(np.count_nonzero(self.mask))

    def index_bits(self, shape: tuple[int, ...]) -> int:
        """Exact position bits: bitmask ``out*K``; relative ``entries*g``; N:M see
        :func:`compress.nm.nm_metadata_bits`; channel bitmap ``out``."""
        index = self.index
        if index is IndexKind.NONE:
            return 0
        if index is IndexKind.BITMASK:
            return math.prod(shape)
        if index is IndexKind.RELATIVE:
            return self.relative.index_bits
        if index is IndexKind.CHANNEL:
            return shape[0]
        n, m = self.nm
        return nm_metadata_bits(
            shape, n, m, "positions" if index is IndexKind.NM_POSITIONS else "minimal"
        )


@dataclass(frozen=True)
class StorageBits:
    """Exact storage in bits, by kind."""

    values: int = 0
    index: int = 0
    codebook: int = 0
    scales: int = 0

    @property
    def total(self) -> int:
        return self.values + self.index + self.codebook + self.scales

    def __add__(self, other: StorageBits) -> StorageBits:
        return StorageBits(
            self.values + other.values,
            self.index + other.index,
            self.codebook + other.codebook,
            self.scales + other.scales,
        )

    def as_dict(self) -> dict[str, int]:
        return {
            "values": self.values,
            "index": self.index,
            "codebook": self.codebook,
            "scales": self.scales,
            "total": self.total,
        }


def _scale_bits(ct: CompressedTensor) -> int:
    enc = ct.encoding
    if ct.scales is None:
        return 0
    if isinstance(enc, MXValues):
        return ct.scales.size * 8
    bits = ct.scales.size * FP32_BITS
    if isinstance(enc, IntValues) and not enc.spec.symmetric:
        bits += ct.zero_points.size * enc.spec.bits
    return bits


def storage_bits(ct: CompressedTensor) -> StorageBits:
    """Exact storage of ``ct``.

    values = stored entries x code bits (vector encodings: vectors x index bits;
    low-rank: ``32 r (out + K)``), or the Huffman-coded length; index = the sparsity's
    position bits (or their Huffman-coded length for relative gaps); codebook = float32
    centroids / codewords of a per-layer codebook (a shared pool is counted once by
    the model) plus Huffman tables; scales = float32 scales (+ affine zero points at
    code width) or 8-bit E8M0 scales for MX.
    """
    enc, shape = ct.encoding, ct.shape
    if isinstance(enc, LowRankValues):
        return StorageBits(values=sum(f.size for f in ct.factors) * FP32_BITS)
    if ct.value_code is not None:
        values = ct.value_code.coded_bits(to_symbols(ct.codes, enc.code_bits))
    elif isinstance(enc, VectorValues):
        values = ct.codes.size * enc.bits
    else:
        values = ct.sparsity.entries(shape) * enc.code_bits
    if ct.index_code is not None:
        index = ct.index_code.coded_bits(ct.sparsity.relative.gaps)
    else:
        index = ct.sparsity.index_bits(shape)
    codebook = 0
    if ct.codebook is not None and not (isinstance(enc, VectorValues) and enc.pool):
        codebook = ct.codebook.size * FP32_BITS
    for code in (ct.value_code, ct.index_code):
        codebook += code.table_bits if code is not None else 0
    return StorageBits(values, index, codebook, _scale_bits(ct))


@dataclass(frozen=True, eq=False)
class CompressedTensor:
    """One compressed weight tensor (see the module docstring for every field)."""

    name: str
    values: np.ndarray
    sparsity: Sparsity
    encoding: Encoding
    codes: np.ndarray | None = None
    scales: np.ndarray | None = None
    zero_points: np.ndarray | None = None
    codebook: np.ndarray | None = None
    factors: tuple[np.ndarray, np.ndarray] | None = None
    value_code: HuffmanCode | None = None
    index_code: HuffmanCode | None = None

    def __post_init__(self) -> None:
        values = self.values
        if not isinstance(values, np.ndarray) or values.dtype != np.float32:
            raise ValueError(f"{self.name}: values must be a float32 array")
        if values.ndim not in (2, 4):
            raise ValueError(f"{self.name}: values must be 2-D or 4-D, not shape {values.shape}")
        mask = self.sparsity.mask
        if mask is not None and mask.shape != values.shape:
            raise ValueError(
                f"{self.name}: mask shape {mask.shape} differs from values {values.shape}"
            )
        if isinstance(self.encoding, LowRankValues):
            if self.factors is None or self.sparsity.kind is not SparsityKind.DENSE:
                raise ValueError(f"{self.name}: low-rank needs factors and a dense structure")
            return
        if self.codes is None:
            raise ValueError(f"{self.name}: {self.encoding.name} needs its codes")
        if not isinstance(self.encoding, VectorValues):
            entries = self.sparsity.entries(values.shape)
            if self.codes.size != entries:
                raise ValueError(
                    f"{self.name}: {self.codes.size} codes for {entries} stored entries"
                )

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.values.shape)

    @property
    def kept(self) -> int:
        """Weights kept by the sparsity structure (all of them when dense)."""
        mask = self.sparsity.mask
        return self.values.size if mask is None else int(np.count_nonzero(mask))

    @property
    def density(self) -> float:
        return self.kept / self.values.size

    @property
    def gemm_mask(self) -> np.ndarray:
        """bool ``[out, K]``: the keep-mask in the GEMM view (all True when dense)."""
        mask = self.sparsity.mask
        return gemm_view(np.ones(self.shape, bool) if mask is None else mask)

    @property
    def storage(self) -> StorageBits:
        return storage_bits(self)

    @property
    def stats(self) -> WeightStats:
        """The array-free summary the simulator consumes (:class:`compress.stats.WeightStats`),
        computed once."""
        cached = self.__dict__.get("_stats")
        if cached is None:
            from compress.stats import WeightStats

            cached = WeightStats.of(self)
            object.__setattr__(self, "_stats", cached)
        return cached
