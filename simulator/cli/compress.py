"""``sparsa compress``: apply a compression recipe to a model and account its storage."""

from __future__ import annotations

import argparse
import json

from compress.errors import InputError
from compress.io import save_compressed
from compress.reference import load_model
from compress.report import model_table
from compress.train import FINETUNE_LR
from simulator.cli.argtypes import activation_format, epochs, learning_rate, output_folder, seed

__all__ = ["add_compression_arguments", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser(
        "compress",
        help="compress a model's weights with a recipe",
        description="Apply a compression recipe to a model and write compressed.npz "
        "(codes, masks, codebooks, scales) and summary.json (storage bits by kind, ratios, "
        "density, accuracy) to --out. Recipes: 'prune 2:4 -> int8 per-channel', "
        "'prune 90% -> kmeans 5bit -> huffman', 'pool v=8 P=64', or a .yaml file.",
    )
    add_compression_arguments(
        cmd,
        activations_help="also quantize layer inputs, calibrated on training data: int8, "
        "'int8 percentile', 'int6 percentile=99.9' (built-in models only)",
    )
    cmd.add_argument("--seed", type=seed, default=0, help="seed for training and k-means")
    cmd.add_argument("--out", required=True, type=output_folder, help="output directory")
    cmd.set_defaults(func=_compress)


def add_compression_arguments(cmd: argparse.ArgumentParser, activations_help: str) -> None:
    """The model, recipe and fine-tuning options that ``compress`` and ``run`` share."""
    cmd.add_argument(
        "--model",
        required=True,
        help="digits-mlp, digits-cnn (trained from --seed), or weights .npz/.pt/.onnx",
    )
    cmd.add_argument("--recipe", required=True, help="recipe string or .yaml file")
    cmd.add_argument(
        "--finetune", type=epochs, default=0, metavar="EPOCHS", help="fine-tuning epochs per stage"
    )
    cmd.add_argument(
        "--lr",
        type=learning_rate,
        default=FINETUNE_LR,
        help=f"fine-tuning learning rate ({FINETUNE_LR})",
    )
    cmd.add_argument(
        "--activations", type=activation_format, metavar="FORMAT", help=activations_help
    )


def _compress(args: argparse.Namespace) -> int:
    from compress.pipeline import compress_network  # all of the algorithms

    loaded = load_model(args.model, seed=args.seed)
    if (args.finetune or args.activations) and loaded.net is None:
        raise InputError(
            f"--finetune and --activations need a known network and data; {args.model} has neither"
        )
    model = compress_network(
        loaded.net,
        loaded.params,
        args.recipe,
        data=loaded.data,
        finetune_epochs=args.finetune,
        seed=args.seed,
        lr=args.lr,
        model=loaded.name,
        activations=args.activations,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    npz = save_compressed(model, args.out / "compressed.npz")
    summary = args.out / "summary.json"
    summary.write_text(json.dumps(model.summary(), indent=2) + "\n")
    print(model_table(model))
    print(f"wrote     {npz}, {summary}")
    return 0
