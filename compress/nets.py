"""Reference networks in numpy for the digits data: forward and backward passes.

- ``digits-mlp``: 64-300-100-10 with ReLU (the LeNet-300-100 shape on 8x8 inputs);
- ``digits-cnn``: conv 3x3 1->16, ReLU, 2x2 max-pool, conv 3x3 16->32, ReLU, 2x2
  max-pool, linear 128->10 (convs padded by 1, stride 1).

Parameters are a dict of named float32 arrays (``fc1.weight`` ``[out, in]``,
``conv1.weight`` ``[out, in, kh, kw]``, ``*.bias`` ``[out]``), initialized He-normal
from a seed. ``forward`` takes optional activation hooks by layer name
(``fc1``, ``conv1``, ...), applied to each layer's input: fake quantization of
activations, or recording them for calibration. The loss is the mean softmax
cross-entropy. Convolutions use im2col with columns in ``(in, kh, kw)`` order, so
``weight.reshape(out, -1)`` is the GEMM operand.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["MLP", "NETS", "SmallCNN", "cross_entropy", "get_net"]

Params = dict[str, np.ndarray]
Hooks = Mapping[str, Callable[[np.ndarray], np.ndarray]] | None


def _hook(act: Hooks, layer: str, x: np.ndarray) -> np.ndarray:
    """Apply the activation hook of ``layer`` (fake quantization, calibration) if any."""
    return x if act is None or layer not in act else act[layer](x)


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy and its gradient w.r.t. ``logits`` ``[batch, classes]``."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    prob = exp / exp.sum(axis=1, keepdims=True)
    rows = np.arange(labels.size)
    loss = float(-np.log(np.maximum(prob[rows, labels], 1e-30)).mean())
    grad = prob
    grad[rows, labels] -= 1.0
    return loss, grad / labels.size


def _he(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    fan_in = int(np.prod(shape[1:]))
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


@dataclass(frozen=True)
class MLP:
    """Fully connected ReLU network; ``sizes`` from input to classes."""

    sizes: tuple[int, ...] = (64, 300, 100, 10)
    name: str = "digits-mlp"

    @property
    def layers(self) -> list[str]:
        return [f"fc{i + 1}" for i in range(len(self.sizes) - 1)]

    def init(self, seed: int) -> Params:
        rng = np.random.default_rng(seed)
        params = {}
        for name, fan_in, fan_out in zip(self.layers, self.sizes, self.sizes[1:], strict=False):
            params[f"{name}.weight"] = _he(rng, (fan_out, fan_in))
            params[f"{name}.bias"] = np.zeros(fan_out, np.float32)
        return params

    def forward(self, params: Params, x: np.ndarray, act: Hooks = None) -> tuple[np.ndarray, list]:
        cache, h = [], x.reshape(x.shape[0], -1)
        for i, name in enumerate(self.layers):
            h = _hook(act, name, h)
            cache.append(h)
            h = h @ params[f"{name}.weight"].T + params[f"{name}.bias"]
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return h, cache

    def backward(self, params: Params, cache: list, grad: np.ndarray) -> Params:
        grads = {}
        for i in reversed(range(len(self.layers))):
            name, h = self.layers[i], cache[i]
            grads[f"{name}.weight"] = grad.T @ h
            grads[f"{name}.bias"] = grad.sum(axis=0)
            if i:
                grad = (grad @ params[f"{name}.weight"]) * (h > 0)
        return grads


def _im2col(x: np.ndarray, k: int) -> np.ndarray:
    """``[B, C, H, W]`` padded by ``k // 2`` -> ``[B*H*W, C*k*k]`` in (c, kh, kw) order."""
    pad = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xp, (k, k), axis=(2, 3))  # [B, C, H, W, k, k]
    b, c, h, w = x.shape
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(b * h * w, c * k * k)


def _col2im(cols: np.ndarray, shape: tuple[int, ...], k: int) -> np.ndarray:
    b, c, h, w = shape
    pad = k // 2
    grid = cols.reshape(b, h, w, c, k, k)
    dxp = np.zeros((b, c, h + 2 * pad, w + 2 * pad), cols.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i : i + h, j : j + w] += grid[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, pad : pad + h, pad : pad + w]


def _pool_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b, c, h, w = x.shape
    windows = x.reshape(b, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
    windows = windows.reshape(b, c, h // 2, w // 2, 4)
    arg = windows.argmax(axis=-1)
    return np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0], arg


def _pool_backward(grad: np.ndarray, arg: np.ndarray) -> np.ndarray:
    b, c, h2, w2 = grad.shape
    out = np.zeros((b, c, h2, w2, 4), grad.dtype)
    np.put_along_axis(out, arg[..., None], grad[..., None], axis=-1)
    out = out.reshape(b, c, h2, w2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
    return out.reshape(b, c, h2 * 2, w2 * 2)


@dataclass(frozen=True)
class SmallCNN:
    """Two 3x3 conv blocks and a linear classifier on 1x8x8 images."""

    channels: tuple[int, int] = (16, 32)
    name: str = "digits-cnn"

    @property
    def layers(self) -> list[str]:
        return ["conv1", "conv2", "fc"]

    def init(self, seed: int) -> Params:
        rng = np.random.default_rng(seed)
        c1, c2 = self.channels
        shapes = {"conv1": (c1, 1, 3, 3), "conv2": (c2, c1, 3, 3), "fc": (10, c2 * 4)}
        params = {}
        for name, shape in shapes.items():
            params[f"{name}.weight"] = _he(rng, shape)
            params[f"{name}.bias"] = np.zeros(shape[0], np.float32)
        return params

    def _conv(self, params: Params, name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = params[f"{name}.weight"]
        cols = _im2col(x, w.shape[-1])
        out = cols @ w.reshape(w.shape[0], -1).T + params[f"{name}.bias"]
        b, _, h, wd = x.shape
        return out.reshape(b, h, wd, -1).transpose(0, 3, 1, 2), cols

    def forward(self, params: Params, x: np.ndarray, act: Hooks = None) -> tuple[np.ndarray, list]:
        h = x.reshape(x.shape[0], 1, 8, 8)
        cache = []
        for name in ("conv1", "conv2"):
            z, cols = self._conv(params, name, _hook(act, name, h))
            a = np.maximum(z, 0.0)
            pooled, arg = _pool_forward(a)
            cache.append((h.shape, cols, z, arg))
            h = pooled
        flat = _hook(act, "fc", h.reshape(h.shape[0], -1))
        cache.append(flat)
        return flat @ params["fc.weight"].T + params["fc.bias"], cache

    def backward(self, params: Params, cache: list, grad: np.ndarray) -> Params:
        flat = cache[-1]
        grads = {"fc.weight": grad.T @ flat, "fc.bias": grad.sum(axis=0)}
        g = (grad @ params["fc.weight"]).reshape(flat.shape[0], self.channels[1], 2, 2)
        for name, (shape, cols, z, arg) in zip(
            ("conv2", "conv1"), reversed(cache[:-1]), strict=True
        ):
            w = params[f"{name}.weight"]
            g = _pool_backward(g, arg) * (z > 0)
            g_flat = g.transpose(0, 2, 3, 1).reshape(-1, w.shape[0])
            grads[f"{name}.weight"] = (g_flat.T @ cols).reshape(w.shape)
            grads[f"{name}.bias"] = g_flat.sum(axis=0)
            if name != "conv1":
                g = _col2im(g_flat @ w.reshape(w.shape[0], -1), shape, w.shape[-1])
        return grads


NETS = {"digits-mlp": MLP(), "digits-cnn": SmallCNN()}


def get_net(name: str) -> MLP | SmallCNN:
    """The reference network called ``name`` (digits-mlp or digits-cnn)."""
    if name not in NETS:
        raise ValueError(f"unknown model {name!r}; built-in models: {', '.join(NETS)}")
    return NETS[name]
