"""The top level: a tile controller and a systolic array, with stream ports.

:class:`TileEngine` is what ``sparsa verilog`` exports. Its ports, per dataflow
(``R x C`` array; ``a``, ``w``, ``p`` the activation, weight and accumulator widths;
every payload lane signed unless marked ``u``)::

    start  In   stream of T - 1           (stream_bits)  one per fold
                N:M: {t: T - 1, mode: row-group size index (u)}
    load   In   stream of C weights       (C x w)        ws only: R beats per fold,
                N:M: {w: C x w, pos: C x u log2 M}       the bottom array row first
    feed   In   stream, per vector j:                    T beats per fold
                ws  {a: A[j, k-slice] (L x a), psum: partial sums (C x p)}
                os  {a: A[m-slice, j] (R x a), b: B[j, n-slice] (C x w)}
    out    Out  stream of C sums          (C x p)        ws: T beats, C[j, n-slice];
                                                         os: R beats, C[m-slice row r, :]
    done   Out  high in the cycle of the fold's last output

``L`` is ``R`` for dense PEs and ``(R // smallest row group) * M`` lanes for N:M PEs
(M lanes per row group, :mod:`rtl.array`); ``mode`` indexes ``row_group_sizes`` of
``params.json``. With ``weight_decoder: codebook`` the ``load`` port is replaced by a
:class:`~rtl.decoder.CodebookDecoder` per column, and the engine takes::

    codebook  In   stream of {index (u), entry (v x entry bits)}, written into every
                   column's table (always ready)
    lookup    In   C streams (lookup__0 .. lookup__<C-1>) of
                   {index (u), mask (u v), pads (u)[, offset (u)]}, one per column

and the columns' decoded weights form the load beats (a beat moves when every column
has its weight). Structs pack their fields in the order listed, lane 0 in the low bits
(Amaranth's ``data`` layouts; :mod:`rtl.payload` packs and unpacks them). ``clk`` and
``rst`` (a synchronous, active-high reset) come from the ``sync`` domain. Timing is in
:mod:`rtl.controller` and :mod:`rtl.schedule`; the fold's mode is latched when its
``start`` is accepted.
"""

from __future__ import annotations

from collections.abc import Callable

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from rtl.array import ARRAYS
from rtl.controller import FoldController
from rtl.decoder import CodebookDecoder, codebook_layout, lookup_layout
from rtl.params import RtlParams
from simulator.config import Dataflow

__all__ = [
    "DATAPATHS",
    "TileEngine",
    "engine_signature",
    "feed_layout",
    "load_layout",
    "out_layout",
    "start_layout",
]


def start_layout(params: RtlParams) -> data.Layout | object:
    """Payload of ``start``: ``T - 1``, with the fold's ``mode`` when there are several."""
    t = unsigned(params.stream_bits)
    if not params.mode_bits:
        return t
    return data.StructLayout({"t": t, "mode": unsigned(params.mode_bits)})


def load_layout(params: RtlParams) -> data.Layout:
    """Payload of ``load``: one row of ``cols`` weights (ws), with positions for N:M."""
    weights = data.ArrayLayout(signed(params.weight_bits), params.cols)
    if params.nm_group == 1:
        return weights
    positions = data.ArrayLayout(unsigned(params.position_bits), params.cols)
    return data.StructLayout({"w": weights, "pos": positions})


def out_layout(params: RtlParams) -> data.ArrayLayout:
    """Payload of ``out``: ``cols`` accumulator values."""
    return data.ArrayLayout(signed(params.accumulator_bits), params.cols)


def feed_layout(params: RtlParams) -> data.StructLayout:
    """Payload of ``feed``: the operands of one streamed vector."""
    a = data.ArrayLayout(signed(params.activation_bits), params.feed_lanes)
    if params.dataflow is Dataflow.WS:
        return data.StructLayout({"a": a, "psum": out_layout(params)})
    weights = data.ArrayLayout(signed(params.weight_bits), params.cols)
    return data.StructLayout({"a": a, "b": weights})


def _decoded_weights(m: Module, engine: TileEngine, ctrl: FoldController):
    """One decoder per column; returns the load beat's valid, weights and positions."""
    p = engine.params
    decoders = []
    for c in range(p.cols):
        m.submodules[f"decoder_{c}"] = decoder = CodebookDecoder(p)
        wiring.connect(m, wiring.flipped(engine.lookup[c]), decoder.lookup)
        m.d.comb += [
            decoder.codebook.valid.eq(engine.codebook.valid),
            decoder.codebook.payload.eq(engine.codebook.payload),
        ]
        decoders.append(decoder)
    m.d.comb += engine.codebook.ready.eq(1)
    all_valid = Signal()
    valid = decoders[0].out.valid
    for decoder in decoders[1:]:
        valid = valid & decoder.out.valid
    m.d.comb += all_valid.eq(valid)
    # A beat moves when every column has its weight and the controller takes the beat.
    m.d.comb += [decoder.out.ready.eq(ctrl.load_ready & all_valid) for decoder in decoders]
    weights = [decoder.out.payload.w for decoder in decoders]
    positions = [decoder.out.payload.pos for decoder in decoders] if p.nm_group > 1 else []
    return all_valid, weights, positions


def _ws_datapath(
    m: Module, engine: TileEngine, ctrl: FoldController, array: wiring.Component
) -> None:
    p = engine.params
    if p.has_decoder:
        load_valid, weights, positions = _decoded_weights(m, engine, ctrl)
    else:
        load_valid = engine.load.valid
        m.d.comb += engine.load.ready.eq(ctrl.load_ready)
        payload = engine.load.payload
        weights = payload if p.nm_group == 1 else payload.w
        positions = payload.pos if p.nm_group > 1 else []
    m.d.comb += [
        ctrl.load_valid.eq(load_valid),
        array.load.eq(ctrl.loading),
        array.psum_in.eq(Mux(ctrl.feeding, engine.feed.payload.psum, 0)),
        engine.out.payload.eq(array.psum_out),
    ]
    m.d.comb += [array.w_in[c].eq(weights[c]) for c in range(p.cols)]
    if p.nm_group > 1:
        m.d.comb += [array.pos_in[c].eq(positions[c]) for c in range(p.cols)]
    if p.mode_bits:
        # The fold's row-group size, latched when its start is accepted; the fold's
        # feed beats (which the lane router steers by it) all come later.
        mode = Signal(range(len(p.row_group_sizes)))
        with m.If(ctrl.first):
            m.d.sync += mode.eq(engine.start.payload.mode)
        m.d.comb += array.mode.eq(mode)


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
    members = {"start": In(stream.Signature(start_layout(params)))}
    if params.has_decoder:
        members["codebook"] = In(stream.Signature(codebook_layout(params)))
        members["lookup"] = In(stream.Signature(lookup_layout(params))).array(params.cols)
    elif params.dataflow is Dataflow.WS:
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
        Array size, dataflow, PE kind, widths, overflow rule, decoder and
        ``stream_bits``.
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
        m.d.comb += [
            ctrl.start.valid.eq(self.start.valid),
            ctrl.start.payload.eq(self.start.payload.t if p.mode_bits else self.start.payload),
            self.start.ready.eq(ctrl.start.ready),
            ctrl.feed_valid.eq(self.feed.valid),
            self.feed.ready.eq(ctrl.feed_ready),
            self.out.valid.eq(ctrl.out_valid),
            ctrl.out_ready.eq(self.out.ready),
            self.done.eq(ctrl.done),
        ]
        m.submodules.array = array = ARRAYS[p.dataflow].from_params(p)
        m.d.comb += [
            array.en.eq(ctrl.advance),
            array.a_in.eq(Mux(ctrl.feeding, self.feed.payload.a, 0)),
        ]
        DATAPATHS[p.dataflow](m, self, ctrl, array)
        return m
