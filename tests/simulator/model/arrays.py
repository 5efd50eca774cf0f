"""Model functions called with plain arrays, for tests of their formulas.

The model takes bundles (:class:`~simulator.model.columns.ConfigColumns`,
:class:`~simulator.model.columns.LayerColumns`); these helpers build them from the
arrays a hand-worked case or a hypothesis property states, so the tests read as the
formulas do.
"""

from __future__ import annotations

import numpy as np

from simulator.config import AcceleratorConfig
from simulator.model.columns import ConfigColumns, LayerColumns, Widths
from simulator.model.mapping import Operand
from simulator.model.memory import memory_traffic, stall_cycles
from simulator.model.timing import dense_timing

_BASE = ConfigColumns.of([AcceleratorConfig(rows=1, cols=1)])


def hw_columns(rows, cols, dataflow=0, schedule=0, limit=0, **fields) -> ConfigColumns:
    """Config columns with these array values (anything else from a default config)."""
    values = {
        "rows": rows,
        "cols": cols,
        "dataflow": dataflow,
        "schedule": schedule,
        "stream_tile_limit": limit,
    }
    arrays = {name: np.asarray(value, dtype=np.int64) for name, value in values.items()}
    return _BASE._replace(**arrays, **fields)


def timing_arrays(m, n, k, groups, rows, cols, dataflow, schedule, limit=0):
    """:func:`dense_timing` of GEMM shapes on array values, all broadcasting."""
    hw = hw_columns(rows, cols, dataflow, schedule, limit)
    return dense_timing(hw, LayerColumns.of_shapes(m, n, k, groups))


def traffic_arrays(
    m, n, k, groups, a, b, acc, out, rows, cols, dataflow, usable, timing, elems=None
):
    """:func:`memory_traffic` with ``usable`` bits resident per operand."""
    hw = hw_columns(
        rows, cols, dataflow, usable_bits={op: np.asarray(usable[op]) for op in Operand}
    )
    ly = LayerColumns.of_shapes(m, n, k, groups)
    if elems is not None:
        ly = ly._replace(input_elements=np.asarray(elems, dtype=np.int64))
    a, b, acc, out = (np.asarray(x) for x in (a, b, acc, out))
    widths = Widths(a, b, acc, out, b_dram=b, b_fill=b, b_mac=b, b_pe=b)
    return memory_traffic(hw, ly, timing, widths)


def stall_arrays(traffic, timing, groups, rows, cols, schedule, bw_bits, double_buffered):
    """:func:`stall_cycles` at ``bw_bits`` DRAM bits per cycle."""
    hw = hw_columns(
        rows,
        cols,
        schedule=schedule,
        dram_bytes_per_cycle=np.asarray(bw_bits, dtype=np.float64) / 8,
        double_buffered=np.asarray(double_buffered),
    )
    return stall_cycles(hw, LayerColumns.of_shapes(1, 1, 1, groups), timing, traffic)
