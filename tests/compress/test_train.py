"""Training loops: determinism, accuracy of the reference models, configuration checks."""

from __future__ import annotations

import numpy as np
import pytest

from compress.nets import NETS
from compress.train import Identity, TrainConfig, evaluate, fit, train_reference


def test_reference_mlp_is_accurate_and_deterministic(mlp, digits):
    net, params = mlp
    assert evaluate(net, params, digits.x_test, digits.y_test) > 0.96
    _, again = train_reference("digits-mlp", seed=0)
    for key in params:
        np.testing.assert_array_equal(params[key], again[key])


def test_seeds_differ():
    _, a = train_reference("digits-mlp", seed=1, epochs=1)
    _, b = train_reference("digits-mlp", seed=2, epochs=1)
    assert not np.array_equal(a["fc1.weight"], b["fc1.weight"])


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_both_optimizers_learn(digits, optimizer):
    net = NETS["digits-mlp"]
    config = TrainConfig(epochs=3, lr=0.05 if optimizer == "sgd" else 1e-3, optimizer=optimizer)
    params = fit(net, Identity(net.init(0)), digits.x_train, digits.y_train, config, seed=0)
    assert evaluate(net, params, digits.x_test, digits.y_test) > 0.85


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("epochs", -1, "epochs must be an integer >= 0"), ("batch_size", 0, "batch_size"),
     ("lr", 0.0, "learning rate must be > 0"), ("optimizer", "rmsprop", "'adam' or 'sgd'"),
     ("schedule", "step", "'constant' or 'cosine'")],
)  # fmt: skip
def test_bad_config(field, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value})
