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
``leakage.cycle``          cycle ``chip.leakage x chip area (mm^2)``
========================== ===== ===========================================================

``<buffer>`` is ``input``, ``weight`` or ``output``; ``p`` is ``sram.port_exponent``; a
double-buffered SRAM is two banks of half its capacity, and an access touches one.
Width scaling: ``pe.multiply`` is interpolated over the product of the operand widths
and ``pe.add`` over the accumulator width (log-log through the table's points; in the
default table through Horowitz's 8- and 32-bit figures, exponents 0.988 and 0.868, so a
multiplier costs about the product of its widths and an adder about its width).
Storage and movement are priced per bit.

Counts per layer (``macs`` useful MACs; ``st`` the stationary operand's bits: weights in
ws, inputs in is, the ``accumulator_bits`` accumulator in os):

- register reads ``macs * st`` (the stationary operand, or the accumulator, each MAC);
  register writes: os ``macs * acc`` (accumulate in place), ws/is one latch write per
  preloaded element (``G k n`` weights, ``G m k`` inputs) at its width, per stream tile
  (``nt`` preloads of each element with ``stream_tiling: fit``, :mod:`simulator.model.timing`);
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

from simulator.config import builtin_energy_tables
from simulator.model.cost_table import (
    CostTable,
    EntrySpec,
    TableEntry,
    TableError,
    load_table,
    override_table,
)
from simulator.model.mapping import Operand, mapping_table
from simulator.model.memory import MemoryTraffic
from simulator.model.timing import DenseTiming

if TYPE_CHECKING:
    from simulator.model.columns import ConfigColumns, LayerColumns, Widths

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
    ("register", "read"): EntrySpec(None, "{E}/bit", "PE register read, per bit"),
    ("register", "write"): EntrySpec(None, "{E}/bit", "PE register write, per bit"),
    ("array", "hop"): EntrySpec(None, "{E}/bit", "operand moved to a neighbour PE, per bit"),
    ("sram", "read"): EntrySpec("capacity_bytes", "{E}/64-bit access", "64-bit SRAM read"),
    ("sram", "write"): EntrySpec("capacity_bytes", "{E}/64-bit access", "64-bit SRAM write"),
    ("sram", "port_exponent"): EntrySpec(None, "1", "access energy ~ port width ** exponent"),
    ("dram", "read"): EntrySpec(None, "{E}/bit", "DRAM read, per bit"),
    ("dram", "write"): EntrySpec(None, "{E}/bit", "DRAM write, per bit"),
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
    Action("register", "read", "bit"),
    Action("register", "write", "bit"),
    Action("array", "hop", "bit"),
    *(Action(f"{b}_sram", a, "bit") for b in BUFFERS for a in ("read", "write")),
    Action("weight_sram", "metadata_read", "bit"),
    Action("dram", "read", "bit"),
    Action("dram", "write", "bit"),
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

    def prices(self, hw: PricingInputs) -> dict[str, np.ndarray]:
        """Energy per counted unit of every action (formulas in the module docstring)."""
        e = self.entry
        out = {
            "pe.mac": e("pe", "multiply").at(hw.operand_bit_product)
            + e("pe", "add").at(hw.accumulator_bits),
            "pe.mac_gated": e("pe", "gated_mac").at(),
            "register.read": e("register", "read").at(),
            "register.write": e("register", "write").at(),
            "array.hop": e("array", "hop").at(),
            "dram.read": e("dram", "read").at(),
            "dram.write": e("dram", "write").at(),
            "leakage.cycle": e("chip", "leakage").at() * np.asarray(hw.area_mm2),
        }
        exponent = e("sram", "port_exponent").at()
        for operand in Operand:
            width = np.asarray(hw.sram_port_bits[operand], dtype=np.float64)
            per_bit = (width / 64.0) ** (exponent - 1.0) / 64.0
            for action in ("read", "write"):
                per_access = e("sram", action).at(hw.sram_bank_bytes[operand])
                out[f"{operand.value}_sram.{action}"] = per_access * per_bit
        out["weight_sram.metadata_read"] = out["weight_sram.read"]
        return {key: out[key] for key in ACTION_KEYS}


@functools.lru_cache(maxsize=64)
def _load(name: str, overrides: str, stamp: int) -> EnergyTable:
    del stamp  # part of the cache key only: an edited override file is read again
    names = builtin_energy_tables()
    if name not in names:
        raise TableError(f"no built-in energy table {name!r}; built-in: {', '.join(names)}")
    table = load_table(DATA_DIR / f"energy_{name}.yaml", ENERGY_SPECS)
    if overrides:
        table = override_table(table, overrides, ENERGY_SPECS)
    return EnergyTable(table)


def load_energy_table(name: str = "horowitz45", overrides: str | Path = "") -> EnergyTable:
    """A built-in table, with the entries in the YAML file ``overrides`` replaced."""
    overrides = str(overrides)
    stamp = Path(overrides).stat().st_mtime_ns if overrides and Path(overrides).exists() else 0
    return _load(name, overrides, stamp)


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
) -> ActionCounts:
    """Action counts of dense layers (rules in the module docstring); arrays broadcast.

    What stays in the PEs, whether it is preloaded and how often (the timing's stream
    tiles ``nt``) come from the mapping table and the timing.
    """
    dataflow = np.asarray(hw.dataflow, dtype=np.int64)
    macs, groups = ly.macs, ly.groups
    a_bits, b_bits, acc_bits = widths.a, widths.b, widths.acc
    stationary_bits = np.choose(_TABLE["stationary"][dataflow], (a_bits, b_bits, acc_bits))
    moving_bits = a_bits + b_bits + acc_bits - stationary_bits
    preloads = _TABLE["preload_rows"][dataflow] == 1
    stationary_elements = np.choose(
        _TABLE["stationary"][dataflow], (ly.m * ly.k, ly.k * ly.n, ly.m * ly.n)
    )
    nt = timing.stream_tiles
    preloaded = stationary_elements * stationary_bits * nt
    edge_hops = np.where(
        preloads,
        timing.sc * _triangle(timing.sr, hw.rows) * stationary_bits * nt,
        timing.sr * _triangle(timing.sc, hw.cols) * acc_bits,
    )
    counts = {
        "pe.mac": macs,
        "register.read": macs * stationary_bits,
        "register.write": np.where(preloads, groups * preloaded, macs * acc_bits),
        "array.hop": macs * moving_bits + groups * edge_hops,
        "dram.read": sum(t.dram_read_bits for t in traffic.operands.values()),
        "dram.write": sum(t.dram_write_bits for t in traffic.operands.values()),
        "leakage.cycle": total_cycles,
    }
    for operand, t in traffic.operands.items():
        counts[f"{operand.value}_sram.read"] = t.sram_read_bits
        counts[f"{operand.value}_sram.write"] = t.sram_write_bits
    shape = np.broadcast_shapes(*(np.shape(v) for v in counts.values()))
    return ActionCounts({key: np.broadcast_to(v, shape) for key, v in counts.items()})


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
