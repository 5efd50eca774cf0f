"""The integer model against the float paths on the digits test set, over seeds.

Usage::

    .venv/bin/python benchmarks/bench_integer.py [--seeds 0 1 2] [--finetune 0]

For every seed the reference networks are trained densely, each recipe is applied with
activations quantized to int8 (calibrated as ``sparsa compress --activations int8``
does), and the compressed model runs on the integer model
(:func:`compress.integer_net.integer_network`, int32 accumulators). Printed per row:

- ``int acc``: accuracy of the integer model; ``own acc``: the compressed model's own
  (fake-quantized float) accuracy, ``accuracy_after``;
- ``matched``: prediction mismatches / input-code mismatches (all layers) against the
  float path matched to the integer semantics (weights as the integer layers hold
  them, codebooks integerized, biases on the accumulator grid);
- ``own``: the same against the compressed model's own inference (float codebooks,
  float biases);
- ``ms``: time of one integer run over the 360 test images.

Target (an equality), printed as ``target ... : PASS`` or ``MISS``; the script exits 1
when it misses: the integer model's predictions equal the matched float path's on every
test image of every run (``matched`` prediction mismatches 0). The input-code mismatches
and the comparison with the model's own inference are measurements: codes may differ
where a float value sits within float32 error of a rounding boundary, and the model's
own inference rounds its float codebooks a second time.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from targets import Targets

from compress import compress_network, load_digits_split, train_reference
from compress.integer_net import float_agreement, integer_network

RECIPES = {
    "digits-mlp": [
        "prune 2:4 -> int8 per-channel",
        "prune 1:4 -> int8 per-channel",
        "int8 per-tensor",
        "int4 per-channel",
        "int4 affine per-group 16",
        "mxint8",
        "kmeans 4bit",
        "prune 92% global -> kmeans 5bit",
        "pool v=8 P=64",
        "prune 2:4 -> mvq 8bit v=8",
    ],
    "digits-cnn": [
        "prune 2:4 -> int8 per-channel",
        "int8 per-tensor",
        "int4 affine per-group 16",
        "mxint8",
        "kmeans 4bit",
        "steps: pool v=8 P=64\nlayers: {conv1: int8}",
        "prune 2:4 -> mvq 8bit v=8",
    ],
}


def _row(model_name, recipe, seed, net, params, data, epochs) -> tuple[str, int]:
    """The printed row of one run, and its prediction mismatches against the matched path."""
    model = compress_network(
        net, params, recipe, data=data, finetune_epochs=epochs, seed=seed, activations="int8"
    )
    network = integer_network(model)
    start = time.perf_counter()
    run = network.run(data.x_test)
    ms = (time.perf_counter() - start) * 1e3
    matched = float_agreement(network, data.x_test)
    own = float_agreement(network, data.x_test, model.params())
    accuracy = float(np.mean(run.predictions == data.y_test))
    line = (
        f"{model_name:10} {seed:4} {recipe.replace(chr(10), '; '):46} "
        f"{100 * accuracy:7.2f} {100 * model.accuracy_after:7.2f} "
        f"{matched.prediction_mismatches:3} / {sum(matched.code_mismatches.values()):4}   "
        f"{own.prediction_mismatches:3} / {sum(own.code_mismatches.values()):4} {ms:6.0f}"
    )
    return line, matched.prediction_mismatches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--finetune", type=int, default=0, help="fine-tuning epochs")
    args = parser.parse_args()
    data = load_digits_split()
    print(
        f"{'model':10} {'seed':>4} {'recipe':46} {'int acc':>7} {'own acc':>7} "
        f"{'matched':>9}   {'own':>9} {'ms':>6}"
    )
    mismatched = []
    for model_name, recipes in RECIPES.items():
        for seed in args.seeds:
            net, params = train_reference(model_name, seed)
            for recipe in recipes:
                line, mismatches = _row(model_name, recipe, seed, net, params, data, args.finetune)
                print(line, flush=True)
                if mismatches:
                    mismatched.append(f"{model_name} seed {seed} {recipe!r}: {mismatches}")
    runs = sum(len(recipes) for recipes in RECIPES.values()) * len(args.seeds)
    targets = Targets()
    targets.check(
        "integer and matched float predictions equal, every image of every run",
        not mismatched,
        f"{runs - len(mismatched)} of {runs} runs equal"
        + (f" (differ: {'; '.join(mismatched)})" if mismatched else ""),
    )
    return targets.finish()


if __name__ == "__main__":
    sys.exit(main())
