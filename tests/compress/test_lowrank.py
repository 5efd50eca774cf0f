"""Truncated SVD with rank by energy or by parameter ratio."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from compress.lowrank import low_rank


def test_exact_low_rank_matrix_is_recovered(rng):
    w = (rng.normal(size=(30, 3)) @ rng.normal(size=(3, 40))).astype(np.float32)
    result = low_rank(w, energy=0.999999)
    assert result.rank == 3
    np.testing.assert_allclose(result.reconstruct(), w, atol=1e-4)
    assert result.saves_storage and result.factor_params == 3 * 70


def test_energy_threshold_is_the_smallest_rank_reaching_it(rng):
    w = rng.normal(size=(20, 20))
    result = low_rank(w, energy=0.8)
    s = np.linalg.svd(w, compute_uv=False)
    energy = np.cumsum(s**2) / (s**2).sum()
    assert energy[result.rank - 1] >= 0.8 > energy[result.rank - 2]
    assert result.energy == pytest.approx(energy[result.rank - 1])


def test_parameter_ratio(rng):
    w = rng.normal(size=(64, 300))
    result = low_rank(w, param_ratio=0.25)
    assert result.rank == int(0.25 * 64 * 300 // 364)
    assert result.factor_params <= 0.25 * w.size


def test_says_when_it_saves_nothing(rng, caplog):
    with caplog.at_level(logging.WARNING, logger="compress.lowrank"):
        result = low_rank(rng.normal(size=(10, 10)), energy=1.0)
    assert not result.saves_storage
    assert "saves nothing" in caplog.text


def test_arguments():
    with pytest.raises(ValueError, match="exactly one of"):
        low_rank(np.ones((3, 3)))
    with pytest.raises(ValueError, match="energy must be in"):
        low_rank(np.ones((3, 3)), energy=1.5)
    with pytest.raises(ValueError, match="param_ratio must be > 0"):
        low_rank(np.ones((3, 3)), param_ratio=0)
