"""Energy: tables and their sources, width and capacity scaling, overrides, the sum of parts."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compress.errors import InputError
from simulator import (
    AcceleratorConfig,
    Conv2d,
    Gemm,
    Layer,
    Linear,
    MatMul,
    Workload,
    load_config,
    simulate,
)
from simulator.config import builtin_energy_tables
from simulator.model.energy import (
    ACTION_KEYS,
    ENERGY_SPECS,
    ActionCounts,
    PricingInputs,
    load_energy_table,
)
from simulator.model.mapping import Operand
from tests.simulator.config_helpers import roomy_config

DATA = Path(__file__).resolve().parents[3] / "simulator" / "data"

SMALL = Workload(
    "small",
    (
        Layer("conv", Conv2d(h=12, w=12, c=8, k=16, r=3, s=3, padding=1)),
        Layer("dw", Conv2d(h=12, w=12, c=16, k=16, r=3, s=3, padding=1, groups=16)),
        Layer("scores", MatMul(m=16, k=8, n=16, count=2)),
        Layer("fc", Linear(in_features=256, out_features=10)),
    ),
)


def prices(table="horowitz45", a=8, b=8, acc=32, bank=8192, port=64, area=1.0):
    hw = PricingInputs(
        operand_bit_product=a * b,
        accumulator_bits=acc,
        sram_bank_bytes=dict.fromkeys(Operand, bank),
        sram_port_bits=dict.fromkeys(Operand, port),
        area_mm2=area,
    )
    return {k: float(v) for k, v in load_energy_table(table).prices(hw).items()}


# ---- the tables and their sources ---------------------------------------------------


@pytest.mark.parametrize(
    "path", sorted(DATA.glob("[ea]*.yaml")), ids=lambda p: p.name
)  # energy_*.yaml and area_*.yaml; technology.yaml is tested in test_technology.py
def test_every_table_entry_has_a_value_unit_and_source(path):
    data = yaml.safe_load(path.read_text())
    entries = [
        (f"{component}.{name}", entry)
        for component, body in data["entries"].items()
        for name, entry in body.items()
    ] + [(f"reference.{name}", e) for name, e in (data.get("reference") or {}).items()]
    assert entries
    for key, entry in entries:
        assert len(str(entry.get("source", "")).strip()) > 10, f"{path.name}: {key} has no source"
        assert entry.get("unit"), f"{path.name}: {key} has no unit"
        assert ("value" in entry) != ("points" in entry), key


def test_builtin_tables_load_and_cover_every_entry():
    assert set(builtin_energy_tables()) == {"horowitz45", "eyeriss"}
    for name in builtin_energy_tables():
        table = load_energy_table(name)
        assert set(table.table.entries) == set(ENERGY_SPECS)


def test_default_table_reproduces_horowitz_figures():
    table = load_energy_table("horowitz45")
    multiply, add = table.entry("pe", "multiply"), table.entry("pe", "add")
    assert float(multiply.at(8 * 8)) == pytest.approx(0.2)
    assert float(multiply.at(32 * 32)) == pytest.approx(3.1)
    assert float(add.at(8)) == pytest.approx(0.03)
    assert float(add.at(32)) == pytest.approx(0.1)
    sram = table.entry("sram", "read")
    for kib, pj in ((8, 10.0), (32, 20.0), (1024, 100.0)):
        assert float(sram.at(kib * 1024)) == pytest.approx(pj)
    assert prices()["dram.read"] * 64 == pytest.approx(1300.0)


def test_mac_energy_scales_with_the_operand_width_product_and_the_accumulator_width():
    """The documented law: log-log through Horowitz's 8- and 32-bit points, so the
    multiplier goes as (a*b)^0.988 and the adder as acc^0.868."""
    alpha, beta = math.log(3.1 / 0.2) / math.log(16), math.log(0.1 / 0.03) / math.log(4)
    base = prices(a=8, b=8, acc=32)["pe.mac"]
    assert base == pytest.approx(0.2 + 0.1)
    wide = prices(a=16, b=16, acc=32)["pe.mac"]
    assert wide == pytest.approx(0.2 * 4**alpha + 0.1)
    mixed = prices(a=8, b=4, acc=16)["pe.mac"]
    assert mixed == pytest.approx(0.2 * 0.5**alpha + 0.03 * 2**beta)
    # Halving the weight width roughly halves the multiplier energy (exponent ~1).
    assert 0.49 < (prices(a=8, b=4)["pe.mac"] - 0.1) / 0.2 < 0.51


def test_sram_energy_interpolates_capacity_and_port_width():
    # 16 KiB lies between the 8 KiB (10 pJ) and 32 KiB (20 pJ) points: log-log midpoint.
    per_bit_64 = prices(bank=16 * 1024, port=64)["input_sram.read"]
    assert per_bit_64 * 64 == pytest.approx(10 * math.sqrt(2))
    # A 4x wider port costs 4^0.52 as much per access, so 4^-0.48 per bit.
    per_bit_256 = prices(bank=16 * 1024, port=256)["input_sram.read"]
    assert per_bit_256 / per_bit_64 == pytest.approx(4**-0.48)
    # Bigger SRAMs cost more per bit, beyond the last point too.
    assert prices(bank=4 << 20)["weight_sram.read"] > prices(bank=1 << 20)["weight_sram.read"]


def test_eyeriss_table_gives_the_papers_ratios_at_16_bits():
    p = prices("eyeriss", a=16, b=16, acc=16)
    assert p["pe.mac"] == pytest.approx(1.0)
    assert p["register.read"] * 16 == pytest.approx(1.0)
    assert p["array.hop"] * 16 == pytest.approx(2.0)
    assert p["input_sram.read"] * 16 == pytest.approx(6.0)
    assert p["dram.read"] * 16 == pytest.approx(200.0)
    assert load_energy_table("eyeriss").unit == "MAC16"


# ---- energy = sum of its parts ----------------------------------------------------------

configs = st.builds(
    roomy_config,
    rows=st.integers(1, 32),
    cols=st.integers(1, 32),
    dataflow=st.sampled_from(["os", "ws", "is"]),
    fold_schedule=st.sampled_from(["sequential", "overlapped"]),
    activation_bits=st.integers(2, 16),
    weight_bits=st.integers(1, 16),
    accumulator_bits=st.integers(16, 40),
    ifmap_sram_bytes=st.integers(256, 1 << 18),
    ofmap_sram_bytes=st.integers(256, 1 << 18),
    energy_table=st.sampled_from(["horowitz45", "eyeriss"]),
    stream_tiling=st.sampled_from(["none", "fit"]),
)


@settings(max_examples=60, deadline=None)
@given(configs)
def test_energy_is_the_sum_of_its_parts(config):
    result = simulate(SMALL, config)
    for layer in result.layers:
        energy = layer.energy
        assert set(energy.by_action) == set(ACTION_KEYS)
        assert energy.total == pytest.approx(sum(energy.by_action.values()), rel=1e-12)
        for component, value in energy.by_component.items():
            parts = [v for k, v in energy.by_action.items() if k.split(".")[0] == component]
            assert value == pytest.approx(sum(parts), rel=1e-12)
        assert all(v >= 0 for v in energy.by_action.values())
    total = result.energy
    assert total.total == pytest.approx(sum(layer.energy.total for layer in result.layers))
    data = result.to_dict()["total"]
    assert data["energy"]["total"] == pytest.approx(sum(data["energy"]["by_component"].values()))
    assert data["energy"]["unit"] == result.energy_unit
    # The format-3 key survives only where it means what it says.
    assert ("energy_pj" in data) == (result.energy_unit == "pJ")


# A flip-flop write per bit from NanGate FreePDK45 DFF_X1 (typical, 1.1 V; 0.041 ns slew,
# 7.59 fF load): CK pin per clock + 1/2 x (D pin + CK->Q + the output net), in fJ, then
# scaled to the table's 0.9 V. The figures are the liberty file's (see the table's source).
CK = (4.653631 + 2.538300 + 7.732922 + 7.700613 + 4.421492 + 2.730149) / 4
D_PIN = (4.257524 + 3.089699 + 4.201258 + 3.048552) / 4
CK_TO_Q = (4.322728 + 4.426014) / 2
NET = 0.5 * 7.59125 * 1.1**2
FLOP_PJ = (CK + 0.5 * (D_PIN + CK_TO_Q + NET)) * (0.9 / 1.1) ** 2 * 1e-3


def test_flip_flop_price_follows_the_liberty_figures():
    p = prices()
    assert abs(FLOP_PJ - 0.009206) < 5e-7
    assert p["register.write"] == pytest.approx(FLOP_PJ, rel=1e-4)
    assert p["array.hop"] == pytest.approx(FLOP_PJ, rel=1e-4)
    assert p["register.read"] == 0.0  # a flip-flop's output needs no read
    # A register file stays priced as one: the decoder tables (1 pJ per 32 bits).
    assert p["decoder.lookup"] == pytest.approx(1 / 32)


def test_counts_times_prices_by_hand():
    # ws 4x4, GEMM 4x4x4, 8-bit operands, 32-bit psums: one fold, everything fits.
    wl = Workload("g", (Layer("g", Gemm(4, 4, 4)),))
    config = AcceleratorConfig(rows=4, cols=4, dataflow="ws")
    result = simulate(wl, config)
    layer = result.layers[0]
    p = result.energy_table["prices"]
    e = layer.energy.by_action
    macs, flop = 64, p["register.write"]["value"]
    assert e["pe.mac"] == pytest.approx(macs * 0.3)
    assert e["register.read"] == 0.0  # the stationary weight's flip-flops drive the MAC
    assert e["register.write"] == pytest.approx(16 * 8 * flop)  # 16 weights latched
    # Each MAC receives an 8-bit input and a 32-bit psum; the preload moves a weight for
    # row r through r PEs: 4 columns x (1 + 2 + 3 + 4) hops of 8 bits.
    assert e["array.hop"] == pytest.approx((macs * 40 + 4 * 10 * 8) * flop)
    assert e["dram.read"] == pytest.approx((16 + 16) * 8 * p["dram.read"]["value"])
    assert e["dram.write"] == pytest.approx(16 * 8 * p["dram.write"]["value"])
    assert e["dram_interface.read"] == pytest.approx((16 + 16) * 8 * 1.83)
    assert e["dram_interface.write"] == pytest.approx(16 * 8 * 5.68)
    # Leakage: 14.31 mW/mm^2 of logic at 1 GHz is 14.31 pJ per cycle and mm^2 of logic.
    logic = sum(a for name, a in result.area_mm2.items() if not name.endswith(("_sram", "face")))
    leak = 14.31 * logic * layer.cycles.total
    assert e["leakage.cycle"] == pytest.approx(leak)


def test_stream_tiles_preload_every_weight_once_per_tile():
    # ws 4x4, GEMM m=10, n=4, k=8: two row folds; a 64-byte output buffer holds 4 rows of
    # 4 x 32-bit psums (single-buffered), so fit streams m as 4 + 4 + 2: nt = 3.
    wl = Workload("g", (Layer("g", Gemm(10, 4, 8)),))
    none = AcceleratorConfig(rows=4, cols=4, ofmap_sram_bytes=64, sram_double_buffered=False)
    e0 = simulate(wl, none).layers[0].energy.by_action
    e3 = simulate(wl, none.replace(stream_tiling="fit")).layers[0].energy.by_action
    assert e0["register.write"] == pytest.approx(32 * 8 * FLOP_PJ, rel=1e-4)  # 32 latched
    assert e3["register.write"] == pytest.approx(3 * e0["register.write"])
    # Hops: the MACs' moving operands are the same; the preload hops (2 row folds x 4
    # columns x (1 + 2 + 3 + 4) x 8 bits) happen three times.
    preload_hops = 2 * 4 * 10 * 8 * FLOP_PJ
    assert e3["array.hop"] - e0["array.hop"] == pytest.approx(2 * preload_hops, rel=1e-4)
    assert e3["pe.mac"] == e0["pe.mac"] and e3["register.read"] == e0["register.read"]


def test_action_counts_reject_unknown_actions():
    with pytest.raises(ValueError, match=r"unknown action 'pe\.mul'.*pe\.mac"):
        ActionCounts({"pe.mul": np.ones(3)})
    counts = ActionCounts({"pe.mac": np.ones(3)})
    assert counts["dram.read"].tolist() == [0, 0, 0]
    with pytest.raises(KeyError, match="unknown action"):
        counts["sram.read"]


# ---- overrides ------------------------------------------------------------------------


def write(tmp_path, text, name="over.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_override_replaces_entries_and_is_recorded(tmp_path):
    path = write(
        tmp_path,
        "dram:\n  read: {value: 0.0, unit: pJ/bit, source: 'free DRAM, for a test'}\n"
        "  write: {value: 0.0, unit: pJ/bit, source: 'free DRAM, for a test'}\n"
        "chip:\n  leakage: {value: 2.0, unit: pJ/cycle/mm^2, source: a test figure}\n",
    )
    base = AcceleratorConfig(rows=8, cols=8)
    config = base.replace(energy_overrides=str(path))
    result = simulate(SMALL, config)
    assert result.energy.by_component["dram"] == 0.0
    assert result.energy_table["overridden"] == ["dram.read", "dram.write", "chip.leakage"]
    # Leakage: price per cycle = 2 pJ/mm^2 x the chip area, counted every cycle.
    leak = result.energy.by_component["leakage"]
    assert leak == pytest.approx(2.0 * result.area_total_mm2 * result.cycles.total)
    untouched = simulate(SMALL, base)
    assert result.energy.by_component["pe"] == untouched.energy.by_component["pe"]


def test_relative_override_path_is_relative_to_the_config_file(tmp_path):
    (tmp_path / "tables").mkdir()
    write(
        tmp_path / "tables",
        "pe:\n  gated_mac: {value: 0.01, unit: pJ, source: a test figure}\n",
    )
    cfg = write(tmp_path, "rows: 4\ncols: 4\nenergy_overrides: tables/over.yaml\n", "acc.yaml")
    config = load_config(cfg)
    assert Path(config.energy_overrides) == (tmp_path / "tables" / "over.yaml").resolve()
    assert simulate(SMALL, config).energy_table["overridden"] == ["pe.gated_mac"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("drm:\n  read: {value: 1, unit: pJ/bit, source: x}\n", "unknown component 'drm'"),
        ("drm:\n  read: {value: 1, unit: pJ/bit, source: x}\n", "did you mean 'dram'"),
        ("dram:\n  reed: {value: 1, unit: pJ/bit, source: x}\n", "unknown entry 'reed'"),
        ("dram:\n  read: {value: 1, unit: nJ/bit, source: x}\n", "unit must be 'pJ/bit'"),
        ("dram:\n  read: {value: 1, unit: pJ/bit}\n", "needs a source"),
        ("dram:\n  read: {value: -1, unit: pJ/bit, source: x}\n", "non-negative"),
        ("dram:\n  read: {points: [[1, 2]], unit: pJ/bit, source: x}\n", "constant"),
        (
            "sram:\n  read: {scale: capacity_bytes, points: [[2, 1], [1, 3]],"
            " unit: pJ/64-bit access, source: x}\n",
            "strictly increasing",
        ),
        ("dram: [1, 2]\n", "mapping of entry name"),
        ("dram:\n  read: {value: 1, unit: pJ/bit, source: x\n", "not valid YAML"),
        ("", "at least one entry"),
    ],
)
def test_bad_energy_yaml_gets_a_clear_error(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match="energy override file .*over.yaml") as info:
        load_energy_table("horowitz45", path)
    assert fragment in str(info.value)


def test_numbers_yaml_reads_as_text_are_numbers(tmp_path):
    """YAML 1.1 reads 1.5e1 (no sign in the exponent) as text; an energy is a number."""
    path = write(tmp_path, "dram:\n  read: {value: 1.5e1, unit: pJ/bit, source: a test}\n")
    assert load_energy_table("horowitz45", path).entry("dram", "read").at() == 15.0


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("1: {read: {value: 1, unit: pJ/bit, source: x}}\n", "unknown component 1"),
        ("entries: 5\n", "entries must be a mapping of component"),
        ("dram:\n  read: {value: 1, unit: pJ/bit, source: x, colour: red}\n",
         "unknown key 'colour'"),
        ("dram:\n  read: {value: .inf, unit: pJ/bit, source: x}\n", "finite"),
        ("dram:\n  read: {value: true, unit: pJ/bit, source: x}\n", "True must be"),
    ],
)  # fmt: skip
def test_no_python_message_reaches_the_user(tmp_path, text, fragment):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match="energy override file") as info:
        load_energy_table("horowitz45", path)
    assert fragment in str(info.value)


def test_a_cost_table_with_a_list_of_references_is_refused(tmp_path):
    from simulator.model.cost_table import load_table
    from simulator.model.energy import DATA_DIR, ENERGY_SPECS

    data = yaml.safe_load((DATA_DIR / "energy_horowitz45.yaml").read_text())
    data["reference"] = ["a", "b"]
    path = write(tmp_path, yaml.safe_dump(data), "table.yaml")
    with pytest.raises(InputError, match="cost table .*table.yaml: reference: must be a mapping"):
        load_table(path, ENERGY_SPECS)


def test_a_missing_override_file_is_an_error():
    with pytest.raises(InputError, match="energy override file /no/such.yaml does not exist"):
        simulate(SMALL, AcceleratorConfig(rows=4, cols=4, energy_overrides="/no/such.yaml"))


def test_zigzag_per_access_energies_reproduce_its_mac_and_dram_energy():
    """benchmarks/zigzag_sa32.yaml gives sparsa ZigZag's per-access energies; on the 3x3
    conv both tools read the feature map and weights once and write the outputs once, so
    the MAC and DRAM energies equal ZigZag's (its oracle README's hand check:
    115,605,504 MACs x 0.04 pJ; 25,088 + 4,608 64-bit reads x 700 pJ, 25,088 writes x
    750 pJ)."""
    overrides = Path(__file__).resolve().parents[3] / "benchmarks" / "zigzag_sa32.yaml"
    config = AcceleratorConfig(
        rows=32,
        cols=32,
        accumulator_bits=16,
        ifmap_sram_bytes=4 << 20,
        filter_sram_bytes=4 << 20,
        ofmap_sram_bytes=4 << 20,
        dram_bytes_per_cycle=8.0,
        fold_schedule="overlapped",
        energy_overrides=str(overrides),
    )
    conv = Layer("c", Conv2d(h=56, w=56, c=64, k=64, r=3, s=3, padding=1))
    energy = simulate(Workload("c", (conv,)), config).energy.by_component
    assert energy["pe"] == pytest.approx(115_605_504 * 0.04)
    assert energy["dram"] == pytest.approx((25_088 + 4_608) * 700 + 25_088 * 750)
