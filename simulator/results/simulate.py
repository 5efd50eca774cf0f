"""Run a workload on an accelerator config: the library call behind ``sparsa simulate``."""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.config import AcceleratorConfig, StreamTiling
from simulator.model.columns import ConfigColumns, LayerColumns
from simulator.model.energy import ACTIONS, energy_by_component
from simulator.model.evaluate import Evaluation, evaluate, sram_bandwidth_bits
from simulator.model.mapping import DATAFLOW_MAPS, Operand
from simulator.model.timing import dense_timing
from simulator.results.result import (
    Cycles,
    LayerEnergy,
    LayerMemory,
    LayerResult,
    OperandMemory,
    Roofs,
    SimResult,
    TilingAlternative,
    point_at,
)
from simulator.workloads.layer import Layer, Workload

__all__ = ["simulate"]


def simulate(workload: Workload, config: AcceleratorConfig) -> SimResult:
    """Simulate ``workload`` on ``config``: cycles with DRAM stalls, memory traffic per
    operand, energy per action and component, area and the roofline of every layer.

    One row of :func:`simulator.model.evaluate.evaluate`, the same computation
    :func:`simulator.results.batch.evaluate_configs` runs for many configs at once. In ws
    and is, each layer also records what the other ``stream_tiling`` choice would take
    (:class:`~simulator.results.result.TilingAlternative`), for the report's advice.
    """
    ev = evaluate(workload, [config])
    alternatives = _tiling_alternatives(workload, config)
    layers = tuple(
        _layer_result(ev, i, layer, config, alternatives[i] if alternatives else None)
        for i, layer in enumerate(workload.layers)
    )
    return SimResult(
        config=config,
        workload_name=workload.name,
        workload_source=workload.source,
        batch=workload.batch,
        layers=layers,
        energy_unit=ev.hw.tables[0].unit,
        energy_table=_table_record(ev, workload, config),
        area_mm2={name: float(value[0, 0]) for name, value in ev.area_mm2.items()},
        roofs=Roofs(
            peak_macs_per_s=float(ev.roofline.peak_macs_per_s[0, 0]),
            dram_bytes_per_s=config.dram_bytes_per_cycle * config.clock_hz,
            sram_bytes_per_s=float(sram_bandwidth_bits(ev.sram_port_bits)[0, 0])
            / 8
            * config.clock_hz,
        ),
        stream_tile_limit=int(ev.hw.stream_tile_limit[0, 0]),
    )


def _tiling_alternatives(
    workload: Workload, config: AcceleratorConfig
) -> list[TilingAlternative] | None:
    """Timing of every layer with the other ``stream_tiling`` (ws and is only)."""
    if DATAFLOW_MAPS[config.dataflow].tiles_stream == 0:
        return None
    other = StreamTiling.FIT if config.stream_tiling is StreamTiling.NONE else StreamTiling.NONE
    hw = ConfigColumns.of([config.replace(stream_tiling=other)])
    timing = dense_timing(hw, LayerColumns.of(workload))
    stream_tile = int(hw.stream_tile_limit[0, 0])
    return [
        TilingAlternative(
            stream_tiling=other.value,
            stream_tile=min(stream_tile, int(timing.t[0, i])) if stream_tile else 0,
            stream_tiles=int(timing.stream_tiles[0, i]),
            compute_cycles=int(timing.compute_cycles[0, i]),
        )
        for i in range(len(workload))
    ]


def _layer_result(
    ev: Evaluation,
    i: int,
    layer: Layer,
    config: AcceleratorConfig,
    alternative: TilingAlternative | None,
) -> LayerResult:
    """Layer ``i`` of the single-config evaluation ``ev`` as a :class:`LayerResult`."""
    timing = ev.timing
    cycles = Cycles(
        compute=int(timing.compute_cycles[0, i]),
        stall=int(ev.stall_cycles[0, i]),
        total=int(ev.total_cycles[0, i]),
        scalesim_total=int(timing.scalesim_cycles[0, i]),
    )
    by_action = {key: float(value[0, i]) for key, value in ev.energy_by_action.items()}
    return LayerResult(
        name=layer.name,
        kind=layer.kind.value,
        m=layer.m,
        n=layer.n,
        k=layer.k,
        groups=layer.groups,
        macs=layer.macs,
        cycles=cycles,
        utilization=layer.macs / (cycles.total * config.pes),
        mapping_efficiency=float(timing.mapping_efficiency[0, i]),
        row_folds=int(timing.row_folds[0, i]),
        col_folds=int(timing.col_folds[0, i]),
        stream_tiles=int(timing.stream_tiles[0, i]),
        psum_block_bytes=_psum_block_bytes(ev, i, config),
        latency_s=cycles.total / config.clock_hz,
        macs_per_s=float(ev.roofline.attained_macs_per_s[0, i]),
        memory=_layer_memory(ev.traffic, i),
        energy_pj=LayerEnergy(by_action, _by_component(by_action)),
        roofline=point_at(ev.roofline, (0, i)),
        tiling_alternative=alternative,
    )


def _psum_block_bytes(ev: Evaluation, i: int, config: AcceleratorConfig) -> float:
    """Partial sums of one output block (the row folds of one column fold, untiled):
    ``T x min(cols, Sc)`` at ``accumulator_bits``; 0 when the outputs stay in the PEs."""
    if DATAFLOW_MAPS[config.dataflow].stationary is Operand.OUTPUT:
        return 0.0
    t, sc = int(ev.timing.t[0, i]), int(ev.timing.sc[0, i])
    return t * min(config.cols, sc) * config.accumulator_bits / 8


def _layer_memory(traffic, i: int) -> LayerMemory:
    def operand(t) -> OperandMemory:
        return OperandMemory(
            sram_reads=int(t.array_reads[0, i]),
            sram_writes=int(t.array_writes[0, i]),
            sram_read_bytes=float(t.sram_read_bits[0, i]) / 8,
            sram_write_bytes=float(t.sram_write_bits[0, i]) / 8,
            dram_read_bytes=float(t.dram_read_bits[0, i]) / 8,
            dram_write_bytes=float(t.dram_write_bits[0, i]) / 8,
        )

    return LayerMemory(operand(traffic.input), operand(traffic.weight), operand(traffic.output))


def _by_component(by_action: dict[str, float]) -> dict[str, float]:
    return {key: float(value) for key, value in energy_by_component(by_action).items()}


def _table_record(ev: Evaluation, workload: Workload, config: AcceleratorConfig) -> dict[str, Any]:
    """The energy table used and its price per action (``pe.mac`` at weight layers' widths)."""
    table = ev.hw.tables[0]
    weighted = [i for i, layer in enumerate(workload.layers) if layer.has_weights]
    column = weighted[0] if weighted else 0
    units = {a.key: a.unit for a in ACTIONS}
    return {
        "name": table.name,
        "unit": table.unit,
        "overrides": config.energy_overrides,
        "overridden": [f"{c}.{n}" for c, n in table.table.overridden],
        "prices": {
            key: {
                "value": float(np.broadcast_to(price, ev.total_cycles.shape)[0, column]),
                "unit": f"{table.unit}/{units[key]}",
            }
            for key, price in ev.prices.items()
        },
    }
