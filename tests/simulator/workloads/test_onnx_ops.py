"""Each ONNX operator lowers to the GEMMs counted by hand: conv variants, Gemm, MatMul."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")

from simulator.workloads.layer import Conv2d, Linear, MatMul, WorkloadError  # noqa: E402
from simulator.workloads.onnx import InitializerSource, read_onnx  # noqa: E402
from tests.simulator.workloads.onnx_graphs import GraphBuilder  # noqa: E402


def conv_layer(x_shape, w_shape, **attrs):
    g = GraphBuilder()
    w = g.weight("w", w_shape)
    out = g.node("Conv", ["x", w], "conv", **attrs)
    result = read_onnx(g.model({"x": list(x_shape)}, out))
    (layer,) = result.workload.layers
    np.testing.assert_array_equal(layer.weights.reshape(w_shape), g.arrays["w"])
    return layer


def test_depthwise_conv_keeps_its_groups():
    # 8 channels, one 3x3 filter each, pad 1: 10x10 out, 8 GEMMs of 100 x 9 @ 9 x 1.
    layer = conv_layer((1, 8, 10, 10), (8, 1, 3, 3), group=8, pads=[1, 1, 1, 1])
    assert layer.gemm == (100, 1, 9, 8)
    assert layer.macs == 100 * 9 * 8
    assert layer.weights.shape == (8, 1, 3, 3)


def test_grouped_conv():
    # 2 groups of 4 -> 8 channels, 3x3 valid on 10x10: 8x8 out; k = 9 * 4, n = 16 / 2.
    layer = conv_layer((1, 8, 10, 10), (16, 4, 3, 3), group=2)
    assert layer.gemm == (64, 8, 36, 2)
    assert layer.macs == 64 * 8 * 36 * 2


def test_dilation_widens_the_window_not_the_reduction():
    # 3x3 dilated 2 spans 5x5: 12 + 2*2 - 5 + 1 = 12 out; k still 3*3*4 taps.
    layer = conv_layer((1, 4, 12, 12), (6, 4, 3, 3), dilations=[2, 2], pads=[2, 2, 2, 2])
    assert layer.op.dilation == (2, 2)
    assert layer.gemm == (144, 6, 36, 1)
    # Without padding: 12 - 5 + 1 = 8.
    assert conv_layer((1, 4, 12, 12), (6, 4, 3, 3), dilations=[2, 2]).gemm == (64, 6, 36, 1)


def test_asymmetric_pads_are_exact():
    # pads [top, left, bottom, right] = [1, 0, 2, 0] on 8x8, 3x3, stride 1:
    # height 8 + 1 + 2 - 3 + 1 = 9, width 8 - 3 + 1 = 6; no symmetric padding gives 9x6.
    layer = conv_layer((1, 3, 8, 8), (4, 3, 3, 3), pads=[1, 0, 2, 0])
    assert (layer.op.padding, layer.op.padding_end) == ((1, 0), (2, 0))
    assert layer.gemm == (54, 4, 27, 1)


def test_strides_and_auto_pad_same():
    # SAME_UPPER, stride 2 on 8x8, 3x3: out ceil(8 / 2) = 4, total pad 3*2 + 3 - 8 = 1,
    # at the end (SAME_LOWER puts it first).
    upper = conv_layer((1, 3, 8, 8), (4, 3, 3, 3), strides=[2, 2], auto_pad="SAME_UPPER")
    assert (upper.op.padding, upper.op.padding_end) == ((0, 0), (1, 1))
    assert upper.gemm == (16, 4, 27, 1)
    lower = conv_layer((1, 3, 8, 8), (4, 3, 3, 3), strides=[2, 2], auto_pad="SAME_LOWER")
    assert (lower.op.padding, lower.op.padding_end) == ((1, 1), (0, 0))
    # Rectangular strides, no padding: (9 - 3) / 3 + 1 = 3 rows, (9 - 3) / 1 + 1 = 7 cols.
    assert conv_layer((1, 3, 9, 9), (4, 3, 3, 3), strides=[3, 1]).gemm == (21, 4, 27, 1)


def test_conv1d_is_a_conv_of_height_one():
    # [N, C, L] = [1, 4, 20], kernel 5, pad 2: 20 outputs; k = 4 * 5.
    layer = conv_layer((1, 4, 20), (8, 4, 5), pads=[2, 2])
    assert layer.op == Conv2d(h=1, w=20, c=4, k=8, r=1, s=5, padding=(0, 2))
    assert layer.gemm == (20, 8, 20, 1)
    assert layer.weights.shape == (8, 4, 1, 5)


def test_conv3d_is_listed_not_modelled():
    g = GraphBuilder()
    h = g.node("Conv", ["x", g.weight("w3", (4, 2, 3, 3, 3))], "conv3d")
    out = g.node("MatMul", [h, g.weight("w", (6, 5))], "fc")
    result = read_onnx(g.model({"x": [1, 2, 8, 8, 8]}, out))
    assert [layer.name for layer in result.workload] == ["fc"]
    assert result.not_modelled == {"Conv (3-D)": 1}
    assert result.not_modelled_message == "not modelled, their MACs are NOT counted: Conv (3-D) x1"


def test_conv_batch_must_be_the_graph_batch():
    g = GraphBuilder()
    h = g.node("Reshape", ["x", g.constant("s", np.array([4, 3, 8, 8], np.int64))])
    out = g.node("Conv", [h, g.weight("w", (4, 3, 3, 3))], "conv")
    with pytest.raises(WorkloadError, match=r"'conv' \(Conv\): input batch 4 differs"):
        read_onnx(g.model({"x": [2, 6, 8, 8]}, out))


def gemm_layer(a_shape, b_shape, *, constant="b", **attrs):
    g = GraphBuilder()
    inputs = {"a": list(a_shape), "b": list(b_shape)}
    names = ["a", "b"]
    if constant:
        names[0 if constant == "a" else 1] = g.weight("w", a_shape if constant == "a" else b_shape)
        del inputs[constant]
    op = attrs.pop("op", "Gemm")
    out = g.node(op, names, "gemm", **attrs)
    result = read_onnx(g.model(inputs, out))
    (layer,) = result.workload.layers
    return layer, g.arrays.get("w"), result.weight_sources.get("gemm")


def test_gemm_trans_b_binds_the_initializer_as_stored():
    # PyTorch's nn.Linear export: B is [out, in] = [6, 5]; A [3, 5] is a batch of 3.
    layer, w, source = gemm_layer((3, 5), (6, 5), transB=1, alpha=2.0, beta=0.5)
    assert layer.op == Linear(in_features=5, out_features=6) and layer.batch == 3
    assert layer.gemm == (3, 6, 5, 1)
    np.testing.assert_array_equal(layer.weights, w)
    assert not source.transposed


def test_gemm_without_trans_b_transposes_the_weights():
    layer, w, source = gemm_layer((3, 5), (5, 6))
    assert layer.gemm == (3, 6, 5, 1)
    np.testing.assert_array_equal(layer.weights, w.T)
    assert source.transposed and source.initializer == "w"


def test_gemm_trans_a_and_a_constant_first_operand():
    # A' = A^T: A [2, 4] is 4 rows of 2 (the graph batch, A's first dim, is 2: 2 rows
    # per sample).
    layer, _, _ = gemm_layer((2, 4), (2, 6), transA=1)
    assert layer.op == Linear(in_features=2, out_features=6, tokens=2) and layer.batch == 2
    assert layer.gemm == (4, 6, 2, 1)
    # W @ x with W [6, 5] constant and x [5, 3] (batch 5 is x's first dim: 3 columns
    # are not a multiple of it) -> an error naming the node.
    with pytest.raises(WorkloadError, match=r"'gemm' \(Gemm\): the number of rows 3 is not"):
        gemm_layer((6, 5), (5, 3), constant="a")
    # With x [5, 5]: Y^T = x^T W^T, a Linear 5 -> 6 on 5 columns, the weights W.
    layer, w, source = gemm_layer((6, 5), (5, 5), constant="a")
    assert layer.op == Linear(in_features=5, out_features=6) and layer.batch == 5
    np.testing.assert_array_equal(layer.weights, w)
    assert not source.transposed


def test_gemm_of_two_activations_is_a_matmul():
    layer, _, _ = gemm_layer((4, 5), (6, 5), constant=None, transB=1)
    # batch 4 is A's rows: one 1 x 5 @ 5 x 6 per sample.
    assert layer.op == MatMul(m=1, k=5, n=6, count=1) and layer.batch == 4
    assert layer.macs == 4 * 5 * 6


def test_matmul_constant_b_is_a_linear_over_all_leading_rows():
    # [2, 7, 5] @ [5, 6]: 7 tokens per sample, weights [out, in] = B^T.
    layer, w, source = gemm_layer((2, 7, 5), (5, 6), op="MatMul")
    assert layer.op == Linear(in_features=5, out_features=6, tokens=7) and layer.batch == 2
    assert layer.gemm == (14, 6, 5, 1)
    np.testing.assert_array_equal(layer.weights, w.T)
    assert source.transposed


def test_matmul_weight_through_transpose_is_not_transposed_again():
    # x @ Transpose(W) with W [out, in] = [6, 5] stored as PyTorch does.
    g = GraphBuilder()
    wt = g.node("Transpose", [g.weight("fc.weight", (6, 5))], perm=[1, 0])
    out = g.node("MatMul", ["x", wt], "fc")
    result = read_onnx(g.model({"x": [3, 5]}, out))
    (layer,) = result.workload.layers
    np.testing.assert_array_equal(layer.weights, g.arrays["fc.weight"])
    assert result.weight_sources["fc"] == InitializerSource("fc.weight", transposed=False)


def test_batched_matmul_of_activations_counts_heads():
    # [2, 3, 5, 7] @ [2, 3, 7, 4]: batch 2, 3 heads of 5 x 7 @ 7 x 4.
    layer, _, _ = gemm_layer((2, 3, 5, 7), (2, 3, 7, 4), constant=None, op="MatMul")
    assert layer.op == MatMul(m=5, k=7, n=4, count=3) and layer.batch == 2
    assert layer.gemm == (5, 4, 7, 6)
    assert layer.macs == 2 * 3 * 5 * 7 * 4
    assert layer.weights is None and not layer.has_weights
    # Broadcast batch dims: [2, 3, 5, 7] @ [1, 3, 7, 4] is the same count.
    layer, _, _ = gemm_layer((2, 3, 5, 7), (1, 3, 7, 4), constant=None, op="MatMul")
    assert layer.gemm == (5, 4, 7, 6)


def test_matmul_with_a_batched_constant_is_noted():
    g = GraphBuilder()
    out = g.node("MatMul", ["x", g.weight("w", (3, 7, 4))], "bmm")
    result = read_onnx(g.model({"x": [2, 3, 5, 7]}, out))
    (layer,) = result.workload.layers
    assert layer.op == MatMul(m=5, k=7, n=4, count=3)
    assert any("'bmm'" in note and "not bound" in note for note in result.notes)


def test_qdq_weights_bind_dequantized_and_fp16_weights_through_cast():
    g = GraphBuilder()
    q = g.constant("w_q", np.arange(-8, 8, dtype=np.int8).reshape(2, 2, 2, 2))
    scale = g.constant("w_scale", np.array([0.5, 0.25], np.float32))  # per output channel
    zero = g.constant("w_zero", np.array([0, 1], np.int8))
    w = g.node("DequantizeLinear", [q, scale, zero], axis=0)
    h = g.node("Conv", ["x", w], "conv")
    half = g.constant("fc_h", np.arange(108, dtype=np.float16).reshape(18, 6))
    fc = g.node("Cast", [half], to=onnx.TensorProto.FLOAT)
    out = g.node("MatMul", [g.node("Flatten", [h]), fc], "fc")
    result = read_onnx(g.model({"x": [1, 2, 4, 4]}, out))
    conv, linear = result.workload.layers
    expected = (g.arrays["w_q"].astype(np.float32) - [[[[0]]], [[[1]]]]) * [[[[0.5]]], [[[0.25]]]]
    np.testing.assert_array_equal(conv.weights, expected)
    assert "conv" not in result.weight_sources  # not an initializer as stored
    assert linear.op == Linear(in_features=2 * 3 * 3, out_features=6)  # 2 channels of 3x3
    np.testing.assert_array_equal(linear.weights, g.arrays["fc_h"].T.astype(np.float32))
    assert result.weight_sources["fc"] == InitializerSource("fc_h", transposed=True)
    assert result.not_modelled == {"DequantizeLinear": 1, "Cast": 1, "Flatten": 1}


def test_contradicting_shapes_name_the_node():
    g = GraphBuilder()
    h = g.node("Flatten", ["x"])  # [1, 18]
    out = g.node("MatMul", [h, g.weight("w", (2, 6))], "fc")
    with pytest.raises(WorkloadError, match=r"^ONNX node 'fc' \(MatMul\): inconsistent shapes"):
        read_onnx(g.model({"x": [1, 2, 3, 3]}, out))
