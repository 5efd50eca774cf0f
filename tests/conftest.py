"""Shared test fixtures: paths that never depend on the working directory."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite the golden files in tests/golden/ from the current code",
    )


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True under ``pytest --update-golden``: golden tests rewrite their files."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="module")
def trained_once():
    """Train each built-in digits model once per test module: ``compress.load_model`` (as
    the co-design loop, the recipe sweeps and ``sparsa compress`` call it) is replaced by a
    memo that returns fresh copies of the same deterministic parameters."""
    import compress.reference
    import simulator.cli.compress
    import simulator.codesign.inputs

    real = compress.reference.load_model
    trained: dict[tuple[str, int], object] = {}

    def load_model(spec, seed=0):
        key = (str(spec), seed)
        if str(spec) not in compress.reference.NETS:
            return real(spec, seed=seed)
        if key not in trained:
            trained[key] = real(spec, seed=seed)
        loaded = trained[key]
        params = {name: value.copy() for name, value in loaded.params.items()}
        return compress.reference.LoadedModel(loaded.name, params, loaded.net, loaded.data)

    with pytest.MonkeyPatch.context() as patch:
        for module in (simulator.codesign.inputs, simulator.cli.compress):
            patch.setattr(module, "load_model", load_model)
        yield load_model
