"""Verilog export: stable top module, cache, params.json and params.h from one source."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from rtl.export import (
    VERILATOR_WAIVERS,
    c_header,
    cache_key,
    generate_verilog,
    parameter_table,
    write_outputs,
)
from rtl.model import model_timing
from rtl.params import RtlParams
from rtl.tiling import GemmTiling

WS = RtlParams("acc_ws", 3, 4, "ws", 8, 8, 24, "saturate")
OS = RtlParams("acc_os", 2, 5, "os", 6, 4, 12, "wrap", stream_bits=12)
NM = RtlParams("acc_nm", 4, 3, "ws", 8, 8, 24, pe_kind="nm", nm_patterns=("2:4", "1:4"))
CB = RtlParams(
    "acc_cb",
    4,
    2,
    "ws",
    8,
    8,
    24,
    pe_kind="nm",
    nm_patterns=("2:4",),
    zero_gating=True,
    weight_decoder="codebook",
    decoder_entries=16,
    decoder_vector_length=2,
    decoder_entry_bits=5,
)
ALL = [WS, OS, NM, CB]
IDS = ["ws", "os", "nm", "codebook"]


def top_ports(verilog: str, name: str) -> set[str]:
    match = re.search(rf"^module {name}\(([^)]*)\);", verilog, re.MULTILINE)
    assert match, f"no module {name}"
    return {port.strip() for port in match.group(1).split(",")}


@pytest.mark.parametrize("params", ALL, ids=IDS)
def test_verilog_has_the_stable_top_and_no_source_attributes(params, tmp_path):
    text, hit = generate_verilog(params, cache_dir=tmp_path)
    assert not hit
    assert re.search(rf"^module {params.name}\(", text, re.MULTILINE)
    assert "src =" not in text
    again, hit = generate_verilog(params, cache_dir=tmp_path)
    assert hit and again == text
    assert len(list(tmp_path.iterdir())) == 1


def test_cache_key_follows_the_parameters(tmp_path):
    assert cache_key(WS) == cache_key(RtlParams(**WS.to_dict()))
    changes = [("rows", 4), ("overflow", "wrap"), ("accumulator_bits", 25), ("name", "b")]
    others = [RtlParams(**{**WS.to_dict(), field: value}) for field, value in changes]
    assert len({cache_key(p) for p in [WS, *others]}) == 5
    generate_verilog(WS, cache_dir=tmp_path, use_cache=False)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("params", ALL, ids=IDS)
def test_params_json_and_header_agree_with_the_verilog(params, tmp_path):
    result = write_outputs(params, tmp_path / "out", cache_dir=tmp_path / "cache")
    assert result.verilog.name == f"{params.name}.v"
    body = json.loads(result.params_json.read_text())
    assert body["parameters"] == parameter_table(params)
    ports = {p["name"]: p for p in body["ports"]}
    assert set(ports) == top_ports(result.verilog.read_text(), params.name)
    feed_bits = body["parameters"]["feed_payload_bits"]
    assert ports["feed__payload"]["width"] == feed_bits
    assert ports["out__payload"]["direction"] == "output"
    assert ("load__payload" in ports) == (params.dataflow.value == "ws" and not params.has_decoder)
    assert ("codebook__payload" in ports) == params.has_decoder
    lookups = {name for name in ports if name.startswith("lookup__")}
    assert lookups == (
        {f"lookup__{c}__{x}" for c in range(params.cols) for x in ("valid", "ready", "payload")}
        if params.has_decoder
        else set()
    )
    assert ports["start__payload"]["width"] == body["parameters"]["start_payload_bits"]
    defines = dict(re.findall(r"^#define SPARSA_(\w+) (.+)$", result.header.read_text(), re.M))
    for key, value in body["parameters"].items():
        assert defines[key.upper()] == (f'"{value}"' if isinstance(value, str) else str(value))
    assert defines[f"DATAFLOW_{params.dataflow.value.upper()}"] == "1"
    assert defines[f"PE_KIND_{params.pe_kind.value.upper()}"] == "1"


def test_sparse_parameters_in_the_table():
    nm, cb = parameter_table(NM), parameter_table(CB)
    assert (nm["pe_kind"], nm["nm_patterns"], nm["nm_group"]) == ("nm", "2:4,1:4", 4)
    assert [nm[f"row_group_size_{i}"] for i in range(nm["row_group_modes"])] == [1, 2, 4]
    assert (nm["feed_groups"], nm["feed_lanes"], nm["mode_bits"]) == (4, 16, 2)
    assert nm["start_payload_mode_offset"] == 16 and "decoder_entries" not in nm
    assert (cb["decoder_entries"], cb["index_bits"], cb["offset_bits"]) == (16, 4, 2)
    assert (cb["zero_gating"], cb["lookup_payload_offset_offset"]) == (1, 4 + 2 + 3)
    assert "load_payload_bits" not in cb


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
@pytest.mark.parametrize("params", ALL, ids=IDS)
def test_header_compiles_and_its_fold_cycles_are_the_models(params, tmp_path):
    (tmp_path / "params.h").write_text(c_header(params))
    (tmp_path / "main.c").write_text(
        '#include <stdio.h>\n#include "params.h"\n'
        'int main(void) { printf("%d %d\\n", SPARSA_FOLD_CYCLES(10), SPARSA_ROWS); return 0; }\n'
    )
    subprocess.run(["cc", "-Wall", "-Werror", "-o", "main", "main.c"], cwd=tmp_path, check=True)
    fold, rows = map(
        int, subprocess.run([tmp_path / "main"], capture_output=True, text=True).stdout.split()
    )
    # A single-fold GEMM with T = 10 in the model.
    m, n, k = (
        (10, params.cols, params.rows)
        if params.dataflow.value == "ws"
        else (params.rows, params.cols, 10)
    )
    assert (fold,) == GemmTiling(params, m, n, k).fold_cycles
    assert fold == model_timing(params, m, n, k).compute_cycles
    assert rows == params.rows


@pytest.mark.slow
@pytest.mark.parametrize(
    "params",
    [
        *ALL,
        RtlParams("big_ws", 16, 16, "ws"),
        RtlParams("one", 1, 1, "os", 2, 2, 4),
        RtlParams("big_nm", 16, 16, "ws", pe_kind="nm", nm_patterns=("4:8", "2:8", "1:8")),
        RtlParams("cb_dense", 2, 3, "ws", weight_decoder="codebook", decoder_vector_length=1),
    ],
    ids=[*IDS, "ws16", "os1x1", "nm16", "codebook_dense"],
)
def test_verilator_lint_passes_with_the_stated_waivers(params, tmp_path, verilator):
    text, _ = generate_verilog(params, cache_dir=tmp_path)
    source = tmp_path / f"{params.name}.v"
    source.write_text(text)
    waivers = [f"-Wno-{w}" for w in VERILATOR_WAIVERS]
    proc = subprocess.run(
        ["verilator", "--lint-only", "-Wall", *waivers, "--top-module", params.name, str(source)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "%Warning" not in proc.stderr and "%Error" not in proc.stderr
    # Without the waivers, -Wall does complain: they are not empty words.
    bare = subprocess.run(
        ["verilator", "--lint-only", "-Wall", "--top-module", params.name, str(source)],
        capture_output=True,
        text=True,
    )
    assert "%Warning" in bare.stderr
