"""How a GEMM is cut into folds on the RTL, exactly as the timing model cuts it.

``C[m x n] = A[m x k] @ B[k x n]``; a dataflow (:mod:`simulator.model.mapping`) puts one
GEMM dimension on the array rows (ws: ``k``, os: ``m``), ``n`` on the columns and
streams the third (ws: ``m``, os: ``k``).

Dense PEs: the row dimension in pieces of ``rows``, ``n`` in pieces of ``cols``.

N:M PEs (ws, ``M = nm_group``): the ``k`` positions form ``G = ceil(k / M)`` groups.

- Column ``j`` runs with ``n_j`` PE rows per group: the smallest of
  ``params.row_group_sizes`` (the supported N values and M) at or above the most kept
  weights in any group of M of the column (:func:`column_row_groups`); a column that
  keeps more than the largest supported N runs dense, ``n_j = M``.
- Columns go to column folds in decreasing ``n_j`` (a stable sort: ties keep their
  order), ``cols`` per fold; fold ``c`` runs at ``n_c = max n_j`` over its columns.
- A sparse column fold (``n_c < M``) has ``ceil(G / floor(rows / n_c))`` row folds,
  each covering ``floor(rows / n_c)`` groups: row group ``q`` of a fold is PE rows
  ``q*n_c .. q*n_c + n_c - 1`` (see :mod:`rtl.array`); rows below the last whole row
  group hold zeros.
- A dense column fold (``n_c = M``) runs as on dense PEs: ``ceil(k / rows)`` row folds
  of ``rows`` consecutive ``k`` (PE row ``r`` holds ``k0 + r``; the array's dense mode
  gives every PE of row ``r`` lane ``r``, whatever its position).

Dense PEs are the case ``M = 1``, ``row_group_sizes = (1,)``: every ``n_j = 1``, no
reordering, ``ceil(k / rows)`` row folds. In both, a partial fold is padded with zeros
and costs a full fold. The streamed dimension is streamed whole or, when the config
tiles it (``stream_tiling: fit``, a stream tile ``Ts > 0``) and the layer has more than
one row fold in some column fold, in tiles of ``min(Ts, T)`` vectors, in every column
fold (as the timing model tiles a compressed layer: by its largest row-fold count).
Folds go column fold > stream tile > row fold (the model's loop nest), and every fold
costs ``P + (rows - 1) + T + (cols - 1)`` cycles (``P = rows`` in ws, 0 in os):
:attr:`GemmTiling.fold_cycles`, the schedule of :mod:`rtl.schedule`.

The tiling is the RTL's: the cycles it must take come from the simulator's model
(:mod:`rtl.model`), and the benches check the two agree.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from rtl.params import RtlParams
from simulator.model.mapping import DATAFLOW_MAPS

__all__ = ["FoldTile", "GemmTiling", "column_row_groups", "group_slots"]


def column_row_groups(keep: np.ndarray, params: RtlParams) -> tuple[int, ...]:
    """``n_j`` of every column of a ``[k, n]`` keep-mask (module docstring)."""
    keep = np.asarray(keep, dtype=bool)
    group = params.nm_group
    k, n = keep.shape
    groups = -(-k // group)
    padded = np.zeros((groups * group, n), dtype=bool)
    padded[:k] = keep
    most = padded.reshape(groups, group, n).sum(axis=1).max(axis=0)
    sizes = np.array(params.row_group_sizes)
    return tuple(int(x) for x in sizes[np.searchsorted(sizes, most, side="left")])


def group_slots(keep: np.ndarray, group: int) -> np.ndarray:
    """``slots[g, s, j]``: the ``k`` of column ``j``'s ``s``-th kept weight (ascending)
    in group ``g`` of ``group`` positions, or -1; int64 ``[G, group, n]``."""
    keep = np.asarray(keep, dtype=bool)
    k, n = keep.shape
    groups = -(-k // group)
    padded = np.zeros((groups * group, n), dtype=bool)
    padded[:k] = keep
    grouped = padded.reshape(groups, group, n)
    rank = np.cumsum(grouped, axis=1) - 1
    slots = np.full((groups, group, n), -1, dtype=np.int64)
    g, p, j = np.nonzero(grouped)
    slots[g, rank[g, p, j], j] = g * group + p
    return slots


@dataclass(frozen=True)
class FoldTile:
    """One fold.

    ``row_start:row_stop`` indexes the GEMM dimension on the array rows (for N:M, the
    ``k`` of its groups), ``col_start:col_stop`` the column order
    (:attr:`GemmTiling.column_order`; ``columns`` are the GEMM columns on array columns
    ``0, 1, ...``), ``t_start:t_stop`` the streamed dimension. ``group_rows`` is the
    fold's ``n_c`` (PE rows per row group; 1 for dense PEs), ``group_start:group_stop``
    its groups of M (sparse folds); ``dense``: the fold's PE rows hold ``row_start +
    r`` (every dense-PE fold, and N:M column folds at ``n_c = M``).
    """

    index: int
    row_fold: int
    col_fold: int
    row_start: int
    row_stop: int
    col_start: int
    col_stop: int
    t_start: int
    t_stop: int
    group_rows: int = 1
    group_start: int = 0
    group_stop: int = 0
    columns: tuple[int, ...] = ()
    dense: bool = True

    @property
    def t(self) -> int:
        """Vectors this fold streams."""
        return self.t_stop - self.t_start


@dataclass(frozen=True)
class GemmTiling:
    """How an ``m x k @ k x n`` GEMM maps onto the array (module docstring)."""

    params: RtlParams
    m: int
    n: int
    k: int
    stream_tile_limit: int | None = None
    """The stream tile limit (0: untiled); ``None`` takes ``params.stream_tile_limit``."""
    column_n: tuple[int, ...] | None = None
    """``n_j`` per column (:func:`column_row_groups`); ``None``: every column at the
    largest row group (M: dense columns; 1 for dense PEs)."""

    def __post_init__(self) -> None:
        for name in ("m", "n", "k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GEMM dimension {name} must be a positive integer, not {value!r}")
        if self.stream_tile_limit is None:
            object.__setattr__(self, "stream_tile_limit", self.params.stream_tile_limit)
        limit = self.stream_tile_limit
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"stream_tile_limit must be an integer >= 0, not {limit!r}")
        sizes = self.params.row_group_sizes
        column_n = (sizes[-1],) * self.n if self.column_n is None else tuple(self.column_n)
        if len(column_n) != self.n or not set(column_n) <= set(sizes):
            raise ValueError(
                f"column_n must give one of {sizes} for each of the {self.n} "
                f"columns, not {self.column_n!r}"
            )
        object.__setattr__(self, "column_n", tuple(int(x) for x in column_n))
        longest = max(fold.t for fold in self.folds)
        if longest > self.params.max_stream:
            raise ValueError(
                f"a fold streams {longest} vectors but stream_bits="
                f"{self.params.stream_bits} allows at most {self.params.max_stream}"
            )

    @property
    def _dims(self) -> tuple[int, int, int]:
        return self.m, self.n, self.k

    @property
    def row_dim(self) -> int:
        return self._dims[DATAFLOW_MAPS[self.params.dataflow].row_dim]

    @property
    def col_dim(self) -> int:
        return self._dims[DATAFLOW_MAPS[self.params.dataflow].col_dim]

    @property
    def t(self) -> int:
        """The streamed dimension's size (ws: ``m``, os: ``k``)."""
        return self._dims[DATAFLOW_MAPS[self.params.dataflow].stream_dim]

    @property
    def groups(self) -> int:
        """Groups of M along the row dimension (the row dimension for dense PEs)."""
        return -(-self.row_dim // self.params.nm_group)

    @cached_property
    def column_order(self) -> tuple[int, ...]:
        """GEMM columns in array order: decreasing ``n_j``, ties in their order."""
        return tuple(int(j) for j in np.argsort(-np.array(self.column_n), kind="stable"))

    def _row_folds(self, n_c: int) -> int:
        if n_c == self.params.nm_group:  # dense: rows consecutive k per fold
            return -(-self.row_dim // self.params.rows)
        return -(-self.groups // (self.params.rows // n_c))

    @cached_property
    def _column_folds(self) -> tuple[tuple[int, int, tuple[int, ...], int], ...]:
        """``(c0, c1, columns, n_c)`` of every column fold."""
        order, cols = self.column_order, self.params.cols
        out = []
        for c0 in range(0, self.col_dim, cols):
            columns = order[c0 : c0 + cols]
            out.append((c0, c0 + len(columns), columns, max(self.column_n[j] for j in columns)))
        return tuple(out)

    @property
    def stream_tile(self) -> int:
        """Vectors per stream tile (``T`` when untiled): ``min(Ts, T)`` when the stream
        is tiled, i.e. in ws with ``Ts > 0`` and more than one row fold in some column
        fold (the model's rule for the layer, module docstring)."""
        tiles = DATAFLOW_MAPS[self.params.dataflow].tiles_stream
        most = max(self._row_folds(n_c) for *_, n_c in self._column_folds)
        if tiles and most > 1 and self.stream_tile_limit > 0:
            return min(self.stream_tile_limit, self.t)
        return self.t

    @cached_property
    def folds(self) -> tuple[FoldTile, ...]:
        p, group, ts = self.params, self.params.nm_group, self.stream_tile
        tiles: list[FoldTile] = []
        for cf, (c0, c1, columns, n_c) in enumerate(self._column_folds):
            dense = n_c == group
            row_folds = self._row_folds(n_c)
            per_fold = p.rows if dense else (p.rows // n_c) * group  # k per row fold
            for t_start, rf in itertools.product(range(0, self.t, ts), range(row_folds)):
                k0 = rf * per_fold
                g0 = 0 if dense else k0 // group
                g1 = 0 if dense else min(g0 + p.rows // n_c, self.groups)
                tiles.append(
                    FoldTile(
                        index=len(tiles),
                        row_fold=rf,
                        col_fold=cf,
                        row_start=k0,
                        row_stop=min(k0 + per_fold, self.row_dim),
                        col_start=c0,
                        col_stop=c1,
                        t_start=t_start,
                        t_stop=min(t_start + ts, self.t),
                        group_rows=n_c,
                        group_start=g0,
                        group_stop=g1,
                        columns=columns,
                        dense=dense,
                    )
                )
        return tuple(tiles)

    @property
    def fold_cycles(self) -> tuple[int, ...]:
        """Each fold's cycles in the RTL's schedule: ``P + (R - 1) + T + (C - 1)``
        (:func:`rtl.schedule.fold_phases`)."""
        p = self.params
        preload = DATAFLOW_MAPS[p.dataflow].preload_rows * p.rows
        fixed = preload + p.rows + p.cols - 2
        return tuple(fixed + fold.t for fold in self.folds)
