"""Speed of the whole model over many configs: ``evaluate_configs`` on random configs.

Usage::

    .venv/bin/python benchmarks/bench_batch.py [--configs 10000] [--workload resnet50]
        [--stream-tiling none|fit|mixed]

Draws random accelerator configs (every field varies: array shape, dataflow, fold
schedule, bit widths, SRAM sizes, double buffering, DRAM bandwidth, clock, energy table,
and stream tiling: ``mixed``, the default, tiles about half of them), times building
them and one ``evaluate_configs`` call (timing, memory traffic, stalls, energy, area and
roofline for every config x layer), and checks a few configs against ``simulate``.

Target (an equality), printed as ``target ... : PASS`` or ``MISS``; the script exits 1
when it misses: the batch's total cycles and energy equal ``simulate()``'s, to the last
bit, on every fifth of the configs (5 configs). It states no speed target: the timed
figures are measurements.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from targets import Targets

from simulator import AcceleratorConfig, simulate, zoo_workload
from simulator.config import min_buffer_bytes
from simulator.results.batch import evaluate_configs


def _config(**fields) -> AcceleratorConfig:
    """The config, its drawn buffers raised to one word per PE (the least a config allows)."""
    bits = (fields["activation_bits"], fields["weight_bits"])
    for name, least in min_buffer_bytes(fields["rows"], fields["cols"], *bits).items():
        fields[name] = max(fields[name], least)
    return AcceleratorConfig(**fields)


def random_configs(count: int, seed: int = 0, tiling: str = "none") -> list[AcceleratorConfig]:
    """``count`` random configs; ``tiling`` is none, fit, or mixed (fit drawn for about half,
    from its own random stream, so the other fields are the same for every ``tiling``)."""
    rng = np.random.default_rng(seed)
    tiling_rng = np.random.default_rng(seed + 1)

    def tiling_of() -> str:
        return tiling if tiling != "mixed" else ("none", "fit")[int(tiling_rng.integers(2))]

    sides = [8, 16, 32, 64, 128, 256]

    def pick(values):
        return values[int(rng.integers(len(values)))]

    return [
        _config(
            rows=pick(sides),
            cols=pick(sides),
            dataflow=pick(["os", "ws", "is"]),
            fold_schedule=pick(["sequential", "overlapped"]),
            activation_bits=pick([4, 8, 16]),
            weight_bits=pick([2, 4, 8]),
            accumulator_bits=pick([16, 24, 32]),
            ifmap_sram_bytes=int(2 ** rng.integers(12, 24)),
            filter_sram_bytes=int(2 ** rng.integers(12, 24)),
            ofmap_sram_bytes=int(2 ** rng.integers(12, 24)),
            sram_double_buffered=bool(rng.integers(2)),
            dram_bytes_per_cycle=float(rng.uniform(1, 128)),
            clock_mhz=float(rng.uniform(100, 2000)),
            energy_table=pick(["horowitz45", "eyeriss"]),
            stream_tiling=tiling_of(),
        )
        for _ in range(count)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", type=int, default=10_000)
    parser.add_argument("--workload", default="resnet50")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--stream-tiling", choices=["none", "fit", "mixed"], default="mixed")
    args = parser.parse_args()
    workload = zoo_workload(args.workload)
    start = time.perf_counter()
    configs = random_configs(args.configs, tiling=args.stream_tiling)
    built = time.perf_counter() - start
    evaluate_configs(workload, configs[:10])  # warm-up: imports, table loading
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        batch = evaluate_configs(workload, configs)
        times.append(time.perf_counter() - start)
    checked = range(0, args.configs, max(1, args.configs // 5))
    differ = []
    for i in checked:
        single = simulate(workload, configs[i])
        if (single.cycles.total, single.energy.total) != (batch.cycles_total[i], batch.energy[i]):
            differ.append(i)
    cells = args.configs * len(workload)
    print(
        f"{args.configs:,} configs x {args.workload} ({len(workload)} layers, {cells:,} cells, "
        f"stream tiling {args.stream_tiling})"
    )
    print(f"  building the configs      {built:6.2f} s")
    print(f"  evaluate_configs          {min(times):6.2f} s best of {args.repeat} "
          f"({cells / min(times) / 1e6:.1f} M config-layers/s)")  # fmt: skip
    targets = Targets()
    targets.check(
        "evaluate_configs cycles and energy equal simulate()'s",
        not differ,
        f"{len(checked) - len(differ)} of {len(checked)} configs equal"
        + (f" (differ: configs {differ})" if differ else ""),
    )
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
