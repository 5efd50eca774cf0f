"""``sparsa run``: a model and a recipe to a verdict on one or two accelerators."""

from __future__ import annotations

import argparse

from simulator.cli.argtypes import existing_file, output_folder, positive_int, seed
from simulator.cli.compress import add_compression_arguments

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "run",
        help="compress a model, simulate it on accelerators, and give the verdict",
        description="Compress --model with --recipe (fine-tuning where the model has data), "
        "bind the compressed weights to its layers and simulate them on every --accel. "
        "Writes compressed.npz and summary.json (as `sparsa compress`), one folder per "
        "accelerator (as `sparsa simulate`), and run.json and report.md with accuracy, "
        "storage, speed-up, energy ratio and area side by side.",
    )
    add_compression_arguments(
        cmd,
        activations_help="also quantize layer inputs (int8, 'int8 percentile'); built-in "
        "models only. Then the integer model scores the network at each accelerator's widths",
    )
    cmd.add_argument(
        "--accel",
        required=True,
        action="append",
        type=existing_file,
        help="accelerator config (.yaml or SCALE-Sim .cfg); give it twice to compare two",
    )
    cmd.add_argument(
        "--workload",
        help="the workload a weights file binds to, when its tensors match no built-in "
        "network (zoo name, topology .csv or .yaml with layers named after the tensors)",
    )
    cmd.add_argument(
        "--batch", type=positive_int, help="batch size (default: the workload's, zoo: 1)"
    )
    cmd.add_argument("--seed", type=seed, default=0, help="seed for training and k-means")
    cmd.add_argument("--out", required=True, type=output_folder, help="output directory")
    cmd.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from compress.report import model_table
    from simulator.codesign.loop import run_codesign
    from simulator.codesign.report import verdict_lines

    run = run_codesign(
        args.model,
        args.recipe,
        args.accel,
        args.out,
        finetune_epochs=args.finetune,
        seed=args.seed,
        lr=args.lr,
        activations=args.activations,
        workload=args.workload,
        batch=args.batch,
    )
    print(model_table(run.model))
    print()
    print("\n".join(verdict_lines(run.to_dict())))
    print("wrote     " + ", ".join(str(p) for p in run.written if p.parent == args.out))
    return 0
