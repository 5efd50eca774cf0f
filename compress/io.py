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
from compress.quant import ActivationQuant, Granularity, IntSpec
from compress.sparse_index import RelativeIndex
from compress.tensor import CompressedTensor, IndexKind, Sparsity

__all__ = ["load_compressed", "load_weights", "save_compressed"]


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Named float arrays from ``.npz``, ``.pt``/``.pth`` (torch) or ``.onnx`` (onnx)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"weights file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".npz":
        with np.load(path, allow_pickle=False) as data:
            return {k: np.asarray(data[k]) for k in data.files}
    if suffix in (".pt", ".pth"):
        try:
            import torch
        except ImportError:
            raise InputError(
                f"{path}: reading PyTorch files needs `pip install sparsa[torch]`"
            ) from None
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state)
        return {k: v.detach().float().numpy() for k, v in state.items() if hasattr(v, "detach")}
    if suffix == ".onnx":
        try:
            import onnx
            from onnx import numpy_helper
        except ImportError:
            raise InputError(
                f"{path}: reading ONNX files needs `pip install sparsa[onnx]`"
            ) from None
        graph = onnx.load(str(path)).graph
        return {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    raise InputError(f"weights file {path}: expected .npz, .pt, .pth or .onnx, not {suffix!r}")


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


def _load_tensor(name: str, info: dict, data, shared: dict) -> CompressedTensor:
    def get(key):
        full = f"{name}/{key}"
        return data[full] if full in data.files else None

    relative = None
    if info["gap_bits"] is not None:
        relative = RelativeIndex(info["gap_bits"], get("gaps"), get("filler"))
    nm = tuple(info["nm"]) if info["nm"] else None
    sparsity = Sparsity(info["sparsity"], get("mask"), info["index"], nm, relative)
    encoding = _encoding_from(info["encoding"])
    codebook = get("codebook")
    if isinstance(encoding, VectorValues) and encoding.pool:
        codebook = shared[encoding.pool]
    left, right = get("left"), get("right")
    lengths = {k: get(f"huffman_{k}_lengths") for k in ("values", "index")}
    codes = {k: canonical_code(v) if v is not None else None for k, v in lengths.items()}
    return CompressedTensor(
        name, get("values"), sparsity, encoding, get("codes"), get("scales"), get("zero_points"),
        codebook, (left, right) if left is not None else None, codes["values"], codes["index"],
    )  # fmt: skip


def load_compressed(path: str | Path) -> CompressedModel:
    """Read a model written by :func:`save_compressed`."""
    with np.load(Path(path), allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        shared = {k.removeprefix("shared/"): data[k] for k in data.files if k.startswith("shared/")}
        extra = {k.removeprefix("extra/"): data[k] for k in data.files if k.startswith("extra/")}
        tensors = {n: _load_tensor(n, info, data, shared) for n, info in meta["layers"].items()}
    activations = {
        layer: ActivationQuant(
            IntSpec(q["bits"], symmetric=False, granularity=Granularity.TENSOR),
            q["scale"], q["zero_point"], q["method"],
        )
        for layer, q in meta.get("activations", {}).items()
    }  # fmt: skip
    return CompressedModel(
        meta["model"], meta["recipe"], tensors, shared, extra, meta["accuracy_before"],
        meta["accuracy_after"], (), meta["seed"], meta["finetune_epochs"], activations,
    )  # fmt: skip
