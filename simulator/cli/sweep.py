"""``sparsa sweep`` and ``sparsa plot-sweep``.

Registering the commands imports nothing of the sweep engine (numba, dask); the
commands import it when they run.
"""

from __future__ import annotations

import argparse
import os
import shlex
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
    sweep.add_argument("--spec", required=True, type=_path("file"), help="sweep spec YAML")
    sweep.add_argument("--out", required=True, type=_path("folder"), help="sweep directory")
    sweep.add_argument(
        "--workers",
        type=_count("worker processes", maximum=_max_workers),
        default=min(2, os.cpu_count() or 1),
        help="worker processes",
    )
    sweep.add_argument("--executor", choices=EXECUTORS, default="local", help="where chunks run")
    sweep.add_argument("--scheduler", help="Dask scheduler address (default: a LocalCluster)")
    sweep.add_argument(
        "--max-chunks", type=_count("chunks to run before stopping"), help="stop after N chunks"
    )
    sweep.add_argument("--no-plots", action="store_true", help="skip the plots at the end")
    sweep.set_defaults(func=_sweep)

    plot = subparsers.add_parser(
        "plot-sweep",
        help="plot a finished sweep",
        description="Write the Pareto scatter, a heatmap and per-dataflow panels of a sweep.",
    )
    plot.add_argument("dir", type=_path("folder"), help="sweep directory")
    plot.add_argument("--metric", default="edp", help="heatmap metric (default: edp)")
    plot.add_argument("--x", help="heatmap x axis (default: the first swept axis)")
    plot.add_argument("--y", help="heatmap y axis (default: the second swept axis)")
    plot.set_defaults(func=_plot)


def _path(what: str):
    """An argparse type: a path that is not empty (``--out ''`` is not the current folder)."""

    def parse(text: str) -> Path:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"must name a {what}, not {text!r}")
        return Path(text)

    return parse


def _max_workers() -> int:
    from simulator.sweep.engine import MAX_WORKERS

    return MAX_WORKERS


def _count(what: str, maximum=None):
    """An argparse type: an integer from 1 (to ``maximum()``, when given)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        top = maximum() if maximum else None
        if value is None or value < 1 or (top is not None and value > top):
            allowed = f"an integer from 1 to {top}" if top else "a positive integer"
            raise argparse.ArgumentTypeError(f"must be {allowed} ({what}), not {text!r}")
        return value

    return parse


def _resume_command(args: argparse.Namespace) -> str:
    """The command line that resumes the interrupted sweep ``args`` describes."""
    argv = ["sparsa", "sweep", "--spec", str(args.spec), "--out", str(args.out)]
    argv += ["--workers", str(args.workers)]
    if args.executor != "local":
        argv += ["--executor", args.executor]
    if args.scheduler:
        argv += ["--scheduler", args.scheduler]
    if args.max_chunks is not None:
        argv += ["--max-chunks", str(args.max_chunks)]
    if args.no_plots:
        argv.append("--no-plots")
    return shlex.join(argv)


def _sweep(args: argparse.Namespace) -> int:
    from simulator.sweep.engine import SweepInterrupted, run_sweep
    from simulator.sweep.plots import plot_sweep
    from simulator.sweep.spec import load_spec

    spec = load_spec(args.spec)
    if args.scheduler and args.executor != "dask":
        raise InputError("--scheduler needs --executor dask")
    try:
        outcome = run_sweep(
            spec,
            args.out,
            workers=args.workers,
            executor=args.executor,
            scheduler=args.scheduler,
            max_chunks=args.max_chunks,
        )
    except SweepInterrupted as exc:
        # One line from the CLI's main: "sparsa: interrupted: <this>".
        raise KeyboardInterrupt(f"{exc}; resume with: {_resume_command(args)}") from None
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
