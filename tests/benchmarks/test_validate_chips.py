"""benchmarks/validate_chips.py: its core runs, every figure has a source, and the
figures that follow from the configs alone meet their 1 % tolerance."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def validate_chips():
    path = ROOT / "benchmarks" / "validate_chips.py"
    spec = importlib.util.spec_from_file_location("validate_chips", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["validate_chips"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules["validate_chips"]


def test_validate_runs_and_cites_every_figure(validate_chips):
    checks = validate_chips.validate()
    chips = {check.chip.split(" (")[0] for check in checks}
    assert chips == {"TPUv1", "Eyeriss v1", "Gemmini"}
    assert all(check.source for check in checks)
    for check in checks:
        if check.within is not None and check.published is not None:
            assert check.ok is not None, check.quantity
    by_name = {(c.chip.split(" (")[0], c.quantity): c for c in checks}
    assert by_name[("TPUv1", "peak")].ok
    assert by_name[("TPUv1", "roofline ridge point")].ok
    assert by_name[("TPUv1", "peak")].model == pytest.approx(2 * 65536 * 700e6 / 1e12)
    table = validate_chips.render(checks)
    assert table.startswith("| chip | figure |") and table.count("\n") == len(checks) + 1


def test_check_tolerance_is_a_factor(validate_chips):
    check = validate_chips.Check("c", "q", "u", model=3.0, published=2.0, source="s", within=2)
    assert check.ratio == 1.5 and check.ok
    assert validate_chips.Check("c", "q", "u", 5.0, 2.0, "s", 2.0).ok is False
    assert validate_chips.Check("c", "q", "u", 5.0, None, "s", 2.0).ok is None
