"""Sparse weights for the RTL tests and benches: the note's TV1 and TV2, random N:M masks
and random codebooks (``../shared/notes/sparse-execution.md``, section 4)."""

from __future__ import annotations

import numpy as np

from rtl.operands import CodebookOperand
from rtl.params import RtlParams

__all__ = [
    "TV1_KEPT",
    "TV2_COLUMN_N",
    "layer_recipe",
    "random_codebook",
    "random_nm_keep",
    "random_weights",
    "tv1_keep",
    "tv2_keep",
]

# TV1: 4x4 ws, m = 8, n = 4, k = 16, 2:4; kept k of each column.
TV1_KEPT = (
    (0, 1, 4, 5, 8, 9, 12, 13),
    (1, 3, 5, 6, 8, 11, 14, 15),
    (0, 2, 4, 7, 9, 10, 12, 15),
    (2, 3, 6, 7, 10, 11, 13, 14),
)
# TV2: 4x4 ws, m = 8, n = 8, k = 16, groups of 4, n in {1, 2, 4}: per-column n.
TV2_COLUMN_N = (2, 1, 2, 1, 1, 2, 1, 2)


def tv1_keep() -> np.ndarray:
    keep = np.zeros((16, 4), dtype=bool)
    for j, kept in enumerate(TV1_KEPT):
        keep[list(kept), j] = True
    return keep


def random_nm_keep(rng: np.random.Generator, k: int, per_column, group: int) -> np.ndarray:
    """``[k, n]``: column ``j`` keeps ``per_column[j]`` random positions of every group
    of ``group`` (fewer in a short last group)."""
    keep = np.zeros((k, len(per_column)), dtype=bool)
    for j, count in enumerate(per_column):
        for g0 in range(0, k, group):
            size = min(group, k - g0)
            keep[g0 + rng.permutation(size)[: min(count, size)], j] = True
    return keep


def tv2_keep(rng: np.random.Generator) -> np.ndarray:
    return random_nm_keep(rng, 16, TV2_COLUMN_N, 4)


def random_weights(rng: np.random.Generator, keep: np.ndarray, bits: int) -> np.ndarray:
    """Nonzero signed ``bits``-bit weights where ``keep``, zero elsewhere."""
    high = (1 << (bits - 1)) - 1
    values = rng.integers(-high - 1, high, size=keep.shape, endpoint=True)
    values = np.where(values == 0, 1, values)
    return np.where(keep, values, 0)


def random_codebook(
    rng: np.random.Generator, params: RtlParams, keep: np.ndarray, entries: int | None = None
) -> CodebookOperand:
    """Random table (``entries`` of the decoder's, by default all) and indices; vectors of
    ``decoder_vector_length`` along ``k`` (MVQ's layout)."""
    k, n = keep.shape
    v, bits = params.decoder_vector_length, params.decoder_entry_bits
    entries = entries or params.decoder_entries
    high = (1 << (bits - 1)) - 1
    table = rng.integers(-high - 1, high, size=(entries, v), endpoint=True)
    index = rng.integers(0, entries, size=(n, -(-k // v)))
    positions = np.arange(k)
    return CodebookOperand(table, index, positions // v, positions % v, keep)


def layer_recipe(params: RtlParams) -> str:
    """A ``sparsa compress`` recipe whose layers run on the engine as stored: N:M at the
    engine's largest N (MVQ or k-means with a decoder, integer codes without), a weight
    pool or k-means on dense engines with a decoder, integer codes on dense ones."""
    nm = params.nm_group > 1
    prune = f"prune {params.nm_slots[-1]}:{params.nm_group} -> " if nm else ""
    if params.has_decoder:
        bits = params.index_bits
        v = params.decoder_vector_length
        if v == 1:
            return f"{prune}kmeans {bits}bit"
        return f"{prune}mvq {bits}bit v={v}" if nm else f"pool v={v} P={params.decoder_entries}"
    return f"{prune}int{min(params.weight_bits, 8)} per-channel"
