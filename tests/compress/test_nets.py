"""Reference networks: shapes and backward passes against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from compress.nets import NETS, cross_entropy, get_net


@pytest.mark.parametrize("name", sorted(NETS))
def test_backward_matches_finite_differences(name):
    net = NETS[name]
    params = {k: v.astype(np.float64) for k, v in net.init(0).items()}
    rng = np.random.default_rng(1)
    x, y = rng.random((4, 64)), rng.integers(0, 10, 4)

    def loss(p):
        return cross_entropy(net.forward(p, x)[0], y)[0]

    logits, cache = net.forward(params, x)
    grads = net.backward(params, cache, cross_entropy(logits, y)[1])
    assert set(grads) == set(params)
    for key, value in params.items():
        for _ in range(3):
            idx = tuple(int(rng.integers(0, s)) for s in value.shape)
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[key][idx] += 1e-6
            minus[key][idx] -= 1e-6
            numeric = (loss(plus) - loss(minus)) / 2e-6
            assert grads[key][idx] == pytest.approx(numeric, rel=1e-4, abs=1e-7), (key, idx)


def test_shapes_follow_the_conventions():
    mlp, cnn = get_net("digits-mlp").init(0), get_net("digits-cnn").init(0)
    assert mlp["fc1.weight"].shape == (300, 64) and mlp["fc3.weight"].shape == (10, 100)
    assert sum(v.size for k, v in mlp.items() if k.endswith("weight")) == 50200
    assert cnn["conv2.weight"].shape == (32, 16, 3, 3) and cnn["fc.weight"].shape == (10, 128)


def test_conv_is_the_gemm_of_reshaped_weights():
    """The CNN's conv equals an explicit convolution with w.reshape(out, -1) over (in, kh, kw)."""
    net = NETS["digits-cnn"]
    params = net.init(3)
    x = np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32)
    out, _ = net._conv(params, "conv1", x)
    w, b = params["conv1.weight"], params["conv1.bias"]
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = np.zeros_like(out)
    for i in range(8):
        for j in range(8):
            patch = xp[:, :, i : i + 3, j : j + 3].reshape(2, -1)
            expected[:, :, i, j] = patch @ w.reshape(16, -1).T + b
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_unknown_model():
    with pytest.raises(ValueError, match="unknown model 'lenet'; built-in models: digits-mlp"):
        get_net("lenet")
