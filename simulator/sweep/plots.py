"""Plots of a finished sweep: the Pareto scatter, a heatmap over two axes, per-dataflow panels.

All figures are written as PNG next to the results, one set per workload.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

from simulator.sweep.store import Table, read_table  # noqa: E402

__all__ = ["load_results", "plot_sweep"]

_LABELS = {
    "latency_s": "latency (s)",
    "energy_pj": "energy (pJ)",
    "area_mm2": "area (mm²)",
    "edp": "energy-delay product (pJ·s)",
    "utilization": "PE utilization",
    "cycles": "cycles",
}


def load_results(root: str | Path) -> tuple[Table, dict]:
    """The results table and the manifest of a finished sweep directory."""
    root = Path(root)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{root} holds no sweep (no manifest.json)")
    manifest = json.loads(manifest_path.read_text())
    results = root / f"results.{'parquet' if manifest['format'] == 'parquet' else 'csv'}"
    if not results.is_file():
        raise FileNotFoundError(f"{root}: the sweep is not finished; run `sparsa sweep` again")
    return read_table(results, manifest["format"]), manifest


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


def _scatter(ax, table: Table, rows: np.ndarray, norm) -> object:
    feasible = rows[table["feasible"][rows]]
    infeasible = rows[~table["feasible"][rows]]
    if len(infeasible):
        ax.scatter(table["latency_s"][infeasible], table["energy_pj"][infeasible], s=6,
                   c="lightgrey", label="infeasible", zorder=1)
    points = ax.scatter(table["latency_s"][feasible], table["energy_pj"][feasible], s=10,
                        c=table["area_mm2"][feasible], cmap="viridis", norm=norm, zorder=2)
    front = feasible[table["pareto"][feasible]]
    order = front[np.argsort(table["latency_s"][front])]
    ax.plot(table["latency_s"][order], table["energy_pj"][order], "o-", mfc="none", color="crimson",
            lw=1, ms=6, label="Pareto-optimal (latency, energy, area)", zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    return points


def _pareto_figure(table: Table, rows: np.ndarray, axes: list[str], title: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(9, 6.5), layout="constrained")
    norm = LogNorm(*_range(table["area_mm2"][rows]))
    points = _scatter(ax, table, rows, norm)
    feasible = rows[table["feasible"][rows]]
    best = {
        "fastest": feasible[np.argmin(table["latency_s"][feasible])],
        "least energy": feasible[np.argmin(table["energy_pj"][feasible])],
        "best EDP": feasible[np.argmin(table["edp"][feasible])],
        "smallest": feasible[np.argmin(table["area_mm2"][feasible])],
    }
    offsets = [(12, 18), (12, -26), (-150, 18), (-150, -26)]
    for (label, row), offset in zip(best.items(), offsets, strict=True):
        ax.annotate(f"{label}: {_describe(table, axes, row)}",
                    (table["latency_s"][row], table["energy_pj"][row]), xytext=offset,
                    textcoords="offset points", fontsize=8,
                    arrowprops={"arrowstyle": "->", "lw": 0.6},
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "alpha": 0.85})
    fig.colorbar(points, ax=ax, label=_LABELS["area_mm2"])
    ax.set_xlabel(_LABELS["latency_s"])
    ax.set_ylabel(_LABELS["energy_pj"])
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _range(values: np.ndarray) -> tuple[float, float]:
    positive = values[values > 0]
    low, high = (float(positive.min()), float(positive.max())) if len(positive) else (1.0, 10.0)
    return low, max(high, low * 1.0001)


def _bins(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Category index per row and tick labels: the distinct values, or 8 log/linear bins."""
    distinct = np.unique(values)
    if len(distinct) <= 12:
        index = np.searchsorted(distinct, values)
        return index, [f"{v:.3g}" if isinstance(v, float) else str(v) for v in distinct]
    numeric = values.astype(float)
    edges = (np.geomspace if numeric.min() > 0 else np.linspace)(numeric.min(), numeric.max(), 9)
    index = np.clip(np.searchsorted(edges, numeric, side="right") - 1, 0, 7)
    return index, [f"{a:.3g}–{b:.3g}" for a, b in zip(edges[:-1], edges[1:], strict=True)]


def _heatmap(table: Table, rows: np.ndarray, metric: str, x: str, y: str, title: str,
             path: Path) -> None:
    rows = rows[table["feasible"][rows]]
    xi, xlabels = _bins(table[x][rows])
    yi, ylabels = _bins(table[y][rows])
    grid = np.full((len(ylabels), len(xlabels)), np.nan)
    np.fmin.at(grid, (yi, xi), table[metric][rows].astype(float))
    fig, ax = plt.subplots(figsize=(1.1 * len(xlabels) + 3, 0.55 * len(ylabels) + 2.5),
                           layout="constrained")
    image = ax.imshow(grid, origin="lower", cmap="magma_r", aspect="auto",
                      norm=LogNorm(*_range(grid[np.isfinite(grid)])))
    ax.set_xticks(range(len(xlabels)), xlabels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(ylabels)), ylabels, fontsize=8)
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(f"{title}\nbest {metric} over the other axes (blank: no feasible point)")
    fig.colorbar(image, ax=ax, label=_LABELS.get(metric, metric))
    fig.savefig(path, dpi=130)
    plt.close(fig)


def _dataflow_panels(table: Table, rows: np.ndarray, title: str, path: Path) -> None:
    dataflows = sorted(set(table["dataflow"][rows])) if "dataflow" in table else ["(base)"]
    fig, panels = plt.subplots(1, len(dataflows), figsize=(4.5 * len(dataflows) + 1.5, 4.5),
                               sharex=True, sharey=True, layout="constrained", squeeze=False)
    norm = LogNorm(*_range(table["area_mm2"][rows]))
    points = None
    for ax, dataflow in zip(panels[0], dataflows, strict=True):
        subset = rows if dataflow == "(base)" else rows[table["dataflow"][rows] == dataflow]
        points = _scatter(ax, table, subset, norm)
        ax.set_title(f"dataflow {dataflow} ({len(subset)} points)")
        ax.set_xlabel(_LABELS["latency_s"])
        ax.grid(True, alpha=0.3)
    panels[0][0].set_ylabel(_LABELS["energy_pj"])
    panels[0][-1].legend(loc="upper right", fontsize=7)
    fig.colorbar(points, ax=panels[0].tolist(), label=_LABELS["area_mm2"])
    fig.suptitle(title)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def plot_sweep(root: str | Path, metric: str = "edp", x: str | None = None,
               y: str | None = None) -> list[Path]:
    """Write the sweep's plots; returns the PNG paths."""
    root = Path(root)
    table, manifest = load_results(root)
    axes = list(manifest["spec"]["axes"])
    if metric not in table:
        raise ValueError(f"metric {metric!r} is not a result column; use one of {', '.join(_LABELS)}")
    x = x or axes[0]
    y = y or (axes[1] if len(axes) > 1 else axes[0])
    for name in (x, y):
        if name not in axes:
            raise ValueError(f"heatmap axis {name!r} is not swept; swept axes are {', '.join(axes)}")
    written = []
    workloads = list(dict.fromkeys(table["workload"].tolist()))
    for workload in workloads:
        rows = np.flatnonzero(table["workload"] == workload)
        if not table["feasible"][rows].any():
            continue
        suffix = "" if len(workloads) == 1 else f"_{_slug(workload)}"
        title = f"{manifest['spec']['name']}: {workload}, {len(rows)} configs"
        paths = [root / f"pareto{suffix}.png", root / f"heatmap_{metric}_{x}_{y}{suffix}.png",
                 root / f"dataflows{suffix}.png"]
        _pareto_figure(table, rows, axes, title, paths[0])
        _heatmap(table, rows, metric, x, y, title, paths[1])
        _dataflow_panels(table, rows, title, paths[2])
        written.extend(paths)
    return written
