"""WeightStats: the array-free summary of one compressed weight tensor, for the simulator.

Computed once from a :class:`~compress.tensor.CompressedTensor`'s mask and codes, it holds
everything the accelerator model reads, and nothing the size of the weights:

- the GEMM view: ``out`` output columns (all groups of a grouped conv, in order) and the
  reduction length ``k``;
- the structure: nonzero weights, nonzeros per output column (pruned positions and
  values that quantized to zero alike: what zero-skipping hardware sees), and for every
  group size ``M`` in
  :data:`GROUP_SIZES` (and the tensor's own N:M group) the most nonzeros in any group of
  ``M`` consecutive weights along ``k`` of each column: from it the model derives the
  per-column N:M pattern ``n_j`` any N:M array needs (the smallest N it supports at or
  above that count) and whether the column complies;
- the number format: value bits (code bits of one stored entry; for vector formats the
  index bits of one vector), vector length, scale granularity, the codebook (entries,
  vector length, stored entry bits, layer or network scope) and the entropy coding;
- the exact storage account (:class:`~compress.tensor.StorageBits`), Huffman included.

A pattern declared without a mask (a YAML ``nm:`` or a topology's N:M column) has a
summary too (:func:`declared_stats`): every column keeps ``N`` of every ``M``, and the
value format is the accelerator's own (``value_bits`` is None).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from compress.encoding import FP32_BITS, CodebookValues, VectorValues
from compress.layout import gemm_view
from compress.nm import NMPattern
from compress.tensor import CompressedTensor, IndexKind, SparsityKind, StorageBits

__all__ = [
    "GROUP_SIZES",
    "Codebook",
    "WeightStats",
    "declared_density_stats",
    "declared_stats",
    "group_maxima",
    "mask_stats",
    "structure_only",
]

GROUP_SIZES: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 8, 16, 32)
"""Group sizes ``M`` for which every summary records the per-column group maxima."""


@dataclass(frozen=True)
class Codebook:
    """A table of shared weights that indices point into.

    ``entries``: table size ``P``; ``vector_length``: weights per entry (1 for scalar
    k-means); ``entry_bits``: bits of one stored weight in the table (float32 as
    compressed; the hardware holds its own ``decoder_entry_bits``); ``scope``:
    ``layer`` (stored with the layer) or ``network`` (a weight pool shared by several
    layers, stored once); ``pool``: the pool's name when shared.
    """

    entries: int
    vector_length: int
    entry_bits: int
    scope: str
    pool: str | None = None

    @property
    def bits(self) -> int:
        """Stored table bits: ``entries * vector_length * entry_bits``."""
        return self.entries * self.vector_length * self.entry_bits


def group_maxima(keep: np.ndarray, m: int) -> np.ndarray:
    """Most kept entries in any group of ``m`` consecutive positions of each row.

    Parameters
    ----------
    keep : numpy.ndarray
        bool ``[out, K]``, True where a weight is kept (nonzero).
    m : int
        Group size; the last group of a row is shorter when ``m`` does not divide ``K``.

    Returns
    -------
    numpy.ndarray
        int64 ``[out]``.
    """
    out, k = keep.shape
    groups = -(-k // m)
    padded = np.zeros((out, groups * m), dtype=np.int8)
    padded[:, :k] = keep
    return padded.reshape(out, groups, m).sum(axis=2, dtype=np.int64).max(axis=1)


@dataclass(frozen=True, eq=False)
class WeightStats:
    """The summary of one weight tensor (see the module docstring).

    Attributes
    ----------
    name : str
    shape : tuple of int
        ``[out, in]`` or ``[out, in / groups, kh, kw]``.
    sparsity : SparsityKind
    nm : NMPattern or None
        The tensor's N:M pattern, when it has one.
    index : IndexKind
        How positions are stored.
    kept : int
        Weights the keep-mask keeps (all of them when dense): the stored entries.
    kept_per_column : numpy.ndarray
        int64 ``[out]``.
    group_max : mapping of int to numpy.ndarray
        ``M`` -> int64 ``[out]``: the most kept weights in any group of ``M`` of each
        column, for every ``M`` in :data:`GROUP_SIZES` and the tensor's own.
    nonzeros : int
        Kept weights that are not zero after quantization (at most ``kept``).
    value_format : str
        ``int8``, ``e4m3``, ``kmeans4``, ``pool64x8``, ``fp32``... or ``array`` (declared
        patterns: the accelerator's own weight format).
    value_bits : int or None
        Bits of one stored code (vector formats: of one vector index); None when
        declared.
    vector_length : int
        Weights per stored code (1 unless a vector format).
    codebook : Codebook or None
    entropy_coded : bool
        Values or gaps Huffman coded.
    coded_symbols : int
        Symbols a Huffman decoder emits for this tensor (0 when not entropy coded).
    scale_granularity : str
    storage : StorageBits or None
        Exact stored bits (None when declared: the format is the accelerator's).
    raw : StorageBits or None
        The same before entropy coding: what a Huffman decoder emits (values as
        ``stored entries x code bits``, positions as the sparsity stores them, the
        codebook without Huffman tables); equal to ``storage`` when not entropy coded.
    binomial_density : float or None
        Set for a density declared without a mask (:func:`declared_density_stats`):
        every weight is kept independently with this probability, so per-column counts
        are Binomial(``k``, density) and only their expectations are known.
    """

    name: str
    shape: tuple[int, ...]
    sparsity: SparsityKind
    nm: NMPattern | None
    index: IndexKind
    kept: int
    kept_per_column: np.ndarray
    group_max: Mapping[int, np.ndarray]
    nonzeros: int
    value_format: str
    value_bits: int | None
    vector_length: int
    codebook: Codebook | None
    entropy_coded: bool
    coded_symbols: int
    scale_granularity: str
    storage: StorageBits | None
    raw: StorageBits | None = None
    binomial_density: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        # A plain dict (a MappingProxyType would not pickle, and sweeps ship summaries
        # to worker processes); the summary is not to be mutated all the same.
        object.__setattr__(self, "group_max", dict(self.group_max))

    @property
    def out(self) -> int:
        """Output columns of all groups."""
        return self.shape[0]

    @property
    def k(self) -> int:
        """Reduction length of one output column."""
        return math.prod(self.shape[1:])

    @property
    def params(self) -> int:
        return math.prod(self.shape)

    @property
    def density(self) -> float:
        """Kept fraction of the weights (the mask's density)."""
        return self.kept / self.params

    @property
    def nonzero_density(self) -> float:
        """Nonzero fraction of the weights (kept and not quantized to zero)."""
        return self.nonzeros / self.params

    @property
    def declared(self) -> bool:
        """A pattern declared without weights (no stored format)."""
        return self.storage is None

    @property
    def total_bits(self) -> int | None:
        return None if self.storage is None else self.storage.total

    @property
    def bits_per_weight(self) -> float | None:
        return None if self.storage is None else self.storage.total / self.params

    @property
    def index_bits_per_value(self) -> float | None:
        return None if self.storage is None else self.storage.index / max(self.kept, 1)

    @property
    def format_name(self) -> str:
        """``"2:4 int8"``, ``"unstructured 10% kmeans5"``, ``"int8"``..."""
        value = self.value_format if self.value_format != "array" else ""
        if self.nm is not None:
            head = str(self.nm)
        elif self.sparsity is SparsityKind.DENSE:
            head = ""
        else:
            head = f"{self.sparsity.value} {self.density:.0%}"
        coded = " huffman" if self.entropy_coded else ""
        return " ".join(part for part in (head, value) if part) + coded or "dense"

    def group_max_for(self, m: int) -> np.ndarray | None:
        """Per-column group maxima for groups of ``m`` (None when not recorded)."""
        return self.group_max.get(int(m))

    @classmethod
    def of(cls, ct: CompressedTensor) -> WeightStats:
        """Summarize ``ct`` (one pass over its mask per group size)."""
        keep = ct.gemm_mask
        enc = ct.encoding
        sizes = set(GROUP_SIZES)
        if ct.sparsity.nm is not None:
            sizes.add(ct.sparsity.nm.m)
        storage = ct.storage
        return cls(
            name=ct.name,
            shape=ct.shape,
            sparsity=ct.sparsity.kind,
            nm=ct.sparsity.nm,
            index=ct.sparsity.index,
            kept=ct.kept,
            kept_per_column=keep.sum(axis=1, dtype=np.int64),
            group_max={m: group_maxima(keep, m) for m in sorted(sizes)},
            nonzeros=int(np.count_nonzero(gemm_view(ct.values)[keep])),
            value_format=enc.name,
            value_bits=enc.code_bits,
            vector_length=enc.vector_length if isinstance(enc, VectorValues) else 1,
            codebook=_codebook(ct),
            entropy_coded=ct.value_code is not None or ct.index_code is not None,
            coded_symbols=_coded_symbols(ct),
            scale_granularity=enc.scale_granularity,
            storage=storage,
            raw=_raw_bits(ct, storage),
        )


def _codebook(ct: CompressedTensor) -> Codebook | None:
    enc = ct.encoding
    if isinstance(enc, CodebookValues):
        return Codebook(1 << enc.bits, 1, FP32_BITS, "layer")
    if isinstance(enc, VectorValues):
        scope = "network" if enc.pool is not None else "layer"
        return Codebook(1 << enc.bits, enc.vector_length, FP32_BITS, scope, enc.pool)
    return None


def _raw_bits(ct: CompressedTensor, storage: StorageBits) -> StorageBits:
    """Storage without entropy coding (see :attr:`WeightStats.raw`)."""
    if ct.value_code is None and ct.index_code is None:
        return storage
    enc = ct.encoding
    if isinstance(enc, VectorValues):
        values = ct.codes.size * enc.bits
    else:
        values = ct.sparsity.entries(ct.shape) * enc.code_bits
    tables = sum(code.table_bits for code in (ct.value_code, ct.index_code) if code is not None)
    return StorageBits(
        values=values,
        index=ct.sparsity.index_bits(ct.shape),
        codebook=storage.codebook - tables,
        scales=storage.scales,
    )


def _coded_symbols(ct: CompressedTensor) -> int:
    symbols = 0
    if ct.value_code is not None:
        symbols += int(np.size(ct.codes))
    if ct.index_code is not None:
        symbols += int(np.size(ct.sparsity.relative.gaps))
    return symbols


# A summary without a stored format of its own: the values are the accelerator's.
_ACCELERATOR_FORMAT = {
    "value_format": "array",
    "value_bits": None,
    "vector_length": 1,
    "codebook": None,
    "entropy_coded": False,
    "coded_symbols": 0,
    "scale_granularity": "none",
    "storage": None,
}


def mask_stats(keep: np.ndarray, name: str = "g") -> WeightStats:
    """The summary of a bool keep-mask ``[out, K]`` (True where a weight is kept) in the
    accelerator's own value format: what the timing model reads of weights given as
    integers and a mask."""
    mask = np.asarray(keep, dtype=bool)
    out, k = mask.shape
    per_column = mask.sum(axis=1, dtype=np.int64)
    kept = int(per_column.sum())
    dense = kept == mask.size
    return WeightStats(
        name=name,
        shape=(out, k),
        sparsity=SparsityKind.DENSE if dense else SparsityKind.UNSTRUCTURED,
        nm=None,
        index=IndexKind.NONE if dense else IndexKind.BITMASK,
        kept=kept,
        kept_per_column=per_column,
        group_max={m: group_maxima(mask, m) for m in GROUP_SIZES},
        nonzeros=kept,
        **_ACCELERATOR_FORMAT,
    )


def structure_only(stats: WeightStats) -> WeightStats:
    """``stats`` with its keep-mask but the accelerator's own value format (no
    quantization, codebook or entropy coding of its own): the sparsity alone."""
    return replace(
        stats,
        value_format="array",
        value_bits=None,
        vector_length=1,
        codebook=None,
        entropy_coded=False,
        coded_symbols=0,
        nonzeros=stats.kept,
        storage=None,
        raw=None,
    )


def declared_density_stats(name: str, shape: tuple[int, ...], density: float) -> WeightStats:
    """The summary of a layer declared unstructured at ``density`` without weights: each
    weight kept independently with probability ``density`` (Sparseloop's uniform
    density model), so a column keeps ``k x density`` on average. The value format is
    the accelerator's own; no group maxima are known (an N:M array runs it dense)."""
    if not 0 < density <= 1:
        raise ValueError(f"{name}: a declared weight density must be in (0, 1], not {density!r}")
    out, k = shape[0], math.prod(shape[1:])
    per_column = round(k * density)
    return WeightStats(
        name=name,
        shape=tuple(shape),
        sparsity=SparsityKind.UNSTRUCTURED,
        nm=None,
        index=IndexKind.BITMASK,
        kept=out * per_column,
        kept_per_column=np.full(out, per_column, dtype=np.int64),
        group_max={},
        nonzeros=out * per_column,
        **_ACCELERATOR_FORMAT,
        binomial_density=float(density),
    )


def declared_stats(name: str, shape: tuple[int, ...], pattern: NMPattern) -> WeightStats:
    """The summary of a layer declared ``pattern`` without weights: every column keeps
    ``min(N, group length)`` of every group of ``M`` along ``k`` (a uniform mask)."""
    out, k = shape[0], math.prod(shape[1:])
    n, m = pattern
    per_column = (k // m) * n + min(n, k % m)
    return WeightStats(
        name=name,
        shape=tuple(shape),
        sparsity=SparsityKind.NM,
        nm=pattern,
        index=IndexKind.NM_POSITIONS,
        kept=out * per_column,
        kept_per_column=np.full(out, per_column, dtype=np.int64),
        group_max={m: np.full(out, min(n, k), dtype=np.int64)},
        nonzeros=out * per_column,
        **_ACCELERATOR_FORMAT,
    )
