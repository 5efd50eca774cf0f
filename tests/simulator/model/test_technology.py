"""Technology nodes: Stillmaker and Baas's factors applied to one MAC and one SRAM read,
area factors, the leakage default, the DRAM interface and the data file's checks."""

from __future__ import annotations

import math

import pytest
import yaml

from compress.errors import InputError
from simulator import AcceleratorConfig, Gemm, Layer, Workload, simulate
from simulator.model.area import area_breakdown
from simulator.model.columns import ConfigColumns
from simulator.model.cost_table import TableError
from simulator.model.technology import DATA_FILE, load_technology

V = 0.9  # the energy table's supply: both nodes are compared at it


def energy_factor(a: float, b: float, c: float) -> float:
    """Stillmaker and Baas, Integration 2017, Table 5: EnergyFactor = a V^2 + b V + c."""
    return a * V * V + b * V + c


E45 = energy_factor(1.018, -0.3107, 0.1539)  # HP 45 nm
E32 = energy_factor(0.8367, -0.4341, 0.1701)  # HP 32 nm (the paper's corrigendum row)
E7 = energy_factor(0.1776, -0.09097, 0.02447)  # HP 7 nm
E20 = energy_factor(0.373, -0.1582, 0.04104)  # HP 20 nm
ONE_MAC = Workload("mac", (Layer("g", Gemm(m=1, n=1, k=1)),))


def prices_at(node: float) -> dict[str, float]:
    config = AcceleratorConfig(rows=1, cols=1, technology_nm=node, ifmap_sram_bytes=16 << 10)
    table = simulate(ONE_MAC, config).energy_table["prices"]
    return {key: entry["value"] for key, entry in table.items()}


def test_the_corrigendum_example_reproduces_from_the_data_file():
    # The authors' corrigendum of Section 4.2.1: EnergyFactor_x = 0.8367(0.9)^2 -
    # 0.4341(0.9) + 0.1701 = 0.4571, EnergyFactor_y = 3.755(1.3)^2 - 4.398(1.3) + 1.975 =
    # 2.604, E_x = 0.4571 / 2.604 x 1 pJ/Op = 0.1755 pJ/Op.
    nodes = yaml.safe_load(DATA_FILE.read_text())["nodes"]
    a, b, c = nodes[32]["energy"]
    x = a * 0.81 + b * 0.9 + c
    a, b, c = nodes[65]["energy"]
    y = a * 1.69 + b * 1.3 + c
    assert (round(x, 4), round(y, 3)) == (0.4571, 2.604)
    assert abs(x / y - 0.1755) < 1e-4


@pytest.mark.parametrize(("node", "factor"), [(32, E32 / E45), (7, E7 / E45)])
def test_one_mac_and_one_sram_read_scale_by_the_cited_equations(node, factor):
    at45, there = prices_at(45), prices_at(node)
    # An 8x8-bit MAC with a 32-bit add: 0.2 + 0.1 pJ at 45 nm (Horowitz).
    assert at45["pe.mac"] == pytest.approx(0.3)
    assert there["pe.mac"] == pytest.approx(0.3 * factor, rel=1e-12)
    # A 64-bit read of an 8 KiB bank (16 KiB double-buffered) is 10 pJ at 45 nm; the
    # array-side port of a 1x1 array is 8 bits wide.
    assert there["input_sram.read"] == pytest.approx(at45["input_sram.read"] * factor, rel=1e-12)
    # Flip-flops scale like logic; DRAM and its interface do not.
    assert there["register.write"] == pytest.approx(at45["register.write"] * factor, rel=1e-12)
    assert there["dram.read"] == at45["dram.read"]
    assert there["dram_interface.read"] == at45["dram_interface.read"] == 1.83


def test_nodes_between_the_tabulated_ones_interpolate_log_log():
    technology = load_technology()
    t = math.log(32 / 28) / math.log(32 / 20)
    expected = math.exp((1 - t) * math.log(E32 / E45) + t * math.log(E20 / E45))
    assert float(technology.energy_factor(28)) == pytest.approx(expected, rel=1e-12)
    area = math.exp((1 - t) * math.log(0.46) + t * math.log(0.21))
    assert float(technology.area_factor(28)) == pytest.approx(area, rel=1e-12)
    assert float(technology.area_factor(45)) == 1.0 and float(technology.energy_factor(45)) == 1.0


def test_area_scales_but_the_dram_interface_does_not():
    base = AcceleratorConfig(rows=32, cols=32, dram_bytes_per_cycle=16, clock_mhz=1000)
    at45, at7 = (
        {k: float(v[0, 0]) for k, v in area_breakdown(ConfigColumns.of([c])).items()}
        for c in (base, base.replace(technology_nm=7))
    )
    for name in ("pe_multipliers", "input_sram", "logic_overhead"):
        assert at7[name] == pytest.approx(at45[name] * 0.059)
    # 16 B/cycle at 1 GHz = 16 GB/s of receivers at 0.01028 mm^2 per GB/s.
    assert at45["dram_interface"] == at7["dram_interface"] == pytest.approx(16 * 0.01028)
    logic = sum(at45[n] for n in ("pe_multipliers", "pe_adders", "pe_registers"))
    assert at45["logic_overhead"] == pytest.approx(logic * (1 / 0.6 - 1))
    stall_free = base.replace(dram_bytes_per_cycle=1e15)  # SCALE-Sim's CALC mode
    assert float(area_breakdown(ConfigColumns.of([stall_free]))["dram_interface"][0, 0]) == 0


def test_leakage_default_and_normalized_tables():
    result = simulate(ONE_MAC, AcceleratorConfig(rows=4, cols=4, clock_mhz=500))
    leak = result.layers[0].energy.by_action["leakage.cycle"]
    # 14.31 mW/mm^2 of logic at 500 MHz: 28.62 pJ per cycle and mm^2; SRAM macros and the
    # DRAM interface are not counted.
    logic = sum(
        a for n, a in result.area_mm2.items() if n.startswith(("pe_", "weight_dec", "logic"))
    )
    assert leak == pytest.approx(14.31 / 0.5 * logic * result.cycles.total)
    eyeriss = AcceleratorConfig(rows=4, cols=4, energy_table="eyeriss", technology_nm=65)
    normalized = simulate(ONE_MAC, eyeriss)
    at45 = simulate(ONE_MAC, eyeriss.replace(technology_nm=45))
    assert normalized.energy.total == at45.energy.total  # MAC16 ratios: not scaled
    assert normalized.energy.by_component["leakage"] == 0
    scaled = {n: a for n, a in normalized.area_mm2.items() if n != "dram_interface"}
    base = {n: a for n, a in at45.area_mm2.items() if n != "dram_interface"}
    assert sum(scaled.values()) == pytest.approx(1.5 * sum(base.values()))


def test_every_figure_has_a_value_unit_and_source():
    data = yaml.safe_load(DATA_FILE.read_text())
    figures = [data["supply_v"], data["leakage"], data["placement_utilization"]]
    figures += list(data["dram_interface"].values())
    for figure in figures:
        assert set(figure) == {"value", "unit", "source"} and len(figure["source"]) > 20
    assert len(data["nodes_source"]) > 100


def test_a_bad_data_file_names_the_field(tmp_path):
    data = yaml.safe_load(DATA_FILE.read_text())
    data["leakage"]["unit"] = "W"
    bad = tmp_path / "technology.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(TableError, match="leakage unit must be 'mW/mm\\^2'"):
        load_technology(bad)


def _edited(tmp_path, edit):
    data = yaml.safe_load(DATA_FILE.read_text())
    edit(data)
    path = tmp_path / "technology.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(nodez=1), "unknown key 'nodez'; allowed: name"),
        (lambda d: d["nodes"].update(big={"area": 1.0, "energy": [1, 2, 3]}),
         "nodes.big: a node must be a positive number of nm, not 'big'"),
        (lambda d: d["nodes"][45].update(energy=[1, "x", 3]), "must hold three finite numbers"),
        (lambda d: d["nodes"][45].update(area=-1), "nodes.45.area must be a positive number"),
        (lambda d: d.update(reference_node_nm=3), "reference_node_nm 3 is outside the nodes"),
        (lambda d: d.update(reference_node_nm="45nm"), "reference_node_nm must be a positive"),
        (lambda d: d.update(dram_interface=[1]), "dram_interface must be a mapping"),
        (lambda d: d.pop("nodes_source"), "missing 'nodes_source'"),
    ],
)  # fmt: skip
def test_a_bad_technology_table_names_its_file_and_field(tmp_path, edit, message):
    path = _edited(tmp_path, edit)
    with pytest.raises(TableError, match=f"technology table {path}") as info:
        load_technology(path)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"), [("- 1\n", "must hold a YAML mapping"), ("", "missing 'nodes_unit'")]
)
def test_a_technology_table_must_be_a_mapping(tmp_path, content, message):
    path = tmp_path / "t.yaml"
    path.write_text(content)
    with pytest.raises(InputError, match="technology table") as info:
        load_technology(path)
    assert message in str(info.value)
