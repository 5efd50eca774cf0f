"""``sparsa sweep`` and ``sparsa plot-sweep``.

Registering the commands imports nothing of the sweep engine (numba, dask); the
commands import it when they run.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from compress.errors import InputError

__all__ = ["EXECUTORS", "register"]

EXECUTORS = ("local", "dask")
"""The executors of :func:`simulator.sweep.engine.run_sweep` (a test keeps the two equal)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    sweep = subparsers.add_parser(
        "sweep",
        help="run a design-space sweep",
        description="Evaluate every point of a sweep spec, chunk by chunk, into --out. "
        "Interrupted sweeps resume: run the same command again.",
    )
    sweep.add_argument("--spec", required=True, type=Path, help="sweep spec YAML")
    sweep.add_argument("--out", required=True, type=Path, help="sweep directory")
    sweep.add_argument(
        "--workers", type=int, default=min(2, os.cpu_count() or 1), help="worker processes"
    )
    sweep.add_argument("--executor", choices=EXECUTORS, default="local", help="where chunks run")
    sweep.add_argument("--scheduler", help="Dask scheduler address (default: a LocalCluster)")
    sweep.add_argument("--max-chunks", type=int, help="stop after this many chunks")
    sweep.add_argument("--no-plots", action="store_true", help="skip the plots at the end")
    sweep.set_defaults(func=_sweep)

    plot = subparsers.add_parser(
        "plot-sweep",
        help="plot a finished sweep",
        description="Write the Pareto scatter, a heatmap and per-dataflow panels of a sweep.",
    )
    plot.add_argument("dir", type=Path, help="sweep directory")
    plot.add_argument("--metric", default="edp", help="heatmap metric (default: edp)")
    plot.add_argument("--x", help="heatmap x axis (default: the first swept axis)")
    plot.add_argument("--y", help="heatmap y axis (default: the second swept axis)")
    plot.set_defaults(func=_plot)


def _sweep(args: argparse.Namespace) -> int:
    from simulator.sweep.engine import run_sweep
    from simulator.sweep.plots import plot_sweep
    from simulator.sweep.spec import load_spec

    spec = load_spec(args.spec)
    if args.scheduler and args.executor != "dask":
        raise InputError("--scheduler needs --executor dask")
    outcome = run_sweep(
        spec,
        args.out,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
        max_chunks=args.max_chunks,
    )
    rows = len(outcome.table.get("point_id", ()))
    if spec.recipe_axis is not None:
        print(
            f"recipes   {outcome.recipes_compressed} compressed, {outcome.recipes_reused} "
            f"reused from {args.out / 'recipes'}"
        )
    print(
        f"{spec.name}: {outcome.n_evaluated:,} of {spec.n_points:,} points evaluated "
        f"({rows:,} rows), {outcome.chunks_run} chunks run, {outcome.chunks_reused} reused, "
        f"{outcome.seconds:.2f} s"
    )
    if not outcome.complete:
        print(f"incomplete: run the same command again to finish {args.out}")
        return 0
    table = outcome.table
    feasible, optimal = int(table["feasible"].sum()), int(table["pareto"].sum())
    print(f"feasible rows {feasible:,}, Pareto-optimal {optimal}")
    print(f"wrote     {outcome.results_path}, {args.out / 'summary.json'}")
    if not args.no_plots:
        for path in plot_sweep(args.out):
            print(f"plot      {path}")
    return 0


def _plot(args: argparse.Namespace) -> int:
    from simulator.sweep.plots import plot_sweep

    for path in plot_sweep(args.dir, metric=args.metric, x=args.x, y=args.y):
        print(f"plot      {path}")
    return 0
