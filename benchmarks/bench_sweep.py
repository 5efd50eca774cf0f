"""Speed of design-space sweeps: the 10,000-point ResNet-50 spec on 2 cores.

Usage::

    .venv/bin/python benchmarks/bench_sweep.py [--spec configs/sweep-large.yaml] [--workers 2]

Runs the spec end to end (points, chunks, evaluation, chunk files, Pareto front) with the
local process pool and with Dask's LocalCluster (when dask.distributed is installed),
each into a fresh directory, checks that both give the same table, and times evaluating
the same configs one at a time (one ``evaluate_configs`` call per config, as a loop of
single simulations would) on a sample, extrapolated to all points. Prints configs/second
and the ratios. With a recipe axis (``--spec configs/sweep-recipes.yaml``) it also times
the evaluation alone, the recipes read from a cache, in (config, recipe) points per second.

Targets, each printed as ``target ... : PASS`` or ``MISS``; the script exits 1 when one
misses:

- the spec end to end in under 60 s on ``--workers`` cores (10,000 configs x ResNet-50
  with the default spec), with each executor run;
- the local and the Dask tables identical, column by column (when Dask is installed).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from targets import Targets

from simulator.results.batch import evaluate_configs
from simulator.sweep.engine import make_tasks, run_sweep
from simulator.sweep.recipes import prepare_recipes
from simulator.sweep.spec import load_spec
from simulator.workloads.sources import load_workload

ROOT = Path(__file__).resolve().parent.parent


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal arrays, NaN equal to NaN in float columns."""
    a, b = np.asarray(a), np.asarray(b)
    return np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f")


def one_at_a_time(spec, sample: int, root: Path) -> float:
    """Seconds per config when each config is evaluated on its own (for every workload,
    or with a recipe axis for every recipe's bound workload, cached in ``root``)."""
    recipes = prepare_recipes(spec.recipe_axis, root)[0] if spec.recipe_axis else ()
    task = make_tasks(spec, recipes)[0]
    configs = task.configs()[:sample]
    if recipes:
        workloads = [recipe.workload for recipe in recipes]
    else:
        workloads = [load_workload(w, batch=spec.batch) for w in spec.workloads]
    start = time.perf_counter()
    for config in configs:
        for workload in workloads:
            evaluate_configs(workload, [config])
    return (time.perf_counter() - start) / sample


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "configs" / "sweep-large.yaml")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=300, help="configs timed one at a time")
    args = parser.parse_args()
    spec = load_spec(args.spec)
    n = sum(len(t.points["point_id"]) for t in make_tasks(spec))
    recipes = len(spec.recipe_axis.recipes) if spec.recipe_axis else 0
    print(
        f"spec {spec.name}: {spec.n_points:,} points, {n:,} after config constraints, "
        f"{len(spec.workloads)} workload(s), {args.workers} workers"
        + (f", {recipes} recipes: {n * recipes:,} (config, recipe) points" if recipes else "")
    )
    targets = Targets()
    tables, seconds_by = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for executor in ("local", "dask"):
            if executor == "dask":
                try:
                    import dask.distributed
                except ImportError:
                    print("dask: not installed (pip install 'sparsa[dask]'), skipped")
                    continue
            start = time.perf_counter()
            outcome = run_sweep(spec, Path(tmp) / executor, workers=args.workers, executor=executor)
            seconds = time.perf_counter() - start
            tables[executor] = outcome.table
            seconds_by[executor] = seconds
            print(
                f"{executor:<6} {seconds:7.2f} s  {n / seconds:9,.0f} configs/s  "
                f"({int(outcome.table['pareto'].sum())} Pareto-optimal)"
            )
            targets.below(
                f"{spec.name} ({n:,} configs) end to end, {executor}, {args.workers} workers",
                seconds,
                60,
                "s",
            )
            if recipes:
                again = run_sweep(spec, Path(tmp) / executor, workers=args.workers,
                                  executor=executor)  # fmt: skip
                chunks = Path(tmp) / f"{executor}-chunks"
                chunks.mkdir()
                for name in ("recipes", "manifest.json"):
                    source = Path(tmp) / executor / name
                    target = chunks / name
                    (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
                start = time.perf_counter()
                run_sweep(spec, chunks, workers=args.workers, executor=executor)
                evaluated = time.perf_counter() - start
                print(
                    f"{'':<6} recipes compressed {outcome.recipes_compressed} (reused on a "
                    f"rerun: {again.recipes_reused}); with the recipes cached, {evaluated:.2f} s: "
                    f"{n * recipes / evaluated:,.0f} (config, recipe) points/s"
                )
    if len(tables) == 2:
        local, dask = tables["local"], tables["dask"]
        differ = [k for k in local if k not in dask or not _same(local[k], dask[k])]
        differ += [k for k in dask if k not in local]
        targets.check(
            "local and dask tables identical",
            not differ,
            f"{len(local)} columns equal" if not differ else f"differ: {', '.join(differ)}",
        )
    with tempfile.TemporaryDirectory() as tmp:
        per_config = one_at_a_time(spec, args.sample, Path(tmp))
    print(
        f"one config at a time: {per_config * 1e3:.2f} ms/config -> {per_config * n:.1f} s for "
        f"{n:,} configs ({1 / per_config:,.0f} configs/s, one core)"
    )
    for executor, seconds in seconds_by.items():
        print(f"ratio one-at-a-time / {executor} sweep: {per_config * n / seconds:.1f}x")
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
