"""Sweep specs: axes, sampling and constraints are validated with errors naming them."""

from __future__ import annotations

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
