"""Dense systolic-array timing: closed form per fold, vectorized over layers and configs.

Notation: the array has ``R`` rows and ``C`` columns; a dataflow (see
:mod:`simulator.model.mapping`) spreads GEMM dimension ``Sr`` over the rows, ``Sc`` over the
columns and streams ``T`` in time. A layer of ``G`` groups runs ``G`` such GEMMs.

Folds::

    Fi = ceil(Sr / R)    row folds       F = Fo * Fi   folds per GEMM; partial folds cost
    Fo = ceil(Sc / C)    column folds                  as much as full ones

One fold passes through the array in::

    pass = (R - 1) + T + (C - 1)               input skew fill, T streamed vectors,
                                               output drain across the columns

preceded, in ws and is, by a preload of the stationary operand one row per cycle::

    P = R   (ws, is)        P = 0   (os)

Schedules (:class:`simulator.config.FoldSchedule`)::

    sequential:  cycles = G * F * (P + pass)                 (SCALE-Sim)
    overlapped:  cycles = P + G * F * pass                   (double-buffered PE
                                                              registers: only the
                                                              first preload shows)

So in the sequential schedule a fold costs ``R + C + T - 2`` cycles in os and
``2R + C + T - 2`` in ws and is: exactly SCALE-Sim's compute cycles (its demand
matrices per fold have ``T + C - 1`` rows skewed over ``R`` columns in os, and ``R``
preload rows plus ``T + C - 1`` skewed over ``R`` columns in ws/is). SCALE-Sim's
reported "Total Cycles" is the 0-based index of the last cycle, one less than the count;
it splits a depthwise layer into ``G`` layers, each reported that way, so the
SCALE-Sim-comparable figure of a layer is ``G * F * (P + pass) - G``.

Stream tiling (``stream_tiling: fit``, :func:`simulator.model.mapping.stream_tile_limit`)
-----------------------------------------------------------------------------------
In ws and is, when ``k`` is folded (``Fi > 1``: there are partial sums to keep between
row folds) and the config's stream tile ``Ts`` is shorter than ``T``, the streamed
dimension is cut into ``nt = ceil(T / Ts)`` tiles (``nt - 1`` of ``Ts`` vectors, the last
of ``T - (nt - 1) * Ts``) and the loop nest becomes column folds > stream tiles > row
folds. Every fold streams one tile and pays its own preload, skew fill and drain, so
one fold position's ``nt`` passes add up to::

    pass = nt * (R + C - 2) + T              fill and drain per tile, every vector once

    sequential:  cycles = G * F * (nt * P + pass) = G * Fo * Fi * (nt * (P + R + C - 2) + T)
    overlapped:  cycles = P + G * F * pass       = P + G * Fo * Fi * (nt * (R + C - 2) + T)

In the overlapped schedule every preload but the layer's first hides under the previous
fold's pass, as untiled: a pass is at least ``R + C - 1 >= R`` cycles.

os with ``fit`` cuts its streamed ``k`` into ``nt`` tiles of ``Ks`` (chosen per layer from
the input buffer, :func:`simulator.model.mapping.os_stream_tile`, the k tiles outermost)
and adds each tile's sums into the output buffer; with ``P = 0`` the same formulas hold:
``cycles = G * Fo * Fi * (nt * (R + C - 2) + T)``, one fill and drain per tile.

Otherwise ``nt = 1`` and the formulas are the untiled ones: in ws and is with ``Fi = 1``
each output leaves the array complete, so there is no partial-sum block to fit and
splitting the stream would only reload the same stationary tile. ``scalesim_cycles``
is SCALE-Sim's figure for the layer, untiled, whatever the tiling.

Mapping efficiency (SCALE-Sim's ``mapping_eff``), the mean over folds of used PEs over
all PEs, is ``Sr * Sc / (F * R * C)`` in closed form (tiling does not change it).

Every function here takes numpy arrays that broadcast against each other (layers
along one axis, configs along another) and does a fixed number of array operations:
no loop over folds or cycles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from simulator.config import FoldSchedule
from simulator.model.mapping import SCHEDULE_CODES, Operand, mapping_table, os_stream_tile

if TYPE_CHECKING:
    from simulator.model.columns import ConfigColumns, LayerColumns
    from simulator.model.sparsity import WeightExecution

__all__ = ["SCHEDULE_CODES", "DenseTiming", "dense_timing"]

_TABLE = mapping_table()


class DenseTiming(NamedTuple):
    """Per-layer (and per-config) timing arrays, all ``int64`` except the efficiency."""

    sr: np.ndarray
    sc: np.ndarray
    t: np.ndarray
    row_folds: np.ndarray
    """Row folds of one column fold (compressed: of the column fold with the most)."""
    col_folds: np.ndarray
    folds: np.ndarray
    """Folds of one group's GEMM (dense geometry: ``row_folds * col_folds``)."""
    fold_positions: np.ndarray
    """Fold positions of the whole layer, over all groups (each runs ``nt`` stream
    tiles): ``G * folds`` dense; compressed, from :mod:`simulator.model.sparsity`."""
    inner_passes: np.ndarray
    """Row folds per column fold, on average: ``fold_positions / (G * col_folds)``
    (float64; ``row_folds`` exactly when dense)."""
    stream_tile: np.ndarray
    """Streamed vectors per fold: ``min(Ts, T)`` when tiled, else ``T``."""
    stream_tiles: np.ndarray
    """Stream tiles ``nt`` per fold position (1 when untiled)."""
    preload_cycles: np.ndarray
    """Stationary-operand preload before a fold (``R`` in ws/is, 0 in os)."""
    pass_cycles: np.ndarray
    """Skew fill + stream + drain of one dense fold position over its ``nt`` stream
    tiles: ``nt * (R + C - 2) + T`` (``R + C + T - 2`` untiled)."""
    streamed: np.ndarray
    """Streamed vectors over all fold positions: ``fold_positions * T`` dense; in os
    compressed, each fold streams its longest column."""
    compute_cycles: np.ndarray
    """Cycles of the layer on the array in the chosen schedule (no memory stalls)."""
    scalesim_cycles: np.ndarray
    """SCALE-Sim's "Total Cycles" for the layer (sequential count minus one per group)."""
    mapping_efficiency: np.ndarray
    """Mean over folds of used PEs / all PEs, in [0, 1]."""


def _scalesim_sequential(hw, ly, rows, cols, dataflow, preload) -> np.ndarray:
    """SCALE-Sim's sequential compute count, untiled; with ``scalesim_sparsity:
    layerwise`` a declared N:M layer runs on ``K' = floor(k/M) N + min(k mod M, N)``."""
    n_keep, m_group = ly.declared_nm
    k = np.asarray(ly.k, dtype=np.int64)
    layerwise = (hw.scalesim_sparsity == 1) & (m_group > 0)
    if np.any(layerwise):
        group = np.maximum(m_group, 1)
        k = np.where(layerwise, (k // group) * n_keep + np.minimum(k % group, n_keep), k)
    dims = (np.asarray(ly.m, dtype=np.int64), np.asarray(ly.n, dtype=np.int64), k)
    sr = np.choose(_TABLE["row_dim"][dataflow], dims)
    sc = np.choose(_TABLE["col_dim"][dataflow], dims)
    t = np.choose(_TABLE["stream_dim"][dataflow], dims)
    folds = -(-sr // rows) * -(-sc // cols)
    return ly.groups * folds * (preload + rows + cols + t - 2)


def _os_tiles(hw, ly, sr, sc, t, col_folds, execution):
    """``(Ks, tiled)`` of os layers on configs with ``stream_tiling: fit``
    (:func:`simulator.model.mapping.os_stream_tile`); compressed layers that fold
    differently (nm, skip) are not tiled."""
    fit = np.asarray(getattr(hw, "os_stream_tiling", False), dtype=bool)
    if not np.any(fit):
        return t, np.zeros(np.shape(t), dtype=bool)
    m, k = np.asarray(ly.m, dtype=np.int64), np.asarray(ly.k, dtype=np.int64)
    a_dram = hw.a_bits * (np.asarray(ly.input_elements, dtype=np.float64) / (m * k))
    ks, use = os_stream_tile(
        sr, sc, t, col_folds, a_dram, hw.acc_bits,
        hw.usable_bits[Operand.INPUT], hw.usable_bits[Operand.OUTPUT],
    )  # fmt: skip
    use = use & fit
    if execution is not None:
        use = use & ~np.asarray(execution.folded, dtype=bool)
    return ks, use


def dense_timing(
    hw: ConfigColumns, ly: LayerColumns, execution: WeightExecution | None = None
) -> DenseTiming:
    """Closed-form timing of the layers ``ly`` on the configs ``hw``.

    With ``execution`` (:func:`simulator.model.sparsity.weight_execution`), layers whose
    compressed weights fold differently (nm and skip modes) take their fold positions
    and streamed vectors from it; every other layer is timed dense.

    Uses the array (``rows``, ``cols``), the ``dataflow`` and ``schedule`` codes and the
    ``stream_tile_limit`` ``Ts`` of each config (0 never tiles, as SCALE-Sim) and the
    GEMM shapes ``m, n, k, groups`` of each layer (``groups`` independent
    ``m x k @ k x n`` GEMMs). Any shapes that broadcast together work (layers ``(1, L)``
    and configs ``(C, 1)`` give ``(C, L)`` results). The formulas are in the module
    docstring.

    Returns
    -------
    DenseTiming
        Cycle counts in cycles of the array clock.
    """
    m, n, k, groups = (np.asarray(x, dtype=np.int64) for x in (ly.m, ly.n, ly.k, ly.groups))
    rows, cols, dataflow, schedule, limit = (
        np.asarray(x, dtype=np.int64)
        for x in (hw.rows, hw.cols, hw.dataflow, hw.schedule, hw.stream_tile_limit)
    )
    dims = (m, n, k)
    sr = np.choose(_TABLE["row_dim"][dataflow], dims)
    sc = np.choose(_TABLE["col_dim"][dataflow], dims)
    t = np.choose(_TABLE["stream_dim"][dataflow], dims)

    row_folds = -(-sr // rows)
    col_folds = -(-sc // cols)
    folds = row_folds * col_folds
    positions = groups * folds
    streamed = positions * t
    if execution is not None:
        folded = execution.folded
        row_folds = np.where(folded, execution.max_row_folds, row_folds)
        positions = np.where(folded, execution.fold_positions, positions)
        streamed = np.where(folded, execution.streamed, streamed)
    preload = _TABLE["preload_rows"][dataflow] * rows
    tiled = (_TABLE["tiles_stream"][dataflow] == 1) & (row_folds > 1) & (limit > 0)
    os_tile, os_tiled = _os_tiles(hw, ly, sr, sc, t, col_folds, execution)
    if np.any(tiled) or np.any(os_tiled):
        stream_tile = np.where(
            tiled, np.minimum(np.maximum(limit, 1), t), np.where(os_tiled, os_tile, t)
        )
        stream_tiles = -(-t // stream_tile)
    else:  # the same numbers, without the division
        stream_tile, stream_tiles = t, np.ones_like(t)
    pass_cycles = stream_tiles * (rows + cols - 2) + t
    fills = positions * stream_tiles * (rows + cols - 2)
    sequential = positions * stream_tiles * preload + fills + streamed
    overlapped = preload + fills + streamed
    compute = np.where(schedule == SCHEDULE_CODES[FoldSchedule.OVERLAPPED], overlapped, sequential)
    untiled_sequential = _scalesim_sequential(hw, ly, rows, cols, dataflow, preload)
    return DenseTiming(
        sr=sr,
        sc=sc,
        t=t,
        row_folds=row_folds,
        col_folds=col_folds,
        folds=folds,
        fold_positions=positions,
        inner_passes=positions / (groups * col_folds),
        stream_tile=np.broadcast_to(stream_tile, compute.shape),
        stream_tiles=np.broadcast_to(stream_tiles, compute.shape),
        preload_cycles=np.broadcast_to(preload, compute.shape),
        pass_cycles=pass_cycles,
        streamed=np.broadcast_to(streamed, compute.shape),
        compute_cycles=compute,
        scalesim_cycles=untiled_sequential - groups,
        mapping_efficiency=(sr * sc) / (folds * rows * cols),
    )
