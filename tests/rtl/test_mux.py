"""Multiplexer trees: every select value picks its choice (0 past the end), and the
priority chain finds the highest set bit."""

from __future__ import annotations

import pytest
from amaranth import Module, Signal, signed
from amaranth.back import verilog

from rtl.mux import highest_set, mux_tree
from tests.rtl.amaranth_sim import run_testbench


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 8])
def test_mux_tree_selects_each_choice(count, request):
    select = Signal(range(count + 2))
    out = Signal(signed(8))
    choices = [Signal(signed(8), name=f"c{i}") for i in range(count)]
    m = Module()
    m.d.comb += out.eq(mux_tree(select, choices))

    async def testbench(ctx):
        for i, choice in enumerate(choices):
            ctx.set(choice, -50 + 17 * i)
        for value in range(count + 2):
            ctx.set(select, value)
            expected = -50 + 17 * value if value < count else 0
            assert ctx.get(out) == expected, value

    run_testbench(m, testbench, request.node.name, clock=False)


def test_highest_set_bit(request):
    bits, index = Signal(6), Signal(range(6))
    m = Module()
    m.d.comb += index.eq(highest_set(bits, 6))

    async def testbench(ctx):
        for value in range(64):
            ctx.set(bits, value)
            assert ctx.get(index) == (value.bit_length() - 1 if value else 0), value

    run_testbench(m, testbench, request.node.name, clock=False)


def test_a_tree_is_continuous_assignments():
    """No ``always @*`` block, which Icarus would leave at x until an input changes."""
    select, out = Signal(2), Signal(8)
    m = Module()
    m.d.comb += out.eq(mux_tree(select, [Signal(8, name=f"c{i}") for i in range(4)]))
    text = verilog.convert(m, ports=[select, out], emit_src=False)
    assert "always @*" not in text and "assign" in text
