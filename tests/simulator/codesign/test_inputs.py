"""Resolving a model for the loop: built-in networks, weights files that match one (scored
and run as it), weights files that need their workload, ONNX models as their own workload."""

from __future__ import annotations

import numpy as np
import pytest

from compress.errors import InputError
from simulator.codesign import load_model_input
from simulator.codesign.inputs import check_training

pytestmark = pytest.mark.usefixtures("trained_once")


def test_a_built_in_model_has_data_and_its_zoo_workload():
    source = load_model_input("digits-mlp")
    assert source.has_data and source.name == "digits-mlp"
    assert [layer.name for layer in source.workload.layers] == ["fc1", "fc2", "fc3"]
    assert source.params["fc1.weight"].shape == (300, 64)


def test_a_weights_file_that_matches_a_network_is_scored_and_run_as_it(tmp_path):
    trained = load_model_input("digits-mlp")
    path = tmp_path / "mine.npz"
    np.savez(path, **trained.params)
    source = load_model_input(path)
    assert source.has_data and source.workload.name == "digits-mlp"
    assert source.name == "mine.npz" and source.origin == str(path)
    np.testing.assert_array_equal(source.params["fc2.weight"], trained.params["fc2.weight"])


def test_other_weights_need_the_workload_they_bind_to(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, **{"fc.weight": np.ones((10, 128), np.float32)})
    with pytest.raises(ValueError, match="give the workload"):
        load_model_input(path)
    source = load_model_input(path, workload="digits-cnn", batch=4)
    assert not source.has_data and source.workload.batch == 4


def test_an_onnx_model_takes_no_other_workload(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    weight = numpy_helper.from_array(np.ones((8, 16), np.float32), "w")
    node = helper.make_node("Gemm", ["x", "w"], ["y"], name="proj", transB=1)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])], [weight],
    )  # fmt: skip
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph), path)
    source = load_model_input(path)
    assert list(source.params) == ["proj.weight"] and source.params["proj.weight"].shape == (8, 16)
    assert source.workload.layers[0].name == "proj"
    with pytest.raises(ValueError, match="its own workload"):
        load_model_input(path, workload="resnet18")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"finetune_epochs": -1}, "fine-tuning epochs must be an integer >= 0, not -1"),
        ({"finetune_epochs": 1.5}, "not 1.5"),
        ({"seed": -3}, "seed must be an integer from 0 to 4,294,967,295, not -3"),
        ({"seed": True}, "not True"),
        ({"lr": 0.0}, "learning rate must be a number in (0, 1], not 0.0"),
        ({"lr": float("nan")}, "not nan"),
        ({"lr": "0.1"}, "not '0.1'"),
    ],
)
def test_training_options_are_checked(options, message):
    with pytest.raises(InputError) as info:
        check_training(**options)
    assert message in str(info.value)


def test_a_bad_seed_is_refused_before_any_training():
    with pytest.raises(InputError, match="seed must be"):
        load_model_input("digits-mlp", seed=-1)
