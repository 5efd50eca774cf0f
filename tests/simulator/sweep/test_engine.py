"""Sweep execution: rows equal single-config simulation, constraints filter, executors agree,
interrupted sweeps resume to exactly the uninterrupted table, changed specs are refused."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from simulator import simulate, zoo_workload
from simulator.sweep.engine import run_sweep
from simulator.sweep.plots import load_results, plot_sweep
from simulator.sweep.spec import spec_from_dict
from simulator.sweep.store import StoreError
from tests.conftest import ROOT

BASE = {"rows": 16, "cols": 16, "dataflow": "ws", "ofmap_sram_bytes": "256 KiB"}


def small_spec(**overrides):
    data = {
        "name": "t",
        "base": BASE,
        "workloads": ["alexnet", "mobilenetv2"],
        "axes": {"rows": [8, 16, 32], "cols": [8, 32], "dataflow": ["os", "ws", "is"]},
        "chunk_size": 5,
        **overrides,
    }
    return spec_from_dict(data, root=ROOT)


def same_tables(a, b):
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].tolist() == b[name].tolist(), name


def test_rows_equal_simulate_one_config_at_a_time(tmp_path):
    spec = small_spec()
    outcome = run_sweep(spec, tmp_path / "s")
    table = outcome.table
    assert outcome.complete and len(table["point_id"]) == 18 * 2
    for i in (0, 7, 17, 18, 35):
        config = spec.base.replace(
            rows=int(table["rows"][i]), cols=int(table["cols"][i]), dataflow=table["dataflow"][i]
        )
        result = simulate(zoo_workload(table["workload"][i]), config)
        assert table["cycles"][i] == result.cycles.total
        assert table["energy_pj"][i] == result.energy.total
        assert table["area_mm2"][i] == result.area_total_mm2


def test_stream_tiling_is_an_axis_like_any_config_field(tmp_path):
    spec = small_spec(
        base={**BASE, "ofmap_sram_bytes": "16 KiB"},
        workloads=["alexnet"],
        axes={"dataflow": ["os", "ws"], "stream_tiling": ["none", "fit"]},
    )
    table = run_sweep(spec, tmp_path / "s").table
    assert table["stream_tiling"].tolist() == ["none", "fit", "none", "fit"]
    for i in range(4):
        config = spec.base.replace(
            dataflow=table["dataflow"][i], stream_tiling=table["stream_tiling"][i]
        )
        result = simulate(zoo_workload("alexnet"), config)
        assert table["cycles"][i] == result.cycles.total
        assert table["dram_bytes"][i] == result.memory.dram_bytes
    # os never tiles; ws with 16 KiB of psums does, and spills less.
    assert table["cycles"][0] == table["cycles"][1]
    assert table["dram_bytes"][3] < table["dram_bytes"][2]


def test_constraints_filter_before_and_after_evaluation(tmp_path):
    spec = small_spec(constraints=["rows * cols <= 256", "area_mm2 <= 1.0"])
    table = run_sweep(spec, tmp_path / "s").table
    assert (table["rows"] * table["cols"] <= 256).all()  # never evaluated otherwise
    assert len(np.unique(table["point_id"])) == 3 * 4  # 8x8, 8x32, 16x8... x 3 dataflows
    assert table["feasible"].tolist() == (table["area_mm2"] <= 1.0).tolist()
    assert not (table["pareto"] & ~table["feasible"]).any()


def test_local_workers_and_dask_give_identical_tables(tmp_path):
    pytest.importorskip("dask.distributed")
    spec = small_spec()
    one = run_sweep(spec, tmp_path / "one", workers=1).table
    pool = run_sweep(spec, tmp_path / "pool", workers=2).table
    dask = run_sweep(spec, tmp_path / "dask", workers=2, executor="dask").table
    same_tables(one, pool)
    same_tables(one, dask)


def test_budgeted_runs_resume_to_the_full_table(tmp_path):
    spec = small_spec()
    full = run_sweep(spec, tmp_path / "full").table
    first = run_sweep(spec, tmp_path / "parts", max_chunks=2)
    assert not first.complete and first.chunks_run == 2
    assert not list((tmp_path / "parts").glob("results.*"))
    second = run_sweep(spec, tmp_path / "parts")
    assert second.complete and second.chunks_reused == 2 and second.chunks_run == 2
    same_tables(full, second.table)


def test_a_changed_spec_is_refused(tmp_path):
    run_sweep(small_spec(), tmp_path / "s", max_chunks=1)
    with pytest.raises(StoreError, match="different spec"):
        run_sweep(small_spec(axes={"rows": [8, 16]}), tmp_path / "s")


FREE_DRAM = (
    "dram:\n  read: {value: 0.0, unit: pJ/bit, source: a test figure}\n"
    "  write: {value: 0.0, unit: pJ/bit, source: a test figure}\n"
)


def test_killed_sweep_resumes_without_gaps_or_duplicates(tmp_path):
    """SIGKILL mid-run, a second writer while the first runs, the override file changed
    and a chunk corrupted while the sweep lies killed: the resumed table is exactly the
    uninterrupted one."""
    override = tmp_path / "tables" / "dram.yaml"
    override.parent.mkdir()
    override.write_text(FREE_DRAM)
    spec_data = {
        "name": "kill",
        "base": {**BASE, "energy_overrides": "tables/dram.yaml"},
        "workloads": ["resnet50"],
        "sampling": {"method": "lhs", "samples": 1200, "seed": 3},
        "axes": {
            "rows": {"range": [4, 128]},
            "cols": {"range": [4, 128]},
            "dataflow": ["os", "ws", "is"],
        },
        "chunk_size": 4,
    }
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(json.dumps(spec_data))
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "simulator.cli", "sweep", "--spec", str(spec_path), "--out",
           str(out), "--workers", "1", "--no-plots"]  # fmt: skip
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while len(list((out / "chunks").glob("chunk-*"))) < 5 and time.monotonic() < deadline:
        assert first.poll() is None, first.stderr.read().decode()
        time.sleep(0.01)
    second = subprocess.run(cmd, capture_output=True, text=True)
    assert first.poll() is None, "the first writer finished before the second one tried"
    assert second.returncode == 2 and len(second.stderr.splitlines()) == 1, second.stderr
    assert (
        f"is being written by another sweep (pid {first.pid} on {socket.gethostname()}, started"
        in second.stderr
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    chunks = sorted((out / "chunks").glob("chunk-*"))
    assert 5 <= len(chunks) < 300, "the sweep must be killed mid-run"
    assert not (out / "results.csv").exists() and not (out / "results.parquet").exists()

    override.write_text(FREE_DRAM.replace("0.0", "0.5", 1))
    refused = subprocess.run(cmd, capture_output=True, text=True)
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert f"another version of {override.resolve()}: the file changed since" in refused.stderr
    override.write_text(FREE_DRAM)

    corrupted = bytearray(chunks[2].read_bytes())
    corrupted[-20] ^= 0xFF
    chunks[2].write_bytes(bytes(corrupted))
    resumed_run = subprocess.run(cmd, check=True, capture_output=True, text=True)
    assert f"took over the lock of a sweep that no longer runs (pid {first.pid}" in (
        resumed_run.stderr
    )
    assert f"chunk 2 ({chunks[2]}) is corrupted" in resumed_run.stderr
    resumed, _ = load_results(out)
    # The same points in bigger chunks: the same rows, in the same order.
    clean_spec = spec_from_dict({**spec_data, "chunk_size": 256}, root=tmp_path)
    uninterrupted = run_sweep(clean_spec, tmp_path / "clean").table
    same_tables(uninterrupted, resumed)
    assert sorted(resumed["point_id"].tolist()) == list(range(1200))
    assert set(resumed["energy_dram_pj"].tolist()) == {0.0}


def test_plots_are_written(tmp_path):
    run_sweep(small_spec(), tmp_path / "s")
    paths = plot_sweep(tmp_path / "s", metric="energy_pj", x="cols", y="rows")
    assert len(paths) == 6  # three plots per workload
    assert all(p.stat().st_size > 10_000 for p in paths)
    with pytest.raises(ValueError, match="not swept"):
        plot_sweep(tmp_path / "s", x="clock_mhz")


def test_axis_values_that_need_another_axis_are_checked_per_point():
    """rows 64 x cols 64 needs 4 KiB buffers: fine beside a 4 KiB axis value, refused
    (naming the point) beside 1 KiB; neither value alone is checked against the base."""
    from simulator.sweep.engine import make_tasks

    base = {"rows": 8, "cols": 8, "ifmap_sram_bytes": 1024, "filter_sram_bytes": 1024,
            "ofmap_sram_bytes": 1024}  # fmt: skip
    ok = spec_from_dict({
        "base": base, "workloads": ["gemm:8x8x8"],
        "axes": {"rows": [8, 64], "cols": [64], "ifmap_sram_bytes": [4096],
                 "filter_sram_bytes": [4096], "ofmap_sram_bytes": [4096]},
    })  # fmt: skip
    assert sum(len(t.points["point_id"]) for t in make_tasks(ok)) == 2
    bad = spec_from_dict({
        "base": base, "workloads": ["gemm:8x8x8"],
        "axes": {"rows": [8, 64], "cols": [64], "ifmap_sram_bytes": [1024, 4096]},
    })  # fmt: skip
    with pytest.raises(ValueError, match=r"point .*'rows': 64.*'ifmap_sram_bytes': 1024.*"
                       "at least one 8-bit word per PE"):  # fmt: skip
        make_tasks(bad)
