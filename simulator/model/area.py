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
``pe_select``             sparse PE kinds: ``nm`` adds an M:1 operand multiplexer, a
                          position register and activation lanes per PE; ``skip`` a
                          16-wide activation window (see :func:`_select_um2`)
``weight_decoder``        ``cols`` codebook tables in flip-flops with their read
                          multiplexers, read-port register and control
                          (``weight_decoder: codebook``, see :func:`_decoder_um2`)
``<buffer>_sram``         ``bytes * 8 * sram.bitcell / sram.array_efficiency``
``logic_overhead``        wiring, clock tree and placement around the standard cells:
                          ``logic * (1 / placement_utilization - 1)``, logic being the PE
                          components and the decoders (utilization 0.6, technology.yaml)
``dram_interface``        ``GB/s * mm^2 per GB/s`` (DRAM bandwidth at the clock; none for a
                          stall-free bandwidth)
========================= =================================================================

All in mm^2 at the config's ``technology_nm``: every component but the DRAM interface
is the 45 nm figure times the node's area factor (:mod:`simulator.model.technology`); the
interface (I/O and analog) is not scaled. The chip estimate is their sum (no control
logic beyond the array's). Vectorized like the rest of the model: arguments broadcast
over configs.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simulator.config import FoldSchedule, PEKind, WeightDecoder
from simulator.model.cost_table import CostTable, EntrySpec, load_table
from simulator.model.mapping import (
    PE_KIND_CODES,
    SCHEDULE_CODES,
    WEIGHT_DECODER_CODES,
    mapping_table,
)
from simulator.model.technology import load_technology

if TYPE_CHECKING:
    from simulator.model.columns import ConfigColumns

__all__ = ["AREA_COMPONENTS", "AREA_SPECS", "area_breakdown", "load_area_table"]

AREA_SPECS: dict[tuple[str, str], EntrySpec] = {
    ("pe", "multiply"): EntrySpec("operand_bit_product", "{E}", "one integer multiplier"),
    ("pe", "add"): EntrySpec("accumulator_bits", "{E}", "one accumulator adder"),
    ("register", "bit"): EntrySpec(None, "{E}/bit", "one flip-flop"),
    ("mux", "mux2"): EntrySpec(None, "{E}/bit", "one 2:1 multiplexer bit"),
    ("sram", "bitcell"): EntrySpec(None, "{E}/bit", "one SRAM bitcell"),
    ("sram", "array_efficiency"): EntrySpec(
        None, "1", "bitcell share of an SRAM macro", positive=True
    ),
}
AREA_COMPONENTS = (
    "pe_multipliers",
    "pe_adders",
    "pe_registers",
    "pe_select",
    "weight_decoder",
    "input_sram",
    "weight_sram",
    "output_sram",
    "logic_overhead",
    "dram_interface",
)
LOGIC_COMPONENTS = ("pe_multipliers", "pe_adders", "pe_registers", "pe_select", "weight_decoder")
STALL_FREE_BYTES_PER_CYCLE = 1e12
"""Bandwidths at or above this stand for "never stalls" (SCALE-Sim's CALC mode, 1e15
B/cycle in :mod:`simulator.workloads.scalesim`): no physical interface, no area."""
_UM2_PER_MM2 = 1e6
_TABLE = mapping_table()


@functools.lru_cache(maxsize=1)
def load_area_table() -> CostTable:
    """The built-in 45 nm area table (entries in square micrometres)."""
    return load_table(Path(__file__).resolve().parents[1] / "data" / "area_45nm.yaml", AREA_SPECS)


def _select_um2(hw: ConfigColumns, flop: float, mux2: float) -> np.ndarray:
    """Per PE, what a sparse PE kind adds.

    ``nm``: an M:1 multiplexer of ``activation_bits`` ((M - 1) 2:1 cells per bit), the
    kept weight's position register (``ceil(log2 M)`` flip-flops) and the activation
    lanes: a row group of ``n`` rows pipelines ``M`` lanes, ``M / n_min`` per PE instead
    of one (the lanes' energy counts the same ``M / n_c`` hops per slot; the RTL's
    simpler array registers all ``M`` lanes in every PE, :mod:`rtl.area`). ``skip`` (os,
    per-column weight streams): each PE picks its activation from a window of 16 (a
    4-bit relative index, as EIE's) with a 16:1 multiplexer, a 4-bit index register and
    the window's 15 extra activation registers per row, shared by the row's PEs
    (counted per PE as ``15 / cols``).
    """
    a_bits, m = hw.a_bits, hw.nm_group
    n_min = np.array([min(key[3]) if key[3] else 1 for key in hw.execution_keys])[:, None]
    position = np.ceil(np.log2(np.maximum(m, 1))) * flop
    lanes = (m / n_min - 1) * a_bits * flop
    nm = (m - 1) * a_bits * mux2 + position + lanes
    skip = 15 * a_bits * mux2 + 4 * flop + 15 * a_bits * flop / hw.cols
    kind = np.asarray(hw.pe_kind)
    return np.where(
        kind == PE_KIND_CODES[PEKind.NM], nm, np.where(kind == PE_KIND_CODES[PEKind.SKIP], skip, 0)
    )


def _decoder_um2(hw: ConfigColumns, flop: float, mux2: float) -> np.ndarray:
    """Per column, a codebook decoder: its table in flip-flops (``entries x
    vector_length x entry_bits``), the ``entries:1`` read multiplexer over one entry, the
    read-port register of one entry (a synchronous read) and the control that walks an
    entry out one weight per cycle: a busy bit, one mask bit per element, a pad counter
    of ``0..rows`` and, on N:M arrays whose vectors do not hold whole groups of M, the
    position offset (``ceil(log2 M)`` bits)."""
    v = hw.decoder_vector_length
    entry = v * hw.decoder_entry_bits
    position_bits = np.ceil(np.log2(np.maximum(hw.nm_group, 1)))
    offset = np.where(
        (np.asarray(hw.pe_kind) == PE_KIND_CODES[PEKind.NM])
        & (v % np.maximum(hw.nm_group, 1) != 0),
        position_bits,
        0,
    )
    pad_counter = np.floor(np.log2(hw.rows)) + 1  # bits of 0..rows
    control = 1 + v + pad_counter + offset
    table = hw.decoder_entries * entry * flop + (hw.decoder_entries - 1) * entry * mux2
    decoder = table + (entry + control) * flop
    return np.where(hw.weight_decoder == WEIGHT_DECODER_CODES[WeightDecoder.CODEBOOK], decoder, 0)


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
    flop, mux2 = table[("register", "bit")].at(), table[("mux", "mux2")].at()
    um2 = {
        "pe_multipliers": hw.pes * table[("pe", "multiply")].at(np.multiply(a_bits, w_bits)),
        "pe_adders": hw.pes * table[("pe", "add")].at(acc_bits),
        "pe_registers": hw.pes * register_bits * flop,
        "pe_select": hw.pes * _select_um2(hw, flop, mux2),
        "weight_decoder": hw.cols * _decoder_um2(hw, flop, mux2),
        **{
            f"{operand.value}_sram": np.asarray(size) * sram_um2_per_byte
            for operand, size in hw.sram_bytes.items()
        },
    }
    technology = load_technology()
    node = np.asarray(hw.technology_nm, dtype=np.float64)
    scale = technology.area_factor(node) / technology.area_factor(table.technology_nm or 45)
    logic = sum(um2[name] for name in LOGIC_COMPONENTS)
    um2["logic_overhead"] = logic * (1 / technology.placement_utilization.value - 1)
    mm2 = {name: np.asarray(um2[name], dtype=np.float64) * scale / _UM2_PER_MM2 for name in um2}
    bandwidth = np.asarray(hw.dram_bytes_per_cycle, dtype=np.float64)
    gb_per_s = bandwidth * hw.clock_hz / 1e9
    mm2["dram_interface"] = np.where(
        bandwidth >= STALL_FREE_BYTES_PER_CYCLE, 0.0, gb_per_s * technology.dram_area.value
    )
    shape = np.broadcast_shapes(*(np.shape(v) for v in mm2.values()))
    return {name: np.broadcast_to(mm2[name], shape).astype(np.float64) for name in AREA_COMPONENTS}
