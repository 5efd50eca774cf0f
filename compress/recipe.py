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

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from compress.errors import InputError
from compress.kmeans import check_bits
from compress.minifloat import FLOAT_FORMATS
from compress.mx import MX_FORMATS, MXFormat
from compress.nm import check_nm
from compress.pool import PoolSpec
from compress.prune import check_amount
from compress.quant import Granularity, IntSpec
from compress.sparse_index import check_gap_bits

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

DEFAULT_REASSIGN = 1

STEP_KINDS = (
    "prune", "intB (int2..int16)", "fp8", "e4m3", "e5m2", *MX_FORMATS,
    "kmeans", "pool", "mvq", "lowrank", "huffman", "none",
)  # fmt: skip


@dataclass(frozen=True)
class PruneStep:
    """``method``: magnitude, global, nm or channel."""

    method: str
    amount: float = 0.0
    nm: tuple[int, int] | None = None
    meta: str = "positions"
    norm: str = "l1"
    index: str = "auto"
    gap_bits: int | None = None
    rounds: int = 1


@dataclass(frozen=True)
class IntStep:
    spec: IntSpec


@dataclass(frozen=True)
class FloatStep:
    format: str
    scale: str = "channel"


@dataclass(frozen=True)
class MXStep:
    format: MXFormat


@dataclass(frozen=True)
class KMeansStep:
    bits: int


@dataclass(frozen=True)
class PoolStep:
    """``reassign``: fine-tuning epochs after which the pool indices are reassigned."""

    spec: PoolSpec
    reassign: int = DEFAULT_REASSIGN


@dataclass(frozen=True)
class MVQStep:
    bits: int
    vector_length: int = 8


@dataclass(frozen=True)
class LowRankStep:
    energy: float | None = None
    ratio: float | None = None


@dataclass(frozen=True)
class HuffmanStep:
    """Huffman-code the integer codes or indices left by the earlier steps (no options)."""


Step = (
    PruneStep
    | IntStep
    | FloatStep
    | MXStep
    | KMeansStep
    | PoolStep
    | MVQStep
    | LowRankStep
    | HuffmanStep
)
ValueStep = IntStep | FloatStep | MXStep | KMeansStep | PoolStep | MVQStep | LowRankStep


class _Words:
    """The words and ``key=value`` options of one step; reports leftovers."""

    def __init__(self, where: str, words: list[str]) -> None:
        self.where = where
        self.options = dict(w.split("=", 1) for w in words if "=" in w)
        self.options = {k.lower(): v for k, v in self.options.items()}
        self.words = [w.lower() for w in words if "=" not in w]

    def error(self, message: str) -> InputError:
        return InputError(f"{self.where}: {message}")

    def take(self, *choices: str) -> str | None:
        for word in self.words:
            if word in choices:
                self.words.remove(word)
                return word
        return None

    def option(self, key: str, default: str | None = None) -> str | None:
        return self.options.pop(key.lower(), default)

    def integer(self, text: str, what: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise self.error(f"{what} must be an integer, not {text!r}") from None

    def done(self) -> None:
        if self.words or self.options:
            left = self.words + [f"{k}={v}" for k, v in self.options.items()]
            raise self.error(f"unexpected {' '.join(left)!r}")


def _amount(words: _Words) -> float | None:
    for word in list(words.words):
        match = re.fullmatch(r"(\d+(?:\.\d+)?)%|(0?\.\d+|0)", word)
        if match:
            words.words.remove(word)
            value = float(match.group(1)) / 100 if match.group(1) else float(match.group(2))
            try:
                return check_amount(value)
            except ValueError as exc:
                raise words.error(str(exc)) from None
    return None


def _prune(words: _Words) -> PruneStep:
    index = (words.option("index", "auto") or "auto").lower()
    gap_bits = None
    if re.fullmatch(r"rel\d+", index):
        gap_bits = check_gap_bits(int(index[3:]))
        index = "relative"
    if index not in ("auto", "bitmask", "relative"):
        raise words.error(f"index must be auto, bitmask, relative or relG (rel5), not {index!r}")
    nm = next((w for w in words.words if re.fullmatch(r"\d+:\d+", w)), None)
    if nm is not None:
        words.words.remove(nm)
        try:
            n, m = check_nm(*(int(p) for p in nm.split(":")))
        except ValueError as exc:
            raise words.error(str(exc)) from None
        meta = (words.option("meta", "positions") or "").lower()
        if meta not in ("positions", "minimal"):
            raise words.error(f"meta must be 'positions' or 'minimal', not {meta!r}")
        return PruneStep("nm", nm=(n, m), meta=meta)
    channel = words.take("channel", "filter")
    method = "channel" if channel else ("global" if words.take("global") else "magnitude")
    norm = words.take("l1", "l2") or "l1"
    words.take("layer", "layerwise", "local")
    amount = _amount(words)
    if amount is None:
        raise words.error("prune needs an amount (90%, 0.9) or a pattern N:M (2:4)")
    rounds = words.integer(words.option("rounds", "1"), "prune rounds")
    if rounds < 1:
        raise words.error(f"prune rounds must be a positive integer, not {rounds}")
    return PruneStep(method, amount, norm=norm, index=index, gap_bits=gap_bits, rounds=rounds)


def _int(words: _Words, bits: int) -> IntStep:
    symmetric = words.take("sym", "symmetric", "affine", "asym", "asymmetric")
    granularity = words.take("per-tensor", "per-channel", "per-group", "tensor", "channel", "group")
    group = words.option("group")
    granularity = (granularity or ("group" if group else "channel")).removeprefix("per-")
    if granularity == "group" and group is None:
        number = next((w for w in words.words if w.isdigit()), None)
        if number is None:
            raise words.error("per-group quantization needs a group size: 'per-group 32'")
        words.words.remove(number)
        group = number
    rng = words.take("restricted", "full")
    clip = (words.option("clip", "max") or "").lower()
    try:
        spec = IntSpec(
            bits=bits,
            symmetric=symmetric in (None, "sym", "symmetric"),
            granularity=Granularity(granularity),
            group_size=words.integer(group, "group size") if group is not None else None,
            restricted=rng != "full",
            clip=clip,
        )
    except ValueError as exc:
        raise words.error(str(exc)) from None
    return IntStep(spec)


def _float(words: _Words, fmt: str | None) -> FloatStep:
    fmt = fmt or words.take(*FLOAT_FORMATS)
    if fmt not in ("e4m3", "e5m2"):
        raise words.error(f"fp8 needs e4m3 or e5m2, not {fmt!r}")
    scale = words.take("per-tensor", "per-channel", "unscaled", "tensor", "channel") or "channel"
    scale = {"unscaled": "none"}.get(scale, scale.removeprefix("per-"))
    return FloatStep(fmt, scale)


def _bits_word(words: _Words, what: str) -> int:
    text = words.option("bits")
    if text is None:
        for i, word in enumerate(words.words):
            match = re.fullmatch(r"(\d+)(?:bits?|b)?", word)
            if match:
                text = match.group(1)
                words.words.pop(i)
                if i < len(words.words) and words.words[i] in ("bit", "bits"):
                    words.words.pop(i)
                break
    if text is None:
        raise words.error(f"{what} needs a width: '{what} 5bit'")
    try:
        return check_bits(words.integer(text, f"{what} bits"), f"{what} bits")
    except ValueError as exc:
        raise words.error(str(exc)) from None


def _pool(words: _Words) -> PoolStep:
    try:
        spec = PoolSpec(
            vector_length=words.integer(words.option("v", "8"), "pool v"),
            pool_size=words.integer(words.option("p", "64"), "pool P"),
            metric=words.option("metric", "euclidean").lower(),
            scale=words.option("scale", "channel").lower(),
        )
    except ValueError as exc:
        raise words.error(str(exc)) from None
    reassign = words.integer(words.option("reassign", str(DEFAULT_REASSIGN)), "pool reassign")
    if reassign < 0:
        raise words.error(f"pool reassign must be an integer >= 0 (epochs), not {reassign}")
    return PoolStep(spec, reassign)


def _lowrank(words: _Words) -> LowRankStep:
    energy, ratio = words.option("energy"), words.option("ratio")
    if (energy is None) == (ratio is None):
        raise words.error("lowrank needs exactly one of energy=E (0 < E <= 1) or ratio=R")
    try:
        value = float(energy if energy is not None else ratio)
    except ValueError:
        raise words.error(
            f"lowrank energy/ratio must be a number, not {energy or ratio!r}"
        ) from None
    if energy is not None and not 0 < value <= 1:
        raise words.error(f"lowrank energy must be in (0, 1], not {value}")
    if ratio is not None and value <= 0:
        raise words.error(f"lowrank ratio must be > 0, not {value}")
    return LowRankStep(energy=value) if energy is not None else LowRankStep(ratio=value)


def _step(text: str, where: str) -> Step | None:
    tokens = text.split()
    if not tokens:
        raise InputError(f"{where}: empty step")
    kind = tokens[0].lower()
    words = _Words(f"{where} {text.strip()!r}", tokens[1:])
    int_match = re.fullmatch(r"int(\d+)", kind)
    if kind == "prune":
        step = _prune(words)
    elif int_match:
        step = _int(words, words.integer(int_match.group(1), "int bits"))
    elif kind in ("fp8", "e4m3", "e5m2"):
        step = _float(words, None if kind == "fp8" else kind)
    elif kind in MX_FORMATS or kind == "mx":
        name = kind if kind != "mx" else "mx" + (words.words.pop(0) if words.words else "")
        if name not in MX_FORMATS:
            raise words.error(f"unknown MX format {name!r}; valid: {', '.join(MX_FORMATS)}")
        step = MXStep(MX_FORMATS[name])
    elif kind == "kmeans":
        step = KMeansStep(_bits_word(words, "kmeans"))
    elif kind == "pool":
        step = _pool(words)
    elif kind == "mvq":
        bits = _bits_word(words, "mvq")
        step = MVQStep(bits, words.integer(words.option("v", "8"), "mvq v"))
    elif kind == "lowrank":
        step = _lowrank(words)
    elif kind == "huffman":
        step = HuffmanStep()
    elif kind in ("none", "fp32", "dense"):
        step = None
    else:
        raise InputError(
            f"{where} {text.strip()!r}: unknown step kind {kind!r}; valid kinds: "
            + ", ".join(STEP_KINDS)
        )
    words.done()
    return step


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
    """Parse one layer's steps from ``'a -> b -> c'`` or a list of step strings."""
    parts = text if isinstance(text, list) else str(text).split("->")
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise InputError(f"{where}: steps must be a string or a list of strings, not {text!r}")
    steps = [_step(p, f"{where} step {i + 1}") for i, p in enumerate(parts)]
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


def parse_recipe(text: str) -> Recipe:
    """A recipe from its string form (applied to every layer)."""
    return Recipe(parse_steps(text))


def _from_mapping(data: Mapping[str, Any], where: str) -> Recipe:
    unknown = set(data) - {"steps", "layers"}
    if unknown:
        raise InputError(f"{where}: unknown keys {sorted(unknown)}; allowed: steps, layers")
    default = parse_steps(data.get("steps", "none"), f"{where} steps")
    layers = data.get("layers") or {}
    if not isinstance(layers, Mapping):
        raise InputError(f"{where}: layers must map layer names to steps")
    overrides = tuple(
        (str(name), parse_steps(steps, f"{where} layer {name!r}")) for name, steps in layers.items()
    )
    return Recipe(default, overrides)


def load_recipe(spec: str | Path) -> Recipe:
    """A recipe from a YAML file (``.yaml``/``.yml``), YAML text with ``steps:``, or a string."""
    text = str(spec)
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml"):
        if not path.is_file():
            raise FileNotFoundError(f"recipe file {text} does not exist")
        data = yaml.safe_load(path.read_text())
        if not isinstance(data, Mapping):
            raise InputError(f"{text}: a recipe file must be a mapping with steps and layers")
        return _from_mapping(data, text)
    if text.lstrip().startswith(("steps:", "layers:")):
        return _from_mapping(yaml.safe_load(text), "recipe")
    return parse_recipe(text)
