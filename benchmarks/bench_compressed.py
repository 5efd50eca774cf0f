"""Speed of compressed execution over many configs, against the dense evaluation.

Usage::

    .venv/bin/python benchmarks/bench_compressed.py [--configs 10000] [--workload resnet50]
        [--repeat 3] [--target 1.5]

Draws random configs (the fields of ``bench_batch.py``) and gives each a PE kind that
runs the weights: ``pe_kind: nm`` with ``2:4, 1:4`` for the 2:4 masks; for the 80 %
unstructured masks ``pe_kind: skip`` (which skips in os and gates in ws/is). The
weights come from ``--recipe`` semantics (:func:`simulator.workloads.binding.bind_recipe`
on synthetic weights, seeded). For each case it times one ``evaluate_configs`` call on
the compressed workload and one on the dense workload over the same configs, in the same
run, and prints the ratio; the weight statistics are computed once, outside the timing
(they are the tensors' summaries, made when the weights are bound). Exits 1 when a ratio
misses ``--target`` (the issue's 1.5x).
"""

from __future__ import annotations

import argparse
import sys
import time

from bench_batch import random_configs

from simulator import simulate, zoo_workload
from simulator.results.batch import evaluate_configs
from simulator.workloads.binding import bind_recipe, dense_workload

CASES = {
    "2:4 masks": (
        "prune 2:4 -> int8 per-channel",
        {"pe_kind": "nm", "nm_patterns": ["2:4", "1:4"]},
    ),
    "80% unstructured": ("prune 80% -> int8 per-channel", {"pe_kind": "skip"}),
}


def _best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", type=int, default=10_000)
    parser.add_argument("--workload", default="resnet50")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--target", type=float, default=1.5)
    args = parser.parse_args()
    base = zoo_workload(args.workload)
    failed = False
    print(f"== {args.configs:,} configs x {args.workload} ({len(base)} layers), "
          f"best of {args.repeat} ==")  # fmt: skip
    for label, (recipe, fields) in CASES.items():
        start = time.perf_counter()
        workload = bind_recipe(base, recipe, seed=0).workload
        bound = time.perf_counter() - start
        configs = [c.replace(**fields) for c in random_configs(args.configs, tiling="mixed")]
        distinct = len({(c.rows, c.cols) for c in configs})
        dense = dense_workload(workload)
        evaluate_configs(dense, configs[:8])  # warm-up: imports and tables, not the statistics
        # The first call derives every layer's statistics per distinct array shape (then
        # cached with the tensors' summaries); later calls, as a sweep's chunks, reuse them.
        cold_s = _best(lambda w=workload, c=configs: evaluate_configs(w, c), 1)
        compressed_s = _best(lambda w=workload, c=configs: evaluate_configs(w, c), args.repeat)
        dense_s = _best(lambda w=dense, c=configs: evaluate_configs(w, c), args.repeat)
        ratio, cold_ratio = compressed_s / dense_s, cold_s / dense_s
        batch = evaluate_configs(workload, configs[:5])
        for i in range(5):  # the batch is simulate(), to the last bit
            single = simulate(workload, configs[i])
            assert batch.cycles_total[i] == single.cycles.total
        ok = max(ratio, cold_ratio) <= args.target
        failed |= not ok
        verdict = "ok" if ok else "MISSED"
        print(f"{label:18s} recipe '{recipe}', {distinct} distinct array shapes; binding "
              f"(compress and summaries, once) {bound:.2f} s")  # fmt: skip
        print(f"{'':18s} dense {dense_s:.3f} s; compressed first call {cold_s:.3f} s "
              f"({cold_ratio:.2f}x), then {compressed_s:.3f} s ({ratio:.2f}x); "
              f"target <= {args.target}x: {verdict}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
