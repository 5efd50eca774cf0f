"""benchmarks/seed_papers.py: its targets work, the EIE and NVIDIA cases (fast: the digits
MLP and synthetic BERT-Large weights) meet them, and the MVQ and weight-pool rows are
built (on the digits MLP here; ResNet-18's k-means takes minutes, so the full run is the
benchmark's own)."""

from __future__ import annotations

import importlib.util
import math
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def seed():
    path = ROOT / "benchmarks" / "seed_papers.py"
    spec = importlib.util.spec_from_file_location("seed_papers", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["seed_papers"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules["seed_papers"]


def test_targets(seed):
    within = seed.Target("x2", factor=2)
    assert within.holds(19, 10) and within.holds(5, 10) and not within.holds(21, 10)
    bounds = seed.Target("1 < m < 3", low=1, high=3)
    assert bounds.holds(1.5, 3) and not bounds.holds(1, 3) and not bounds.holds(3, None)
    assert seed.Target("<=", low=1.8, high=2, inclusive=True).holds(2.0, 2)


@pytest.mark.parametrize("case", ["eie_rows", "nvidia_rows"])
def test_fast_cases_are_in_shape(seed, case):
    rows = getattr(seed, case)()
    gated = [row for row in rows if row.target is not None]
    assert len(gated) >= 3
    assert all(row.source for row in rows)
    assert [row.figure for row in gated if not row.passed] == []


def test_mvq_and_pool_rows_are_built(seed, monkeypatch):
    monkeypatch.setattr(seed, "SYNTHETIC", "digits-mlp")
    mvq = seed._compressed_bytes("digits-mlp", seed.MVQ_RECIPE, None)
    pools = {label: seed._compressed_bytes("digits-mlp", recipe, None)
             for label, (recipe, _, _) in seed.POOLS.items()}  # fmt: skip
    int8 = seed._compressed_bytes("digits-mlp", seed.INT8_RECIPE, None)
    rows = seed.mvq_rows(mvq) + seed.pool_rows(pools, int8)
    assert all(row.source and not math.isnan(row.model) for row in rows)
    storage = [row for row in rows if row.figure == "storage vs int8 per-channel"]
    assert len(storage) == 2 and all(row.model > 4 for row in storage)
