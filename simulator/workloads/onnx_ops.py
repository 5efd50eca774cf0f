"""How each ONNX operator that multiply-accumulates lowers to a layer (used by
:mod:`simulator.workloads.onnx`).

Shapes are ONNX's, after shape inference; ``batch`` is the graph's. Every lowering
gives the *per-sample* operator (``Layer.batch`` multiplies it back), so the leading
extent it divides by the batch must be a multiple of it.

- ``Conv``: ``X [N, C, H, W]``, ``W [M, C/group, kh, kw]`` -> ``Conv2d(h=H, w=W, c=C,
  k=M, r=kh, s=kw, stride, padding=(top, left), padding_end=(bottom, right), groups,
  dilation)``; ``auto_pad`` SAME_UPPER / SAME_LOWER / VALID resolved to explicit pads as
  ONNX defines them. A 1-D conv ``X [N, C, L]`` is a conv of height 1. The weights are
  ``W`` as stored (``[out, in/groups, kh, kw]``, sparsa's conv layout; 1-D: ``kh == 1``).
  ``N`` must equal the graph batch. The output size is checked against ONNX's.
- ``Gemm``: ``Y = alpha * A' @ B' + beta * C`` with ``A' = A^T`` if ``transA``, ``B' =
  B^T`` if ``transB``; ``A' [M, K]``, ``B' [K, N]``. A constant ``B`` -> ``Linear(in=K,
  out=N, tokens=M / batch)`` with weights ``B'^T`` in ``[out, in]``: the initializer
  itself when ``transB=1`` (PyTorch's ``nn.Linear`` export), its transpose when
  ``transB=0``. ``alpha`` and ``beta`` are output scalings and the bias an addition: no
  MACs, and ``alpha`` is not folded into the weights.
- ``MatMul`` (numpy semantics, ``[..., M, K] @ [..., K, N]``): a constant 2-D ``B [K,
  N]`` -> ``Linear(in=K, out=N, tokens=rows of A / batch)`` with weights ``B^T``
  (transposed: ONNX stores ``[in, out]``); a constant 2-D ``A [M, K]`` (``W @ x``) ->
  ``Linear(in=K, out=M, tokens=columns of B / batch)`` with weights ``A``.
- ``Gemm`` or ``MatMul`` of two activations -> ``MatMul(m=M, k=K, n=N, count=product of
  the broadcast batch dims / batch)``: attention's ``[B, H, S, D] @ [B, H, D, S]`` is
  ``count = H`` per sample. When the batch dims do not hold the batch (``[B*S, K] @
  [K, N]``), the rows do: ``m = M / batch``.

A constant is an initializer, a ``Constant`` node's tensor, or one of those through
``Identity``, ``Cast``, ``Transpose`` or ``DequantizeLinear`` (a QDQ model's int8
weight, bound dequantized to float). Only weights that are an initializer, as stored or
transposed, have a source (:class:`InitializerSource`); a ``Constant`` node's or a
dequantized weight is bound to the layer, but compress's ``load_weights`` sees only
the initializers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.workloads.layer import Conv2d, Linear, MatMul, WorkloadError

__all__ = ["LOWERINGS", "InitializerSource", "Lowered", "OnnxGraph", "node_label", "node_where"]

Dim = int | str | None


@dataclass(frozen=True)
class InitializerSource:
    """The initializer a layer's weights came from; ``transposed`` when ``layer.weights``
    is its transpose (an ONNX ``[in, out]`` matrix turned into ``[out, in]``)."""

    initializer: str
    transposed: bool


@dataclass(frozen=True)
class Constant:
    """A constant tensor and the initializer it is (or is the transpose of), if any."""

    value: np.ndarray
    source: InitializerSource | None


@dataclass(frozen=True)
class Lowered:
    """One node as a per-sample operator, with its weights when they are constant."""

    op: Conv2d | Linear | MatMul
    weights: np.ndarray | None = None
    source: InitializerSource | None = None


def node_label(node: Any) -> str:
    """``Relu``, or ``com.microsoft.FusedConv`` outside the default domain."""
    return node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"


def node_where(node: Any) -> str:
    """``ONNX node 'conv1' (Conv)``, for messages."""
    name = f"{node.name!r}" if node.name else f"(unnamed, output {node.output[0]!r})"
    return f"ONNX node {name} ({node.op_type})"


@dataclass
class OnnxGraph:
    """What the lowerings read: inferred shapes, constants and the batch of one graph."""

    onnx: Any
    shapes: dict[str, tuple[Dim, ...] | None]
    constants: dict[str, Constant]
    batch: int
    notes: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, onnx: Any, graph: Any, initializers: Any, batch: int) -> OnnxGraph:
        """From the inferred ``graph`` (shapes, nodes) and the model's ``initializers``."""
        shapes: dict[str, tuple[Dim, ...] | None] = {}
        for value in (*graph.input, *graph.value_info, *graph.output):
            tensor = value.type.tensor_type
            shapes[value.name] = (
                tuple(_dim(d) for d in tensor.shape.dim) if tensor.HasField("shape") else None
            )
        to_array = onnx.numpy_helper.to_array
        constants = {
            init.name: Constant(to_array(init), InitializerSource(init.name, transposed=False))
            for init in initializers
        }
        for node in graph.node:
            _fold(onnx, node, constants)
        shapes |= {name: tuple(c.value.shape) for name, c in constants.items()}
        return cls(onnx, shapes, constants, batch)

    def shape(self, node: Any, index: int) -> tuple[int, ...]:
        """The inferred shape of input ``index``; an error naming the node if not known."""
        name = node.input[index]
        shape = self.shapes.get(name)
        if shape is None or not all(isinstance(d, int) for d in shape):
            got = "no shape" if shape is None else "[" + ", ".join(map(str, shape)) + "]"
            hint = " (give symbolic dims a value with dims=...)" if shape else ""
            raise WorkloadError(
                f"{node_where(node)}: the shape of input {name!r} could not be inferred "
                f"({got}){hint}"
            )
        return shape  # type: ignore[return-value]

    def per_sample(self, node: Any, extent: int, what: str) -> int:
        if extent % self.batch:
            raise WorkloadError(
                f"{node_where(node)}: {what} {extent} is not a multiple of the graph "
                f"batch {self.batch}"
            )
        return extent // self.batch

    def attrs(self, node: Any) -> dict[str, Any]:
        get = self.onnx.helper.get_attribute_value
        return {a.name: get(a) for a in node.attribute}


def _dim(dim: Any) -> Dim:
    if dim.HasField("dim_value"):
        return int(dim.dim_value)
    return dim.dim_param or None


def _fold(onnx: Any, node: Any, constants: dict[str, Constant]) -> None:
    """Record the output of a ``Constant``, or of an ``Identity``, ``Cast``, ``Transpose``
    or ``DequantizeLinear`` of constants."""
    if node.domain not in ("", "ai.onnx") or not node.output or node.op_type not in _FOLDED:
        return
    if node.op_type == "Constant":
        attr = next((a for a in node.attribute if a.name == "value"), None)
        if attr is not None:
            constants[node.output[0]] = Constant(onnx.numpy_helper.to_array(attr.t), None)
        return
    if not node.input or not all(name in constants for name in node.input if name):
        return
    base = constants[node.input[0]]
    if node.op_type == "Identity":
        constants[node.output[0]] = base
    elif node.op_type == "Cast":
        to = next(a.i for a in node.attribute if a.name == "to")
        value = base.value.astype(onnx.helper.tensor_dtype_to_np_dtype(to))
        constants[node.output[0]] = Constant(value, base.source)
    elif node.op_type == "DequantizeLinear":
        value = _dequantize(node, [constants[name].value for name in node.input if name])
        if value is not None:
            constants[node.output[0]] = Constant(value, None)
    else:
        perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), None)
        value = np.transpose(base.value, perm)
        source = base.source
        if source is not None and value.ndim == 2:
            swapped = perm in (None, [1, 0])
            source = InitializerSource(source.initializer, source.transposed != swapped)
        elif value.ndim != 2:
            source = None
        constants[node.output[0]] = Constant(value, source)


_FOLDED = frozenset({"Constant", "Identity", "Cast", "Transpose", "DequantizeLinear"})


def _dequantize(node: Any, inputs: list[np.ndarray]) -> np.ndarray | None:
    """``(x - zero_point) * scale`` of a QDQ model's weight, per tensor or per ``axis``;
    None for blocked quantization (``block_size``), which is left unfolded."""
    attrs = {a.name: a.i for a in node.attribute}
    if attrs.get("block_size", 0):
        return None
    x, scale = inputs[0], inputs[1]
    zero = inputs[2] if len(inputs) > 2 else np.zeros((), x.dtype)
    if scale.ndim == 1 and x.ndim > 1:  # per axis: broadcast along `axis`
        shape = [1] * x.ndim
        shape[attrs.get("axis", 1) % x.ndim] = -1
        scale, zero = scale.reshape(shape), zero.reshape(shape)
    return ((x.astype(np.float32) - zero.astype(np.float32)) * scale).astype(scale.dtype)


# --------------------------------------------------------------------------- Conv


def _same_pads(size: int, kernel: int, stride: int, dilation: int, upper: bool) -> tuple[int, int]:
    """ONNX's auto_pad SAME: output ``ceil(size / stride)``, the odd pad at the end
    (SAME_UPPER) or the beginning (SAME_LOWER)."""
    window = dilation * (kernel - 1) + 1
    total = max(0, (-(-size // stride) - 1) * stride + window - size)
    small = total // 2
    return (small, total - small) if upper else (total - small, small)


def _conv(graph: OnnxGraph, node: Any) -> Lowered | str:
    x = graph.shape(node, 0)
    if len(x) not in (3, 4):
        return f"Conv ({len(x) - 2}-D)"
    weight_shape = graph.shape(node, 1)
    attrs = graph.attrs(node)
    spatial = len(x) - 2
    kernel = list(attrs.get("kernel_shape", weight_shape[2:]))
    strides = list(attrs.get("strides", [1] * spatial))
    dilations = list(attrs.get("dilations", [1] * spatial))
    auto_pad = attrs.get("auto_pad", b"NOTSET").decode()
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pairs = [
            _same_pads(x[2 + i], kernel[i], strides[i], dilations[i], auto_pad == "SAME_UPPER")
            for i in range(spatial)
        ]
        pads = [p[0] for p in pairs] + [p[1] for p in pairs]
    else:
        pads = list(attrs.get("pads", [0] * 2 * spatial)) if auto_pad != "VALID" else []
        pads = pads or [0] * 2 * spatial
    if spatial == 1:  # a 1-D conv is a 2-D conv of height 1
        x, kernel, strides, dilations = (
            (*x[:2], 1, x[2]),
            [1, *kernel],
            [1, *strides],
            [1, *dilations],
        )
        pads = [0, pads[0], 0, pads[1]]
    if x[0] != graph.batch:
        raise WorkloadError(
            f"{node_where(node)}: input batch {x[0]} differs from the graph batch {graph.batch}; "
            f"sparsa models a conv per sample"
        )
    try:
        op = Conv2d(
            h=x[2], w=x[3], c=x[1], k=weight_shape[0], r=kernel[0], s=kernel[1],
            stride=tuple(strides), padding=tuple(pads[:2]), groups=attrs.get("group", 1),
            dilation=tuple(dilations), padding_end=tuple(pads[2:]),
        )  # fmt: skip
    except WorkloadError as exc:
        raise WorkloadError(f"{node_where(node)}: {exc}") from None
    _check_conv_output(graph, node, op, spatial)
    const = graph.constants.get(node.input[1])
    if const is None:
        return Lowered(op)
    weights = const.value.reshape(op.weight_shape) if spatial == 1 else const.value
    return Lowered(op, weights, const.source)


def _check_conv_output(graph: OnnxGraph, node: Any, op: Conv2d, spatial: int) -> None:
    inferred = graph.shapes.get(node.output[0])
    if not inferred or not all(isinstance(d, int) for d in inferred[2:]):
        return
    ours = (op.out_h, op.out_w)[2 - spatial :]
    if tuple(inferred[2:]) != ours:
        raise WorkloadError(
            f"{node_where(node)}: the conv gives a {'x'.join(map(str, ours))} output, ONNX infers "
            f"{'x'.join(map(str, inferred[2:]))}"
        )


# --------------------------------------------------------------------------- Gemm, MatMul


def _linear(
    graph: Any, node: Any, weight: Constant, out_in: np.ndarray, transposed: bool, rows: int
) -> Lowered:
    """A weight of ``[out, in]`` (``out_in``) applied to ``rows`` rows of the graph."""
    out_features, in_features = out_in.shape
    tokens = graph.per_sample(node, rows, "the number of rows")
    source = weight.source
    if source is not None and transposed:
        source = InitializerSource(source.initializer, not source.transposed)
    return Lowered(Linear(in_features, out_features, tokens), out_in, source)


def _activations(graph: OnnxGraph, node: Any, m: int, k: int, n: int, count: int) -> Lowered:
    """``count`` products of two activations, ``count`` or ``m`` holding the batch."""
    if count % graph.batch == 0:
        return Lowered(MatMul(m=m, k=k, n=n, count=count // graph.batch))
    rows = graph.per_sample(node, m * count, "the number of rows (matmul count x m)")
    return Lowered(MatMul(m=rows, k=k, n=n, count=1))


def _gemm(graph: OnnxGraph, node: Any) -> Lowered | str:
    a, b = graph.shape(node, 0), graph.shape(node, 1)
    attrs = graph.attrs(node)
    trans_a, trans_b = bool(attrs.get("transA", 0)), bool(attrs.get("transB", 0))
    m, k = a[::-1] if trans_a else a
    n = b[0] if trans_b else b[1]
    if (weight := graph.constants.get(node.input[1])) is not None:
        out_in = weight.value if trans_b else weight.value.T
        return _linear(graph, node, weight, out_in, not trans_b, m)
    if (weight := graph.constants.get(node.input[0])) is not None:  # W @ x: Y^T = x^T W^T
        out_in = weight.value.T if trans_a else weight.value
        return _linear(graph, node, weight, out_in, trans_a, n)
    return _activations(graph, node, m, k, n, 1)


def _matmul(graph: OnnxGraph, node: Any) -> Lowered | str:
    a, b = graph.shape(node, 0), graph.shape(node, 1)
    a2 = a if len(a) >= 2 else (1, *a)  # numpy: a 1-D operand is a row / column vector
    b2 = b if len(b) >= 2 else (*b, 1)
    m, k, n = a2[-2], a2[-1], b2[-1]
    batch_dims = np.broadcast_shapes(a2[:-2], b2[:-2])
    weight_b, weight_a = graph.constants.get(node.input[1]), graph.constants.get(node.input[0])
    if weight_b is not None and weight_a is not None:
        return "MatMul (of constants)"
    if weight_b is not None and len(b) <= 2:
        out_in = weight_b.value.reshape(k, n).T
        return _linear(graph, node, weight_b, out_in, len(b) == 2, math.prod(a2[:-1]))
    if weight_a is not None and len(a) == 2:
        return _linear(graph, node, weight_a, weight_a.value, False, math.prod(batch_dims) * n)
    if weight_a is not None or weight_b is not None:
        graph.notes.append(
            f"{node_where(node)}: a batched constant operand is modelled as a matmul of "
            f"activations, its weights are not bound"
        )
    return _activations(graph, node, m, k, n, math.prod(batch_dims))


LOWERINGS: dict[str, Callable[[OnnxGraph, Any], Lowered | str]] = {
    "Conv": _conv,
    "Gemm": _gemm,
    "MatMul": _matmul,
}
