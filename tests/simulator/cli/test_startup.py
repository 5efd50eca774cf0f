"""Start-up: ``sparsa --help`` and ``sparsa zoo`` import none of the heavy dependencies,
``--no-plots`` skips only the plots, and plotting emits no warning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from dataclasses import replace

import pytest

from simulator.cli import main
from tests.conftest import ROOT

HEAVY = ("numba", "amaranth", "matplotlib", "dask", "simulator.sweep.engine")
GEMM_CSV = "Layer name, M, N, K,\ngemm, 64, 48, 80,\n"
ACCEL = ROOT / "configs" / "edge-32x32.yaml"

# Builds the parser, runs --help and zoo, and prints which heavy modules got imported.
PROBE = f"""
import contextlib, io, json, sys
from simulator.cli import build_parser, main
build_parser()
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(["--help"])
    except SystemExit as exc:
        assert exc.code == 0, exc.code
    assert main(["zoo"]) == 0
print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))
"""


def test_help_and_zoo_import_no_heavy_dependency():
    # A fresh interpreter: this test process has them all loaded already.
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_the_sweep_command_offers_the_engines_executors():
    from simulator.cli.sweep import EXECUTORS
    from simulator.sweep import engine

    assert engine.EXECUTORS == EXECUTORS


def _simulate(capsys, tmp_path, *extra):
    workload = tmp_path / "gemm.csv"
    workload.write_text(GEMM_CSV)
    out = tmp_path / "out"
    code = main(
        ["simulate", "--accel", str(ACCEL), "--workload", str(workload), "--out", str(out), *extra]
    )
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    return out, stdout.strip().splitlines()[-1]


def test_no_plots_writes_everything_but_the_plots(capsys, tmp_path):
    out, wrote = _simulate(capsys, tmp_path, "--no-plots")
    assert sorted(p.name for p in out.iterdir()) == ["layers.csv", "report.md", "result.json"]
    assert wrote.startswith("wrote") and wrote.endswith("(plots skipped: --no-plots)")
    report = (out / "report.md").read_text()
    assert "## Plots" not in report and ".png" not in report
    assert "## Model" in report


def test_report_no_plots_rerenders_only_the_report(capsys, tmp_path):
    out, _ = _simulate(capsys, tmp_path, "--no-plots")
    again = tmp_path / "again"
    assert main(["report", str(out / "result.json"), "--out", str(again), "--no-plots"]) == 0
    wrote = capsys.readouterr().out.strip().splitlines()[-1]
    assert sorted(p.name for p in again.iterdir()) == ["report.md"]
    assert "(plots skipped: --no-plots)" in wrote
    assert main(["report", str(out / "result.json"), "--out", str(again)]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in again.glob("*.png")) == [
        "cycles.png",
        "energy.png",
        "roofline.png",
    ]
    assert "## Plots" in (again / "report.md").read_text()


def _small_results(tmp_path):
    """A dense GEMM, a compressed one (four plots) and one whose energies are all zero
    (an energy plot with nothing to stack, nothing to put in its legend)."""
    from simulator import load_config, simulate
    from simulator.results.records import LayerEnergy
    from simulator.workloads.binding import bind_recipe
    from simulator.workloads.sources import load_workload

    (tmp_path / "gemm.csv").write_text(GEMM_CSV)
    workload = load_workload(str(tmp_path / "gemm.csv"))
    config = load_config(ACCEL)
    dense = simulate(workload, config)
    compressed = simulate(bind_recipe(workload, "prune 2:4 -> int8 per-channel").workload, config)

    def zero(energy):
        return LayerEnergy(
            dict.fromkeys(energy.by_action, 0.0), dict.fromkeys(energy.by_component, 0.0)
        )

    layers = tuple(replace(layer, energy=zero(layer.energy)) for layer in dense.layers)
    return {"dense": dense, "compressed": compressed, "zero energy": replace(dense, layers=layers)}


@pytest.mark.parametrize("case", ["dense", "compressed", "zero energy"])
def test_plotting_emits_no_warning(tmp_path, case):
    from simulator.reports.plots import write_plots

    result = _small_results(tmp_path)[case]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        paths = write_plots(result, tmp_path)
    assert len(paths) == (4 if case == "compressed" else 3)
    assert all(path.stat().st_size > 0 for path in paths)


def test_other_packages_commands_are_listed_and_run(capsys, tmp_path):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "verilog" in capsys.readouterr().out
    assert main(["zoo"]) == 0
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["nosuch"])
    assert exc.value.code == 2
    assert "'verilog'" in capsys.readouterr().err  # the choices it lists
    with pytest.raises(SystemExit) as exc:
        main(["verilog", "--help"])
    assert exc.value.code == 0 and "--stream-bits" in capsys.readouterr().out
