"""Speed of design-space sweeps: the 10,000-point ResNet-50 spec on 2 cores.

Usage::

    .venv/bin/python benchmarks/bench_sweep.py [--spec configs/sweep-large.yaml] [--workers 2]

Runs the spec end to end (points, chunks, evaluation, chunk files, Pareto front) with the
local process pool and with Dask's LocalCluster (when dask.distributed is installed),
each into a fresh directory, checks that both give the same table, and times evaluating
the same configs one at a time (one ``evaluate_configs`` call per config, as a loop of
single simulations would) on a sample, extrapolated to all points. Prints configs/second
and the ratios. Target: 10,000 configs x ResNet-50 in under 60 s on 2 cores.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from simulator.results.batch import evaluate_configs
from simulator.sweep.engine import make_tasks, run_sweep
from simulator.sweep.spec import load_spec
from simulator.workloads.sources import load_workload

ROOT = Path(__file__).resolve().parent.parent


def one_at_a_time(spec, sample: int) -> float:
    """Seconds per config when each config is evaluated on its own."""
    task = make_tasks(spec)[0]
    base = spec.base
    names = [n for n in task.points if n != "point_id"]
    configs = [base.replace(**{n: task.points[n][i] for n in names}) for i in range(sample)]
    workloads = [load_workload(w, batch=spec.batch) for w in spec.workloads]
    start = time.perf_counter()
    for config in configs:
        for workload in workloads:
            evaluate_configs(workload, [config])
    return (time.perf_counter() - start) / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spec", type=Path, default=ROOT / "configs" / "sweep-large.yaml")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=300, help="configs timed one at a time")
    args = parser.parse_args()
    spec = load_spec(args.spec)
    n = sum(len(t.points["point_id"]) for t in make_tasks(spec))
    print(
        f"spec {spec.name}: {spec.n_points:,} points, {n:,} after config constraints, "
        f"{len(spec.workloads)} workload(s), {args.workers} workers"
    )
    tables, seconds_by = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for executor in ("local", "dask"):
            if executor == "dask":
                try:
                    import dask.distributed  # noqa: F401
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
                f"({int(outcome.table['pareto'].sum())} Pareto-optimal)  target < 60 s"
            )
    if len(tables) == 2:
        same = all(np.array_equal(tables["local"][k], tables["dask"][k]) for k in tables["local"])
        print(f"local and dask tables identical: {same}")
    per_config = one_at_a_time(spec, args.sample)
    print(
        f"one config at a time: {per_config * 1e3:.2f} ms/config -> {per_config * n:.1f} s for "
        f"{n:,} configs ({1 / per_config:,.0f} configs/s, one core)"
    )
    for executor, seconds in seconds_by.items():
        print(f"ratio one-at-a-time / {executor} sweep: {per_config * n / seconds:.1f}x")


if __name__ == "__main__":
    main()
