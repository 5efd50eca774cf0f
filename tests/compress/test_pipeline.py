"""Recipes applied to whole networks: structure, stages, determinism, accuracy smoke tests.

Thresholds here are wide on purpose (CI seconds); the fine-tuned targets are measured by
``benchmarks/bench_compress.py`` over three seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

from compress.codec import decode
from compress.errors import InputError
from compress.pipeline import compress_network, compress_weights
from compress.tensor import IndexKind, SparsityKind


@pytest.fixture
def weights(rng):
    return {
        "fc1.weight": rng.normal(size=(40, 32)).astype(np.float32),
        "fc1.bias": np.zeros(40, np.float32),
        "conv.weight": rng.normal(size=(16, 8, 3, 3)).astype(np.float32),
    }


def test_every_layer_gets_a_tensor_and_biases_stay_float(weights):
    model = compress_weights(weights, "prune 2:4 -> int8 per-channel")
    assert set(model.tensors) == {"fc1.weight", "conv.weight"}
    assert set(model.extra) == {"fc1.bias"}
    for ct in model.tensors.values():
        assert ct.sparsity.kind is SparsityKind.NM and ct.density == 0.5
        assert ct.encoding.name == "int8-sym-channel"
        np.testing.assert_array_equal(decode(ct), ct.values)
    assert model.accuracy_before is None and model.accuracy_after is None


def test_unstructured_auto_index_picks_the_cheaper(weights):
    dense_ish = compress_weights(weights, "prune 10% -> int8")
    sparse = compress_weights(weights, "prune 95% -> int8")
    assert dense_ish.tensors["conv.weight"].sparsity.index is IndexKind.BITMASK
    assert sparse.tensors["conv.weight"].sparsity.index is IndexKind.RELATIVE
    forced = compress_weights(weights, "prune 95% index=bitmask -> int8")
    assert forced.tensors["conv.weight"].storage.index == 16 * 72


def test_global_pruning_shares_one_threshold(weights):
    weights["conv.weight"] *= 0.5
    model = compress_weights(weights, "prune 80% global")
    kept = model.tensors["fc1.weight"].kept + model.tensors["conv.weight"].kept
    assert kept == round(0.2 * (1280 + 1152))
    assert model.tensors["fc1.weight"].density > model.tensors["conv.weight"].density


def test_per_layer_overrides_and_unknown_names(weights):
    model = compress_weights(weights, "steps: int8\nlayers: {conv: int4, fc1.weight: none}")
    assert model.tensors["conv.weight"].encoding.name == "int4-sym-channel"
    assert model.tensors["fc1.weight"].encoding.name == "fp32"
    with pytest.raises(
        InputError,
        match=r"layer 'fc9' is not among the weights \(did you mean 'fc1'\?\); they are fc1, conv",
    ):
        compress_weights(weights, "steps: int8\nlayers: {fc9: int4}")


def test_shared_pool_is_counted_once(weights):
    model = compress_weights(weights, "pool v=8 P=16")
    assert set(model.shared) == {"pool16x8"}
    assert model.shared_bits == 16 * 8 * 32
    assert model.storage.codebook == model.shared_bits
    for ct in model.tensors.values():
        assert ct.codebook is model.shared["pool16x8"]


def test_totals_and_ratios(weights):
    model = compress_weights(weights, "int8")
    params = 1280 + 1152
    assert model.fp32_bits == params * 32 + 40 * 32
    assert model.int8_bits == params * 8 + 40 * 32
    tensor_bits = sum(ct.storage.total for ct in model.tensors.values())
    assert model.total_bits == tensor_bits + 40 * 32
    assert model.ratio_fp32 == model.fp32_bits / model.total_bits
    assert model.ratio_int8 < 1.0  # per-channel scales cost a little over plain int8


def test_deterministic_given_a_seed(weights):
    a = compress_weights(weights, "prune 2:4 -> mvq 4bit v=8", seed=3)
    b = compress_weights(weights, "prune 2:4 -> mvq 4bit v=8", seed=3)
    for name in a.tensors:
        np.testing.assert_array_equal(a.tensors[name].values, b.tensors[name].values)


def test_bad_input(weights):
    with pytest.raises(ValueError, match="no 2-D or 4-D weight tensors"):
        compress_weights({"b": np.zeros(3)}, "int8")
    with pytest.raises(ValueError, match="holds NaN"):
        compress_weights({"w": np.full((2, 2), np.nan)}, "int8")
    with pytest.raises(ValueError, match="finetune epochs must be an integer >= 0"):
        compress_network(None, weights, "int8", finetune_epochs=-1)


@pytest.mark.parametrize(
    ("recipe", "max_drop"),
    [("int8 per-channel", 0.01), ("int4 per-channel", 0.03), ("fp8 e4m3", 0.01),
     ("mxint8", 0.01), ("mxfp4", 0.05), ("prune 50%", 0.03)],
)  # fmt: skip
def test_accuracy_without_fine_tuning(mlp, digits, recipe, max_drop):
    net, params = mlp
    model = compress_network(net, params, recipe, data=digits)
    assert model.accuracy_before > 0.95
    assert model.accuracy_after >= model.accuracy_before - max_drop


def test_stages_are_reported_in_order(mlp, digits):
    net, params = mlp
    model = compress_network(net, params, "prune 90% -> kmeans 5bit -> huffman", data=digits)
    names = [s.name for s in model.stages]
    assert names == ["prune", "kmeans", "huffman"]
    ratios = [s.ratio_fp32 for s in model.stages]
    assert ratios[0] < ratios[1] < ratios[2] == pytest.approx(model.ratio_fp32)
    assert model.stages[1].accuracy == model.stages[2].accuracy == model.accuracy_after


def test_fine_tuning_recovers_pruning_accuracy(mlp, digits):
    net, params = mlp
    one_shot = compress_network(net, params, "prune 1:4", data=digits)
    tuned = compress_network(net, params, "prune 1:4", data=digits, finetune_epochs=4)
    assert tuned.accuracy_after > one_shot.accuracy_after + 0.05
    assert tuned.accuracy_after > 0.9
    for ct in tuned.tensors.values():
        assert ct.density == 0.25  # retraining kept the pattern


def test_cnn_smoke(cnn, digits):
    net, params = cnn
    model = compress_network(net, params, "prune 2:4 -> int8", data=digits, finetune_epochs=1)
    assert model.tensors["conv1.weight"].shape == (16, 1, 3, 3)
    assert model.accuracy_after > 0.8


def test_gradual_pruning_reaches_the_target_sparsity(mlp, digits):
    net, params = mlp
    model = compress_network(net, params, "prune 90% rounds=3", data=digits, finetune_epochs=3)
    for ct in model.tensors.values():
        assert ct.kept == max(1, round(0.1 * ct.values.size))
    assert model.accuracy_after > 0.85
