"""Shared fixtures for the compression tests: the digits split and trained networks."""

from __future__ import annotations

import numpy as np
import pytest

from compress.data import load_digits_split
from compress.train import train_reference


@pytest.fixture(scope="session")
def digits():
    return load_digits_split()


@pytest.fixture(scope="session")
def mlp():
    """The reference MLP trained with seed 0 (about a second)."""
    return train_reference("digits-mlp", seed=0)


@pytest.fixture(scope="session")
def cnn():
    """A short-trained CNN (5 epochs), enough for smoke tests."""
    return train_reference("digits-cnn", seed=0, epochs=5)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
