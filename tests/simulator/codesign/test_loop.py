"""run_codesign: one folder per accelerator (named after it), the integer model at each
array's widths, and a report that renders from run.json and summary.json alone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from compress import integer_network
from simulator import AcceleratorConfig
from simulator.codesign import load_model_input, render_run_markdown, run_codesign

pytestmark = pytest.mark.usefixtures("trained_once")
RECIPE = "prune 2:4 -> int8 per-channel"


@pytest.fixture(scope="module")
def run(tmp_path_factory, trained_once):
    source = load_model_input("digits-mlp")
    wide = AcceleratorConfig(name="arr", rows=8, cols=8, pe_kind="nm", nm_patterns=["2:4"])
    narrow = wide.replace(accumulator_bits=14, accumulator_overflow="saturate")
    out = tmp_path_factory.mktemp("loop")
    return run_codesign(source, RECIPE, [wide, narrow], out, activations="int8"), source


def test_each_accelerator_gets_its_own_folder(run):
    result, _ = run
    assert [a.folder for a in result.accelerators] == ["arr", "arr-2"]
    for accel in result.accelerators:
        assert (result.out / accel.folder / "result.json").is_file()
        assert (result.out / accel.folder / "report.md").is_file()
    assert {p.name for p in result.written} >= {"run.json", "report.md", "comparison.png",
                                                 "compressed.npz", "summary.json"}  # fmt: skip


def test_the_integer_model_runs_at_each_arrays_accumulator(run):
    result, source = run
    accuracies = []
    for accel, bits, overflow in zip(result.accelerators, (32, 14), ("wrap", "saturate"),
                                     strict=True):  # fmt: skip
        network = integer_network(result.model, accumulator_bits=bits, overflow=overflow)
        expected = np.mean(network.run(source.data.x_test).predictions == source.data.y_test)
        assert accel.accuracy_integer == expected
        assert f"{bits}-bit {overflow}" in accel.integer_note
        accuracies.append(accel.accuracy_integer)
    assert accuracies[0] > 0.8  # 2:4 without fine-tuning


def test_without_quantized_activations_there_is_no_integer_accuracy(tmp_path):
    source = load_model_input("digits-mlp")
    config = AcceleratorConfig(name="d", rows=4, cols=4)
    result = run_codesign(source, "int8 per-channel", [config], tmp_path)
    accel = result.accelerators[0]
    assert accel.accuracy_integer is None and "not quantized" in accel.integer_note
    assert accel.speedup == pytest.approx(1, abs=0.05) and accel.area_ratio == 1


def test_the_report_renders_from_the_run_files(run):
    result, _ = run
    data = json.loads((result.out / "run.json").read_text())
    summary = json.loads((result.out / "summary.json").read_text())
    assert render_run_markdown(data, summary) == (result.out / "report.md").read_text()
    assert data["accelerators"][1]["accuracy_integer"] == result.accelerators[1].accuracy_integer


def test_no_accelerator_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="at least one accelerator"):
        run_codesign("digits-mlp", RECIPE, [], tmp_path)
