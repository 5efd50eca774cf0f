"""Chip area per component from a cited table (``simulator/data/area_45nm.yaml``).

========================= =================================================================
component                 area
========================= =================================================================
``pe_multipliers``        ``rows * cols * pe.multiply(activation_bits * weight_bits)``
``pe_adders``             ``rows * cols * pe.add(accumulator_bits)``
``pe_registers``          ``rows * cols * register.bit * (a + w + acc + shadow)`` bits:
                          the two moving operands' pipeline registers and the stationary
                          one or the accumulator, plus, in the ``overlapped`` fold
                          schedule of ws/is, a shadow copy of the stationary operand
``<buffer>_sram``         ``bytes * 8 * sram.bitcell / sram.array_efficiency``
========================= =================================================================

All in mm^2; the chip estimate is their sum (no control, clock tree, DRAM interface or
routing overhead). Vectorized like the rest of the model: arguments broadcast over
configs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from simulator.config import Dataflow, FoldSchedule
from simulator.model.cost_table import CostTable, EntrySpec, load_table
from simulator.model.mapping import dataflow_code
from simulator.model.timing import SCHEDULE_CODES

__all__ = ["AREA_COMPONENTS", "AREA_SPECS", "area_breakdown", "load_area_table"]

AREA_SPECS: dict[tuple[str, str], EntrySpec] = {
    ("pe", "multiply"): EntrySpec("operand_bit_product", "{E}", "one integer multiplier"),
    ("pe", "add"): EntrySpec("accumulator_bits", "{E}", "one accumulator adder"),
    ("register", "bit"): EntrySpec(None, "{E}/bit", "one flip-flop"),
    ("sram", "bitcell"): EntrySpec(None, "{E}/bit", "one SRAM bitcell"),
    ("sram", "array_efficiency"): EntrySpec(
        None, "1", "bitcell share of an SRAM macro", positive=True
    ),
}
AREA_COMPONENTS = (
    "pe_multipliers",
    "pe_adders",
    "pe_registers",
    "input_sram",
    "weight_sram",
    "output_sram",
)
_UM2_PER_MM2 = 1e6


@functools.lru_cache(maxsize=1)
def load_area_table() -> CostTable:
    """The built-in 45 nm area table (entries in square micrometres)."""
    return load_table(Path(__file__).resolve().parents[1] / "data" / "area_45nm.yaml", AREA_SPECS)


def area_breakdown(
    a_bits,
    w_bits,
    acc_bits,
    rows,
    cols,
    dataflow,
    schedule,
    sram_bytes: Mapping[str, np.ndarray],
    table: CostTable | None = None,
) -> dict[str, np.ndarray]:
    """Area of each component in mm^2 (formulas in the module docstring).

    Parameters
    ----------
    a_bits, w_bits, acc_bits, rows, cols, dataflow, schedule : array_like of int
        Config fields (dataflow and schedule as codes), broadcasting together.
    sram_bytes : mapping of str to array_like
        Capacity of the ``input``, ``weight`` and ``output`` buffers in bytes.
    table : CostTable, optional
        Defaults to :func:`load_area_table`.
    """
    table = table or load_area_table()
    pes = np.asarray(rows) * np.asarray(cols)
    dataflow = np.asarray(dataflow)
    preloads = dataflow != dataflow_code(Dataflow.OS)
    overlapped = np.asarray(schedule) == SCHEDULE_CODES[FoldSchedule.OVERLAPPED]
    stationary = np.where(dataflow == dataflow_code(Dataflow.WS), w_bits, a_bits)
    register_bits = a_bits + w_bits + acc_bits + np.where(preloads & overlapped, stationary, 0)
    sram_um2_per_byte = (
        8 * table[("sram", "bitcell")].at() / table[("sram", "array_efficiency")].at()
    )
    um2 = {
        "pe_multipliers": pes * table[("pe", "multiply")].at(np.multiply(a_bits, w_bits)),
        "pe_adders": pes * table[("pe", "add")].at(acc_bits),
        "pe_registers": pes * register_bits * table[("register", "bit")].at(),
        **{
            f"{b}_sram": np.asarray(sram_bytes[b]) * sram_um2_per_byte
            for b in ("input", "weight", "output")
        },
    }
    return {
        name: np.asarray(um2[name], dtype=np.float64) / _UM2_PER_MM2 for name in AREA_COMPONENTS
    }
