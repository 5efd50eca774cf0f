"""ONNX models as workloads: shapes from ONNX shape inference, weights from initializers.

Needs the optional ``onnx`` package (``pip install sparsa[onnx]``); nothing is
downloaded. The nodes that multiply-accumulate are lowered to layers
(:mod:`simulator.workloads.onnx_ops` says how for each operator):

- ``Conv`` (1-D and 2-D; groups, ``pads`` including asymmetric ones, ``auto_pad``,
  strides, dilations) -> :class:`~simulator.workloads.layer.Conv2d`;
- ``Gemm`` and ``MatMul`` with a constant operand (an initializer, a ``Constant``
  node, or either through ``Identity``, ``Cast``, ``Transpose`` or a QDQ model's
  ``DequantizeLinear``) -> :class:`Linear` with its weights;
- ``Gemm`` and ``MatMul`` of two activations (attention's ``Q @ K^T`` and
  ``P @ V``) -> :class:`MatMul`, ``count`` = the product of the batch and head dims.

Every other node (ReLU, Add, Softmax, pooling, normalization, reshapes, ...) is *not
modelled*: it carries no MACs, and the import lists it once by operator type
(:attr:`OnnxImport.not_modelled`); the few operators that do multiply-accumulate but
are not lowered (``ConvTranspose``, the integer and ``QLinear`` forms, RNNs, ``Einsum``)
are listed apart, since their MACs are missing from the totals.

Batch: the graph's batch is the first dimension of its first input (the first graph
input that is not an initializer). A symbolic batch (``"N"``, ``"batch_size"``) is
set to 1 before shape inference, and the import says so in its notes; other symbolic
dimensions (a sequence length) can be fixed by name with ``dims``. Layers carry the
per-sample operator and ``batch``, as the zoo's do, so ``Workload.with_batch`` holds.

Layer names are the ONNX node names, made unique by a ``_2``, ``_3`` suffix; a node
without a name is called after its operator type and index in the graph
(``Conv_3``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.workloads.layer import Layer, Workload, WorkloadError
from simulator.workloads.onnx_ops import (
    LOWERINGS,
    InitializerSource,
    Lowered,
    OnnxGraph,
    node_label,
    node_where,
)

if TYPE_CHECKING:
    from onnx import ModelProto

__all__ = [
    "INSTALL_HINT",
    "UNCOUNTED_MAC_OPS",
    "InitializerSource",
    "OnnxImport",
    "load_onnx_workload",
    "read_onnx",
]

log = logging.getLogger(__name__)

INSTALL_HINT = "reading ONNX models needs the onnx package: pip install sparsa[onnx]"

# Operators that multiply-accumulate but are not lowered: their MACs are not counted.
UNCOUNTED_MAC_OPS = frozenset(
    {
        "Attention",
        "ConvInteger",
        "ConvTranspose",
        "Einsum",
        "GRU",
        "LSTM",
        "MatMulInteger",
        "QLinearConv",
        "QLinearMatMul",
        "RNN",
    }
)


@dataclass(frozen=True)
class OnnxImport:
    """What :func:`read_onnx` made of an ONNX model.

    Attributes
    ----------
    workload : Workload
        The modelled layers in graph order, weights bound where they are constants.
    not_modelled : dict of str to int
        Nodes left out, by operator type (``"Relu"``, or ``"Conv (3-D)"`` for a variant
        that is not lowered), in order of first appearance: how many of each.
    weight_sources : dict of str to InitializerSource
        For each layer whose weights come from an initializer: its name and whether
        ``layer.weights`` is that initializer transposed (an ONNX ``[in, out]`` matrix)
        or the initializer itself (reshaped, for a 1-D conv). A compressed tensor keyed
        by the initializer name (what ``compress.io.load_weights`` reads) binds to the
        layer through this.
    notes : tuple of str
        One line each: what the import assumed (a symbolic batch set to 1, a weight that
        could not be bound).
    """

    workload: Workload
    not_modelled: dict[str, int] = field(default_factory=dict)
    weight_sources: dict[str, InitializerSource] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def not_modelled_message(self) -> str:
        """``"not modelled (no MACs): Relu x3, Add x2"``, or ``""`` when all were."""
        uncounted = {k: n for k, n in self.not_modelled.items() if _has_macs(k)}
        free = {k: n for k, n in self.not_modelled.items() if not _has_macs(k)}
        parts = []
        if uncounted:
            parts.append(f"not modelled, their MACs are NOT counted: {_counts(uncounted)}")
        if free:
            parts.append(f"not modelled (no MACs): {_counts(free)}")
        return "; ".join(parts)


def _has_macs(label: str) -> bool:
    """An operator that multiply-accumulates, or a variant of a lowered one (``Conv (3-D)``)."""
    return label.partition(" (")[0] in UNCOUNTED_MAC_OPS | LOWERINGS.keys()


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{op} x{n}" for op, n in counts.items())


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise WorkloadError(INSTALL_HINT) from None
    return onnx


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _load_model(onnx: Any, model: str | Path | ModelProto) -> tuple[ModelProto, str]:
    """The model (not edited) and the name of where it came from."""
    if isinstance(model, str | Path):
        path = Path(model)
        if not path.exists():
            raise FileNotFoundError(f"ONNX model {path} does not exist")
        if path.is_dir():
            raise WorkloadError(f"ONNX model {path} is a directory, not a file")
        try:
            proto = onnx.load(str(path))
        except Exception as exc:  # protobuf's DecodeError, onnx's checker errors, ...
            raise WorkloadError(f"{path}: not a readable ONNX model ({_first_line(exc)})") from None
        if not proto.graph.node and not proto.graph.input:
            raise WorkloadError(f"{path}: not an ONNX model (it holds no graph)")
        return proto, str(path)
    if not isinstance(model, onnx.ModelProto):
        raise WorkloadError(f"expected an ONNX file or onnx.ModelProto, not {type(model).__name__}")
    return model, model.graph.name or "onnx model"


# Initializers larger than this go to shape inference as typed inputs, not as data:
# shapes never need them, and a model with its weights can pass protobuf's 2 GB limit.
_SKELETON_MAX_ELEMENTS = 1024


def _skeleton(onnx: Any, model: ModelProto) -> ModelProto:
    """A copy of ``model`` for shape inference: the graph without its large initializers,
    each declared instead as a graph input of its type and shape (after the real inputs)."""
    skeleton = onnx.ModelProto()
    for name in ("ir_version", "producer_name", "domain", "model_version"):
        setattr(skeleton, name, getattr(model, name))
    skeleton.opset_import.extend(model.opset_import)
    skeleton.functions.extend(model.functions)
    graph, source = skeleton.graph, model.graph
    graph.name = source.name
    for name in ("node", "input", "output", "value_info", "sparse_initializer"):
        getattr(graph, name).extend(getattr(source, name))
    declared = {value.name for value in source.input}
    for init in source.initializer:
        if np.prod(init.dims, dtype=np.int64) <= _SKELETON_MAX_ELEMENTS:
            graph.initializer.append(init)
        elif init.name not in declared:
            graph.input.append(
                onnx.helper.make_tensor_value_info(init.name, init.data_type, init.dims)
            )
    return skeleton


def _fix_dims(
    skeleton: ModelProto, initializers: set[str], where: str, dims: Mapping[str, int]
) -> tuple[int, str | None]:
    """Set the symbolic dims of the skeleton's inputs in place; return the batch, and a
    note when it was not a number in the file.

    The batch is the first dim of the first input that is not an initializer; symbolic,
    it becomes 1 (and every input dim of the same name with it).
    """
    inputs = [i for i in skeleton.graph.input if i.name not in initializers]
    if not inputs:
        raise WorkloadError(f"{where}: the graph has no inputs to take the batch from")
    first = inputs[0]
    shape = first.type.tensor_type.shape
    note = None
    fixed = dict(dims)
    batch = 1
    if len(shape.dim) == 0:
        note = f"input {first.name!r} has no shape: modelled at batch 1"
    elif shape.dim[0].HasField("dim_value") and shape.dim[0].dim_value > 0:
        batch = shape.dim[0].dim_value
    else:
        symbol = shape.dim[0].dim_param
        if symbol and symbol not in fixed:
            fixed[symbol] = 1
        elif not symbol:
            shape.dim[0].dim_value = 1
        if fixed.get(symbol, 1) != 1:
            batch = fixed[symbol]
        label = f"symbolic batch {symbol!r}" if symbol else "unknown batch"
        note = f"input {first.name!r} has a {label}: modelled at batch {batch}"
    seen = set()
    for value in inputs:
        for dim in value.type.tensor_type.shape.dim:
            if dim.HasField("dim_param") and dim.dim_param in fixed:
                seen.add(dim.dim_param)
                dim.dim_value = _dim_value(where, dim.dim_param, fixed[dim.dim_param])
    unknown = sorted(set(dims) - seen)
    if unknown:
        raise WorkloadError(
            f"{where}: dims names {unknown[0]!r}, which is not a symbolic dimension of the "
            f"graph inputs"
        )
    return batch, note


def _dim_value(where: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise WorkloadError(
            f"{where}: dimension {name!r} must be a positive integer, not {value!r}"
        )
    return int(value)


def _unique(name: str, taken: set[str]) -> str:
    candidate, suffix = name, 2
    while candidate in taken:
        candidate, suffix = f"{name}_{suffix}", suffix + 1
    taken.add(candidate)
    return candidate


def _lower(graph: OnnxGraph, node: Any) -> Lowered | str:
    """The node's layer, or its label when it is not modelled."""
    lower = LOWERINGS.get(node.op_type) if node.domain in ("", "ai.onnx") else None
    if lower is None:
        return node_label(node)
    try:
        return lower(graph, node)
    except WorkloadError:
        raise
    except ValueError as exc:  # numpy on shapes that contradict each other
        raise WorkloadError(f"{node_where(node)}: inconsistent shapes ({exc})") from None


def read_onnx(
    model: str | Path | ModelProto,
    batch: int | None = None,
    dims: Mapping[str, int] | None = None,
) -> OnnxImport:
    """Lower an ONNX model's Conv, Gemm and MatMul nodes to a workload.

    Parameters
    ----------
    model : str, Path or onnx.ModelProto
        An ``.onnx`` file (external data is read from beside it) or a model in memory.
    batch : int, optional
        Samples per inference; by default the graph's (1 when symbolic).
    dims : mapping of str to int, optional
        Values for symbolic input dimensions, by name (``{"seq": 128}``).

    Returns
    -------
    OnnxImport
        The workload (named after the file, ``source`` the path), the operators not
        modelled, where each layer's weights came from, and the assumptions made.

    Raises
    ------
    WorkloadError
        Without the ``onnx`` package (with the install hint), for a file that is not an
        ONNX model, when shape inference fails, or when a modelled node's shape is not
        known (the message names the node); one line each.
    """
    onnx = _import_onnx()
    proto, where = _load_model(onnx, model)
    skeleton = _skeleton(onnx, proto)
    initializers = {init.name for init in proto.graph.initializer}
    graph_batch, batch_note = _fix_dims(skeleton, initializers, where, dims or {})
    try:
        inferred = onnx.shape_inference.infer_shapes(skeleton, data_prop=True)
    except Exception as exc:  # onnx's InferenceError and ValidationError
        raise WorkloadError(f"{where}: ONNX shape inference failed: {_first_line(exc)}") from None
    graph = OnnxGraph.build(onnx, inferred.graph, proto.graph.initializer, graph_batch)
    layers: list[Layer] = []
    sources: dict[str, InitializerSource] = {}
    not_modelled: Counter[str] = Counter()
    taken: set[str] = set()
    for index, node in enumerate(inferred.graph.node):
        lowered = _lower(graph, node)
        if isinstance(lowered, str):
            not_modelled[lowered] += 1
            continue
        name = _unique(node.name or f"{node.op_type}_{index}", taken)
        initializer = lowered.source.initializer if lowered.source is not None else ""
        layers.append(
            Layer(name, lowered.op, graph_batch, weights=lowered.weights, weights_name=initializer)
        )
        if lowered.source is not None:
            sources[name] = lowered.source
    notes = (
        tuple(graph.notes)
        if batch is not None or batch_note is None
        else (batch_note, *graph.notes)
    )
    if not layers:
        found = _counts(not_modelled) or "no nodes"
        raise WorkloadError(f"{where}: no Conv, Gemm or MatMul nodes to model (found {found})")
    name = Path(where).stem if isinstance(model, str | Path) else where
    workload = Workload(name=name, layers=tuple(layers), source=where)
    if batch is not None:
        workload = workload.with_batch(batch)
    return OnnxImport(workload, dict(not_modelled), sources, notes)


def load_onnx_workload(
    path: str | Path, batch: int | None = None, dims: Mapping[str, int] | None = None
) -> Workload:
    """:func:`read_onnx`'s workload; the operators not modelled and the notes are logged
    once as warnings (the CLI shows them)."""
    result = read_onnx(path, batch=batch, dims=dims)
    if result.not_modelled_message:
        log.warning("%s: %s", result.workload.source, result.not_modelled_message)
    for note in result.notes:
        log.warning("%s: %s", result.workload.source, note)
    return result.workload
