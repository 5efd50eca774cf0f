"""How each dataflow maps a GEMM onto the array: one row of a table per dataflow.

For ``C[m x n] = A[m x k] @ B[k x n]`` (A: input activations, B: weights):

======== =========== =========== ========= ===================== =========
dataflow array rows  array cols  streamed  stays in the PEs      preload
======== =========== =========== ========= ===================== =========
os       m           n           k         outputs (accumulate)  none
ws       k           n           m         weights               ``rows``
is       k           m           n         inputs                ``rows``
======== =========== =========== ========= ===================== =========

This is SCALE-Sim's mapping (``Sr, Sc, T`` in its compute classes). The dimension
spread over the rows is folded into ``ceil(Sr / rows)`` pieces, the one over the
columns into ``ceil(Sc / cols)``; the streamed dimension ``T`` is never folded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np

from simulator.config import Dataflow

__all__ = [
    "DATAFLOW_MAPS",
    "DataflowMap",
    "GemmDim",
    "Operand",
    "dataflow_code",
    "mapping_table",
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


@dataclass(frozen=True)
class DataflowMap:
    """One dataflow's placement of the GEMM dimensions.

    ``preload_rows`` is 1 when the stationary operand is shifted into the array one
    row per cycle before each fold (``rows`` cycles), 0 when nothing is preloaded.
    """

    dataflow: Dataflow
    row_dim: GemmDim
    col_dim: GemmDim
    stream_dim: GemmDim
    stationary: Operand
    preload_rows: int


DATAFLOW_MAPS: dict[Dataflow, DataflowMap] = {
    Dataflow.OS: DataflowMap(Dataflow.OS, GemmDim.M, GemmDim.N, GemmDim.K, Operand.OUTPUT, 0),
    Dataflow.WS: DataflowMap(Dataflow.WS, GemmDim.K, GemmDim.N, GemmDim.M, Operand.WEIGHT, 1),
    Dataflow.IS: DataflowMap(Dataflow.IS, GemmDim.K, GemmDim.M, GemmDim.N, Operand.INPUT, 1),
}
_DATAFLOW_ORDER: tuple[Dataflow, ...] = tuple(Dataflow)


def dataflow_code(dataflow: Dataflow | str) -> int:
    """The integer code of a dataflow, the index into :func:`mapping_table` columns."""
    return _DATAFLOW_ORDER.index(Dataflow(dataflow))


def mapping_table() -> dict[str, np.ndarray]:
    """The table as arrays indexed by dataflow code, for vectorized lookups."""
    maps = [DATAFLOW_MAPS[df] for df in _DATAFLOW_ORDER]
    return {
        "row_dim": np.array([m.row_dim for m in maps], dtype=np.int64),
        "col_dim": np.array([m.col_dim for m in maps], dtype=np.int64),
        "stream_dim": np.array([m.stream_dim for m in maps], dtype=np.int64),
        "preload_rows": np.array([m.preload_rows for m in maps], dtype=np.int64),
    }
