"""Bounded memory and fast config building: 1,000,000 configs x ResNet-50 through the sweep engine.

Usage::

    .venv/bin/python benchmarks/bench_memory.py [--points 1000000] [--workers 2]
        [--chunk-size 4000] [--configs 100000] [--repeat 1]

Every measurement runs in a fresh process of its own, so that each peak RSS
(``ru_maxrss``) is that phase's alone. The configs are Latin-hypercube samples of the
space of ``configs/sweep-large.yaml`` (rows, cols, dataflow, fold schedule, bit widths,
the three SRAM sizes, DRAM bandwidth and clock), without its constraint.

1. ``evaluate_configs`` on ``--configs`` of them, given as a list of configs built one by
   one (the per-config path: ``point_config`` per point) and as the sweep chunk's
   :class:`~simulator.model.variants.ConfigVariants` (the vectorized path): the time to
   build them, to evaluate them, and the peak RSS of each process; the two results must
   be identical (a digest of every array).
2. ``run_sweep`` of ``--points`` of them with ``--workers`` local workers, ``--repeat``
   times: wall time, points/s, and the peak RSS of the parent (while the workers ran and
   over the whole run) and of each worker (``VmHWM`` once all chunks are back, and
   ``RUSAGE_CHILDREN`` after they exited, the largest).

Targets: the sweep in under 60 s, and in under 1 GB: the larger of the parent's peak
while the workers ran plus every worker's peak, and the parent's peak over the whole run
(the workers have exited before it reads the results back). A worker forked from the
parent counts the pages it shares with it in its RSS too, so the sum is an upper bound.
Exits 1 when a target misses or the two paths differ.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60.0
TARGET_MB = 1024.0


def _spec(points: int, chunk_size: int):
    from simulator.sweep.spec import spec_from_dict

    configs = ROOT / "configs"
    data = yaml.safe_load((configs / "sweep-large.yaml").read_text())
    data.pop("constraints")
    # Without the constraints every sample must be a valid config: a buffer holds one word
    # per PE, 256 x 256 PEs x 16 bits = 128 KiB at most.
    for buffer in ("ifmap_sram_bytes", "filter_sram_bytes", "ofmap_sram_bytes"):
        data["axes"][buffer]["range"][0] = "128 KiB"
    data["name"] = f"bench-memory-{points}"
    data["sampling"]["samples"] = points
    data["chunk_size"] = chunk_size
    return spec_from_dict(data, root=configs)


def _peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def _digest(result) -> str:
    digest = hashlib.sha256()
    for name in sorted(result.__dataclass_fields__):
        value = getattr(result, name)
        for array in value.values() if isinstance(value, dict) else [value]:
            if isinstance(array, np.ndarray):
                digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def child_evaluate(path: str, configs: int) -> dict:
    """Build ``configs`` configs by ``path`` (configs or variants), evaluate them."""
    from simulator.config import AcceleratorConfig
    from simulator.results.batch import evaluate_configs
    from simulator.sweep.engine import make_tasks, point_config
    from simulator.workloads.sources import load_workload

    task = make_tasks(_spec(configs, configs))[0]
    workload = load_workload("resnet50")
    start = time.perf_counter()
    if path == "variants":
        built = task.configs()
    else:
        base = AcceleratorConfig.from_dict(task.base)
        columns = {k: v.tolist() for k, v in task.points.items() if k != "point_id"}
        built = [
            point_config(base, {name: column[i] for name, column in columns.items()}, None)
            for i in range(configs)
        ]
    build = time.perf_counter() - start
    before = _peak_mb()
    start = time.perf_counter()
    result = evaluate_configs(workload, built)
    evaluate = time.perf_counter() - start
    return {
        "build_s": build,
        "evaluate_s": evaluate,
        "rss_before_evaluate_mb": before,
        "peak_mb": _peak_mb(),
        "digest": _digest(result),
    }


def _workers_hwm_mb() -> dict[int, float]:
    """``VmHWM`` (peak RSS) of every child process of this one."""
    out = {}
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:  # exited meanwhile
                continue
            kib = status.split("VmHWM:")[1].split()[0]
            out[int(pid)] = int(kib) / 1024
    return out


def child_sweep(points: int, chunk_size: int, workers: int) -> dict:
    """Run the sweep; note the parent's and the workers' peaks as the chunks come back."""
    from simulator.sweep.engine import run_sweep

    spec = _spec(points, chunk_size)
    seen: dict[str, object] = {"workers": {}}

    def on_chunk(index: int) -> None:
        seen["parent_run_mb"] = _peak_mb()
        seen["workers"].update(_workers_hwm_mb())

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        outcome = run_sweep(spec, Path(tmp) / "sweep", workers=workers, on_chunk=on_chunk,
                            progress=False)  # fmt: skip
        seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "points": outcome.n_evaluated,
        "rows": len(outcome.table["point_id"]),
        "parent_run_mb": seen["parent_run_mb"],
        "parent_mb": _peak_mb(),
        "workers_mb": sorted(seen["workers"].values()),
        "children_ru_maxrss_mb": _peak_mb(resource.RUSAGE_CHILDREN),
    }


def _run_child(*args: str) -> dict:
    command = [sys.executable, __file__, "--child", *args]
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ)
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def _spread(values: list[float], unit: str, fmt: str = ".1f") -> str:
    if len(values) == 1:
        return f"{values[0]:{fmt}} {unit}"
    return (f"{statistics.median(values):{fmt}} {unit} (median of {len(values)}, "
            f"{min(values):{fmt}}-{max(values):{fmt}})")  # fmt: skip


def compare_paths(configs: int) -> bool:
    """Part 1: the per-config and the vectorized path on the same configs."""
    print(f"evaluate_configs, {configs:,} configs x resnet50, each path in its own process:")
    runs = {path: _run_child("evaluate", path, str(configs)) for path in ("configs", "variants")}
    for path, run in runs.items():
        name = "per-config (point_config)" if path == "configs" else "vectorized (variants)"
        print(
            f"  {name:<26} build {run['build_s']:6.2f} s ({run['build_s'] / configs * 1e6:5.1f} "
            f"us/config)  evaluate {run['evaluate_s']:6.2f} s  peak RSS {run['peak_mb']:5.0f} MB "
            f"({run['rss_before_evaluate_mb']:.0f} MB before evaluating)"
        )
    same = runs["configs"]["digest"] == runs["variants"]["digest"]
    ratio = runs["configs"]["build_s"] / runs["variants"]["build_s"]
    print(f"  building: {ratio:.0f}x faster vectorized; results identical: {same}")
    return same


def run_sweeps(points: int, chunk_size: int, workers: int, repeat: int) -> bool:
    """Part 2: the sweep, ``repeat`` times; True when both targets hold (at the median)."""
    print(f"run_sweep, {points:,} points x resnet50, {workers} workers, chunk_size {chunk_size}:")
    runs = [_run_child("sweep", str(points), str(chunk_size), str(workers)) for _ in range(repeat)]
    totals = []
    for i, run in enumerate(runs, 1):
        total = max(run["parent_run_mb"] + sum(run["workers_mb"]), run["parent_mb"])
        totals.append(total)
        print(
            f"  run {i}: {run['seconds']:6.1f} s  {run['points'] / run['seconds']:8,.0f} points/s"
            f"  peak RSS: parent {run['parent_run_mb']:.0f} MB while the workers ran, "
            f"{run['parent_mb']:.0f} MB in all; workers "
            f"{', '.join(f'{mb:.0f}' for mb in run['workers_mb'])} MB (ru_maxrss of the "
            f"largest {run['children_ru_maxrss_mb']:.0f} MB); at most {total:.0f} MB at once"
        )
    seconds = [run["seconds"] for run in runs]
    wall, memory = statistics.median(seconds), statistics.median(totals)
    print(f"  wall time  {_spread(seconds, 's')}: {wall / TARGET_SECONDS:.2f} of the "
          f"{TARGET_SECONDS:.0f} s target")  # fmt: skip
    print(f"  memory     {_spread(totals, 'MB', '.0f')}: {memory / TARGET_MB:.2f} of the "
          f"{TARGET_MB:.0f} MB target")  # fmt: skip
    ok = wall < TARGET_SECONDS and memory < TARGET_MB
    print(f"  targets {'met' if ok else 'MISSED'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk-size", type=int, default=4000)
    parser.add_argument("--configs", type=int, default=100_000, help="for the two paths")
    parser.add_argument("--repeat", type=int, default=1, help="sweep runs")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "evaluate":
            print(json.dumps(child_evaluate(rest[0], int(rest[1]))))
        else:
            print(json.dumps(child_sweep(*map(int, rest))))
        return 0
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores at the start")
    same = compare_paths(args.configs)
    ok = run_sweeps(args.points, args.chunk_size, args.workers, args.repeat)
    return 0 if same and ok else 1


if __name__ == "__main__":
    sys.exit(main())
