"""load_workload dispatches on the file type; ONNX files go through the ONNX import."""

from __future__ import annotations

import json
import sys

import pytest

from simulator.cli import main
from simulator.workloads.layer import WorkloadError
from simulator.workloads.sources import load_workload
from tests.conftest import ROOT


def test_missing_onnx_package_gives_the_install_hint(tmp_path, monkeypatch, capsys):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"")
    monkeypatch.setitem(sys.modules, "onnx", None)  # `import onnx` raises ImportError
    with pytest.raises(WorkloadError, match=r"pip install sparsa\[onnx\]$"):
        load_workload(str(path))
    accel = str(ROOT / "configs" / "edge-32x32.yaml")
    argv = ["simulate", "--accel", accel, "--workload", str(path), "--out", str(tmp_path)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err == (
        "sparsa: error: reading ONNX models needs the onnx package: pip install sparsa[onnx]\n"
    )


def test_missing_onnx_file():
    with pytest.raises(FileNotFoundError, match="workload file nope.onnx does not exist"):
        load_workload("nope.onnx")


def test_simulate_an_onnx_model(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from compress.nets import SmallCNN
    from tests.simulator.workloads.onnx_graphs import digits_cnn

    path = tmp_path / "digits-cnn.onnx"
    onnx.save(digits_cnn(SmallCNN().init(seed=0)), str(path))
    workload = load_workload(str(path), batch=4)
    assert workload.batch == 4 and workload.macs == 4 * (9216 + 73728 + 1280)
    assert workload.layers[0].weights is not None

    accel = str(ROOT / "configs" / "edge-32x32.yaml")
    out = tmp_path / "out"
    argv = ["simulate", "--accel", accel, "--workload", str(path), "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    result = json.loads((out / "result.json").read_text())
    assert result["workload"]["name"] == "digits-cnn"
    assert [layer["name"] for layer in result["layers"]] == ["conv1", "conv2", "fc"]
    assert result["total"]["macs"] == 9216 + 73728 + 1280


@pytest.mark.parametrize("batch", [0, -1, True, 2.0])
def test_a_batch_that_is_not_a_positive_integer_is_refused_not_run_as_one(batch):
    with pytest.raises(WorkloadError, match="batch must be a positive integer"):
        load_workload("resnet18", batch=batch)


@pytest.mark.parametrize("name", ["d.csv", "d.yaml", "d.onnx"])
def test_a_directory_is_named_as_one(tmp_path, name):
    (tmp_path / name).mkdir()
    with pytest.raises(WorkloadError, match=f"{name} is a directory, not a file"):
        load_workload(str(tmp_path / name))


def test_configs_by_suffix_in_any_case(tmp_path):
    from simulator.workloads.sources import load_config

    cfg = (ROOT / "tests" / "data" / "scalesim" / "configs" / "a8x8_os_calc.cfg").read_text()
    (tmp_path / "A.CFG").write_text(cfg)
    assert load_config(tmp_path / "A.CFG").rows == 8
    with pytest.raises(FileNotFoundError, match="accelerator config .*nope.cfg does not exist"):
        load_config(tmp_path / "nope.cfg")
