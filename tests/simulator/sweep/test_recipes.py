"""Recipes as a sweep axis: each recipe compressed and scored once and cached in the sweep
folder, every (recipe, config) row equal to simulating that recipe's model on that config,
a Pareto front over accuracy, latency, energy and area, and a sweep killed mid-run that
resumes to exactly the uninterrupted table without compressing again. The recipes are
not fine-tuned here (one test fine-tunes one epoch): the figures are compared, not judged."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from compress import load_compressed
from simulator import simulate
from simulator.codesign import compress_model, load_model_input
from simulator.sweep.engine import run_sweep
from simulator.sweep.pareto import pareto_mask
from simulator.sweep.plots import load_results, plot_sweep
from simulator.sweep.recipes import RECIPE_DIR, prepare_recipes
from simulator.sweep.spec import SpecError, spec_from_dict
from simulator.workloads.binding import bind_compressed
from simulator.workloads.zoo import zoo_workload
from tests.conftest import ROOT

BASE = {"rows": 16, "cols": 16, "dataflow": "ws"}
pytestmark = pytest.mark.usefixtures("trained_once")  # the digits MLP trained once here
RECIPES = ["int8 per-channel", "prune 2:4 -> int8 per-channel", "kmeans 4bit"]
ARRAYS = [
    {"label": "dense"},
    {"label": "2:4", "pe_kind": "nm", "nm_patterns": ["2:4"]},
    {"label": "codebook", "weight_decoder": "codebook", "decoder_entries": 16},
]


def recipe_spec(**overrides):
    data = {
        "name": "recipes",
        "base": BASE,
        "model": "digits-mlp",
        "axes": {"recipe": RECIPES, "array": ARRAYS, "rows": [8, 16], "cols": [8, 32]},
        "chunk_size": 3,
        **overrides,
    }
    return spec_from_dict(data, root=ROOT)


def same_tables(a, b):
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].tolist() == b[name].tolist(), name


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    spec = recipe_spec()
    out = tmp_path_factory.mktemp("recipes") / "s"
    return spec, out, run_sweep(spec, out)


def test_rows_equal_simulating_each_recipe_on_each_config(swept):
    spec, out, outcome = swept
    table = outcome.table
    assert outcome.complete and outcome.recipes_compressed == 3
    assert len(table["point_id"]) == 3 * 12 and len(np.unique(table["point_id"])) == 12
    assert sorted(table["recipe"].tolist()) == sorted(RECIPES * 12)
    assert table["recipe"][:9].tolist() == [r for r in RECIPES for _ in range(3)]  # a chunk
    workload = zoo_workload("digits-mlp")
    models = [load_compressed(out / RECIPE_DIR / f"recipe-{i:03d}" / "compressed.npz")
              for i in range(3)]  # fmt: skip
    fields = {a["label"]: {k: v for k, v in a.items() if k != "label"} for a in ARRAYS}
    for i in (0, 5, 13, 22, 35):
        recipe = int(table["recipe_id"][i])
        config = spec.base.replace(rows=int(table["rows"][i]), cols=int(table["cols"][i]),
                                   **fields[table["array"][i]])  # fmt: skip
        result = simulate(bind_compressed(workload, models[recipe]).workload, config)
        assert table["cycles"][i] == result.cycles.total
        assert table["energy_pj"][i] == result.energy.total
        assert table["area_mm2"][i] == result.area_total_mm2
        assert table["accuracy"][i] == models[recipe].accuracy_after
        assert table["storage_ratio_fp32"][i] == models[recipe].ratio_fp32

    # 2:4 weights run faster on the 2:4 array than on the dense one, and k-means codes
    # move fewer DRAM bytes through the codebook decoder.
    def row(recipe, array):
        return np.flatnonzero((table["recipe"] == recipe) & (table["array"] == array)
                              & (table["rows"] == 16) & (table["cols"] == 32))[0]  # fmt: skip

    assert table["cycles"][row(RECIPES[1], "2:4")] < 0.6 * table["cycles"][row(RECIPES[1], "dense")]
    dram = table["dram_bytes"]
    assert dram[row(RECIPES[2], "codebook")] < 0.7 * dram[row(RECIPES[2], "dense")]


def test_accuracy_is_measured_once_and_equals_compressing_alone(swept):
    spec, out, _ = swept
    source = load_model_input("digits-mlp")
    alone = compress_model(source, RECIPES[1])
    summary = json.loads((out / RECIPE_DIR / "recipe-001" / "summary.json").read_text())
    assert summary["accuracy"]["after"] == alone.accuracy_after
    assert summary["total"]["ratio_vs_fp32"] == alone.ratio_fp32
    stamps = {p: p.stat().st_mtime_ns for p in (out / RECIPE_DIR).rglob("*") if p.is_file()}
    again = run_sweep(spec, out)
    assert again.recipes_compressed == 0 and again.recipes_reused == 3
    assert stamps == {p: p.stat().st_mtime_ns for p in (out / RECIPE_DIR).rglob("*")
                      if p.is_file()}  # fmt: skip


def test_pareto_front_is_over_accuracy_latency_energy_and_area(swept):
    _, out, outcome = swept
    table = outcome.table
    objectives = np.stack([-table["accuracy"], table["latency_s"], table["energy_pj"],
                           table["area_mm2"]], axis=1)  # fmt: skip
    assert table["pareto"].tolist() == pareto_mask(objectives).tolist()
    assert table["pareto"][np.argmax(table["accuracy"])] or (
        table["accuracy"][table["pareto"]].max() == table["accuracy"].max()
    )
    three = pareto_mask(objectives[:, 1:])
    assert (table["pareto"] | ~three).all()  # optimal in three is optimal in four
    summary = json.loads((out / "summary.json").read_text())
    best = summary["best"]["digits-mlp"]
    assert best["accuracy"]["accuracy"] == table["accuracy"].max()
    paths = plot_sweep(out, x="array", y="recipe")
    assert out / "accuracy.png" in paths and (out / "accuracy.png").stat().st_size > 10_000
    assert (out / "heatmap_edp_array_recipe.png").is_file()


def test_accuracy_constraints_mark_rows_infeasible(tmp_path):
    spec = recipe_spec(constraints=["accuracy >= 0.97"], axes={"recipe": RECIPES[:2],
                                                              "rows": [8, 16]})  # fmt: skip
    table = run_sweep(spec, tmp_path / "s").table
    assert table["feasible"].tolist() == (table["accuracy"] >= 0.97).tolist()
    assert not (table["pareto"] & ~table["feasible"]).any()


def test_a_killed_compression_keeps_finished_recipes_and_redoes_none(tmp_path):
    spec = recipe_spec(axes={"recipe": RECIPES[:2], "rows": [8, 16]})
    out = tmp_path / "s"
    recipes, compressed = prepare_recipes(spec.recipe_axis, out)
    assert compressed == 2
    # As if killed while writing recipe 1: its folder is not published, a temporary is left.
    shutil.move(out / RECIPE_DIR / "recipe-001", out / RECIPE_DIR / ".recipe-001.tmp-99")
    stamp = (out / RECIPE_DIR / "recipe-000" / "summary.json").stat().st_mtime_ns
    again, compressed = prepare_recipes(spec.recipe_axis, out)
    assert compressed == 1
    assert not list((out / RECIPE_DIR).glob(".*"))
    assert (out / RECIPE_DIR / "recipe-000" / "summary.json").stat().st_mtime_ns == stamp
    assert [r.compressed for r in again] == [r.compressed for r in recipes]  # deterministic


def test_a_damaged_cached_recipe_is_compressed_again_and_said_so(tmp_path, caplog):
    spec = recipe_spec(axes={"recipe": RECIPES[:2], "rows": [8, 16]})
    out = tmp_path / "s"
    recipes, _ = prepare_recipes(spec.recipe_axis, out)
    (out / RECIPE_DIR / "recipe-001" / "summary.json").write_text('{"accuracy": [}')
    (out / RECIPE_DIR / "recipe-000" / "compressed.npz").unlink()
    with caplog.at_level("WARNING", logger="simulator.sweep.recipes"):
        again, compressed = prepare_recipes(spec.recipe_axis, out)
    assert compressed == 2
    assert "recipe-000 is damaged; compressing it again" in caplog.text
    assert "recipe-001 is damaged; compressing it again" in caplog.text
    assert [r.compressed for r in again] == [r.compressed for r in recipes]


def test_workers_get_the_same_rows_and_fine_tuning_is_applied(tmp_path):
    spec = recipe_spec(axes={"recipe": RECIPES[1:2], "array": ARRAYS[:2], "rows": [8, 16]},
                       compression={"finetune": 1})  # fmt: skip
    one = run_sweep(spec, tmp_path / "one")
    pool = run_sweep(spec, tmp_path / "pool", workers=2)
    same_tables(one.table, pool.table)
    tuned = json.loads((tmp_path / "one" / RECIPE_DIR / "recipe-000" / "summary.json").read_text())
    assert tuned["finetune_epochs"] == 1
    assert tuned["accuracy"]["after"] > 0.95


def test_killed_recipe_sweep_resumes_without_gaps_duplicates_or_recompressing(tmp_path):
    spec_data = {
        "name": "kill",
        "base": BASE,
        "model": "digits-mlp",
        "sampling": {"method": "lhs", "samples": 240, "seed": 5},
        "axes": {
            "recipe": RECIPES[:2],
            "array": ARRAYS[:2],
            "rows": {"range": [4, 64]},
            "cols": {"range": [4, 64]},
        },
        "chunk_size": 4,
    }
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(json.dumps(spec_data))
    out = tmp_path / "killed"
    # The recipes compressed first, in this process (no chunk yet), so that the killed
    # process spends its time in the chunks.
    spec = spec_from_dict(spec_data, root=tmp_path)
    assert run_sweep(spec, out, max_chunks=0).recipes_compressed == 2
    cmd = [sys.executable, "-m", "simulator.cli", "sweep", "--spec", str(spec_path), "--out",
           str(out), "--workers", "1", "--no-plots"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list((out / "chunks").glob("chunk-*"))) < 3 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = len(list((out / "chunks").glob("chunk-*")))
    assert 3 <= done_before < 60, "the sweep must be killed mid-run"
    assert not list(out.glob("results.*"))
    stamps = {p: p.stat().st_mtime_ns for p in (out / RECIPE_DIR).rglob("*") if p.is_file()}
    resumed_run = subprocess.run(cmd, check=True, capture_output=True, text=True)
    assert "0 compressed, 2 reused" in resumed_run.stdout
    assert stamps == {p: p.stat().st_mtime_ns for p in (out / RECIPE_DIR).rglob("*")
                      if p.is_file()}  # fmt: skip
    resumed, _ = load_results(out)
    clean = tmp_path / "clean"
    clean.mkdir()
    shutil.copytree(out / RECIPE_DIR, clean / RECIPE_DIR)  # the same recipes, not re-trained
    shutil.copy(out / "manifest.json", clean / "manifest.json")
    uninterrupted = run_sweep(spec, clean).table
    same_tables(uninterrupted, resumed)
    assert sorted(resumed["point_id"].tolist()) == sorted(list(range(240)) * 2)


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"model": None}, "axis 'recipe' needs model"),
        ({"axes": {"recipe": ["squash 3"], "rows": [8]}}, "unknown step kind 'squash'"),
        ({"axes": {"recipe": RECIPES[:1]}}, "needs at least one config axis"),
        ({"axes": {"recipe": [RECIPES[0]] * 2, "rows": [8]}}, "repeated recipes"),
        ({"model": "nothing.npz"}, "is not a built-in model"),
        ({"compression": {"epochs": 2}}, "unknown key 'epochs'"),
        ({"compression": {"finetune": -1}}, "finetune must be an integer >= 0"),
        ({"workloads": ["resnet18", "alexnet"]}, "at most one entry"),
        ({"axes": {"recipe": RECIPES, "array": [{"label": "x", "pe_kind": "nm"}]}},
         "pe_kind: nm needs the patterns"),
        ({"axes": {"recipe": RECIPES, "array": [{"label": "x", "rowz": 4}]}},
         "'rowz' is not a sweepable config field"),
        ({"axes": {"recipe": RECIPES, "array": [{"rows": 4}], "rows": [8]}},
         "which axis 'array' sets too"),
        ({"axes": {"recipe": RECIPES, "array": [{"label": "a"}, {"label": "a", "rows": 4}]}},
         "repeated labels"),
    ],
)  # fmt: skip
def test_bad_recipe_and_bundle_axes_name_the_problem(overrides, fragment):
    data = {
        "base": BASE, "model": "digits-mlp", "axes": {"recipe": RECIPES, "rows": [8, 16]},
        **overrides,
    }  # fmt: skip
    if data["model"] is None:
        del data["model"]
    with pytest.raises(SpecError, match=fragment):
        spec_from_dict(data, root=ROOT)


def test_specs_without_recipes_refuse_model_and_accuracy():
    plain = {"base": BASE, "workloads": ["alexnet"], "axes": {"rows": [8]}}
    with pytest.raises(SpecError, match="only with a recipe axis"):
        spec_from_dict({**plain, "model": "digits-mlp"}, root=ROOT)
    with pytest.raises(SpecError, match="accuracy needs a recipe axis"):
        spec_from_dict({**plain, "constraints": ["accuracy > 0.9"]}, root=ROOT)


def test_bundle_axes_set_fields_together_without_recipes(tmp_path):
    spec = spec_from_dict(
        {"base": BASE, "workloads": ["alexnet"],
         "axes": {"array": [ARRAYS[0], {**ARRAYS[1], "nm_patterns": ["2:4", "1:4"]}],
                  "rows": [4, 8]},
         "constraints": ["pe_kind == 'nm' or rows == 8", "nm_patterns != '1:4'"]},
        root=ROOT,
    )  # fmt: skip
    table = run_sweep(spec, tmp_path / "s").table
    assert table["array"].tolist() == ["dense", "2:4", "2:4"]  # dense at 4 rows dropped
    nm = spec.base.replace(rows=4, pe_kind="nm", nm_patterns=["2:4", "1:4"])
    result = simulate(zoo_workload("alexnet"), nm)
    assert table["cycles"][1] == result.cycles.total
    bad = spec_from_dict(
        {"base": BASE, "workloads": ["alexnet"], "axes": {"array": ARRAYS[1:2], "rows": [1, 8]}},
        root=ROOT,
    )
    with pytest.raises(SpecError, match="point .* rows must be at least 2"):
        run_sweep(bad, tmp_path / "bad")
