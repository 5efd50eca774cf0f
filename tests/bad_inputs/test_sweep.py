"""Bad sweep specs, constraints, sampling and ``sparsa sweep`` / ``sparsa plot-sweep``
options: each one line ``sparsa: error:`` naming the key, the value and what is allowed."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest

from simulator.sweep.lock import LOCK_FILE
from simulator.sweep.store import write_table
from tests.bad_inputs.harness import assert_one_line_error, run_cli

HEAD = "base: {rows: 8, cols: 8}\nworkloads: [alexnet]\n"
AXES = "axes: {rows: [8, 16]}\n"
CHEAP = "pe:\n  gated_mac: {value: 0.01, unit: pJ, source: a test figure}\n"


def spec_case(case_id: str, text: str, fragment: str, files: dict | None = None):
    return pytest.param(text, files or {}, fragment, id=case_id)


SPECS = [
    # The shape of the file and of its keys.
    spec_case("scalar-spec", "42\n", "must hold a YAML mapping (key: value lines) at the top"),
    spec_case("list-spec", "- rows\n- cols\n", "at the top level, not a list"),
    spec_case("invalid-yaml", "axes: {rows: [8\n", "is not valid YAML"),
    spec_case("unknown-key", HEAD + AXES + "colour: red\n", "unknown spec key 'colour'"),
    spec_case("name-list", HEAD + AXES + "name: [a]\n", "name must be a string, not ['a']"),
    spec_case("base-list", "base: [1]\nworkloads: [alexnet]\n" + AXES, "base must be a config"),
    spec_case("base-missing", "base: nothere.yaml\nworkloads: [alexnet]\n" + AXES,
              "nothere.yaml does not exist"),
    spec_case("axes-list", HEAD + "axes: [rows]\n", "axes must be a non-empty mapping"),
    spec_case("axis-name", HEAD + "axes: {name: [a, b]}\n", "axis 'name': not a sweepable"),
    spec_case("workload-number", "base: {rows: 8, cols: 8}\nworkloads: [3]\n" + AXES,
              "workloads: each entry must be a zoo name or a workload file, not 3"),
    spec_case("workload-mapping", "base: {rows: 8, cols: 8}\nworkloads: [{a: 1}]\n" + AXES,
              "workloads: each entry must be a zoo name or a workload file, not {'a': 1}"),
    spec_case("workload-file-missing", "base: {rows: 8, cols: 8}\nworkloads: [net.csv]\n" + AXES,
              "net.csv does not exist"),
    spec_case("workload-repeated", "base: {rows: 8, cols: 8}\nworkloads: [alexnet, alexnet]\n"
              + AXES, "workloads: repeated entries"),
    spec_case("batch-zero", HEAD + AXES + "batch: 0\n", "batch must be an integer >= 1, not 0"),
    spec_case("batch-fraction", HEAD + AXES + "batch: 2.5\n", "batch must be an integer"),
    spec_case("chunk-size-zero", HEAD + AXES + "chunk_size: 0\n", "chunk_size must be an integer"),
    spec_case("chunk-size-huge", HEAD + AXES + "chunk_size: 1e9\n",
              "chunk_size must be at most 100,000, not 1,000,000,000"),
    # Axis values of the wrong type, in lists, ranges and bundles.
    spec_case("int-axis-string", HEAD + "axes: {rows: [a, 8]}\n",
              "axis 'rows': value 'a' must be an integer from 1"),
    spec_case("int-axis-fraction", HEAD + "axes: {rows: [8.5]}\n", "axis 'rows': value 8.5"),
    spec_case("float-axis-string", HEAD + "axes: {clock_mhz: [fast, 200]}\n",
              "axis 'clock_mhz': value 'fast' must be a number from 0.001 to 100000"),
    spec_case("choice-axis-number", HEAD + "axes: {dataflow: [1, 2]}\n",
              "axis 'dataflow': value 1 must be one of os, ws, is"),
    spec_case("bool-axis-number", HEAD + "axes: {zero_gating: [0, 1]}\n",
              "axis 'zero_gating': value 0 must be true or false"),
    spec_case("range-bound-string", HEAD + "axes: {rows: {range: [a, 8], step: 1}}\n",
              "axis 'rows': a range bound must be a number, not 'a'"),
    spec_case("range-on-text-field", HEAD + "axes: {dataflow: {range: [1, 3]}}\n",
              "a range needs a numeric field"),
    spec_case("range-bound-beyond-int64", HEAD + "sampling: {method: lhs, samples: 4}\n"
              "axes: {rows: {range: [1, 1e300]}}\n", "range bound 1e+300 is not a 64-bit integer"),
    spec_case("range-bound-nan", HEAD + "sampling: {method: lhs, samples: 4}\n"
              "axes: {clock_mhz: {range: [.nan, 900]}}\n", "must be a finite number, not nan"),
    spec_case("step-string", HEAD + "axes: {rows: {range: [1, 8], step: a}}\n",
              "axis 'rows': step must be a number, not 'a'"),
    spec_case("step-negative", HEAD + "axes: {rows: {range: [1, 8], step: -1}}\n",
              "axis 'rows': step must be a positive number, not -1"),
    spec_case("num-string", HEAD + "axes: {rows: {range: [1, 8], num: many}}\n",
              "axis 'rows': num must be an integer >= 2, not 'many'"),
    spec_case("lhs-range-string", HEAD + "sampling: {method: lhs, samples: 10}\n"
              "axes: {clock_mhz: {range: [a, 900]}}\n", "axis 'clock_mhz': a range bound"),
    spec_case("bundle-label-list", HEAD + "axes: {array: [{label: [1, 2], rows: 4}, {rows: 8}]}\n",
              "axis 'array': label must be a string or a number, not [1, 2]"),
    spec_case("bundle-unknown-field", HEAD + "axes: {array: [{label: a, rowz: 4}]}\n",
              "axis 'array': 'rowz' is not a sweepable config field"),
    spec_case("bundle-bad-value", HEAD + "axes: {array: [{label: a, rows: many}]}\n",
              "axis 'array': value 'a': accelerator field 'rows' = 'many'"),
    spec_case("nm-pattern-numbers", HEAD + "axes: {nm_patterns: [[2, 4]]}\n",
              "axis 'nm_patterns': value [2, 4] N:M pattern must look like 'N:M'"),
    # Sizes refused before anything is allocated.
    spec_case("range-of-a-trillion-values", HEAD + "axes: {rows: {range: [1, 100], num: 1e12}}\n",
              "the range gives 1,000,000,000,000 values; at most 100,000 per axis"),
    spec_case("grid-of-1e14-points", HEAD + "axes:\n"
              "  rows: {range: [1, 10000], step: 1}\n  cols: {range: [1, 10000], step: 1}\n"
              "  clock_mhz: {range: [100, 1000], num: 1000}\n"
              "  dram_bytes_per_cycle: {range: [1, 64], num: 1000}\n",
              "the grid has 100,000,000,000,000 points (rows 10,000 x cols 10,000 x clock_mhz "
              "1,000 x dram_bytes_per_cycle 1,000); at most 10,000,000 are allowed"),
    spec_case("samples-too-many", HEAD + "sampling: {method: lhs, samples: 2e7}\n"
              "axes: {clock_mhz: {range: [100, 900]}}\n",
              "samples 20,000,000 is more than the 10,000,000 points"),
    # Sampling.
    spec_case("sampling-list", HEAD + AXES + "sampling: [grid]\n", "sampling must be a mapping"),
    spec_case("sampling-method", HEAD + AXES + "sampling: {method: sobol}\n",
              "sampling method must be one of grid, random, lhs, not 'sobol'"),
    spec_case("samples-missing", HEAD + "sampling: {method: lhs}\n"
              "axes: {clock_mhz: {range: [100, 900]}}\n", "sampling: lhs needs samples"),
    spec_case("samples-fraction", HEAD + "sampling: {method: lhs, samples: 2.5}\n"
              "axes: {clock_mhz: {range: [100, 900]}}\n",
              "sampling: lhs samples must be an integer >= 1, not 2.5"),
    spec_case("samples-string", HEAD + "sampling: {method: random, samples: lots}\n"
              "axes: {clock_mhz: {range: [100, 900]}}\n", "samples must be an integer >= 1"),
    spec_case("seed-negative", HEAD + "sampling: {method: lhs, samples: 4, seed: -1}\n"
              "axes: {clock_mhz: {range: [100, 900]}}\n",
              "sampling: seed must be an integer >= 0, not -1"),
    spec_case("grid-continuous", HEAD + "axes: {clock_mhz: {range: [100, 900]}}\n",
              "axis 'clock_mhz': grid sampling needs values, a step or num"),
    # Constraints: types checked when the spec is read.
    spec_case("constraint-text-vs-number", HEAD + AXES + "constraints: ['dataflow < 3']\n",
              "constraint 'dataflow < 3': compares dataflow (a string) with 3 (a number)"),
    spec_case("constraint-number-vs-text", HEAD + AXES + "constraints: ['rows < \"a\"']\n",
              "compares rows (a number) with 'a' (a string)"),
    spec_case("constraint-text-arithmetic", HEAD + AXES + "constraints: ['dataflow * 2 == 4']\n",
              "arithmetic needs numbers, and dataflow (a string) is not one"),
    spec_case("constraint-text-order", HEAD + AXES + "constraints: ['dataflow < \"ws\"']\n",
              "strings compare only with == or !="),
    spec_case("constraint-unknown-choice", HEAD + AXES + "constraints: ['dataflow == \"xs\"']\n",
              "dataflow is one of os, ws, is, never 'xs'"),
    spec_case("constraint-not-text", HEAD + AXES + "constraints: [3]\n",
              "constraints: entry 1 must be an expression in quotes"),
    spec_case("constraint-mapping", HEAD + AXES + "constraints: [{rows: 8}]\n",
              "constraints: entry 1 must be an expression in quotes"),
    spec_case("constraint-not-a-list", HEAD + AXES + "constraints: {rows: 8}\n",
              "constraints must be a list of expressions"),
    spec_case("constraint-inexact-integer", HEAD + AXES
              + "constraints: ['macs == 9007199254740993']\n", "has no exact float64 value"),
    spec_case("constraint-unknown-name", HEAD + AXES + "constraints: ['colour < 3']\n",
              "unknown name 'colour'"),
    spec_case("constraints-keep-nothing", HEAD + AXES + "constraints: ['rows > 64']\n",
              "the constraints keep none of the 2 points ('rows > 64' keeps 0)"),
    # Energy tables and override files.
    spec_case("two-energy-units", HEAD + "axes: {energy_table: [horowitz45, eyeriss]}\n",
              "axis 'energy_table': energy tables horowitz45 (pJ) and eyeriss (MAC16) price "
              "energy in different units"),
    spec_case("two-energy-units-in-a-bundle", HEAD + "axes:\n  tables:\n    - {label: a}\n"
              "    - {label: b, energy_table: eyeriss}\n",
              "axis 'tables': energy tables horowitz45 (pJ) and eyeriss (MAC16)"),
    spec_case("two-energy-units-base-and-axis", "base: {rows: 8, cols: 8, energy_table: eyeriss}\n"
              "workloads: [alexnet]\naxes:\n  tables:\n    - {label: a}\n"
              "    - {label: b, energy_table: horowitz45}\n",
              "energy tables eyeriss (MAC16) and horowitz45 (pJ)"),
    spec_case("override-missing", HEAD + "axes: {energy_overrides: [cheap.yaml, gone.yaml]}\n",
              "axis 'energy_overrides': energy_overrides file", {"cheap.yaml": CHEAP}),
    spec_case("override-number", HEAD + "axes: {energy_overrides: [3]}\n",
              "axis 'energy_overrides': value 3 must be empty or the path of a .yaml"),
    spec_case("override-bad-entry", "base: {rows: 8, cols: 8, energy_overrides: bad.yaml}\n"
              "workloads: [alexnet]\n" + AXES, "unknown component 'drm'",
              {"bad.yaml": "drm:\n  read: {value: 1, unit: pJ/bit, source: x}\n"}),
    # Recipes.
    spec_case("recipe-not-text", "base: {rows: 8, cols: 8}\nmodel: digits-mlp\n"
              "axes: {recipe: [{a: 1}], rows: [8]}\n",
              "axis 'recipe': each value must be a recipe"),
    spec_case("compression-lr-text", "base: {rows: 8, cols: 8}\nmodel: digits-mlp\n"
              "compression: {lr: fast}\naxes: {recipe: ['int8 per-channel'], rows: [8]}\n",
              "compression: lr must be a number >= 0, not 'fast'"),
    spec_case("compression-finetune-fraction", "base: {rows: 8, cols: 8}\nmodel: digits-mlp\n"
              "compression: {finetune: 1.5}\naxes: {recipe: ['int8 per-channel'], rows: [8]}\n",
              "compression: finetune must be an integer >= 0, not 1.5"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "files", "fragment"), SPECS)
def test_bad_spec(capsys, tmp_path, text, files, fragment):
    for name, content in files.items():
        (tmp_path / name).write_text(content)
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    line = assert_one_line_error(
        capsys, ["sweep", "--spec", spec, "--out", tmp_path / "out", "--workers", "1"], fragment
    )
    assert str(spec) in line  # the message names the spec file
    assert not (tmp_path / "out").exists()  # refused before the folder is touched


def write_spec(tmp_path, text=HEAD + AXES):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


OPTIONS = [
    pytest.param(["--max-chunks", "-1"], "argument --max-chunks: must be a positive integer",
                 id="max-chunks-negative"),
    pytest.param(["--max-chunks", "0"], "must be a positive integer (chunks to run before "
                 "stopping), not '0'", id="max-chunks-zero"),
    pytest.param(["--max-chunks", "1.5"], "--max-chunks: must be a positive integer",
                 id="max-chunks-fraction"),
    pytest.param(["--workers", "0"], "argument --workers: must be an integer from 1 to 256",
                 id="workers-zero"),
    pytest.param(["--workers", "100000"], "must be an integer from 1 to 256 (worker processes), "
                 "not '100000'", id="workers-too-many"),
    pytest.param(["--workers", "two"], "--workers: must be an integer from 1 to 256",
                 id="workers-text"),
    pytest.param(["--scheduler", "tcp://x:1"], "--scheduler needs --executor dask",
                 id="scheduler-without-dask"),
]  # fmt: skip


@pytest.mark.parametrize(("extra", "fragment"), OPTIONS)
def test_bad_sweep_option(capsys, tmp_path, extra, fragment):
    argv = ["sweep", "--spec", write_spec(tmp_path), "--out", tmp_path / "out", *extra]
    assert_one_line_error(capsys, argv, fragment)


def test_empty_out_and_spec_are_refused(capsys, tmp_path):
    spec = write_spec(tmp_path)
    assert_one_line_error(capsys, ["sweep", "--spec", spec, "--out", ""], "must name a folder")
    assert_one_line_error(capsys, ["sweep", "--spec", "", "--out", "o"], "must name a file")
    assert_one_line_error(
        capsys, ["sweep", "--spec", tmp_path / "no.yaml", "--out", tmp_path / "o"],
        "sweep spec", )  # fmt: skip
    assert_one_line_error(
        capsys, ["sweep", "--spec", tmp_path, "--out", tmp_path / "o"], "is a directory, not a file"
    )


def test_folders_that_cannot_take_the_sweep(capsys, tmp_path):
    spec = write_spec(tmp_path)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    argv = ["sweep", "--spec", spec, "--workers", "1", "--no-plots", "--out"]
    assert_one_line_error(capsys, [*argv, busy], "is not empty and holds no sweep manifest")
    assert run_cli(capsys, [*argv, tmp_path / "done"])[0] == 0
    other = write_spec(tmp_path, HEAD + "axes: {rows: [8, 32]}\n")
    line = assert_one_line_error(
        capsys, ["sweep", "--spec", other, "--out", tmp_path / "done"], "a different spec"
    )
    assert "use another --out folder, or delete" in line
    # A lock whose holder runs (here: this test's parent process) or sits on another host.
    locked = tmp_path / "locked"
    locked.mkdir()
    holder = {"pid": os.getppid(), "host": socket.gethostname(), "started": "2024-01-01T00:00"}
    (locked / LOCK_FILE).write_text(json.dumps(holder))
    assert_one_line_error(
        capsys, [*argv, locked], f"is being written by another sweep (pid {os.getppid()} on "
    )  # fmt: skip
    (locked / LOCK_FILE).write_text(json.dumps({**holder, "host": "elsewhere"}))
    assert_one_line_error(capsys, [*argv, locked], "locked by a sweep on another host")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished sweep folder in CSV form, written directly (no sweep run)."""
    root = tmp_path_factory.mktemp("plot") / "s"
    root.mkdir()
    n = 4
    table = {
        "point_id": np.arange(n),
        "workload": np.array(["alexnet"] * n, dtype=object),
        "rows": np.array([8, 8, 16, 16]),
        "cols": np.array([8, 16, 8, 16]),
        "dataflow": np.array(["ws"] * n, dtype=object),
        "latency_s": np.array([4.0, 3.0, 2.0, 1.0]),
        "energy_pj": np.array([1.0, 2.0, 3.0, 4.0]),
        "area_mm2": np.array([1.0, 2.0, 2.0, 4.0]),
        "edp": np.array([4.0, 6.0, 6.0, 4.0]),
        "energy_unit": np.array(["pJ"] * n, dtype=object),
        "accuracy_like": np.full(n, np.nan),
        "feasible": np.ones(n, dtype=bool),
        "pareto": np.ones(n, dtype=bool),
    }
    write_table(table, root / "results.csv", "csv")
    manifest = {"fingerprint": "f", "n_chunks": 1, "format": "csv",
                "spec": {"name": "p", "axes": {"rows": {}, "cols": {}}}}  # fmt: skip
    (root / "manifest.json").write_text(json.dumps(manifest))
    return root


def edited(tmp_path, finished, manifest=None, results=None):
    """A copy of ``finished`` with its manifest or results text changed."""
    root = tmp_path / "edited"
    root.mkdir()
    for name in ("manifest.json", "results.csv"):
        text = (finished / name).read_text()
        change = {"manifest.json": manifest, "results.csv": results}[name]
        (root / name).write_text(change(text) if change else text)
    return root


PLOTS = [
    pytest.param([], None, None, "missing does not exist; give the --out folder of a sweep",
                 id="no-such-folder"),
    pytest.param(["--metric", "workload"], None, None,
                 "metric 'workload' is not a numeric result column; use one of", id="text-metric"),
    pytest.param(["--metric", "nope"], None, None, "metric 'nope' is not a numeric result column",
                 id="unknown-metric"),
    pytest.param(["--metric", "accuracy_like"], None, None,
                 "metric 'accuracy_like' has no finite value", id="all-nan-metric"),
    pytest.param(["--x", "clock_mhz"], None, None,
                 "heatmap axis 'clock_mhz' is not swept; swept axes are rows, cols",
                 id="axis-not-swept"),
    pytest.param(["--x", "rows", "--y", "rows"], None, None,
                 "the heatmap needs two different axes (--x and --y), not rows twice",
                 id="same-axis-twice"),
    pytest.param([], lambda t: "{not json", None, "sweep manifest", id="manifest-not-json"),
    pytest.param([], lambda t: "[1, 2]", None, "must hold a JSON object", id="manifest-list"),
    pytest.param([], lambda t: json.dumps({**json.loads(t), "format": "xlsx"}), None,
                 "is damaged (it needs fingerprint, n_chunks and format", id="manifest-format"),
    pytest.param([], lambda t: json.dumps({**json.loads(t), "spec": [1]}), None,
                 "'spec' must be a mapping with the swept 'axes'", id="manifest-spec-list"),
    pytest.param([], None, lambda t: t.replace("pareto:b", "optimal:b"),
                 "has no column 'pareto'", id="results-missing-column"),
    pytest.param([], None, lambda t: t.replace("True", "yes", 1),
                 "column 'feasible' holds 'yes', not True or False", id="results-bad-bool"),
    pytest.param([], None, lambda t: t.replace("latency_s:f", "latency_s:s"),
                 "column 'latency_s' holds object values, not integer/float", id="results-kind"),
    pytest.param([], None, lambda t: t.replace("4.0,", "fast,", 1),
                 "column 'latency_s' must hold numbers", id="results-text-number"),
    pytest.param([], None, lambda t: t.rsplit(",", 1)[0], "does not have the header's",
                 id="results-truncated-row"),
    pytest.param([], None, lambda t: t.replace("rows:i", "rows"),
                 "header cell 'rows' is not 'name:kind'", id="results-header"),
]  # fmt: skip


@pytest.mark.parametrize(("extra", "manifest", "results", "fragment"), PLOTS)
def test_bad_plot_sweep(capsys, tmp_path, finished, extra, manifest, results, fragment):
    folder = tmp_path / "missing"
    if manifest or results or extra:
        folder = edited(tmp_path, finished, manifest, results) if manifest or results else finished
    assert_one_line_error(capsys, ["plot-sweep", folder, *extra], fragment)


def test_plot_sweep_of_an_unfinished_or_foreign_folder(capsys, tmp_path, finished):
    (tmp_path / "empty").mkdir()
    assert_one_line_error(capsys, ["plot-sweep", tmp_path / "empty"], "holds no sweep")
    unfinished = edited(tmp_path, finished)
    (unfinished / "results.csv").unlink()
    assert_one_line_error(capsys, ["plot-sweep", unfinished], "the sweep is not finished")
    assert_one_line_error(capsys, ["plot-sweep", ""], "must name a folder")
    assert_one_line_error(capsys, ["plot-sweep", finished / "results.csv"], "is not a folder")
