"""``sparsa simulate``, ``sparsa report``, ``sparsa demo`` and ``sparsa zoo``.

Registering the commands imports only the config's enums; each command imports the
library it calls when it runs (``sparsa --help`` and ``sparsa zoo`` stay fast).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from compress.errors import InputError
from simulator.cli.argtypes import number_in, output_folder, positive_int, seed
from simulator.config import CLOCK_MHZ_RANGE, Dataflow, FoldSchedule, StreamTiling
from simulator.workloads.scalesim import CFG_DEFAULT_CLOCK_MHZ

if TYPE_CHECKING:
    from simulator.workloads.layer import Workload

__all__ = ["register"]

_NO_PLOTS_HELP = "write report.md without the PNG plots (much faster)"


def register(subparsers: argparse._SubParsersAction) -> None:
    sim = subparsers.add_parser(
        "simulate",
        help="simulate a workload on an accelerator",
        description="Simulate a workload on an accelerator config and write result.json, "
        "layers.csv, report.md and the roofline, energy and cycles plots (PNG) to --out "
        "(the plots take most of a small run's time: --no-plots skips them).",
    )
    sim.add_argument("--accel", required=True, help="accelerator config (.yaml, or SCALE-Sim .cfg)")
    sim.add_argument(
        "--workload",
        help="zoo name (see `sparsa zoo`), topology .csv, .yaml or .onnx (default with "
        "--compressed: the compressed model's zoo entry, e.g. digits-mlp)",
    )
    weights = sim.add_mutually_exclusive_group()
    weights.add_argument(
        "--compressed",
        type=Path,
        help="bind the weights `sparsa compress` wrote (its folder or compressed.npz) by "
        "layer name",
    )
    weights.add_argument(
        "--recipe",
        help="apply a compression recipe to synthetic weights of the workload, e.g. "
        "'prune 2:4 -> int8 per-channel'",
    )
    sim.add_argument("--seed", type=seed, default=0, help="seed of the synthetic weights (>= 0)")
    sim.add_argument(
        "--batch", type=positive_int, help="batch size (default: the workload's, zoo: 1)"
    )
    sim.add_argument("--dataflow", choices=[d.value for d in Dataflow], help="override dataflow")
    sim.add_argument(
        "--schedule", choices=[s.value for s in FoldSchedule], help="override fold schedule"
    )
    sim.add_argument(
        "--stream-tiling",
        choices=[t.value for t in StreamTiling],
        help="override stream tiling (ws/is: none streams all of T, as SCALE-Sim; fit tiles it)",
    )
    sim.add_argument(
        "--clock-mhz",
        type=number_in(*CLOCK_MHZ_RANGE, "MHz: 1 kHz to 100 GHz"),
        help="override the array clock in MHz (a SCALE-Sim .cfg has none: "
        f"{CFG_DEFAULT_CLOCK_MHZ:g} MHz unless given)",
    )
    sim.add_argument("--out", required=True, type=output_folder, help="output directory")
    sim.add_argument("--no-plots", action="store_true", help=_NO_PLOTS_HELP)
    sim.set_defaults(func=_simulate)

    report = subparsers.add_parser(
        "report",
        help="re-render report.md and the plots from a result.json",
        description="Render report.md, roofline.png, energy.png and cycles.png from a "
        "result.json written by `sparsa simulate`, without simulating again.",
    )
    report.add_argument("result", type=Path, help="a result.json from `sparsa simulate`")
    report.add_argument(
        "--out", type=output_folder, help="output directory (default: the result's directory)"
    )
    report.add_argument("--no-plots", action="store_true", help=_NO_PLOTS_HELP)
    report.set_defaults(func=_report)

    demo = subparsers.add_parser(
        "demo",
        help="run the built-in demo",
        description="Simulate ResNet-18 on edge-32x32 (report and plots), compress the "
        "digits MLP, and write the demo accelerator's Verilog.",
    )
    demo.add_argument("--out", default="out/demo", help="output directory (created if missing)")
    demo.set_defaults(func=_demo)

    zoo = subparsers.add_parser("zoo", help="list the built-in workloads")
    zoo.set_defaults(func=_zoo)


def _simulate(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from simulator.reports.markdown import write_report
    from simulator.reports.text import layer_table, summary_lines
    from simulator.results.simulate import simulate
    from simulator.workloads.sources import load_config_with_notes

    config, notes = load_config_with_notes(args.accel)
    overrides: dict[str, object] = {}
    if args.dataflow:
        overrides["dataflow"] = args.dataflow
    if args.schedule:
        overrides["fold_schedule"] = args.schedule
    if args.stream_tiling:
        overrides["stream_tiling"] = args.stream_tiling
    if args.clock_mhz is not None:
        overrides["clock_mhz"] = args.clock_mhz
        notes = tuple(_clock_note(note, args.clock_mhz) for note in notes)
    config = config.replace(**overrides) if overrides else config
    workload = _workload(args)
    result = replace(simulate(workload, config), input_notes=notes)
    args.out.mkdir(parents=True, exist_ok=True)
    result.write_json(args.out / "result.json")
    result.write_csv(args.out / "layers.csv")
    written = (
        args.out / "result.json",
        args.out / "layers.csv",
        *write_report(result, args.out, with_plots=not args.no_plots),
    )
    print(layer_table(result))
    print()
    print("\n".join(summary_lines(result)))
    print(_wrote_line(written, args.no_plots))
    return 0


def _workload(args: argparse.Namespace) -> Workload:
    """The workload, with the weights ``--compressed`` or ``--recipe`` asks for."""
    from simulator.workloads.binding import bind_compressed, bind_recipe, load_compressed_model
    from simulator.workloads.sources import load_workload
    from simulator.workloads.zoo import ZOO

    if args.compressed is not None:
        model = load_compressed_model(args.compressed)
        spec = args.workload or model.model
        if args.workload is None and spec not in ZOO:
            raise InputError(
                f"--compressed {args.compressed}: model {spec!r} is not in the zoo; give "
                "--workload with its layers"
            )
        workload = load_workload(spec, batch=args.batch)
        return bind_compressed(workload, model, str(args.compressed)).workload
    if args.workload is None:
        raise InputError("--workload is required (unless --compressed names a zoo model)")
    workload = load_workload(args.workload, batch=args.batch)
    if args.recipe is not None:
        return bind_recipe(workload, args.recipe, seed=args.seed).workload
    return workload


def _clock_note(note: str, clock_mhz: float) -> str:
    """An importer's "no clock" note, restated for the clock ``--clock-mhz`` set."""
    if note.startswith("A SCALE-Sim cfg has no clock"):
        return f"A SCALE-Sim cfg has no clock: {clock_mhz:g} MHz from --clock-mhz."
    return note


def _report(args: argparse.Namespace) -> int:
    from simulator.reports.markdown import write_report
    from simulator.reports.text import summary_lines
    from simulator.results.result import SimResult

    result = SimResult.read_json(args.result)  # refuses a missing, bad or inconsistent file
    written = write_report(result, args.out or args.result.parent, with_plots=not args.no_plots)
    print("\n".join(summary_lines(result)))
    print(_wrote_line(written, args.no_plots))
    return 0


def _wrote_line(written: tuple[Path, ...], no_plots: bool) -> str:
    """``wrote     a, b, c``, saying so when ``--no-plots`` skipped the plots."""
    skipped = " (plots skipped: --no-plots)" if no_plots else ""
    return "wrote     " + ", ".join(str(p) for p in written) + skipped


def _demo(args: argparse.Namespace) -> int:
    from simulator.demo import run_demo
    from simulator.reports.text import layer_table

    run = run_demo(args.out)
    print(layer_table(run.result))
    for step in run.steps:
        print(f"\n== {step.title}")
        print("\n".join(step.lines))
        print("wrote     " + ", ".join(str(p) for p in step.written))
    return 0


def _zoo(args: argparse.Namespace) -> int:
    from simulator.workloads.zoo import ZOO

    width = max(len(name) for name in ZOO)
    for name, entry in ZOO.items():
        params = ", ".join(f"{k}={v}" for k, v in entry.params.items())
        suffix = f"  [{params}]" if params else ""
        print(
            f"{name.ljust(width)}  {entry.reference_gmacs:8.2f} GMACs  {entry.description}{suffix}"
        )
    return 0
