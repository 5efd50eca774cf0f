"""The digits networks end to end on the integer model, against their float path."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from compress.integer_net import float_agreement, integer_network
from compress.pipeline import compress_network
from compress.quant import ActivationQuant

RECIPES = ["prune 2:4 -> int8 per-channel", "kmeans 4bit"]
CODE_MISMATCH_RATE = 1e-4  # float32 rounding right at a boundary; measured 0 here


@pytest.fixture(scope="module")
def compressed(mlp, cnn, digits):
    models = {}
    for name, (net, params) in (("mlp", mlp), ("cnn", cnn)):
        for recipe in RECIPES:
            model = compress_network(net, params, recipe, data=digits, activations="int8")
            models[name, recipe] = (net, model)
    return models


def _check(agreement, x):
    assert agreement.prediction_mismatches == 0
    for name, count in agreement.codes.items():
        assert agreement.code_mismatches[name] <= CODE_MISMATCH_RATE * count, name
    first = next(iter(agreement.codes))
    assert agreement.code_mismatches[first] == 0  # the input is quantized the same way
    assert agreement.predictions.shape == (x.shape[0],)


@pytest.mark.parametrize("recipe", RECIPES)
@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_same_predictions_on_the_whole_test_set(compressed, digits, name, recipe):
    """Integer inference (int8 x int8 -> int32, N:M select, codebook entries, fixed-point
    requantization, ReLU clamps, integer max-pool) predicts exactly what the float
    fake-quantized path does on all 360 test images."""
    net, model = compressed[name, recipe]
    network = integer_network(model, net)
    agreement = float_agreement(network, digits.x_test)
    _check(agreement, digits.x_test)
    run = network.run(digits.x_test)
    accuracy = float(np.mean(run.predictions == digits.y_test))
    assert accuracy > 0.5
    np.testing.assert_array_equal(run.predictions, agreement.predictions)
    assert run.logits.dtype == np.int64 and np.abs(run.logits).max() < 2**31


def test_the_float_path_is_the_models_own_but_for_the_bias_grid(compressed):
    """For integer formats the float path runs the compressed model's own weights; its
    biases are the model's rounded to the accumulator grid (at most half a step off)."""
    net, model = compressed["cnn", "prune 2:4 -> int8 per-channel"]
    network = integer_network(model, net)
    params, own = network.float_params(), model.params()
    for name, layer in network.layers.items():
        np.testing.assert_array_equal(params[f"{name}.weight"], own[f"{name}.weight"])
        step = np.float32(layer.input.scale) * layer.weights.scale.max(axis=1)
        assert np.all(np.abs(params[f"{name}.bias"] - own[f"{name}.bias"]) <= step / 2 * 1.001)


def test_zero_points_end_to_end(compressed, digits):
    """Nonzero input zero points everywhere (conv padding is then the zero point's code,
    the ReLU clamps there): still the float path's predictions."""
    net, model = compressed["cnn", "prune 2:4 -> int8 per-channel"]
    shifted = {
        layer: ActivationQuant(q.spec, q.scale, 17 + 10 * i, q.method)
        for i, (layer, q) in enumerate(model.activations.items())
    }
    network = integer_network(replace(model, activations=shifted), net)
    _check(float_agreement(network, digits.x_test), digits.x_test)
    run = network.run(digits.x_test[:4])
    assert run.inputs["conv2"].shape == (4, 16, 4, 4) and run.inputs["conv2"].min() >= 27


def test_wrap_and_saturate_agree_when_nothing_overflows(compressed, digits):
    net, model = compressed["mlp", "prune 2:4 -> int8 per-channel"]
    wrap = integer_network(model, net).run(digits.x_test)
    saturate = integer_network(model, net, overflow="saturate").run(digits.x_test)
    np.testing.assert_array_equal(wrap.logits, saturate.logits)
    narrow = integer_network(model, net, accumulator_bits=16, overflow="saturate")
    logits = narrow.run(digits.x_test).logits
    assert not np.array_equal(logits, wrap.logits)  # 16 bits overflow and clamp


def test_models_the_integer_model_cannot_run(mlp, digits):
    net, params = mlp
    fp8 = compress_network(net, params, "fp8 e4m3", data=digits, activations="int8")
    with pytest.raises(ValueError, match="^fc1.weight: the integer model cannot run e4m3"):
        integer_network(fp8, net)
    plain = compress_network(net, params, "int8", data=digits)
    with pytest.raises(ValueError, match="^fc1: the integer model needs the layer's input format"):
        integer_network(plain, net)
