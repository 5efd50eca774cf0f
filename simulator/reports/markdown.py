"""The markdown report a hardware architect reads, and the files ``sparsa simulate`` writes.

``report.md``: a summary (cycles and where they go, the limiter, latency, throughput,
energy per MAC and area at the technology node, DRAM traffic against the compulsory, the
roofline), area and energy by component, the top energy consumers, a per-layer table,
what limits the layers with advice that follows each limiter, where the activations
between layers live, and the plots of :mod:`simulator.reports.plots`. Everything is rendered from a
:class:`~simulator.results.result.SimResult`, so ``sparsa report result.json`` re-renders it
without simulating.
"""

from __future__ import annotations

from pathlib import Path

from simulator.config import Dataflow
from simulator.reports.advice import activation_section, limits_section
from simulator.reports.compression import compression_section
from simulator.reports.plots import write_plots
from simulator.reports.units import (
    energy_node,
    format_bytes,
    format_energy,
    format_si,
    markdown_table,
)
from simulator.results.records import LIMITERS
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
        ("technology", f"{cfg.technology_nm:g} nm (energy and area scaled from the 45 nm "
                       "tables, Stillmaker and Baas 2017)"),
        ("activations", f"{cfg.inter_layer_activations.value} between layers"),
    ]  # fmt: skip


def _outcome_rows(result: SimResult) -> list[tuple[str, str]]:
    """What it cost: time and where it goes, energy, area, traffic, the roofline."""
    cycles, energy, roof, unit = result.cycles, result.energy, result.roofline, result.energy_unit
    table = result.energy_table["name"]
    if result.energy_table["overridden"]:
        table += " with overrides: " + ", ".join(result.energy_table["overridden"])
    roofs = ", ".join(
        f"{sum(layer.roofline.bound == name for layer in result.layers)} {name}"
        for name in ("compute", "dram", "sram")
    )
    limiters = ", ".join(
        f"{count} {name}"
        for name in LIMITERS
        if (count := sum(layer.limited_by == name for layer in result.layers))
    )
    split = result.cycle_split
    shares = ", ".join(
        f"{label} {split.share(field):.0%}"
        for label, field in (("useful MACs", "useful"), ("mapping loss", "mapping_loss"),
                             ("fill/drain", "fill_drain"), ("DRAM stall", "dram_stall"))
    )  # fmt: skip
    util = f"utilization {result.utilization:.1%}"
    per_mac = format_energy(energy.total / result.macs, unit)
    node = f"{result.config.technology_nm:g} nm"
    dram = result.memory.dram_bytes
    return [
        ("cycles", f"{cycles.total:,} ({cycles.compute:,} compute + {cycles.stall:,} DRAM stall)"),
        ("where they go", f"{shares}"),
        ("limited by", f"**{result.limited_by}**; layers: {limiters}"),
        ("latency", f"{result.latency_s * 1e3:.4g} ms "
                    f"({result.inferences_per_s:.4g} inferences/s)"),
        ("throughput", f"{format_si(result.macs_per_s, 'MAC/s')} of "
                       f"{format_si(roof.peak, 'MAC/s')} peak ({util})"),
        ("energy", f"{format_energy(energy.total, unit)} {energy_node(result)} "
                   f"({per_mac}/MAC, table {table})"),
        ("area", f"{result.area_total_mm2:.4g} mm^2 at {node}"),
        ("DRAM traffic", f"{format_bytes(dram)} ({roof.intensity:.3g} MAC/byte); the "
                         f"workload's compulsory {format_bytes(result.compulsory_dram_bytes)} "
                         "(weights once, its first input, its last output)"),
        ("roofline", f"under the {_roof_name(roof.bound)} roof overall ({roof.roof_fraction:.0%} "
                     f"of it); layers under each roof: {roofs}"),
    ]  # fmt: skip


def _roof_name(bound: str) -> str:
    return {"compute": "compute", "dram": "DRAM", "sram": "SRAM"}[bound]


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
    node = f"{result.config.technology_nm:g} nm"
    return [
        f"## Area (mm^2 at {node})",
        "",
        *markdown_table(("component", f"mm^2 at {node}", "share"), rows, "lrr"),
        "",
        "The PE array, its decoders and the SRAM buffers, the wiring, clock tree and "
        "placement around the logic (`logic_overhead`, 60 % placement utilization) and the "
        "DRAM interface's receivers; no controller or host interface.",
    ]


def _energy(result: SimResult) -> list[str]:
    energy, unit = result.energy, result.energy_unit
    rows = [
        (name, format_energy(value, unit), f"{value / energy.total:.1%}")
        for name, value in sorted(energy.by_component.items(), key=lambda kv: -kv[1])
        if value > 0
    ]
    node = energy_node(result)
    lines = [
        f"## Energy by component ({node})",
        "",
        *markdown_table(("component", f"energy {node}", "share"), rows, "lrr"),
    ]
    top_actions = sorted(energy.by_action.items(), key=lambda kv: -kv[1])[:5]
    layers = sorted(result.layers, key=lambda layer: -layer.energy.total)[:5]
    lines += ["", "## Top energy consumers", "", "Actions:", ""]
    lines += markdown_table(
        ("action", f"energy {node}", "share"),
        [(k, format_energy(v, unit), f"{v / energy.total:.1%}") for k, v in top_actions if v > 0],
        "lrr",
    )
    lines += ["", "Layers:", ""]
    lines += markdown_table(
        ("layer", f"energy {node}", "share", "largest component"),
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
        layer.limited_by,
        format_bytes(layer.memory.dram_bytes),
        format_energy(layer.energy.total, unit),
        f"{roof.intensity:.3g}",
        _roof_name(roof.bound),
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
        "limited by",
        "DRAM",
        f"energy {energy_node(result)}",
        "MAC/B",
        "under roof",
        "of roof",
    )
    rows = [_layer_row(layer, result.energy_unit) for layer in result.layers]
    return [
        "## Layers",
        "",
        *markdown_table(header, rows, "llrrrrrlrrrlr"),
        "",
        "limited by: the largest share of the layer's cycles (useful MACs: `compute`; "
        "`mapping loss`: PEs idle while vectors stream; `fill/drain`: skew fill, drain and "
        "preloads; `DRAM stall`). MAC/B: MACs per DRAM byte. under roof: the lowest "
        "roofline roof at the layer's intensities; of roof: attained MAC/s as a share of it.",
    ]


def _tiling_note(result: SimResult) -> str:
    """``, stream tiles of Ts vectors`` in the setup row when tiling, else nothing."""
    tile = result.stream_tile_limit
    if not tile or result.config.dataflow is Dataflow.OS:
        return ""
    return f", stream tiles of {tile:,} vector{'s' if tile > 1 else ''}"


def render_markdown(result: SimResult, with_plots: bool = True) -> str:
    """The full ``report.md`` text; ``with_plots=False`` leaves out the plots' section."""
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
        "from DRAM once; partial sums stay on chip when an output block fits); activations "
        "between layers as `simulator/model/residency.py` places them; energy = action "
        "counts x the energy table (PE registers and hops as flip-flop writes), scaled to "
        "the technology node; see the README section *Memory, energy, area and roofline*.",
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
        limits_section(result),
        activation_section(result),
        plots if with_plots else [],
        notes,
    ]
    return "\n\n".join("\n".join(section) for section in sections if section) + "\n"


def write_report(
    result: SimResult, out_dir: str | Path, with_plots: bool = True
) -> tuple[Path, ...]:
    """Write ``report.md`` and the plots (unless ``with_plots`` is false) into ``out_dir``;
    return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = out / REPORT_FILE
    report.write_text(render_markdown(result, with_plots))
    return (report, *(write_plots(result, out) if with_plots else ()))
