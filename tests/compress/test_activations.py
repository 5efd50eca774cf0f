"""Activation quantization of the reference networks."""

from __future__ import annotations

import numpy as np
import pytest

from compress.activations import (
    ActivationSpec,
    activation_hooks,
    calibrate_network,
    parse_activation_spec,
)
from compress.io import load_compressed, save_compressed
from compress.pipeline import compress_network


@pytest.mark.parametrize(
    ("text", "spec"),
    [("int8", ActivationSpec(8, "minmax")), ("int6 percentile", ActivationSpec(6, "percentile")),
     ("int8 percentile=99.9", ActivationSpec(8, "percentile", 99.9))],
)  # fmt: skip
def test_parse(text, spec):
    assert parse_activation_spec(text) == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [("fp8", "expected 'intB"), ("int1", "from 2 to 16"), ("int8 percentile=20", r"\(50, 100\]")],
)
def test_parse_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_activation_spec(text)


def test_calibration_covers_every_layer_input(mlp, digits):
    net, params = mlp
    quant = calibrate_network(net, params, digits.x_train, ActivationSpec(8))
    assert set(quant) == {"fc1", "fc2", "fc3"}
    assert quant["fc1"].zero_point == 0  # pixel inputs are >= 0
    assert quant["fc1"].scale == pytest.approx(1.0 / 255, rel=1e-6)  # max pixel is 1.0
    hooks = activation_hooks(quant)
    q = hooks["fc1"](digits.x_test[:4])
    assert len(np.unique(np.round(q / quant["fc1"].scale))) <= 256


def test_int8_activations_cost_little_and_round_trip(mlp, digits, tmp_path):
    net, params = mlp
    model = compress_network(net, params, "int8", data=digits, activations="int8")
    assert model.stages[-1].name == "activations int8 minmax"
    assert model.accuracy_after >= model.accuracy_before - 0.01
    two_bit = compress_network(net, params, "int8", data=digits, activations="int2")
    assert two_bit.accuracy_after < model.accuracy_after  # 2-bit inputs do hurt
    loaded = load_compressed(save_compressed(model, tmp_path / "c.npz"))
    assert loaded.activations["fc2"].scale == model.activations["fc2"].scale
    assert model.summary()["activations"]["fc3"]["bits"] == 8


def test_needs_a_network():
    with pytest.raises(ValueError, match="need a known network"):
        compress_network(None, {"w": np.ones((2, 2))}, "int8", activations="int8")
