"""Weights meet layers: compressed models and recipes bound by layer name."""

from __future__ import annotations

import numpy as np
import pytest

from compress import compress_network, compress_weights, load_model
from simulator import AcceleratorConfig, Gemm, Layer, MatMul, Workload, WorkloadError, simulate
from simulator.workloads.binding import (
    bind_compressed,
    bind_recipe,
    bind_tensors,
    dense_workload,
    synthetic_weights,
)
from simulator.workloads.layer import WeightSource
from simulator.workloads.zoo import zoo_workload

NM = AcceleratorConfig(rows=16, cols=16, pe_kind="nm", nm_patterns=["2:4", "1:4"])


@pytest.fixture(scope="module")
def digits_2of4():
    loaded = load_model("digits-mlp")
    return compress_network(
        loaded.net, loaded.params, "prune 2:4 -> int8 per-channel", data=loaded.data,
        activations="int8", model=loaded.name,
    )  # fmt: skip


def test_a_compressed_digits_model_binds_every_layer_with_measured_densities(digits_2of4):
    binding = bind_compressed(zoo_workload("digits-mlp"), digits_2of4, "test")
    assert binding.bound == ("fc1", "fc2", "fc3")
    assert binding.unmatched_layers == binding.unmatched_tensors == ()
    layers = binding.workload.layers
    assert all(layer.weight_source is WeightSource.COMPRESSED for layer in layers)
    assert all(layer.compressed.nm == (2, 4) for layer in layers)
    # fc1 reads the digits images (many zero pixels), later layers ReLU outputs.
    assert all(0 < layer.activation_density < 1 for layer in layers)
    assert "recipe 'prune 2:4 -> int8 per-channel'" in binding.workload.weights_from
    result = simulate(binding.workload, NM)
    assert result.speedup > 1.3 and result.energy_ratio < 1
    assert [layer.weights.stored_bits for layer in result.layers] == [
        t.storage.total for t in digits_2of4.tensors.values()
    ]


def test_unmatched_layers_and_tensors_are_listed():
    weights = {"a.weight": np.ones((4, 8), np.float32), "ghost.weight": np.ones((2, 2))}
    model = compress_weights(weights, "int8")
    workload = Workload("w", (Layer("a", Gemm(3, 4, 8)), Layer("b", Gemm(3, 5, 8))))
    binding = bind_tensors(workload, model.tensors, WeightSource.COMPRESSED, "test")
    assert (binding.bound, binding.unmatched_layers, binding.unmatched_tensors) == (
        ("a",), ("b",), ("ghost.weight",)
    )  # fmt: skip
    notes = " ".join(binding.workload.notes)
    assert "no compressed weights for 1 layers (they run dense): b" in notes
    assert "1 tensors match no layer: ghost.weight" in notes


def test_shapes_are_checked_and_attention_matmuls_take_no_weights():
    model = compress_weights({"a.weight": np.ones((4, 8), np.float32)}, "int8")
    wrong = Workload("w", (Layer("a", Gemm(3, 8, 4)),))
    with pytest.raises(WorkloadError, match=r"shape \(4, 8\), layer 'a' needs \(8, 4\)"):
        bind_tensors(wrong, model.tensors, WeightSource.COMPRESSED, "test")
    scores = Workload("w", (Layer("a", MatMul(m=3, k=8, n=4)),))
    with pytest.raises(WorkloadError, match="multiplies two activations"):
        bind_tensors(scores, model.tensors, WeightSource.COMPRESSED, "test")


def test_synthetic_weights_are_seeded_per_layer_and_initialized_like_pytorch():
    workload = zoo_workload("resnet18")
    one, again, other = (synthetic_weights(workload, s) for s in (0, 0, 1))
    assert all(np.array_equal(one[k], again[k]) for k in one)
    assert not np.array_equal(one["conv1.weight"], other["conv1.weight"])
    fc = one["fc.weight"]  # 512 inputs: uniform in +-1/sqrt(512)
    assert fc.shape == (1000, 512) and np.abs(fc).max() <= 1 / np.sqrt(512)
    assert np.abs(fc).max() > 0.9 / np.sqrt(512)


def test_a_recipe_on_a_zoo_network_says_synthetic_and_changes_cycles_traffic_and_energy():
    workload = zoo_workload("resnet18")
    binding = bind_recipe(workload, "prune 2:4 -> int8 per-channel", seed=0)
    assert all(layer.weight_source is WeightSource.RECIPE for layer in binding.workload.layers)
    config = AcceleratorConfig(rows=32, cols=32, pe_kind="nm", nm_patterns=["2:4"],
                               filter_sram_bytes=1 << 20)  # fmt: skip
    result = simulate(binding.workload, config)
    assert result.synthetic_weights and "synthetic weights" in result.to_dict()["weights_from"]
    dense = simulate(dense_workload(binding.workload), config.dense_baseline())
    assert result.cycles.total < dense.cycles.total
    assert result.memory.weight.dram_read_bytes < dense.memory.weight.dram_read_bytes
    assert result.energy.total < dense.energy.total


def test_a_recipe_on_an_onnx_model_compresses_its_own_weights():
    pytest.importorskip("onnx")
    from simulator.workloads.onnx import read_onnx
    from tests.simulator.workloads.onnx_graphs import digits_mlp

    model, arrays = digits_mlp(batch=4)
    workload = read_onnx(model).workload
    binding = bind_recipe(workload, "prune 2:4 -> int8 per-channel")
    layers = binding.workload.layers
    assert [layer.weight_source for layer in layers] == [WeightSource.COMPRESSED] * 3
    assert "the model's own weights" in binding.workload.weights_from
    first = layers[0]
    assert first.compressed.shape == arrays["fc1.weight"].shape
