"""The co-design run's report: the accelerators side by side, rendered from ``run.json``.

:func:`render_run_markdown` and :func:`comparison_figure` read only the run's record
(:meth:`~simulator.codesign.loop.CodesignRun.to_dict`) and the compression summary
(``summary.json``), so a run's report can be rendered again from its files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.reports.units import format_bytes, format_energy, markdown_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simulator.codesign.loop import CodesignRun

__all__ = [
    "COMPARISON_PLOT",
    "REPORT_FILE",
    "comparison_figure",
    "render_run_markdown",
    "verdict_lines",
    "write_run_report",
]

REPORT_FILE = "report.md"
COMPARISON_PLOT = "comparison.png"
_SAVINGS = ("sparsity", "values", "zero activations")


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _accuracy(data: Mapping[str, Any]) -> str:
    before, after = data["accuracy_before"], data["accuracy_after"]
    if before is None and after is None:
        return "no accuracy (the model has no data)"
    return f"accuracy {_pct(before)} -> {_pct(after)}"


def verdict_lines(data: Mapping[str, Any]) -> list[str]:
    """One line per accelerator: speed, energy and area against dense weights on the same
    array, then which accelerator wins what (for the terminal and the report)."""
    lines = [
        f"{accel['name']}: {accel['speedup']:.2f}x faster, energy x{accel['energy_ratio']:.2f}, "
        f"area {accel['area_mm2']:.3g} mm² (x{accel['area_ratio']:.2f} of its dense array); "
        f"{_accuracy(accel)}, storage {accel['storage_ratio_fp32']:.2f}x smaller than fp32"
        for accel in data["accelerators"]
    ]
    if len(data["accelerators"]) > 1:
        best = data["best"]
        lines.append(
            f"fastest {best['fastest']}, least energy {best['least_energy']}, "
            f"smallest {best['smallest']}"
        )
    return lines


def _side_by_side(data: Mapping[str, Any]) -> list[str]:
    accels = data["accelerators"]

    def row(label: str, render) -> tuple[str, ...]:
        return (label, *(render(a) for a in accels))

    def energy(a, key):
        return format_energy(a[key], a["energy_unit"])

    rows = [
        row("accuracy, dense -> compressed", lambda a: f"{_pct(a['accuracy_before'])} -> "
                                                     f"{_pct(a['accuracy_after'])}"),
        row("accuracy, integer model on this array", lambda a: _pct(a["accuracy_integer"])),
        row("storage vs fp32", lambda a: f"{a['storage_ratio_fp32']:.2f}x"),
        row("weights as this array holds them", lambda a: format_bytes(a["weight_dram_bits"] / 8)),
        row("cycles, dense -> compressed", lambda a: f"{a['baseline_cycles']:,} -> "
                                                   f"{a['cycles']:,}"),
        row("**speed-up**", lambda a: f"**{a['speedup']:.2f}x**"),
        row("latency", lambda a: f"{a['latency_s'] * 1e6:,.4g} us"),
        row("energy, dense -> compressed", lambda a: f"{energy(a, 'baseline_energy_pj')} -> "
                                                   f"{energy(a, 'energy_pj')}"),
        row("**energy ratio**", lambda a: f"**{a['energy_ratio']:.3f}**"),
        *(
            row(f"energy saved by {source}", lambda a, s=source: energy_share(a, s))
            for source in _SAVINGS
        ),
        row("DRAM traffic, dense -> compressed",
            lambda a: f"{format_bytes(a['baseline_dram_bytes'])} -> "
                      f"{format_bytes(a['dram_bytes'])}"),
        row("utilization", lambda a: f"{a['utilization']:.1%}"),
        row("**area**", lambda a: f"**{a['area_mm2']:.4g} mm²**"),
        row("area of the dense array", lambda a: f"{a['baseline_area_mm2']:.4g} mm² "
                                                f"(x{a['area_ratio']:.3f})"),
    ]  # fmt: skip
    header = ("", *(a["name"] for a in accels))
    return markdown_table(header, rows, "l" + "r" * len(accels))


def energy_share(accel: Mapping[str, Any], source: str) -> str:
    """Energy one saving step saved, as a share of the dense baseline's energy."""
    saved = accel["savings"].get(source)
    return "-" if saved is None else f"{saved / accel['baseline_energy_pj']:.2%}"


def _compression(data: Mapping[str, Any], summary: Mapping[str, Any]) -> list[str]:
    comp = data["compression"]
    lines = [
        "## Compression",
        "",
        f"Recipe `{data['recipe']}`"
        + (f", fine-tuned {data['finetune_epochs']} epochs per stage" if data["finetune_epochs"]
           else ", no fine-tuning")
        + (f", activations {data['activations']}" if data["activations"] else "")
        + f", seed {data['seed']}: {comp['total_bits']:,} bits, "
        f"**{comp['storage_ratio_fp32']:.2f}x** smaller than fp32 "
        f"({comp['storage_ratio_int8']:.2f}x than int8), density {comp['density']:.3f}; "
        + _accuracy(comp) + ".",
        "",
    ]  # fmt: skip
    rows = [
        (
            layer["name"],
            "x".join(map(str, layer["shape"])),
            _format(layer),
            f"{layer['density']:.3f}",
            f"{layer['bits_per_weight']:.3g}",
            f"{layer['ratio_vs_fp32']:.2f}x",
        )
        for layer in summary["layers"]
    ]
    lines += markdown_table(
        ("tensor", "shape", "format", "density", "bits/weight", "vs fp32"), rows, "lllrrr"
    )
    stages = summary.get("stages") or []
    if stages:
        stage_rows = [
            (s["name"], f"{s['total_bits']:,}", f"{s['ratio_vs_fp32']:.2f}x", _pct(s["accuracy"]))
            for s in stages
        ]
        lines += ["", *markdown_table(("stage", "bits", "vs fp32", "accuracy"), stage_rows, "lrrr")]
    return lines


def _format(layer: Mapping[str, Any]) -> str:
    parts = []
    if layer["nm"]:
        parts.append(f"{layer['nm'][0]}:{layer['nm'][1]}")
    elif layer["sparsity"] != "dense":
        parts.append(f"{layer['sparsity']} ({layer['index']})")
    parts.append(layer["value_format"])
    if layer["entropy_coded"]:
        parts.append("huffman")
    return " ".join(parts)


def _per_layer(data: Mapping[str, Any]) -> list[str]:
    accels = data["accelerators"]
    names = list(accels[0]["layers"])
    rows = []
    for name in names:
        cells = [name, accels[0]["layers"][name]["format"]]
        for accel in accels:
            layer = accel["layers"][name]
            cells.append(
                f"{layer['runs_as']}: {layer['speedup']:.2f}x, energy x{layer['energy_ratio']:.2f}"
                f" ({layer['limiter']})"
            )
        rows.append(tuple(cells))
    header = ("layer", "weights", *(a["name"] for a in accels))
    return [
        "## Per layer",
        "",
        "How each layer runs (dense, nm, skip), its speed-up and energy ratio against dense "
        "weights on the same array, and what keeps it from 1 / density (the limiter).",
        "",
        *markdown_table(header, rows, "ll" + "l" * len(accels)),
    ]


def _notes(data: Mapping[str, Any]) -> list[str]:
    lines = []
    for accel in data["accelerators"]:
        notes = [*accel["notes"]]
        if accel["integer_note"]:
            notes.append(f"integer model: {accel['integer_note']}")
        lines += [f"- {accel['name']}: {note}" for note in notes]
    return ["## Notes", "", *lines] if lines else []


def render_run_markdown(data: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    """``report.md`` of a run from its ``run.json`` record and ``summary.json``."""
    workload = data["workload"]
    accels = data["accelerators"]
    lines = [
        f"# Co-design: {data['model']} with `{data['recipe']}`",
        "",
        f"Model `{data['model']}` run as workload {workload['name']} ({workload['layers']} "
        f"layers, batch {workload['batch']}) on {len(accels)} accelerator"
        f"{'s' if len(accels) > 1 else ''}. Every ratio is against dense weights at the "
        "array's width on the same array with dense PEs (no N:M selects, no zero gating, no "
        "decoder).",
        "",
        "## Verdict",
        "",
        *(f"- {line}" for line in verdict_lines(data)),
        "",
        *_side_by_side(data),
        "",
        f"![speed-up, energy and area of each accelerator]({COMPARISON_PLOT})",
        "",
        *_compression(data, summary),
        "",
        *_per_layer(data),
        "",
    ]
    notes = _notes(data)
    if notes:
        lines += [*notes, ""]
    lines += [
        "## Files",
        "",
        f"- `{data['compression']['compressed']}`, `{data['compression']['summary']}`: the "
        "compressed model (as `sparsa compress` writes them)",
        *(
            f"- `{a['result']}`, `{a['report']}`: {a['name']} (as `sparsa simulate` writes them)"
            for a in accels
        ),
    ]
    return "\n".join(lines) + "\n"


def comparison_figure(data: Mapping[str, Any]) -> Figure:
    """Speed-up, energy ratio and area of every accelerator, beside its dense array."""
    from matplotlib.figure import Figure

    accels = data["accelerators"]
    names = [a["name"] for a in accels]
    x = range(len(accels))
    fig = Figure(figsize=(3.2 * 3 + 0.6 * len(accels), 3.8), dpi=110, layout="constrained")
    speed, energy, area = fig.subplots(1, 3)
    speed.bar(x, [a["speedup"] for a in accels], color="tab:blue")
    speed.axhline(1, color="black", lw=0.8)
    speed.set_title("speed-up vs dense weights")
    energy.bar(x, [a["energy_ratio"] for a in accels], color="tab:green")
    energy.axhline(1, color="black", lw=0.8)
    energy.set_title("energy / dense weights' energy")
    width = 0.38
    area.bar([i - width / 2 for i in x], [a["baseline_area_mm2"] for a in accels], width,
             color="lightgrey", label="dense array")  # fmt: skip
    area.bar([i + width / 2 for i in x], [a["area_mm2"] for a in accels], width,
             color="tab:orange", label="this array")  # fmt: skip
    area.set_title("area (mm²)")
    area.legend(fontsize=8, loc="lower right")
    for ax in (speed, energy, area):
        ax.set_xticks(list(x), names, rotation=20, ha="right", fontsize=8)
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle(f"{data['model']}: {data['recipe']}", fontsize=10)
    return fig


def write_run_report(run: CodesignRun, out: str | Path) -> tuple[Path, ...]:
    """Write ``report.md`` and ``comparison.png`` of ``run`` into ``out``."""
    out = Path(out)
    data = run.to_dict()
    report = out / REPORT_FILE
    report.write_text(render_run_markdown(data, run.model.summary()))
    plot = out / COMPARISON_PLOT
    comparison_figure(data).savefig(plot)
    return report, plot
