"""Training loops for the reference networks: mini-batch SGD (momentum) or Adam.

Adam (Kingma and Ba, 2015): ``m = b1 m + (1 - b1) g``, ``v = b2 v + (1 - b2) g**2``,
``p -= lr * m_hat / (sqrt(v_hat) + eps)`` with bias-corrected ``m_hat``, ``v_hat``.
SGD: ``u = mu u + g``, ``p -= lr * u``. The learning rate is constant or follows a
cosine decay ``lr_t = lr * (1 + cos(pi t / T)) / 2`` over the ``T`` steps of the run.

Training runs over *trainables* through a :class:`Parametrization`, which maps them
to the network's parameters and maps parameter gradients back; the identity trains
the parameters themselves, :mod:`compress.finetune` supplies masked, quantized and
shared-weight versions. Everything is deterministic given the seed (batch order).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from threadpoolctl import threadpool_limits

from compress.data import Digits, load_digits_split
from compress.nets import NETS, cross_entropy, get_net

__all__ = [
    "Identity",
    "Parametrization",
    "TrainConfig",
    "evaluate",
    "fit",
    "train_reference",
]

log = logging.getLogger(__name__)

Params = dict[str, np.ndarray]

REFERENCE_EPOCHS = {"digits-mlp": 40, "digits-cnn": 30}
REFERENCE_LR = {"digits-mlp": 1e-3, "digits-cnn": 3e-3}
FINETUNE_LR = 2e-3
"""Adam's learning rate when a compression recipe fine-tunes (``compress_network``)."""


@dataclass(frozen=True)
class TrainConfig:
    """Epochs, batch size, learning rate and optimizer (``adam`` or ``sgd``)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    schedule: str = "cosine"

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            minimum = 0 if name == "epochs" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"training {name} must be an integer >= {minimum}, not {value!r}")
        if not float(self.lr) > 0:
            raise ValueError(f"learning rate must be > 0, not {self.lr!r}")
        if self.schedule not in ("constant", "cosine"):
            raise ValueError(f"schedule must be 'constant' or 'cosine', not {self.schedule!r}")
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be 'adam' or 'sgd', not {self.optimizer!r}")


class Parametrization(Protocol):
    """How trainables become network parameters, and gradients flow back."""

    def trainables(self) -> Params: ...

    def weights(self, trainables: Params) -> Params: ...

    def gradients(self, trainables: Params, grads: Params) -> Params: ...

    def end_epoch(self, trainables: Params, epoch: int, epochs: int) -> None: ...


class Identity:
    """Train the parameters themselves."""

    def __init__(self, params: Params) -> None:
        self._params = {k: np.array(v, np.float32) for k, v in params.items()}

    def trainables(self) -> Params:
        return {k: v.copy() for k, v in self._params.items()}

    def weights(self, trainables: Params) -> Params:
        return trainables

    def gradients(self, trainables: Params, grads: Params) -> Params:
        return grads

    def end_epoch(self, trainables: Params, epoch: int, epochs: int) -> None:
        return None


class _Optimizer:
    def __init__(self, config: TrainConfig, trainables: Params, total_steps: int) -> None:
        self.config = config
        self.total_steps = max(total_steps, 1)
        self.t = 0
        self.m = {k: np.zeros_like(v, np.float64) for k, v in trainables.items()}
        self.v = {k: np.zeros_like(v, np.float64) for k, v in trainables.items()}

    def step(self, trainables: Params, grads: Params) -> None:
        c = self.config
        lr = c.lr
        if c.schedule == "cosine":
            lr = c.lr * 0.5 * (1.0 + np.cos(np.pi * self.t / self.total_steps))
        self.t += 1
        for key, g in grads.items():
            if c.optimizer == "sgd":
                self.m[key] = c.momentum * self.m[key] + g
                update = lr * self.m[key]
            else:
                self.m[key] = 0.9 * self.m[key] + 0.1 * g
                self.v[key] = 0.999 * self.v[key] + 0.001 * g * g
                m_hat = self.m[key] / (1 - 0.9**self.t)
                v_hat = self.v[key] / (1 - 0.999**self.t)
                update = lr * m_hat / (np.sqrt(v_hat) + 1e-8)
            trainables[key] = (trainables[key] - update).astype(np.float32)


def fit(
    net,
    parametrization: Parametrization,
    x: np.ndarray,
    y: np.ndarray,
    config: TrainConfig,
    seed: int,
) -> Params:
    """Train and return the final trainables (map them with ``parametrization.weights``).

    BLAS runs single-threaded here: the matrices are small, and threads only contend.
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(net, parametrization, x, y, config, seed)


def _fit(net, parametrization, x, y, config, seed) -> Params:
    rng = np.random.default_rng(seed)
    trainables = parametrization.trainables()
    steps_per_epoch = -(-x.shape[0] // config.batch_size)
    optimizer = _Optimizer(config, trainables, steps_per_epoch * config.epochs)
    for epoch in range(config.epochs):
        order = rng.permutation(x.shape[0])
        losses = []
        for start in range(0, order.size, config.batch_size):
            batch = order[start : start + config.batch_size]
            params = parametrization.weights(trainables)
            logits, cache = net.forward(params, x[batch])
            loss, grad = cross_entropy(logits, y[batch])
            losses.append(loss)
            grads = parametrization.gradients(trainables, net.backward(params, cache, grad))
            optimizer.step(trainables, grads)
        parametrization.end_epoch(trainables, epoch, config.epochs)
        log.debug("epoch %d loss %.4f", epoch + 1, float(np.mean(losses)))
    return trainables


def evaluate(
    net, params: Params, x: np.ndarray, y: np.ndarray, act=None, batch: int = 512
) -> float:
    """Top-1 accuracy in ``[0, 1]``; ``act``: activation hooks by layer (see nets)."""
    with threadpool_limits(limits=1, user_api="blas"):
        correct = _count_correct(net, params, x, y, act, batch)
    return correct / x.shape[0]


def _count_correct(net, params: Params, x: np.ndarray, y: np.ndarray, act, batch: int) -> int:
    correct = 0
    for start in range(0, x.shape[0], batch):
        logits, _ = net.forward(params, x[start : start + batch], act)
        correct += int((logits.argmax(axis=1) == y[start : start + batch]).sum())
    return correct


def train_reference(name: str, seed: int = 0, epochs: int | None = None) -> tuple[object, Params]:
    """Train the built-in network ``name`` (``digits-mlp`` / ``digits-cnn``) densely.

    Adam with a cosine schedule from :data:`REFERENCE_LR`, batch 64,
    :data:`REFERENCE_EPOCHS` epochs unless given; initialization and batch order from
    ``seed``.
    """
    net = get_net(name)
    data: Digits = load_digits_split()
    config = TrainConfig(
        epochs=REFERENCE_EPOCHS[name] if epochs is None else epochs, lr=REFERENCE_LR[name]
    )
    params = fit(net, Identity(net.init(seed)), data.x_train, data.y_train, config, seed)
    return net, params


assert set(REFERENCE_EPOCHS) == set(REFERENCE_LR) == set(NETS)
