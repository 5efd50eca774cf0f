"""Run an Amaranth-simulator testbench, with a VCD when ``WAVES=1`` (see cocotb_run)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from amaranth.sim import Simulator

from tests.rtl.cocotb_run import waves_path

__all__ = ["run_testbench"]


def run_testbench(
    dut, testbench: Callable[..., Awaitable[None]], test_name: str, clock: bool = True
) -> None:
    """Simulate ``dut`` with a 100 MHz ``sync`` clock (unless ``clock=False``: purely
    combinational designs have no ``sync`` domain) and one ``add_testbench`` coroutine."""
    sim = Simulator(dut)
    if clock:
        sim.add_clock(1e-8)
    sim.add_testbench(testbench)
    vcd = waves_path(test_name)
    if vcd is None:
        sim.run()
        return
    with sim.write_vcd(str(vcd)):
        sim.run()
    print(f"waves: {vcd}")
