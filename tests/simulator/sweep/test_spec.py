"""Sweep specs: axes, sampling and constraints are validated with errors naming them."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from simulator.sweep.constraints import ConstraintError, parse_constraint
from simulator.sweep.sampling import sample_points, unit_samples
from simulator.sweep.spec import SpecError, load_spec, spec_from_dict
from tests.conftest import ROOT

BASE = {"rows": 16, "cols": 16, "dataflow": "ws"}


def spec(**overrides):
    data = {"base": BASE, "workloads": ["resnet18"], "axes": {"rows": [8, 16]}, **overrides}
    return spec_from_dict(data, root=ROOT)


def test_grid_counts_and_order():
    s = spec(
        axes={"rows": [8, 16, 32], "dataflow": ["os", "ws"], "cols": {"range": [8, 32], "step": 8}}
    )
    assert s.n_points == 3 * 2 * 4
    points = sample_points(s)
    assert points["point_id"].tolist() == list(range(24))
    # The last axis varies fastest.
    assert points["cols"][:4].tolist() == [8, 16, 24, 32]
    assert points["dataflow"][:8].tolist() == ["os"] * 4 + ["ws"] * 4
    assert points["rows"].tolist() == [8] * 8 + [16] * 8 + [32] * 8
    combos = {
        (r, d, c)
        for r, d, c in zip(points["rows"], points["dataflow"], points["cols"], strict=True)
    }
    assert len(combos) == 24


def test_num_and_log_ranges():
    s = spec(axes={"dram_bytes_per_cycle": {"range": [2, 32], "num": 5, "scale": "log"}})
    assert s.axes[0].values == pytest.approx((2, 4, 8, 16, 32))
    ints = spec(axes={"rows": {"range": [4, 64], "num": 5, "scale": "log"}})
    assert ints.axes[0].values == (4, 8, 16, 32, 64)


@pytest.mark.parametrize("method", ["random", "lhs"])
def test_random_and_lhs_are_seeded_and_in_range(method):
    axes = {
        "rows": {"range": [4, 256], "scale": "log"},
        "clock_mhz": {"range": [100, 900]},
        "dataflow": ["os", "ws", "is"],
    }
    a = sample_points(spec(axes=axes, sampling={"method": method, "samples": 300, "seed": 7}))
    b = sample_points(spec(axes=axes, sampling={"method": method, "samples": 300, "seed": 7}))
    c = sample_points(spec(axes=axes, sampling={"method": method, "samples": 300, "seed": 8}))
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["clock_mhz"], c["clock_mhz"])
    assert len(a["rows"]) == 300
    assert a["rows"].dtype.kind == "i" and a["rows"].min() >= 4 and a["rows"].max() <= 256
    assert a["clock_mhz"].min() >= 100 and a["clock_mhz"].max() <= 900
    assert set(a["dataflow"]) == {"os", "ws", "is"}


def test_lhs_hits_every_stratum_once():
    u = unit_samples("lhs", 50, 3, seed=1)
    for j in range(3):
        assert sorted(np.floor(u[:, j] * 50).astype(int)) == list(range(50))


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"axes": {"rowz": [1]}}, "axis 'rowz': not a sweepable config field"),
        ({"axes": {"rows": [0, 8]}}, "axis 'rows': value 0 must be an integer from 1"),
        (
            {"axes": {"dataflow": ["os", "xs"]}},
            "axis 'dataflow': value 'xs' must be one of os, ws, is",
        ),
        (
            {"axes": {"stream_tiling": ["none", "auto"]}},
            "axis 'stream_tiling': value 'auto' must be one of none, fit",
        ),
        ({"axes": {"rows": {"range": [8, 4]}}}, "low < high"),
        ({"axes": {"rows": {"range": [4, 8]}}}, "grid sampling needs values"),
        ({"axes": {"rows": {"range": [4, 8], "stp": 2}}}, "unknown key 'stp'"),
        ({"axes": {"dataflow": {"range": [1, 2]}}}, "needs a numeric field"),
        ({"axes": {"rows": []}}, "non-empty list"),
        ({"axes": {"rows": [8, 8]}}, "repeated values"),
        ({"axes": {}}, "axes must be a non-empty mapping"),
        ({"sampling": {"method": "sobol"}}, "method must be one of grid, random, lhs"),
        ({"sampling": {"method": "lhs"}}, "lhs needs samples"),
        ({"sampling": {"method": "grid", "samples": 4}}, "grid takes every combination"),
        ({"constraints": ["rows ** cols <= "]}, "not a valid expression"),
        ({"constraints": ["colour < 3"]}, "unknown name 'colour'"),
        ({"constraints": ["rows * cols"]}, "must be a comparison"),
        ({"constraints": ["__import__('os') == 1"]}, "Call is not allowed"),
        ({"workloads": []}, "workloads must be a non-empty list"),
        ({"workloads": ["missing.csv"]}, "does not exist"),
        ({"base": {"rows": 0, "cols": 4}}, "base:"),
        ({"chunk_size": 0}, "chunk_size must be an integer >= 1, not 0"),
        ({"extra": 1}, "unknown spec key 'extra'"),
    ],
)
def test_bad_specs_name_the_problem(overrides, fragment):
    with pytest.raises((SpecError, ConstraintError), match=fragment):
        spec(**overrides)


def test_fingerprint_changes_with_the_spec_only():
    assert spec().fingerprint() == spec().fingerprint()
    assert spec().fingerprint() != spec(axes={"rows": [8, 32]}).fingerprint()
    assert spec().fingerprint() != spec(chunk_size=7).fingerprint()


def test_constraints_evaluate_vectorized():
    columns = {
        "rows": np.array([8, 64, 256]),
        "cols": np.array([8, 128, 256]),
        "dataflow": np.array(["os", "ws", "is"]),
    }
    assert parse_constraint("rows * cols <= 16384").evaluate(columns).tolist() == [
        True,
        True,
        False,
    ]
    assert parse_constraint("pes > 100 and dataflow != 'is'").evaluate(columns).tolist() == [
        False,
        True,
        False,
    ]
    assert parse_constraint("8 < rows <= 64").evaluate(columns).tolist() == [False, True, False]
    assert parse_constraint("not rows == 8 or cols == 8").evaluate(columns).tolist() == [
        True,
        True,
        True,
    ]
    assert not parse_constraint("rows <= 64").needs_results
    assert parse_constraint("area_mm2 <= 10").needs_results


@pytest.mark.parametrize("name", ["sweep-example.yaml", "sweep-large.yaml", "sweep-recipes.yaml"])
def test_shipped_specs_load(name):
    s = load_spec(ROOT / "configs" / name)
    assert s.n_points >= 100
    raw = yaml.safe_load((ROOT / "configs" / name).read_text())
    assert s.name == raw["name"]


def test_scientific_notation_is_a_number_wherever_one_is_expected():
    # YAML 1.1 (PyYAML) reads 1.5e3 and 1e2 as strings; a spec reads them as numbers.
    data = yaml.safe_load(
        "base: {rows: 16, cols: 16, clock_mhz: 1.5e3}\nworkloads: [resnet18]\nbatch: 1e0\n"
        "chunk_size: 1e2\nsampling: {method: lhs, samples: 1e3, seed: 2e0}\n"
        "axes:\n  clock_mhz: {range: [1e2, 1.5e3]}\n  rows: [8, 1.6e1]\n"
        "  ofmap_sram_bytes: [6.4e4]\n  dram_bytes_per_cycle: {range: [2, 3.2e1]}\n"
    )
    assert isinstance(data["chunk_size"], str)  # what YAML 1.1 gives
    s = spec_from_dict(data, root=ROOT)
    assert (s.base.clock_mhz, s.batch, s.chunk_size, s.samples, s.seed) == (1500, 1, 100, 1000, 2)
    axes = {axis.name: axis for axis in s.axes}
    assert (axes["clock_mhz"].low, axes["clock_mhz"].high) == (100.0, 1500.0)
    assert axes["rows"].values == (8, 16) and all(type(v) is int for v in axes["rows"].values)
    assert axes["ofmap_sram_bytes"].values == (64000,)
    grid = spec(axes={"clock_mhz": {"range": ["1e2", "1.5e3"], "num": "3e0"}})
    assert grid.axes[0].values == (100.0, 800.0, 1500.0)


def test_a_huge_grid_is_refused_before_anything_is_allocated():
    import tracemalloc

    axes = {
        "rows": {"range": [1, 10000], "step": 1},
        "cols": {"range": [1, 10000], "step": 1},
        "clock_mhz": {"range": [100, 1000], "num": 1000},
        "dram_bytes_per_cycle": {"range": [1, 64], "num": 1000},
    }
    tracemalloc.start()
    try:
        with pytest.raises(SpecError, match=r"the grid has 100,000,000,000,000 points"):
            spec(axes=axes)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50e6  # the axes' values, never the grid (3 PiB)


def test_constraints_never_wrap_around():
    columns = {"rows": np.array([8, 16]), "cols": np.array([8, 16]), "macs": np.array([1, 2])}
    assert parse_constraint("rows * 2**64 > 2**64").evaluate(columns).tolist() == [True, True]
    assert parse_constraint("rows ** 30 >= 2**90").evaluate(columns).tolist() == [True, True]
    assert parse_constraint("rows ** 30 > 2**90").evaluate(columns).tolist() == [False, True]
    assert parse_constraint("pes * 2**62 > 0").evaluate(columns).tolist() == [True, True]
    assert parse_constraint("rows ** 400 > 1e300").evaluate(columns).tolist() == [True, True]
    assert parse_constraint("-rows ** 3 < 0").evaluate(columns).tolist() == [True, True]
    assert parse_constraint("(rows > 8) + (cols > 8) == 2").evaluate(columns).tolist() == [
        False,
        True,
    ]
    assert parse_constraint("macs / 0 > 1e308").evaluate(columns).tolist() == [True, True]
    assert parse_constraint("macs == 2**60").evaluate(columns).tolist() == [False, False]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("dataflow < 3", "compares dataflow (a string) with 3 (a number)"),
        ("rows == 'a'", "compares rows (a number) with 'a' (a string)"),
        ("dataflow + 1 > 0", "arithmetic needs numbers, and dataflow (a string) is not one"),
        ("dataflow > 'os'", "strings compare only with == or !="),
        ("'xs' == dataflow", "dataflow is one of os, ws, is, never 'xs'"),
        ("energy_table == 'nope'", "energy_table is one of eyeriss, horowitz45, never 'nope'"),
        ("rows == 9007199254740993", "has no exact float64 value"),
        ("rows == 1j", "1j is not a number or a quoted string"),
        ("dataflow and rows > 1", "and/or combine comparisons, not dataflow (a string)"),
    ],
)
def test_constraint_types_are_checked_when_parsed(text, fragment):
    with pytest.raises(ConstraintError, match=re.escape(fragment)):
        parse_constraint(text)


def test_text_constraints_still_work():
    columns = {"dataflow": np.array(["os", "ws"], dtype=object), "rows": np.array([1, 2])}
    assert parse_constraint("dataflow == 'ws' or rows == 1").evaluate(columns).tolist() == [
        True,
        True,
    ]
    assert parse_constraint("dataflow != 'ws'").evaluate(columns).tolist() == [True, False]


def test_files_in_axes_and_bundles_resolve_against_the_spec(tmp_path, monkeypatch):
    cheap = "pe:\n  gated_mac: {value: 0.01, unit: pJ, source: a test figure}\n"
    (tmp_path / "a.yaml").write_text(cheap)
    (tmp_path / "b.yaml").write_text(cheap)
    monkeypatch.chdir(ROOT)
    data = {
        "base": {"rows": 8, "cols": 8, "energy_overrides": "a.yaml"},
        "workloads": ["alexnet"],
        "axes": {
            "rows": [8],
            "tables": [{"label": "a"}, {"label": "b", "energy_overrides": "b.yaml"}],
        },
    }
    s = spec_from_dict(data, root=tmp_path)
    assert s.base.energy_overrides == str(tmp_path / "a.yaml")
    assert s.axes[1].fields[1]["energy_overrides"] == str(tmp_path / "b.yaml")
    assert {str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml")} <= set(s.input_files())
    one_unit = spec_from_dict({**data, "axes": {"energy_overrides": ["a.yaml", "b.yaml"]}},
                              root=tmp_path)  # fmt: skip
    assert one_unit.axes[0].values == (str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"))
