"""Small ONNX graphs built with ``onnx.helper`` for the ONNX workload tests.

Import only after ``pytest.importorskip("onnx")``. Weights are seeded random arrays so
a binding test can tell them apart.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


class GraphBuilder:
    """Accumulates nodes and initializers; :meth:`model` closes the graph."""

    def __init__(self, seed: int = 0) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.arrays: dict[str, np.ndarray] = {}
        self.rng = np.random.default_rng(seed)

    def weight(self, name: str, shape: tuple[int, ...]) -> str:
        array = self.rng.standard_normal(shape).astype(np.float32)
        return self.constant(name, array)

    def constant(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(array, name=name))
        self.arrays[name] = array
        return name

    def node(self, op: str, inputs: list[str], name: str = "", **attrs) -> str:
        output = f"{name or op}_{len(self.nodes)}_out"
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output

    def model(self, inputs: dict[str, list], output: str, opset: int = OPSET) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes,
            "test-graph",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs.items()],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
            initializer=self.initializers,
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def digits_cnn(params: dict[str, np.ndarray], batch: int | str = "N") -> onnx.ModelProto:
    """compress.nets.SmallCNN as ONNX: conv 3x3 1->16 pad 1, ReLU, 2x2 max pool, conv 3x3
    16->32 pad 1, ReLU, 2x2 max pool, flatten, Gemm(transB=1) 128 -> 10, on 1x8x8."""
    g = GraphBuilder()
    for name, array in params.items():
        g.constant(name, array)
    h = "x"
    for conv in ("conv1", "conv2"):
        h = g.node("Conv", [h, f"{conv}.weight", f"{conv}.bias"], conv, pads=[1, 1, 1, 1])
        h = g.node("Relu", [h])
        h = g.node("MaxPool", [h], kernel_shape=[2, 2], strides=[2, 2])
    h = g.node("Flatten", [h])
    out = g.node("Gemm", [h, "fc.weight", "fc.bias"], "fc", transB=1)
    return g.model({"x": [batch, 1, 8, 8]}, out)


def digits_mlp(batch: int = 4) -> tuple[onnx.ModelProto, dict[str, np.ndarray]]:
    """64-300-100-10 as three forms of a linear layer: Gemm(transB=1) with the weight
    ``[out, in]``, Gemm(transB=0, alpha, beta) with ``[in, out]``, MatMul + Add."""
    g = GraphBuilder(seed=1)
    w1, w2, w3 = g.weight("fc1.weight", (300, 64)), g.weight("fc2.w_t", (300, 100)), None
    w3 = g.weight("fc3.w_t", (100, 10))
    b2 = g.weight("fc2.bias", (100,))
    h = g.node("Gemm", ["x", w1], "fc1", transB=1)
    h = g.node("Relu", [h])
    h = g.node("Gemm", [h, w2, b2], "fc2", alpha=0.5, beta=2.0)
    h = g.node("Relu", [h])
    h = g.node("MatMul", [h, w3], "fc3")
    out = g.node("Add", [h, g.weight("fc3.bias", (10,))])
    return g.model({"x": [batch, 64]}, out), g.arrays


def bert_block(seq: int, batch: int | str = "batch") -> tuple[onnx.ModelProto, dict]:
    """One BERT-base encoder block (hidden 768, 12 heads of 64, FFN 3072) as an exporter
    writes it: MatMul + Add projections, Reshape / Transpose into heads, the two
    attention MatMuls of activations, Softmax, residual Adds and LayerNormalization.
    Node names are Hugging Face's module names, as the zoo's layer names."""
    hidden, heads, head_dim, ffn = 768, 12, 64, 3072
    g = GraphBuilder(seed=2)
    split = g.constant("split_heads", np.array([0, 0, heads, head_dim], np.int64))
    merge = g.constant("merge_heads", np.array([0, 0, hidden], np.int64))
    scale = g.constant("scale", np.array(8.0, np.float32))

    def dense(name: str, x: str, d_in: int, d_out: int) -> str:
        h = g.node("MatMul", [x, g.weight(f"{name}.weight_t", (d_in, d_out))], name)
        return g.node("Add", [h, g.weight(f"{name}.bias", (d_out,))])

    p = "attention.self"
    q, k, v = (dense(f"{p}.{n}", "x", hidden, hidden) for n in ("query", "key", "value"))
    q = g.node("Transpose", [g.node("Reshape", [q, split])], perm=[0, 2, 1, 3])
    k = g.node("Transpose", [g.node("Reshape", [k, split])], perm=[0, 2, 3, 1])
    v = g.node("Transpose", [g.node("Reshape", [v, split])], perm=[0, 2, 1, 3])
    scores = g.node("Div", [g.node("MatMul", [q, k], f"{p}.scores"), scale])
    probs = g.node("Softmax", [scores], axis=-1)
    context = g.node("MatMul", [probs, v], f"{p}.context")
    context = g.node("Reshape", [g.node("Transpose", [context], perm=[0, 2, 1, 3]), merge])

    def norm(x: str, residual: str, name: str) -> str:
        gamma, beta = g.weight(f"{name}.gamma", (hidden,)), g.weight(f"{name}.beta", (hidden,))
        return g.node("LayerNormalization", [g.node("Add", [x, residual]), gamma, beta], axis=-1)

    h = norm(dense("attention.output.dense", context, hidden, hidden), "x", "ln1")
    up = g.node("Relu", [dense("intermediate.dense", h, hidden, ffn)])
    out = norm(dense("output.dense", up, ffn, hidden), h, "ln2")
    return g.model({"x": [batch, seq, hidden]}, out), g.arrays


def resnet18_head(batch: int = 2) -> onnx.ModelProto:
    """ResNet-18's stem, first basic block and the first (downsampling) block of stage 2,
    with torchvision's module names as node names."""
    g = GraphBuilder(seed=3)

    def conv(name: str, x: str, c: int, k: int, r: int, stride: int = 1) -> str:
        pad = (r - 1) // 2
        w = g.weight(f"{name}.weight", (k, c, r, r))
        return g.node("Conv", [x, w], name, pads=[pad] * 4, strides=[stride] * 2)

    h = g.node("Relu", [conv("conv1", "x", 3, 64, 7, stride=2)])
    h = g.node("MaxPool", [h], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    b = conv("layer1.0.conv2", g.node("Relu", [conv("layer1.0.conv1", h, 64, 64, 3)]), 64, 64, 3)
    h = g.node("Relu", [g.node("Add", [b, h])])
    b = g.node("Relu", [conv("layer2.0.conv1", h, 64, 128, 3, stride=2)])
    b = conv("layer2.0.conv2", b, 128, 128, 3)
    h = g.node("Add", [b, conv("layer2.0.downsample", h, 64, 128, 1, stride=2)])
    return g.model({"x": [batch, 3, 224, 224]}, h)
