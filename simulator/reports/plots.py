"""The three PNG plots of a result: roofline, energy per layer, cycles and utilization
(and the compression plot of a compressed result).

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global backend
change), so the library works the same in scripts, tests and notebooks. matplotlib is
imported when a plot is drawn, not when sparsa is imported. Kept fast by
:mod:`simulator.reports.figure_layout`: one style for every figure, a fixed layout
measured once from the figure's texts, log axes labelled without mathtext, and each
figure drawn once, when it is saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from simulator.reports.figure_layout import (
    EDGE_IN,
    GAP_IN,
    axis_reach,
    figure_legend,
    fix_layout,
    legend_size,
    log_axes,
    new_figure,
    styled,
    text_height,
    text_width,
    tick_overhang,
)
from simulator.reports.units import energy_node, format_energy, format_si, plot_energy_scale
from simulator.results.result import SimResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "COMPRESSION_PLOT",
    "PLOT_FILES",
    "compression_figure",
    "cycles_figure",
    "energy_figure",
    "ridge_points",
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
    "dram_interface": "#e29a9c",
    "leakage": "#8c8c8c",
}
_DRAM_COLOR, _SRAM_COLOR = "#c44e52", "#4c72b0"
_PNG = {"compress_level": 1}  # zlib's fastest level: the same pixels, a few % larger


def _figure(width: float, height: float) -> Figure:
    return new_figure(width, height, _DPI)


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


def _title(fig: Figure, text: str, fontsize: float = 10) -> str:
    """``text`` wrapped to the figure's width, so that no title is clipped."""
    import textwrap

    chars = int(fig.get_figwidth() * 72 / (0.55 * fontsize))  # ~0.55 em per character
    return "\n".join(textwrap.fill(line, chars) for line in text.split("\n"))


def _place_labels(fig: Figure, ax, points, labels, obstacles, radii=None, texts=()) -> None:
    """Annotate ``points`` with ``labels`` where a label overlaps no other label, no
    marker (``obstacles``: data coordinates, ``radii`` their half-sizes in points) and none
    of ``texts`` (annotations already drawn); a label with no free place is left out.

    Each label's box is measured once and moved arithmetically over the candidate
    offsets; only the chosen place becomes an annotation."""
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    renderer = fig.canvas.get_renderer()
    to_display = ax.transData.transform
    pixels = fig.dpi / 72
    radii = np.full(len(obstacles), 5 / pixels) if radii is None else np.asarray(radii)
    taken = [
        Bbox.from_bounds(x - r * pixels, y - r * pixels, 2 * r * pixels, 2 * r * pixels)
        for (x, y), r in zip(to_display(obstacles), radii, strict=True)
    ]
    for text in texts:
        text.update_positions(renderer)
        taken.append(Text.get_window_extent(text, renderer))
    directions = [(1, 0.6), (1, -1), (-1, 0.6), (-1, -1), (0.3, 1.5), (0.3, -2), (-0.3, 1.5)]
    offsets = [(r * dx, r * dy) for r in (10, 22, 36, 52) for dx, dy in directions]
    for (x, y), label in zip(points, labels, strict=True):
        probe = Text(0, 0, label, fontsize=7)
        probe.set_figure(fig)
        size = probe.get_window_extent(renderer)
        px, py = to_display((x, y))
        for dx, dy in offsets:
            # ha "left" or "right" at the offset, va "center"; as the annotation lays out.
            left = px + dx * pixels - (0 if dx > 0 else size.width)
            bottom = py + dy * pixels - size.height / 2
            box = Bbox.from_bounds(left, bottom, size.width, size.height).expanded(1.04, 1.2)
            if not any(box.overlaps(other) for other in taken):
                taken.append(box)
                ax.annotate(
                    label,
                    (x, y),
                    xytext=(dx, dy),
                    textcoords="offset points",
                    fontsize=7,
                    ha="left" if dx > 0 else "right",
                    va="center",
                    arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.4"},
                ).set_in_layout(False)
                break


def _label_groups(result: SimResult, xs: np.ndarray, ys: np.ndarray):
    """The layers that take the most cycles, layers at the same point sharing one label."""
    groups: dict[tuple[float, float], list[int]] = {}
    for i in range(len(xs)):
        groups.setdefault(
            (round(float(np.log10(xs[i])), 3), round(float(np.log10(ys[i])), 3)), []
        ).append(i)
    ranked = sorted(groups.values(), key=lambda g: -sum(result.layers[i].cycles.total for i in g))
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


def _marker_sizes(result: SimResult) -> np.ndarray:
    """Marker areas (points^2): 18 plus up to 120 by the square root of the MAC share."""
    return 18 + 120 * np.sqrt([layer.macs / result.macs for layer in result.layers])


def _draw_layers(ax, result: SimResult, dram_x, sram_x, attained) -> None:
    """Each layer at its DRAM and its SRAM intensity, joined by a thin line."""
    for i in range(len(attained)):
        ax.plot([dram_x[i], sram_x[i]], [attained[i], attained[i]], color="0.8", lw=0.6, zorder=1)
    sizes = _marker_sizes(result)
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


def ridge_points(roofs) -> dict[str, float]:
    """Operational intensity (MAC/byte) where each memory roof meets the compute roof."""
    return {
        "DRAM": roofs.peak_macs_per_s / roofs.dram_bytes_per_s,
        "SRAM": roofs.peak_macs_per_s / roofs.sram_bytes_per_s,
    }


def _draw_ridges(ax, roofs):
    """Mark and annotate both ridge points above the compute roof; return them (data
    coordinates) and their annotations."""
    peak = roofs.peak_macs_per_s * 1e-9
    points, texts = [], []
    for what, x in ridge_points(roofs).items():
        color = _DRAM_COLOR if what == "DRAM" else _SRAM_COLOR
        ax.scatter([x], [peak], marker="D", s=36, color=color, edgecolor="black", zorder=4)
        texts.append(ax.annotate(
            f"{what} ridge\n{x:,.4g} MAC/B", (x, peak), xytext=(0, 7), textcoords="offset points",
            ha="center", va="bottom", fontsize=7, color=color,
        ))  # fmt: skip
        points.append((x, peak))
    return points, texts


@styled
def roofline_figure(result: SimResult) -> Figure:
    """Log-log roofline: every layer at its DRAM and its SRAM intensity, under the roofs,
    with both ridge points marked; the layers that take the most cycles are labelled."""
    roofs = result.roofs
    attained = np.array([layer.roofline.attained for layer in result.layers]) * 1e-9
    dram_x = np.array([layer.roofline.intensity for layer in result.layers])
    sram_x = np.array([layer.roofline.sram_intensity for layer in result.layers])
    peak = roofs.peak_macs_per_s * 1e-9
    # Show every point and both ridge points (where a memory roof meets the peak).
    ridges = list(ridge_points(roofs).values())
    low = min(dram_x.min(), sram_x.min(), *ridges) / 3
    high = max(dram_x.max(), sram_x.max(), *ridges) * 3
    fig = _figure(9, 6.3)
    ax = fig.add_subplot()
    _draw_roofs(ax, roofs, np.geomspace(low, high, 200))
    _draw_layers(ax, result, dram_x, sram_x, attained)
    ridge_marks, ridge_texts = _draw_ridges(ax, roofs)
    if result.compressed:
        low = min(low, _draw_moves(ax, result, dram_x, attained) / 3)
    log_axes(ax)
    ax.set_ylim(max(attained.min() / 4, peak * 1e-6), peak * 4)
    ax.set_xlim(low, high)
    ax.set_xlabel("operational intensity (MAC/byte)")
    ax.set_ylabel("attained throughput (GMAC/s)")
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(_title(fig, f"Roofline: {result.workload_name} on {result.config.name}\n"
                 "marker area ~ MACs; labelled: the layers that take the most cycles"))  # fmt: skip
    legend = figure_legend(fig, "bottom", ncol=2)
    overhang = tick_overhang(fig, ax.xaxis)
    fix_layout(
        fig,
        left=EDGE_IN + max(axis_reach(fig, ax.yaxis), overhang),
        right=EDGE_IN + overhang,
        bottom=EDGE_IN + legend_size(fig, legend)[1] + GAP_IN + axis_reach(fig, ax.xaxis),
        top=EDGE_IN + text_height(fig, ax.title) + GAP_IN,
    )  # before measuring the labels' places
    markers = np.column_stack([np.concatenate([dram_x, sram_x]), np.tile(attained, 2)])
    markers = np.vstack([markers, np.array(ridge_marks)])
    radii = np.concatenate([np.tile(np.sqrt(_marker_sizes(result)) / 2 + 1, 2), [4, 4]])
    labels = _label_groups(result, dram_x, attained)
    _place_labels(fig, ax, *labels, markers, radii, ridge_texts)
    return fig


def _stacked(ax, x, values: np.ndarray, components: list[str], labels: list[str] | None):
    """Bars of ``values[layer, component]`` stacked in component order."""
    bottom = np.zeros(len(x))
    for j, component in enumerate(components):
        label = labels[j] if labels else None
        color = _COMPONENT_COLORS.get(component)
        ax.bar(x, values[:, j], bottom=bottom, width=0.8, color=color, label=label)
        bottom += values[:, j]


@styled
def energy_figure(result: SimResult) -> Figure:
    """Stacked bars of every layer's energy by component: absolute above (one unit for the
    whole figure), shares below."""
    names = [layer.name for layer in result.layers]
    total = result.energy.total
    components = [c for c, v in result.energy.by_component.items() if v > 0]
    values = np.array(
        [[layer.energy.by_component[c] for c in components] for layer in result.layers]
    )
    per_layer = values.sum(axis=1)
    scale, unit = plot_energy_scale(float(per_layer.max()), result.energy_unit)
    fig = _figure(_layer_width(len(names)), 7.8)
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
    top.set_ylim(0, per_layer.max() / scale * 1.08 or 1.0)  # all zero: an empty axis
    top.ticklabel_format(axis="y", style="plain", useOffset=False)
    top.grid(True, axis="y", alpha=0.3)
    _stacked(bottom, x, 100 * values / np.maximum(per_layer, 1e-300)[:, None], components, None)
    bottom.set_ylabel("share of the layer (%)")
    bottom.set_ylim(0, 100)
    _layer_axis(bottom, names)
    node = energy_node(result)
    title = fig.suptitle(_title(fig, f"Energy per layer by component: {result.workload_name} "
                         f"on {result.config.name}\ntotal {total / scale:,.4g} {unit} {node}, "
                         f"{format_energy(total / result.macs, result.energy_unit)}/MAC"),
                         y=1 - EDGE_IN / fig.get_figheight(), va="top")  # fmt: skip
    legend = figure_legend(fig, "right", title="component (share of total)")
    fix_layout(
        fig,
        left=EDGE_IN + max(axis_reach(fig, top.yaxis), axis_reach(fig, bottom.yaxis)),
        right=EDGE_IN + legend_size(fig, legend)[0] + GAP_IN,
        bottom=EDGE_IN + axis_reach(fig, bottom.xaxis),
        top=EDGE_IN + text_height(fig, title) + GAP_IN,
        hgap=2 * GAP_IN,
    )
    return fig


_SPLIT_PARTS = (
    ("useful", "useful MACs", "#4c72b0"),
    ("mapping_loss", "mapping loss (idle PEs)", "#dd8452"),
    ("fill_drain", "fill/drain and preload", "#8172b3"),
    ("dram_stall", "DRAM stall", "#c44e52"),
)


@styled
def cycles_figure(result: SimResult) -> Figure:
    """Every layer's cycles split into useful MACs, mapping loss, fill/drain and DRAM stall,
    with the PE utilization on a second axis (scaled to its own range when it is small)."""
    names = [layer.name for layer in result.layers]
    parts = np.array(
        [[getattr(layer.cycle_split, f) for f, _, _ in _SPLIT_PARTS] for layer in result.layers]
    )
    totals = parts.sum(axis=1)
    util = np.array([layer.utilization for layer in result.layers]) * 100
    scale, unit = (1e6, "M cycles") if totals.max() >= 1e6 else (1e3, "k cycles")
    fig = _figure(_layer_width(len(names)), 5.8)
    ax = fig.add_subplot()
    x = np.arange(len(names))
    bottom = np.zeros(len(names))
    for j, (_, label, color) in enumerate(_SPLIT_PARTS):
        ax.bar(x, parts[:, j] / scale, bottom=bottom, width=0.8, color=color, label=label)
        bottom += parts[:, j] / scale
    ax.set_ylabel(f"cycles per layer ({unit})")
    ax.set_ylim(0, totals.max() / scale * 1.08)
    _layer_axis(ax, names)
    ax.grid(True, axis="y", alpha=0.3)
    util_ax = ax.twinx()
    top = 105.0 if util.max() > 20 else max(util.max() * 1.25, 0.01)
    label = "PE utilization (right axis" + (")" if top == 105 else f", 0-{top:.2g} %)")
    util_ax.plot(x, util, color="black", marker="o", ms=3, lw=1, label=label)
    util_ax.set_ylim(0, top)
    util_ax.set_ylabel("PE utilization (%)")
    split, cycles = result.cycle_split, result.cycles
    shares = ", ".join(f"{text.split(' (')[0]} {split.share(f):.0%}" for f, text, _ in _SPLIT_PARTS)
    ax.set_title(
        _title(
            fig,
            f"Cycles per layer: {result.workload_name} on {result.config.name}\n"
            f"{cycles.total:,} cycles ({shares}); limited by {result.limited_by}; "
            f"utilization {result.utilization:.1%}",
        )
    )
    legend = figure_legend(fig, "bottom", ncol=5 if fig.get_figwidth() > 12 else 3)
    fix_layout(
        fig,
        left=EDGE_IN + axis_reach(fig, ax.yaxis),
        right=EDGE_IN + axis_reach(fig, util_ax.yaxis),
        bottom=EDGE_IN + legend_size(fig, legend)[1] + GAP_IN + axis_reach(fig, ax.xaxis),
        top=EDGE_IN + text_height(fig, ax.title) + GAP_IN,
    )
    return fig


def _draw_speedups(speed, result: SimResult, layers) -> None:
    """Each compressed layer's speed-up, coloured by its limiter, and the ideal."""
    x = np.arange(len(layers))
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
    _layer_axis(speed, [layer.name for layer in layers])
    speed.grid(True, axis="y", alpha=0.3)
    speed.legend(fontsize=7, loc="upper right")
    speed.set_title(f"{result.speedup:.2f}x overall, {result.cycles.total:,} cycles")


def _draw_savings(saved, result: SimResult) -> None:
    """The energy each source saves, stacked by where (DRAM, SRAM, compute)."""
    places = ("dram", "sram", "compute")
    largest = max(abs(s.total) for s in result.savings) or 1.0
    scale, unit = plot_energy_scale(largest, result.energy_unit)
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
    saved.legend(fontsize=7)
    saved.grid(True, axis="y", alpha=0.3)
    saved.set_title(f"energy x{result.energy_ratio:.2f} of the dense baseline")


@styled
def compression_figure(result: SimResult) -> Figure:
    """Speed-up of every compressed layer over its dense baseline, coloured by its
    limiter, with the ideal 1 / density; and the energy saved by source."""
    layers = [layer for layer in result.layers if layer.weights.source != "dense"]
    fig = _figure(_layer_width(len(layers)) + 4, 5.5)
    speed, saved = fig.subplots(1, 2, width_ratios=[max(len(layers), 4), 4])
    _draw_speedups(speed, result, layers)
    _draw_savings(saved, result)
    title = fig.suptitle(
        _title(fig, f"Compression on {result.config.name}: {result.workload_name}"),
        fontsize=11,
        y=1 - EDGE_IN / fig.get_figheight(),
        va="top",
    )
    titles = max(text_height(fig, speed.title), text_height(fig, saved.title))
    margins = {
        "left": EDGE_IN + axis_reach(fig, speed.yaxis),
        "right": EDGE_IN + tick_overhang(fig, saved.xaxis),
        "bottom": EDGE_IN + max(axis_reach(fig, speed.xaxis), axis_reach(fig, saved.xaxis)),
        "top": EDGE_IN + text_height(fig, title) + titles + 2 * GAP_IN,
        "wgap": axis_reach(fig, saved.yaxis) + 2 * GAP_IN,
    }
    fix_layout(fig, **margins)
    # The narrow panel's title may be wider than the panel: keep it inside the figure.
    overhang = (text_width(fig, saved.title) - saved.get_position().width * fig.get_figwidth()) / 2
    if overhang > margins["right"] - EDGE_IN:
        fix_layout(fig, **(margins | {"right": EDGE_IN + overhang}))
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
        build(result).savefig(path, pil_kwargs=_PNG)
        paths.append(path)
    return tuple(paths)
