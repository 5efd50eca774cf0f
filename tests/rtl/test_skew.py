# amaranth: UnusedElaboratable=no
"""Skew and de-skew triangles in Amaranth's simulator."""

from __future__ import annotations

import numpy as np
import pytest
from amaranth import signed

from rtl.skew import Skew
from tests.rtl.amaranth_sim import run_testbench


@pytest.mark.parametrize("lanes", [2, 5])
@pytest.mark.parametrize("reverse", [False, True])
def test_lane_delays_count_enabled_cycles_only(lanes, reverse, request):
    """Lane i shows the input of ``delay(i)`` enabled cycles earlier (0 before that)."""
    rng = np.random.default_rng(lanes)
    inputs = rng.integers(-128, 128, size=(30, lanes))
    enables = rng.random(30) < 0.7
    dut = Skew(signed(8), lanes, reverse=reverse)
    outputs = []

    async def testbench(ctx):
        for vector, en in zip(inputs, enables, strict=True):
            ctx.set(dut.en, int(en))
            for lane, value in enumerate(vector):
                ctx.set(dut.i[lane], int(value))
            outputs.append([ctx.get(dut.o[lane]) for lane in range(lanes)])
            await ctx.tick()

    run_testbench(dut, testbench, request.node.name)
    # Input presented at an enabled cycle is "step" number s; the output at step s
    # shows the input of step s - delay. Between enabled cycles nothing moves.
    steps = np.cumsum(enables) - enables  # enabled cycles before each cycle
    enabled_inputs = inputs[enables]
    for cycle, out in enumerate(outputs):
        for lane in range(lanes):
            delay = dut.delay(lane)
            if delay == 0:
                assert out[lane] == inputs[cycle][lane]
                continue
            source = steps[cycle] - delay
            expected = enabled_inputs[source][lane] if source >= 0 else 0
            assert out[lane] == expected, (cycle, lane)


def test_one_lane_is_a_wire(request):
    dut = Skew(signed(8), 1, reverse=True)

    async def testbench(ctx):
        for value in (-128, 0, 127):
            ctx.set(dut.i[0], value)
            assert ctx.get(dut.o[0]) == value

    run_testbench(dut, testbench, request.node.name, clock=False)


def test_delays():
    assert [Skew(signed(4), 4).delay(i) for i in range(4)] == [0, 1, 2, 3]
    assert [Skew(signed(4), 4, reverse=True).delay(i) for i in range(4)] == [3, 2, 1, 0]


def test_refuses_no_lanes():
    with pytest.raises(ValueError, match="lanes must be a positive integer, not 0"):
        Skew(signed(8), 0)
