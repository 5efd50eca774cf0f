"""Run a sweep: points -> chunks -> batched evaluation -> chunk files -> results table.

Each chunk is a batch of configs evaluated for every workload in one vectorized call
(:func:`simulator.results.batch.evaluate_configs`), on a local process pool or a Dask cluster.
Finished chunks come back to this process, which writes them (so a remote cluster needs
no shared file system) and can be killed at any moment: running the same command again
evaluates only the missing chunks. The final table has one row per (config, workload)
with the swept fields, the metrics, ``feasible`` (result constraints) and ``pareto``
(optimal in latency, energy and area among the feasible rows of its workload).

With a recipe axis (:mod:`simulator.sweep.recipes`) the recipes are compressed (or read
from the sweep folder's cache) before any chunk runs, each chunk carries the bound
workloads, and a row is a (config, recipe): its ``recipe``, ``accuracy`` (after
compression), ``accuracy_before`` and ``storage_ratio_fp32`` beside the metrics; the
Pareto front is then over accuracy (maximized), latency, energy and area.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from compress.errors import InputError
from simulator.config import AcceleratorConfig, ConfigError
from simulator.model.variants import ConfigVariants, FieldValues
from simulator.results.batch import BatchResult, evaluate_configs
from simulator.sweep.pareto import pareto_mask
from simulator.sweep.recipes import PreparedRecipe, prepare_recipes
from simulator.sweep.sampling import sample_points
from simulator.sweep.spec import SpecError, SweepSpec
from simulator.sweep.store import SweepStore, Table, concat_tables, write_table
from simulator.workloads.layer import Workload
from simulator.workloads.sources import load_workload

__all__ = ["EXECUTORS", "ChunkTask", "SweepOutcome", "evaluate_chunk", "run_sweep"]

log = logging.getLogger(__name__)
EXECUTORS = ("local", "dask")
PARETO_OBJECTIVES = ("latency_s", "energy_pj", "area_mm2")
RECIPE_OBJECTIVE = "accuracy"
"""Maximized beside :data:`PARETO_OBJECTIVES` when the sweep has a recipe axis."""


@dataclass(frozen=True)
class ChunkTask:
    """One chunk of points: everything a worker needs, and nothing it must share."""

    index: int
    base: dict[str, Any]
    points: dict[str, np.ndarray]
    """Per axis (and ``point_id``), the chunk's values: slices of the sweep's numpy columns."""
    workloads: tuple[str, ...]
    batch: int | None
    bundles: dict[str, dict[str, dict[str, Any]]] | None = None
    """Per bundle axis: label -> the config fields it sets."""
    recipes: tuple[PreparedRecipe, ...] = ()
    """With a recipe axis: every recipe with its bound workload (``workloads`` unused)."""

    def configs(self) -> ConfigVariants:
        """The chunk's configs: the base with each point's axis values (and bundles), as
        :func:`point_config` builds them, validated per distinct value (a sequence of
        configs that the model reads without building one per point)."""
        return chunk_variants(AcceleratorConfig.from_dict(self.base), self.points, self.bundles)


def chunk_variants(
    base: AcceleratorConfig,
    points: dict[str, Sequence[Any]],
    bundles: dict[str, dict[str, dict[str, Any]]] | None,
) -> ConfigVariants:
    """The points' configs as :class:`ConfigVariants` of ``base``: a field axis is its own
    column, a bundle axis's labels spread over the fields they set (a label that leaves
    a field alone gives the base's value, as in :func:`point_config`). A bad point raises
    the :class:`ConfigError` that :func:`point_config` raises."""
    n = len(points["point_id"])
    fields: dict[str, FieldValues] = {}
    for name, column in points.items():
        if name == "point_id":
            continue
        if not (bundles and name in bundles):
            fields[name] = FieldValues.of(column)
            continue
        labels = FieldValues.of(column)
        sets = [bundles[name][label] for label in labels.values]
        for field in dict.fromkeys(f for changes in sets for f in changes):
            values = tuple(changes.get(field, getattr(base, field, None)) for changes in sets)
            fields[field] = FieldValues(values, labels.index)
    return ConfigVariants.of(base, fields, n)


def point_config(
    base: AcceleratorConfig,
    point: dict[str, Any],
    bundles: dict[str, dict[str, dict[str, Any]]] | None,
) -> AcceleratorConfig:
    """``base`` with one point's axis values, a bundle axis's label standing for its fields."""
    changes: dict[str, Any] = {}
    for name, value in point.items():
        changes.update(bundles[name][value] if bundles and name in bundles else {name: value})
    return base.replace(**changes)


@dataclass(frozen=True)
class SweepOutcome:
    """What a (possibly resumed) sweep produced."""

    root: Path
    table: Table
    n_points: int
    n_evaluated: int
    chunks_run: int
    chunks_reused: int
    seconds: float
    complete: bool
    recipes_compressed: int = 0
    """Recipes compressed by this run (the rest were read from the sweep's cache)."""
    recipes_reused: int = 0

    @property
    def results_path(self) -> Path:
        return next(self.root.glob("results.*"))


@functools.lru_cache(maxsize=16)
def _workload(spec: str, batch: int | None) -> Workload:
    return load_workload(spec, batch=batch)


def evaluate_chunk(task: ChunkTask) -> Table:
    """Evaluate one chunk for every workload (or every recipe's bound workload): rows
    ordered by workload or recipe, then point."""
    names = [name for name in task.points if name != "point_id"]
    n = len(task.points["point_id"])
    configs = task.configs()

    def rows(label: str) -> Table:
        table: Table = {"point_id": np.asarray(task.points["point_id"], dtype=np.int64)}
        table["workload"] = np.full(n, label, dtype=object)
        for name in names:
            table[name] = _column(task.points[name])
        return table

    tables = []
    for recipe in task.recipes:
        table = rows(recipe.workload.name)
        table["recipe_id"] = np.full(n, recipe.index, dtype=np.int64)
        table["recipe"] = np.full(n, recipe.recipe, dtype=object)
        table["accuracy"] = np.full(n, recipe.accuracy)
        table["accuracy_before"] = np.full(n, recipe.accuracy_before)
        table["storage_ratio_fp32"] = np.full(n, recipe.storage_ratio_fp32)
        table.update(metric_columns(evaluate_configs(recipe.workload, configs)))
        tables.append(table)
    for spec in () if task.recipes else task.workloads:
        table = rows(spec)
        table.update(metric_columns(evaluate_configs(_workload(spec, task.batch), configs)))
        tables.append(table)
    return concat_tables(tables)


def metric_columns(result: BatchResult) -> Table:
    """The per-config result columns of a sweep row.

    ``bound`` names the roof that binds the most cycles of the network (a cycle-weighted
    vote over its layers' bounds).
    """
    columns: Table = {
        "cycles": result.cycles_total,
        "cycles_compute": result.cycles_compute,
        "cycles_stall": result.cycles_stall,
        "latency_s": result.latency_s,
        "energy_pj": result.energy_pj,
        "area_mm2": result.area_mm2,
        "edp": result.edp,
        "utilization": result.utilization,
        "macs": result.macs,
        "dram_bytes": result.dram_bytes,
        "sram_bytes": result.sram_bytes,
    }
    for component, energy in result.energy_pj_by_component.items():
        columns[f"energy_{component}_pj"] = energy
    for component, area in result.area_mm2_by_component.items():
        columns[f"area_{component}_mm2"] = area
    n_bounds = len(result.bound_names)
    votes = np.stack(
        [
            np.where(result.layer_bound == code, result.layer_cycles_total, 0).sum(axis=1)
            for code in range(n_bounds)
        ],
        axis=1,
    )
    columns["bound"] = np.array(result.bound_names, dtype=object)[votes.argmax(axis=1)]
    columns["energy_unit"] = np.asarray(result.energy_unit, dtype=object)
    return columns


def _column(values: list[Any]) -> np.ndarray:
    array = np.asarray(values)
    return array if array.dtype.kind in "biuf" else np.array([str(v) for v in values], dtype=object)


def _field_columns(spec: SweepSpec, points: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every config field per point: the base, the field axes and the bundles' fields."""
    n = spec.n_points
    columns = {k: np.full(n, v, dtype=object) for k, v in spec.base.to_dict().items()}
    for axis in spec.axes:
        if not axis.bundle:
            columns[axis.name] = points[axis.name]
            continue
        for label in axis.values:
            rows = points[axis.name] == label
            for field, value in axis.fields_of(label).items():
                # Lists (nm_patterns) as the config writes them: "2:4,1:4".
                text = ",".join(map(str, value)) if isinstance(value, list | tuple) else value
                columns[field][rows] = text
    return columns


def make_tasks(spec: SweepSpec, recipes: tuple[PreparedRecipe, ...] = ()) -> list[ChunkTask]:
    """The chunks of the points that pass the config-only constraints (each carrying the
    prepared ``recipes`` of a recipe sweep)."""
    points = sample_points(spec)
    keep = np.ones(spec.n_points, dtype=bool)
    pre = [c for c in spec.constraints if not c.needs_results]
    if pre:
        columns = _field_columns(spec, points)
        for constraint in pre:
            keep &= constraint.evaluate(_numeric(columns))
    kept = {name: column[keep] for name, column in points.items()}
    n_kept = int(keep.sum())
    base = spec.base.to_dict()
    bundles = {
        name: {label: dict(axis.fields_of(label)) for label in axis.values}
        for name, axis in spec.bundles.items()
    }
    tasks = [
        ChunkTask(
            index=i,
            base=base,
            points={name: column[start : start + spec.chunk_size] for name, column in kept.items()},
            workloads=spec.workloads,
            batch=spec.batch,
            bundles=bundles or None,
            recipes=recipes,
        )
        for i, start in enumerate(range(0, n_kept, spec.chunk_size))
    ]
    if bundles:
        _check_combinations(tasks)
    return tasks


def _check_combinations(tasks: list[ChunkTask]) -> None:
    """Bundle values are checked against the base alone; here every point's whole config,
    so that a combination no config allows is an error before anything runs (per
    distinct value, :meth:`ChunkTask.configs`; point by point only to name a bad one)."""
    for task in tasks:
        try:
            task.configs()
            continue
        except ConfigError:
            pass
        base = AcceleratorConfig.from_dict(task.base)
        columns = {name: np.asarray(v).tolist() for name, v in task.points.items()}
        names = [name for name in columns if name != "point_id"]
        for i in range(len(columns["point_id"])):
            point = {name: columns[name][i] for name in names}
            try:
                point_config(base, point, task.bundles)
            except ConfigError as exc:
                raise SpecError(f"point {point}: {exc}") from None


def _numeric(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for name, column in columns.items():
        try:
            out[name] = column.astype(np.float64)
        except (TypeError, ValueError):
            out[name] = column.astype(str)
    return out


def _workload_digests(spec: SweepSpec) -> dict[str, str]:
    import hashlib

    files = [w for w in spec.workloads if Path(w).is_file()]
    if spec.recipe_axis is not None:
        files += spec.recipe_axis.files
    return {w: hashlib.sha256(Path(w).read_bytes()).hexdigest()[:16] for w in dict.fromkeys(files)}


def _local(tasks: Sequence[ChunkTask], workers: int) -> Iterator[tuple[int, Table]]:
    if workers <= 1:
        for task in tasks:
            yield task.index, evaluate_chunk(task)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(evaluate_chunk, task): task.index for task in tasks}
        try:
            for future in as_completed(futures):
                # Popped: a finished future holds its chunk's table until dropped.
                yield futures.pop(future), future.result()
        finally:
            for future in futures:
                future.cancel()


def _dask(
    tasks: Sequence[ChunkTask], workers: int, scheduler: str | None
) -> Iterator[tuple[int, Table]]:
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise ImportError(
            "the dask executor needs dask.distributed: pip install 'sparsa[dask]'"
        ) from None
    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=max(workers, 1), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        futures = client.map(evaluate_chunk, list(tasks), pure=False)
        index_of = {future.key: task.index for future, task in zip(futures, tasks, strict=True)}
        for future in dask_completed(futures):
            yield index_of[future.key], future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_sweep(
    spec: SweepSpec,
    out: str | Path,
    workers: int = 1,
    executor: str = "local",
    scheduler: str | None = None,
    max_chunks: int | None = None,
    progress: bool | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> SweepOutcome:
    """Run (or resume) ``spec`` into directory ``out``.

    Parameters
    ----------
    workers : int
        Worker processes (local) or Dask workers of a local cluster.
    executor : {"local", "dask"}
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``); a ``LocalCluster``
        is started when omitted.
    max_chunks : int, optional
        Stop after evaluating this many chunks (a budget); run again to continue.
    progress : bool, optional
        Show a progress bar; default: only when stderr is a terminal.
    """
    if executor not in EXECUTORS:
        raise InputError(f"executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InputError(f"workers must be a positive integer, not {workers!r}")
    start = time.perf_counter()
    tasks = make_tasks(spec)
    fingerprint = spec.fingerprint(_workload_digests(spec))
    store = SweepStore.open(Path(out), fingerprint, spec.to_dict(), len(tasks))
    compressed = 0
    if spec.recipe_axis is not None:
        recipes, compressed = prepare_recipes(spec.recipe_axis, Path(out))
        tasks = [replace(task, recipes=recipes) for task in tasks]
    done = store.done()
    todo = [task for task in tasks if task.index not in done]
    if max_chunks is not None:
        todo = todo[:max_chunks]
    results = _local(todo, workers) if executor == "local" else _dask(todo, workers, scheduler)
    ran = 0
    for index, table in _progress(results, len(todo), progress):
        store.write_chunk(index, table)
        ran += 1
        if on_chunk is not None:
            on_chunk(index)
    complete = len(store.done()) == len(tasks)
    table = store.read_chunks()
    if complete:
        table = finalize(spec, table)
        write_table(
            table,
            Path(out) / f"results.{'parquet' if store.fmt == 'parquet' else 'csv'}",
            store.fmt,
        )
        _write_summary(spec, Path(out), table)
    return SweepOutcome(
        root=Path(out),
        table=table,
        n_points=spec.n_points,
        n_evaluated=len(np.unique(table["point_id"])) if table else 0,
        chunks_run=ran,
        chunks_reused=len(done),
        seconds=time.perf_counter() - start,
        complete=complete,
        recipes_compressed=compressed,
        recipes_reused=len(spec.recipe_axis.recipes) - compressed if spec.recipe_axis else 0,
    )


def _progress(items: Iterable, total: int, show: bool | None) -> Iterable:
    from tqdm import tqdm

    disable = not sys.stderr.isatty() if show is None else not show
    return tqdm(items, total=total, desc="sweep", unit="chunk", disable=disable)


def pareto_objectives(table: Table) -> np.ndarray:
    """The minimized objectives of every row: latency, energy, area, and, when the rows
    carry a measured accuracy (a recipe sweep on a model with data), minus the accuracy."""
    columns = [np.asarray(table[name], dtype=np.float64) for name in PARETO_OBJECTIVES]
    accuracy = table.get(RECIPE_OBJECTIVE)
    if accuracy is not None and np.isfinite(accuracy).all():
        columns.insert(0, -np.asarray(accuracy, dtype=np.float64))
    return np.stack(columns, axis=1)


def finalize(spec: SweepSpec, table: Table) -> Table:
    """Add ``feasible`` (result constraints) and ``pareto`` (per workload) columns."""
    n = len(table["point_id"])
    feasible = np.ones(n, dtype=bool)
    for constraint in spec.constraints:
        if constraint.needs_results:
            feasible &= constraint.evaluate(_numeric(dict(table)))
    pareto = np.zeros(n, dtype=bool)
    objectives = pareto_objectives(table)
    for workload in np.unique(table["workload"]):
        rows = np.flatnonzero((table["workload"] == workload) & feasible)
        pareto[rows] = pareto_mask(objectives[rows])
    return {**table, "feasible": feasible, "pareto": pareto}


def _write_summary(spec: SweepSpec, out: Path, table: Table) -> None:
    summary: dict[str, Any] = {
        "name": spec.name,
        "points": spec.n_points,
        "rows": len(table["point_id"]),
    }
    summary["feasible_rows"] = int(table["feasible"].sum())
    summary["pareto_rows"] = int(table["pareto"].sum())
    best = {}
    for workload in np.unique(table["workload"]):
        rows = np.flatnonzero((table["workload"] == workload) & table["feasible"])
        if len(rows):
            picks = {
                metric: np.argmin(table[metric][rows]) for metric in (*PARETO_OBJECTIVES, "edp")
            }
            if RECIPE_OBJECTIVE in table and np.isfinite(table[RECIPE_OBJECTIVE][rows]).all():
                picks[RECIPE_OBJECTIVE] = np.argmax(table[RECIPE_OBJECTIVE][rows])
            best[str(workload)] = {
                metric: {k: _plain(table[k][rows[pick]]) for k in table}
                for metric, pick in picks.items()
            }
    summary["best"] = best
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
