"""Expected cycles of an N:M GEMM on a ws array: the compressed-execution model's formulas.

To be replaced by the simulator's model (``simulator.simulate()`` on the same layer and
config) when it lands; until then this is the one place the benches take the N:M
cycles from. Written from the model's statement, not from the RTL's driver:

- per column ``j``: ``n_j`` = the smallest of the supported N values at or above the
  most kept weights in any group of M of the column; M (dense) above the largest;
- columns sorted by decreasing ``n_j`` (stable), ``C`` per column fold, ``n_c`` the
  fold's largest ``n_j``;
- column fold ``c``: ``ceil(G / floor(R / n_c))`` row folds, ``G = ceil(k / M)``;
- the streamed ``m`` in tiles of ``min(Ts, m)`` when ``Ts > 0`` and the column fold has
  more than one row fold (else whole);
- every fold costs ``R + (R - 1) + T + (C - 1)`` (``P = R``, the sequential schedule).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["NMCycles", "nm_ws_cycles"]


@dataclass(frozen=True)
class NMCycles:
    """Per-fold cycles in the driver's fold order, and their sum."""

    fold_cycles: tuple[int, ...]
    n_c: tuple[int, ...]
    """Each column fold's row-group size."""

    @property
    def total(self) -> int:
        return sum(self.fold_cycles)


def nm_ws_cycles(
    keep: np.ndarray,
    rows: int,
    cols: int,
    slots: tuple[int, ...],
    group: int,
    m: int,
    stream_tile_limit: int = 0,
) -> NMCycles:
    """Expected cycles of ``A[m x k] @ B[k x n]`` with keep-mask ``keep`` ``[k, n]``."""
    keep = np.asarray(keep, dtype=bool)
    k, n = keep.shape
    groups = -(-k // group)
    padded = np.zeros((groups * group, n), dtype=bool)
    padded[:k] = keep
    most = padded.reshape(groups, group, n).sum(axis=1).max(axis=0)
    choices = sorted({*slots, group})
    n_j = np.array([min(x for x in choices if x >= need) for need in most])
    order = np.argsort(-n_j, kind="stable")
    fold_cycles, n_cs = [], []
    for start in range(0, n, cols):
        n_c = int(n_j[order[start : start + cols]].max())
        row_folds = -(-groups // (rows // n_c))
        tiled = stream_tile_limit > 0 and row_folds > 1
        tile = min(stream_tile_limit, m) if tiled else m
        tiles = [min(tile, m - t0) for t0 in range(0, m, tile)]
        fold_cycles += [2 * rows - 1 + t + cols - 1 for t in tiles for _ in range(row_folds)]
        n_cs.append(n_c)
    return NMCycles(tuple(fold_cycles), tuple(n_cs))
