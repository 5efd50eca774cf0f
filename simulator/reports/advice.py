"""The report's verdicts: what limits the layers, with advice that follows the limiter,
and where the activations between layers live.

Rendered from a :class:`~simulator.results.SimResult` only: every layer's cycle split
(useful MACs, mapping loss, fill/drain, DRAM stall), its DRAM traffic against its
compulsory traffic, and the placement of its output (``inter_layer_activations``).
"""

from __future__ import annotations

import numpy as np

from simulator.config import AcceleratorConfig, FoldSchedule, InterLayerActivations, StreamTiling
from simulator.reports.units import format_bytes
from simulator.results.records import LIMITERS
from simulator.results.result import LayerResult, SimResult

__all__ = ["activation_section", "limits_section"]

_MAX_NAMED = 6
_COMPULSORY = 0.05
"""A layer whose DRAM bytes exceed its compulsory bytes by at most this share streams
only what it must (bigger buffers cannot help it)."""


def _names(layers: list[LayerResult], share) -> str:
    worst = sorted(layers, key=lambda layer: -layer.cycles.total)[:_MAX_NAMED]
    named = ", ".join(f"{layer.name} ({share(layer):.0%})" for layer in worst)
    more = f" and {len(layers) - len(worst)} more" if len(layers) > len(worst) else ""
    return named + more


def _of_cycles(layers: list[LayerResult], result: SimResult) -> str:
    return f"{sum(layer.cycles.total for layer in layers) / result.cycles.total:.0%} of all cycles"


def _dram_advice(layers: list[LayerResult], cfg: AcceleratorConfig) -> str:
    """Bandwidth when the layers move only compulsory bytes; buffers when they refetch."""
    excess = sum(layer.dram_excess_bytes for layer in layers)
    total = sum(layer.dram_bytes for layer in layers)
    if excess <= _COMPULSORY * total:
        return (
            "They move only their compulsory bytes (weights once, inputs and outputs that "
            "are not kept on chip): more DRAM bandwidth, fewer bytes (compressed or "
            "narrower weights) or more reuse per byte (a larger batch) shortens them; "
            "larger SRAMs do not."
        )
    parts = {
        "input refetches": sum(
            max(0.0, x.memory.input.dram_read_bytes - x.footprint.input) for x in layers
        ),
        "weight refetches": sum(
            max(0.0, x.memory.weight.dram_read_bytes - x.footprint.weight) for x in layers
        ),
        "partial-sum spills": sum(x.memory.output.dram_read_bytes for x in layers),
    }
    split = ", ".join(f"{name} {format_bytes(v)}" for name, v in parts.items() if v > 0)
    remedies = ["larger buffers"]
    if cfg.stream_tiling is StreamTiling.NONE:
        remedies.append("`stream_tiling: fit`")
    if cfg.inter_layer_activations is InterLayerActivations.DRAM:
        remedies.append("`inter_layer_activations: on_chip`")
    return (
        f"{excess / total:.0%} of their DRAM bytes are beyond the compulsory ({split}): "
        f"{', '.join(remedies)} cut them; more bandwidth only hides them."
    )


def _mapping_advice(layers: list[LayerResult], cfg: AcceleratorConfig) -> str:
    layer = max(layers, key=lambda x: x.cycle_split.mapping_loss)
    return (
        f"Their shapes leave PEs idle on the {cfg.rows}x{cfg.cols} array (e.g. {layer.name}: "
        f"M x N x K {layer.m}x{layer.n}x{layer.k}, mapping efficiency "
        f"{layer.mapping_efficiency:.0%}): another dataflow (which dimensions go on the "
        "rows and columns), a smaller or differently shaped array, or more rows of a "
        "small dimension (batch) fill it; more bandwidth or SRAM does not."
    )


def _fill_advice(layers: list[LayerResult], cfg: AcceleratorConfig) -> str:
    layer = max(layers, key=lambda x: x.cycle_split.fill_drain)
    if all(x.kind == "matmul" for x in layers):
        # Attention: every sample has its own second operand, so a batch adds GEMMs,
        # not streamed vectors.
        remedies = ["a dataflow that streams their long dimension (os streams k)",
                    "a smaller array (a batch adds GEMMs, not longer streams)"]  # fmt: skip
    else:
        remedies = ["longer streams (a larger batch or fewer stream tiles)"]
    if cfg.fold_schedule is FoldSchedule.SEQUENTIAL and cfg.dataflow.value != "os":
        remedies.append("`fold_schedule: overlapped` (hides the stationary preloads)")
    return (
        f"Each fold streams few vectors against its skew fill and drain of "
        f"{cfg.rows + cfg.cols - 2} cycles (e.g. {layer.name}: {layer.fold_positions:,} "
        f"fold positions, {layer.streamed:,} vectors streamed): " + " or ".join(remedies) + "."
    )


_ADVICE = {
    "compute": lambda layers, cfg: (
        "The array is busy with useful MACs: only more PEs, a faster clock or fewer MACs "
        "(sparse PEs, smaller models) shorten them."
    ),
    "mapping loss": _mapping_advice,
    "fill/drain": _fill_advice,
    "DRAM stall": lambda layers, cfg: _dram_advice(layers, cfg),
}
_SHARE = {
    "compute": "useful",
    "mapping loss": "mapping_loss",
    "fill/drain": "fill_drain",
    "DRAM stall": "dram_stall",
}


def _spill_advice(spilling: list[LayerResult], cfg: AcceleratorConfig) -> str:
    """The remedy besides a bigger buffer: stream tiling, with its cost in these layers
    (the model's figures for the other tiling, recorded in each layer's result)."""
    if cfg.stream_tiling is StreamTiling.FIT:
        return (
            f" Tiling is on, but even one streamed vector's partial sums ({cfg.cols} x "
            f"{cfg.accumulator_bits} bits) exceed the usable output buffer."
        )
    alternatives = [layer.tiling_alternative for layer in spilling]
    if any(alt is None for alt in alternatives):
        return ""
    pairs = list(zip(alternatives, spilling, strict=True))
    extra_cycles = np.array([alt.compute_cycles - x.cycles.compute for alt, x in pairs])
    extra_preloads = np.array(
        [x.groups * x.row_folds * x.col_folds * (alt.stream_tiles - 1) for alt, x in pairs]
    )
    worst = np.argsort(-extra_cycles, kind="stable")[:3]
    each = "; ".join(
        f"{spilling[i].name} {alternatives[i].stream_tiles} tiles, "
        f"+{int(extra_preloads[i]):,} preloads, +{int(extra_cycles[i]):,} cycles"
        for i in worst
    )
    added = int(extra_cycles.sum())
    untiled = sum(x.cycles.compute for x in spilling)
    stream_tile = max(alt.stream_tile for alt in alternatives)
    return (
        f" Or `stream_tiling: fit` keeps them on chip by streaming at most "
        f"{stream_tile:,} vectors per fold, at the cost of "
        f"{int(extra_preloads.sum()):,} more preloads and fills in these layers: "
        f"+{added:,} compute cycles (+{added / max(untiled, 1):.1%}) "
        f"before any saved stalls (most: {each})."
    )


def _psum_spills(result: SimResult) -> list[str]:
    cfg = result.config
    spilling = [x for x in result.layers if x.memory.output.dram_read_bytes > 0]
    if not spilling or cfg.dataflow.value == "os":
        return []
    halves = 2 if cfg.sram_double_buffered else 1
    spill = sum(x.memory.output.dram_read_bytes + x.memory.output.dram_write_bytes
                - (x.footprint.output if x.activations.output_to == "dram" else 0.0)
                for x in spilling)  # fmt: skip
    needed = halves * max(x.psum_block_bytes for x in spilling)
    return [
        f"- **Partial sums spill to DRAM** in {len(spilling)} layers ({format_bytes(spill)} "
        f"written and read back): the output buffer ({format_bytes(cfg.ofmap_sram_bytes)}, "
        f"{'half' if halves == 2 else 'all'} of it usable) cannot hold one output block's "
        f"partial sums; `ofmap_sram_bytes` >= {format_bytes(needed)} keeps them on chip."
        + _spill_advice(spilling, cfg)
    ]


def limits_section(result: SimResult) -> list[str]:
    """``## What limits the layers``: the layers grouped by their limiter, with advice."""
    cfg = result.config
    split = result.cycle_split
    shares = ", ".join(f"{name} {split.share(_SHARE[name]):.0%}" for name in LIMITERS)
    lines = [
        "## What limits the layers",
        "",
        f"All cycles: {shares} (useful MACs = `compute`); limited by **{result.limited_by}**. "
        "A layer is limited by the largest share of its own cycles; the roofline's verdict "
        "(the lowest roof) is reported apart, as *under the ... roof*.",
        "",
    ]
    for name in sorted(LIMITERS, key=lambda n: -getattr(split, _SHARE[n])):
        layers = [x for x in result.layers if x.limited_by == name]
        if not layers:
            continue
        share = lambda x, n=_SHARE[name]: x.cycle_split.share(n)  # noqa: E731
        lines.append(
            f"- **{len(layers)} layer{'s' if len(layers) > 1 else ''} limited by {name}** "
            f"({_of_cycles(layers, result)}; "
            f"its share of each): {_names(layers, share)}. {_ADVICE[name](layers, cfg)}"
        )
    return lines + _psum_spills(result)


def activation_section(result: SimResult) -> list[str]:
    """``## Activations between layers``: which outputs stay on chip, which go to DRAM
    and why."""
    cfg = result.config
    lines = ["## Activations between layers", ""]
    if cfg.inter_layer_activations is InterLayerActivations.DRAM:
        return [
            *lines,
            "`inter_layer_activations: dram`: every layer reads its input from DRAM and "
            "writes its output back (each layer alone, as SCALE-Sim runs them; residual "
            "reads are not counted). `on_chip` keeps outputs in the input buffer when "
            "they fit beside what later layers still need.",
        ]
    kept = [x for x in result.layers if x.activations.output_to == "on_chip"]
    spilled = [x for x in result.layers if x.activations.output_to == "dram"]
    compulsory = result.compulsory_dram_bytes
    lines += [
        f"`inter_layer_activations: on_chip`: {len(kept)} of {len(result.layers)} outputs stay "
        f"in the {format_bytes(cfg.ifmap_sram_bytes)} input buffer. DRAM traffic "
        f"{format_bytes(result.memory.dram_bytes)} against a compulsory "
        f"{format_bytes(compulsory)} (weights and attention K, V once, the first input, "
        "the last output).",
        "",
    ]
    for x in spilled[:10]:
        act = x.activations
        why = act.reason
        if why.startswith("does not fit"):
            why += (
                f": {format_bytes(act.output_bytes)} beside {format_bytes(act.others_bytes)}"
                f" in {format_bytes(act.capacity_bytes)}"
            )
        lines.append(f"- {x.name} goes to DRAM ({format_bytes(x.footprint.output)}): {why}.")
    if len(spilled) > 10:
        lines.append(f"- ... and {len(spilled) - 10} more.")
    residual = sum(x.activations.residual_dram_bytes for x in result.layers)
    if residual:
        lines.append(f"- Residual and gate reads from DRAM: {format_bytes(residual)}.")
    return lines
