# amaranth: UnusedElaboratable=no
"""The tile controller alone in Amaranth's simulator: its steps, cycle by cycle."""

from __future__ import annotations

import numpy as np
import pytest

from rtl.controller import FoldController
from rtl.schedule import fold_phases
from tests.rtl.amaranth_sim import run_testbench

SIGNALS = ("advance", "loading", "feeding", "first", "out_valid", "done", "busy")


def trace_folds(dut, ts, request, feed_gaps=(), cycles=None):
    """Offer ``len(ts)`` folds back to back with every stream ready, except that
    ``feed_valid`` is low in the cycles listed in ``feed_gaps``. Returns per-cycle dicts."""
    trace = []
    total = cycles or sum(fold_phases(dut.dataflow, dut.rows, dut.cols, t).last for t in ts) + 3

    async def testbench(ctx):
        pending = list(ts)
        ctx.set(dut.load_valid, 1)
        ctx.set(dut.out_ready, 1)
        for cycle in range(total):
            ctx.set(dut.start.valid, bool(pending))
            if pending:
                ctx.set(dut.start.payload, pending[0] - 1)
            ctx.set(dut.feed_valid, cycle not in feed_gaps)
            row = {name: ctx.get(getattr(dut, name)) for name in SIGNALS}
            row["start"] = bool(pending) and ctx.get(dut.start.ready)
            row["out_row"] = ctx.get(dut.out_row)
            trace.append(row)
            if row["start"]:
                pending.pop(0)
            await ctx.tick()

    run_testbench(dut, testbench, request.node.name)
    return trace


@pytest.mark.parametrize("dataflow", ["ws", "os"])
@pytest.mark.parametrize(("rows", "cols"), [(2, 3), (1, 1), (3, 1)])
@pytest.mark.parametrize("t", [1, 4])
def test_one_fold_step_by_step(dataflow, rows, cols, t, request):
    dut = FoldController(dataflow, rows, cols, stream_bits=4)
    trace = trace_folds(dut, [t], request)
    ph = fold_phases(dataflow, rows, cols, t)
    for step, row in enumerate(trace):
        in_fold = step <= ph.last
        assert row["start"] == (step == 0), step
        assert row["first"] == (step == 0), step
        assert row["advance"] == in_fold, step
        assert row["loading"] == (step < ph.load_end), step
        assert row["feeding"] == (ph.feed_start <= step < ph.feed_end), step
        assert row["out_valid"] == (ph.drain_start <= step < ph.drain_end), step
        assert row["done"] == (step == ph.last), step
        assert row["busy"] == (1 <= step <= ph.last), step
        if dataflow == "os" and row["out_valid"]:
            assert row["out_row"] == step - ph.drain_start
    # ws: P = R, then R + C - 1 + T; os: R + C - 2 + T.
    assert ph.last == (2 * rows if dataflow == "ws" else rows) + cols + t - 2


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_folds_run_back_to_back(dataflow, request):
    """The next fold starts in the cycle of the last output: G folds take G * F cycles."""
    dut = FoldController(dataflow, 3, 2, stream_bits=4)
    ts = [5, 5, 2]
    trace = trace_folds(dut, ts, request)
    starts = [c for c, row in enumerate(trace) if row["start"]]
    dones = [c for c, row in enumerate(trace) if row["done"]]
    lasts = [fold_phases(dataflow, 3, 2, t).last for t in ts]
    assert starts == [0, lasts[0], lasts[0] + lasts[1]]
    assert dones == [lasts[0], lasts[0] + lasts[1], sum(lasts)]
    assert not trace[sum(lasts) + 1]["busy"]


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_a_missing_feed_beat_stalls_the_whole_fold_one_cycle(dataflow, request):
    dut = FoldController(dataflow, 2, 2, stream_bits=4)
    ph = fold_phases(dataflow, 2, 2, 4)
    gap = ph.feed_start + 2  # the third feed step
    trace = trace_folds(dut, [4], request, feed_gaps={gap})
    assert not trace[gap]["advance"]
    assert [c for c, row in enumerate(trace) if row["done"]] == [ph.last + 1]


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_no_valid_or_ready_depends_on_its_own_partner(dataflow, request):
    """Flip each stream's own valid (or ready) and its ready (or valid) must not move."""
    dut = FoldController(dataflow, 2, 3, stream_bits=4)
    rng = np.random.default_rng(3)
    checked = []
    pairs = [
        (dut.start.valid, dut.start.ready),
        (dut.load_valid, dut.load_ready),
        (dut.feed_valid, dut.feed_ready),
        (dut.out_ready, dut.out_valid),
    ]

    async def testbench(ctx):
        ctx.set(dut.start.payload, 2)
        for _ in range(200):
            levels = [int(rng.random() < 0.7) for _ in pairs]
            for (driven, _), level in zip(pairs, levels, strict=True):
                ctx.set(driven, level)
            for (driven, observed), level in zip(pairs, levels, strict=True):
                ctx.set(driven, 0)
                low = ctx.get(observed)
                ctx.set(driven, 1)
                high = ctx.get(observed)
                ctx.set(driven, level)
                checked.append(low == high)
            await ctx.tick()

    run_testbench(dut, testbench, request.node.name)
    assert len(checked) == 800
    assert all(checked)


def test_refuses_dataflows_without_a_schedule():
    with pytest.raises(ValueError, match="dataflow 'is' has no RTL schedule; allowed: ws, os"):
        FoldController("is", 4, 4)
    with pytest.raises(ValueError, match="stream_bits must be a positive integer, not 0"):
        FoldController("ws", 4, 4, stream_bits=0)
