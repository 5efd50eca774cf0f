"""Resolve a model argument: a built-in reference network or a weights file.

``digits-mlp`` / ``digits-cnn`` are trained from the seed on the digits split
(:func:`compress.train.train_reference`). A weights file whose parameter names and
shapes match a built-in network is scored on the digits test set too; any other file
is compressed without accuracy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from compress.data import Digits, load_digits_split
from compress.errors import InputError
from compress.io import load_weights
from compress.nets import NETS
from compress.train import train_reference

__all__ = ["LoadedModel", "load_model"]


@dataclass(frozen=True, eq=False)
class LoadedModel:
    """A name, its parameters, and the network and data when they are known."""

    name: str
    params: dict[str, np.ndarray]
    net: object | None
    data: Digits | None


def _matching_net(params: dict[str, np.ndarray]):
    for net in NETS.values():
        reference = net.init(0)
        if set(reference) == set(params) and all(
            reference[k].shape == np.shape(params[k]) for k in reference
        ):
            return net
    return None


def load_model(spec: str, seed: int = 0) -> LoadedModel:
    """``digits-mlp``, ``digits-cnn`` or a weights file (``.npz``, ``.pt``, ``.onnx``)."""
    if spec in NETS:
        net, params = train_reference(spec, seed)
        return LoadedModel(spec, params, net, load_digits_split())
    path = Path(spec)
    if path.suffix.lower() not in (".npz", ".pt", ".pth", ".onnx"):
        raise InputError(
            f"model {spec!r}: not a built-in model ({', '.join(NETS)}) "
            "and not a .npz, .pt, .pth or .onnx file"
        )
    params = load_weights(path)
    if not params:
        raise InputError(f"{spec}: the file holds no arrays")
    net = _matching_net(params)
    return LoadedModel(path.name, params, net, load_digits_split() if net else None)
