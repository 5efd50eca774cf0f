"""How each dataflow maps a GEMM onto the array: one row of a table per dataflow.

For ``C[m x n] = A[m x k] @ B[k x n]`` (A: input activations, B: weights):

======== =========== =========== ========= ===================== ========= ==========
dataflow array rows  array cols  streamed  stays in the PEs      preload   stream tiles
======== =========== =========== ========= ===================== ========= ==========
os       m           n           k         outputs (accumulate)  none      per layer
ws       k           n           m         weights               ``rows``  with ``fit``
is       k           m           n         inputs                ``rows``  with ``fit``
======== =========== =========== ========= ===================== ========= ==========

This is SCALE-Sim's mapping (``Sr, Sc, T`` in its compute classes). The dimension
spread over the rows is folded into ``ceil(Sr / rows)`` pieces, the one over the
columns into ``ceil(Sc / cols)``. SCALE-Sim never folds the streamed dimension ``T``
(``stream_tiling: none``). With ``stream_tiling: fit``, ws and is cut ``T`` into tiles
of at most ``Ts`` vectors, the most whose partial sums (``Ts x cols`` values at
``accumulator_bits``) fit the usable output buffer ``U`` (half of it when
``sram_double_buffered``)::

    Ts = max(1, floor(U / (cols * accumulator_bits)))      nt = ceil(T / Ts)

(:func:`stream_tile_limit`). ``Ts`` is a property of the config, sized for the full array
width as an accumulator array is (TPUv1: 4 MiB of 32-bit accumulators over 256 columns,
double-buffered: ``Ts = 2048``).

os with ``fit`` tiles its streamed ``k`` differently, per layer: there the problem is not
partial sums (they stay in the PEs within a fold) but the input ``A``, which every column
block streams again and which is refetched from DRAM when it does not fit. The k tiles
are the outermost loop (k tiles > column folds > row folds), each tile's ``m x Ks`` slab
of ``A`` the most that fits the usable input buffer, and the PEs' sums are added into the
output buffer after each tile (:func:`os_stream_tile`). It is used only where the
refetch it saves exceeds the partial-sum spills it adds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np

from simulator.config import (
    AcceleratorConfig,
    Dataflow,
    FoldSchedule,
    PEKind,
    StreamTiling,
    WeightDecoder,
)

__all__ = [
    "DATAFLOW_MAPS",
    "OPERAND_DIMS",
    "OPERAND_EDGES",
    "OPERAND_ROLES",
    "PE_KIND_CODES",
    "SCHEDULE_CODES",
    "STREAM_TILING_CODES",
    "WEIGHT_DECODER_CODES",
    "DataflowMap",
    "Edge",
    "GemmDim",
    "Operand",
    "Role",
    "config_stream_tile_limit",
    "dataflow_code",
    "mapping_table",
    "os_stream_tile",
    "stream_tile_limit",
    "usable_buffer_bits",
]


class Operand(StrEnum):
    """The three GEMM operands as the memory system sees them."""

    INPUT = "input"
    WEIGHT = "weight"
    OUTPUT = "output"


class GemmDim(IntEnum):
    """Index of a GEMM dimension in the ``(m, n, k)`` triple."""

    M = 0
    N = 1
    K = 2


class Role(IntEnum):
    """How an operand is reused by the fold loop nest (column folds outside, stream tiles,
    row folds inside; see :mod:`simulator.model.memory`).

    ``BOTH``: it spans the column and the row dimension (not streamed): each fold
    position's tile is used once per stream tile (the stationary operand in ws and is,
    the outputs in os). ``OUTER_ONLY``: it spans the column dimension and the streamed
    one: a block per column block, reused by its row folds. ``INNER_ONLY``: it spans the
    row dimension and the streamed one: needed again in every column block.
    """

    BOTH = 0
    OUTER_ONLY = 1
    INNER_ONLY = 2


class Edge(IntEnum):
    """Which array edge an operand's SRAM port feeds, one element per row or column."""

    ROWS = 0
    COLS = 1


OPERAND_DIMS: dict[Operand, tuple[GemmDim, GemmDim]] = {
    Operand.INPUT: (GemmDim.M, GemmDim.K),
    Operand.WEIGHT: (GemmDim.K, GemmDim.N),
    Operand.OUTPUT: (GemmDim.M, GemmDim.N),
}


@dataclass(frozen=True)
class DataflowMap:
    """One dataflow's placement of the GEMM dimensions.

    ``preload_rows`` is 1 when the stationary operand is shifted into the array one
    row per cycle before each fold (``rows`` cycles), 0 when nothing is preloaded.
    ``tiles_stream`` is 1 when ``stream_tiling: fit`` may split the streamed dimension
    (the partial sums live in the output buffer), 0 when they stay in the PEs.
    """

    dataflow: Dataflow
    row_dim: GemmDim
    col_dim: GemmDim
    stream_dim: GemmDim
    stationary: Operand
    preload_rows: int
    tiles_stream: int

    def role(self, operand: Operand) -> Role:
        """The operand's :class:`Role` in this dataflow's loop nest."""
        dims = OPERAND_DIMS[operand]
        if self.col_dim in dims:
            return Role.BOTH if self.row_dim in dims else Role.OUTER_ONLY
        return Role.INNER_ONLY

    def edge(self, operand: Operand) -> Edge:
        """The edge an input operand enters on: a streamed operand on the edge of the array
        dimension it spans (os: A on the rows, B on the columns; ws: A on the rows; is: B on
        the rows); a preloaded one a row per cycle, ``cols`` wide. Outputs leave on the
        columns."""
        if operand is Operand.OUTPUT or operand is self.stationary:
            return Edge.COLS
        return Edge.ROWS if self.row_dim in OPERAND_DIMS[operand] else Edge.COLS


DATAFLOW_MAPS: dict[Dataflow, DataflowMap] = {
    Dataflow.OS: DataflowMap(Dataflow.OS, GemmDim.M, GemmDim.N, GemmDim.K, Operand.OUTPUT, 0, 0),
    Dataflow.WS: DataflowMap(Dataflow.WS, GemmDim.K, GemmDim.N, GemmDim.M, Operand.WEIGHT, 1, 1),
    Dataflow.IS: DataflowMap(Dataflow.IS, GemmDim.K, GemmDim.M, GemmDim.N, Operand.INPUT, 1, 1),
}
_DATAFLOW_ORDER: tuple[Dataflow, ...] = tuple(Dataflow)
STREAM_TILING_CODES: dict[StreamTiling, int] = {tiling: i for i, tiling in enumerate(StreamTiling)}
SCHEDULE_CODES: dict[FoldSchedule, int] = {schedule: i for i, schedule in enumerate(FoldSchedule)}
PE_KIND_CODES: dict[PEKind, int] = {kind: i for i, kind in enumerate(PEKind)}
WEIGHT_DECODER_CODES: dict[WeightDecoder, int] = {d: i for i, d in enumerate(WeightDecoder)}


def dataflow_code(dataflow: Dataflow | str) -> int:
    """The integer code of a dataflow, the index into :func:`mapping_table` columns."""
    return _DATAFLOW_ORDER.index(Dataflow(dataflow))


def mapping_table() -> dict[str, np.ndarray]:
    """The table as arrays indexed by dataflow code, for vectorized lookups.

    ``stationary`` holds the index of the stationary operand in ``tuple(Operand)``
    (input, weight, output), so ``np.choose(table["stationary"][df], (a, b, acc))`` is the
    width of what stays in the PEs.
    """
    maps = [DATAFLOW_MAPS[df] for df in _DATAFLOW_ORDER]
    operands = tuple(Operand)
    return {
        "row_dim": np.array([m.row_dim for m in maps], dtype=np.int64),
        "col_dim": np.array([m.col_dim for m in maps], dtype=np.int64),
        "stream_dim": np.array([m.stream_dim for m in maps], dtype=np.int64),
        "stationary": np.array([operands.index(m.stationary) for m in maps], dtype=np.int64),
        "preload_rows": np.array([m.preload_rows for m in maps], dtype=np.int64),
        "tiles_stream": np.array([m.tiles_stream for m in maps], dtype=np.int64),
    }


def _operand_table(value) -> np.ndarray:
    """``int64[dataflow code, operand index]`` of ``value(map, operand)``."""
    return np.array(
        [[value(DATAFLOW_MAPS[df], op) for op in Operand] for df in _DATAFLOW_ORDER],
        dtype=np.int64,
    )


OPERAND_ROLES: np.ndarray = _operand_table(DataflowMap.role)
"""``int64[dataflow code, operand index]``: each operand's :class:`Role`."""
OPERAND_EDGES: np.ndarray = _operand_table(DataflowMap.edge)
"""``int64[dataflow code, operand index]``: the :class:`Edge` each operand's port feeds."""


def usable_buffer_bits(sram_bytes, double_buffered) -> np.ndarray:
    """Bits of a buffer that can hold resident data: ``8 * bytes``, halved (rounded
    down) when ``double_buffered`` (the other half receives the prefetch); ``int64``."""
    halves = np.where(np.asarray(double_buffered, dtype=bool), 2, 1)
    return np.asarray(sram_bytes, dtype=np.int64) * 8 // halves


def stream_tile_limit(tiling, cols, accumulator_bits, usable_output_bits) -> np.ndarray:
    """The stream tile ``Ts`` of each config, ``int64``; 0 means "do not tile".

    Parameters
    ----------
    tiling : array_like of int
        :data:`STREAM_TILING_CODES` of each config.
    cols, accumulator_bits : array_like of int
        Array columns and partial-sum width.
    usable_output_bits : array_like of int
        Usable output-buffer capacity (:func:`usable_buffer_bits`).

    Returns
    -------
    numpy.ndarray
        ``max(1, usable_output_bits // (cols * accumulator_bits))`` where ``tiling`` is
        ``fit``, else 0. Whether a layer is tiled also depends on its dataflow (os never
        is) and on whether ``Ts < T`` (:func:`simulator.model.timing.dense_timing`).
    """
    cols, acc, usable = (
        np.asarray(x, dtype=np.int64) for x in (cols, accumulator_bits, usable_output_bits)
    )
    fit = np.asarray(tiling, dtype=np.int64) == STREAM_TILING_CODES[StreamTiling.FIT]
    return np.where(fit, np.maximum(1, usable // (cols * acc)), 0)


def os_stream_tile(
    m, n, k, col_folds, a_dram_bits, acc_bits, usable_input_bits, usable_output_bits
) -> tuple[np.ndarray, np.ndarray]:
    """The k tile ``Ks`` of an os layer with ``stream_tiling: fit``, and where it is used.

    Parameters
    ----------
    m, n, k : array_like of int
        One GEMM's dimensions (os: ``m`` over the rows, ``n`` over the columns, ``k``
        streamed).
    col_folds : array_like of int
        ``Fo = ceil(n / cols)``: how often an untiled layer streams all of ``A``.
    a_dram_bits : array_like of float
        DRAM bits per element of ``A`` (``activation_bits``, scaled by the distinct share
        of a convolution's im2col matrix).
    acc_bits, usable_input_bits, usable_output_bits : array_like
        Partial-sum width and the usable input and output buffers (bits).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``Ks = max(1, floor(U_in / (m a)))``, the most ``k`` columns whose ``A`` slab
        fits, and a bool that is True where tiling is used: ``Ks < k``, ``Fo > 1`` and
        the untiled refetch of ``A``, ``(Fo - 1) max(0, m k a - U_in)``, exceeds the
        spills tiling adds, ``2 (nt - 1) max(0, m n acc - U_out)`` with
        ``nt = ceil(k / Ks)``.
    """
    m, n, k, fo = (np.asarray(x, dtype=np.int64) for x in (m, n, k, col_folds))
    a = np.asarray(a_dram_bits, dtype=np.float64)
    u_in = np.asarray(usable_input_bits, dtype=np.float64)
    u_out = np.asarray(usable_output_bits, dtype=np.float64)
    # Capped at k before the cast: the quotient of a large buffer over a thin slab can
    # exceed int64.
    ks = np.clip(np.floor(u_in / np.maximum(m * a, 1e-300)), 1, k).astype(np.int64)
    tiles = -(-k // ks)
    saved = (fo - 1) * np.maximum(0.0, m * k * a - u_in)
    cost = 2 * (tiles - 1) * np.maximum(0.0, m * n * np.asarray(acc_bits, np.float64) - u_out)
    return ks, (ks < k) & (fo > 1) & (saved > cost)


def config_stream_tile_limit(config: AcceleratorConfig) -> int:
    """The stream tile ``Ts`` of one ws or is config (:func:`stream_tile_limit`); 0: untiled
    (and for os, which tiles per layer, :func:`os_stream_tile`)."""
    if config.dataflow is Dataflow.OS:
        return 0
    usable = usable_buffer_bits(config.ofmap_sram_bytes, config.sram_double_buffered)
    code = STREAM_TILING_CODES[config.stream_tiling]
    return int(stream_tile_limit(code, config.cols, config.accumulator_bits, usable))
