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

One process writes a sweep folder at a time (:mod:`simulator.sweep.lock`). Ctrl-C stops a
sweep cleanly: pending chunks are cancelled, the workers (which ignore SIGINT, so that
the terminal's Ctrl-C reaches only this process) finish the chunk in hand and exit, the
lock is released, and :class:`SweepInterrupted` says how many chunks are kept.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from compress.errors import InputError
from simulator.config import AcceleratorConfig, ConfigError
from simulator.model.variants import ConfigVariants, FieldValues
from simulator.results.batch import BatchResult, evaluate_configs
from simulator.sweep.executors import run_dask, run_local, with_progress
from simulator.sweep.pareto import pareto_mask
from simulator.sweep.recipes import PreparedRecipe, prepare_recipes
from simulator.sweep.sampling import sample_points
from simulator.sweep.spec import SweepSpec
from simulator.sweep.store import SweepStore, Table, concat_tables, write_table
from simulator.workloads.layer import Workload
from simulator.workloads.sources import load_workload

__all__ = [
    "EXECUTORS",
    "MAX_WORKERS",
    "ChunkTask",
    "SweepInterrupted",
    "SweepOutcome",
    "evaluate_chunk",
    "run_sweep",
]

log = logging.getLogger(__name__)
EXECUTORS = ("local", "dask")
MAX_WORKERS = 256
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


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during a sweep: the chunks kept so far, for a message on how to resume."""

    def __init__(self, chunks_done: int, n_chunks: int, root: Path) -> None:
        super().__init__(f"{chunks_done:,} of {n_chunks:,} chunks done and kept in {root}")
        self.chunks_done = chunks_done
        self.n_chunks = n_chunks
        self.root = root


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


def _field_columns(
    spec: SweepSpec, points: dict[str, np.ndarray], names: frozenset[str] | None = None
) -> dict[str, np.ndarray]:
    """The config fields ``names`` (default: every field) per point: the base, the field
    axes and the bundles' fields. Only the named ones are built: a million-point sweep
    would otherwise hold every field as a million-row object column."""
    n = spec.n_points
    wanted = set(spec.base.to_dict()) if names is None else set(names)
    columns = {
        k: np.full(n, v, dtype=object) for k, v in spec.base.to_dict().items() if k in wanted
    }
    for axis in spec.axes:
        if not axis.bundle:
            if axis.name in wanted:
                columns[axis.name] = points[axis.name]
            continue
        for label in axis.values:
            rows = points[axis.name] == label
            for field, value in axis.fields_of(label).items():
                if field not in wanted:
                    continue
                # Lists (nm_patterns) as the config writes them: "2:4,1:4".
                text = ",".join(map(str, value)) if isinstance(value, list | tuple) else value
                columns[field][rows] = text
    return columns


def make_tasks(spec: SweepSpec, recipes: tuple[PreparedRecipe, ...] = ()) -> list[ChunkTask]:
    """The chunks of the points that pass the config-only constraints (each carrying the
    prepared ``recipes`` of a recipe sweep)."""
    points = sample_points(spec)
    keep = _config_constraints(spec, points)
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
    _check_combinations(spec, tasks)
    return tasks


def _check_combinations(spec: SweepSpec, tasks: list[ChunkTask]) -> None:
    """Axis values are checked alone and bundle values against the base; here every
    point's whole config, so that a combination no config allows is an error before
    anything runs (per distinct value, :meth:`ChunkTask.configs`; point by point only to
    name a bad one)."""
    for task in tasks:
        try:
            task.configs()
        except ConfigError as exc:
            raise spec.problem(f"point {_first_bad_point(task)}: {exc}") from None


def _first_bad_point(task: ChunkTask) -> dict[str, Any] | None:
    """The axis values of the task's first point whose config is refused (one by one)."""
    base = AcceleratorConfig.from_dict(task.base)
    columns = {name: np.asarray(v).tolist() for name, v in task.points.items()}
    names = [name for name in columns if name != "point_id"]
    for i in range(len(columns["point_id"])):
        point = {name: columns[name][i] for name in names}
        try:
            point_config(base, point, task.bundles)
        except ConfigError:
            return point
    return None


def _config_constraints(spec: SweepSpec, points: dict[str, np.ndarray]) -> np.ndarray:
    """Which points pass the constraints on config fields; none passing is an error."""
    keep = np.ones(spec.n_points, dtype=bool)
    pre = [c for c in spec.constraints if not c.needs_results]
    if not pre:
        return keep
    columns = _field_columns(spec, points, frozenset().union(*(c.names for c in pre)))
    passing = []
    for constraint in pre:
        mask = constraint.evaluate(columns)
        passing.append(f"{constraint.text!r} keeps {int(mask.sum()):,}")
        keep &= mask
    if not keep.any():
        raise spec.problem(
            f"the constraints keep none of the {spec.n_points:,} points "
            f"({', '.join(passing)}); loosen them or change the axes"
        )
    return keep


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
        Stop after evaluating this many chunks (a budget); run again to continue. 0
        evaluates none: the folder is set up and a recipe axis's recipes compressed.
    progress : bool, optional
        Show a progress bar; default: only when stderr is a terminal.
    on_chunk : callable, optional
        Called with each chunk's index once it is written.

    Raises
    ------
    StoreError
        ``out`` holds another sweep, or this one over input files that have changed.
    LockError
        Another process is writing ``out``.
    SweepInterrupted
        On Ctrl-C, once the workers are stopped and the lock released; the chunks
        finished so far are kept, and running the same sweep again resumes.
    """
    _check_options(executor, workers, max_chunks)
    start = time.perf_counter()
    tasks = make_tasks(spec)
    digests = spec.file_digests()
    fingerprint = spec.fingerprint(digests)
    out = Path(out)
    run = _Run(workers, executor, scheduler, max_chunks, progress, on_chunk, start)
    with SweepStore.open(out, fingerprint, spec.to_dict(), len(tasks), digests) as store:
        try:
            return _run(spec, store, tasks, run)
        except KeyboardInterrupt:
            raise SweepInterrupted(len(store.done()), len(tasks), out) from None


@dataclass(frozen=True)
class _Run:
    """How :func:`run_sweep` was asked to run (its options, checked)."""

    workers: int
    executor: str
    scheduler: str | None
    max_chunks: int | None
    progress: bool | None
    on_chunk: Callable[[int], None] | None
    start: float


def _check_options(executor: str, workers: int, max_chunks: int | None) -> None:
    if executor not in EXECUTORS:
        raise InputError(f"executor must be one of {', '.join(EXECUTORS)}, not {executor!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"workers must be an integer from 1 to {MAX_WORKERS}, not {workers!r}")
    if executor == "dask" and importlib.util.find_spec("dask") is None:
        raise InputError("the dask executor needs dask.distributed: pip install 'sparsa[dask]'")
    if max_chunks is not None and (
        isinstance(max_chunks, bool) or not isinstance(max_chunks, int) or max_chunks < 0
    ):
        raise InputError(
            f"max_chunks must be an integer >= 0 (chunks to evaluate before stopping) or "
            f"None for all, not {max_chunks!r}"
        )


def _run(spec: SweepSpec, store: SweepStore, tasks: list[ChunkTask], run: _Run) -> SweepOutcome:
    """:func:`run_sweep` once the folder is locked and its finished chunks checked."""
    out = store.root
    compressed = 0
    if spec.recipe_axis is not None:
        recipes, compressed = prepare_recipes(spec.recipe_axis, out)
        tasks = [replace(task, recipes=recipes) for task in tasks]
    done = store.done()
    todo = [task for task in tasks if task.index not in done]
    if run.max_chunks is not None:
        todo = todo[: run.max_chunks]
    results = (
        run_local(evaluate_chunk, todo, run.workers)
        if run.executor == "local"
        else run_dask(evaluate_chunk, todo, run.workers, run.scheduler)
    )
    ran = 0
    try:
        for index, table in with_progress(results, len(todo), run.progress):
            store.write_chunk(index, table)
            ran += 1
            if run.on_chunk is not None:
                run.on_chunk(index)
    finally:
        results.close()  # tears the workers down at once, also on Ctrl-C
    complete = len(store.done()) == len(tasks)
    table = store.read_chunks()
    if complete:
        table = finalize(spec, table)
        write_table(table, out / f"results.{'parquet' if store.fmt == 'parquet' else 'csv'}",
                    store.fmt)  # fmt: skip
        _write_summary(spec, out, table)
    return SweepOutcome(
        root=out,
        table=table,
        n_points=spec.n_points,
        n_evaluated=len(np.unique(table["point_id"])) if table else 0,
        chunks_run=ran,
        chunks_reused=len(done),
        seconds=time.perf_counter() - run.start,
        complete=complete,
        recipes_compressed=compressed,
        recipes_reused=len(spec.recipe_axis.recipes) - compressed if spec.recipe_axis else 0,
    )


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
            feasible &= constraint.evaluate(table)
    pareto = np.zeros(n, dtype=bool)
    objectives = pareto_objectives(table)
    # Energies of different units never meet in one front (a spec cannot mix them; a
    # table put together by hand might).
    units = table.get("energy_unit", np.full(n, "", dtype=object))
    for workload, unit in {(w, u) for w, u in zip(table["workload"], units, strict=True)}:
        rows = np.flatnonzero((table["workload"] == workload) & (units == unit) & feasible)
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
