"""Run a workload on an accelerator config: the library call behind ``sparsa simulate``."""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import numpy as np

from compress.nm import NMPattern
from compress.stats import structure_only
from simulator.config import AcceleratorConfig, ConfigError, ScaleSimSparsity, StreamTiling
from simulator.model.columns import ConfigColumns, LayerColumns
from simulator.model.energy import ACTIONS, energy_by_component
from simulator.model.evaluate import (
    CycleSplitArrays,
    Evaluation,
    cycle_split,
    evaluate,
    sram_bandwidth_bits,
)
from simulator.model.mapping import DATAFLOW_MAPS, Operand
from simulator.model.residency import SPILL_REASONS
from simulator.model.sparsity import EXEC_MODES, execution_notes
from simulator.model.timing import dense_timing
from simulator.results.result import (
    Baseline,
    Cycles,
    CycleSplit,
    EnergySaving,
    LayerActivations,
    LayerEnergy,
    LayerMemory,
    LayerResult,
    LayerWeights,
    OperandBytes,
    OperandMemory,
    Roofs,
    SimResult,
    TilingAlternative,
    compression_limiter,
    point_at,
)
from simulator.workloads.binding import dense_workload
from simulator.workloads.layer import Layer, Workload

__all__ = ["simulate"]


def simulate(workload: Workload, config: AcceleratorConfig) -> SimResult:
    """Simulate ``workload`` on ``config``: cycles with DRAM stalls, memory traffic per
    operand, energy per action and component, area and the roofline of every layer.

    One row of :func:`simulator.model.evaluate.evaluate`, the same computation
    :func:`simulator.results.batch.evaluate_configs` runs for many configs at once. Each
    layer also records its weights (:class:`~simulator.results.result.LayerWeights`),
    the dense baseline (the same layers with dense weights on
    :meth:`~simulator.config.AcceleratorConfig.dense_baseline`), and, in ws and is, what
    the other ``stream_tiling`` choice would take (for the report's advice). With
    compressed layers, the energy saved is split by source, step by step
    (:func:`energy_savings`).
    """
    ev = evaluate(workload, [config])
    base = evaluate(dense_workload(workload), [config.dense_baseline()])
    alternatives = _tiling_alternatives(workload, config)
    split = cycle_split(ev)
    layers = tuple(
        _layer_result(ev, base, split, i, layer, config, alternatives[i] if alternatives else None)
        for i, layer in enumerate(workload.layers)
    )
    if config.scalesim_sparsity is ScaleSimSparsity.LAYERWISE:
        layers = _scalesim_notes(workload, config, layers)
    compressed = any(layer.weights.source != "dense" for layer in layers)
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
        weights_from=workload.weights_from,
        notes=workload.notes,
        savings=energy_savings(workload, config, base, ev) if compressed else (),
    )


def _scalesim_notes(
    workload: Workload, config: AcceleratorConfig, layers: tuple[LayerResult, ...]
) -> tuple[LayerResult, ...]:
    """Add to each declared N:M layer what SCALE-Sim's layer-wise semantics do and what
    the physical N:M model gives for it on an ``nm`` array of the same size."""
    physical: dict[NMPattern, Evaluation | None] = {}
    out = []
    for i, (layer, result) in enumerate(zip(workload.layers, layers, strict=True)):
        pattern = layer.nm
        if pattern is None:
            out.append(result)
            continue
        if pattern not in physical:
            try:
                nm_config = config.replace(pe_kind="nm", nm_patterns=[str(pattern)])
                physical[pattern] = evaluate(workload, [nm_config])
            except ConfigError:  # an array with fewer rows than N: no nm array here
                physical[pattern] = None
        n, m = pattern
        k_prime = (layer.k // m) * n + min(layer.k % m, n)
        note = (
            f"SCALE-Sim's layer-wise {pattern} keeps the same {n} of every {m} positions of "
            f"k for every filter, which deletes input positions: k {layer.k} -> {k_prime}, "
            f"{result.cycles.scalesim_total:,} cycles (scalesim_total)"
        )
        ev = physical[pattern]
        if ev is not None:
            compute, total = int(ev.timing.compute_cycles[0, i]), int(ev.total_cycles[0, i])
            note += (
                f"; a physical {pattern} array (M:1 selects, every input read) takes "
                f"{compute:,} compute cycles ({total:,} with DRAM stalls)"
            )
        weights = replace(result.weights, notes=(*result.weights.notes, note))
        out.append(replace(result, weights=weights))
    return tuple(out)


_STEPS = ("sparsity", "values", "zero activations")


def energy_savings(
    workload: Workload, config: AcceleratorConfig, base: Evaluation, ev: Evaluation
) -> tuple[EnergySaving, ...]:
    """Energy saved from the dense baseline to the compressed layers, step by step.

    ``sparsity``: the baseline against the keep-masks alone on ``config`` (values at the
    array's width, every activation nonzero); ``values``: then the layers' own value
    formats (precision, codebooks, entropy coding); ``zero activations``: then the
    measured or given activation densities (saved only where ``zero_gating`` gates them).
    Each step is split into DRAM, SRAM and compute (everything else).
    """

    def layer(layer: Layer, structure: bool) -> Layer:
        stats = layer.compressed
        changes = {"activation_density": 1.0}
        if structure and stats is not None:
            changes["compressed"] = structure_only(stats)
        return replace(layer, **changes)

    steps = [base]
    for structure in (True, False):
        variant = replace(workload, layers=tuple(layer(x, structure) for x in workload.layers))
        steps.append(evaluate(variant, [config]))
    steps.append(ev)
    totals = [_by_place(step) for step in steps]
    pairs = itertools.pairwise(totals)
    return tuple(
        EnergySaving(source, *(before[k] - after[k] for k in ("dram", "sram", "compute")))
        for source, (before, after) in zip(_STEPS, pairs, strict=True)
    )


def _by_place(ev: Evaluation) -> dict[str, float]:
    """Energy of the single-config evaluation summed over layers: DRAM, SRAM, compute."""
    out = dict.fromkeys(("dram", "sram", "compute"), 0.0)
    for key, value in ev.energy_by_action.items():
        component = key.split(".", 1)[0]
        place = (
            "dram" if component == "dram" else "sram" if component.endswith("_sram") else "compute"
        )
        out[place] += float(np.sum(value[0]))
    return out


def _tiling_alternatives(
    workload: Workload, config: AcceleratorConfig
) -> list[TilingAlternative] | None:
    """Timing of every layer with the other ``stream_tiling`` choice."""
    other = StreamTiling.FIT if config.stream_tiling is StreamTiling.NONE else StreamTiling.NONE
    hw = ConfigColumns.of([config.replace(stream_tiling=other)])
    timing = dense_timing(hw, LayerColumns.of(workload))
    limit, tiled = int(hw.stream_tile_limit[0, 0]), timing.stream_tiles[0] > 1

    def tile(i: int) -> int:  # ws, is: the config's Ts (capped at T); os: the layer's Ks
        if limit:
            return min(limit, int(timing.t[0, i]))
        return int(timing.stream_tile[0, i]) if tiled[i] else 0

    return [
        TilingAlternative(
            stream_tiling=other.value,
            stream_tile=tile(i),
            stream_tiles=int(timing.stream_tiles[0, i]),
            compute_cycles=int(timing.compute_cycles[0, i]),
        )
        for i in range(len(workload))
    ]


def _layer_result(
    ev: Evaluation,
    base: Evaluation,
    split: CycleSplitArrays,
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
    weights = _layer_weights(ev, i, layer, config)
    baseline = _baseline(base, i)
    streamed = int(timing.streamed[0, i])
    useful = float(np.broadcast_to(ev.useful_macs, ev.total_cycles.shape)[0, i])
    issued = (
        layer.macs
        if ev.execution is None or not ev.execution.weighted[0, i]
        else (float(ev.execution.issued_macs[0, i]))
    )
    stream_is_k = DATAFLOW_MAPS[config.dataflow].stationary is Operand.OUTPUT
    return LayerResult(
        name=layer.name,
        kind=layer.kind.value,
        m=layer.m,
        n=layer.n,
        k=layer.k,
        groups=layer.groups,
        macs=layer.macs,
        macs_useful=useful,
        macs_issued=float(issued),
        cycles=cycles,
        utilization=useful / (cycles.total * config.pes),
        mapping_efficiency=float(timing.mapping_efficiency[0, i]),
        row_folds=int(timing.row_folds[0, i]),
        col_folds=int(timing.col_folds[0, i]),
        stream_tiles=int(timing.stream_tiles[0, i]),
        fold_positions=int(timing.fold_positions[0, i]),
        streamed=streamed,
        psum_block_bytes=_psum_block_bytes(ev, i, config),
        latency_s=cycles.total / config.clock_hz,
        macs_per_s=float(ev.roofline.attained_macs_per_s[0, i]),
        memory=_layer_memory(ev.traffic, i),
        energy=LayerEnergy(by_action, _by_component(by_action)),
        roofline=point_at(ev.roofline, (0, i)),
        weights=weights,
        baseline=baseline,
        limiter=compression_limiter(weights, cycles, streamed, baseline, stream_is_k),
        cycle_split=CycleSplit(*(float(part[0, i]) for part in split)),
        activations=_activations(ev, i, config),
        footprint=_footprint(ev, i, layer, config),
        energy_unit=ev.hw.tables[0].unit,
        tiling_alternative=alternative,
    )


def _footprint(ev: Evaluation, i: int, layer: Layer, config: AcceleratorConfig) -> OperandBytes:
    """One copy of layer ``i``'s operands as DRAM holds them."""
    ly, shape = ev.layers, ev.total_cycles.shape
    groups = layer.groups
    weight_bits = float(np.broadcast_to(ev.widths.b_dram, shape)[0, i])
    return OperandBytes(
        input=float(ly.input_elements[0, i]) * groups * config.activation_bits / 8,
        weight=layer.k * layer.n * groups * weight_bits / 8,
        output=layer.m * layer.n * groups * config.activation_bits / 8,
    )


def _activations(ev: Evaluation, i: int, config: AcceleratorConfig) -> LayerActivations:
    """Where layer ``i``'s input came from and its output went, and why."""
    res = ev.residency
    capacity = config.ifmap_sram_bytes
    if res is None:
        reason = SPILL_REASONS[1]
        return LayerActivations("dram", "dram", reason, 0.0, 0.0, float(capacity))
    where = ("dram", "on_chip")
    return LayerActivations(
        input_from=where[int(res.input_on_chip[0, i])],
        output_to=where[int(res.output_on_chip[0, i])],
        reason=SPILL_REASONS[int(res.reason[0, i])],
        output_bytes=float(res.tensor_bits[0, i]) / 8,
        others_bytes=float(res.others_bits[0, i]) / 8,
        capacity_bytes=float(capacity),
        residual_dram_bytes=float(res.extra_dram_elements[0, i]) * config.activation_bits / 8,
    )


def _layer_weights(ev: Evaluation, i: int, layer: Layer, config: AcceleratorConfig):
    """The :class:`LayerWeights` record of layer ``i``."""
    ex, stats = ev.execution, layer.compressed
    if stats is None and (layer.nm is not None or layer.weight_density < 1):
        stats = ev.layers.weights[i]
    if not layer.has_weights:
        return LayerWeights("dense", "activations (no weights)", 1.0, config.activation_bits,
                            "dense", None, 0.0)  # fmt: skip
    if stats is None:
        bits = layer.k * layer.n * layer.groups * config.weight_bits
        return LayerWeights("dense", f"dense int{config.weight_bits}", 1.0,
                            config.weight_bits, "dense", None, float(bits))  # fmt: skip
    return LayerWeights(
        source=layer.weight_source.value,
        format=stats.format_name,
        density=stats.density,
        value_bits=float(ex.value_bits[0, i]),
        mode=EXEC_MODES[int(ex.mode[0, i])],
        stored_bits=stats.total_bits,
        dram_bits=float(ex.dram_bits[0, i]),
        notes=execution_notes(config, stats),
        activation_density=layer.activation_density,
    )


def _baseline(base: Evaluation, i: int) -> Baseline:
    by_action = {key: float(value[0, i]) for key, value in base.energy_by_action.items()}
    energy = sum(_by_component(by_action).values())  # summed as LayerEnergy.total is
    return Baseline(
        cycles=int(base.total_cycles[0, i]),
        compute_cycles=int(base.timing.compute_cycles[0, i]),
        stall_cycles=int(base.stall_cycles[0, i]),
        fold_positions=int(base.timing.fold_positions[0, i]),
        streamed=int(base.timing.streamed[0, i]),
        energy=energy,
        dram_bytes=float(base.traffic.dram_bits[0, i]) / 8,
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
