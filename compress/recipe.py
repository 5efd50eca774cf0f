"""Recipes: an ordered list of compression steps, as a short string or YAML.

String form: steps separated by ``->``, each a kind followed by words and
``key=value`` options::

    prune 2:4 -> int8 per-channel
    prune 90% -> kmeans 5bit -> huffman
    pool v=8 P=64

Step kinds (a layer takes at most one structure step, then at most one value step,
then optionally ``huffman``):

- ``prune P%`` (or a fraction ``0.9``) layer-wise magnitude, ``prune P% global`` one
  threshold for all layers, ``prune N:M [meta=positions|minimal]``,
  ``prune channel P% [l1|l2]``; unstructured pruning takes
  ``index=auto|bitmask|relative|relG`` (``rel5``: 5-bit gaps; auto picks the smallest)
  and ``rounds=R`` (with fine-tuning, prune gradually over R rounds; default 1);
- ``intB`` (B = 2..16) with ``sym|affine``, ``per-tensor|per-channel|per-group G``,
  ``restricted|full``, ``clip=max|mse`` (MSE-optimal clipping of each scale's range);
- ``fp8 e4m3|e5m2`` (or just ``e4m3`` / ``e5m2``) with ``per-tensor|per-channel|unscaled``;
- ``mxint8``, ``mxfp8``, ``mxfp8-e5m2``, ``mxfp6``, ``mxfp6-e2m3``, ``mxfp4``;
- ``kmeans Bbit`` (or ``kmeans B bit``, ``kmeans bits=B``);
- ``pool v=8 P=64 [metric=euclidean|cosine] [scale=channel|layer|none] [reassign=E]``
  (indices reassigned after each of the first ``E`` fine-tuning epochs);
- ``mvq Bbit v=8`` (after a prune step);
- ``lowrank energy=0.9`` or ``lowrank ratio=0.5`` (alone);
- ``huffman`` (after a value step with integer codes);
- ``none`` / ``fp32``: keep the layer as float32.

YAML form: ``steps`` (a string or a list of step strings) applied to every layer,
and ``layers``, a mapping from layer name to its own steps::

    steps: prune 90% -> kmeans 5bit -> huffman
    layers:
      fc3: kmeans 6bit -> huffman
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compress.errors import InputError, load_yaml, parse_yaml
from compress.schema import preview
from compress.steps import (
    STEP_KINDS,
    FloatStep,
    HuffmanStep,
    IntStep,
    KMeansStep,
    LowRankStep,
    MVQStep,
    MXStep,
    PoolStep,
    PruneStep,
    Step,
    ValueStep,
    parse_step,
)

__all__ = [
    "STEP_KINDS",
    "FloatStep",
    "HuffmanStep",
    "IntStep",
    "KMeansStep",
    "LayerRecipe",
    "LowRankStep",
    "MVQStep",
    "MXStep",
    "PoolStep",
    "PruneStep",
    "Recipe",
    "load_recipe",
    "parse_recipe",
    "parse_steps",
]


@dataclass(frozen=True)
class LayerRecipe:
    """The steps one layer goes through, validated for order."""

    steps: tuple[Step, ...] = ()
    text: str = "none"

    def __post_init__(self) -> None:
        ranks = [_rank(step) for step in self.steps]
        for step, before, after in zip(self.steps[1:], ranks, ranks[1:], strict=False):
            if after <= before:
                raise InputError(
                    f"recipe {self.text!r}: steps go prune -> one value format -> huffman, "
                    f"each at most once; {_kind(step)} is out of place"
                )
        if isinstance(self.value, MVQStep) and self.prune is None:
            raise InputError(f"recipe {self.text!r}: mvq needs a prune step before it (prune 2:4)")
        if isinstance(self.value, LowRankStep) and len(self.steps) > 1:
            raise InputError(f"recipe {self.text!r}: lowrank cannot be combined with other steps")
        if self.huffman and self.value is None:
            raise InputError(
                f"recipe {self.text!r}: huffman needs integer codes: put a value "
                "format (int8, kmeans 5bit, ...) before it"
            )

    @property
    def prune(self) -> PruneStep | None:
        return next((s for s in self.steps if isinstance(s, PruneStep)), None)

    @property
    def value(self) -> ValueStep | None:
        return next((s for s in self.steps if not isinstance(s, PruneStep | HuffmanStep)), None)

    @property
    def huffman(self) -> bool:
        return any(isinstance(s, HuffmanStep) for s in self.steps)


def _rank(step: Step) -> int:
    """Stage of a step: 0 structure, 1 value format, 2 entropy coding."""
    return 0 if isinstance(step, PruneStep) else 2 if isinstance(step, HuffmanStep) else 1


def _kind(step: Step) -> str:
    return type(step).__name__.removesuffix("Step").lower()


def parse_steps(text: str | list[str], where: str = "recipe") -> LayerRecipe:
    """Parse one layer's steps from ``'a -> b -> c'`` or a non-empty list of step strings."""
    if isinstance(text, str):
        parts = text.split("->")
    elif isinstance(text, list) and text and all(isinstance(p, str) for p in text):
        parts = text
    else:
        raise InputError(
            f"{where} = {preview(text)}: must be a step string ('prune 2:4 -> int8') "
            "or a non-empty list of step strings"
        )
    steps = [parse_step(p, f"{where} step {i + 1}") for i, p in enumerate(parts)]
    joined = " -> ".join(p.strip() for p in parts)
    return LayerRecipe(tuple(s for s in steps if s is not None), joined)


@dataclass(frozen=True)
class Recipe:
    """A default :class:`LayerRecipe` and per-layer overrides by layer name."""

    default: LayerRecipe
    layers: tuple[tuple[str, LayerRecipe], ...] = field(default=())

    def for_layer(self, name: str) -> LayerRecipe:
        return dict(self.layers).get(name, self.default)

    @property
    def text(self) -> str:
        extra = "".join(f"; {n}: {r.text}" for n, r in self.layers)
        return self.default.text + extra

    def plan(self, names: Sequence[str]) -> dict[str, LayerRecipe]:
        """The steps of every parameter in ``names`` (``fc1.weight``), overrides applied.

        An override names a parameter with or without its ``.weight`` suffix.

        Raises
        ------
        InputError
            For an override of a layer that is not among ``names``.
        """
        aliases = {n.removesuffix(".weight"): n for n in names} | {n: n for n in names}
        overrides = {}
        for layer, steps in self.layers:
            if layer not in aliases:
                known = [n.removesuffix(".weight") for n in names]
                raise InputError(
                    f"recipe {self.text!r}: layer {layer!r} is not among the weights"
                    f"{_suggest(layer, known)}"
                )
            overrides[aliases[layer]] = steps
        return {n: overrides.get(n, self.default) for n in names}


def _suggest(name: str, known: list[str], shown: int = 12) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(known[:shown]) + (
        f" and {len(known) - shown} more" if len(known) > shown else ""
    )
    return f"{hint}; they are {listed}"


def parse_recipe(text: str) -> Recipe:
    """A recipe from its string form (applied to every layer)."""
    return Recipe(parse_steps(text, f"recipe {text.strip()!r}"))


def _from_yaml(data: Any, where: str) -> Recipe:
    """A recipe from its parsed YAML form: a mapping of ``steps`` and ``layers``."""
    if not isinstance(data, Mapping) or not data:
        what = "an empty document" if data is None or data == {} else f"a {type(data).__name__}"
        raise InputError(
            f"{where} must be a YAML mapping with steps (and layers), not {what} "
            f"({preview(data)}); e.g. 'steps: [prune 2:4, int8]', or the string form "
            "'prune 2:4 -> int8'"
        )
    unknown = [key for key in data if key not in ("steps", "layers")]
    if unknown:
        raise InputError(
            f"{where}: unknown keys {sorted(map(str, unknown))}; allowed: steps, layers"
        )
    default = parse_steps(data.get("steps", "none"), f"{where} steps")
    layers = data.get("layers", {})
    if not isinstance(layers, Mapping):
        raise InputError(
            f"{where}: layers = {preview(layers)}: must map layer names to their steps "
            "({fc1: int8, fc2: [prune 2:4, int8]})"
        )
    overrides = tuple(
        (str(name), parse_steps(steps, f"{where} layer {name!r}")) for name, steps in layers.items()
    )
    return Recipe(default, overrides)


_YAML_STARTS = ("{", "[", "steps:", "layers:")


def load_recipe(spec: str | Path) -> Recipe:
    """A recipe from a YAML file (``.yaml``/``.yml``), YAML text with ``steps:`` (or a
    flow mapping ``{steps: ...}``), or a string.

    Raises
    ------
    InputError
        Naming the file or the recipe text, the step or field and what is allowed.
    """
    text = str(spec)
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml"):
        return _from_yaml(load_yaml(path, "recipe file", expect=None), f"recipe file {text}")
    if text.lstrip().startswith(_YAML_STARTS):
        where = f"recipe {preview(' '.join(text.split()))}"
        return _from_yaml(parse_yaml(text, where, expect=None), where)
    return parse_recipe(text)
