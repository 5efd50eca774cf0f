"""Workloads: neural-network operators lowered to GEMMs.

Every layer is one operator lowered to ``groups`` independent GEMMs of shape
``m x k`` (activations) times ``k x n`` (weights), as the accelerator sees it:

- a convolution lowers by im2col: ``m = out_h * out_w * batch``,
  ``k = r * s * c / groups``, ``n = filters / groups``; depthwise and grouped convs
  keep their groups (a depthwise conv is ``c`` GEMMs of ``m x (r*s)`` times ``(r*s) x 1``);
- a linear (fully-connected) layer is ``m = tokens * batch``, ``k = in``, ``n = out``;
- a batched matmul (attention scores and context) is ``count * batch`` GEMMs whose
  second operand is an activation, not a weight;
- a raw GEMM (SCALE-Sim's ``M, N, K`` form) is taken as given.

Weight layouts follow the compressed-tensor convention: Linear ``[out, in]``, conv
``[out, in / groups, kh, kw]``; the GEMM reduction ``k`` runs over ``in`` and the kernel
window in that order, so ``weights.reshape(out, -1).T`` is the ``k x n`` operand of
group 0 when ``groups == 1``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np

from compress.errors import InputError
from compress.nm import NMPattern
from compress.stats import WeightStats

__all__ = [
    "MAX_DECLARED_FILTERS",
    "MAX_MACS",
    "OP_OF_KEY",
    "Conv2d",
    "Gemm",
    "Layer",
    "Linear",
    "MatMul",
    "OpKind",
    "WeightSource",
    "Workload",
    "WorkloadError",
    "parse_nm",
]


class WorkloadError(InputError):
    """A workload or layer description is invalid; the message names the field."""


MAX_MACS = 1 << 45
"""The most MACs a layer, and a whole workload, may hold: 2^45 = 35,184,372,088,832.

The model counts cycles in int64, and bits and energies in float64 from int64 products of
dimensions and config fields; this bound keeps every count below 2^63 on any config
:class:`simulator.config.AcceleratorConfig` allows (arrays up to 2^16 x 2^16, DRAM at
least 0.01 B/cycle, a Huffman decoder at least 0.01 symbols/cycle). Per layer, with
``F`` fold positions, ``nt`` stream tiles and ``T`` streamed vectors (``F nt T <= MACs``):

- compute cycles ``<= F nt (preload + fill + drain) + F T <= MACs (3 x 2^16 - 1)``, as a
  fold position pays its preload (``rows``) and skew fill and drain (``rows + cols - 2``)
  at most once per streamed vector;
- DRAM bits ``<= 288 MACs`` (each operand refetched at most once per MAC, at 32 bits,
  partial sums spilled and read back at 64), so stalls ``<= 288 MACs / (8 x 0.01)``, and
  Huffman decoding adds at most ``8 MACs / 0.01`` cycles;
- so cycles ``< MACs x 2^18``, and the largest int64 products (an operand's elements
  times the array width, ``2^16 MACs``; a layer's MACs times the operand widths,
  ``2^7 MACs``; the edge hops ``sc x sr x (rows + 1) / 2 <= 2^15 MACs``) stay below 2^63
  for ``MACs <= 2^45``. Summed over layers, the same holds for the workload's total.
"""
MAX_DECLARED_FILTERS = 1 << 24
"""The most output columns (filters, over all groups) of a layer with sparsity declared
without weights (``nm``, ``weight_density``), and the most weights per column of one with a
declared ``weight_density``: the model keeps arrays of that length."""


class OpKind(StrEnum):
    """The operator a layer came from."""

    CONV = "conv"
    LINEAR = "linear"
    MATMUL = "matmul"
    GEMM = "gemm"


def _positive_int(where: str, field_name: str, value: Any) -> int:
    """``value`` as an int from 1 to :data:`MAX_MACS`, or a :class:`WorkloadError`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise WorkloadError(f"{where}: {field_name} must be a positive integer, not {value!r}")
    if value > MAX_MACS:
        raise WorkloadError(
            f"{where}: {field_name} = {int(value):,} is too large; at most 2^45 = {MAX_MACS:,}"
        )
    return int(value)


def _set_ints(obj: Any, where: str, names: tuple[str, ...]) -> None:
    """Check that the fields ``names`` of the frozen ``obj`` are positive integers and store
    them as Python ints (numpy integers would wrap in the products of dimensions)."""
    for name in names:
        object.__setattr__(obj, name, _positive_int(where, name, getattr(obj, name)))


def _pair(where: str, field_name: str, value: Any, *, minimum: int) -> tuple[int, int]:
    """Accept ``v`` or ``(v_h, v_w)``; return a pair of ints from ``minimum`` to
    :data:`MAX_MACS`."""
    pair = tuple(value) if isinstance(value, list | tuple) else (value, value)
    ok = len(pair) == 2 and all(
        isinstance(v, int | np.integer) and not isinstance(v, bool) and minimum <= v <= MAX_MACS
        for v in pair
    )
    if not ok:
        raise WorkloadError(
            f"{where}: {field_name} must be an integer from {minimum} to 2^45 or a pair of "
            f"them, not {value!r}"
        )
    return int(pair[0]), int(pair[1])


@dataclass(frozen=True)
class Conv2d:
    """A 2-D convolution on one ``h x w x c`` input image.

    ``k`` filters of ``r x s`` (height x width), ``stride`` and zero ``padding`` as an
    int or an ``(h, w)`` pair, ``groups`` channel groups (``groups == c == k`` for a
    depthwise conv). Output size: ``out_h = floor((h + 2*pad_h - r) / stride_h) + 1``, or
    with ``ceil_mode`` the ceiling, which counts a last partial window as SCALE-Sim's
    topologies do (its ``ceil((h - r + stride) / stride)``).

    ``dilation`` (int or ``(h, w)``) spaces the kernel taps: a window spans
    ``dilation * (r - 1) + 1`` rows, which sets the output size, while the GEMM still
    reduces over the ``r * s * c / groups`` taps. ``padding_end`` is the bottom/right
    padding when it differs from the top/left ``padding`` (ONNX's asymmetric ``pads``,
    e.g. TensorFlow's "SAME" at stride 2); None means symmetric. Then
    ``out_h = floor((h + pad_top + pad_bottom - dilation_h * (r - 1) - 1) / stride_h) + 1``.
    """

    h: int
    w: int
    c: int
    k: int
    r: int
    s: int
    stride: int | tuple[int, int] = 1
    padding: int | tuple[int, int] = 0
    groups: int = 1
    ceil_mode: bool = False
    dilation: int | tuple[int, int] = 1
    padding_end: int | tuple[int, int] | None = None

    def __post_init__(self) -> None:
        where = "conv"
        if not isinstance(self.ceil_mode, bool):
            raise WorkloadError(f"{where}: ceil_mode must be true or false, not {self.ceil_mode!r}")
        _set_ints(self, where, ("h", "w", "c", "k", "r", "s", "groups"))
        object.__setattr__(self, "stride", _pair(where, "stride", self.stride, minimum=1))
        object.__setattr__(self, "padding", _pair(where, "padding", self.padding, minimum=0))
        object.__setattr__(self, "dilation", _pair(where, "dilation", self.dilation, minimum=1))
        if self.padding_end is not None:
            end = _pair(where, "padding_end", self.padding_end, minimum=0)
            object.__setattr__(self, "padding_end", None if end == self.padding else end)
        if self.c % self.groups or self.k % self.groups:
            raise WorkloadError(
                f"{where}: groups={self.groups} must divide both channels c={self.c} "
                f"and filters k={self.k}"
            )
        (span_h, span_w), (padded_h, padded_w) = self.window, self.padded
        if span_h > padded_h or span_w > padded_w:
            raise WorkloadError(
                f"{where}: filter window {span_h}x{span_w} is larger than the padded input "
                f"{padded_h}x{padded_w}"
            )

    @property
    def window(self) -> tuple[int, int]:
        """Rows and columns one (dilated) kernel window spans."""
        return (self.dilation[0] * (self.r - 1) + 1, self.dilation[1] * (self.s - 1) + 1)

    @property
    def padded(self) -> tuple[int, int]:
        """Input height and width with the zero padding on both sides."""
        end = self.padding if self.padding_end is None else self.padding_end
        return (self.h + self.padding[0] + end[0], self.w + self.padding[1] + end[1])

    def _out(self, padded: int, window: int, stride: int) -> int:
        span = padded - window
        return (-(-span // stride) if self.ceil_mode else span // stride) + 1

    @property
    def out_h(self) -> int:
        return self._out(self.padded[0], self.window[0], self.stride[0])

    @property
    def out_w(self) -> int:
        return self._out(self.padded[1], self.window[1], self.stride[1])

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        """``[out, in / groups, kh, kw]``."""
        return (self.k, self.c // self.groups, self.r, self.s)


@dataclass(frozen=True)
class Linear:
    """A fully-connected layer applied to ``tokens`` rows per sample (1 for a CNN head)."""

    in_features: int
    out_features: int
    tokens: int = 1

    def __post_init__(self) -> None:
        _set_ints(self, "linear", ("in_features", "out_features", "tokens"))

    @property
    def weight_shape(self) -> tuple[int, int]:
        """``[out, in]``."""
        return (self.out_features, self.in_features)


@dataclass(frozen=True)
class MatMul:
    """``count`` independent ``(m x k) @ (k x n)`` products of two activations per sample.

    Attention scores are ``MatMul(m=seq, k=head_dim, n=kv_len, count=heads)``.
    """

    m: int
    k: int
    n: int
    count: int = 1

    def __post_init__(self) -> None:
        _set_ints(self, "matmul", ("m", "k", "n", "count"))


@dataclass(frozen=True)
class Gemm:
    """A raw ``(m x k) @ (k x n)`` GEMM whose second operand is a weight matrix."""

    m: int
    n: int
    k: int

    def __post_init__(self) -> None:
        _set_ints(self, "gemm", ("m", "n", "k"))


Operator = Conv2d | Linear | MatMul | Gemm
_KIND_OF = {Conv2d: OpKind.CONV, Linear: OpKind.LINEAR, MatMul: OpKind.MATMUL, Gemm: OpKind.GEMM}


def parse_nm(text: object, where: str = "layer") -> NMPattern | None:
    """Parse an ``"N:M"`` sparsity declaration (:class:`compress.nm.NMPattern`); empty and
    ``N == M`` (SCALE-Sim's default ``"1:1"``) mean dense (None)."""
    if text is None or str(text).strip() == "":
        return None
    try:
        pattern = NMPattern.parse(text)
    except ValueError as exc:
        raise WorkloadError(f"{where}: {exc}") from None
    return None if pattern.is_dense else pattern


class WeightSource(StrEnum):
    """Where a layer's weights come from, as the simulator sees them.

    ``dense``: nothing known, every weight kept at the accelerator's ``weight_bits``;
    ``declared``: an N:M pattern declared without weights (a uniform mask);
    ``compressed``: a compressed tensor of a user's model (``sparsa compress``);
    ``recipe``: a recipe applied to synthetic weights (each layer's usual
    initialization, seeded): real masks and codes, but not trained ones.
    """

    DENSE = "dense"
    DECLARED = "declared"
    COMPRESSED = "compressed"
    RECIPE = "recipe"


@dataclass(frozen=True)
class Layer:
    """One operator of a network, lowered to ``groups`` GEMMs of ``m x k @ k x n``.

    Parameters
    ----------
    name : str
        Unique within its workload.
    op : Conv2d | Linear | MatMul | Gemm
        The original operator, per sample.
    batch : int
        Samples per inference; multiplies ``m`` (conv, linear, gemm) or ``groups``
        (matmul, whose second operand differs per sample).
    nm : NMPattern or None
        Declared N:M structured sparsity of the weights (SCALE-Sim's sparsity column),
        a uniform pattern without a mask; None when dense. An ``(n, m)`` pair is
        accepted and validated by :class:`compress.nm.NMPattern`.
    weights : numpy.ndarray or None
        The weight tensor when known, in the layout of ``op.weight_shape``.
    compressed : compress.WeightStats or None
        The summary of the layer's compressed weights, when bound
        (:mod:`simulator.workloads.binding`); its shape is ``op.weight_shape``.
    weight_source : WeightSource
        ``compressed`` or ``recipe`` with ``compressed``; otherwise derived: ``declared``
        with ``nm``, else ``dense``.
    activation_density : float
        Fraction of the layer's input activations that are nonzero, in (0, 1]
        (measured on calibration data, or given); zero gating saves their MACs' energy.
    weights_name : str
        The name the layer's weights carry where they came from (an ONNX initializer),
        when it is not ``NAME`` or ``NAME.weight``; compressed tensors bind by either.
    weight_density : float
        A declared unstructured weight density in (0, 1] without a mask (1: dense): each
        weight kept independently (:func:`compress.declared_density_stats`).
    """

    name: str
    op: Operator
    batch: int = 1
    nm: NMPattern | None = None
    weights: np.ndarray | None = field(default=None, compare=False, repr=False)
    compressed: WeightStats | None = field(default=None, compare=False, repr=False)
    weight_source: WeightSource | None = None
    activation_density: float = 1.0
    weights_name: str = ""
    weight_density: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise WorkloadError(f"layer name must be a non-empty string, not {self.name!r}")
        if type(self.op) not in _KIND_OF:
            raise WorkloadError(
                f"layer {self.name!r}: op must be Conv2d, Linear, MatMul or Gemm, "
                f"not {type(self.op).__name__}"
            )
        _set_ints(self, f"layer {self.name!r}", ("batch",))
        self._check_size()
        if self.nm is not None:
            pattern = parse_nm(self.nm, f"layer {self.name!r}")
            if pattern is None:
                raise WorkloadError(
                    f"layer {self.name!r}: nm {self.nm[0]}:{self.nm[1]} is dense; use nm=None"
                )
            object.__setattr__(self, "nm", pattern)
        for what, value in (("weights", self.weights), ("compressed weights", self.compressed)):
            if value is not None:
                expected = self.weight_shape
                if expected is None or tuple(value.shape) != expected:
                    raise WorkloadError(
                        f"layer {self.name!r}: {what} have shape {tuple(value.shape)}, "
                        f"the operator needs {expected}"
                    )
        for field_name in ("activation_density", "weight_density"):
            density = getattr(self, field_name)
            is_number = isinstance(density, int | float) and not isinstance(density, bool)
            if not is_number or not 0 < density <= 1:
                raise WorkloadError(
                    f"layer {self.name!r}: {field_name} must be a number in (0, 1], not {density!r}"
                )
        self._check_weight_source()
        if self.weight_density < 1 and (self.nm is not None or self.compressed is not None):
            raise WorkloadError(
                f"layer {self.name!r}: declare weight_density, nm or compressed weights, "
                "not two of them"
            )
        self._check_declared_size()

    def _check_size(self) -> None:
        """At most :data:`MAX_MACS` MACs, so that no count of the model can overflow."""
        m, n, k, groups = self.gemm
        macs = m * n * k * groups
        if macs > MAX_MACS:
            batch = f" (batch {self.batch:,})" if self.batch > 1 else ""
            raise WorkloadError(
                f"layer {self.name!r}: its GEMMs m x n x k x groups = {m:,} x {n:,} x {k:,} x "
                f"{groups:,}{batch} are {macs:.3g} MACs; a layer may hold at most 2^45 = "
                f"{MAX_MACS:,} MACs (so that every cycle, traffic and energy count fits int64)"
            )

    def _check_declared_size(self) -> None:
        """Sparsity declared without weights keeps per-column arrays (one entry per output
        column), and a declared density the distribution of a column's kept weights (one
        entry per position along ``k``): both at most :data:`MAX_DECLARED_FILTERS`."""
        shape = self.weight_shape
        if shape is None or (self.nm is None and self.weight_density == 1):
            return
        what = "nm" if self.nm is not None else "weight_density"
        sizes = [("output columns", shape[0])]
        if self.nm is None:
            sizes.append(("weights per column (k)", math.prod(shape[1:])))
        for name, size in sizes:
            if size > MAX_DECLARED_FILTERS:
                raise WorkloadError(
                    f"layer {self.name!r}: declared sparsity ({what}) needs at most 2^24 = "
                    f"{MAX_DECLARED_FILTERS:,} {name}, not {size:,}"
                )

    def _check_weight_source(self) -> None:
        if self.compressed is not None and self.nm is not None:
            raise WorkloadError(
                f"layer {self.name!r}: declare nm or bind compressed weights, not both"
            )
        bound = (WeightSource.COMPRESSED, WeightSource.RECIPE)
        if self.weight_source is None:
            if self.compressed is not None:
                raise WorkloadError(
                    f"layer {self.name!r}: compressed weights need weight_source "
                    "'compressed' or 'recipe'"
                )
            declared = self.nm is not None or self.weight_density < 1
            derived = WeightSource.DECLARED if declared else WeightSource.DENSE
            object.__setattr__(self, "weight_source", derived)
            return
        source = WeightSource(self.weight_source)
        object.__setattr__(self, "weight_source", source)
        if (source in bound) != (self.compressed is not None):
            raise WorkloadError(
                f"layer {self.name!r}: weight_source {source.value!r} needs "
                + ("compressed weights" if source in bound else "no compressed weights")
            )

    @property
    def kind(self) -> OpKind:
        return _KIND_OF[type(self.op)]

    @property
    def has_weights(self) -> bool:
        """False for a matmul of two activations (attention): nothing to compress or preload."""
        return self.kind is not OpKind.MATMUL

    @property
    def weight_shape(self) -> tuple[int, ...] | None:
        op = self.op
        if isinstance(op, Conv2d | Linear):
            return op.weight_shape
        if isinstance(op, Gemm):
            return (op.n, op.k)
        return None

    @property
    def gemm(self) -> tuple[int, int, int, int]:
        """``(m, n, k, groups)`` of the lowered GEMMs."""
        op, b = self.op, self.batch
        if isinstance(op, Conv2d):
            g = op.groups
            return (op.out_h * op.out_w * b, op.k // g, op.r * op.s * op.c // g, g)
        if isinstance(op, Linear):
            return (op.tokens * b, op.out_features, op.in_features, 1)
        if isinstance(op, MatMul):
            return (op.m, op.n, op.k, op.count * b)
        return (op.m * b, op.n, op.k, 1)

    @property
    def m(self) -> int:
        return self.gemm[0]

    @property
    def n(self) -> int:
        return self.gemm[1]

    @property
    def k(self) -> int:
        return self.gemm[2]

    @property
    def groups(self) -> int:
        return self.gemm[3]

    @property
    def macs(self) -> int:
        m, n, k, g = self.gemm
        return m * n * k * g

    def to_dict(self) -> dict[str, Any]:
        """The YAML form of this layer (without weights)."""
        body = {
            key: _plain(value)
            for key, value in vars(self.op).items()
            if (key, value) not in _OMITTED_DEFAULTS
        }
        out: dict[str, Any] = {"name": self.name, self.kind.value: body}
        if self.nm is not None:
            out["nm"] = str(self.nm)
        for key in ("activation_density", "weight_density"):
            if getattr(self, key) != 1.0:
                out[key] = getattr(self, key)
        return out


# Conv fields added after the YAML format was fixed: written only when they matter, so
# files and results of convs without them stay as they were.
_OMITTED_DEFAULTS = {("dilation", (1, 1)), ("padding_end", None)}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return value[0] if value[0] == value[1] else list(value)
    return value


OP_OF_KEY: dict[str, type] = {kind.value: cls for cls, kind in _KIND_OF.items()}


@dataclass(frozen=True)
class Workload:
    """An ordered list of layers with a name and the place it came from.

    ``weights_from`` says where bound weights came from (empty when none are bound);
    ``notes`` are remarks every report prints (layers that bound no weights, ...).
    """

    name: str
    layers: tuple[Layer, ...]
    source: str = ""
    weights_from: str = ""
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        object.__setattr__(self, "notes", tuple(self.notes))
        if not self.layers:
            raise WorkloadError(f"workload {self.name!r} has no layers")
        seen: set[str] = set()
        for layer in self.layers:
            if not isinstance(layer, Layer):
                raise WorkloadError(
                    f"workload {self.name!r}: layers must be Layer objects, "
                    f"not {type(layer).__name__}"
                )
            if layer.name in seen:
                raise WorkloadError(f"workload {self.name!r}: duplicate layer name {layer.name!r}")
            seen.add(layer.name)
        total = self.macs
        if total > MAX_MACS:
            raise WorkloadError(
                f"workload {self.name!r}: its {len(self.layers)} layers hold {total:.3g} MACs "
                f"in total; a workload may hold at most 2^45 = {MAX_MACS:,} MACs (so that "
                "every cycle, traffic and energy count fits int64)"
            )

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    @property
    def batch(self) -> int:
        return self.layers[0].batch

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    def with_batch(self, batch: int) -> Workload:
        """The same network at another batch size."""
        _positive_int(f"workload {self.name!r}", "batch", batch)
        return replace(self, layers=tuple(replace(layer, batch=batch) for layer in self.layers))

    def gemm_arrays(self) -> np.ndarray:
        """``int64[4, layers]``: rows m, n, k, groups, for the vectorized model."""
        return np.array([layer.gemm for layer in self.layers], dtype=np.int64).T.reshape(4, -1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "batch": self.batch,
            "layers": [layer.to_dict() for layer in self.layers],
        }
