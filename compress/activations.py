"""Activation quantization for the reference networks, calibrated on training data.

Every compressed layer's input is fake-quantized to a per-tensor affine integer
format (:class:`compress.quant.ActivationQuant`) whose scale and zero point come from
calibration samples: the layer inputs seen when the compressed network runs on the
first ``samples`` training images, by ``minmax`` or ``percentile`` clipping. Accuracy
with quantized activations is then what integer hardware running both operands would
see (weights exactly, activations with the same rounding and saturation).

Spec strings: ``int8``, ``int8 minmax``, ``int8 percentile``, ``int6 percentile=99.9``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from compress.quant import ActivationQuant, calibrate_activations

__all__ = [
    "ActivationSpec",
    "activation_densities",
    "activation_hooks",
    "calibrate_network",
    "parse_activation_spec",
]


@dataclass(frozen=True)
class ActivationSpec:
    """Bits, calibration method and percentile for layer inputs."""

    bits: int = 8
    method: str = "minmax"
    percentile: float = 99.99
    samples: int = 512

    @property
    def text(self) -> str:
        if self.method == "percentile":
            return f"int{self.bits} percentile={self.percentile:g}"
        return f"int{self.bits} minmax"


def parse_activation_spec(text: str) -> ActivationSpec:
    """``'int8'``, ``'int8 percentile'`` or ``'int8 percentile=99.9'``."""
    match = re.fullmatch(
        r"\s*int(\d+)(?:\s+(minmax|percentile)(?:=(\d+(?:\.\d*)?|\.\d+))?)?\s*", text
    )
    if not match:
        raise ValueError(
            f"activation format {text!r}: expected 'intB [minmax|percentile[=P]]', e.g. 'int8'"
        )
    bits = int(match.group(1))
    if not 2 <= bits <= 16:
        raise ValueError(f"activation bits must be from 2 to 16, not {bits}")
    percentile = float(match.group(3)) if match.group(3) else 99.99
    if not 50.0 < percentile <= 100.0:
        raise ValueError(f"activation percentile must be in (50, 100], not {percentile}")
    return ActivationSpec(bits, match.group(2) or "minmax", percentile)


def calibrate_network(
    net, params, x: np.ndarray, spec: ActivationSpec
) -> dict[str, ActivationQuant]:
    """One :class:`ActivationQuant` per layer input, from ``x[:spec.samples]``."""
    seen: dict[str, list[np.ndarray]] = {}

    def recorder(layer):
        def record(h):
            seen.setdefault(layer, []).append(np.asarray(h))
            return h

        return record

    net.forward(params, x[: spec.samples], {layer: recorder(layer) for layer in net.layers})
    return {
        layer: calibrate_activations(
            np.concatenate([a.ravel() for a in arrays]), spec.bits, spec.method, spec.percentile
        )
        for layer, arrays in seen.items()
    }


def activation_densities(
    net, params, x: np.ndarray, quant: dict[str, ActivationQuant] | None = None, samples: int = 512
) -> dict[str, float]:
    """Fraction of nonzero inputs of every layer, on the first ``samples`` rows of ``x``.

    With ``quant`` (the layers' input formats) the inputs are fake-quantized first, so
    a value that rounds to zero counts as zero, as integer hardware sees it.
    """
    seen: dict[str, list[float]] = {}
    hooks = activation_hooks(quant or {})

    def recorder(layer):
        def record(h):
            h = hooks[layer](h) if layer in hooks else h
            seen.setdefault(layer, []).append((np.count_nonzero(h), np.size(h)))
            return h

        return record

    net.forward(params, x[:samples], {layer: recorder(layer) for layer in net.layers})
    return {
        layer: sum(nz for nz, _ in counts) / sum(size for _, size in counts)
        for layer, counts in seen.items()
    }


def activation_hooks(quant: dict[str, ActivationQuant]) -> dict:
    """Forward hooks that fake-quantize each layer's input."""
    return {layer: q.fake_quantize for layer, q in quant.items()}
