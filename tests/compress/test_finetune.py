"""Fine-tuning forms: gradients flow to what is trained, constraints hold."""

from __future__ import annotations

import numpy as np

from compress.encoding import IntValues
from compress.finetune import Centroids, CompressedParametrization, Masked, Pooled, Quantized
from compress.nets import NETS
from compress.pool import PoolSpec, learn_pool
from compress.quant import IntSpec
from compress.train import TrainConfig, fit


def _data(digits, n=256):
    return digits.x_train[:n], digits.y_train[:n]


def test_masked_retraining_keeps_pruned_weights_zero(digits):
    net = NETS["digits-mlp"]
    params = net.init(0)
    mask = np.random.default_rng(0).random(params["fc1.weight"].shape) < 0.3
    param = CompressedParametrization(params, {"fc1.weight": Masked(mask)}, {})
    t = fit(net, param, *_data(digits), TrainConfig(epochs=1), seed=0)
    w = param.weights(t)["fc1.weight"]
    assert not w[~mask].any()
    assert not np.array_equal(w[mask], params["fc1.weight"][mask])


def test_centroid_gradient_through_the_parametrization():
    mask = np.array([[True, True, False, True]])
    index = np.array([[1, 2, 0, 1]])
    form = Centroids(mask, index, np.array([0.0, 0.5, -0.5], np.float32), zero_centroid=True)
    grads: dict = {}
    form.backward("w", {"w:centroids": form.centroids}, np.array([[1.0, 2.0, 9.0, 3.0]]), grads)
    assert grads["w:centroids"].tolist() == [0.0, 4.0, 2.0]  # zero centroid frozen
    assert form.weight("w", {"w:centroids": form.centroids}).tolist() == [[0.5, -0.5, 0.0, 0.5]]


def test_qat_forward_is_the_exact_format_and_gradient_is_straight_through(rng):
    w = rng.normal(size=(4, 8)).astype(np.float32)
    form = Quantized(None, IntValues(IntSpec(2)))
    q = form.weight("w", {"w": w})
    assert len(np.unique(q[0])) <= 3  # 2-bit restricted: -1, 0, 1 times the scale
    grads: dict = {}
    g = rng.normal(size=w.shape)
    form.backward("w", {"w": w}, g, grads)
    np.testing.assert_array_equal(grads["w"], g)


def test_pool_gradient_matches_finite_differences(rng):
    w = rng.normal(size=(6, 16)).astype(np.float64)
    spec = PoolSpec(8, 4, scale="channel")
    pool = learn_pool({"w": w}, spec)
    layer = pool.layers["w"]
    form = Pooled(None, "pool", spec, layer.index, layer.scales)
    t = {"w": w, "pool": pool.codewords.astype(np.float64),
         "w:scales": layer.scales.astype(np.float64)}  # fmt: skip
    target = rng.normal(size=w.shape)

    def loss(tt):
        return float(((form.weight("w", tt) - target) ** 2).sum() / 2)

    grads: dict = {}
    form.backward("w", t, form.weight("w", t) - target, grads)
    for key in ("pool", "w:scales"):
        idx = (1, 3) if key == "pool" else (2,)
        plus = {k: v.copy() for k, v in t.items()}
        minus = {k: v.copy() for k, v in t.items()}
        plus[key][idx] += 1e-4
        minus[key][idx] -= 1e-4
        numeric = (loss(plus) - loss(minus)) / 2e-4
        np.testing.assert_allclose(grads[key][idx], numeric, rtol=1e-3, atol=1e-4)


def test_pool_indices_are_reassigned_only_in_the_first_epochs(rng):
    w = rng.normal(size=(6, 16)).astype(np.float32)
    spec = PoolSpec(8, 4, scale="none")
    pool = learn_pool({"w": w}, spec)
    layer = pool.layers["w"]
    form = Pooled(None, "pool", spec, layer.index.copy(), layer.scales, reassign_epochs=2)
    param = CompressedParametrization({"w": w}, {"w": form}, {"pool": pool.codewords})
    t = param.trainables()
    t["w"] = -w  # the shadow weights moved: the nearest pool vectors change
    t["pool"] = np.concatenate([pool.codewords[:2], -pool.codewords[:2]])
    param.end_epoch(t, epoch=2, epochs=10)
    np.testing.assert_array_equal(form.index, layer.index)  # past the reassign epochs
    param.end_epoch(t, epoch=1, epochs=10)
    assert not np.array_equal(form.index, layer.index)
