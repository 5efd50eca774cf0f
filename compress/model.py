"""CompressedModel: every compressed layer of a network, and the model-level account.

Totals count the compressed tensors, each network-wide weight pool once
(``P * v`` float32), and the parameters left uncompressed (biases) as float32.
Baselines: ``fp32_bits = 32 * all parameters``; ``int8_bits = 8 * compressed-layer
weights + 32 * the other parameters``. Ratios are baseline bits / total bits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from compress.encoding import FP32_BITS
from compress.quant import ActivationQuant
from compress.tensor import CompressedTensor, StorageBits

__all__ = ["CompressedModel", "StageReport"]


@dataclass(frozen=True)
class StageReport:
    """Storage and accuracy after one stage of a recipe (prune, values, entropy coding)."""

    name: str
    total_bits: int
    ratio_fp32: float
    accuracy: float | None


@dataclass(frozen=True, eq=False)
class CompressedModel:
    """The result of applying a recipe to a set of weights.

    Attributes
    ----------
    model : str
        Where the weights came from (``digits-mlp``, a file name).
    recipe : str
    tensors : dict of str to CompressedTensor
        By parameter name (``fc1.weight``).
    shared : dict of str to numpy.ndarray
        Network-wide weight pools (float32 ``[P, v]``) by name.
    extra : dict of str to numpy.ndarray
        Parameters kept as float32 (biases, anything not 2-D or 4-D).
    accuracy_before, accuracy_after : float or None
        Test accuracy of the dense and of the compressed model, when a data set is known.
    stages : tuple of StageReport
    seed, finetune_epochs : int
    activations : dict of str to ActivationQuant
        Per-layer input formats when activations are quantized (``accuracy_after``
        then includes them); empty otherwise.
    """

    model: str
    recipe: str
    tensors: dict[str, CompressedTensor]
    shared: dict[str, np.ndarray] = field(default_factory=dict)
    extra: dict[str, np.ndarray] = field(default_factory=dict)
    accuracy_before: float | None = None
    accuracy_after: float | None = None
    stages: tuple[StageReport, ...] = ()
    seed: int = 0
    finetune_epochs: int = 0
    activations: dict[str, ActivationQuant] = field(default_factory=dict)

    @property
    def storage(self) -> StorageBits:
        """The compressed tensors' storage by kind, with shared pools as codebook bits."""
        total = StorageBits(codebook=self.shared_bits)
        for tensor in self.tensors.values():
            total = total + tensor.storage
        return total

    @property
    def shared_bits(self) -> int:
        return sum(pool.size * FP32_BITS for pool in self.shared.values())

    @property
    def extra_bits(self) -> int:
        return sum(a.size * FP32_BITS for a in self.extra.values())

    @property
    def total_bits(self) -> int:
        return self.storage.total + self.extra_bits

    @property
    def weight_params(self) -> int:
        return sum(math.prod(t.shape) for t in self.tensors.values())

    @property
    def fp32_bits(self) -> int:
        return self.weight_params * FP32_BITS + self.extra_bits

    @property
    def int8_bits(self) -> int:
        return self.weight_params * 8 + self.extra_bits

    @property
    def ratio_fp32(self) -> float:
        return self.fp32_bits / self.total_bits

    @property
    def weights_ratio_fp32(self) -> float:
        """fp32 weight bits / compressed weight bits (biases left out on both sides)."""
        return self.weight_params * FP32_BITS / self.storage.total

    @property
    def ratio_int8(self) -> float:
        return self.int8_bits / self.total_bits

    def params(self) -> dict[str, np.ndarray]:
        """Every parameter as the network runs it: dequantized weights and the extras."""
        out = {name: t.values for name, t in self.tensors.items()}
        out.update(self.extra)
        return out

    def summary(self) -> dict:
        """A JSON-ready account per layer and in total."""
        layers = [_layer_summary(t) for t in self.tensors.values()]
        return {
            "model": self.model,
            "recipe": self.recipe,
            "seed": self.seed,
            "finetune_epochs": self.finetune_epochs,
            "layers": layers,
            "shared": {name: {"shape": list(p.shape), "bits": p.size * FP32_BITS}
                       for name, p in self.shared.items()},
            "total": {
                "weight_params": self.weight_params,
                "storage_bits": self.storage.as_dict(),
                "uncompressed_param_bits": self.extra_bits,
                "total_bits": self.total_bits,
                "fp32_bits": self.fp32_bits,
                "int8_bits": self.int8_bits,
                "ratio_vs_fp32": self.ratio_fp32,
                "ratio_vs_int8": self.ratio_int8,
                "weights_only_ratio_vs_fp32": self.weights_ratio_fp32,
                "density": sum(t.kept for t in self.tensors.values()) / max(self.weight_params, 1),
            },
            "accuracy": {"before": self.accuracy_before, "after": self.accuracy_after},
            "activations": {
                layer: {"bits": q.spec.bits, "scale": q.scale, "zero_point": q.zero_point,
                        "method": q.method}
                for layer, q in self.activations.items()
            },
            "stages": [
                {"name": s.name, "total_bits": s.total_bits, "ratio_vs_fp32": s.ratio_fp32,
                 "accuracy": s.accuracy}
                for s in self.stages
            ],
        }  # fmt: skip


def _layer_summary(tensor: CompressedTensor) -> dict:
    stats = tensor.stats
    params = stats.params
    codebook = stats.codebook
    return {
        "name": stats.name,
        "shape": list(stats.shape),
        "params": params,
        "sparsity": stats.sparsity.value,
        "density": stats.density,
        "nonzero_density": stats.nonzero_density,
        "nm": list(stats.nm) if stats.nm else None,
        "index": stats.index.value,
        "value_format": stats.value_format,
        "value_bits": stats.value_bits,
        "index_bits_per_value": stats.index_bits_per_value,
        "codebook_size": codebook.entries if codebook else None,
        "vector_length": stats.vector_length,
        "scale_granularity": stats.scale_granularity,
        "entropy_coded": stats.entropy_coded,
        "storage_bits": stats.storage.as_dict(),
        "bits_per_weight": stats.bits_per_weight,
        "ratio_vs_fp32": params * FP32_BITS / stats.total_bits,
        "ratio_vs_int8": params * 8 / stats.total_bits,
    }
