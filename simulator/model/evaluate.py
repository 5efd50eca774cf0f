"""The whole model on many configs at once: timing, traffic, stalls, energy, area, roofline.

:func:`evaluate` is the one place the models are chained; :func:`simulate` (one config,
rich per-layer results) and :func:`simulator.results.batch.evaluate_configs` (thousands of
configs, per-config arrays) both call it, so the two agree by construction. Every
array has configs along axis 0 and layers along axis 1 (``(C, L)``), or ``(C, 1)`` for
per-config figures; nothing loops over configs or layers (only over the distinct energy
tables and the three operands).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from simulator.config import AcceleratorConfig
from simulator.model.area import LOGIC_COMPONENTS, area_breakdown
from simulator.model.columns import ConfigColumns, LayerColumns, Widths, operand_widths
from simulator.model.energy import ActionCounts, PricingInputs, count_actions, energy_by_action
from simulator.model.mapping import Operand
from simulator.model.memory import MemoryTraffic, memory_traffic, sram_port_bits, stall_cycles
from simulator.model.residency import Residency, activation_graph, residency
from simulator.model.roofline import Roofline, roofline
from simulator.model.sparsity import WeightExecution, weight_execution
from simulator.model.technology import load_technology
from simulator.model.timing import DenseTiming, dense_timing
from simulator.workloads.layer import Workload

__all__ = [
    "LIMITERS",
    "CycleSplitArrays",
    "Evaluation",
    "cycle_split",
    "evaluate",
    "sram_bandwidth_bits",
    "useful_macs",
]

LIMITERS: tuple[str, ...] = ("compute", "mapping loss", "fill/drain", "DRAM stall")
"""What limits a layer (:class:`CycleSplitArrays`): its ``limiter`` codes index this tuple."""


class CycleSplitArrays(NamedTuple):
    """Where a layer's cycles go, ``(C, L)`` float64 arrays that add up to the total.

    ``useful``: cycles the useful MACs would take on every PE, ``macs_useful / (R C)``;
    ``mapping_loss``: the rest of the streaming cycles (``streamed``, one vector per
    cycle), in which PEs idle because the layer does not fill the array (partial folds,
    dimensions below the array's, zero padding of N:M slots); ``fill_drain``: the
    compute cycles that stream no vector, ``compute - streamed`` (skew fill, drain and
    the stationary preloads); ``dram_stall``: the stall cycles. ``limiter``: the largest
    of the four (``int8`` codes into :data:`LIMITERS`; ``compute`` when the useful
    cycles dominate).
    """

    useful: np.ndarray
    mapping_loss: np.ndarray
    fill_drain: np.ndarray
    dram_stall: np.ndarray

    @property
    def limiter(self) -> np.ndarray:
        """The index of the largest part (the first on ties, as ``argmax``)."""
        best, code = self.useful, np.zeros(np.shape(self.useful), dtype=np.int8)
        for i, part in enumerate(self[1:], 1):
            code = np.where(part > best, np.int8(i), code)
            best = np.maximum(best, part)
        return code


def cycle_split(ev: Evaluation) -> CycleSplitArrays:
    """The :class:`CycleSplitArrays` of every layer on every config of ``ev``."""
    shape = ev.total_cycles.shape
    useful = np.broadcast_to(ev.useful_macs, shape) / ev.hw.pes
    streamed = np.broadcast_to(ev.timing.streamed, shape).astype(np.float64)
    compute = ev.timing.compute_cycles.astype(np.float64)
    return CycleSplitArrays(
        useful=useful,
        mapping_loss=streamed - useful,
        fill_drain=compute - streamed,
        dram_stall=np.broadcast_to(ev.stall_cycles, shape).astype(np.float64),
    )


@dataclass(frozen=True)
class Evaluation:
    """Every model output for ``C`` configs x ``L`` layers (see the module docstring)."""

    hw: ConfigColumns
    layers: LayerColumns
    execution: WeightExecution | None
    """How compressed weights run (None when every layer is dense)."""
    widths: Widths
    timing: DenseTiming
    traffic: MemoryTraffic
    residency: Residency | None
    """Activations kept on chip between layers (None when no config keeps them)."""
    stall_cycles: np.ndarray
    total_cycles: np.ndarray
    counts: ActionCounts
    prices: dict[str, np.ndarray]
    energy_by_action: dict[str, np.ndarray]
    area_mm2: dict[str, np.ndarray]
    """Per component, ``(C, 1)``."""
    sram_port_bits: dict[Operand, np.ndarray]
    array_sram_bits: np.ndarray
    """Bits the array moves to and from the SRAMs (the SRAM-roof traffic), ``(C, L)``."""
    roofline: Roofline

    @property
    def useful_macs(self) -> np.ndarray:
        """MACs of the kept weights, ``(C, L)``: the layer's MACs when dense."""
        return useful_macs(self.layers, self.execution)

    @property
    def energy_units(self) -> tuple[str, ...]:
        return self.hw.energy_units


def useful_macs(ly: LayerColumns, execution: WeightExecution | None) -> np.ndarray:
    """MACs of the weights a compression kept (the layer's MACs when dense)."""
    if execution is None:
        return ly.macs
    return np.where(execution.weighted, execution.kept_macs, ly.macs)


def sram_bandwidth_bits(ports: dict[Operand, np.ndarray]) -> np.ndarray:
    """Bits per cycle all array-side SRAM ports carry: the input and weight ports, and the
    output buffer's write and read ports (partial sums back, results out)."""
    return ports[Operand.INPUT] + ports[Operand.WEIGHT] + 2 * ports[Operand.OUTPUT]


def _prices(hw: ConfigColumns, widths: Widths, ports, area) -> dict[str, np.ndarray]:
    halves = np.where(hw.double_buffered, 2, 1)
    technology = load_technology()
    inputs = PricingInputs(
        operand_bit_product=widths.a * widths.b_mac,
        accumulator_bits=widths.acc,
        sram_bank_bytes={operand: size / halves for operand, size in hw.sram_bytes.items()},
        sram_port_bits=ports,
        area_mm2=sum(area.values()),
        leakage_pj_per_cycle_mm2=technology.leakage_pj_per_cycle_mm2(hw.clock_hz),
        logic_area_mm2=sum(area[name] for name in (*LOGIC_COMPONENTS, "logic_overhead")),
    )
    merged: dict[str, np.ndarray] = {}
    for i, table in enumerate(hw.tables):
        node = table.technology_nm or technology.reference_node_nm
        scale = technology.energy_factor(hw.technology_nm) / technology.energy_factor(node)
        prices = table.prices(inputs._replace(energy_scale=scale))
        if len(hw.tables) == 1:
            return prices
        use = hw.table_index == i
        for key, price in prices.items():
            merged[key] = np.where(use, price, merged[key]) if key in merged else price
    return merged


def _roofline(hw, ly: LayerColumns, traffic: MemoryTraffic, total, widths, ports, macs):
    """Roofline points (of the useful MACs) and the array-side SRAM bits they carry."""
    array_bits = (
        traffic.input.array_reads * widths.a
        + traffic.weight.array_reads * widths.b
        + (traffic.output.array_reads + traffic.output.array_writes) * widths.acc
    )
    roof = roofline(
        macs, total, traffic.dram_bits / 8, array_bits / 8, hw.pes, hw.clock_hz,
        hw.dram_bytes_per_cycle * hw.clock_hz, sram_bandwidth_bits(ports) / 8 * hw.clock_hz,
    )  # fmt: skip
    return roof, array_bits


def evaluate(workload: Workload, configs: Sequence[AcceleratorConfig]) -> Evaluation:
    """Run every model on ``workload`` for all ``configs`` (a list, or a
    :class:`~simulator.model.variants.ConfigVariants`) in one broadcast evaluation."""
    hw = ConfigColumns.of(configs)
    ly = LayerColumns.of(workload)
    execution = weight_execution(hw, ly)
    timing = dense_timing(hw, ly, execution)
    widths = operand_widths(hw, ly, execution)
    resident = None
    if np.any(hw.on_chip_activations):
        resident = residency(hw, activation_graph(workload, ly))
    traffic = memory_traffic(hw, ly, timing, widths, resident)
    stall = stall_cycles(hw, ly, timing, traffic)
    total = timing.compute_cycles + stall
    area = area_breakdown(hw)
    counts = count_actions(hw, ly, timing, traffic, widths, total, execution)
    ports = sram_port_bits(hw)
    prices = _prices(hw, widths, ports, area)
    macs = useful_macs(ly, execution)
    roof, array_bits = _roofline(hw, ly, traffic, total, widths, ports, macs)
    return Evaluation(
        hw=hw,
        layers=ly,
        execution=execution,
        widths=widths,
        timing=timing,
        traffic=traffic,
        residency=resident,
        stall_cycles=stall,
        total_cycles=total,
        counts=counts,
        prices=prices,
        energy_by_action=energy_by_action(counts, prices),
        area_mm2=area,
        sram_port_bits=ports,
        array_sram_bits=array_bits,
        roofline=roof,
    )
