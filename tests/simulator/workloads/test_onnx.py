"""ONNX models as workloads: the zoo's shapes and hand counts, initializers bound, the
batch, names, operators not modelled, and one-line errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from compress.io import load_weights  # noqa: E402
from compress.nets import SmallCNN  # noqa: E402
from simulator.workloads.layer import Conv2d, Linear, WorkloadError  # noqa: E402
from simulator.workloads.onnx import load_onnx_workload, read_onnx  # noqa: E402
from simulator.workloads.zoo import zoo_workload  # noqa: E402
from tests.simulator.workloads import onnx_graphs  # noqa: E402
from tests.simulator.workloads.onnx_graphs import GraphBuilder  # noqa: E402


@pytest.fixture(scope="module")
def cnn_params():
    return SmallCNN().init(seed=0)


@pytest.fixture
def cnn_file(tmp_path, cnn_params):
    path = tmp_path / "digits-cnn.onnx"
    onnx.save(onnx_graphs.digits_cnn(cnn_params), str(path))
    return path


def test_digits_cnn_hand_counts(cnn_file):
    result = read_onnx(cnn_file)
    wl = result.workload
    assert (wl.name, wl.source, wl.batch) == ("digits-cnn", str(cnn_file), 1)
    assert [layer.name for layer in wl] == ["conv1", "conv2", "fc"]
    conv1, conv2, fc = wl.layers
    assert conv1.op == Conv2d(h=8, w=8, c=1, k=16, r=3, s=3, padding=1)
    # conv1: 8x8 outputs, 16 filters of 3*3*1; conv2 after a 2x2 pool: 4x4, 32 of 3*3*16;
    # fc after the second pool: 32 * 2 * 2 = 128 -> 10.
    assert conv1.gemm == (64, 16, 9, 1)
    assert conv2.gemm == (16, 32, 144, 1)
    assert fc.gemm == (1, 10, 128, 1)
    assert [layer.macs for layer in wl] == [9216, 73728, 1280]
    assert wl.macs == 9216 + 73728 + 1280
    assert result.notes == ("input 'x' has a symbolic batch 'N': modelled at batch 1",)


def test_initializers_bind_in_the_operator_layout(cnn_file, cnn_params):
    result = read_onnx(cnn_file)
    arrays = load_weights(cnn_file)  # what compress sees in the same file
    assert set(arrays) == set(cnn_params)
    for layer in result.workload:
        source = result.weight_sources[layer.name]
        assert source.initializer == f"{layer.name}.weight" and not source.transposed
        assert layer.weights.shape == layer.weight_shape
        np.testing.assert_array_equal(layer.weights, cnn_params[source.initializer])
        np.testing.assert_array_equal(layer.weights, arrays[source.initializer])


def test_mlp_weight_layouts_and_batch(tmp_path):
    model, arrays = onnx_graphs.digits_mlp(batch=4)
    path = tmp_path / "mlp.onnx"
    onnx.save(model, str(path))
    result = read_onnx(path)
    wl = result.workload
    assert [(layer.op, layer.batch) for layer in wl] == [
        (Linear(64, 300), 4),
        (Linear(300, 100), 4),
        (Linear(100, 10), 4),
    ]
    # Rows = the batch of 4: 4 * (64*300 + 300*100 + 100*10).
    assert [layer.gemm for layer in wl] == [(4, 300, 64, 1), (4, 100, 300, 1), (4, 10, 100, 1)]
    assert wl.macs == 200_800
    assert result.notes == ()  # a fixed batch needs no note
    seen = load_weights(path)
    for layer in wl:
        source = result.weight_sources[layer.name]
        stored = seen[source.initializer]
        np.testing.assert_array_equal(stored, arrays[source.initializer])
        np.testing.assert_array_equal(layer.weights, stored.T if source.transposed else stored)
    # fc1 is Gemm(transB=1) with [out, in] as stored; fc2 (transB=0) and fc3 (MatMul)
    # store [in, out], bound transposed.
    assert [result.weight_sources[n].transposed for n in ("fc1", "fc2", "fc3")] == [
        False,
        True,
        True,
    ]


def test_resnet18_layers_equal_the_zoo():
    wl = read_onnx(onnx_graphs.resnet18_head(batch=2)).workload
    zoo = {layer.name: layer for layer in zoo_workload("resnet18", batch=2)}
    assert len(wl) == 6
    for layer in wl:
        assert layer.op == zoo[layer.name].op, layer.name
        assert (layer.gemm, layer.macs, layer.batch) == (
            zoo[layer.name].gemm,
            zoo[layer.name].macs,
            2,
        )
    # conv1 by hand: 112x112 outputs x batch 2, 64 filters of 7*7*3.
    assert wl.layers[0].gemm == (2 * 112 * 112, 64, 147, 1)


def test_bert_block_equals_the_zoo():
    model, arrays = onnx_graphs.bert_block(seq=16)
    result = read_onnx(model)
    zoo = zoo_workload("bert-base:seq=16")
    assert [layer.name for layer in result.workload] == [layer.name for layer in zoo]
    for ours, theirs in zip(result.workload, zoo, strict=True):
        assert (ours.op, ours.gemm, ours.batch) == (theirs.op, theirs.gemm, 1), ours.name
    # By hand: 4 projections 16 x 768 x 768, FFN 2 x 16 x 768 x 3072, scores and
    # context 12 heads of 16 x 64 x 16.
    hand = 4 * 16 * 768 * 768 + 2 * 16 * 768 * 3072 + 2 * 12 * 16 * 64 * 16
    assert result.workload.macs == zoo.macs == hand
    query = result.workload.layers[0]
    np.testing.assert_array_equal(query.weights, arrays["attention.self.query.weight_t"].T)
    assert result.workload.layers[3].weights is None  # scores: two activations
    assert result.not_modelled == {
        "Add": 8,
        "Reshape": 4,
        "Transpose": 4,
        "Div": 1,
        "Softmax": 1,
        "LayerNormalization": 2,
        "Relu": 1,
    }


def test_batch_override_and_symbolic_batch():
    model, _ = onnx_graphs.bert_block(seq=8)
    result = read_onnx(model, batch=3)
    assert result.workload.batch == 3 and result.notes == ()
    assert result.workload.macs == 3 * read_onnx(model).workload.macs
    assert result.workload.layers[3].gemm == (8, 8, 64, 36)  # 12 heads x batch 3
    # Naming the batch symbol in dims sets it too.
    assert read_onnx(model, dims={"batch": 2}).workload.batch == 2


def test_names_are_unique_with_fallbacks():
    g = GraphBuilder()
    h = g.node("MatMul", ["x", g.weight("a", (4, 4))], "proj")
    h = g.node("MatMul", [h, g.weight("b", (4, 4))], "proj")
    h = g.node("MatMul", [h, g.weight("c", (4, 4))])
    out = g.node("MatMul", [h, g.weight("d", (4, 4))], "proj_2")
    names = [layer.name for layer in read_onnx(g.model({"x": [1, 4]}, out)).workload]
    assert names == ["proj", "proj_2", "MatMul_2", "proj_2_2"]


def test_not_modelled_are_listed_once(cnn_file, caplog):
    with caplog.at_level(logging.WARNING, logger="simulator.workloads.onnx"):
        load_onnx_workload(cnn_file)
    listed = [r.getMessage() for r in caplog.records if "not modelled" in r.getMessage()]
    assert listed == [f"{cnn_file}: not modelled (no MACs): Relu x2, MaxPool x2, Flatten x1"]
    # The assumed batch is stated once too, unless a batch is given.
    assert sum("symbolic batch 'N'" in r.getMessage() for r in caplog.records) == 1
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="simulator.workloads.onnx"):
        load_onnx_workload(cnn_file, batch=2)
    assert not any("batch" in r.getMessage() for r in caplog.records)


def test_operators_with_macs_are_listed_apart():
    g = GraphBuilder()
    h = g.node("ConvTranspose", ["x", g.weight("up", (3, 4, 2, 2))], "up", strides=[2, 2])
    h = g.node("Relu", [h])
    out = g.node("Conv", [h, g.weight("w", (4, 4, 3, 3))], "conv")
    result = read_onnx(g.model({"x": [1, 3, 4, 4]}, out))
    assert [layer.name for layer in result.workload] == ["conv"]
    assert result.not_modelled_message == (
        "not modelled, their MACs are NOT counted: ConvTranspose x1; "
        "not modelled (no MACs): Relu x1"
    )


def test_an_uninferable_shape_names_the_node():
    g = GraphBuilder()
    h = g.node("Mystery", ["x"], "mystery", domain="com.example")
    out = g.node("Conv", [h, g.weight("w", (4, 3, 3, 3))], "head")
    model = g.model({"x": [1, 3, 8, 8]}, out)
    model.opset_import.append(onnx.helper.make_opsetid("com.example", 1))
    with pytest.raises(WorkloadError) as info:
        read_onnx(model)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("ONNX node 'head' (Conv): the shape of input 'mystery_0_out'")
    assert "could not be inferred (no shape)" in message


def test_a_symbolic_dimension_names_the_node_and_can_be_given():
    g = GraphBuilder()
    out = g.node("MatMul", ["x", g.weight("w", (64, 32))], "fc")
    model = g.model({"x": ["N", "seq", 64]}, out)
    with pytest.raises(WorkloadError, match=r"'fc' \(MatMul\).*\[1, seq, 64\].*dims="):
        read_onnx(model)
    (layer,) = read_onnx(model, dims={"seq": 10}).workload.layers
    assert layer.op == Linear(64, 32, tokens=10)
    with pytest.raises(WorkloadError, match="dims names 'len'"):
        read_onnx(model, dims={"len": 10})


def test_bad_files_are_one_line_errors(tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"\x00not a protobuf")
    with pytest.raises(WorkloadError, match="junk.onnx: not a readable ONNX model"):
        read_onnx(junk)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_onnx(tmp_path / "missing.onnx")
    g = GraphBuilder()
    out = g.node("Relu", ["x"])
    with pytest.raises(WorkloadError, match=r"no Conv, Gemm or MatMul nodes .*Relu x1"):
        read_onnx(g.model({"x": [1, 4]}, out))


def test_the_model_is_not_edited_and_initializers_may_be_inputs():
    g = GraphBuilder()
    out = g.node("MatMul", ["x", g.weight("w", (64, 32))], "fc")  # 2048 elements: a big one
    model = g.model({"x": ["N", 64]}, out)
    # Before IR 4, initializers were also listed as graph inputs, after the real ones.
    model.graph.input.append(onnx.helper.make_tensor_value_info("w", 1, [64, 32]))
    before = model.SerializeToString()
    result = read_onnx(model, batch=2)
    assert model.SerializeToString() == before
    (layer,) = result.workload.layers
    assert layer.gemm == (2, 32, 64, 1)
    np.testing.assert_array_equal(layer.weights, g.arrays["w"].T)
