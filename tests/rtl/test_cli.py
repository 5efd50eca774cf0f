"""``sparsa verilog``: files, cache, refusals as one line, and --stats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.cli import main


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSA_CACHE_DIR", str(tmp_path / "cache"))


def write_config(path, **fields):
    lines = [f"{key}: {value}" for key, value in {"rows": 2, "cols": 3, **fields}.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_writes_verilog_params_and_header_then_hits_the_cache(capsys, tmp_path):
    config = write_config(tmp_path / "tiny-ws.yaml", dataflow="ws", accumulator_bits=20)
    code, out, err = run(capsys, "verilog", "--accel", config, "--out", tmp_path / "out")
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "params.h",
        "params.json",
        "tiny_ws.v",
    ]
    assert "module tiny_ws(" in (tmp_path / "out" / "tiny_ws.v").read_text()
    params = json.loads((tmp_path / "out" / "params.json").read_text())["parameters"]
    assert (params["rows"], params["cols"], params["accumulator_bits"]) == (2, 3, 20)
    assert "tiny_ws: ws 2x3, int8 x int8 -> int20 (wrap)" in out
    assert "from the cache" not in out
    code, out, _ = run(capsys, "verilog", "--accel", config, "--out", tmp_path / "again")
    assert code == 0 and "from the cache" in out
    assert (tmp_path / "again" / "tiny_ws.v").read_text() == (
        tmp_path / "out" / "tiny_ws.v"
    ).read_text()


def test_sparse_configs_export_with_their_parameters(capsys, tmp_path):
    """An N:M config with a codebook decoder: the ports and parameters of both."""
    config = write_config(
        tmp_path / "sparse.yaml",
        rows=4,
        cols=2,
        pe_kind="nm",
        nm_patterns='["2:4", "1:4"]',
        weight_decoder="codebook",
        decoder_entries=16,
        decoder_vector_length=4,
        decoder_entry_bits=6,
    )
    code, out, err = run(capsys, "verilog", "--accel", config, "--out", tmp_path / "out")
    assert code == 0, err
    assert "sparse: ws 4x2 N:M 2:4,1:4, int8 x int8 -> int32 (wrap), codebook 16 x 4" in out
    body = json.loads((tmp_path / "out" / "params.json").read_text())
    table, ports = body["parameters"], {p["name"] for p in body["ports"]}
    assert (table["pe_kind"], table["nm_group"], table["decoder_entries"]) == ("nm", 4, 16)
    assert {"codebook__payload", "lookup__0__payload", "lookup__1__payload"} <= ports
    assert "load__payload" not in ports
    header = (tmp_path / "out" / "params.h").read_text()
    assert "#define SPARSA_PE_KIND_NM 1" in header
    assert "#define SPARSA_DECODER_VECTOR_LENGTH 4" in header


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"dataflow": "is"}, "accelerator field 'dataflow' = 'is': the RTL implements ws, os"),
        ({"weight_bits": 24}, "accelerator field 'weight_bits' = 24: the RTL supports integers"),
        ({"fold_schedule": "overlapped"}, "'fold_schedule' = 'overlapped': the RTL implements"),
        (
            {"pe_kind": "nm", "nm_patterns": '["2:4"]', "dataflow": "os"},
            "'pe_kind' = 'nm': the RTL builds N:M PEs for ws only",
        ),
    ],
)
def test_unsupported_values_are_refused_in_one_line(capsys, tmp_path, fields, expected):
    config = write_config(tmp_path / "bad.yaml", **fields)
    code, _, err = run(capsys, "verilog", "--accel", config, "--out", tmp_path / "out")
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("sparsa: error: ")
    assert expected in err
    assert not (tmp_path / "out").exists()


def test_the_installed_command_finds_verilog_through_the_entry_point(tmp_path):
    sparsa = Path(sys.executable).parent / "sparsa"  # this environment's console script
    proc = subprocess.run([sparsa, "verilog", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "--stats" in proc.stdout and "--accel" in proc.stdout


@pytest.mark.slow
@pytest.mark.usefixtures("yosys")
def test_stats_prints_cell_counts(capsys, tmp_path):
    config = write_config(tmp_path / "s.yaml", dataflow="os", rows=2, cols=2)
    code, out, err = run(capsys, "verilog", "--accel", config, "--out", tmp_path / "o", "--stats")
    assert code == 0, err
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("design"))
    end = lines.index("", header)
    table = {
        line.split()[0]: [int(x) for x in line.split()[1:]] for line in lines[header + 1 : end]
    }
    assert set(table) == {"pe", "array", "s"}
    for cells, flops, logic in table.values():
        assert cells == flops + logic > 0
    assert table["pe"][0] < table["array"][0] < table["s"][0]
    components = [line for line in lines if line.startswith("dense PE")]
    assert [line.split()[2] for line in components] == ["4", "8", "16"]


def test_os_k_tiles_are_named_as_not_built(capsys, tmp_path):
    """The model tiles k in os with stream_tiling fit; the RTL's driver does not, and the
    CLI says so (ws tiles its stream in both, and says nothing)."""
    os_fit = write_config(tmp_path / "os-fit.yaml", dataflow="os", stream_tiling="fit")
    code, out, err = run(capsys, "verilog", "--accel", os_fit, "--out", tmp_path / "os")
    assert code == 0, err
    assert "note      stream_tiling fit: in os the timing model tiles k" in out
    ws_fit = write_config(tmp_path / "ws-fit.yaml", dataflow="ws", stream_tiling="fit")
    code, out, err = run(capsys, "verilog", "--accel", ws_fit, "--out", tmp_path / "ws")
    assert code == 0, err
    assert "note" not in out
