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
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simulator.config import FoldSchedule
from simulator.model.cost_table import CostTable, EntrySpec, load_table
from simulator.model.mapping import SCHEDULE_CODES, mapping_table

if TYPE_CHECKING:
    from simulator.model.columns import ConfigColumns

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
_TABLE = mapping_table()


@functools.lru_cache(maxsize=1)
def load_area_table() -> CostTable:
    """The built-in 45 nm area table (entries in square micrometres)."""
    return load_table(Path(__file__).resolve().parents[1] / "data" / "area_45nm.yaml", AREA_SPECS)


def area_breakdown(hw: ConfigColumns, table: CostTable | None = None) -> dict[str, np.ndarray]:
    """Area of each component in mm^2 of the configs ``hw`` (formulas in the module
    docstring); ``table`` defaults to :func:`load_area_table`."""
    table = table or load_area_table()
    a_bits, w_bits, acc_bits = hw.a_bits, hw.w_bits, hw.acc_bits
    dataflow = np.asarray(hw.dataflow)
    preloads = _TABLE["preload_rows"][dataflow] == 1
    overlapped = np.asarray(hw.schedule) == SCHEDULE_CODES[FoldSchedule.OVERLAPPED]
    stationary = np.choose(_TABLE["stationary"][dataflow], (a_bits, w_bits, acc_bits))
    register_bits = a_bits + w_bits + acc_bits + np.where(preloads & overlapped, stationary, 0)
    sram_um2_per_byte = (
        8 * table[("sram", "bitcell")].at() / table[("sram", "array_efficiency")].at()
    )
    um2 = {
        "pe_multipliers": hw.pes * table[("pe", "multiply")].at(np.multiply(a_bits, w_bits)),
        "pe_adders": hw.pes * table[("pe", "add")].at(acc_bits),
        "pe_registers": hw.pes * register_bits * table[("register", "bit")].at(),
        **{
            f"{operand.value}_sram": np.asarray(size) * sram_um2_per_byte
            for operand, size in hw.sram_bytes.items()
        },
    }
    return {
        name: np.asarray(um2[name], dtype=np.float64) / _UM2_PER_MM2 for name in AREA_COMPONENTS
    }
