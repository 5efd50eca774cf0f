"""``sparsa run``: one command from a model and a recipe to a verdict on two accelerators,
with the same numbers as ``sparsa compress`` and ``sparsa simulate --compressed`` run
separately. Fine-tuning is one epoch per stage here (the figures are compared, not
judged), which keeps each run to a few seconds, most of it training the digits MLP."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from tests.bad_inputs.harness import run_cli

RECIPE = "prune 2:4 -> int8 per-channel"
pytestmark = pytest.mark.usefixtures("trained_once")  # the digits MLP trained once here
FIXED_KEYS = (
    "accuracy_before",
    "accuracy_after",
    "storage_ratio_fp32",
    "speedup",
    "energy_ratio",
    "area_mm2",
)


def run(capsys, *argv):
    return run_cli(capsys, argv)  # argparse's usage errors exit with status 2 too


@pytest.fixture
def accels(tmp_path):
    nm = tmp_path / "nm.yaml"
    nm.write_text("name: small-nm\nrows: 16\ncols: 16\npe_kind: nm\nnm_patterns: ['2:4']\n")
    dense = tmp_path / "dense.yaml"
    dense.write_text("name: small-dense\nrows: 16\ncols: 16\n")
    return nm, dense


def test_run_equals_compress_and_simulate_run_separately(capsys, tmp_path, accels):
    nm, dense = accels
    code, _, err = run(capsys, "compress", "--model", "digits-mlp", "--recipe", RECIPE,
                       "--finetune", 1, "--out", tmp_path / "c")  # fmt: skip
    assert code == 0, err
    code, _, err = run(capsys, "simulate", "--accel", nm, "--compressed", tmp_path / "c",
                       "--out", tmp_path / "s")  # fmt: skip
    assert code == 0, err
    code, out, err = run(capsys, "run", "--model", "digits-mlp", "--recipe", RECIPE,
                         "--finetune", 1, "--accel", nm, "--accel", dense,
                         "--out", tmp_path / "r")  # fmt: skip
    assert code == 0, err
    record = json.loads((tmp_path / "r" / "run.json").read_text())
    summary = json.loads((tmp_path / "c" / "summary.json").read_text())
    assert json.loads((tmp_path / "r" / "summary.json").read_text()) == summary
    separate = json.loads((tmp_path / "s" / "result.json").read_text())["total"]
    assert [a["name"] for a in record["accelerators"]] == ["small-nm", "small-dense"]
    for accel in record["accelerators"]:
        assert all(accel[key] is not None for key in FIXED_KEYS)
        assert accel["accuracy_before"] == summary["accuracy"]["before"]
        assert accel["accuracy_after"] == summary["accuracy"]["after"]
        assert accel["storage_ratio_fp32"] == summary["total"]["ratio_vs_fp32"]
        own = json.loads((tmp_path / "r" / accel["result"]).read_text())["total"]
        assert accel["cycles"] == own["cycles"]["total"]
        assert accel["speedup"] == own["speedup"] and accel["energy_ratio"] == own["energy_ratio"]
        assert accel["area_mm2"] == own["area_mm2"]
    on_nm = record["accelerators"][0]
    bound = json.loads((tmp_path / "r" / on_nm["result"]).read_text())
    assert bound["total"] == separate  # the same cycles, traffic, energy, area, baseline
    assert on_nm["cycles"] == separate["cycles"]["total"]
    assert on_nm["speedup"] > 1.5 and on_nm["energy_ratio"] < 1
    on_dense = record["accelerators"][1]
    assert on_dense["speedup"] == pytest.approx(1, abs=0.01)  # 2:4 runs dense there
    assert on_dense["baseline_area_mm2"] == on_dense["area_mm2"] < on_nm["area_mm2"]
    assert record["best"] == {
        "fastest": "small-nm", "least_energy": "small-nm", "smallest": "small-dense"
    }  # fmt: skip
    report = (tmp_path / "r" / "report.md").read_text()
    assert "small-nm" in report and "small-dense" in report and "speed-up" in report
    assert (tmp_path / "r" / "comparison.png").stat().st_size > 10_000
    assert (tmp_path / "r" / "small-nm" / "report.md").is_file()
    assert "small-nm: " in out and "x fp32" in out


def test_a_weights_file_that_matches_no_network_needs_its_workload(capsys, tmp_path, accels):
    rng = np.random.default_rng(0)
    weights = tmp_path / "w.npz"
    np.savez(weights, **{"proj.weight": rng.normal(size=(64, 128)).astype(np.float32)})
    code, _, err = run(capsys, "run", "--model", weights, "--recipe", RECIPE,
                       "--accel", accels[0], "--out", tmp_path / "no")  # fmt: skip
    assert code == 2 and "give the workload" in err and err.count("\n") == 1
    layers = tmp_path / "layers.yaml"
    layers.write_text(
        "name: one\nlayers:\n  - {name: proj, linear: {in_features: 128, out_features: 64, "
        "tokens: 16}}\n"
    )
    code, _, err = run(capsys, "run", "--model", weights, "--recipe", RECIPE, "--workload",
                       layers, "--accel", accels[0], "--out", tmp_path / "yes")  # fmt: skip
    assert code == 0, err
    accel = json.loads((tmp_path / "yes" / "run.json").read_text())["accelerators"][0]
    assert accel["accuracy_before"] is None and accel["accuracy_after"] is None
    assert accel["layers"]["proj"]["runs_as"] == "nm" and accel["speedup"] > 1
    code, _, err = run(capsys, "run", "--model", weights, "--recipe", RECIPE, "--workload",
                       layers, "--finetune", 2, "--accel", accels[0],
                       "--out", tmp_path / "ft")  # fmt: skip
    assert code == 2 and "need a known network and data" in err


def test_an_onnx_model_is_its_own_workload(capsys, tmp_path, accels):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    sizes = (64, 96, 32)
    nodes, inits = [], []
    previous = "x"
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
        weight = rng.normal(size=(fan_out, fan_in)).astype(np.float32)
        inits.append(numpy_helper.from_array(weight, f"w{i}"))
        nodes.append(helper.make_node("Gemm", [previous, f"w{i}"], [f"h{i}"], name=f"fc{i}",
                                      transB=1))  # fmt: skip
        previous = f"h{i}"
    graph = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 64])],
        [helper.make_tensor_value_info(previous, TensorProto.FLOAT, [8, 32])], inits,
    )  # fmt: skip
    path = tmp_path / "mlp.onnx"
    onnx.save(helper.make_model(graph), path)
    code, _, err = run(capsys, "run", "--model", path, "--recipe", RECIPE, "--accel",
                       accels[0], "--out", tmp_path / "r")  # fmt: skip
    assert code == 0, err
    record = json.loads((tmp_path / "r" / "run.json").read_text())
    accel = record["accelerators"][0]
    assert list(accel["layers"]) == ["fc0", "fc1"]
    assert all(layer["runs_as"] == "nm" for layer in accel["layers"].values())
    assert accel["accuracy_after"] is None and accel["speedup"] > 1
    assert record["compression"]["storage_ratio_fp32"] > 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "digits-mlp", "--recipe", "prune 5:4"], "N must be <= M"),
        (["--model", "vgg.bin", "--recipe", "int8"], "not a built-in model"),
        (["--model", "digits-mlp", "--recipe", "int8", "--accel", "missing.yaml"],
         "does not exist"),
    ],
)  # fmt: skip
def test_errors_are_one_line(capsys, tmp_path, accels, args, message):
    argv = ["run", *args, "--out", tmp_path / "x"]
    if "--accel" not in args:
        argv += ["--accel", accels[0]]
    code, _, err = run(capsys, *argv)
    assert code == 2 and message in err and err.count("\n") == 1
