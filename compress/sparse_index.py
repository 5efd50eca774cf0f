"""Where the kept values of an unstructured sparse tensor are: bitmask or relative index.

Both run over the flattened ``[out, K]`` GEMM view in row-major order (storage order).

- bitmask: one bit per position, ``out * K`` bits.
- relative index (Deep Compression, Han et al. 2016, section 2): each stored value
  carries the gap to the previous stored position in ``g`` bits, holding
  ``gap - 1`` in ``[0, 2**g - 1]``. A gap larger than ``2**g`` is bridged by filler
  entries of gap ``2**g`` whose value is zero. A kept value with gap ``d`` costs
  ``ceil(d / 2**g)`` entries, so ``entries = sum_d ceil(d / 2**g)`` and the tensor
  stores ``entries`` values and ``entries * g`` index bits. The first gap counts
  from position -1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "MAX_GAP_BITS",
    "RelativeIndex",
    "best_gap_bits",
    "check_gap_bits",
    "relative_index",
    "relative_positions",
]

MAX_GAP_BITS = 16


def check_gap_bits(gap_bits: object) -> int:
    """Validate a relative-index width: an integer from 1 to :data:`MAX_GAP_BITS`."""
    if isinstance(gap_bits, bool) or not isinstance(gap_bits, int | np.integer):
        raise ValueError(f"relative index gap_bits must be an integer, not {gap_bits!r}")
    if not 1 <= gap_bits <= MAX_GAP_BITS:
        raise ValueError(
            f"relative index gap_bits must be from 1 to {MAX_GAP_BITS}, not {gap_bits!r}"
        )
    return int(gap_bits)


@dataclass(frozen=True, eq=False)
class RelativeIndex:
    """A mask stored as gaps.

    Attributes
    ----------
    gap_bits : int
        Width ``g`` of one gap field.
    gaps : numpy.ndarray
        int64 ``[entries]``: the stored fields, ``gap - 1`` in ``[0, 2**g)``.
    filler : numpy.ndarray
        bool ``[entries]``: True for filler entries (stored value zero).
    """

    gap_bits: int
    gaps: np.ndarray
    filler: np.ndarray

    @property
    def entries(self) -> int:
        """Stored values, kept plus fillers."""
        return int(self.gaps.size)

    @property
    def index_bits(self) -> int:
        """``entries * gap_bits``."""
        return self.entries * self.gap_bits

    @property
    def positions(self) -> np.ndarray:
        """Flat position of every entry (int64), fillers included."""
        return relative_positions(self.gaps)


def relative_index(mask: np.ndarray, gap_bits: int) -> RelativeIndex:
    """Encode the True positions of ``mask`` (flattened row-major) as gaps of ``g`` bits."""
    g = check_gap_bits(gap_bits)
    span = 1 << g
    kept = np.flatnonzero(np.asarray(mask, dtype=bool).ravel())
    distance = np.diff(kept, prepend=-1)
    count = (distance + span - 1) // span
    last = np.cumsum(count) - 1
    gaps = np.full(int(count.sum()), span - 1, dtype=np.int64)
    gaps[last] = distance - span * (count - 1) - 1
    filler = np.ones(gaps.size, dtype=bool)
    filler[last] = False
    return RelativeIndex(g, gaps, filler)


def relative_positions(gaps: np.ndarray) -> np.ndarray:
    """Decode gap fields to flat positions: ``pos_i = pos_{i-1} + gaps_i + 1``, ``pos_-1 = -1``."""
    return np.cumsum(np.asarray(gaps, dtype=np.int64) + 1) - 1


def best_gap_bits(mask: np.ndarray, value_bits: int) -> int:
    """The gap width minimizing ``entries(g) * (g + value_bits)`` (values + index bits)."""
    kept = np.flatnonzero(np.asarray(mask, dtype=bool).ravel())
    distance = np.diff(kept, prepend=-1)
    widths = np.arange(1, MAX_GAP_BITS + 1)
    entries = np.array([((distance + (1 << g) - 1) >> g).sum() for g in widths])
    return int(widths[np.argmin(entries * (widths + value_bits))])
