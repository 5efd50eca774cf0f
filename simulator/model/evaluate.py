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
from simulator.model.area import area_breakdown
from simulator.model.energy import (
    ActionCounts,
    EnergyTable,
    PricingInputs,
    count_actions,
    energy_by_action,
    load_energy_table,
)
from simulator.model.mapping import (
    STREAM_TILING_CODES,
    Operand,
    dataflow_code,
    stream_tile_limit,
    usable_buffer_bits,
)
from simulator.model.memory import MemoryTraffic, memory_traffic, sram_port_bits, stall_cycles
from simulator.model.roofline import Roofline, roofline
from simulator.model.timing import SCHEDULE_CODES, DenseTiming, dense_timing
from simulator.workloads.layer import Conv2d, Layer, Workload

__all__ = [
    "ConfigColumns",
    "Evaluation",
    "LayerColumns",
    "config_arrays",
    "config_columns",
    "evaluate",
]


class ConfigColumns(NamedTuple):
    """Config fields as ``(C, 1)`` columns, plus the energy tables they use."""

    rows: np.ndarray
    cols: np.ndarray
    dataflow: np.ndarray
    schedule: np.ndarray
    stream_tile_limit: np.ndarray
    """The stream tile ``Ts`` (0: untiled), see :func:`simulator.model.mapping.stream_tile_limit`."""
    a_bits: np.ndarray
    w_bits: np.ndarray
    acc_bits: np.ndarray
    sram_bytes: dict[str, np.ndarray]
    """Per buffer (``input``, ``weight``, ``output``)."""
    double_buffered: np.ndarray
    dram_bytes_per_cycle: np.ndarray
    clock_hz: np.ndarray
    table_index: np.ndarray
    """Index into ``tables`` of each config's energy table."""
    tables: tuple[EnergyTable, ...]

    @property
    def pes(self) -> np.ndarray:
        return self.rows * self.cols


def config_arrays(configs: Sequence[AcceleratorConfig]) -> dict[str, np.ndarray]:
    """What timing needs of many configs as ``int64[configs, 1]`` columns: ``rows``,
    ``cols``, ``dataflow``, ``schedule`` codes and the ``stream_tile_limit``."""
    columns = {
        "rows": [c.rows for c in configs],
        "cols": [c.cols for c in configs],
        "dataflow": [dataflow_code(c.dataflow) for c in configs],
        "schedule": [SCHEDULE_CODES[c.fold_schedule] for c in configs],
        "tiling": [STREAM_TILING_CODES[c.stream_tiling] for c in configs],
        "acc_bits": [c.accumulator_bits for c in configs],
        "ofmap_bytes": [c.ofmap_sram_bytes for c in configs],
        "double_buffered": [c.sram_double_buffered for c in configs],
    }
    out = {name: np.array(values, dtype=np.int64)[:, None] for name, values in columns.items()}
    usable = usable_buffer_bits(out.pop("ofmap_bytes"), out.pop("double_buffered"))
    out["stream_tile_limit"] = stream_tile_limit(
        out.pop("tiling"), out["cols"], out.pop("acc_bits"), usable
    )
    return out


def config_columns(configs: Sequence[AcceleratorConfig]) -> ConfigColumns:
    """Gather the fields of ``configs`` into columns; load each distinct energy table once."""
    if not configs:
        raise ValueError("evaluate at least one accelerator config")

    def column(values, dtype) -> np.ndarray:
        return np.array(values, dtype=dtype)[:, None]

    table_keys = [(c.energy_table, c.energy_overrides) for c in configs]
    distinct = list(dict.fromkeys(table_keys))
    index = {key: i for i, key in enumerate(distinct)}
    return ConfigColumns(
        **config_arrays(configs),
        a_bits=column([c.activation_bits for c in configs], np.int64),
        w_bits=column([c.weight_bits for c in configs], np.int64),
        acc_bits=column([c.accumulator_bits for c in configs], np.int64),
        sram_bytes={
            "input": column([c.ifmap_sram_bytes for c in configs], np.int64),
            "weight": column([c.filter_sram_bytes for c in configs], np.int64),
            "output": column([c.ofmap_sram_bytes for c in configs], np.int64),
        },
        double_buffered=column([c.sram_double_buffered for c in configs], bool),
        dram_bytes_per_cycle=column([c.dram_bytes_per_cycle for c in configs], np.float64),
        clock_hz=column([c.clock_hz for c in configs], np.float64),
        table_index=column([index[key] for key in table_keys], np.int64),
        tables=tuple(load_energy_table(name, overrides) for name, overrides in distinct),
    )


class LayerColumns(NamedTuple):
    """Layer shapes as ``(1, L)`` rows."""

    m: np.ndarray
    n: np.ndarray
    k: np.ndarray
    groups: np.ndarray
    has_weights: np.ndarray
    input_elements: np.ndarray
    """Distinct input elements per GEMM (a convolution's feature map, else ``m * k``)."""

    @property
    def macs(self) -> np.ndarray:
        return self.m * self.n * self.k * self.groups

    @classmethod
    def of(cls, workload: Workload) -> LayerColumns:
        m, n, k, groups = workload.gemm_arrays()
        has_weights = np.array([layer.has_weights for layer in workload.layers])
        unique = np.array([_input_elements(layer) for layer in workload.layers], dtype=np.int64)
        return cls(m[None], n[None], k[None], groups[None], has_weights[None], unique[None])


def _input_elements(layer: Layer) -> int:
    """Distinct elements of one GEMM's ``A``: the (unpadded) feature map of a convolution,
    capped at ``m * k`` (a strided 1x1 conv reads only the pixels it samples)."""
    if isinstance(layer.op, Conv2d):
        op = layer.op
        return min(op.h * op.w * (op.c // op.groups) * layer.batch, layer.m * layer.k)
    return layer.m * layer.k


@dataclass(frozen=True)
class Evaluation:
    """Every model output for ``C`` configs x ``L`` layers (see the module docstring)."""

    hw: ConfigColumns
    layers: LayerColumns
    timing: DenseTiming
    traffic: MemoryTraffic
    stall_cycles: np.ndarray
    total_cycles: np.ndarray
    counts: ActionCounts
    prices: dict[str, np.ndarray]
    energy_by_action: dict[str, np.ndarray]
    area_mm2: dict[str, np.ndarray]
    """Per component, ``(C, 1)``."""
    sram_port_bits: dict[str, np.ndarray]
    array_sram_bits: np.ndarray
    """Bits the array moves to and from the SRAMs (the SRAM-roof traffic), ``(C, L)``."""
    roofline: Roofline

    @property
    def energy_units(self) -> tuple[str, ...]:
        return tuple(self.hw.tables[i].unit for i in self.hw.table_index[:, 0])


def _usable_bits(hw: ConfigColumns) -> dict[Operand, np.ndarray]:
    return {
        operand: usable_buffer_bits(hw.sram_bytes[operand.value], hw.double_buffered)
        for operand in (Operand.INPUT, Operand.WEIGHT, Operand.OUTPUT)
    }


def _prices(hw: ConfigColumns, b_bits, area_total) -> dict[str, np.ndarray]:
    halves = np.where(hw.double_buffered, 2, 1)
    inputs = PricingInputs(
        operand_bit_product=hw.a_bits * b_bits,
        accumulator_bits=hw.acc_bits,
        sram_bank_bytes={name: size / halves for name, size in hw.sram_bytes.items()},
        sram_port_bits=_buffer_ports(hw),
        area_mm2=area_total,
    )
    merged: dict[str, np.ndarray] = {}
    for i, table in enumerate(hw.tables):
        prices = table.prices(inputs)
        if len(hw.tables) == 1:
            return prices
        use = hw.table_index == i
        for key, price in prices.items():
            merged[key] = np.where(use, price, merged[key]) if key in merged else price
    return merged


def _buffer_ports(hw: ConfigColumns) -> dict[str, np.ndarray]:
    ports = sram_port_bits(hw.rows, hw.cols, hw.dataflow, hw.a_bits, hw.w_bits, hw.acc_bits)
    return {"input": ports["input"], "weight": ports["weight"], "output": ports["output_write"]}


def _memory(hw: ConfigColumns, ly: LayerColumns, timing: DenseTiming, b_bits):
    """Traffic per operand and DRAM stall cycles, ``(C, L)``."""
    traffic = memory_traffic(
        ly.m, ly.n, ly.k, ly.groups, hw.a_bits, b_bits, hw.acc_bits, hw.a_bits,
        hw.rows, hw.cols, hw.dataflow, _usable_bits(hw), timing, ly.input_elements,
    )  # fmt: skip
    stall = stall_cycles(
        traffic, timing, ly.groups, hw.rows, hw.cols, hw.schedule,
        hw.dram_bytes_per_cycle * 8, hw.double_buffered,
    )  # fmt: skip
    return traffic, stall


def _roofline(hw: ConfigColumns, ly: LayerColumns, traffic: MemoryTraffic, total, b_bits):
    """Roofline points, the SRAM ports and the array-side SRAM bits they carry."""
    ports = sram_port_bits(hw.rows, hw.cols, hw.dataflow, hw.a_bits, hw.w_bits, hw.acc_bits)
    array_bits = (
        traffic.input.array_reads * hw.a_bits
        + traffic.weight.array_reads * b_bits
        + (traffic.output.array_reads + traffic.output.array_writes) * hw.acc_bits
    )
    roof = roofline(
        ly.macs, total, traffic.dram_bits / 8, array_bits / 8, hw.pes, hw.clock_hz,
        hw.dram_bytes_per_cycle * hw.clock_hz, sum(ports.values()) / 8 * hw.clock_hz,
    )  # fmt: skip
    return roof, ports, array_bits


def evaluate(workload: Workload, configs: Sequence[AcceleratorConfig]) -> Evaluation:
    """Run every model on ``workload`` for all ``configs`` in one broadcast evaluation."""
    hw = config_columns(configs)
    ly = LayerColumns.of(workload)
    timing = dense_timing(
        ly.m, ly.n, ly.k, ly.groups, hw.rows, hw.cols, hw.dataflow, hw.schedule,
        hw.stream_tile_limit,
    )  # fmt: skip
    # B is a weight, or an activation in attention matmuls.
    b_bits = np.where(ly.has_weights, hw.w_bits, hw.a_bits)
    traffic, stall = _memory(hw, ly, timing, b_bits)
    total = timing.compute_cycles + stall
    area = area_breakdown(
        hw.a_bits, hw.w_bits, hw.acc_bits, hw.rows, hw.cols, hw.dataflow, hw.schedule,
        hw.sram_bytes,
    )  # fmt: skip
    counts = count_actions(
        ly.macs, ly.m, ly.n, ly.k, ly.groups, hw.a_bits, b_bits, hw.acc_bits, hw.rows,
        hw.cols, hw.dataflow, timing.sr, timing.sc, traffic, total, timing.stream_tiles,
    )  # fmt: skip
    prices = _prices(hw, b_bits, sum(area.values()))
    roof, ports, array_bits = _roofline(hw, ly, traffic, total, b_bits)
    return Evaluation(
        hw=hw,
        layers=ly,
        timing=timing,
        traffic=traffic,
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
