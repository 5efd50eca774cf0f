"""The ``sparsa`` command line: outputs, tables and one-line errors."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli import main
from tests.conftest import DATA, ROOT


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_simulate_zoo_workload_writes_json_and_csv(capsys, tmp_path):
    code, out, err = run(
        capsys,
        "simulate",
        "--accel",
        str(ROOT / "configs" / "edge-32x32.yaml"),
        "--workload",
        "resnet18",
        "--batch",
        "2",
        "--out",
        str(tmp_path),
    )
    assert code == 0, err
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["config"]["rows"] == 32
    assert result["workload"] == {"name": "resnet18", "source": "zoo", "batch": 2, "layers": 21}
    first = result["layers"][0]
    assert set(first) >= {"name", "m", "n", "k", "macs", "cycles", "utilization"}
    assert set(first["cycles"]) == {"compute", "stall", "total", "scalesim_total"}
    assert first["m"] == 2 * 112 * 112  # batch 2 doubles the output pixels of conv1
    total = result["total"]
    assert total["macs"] == sum(layer["macs"] for layer in result["layers"])
    assert total["cycles"]["total"] == sum(layer["cycles"]["total"] for layer in result["layers"])
    with (tmp_path / "layers.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 21
    assert int(rows[0]["cycles_total"]) == first["cycles"]["total"]
    assert "conv1" in out and "total" in out


def test_simulate_scalesim_files_and_overrides(capsys, tmp_path):
    cfg = DATA / "scalesim" / "configs" / "a8x8_os_calc.cfg"
    topo = DATA / "scalesim" / "topologies" / "gemms_L01_gemm_100x37x53.csv"
    code, _, err = run(
        capsys, "simulate", "--accel", str(cfg), "--workload", str(topo), "--out", str(tmp_path)
    )
    assert code == 0, err
    layer = json.loads((tmp_path / "result.json").read_text())["layers"][0]
    assert layer["cycles"]["scalesim_total"] == 4354  # the oracle's os 8x8 row
    code, _, _ = run(
        capsys,
        "simulate",
        "--accel",
        str(cfg),
        "--workload",
        str(topo),
        "--dataflow",
        "is",
        "--out",
        str(tmp_path),
    )
    layer = json.loads((tmp_path / "result.json").read_text())["layers"][0]
    assert layer["cycles"]["scalesim_total"] == 5368  # the oracle's is 8x8 row
    args = ["--accel", str(cfg), "--workload", str(topo), "--dataflow", "is"]
    code, _, _ = run(capsys, "simulate", *args, "--stream-tiling", "fit", "--out", str(tmp_path))
    result = json.loads((tmp_path / "result.json").read_text())
    assert code == 0 and result["config"]["stream_tiling"] == "fit"
    assert result["layers"][0]["cycles"]["scalesim_total"] == 5368  # still SCALE-Sim's figure


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--accel", "missing.yaml", "--workload", "resnet18"], "does not exist"),
        (["--workload", "resnet19"], "did you mean 'resnet18'"),
        (["--workload", "llama7b-decode:kv=5"], "kv"),
        (["--workload", "net.txt"], "must end in .csv, .yaml or .yml"),
    ],
)
def test_errors_are_one_line(capsys, tmp_path, args, fragment):
    base = {"--accel": str(ROOT / "configs" / "edge-32x32.yaml")}
    pairs = dict(zip(args[::2], args[1::2], strict=True))
    argv = [
        "simulate",
        *(x for kv in {**base, **pairs}.items() for x in kv),
        "--out",
        str(tmp_path),
    ]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("sparsa: error: ")
    assert fragment in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_bad_config_value_is_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rows: 0\ncols: 4\n")
    code, _, err = run(
        capsys, "simulate", "--accel", str(bad), "--workload", "alexnet", "--out", str(tmp_path)
    )
    assert code == 2
    assert "'rows' = 0" in err and err.count("\n") == 1


def test_zoo_lists_every_network(capsys):
    code, out, _ = run(capsys, "zoo")
    assert code == 0
    for name in (
        "alexnet",
        "vgg16",
        "resnet18",
        "resnet50",
        "mobilenetv2",
        "bert-base",
        "vit-b16",
        "llama7b-prefill",
        "llama7b-decode",
    ):
        assert name in out


def test_demo(capsys, tmp_path, monkeypatch):
    """The demo's three parts: simulation and report, compression, and (through the
    rtl package's entry point) Verilog; on a 4x4 accelerator so the conversion is quick."""
    import simulator.demo

    small = simulator.demo.DEFAULT_ACCELERATOR.replace(name="demo-4x4", rows=4, cols=4)
    monkeypatch.setattr(simulator.demo, "DEFAULT_ACCELERATOR", small)
    monkeypatch.setenv("SPARSA_CACHE_DIR", str(tmp_path / "cache"))
    code, out, err = run(capsys, "demo", "--out", str(tmp_path))
    assert code == 0, err
    for name in ("result.json", "layers.csv", "report.md", "roofline.png", "energy.png"):
        assert (tmp_path / name).is_file(), name
    summary = json.loads((tmp_path / "compress" / "summary.json").read_text())
    assert summary["recipe"] == simulator.demo.DEMO_RECIPE
    assert summary["total"]["ratio_vs_fp32"] > 5  # 2:4 and int8: about 5.8x
    assert summary["accuracy"]["after"] > 0.9
    assert (tmp_path / "verilog" / "demo_4x4.v").read_text().count("module ") >= 1
    assert json.loads((tmp_path / "verilog" / "params.json").read_text())["parameters"]["rows"] == 4
    for title in ("== simulate: resnet18 on demo-4x4", "== compress: digits-mlp",
                  "== verilog: demo-4x4"):  # fmt: skip
        assert title in out


def test_console_script_is_installed(tmp_path):
    exe = shutil.which("sparsa", path=str(Path(sys.executable).parent))
    assert exe is not None
    proc = subprocess.run([exe, "zoo"], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert proc.returncode == 0 and "resnet50" in proc.stdout


def test_simulate_writes_report_and_plots_and_report_rerenders_them(capsys, tmp_path):
    sim_dir, report_dir = tmp_path / "sim", tmp_path / "again"
    code, out, err = run(
        capsys,
        "simulate",
        "--accel",
        str(ROOT / "tests" / "golden" / "small-accel.yaml"),
        "--workload",
        str(ROOT / "tests" / "golden" / "small-workload.yaml"),
        "--out",
        str(sim_dir),
    )
    assert code == 0, err
    names = ("result.json", "layers.csv", "report.md", "roofline.png", "energy.png", "cycles.png")
    for name in names:
        assert (sim_dir / name).stat().st_size > 0, name
    assert "energy" in out and "mm^2" in out
    result = json.loads((sim_dir / "result.json").read_text())
    assert result["total"]["energy_pj"]["total"] > 0
    assert result["layers"][0]["roofline"]["bound"] in ("compute", "dram", "sram")
    assert set(result["layers"][0]["memory"]) == {"input", "weight", "output"}

    code, out, err = run(capsys, "report", str(sim_dir / "result.json"), "--out", str(report_dir))
    assert code == 0, err
    assert (report_dir / "report.md").read_text() == (sim_dir / "report.md").read_text()
    for name in names[3:]:
        assert (report_dir / name).stat().st_size > 0
    # Without --out the files land beside the result.
    (sim_dir / "report.md").unlink()
    assert run(capsys, "report", str(sim_dir / "result.json"))[0] == 0
    assert (sim_dir / "report.md").is_file()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(None, "does not exist"), ("{not json", "is not valid JSON")],
)
def test_report_errors_are_one_line(capsys, tmp_path, content, fragment):
    path = tmp_path / "result.json"
    if content is not None:
        path.write_text(content)
    code, _, err = run(capsys, "report", str(path))
    assert code == 2
    assert fragment in err and err.count("\n") == 1


def test_simulate_clock_mhz_end_to_end(capsys, tmp_path):
    """A SCALE-Sim cfg has no clock: the report states the default, --clock-mhz sets it,
    and latency follows (the same cycles at 250 MHz take 4x as long as at 1000 MHz)."""
    cfg = DATA / "scalesim" / "bundled" / "scale-sim-v3" / "eyeriss.cfg"
    topo = DATA / "scalesim" / "topologies" / "gemms_L01_gemm_100x37x53.csv"
    runs = {}
    for clock in (None, "250"):
        out_dir = tmp_path / str(clock)
        argv = ["simulate", "--accel", str(cfg), "--workload", str(topo), "--out", str(out_dir)]
        code, _, err = run(capsys, *argv, *(["--clock-mhz", clock] if clock else []))
        assert code == 0, err
        runs[clock] = (
            json.loads((out_dir / "result.json").read_text()),
            (out_dir / "report.md").read_text(),
        )
    (default, default_report), (slow, slow_report) = runs[None], runs["250"]
    assert default["config"]["clock_mhz"] == 1000
    assert slow["config"]["clock_mhz"] == 250
    assert slow["total"]["cycles"] == default["total"]["cycles"]
    assert slow["total"]["latency_s"] == pytest.approx(4 * default["total"]["latency_s"])
    assert "| clock | 250 MHz |" in slow_report
    assert "A SCALE-Sim cfg has no clock: 250 MHz from --clock-mhz." in slow_report
    assert "1000 MHz, sparsa's default" in default_report
    assert "SRAM bank conflicts (OnChipMemoryBanks, OnChipMemoryBankPorts)" in default_report
    assert slow["input_notes"][0].endswith("250 MHz from --clock-mhz.")


def _accel(tmp_path, name, **fields):
    path = tmp_path / f"{name}.yaml"
    body = {"name": name, "rows": 16, "cols": 16, **fields}
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in body.items()))
    return str(path)


@pytest.mark.parametrize(
    ("recipe", "fields", "mode"),
    [
        ("prune 2:4 -> int8 per-channel", {"pe_kind": "nm", "nm_patterns": ["2:4", "1:4"]}, "nm"),
        ("prune 80% -> int8 per-channel", {"pe_kind": "skip", "dataflow": "os"}, "skip"),
        ("kmeans 4bit", {"weight_decoder": "codebook", "decoder_entries": 16}, "dense"),
    ],
)
def test_compress_then_simulate_compressed_shows_what_it_buys(
    capsys, tmp_path, recipe, fields, mode
):
    """`sparsa compress` then `sparsa simulate --compressed` on the digits MLP (its zoo
    entry found from the model's name): data-dependent cycles, traffic and energy."""
    compressed = tmp_path / "c"
    code, _, err = run(capsys, "compress", "--model", "digits-mlp", "--recipe", recipe,
                       "--out", str(compressed))  # fmt: skip
    assert code == 0, err
    accel = _accel(tmp_path, "sparse", **fields)
    code, out, err = run(capsys, "simulate", "--accel", accel, "--compressed", str(compressed),
                         "--out", str(tmp_path / "s"))  # fmt: skip
    assert code == 0, err
    assert "vs dense" in out and "compressed digits-mlp" in out
    result = json.loads((tmp_path / "s" / "result.json").read_text())
    summary = json.loads((compressed / "summary.json").read_text())
    for layer, stored in zip(result["layers"], summary["layers"], strict=True):
        assert layer["weights"]["mode"] == mode
        assert layer["weights"]["stored_bits"] == stored["storage_bits"]["total"]
    total = result["total"]
    assert total["dram_bytes"] < total["baseline"]["dram_bytes"]
    assert total["energy_ratio"] < 1
    if mode != "dense":
        assert total["speedup"] > 1
    assert (tmp_path / "s" / "compression.png").stat().st_size > 0
    assert "## Compression" in (tmp_path / "s" / "report.md").read_text()


def test_simulate_recipe_and_bad_weight_options(capsys, tmp_path):
    accel = _accel(tmp_path, "nm", pe_kind="nm", nm_patterns=["2:4"])
    code, out, err = run(capsys, "simulate", "--accel", accel, "--workload", "digits-cnn",
                         "--recipe", "prune 2:4 -> int8 per-channel", "--seed", "3",
                         "--out", str(tmp_path / "r"))  # fmt: skip
    assert code == 0, err
    assert "synthetic weights (seed 3)" in out
    code, _, err = run(capsys, "simulate", "--accel", accel, "--out", str(tmp_path / "x"))
    assert code == 2 and "--workload is required" in err
    code, _, err = run(capsys, "simulate", "--accel", accel, "--compressed",
                       str(tmp_path / "nothing"), "--out", str(tmp_path / "x"))  # fmt: skip
    assert code == 2 and "written by `sparsa compress`" in err
