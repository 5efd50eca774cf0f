"""Fine-tuning parametrizations: what is trained after each compression stage.

Each compressed layer gets a *form* that turns trainables into its weight ``W`` and
maps ``dL/dW`` back:

- :class:`Masked` (masked retraining after pruning): ``W = w * mask``,
  ``dL/dw = dL/dW * mask``, so pruned weights stay zero;
- :class:`Quantized` (quantization-aware training with the straight-through
  estimator): ``W = Q(w * mask)`` with ``Q`` the exact format, ``dL/dw = dL/dW * mask``
  (the rounding is treated as identity);
- :class:`Centroids` (Deep Compression centroid fine-tuning): ``W_i = c_{a(i)}`` for
  kept weights, ``dL/dc_j = sum_{i : a(i) = j} dL/dW_i``; a reserved zero centroid
  stays zero;
- :class:`Pooled` (weight-pool retraining): ``W = s * pool[index]``; the shared pool
  gets ``dL/dpool_p = sum_{vectors using p} s_o * dL/dW_vector`` summed over all
  layers, the scales ``dL/ds_o = sum_row dL/dW * pool[index]``, a float shadow ``w``
  is trained straight-through, and after each of the first ``reassign`` epochs the
  indices are reassigned to the nearest pool vector of ``shadow / s`` (later epochs
  train pool and scales on a fixed assignment);
- :class:`Codewords` (MVQ): ``W = mask * codeword[index]``,
  ``dL/dcodeword_j = sum_{i : a(i) = j} mask_i * dL/dW_i``.

Other parameters (biases, uncompressed weights) train as themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compress.codec import fake_quantize
from compress.encoding import Encoding
from compress.kmeans import centroid_gradient, codeword_gradient
from compress.layout import channel_last
from compress.mvq import mvq_decode
from compress.pool import PoolSpec, assign_pool, pool_decode

__all__ = [
    "Centroids",
    "Codewords",
    "CompressedParametrization",
    "Fixed",
    "Masked",
    "Pooled",
    "Quantized",
]

Params = dict[str, np.ndarray]


@dataclass
class Masked:
    mask: np.ndarray

    def keys(self, name: str) -> dict[str, np.ndarray]:
        return {}

    def weight(self, name: str, t: Params) -> np.ndarray:
        return t[name] * self.mask

    def backward(self, name: str, t: Params, grad: np.ndarray, out: Params) -> None:
        out[name] = grad * self.mask


@dataclass
class Quantized:
    mask: np.ndarray | None
    encoding: Encoding

    def keys(self, name: str) -> dict[str, np.ndarray]:
        return {}

    def weight(self, name: str, t: Params) -> np.ndarray:
        return fake_quantize(t[name], self.mask, self.encoding)

    def backward(self, name: str, t: Params, grad: np.ndarray, out: Params) -> None:
        out[name] = grad if self.mask is None else grad * self.mask


@dataclass
class Centroids:
    mask: np.ndarray
    index: np.ndarray  # int64 grid of the weight's shape (any value where not kept)
    centroids: np.ndarray
    zero_centroid: bool

    def keys(self, name: str) -> dict[str, np.ndarray]:
        return {f"{name}:centroids": self.centroids.astype(np.float32)}

    def weight(self, name: str, t: Params) -> np.ndarray:
        c = t[f"{name}:centroids"]
        return np.where(self.mask, c[self.index], np.float32(0.0)).astype(np.float32)

    def backward(self, name: str, t: Params, grad: np.ndarray, out: Params) -> None:
        key = f"{name}:centroids"
        g = centroid_gradient(grad[self.mask], self.index[self.mask], t[key].size)
        if self.zero_centroid:
            g[0] = 0.0
        out[key] = g.astype(np.float32)


@dataclass
class Pooled:
    mask: np.ndarray | None
    pool_key: str
    spec: PoolSpec
    index: np.ndarray
    scales: np.ndarray
    reassign_epochs: int = 0

    def keys(self, name: str) -> dict[str, np.ndarray]:
        return {f"{name}:scales": self.scales.astype(np.float32)}

    def weight(self, name: str, t: Params) -> np.ndarray:
        shape = t[name].shape
        scales = t[f"{name}:scales"]
        return pool_decode(self.index, t[self.pool_key], scales, shape, self.mask)

    def backward(self, name: str, t: Params, grad: np.ndarray, out: Params) -> None:
        g = grad if self.mask is None else grad * self.mask
        out[name] = g
        v = self.spec.vector_length
        scales = t[f"{name}:scales"]
        unit = pool_decode(self.index, t[self.pool_key], np.ones(1, np.float32), g.shape, self.mask)
        per_row = (g * unit).reshape(g.shape[0], -1).sum(axis=1)
        out[f"{name}:scales"] = (per_row if scales.size > 1 else per_row.sum(keepdims=True)).astype(
            np.float32
        )
        if self.spec.scale == "none":
            out[f"{name}:scales"] = np.zeros_like(scales)
        rows = channel_last(g) * scales.reshape(-1, 1, 1)
        out_, window, cin = rows.shape
        padded = np.zeros((out_, window, self.index.shape[-1] * v), np.float64)
        padded[..., :cin] = rows
        pool = t[self.pool_key]
        contribution = codeword_gradient(padded.reshape(-1, v), self.index.ravel(), pool.shape[0])
        out[self.pool_key] = out.get(self.pool_key, 0.0) + contribution.astype(np.float32)

    def reassign(self, name: str, t: Params) -> None:
        scales = t[f"{name}:scales"]
        layer = assign_pool(t[name], t[self.pool_key], self.spec, self.mask, scales)
        self.index = layer.index


@dataclass
class Codewords:
    mask: np.ndarray
    index: np.ndarray
    codewords: np.ndarray

    def keys(self, name: str) -> dict[str, np.ndarray]:
        return {f"{name}:codewords": self.codewords.astype(np.float32)}

    def weight(self, name: str, t: Params) -> np.ndarray:
        return mvq_decode(self.index, t[f"{name}:codewords"], self.mask, self.mask.shape)

    def backward(self, name: str, t: Params, grad: np.ndarray, out: Params) -> None:
        key = f"{name}:codewords"
        k, v = t[key].shape
        matrix = (grad * self.mask).reshape(grad.shape[0], -1)
        padded = np.zeros((matrix.shape[0], self.index.shape[1] * v))
        padded[:, : matrix.shape[1]] = matrix
        out[key] = codeword_gradient(padded.reshape(-1, v), self.index.ravel(), k).astype(
            np.float32
        )


@dataclass
class Fixed:
    """A layer that does not train (low-rank factors): ``W`` is constant."""

    values: np.ndarray

    def keys(self, name: str) -> dict[str, np.ndarray]:
        return {}

    def weight(self, name: str, t: Params) -> np.ndarray:
        return self.values

    def backward(self, name: str, t: Params, grad: np.ndarray, out: Params) -> None:
        return None


Form = Fixed | Masked | Quantized | Centroids | Pooled | Codewords


class CompressedParametrization:
    """Trainables for a network whose weights ``forms`` compress; see the module docstring.

    ``shared`` holds network-wide trainables (weight pools) by key.
    """

    def __init__(self, params: Params, forms: dict[str, Form], shared: Params) -> None:
        self.params = {k: np.array(v, np.float32) for k, v in params.items()}
        self.forms = forms
        self.shared = {k: np.array(v, np.float32) for k, v in shared.items()}

    def trainables(self) -> Params:
        t = {k: v.copy() for k, v in self.params.items()}
        t.update({k: v.copy() for k, v in self.shared.items()})
        for name, form in self.forms.items():
            t.update(form.keys(name))
        return t

    def weights(self, trainables: Params) -> Params:
        out = {k: trainables[k] for k in self.params}
        for name, form in self.forms.items():
            out[name] = form.weight(name, trainables)
        return out

    def gradients(self, trainables: Params, grads: Params) -> Params:
        out = {k: g for k, g in grads.items() if k not in self.forms}
        for name, form in self.forms.items():
            form.backward(name, trainables, grads[name], out)
        # frozen shadows: centroid and codeword forms train only their codebooks
        for name, form in self.forms.items():
            if isinstance(form, Centroids | Codewords | Fixed):
                out.pop(name, None)
        return out

    def end_epoch(self, trainables: Params, epoch: int, epochs: int) -> None:
        """Reassign a pooled layer after each of its first ``reassign_epochs`` epochs
        (never after the last one, so the pool is trained on the final assignment)."""
        for name, form in self.forms.items():
            if isinstance(form, Pooled) and epoch < min(form.reassign_epochs, epochs - 1):
                form.reassign(name, trainables)
