"""Files: user weights in, compressed models out (and back in).

Weights: a ``.npz`` of named arrays; with the optional extras, a PyTorch
``state_dict`` (``.pt`` / ``.pth``, ``pip install sparsa[torch]``) or the initializers
of an ONNX model (``.onnx``, ``pip install sparsa[onnx]``).

``compressed.npz`` holds everything needed to run the model exactly: per layer
``LAYER/codes``, ``LAYER/mask``, ``LAYER/gaps`` (relative index), ``LAYER/scales``,
``LAYER/zero_points``, ``LAYER/codebook``, ``LAYER/left`` / ``LAYER/right`` (low-rank),
``LAYER/values`` (the dequantized weights, for convenience), the N:M metadata stream
as hardware stores it (``LAYER/nm_positions``: the offset of each kept value in its
group, or ``LAYER/nm_ranks``: each group's minimal code), Huffman code lengths and
the coded bit streams (``LAYER/huffman_values``, ``LAYER/huffman_values_bits``); the
shared pools as ``shared/NAME``; uncompressed parameters as ``extra/NAME``; and
``meta``, a JSON string describing every layer's format and, when activations are
quantized, each layer input's scale and zero point.
:func:`load_compressed` rebuilds the :class:`CompressedModel`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from compress.encoding import (
    CodebookValues,
    Encoding,
    FloatValues,
    Fp32Values,
    IntValues,
    LowRankValues,
    MXValues,
    VectorValues,
)
from compress.errors import InputError
from compress.huffman import canonical_code, huffman_encode, to_symbols
from compress.minifloat import FLOAT_FORMATS
from compress.model import CompressedModel
from compress.mx import MX_FORMATS
from compress.nm import nm_group_ranks, nm_positions
from compress.npz import check_file, check_weight_arrays, read_npz
from compress.quant import ActivationQuant, Granularity, IntSpec
from compress.schema import (
    Flag,
    Integer,
    ListOf,
    MapOf,
    Nullable,
    Number,
    Record,
    Tagged,
    Text,
    check,
)
from compress.sparse_index import RelativeIndex
from compress.tensor import CompressedTensor, IndexKind, Sparsity, SparsityKind

__all__ = ["load_compressed", "load_weights", "save_compressed"]


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Named real arrays from ``.npz``, ``.pt``/``.pth`` (torch) or ``.onnx`` (onnx).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    InputError
        For a directory, another suffix, a file that is not of its format (or is damaged),
        arrays that are complex, of Python objects, empty or not finite, or a missing extra.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".pt", ".pth", ".onnx"):
        raise InputError(f"weights file {path}: expected .npz, .pt, .pth or .onnx, not {suffix!r}")
    check_file(path, "weights file")
    where = f"weights file {path}"
    if suffix == ".npz":
        arrays = read_npz(path, "weights file", kinds="biufcUSMmV")
    elif suffix == ".onnx":
        arrays = _onnx_initializers(path, where)
    else:
        arrays = _torch_state(path, where)
    return check_weight_arrays(arrays, where)


def _torch_state(path: Path, where: str) -> dict[str, np.ndarray]:
    try:
        import torch
    except ImportError:
        raise InputError(
            f"{where}: reading PyTorch files needs torch: `pip install sparsa[torch]`"
        ) from None
    import pickle

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as exc:
        message = " ".join(str(exc).split())[:120]
        raise InputError(f"{where} is not a PyTorch file torch can read ({message})") from None
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise InputError(
            f"{where} holds a {type(state).__name__}, not a state_dict (a mapping of "
            "parameter names to tensors)"
        )
    out = {}
    for name, value in state.items():
        if not hasattr(value, "detach"):
            continue
        tensor = value.detach().cpu()
        if tensor.is_complex():
            raise InputError(f"{where}: tensor {name!r} is complex; weights must be real")
        out[str(name)] = (tensor.float() if tensor.is_floating_point() else tensor).numpy()
    return out


def _onnx_initializers(path: Path, where: str) -> dict[str, np.ndarray]:
    try:
        import onnx
        from google.protobuf.message import DecodeError
        from onnx import numpy_helper
    except ImportError:
        raise InputError(
            f"{where}: reading ONNX files needs onnx: `pip install sparsa[onnx]`"
        ) from None
    try:
        model = onnx.load(str(path))
    except DecodeError:
        raise InputError(f"{where} is not an ONNX model (it does not parse as one)") from None
    if not model.HasField("graph"):
        raise InputError(f"{where} is not an ONNX model (it has no graph)")
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


def _encoding_meta(enc: Encoding) -> dict:
    if isinstance(enc, IntValues):
        s = enc.spec
        return {"kind": "int", "bits": s.bits, "symmetric": s.symmetric,
                "granularity": s.granularity.value, "group_size": s.group_size,
                "restricted": s.restricted, "clip": s.clip}  # fmt: skip
    if isinstance(enc, FloatValues):
        return {"kind": "float", "format": enc.format.name, "scale": enc.scale}
    if isinstance(enc, MXValues):
        return {"kind": "mx", "format": enc.format.name}
    if isinstance(enc, CodebookValues):
        return {"kind": "codebook", "bits": enc.bits, "zero_centroid": enc.zero_centroid}
    if isinstance(enc, VectorValues):
        return {
            "kind": "vector",
            "type": enc.kind,
            "bits": enc.bits,
            "vector_length": enc.vector_length,
            "pool": enc.pool,
            "scale": enc.scale,
        }
    if isinstance(enc, LowRankValues):
        return {"kind": "lowrank", "rank": enc.rank}
    return {"kind": "fp32"}


def _encoding_from(meta: dict) -> Encoding:
    kind = meta["kind"]
    if kind == "int":
        spec = IntSpec(meta["bits"], meta["symmetric"], Granularity(meta["granularity"]),
                       meta["group_size"], meta["restricted"],
                       meta.get("clip", "max"))  # fmt: skip
        return IntValues(spec)
    if kind == "float":
        return FloatValues(FLOAT_FORMATS[meta["format"]], meta["scale"])
    if kind == "mx":
        return MXValues(MX_FORMATS[meta["format"]])
    if kind == "codebook":
        return CodebookValues(meta["bits"], meta["zero_centroid"])
    if kind == "vector":
        return VectorValues(meta["type"], meta["bits"], meta["vector_length"], meta["pool"],
                            meta["scale"])  # fmt: skip
    if kind == "lowrank":
        return LowRankValues(meta["rank"])
    return Fp32Values()


def _tensor_arrays(ct: CompressedTensor) -> dict[str, np.ndarray]:
    sp = ct.sparsity
    arrays = {"values": ct.values}
    optional = {
        "codes": ct.codes, "mask": sp.mask, "scales": ct.scales, "zero_points": ct.zero_points,
        "codebook": ct.codebook if not (isinstance(ct.encoding, VectorValues) and ct.encoding.pool)
        else None,
        "gaps": sp.relative.gaps if sp.relative else None,
        "filler": sp.relative.filler if sp.relative else None,
        "left": ct.factors[0] if ct.factors else None,
        "right": ct.factors[1] if ct.factors else None,
    }  # fmt: skip
    arrays.update({k: v for k, v in optional.items() if v is not None})
    if sp.index is IndexKind.NM_POSITIONS:
        arrays["nm_positions"] = nm_positions(sp.mask, sp.nm[1]).astype(np.uint8)
    elif sp.index is IndexKind.NM_MINIMAL:
        arrays["nm_ranks"] = nm_group_ranks(sp.mask, *sp.nm)
    if ct.value_code is not None:
        stream, nbits = huffman_encode(to_symbols(ct.codes, ct.encoding.code_bits), ct.value_code)
        arrays.update(huffman_values_lengths=ct.value_code.lengths, huffman_values=stream,
                      huffman_values_bits=np.array(nbits))  # fmt: skip
    if ct.index_code is not None:
        stream, nbits = huffman_encode(sp.relative.gaps, ct.index_code)
        arrays.update(huffman_index_lengths=ct.index_code.lengths, huffman_index=stream,
                      huffman_index_bits=np.array(nbits))  # fmt: skip
    return arrays


def save_compressed(model: CompressedModel, path: str | Path) -> Path:
    """Write ``model`` to an ``.npz`` (see the module docstring for its keys)."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    layers = {}
    for name, ct in model.tensors.items():
        arrays.update({f"{name}/{k}": v for k, v in _tensor_arrays(ct).items()})
        sp = ct.sparsity
        layers[name] = {
            "encoding": _encoding_meta(ct.encoding),
            "sparsity": sp.kind.value, "index": sp.index.value,
            "nm": list(sp.nm) if sp.nm else None,
            "gap_bits": sp.relative.gap_bits if sp.relative else None,
        }  # fmt: skip
    arrays.update({f"shared/{k}": v for k, v in model.shared.items()})
    arrays.update({f"extra/{k}": v for k, v in model.extra.items()})
    meta = {
        "model": model.model,
        "recipe": model.recipe,
        "seed": model.seed,
        "finetune_epochs": model.finetune_epochs,
        "layers": layers,
        "accuracy_before": model.accuracy_before,
        "accuracy_after": model.accuracy_after,
        "activations": {
            layer: {"bits": q.spec.bits, "scale": q.scale, "zero_point": q.zero_point,
                    "method": q.method}
            for layer, q in model.activations.items()
        },
    }  # fmt: skip
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez_compressed(path, **arrays)
    return path


def _tag(name: str) -> Text:
    return Text((name,))


_ENCODING_META = Tagged(
    "kind",
    {
        "int": Record(
            {"kind": _tag("int"), "bits": Integer(1, 64), "symmetric": Flag(),
             "granularity": Text(tuple(g.value for g in Granularity)),
             "group_size": Nullable(Integer(1)), "restricted": Flag(), "clip": Text()},
            optional=frozenset({"clip"}),
        ),
        "float": Record({"kind": _tag("float"), "format": Text(tuple(FLOAT_FORMATS)),
                         "scale": Text()}),
        "mx": Record({"kind": _tag("mx"), "format": Text(tuple(MX_FORMATS))}),
        "codebook": Record({"kind": _tag("codebook"), "bits": Integer(1, 32),
                            "zero_centroid": Flag()}),
        "vector": Record({"kind": _tag("vector"), "type": Text(("pool", "mvq")),
                          "bits": Integer(1, 32), "vector_length": Integer(1),
                          "pool": Nullable(Text()), "scale": Text()}),
        "lowrank": Record({"kind": _tag("lowrank"), "rank": Integer(1)}),
        "fp32": Record({"kind": _tag("fp32")}),
    },
)  # fmt: skip
_META = Record(
    {
        "model": Text(),
        "recipe": Text(),
        "seed": Integer(),
        "finetune_epochs": Integer(),
        "layers": MapOf(
            Record({"encoding": _ENCODING_META,
                    "sparsity": Text(tuple(kind.value for kind in SparsityKind)),
                    "index": Text(tuple(kind.value for kind in IndexKind)),
                    "nm": Nullable(ListOf(Integer(1), 2, 2)),
                    "gap_bits": Nullable(Integer(1, 32))})
        ),
        "accuracy_before": Nullable(Number(0.0, 1.0)),
        "accuracy_after": Nullable(Number(0.0, 1.0)),
        "activations": MapOf(
            Record({"bits": Integer(2, 16), "scale": Number(above=True),
                    "zero_point": Integer(-(1 << 31)), "method": Text()})
        ),
    },
    optional=frozenset({"activations"}),
)  # fmt: skip
"""The ``meta`` entry of a ``compressed.npz``."""


def _load_tensor(name: str, info: dict, data: dict, shared: dict) -> CompressedTensor:
    def get(key):
        return data.get(f"{name}/{key}")

    relative = None
    if info["gap_bits"] is not None:
        relative = RelativeIndex(info["gap_bits"], get("gaps"), get("filler"))
    nm = tuple(info["nm"]) if info["nm"] else None
    sparsity = Sparsity(info["sparsity"], get("mask"), info["index"], nm, relative)
    encoding = _encoding_from(info["encoding"])
    codebook = get("codebook")
    if isinstance(encoding, VectorValues) and encoding.pool:
        if encoding.pool not in shared:
            raise ValueError(f"its weight pool shared/{encoding.pool} is not in the file")
        codebook = shared[encoding.pool]
    left, right = get("left"), get("right")
    lengths = {k: get(f"huffman_{k}_lengths") for k in ("values", "index")}
    codes = {k: canonical_code(v) if v is not None else None for k, v in lengths.items()}
    return CompressedTensor(
        name, get("values"), sparsity, encoding, get("codes"), get("scales"), get("zero_points"),
        codebook, (left, right) if left is not None else None, codes["values"], codes["index"],
    )  # fmt: skip


def _read_meta(data: dict[str, np.ndarray], where: str) -> dict:
    entry = data.get("meta")
    if entry is None or entry.dtype.kind != "U" or entry.ndim != 0:
        raise InputError(
            f"{where} has no 'meta' text entry: it is not a compressed.npz written by "
            "`sparsa compress`"
        )
    try:
        meta = json.loads(str(entry))
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: its 'meta' entry is not valid JSON ({exc.msg})") from None
    return check(_META, meta, f"{where}: meta")


_ARRAY_KINDS = {
    "values": "f", "codes": "iu", "mask": "b", "gaps": "iu", "filler": "b", "scales": "fiu",
    "zero_points": "iu", "codebook": "f", "left": "f", "right": "f", "nm_positions": "iu",
    "nm_ranks": "iu", "huffman_values": "u", "huffman_values_bits": "iu",
    "huffman_values_lengths": "iu", "huffman_index": "u", "huffman_index_bits": "iu",
    "huffman_index_lengths": "iu",
}  # fmt: skip
"""The dtype kinds of a layer's arrays (``LAYER/codes``: integers)."""


def _encoding_arrays(enc: dict) -> list[str]:
    """The arrays a value format stores besides ``values`` (its meta: :data:`_ENCODING_META`)."""
    kind = enc["kind"]
    if kind == "int":
        return ["codes", "scales"] + ([] if enc["symmetric"] else ["zero_points"])
    if kind == "float":
        return ["codes"] + ([] if enc["scale"] == "none" else ["scales"])
    if kind == "vector":
        return ["codes"] + (["codebook"] if enc["pool"] is None else [])
    return {
        "mx": ["codes", "scales"],
        "codebook": ["codes", "codebook"],
        "lowrank": ["left", "right"],
    }.get(kind, [])


def _check_layer_arrays(name: str, info: dict, data: dict, where: str) -> None:
    """The arrays ``info`` needs are there and of their kinds (before any is used)."""
    needed = ["values", *_encoding_arrays(info["encoding"])]
    needed += ["gaps", "filler"] if info["gap_bits"] is not None else []
    for part in needed:
        if f"{name}/{part}" not in data:
            raise InputError(f"{where}: layer {name!r} has no array '{name}/{part}'")
    for part, kinds in _ARRAY_KINDS.items():
        array = data.get(f"{name}/{part}")
        if array is not None and array.dtype.kind not in kinds:
            raise InputError(
                f"{where}: array '{name}/{part}' has dtype {array.dtype}; it must hold "
                + {"f": "floats", "b": "booleans"}.get(kinds, "integers")
            )
    if (f"{name}/left" in data) != (f"{name}/right" in data):
        raise InputError(f"{where}: layer {name!r} has one low-rank factor of two (left, right)")
    check_weight_arrays({f"{name}/values": data[f"{name}/values"]}, where)
    relative = data.get(f"{name}/gaps")
    if info["gap_bits"] is not None and relative.size:
        top = 1 << info["gap_bits"]
        if relative.min() < 0 or relative.max() >= top:
            raise InputError(f"{where}: array '{name}/gaps' holds gaps outside [0, {top})")


def _check_codes(ct: CompressedTensor, where: str) -> None:
    """Huffman code tables as wide as the alphabets they code."""
    relative = ct.sparsity.relative
    for code, alphabet, what in (
        (ct.value_code, 1 << ct.encoding.code_bits if ct.value_code else 0, "values"),
        (ct.index_code, 1 << relative.gap_bits if relative else 0, "index"),
    ):
        if code is not None and code.alphabet_size != alphabet:
            raise InputError(
                f"{where}: array '{ct.name}/huffman_{what}_lengths' has {code.alphabet_size} "
                f"code lengths for an alphabet of {alphabet} symbols"
            )


def _checked_tensor(name: str, info: dict, data: dict, shared: dict, where: str):
    """Layer ``name`` rebuilt, its arrays checked here and by the constructors (the
    parse edge: their refusals name the file and the layer)."""
    _check_layer_arrays(name, info, data, where)
    try:
        tensor = _load_tensor(name, info, data, shared)
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(f"{where}: layer {name!r}: {exc}") from None
    _check_codes(tensor, where)
    return tensor


def load_compressed(path: str | Path) -> CompressedModel:
    """Read a model written by :func:`save_compressed`, checking its ``meta`` and arrays.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    InputError
        For a file that is not such a model or is damaged, naming the entry.
    """
    where = f"compressed model {path}"
    data = read_npz(path, "compressed model", kinds="biufU")
    meta = _read_meta(data, where)
    if not meta["layers"]:
        raise InputError(f"{where}: meta.layers is empty: the model holds no compressed layer")
    shared = {k.removeprefix("shared/"): v for k, v in data.items() if k.startswith("shared/")}
    extra = {k.removeprefix("extra/"): v for k, v in data.items() if k.startswith("extra/")}
    tensors = {
        name: _checked_tensor(name, info, data, shared, where)
        for name, info in meta["layers"].items()
    }
    try:
        activations = {
            layer: ActivationQuant(
                IntSpec(q["bits"], symmetric=False, granularity=Granularity.TENSOR),
                q["scale"], q["zero_point"], q["method"],
            )
            for layer, q in meta.get("activations", {}).items()
        }  # fmt: skip
    except ValueError as exc:
        raise InputError(f"{where}: meta.activations: {exc}") from None
    return CompressedModel(
        meta["model"], meta["recipe"], tensors, shared, extra, meta["accuracy_before"],
        meta["accuracy_after"], (), meta["seed"], meta["finetune_epochs"], activations,
    )  # fmt: skip
