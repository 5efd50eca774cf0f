"""The top level: a tile controller and a systolic array, with stream ports.

:class:`TileEngine` is what ``sparsa verilog`` exports. Its ports, per dataflow
(``R x C`` array; ``a``, ``w``, ``p`` the activation, weight and accumulator widths;
every payload lane signed)::

    start  In   stream of T - 1           (stream_bits)  one per fold
    load   In   stream of C weights       (C x w)        ws only: R beats per fold,
                                                         the bottom array row first
    feed   In   stream, per vector j:                    T beats per fold
                ws  {a: A[j, k-slice] (R x a), psum: partial sums (C x p)}
                os  {a: A[m-slice, j] (R x a), b: B[j, n-slice] (C x w)}
    out    Out  stream of C sums          (C x p)        ws: T beats, C[j, n-slice];
                                                         os: R beats, C[m-slice row r, :]
    done   Out  high in the cycle of the fold's last output

Structs pack their fields in the order listed, lane 0 in the low bits (Amaranth's
``data`` layouts; :mod:`rtl.payload` packs and unpacks them). ``clk`` and ``rst`` (a
synchronous, active-high reset) come from the ``sync`` domain. Timing is in
:mod:`rtl.controller` and :mod:`rtl.schedule`.
"""

from __future__ import annotations

from collections.abc import Callable

from amaranth import Module, Mux, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.array import ARRAYS
from rtl.controller import FoldController
from rtl.params import RtlParams
from simulator.config import Dataflow

__all__ = [
    "DATAPATHS",
    "TileEngine",
    "engine_signature",
    "feed_layout",
    "load_layout",
    "out_layout",
]


def load_layout(params: RtlParams) -> data.ArrayLayout:
    """Payload of ``load``: one row of ``cols`` weights (ws)."""
    return data.ArrayLayout(signed(params.weight_bits), params.cols)


def out_layout(params: RtlParams) -> data.ArrayLayout:
    """Payload of ``out``: ``cols`` accumulator values."""
    return data.ArrayLayout(signed(params.accumulator_bits), params.cols)


def feed_layout(params: RtlParams) -> data.StructLayout:
    """Payload of ``feed``: the operands of one streamed vector."""
    a = data.ArrayLayout(signed(params.activation_bits), params.rows)
    if params.dataflow is Dataflow.WS:
        return data.StructLayout({"a": a, "psum": out_layout(params)})
    return data.StructLayout({"a": a, "b": load_layout(params)})


def _ws_datapath(
    m: Module, engine: TileEngine, ctrl: FoldController, array: wiring.Component
) -> None:
    m.d.comb += [
        array.load.eq(ctrl.loading),
        array.w_in.eq(engine.load.payload),
        array.psum_in.eq(Mux(ctrl.feeding, engine.feed.payload.psum, 0)),
        engine.out.payload.eq(array.psum_out),
        ctrl.load_valid.eq(engine.load.valid),
        engine.load.ready.eq(ctrl.load_ready),
    ]


def _os_datapath(
    m: Module, engine: TileEngine, ctrl: FoldController, array: wiring.Component
) -> None:
    m.d.comb += [
        array.clear.eq(ctrl.first),
        array.b_in.eq(Mux(ctrl.feeding, engine.feed.payload.b, 0)),
        array.row.eq(ctrl.out_row),
        engine.out.payload.eq(array.out),
    ]


def engine_signature(params: RtlParams) -> wiring.Signature:
    """The ports of the :class:`TileEngine` for ``params`` (module docstring)."""
    members = {"start": In(stream.Signature(unsigned(params.stream_bits)))}
    if params.dataflow is Dataflow.WS:
        members["load"] = In(stream.Signature(load_layout(params)))
    members["feed"] = In(stream.Signature(feed_layout(params)))
    members["out"] = Out(stream.Signature(out_layout(params)))
    members["done"] = Out(1)
    return wiring.Signature(members)


# One row per dataflow: how the array hangs off the controller and the streams, beyond
# the enable and the activations that every array takes.
DATAPATHS: dict[
    Dataflow, Callable[[Module, TileEngine, FoldController, wiring.Component], None]
] = {
    Dataflow.WS: _ws_datapath,
    Dataflow.OS: _os_datapath,
}


class TileEngine(wiring.Component):
    """Tile controller + systolic array built from :class:`RtlParams` (ports above).

    Parameters
    ----------
    params : RtlParams
        Array size, dataflow, widths, overflow rule and ``stream_bits``.
    """

    def __init__(self, params: RtlParams) -> None:
        if not isinstance(params, RtlParams):
            raise TypeError(f"params must be RtlParams, not {type(params).__name__}")
        self.params = params
        super().__init__(engine_signature(params))

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.params
        m.submodules.controller = ctrl = FoldController(p.dataflow, p.rows, p.cols, p.stream_bits)
        wiring.connect(m, wiring.flipped(self.start), ctrl.start)
        m.d.comb += [
            ctrl.feed_valid.eq(self.feed.valid),
            self.feed.ready.eq(ctrl.feed_ready),
            self.out.valid.eq(ctrl.out_valid),
            ctrl.out_ready.eq(self.out.ready),
            self.done.eq(ctrl.done),
        ]
        m.submodules.array = array = ARRAYS[p.dataflow](
            p.rows, p.cols, p.activation_bits, p.weight_bits, p.accumulator_bits, p.overflow
        )
        m.d.comb += [
            array.en.eq(ctrl.advance),
            array.a_in.eq(Mux(ctrl.feeding, self.feed.payload.a, 0)),
        ]
        DATAPATHS[p.dataflow](m, self, ctrl, array)
        return m
