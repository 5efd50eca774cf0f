"""What the co-design loop starts from: a model's weights, keyed by the layers they run in.

A model is named as ``sparsa compress --model`` names it, and the loop also needs the
workload its layers run as:

- ``digits-mlp`` / ``digits-cnn``: trained from the seed (:func:`compress.load_model`),
  with the digits data (accuracy, fine-tuning); the workload is the zoo entry of the
  same name.
- a weights file (``.npz``, ``.pt``) whose names and shapes match a built-in network:
  scored like the built-in one, run as its zoo entry. Any other weights file has no
  data and no layer shapes: the workload must be given (a zoo name, a topology or a
  YAML file with layers named after the tensors, ``fc1`` for ``fc1.weight``).
- an ONNX file: when its initializers match a built-in network (a PyTorch export of
  ``digits-mlp`` keeps ``fc1.weight``), as above; otherwise the file is its own
  workload (:func:`simulator.workloads.sources.load_workload`: shapes from ONNX shape
  inference, each layer's weights from its initializer, in ``[out, in]`` layout), and
  the weights to compress are the layers' own, keyed ``LAYER.weight`` so they bind
  back to the same layers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compress import CompressedModel, Digits, Recipe, compress_network, load_model
from compress.errors import InputError
from compress.npz import check_weight_arrays
from compress.pipeline import FINETUNE_LR
from simulator.workloads.binding import Binding, bind_compressed
from simulator.workloads.layer import Workload, WorkloadError
from simulator.workloads.sources import load_workload

__all__ = [
    "MAX_SEED",
    "ModelInput",
    "bind_model",
    "check_training",
    "compress_model",
    "load_model_input",
]

MAX_SEED = 2**32 - 1

_ONNX = ".onnx"


@dataclass(frozen=True, eq=False)
class ModelInput:
    """A model's weights, its network and data when known, and its workload.

    ``params`` are named ``LAYER.weight`` (and ``LAYER.bias``...) so that the compressed
    tensors bind to ``workload``'s layers by name.
    """

    name: str
    params: dict[str, np.ndarray]
    net: object | None
    data: Digits | None
    workload: Workload
    origin: str
    """Where the weights came from (the model argument), for the reports."""

    @property
    def has_data(self) -> bool:
        """Accuracy can be measured and the model fine-tuned."""
        return self.net is not None and self.data is not None


def _is_int(value: object) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def check_training(finetune_epochs: object = 0, seed: object = 0, lr: object = FINETUNE_LR) -> None:
    """Refuse fine-tuning epochs, a seed or a learning rate out of range (:class:`InputError`).

    ``finetune_epochs``: an integer >= 0; ``seed``: an integer from 0 to :data:`MAX_SEED`;
    ``lr``: a finite number in ``(0, 1]``.
    """
    if not _is_int(finetune_epochs) or finetune_epochs < 0:
        raise InputError(f"fine-tuning epochs must be an integer >= 0, not {finetune_epochs!r}")
    if not _is_int(seed) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be an integer from 0 to {MAX_SEED:,}, not {seed!r}")
    number = isinstance(lr, int | float | np.floating) and not isinstance(lr, bool)
    if not number or not (np.isfinite(lr) and 0 < lr <= 1):
        raise InputError(f"learning rate must be a number in (0, 1], not {lr!r}")


def load_model_input(
    model: str | Path, workload: str | None = None, seed: int = 0, batch: int | None = None
) -> ModelInput:
    """Resolve ``model`` (see the module docstring) and the workload it runs as.

    Parameters
    ----------
    model : str or Path
        ``digits-mlp``, ``digits-cnn``, or a ``.npz`` / ``.pt`` / ``.onnx`` file.
    workload : str, optional
        The workload the weights bind to (a zoo name or a workload file); needed only for
        a weights file that matches no built-in network. An ONNX model that matches none
        is its own workload and takes none.
    seed : int
        Seed of the built-in models' training.
    batch : int, optional
        Batch of the workload (default: its own, 1 for the zoo).

    Raises
    ------
    InputError
        For a model that is neither built in nor a weights file, a weights file that
        needs a workload and has none, or a seed out of range.
    """
    check_training(seed=seed)
    spec = str(model)
    is_onnx = Path(spec).suffix.lower() == _ONNX
    loaded = load_model(spec, seed=seed)
    if loaded.net is not None:
        # A built-in network, or a file whose names and shapes match one.
        layers = load_workload(workload or loaded.net.name, batch=batch)
        return ModelInput(loaded.name, loaded.params, loaded.net, loaded.data, layers, spec)
    if is_onnx:
        if workload is not None:
            raise InputError(
                f"{spec}: an ONNX model is its own workload; leave the workload out "
                f"(not {workload!r})"
            )
        layers = load_workload(spec, batch=batch)
        params = {
            f"{layer.name}.weight": np.asarray(layer.weights, dtype=np.float32)
            for layer in layers.layers
            if layer.weights is not None
        }
        if not params:
            raise WorkloadError(f"{spec}: no layer of the ONNX model has constant weights")
        check_weight_arrays(params, f"ONNX model {spec}")
        return ModelInput(Path(spec).name, params, None, None, layers, spec)
    if workload is None:
        raise InputError(
            f"{spec}: its tensors match no built-in network, so its layer shapes are not "
            "known; give the workload they bind to (a zoo name or a workload file whose "
            "layers are named after the tensors)"
        )
    return ModelInput(
        loaded.name, loaded.params, None, None, load_workload(workload, batch=batch), spec
    )


def compress_model(
    source: ModelInput,
    recipe: str | Recipe,
    finetune_epochs: int = 0,
    seed: int = 0,
    lr: float = FINETUNE_LR,
    activations: str | None = None,
) -> CompressedModel:
    """:func:`compress.compress_network` on ``source``: fine-tuning and quantized
    activations where the model has data (a refusal otherwise, as ``sparsa compress``);
    the options are checked by :func:`check_training`."""
    check_training(finetune_epochs, seed, lr)
    if (finetune_epochs or activations) and not source.has_data:
        raise InputError(
            f"fine-tuning and quantized activations need a known network and data; "
            f"{source.origin} has neither"
        )
    return compress_network(
        source.net,
        source.params,
        recipe,
        data=source.data,
        finetune_epochs=finetune_epochs,
        seed=seed,
        lr=lr,
        model=source.name,
        activations=activations,
    )


def bind_model(source: ModelInput, model: CompressedModel, origin: str = "") -> Binding:
    """``model``'s tensors bound to ``source``'s workload by layer name."""
    return bind_compressed(source.workload, model, origin or source.origin)
