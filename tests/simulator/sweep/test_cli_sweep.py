"""``sparsa sweep`` and ``sparsa plot-sweep`` from the command line."""

from __future__ import annotations

import json

from simulator.cli import main
from tests.conftest import ROOT


def write_spec(tmp_path, **changes):
    spec = {
        "name": "cli",
        "base": str(ROOT / "configs" / "edge-32x32.yaml"),
        "workloads": ["alexnet"],
        "axes": {"rows": [8, 16], "cols": [8, 16], "dataflow": ["os", "ws"]},
        "constraints": ["rows * cols <= 128"],
        "chunk_size": 2,
        **changes,
    }
    path = tmp_path / "spec.yaml"
    path.write_text(json.dumps(spec))
    return path


def test_sweep_runs_resumes_and_plots(capsys, tmp_path):
    spec = write_spec(tmp_path)
    out = tmp_path / "out"
    assert (
        main(
            ["sweep", "--spec", str(spec), "--out", str(out), "--workers", "1", "--max-chunks", "1"]
        )
        == 0
    )
    assert "incomplete" in capsys.readouterr().out
    assert main(["sweep", "--spec", str(spec), "--out", str(out), "--workers", "1"]) == 0
    text = capsys.readouterr().out
    assert "6 of 8 points evaluated" in text and "1 reused" in text
    assert (out / "pareto.png").is_file() and (out / "summary.json").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["rows"] == 6 and summary["points"] == 8
    assert (
        main(["plot-sweep", str(out), "--metric", "cycles", "--x", "cols", "--y", "dataflow"]) == 0
    )
    assert (out / "heatmap_cycles_cols_dataflow.png").is_file()


def test_errors_are_one_line(capsys, tmp_path):
    bad = write_spec(tmp_path, axes={"rows": [0, 8]})
    assert main(["sweep", "--spec", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"sparsa: error: sweep spec {bad}: axis 'rows': value 0")
    assert err.count("\n") == 1
    good = write_spec(tmp_path)
    main(["sweep", "--spec", str(good), "--out", str(tmp_path / "o2"), "--max-chunks", "1"])
    changed = write_spec(tmp_path, axes={"rows": [8, 32], "cols": [8], "dataflow": ["os"]})
    capsys.readouterr()
    assert main(["sweep", "--spec", str(changed), "--out", str(tmp_path / "o2")]) == 2
    assert "different spec" in capsys.readouterr().err
    assert main(["plot-sweep", str(tmp_path / "nothing")]) == 2
    assert "nothing does not exist; give the --out folder of a sweep" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["plot-sweep", str(tmp_path / "empty")]) == 2
    assert "holds no sweep" in capsys.readouterr().err
    assert (
        main(["sweep", "--spec", str(good), "--out", str(tmp_path / "o3"), "--scheduler", "x"]) == 2
    )
    assert "--scheduler needs --executor dask" in capsys.readouterr().err
