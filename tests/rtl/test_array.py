# amaranth: UnusedElaboratable=no
"""The systolic arrays alone in Amaranth's simulator: values and latency, exactly."""

from __future__ import annotations

import numpy as np
import pytest

from rtl.array import OutputStationaryArray, WeightStationaryArray
from rtl.reference import accumulate_step, reference_matmul
from tests.rtl.amaranth_sim import run_testbench


def nonzero(rng, low, high, size):
    values = rng.integers(low, high, size=size)
    return np.where(values == 0, 1, values)


def ws_expected(a, w, psum, bits, overflow):
    """Column sums, row by row in order, as the PE chain computes them."""
    out = psum.copy()
    for r in range(w.shape[0]):
        out = accumulate_step(out, np.outer(a[:, r], w[r]), bits, overflow)
    return out


@pytest.mark.parametrize(("rows", "cols"), [(3, 4), (4, 1), (1, 3)])
@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
def test_ws_array_loads_streams_and_drains(rows, cols, overflow, request):
    rng = np.random.default_rng(rows * 10 + cols)
    t, bits = 6, 18
    w = nonzero(rng, -128, 128, (rows, cols))
    a = nonzero(rng, -128, 128, (t, rows))
    psum = rng.integers(-(1 << 17), 1 << 17, size=(t, cols))
    dut = WeightStationaryArray(rows, cols, 8, 8, bits, overflow)
    seen = {}

    async def testbench(ctx):
        ctx.set(dut.en, 1)
        ctx.set(dut.load, 1)
        for r in reversed(range(rows)):  # bottom row first
            ctx.set(dut.w_in, [int(x) for x in w[r]])
            await ctx.tick()
        ctx.set(dut.load, 0)
        for cycle in range(t + rows + cols):
            vector = cycle < t
            ctx.set(dut.a_in, [int(x) for x in a[cycle]] if vector else [0] * rows)
            ctx.set(dut.psum_in, [int(x) for x in psum[cycle]] if vector else [0] * cols)
            seen[cycle] = [ctx.get(dut.psum_out[c]) for c in range(cols)]
            await ctx.tick()

    run_testbench(dut, testbench, request.node.name)
    latency = rows + cols - 1
    expected = ws_expected(a, w, psum, bits, overflow)
    for j in range(t):
        assert seen[j + latency] == list(expected[j]), j
    assert seen[latency - 1] == [0] * cols  # nothing earlier: the latency is exact


def test_ws_array_freezes_with_en_low(request):
    """Random cycles with en low: the outputs seen in enabled cycles do not change."""
    rows, cols, t = 3, 3, 5
    rng = np.random.default_rng(11)
    w = nonzero(rng, -128, 128, (rows, cols))
    a = nonzero(rng, -128, 128, (t, rows))
    dut = WeightStationaryArray(rows, cols, 8, 8, 32)
    enabled_outputs = []

    async def testbench(ctx):
        steps = [("load", r) for r in reversed(range(rows))] + [
            ("feed", j) for j in range(t + rows + cols)
        ]
        for kind, index in steps:
            while rng.random() < 0.4:  # a stalled cycle: garbage on the inputs, en low
                ctx.set(dut.en, 0)
                ctx.set(dut.load, 1)
                ctx.set(dut.a_in, [99] * rows)
                await ctx.tick()
            ctx.set(dut.en, 1)
            ctx.set(dut.load, kind == "load")
            if kind == "load":
                ctx.set(dut.w_in, [int(x) for x in w[index]])
            ctx.set(
                dut.a_in, [int(x) for x in a[index]] if kind == "feed" and index < t else [0] * rows
            )
            ctx.set(dut.psum_in, [0] * cols)
            if kind == "feed":
                enabled_outputs.append([ctx.get(dut.psum_out[c]) for c in range(cols)])
            await ctx.tick()

    run_testbench(dut, testbench, request.node.name)
    expected = a @ w
    latency = rows + cols - 1
    assert enabled_outputs[latency : latency + t] == [list(row) for row in expected]


@pytest.mark.parametrize(("rows", "cols"), [(3, 4), (4, 1), (1, 3), (2, 2)])
@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
def test_os_array_accumulates_and_reads_rows(rows, cols, overflow, request):
    rng = np.random.default_rng(rows * 10 + cols + 1)
    t, bits = 7, 16
    a = nonzero(rng, -128, 128, (rows, t))
    b = nonzero(rng, -128, 128, (t, cols))
    dut = OutputStationaryArray(rows, cols, 8, 8, bits, overflow)
    rows_seen = {}
    early = {}

    async def testbench(ctx):
        ctx.set(dut.en, 1)
        for cycle in range(t + rows + cols):
            vector = cycle < t
            ctx.set(dut.clear, cycle == 0)
            ctx.set(dut.a_in, [int(x) for x in a[:, cycle]] if vector else [0] * rows)
            ctx.set(dut.b_in, [int(x) for x in b[cycle]] if vector else [0] * cols)
            for r in range(rows):
                ctx.set(dut.row, r)
                if cycle == t + cols - 1 + r:
                    rows_seen[r] = [ctx.get(dut.out[c]) for c in range(cols)]
                if cycle == t + cols - 2 + r:
                    early[r] = ctx.get(dut.out[cols - 1])
            await ctx.tick()

    run_testbench(dut, testbench, request.node.name)
    expected = reference_matmul(a, b, bits, overflow)
    for r in range(rows):
        assert rows_seen[r] == list(expected[r]), r
    if overflow == "wrap":  # one cycle earlier the last column still lacks its last product
        for r in range(rows):
            assert early[r] != expected[r, cols - 1]


def test_array_refuses_empty_sides():
    with pytest.raises(ValueError, match="array rows must be a positive integer, not 0"):
        WeightStationaryArray(0, 4)
    with pytest.raises(ValueError, match="array cols must be a positive integer, not -1"):
        OutputStationaryArray(4, -1)


def routed(a_lanes, rows, group, n):
    """The lanes the router gives each PE row with row groups of ``n`` (``[t, rows, M]``):
    in the dense mode (``n = M``) lane ``r`` on all M lanes of row ``r``."""
    out = np.zeros((a_lanes.shape[0], rows, group), dtype=np.int64)
    if n == group:
        out[:] = a_lanes[:, :rows, None]
        return out
    for r in range((rows // n) * n):
        q = r // n
        out[:, r] = a_lanes[:, q * group : (q + 1) * group]
    return out


@pytest.mark.parametrize(
    ("rows", "cols", "group", "sizes"), [(4, 3, 4, (1, 2, 4)), (5, 2, 4, (2, 4)), (2, 2, 2, (1, 2))]
)
@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
def test_nm_array_every_mode(rows, cols, group, sizes, overflow, request):
    """For each mode: random weights and positions, lanes routed to row groups of ``n``,
    column sums rows + cols - 1 cycles later, rule applied at every row."""
    rng = np.random.default_rng(rows * 10 + cols + group)
    t, bits = 5, 18
    dut = WeightStationaryArray(
        rows, cols, 8, 8, bits, overflow, group=group, row_group_sizes=sizes
    )
    lanes_total = (rows // sizes[0]) * group
    assert dut.feed_lanes == lanes_total
    cases = []
    for mode, n in enumerate(sizes):
        w = nonzero(rng, -128, 128, (rows, cols))
        pos = rng.integers(0, group, size=(rows, cols))
        a = nonzero(rng, -128, 128, (t, lanes_total))
        psum = rng.integers(-(1 << 17), 1 << 17, size=(t, cols))
        cases.append((mode, n, w, pos, a, psum, {}))

    async def testbench(ctx):
        ctx.set(dut.en, 1)
        for mode, _, w, pos, a, psum, seen in cases:
            if len(sizes) > 1:
                ctx.set(dut.mode, mode)
            ctx.set(dut.load, 1)
            for r in reversed(range(rows)):
                ctx.set(dut.w_in, [int(x) for x in w[r]])
                ctx.set(dut.pos_in, [int(x) for x in pos[r]])
                await ctx.tick()
            ctx.set(dut.load, 0)
            for cycle in range(t + rows + cols):
                vector = cycle < t
                ctx.set(dut.a_in, [int(x) for x in a[cycle]] if vector else [0] * lanes_total)
                ctx.set(dut.psum_in, [int(x) for x in psum[cycle]] if vector else [0] * cols)
                seen[cycle] = [ctx.get(dut.psum_out[c]) for c in range(cols)]
                await ctx.tick()

    run_testbench(dut, testbench, request.node.name)
    latency = rows + cols - 1
    for _, n, w, pos, a, psum, seen in cases:
        lanes = routed(a, rows, group, n)
        out = psum.copy()
        for r in range(rows):
            operand = np.take_along_axis(lanes[:, r], pos[r][None, :].repeat(t, 0), axis=1)
            out = accumulate_step(out, operand * w[r], bits, overflow)
        for j in range(t):
            assert seen[j + latency] == list(out[j]), (n, j)


def test_nm_array_refuses_bad_row_groups():
    with pytest.raises(ValueError, match=r"row_group_sizes must be ascending .* = 4, not \(2, 1\)"):
        WeightStationaryArray(4, 4, group=4, row_group_sizes=(2, 1))
    with pytest.raises(ValueError, match=r"min\(group, rows\) = 2, not \(1, 4\)"):
        WeightStationaryArray(2, 4, group=4, row_group_sizes=(1, 4))
    with pytest.raises(ValueError, match="group must be a positive integer, not 0"):
        WeightStationaryArray(4, 4, group=0)
