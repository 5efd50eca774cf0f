"""A built-in zoo of published networks as workloads (layer shapes only, no weights).

Every layer that does multiply-accumulates is listed: convolutions, fully-connected
layers and the two attention matmuls; pooling, activations, normalization, softmax
and residual additions are left out because they do no MACs. Shapes follow the cited
papers; layer names follow the usual module names of the reference implementation
(torchvision, Caffe, timm or Hugging Face) so results can be matched against them.

A network is picked by a *spec*: its zoo name, optionally followed by integer
parameters, e.g. ``"resnet50"``, ``"bert-base:seq=384"`` or
``"llama7b-decode:kv_len=4096"``::

    workload = zoo_workload("bert-base:seq=256", batch=8)
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

from simulator.workloads.layer import Conv2d, Layer, Linear, MatMul, Workload, WorkloadError

__all__ = [
    "ZOO",
    "ZooEntry",
    "alexnet",
    "bert_base",
    "digits_cnn",
    "digits_mlp",
    "llama7b_decode",
    "llama7b_full_decode",
    "llama7b_full_prefill",
    "llama7b_prefill",
    "mobilenet_v2",
    "resnet18",
    "resnet50",
    "vgg16",
    "vit_b16",
    "zoo_names",
    "zoo_workload",
]


# --------------------------------------------------------------------------- helpers


def _conv(
    batch: int,
    name: str,
    hw: int,
    c: int,
    k: int,
    r: int,
    *,
    stride: int = 1,
    padding: int | None = None,
    groups: int = 1,
) -> Layer:
    """A square ``r x r`` conv on a square ``hw x hw x c`` input; "same" padding by default."""
    pad = (r - 1) // 2 if padding is None else padding
    op = Conv2d(h=hw, w=hw, c=c, k=k, r=r, s=r, stride=stride, padding=pad, groups=groups)
    return Layer(name=name, op=op, batch=batch)


def _linear(batch: int, name: str, d_in: int, d_out: int, tokens: int = 1) -> Layer:
    return Layer(name=name, op=Linear(d_in, d_out, tokens=tokens), batch=batch)


def _out(layer: Layer) -> int:
    """Output height (== width) of a square conv layer."""
    assert isinstance(layer.op, Conv2d)
    return layer.op.out_h


def _attention(
    batch: int, prefix: str, tokens: int, kv_len: int, heads: int, head_dim: int
) -> list[Layer]:
    """The two activation-by-activation products of multi-head attention.

    ``scores = Q @ K^T`` is ``heads`` products of ``tokens x head_dim @ head_dim x kv_len``;
    ``context = softmax(scores) @ V`` is ``heads`` of ``tokens x kv_len @ kv_len x head_dim``.
    A causal mask is not exploited: the full ``tokens x kv_len`` scores are computed.
    """
    return [
        Layer(f"{prefix}.scores", MatMul(m=tokens, k=head_dim, n=kv_len, count=heads), batch),
        Layer(f"{prefix}.context", MatMul(m=tokens, k=kv_len, n=head_dim, count=heads), batch),
    ]


def _workload(name: str, layers: list[Layer]) -> Workload:
    return Workload(name=name, layers=tuple(layers), source="zoo")


# --------------------------------------------------------------------------- CNNs


def alexnet(batch: int = 1) -> Workload:
    """AlexNet as in Krizhevsky et al. 2012, on a 227x227x3 input (Caffe ``bvlc_alexnet``).

    The original two-tower net: 96-256-384-384-256 filters, conv2, conv4 and conv5
    grouped (``groups=2``, each tower sees half the channels), conv3 and the FCs
    dense. Max pools (3x3, stride 2) follow conv1, conv2 and conv5: 55 -> 27 -> 13 -> 6.
    Layer names are Caffe's (``conv1`` .. ``conv5``, ``fc6`` .. ``fc8``).
    """
    conv1 = _conv(batch, "conv1", 227, 3, 96, 11, stride=4, padding=0)  # -> 55
    hw = (_out(conv1) - 3) // 2 + 1  # max pool -> 27
    conv2 = _conv(batch, "conv2", hw, 96, 256, 5, groups=2)
    hw = (_out(conv2) - 3) // 2 + 1  # -> 13
    conv3 = _conv(batch, "conv3", hw, 256, 384, 3)
    conv4 = _conv(batch, "conv4", hw, 384, 384, 3, groups=2)
    conv5 = _conv(batch, "conv5", hw, 384, 256, 3, groups=2)
    hw = (_out(conv5) - 3) // 2 + 1  # -> 6
    fcs = [
        _linear(batch, "fc6", 256 * hw * hw, 4096),
        _linear(batch, "fc7", 4096, 4096),
        _linear(batch, "fc8", 4096, 1000),
    ]
    return _workload("alexnet", [conv1, conv2, conv3, conv4, conv5, *fcs])


# VGG configuration D: (convs, filters) per stage, each stage followed by a 2x2 max pool.
_VGG16_STAGES = ((2, 64), (2, 128), (3, 256), (3, 512), (3, 512))


def vgg16(batch: int = 1) -> Workload:
    """VGG-16 (Simonyan & Zisserman 2014, configuration D) on a 224x224x3 input.

    Thirteen 3x3 "same" convs in five stages, each stage followed by a 2x2 max pool
    (224 -> 7), then fc6 (25088 -> 4096), fc7 and fc8. Names are Caffe's
    (``conv1_1`` .. ``conv5_3``, ``fc6`` .. ``fc8``).
    """
    layers: list[Layer] = []
    hw, c = 224, 3
    for stage, (convs, filters) in enumerate(_VGG16_STAGES, start=1):
        for i in range(1, convs + 1):
            layers.append(_conv(batch, f"conv{stage}_{i}", hw, c, filters, 3))
            c = filters
        hw //= 2
    layers += [
        _linear(batch, "fc6", c * hw * hw, 4096),
        _linear(batch, "fc7", 4096, 4096),
        _linear(batch, "fc8", 4096, 1000),
    ]
    return _workload("vgg16", layers)


# A residual block's layers, its output height (== width) and its output channels.
_Block = tuple[list[Layer], int, int]


def _basic_block(batch: int, prefix: str, hw: int, c_in: int, width: int, stride: int) -> _Block:
    """ResNet basic block: 3x3 (stride) -> 3x3, plus a 1x1 projection when the shape changes."""
    conv1 = _conv(batch, f"{prefix}.conv1", hw, c_in, width, 3, stride=stride)
    layers = [conv1, _conv(batch, f"{prefix}.conv2", _out(conv1), width, width, 3)]
    if stride != 1 or c_in != width:
        layers.append(_conv(batch, f"{prefix}.downsample", hw, c_in, width, 1, stride=stride))
    return layers, _out(conv1), width


def _bottleneck(batch: int, prefix: str, hw: int, c_in: int, width: int, stride: int) -> _Block:
    """ResNet v1.5 bottleneck: 1x1 -> 3x3 (stride) -> 1x1 (4x width), plus projection."""
    c_out = 4 * width
    layers = [
        _conv(batch, f"{prefix}.conv1", hw, c_in, width, 1),
        _conv(batch, f"{prefix}.conv2", hw, width, width, 3, stride=stride),
    ]
    out_hw = _out(layers[1])
    layers.append(_conv(batch, f"{prefix}.conv3", out_hw, width, c_out, 1))
    if stride != 1 or c_in != c_out:
        layers.append(_conv(batch, f"{prefix}.downsample", hw, c_in, c_out, 1, stride=stride))
    return layers, out_hw, c_out


def _resnet(
    batch: int, name: str, block: Callable[..., _Block], blocks_per_stage: tuple[int, ...]
) -> Workload:
    """Stem (7x7/2 conv, 3x3/2 max pool), four stages of ``block``, global pool, FC."""
    conv1 = _conv(batch, "conv1", 224, 3, 64, 7, stride=2)  # -> 112
    layers = [conv1]
    hw, c = (_out(conv1) + 2 - 3) // 2 + 1, 64  # max pool 3x3/2, pad 1 -> 56
    for stage, count in enumerate(blocks_per_stage):
        width = 64 * 2**stage
        for i in range(count):
            stride = 2 if stage > 0 and i == 0 else 1
            block_layers, hw, c = block(batch, f"layer{stage + 1}.{i}", hw, c, width, stride)
            layers += block_layers
    layers.append(_linear(batch, "fc", c, 1000))
    return _workload(name, layers)


def resnet18(batch: int = 1) -> Workload:
    """ResNet-18 (He et al. 2016) on a 224x224x3 input, torchvision module names.

    Basic blocks [2, 2, 2, 2]; the first block of stages 2-4 has stride 2 in its first
    3x3 conv and a 1x1 stride-2 projection conv (``layerN.0.downsample``).
    """
    return _resnet(batch, "resnet18", _basic_block, (2, 2, 2, 2))


def resnet50(batch: int = 1) -> Workload:
    """ResNet-50 v1.5 (He et al. 2016, as torchvision) on a 224x224x3 input.

    Bottleneck blocks [3, 4, 6, 3]. v1.5: the stride-2 of a downsampling block sits in
    its 3x3 conv (``conv2``), not in the first 1x1 as in the paper's v1, which costs
    about 0.2 GMACs more (4.09 vs 3.86). Every stage's first block has a 1x1
    projection conv (``layerN.0.downsample``).
    """
    return _resnet(batch, "resnet50", _bottleneck, (3, 4, 6, 3))


# Inverted-residual settings (expansion t, output channels c, repeats n, stride s),
# Sandler et al. 2018, Table 2.
_MOBILENETV2_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


def _inverted_residual(
    batch: int, prefix: str, hw: int, c_in: int, c_out: int, t: int, s: int
) -> tuple[list[Layer], int]:
    """Expand 1x1 (omitted when ``t == 1``), depthwise 3x3 (stride ``s``), project 1x1."""
    hidden = c_in * t
    layers = [] if t == 1 else [_conv(batch, f"{prefix}.expand", hw, c_in, hidden, 1)]
    dw = _conv(batch, f"{prefix}.depthwise", hw, hidden, hidden, 3, stride=s, groups=hidden)
    out_hw = _out(dw)
    layers += [dw, _conv(batch, f"{prefix}.project", out_hw, hidden, c_out, 1)]
    return layers, out_hw


def mobilenet_v2(batch: int = 1) -> Workload:
    """MobileNetV2 (Sandler et al. 2018), width 1.0, on a 224x224x3 input.

    ``features.0`` is the 3x3/2 stem conv to 32 channels; ``features.1`` ..
    ``features.17`` the inverted residual blocks (indices as torchvision, sub-layers
    named ``expand``, ``depthwise``, ``project``; depthwise convs have
    ``groups == channels``); ``features.18`` the 1x1 conv to 1280; ``classifier`` the
    1280 -> 1000 FC after global pooling.
    """
    stem = _conv(batch, "features.0", 224, 3, 32, 3, stride=2)
    layers, hw, c, index = [stem], _out(stem), 32, 1
    for t, c_out, repeats, stride in _MOBILENETV2_SETTINGS:
        for i in range(repeats):
            block, hw = _inverted_residual(
                batch, f"features.{index}", hw, c, c_out, t, stride if i == 0 else 1
            )
            layers += block
            c, index = c_out, index + 1
    layers.append(_conv(batch, f"features.{index}", hw, c, 1280, 1))
    layers.append(_linear(batch, "classifier", 1280, 1000))
    return _workload("mobilenetv2", layers)


# --------------------------------------------------------------------------- transformers


def bert_base(batch: int = 1, *, seq: int = 128) -> Workload:
    """One BERT-base encoder block (Devlin et al. 2019) on ``seq`` tokens.

    Hidden 768, 12 heads of 64, FFN 3072; Hugging Face module names without the
    ``encoder.layer.N`` prefix. Q, K, V are separate ``768 -> 768`` projections.
    """
    hidden, heads, ffn = 768, 12, 3072
    layers = [
        _linear(batch, f"attention.self.{proj}", hidden, hidden, seq)
        for proj in ("query", "key", "value")
    ]
    layers += _attention(batch, "attention.self", seq, seq, heads, hidden // heads)
    layers += [
        _linear(batch, "attention.output.dense", hidden, hidden, seq),
        _linear(batch, "intermediate.dense", hidden, ffn, seq),
        _linear(batch, "output.dense", ffn, hidden, seq),
    ]
    return _workload("bert-base", layers)


def vit_b16(batch: int = 1) -> Workload:
    """ViT-B/16 (Dosovitskiy et al. 2021) on a 224x224x3 input, timm module names.

    ``patch_embed.proj`` is the 16x16 stride-16 conv 3 -> 768 (196 patches); then 12
    blocks on 197 tokens (patches + class token), hidden 768, 12 heads of 64, fused
    ``qkv`` projection 768 -> 2304, MLP 3072; ``head`` classifies the class token only.
    """
    hidden, heads, mlp, tokens = 768, 12, 3072, 197
    embed = _conv(batch, "patch_embed.proj", 224, 3, hidden, 16, stride=16, padding=0)
    layers = [embed]
    for i in range(12):
        p = f"blocks.{i}"
        layers.append(_linear(batch, f"{p}.attn.qkv", hidden, 3 * hidden, tokens))
        layers += _attention(batch, f"{p}.attn", tokens, tokens, heads, hidden // heads)
        layers += [
            _linear(batch, f"{p}.attn.proj", hidden, hidden, tokens),
            _linear(batch, f"{p}.mlp.fc1", hidden, mlp, tokens),
            _linear(batch, f"{p}.mlp.fc2", mlp, hidden, tokens),
        ]
    layers.append(_linear(batch, "head", hidden, 1000, tokens=1))
    return _workload("vit-b16", layers)


# Llama-7B (Touvron et al. 2023, Table 2): hidden 4096, 32 heads of 128, 32 layers; SwiGLU
# MLP of 11008 (Hugging Face ``LlamaConfig``); a 32,000-token vocabulary.
_LLAMA7B_LAYERS = 32
_LLAMA7B_VOCAB = 32_000


def _llama7b_block(batch: int, tokens: int, kv_len: int, prefix: str = "") -> list[Layer]:
    """One Llama-7B decoder block: ``tokens`` new tokens attending to ``kv_len`` keys.

    Layer names are Hugging Face's module names after ``prefix`` (``"layers.3."`` in the
    whole model, nothing for the single block).
    """
    hidden, heads, head_dim, ffn = 4096, 32, 128, 11008
    layers = [
        _linear(batch, f"{prefix}self_attn.{proj}", hidden, heads * head_dim, tokens)
        for proj in ("q_proj", "k_proj", "v_proj")
    ]
    layers += _attention(batch, f"{prefix}self_attn", tokens, kv_len, heads, head_dim)
    layers += [
        _linear(batch, f"{prefix}self_attn.o_proj", heads * head_dim, hidden, tokens),
        _linear(batch, f"{prefix}mlp.gate_proj", hidden, ffn, tokens),
        _linear(batch, f"{prefix}mlp.up_proj", hidden, ffn, tokens),
        _linear(batch, f"{prefix}mlp.down_proj", ffn, hidden, tokens),
    ]
    return layers


def _llama7b_model(batch: int, tokens: int, kv_len: int) -> list[Layer]:
    """The 32 decoder blocks (``layers.0.`` .. ``layers.31.``) and the LM head.

    The LM head (``lm_head``, 4096 -> 32,000) runs on the last position only: a prefill
    needs the logits of the last prompt token to sample the first new token (serving
    engines such as vLLM compute no others), a decode step has one token anyway. The
    embedding lookup and the RMSNorms do no MACs and are left out.
    """
    layers = [
        layer
        for i in range(_LLAMA7B_LAYERS)
        for layer in _llama7b_block(batch, tokens, kv_len, prefix=f"layers.{i}.")
    ]
    layers.append(_linear(batch, "lm_head", 4096, _LLAMA7B_VOCAB, tokens=1))
    return layers


def llama7b_prefill(batch: int = 1, *, seq: int = 512) -> Workload:
    """One Llama-7B decoder block (Touvron et al. 2023) processing a ``seq``-token prompt.

    Hidden 4096, 32 heads of 128, SwiGLU MLP 4096 -> 2 x 11008 -> 4096; Hugging Face
    module names. Scores are the full ``seq x seq`` square (causal mask not exploited).
    """
    return _workload("llama7b-prefill", _llama7b_block(batch, seq, seq))


def llama7b_decode(batch: int = 1, *, kv_len: int = 2048) -> Workload:
    """One Llama-7B decoder block generating one token against a ``kv_len`` KV cache.

    Every projection runs on a single token (``m == batch``); attention is a
    ``1 x 128 @ 128 x kv_len`` product per head.
    """
    return _workload("llama7b-decode", _llama7b_block(batch, 1, kv_len))


def digits_mlp(batch: int = 1) -> Workload:
    """The digits MLP of :mod:`compress.nets` (64-300-100-10 on 8x8 images; the
    LeNet-300-100 shape): ``sparsa compress digits-mlp`` weights bind to it by name."""
    layers = [
        _linear(batch, "fc1", 64, 300),
        _linear(batch, "fc2", 300, 100),
        _linear(batch, "fc3", 100, 10),
    ]
    return _workload("digits-mlp", layers)


def digits_cnn(batch: int = 1) -> Workload:
    """The digits CNN of :mod:`compress.nets`: conv 3x3 1->16 on 8x8, 2x2 max-pool, conv
    3x3 16->32 on 4x4, 2x2 max-pool, linear 128 -> 10 (convs padded by 1)."""
    layers = [
        _conv(batch, "conv1", 8, 1, 16, 3),
        _conv(batch, "conv2", 4, 16, 32, 3),
        _linear(batch, "fc", 128, 10),
    ]
    return _workload("digits-cnn", layers)


def llama7b_full_prefill(batch: int = 1, *, seq: int = 512) -> Workload:
    """The whole Llama-7B on a ``seq``-token prompt: 32 blocks and the LM head.

    289 layers: the nine of :func:`llama7b_prefill` per block, named
    ``layers.<i>.self_attn.q_proj`` etc., then ``lm_head`` on the last token. Its latency
    is the time to first token (no queueing, no embedding lookup).
    """
    return _workload("llama7b-full-prefill", _llama7b_model(batch, seq, seq))


def llama7b_full_decode(batch: int = 1, *, kv_len: int = 2048) -> Workload:
    """The whole Llama-7B generating one token per sample against a ``kv_len`` KV cache.

    32 blocks of :func:`llama7b_decode` and the LM head; its latency is the time per
    output token, and the attention's K and V operands are the KV cache.
    """
    return _workload("llama7b-full-decode", _llama7b_model(batch, 1, kv_len))


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class ZooEntry:
    """One zoo network.

    Parameters
    ----------
    name : str
        Zoo name used in specs, e.g. ``"resnet50"``.
    description : str
        One line: the network, its source paper and its input size.
    build : callable
        ``build(batch, **params) -> Workload``.
    reference_gmacs : float
        Published or commonly cited MACs (1e9) at batch 1 with the default parameters.

    Attributes
    ----------
    params : dict of str to int
        The build parameters and their defaults, derived from ``build``'s keyword-only
        arguments so they cannot drift apart (e.g. ``{"seq": 128}``); empty when the
        network has none.
    """

    name: str
    description: str
    build: Callable[..., Workload]
    reference_gmacs: float
    params: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        defaults = {
            p.name: p.default
            for p in inspect.signature(self.build).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }
        object.__setattr__(self, "params", defaults)


ZOO: dict[str, ZooEntry] = {
    entry.name: entry
    for entry in (
        # Sze et al. 2017, "Efficient Processing of Deep Neural Networks: A Tutorial and
        # Survey", summary of popular DNNs: 666M conv + 58.6M FC = 724M MACs (two-tower).
        ZooEntry(
            "alexnet", "AlexNet two-tower (Krizhevsky et al. 2012), 227x227x3", alexnet, 0.724
        ),
        # torchvision model table (VGG16_Weights.IMAGENET1K_V1): 15.47 GFLOPS, counted as MACs.
        ZooEntry("vgg16", "VGG-16 config D (Simonyan & Zisserman 2014), 224x224x3", vgg16, 15.47),
        # torchvision model table (ResNet18_Weights.IMAGENET1K_V1): 1.81 GFLOPS (MACs).
        ZooEntry("resnet18", "ResNet-18 (He et al. 2016), 224x224x3", resnet18, 1.81),
        # torchvision model table (ResNet50_Weights.IMAGENET1K_V1, v1.5): 4.09 GFLOPS (MACs).
        ZooEntry("resnet50", "ResNet-50 v1.5 (He et al. 2016), 224x224x3", resnet50, 4.09),
        # Sandler et al. 2018, Table 4: 300M multiply-adds at width 1.0, 224x224.
        ZooEntry(
            "mobilenetv2", "MobileNetV2 1.0 (Sandler et al. 2018), 224x224x3", mobilenet_v2, 0.3
        ),
        # Narayanan et al. 2021 (Megatron-LM, SC'21): a layer with FFN 4h costs 24*s*h^2 +
        # 4*s^2*h FLOPs, i.e. 12*128*768^2 + 2*128^2*768 = 931,135,488 MACs at seq 128.
        ZooEntry(
            "bert-base", "BERT-base encoder block (Devlin et al. 2019), seq 128", bert_base, 0.931
        ),
        # torchvision model table (ViT_B_16_Weights.IMAGENET1K_V1): 17.56 GFLOPS (MACs).
        ZooEntry("vit-b16", "ViT-B/16 (Dosovitskiy et al. 2021), 224x224x3", vit_b16, 17.56),
        # Kaplan et al. 2020, Table 1: forward MACs = weight params per token + attention.
        # Llama-7B block (Touvron et al. 2023, Table 2): 4*4096^2 + 3*4096*11008 =
        # 202,375,168 weights; 512 * 202,375,168 + 2 * 512^2 * 4096 = 105.76e9 MACs.
        ZooEntry(
            "llama7b-prefill",
            "Llama-7B decoder block (Touvron et al. 2023), prefill of 512 tokens",
            llama7b_prefill,
            105.76,
        ),
        # As above for one token: 202,375,168 + 2 * 2048 * 4096 = 0.2192e9 MACs.
        ZooEntry(
            "llama7b-decode",
            "Llama-7B decoder block (Touvron et al. 2023), 1 token, KV cache 2048",
            llama7b_decode,
            0.2192,
        ),
        # 64*300 + 300*100 + 100*10 = 50,200 MACs (compress.nets.MLP).
        ZooEntry(
            "digits-mlp", "digits MLP 64-300-100-10 (compress.nets), 8x8x1", digits_mlp, 50.2e-6
        ),
        # 64*9*16 + 16*9*16*32 + 128*10 = 9,216 + 73,728 + 1,280 = 84,224 MACs.
        ZooEntry(
            "digits-cnn", "digits CNN 2 conv + fc (compress.nets), 8x8x1", digits_cnn, 84.224e-6
        ),
        # 32 of the prefill block above plus the LM head on the last token:
        # 32 * 105,763,569,664 + 4096 * 32,000 = 3,384.57e9 MACs.
        ZooEntry(
            "llama7b-full-prefill",
            "Llama-7B, 32 blocks + LM head (Touvron et al. 2023), prefill of 512 tokens",
            llama7b_full_prefill,
            3384.57,
        ),
        # 32 decode blocks plus the LM head: 32 * 219,152,384 + 131,072,000 = 7.144e9 MACs,
        # i.e. the 6.607e9 matmul weights (the published 6.74e9 parameters less the
        # 131e6-entry embedding table and the norms) plus 0.537e9 attention MACs.
        ZooEntry(
            "llama7b-full-decode",
            "Llama-7B, 32 blocks + LM head (Touvron et al. 2023), 1 token, KV cache 2048",
            llama7b_full_decode,
            7.144,
        ),
    )
}


def zoo_names() -> tuple[str, ...]:
    """The zoo names, in registry order."""
    return tuple(ZOO)


def _parse_params(entry: ZooEntry, text: str) -> dict[str, int]:
    """Parse ``"key=value,key=value"`` against ``entry.params``; values are positive ints."""
    allowed = ", ".join(entry.params) if entry.params else "none"
    params: dict[str, int] = {}
    for item in text.split(","):
        key, sep, value = (part.strip() for part in item.partition("="))
        if not sep or not key:
            raise WorkloadError(
                f"zoo network {entry.name!r}: parameter {item.strip()!r} must look like "
                f"'key=value'; parameters: {allowed}"
            )
        if key not in entry.params:
            raise WorkloadError(
                f"zoo network {entry.name!r} has no parameter {key!r} (given {key}={value}); "
                f"parameters: {allowed}"
            )
        try:
            number = int(value)
        except ValueError:
            number = 0
        if number < 1:
            raise WorkloadError(
                f"zoo network {entry.name!r}: parameter {key!r} must be a positive "
                f"integer, not {value!r}"
            )
        if key in params:
            raise WorkloadError(f"zoo network {entry.name!r}: parameter {key!r} given twice")
        params[key] = number
    return params


def zoo_workload(spec: str, batch: int = 1) -> Workload:
    """Build the zoo network named by ``spec`` at ``batch`` samples per inference.

    Parameters
    ----------
    spec : str
        A zoo name (see :func:`zoo_names`), optionally followed by ``:`` and
        comma-separated integer parameters: ``"llama7b-decode:kv_len=4096"``.
    batch : int
        Positive batch size; multiplies GEMM ``m`` (or the matmul count).

    Returns
    -------
    Workload
        Named ``spec`` as given, with ``source == "zoo"``.

    Raises
    ------
    WorkloadError
        For an unknown name (with the closest match), an unknown parameter, or a
        parameter value or batch that is not a positive integer.
    """
    if not isinstance(spec, str):
        raise WorkloadError(f"zoo spec must be a string like 'resnet50', not {spec!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise WorkloadError(f"zoo {spec!r}: batch must be a positive integer, not {batch!r}")
    name, sep, param_text = spec.partition(":")
    name = name.strip()
    entry = ZOO.get(name)
    if entry is None:
        close = difflib.get_close_matches(name, ZOO, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise WorkloadError(f"unknown zoo network {name!r}{hint}; known networks: {', '.join(ZOO)}")
    params = _parse_params(entry, param_text) if sep else {}
    try:
        workload = entry.build(batch, **params)
    except WorkloadError as exc:  # a layer too large for the model (MAX_MACS)
        given = ", ".join(f"{k}={v}" for k, v in {"batch": batch, **params}.items())
        raise WorkloadError(f"zoo network {name!r} with {given}: {exc}") from None
    return Workload(name=spec, layers=workload.layers, source="zoo")
