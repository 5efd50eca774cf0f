"""The steps of a compression recipe: one step's kinds, options and parsing.

A step is a kind followed by words and ``key=value`` options (``prune 90% index=rel5``,
``int8 per-group 32``); :func:`parse_step` turns its text into a frozen step
(:class:`PruneStep`, :class:`IntStep`, ...) and refuses, naming the step, any word,
option or value out of range with the range allowed. The recipe grammar around the steps
is in :mod:`compress.recipe`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from compress.errors import InputError, integer_text
from compress.kmeans import check_bits
from compress.minifloat import FLOAT_FORMATS
from compress.mx import MX_FORMATS, MXFormat
from compress.nm import MAX_MINIMAL_M, check_nm
from compress.pool import PoolSpec
from compress.prune import check_amount
from compress.quant import Granularity, IntSpec
from compress.sparse_index import check_gap_bits

__all__ = [
    "MAX_NM_M",
    "MAX_VECTOR_LENGTH",
    "STEP_KINDS",
    "FloatStep",
    "HuffmanStep",
    "IntStep",
    "KMeansStep",
    "LowRankStep",
    "MVQStep",
    "MXStep",
    "PoolStep",
    "PruneStep",
    "Step",
    "ValueStep",
    "parse_step",
]

DEFAULT_REASSIGN = 1
MAX_NM_M = 1024
"""The largest group M of an N:M prune step (with ``meta=minimal``:
:data:`compress.nm.MAX_MINIMAL_M`)."""
MAX_VECTOR_LENGTH = 256
"""The longest vector of an mvq step (as of a weight pool's)."""

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
    """Masked vector quantization: ``bits``-bit codewords of ``vector_length`` weights."""

    bits: int
    vector_length: int = 8

    def __post_init__(self) -> None:
        check_bits(self.bits, "mvq bits")
        v = self.vector_length
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_VECTOR_LENGTH:
            raise ValueError(f"mvq v must be an integer from 1 to {MAX_VECTOR_LENGTH}, not {v!r}")


@dataclass(frozen=True)
class LowRankStep:
    """A truncated SVD keeping a share ``energy`` of the squared singular values, or the
    rank whose factors store ``ratio`` times the dense weights."""

    energy: float | None = None
    ratio: float | None = None

    def __post_init__(self) -> None:
        energy, ratio = self.energy, self.ratio
        if (energy is None) == (ratio is None):
            raise ValueError("lowrank needs exactly one of energy=E (0 < E <= 1) or ratio=R (> 0)")
        if energy is not None and not (math.isfinite(energy) and 0 < energy <= 1):
            raise ValueError(f"lowrank energy must be in (0, 1], not {energy}")
        if ratio is not None and not (math.isfinite(ratio) and ratio > 0):
            raise ValueError(f"lowrank ratio must be a finite number > 0, not {ratio}")


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
        """``text`` as an integer (``16``, ``1e3``), or an error naming ``what``."""
        value = integer_text(text)
        if value is None:
            raise self.error(f"{what} must be an integer, not {text!r}")
        return value

    def number(self, text: str, what: str) -> float:
        """``text`` as a finite number (``0.5``, ``1.5e-3``), or an error naming ``what``."""
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise self.error(f"{what} must be a finite number, not {text!r}")
        return value

    def done(self) -> None:
        if self.words or self.options:
            left = self.words + [f"{k}={v}" for k, v in self.options.items()]
            raise self.error(f"unexpected {' '.join(left)!r}")


def _amount(words: _Words) -> float | None:
    """The pruned share: the first word that is a number (``90%``, ``0.9``, ``1e-3``)."""
    for word in list(words.words):
        text = word.removesuffix("%")
        try:
            value = float(text)
        except ValueError:
            continue
        words.words.remove(word)
        value = value / 100 if word.endswith("%") else value
        try:
            return check_amount(value)
        except ValueError:
            raise words.error(
                f"prune amount must be from 0% to below 100% (a fraction in [0, 1): "
                f"0.9 = prune 90%), not {word}"
            ) from None
    return None


def _prune(words: _Words) -> PruneStep:
    index = (words.option("index", "auto") or "auto").lower()
    gap_bits = None
    if re.fullmatch(r"rel\d+", index):
        gap_bits = check_gap_bits(int(index[3:]))  # a ValueError becomes the step's error
        index = "relative"
    if index not in ("auto", "bitmask", "relative"):
        raise words.error(f"index must be auto, bitmask, relative or relG (rel5), not {index!r}")
    nm = next((w for w in words.words if re.fullmatch(r"\d+:\d+", w)), None)
    if nm is not None:
        words.words.remove(nm)
        n, m = check_nm(*(int(p) for p in nm.split(":")))
        meta = (words.option("meta", "positions") or "").lower()
        if meta not in ("positions", "minimal"):
            raise words.error(f"meta must be 'positions' or 'minimal', not {meta!r}")
        most = MAX_MINIMAL_M if meta == "minimal" else MAX_NM_M
        if m > most:
            raise words.error(f"N:M pattern {nm}: M must be at most {most} with meta={meta}")
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
        number = next((w for w in words.words if re.fullmatch(r"[+-]?\d+", w)), None)
        if number is None:
            raise words.error("per-group quantization needs a group size: 'per-group 32'")
        words.words.remove(number)
        group = number
    rng = words.take("restricted", "full")
    clip = (words.option("clip", "max") or "").lower()
    spec = IntSpec(
        bits=bits,
        symmetric=symmetric in (None, "sym", "symmetric"),
        granularity=Granularity(granularity),
        group_size=words.integer(group, "group size") if group is not None else None,
        restricted=rng != "full",
        clip=clip,
    )
    return IntStep(spec)


def _float(words: _Words, fmt: str | None) -> FloatStep:
    fmt = fmt or words.take(*FLOAT_FORMATS)
    if fmt not in ("e4m3", "e5m2"):
        given = fmt or (words.words[0] if words.words else None)
        raise words.error(f"fp8 needs e4m3 or e5m2, not {given!r}")
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
    return check_bits(words.integer(text, f"{what} bits"), f"{what} bits")


def _pool(words: _Words) -> PoolStep:
    spec = PoolSpec(
        vector_length=words.integer(words.option("v", "8"), "pool v"),
        pool_size=words.integer(words.option("p", "64"), "pool P"),
        metric=words.option("metric", "euclidean").lower(),
        scale=words.option("scale", "channel").lower(),
    )
    reassign = words.integer(words.option("reassign", str(DEFAULT_REASSIGN)), "pool reassign")
    if reassign < 0:
        raise words.error(f"pool reassign must be an integer >= 0 (epochs), not {reassign}")
    return PoolStep(spec, reassign)


def _lowrank(words: _Words) -> LowRankStep:
    energy, ratio = words.option("energy"), words.option("ratio")
    return LowRankStep(
        energy=None if energy is None else words.number(energy, "lowrank energy"),
        ratio=None if ratio is None else words.number(ratio, "lowrank ratio"),
    )


def parse_step(text: str, where: str) -> Step | None:
    """One step parsed from its text (None for ``none``); every refusal names ``where``
    and the step."""
    tokens = text.split()
    if not tokens:
        raise InputError(f"{where}: empty step")
    words = _Words(f"{where} {text.strip()!r}", tokens[1:])
    try:
        step = _build(tokens[0].lower(), words)
    except InputError:
        raise
    except ValueError as exc:  # a step's constructor refusing a parameter the user gave
        raise words.error(str(exc)) from None
    words.done()
    return step


def _build(kind: str, words: _Words) -> Step | None:
    int_match = re.fullmatch(r"int(\d+)", kind)
    if kind == "prune":
        return _prune(words)
    if int_match:
        return _int(words, words.integer(int_match.group(1), "int bits"))
    if kind in ("fp8", "e4m3", "e5m2"):
        return _float(words, None if kind == "fp8" else kind)
    if kind in MX_FORMATS or kind == "mx":
        name = kind if kind != "mx" else "mx" + (words.words.pop(0) if words.words else "")
        if name not in MX_FORMATS:
            raise words.error(f"unknown MX format {name!r}; valid: {', '.join(MX_FORMATS)}")
        return MXStep(MX_FORMATS[name])
    if kind == "kmeans":
        return KMeansStep(_bits_word(words, "kmeans"))
    if kind == "pool":
        return _pool(words)
    if kind == "mvq":
        bits = _bits_word(words, "mvq")
        return MVQStep(bits, words.integer(words.option("v", "8"), "mvq v"))
    if kind == "lowrank":
        return _lowrank(words)
    if kind == "huffman":
        return HuffmanStep()
    if kind in ("none", "fp32", "dense"):
        return None
    raise words.error(f"unknown step kind {kind!r}; valid kinds: " + ", ".join(STEP_KINDS))
