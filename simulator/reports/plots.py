"""The three PNG plots of a result: roofline, energy per layer, cycles and utilization.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global backend
change), so the library works the same in scripts, tests and notebooks. matplotlib is
imported when a plot is drawn, not when sparsa is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simulator.reports.units import energy_scale, format_energy, format_si
from simulator.results.result import SimResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "COMPRESSION_PLOT",
    "PLOT_FILES",
    "compression_figure",
    "cycles_figure",
    "energy_figure",
    "roofline_figure",
    "write_plots",
]

PLOT_FILES = ("roofline.png", "energy.png", "cycles.png")
COMPRESSION_PLOT = "compression.png"
_LIMITER_COLORS = {
    "none": "#55a868",
    "fill and drain": "#8172b3",
    "fold quantisation": "#ccb974",
    "imbalance": "#dd8452",
    "memory bound": "#c44e52",
    "runs dense": "#8c8c8c",
    "dense": "#cfcfcf",
}
_DPI = 130
_MAX_LABELLED = 8
_COMPONENT_COLORS = {
    "pe": "#4c72b0",
    "register": "#8172b3",
    "array": "#64b5cd",
    "input_sram": "#55a868",
    "weight_sram": "#ccb974",
    "output_sram": "#937860",
    "dram": "#c44e52",
    "leakage": "#8c8c8c",
}
_DRAM_COLOR, _SRAM_COLOR = "#c44e52", "#4c72b0"


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=_DPI, layout="constrained")


def _layer_width(layers: int) -> float:
    return float(np.clip(4.0 + 0.22 * layers, 8.0, 22.0))


def _short(name: str, limit: int = 18) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "~"


def _layer_axis(ax, names: list[str]) -> None:
    count = len(names)
    step = max(1, int(np.ceil(count / 60)))
    ax.set_xticks(np.arange(0, count, step))
    ax.set_xticklabels(
        [_short(n) for n in names[::step]], rotation=90, fontsize=8 if count <= 40 else 6
    )
    ax.set_xlim(-0.7, count - 0.3)
    ax.set_xlabel("layer (in execution order)")


def _place_labels(fig: Figure, ax, points, labels, obstacles) -> None:
    """Annotate ``points`` with ``labels`` where a label overlaps no other label and no
    marker (``obstacles``: data coordinates); a label with no free place is left out."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    renderer = FigureCanvasAgg(fig).get_renderer()
    to_display = ax.transData.transform
    taken = [Bbox.from_bounds(x - 5, y - 5, 10, 10) for x, y in to_display(obstacles)]
    directions = [(1, 0.6), (1, -1), (-1, 0.6), (-1, -1), (0.3, 1.5), (0.3, -2), (-0.3, 1.5)]
    offsets = [(r * dx, r * dy) for r in (10, 22, 36, 52) for dx, dy in directions]
    for (x, y), label in zip(points, labels, strict=True):
        for dx, dy in offsets:
            text = ax.annotate(
                label,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                fontsize=7,
                ha="left" if dx > 0 else "right",
                va="center",
                arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.4"},
            )
            text.set_in_layout(False)
            # The text's own box, not Annotation's, which includes the leader line.
            box = Text.get_window_extent(text, renderer).expanded(1.04, 1.2)
            if not any(box.overlaps(other) for other in taken):
                taken.append(box)
                break
            text.remove()


def _label_groups(result: SimResult, xs: np.ndarray, ys: np.ndarray):
    """The largest layers by MACs, layers at the same point sharing one label."""
    groups: dict[tuple[float, float], list[int]] = {}
    for i in range(len(xs)):
        groups.setdefault(
            (round(float(np.log10(xs[i])), 3), round(float(np.log10(ys[i])), 3)), []
        ).append(i)
    ranked = sorted(groups.values(), key=lambda g: -sum(result.layers[i].macs for i in g))
    points, labels = [], []
    for members in ranked[:_MAX_LABELLED]:
        first = members[0]
        extra = f" (+{len(members) - 1})" if len(members) > 1 else ""
        points.append((xs[first], ys[first]))
        labels.append(_short(result.layers[first].name) + extra)
    return points, labels


def _draw_roofs(ax, roofs, xs: np.ndarray) -> None:
    """The compute roof and the DRAM and SRAM roofs, in GMAC/s over ``xs`` MAC/byte."""
    peak = roofs.peak_macs_per_s * 1e-9
    label = f"compute roof {format_si(roofs.peak_macs_per_s, 'MAC/s')}"
    ax.plot(xs, np.full_like(xs, peak), color="black", lw=2, label=label)
    for bw, color, what in (
        (roofs.dram_bytes_per_s, _DRAM_COLOR, "DRAM"),
        (roofs.sram_bytes_per_s, _SRAM_COLOR, "SRAM"),
    ):
        label = f"{what} roof {format_si(bw, 'B/s')}"
        ax.plot(xs, np.minimum(peak, xs * bw * 1e-9), color=color, lw=2, ls="--", label=label)


def _draw_layers(ax, result: SimResult, dram_x, sram_x, attained) -> None:
    """Each layer at its DRAM and its SRAM intensity, joined by a thin line."""
    for i in range(len(attained)):
        ax.plot([dram_x[i], sram_x[i]], [attained[i], attained[i]], color="0.8", lw=0.6, zorder=1)
    sizes = 18 + 120 * np.sqrt([layer.macs / result.macs for layer in result.layers])
    ax.scatter(dram_x, attained, s=sizes, color=_DRAM_COLOR, edgecolor="white", zorder=3,
               label="layer at its DRAM intensity (MAC per DRAM byte)")  # fmt: skip
    ax.scatter(sram_x, attained, s=sizes, facecolor="none", edgecolor=_SRAM_COLOR, zorder=3,
               marker="^", label="layer at its SRAM intensity (MAC per SRAM byte)")  # fmt: skip


def _draw_moves(ax, result: SimResult, dram_x, attained) -> float:
    """Each compressed layer's move from its dense baseline to here, at DRAM intensity;
    returns the lowest baseline intensity drawn."""
    clock = result.config.clock_hz
    picked = [i for i, layer in enumerate(result.layers) if layer.weights.source != "dense"]
    base_x = np.array([result.layers[i].macs / result.layers[i].baseline.dram_bytes
                       for i in picked])  # fmt: skip
    base_y = np.array([result.layers[i].macs * clock / result.layers[i].baseline.cycles
                       for i in picked]) * 1e-9  # fmt: skip
    ax.scatter(base_x, base_y, s=14, facecolor="none", edgecolor="0.45", zorder=2,
               label="dense baseline of a compressed layer (arrow: to compressed)")  # fmt: skip
    arrow = {"arrowstyle": "->", "lw": 0.6, "color": "0.45"}
    for j, i in enumerate(picked):
        ax.annotate("", (dram_x[i], attained[i]), (base_x[j], base_y[j]), arrowprops=arrow)
    return float(base_x.min()) if picked else float("inf")


def roofline_figure(result: SimResult) -> Figure:
    """Log-log roofline: every layer at its DRAM and its SRAM intensity, under the roofs."""
    roofs = result.roofs
    attained = np.array([layer.roofline.attained for layer in result.layers]) * 1e-9
    dram_x = np.array([layer.roofline.intensity for layer in result.layers])
    sram_x = np.array([layer.roofline.sram_intensity for layer in result.layers])
    peak = roofs.peak_macs_per_s * 1e-9
    # Show every point and both ridge points (where a memory roof meets the peak).
    low = min(dram_x.min(), sram_x.min(), roofs.peak_macs_per_s / roofs.dram_bytes_per_s) / 3
    high = max(dram_x.max(), sram_x.max(), roofs.peak_macs_per_s / roofs.sram_bytes_per_s) * 3
    fig = _figure(9, 6)
    ax = fig.add_subplot()
    _draw_roofs(ax, roofs, np.geomspace(low, high, 200))
    _draw_layers(ax, result, dram_x, sram_x, attained)
    if result.compressed:
        low = min(low, _draw_moves(ax, result, dram_x, attained) / 3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(max(attained.min() / 4, peak * 1e-6), peak * 3)
    ax.set_xlim(low, high)
    ax.set_xlabel("operational intensity (MAC/byte)")
    ax.set_ylabel("attained throughput (GMAC/s)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(f"Roofline: {result.workload_name} on {result.config.name} "
                 f"(marker area ~ MACs; labelled: largest layers)", fontsize=11)  # fmt: skip
    fig.legend(loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    fig.get_layout_engine().execute(fig)  # fix the axes' place before measuring labels
    markers = np.column_stack([np.concatenate([dram_x, sram_x]), np.tile(attained, 2)])
    _place_labels(fig, ax, *_label_groups(result, dram_x, attained), markers)
    return fig


def _stacked(ax, x, values: np.ndarray, components: list[str], labels: list[str] | None):
    """Bars of ``values[layer, component]`` stacked in component order."""
    bottom = np.zeros(len(x))
    for j, component in enumerate(components):
        label = labels[j] if labels else None
        color = _COMPONENT_COLORS.get(component)
        ax.bar(x, values[:, j], bottom=bottom, width=0.8, color=color, label=label)
        bottom += values[:, j]


def energy_figure(result: SimResult) -> Figure:
    """Stacked bars of every layer's energy by component: absolute above, shares below."""
    names = [layer.name for layer in result.layers]
    total = result.energy.total
    components = [c for c, v in result.energy.by_component.items() if v > 0]
    values = np.array(
        [[layer.energy.by_component[c] for c in components] for layer in result.layers]
    )
    per_layer = values.sum(axis=1)
    scale, unit = energy_scale(float(per_layer.max()), result.energy_unit)
    fig = _figure(_layer_width(len(names)), 7.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    x = np.arange(len(names))
    shares = [result.energy.by_component[c] / total for c in components]
    _stacked(
        top,
        x,
        values / scale,
        components,
        [f"{c} ({s:.0%})" for c, s in zip(components, shares, strict=True)],
    )
    top.set_ylabel(f"energy per layer ({unit})")
    top.grid(True, axis="y", alpha=0.3)
    _stacked(bottom, x, 100 * values / np.maximum(per_layer, 1e-300)[:, None], components, None)
    bottom.set_ylabel("share of the layer (%)")
    bottom.set_ylim(0, 100)
    _layer_axis(bottom, names)
    per_mac = format_energy(total / result.macs, result.energy_unit)
    fig.suptitle(f"Energy per layer by component: {result.workload_name} on "
                 f"{result.config.name}, total {format_energy(total, result.energy_unit)} "
                 f"({per_mac}/MAC)", fontsize=11)  # fmt: skip
    fig.legend(loc="outside right center", fontsize=8, title="component (share of total)",
               title_fontsize=8, frameon=False)  # fmt: skip
    return fig


def cycles_figure(result: SimResult) -> Figure:
    """Stacked compute and DRAM-stall cycles per layer, with utilization on a second axis."""
    names = [layer.name for layer in result.layers]
    compute = np.array([layer.cycles.compute for layer in result.layers], dtype=float)
    stall = np.array([layer.cycles.stall for layer in result.layers], dtype=float)
    util = np.array([layer.utilization for layer in result.layers]) * 100
    scale, unit = (1e6, "M cycles") if (compute + stall).max() >= 1e6 else (1e3, "k cycles")
    fig = _figure(_layer_width(len(names)), 5.5)
    ax = fig.add_subplot()
    x = np.arange(len(names))
    ax.bar(x, compute / scale, width=0.8, color="#4c72b0", label="compute (incl. fill/drain)")
    ax.bar(x, stall / scale, bottom=compute / scale, width=0.8, color="#c44e52", label="DRAM stall")
    ax.set_ylabel(f"cycles per layer ({unit})")
    _layer_axis(ax, names)
    ax.grid(True, axis="y", alpha=0.3)
    util_ax = ax.twinx()
    util_ax.plot(
        x, util, color="black", marker="o", ms=3, lw=1, label="PE utilization (right axis)"
    )
    util_ax.set_ylim(0, 105)
    util_ax.set_ylabel("PE utilization (%)")
    cycles = result.cycles
    ax.set_title(
        f"Cycles and utilization per layer: {result.workload_name} on "
        f"{result.config.name}, {cycles.total:,} cycles "
        f"({cycles.stall / cycles.total:.0%} stall), utilization "
        f"{result.utilization:.1%}",
        fontsize=11,
    )
    fig.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    return fig


def compression_figure(result: SimResult) -> Figure:
    """Speed-up of every compressed layer over its dense baseline, coloured by its
    limiter, with the ideal 1 / density; and the energy saved by source."""
    layers = [layer for layer in result.layers if layer.weights.source != "dense"]
    names = [layer.name for layer in layers]
    fig = _figure(_layer_width(len(names)) + 4, 5.5)
    speed, saved = fig.subplots(1, 2, width_ratios=[max(len(names), 4), 4])
    x = np.arange(len(names))
    colors = [_LIMITER_COLORS.get(layer.limiter, "0.5") for layer in layers]
    speed.bar(x, [layer.speedup for layer in layers], width=0.8, color=colors)
    ideal = [1 / layer.weights.density for layer in layers]
    speed.scatter(x, ideal, marker="_", s=120, color="black", zorder=3, label="ideal 1 / density")
    speed.axhline(1.0, color="0.3", lw=0.8)
    for limiter, color in _LIMITER_COLORS.items():
        if any(layer.limiter == limiter for layer in layers):
            speed.bar([0], [0], color=color, label=f"limiter: {limiter}")
    speed.set_ylabel("speed-up over the dense baseline (x)")
    speed.set_ylim(0, max(max(ideal), max(layer.speedup for layer in layers)) * 1.15)
    _layer_axis(speed, names)
    speed.grid(True, axis="y", alpha=0.3)
    speed.legend(fontsize=7, loc="upper right", frameon=False)
    speed.set_title(f"{result.speedup:.2f}x overall, {result.cycles.total:,} cycles", fontsize=10)
    places = ("dram", "sram", "compute")
    scale, unit = energy_scale(max(abs(s.total) for s in result.savings) or 1.0, result.energy_unit)
    steps = np.arange(len(result.savings))
    for place, color in zip(places, (_DRAM_COLOR, "#55a868", _SRAM_COLOR), strict=True):
        values = np.array([getattr(s, place) for s in result.savings]) / scale
        bottom = np.array([sum(max(0.0, getattr(s, p)) for p in places[: places.index(place)])
                           for s in result.savings]) / scale  # fmt: skip
        saved.bar(steps, np.maximum(values, 0), bottom=bottom, color=color, label=place)
        saved.bar(steps, np.minimum(values, 0), color=color, alpha=0.5)
    saved.axhline(0, color="0.3", lw=0.8)
    saved.set_xticks(steps)
    saved.set_xticklabels([s.source for s in result.savings], rotation=30, fontsize=8)
    saved.set_ylabel(f"energy saved ({unit})")
    saved.legend(fontsize=7, frameon=False)
    saved.grid(True, axis="y", alpha=0.3)
    saved.set_title(f"energy x{result.energy_ratio:.2f} of the dense baseline", fontsize=10)
    fig.suptitle(f"Compression on {result.config.name}: {result.workload_name}", fontsize=11)
    return fig


def write_plots(result: SimResult, out_dir: str | Path) -> tuple[Path, ...]:
    """Write ``roofline.png``, ``energy.png`` and ``cycles.png`` into ``out_dir``, and
    ``compression.png`` when some layer is compressed."""
    out = Path(out_dir)
    builds = dict(zip(PLOT_FILES, (roofline_figure, energy_figure, cycles_figure), strict=True))
    if result.compressed:
        builds[COMPRESSION_PLOT] = compression_figure
    paths = []
    for name, build in builds.items():
        path = out / name
        build(result).savefig(path)
        paths.append(path)
    return tuple(paths)
