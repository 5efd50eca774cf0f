"""Layers lower to the right GEMMs; the YAML format round-trips and rejects bad input."""

from __future__ import annotations

import numpy as np
import pytest

from compress.errors import InputError
from simulator.workloads.layer import (
    Conv2d,
    Gemm,
    Layer,
    Linear,
    MatMul,
    OpKind,
    Workload,
    WorkloadError,
    parse_nm,
)
from simulator.workloads.yaml_format import load_workload_yaml, write_workload_yaml


def test_conv_lowers_by_im2col():
    # ResNet conv1: 224x224x3, 64 filters 7x7, stride 2, pad 3 -> 112x112 output.
    layer = Layer("conv1", Conv2d(h=224, w=224, c=3, k=64, r=7, s=7, stride=2, padding=3))
    assert layer.op.out_h == layer.op.out_w == 112
    assert layer.gemm == (112 * 112, 64, 7 * 7 * 3, 1)
    assert layer.macs == 118_013_952
    assert layer.kind is OpKind.CONV
    assert layer.weight_shape == (64, 3, 7, 7)


def test_depthwise_conv_keeps_groups():
    layer = Layer("dw", Conv2d(h=56, w=56, c=32, k=32, r=3, s=3, padding=1, groups=32))
    assert layer.gemm == (56 * 56, 1, 9, 32)
    assert layer.macs == 56 * 56 * 9 * 32
    assert layer.weight_shape == (32, 1, 3, 3)


def test_rectangular_stride_and_padding():
    op = Conv2d(h=10, w=20, c=1, k=1, r=3, s=5, stride=(1, 3), padding=(1, 0))
    assert (op.out_h, op.out_w) == (10, 6)
    # ceil_mode counts the last partial window: (20 - 5) / 3 = 5 exactly, (21 - 5) / 3 = 5.33.
    assert Conv2d(h=3, w=21, c=1, k=1, r=3, s=5, stride=3, ceil_mode=True).out_w == 7
    assert Conv2d(h=3, w=21, c=1, k=1, r=3, s=5, stride=3).out_w == 6


def test_dilation_and_asymmetric_padding():
    # A 3x3 kernel dilated (2, 1) spans 5 rows x 3 cols; the reduction stays 3*3*4 taps.
    op = Conv2d(h=10, w=10, c=4, k=2, r=3, s=3, dilation=(2, 1))
    assert op.window == (5, 3) and (op.out_h, op.out_w) == (6, 8)
    assert Layer("d", op).gemm == (48, 2, 36, 1)
    # Padding 1 on top/left, 2 on bottom and 0 on the right: 10 + 3 - 3 + 1, 10 + 1 - 3 + 1.
    op = Conv2d(h=10, w=10, c=1, k=1, r=3, s=3, padding=1, padding_end=(2, 0))
    assert op.padded == (13, 11) and (op.out_h, op.out_w) == (11, 9)
    # An end padding equal to the start is symmetric, stored as None.
    assert Conv2d(h=4, w=4, c=1, k=1, r=3, s=3, padding=1, padding_end=1).padding_end is None
    with pytest.raises(WorkloadError, match="window 5x5 is larger than the padded input 4x4"):
        Conv2d(h=4, w=4, c=1, k=1, r=3, s=3, dilation=2)
    with pytest.raises(WorkloadError, match="dilation must be an integer from 1 to 2\\^45"):
        Conv2d(h=4, w=4, c=1, k=1, r=3, s=3, dilation=0)


def test_new_conv_fields_are_written_only_when_set():
    plain = Layer("c", Conv2d(h=8, w=8, c=3, k=4, r=3, s=3, padding=1))
    assert plain.to_dict() == {
        "name": "c",
        "conv": {"h": 8, "w": 8, "c": 3, "k": 4, "r": 3, "s": 3, "stride": 1, "padding": 1,
                 "groups": 1, "ceil_mode": False},
    }  # fmt: skip
    dilated = Layer("d", Conv2d(h=8, w=8, c=3, k=4, r=3, s=3, dilation=2, padding_end=(0, 1)))
    assert dilated.to_dict()["conv"]["dilation"] == 2
    assert dilated.to_dict()["conv"]["padding_end"] == [0, 1]


def test_linear_matmul_gemm_and_batch():
    fc = Layer("fc", Linear(in_features=768, out_features=3072, tokens=128), batch=2)
    assert fc.gemm == (256, 3072, 768, 1)
    scores = Layer("qk", MatMul(m=128, k=64, n=128, count=12), batch=2)
    assert scores.gemm == (128, 128, 64, 24)
    assert not scores.has_weights
    assert scores.weight_shape is None
    g = Layer("g", Gemm(m=5, n=6, k=7), batch=3)
    assert g.gemm == (15, 6, 7, 1)
    assert g.weight_shape == (6, 7)


def test_with_batch_scales_macs():
    wl = Workload("w", (Layer("a", Linear(8, 4)), Layer("b", MatMul(2, 3, 4, count=5))))
    assert wl.with_batch(4).macs == 4 * wl.macs
    assert wl.with_batch(4).batch == 4


def test_gemm_arrays():
    wl = Workload("w", (Layer("a", Gemm(1, 2, 3)), Layer("b", MatMul(4, 5, 6, count=7))))
    m, n, k, g = wl.gemm_arrays()
    assert m.tolist() == [1, 4] and n.tolist() == [2, 6] and k.tolist() == [3, 5]
    assert g.tolist() == [1, 7]


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: Conv2d(h=0, w=4, c=1, k=1, r=1, s=1), "h must be a positive integer"),
        (lambda: Conv2d(h=4, w=4, c=3, k=4, r=1, s=1, groups=2), "groups=2 must divide"),
        (lambda: Conv2d(h=2, w=2, c=1, k=1, r=3, s=3), "larger than the padded input"),
        (lambda: Conv2d(h=4, w=4, c=1, k=1, r=1, s=1, stride=0), "stride must be"),
        (lambda: Linear(in_features=-1, out_features=2), "in_features"),
        (lambda: Layer("", Gemm(1, 1, 1)), "name"),
        (lambda: Layer("x", Gemm(1, 1, 1), nm=(4, 2)), "N must be <= M"),
        (lambda: Layer("x", Gemm(1, 1, 1), nm=(4, 4)), "is dense; use nm=None"),
        (lambda: Layer("x", Gemm(2, 3, 4), weights=np.zeros((4, 3))), "shape"),
        (lambda: Workload("w", ()), "no layers"),
        (lambda: Workload("w", (Layer("a", Gemm(1, 1, 1)),) * 2), "duplicate layer name 'a'"),
    ],
)
def test_invalid_layers_are_refused(make, fragment):
    with pytest.raises(WorkloadError, match=fragment):
        make()


def test_parse_nm():
    assert parse_nm("2:4") == (2, 4)
    assert parse_nm("1:1") is None
    assert parse_nm(None) is None
    with pytest.raises(WorkloadError, match="N:M"):
        parse_nm("2-4")
    with pytest.raises(WorkloadError, match="N must be <= M"):
        parse_nm("5:4")


def test_yaml_round_trip(tmp_path):
    wl = Workload(
        "tiny",
        (
            Layer("conv", Conv2d(h=8, w=8, c=3, k=4, r=3, s=3, stride=(1, 2), padding=1)),
            Layer("dil", Conv2d(h=8, w=8, c=3, k=4, r=3, s=3, dilation=2, padding_end=(2, 1))),
            Layer("fc", Linear(in_features=16, out_features=10), nm=(2, 4)),
            Layer("qk", MatMul(m=4, k=8, n=4, count=2)),
            Layer("g", Gemm(m=3, n=5, k=7)),
        ),
    ).with_batch(2)
    path = tmp_path / "tiny.yaml"
    write_workload_yaml(wl, path)
    again = load_workload_yaml(path)
    assert again.layers == wl.layers
    assert again.name == "tiny" and again.batch == 2


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("layers: []", "non-empty list"),
        ("layers:\n  - {name: a, gemm: {m: 1, n: 1, k: 1}, colour: red}", "unknown key 'colour'"),
        ("layers:\n  - {name: a, gemm: {m: 1, n: 1, kk: 1}}", "unknown key 'kk'"),
        ("layers:\n  - {name: a}", "exactly one operator key"),
        ("layers:\n  - {name: a, gemm: {m: 1, n: 1}}", "missing"),
        ("layers:\n  - {name: a, gemm: {m: 0, n: 1, k: 1}}", "m must be a positive integer"),
        ("layrs: []", "unknown key 'layrs'"),
        ("a: [", "not valid YAML"),
    ],
)
def test_yaml_errors_name_the_problem(tmp_path, text, fragment):
    path = tmp_path / "w.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=fragment):  # WorkloadError, or the YAML reader's
        load_workload_yaml(path)
