"""Tests for simulator/zoo.py: published MAC counts, hand-computed layers, the spec parser."""

from __future__ import annotations

import itertools
import re

import pytest

from simulator.workloads.layer import Conv2d, Layer, Linear, MatMul, OpKind, Workload, WorkloadError
from simulator.workloads.zoo import ZOO, ZooEntry, zoo_names, zoo_workload

REQUIRED = {
    "alexnet",
    "vgg16",
    "resnet18",
    "resnet50",
    "mobilenetv2",
    "bert-base",
    "vit-b16",
    "llama7b-prefill",
    "llama7b-decode",
    "digits-mlp",
    "digits-cnn",
    "llama7b-full-prefill",
    "llama7b-full-decode",
}


def _layer(workload: Workload, name: str) -> Layer:
    (layer,) = [layer for layer in workload if layer.name == name]
    return layer


def _convs(workload: Workload) -> list[Layer]:
    return [layer for layer in workload if layer.kind is OpKind.CONV]


# --------------------------------------------------------------------------- registry


def test_zoo_has_exactly_the_required_networks() -> None:
    assert set(zoo_names()) == REQUIRED
    assert zoo_names() == tuple(ZOO)
    assert all(isinstance(entry, ZooEntry) and entry.name == key for key, entry in ZOO.items())


def test_params_are_the_builders_defaults() -> None:
    assert ZOO["bert-base"].params == {"seq": 128}
    assert ZOO["llama7b-prefill"].params == {"seq": 512}
    assert ZOO["llama7b-decode"].params == {"kv_len": 2048}
    assert ZOO["llama7b-full-prefill"].params == {"seq": 512}
    assert ZOO["llama7b-full-decode"].params == {"kv_len": 2048}
    assert ZOO["resnet50"].params == {}


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_total_macs_within_2_percent_of_reference(name: str) -> None:
    entry = ZOO[name]
    gmacs = zoo_workload(name).macs / 1e9
    assert gmacs == pytest.approx(entry.reference_gmacs, rel=0.02)


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_builder_defaults_match_spec_and_source(name: str) -> None:
    built = ZOO[name].build(1)
    from_spec = zoo_workload(name)
    assert from_spec.name == name
    assert from_spec.source == "zoo"
    assert [layer.gemm for layer in built] == [layer.gemm for layer in from_spec]


def test_exact_totals_of_convnets() -> None:
    # Hand sums of the published shapes (Sze et al. 2017 Table III for AlexNet:
    # conv 665,784,864 + fc 58,621,952).
    assert zoo_workload("alexnet").macs == 665_784_864 + 58_621_952
    assert zoo_workload("resnet50").macs == 4_089_184_256
    assert zoo_workload("mobilenetv2").macs == 300_774_272


# --------------------------------------------------------------------------- hand-checked layers


def test_resnet50_conv1() -> None:
    conv1 = _layer(zoo_workload("resnet50"), "conv1")
    assert conv1.macs == 112 * 112 * 64 * 7 * 7 * 3 == 118_013_952
    assert conv1.gemm == (12544, 64, 147, 1)


def test_resnet50_bottleneck_is_v1_5_with_projection() -> None:
    w = zoo_workload("resnet50")
    # Stride 2 in the 3x3 conv2: 56x56 in, 28x28 out; conv1 stays at 56x56.
    assert _layer(w, "layer2.0.conv1").m == 56 * 56
    conv2 = _layer(w, "layer2.0.conv2")
    assert conv2.op.stride == (2, 2)
    assert conv2.m == 28 * 28
    down = _layer(w, "layer2.0.downsample")
    assert down.gemm == (28 * 28, 512, 256, 1)
    assert down.macs == 28 * 28 * 512 * 256
    # Only the first block of each stage projects: 4 downsample convs in all.
    assert sum(layer.name.endswith("downsample") for layer in w) == 4
    assert _layer(w, "fc").gemm == (1, 1000, 2048, 1)
    assert len(_convs(w)) == 53


def test_resnet18_has_three_projections_and_17_convs() -> None:
    w = zoo_workload("resnet18")
    downs = [layer.name for layer in w if layer.name.endswith("downsample")]
    assert downs == ["layer2.0.downsample", "layer3.0.downsample", "layer4.0.downsample"]
    assert len(_convs(w)) == 17 + 3
    assert _layer(w, "layer4.1.conv2").gemm == (7 * 7, 512, 9 * 512, 1)


def test_mobilenetv2_depthwise_layers() -> None:
    w = zoo_workload("mobilenetv2")
    depthwise = [layer for layer in w if layer.name.endswith("depthwise")]
    assert len(depthwise) == 17
    for layer in depthwise:
        assert layer.op.groups == layer.op.c == layer.op.k
        assert layer.groups == layer.op.c
        assert layer.k == 9
        assert layer.n == 1
    first = _layer(w, "features.1.depthwise")  # expansion 1: no expand conv
    assert first.gemm == (112 * 112, 1, 9, 32)
    assert not any(layer.name == "features.1.expand" for layer in w)
    assert _layer(w, "features.2.expand").gemm == (112 * 112, 96, 16, 1)
    assert _layer(w, "features.18").gemm == (7 * 7, 1280, 320, 1)
    assert _layer(w, "classifier").gemm == (1, 1000, 1280, 1)


def test_alexnet_is_grouped_two_tower() -> None:
    w = zoo_workload("alexnet")
    assert [layer.groups for layer in _convs(w)] == [1, 2, 1, 2, 2]
    conv1 = _layer(w, "conv1")
    assert conv1.gemm == (55 * 55, 96, 11 * 11 * 3, 1)
    conv2 = _layer(w, "conv2")
    assert conv2.gemm == (27 * 27, 128, 5 * 5 * 48, 2)
    assert conv2.macs == 223_948_800
    assert _layer(w, "fc6").gemm == (1, 4096, 9216, 1)


def test_vgg16_layers() -> None:
    w = zoo_workload("vgg16")
    assert len(_convs(w)) == 13
    assert len([layer for layer in w if layer.kind is OpKind.LINEAR]) == 3
    assert _layer(w, "conv1_2").macs == 224 * 224 * 64 * 9 * 64
    assert _layer(w, "conv5_3").gemm == (14 * 14, 512, 9 * 512, 1)
    assert _layer(w, "fc6").gemm == (1, 4096, 512 * 7 * 7, 1)


def test_vit_b16_layers() -> None:
    w = zoo_workload("vit-b16")
    assert _layer(w, "patch_embed.proj").gemm == (196, 768, 16 * 16 * 3, 1)
    assert _layer(w, "blocks.3.attn.qkv").gemm == (197, 2304, 768, 1)
    assert _layer(w, "blocks.11.attn.scores").gemm == (197, 197, 64, 12)
    assert _layer(w, "blocks.11.attn.context").gemm == (197, 64, 197, 12)
    assert _layer(w, "blocks.0.mlp.fc1").gemm == (197, 3072, 768, 1)
    assert _layer(w, "head").gemm == (1, 1000, 768, 1)
    assert sum(layer.name.endswith("attn.scores") for layer in w) == 12


def test_bert_base_block_matches_megatron_formula() -> None:
    for seq in (128, 384):
        w = zoo_workload(f"bert-base:seq={seq}")
        h = 768
        # Narayanan et al. 2021: 24 s h^2 + 4 s^2 h FLOPs per layer = half as many MACs.
        assert w.macs == 12 * seq * h * h + 2 * seq * seq * h
        assert _layer(w, "attention.self.query").gemm == (seq, h, h, 1)
        assert _layer(w, "intermediate.dense").gemm == (seq, 3072, h, 1)
        assert _layer(w, "output.dense").gemm == (seq, h, 3072, 1)


def test_llama_prefill_and_decode_shapes() -> None:
    prefill = zoo_workload("llama7b-prefill")
    assert _layer(prefill, "self_attn.scores").op == MatMul(m=512, k=128, n=512, count=32)
    assert _layer(prefill, "mlp.gate_proj").gemm == (512, 11008, 4096, 1)
    assert _layer(prefill, "mlp.down_proj").gemm == (512, 4096, 11008, 1)
    decode = zoo_workload("llama7b-decode")
    assert _layer(decode, "self_attn.scores").op == MatMul(m=1, k=128, n=2048, count=32)
    assert _layer(decode, "self_attn.context").op == MatMul(m=1, k=2048, n=128, count=32)
    assert _layer(decode, "self_attn.q_proj").gemm == (1, 4096, 4096, 1)
    weights_per_token = 4 * 4096**2 + 3 * 4096 * 11008
    assert decode.macs == weights_per_token + 2 * 2048 * 4096
    assert prefill.macs == 512 * weights_per_token + 2 * 512 * 512 * 4096


# --------------------------------------------------------------------------- batch


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_batch_scales_macs_and_m_or_groups(name: str) -> None:
    one, four = zoo_workload(name), zoo_workload(name, batch=4)
    assert four.macs == 4 * one.macs
    assert four.batch == 4
    for a, b in zip(one, four, strict=True):
        assert a.name == b.name
        if a.kind is OpKind.MATMUL:
            assert (b.m, b.n, b.k, b.groups) == (a.m, a.n, a.k, 4 * a.groups)
        else:
            assert (b.m, b.n, b.k, b.groups) == (4 * a.m, a.n, a.k, a.groups)


# --------------------------------------------------------------------------- spec parser


def test_spec_params_change_shapes() -> None:
    bert = zoo_workload("bert-base:seq=256")
    scores = _layer(bert, "attention.self.scores")
    assert (scores.m, scores.n) == (256, 256)
    assert bert.name == "bert-base:seq=256"
    decode = zoo_workload("llama7b-decode:kv_len=4096", batch=2)
    scores = _layer(decode, "self_attn.scores")
    assert (scores.m, scores.n, scores.k, scores.groups) == (1, 4096, 128, 64)
    assert decode.name == "llama7b-decode:kv_len=4096"
    assert decode.source == "zoo"
    prefill = zoo_workload("llama7b-prefill: seq = 64")
    assert _layer(prefill, "self_attn.q_proj").m == 64


def test_unknown_name_suggests_closest_and_lists_all() -> None:
    with pytest.raises(WorkloadError, match=r"'resnet5'.*did you mean 'resnet50'") as info:
        zoo_workload("resnet5")
    for name in REQUIRED:
        assert name in str(info.value)
    with pytest.raises(WorkloadError, match=r"'bertbase'.*'bert-base'"):
        zoo_workload("bertbase:seq=3")
    with pytest.raises(WorkloadError, match="'xyzzy'"):
        zoo_workload("xyzzy")


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        ("bert-base:len=256", r"no parameter 'len'.*len=256.*parameters: seq"),
        ("alexnet:seq=3", r"'alexnet' has no parameter 'seq'.*parameters: none"),
        ("llama7b-decode:seq=4", r"no parameter 'seq'.*parameters: kv_len"),
        ("bert-base:seq=0", r"'seq' must be a positive integer, not '0'"),
        ("bert-base:seq=-3", r"'seq' must be a positive integer, not '-3'"),
        ("bert-base:seq=12.5", r"'seq' must be a positive integer, not '12.5'"),
        ("bert-base:seq=abc", r"'seq' must be a positive integer, not 'abc'"),
        ("bert-base:seq", r"'seq' must look like 'key=value'"),
        ("bert-base:", r"'' must look like 'key=value'"),
        ("bert-base:seq=8,seq=16", r"'seq' given twice"),
    ],
)
def test_bad_params_raise(spec: str, pattern: str) -> None:
    with pytest.raises(WorkloadError, match=pattern):
        zoo_workload(spec)


@pytest.mark.parametrize("batch", [0, -1, 1.5, True])
def test_bad_batch_raises(batch: object) -> None:
    with pytest.raises(
        WorkloadError, match=re.escape(f"batch must be a positive integer, not {batch!r}")
    ):
        zoo_workload("resnet18", batch=batch)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_layer_names_unique_and_readable(name: str) -> None:
    names = [layer.name for layer in zoo_workload(name)]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*", n) for n in names), names


def _assert_chain(layers: list[Layer]) -> None:
    """Each conv's input channels equal the previous conv's filters."""
    for prev, layer in itertools.pairwise(layers):
        assert layer.op.c == prev.op.k, (prev.name, layer.name)


def test_sequential_channel_chains() -> None:
    for name in ("vgg16", "alexnet", "mobilenetv2"):
        _assert_chain(_convs(zoo_workload(name)))
    vgg = _convs(zoo_workload("vgg16"))
    assert [layer.op.h for layer in vgg] == [224] * 2 + [112] * 2 + [56] * 3 + [28] * 3 + [14] * 3


@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_resnet_block_chains(name: str) -> None:
    w = zoo_workload(name)
    blocks: dict[str, list[Layer]] = {}
    for layer in _convs(w)[1:]:
        blocks.setdefault(layer.name.rsplit(".", 1)[0], []).append(layer)
    c, hw = 64, 56  # after the stem and max pool
    for prefix, layers in blocks.items():
        main = [layer for layer in layers if not layer.name.endswith("downsample")]
        assert main[0].op.c == c and main[0].op.h == hw, prefix
        _assert_chain(main)
        for prev, layer in itertools.pairwise(main):
            assert layer.op.h == prev.op.out_h, (prev.name, layer.name)
        down = [layer for layer in layers if layer.name.endswith("downsample")]
        if down:
            assert (down[0].op.c, down[0].op.h) == (c, hw)
            assert (down[0].op.k, down[0].op.out_h) == (main[-1].op.k, main[-1].op.out_h)
        else:
            assert main[-1].op.k == c, prefix
        c, hw = main[-1].op.k, main[-1].op.out_h
    fc = w.layers[-1]
    assert isinstance(fc.op, Linear) and fc.op.in_features == c
    assert hw == 7


def test_every_zoo_conv_is_square_and_well_formed() -> None:
    for name in zoo_names():
        for layer in zoo_workload(name):
            if isinstance(layer.op, Conv2d):
                assert layer.op.h == layer.op.w and layer.op.r == layer.op.s
                assert layer.op.out_h >= 1


@pytest.mark.parametrize("name", ["digits-mlp", "digits-cnn"])
def test_digits_models_have_the_shapes_of_the_reference_networks(name: str) -> None:
    """Their layers are named and shaped like compress.nets' parameters, so the weights
    ``sparsa compress`` writes bind to them."""
    from compress import get_net

    params = get_net(name).init(0)
    weights = {k.removesuffix(".weight"): v.shape for k, v in params.items() if "weight" in k}
    layers = {layer.name: layer.weight_shape for layer in zoo_workload(name).layers}
    assert layers == weights


# --------------------------------------------------------------------------- whole Llama-7B

# Published size: Touvron et al. 2023, Table 2, "6.7B" parameters; the released checkpoint
# (Hugging Face ``LlamaForCausalLM``, hidden 4096, MLP 11008, 32 layers, vocabulary 32,000)
# holds 6,738,415,616: 32 blocks of 4 * 4096^2 + 3 * 4096 * 11008 = 202,375,168 weights,
# an embedding table and an LM head of 4096 * 32,000 = 131,072,000 each, and
# 4096 * (2 * 32 + 1) = 266,240 RMSNorm gains.
LLAMA7B_BLOCK_WEIGHTS = 4 * 4096**2 + 3 * 4096 * 11008
LLAMA7B_VOCAB_WEIGHTS = 4096 * 32_000
LLAMA7B_PARAMS = 32 * LLAMA7B_BLOCK_WEIGHTS + 2 * LLAMA7B_VOCAB_WEIGHTS + 4096 * 65


def test_llama7b_parameter_arithmetic_is_the_published_size() -> None:
    params = LLAMA7B_PARAMS
    assert params == 6_738_415_616
    assert params / 1e9 == pytest.approx(6.7, abs=0.05)  # the paper's rounding


def test_whole_llama_decode_macs_against_the_parameter_count() -> None:
    """A decode token costs one MAC per matmul weight (2 x params FLOPs, Kaplan et al.
    2020) plus attention: every parameter but the embedding lookup and the norms, which
    do no MACs (131,338,240 of 6,738,415,616, 1.95 %), so the MACs without attention are
    within 2 % of the published parameter count, and the attention adds exactly
    2 * kv_len * 4096 per block."""
    kv_len = 2048
    workload = zoo_workload(f"llama7b-full-decode:kv_len={kv_len}")
    attention = sum(layer.macs for layer in workload if layer.kind is OpKind.MATMUL)
    weights = workload.macs - attention
    assert weights == 32 * LLAMA7B_BLOCK_WEIGHTS + LLAMA7B_VOCAB_WEIGHTS == 6_607_077_376
    assert weights == pytest.approx(LLAMA7B_PARAMS, rel=0.02)
    assert attention == 32 * 2 * kv_len * 4096
    assert workload.macs / 1e9 == pytest.approx(7.144, abs=5e-4)


def test_whole_llama_prefill_is_32_blocks_and_a_last_token_head() -> None:
    seq = 64
    whole = zoo_workload(f"llama7b-full-prefill:seq={seq}", batch=2)
    block = zoo_workload(f"llama7b-prefill:seq={seq}", batch=2)
    assert len(whole) == 32 * len(block) + 1 == 289
    assert whole.macs == 32 * block.macs + 2 * LLAMA7B_VOCAB_WEIGHTS
    head = _layer(whole, "lm_head")
    assert (head.m, head.k, head.n) == (2, 4096, 32_000)  # the last position of each sample
    assert [layer.gemm for layer in whole.layers[:9]] == [layer.gemm for layer in block]
    assert _layer(whole, "layers.31.mlp.down_proj").gemm == (2 * seq, 4096, 11008, 1)
    assert _layer(whole, "layers.0.self_attn.scores").gemm == (seq, seq, 128, 32 * 2)


def test_single_llama_block_is_unchanged() -> None:
    names = [layer.name for layer in zoo_workload("llama7b-decode")]
    assert names[0] == "self_attn.q_proj" and len(names) == 9
