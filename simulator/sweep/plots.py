"""Plots of a finished sweep: the Pareto scatter, a heatmap over two axes, per-dataflow panels,
and for a recipe sweep accuracy against latency, energy and area, one colour per recipe.

All figures are written as PNG next to the results, one set per workload. Drawn with
matplotlib's object API on the Agg canvas (no pyplot, no global backend change);
matplotlib is imported when a plot is drawn.
"""

from __future__ import annotations

import itertools
import re
import textwrap
from pathlib import Path

import numpy as np

from compress.errors import InputError
from simulator.reports.units import format_bytes
from simulator.sweep.store import MANIFEST, StoreError, Table, read_manifest, read_table

__all__ = ["load_results", "plot_sweep"]

_COLUMNS = {"point_id": "i", "workload": "s", "latency_s": "if", "energy_pj": "if",
            "area_mm2": "if", "edp": "if", "feasible": "b", "pareto": "b"}  # fmt: skip
"""The columns every plot reads, by the numpy kinds they may have."""

_LABELS = {
    "latency_s": "latency (s)",
    "energy_pj": "energy (pJ)",
    "area_mm2": "area (mm²)",
    "edp": "energy-delay product (pJ·s)",
    "utilization": "PE utilization",
    "cycles": "cycles",
}


def load_results(root: str | Path) -> tuple[Table, dict]:
    """The results table and the manifest of a finished sweep directory, checked to hold
    the columns the plots read (a hand-edited file is an error naming the column)."""
    root = Path(root)
    if not root.is_dir():
        problem = "is not a folder" if root.exists() else "does not exist"
        raise StoreError(f"{root} {problem}; give the --out folder of a sweep")
    if not (root / MANIFEST).is_file():
        raise StoreError(f"{root} holds no sweep (no {MANIFEST})")
    manifest = read_manifest(root / MANIFEST)
    spec = manifest.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("axes"), dict) or not spec["axes"]:
        raise StoreError(f"{root / MANIFEST}: 'spec' must be a mapping with the swept 'axes'")
    results = root / f"results.{'parquet' if manifest['format'] == 'parquet' else 'csv'}"
    if not results.is_file():
        raise StoreError(f"{root}: the sweep is not finished; run `sparsa sweep` again")
    table = read_table(results, manifest["format"])
    wanted = {**_COLUMNS, **{str(axis): "biufsO" for axis in spec["axes"]}}
    if "recipe" in table:
        wanted |= {"recipe": "s", "accuracy": "f"}
    for name, kinds in wanted.items():
        if name not in table:
            raise StoreError(f"{results} has no column {name!r}; it is not a sweep's results")
        kind = table[name].dtype.kind
        if not (kind in kinds or (kind == "O" and "s" in kinds)):
            raise StoreError(
                f"{results}: column {name!r} holds {table[name].dtype} values, not "
                f"{'/'.join(_KIND_NAMES[k] for k in kinds if k in _KIND_NAMES)}"
            )
    return table, manifest


_KIND_NAMES = {"i": "integer", "f": "float", "b": "boolean", "s": "text"}


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=130, layout="constrained")


def _log_norm(low: float, high: float):
    from matplotlib.colors import LogNorm

    return LogNorm(low, high)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _describe(table: Table, axes: list[str], row: int) -> str:
    parts = []
    if "rows" in table and "cols" in table:
        parts.append(f"{table['rows'][row]}x{table['cols'][row]}")
    for name in axes:
        if name in ("rows", "cols"):
            continue
        value = table[name][row]
        parts.append(f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}")
        if len(parts) >= 3:
            break
    return " ".join(parts)


def _units(table: Table) -> tuple[float, str, float, str]:
    """Scale factors and labels: mJ and ms when energies are in pJ."""
    unit = str(table["energy_unit"][0]) if "energy_unit" in table else "pJ"
    if unit == "pJ":
        return 1e-9, "energy (mJ)", 1e3, "latency (ms)"
    return 1.0, f"energy ({unit})", 1e3, "latency (ms)"


def _front_2d(latency: np.ndarray, energy: np.ndarray) -> np.ndarray:
    """Indices of the latency-energy Pareto front, sorted by latency."""
    order = np.lexsort((energy, latency))
    best = np.minimum.accumulate(energy[order])
    keep = np.concatenate(([True], energy[order][1:] < best[:-1]))
    return order[keep]


def _scatter(ax, table: Table, rows: np.ndarray, norm, scale: tuple) -> object:
    e_scale, _, t_scale, _ = scale
    feasible = rows[table["feasible"][rows]]
    infeasible = rows[~table["feasible"][rows]]
    latency = table["latency_s"] * t_scale
    energy = table["energy_pj"] * e_scale
    if len(infeasible):
        ax.scatter(
            latency[infeasible],
            energy[infeasible],
            s=6,
            c="lightgrey",
            label="violates a constraint",
            zorder=1,
        )
    points = ax.scatter(
        latency[feasible],
        energy[feasible],
        s=10,
        c=table["area_mm2"][feasible],
        cmap="viridis",
        norm=norm,
        zorder=2,
    )
    optimal = feasible[table["pareto"][feasible]]
    ax.scatter(
        latency[optimal],
        energy[optimal],
        s=55,
        facecolors="none",
        edgecolors="crimson",
        linewidths=1.1,
        label="Pareto-optimal in (latency, energy, area)",
        zorder=3,
    )
    if len(feasible):
        front = feasible[_front_2d(latency[feasible], energy[feasible])]
        ax.step(
            latency[front],
            energy[front],
            where="post",
            color="crimson",
            lw=1,
            alpha=0.8,
            label="latency-energy front",
            zorder=3,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    return points


def _colorbar(fig, points, ax) -> None:
    from matplotlib.ticker import FormatStrFormatter

    bar = fig.colorbar(points, ax=ax, label=_LABELS["area_mm2"])
    bar.ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    bar.ax.yaxis.set_minor_formatter(FormatStrFormatter("%.3g"))


def _pareto_figure(table: Table, rows: np.ndarray, axes: list[str], title: str, path: Path) -> None:
    scale = _units(table)
    e_scale, e_label, t_scale, t_label = scale
    fig = _figure(9.5, 7.5)
    ax = fig.subplots()
    norm = _log_norm(*_range(table["area_mm2"][rows]))
    points = _scatter(ax, table, rows, norm, scale)
    feasible = rows[table["feasible"][rows]]
    best = {
        "fastest": feasible[np.argmin(table["latency_s"][feasible])],
        "least energy": feasible[np.argmin(table["energy_pj"][feasible])],
        "best EDP": feasible[np.argmin(table["edp"][feasible])],
        "smallest": feasible[np.argmin(table["area_mm2"][feasible])],
    }
    e_unit = e_label.split("(")[-1].rstrip(")")
    keys = []
    numbers: dict[int, list[str]] = {}
    for number, (label, row) in enumerate(best.items(), start=1):
        numbers.setdefault(int(row), []).append(str(number))
        x, y = table["latency_s"][row] * t_scale, table["energy_pj"][row] * e_scale
        keys.append(
            f"{number}  {label}: {_describe(table, axes, row)}   {x:.3g} ms, "
            f"{y:.3g} {e_unit}, {table['area_mm2'][row]:.3g} mm²"
        )
    for row, tags in numbers.items():
        x, y = table["latency_s"][row] * t_scale, table["energy_pj"][row] * e_scale
        ax.annotate(
            ",".join(tags),
            (x, y),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=9,
            fontweight="bold",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "black", "lw": 0.6},
        )
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], linestyle="none") for _ in keys]
    fig.legend(
        handles,
        keys,
        loc="outside lower center",
        ncols=1,
        fontsize=8,
        handlelength=0,
        handletextpad=0,
        title="best points (numbered on the plot)",
        title_fontsize=8,
    )
    _colorbar(fig, points, ax)
    ax.set_xlabel(t_label)
    ax.set_ylabel(e_label)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.savefig(path, dpi=130)


def _range(values: np.ndarray) -> tuple[float, float]:
    positive = values[values > 0]
    low, high = (float(positive.min()), float(positive.max())) if len(positive) else (1.0, 10.0)
    return low, max(high, low * 1.0001)


def _bins(values: np.ndarray, name: str = "") -> tuple[np.ndarray, list[str]]:
    """Category index per row and tick labels: the distinct values, or 8 log/linear bins
    (sizes of ``*_bytes`` axes in KiB/MiB)."""

    def text(v) -> str:
        if name.endswith("_bytes") and not isinstance(v, str):
            return format_bytes(float(v))
        return f"{v:.3g}" if isinstance(v, float) else str(v)

    distinct = np.unique(values)
    if len(distinct) <= 12 or values.dtype.kind not in "iuf":
        index = np.searchsorted(distinct, values)
        return index, [text(v) for v in distinct]
    numeric = values.astype(float)
    edges = (np.geomspace if numeric.min() > 0 else np.linspace)(numeric.min(), numeric.max(), 9)
    index = np.clip(np.searchsorted(edges, numeric, side="right") - 1, 0, 7)
    return index, [f"{text(a)}–{text(b)}" for a, b in itertools.pairwise(edges)]


def _heatmap(
    table: Table, rows: np.ndarray, metric: str, x: str, y: str, title: str, path: Path
) -> None:
    rows = rows[table["feasible"][rows]]
    xi, xlabels = _bins(table[x][rows], x)
    yi, ylabels = _bins(table[y][rows], y)
    grid = np.full((len(ylabels), len(xlabels)), np.nan)
    np.fmin.at(grid, (yi, xi), table[metric][rows].astype(float))
    if not np.isfinite(grid).any():
        raise InputError(f"metric {metric!r} has no finite value in the feasible rows to map")
    fig = _figure(1.1 * len(xlabels) + 3, 0.55 * len(ylabels) + 2.5)
    ax = fig.subplots()
    image = ax.imshow(
        grid,
        origin="lower",
        cmap="magma_r",
        aspect="auto",
        norm=_log_norm(*_range(grid[np.isfinite(grid)])),
    )
    ax.set_xticks(range(len(xlabels)), xlabels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(ylabels)), ylabels, fontsize=8)
    best = np.unravel_index(np.nanargmin(grid), grid.shape)
    ax.scatter([best[1]], [best[0]], marker="*", s=160, color="#2ca02c", edgecolor="white",
               zorder=3, label="best cell")  # fmt: skip
    ax.legend(loc="upper right", fontsize=7, framealpha=0.8)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    chars = int(fig.get_figwidth() * 72 / (0.55 * 9))  # wrap to the figure: never clipped
    text = f"{title}\nbest {metric} over the other axes (blank: no feasible point)"
    ax.set_title("\n".join(textwrap.fill(line, chars) for line in text.split("\n")), fontsize=9)
    fig.colorbar(image, ax=ax, label=_LABELS.get(metric, metric))
    fig.savefig(path, dpi=130)


def _dataflow_panels(table: Table, rows: np.ndarray, title: str, path: Path) -> None:
    scale = _units(table)
    dataflows = sorted(set(table["dataflow"][rows])) if "dataflow" in table else ["(base)"]
    fig = _figure(4.5 * len(dataflows) + 1.5, 4.8)
    panels = fig.subplots(1, len(dataflows), sharex=True, sharey=True, squeeze=False)
    norm = _log_norm(*_range(table["area_mm2"][rows]))
    points = None
    for ax, dataflow in zip(panels[0], dataflows, strict=True):
        subset = rows if dataflow == "(base)" else rows[table["dataflow"][rows] == dataflow]
        points = _scatter(ax, table, subset, norm, scale)
        n_opt = int(table["pareto"][subset].sum())
        ax.set_title(
            f"dataflow {dataflow}: {len(subset)} configs, {n_opt} Pareto-optimal", fontsize=10
        )
        ax.set_xlabel(scale[3])
        ax.grid(True, alpha=0.3)
    panels[0][0].set_ylabel(scale[1])
    panels[0][0].legend(loc="upper left", fontsize=7)
    _colorbar(fig, points, panels[0].tolist())
    fig.suptitle(f"{title}: one panel per dataflow (front: within the panel; rings: overall)")
    fig.savefig(path, dpi=130)


def _accuracy_figure(table: Table, rows: np.ndarray, title: str, path: Path) -> None:
    """Accuracy against latency, energy and area, a colour per recipe, the Pareto rows
    (in accuracy, latency, energy and area) ringed."""
    from matplotlib.ticker import NullFormatter

    e_scale, e_label, t_scale, t_label = _units(table)
    feasible = rows[table["feasible"][rows]]
    recipes = list(dict.fromkeys(table["recipe"][rows].tolist()))
    fig = _figure(13.5, 4.8)
    panels = fig.subplots(1, 3, sharey=True)
    columns = (
        (table["latency_s"] * t_scale, t_label),
        (table["energy_pj"] * e_scale, e_label),
        (table["area_mm2"], _LABELS["area_mm2"]),
    )
    accuracy = table["accuracy"] * 100
    for ax, (values, label) in zip(panels, columns, strict=True):
        for number, recipe in enumerate(recipes):
            subset = feasible[table["recipe"][feasible] == recipe]
            ax.scatter(values[subset], accuracy[subset], s=14, color=f"C{number % 10}",
                       label=recipe, zorder=2)  # fmt: skip
        optimal = feasible[table["pareto"][feasible]]
        ax.scatter(values[optimal], accuracy[optimal], s=60, facecolors="none",
                   edgecolors="black", linewidths=0.9, zorder=3,
                   label="Pareto-optimal in (accuracy, latency, energy, area)")  # fmt: skip
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label)
        ax.grid(True, which="major", alpha=0.3)
    panels[0].set_ylabel("accuracy after compression (%)")
    handles, labels = panels[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 3), fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=130)


def plot_sweep(
    root: str | Path, metric: str = "edp", x: str | None = None, y: str | None = None
) -> list[Path]:
    """Write the sweep's plots; returns the PNG paths."""
    root = Path(root)
    table, manifest = load_results(root)
    axes = list(manifest["spec"]["axes"])
    recipes = "recipe" in table
    if recipes:
        axes.append("recipe")
    numeric = [n for n, column in table.items() if column.dtype.kind in "iuf" and n != "point_id"]
    if metric not in numeric:
        raise InputError(
            f"metric {metric!r} is not a numeric result column; use one of {', '.join(numeric)}"
        )
    x = x or axes[0]
    y = y or (axes[1] if len(axes) > 1 else axes[0])
    for name in (x, y):
        if name not in axes:
            raise InputError(
                f"heatmap axis {name!r} is not swept; swept axes are {', '.join(axes)}"
            )
    if x == y and len(axes) > 1:
        raise InputError(f"the heatmap needs two different axes (--x and --y), not {x} twice")
    written = []
    sweep_name = manifest["spec"].get("name", "sweep")
    workloads = list(dict.fromkeys(table["workload"].tolist()))
    for workload in workloads:
        rows = np.flatnonzero(table["workload"] == workload)
        if not table["feasible"][rows].any():
            continue
        suffix = "" if len(workloads) == 1 else f"_{_slug(workload)}"
        title = f"{sweep_name}: {workload}, {len(rows)} configs"
        if recipes:
            n_recipes = len(np.unique(table["recipe"][rows]))
            configs = len(rows) // n_recipes
            title = f"{sweep_name}: {workload}, {configs} configs x {n_recipes} recipes"
        paths = [
            root / f"pareto{suffix}.png",
            root / f"heatmap_{metric}_{x}_{y}{suffix}.png",
            root / f"dataflows{suffix}.png",
        ]
        _pareto_figure(table, rows, axes, title, paths[0])
        _heatmap(table, rows, metric, x, y, title, paths[1])
        _dataflow_panels(table, rows, title, paths[2])
        if recipes:
            paths.append(root / f"accuracy{suffix}.png")
            _accuracy_figure(table, rows, title, paths[-1])
        written.extend(paths)
    return written
