"""The tile controller: start a fold, load or stream its operands, drain, raise ``done``.

Which cycles count
------------------
A fold of ``T`` vectors takes ``F`` cycles (``F = P + (R - 1) + T + (C - 1)``, the
model's sequential per-fold figure; steps in :mod:`rtl.schedule`), counted as clock
edges: **from the rising edge that accepts ``start`` (excluded) to the rising edge
that transfers the fold's last output (included)**. In cycle terms: if ``start`` is
accepted in cycle ``s`` (``start.valid`` and ``start.ready`` both high in it), the
last output is transferred, and ``done`` is high, in cycle ``s + F``. This holds when
every stream the fold uses is valid and ready whenever the controller wants it; each
cycle in which a wanted stream stalls delays the rest of the fold by one cycle.

Folds run back to back: the cycle of a fold's last output (step ``F``) may also be the
next fold's step 0, so ``G`` folds take ``G * F`` cycles from the first ``start`` to the
last output, the layer count of :func:`simulator.model.timing.dense_timing`.

Handshakes
----------
The controller moves the fold one step per cycle in which every stream that step
uses can transfer, and freezes the array (``advance`` low) otherwise, so the array
never sees a gap. Step 0 is the cycle in which ``start`` is accepted, and it transfers
the fold's first beat of ``load`` (ws) or ``feed`` (os) at the same time: ``start``
and that beat are joined, like two streams into one. Following the valid/ready rules
of :mod:`amaranth.lib.stream`, no ``valid`` depends on its own stream's ``ready``:

- ``start.ready`` = (idle, or at the last step with ``out_ready``) and the first beat's
  ``valid``;
- a ready of ``load`` / ``feed`` and ``out_valid`` are high when the current step wants
  that stream and every other stream the step wants can transfer.

``start.payload`` is ``T - 1`` (like AXI's ``AxLEN``), so every value is a fold.
"""

from __future__ import annotations

from amaranth import Const, Module, Signal, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.schedule import fold_phases
from simulator.config import Dataflow

__all__ = ["FoldController"]


class FoldController(wiring.Component):
    """Sequences one fold at a time on a ``rows x cols`` array (see the module docstring).

    Parameters
    ----------
    dataflow : Dataflow
        ``ws`` (load, then feed) or ``os`` (feed only).
    rows, cols : int
        Array size.
    stream_bits : int
        Width of ``start.payload`` (``T - 1``).

    Members
    -------
    start : In(stream.Signature(unsigned(stream_bits)))
        Start a fold of ``payload + 1`` streamed vectors.
    done : Out(1)
        High in the cycle that transfers a fold's last output.
    busy : Out(1)
        A fold is in progress (steps 1 to ``F``).
    load_valid, load_ready, feed_valid, feed_ready, out_valid, out_ready
        Handshakes of the data streams, whose payloads go straight to and from the array.
    advance : Out(1)
        The array's enable: the fold takes a step this cycle.
    loading, feeding : Out(1)
        This step shifts in a weight row / presents an operand vector (else the array's
        operand inputs must be zero).
    first : Out(1)
        This step is step 0 of a fold (clears the os accumulators).
    out_row : Out(range(rows))
        Drain beat number (low bits): the accumulator row to read in os.
    """

    def __init__(self, dataflow: Dataflow, rows: int, cols: int, stream_bits: int = 16) -> None:
        self.dataflow = Dataflow(dataflow)
        fold_phases(self.dataflow, 1, 1, 1)  # refuses dataflows without a schedule
        for name, value in (("rows", rows), ("cols", cols), ("stream_bits", stream_bits)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        self.rows, self.cols, self.stream_bits = rows, cols, stream_bits
        # The last step of the longest fold (T = 2**stream_bits) must fit.
        self.step_shape = range(fold_phases(self.dataflow, rows, cols, 1 << stream_bits).drain_end)
        super().__init__(
            {
                "start": In(stream.Signature(unsigned(stream_bits))),
                "done": Out(1),
                "busy": Out(1),
                "load_valid": In(1),
                "load_ready": Out(1),
                "feed_valid": In(1),
                "feed_ready": Out(1),
                "out_valid": Out(1),
                "out_ready": In(1),
                "advance": Out(1),
                "loading": Out(1),
                "feeding": Out(1),
                "first": Out(1),
                "out_row": Out(range(max(rows, 2))),
            }
        )

    def elaborate(self, platform) -> Module:
        m = Module()
        busy = self.busy
        step = Signal(self.step_shape)
        feed_end = Signal(self.step_shape)
        drain_start = Signal(self.step_shape)
        last = Signal(self.step_shape)
        preload = fold_phases(self.dataflow, self.rows, self.cols, 1).load_end

        if preload:
            want_load = busy & (step < preload)
            want_feed = busy & (step >= preload) & (step < feed_end)
        else:
            want_load = Const(0)
            want_feed = busy & (step < feed_end)
        want_out = busy & (step >= drain_start) & (step <= last)
        at_last = busy & (step == last)
        load_ok = ~want_load | self.load_valid
        feed_ok = ~want_feed | self.feed_valid
        out_ok = ~want_out | self.out_ready
        step_ok = busy & load_ok & feed_ok & out_ok

        # Step 0 of a new fold transfers start and the fold's first beat together, in
        # an idle cycle or in the current fold's last step (back-to-back folds).
        first_valid = self.load_valid if preload else self.feed_valid
        free = ~busy | (at_last & self.out_ready)
        starting = free & self.start.valid & first_valid
        start_load = free & self.start.valid if preload else Const(0)
        start_feed = Const(0) if preload else free & self.start.valid

        m.d.comb += [
            self.start.ready.eq(free & first_valid),
            self.load_ready.eq((want_load & feed_ok & out_ok) | start_load),
            self.feed_ready.eq((want_feed & load_ok & out_ok) | start_feed),
            self.out_valid.eq(want_out & load_ok & feed_ok),
            self.advance.eq(step_ok | starting),
            self.loading.eq(want_load | (starting & start_load)),
            self.feeding.eq(want_feed | (starting & start_feed)),
            self.first.eq(starting),
            self.done.eq(at_last & self.out_ready),
            self.out_row.eq(step - drain_start),
        ]

        with m.If(starting):
            phases = fold_phases(self.dataflow, self.rows, self.cols, self.start.payload + 1)
            m.d.sync += [
                busy.eq(1),
                step.eq(1),
                feed_end.eq(phases.feed_end),
                drain_start.eq(phases.drain_start),
                last.eq(phases.last),
            ]
        with m.Elif(step_ok):
            with m.If(at_last):
                m.d.sync += [busy.eq(0), step.eq(0)]
            with m.Else():
                m.d.sync += step.eq(step + 1)
        return m
