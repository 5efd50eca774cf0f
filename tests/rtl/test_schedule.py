"""The RTL's fold steps against the timing model: the same cycles, in closed form."""

from __future__ import annotations

import itertools

import pytest

from rtl.schedule import fold_phases
from simulator.config import FoldSchedule
from simulator.model.mapping import dataflow_code
from simulator.model.timing import SCHEDULE_CODES
from tests.simulator.model.arrays import timing_arrays

SEQ = SCHEDULE_CODES[FoldSchedule.SEQUENTIAL]


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_last_step_is_the_models_fold_cycles(dataflow):
    """For every R, C in 1..9 and T in 1..20: F = preload + pass of dense_timing."""
    for rows, cols, t in itertools.product(range(1, 10), range(1, 10), range(1, 21)):
        # One fold: the row and column dimensions fit the array, the streamed one is t.
        m, n, k = (t, cols, rows) if dataflow == "ws" else (rows, cols, t)
        model = timing_arrays(m, n, k, 1, rows, cols, dataflow_code(dataflow), SEQ)
        assert int(model.folds) == 1
        assert fold_phases(dataflow, rows, cols, t).last == int(model.compute_cycles)


def test_hand_worked_ws_and_os():
    # ws 4x4, T = 10: load 0..3, feed 4..13, first output at 4 + 4 + 4 - 1 = 11, last 20.
    ws = fold_phases("ws", 4, 4, 10)
    assert (ws.load_end, ws.feed_start, ws.feed_end) == (4, 4, 14)
    assert (ws.drain_start, ws.drain_end, ws.last) == (11, 21, 20)
    # os 4x4, T = 10: feed 0..9, row 0 complete at 10 + 4 - 1 = 13, row 3 at 16.
    os_ = fold_phases("os", 4, 4, 10)
    assert (os_.load_end, os_.feed_start, os_.feed_end) == (0, 0, 10)
    assert (os_.drain_start, os_.drain_end, os_.last) == (13, 17, 16)


def test_ranges_are_ordered():
    """Load, then feed; the drain starts after the first feed and ends after the last
    (in ws it overlaps the feed when T > R + C - 1; in os it never does)."""
    for dataflow, rows, cols, t in itertools.product(["ws", "os"], [1, 3], [1, 5], [1, 7]):
        ph = fold_phases(dataflow, rows, cols, t)
        assert ph.load_end == ph.feed_start < ph.feed_end <= ph.last
        assert ph.feed_start < ph.drain_start < ph.drain_end
        if dataflow == "os":
            assert ph.feed_end <= ph.drain_start


def test_refuses_input_stationary():
    with pytest.raises(ValueError, match="'is' has no RTL schedule"):
        fold_phases("is", 4, 4, 1)
