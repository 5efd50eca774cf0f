"""Speed of the dense timing model, and the ratio to SCALE-Sim measured in the same run.

Usage::

    .venv/bin/python benchmarks/bench_timing.py [--scalesim-python PATH] [--repeat N]
        [--scalesim-arrays 32 128] [--scalesim-dataflows os ws is]

Prints, for every zoo workload on 32x32 and 128x128 arrays in os, ws and is, the time
of one ``simulate()`` call (full per-layer results) and layers per second; then a whole
ResNet-50 on one config, and 10,000 configs x ResNet-50 vectorized in one broadcast
against one config at a time.

SCALE-Sim 3.0.0 crashes on numpy >= 2.4, so it lives in its own venv::

    python3 -m venv /path/scalesim-venv
    /path/scalesim-venv/bin/pip install scalesim==3.0.0 "numpy<2.4"

Give that venv's python with ``--scalesim-python`` (or ``SCALESIM_PYTHON``): the script
then runs SCALE-Sim on the same GEMM-lowered layers (ungrouped layers, written as a
GEMM topology, CALC bandwidth mode), times its ``run_scale`` (wall clock and CPU time of
its process), checks that its "Total Cycles" equal our ``scalesim_total`` layer by layer,
and prints the speed ratio against ``simulate()`` of the same layers on the same config
(the same code path as ``sparsa simulate``: full per-layer results, median of 5 runs).
SCALE-Sim takes minutes per config (ResNet-18: several minutes on a 32x32 array);
``--scalesim-arrays`` and ``--scalesim-dataflows`` run fewer.

Targets, each printed as ``target ... : PASS`` or ``MISS``; the script exits 1 when one
misses:

- ResNet-50 (54 layers) on one 32x32 ws config: ``simulate()`` under 50 ms of CPU time
  (the wall clock is printed too; on a shared machine it is the CPU time plus waiting);
- 10,000 configs x ResNet-50 through ``dense_timing`` in one broadcast: under 60 s, with
  the same compute cycles as one config at a time;
- with SCALE-Sim: its "Total Cycles" equal to ``scalesim_total``, every layer of every
  array and dataflow run.

The ratio to SCALE-Sim is a measurement, not a target. It compares whole-network runs on
one config each; dividing SCALE-Sim's time by the vectorized per-config time of the
10,000-config broadcast would compare different code paths (timing alone, no traffic or
energy) and different networks, so the script does not print that.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
from targets import Targets

from simulator.config import AcceleratorConfig, Dataflow
from simulator.model.columns import ConfigColumns, LayerColumns
from simulator.model.timing import dense_timing
from simulator.results.simulate import simulate
from simulator.workloads.layer import Workload
from simulator.workloads.zoo import zoo_names, zoo_workload

ARRAYS = (32, 128)


def median_time(fn, repeat: int) -> tuple[float, float]:
    """Median wall-clock and CPU time of ``fn()`` in seconds over ``repeat`` runs (after one
    warm-up)."""
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return statistics.median(wall), statistics.median(cpu)


def bench_zoo(repeat: int) -> None:
    print("== simulate(): every zoo workload, 2 arrays x 3 dataflows ==")
    print(f"{'workload':<18} {'layers':>6} {'array':>8} {'df':>3} {'ms/run':>8} {'layers/s':>10}")
    for name in zoo_names():
        workload = zoo_workload(name)
        for side in ARRAYS:
            for df in Dataflow:
                config = AcceleratorConfig(rows=side, cols=side, dataflow=df)
                seconds, _ = median_time(lambda w=workload, c=config: simulate(w, c), repeat)
                rate = len(workload) / seconds
                print(
                    f"{name:<18} {len(workload):>6} {side:>4}x{side:<3} {df.value:>3} "
                    f"{seconds * 1e3:>8.3f} {rate:>10,.0f}"
                )


def bench_resnet50(repeat: int, n_configs: int, targets: Targets) -> None:
    workload = zoo_workload("resnet50")
    config = AcceleratorConfig(rows=32, cols=32, dataflow="ws")
    one, one_cpu = median_time(lambda: simulate(workload, config), repeat)
    print(f"\n== ResNet-50 ({len(workload)} layers) on one config ==")
    print(
        f"simulate(): {one * 1e3:.2f} ms wall clock, {one_cpu * 1e3:.2f} ms CPU "
        f"(median of {repeat})"
    )
    targets.below("ResNet-50 simulate() on one 32x32 ws config, CPU time", one_cpu * 1e3, 50, "ms")

    rng = np.random.default_rng(0)
    configs = [
        AcceleratorConfig(
            rows=int(rng.choice([8, 16, 32, 64, 128, 256])),
            cols=int(rng.choice([8, 16, 32, 64, 128, 256])),
            dataflow=str(rng.choice(["os", "ws", "is"])),
            fold_schedule=str(rng.choice(["sequential", "overlapped"])),
        )
        for _ in range(n_configs)
    ]
    layers = LayerColumns.of(workload)
    start = time.perf_counter()
    batch = dense_timing(ConfigColumns.of(configs), layers)
    vectorized = time.perf_counter() - start
    start = time.perf_counter()
    looped = [dense_timing(ConfigColumns.of([c]), layers).compute_cycles.sum() for c in configs]
    one_at_a_time = time.perf_counter() - start
    print(f"\n== {n_configs:,} configs x ResNet-50, dense_timing ==")
    for label, seconds in (
        ("vectorized (one broadcast)", vectorized),
        ("one at a time", one_at_a_time),
    ):
        print(f"{label:<27} {seconds:.3f} s  ({n_configs / seconds:,.0f} configs/s)")
    print(f"ratio one-at-a-time / vectorized: {one_at_a_time / vectorized:.1f}x")
    targets.below(f"{n_configs:,} configs x ResNet-50 vectorized", vectorized, 60, "s")
    targets.equal(
        "vectorized and one-at-a-time compute cycles",
        batch.compute_cycles.sum(axis=1),
        np.array(looped),
    )


SCALESIM_DRIVER = textwrap.dedent(
    """
    import json, sys, time, csv, os
    from scalesim.scale_sim import scalesim
    cfg, topo, out = sys.argv[1:4]
    # SCALE-Sim 3 parses a layout file even when custom layouts are off; the topology
    # file parses as one.
    sim = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo,
                   layout=topo, input_type_gemm=True)
    start, start_cpu = time.perf_counter(), time.process_time()
    sim.run_scale(top_path=out)
    cpu = time.process_time() - start_cpu
    seconds = time.perf_counter() - start
    report = None
    for root, _, files in os.walk(out):
        if "COMPUTE_REPORT.csv" in files:
            report = os.path.join(root, "COMPUTE_REPORT.csv")
    with open(report) as handle:
        rows = list(csv.reader(handle))
    cycles = [int(float(r[2])) for r in rows[1:] if r]  # "Total Cycles"
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "cycles": cycles}))
    """
)


def scalesim_cfg(config: AcceleratorConfig) -> str:
    return textwrap.dedent(
        f"""
        [general]
        run_name = bench
        [architecture_presets]
        ArrayHeight: {config.rows}
        ArrayWidth: {config.cols}
        IfmapSramSzkB: 64
        FilterSramSzkB: 64
        OfmapSramSzkB: 64
        IfmapOffset: 0
        FilterOffset: 10000000
        OfmapOffset: 20000000
        Bandwidth : 10
        Dataflow : {config.dataflow.value}
        MemoryBanks: 1
        ReadRequestBuffer: 32
        WriteRequestBuffer: 32
        [layout]
        IfmapCustomLayout: False
        IfmapSRAMBankBandwidth: 10
        IfmapSRAMBankNum: 1
        IfmapSRAMBankPort: 2
        FilterCustomLayout: False
        FilterSRAMBankBandwidth: 10
        FilterSRAMBankNum: 1
        FilterSRAMBankPort: 2
        [sparsity]
        SparsitySupport : false
        SparseRep : ellpack_block
        OptimizedMapping : false
        BlockSize : 4
        RandomNumberGeneratorSeed : 40
        [run_presets]
        InterfaceBandwidth: CALC
        UseRamulatorTrace: False
        """
    )


def bench_scalesim(
    python: str, workload: Workload, configs: list[AcceleratorConfig], targets: Targets
) -> None:
    layers = [layer for layer in workload.layers if layer.groups == 1]
    sub = Workload(workload.name, tuple(layers))
    print(f"\n== SCALE-Sim 3.0.0 vs sparsa: {workload.name}, {len(layers)} ungrouped layers ==")
    print(
        f"{'array':>8} {'df':>3} {'scalesim s':>11} {'cpu s':>8} {'sparsa ms':>10} "
        f"{'cpu ms':>8} {'ratio':>9} {'cpu ratio':>10}"
    )
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        topo = tmp_path / "topo.csv"
        topo.write_text(
            "Layer name, M, N, K,\n"
            + "".join(f"{layer.name}, {layer.m}, {layer.n}, {layer.k},\n" for layer in layers)
        )
        for config in configs:
            theirs = _run_scalesim(python, config, topo, tmp_path)
            ours_s, ours_cpu = median_time(lambda c=config: simulate(sub, c), 5)
            ours = [layer.cycles.scalesim_total for layer in simulate(sub, config).layers]
            ratios.append((theirs["seconds"] / ours_s, theirs["cpu_seconds"] / ours_cpu))
            print(
                f"{config.rows:>4}x{config.cols:<3} {config.dataflow.value:>3} "
                f"{theirs['seconds']:>11.2f} {theirs['cpu_seconds']:>8.2f} {ours_s * 1e3:>10.3f} "
                f"{ours_cpu * 1e3:>8.3f} {ratios[-1][0]:>8,.0f}x {ratios[-1][1]:>9,.0f}x",
                flush=True,
            )
            targets.equal(
                f"SCALE-Sim Total Cycles and scalesim_total, {workload.name} "
                f"{config.rows}x{config.cols} {config.dataflow.value}, {len(layers)} layers",
                ours,
                theirs["cycles"],
            )
    wall = [r[0] for r in ratios]
    cpu = [r[1] for r in ratios]
    print(
        f"SCALE-Sim run_scale / sparsa simulate(), whole {workload.name} per config, "
        f"{len(ratios)} configs: wall clock {min(wall):,.0f}-{max(wall):,.0f}x, "
        f"CPU time {min(cpu):,.0f}-{max(cpu):,.0f}x"
    )


def _run_scalesim(python: str, config: AcceleratorConfig, topo: Path, tmp_path: Path) -> dict:
    """SCALE-Sim's run of ``topo`` on ``config``: seconds, CPU seconds, cycles per layer."""
    cfg = tmp_path / f"{config.rows}_{config.dataflow.value}.cfg"
    cfg.write_text(scalesim_cfg(config))
    out = tmp_path / f"out_{config.rows}_{config.dataflow.value}"
    proc = subprocess.run(
        [python, "-c", SCALESIM_DRIVER, str(cfg), str(topo), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per figure")
    parser.add_argument("--configs", type=int, default=10_000, help="configs in the batch figure")
    parser.add_argument(
        "--scalesim-python",
        default=os.environ.get("SCALESIM_PYTHON"),
        help="python of a venv with scalesim==3.0.0 and numpy<2.4",
    )
    parser.add_argument(
        "--scalesim-workload", default="resnet18", help="zoo workload to run through SCALE-Sim"
    )
    parser.add_argument("--scalesim-arrays", type=int, nargs="+", default=list(ARRAYS))
    parser.add_argument(
        "--scalesim-dataflows", nargs="+", choices=[d.value for d in Dataflow],
        default=[d.value for d in Dataflow],
    )  # fmt: skip
    parser.add_argument("--no-zoo", action="store_true", help="skip the zoo table")
    args = parser.parse_args()
    targets = Targets()
    if not args.no_zoo:
        bench_zoo(args.repeat)
    bench_resnet50(args.repeat, args.configs, targets)
    if args.scalesim_python:
        configs = [
            AcceleratorConfig(rows=side, cols=side, dataflow=df)
            for side in args.scalesim_arrays
            for df in args.scalesim_dataflows
        ]
        bench_scalesim(args.scalesim_python, zoo_workload(args.scalesim_workload), configs, targets)
    else:
        print(
            "\n(SCALE-Sim not timed: pass --scalesim-python, see the module docstring)",
            file=sys.stderr,
        )
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
