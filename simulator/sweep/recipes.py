"""Compression recipes as a sweep axis, on a model with data.

A spec lists recipes beside the config axes and names the model they compress::

    model: digits-mlp                 # or a weights .npz/.pt/.onnx (relative to the spec)
    compression: {finetune: 2, seed: 0, activations: int8}   # optional
    axes:
      recipe: ["int8 per-channel", "prune 2:4 -> int8 per-channel", "kmeans 4bit"]
      rows: [8, 16, 32]

Every config point runs every recipe (the recipe axis is crossed with the sampled
points, whatever the sampling). Each recipe is applied once
(:func:`simulator.codesign.inputs.compress_model`: fine-tuned where the model has data),
its accuracy measured once, and the compressed model cached in the sweep folder::

    recipes/recipe-000/compressed.npz, summary.json

A cached recipe appears by one atomic rename of a complete folder, so a sweep killed
while compressing keeps the recipes it finished and redoes none of them; a resumed sweep
reads them back instead of compressing again. The compressed models are always bound
from the cached files (whose bytes the chunks carry to the workers), so a resumed sweep
evaluates exactly what an uninterrupted one does. Each chunk then evaluates, for every
recipe, all its configs in one vectorized call on that recipe's bound workload
(:func:`simulator.results.batch.evaluate_configs`).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compress import load_compressed, load_recipe, save_compressed
from compress.errors import InputError
from compress.nets import NETS
from compress.pipeline import FINETUNE_LR
from simulator.codesign.inputs import ModelInput, compress_model, load_model_input
from simulator.sweep.axes import spec_number
from simulator.workloads.binding import COMPRESSED_FILE, bind_compressed
from simulator.workloads.layer import Workload
from simulator.workloads.sources import load_workload

__all__ = [
    "RECIPE_DIR",
    "PreparedRecipe",
    "RecipeAxis",
    "RecipeError",
    "parse_recipe_axis",
    "prepare_recipes",
]

log = logging.getLogger(__name__)

RECIPE_DIR = "recipes"
_SUMMARY = "summary.json"
_COMPRESSION_KEYS = {"finetune", "seed", "lr", "activations"}


class RecipeError(InputError):
    """The recipe axis or its model is invalid; the message names the key."""


@dataclass(frozen=True)
class RecipeAxis:
    """The recipes a sweep applies, the model they compress and how."""

    recipes: tuple[str, ...]
    model: str
    workload: str | None = None
    """The workload a weights file binds to (None: the model's own)."""
    finetune: int = 0
    seed: int = 0
    lr: float = FINETUNE_LR
    activations: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipes": list(self.recipes),
            "model": self.model,
            "workload": self.workload,
            "compression": {
                "finetune": self.finetune,
                "seed": self.seed,
                "lr": self.lr,
                "activations": self.activations,
            },
        }

    @property
    def files(self) -> tuple[str, ...]:
        """Input files whose content the sweep's fingerprint covers."""
        names = (self.model, self.workload, *self.recipes)
        return tuple(n for n in names if n and Path(n).is_file())


def _resolve(text: str, root: Path) -> str:
    """A file name relative to the spec; anything else as given."""
    if Path(text).suffix.lower() in (".npz", ".pt", ".pth", ".onnx", ".yaml", ".yml", ".csv"):
        return str((root / text).resolve())
    return text


def parse_recipe_axis(
    values: Any, data: Mapping[str, Any], workloads: Any, root: Path
) -> RecipeAxis:
    """The recipe axis from the spec's ``axes.recipe`` values and its ``model``,
    ``compression`` and (for a weights file that matches no network) ``workloads``."""
    if not isinstance(values, list | tuple) or not values:
        raise RecipeError(f"axis 'recipe': needs a non-empty list of recipes, not {values!r}")
    for value in values:
        if not isinstance(value, str) or not value:
            raise RecipeError(
                f"axis 'recipe': each value must be a recipe such as 'int8 per-channel' or a "
                f"recipe file, not {value!r}"
            )
    recipes = tuple(_resolve(v, root) for v in values)
    if len(set(recipes)) != len(recipes):
        raise RecipeError(f"axis 'recipe': repeated recipes in {list(values)!r}")
    for recipe in recipes:
        try:
            load_recipe(recipe)
        except (ValueError, FileNotFoundError) as exc:
            raise RecipeError(f"axis 'recipe': {exc}") from None
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise RecipeError(
            "axis 'recipe' needs model: the model the recipes compress (digits-mlp, "
            "digits-cnn, or a weights .npz/.pt/.onnx file)"
        )
    model = _resolve(model, root)
    if model not in NETS and not Path(model).is_file():
        raise RecipeError(f"model: {model} is not a built-in model ({', '.join(NETS)}) or a file")
    settings = data.get("compression") or {}
    if not isinstance(settings, Mapping):
        raise RecipeError(f"compression must be a mapping like {{finetune: 2}}, not {settings!r}")
    unknown = set(settings) - _COMPRESSION_KEYS
    if unknown:
        raise RecipeError(
            f"compression: unknown key {sorted(unknown)[0]!r}; use "
            + ", ".join(sorted(_COMPRESSION_KEYS))
        )
    finetune, seed = (
        spec_number(settings.get(key, 0), f"compression: {key}", integer=True, minimum=0)
        for key in ("finetune", "seed")
    )
    lr = spec_number(settings.get("lr", FINETUNE_LR), "compression: lr", minimum=0)
    if not lr > 0:
        raise RecipeError(f"compression: lr must be a positive number, not {lr!r}")
    workload = None
    if workloads is not None:
        if isinstance(workloads, str):
            workloads = [workloads]
        if not isinstance(workloads, list) or len(workloads) != 1:
            raise RecipeError(
                "with a recipe axis, workloads is at most one entry: the layers a weights "
                "file binds to (the model's own workload by default)"
            )
        if not isinstance(workloads[0], str) or not workloads[0]:
            raise RecipeError(f"workloads: the entry must be a workload file, not {workloads[0]!r}")
        workload = _resolve(workloads[0], root)
    activations = settings.get("activations")
    if activations is not None and not isinstance(activations, str):
        raise RecipeError(
            f"compression: activations must be a string such as int8, not {activations!r}"
        )
    return RecipeAxis(recipes, model, workload, finetune, seed, float(lr), activations)


@dataclass(frozen=True, eq=False)
class PreparedRecipe:
    """One recipe, applied and scored once: its figures and its compressed model.

    It travels to workers (processes, Dask) as the bytes of its cached
    ``compressed.npz``, which every process binds once (:attr:`workload`), so no worker
    needs the sweep folder.
    """

    index: int
    recipe: str
    accuracy: float
    """Test accuracy after compression (NaN when the model has no data)."""
    accuracy_before: float
    storage_ratio_fp32: float
    axis: RecipeAxis
    compressed: bytes
    """The cached ``compressed.npz``."""

    @property
    def workload(self) -> Workload:
        """The model's workload with this recipe's compressed weights bound."""
        return _bound(self.axis, self.compressed)


@functools.lru_cache(maxsize=32)
def _bound(axis: RecipeAxis, compressed: bytes) -> Workload:
    with tempfile.TemporaryDirectory(prefix="sparsa-recipe-") as tmp:
        path = Path(tmp) / COMPRESSED_FILE
        path.write_bytes(compressed)
        model = load_compressed(path)
    return bind_compressed(_model_workload(axis), model).workload


def _folder(root: Path, index: int) -> Path:
    return root / RECIPE_DIR / f"recipe-{index:03d}"


def _model_workload(axis: RecipeAxis) -> Workload:
    """The workload the model's tensors bind to, without training a built-in model."""
    if axis.model in NETS:
        return load_workload(axis.workload or axis.model)
    return load_model_input(axis.model, axis.workload, seed=axis.seed).workload


def _compress_into(axis: RecipeAxis, source: ModelInput, index: int, root: Path) -> None:
    """Apply recipe ``index`` and publish its folder with one atomic rename."""
    recipe = axis.recipes[index]
    model = compress_model(source, recipe, axis.finetune, axis.seed, axis.lr, axis.activations)
    final = _folder(root, index)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_compressed(model, tmp / COMPRESSED_FILE)
    summary = model.summary() | {"recipe_axis_value": recipe}
    (tmp / _SUMMARY).write_text(json.dumps(summary, indent=2) + "\n")
    os.replace(tmp, final)


def _nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _cached(path: Path) -> tuple[float, float, float] | None:
    """A cached recipe's accuracy after and before, and storage ratio; None when it is
    not cached, or its files are damaged (said so: it is compressed again)."""
    if not (path / _SUMMARY).is_file():
        return None
    try:
        summary = json.loads((path / _SUMMARY).read_text())
        figures = (
            _nan(summary["accuracy"]["after"]),
            _nan(summary["accuracy"]["before"]),
            float(summary["total"]["ratio_vs_fp32"]),
        )
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        figures = None
    if figures is None or not (path / COMPRESSED_FILE).is_file():
        log.warning("cached recipe %s is damaged; compressing it again", path)
        return None
    return figures


def prepare_recipes(axis: RecipeAxis, root: Path) -> tuple[tuple[PreparedRecipe, ...], int]:
    """Every recipe compressed (or read back from ``root/recipes``) and bound.

    Returns the prepared recipes in axis order and how many were compressed now (the
    rest were cached). The model is loaded (a built-in one trained) only when a recipe
    is missing from the cache.
    """
    folder = root / RECIPE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(".recipe-*.tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    cached = {i: _cached(_folder(root, i)) for i in range(len(axis.recipes))}
    missing = [i for i, figures in cached.items() if figures is None]
    if missing:
        source = load_model_input(axis.model, axis.workload, seed=axis.seed)
        for index in missing:
            log.info("compressing recipe %d: %s", index, axis.recipes[index])
            shutil.rmtree(_folder(root, index), ignore_errors=True)  # a damaged cache entry
            _compress_into(axis, source, index, root)
            cached[index] = _cached(_folder(root, index))
    prepared = []
    for index, recipe in enumerate(axis.recipes):
        accuracy, accuracy_before, storage_ratio = cached[index]
        prepared.append(
            PreparedRecipe(
                index=index,
                recipe=recipe,
                accuracy=accuracy,
                accuracy_before=accuracy_before,
                storage_ratio_fp32=storage_ratio,
                axis=axis,
                compressed=(_folder(root, index) / COMPRESSED_FILE).read_bytes(),
            )
        )
    return tuple(prepared), len(missing)
