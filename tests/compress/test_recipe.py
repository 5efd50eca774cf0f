"""Recipe strings and YAML: parsing, validation and error messages."""

from __future__ import annotations

import pytest

from compress.errors import InputError
from compress.minifloat import E4M3
from compress.mx import MXFP4
from compress.quant import Granularity
from compress.recipe import (
    FloatStep,
    HuffmanStep,
    IntStep,
    KMeansStep,
    LowRankStep,
    MVQStep,
    MXStep,
    PoolStep,
    PruneStep,
    load_recipe,
    parse_recipe,
)


def steps(text):
    return parse_recipe(text).default.steps


def test_the_issue_examples():
    prune, quant = steps("prune 2:4 -> int8 per-channel")
    assert prune == PruneStep("nm", nm=(2, 4))
    assert quant.spec.bits == 8 and quant.spec.granularity is Granularity.CHANNEL
    prune, kmeans, huffman = steps("prune 90% -> kmeans 5 bit -> huffman")
    assert prune.method == "magnitude" and prune.amount == pytest.approx(0.9)
    assert kmeans == KMeansStep(5) and huffman == HuffmanStep()
    (pool,) = steps("pool v=8 P=64")
    assert isinstance(pool, PoolStep) and pool.spec.index_bits == 6 and pool.reassign == 1
    (pool,) = steps("pool v=4 P=256 metric=cosine scale=layer reassign=3")
    assert (pool.spec.vector_length, pool.spec.pool_size, pool.reassign) == (4, 256, 3)
    assert (pool.spec.metric, pool.spec.scale) == ("cosine", "layer")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prune 0.5 global", PruneStep("global", amount=0.5)),
        ("prune channel 25% l2", PruneStep("channel", amount=0.25, norm="l2")),
        ("prune 90% index=rel5", PruneStep("magnitude", amount=0.9, index="relative", gap_bits=5)),
        ("prune 80% global rounds=4", PruneStep("global", amount=0.8, rounds=4)),
        ("prune 4:8 meta=minimal", PruneStep("nm", nm=(4, 8), meta="minimal")),
        ("e4m3 per-tensor", FloatStep("e4m3", "tensor")),
        ("fp8 e5m2 unscaled", FloatStep("e5m2", "none")),
        ("mxfp4", MXStep(MXFP4)),
        ("mx fp4", MXStep(MXFP4)),
        ("kmeans bits=4", KMeansStep(4)),
        ("kmeans 6bit", KMeansStep(6)),
        ("lowrank energy=0.9", LowRankStep(energy=0.9)),
        ("lowrank ratio=0.3", LowRankStep(ratio=0.3)),
    ],
)
def test_single_steps(text, expected):
    assert steps(text)[-1] == expected


def test_int_options():
    (step,) = steps("int4 affine per-group 32 full")
    assert isinstance(step, IntStep)
    spec = step.spec
    assert (spec.bits, spec.symmetric, spec.granularity, spec.group_size, spec.restricted) == (
        4, False, Granularity.GROUP, 32, False,
    )  # fmt: skip
    assert steps("int8 group=16")[0].spec.group_size == 16
    assert steps("int8 per-tensor")[0].spec.granularity is Granularity.TENSOR


def test_mvq_and_none():
    assert steps("prune 2:4 -> mvq 8bit v=16")[1] == MVQStep(8, 16)
    assert steps("none") == ()
    assert FloatStep("e4m3").format == E4M3.name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prune 5:4", "step 1 'prune 5:4': N:M pattern 5:4: N must be <= M"),
        ("prune 2:4 -> int17", "step 2 'int17': .*from 2 to 16, not 17"),
        ("int1", "from 2 to 16, not 1"),
        ("pool v=8 P=48", "power of two from 2 to 65536, not 48"),
        ("prune 100%", r"fraction in \[0, 1\)"),
        ("prune", "needs an amount"),
        ("kmeans", "needs a width"),
        ("int8 per-group", "needs a group size"),
        ("fp8", "e4m3 or e5m2"),
        ("mx fp3", "unknown MX format 'mxfp3'"),
        ("lowrank", "exactly one of energy"),
        ("pool reassign=-1", "reassign must be an integer >= 0"),
        ("prune 50% rounds=0", "rounds must be a positive integer"),
        ("int8 banana", "unexpected 'banana'"),
        ("int8 -> prune 2:4", "prune is out of place"),
        ("int8 -> kmeans 4bit", "kmeans is out of place"),
        ("huffman", "huffman needs integer codes"),
        ("mvq 8bit", "mvq needs a prune step"),
        ("prune 2:4 -> lowrank energy=0.9", "cannot be combined"),
        ("prune 2:4 ->", "empty step"),
    ],
)
def test_errors_name_the_step(text, message):
    with pytest.raises(ValueError, match=message):
        parse_recipe(text)


def test_unknown_kind_lists_the_valid_kinds():
    with pytest.raises(ValueError) as info:
        parse_recipe("prune 2:4 -> sparsify 3")
    message = str(info.value)
    assert "step 2 'sparsify 3': unknown step kind 'sparsify'" in message
    for kind in ("prune", "int2..int16", "e4m3", "mxfp4", "kmeans", "pool", "mvq", "huffman"):
        assert kind in message


def test_yaml_with_per_layer_overrides(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text(
        "steps: prune 90% -> kmeans 5bit -> huffman\n"
        "layers:\n  fc3: [kmeans 6bit, huffman]\n  fc1: none\n"
    )
    recipe = load_recipe(path)
    assert recipe.for_layer("fc2").value == KMeansStep(5)
    assert recipe.for_layer("fc3").value == KMeansStep(6) and recipe.for_layer("fc3").huffman
    assert recipe.for_layer("fc1").steps == ()
    inline = load_recipe("steps: [int8]\nlayers: {fc: int4}")
    assert inline.for_layer("fc").value.spec.bits == 4


def test_yaml_errors(tmp_path):
    with pytest.raises(InputError, match="recipe file .*missing.yaml does not exist"):
        load_recipe(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("step: int8\n")
    with pytest.raises(ValueError, match="unknown keys \\['step'\\]"):
        load_recipe(bad)
    bad.write_text("steps: int8\nlayers: {fc1: int99}\n")
    with pytest.raises(ValueError, match="layer 'fc1' step 1 'int99'"):
        load_recipe(bad)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("prune 1e-1", PruneStep("magnitude", amount=0.1)),
        ("prune 2.5%", PruneStep("magnitude", amount=0.025)),
        ("prune 50% rounds=1e1", PruneStep("magnitude", amount=0.5, rounds=10)),
        ("lowrank ratio=2.5e-1", LowRankStep(ratio=0.25)),
    ],
)
def test_numbers_in_any_notation(text, expected):
    assert steps(text) == (expected,)


@pytest.mark.parametrize(
    "text",
    [
        "prune 90% index=rel99",  # check_gap_bits
        "prune 2:4 -> mvq 3bit v=0",  # MVQStep
        "lowrank ratio=inf",  # LowRankStep
        "int8 per-group -3",  # IntSpec
        "pool v=300",  # PoolSpec
        "prune 2:0",  # NMPattern
    ],
)
def test_constructor_refusals_reach_the_user_with_the_recipe_text(text):
    with pytest.raises(InputError) as info:
        parse_recipe(text)
    assert f"recipe {text!r} step " in str(info.value)


def test_steps_validate_when_constructed():
    with pytest.raises(ValueError, match="mvq v must be an integer from 1 to 256"):
        MVQStep(4, 0)
    with pytest.raises(ValueError, match="exactly one of energy"):
        LowRankStep(energy=0.5, ratio=0.5)
    with pytest.raises(ValueError, match="lowrank energy must be in"):
        LowRankStep(energy=float("nan"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{steps: [prune 2:4", "is not valid YAML"),
        ("{steps: [prune 2:4, int8]}", None),
        ("[prune 2:4, int8]", "not a list"),
        ("steps:", "steps = None: must be a step string"),
        ("steps: [5]", "steps = [5]: must be"),
        ("steps: int8\nlayers: 3", "layers = 3: must map layer names"),
    ],
)
def test_the_yaml_form(text, message):
    if message is None:
        assert load_recipe(text).default.value == IntStep(load_recipe("int8").default.value.spec)
        return
    with pytest.raises(InputError, match="recipe ") as info:
        load_recipe(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "not an empty document"),
        ("int8\n", "not a str ('int8')"),
        ("- int8\n", "not a list"),
        ("a: &a [1]\nb: *a\nc: [", "is not valid YAML"),
    ],
)
def test_recipe_files_must_be_mappings(tmp_path, content, message):
    path = tmp_path / "r.yml"
    path.write_text(content)
    with pytest.raises(InputError, match=f"recipe file {path}") as info:
        load_recipe(path)
    assert message in str(info.value)


def test_overrides_must_name_the_weights():
    recipe = load_recipe("steps: int8\nlayers: {fc1: int4, conv.weight: none}")
    plan = recipe.plan(["fc1.weight", "conv.weight"])
    assert plan["fc1.weight"].value.spec.bits == 4 and plan["conv.weight"].steps == ()
    with pytest.raises(InputError, match="layer 'fc3' is not among the weights .*fc1, conv"):
        load_recipe("steps: int8\nlayers: {fc3: int4}").plan(["fc1.weight", "conv.weight"])
    many = [f"l{i}.weight" for i in range(20)]
    with pytest.raises(InputError, match="l11 and 8 more"):
        load_recipe("steps: int8\nlayers: {zz: int4}").plan(many)
