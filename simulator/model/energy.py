"""Energy = action counts x an energy table (Accelergy's split).

The model counts actions on component instances; an :class:`EnergyTable` prices them
from cited figures (``simulator/data/energy_<name>.yaml``); energy is the sum over
actions of count x price. Counts, prices and energies are numpy arrays that broadcast
over configs and layers.

========================== ===== ===========================================================
action                     count price (table entries, see below)
========================== ===== ===========================================================
``pe.mac``                 MAC   ``pe.multiply(a_bits * b_bits) + pe.add(accumulator_bits)``
``pe.mac_gated``           MAC   ``pe.gated_mac`` (zero-gated MACs of sparse PE kinds)
``register.read/write``    bit   ``register.read`` / ``register.write``
``array.hop``              bit   ``array.hop``: an operand moving into a neighbour PE
``<buffer>_sram.read``     bit   ``sram.read(bank bytes) / 64 * (port_bits / 64)^(p - 1)``
``<buffer>_sram.write``    bit   the same with ``sram.write``
``weight_sram.metadata_read`` bit  as ``weight_sram.read`` (sparse formats' indices)
``dram.read/write``        bit   ``dram.read`` / ``dram.write``
``dram_interface.read/..`` bit   ``dram_interface.read`` / ``.write``: the controller's PHY
``leakage.cycle``          cycle the technology's leakage density / clock x logic area
                                 (``chip.leakage`` x chip area when an override sets it)
========================== ===== ===========================================================

``<buffer>`` is ``input``, ``weight`` or ``output``; ``p`` is ``sram.port_exponent``; a
double-buffered SRAM is two banks of half its capacity, and an access touches one.
Width scaling: ``pe.multiply`` is interpolated over the product of the operand widths
and ``pe.add`` over the accumulator width (log-log through the table's points; in the
default table through Horowitz's 8- and 32-bit figures, exponents 0.988 and 0.868, so a
multiplier costs about the product of its widths and an adder about its width).
Storage and movement are priced per bit. In the default table PE registers and systolic
hops are flip-flops: a write costs a NanGate FreePDK45 DFF_X1 write per bit (clock pin,
data pin, output transition and its net), a read nothing (the flip-flop's output drives
the multiplier directly); register-file prices are kept for real register files (the
decoder tables). A table with a ``technology_nm`` (horowitz45: 45) has its logic and SRAM
prices scaled to the config's node (:mod:`simulator.model.technology`); DRAM, the DRAM
interface and normalized tables (eyeriss, MAC16) are not scaled.

Counts per layer (``macs`` useful MACs; ``st`` the stationary operand's bits: weights in
ws, inputs in is, the ``accumulator_bits`` accumulator in os):

- register reads ``macs * st`` (the stationary operand, or the accumulator, each MAC);
  register writes: os ``macs * acc`` (accumulate in place), ws/is one latch write per
  preloaded element (``G k n`` weights, ``G m k`` inputs) at its width, per stream tile
  (``nt`` preloads of each element with ``stream_tiling: fit``, :mod:`simulator.model.timing`);
  os drains its sums once per k tile (``nt`` drains with ``stream_tiling: fit``);
- hops: each MAC receives its two moving operands from a neighbour (os: ``a + b`` bits,
  ws: ``a + acc``, is: ``b + acc``), plus the preload (ws, is: an element for row ``r``
  passes ``r`` PEs, ``nt`` times) or the drain (os: an output in column ``c`` passes the
  columns after it);
- SRAM and DRAM bits from :mod:`simulator.model.memory`; leakage cycles = total cycles.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from simulator.config import PEKind, builtin_energy_tables
from simulator.model.cost_table import (
    CostTable,
    EntrySpec,
    TableEntry,
    TableError,
    load_table,
    override_table,
)
from simulator.model.mapping import PE_KIND_CODES, Operand, mapping_table
from simulator.model.memory import MemoryTraffic
from simulator.model.sparsity import EXEC_MODES
from simulator.model.timing import DenseTiming

if TYPE_CHECKING:
    from simulator.model.columns import ConfigColumns, LayerColumns, Widths
    from simulator.model.sparsity import WeightExecution

__all__ = [
    "ACTIONS",
    "ACTION_KEYS",
    "ENERGY_SPECS",
    "Action",
    "ActionCounts",
    "EnergyTable",
    "PricingInputs",
    "TableError",
    "component_of",
    "count_actions",
    "energy_by_action",
    "energy_by_component",
    "load_energy_table",
]

DATA_DIR = Path(__file__).resolve().parents[1] / "data"

ENERGY_SPECS: dict[tuple[str, str], EntrySpec] = {
    ("pe", "multiply"): EntrySpec("operand_bit_product", "{E}", "one integer multiply"),
    ("pe", "add"): EntrySpec("accumulator_bits", "{E}", "one accumulator add"),
    ("pe", "gated_mac"): EntrySpec(None, "{E}", "one MAC skipped by zero gating"),
    ("pe", "select"): EntrySpec(None, "{E}/bit", "one 2:1 multiplexer stage, per bit"),
    ("decoder", "lookup"): EntrySpec(None, "{E}/bit", "codebook table read, per bit"),
    ("decoder", "load"): EntrySpec(None, "{E}/bit", "codebook table write, per bit"),
    ("decoder", "huffman"): EntrySpec(None, "{E}/symbol", "one Huffman-decoded symbol"),
    ("register", "read"): EntrySpec(None, "{E}/bit", "PE register read, per bit"),
    ("register", "write"): EntrySpec(None, "{E}/bit", "PE register write, per bit"),
    ("array", "hop"): EntrySpec(None, "{E}/bit", "operand moved to a neighbour PE, per bit"),
    ("sram", "read"): EntrySpec("capacity_bytes", "{E}/64-bit access", "64-bit SRAM read"),
    ("sram", "write"): EntrySpec("capacity_bytes", "{E}/64-bit access", "64-bit SRAM write"),
    ("sram", "port_exponent"): EntrySpec(None, "1", "access energy ~ port width ** exponent"),
    ("dram", "read"): EntrySpec(None, "{E}/bit", "DRAM read, per bit"),
    ("dram", "write"): EntrySpec(None, "{E}/bit", "DRAM write, per bit"),
    ("dram_interface", "read"): EntrySpec(None, "{E}/bit", "DRAM PHY receiving, per bit"),
    ("dram_interface", "write"): EntrySpec(None, "{E}/bit", "DRAM PHY transmitting, per bit"),
    ("chip", "leakage"): EntrySpec(None, "{E}/cycle/mm^2", "static energy per cycle and mm^2"),
}


class Action(NamedTuple):
    """An action on a component instance, and the unit it is counted in."""

    component: str
    action: str
    unit: str

    @property
    def key(self) -> str:
        return f"{self.component}.{self.action}"


BUFFERS = tuple(operand.value for operand in Operand)
_TABLE = mapping_table()
ACTIONS: tuple[Action, ...] = (
    Action("pe", "mac", "MAC"),
    Action("pe", "mac_gated", "MAC"),
    Action("pe", "select", "bit"),
    Action("register", "read", "bit"),
    Action("register", "write", "bit"),
    Action("array", "hop", "bit"),
    *(Action(f"{b}_sram", a, "bit") for b in BUFFERS for a in ("read", "write")),
    Action("weight_sram", "metadata_read", "bit"),
    Action("decoder", "lookup", "bit"),
    Action("decoder", "load", "bit"),
    Action("decoder", "huffman", "symbol"),
    Action("dram", "read", "bit"),
    Action("dram", "write", "bit"),
    Action("dram_interface", "read", "bit"),
    Action("dram_interface", "write", "bit"),
    Action("leakage", "cycle", "cycle"),
)
ACTION_KEYS: tuple[str, ...] = tuple(a.key for a in ACTIONS)
COMPONENTS: tuple[str, ...] = tuple(dict.fromkeys(a.component for a in ACTIONS))


def component_of(action_key: str) -> str:
    return action_key.split(".", 1)[0]


@dataclass(frozen=True)
class ActionCounts:
    """How many times each action happens: ``{"pe.mac": array, ...}``.

    Every key must be a known action (:data:`ACTIONS`); missing actions count zero.
    """

    counts: Mapping[str, np.ndarray]

    def __post_init__(self) -> None:
        unknown = [key for key in self.counts if key not in ACTION_KEYS]
        if unknown:
            raise ValueError(
                f"unknown action {unknown[0]!r}; known actions: {', '.join(ACTION_KEYS)}"
            )
        for key, value in self.counts.items():
            if np.any(np.asarray(value) < 0):
                raise ValueError(f"action {key!r} has a negative count")
        object.__setattr__(self, "counts", MappingProxyType(dict(self.counts)))

    @property
    def shape(self) -> tuple[int, ...]:
        return np.broadcast_shapes(*(np.shape(v) for v in self.counts.values()))

    def __getitem__(self, key: str) -> np.ndarray:
        """The count of ``key``, zeros (in the common shape) for actions not counted."""
        if key not in ACTION_KEYS:
            raise KeyError(f"unknown action {key!r}; known actions: {', '.join(ACTION_KEYS)}")
        return self.counts[key] if key in self.counts else np.zeros(self.shape, dtype=np.int64)


class PricingInputs(NamedTuple):
    """The hardware figures prices depend on (arrays broadcasting over configs/layers)."""

    operand_bit_product: Any
    accumulator_bits: Any
    sram_bank_bytes: Mapping[Operand, Any]
    """Per operand's buffer: capacity of the bank one access touches."""
    sram_port_bits: Mapping[Operand, Any]
    """Per operand's buffer: width of the array-side (write) port."""
    area_mm2: Any
    energy_scale: Any = 1.0
    """Technology factor for logic and SRAM prices (:meth:`EnergyTable.prices`)."""
    leakage_pj_per_cycle_mm2: Any = 0.0
    """The technology's leakage per cycle and mm^2 of logic, used unless the table's own
    ``chip.leakage`` was overridden (pJ tables only)."""
    logic_area_mm2: Any = 0.0
    """The standard-cell logic the technology's leakage applies to."""


@dataclass(frozen=True)
class EnergyTable:
    """A validated energy table; :meth:`prices` turns it into a price per action."""

    table: CostTable

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def unit(self) -> str:
        return self.table.unit

    def entry(self, component: str, name: str) -> TableEntry:
        return self.table[(component, name)]

    @property
    def technology_nm(self) -> float | None:
        """The node of the table's figures (None: normalized, never scaled)."""
        return self.table.technology_nm

    def leakage_entry_used(self) -> bool:
        """Whether ``chip.leakage`` prices leakage (overridden, or a table the technology
        default does not apply to), rather than the technology default."""
        return ("chip", "leakage") in self.table.overridden or self.technology_nm is None

    def prices(self, hw: PricingInputs) -> dict[str, np.ndarray]:
        """Energy per counted unit of every action (formulas in the module docstring).

        Logic and SRAM prices (MACs, selects, decoders, registers, hops, SRAM accesses)
        are multiplied by ``hw.energy_scale`` when the table has a ``technology_nm``;
        DRAM and its interface are not. Leakage per cycle is ``chip.leakage`` times the
        chip's area when :meth:`leakage_entry_used`, else the technology's
        ``hw.leakage_pj_per_cycle_mm2`` times the logic area (SRAM macros are not counted).
        """
        e = self.entry
        scale = np.asarray(hw.energy_scale if self.technology_nm is not None else 1.0)
        if self.leakage_entry_used():
            leakage = e("chip", "leakage").at() * np.asarray(hw.area_mm2)
        else:
            leakage = np.asarray(hw.leakage_pj_per_cycle_mm2) * np.asarray(hw.logic_area_mm2)
        out = {
            "pe.mac": e("pe", "multiply").at(hw.operand_bit_product)
            + e("pe", "add").at(hw.accumulator_bits),
            "pe.mac_gated": e("pe", "gated_mac").at(),
            "pe.select": e("pe", "select").at(),
            "decoder.lookup": e("decoder", "lookup").at(),
            "decoder.load": e("decoder", "load").at(),
            "decoder.huffman": e("decoder", "huffman").at(),
            "register.read": e("register", "read").at(),
            "register.write": e("register", "write").at(),
            "array.hop": e("array", "hop").at(),
        }
        out = {key: value * scale for key, value in out.items()}
        exponent = e("sram", "port_exponent").at()
        for operand in Operand:
            width = np.asarray(hw.sram_port_bits[operand], dtype=np.float64)
            per_bit = (width / 64.0) ** (exponent - 1.0) / 64.0
            for action in ("read", "write"):
                per_access = e("sram", action).at(hw.sram_bank_bytes[operand])
                out[f"{operand.value}_sram.{action}"] = per_access * per_bit * scale
        out["weight_sram.metadata_read"] = out["weight_sram.read"]
        out |= {
            "dram.read": e("dram", "read").at(),
            "dram.write": e("dram", "write").at(),
            "dram_interface.read": e("dram_interface", "read").at(),
            "dram_interface.write": e("dram_interface", "write").at(),
            "leakage.cycle": leakage,
        }
        return {key: out[key] for key in ACTION_KEYS}


@functools.lru_cache(maxsize=64)
def _load(name: str, overrides: str, stamp: int) -> EnergyTable:
    del stamp  # part of the cache key only: an edited override file is read again
    names = builtin_energy_tables()
    if name not in names:
        raise TableError(f"no built-in energy table {name!r}; built-in: {', '.join(names)}")
    table = load_table(DATA_DIR / f"energy_{name}.yaml", ENERGY_SPECS)
    if overrides:
        table = override_table(table, overrides, ENERGY_SPECS, "energy override file")
    return EnergyTable(table)


def load_energy_table(name: str = "horowitz45", overrides: str | Path = "") -> EnergyTable:
    """A built-in table, with the entries in the YAML file ``overrides`` replaced."""
    overrides = str(overrides)
    stamp = Path(overrides).stat().st_mtime_ns if overrides and Path(overrides).exists() else 0
    return _load(name, overrides, stamp)


def _f64(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64)


def _triangle(extent: np.ndarray, side: np.ndarray) -> np.ndarray:
    """Sum over folds of ``1 + 2 + ... + used``: ``extent`` spread over ``side``-wide folds."""
    full, rest = extent // side, extent % side
    return full * side * (side + 1) // 2 + rest * (rest + 1) // 2


def count_actions(
    hw: ConfigColumns,
    ly: LayerColumns,
    timing: DenseTiming,
    traffic: MemoryTraffic,
    widths: Widths,
    total_cycles: np.ndarray,
    execution: WeightExecution | None = None,
) -> ActionCounts:
    """Action counts of the layers (rules in the module docstring); arrays broadcast.

    What stays in the PEs, whether it is preloaded and how often (the timing's stream
    tiles ``nt``) come from the mapping table and the timing; what compressed weights
    change (MACs issued and gated, operand selects, lanes, metadata, decoders) from
    ``execution`` (:func:`simulator.model.sparsity.weight_execution`).
    """
    dataflow = np.asarray(hw.dataflow, dtype=np.int64)
    groups = ly.groups
    a_bits, b_bits, acc_bits = widths.a, widths.b_pe, widths.acc
    stationary = _TABLE["stationary"][dataflow]
    stationary_bits = np.choose(stationary, (a_bits, b_bits, acc_bits))
    moving_bits = a_bits + b_bits + acc_bits - stationary_bits
    # Activations hop between PEs in os and ws (they stay in the PEs in is).
    activation_moves = stationary != 0
    preloads = _TABLE["preload_rows"][dataflow] == 1
    issued, lanes, slot_share = ly.macs, ly.macs, 1.0
    mac = _mac_split(hw, ly, execution)
    if execution is not None:
        issued = np.where(execution.weighted, execution.issued_macs, ly.macs)
        lanes = np.where(execution.weighted, execution.lane_hops, ly.macs)
        # Weight slots the PEs hold, relative to a dense layer's k n G (ws preloads them).
        slot_share = issued / ly.macs
    weights_held = np.where(stationary == 1, slot_share, 1.0)
    stationary_elements = np.choose(stationary, (ly.m * ly.k, ly.k * ly.n, ly.m * ly.n))
    nt = timing.stream_tiles
    preloaded = stationary_elements * weights_held * stationary_bits * nt
    # Bits times hops over the array edge: float, as an int64 product of a large layer's
    # extents, the array side, a width and the stream tiles would not fit.
    edge_hops = np.where(
        preloads,
        _f64(timing.sc * _triangle(timing.sr, hw.rows)) * stationary_bits * nt * weights_held,
        _f64(timing.sr * _triangle(timing.sc, hw.cols)) * acc_bits * nt,
    )
    act_hops = np.where(activation_moves, a_bits * lanes, 0)
    counts = {
        "pe.mac": mac.full,
        "pe.mac_gated": mac.gated,
        "pe.select": mac.selects,
        "register.read": issued * stationary_bits,
        "register.write": np.where(preloads, groups * preloaded, issued * acc_bits),
        "array.hop": issued * (moving_bits - np.where(activation_moves, a_bits, 0))
        + act_hops
        + groups * edge_hops,
        "dram.read": sum(t.dram_read_bits for t in traffic.operands.values()),
        "dram.write": sum(t.dram_write_bits for t in traffic.operands.values()),
        "leakage.cycle": total_cycles,
    }
    for operand, t in traffic.operands.items():
        counts[f"{operand.value}_sram.read"] = t.sram_read_bits
        counts[f"{operand.value}_sram.write"] = t.sram_write_bits
    counts["dram_interface.read"] = counts["dram.read"]
    counts["dram_interface.write"] = counts["dram.write"]
    if execution is not None:
        counts.update(_decoder_counts(ly, traffic, execution))
    shape = np.broadcast_shapes(*(np.shape(v) for v in counts.values()))
    return ActionCounts({key: np.broadcast_to(v, shape) for key, v in counts.items()})


class _Macs(NamedTuple):
    full: np.ndarray
    gated: np.ndarray
    selects: np.ndarray
    """Multiplexer bit-stages switched: ``a_bits * ceil(log2 M)`` per nm MAC."""


def _mac_split(hw: ConfigColumns, ly: LayerColumns, execution: WeightExecution | None) -> _Macs:
    """MACs that switch the multiplier, MACs that zero gating skips, and selects.

    A MAC is gated when its weight is zero (pruned, a padding slot, or quantized to zero)
    on a PE that gates (``zero_gating``, or ``pe_kind: skip`` where it cannot skip), or
    when its activation is zero and ``zero_gating`` is on (a share ``1 -
    activation_density`` of the nonzero-weight MACs).
    """
    gating = np.asarray(hw.zero_gating, dtype=bool)
    density = ly.activation_density
    if execution is None:
        gated = np.where(gating, ly.macs * (1 - density), 0.0)
        return _Macs(ly.macs - gated, gated, np.zeros(np.shape(gated)))
    weighted = execution.weighted
    issued = np.where(weighted, execution.issued_macs, ly.macs)
    nonzero = np.where(weighted, execution.nonzero_macs, ly.macs)
    skip_gates = (hw.pe_kind == PE_KIND_CODES[PEKind.SKIP]) & (execution.mode == 0)
    gate_weights = gating | skip_gates
    gated = np.where(gate_weights, issued - nonzero, 0.0) + np.where(
        gating, nonzero * (1 - density), 0.0
    )
    nm = execution.mode == EXEC_MODES.index("nm")
    stages = np.maximum(hw.nm_group - 1, 0)
    selects = np.where(nm, issued * hw.a_bits * _bit_length(stages), 0.0)
    return _Macs(issued - gated, gated, selects)


def _bit_length(values: np.ndarray) -> np.ndarray:
    """``ceil(log2(values + 1))`` for integers >= 0 (the bits of a position in ``M``)."""
    return np.ceil(np.log2(np.asarray(values, dtype=np.float64) + 1)).astype(np.int64)


def _decoder_counts(ly: LayerColumns, traffic: MemoryTraffic, ex: WeightExecution) -> dict:
    """Metadata reads, codebook lookups and loads, Huffman symbols."""
    onchip = np.maximum(ex.onchip_bits, 1e-300)
    weight_reads = traffic.weight.sram_read_bits
    meta = weight_reads * ex.metadata_bits / onchip
    # Every read of the weights from the SRAM passes the decoder once; every fill from
    # DRAM passes the Huffman decoder once.
    reads_of_weights = traffic.weight.array_reads / (ly.k * ly.n * ly.groups)
    fills = traffic.weight.dram_read_bits / np.maximum(ex.dram_bits, 1e-300)
    return {
        "weight_sram.read": weight_reads - meta,
        "weight_sram.metadata_read": meta,
        "decoder.lookup": reads_of_weights * ex.lookups * ex.lookup_bits,
        "decoder.load": ex.table_bits,
        "decoder.huffman": ex.symbols * fills,
    }


def energy_by_action(counts: ActionCounts, prices: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """``count x price`` for every action, in the table's unit (all in the counts' shape)."""
    shape = np.broadcast_shapes(counts.shape, *(np.shape(p) for p in prices.values()))
    return {key: np.broadcast_to(counts[key] * prices[key], shape) for key in ACTION_KEYS}


def energy_by_component(by_action: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-action energies summed by component (``pe``, ``input_sram``, ``dram``, ...)."""
    out: dict[str, Any] = {}
    for key, value in by_action.items():
        component = component_of(key)
        out[component] = out[component] + value if component in out else value
    return out
