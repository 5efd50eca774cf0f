"""``sparsa compress``: files written, table printed, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from compress.codec import decode
from compress.io import load_compressed
from tests.bad_inputs.harness import run_cli


def run(capsys, *argv):
    return run_cli(capsys, argv)  # argparse's usage errors exit with status 2 too


def test_compress_builtin_model_writes_npz_and_summary(capsys, tmp_path):
    code, out, err = run(
        capsys, "compress", "--model", "digits-mlp", "--recipe",
        "prune 90% -> kmeans 5bit -> huffman", "--out", str(tmp_path),
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert [layer["name"] for layer in summary["layers"]] == [
        "fc1.weight", "fc2.weight", "fc3.weight",
    ]  # fmt: skip
    assert set(summary["layers"][0]["storage_bits"]) == {
        "values", "index", "codebook", "scales", "total",
    }  # fmt: skip
    assert summary["total"]["ratio_vs_fp32"] > 15
    assert summary["accuracy"]["before"] > 0.95 and summary["accuracy"]["after"] is not None
    model = load_compressed(tmp_path / "compressed.npz")
    for ct in model.tensors.values():
        np.testing.assert_array_equal(decode(ct), ct.values)
    assert "fc2.weight" in out and "x fp32" in out and "accuracy" in out


def test_compress_user_npz_without_known_network(capsys, tmp_path):
    weights = tmp_path / "w.npz"
    np.savez(weights, **{"proj.weight": np.random.default_rng(0).normal(size=(32, 64))})
    code, _, err = run(
        capsys, "compress", "--model", str(weights), "--recipe", "mxfp4", "--out", str(tmp_path)
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["accuracy"] == {"before": None, "after": None}
    assert summary["layers"][0]["value_format"] == "mxfp4"
    assert summary["layers"][0]["bits_per_weight"] == pytest.approx(4 + 8 / 32)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "digits-mlp", "--recipe", "prune 5:4"], "N must be <= M"),
        (["--model", "digits-mlp", "--recipe", "squash 3"], "unknown step kind 'squash'"),
        (["--model", "vgg.bin", "--recipe", "int8"], "not a built-in model"),
        (["--model", "missing.npz", "--recipe", "int8"], "does not exist"),
    ],
)
def test_bad_input_is_one_line(capsys, tmp_path, args, message):
    code, _, err = run(capsys, "compress", *args, "--out", str(tmp_path))
    assert code == 2
    assert err.startswith("sparsa: error: ") and message in err
    assert err.count("\n") == 1


def test_finetune_needs_a_known_network(capsys, tmp_path):
    weights = tmp_path / "w.npz"
    np.savez(weights, w=np.ones((4, 4)))
    code, _, err = run(capsys, "compress", "--model", str(weights), "--recipe", "int8",
                       "--finetune", "2", "--out", str(tmp_path))  # fmt: skip
    assert code == 2 and "--finetune and --activations need a known network" in err
