"""The markdown report a hardware architect reads, and the files ``sparsa simulate`` writes.

``report.md``: a summary (latency, throughput, energy per MAC, area, DRAM traffic, what
bounds the workload), area and energy by component, the top energy consumers, a
per-layer table, the layers bound by DRAM or SRAM bandwidth with what would help, and the
three plots of :mod:`simulator.reports.plots`. Everything is rendered from a
:class:`~simulator.results.result.SimResult`, so ``sparsa report result.json`` re-renders it
without simulating.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simulator.config import AcceleratorConfig, Dataflow, StreamTiling
from simulator.reports.compression import compression_section
from simulator.reports.plots import write_plots
from simulator.reports.units import format_bytes, format_energy, format_si, markdown_table
from simulator.results.result import LayerResult, SimResult

__all__ = ["REPORT_FILE", "render_markdown", "write_report"]

REPORT_FILE = "report.md"


def _setup_rows(result: SimResult) -> list[tuple[str, str]]:
    """What ran: the workload and the accelerator."""
    cfg = result.config
    sizes = (cfg.ifmap_sram_bytes, cfg.filter_sram_bytes, cfg.ofmap_sram_bytes)
    sram = ", ".join(format_bytes(b) for b in sizes)
    buffering = "double-buffered" if cfg.sram_double_buffered else "single-buffered"
    dram_bw = format_si(result.roofs.dram_bytes_per_s, "B/s")
    workload = f"{result.workload_name} (batch {result.batch}, {len(result.layers)} layers, "
    return [
        ("workload", workload + f"{format_si(result.macs, 'MAC')})"),
        ("accelerator", f"{cfg.name}: {cfg.rows}x{cfg.cols} {cfg.dataflow.value}, "
                        f"{cfg.fold_schedule.value} folds{_tiling_note(result)}, "
                        f"{cfg.activation_bits}/{cfg.weight_bits}/{cfg.accumulator_bits}-bit "
                        "act/weight/acc"),
        ("memory", f"SRAM input/weight/output {sram} ({buffering}); DRAM "
                   f"{cfg.dram_bytes_per_cycle:g} B/cycle = {dram_bw}"),
        ("clock", f"{cfg.clock_mhz:g} MHz"),
    ]  # fmt: skip


def _outcome_rows(result: SimResult) -> list[tuple[str, str]]:
    """What it cost: time, energy, area, traffic and the binding roof."""
    cycles, energy, roof, unit = result.cycles, result.energy, result.roofline, result.energy_unit
    table = result.energy_table["name"]
    if result.energy_table["overridden"]:
        table += " with overrides: " + ", ".join(result.energy_table["overridden"])
    bounds = ", ".join(
        f"{sum(layer.roofline.bound == name for layer in result.layers)} {name}"
        for name in ("compute", "dram", "sram")
    )
    util = f"utilization {result.utilization:.1%}"
    per_mac = format_energy(energy.total / result.macs, unit)
    return [
        ("cycles", f"{cycles.total:,} ({cycles.compute:,} compute + {cycles.stall:,} DRAM stall)"),
        ("latency", f"{result.latency_s * 1e3:.4g} ms "
                    f"({result.inferences_per_s:.4g} inferences/s)"),
        ("throughput", f"{format_si(result.macs_per_s, 'MAC/s')} of "
                       f"{format_si(roof.peak, 'MAC/s')} peak ({util})"),
        ("energy", f"{format_energy(energy.total, unit)} ({per_mac}/MAC, table {table})"),
        ("area", f"{result.area_total_mm2:.4g} mm^2"),
        ("DRAM traffic", f"{format_bytes(result.memory.dram_bytes)} "
                         f"({roof.intensity:.3g} MAC/byte)"),
        ("bound", f"{roof.bound} overall ({roof.roof_fraction:.0%} of that roof); "
                  f"layers: {bounds}"),
    ]  # fmt: skip


def _summary(result: SimResult) -> list[str]:
    rows = _setup_rows(result) + _outcome_rows(result)
    return ["## Summary", "", *markdown_table(("", ""), rows, "ll")]


def _tokens(result: SimResult) -> list[str]:
    """Tokens/s, time to first token (prefill) or per output token (decode), and where
    the DRAM bytes go: weights, the KV cache (attention's K and V operands), activations."""
    tokens = result.tokens
    if tokens is None:
        return []
    dram = result.memory.dram_bytes
    if tokens.phase == "decode":
        timing = ("time per output token", f"{tokens.time_per_output_token_s * 1e3:.4g} ms")
        kv_name = "KV cache (attention K, V reads)"
    else:
        timing = ("time to first token", f"{tokens.time_to_first_token_s * 1e3:.4g} ms "
                  "(the prompt pass; no queueing or embedding lookup)")  # fmt: skip
        kv_name = "attention K, V operands"
    rows = [
        ("phase", f"{tokens.phase}: {tokens.tokens_per_pass:,} tokens per pass "
                  f"(batch {result.batch})"),
        ("tokens/s", f"{tokens.tokens_per_s:,.0f}" if tokens.tokens_per_s >= 1e3
                     else f"{tokens.tokens_per_s:.4g}"),
        timing,
        ("DRAM: weights", _share(tokens.weight_dram_bytes, dram)),
        (f"DRAM: {kv_name}", _share(tokens.kv_dram_bytes, dram)),
        ("DRAM: activations", _share(tokens.activation_dram_bytes, dram)),
    ]  # fmt: skip
    return ["## Tokens", "", *markdown_table(("", ""), rows, "ll")]


def _share(part: float, whole: float) -> str:
    return f"{format_bytes(part)} ({part / whole:.1%})" if whole else format_bytes(part)


def _input_notes(result: SimResult) -> list[str]:
    """What the inputs left out or sparsa does not model, as the importer reported it."""
    if not result.input_notes:
        return []
    return ["## Inputs", "", *(f"- {note}" for note in result.input_notes)]


def _area(result: SimResult) -> list[str]:
    total = result.area_total_mm2
    rows = [
        (name, f"{mm2:.4g}", f"{mm2 / total:.1%}")
        for name, mm2 in result.area_mm2.items()
        if mm2 > 0
    ]
    rows.append(("**chip**", f"**{total:.4g}**", "100%"))
    return [
        "## Area (mm^2)",
        "",
        *markdown_table(("component", "mm^2", "share"), rows, "lrr"),
        "",
        "PE array and SRAM buffers only (no control, clock tree or DRAM interface).",
    ]


def _energy(result: SimResult) -> list[str]:
    energy, unit = result.energy, result.energy_unit
    rows = [
        (name, format_energy(value, unit), f"{value / energy.total:.1%}")
        for name, value in sorted(energy.by_component.items(), key=lambda kv: -kv[1])
        if value > 0
    ]
    lines = [
        "## Energy by component",
        "",
        *markdown_table(("component", "energy", "share"), rows, "lrr"),
    ]
    top_actions = sorted(energy.by_action.items(), key=lambda kv: -kv[1])[:5]
    layers = sorted(result.layers, key=lambda layer: -layer.energy.total)[:5]
    lines += ["", "## Top energy consumers", "", "Actions:", ""]
    lines += markdown_table(
        ("action", "energy", "share"),
        [(k, format_energy(v, unit), f"{v / energy.total:.1%}") for k, v in top_actions if v > 0],
        "lrr",
    )
    lines += ["", "Layers:", ""]
    lines += markdown_table(
        ("layer", "energy", "share", "largest component"),
        [
            (
                layer.name,
                format_energy(layer.energy.total, unit),
                f"{layer.energy.total / energy.total:.1%}",
                max(layer.energy.by_component.items(), key=lambda kv: kv[1])[0],
            )
            for layer in layers
        ],
        "lrrl",
    )
    return lines


def _layer_row(layer: LayerResult, unit: str) -> tuple[str, ...]:
    roof = layer.roofline
    return (
        layer.name,
        layer.kind,
        f"{layer.m}x{layer.n}x{layer.k}" + (f" x{layer.groups}" if layer.groups > 1 else ""),
        f"{layer.macs:,}",
        f"{layer.cycles.total:,}",
        f"{layer.cycles.stall:,}",
        f"{layer.utilization:.1%}",
        format_bytes(layer.memory.dram_bytes),
        format_energy(layer.energy.total, unit),
        f"{roof.intensity:.3g}",
        roof.bound,
        f"{roof.roof_fraction:.0%}",
    )


def _layers(result: SimResult) -> list[str]:
    header = (
        "layer",
        "kind",
        "M x N x K",
        "MACs",
        "cycles",
        "stall",
        "util",
        "DRAM",
        "energy",
        "MAC/B",
        "bound",
        "of roof",
    )
    rows = [_layer_row(layer, result.energy_unit) for layer in result.layers]
    return [
        "## Layers",
        "",
        *markdown_table(header, rows, "llrrrrrrrrlr"),
        "",
        "MAC/B: MACs per DRAM byte. bound: the lowest roof at the layer's intensities; "
        "of roof: attained MAC/s as a share of it.",
    ]


def _tiling_note(result: SimResult) -> str:
    """``, stream tiles of Ts vectors`` in the setup row when tiling, else nothing."""
    tile = result.stream_tile_limit
    if not tile or result.config.dataflow is Dataflow.OS:
        return ""
    return f", stream tiles of {tile:,} vector{'s' if tile > 1 else ''}"


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
    extra_cycles = np.array(
        [
            alt.compute_cycles - layer.cycles.compute
            for alt, layer in zip(alternatives, spilling, strict=True)
        ]
    )
    extra_preloads = np.array(
        [
            layer.groups * layer.row_folds * layer.col_folds * (alt.stream_tiles - 1)
            for alt, layer in zip(alternatives, spilling, strict=True)
        ]
    )
    worst = np.argsort(-extra_cycles, kind="stable")[:3]
    each = "; ".join(
        f"{spilling[i].name} {alternatives[i].stream_tiles} tiles, "
        f"+{int(extra_preloads[i]):,} preloads, +{int(extra_cycles[i]):,} cycles"
        for i in worst
    )
    added = int(extra_cycles.sum())
    untiled = sum(layer.cycles.compute for layer in spilling)
    stream_tile = max(alt.stream_tile for alt in alternatives)
    return (
        f" Or `stream_tiling: fit` keeps them on chip by streaming at most "
        f"{stream_tile:,} vectors per fold, at the cost of "
        f"{int(extra_preloads.sum()):,} more preloads and fills in these layers: "
        f"+{added:,} compute cycles (+{added / untiled:.1%}) "
        f"before any saved stalls (most: {each})."
    )


def _bound_layers(result: SimResult) -> list[str]:
    lines = ["## Memory-bound layers", ""]
    cfg = result.config
    halves = 2 if cfg.sram_double_buffered else 1
    for level, what in (("dram", "DRAM bandwidth"), ("sram", "SRAM port bandwidth")):
        bound = [layer for layer in result.layers if layer.roofline.bound == level]
        if not bound:
            lines += [f"- No layer is bound by {what}."]
            continue
        worst = sorted(bound, key=lambda layer: -layer.cycles.stall)[:8]
        names = ", ".join(f"{layer.name} ({layer.roofline.roof_fraction:.0%})" for layer in worst)
        more = f" and {len(bound) - len(worst)} more" if len(bound) > len(worst) else ""
        lines += [f"- **{len(bound)} layers bound by {what}**: {names}{more}."]
    spilling = [layer for layer in result.layers if layer.memory.output.dram_read_bytes > 0]
    if spilling:
        spill = sum(layer.memory.output.dram_read_bytes + layer.memory.output.dram_write_bytes
                    - layer.m * layer.n * layer.groups * cfg.activation_bits / 8
                    for layer in spilling)  # fmt: skip
        needed = halves * max(layer.psum_block_bytes for layer in spilling)
        lines += [
            f"- **Partial sums spill to DRAM** in {len(spilling)} layers ({format_bytes(spill)} "
            f"written and read back): the output buffer ({format_bytes(cfg.ofmap_sram_bytes)}, "
            f"{'half' if halves == 2 else 'all'} of it usable) cannot hold one output block's "
            f"partial sums; `ofmap_sram_bytes` >= {format_bytes(needed)} keeps them on chip."
            + _spill_advice(spilling, cfg)
        ]
    stalled = sum(layer.cycles.stall for layer in result.layers)
    if stalled:
        lines += [
            f"- DRAM stalls are {stalled / result.cycles.total:.1%} of all cycles; "
            f"doubling `dram_bytes_per_cycle` or enlarging the SRAMs shortens them."
        ]
    return lines


def render_markdown(result: SimResult) -> str:
    """The full ``report.md`` text."""
    title = f"# {result.workload_name} on {result.config.name}"
    plots = [
        "## Plots",
        "",
        "![roofline](roofline.png)",
        "",
        "![energy per layer and component](energy.png)",
        "",
        "![cycles and utilization per layer](cycles.png)",
    ]
    notes = [
        "## Model",
        "",
        "Dense timing exactly as SCALE-Sim; memory traffic from the fold loop nest with the "
        "reuse model in `simulator/model/memory.py` (an operand that fits its usable SRAM is read "
        "from DRAM once; partial sums stay on chip when an output block fits); energy = "
        "action counts x the energy table; see the README section *Memory, energy, area and "
        "roofline*.",
    ]
    sections = [
        [title],
        _summary(result),
        _tokens(result),
        _input_notes(result),
        _area(result),
        _energy(result),
        _layers(result),
        compression_section(result),
        _bound_layers(result),
        plots,
        notes,
    ]
    return "\n\n".join("\n".join(section) for section in sections if section) + "\n"


def write_report(result: SimResult, out_dir: str | Path) -> tuple[Path, ...]:
    """Write ``report.md`` and the three plots into ``out_dir``; return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = out / REPORT_FILE
    report.write_text(render_markdown(result))
    return (report, *write_plots(result, out))
