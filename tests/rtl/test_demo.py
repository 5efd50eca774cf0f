"""The demo's RTL step writes the dense engine and the N:M engine of its sparse variant."""

from __future__ import annotations

import json

import pytest

from rtl.demo import verilog_step
from simulator.demo import DEFAULT_ACCELERATOR


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARSA_CACHE_DIR", str(tmp_path / "cache"))


def test_writes_the_dense_and_the_sparse_engine(tmp_path):
    config = DEFAULT_ACCELERATOR.replace(name="demo-4x4", rows=4, cols=4)
    step = verilog_step(tmp_path, config)
    assert step.title == "verilog: demo-4x4 and demo-4x4-nm"
    sparse = tmp_path / "verilog" / "demo_4x4_nm"
    assert (tmp_path / "verilog" / "demo_4x4.v").is_file()
    assert "module demo_4x4_nm(" in (sparse / "demo_4x4_nm.v").read_text()
    table = json.loads((sparse / "params.json").read_text())["parameters"]
    assert (table["pe_kind"], table["nm_patterns"], table["zero_gating"]) == ("nm", "2:4,1:4", 1)
    assert len(step.written) == 6 and all(path.is_file() for path in step.written)
    assert any("N:M 2:4, 1:4 PEs, zero gating" in line for line in step.lines)
