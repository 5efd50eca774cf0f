"""Area per component: the cited points, scaling with widths and capacity, the chip sum."""

from __future__ import annotations

import pytest

from simulator import AcceleratorConfig, Gemm, Layer, Workload, simulate
from simulator.model.area import AREA_COMPONENTS, load_area_table

ONE = Workload("one", (Layer("g", Gemm(8, 8, 8)),))


def area(**fields) -> dict[str, float]:
    return dict(simulate(ONE, AcceleratorConfig(rows=16, cols=8, **fields)).area_mm2)


def test_components_and_the_chip_sum():
    result = simulate(ONE, AcceleratorConfig(rows=16, cols=8))
    assert tuple(result.area_mm2) == AREA_COMPONENTS
    sparse = {"pe_select", "weight_decoder"}  # only sparse PE kinds and decoders have them
    assert all(v > 0 for k, v in result.area_mm2.items() if k not in sparse)
    assert all(result.area_mm2[k] == 0 for k in sparse)
    assert result.area_total_mm2 == pytest.approx(sum(result.area_mm2.values()))
    assert result.to_dict()["area_mm2"]["total"] == result.area_total_mm2


def test_pe_area_from_horowitz_and_nangate():
    a = area()  # 8-bit operands, 32-bit accumulator, ws, sequential: 128 PEs
    assert a["pe_multipliers"] == pytest.approx(128 * 282e-6)
    assert a["pe_adders"] == pytest.approx(128 * 137e-6)
    assert a["pe_registers"] == pytest.approx(128 * (8 + 8 + 32) * 4.522e-6)
    assert area(activation_bits=32, weight_bits=32)["pe_multipliers"] == pytest.approx(
        128 * 3495e-6
    )
    # Shadow registers for the next fold's weights in the overlapped schedule.
    overlapped = area(fold_schedule="overlapped")["pe_registers"]
    assert overlapped == pytest.approx(128 * (8 + 8 + 32 + 8) * 4.522e-6)
    assert area(fold_schedule="overlapped", dataflow="os")["pe_registers"] == a["pe_registers"]


def test_sram_area_grows_linearly_with_capacity():
    table = load_area_table()
    per_byte = 8 * 0.37 / 0.5 * 1e-6
    assert table[("sram", "bitcell")].source
    a = area(ifmap_sram_bytes=1 << 16)
    b = area(ifmap_sram_bytes=1 << 17)
    assert a["input_sram"] == pytest.approx((1 << 16) * per_byte)
    assert b["input_sram"] == pytest.approx(2 * a["input_sram"])
    assert b["weight_sram"] == a["weight_sram"]


def test_sparse_pe_and_decoder_area_by_hand():
    nm = area(pe_kind="nm", nm_patterns=["2:4", "1:4"])  # M = 4, n_min = 1, 128 PEs
    # 3 MUX2 cells per activation bit, a 2-bit position, 4 lanes instead of 1.
    per_pe = 3 * 8 * 1.862 + 2 * 4.522 + 3 * 8 * 4.522
    assert nm["pe_select"] == pytest.approx(128 * per_pe * 1e-6)
    only_2of4 = area(pe_kind="nm", nm_patterns=["2:4"])["pe_select"]
    assert only_2of4 == pytest.approx(128 * (3 * 8 * 1.862 + 2 * 4.522 + 1 * 8 * 4.522) * 1e-6)
    decoder = area(weight_decoder="codebook", decoder_entries=16, decoder_entry_bits=8)
    # Per column (8 of them): 16 x 8 flip-flops and a 16:1 read mux over 8 bits, the
    # 8-bit read port, and control: busy, 1 mask bit, a 5-bit pad counter of 0..16 rows.
    per_column = 128 * 4.522 + 15 * 8 * 1.862 + (8 + 1 + 1 + 5) * 4.522
    assert decoder["weight_decoder"] == pytest.approx(8 * per_column * 1e-6)

    def mvq(v):
        fields = {"weight_decoder": "codebook", "decoder_entries": 4, "decoder_vector_length": v}
        return area(pe_kind="nm", nm_patterns=["2:4"], **fields)["weight_decoder"]

    # Vectors of 4 hold whole groups of 4; vectors of 3 do not and need a 2-bit position
    # offset, with 8 bits less per entry (4 entries, the read mux of 3 cells a bit and the
    # read port) and one mask bit less.
    fewer = 4 * 8 * 4.522 + 3 * 8 * 1.862 + 8 * 4.522 + 1 * 4.522
    assert mvq(4) - mvq(3) == pytest.approx(8 * (fewer - 2 * 4.522) * 1e-6)
    skip = area(pe_kind="skip", dataflow="os")["pe_select"]
    assert skip == pytest.approx(128 * (15 * 8 * 1.862 + 4 * 4.522 + 15 * 8 * 4.522 / 8) * 1e-6)
