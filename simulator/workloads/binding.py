"""Weights meet layers: compressed tensors bound to a workload by layer name.

Three ways a workload gets compressed weights, all by layer name with shapes checked:

- :func:`bind_compressed`: a :class:`compress.CompressedModel` (what ``sparsa compress``
  writes to ``compressed.npz``; :func:`load_compressed_model` reads a file or its
  folder). A tensor named ``fc1.weight`` (or ``fc1``) binds to layer ``fc1``. For the
  digits reference models the activation density of every layer is measured on the
  training images the compressor calibrated on.
- :func:`bind_recipe`: a recipe applied to synthetic weights of any workload (zoo,
  topology, YAML): each layer's weights drawn as PyTorch initializes ``nn.Conv2d`` and
  ``nn.Linear`` (``kaiming_uniform_(a=sqrt(5))``: uniform in ``+-1/sqrt(fan_in)``),
  seeded per layer, then compressed without fine-tuning. Results say ``synthetic
  weights`` for these.
- a declared ``nm`` (YAML ``nm:``, a topology's N:M column) stays a uniform pattern
  without a mask (:func:`compress.declared_stats`), no binding needed.

Layers with weights but no tensor, and tensors with no layer, are listed in the
:class:`Binding` and in the workload's notes, which every report prints.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from compress import (
    CompressedModel,
    CompressedTensor,
    Recipe,
    WeightStats,
    load_compressed,
)
from compress.nets import NETS
from simulator.workloads.layer import WeightSource, Workload, WorkloadError

__all__ = [
    "COMPRESSED_FILE",
    "Binding",
    "bind_compressed",
    "bind_recipe",
    "bind_tensors",
    "dense_workload",
    "load_compressed_model",
    "synthetic_weights",
]

COMPRESSED_FILE = "compressed.npz"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Binding:
    """A workload with weights bound, and what did not match."""

    workload: Workload
    bound: tuple[str, ...]
    """Layers that received compressed weights."""
    unmatched_layers: tuple[str, ...]
    """Layers with weights that received none (they run dense)."""
    unmatched_tensors: tuple[str, ...]
    """Tensors that no layer of the workload is named after."""


def _layer_name(tensor_name: str) -> str:
    return tensor_name.removesuffix(".weight")


def bind_tensors(
    workload: Workload,
    tensors: Mapping[str, CompressedTensor | WeightStats],
    source: WeightSource | Mapping[str, WeightSource],
    description: str,
    activation_density: Mapping[str, float] | None = None,
) -> Binding:
    """Bind ``tensors`` (by name: ``LAYER`` or ``LAYER.weight``, or the layer's
    ``weights_name``) to ``workload``'s layers; ``source`` is every tensor's
    :class:`WeightSource`, or one per layer name.

    Raises
    ------
    WorkloadError
        When a tensor's shape differs from its layer's weight shape, or a tensor names a
        layer without weights (an attention matmul).
    """
    by_layer: dict[str, WeightStats] = {}
    named: dict[str, str] = {}
    for name, tensor in tensors.items():
        stats = tensor.stats if isinstance(tensor, CompressedTensor) else tensor
        by_layer[_layer_name(name)] = stats
        named[_layer_name(name)] = name
    densities = dict(activation_density or {})
    layers, bound, unmatched = [], [], []
    for layer in workload.layers:
        stats = by_layer.pop(layer.name, None)
        if stats is None and layer.weights_name:
            stats = by_layer.pop(_layer_name(layer.weights_name), None)
        changes = {}
        if layer.name in densities:
            changes["activation_density"] = float(densities[layer.name])
        if stats is not None:
            if not layer.has_weights:
                raise WorkloadError(
                    f"layer {layer.name!r} multiplies two activations; tensor "
                    f"{stats.name!r} cannot bind to it"
                )
            if tuple(stats.shape) != layer.weight_shape:
                raise WorkloadError(
                    f"tensor {stats.name!r} has shape {tuple(stats.shape)}, layer "
                    f"{layer.name!r} needs {layer.weight_shape}"
                )
            own = (
                source.get(layer.name, WeightSource.COMPRESSED)
                if isinstance(source, Mapping)
                else source
            )
            changes.update(compressed=stats, weight_source=own, nm=None, weight_density=1.0)
            bound.append(layer.name)
        elif layer.has_weights and layer.nm is None:
            unmatched.append(layer.name)
        layers.append(replace(layer, **changes) if changes else layer)
    notes = list(workload.notes)
    if unmatched:
        notes.append(f"no compressed weights for {len(unmatched)} layers (they run dense): "
                     + ", ".join(unmatched))  # fmt: skip
    left = sorted(named[key] for key in by_layer)
    if left:
        notes.append(f"{len(left)} tensors match no layer: " + ", ".join(left))
    bound_workload = replace(
        workload, layers=tuple(layers), weights_from=description, notes=tuple(notes)
    )
    return Binding(bound_workload, tuple(bound), tuple(unmatched), tuple(left))


def dense_workload(workload: Workload) -> Workload:
    """``workload`` with every weight dense: no compressed tensor, no declared pattern."""
    layers = tuple(
        replace(layer, compressed=None, weight_source=None, nm=None, weight_density=1.0)
        for layer in workload.layers
    )
    return replace(workload, layers=layers)


def load_compressed_model(path: str | Path) -> CompressedModel:
    """Read ``compressed.npz`` (or the folder ``sparsa compress`` wrote it to)."""
    path = Path(path)
    file = path / COMPRESSED_FILE if path.is_dir() else path
    if path.is_dir() and not file.is_file():
        raise WorkloadError(
            f"compressed model folder {path} holds no {COMPRESSED_FILE} (`sparsa compress "
            "--out FOLDER` writes one)"
        )
    if not file.is_file():
        raise FileNotFoundError(
            f"compressed model {path} does not exist (expected a {COMPRESSED_FILE} "
            "written by `sparsa compress`, or its folder)"
        )
    return load_compressed(file)


def _measured_densities(model: CompressedModel) -> dict[str, float]:
    """Activation densities of a digits reference model on its calibration images."""
    if model.model not in NETS:
        return {}
    # Imported here: the algorithms and the data set cost start-up time for every simulate.
    from compress import activation_densities, get_net, load_digits_split

    net = get_net(model.model)
    data = load_digits_split()
    return activation_densities(net, model.params(), data.x_train, model.activations or None)


def bind_compressed(workload: Workload, model: CompressedModel, origin: str = "") -> Binding:
    """Bind a compressed model's tensors to ``workload`` (see the module docstring)."""
    where = f" from {origin}" if origin else ""
    description = f"compressed {model.model}{where}, recipe '{model.recipe}'"
    return bind_tensors(
        workload, model.tensors, WeightSource.COMPRESSED, description, _measured_densities(model)
    )


def synthetic_weights(workload: Workload, seed: int = 0) -> dict[str, np.ndarray]:
    """Each weight layer's tensor as PyTorch initializes it, seeded per layer: float32
    uniform in ``+-1/sqrt(fan_in)`` (``kaiming_uniform_`` with ``a = sqrt(5)``, the
    default of ``nn.Conv2d`` and ``nn.Linear``), ``fan_in`` = the GEMM's ``k``."""
    weights = {}
    for index, layer in enumerate(workload.layers):
        if not layer.has_weights:
            continue
        rng = np.random.default_rng([seed, index])
        bound = 1.0 / np.sqrt(layer.k)
        shape = layer.weight_shape
        weights[f"{layer.name}.weight"] = rng.uniform(-bound, bound, shape).astype(np.float32)
    return weights


def bind_recipe(workload: Workload, recipe: Recipe | str, seed: int = 0) -> Binding:
    """Apply ``recipe`` to the layers' weights and bind the result: a layer's own weights
    when the workload carries them (an ONNX model's initializers: source ``compressed``),
    else :func:`synthetic_weights` (source ``recipe``). No fine-tuning; layers the recipe
    leaves out bind as dense.
    """
    declared = [layer.name for layer in workload.layers if layer.nm is not None]
    if declared:
        log.info("recipe replaces the declared N:M patterns of %s", ", ".join(declared))
        workload = replace(
            workload, layers=tuple(replace(layer, nm=None) for layer in workload.layers)
        )
    synthetic = synthetic_weights(workload, seed)
    real = {f"{x.name}.weight": x.weights for x in workload.layers if x.weights is not None}
    from compress import compress_weights

    model = compress_weights({**synthetic, **real}, recipe, seed=seed)
    text = recipe if isinstance(recipe, str) else model.recipe
    if not real:
        description = f"recipe '{text}' on synthetic weights (seed {seed})"
        return bind_tensors(workload, model.tensors, WeightSource.RECIPE, description)
    sources = {
        _layer_name(name): WeightSource.COMPRESSED if name in real else WeightSource.RECIPE
        for name in model.tensors
    }
    description = f"recipe '{text}' on the model's own weights"
    if len(real) < len(model.tensors):
        description += f", synthetic weights (seed {seed}) where it has none"
    return bind_tensors(workload, model.tensors, sources, description)
