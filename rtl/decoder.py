"""The codebook decoder at a column's weight-load port: indices in, weights out.

With ``weight_decoder: codebook`` every column of a ws array loads its weights through
one :class:`CodebookDecoder` instead of taking them as values. The decoder holds a
table (an ``amaranth.lib.memory.Memory``) of ``decoder_entries`` entries, each a
vector of ``decoder_vector_length`` (``v``) signed weights of ``decoder_entry_bits``:
k-means centroids (``v = 1``), a network-wide weight pool or MVQ codewords (``v > 1``).

Streams
-------
``codebook`` (write, always ready)
    ``{index, entry}``: writes ``entry`` (``v`` weights) at ``index``. The engine
    broadcasts one codebook stream to every column's table, so a layer's codebook is
    loaded once per layer, and a pool shared by several layers once per network. It
    must be written while the decoder is idle (before the layer's first lookup).
``lookup``
    ``{index, mask, pads[, offset]}``: expand entry ``index``: first ``pads`` zero
    weights, then the entry's elements whose ``mask`` bit is set, highest element first,
    one per cycle. Highest first because a ws column loads its bottom row first, so a
    column's weights arrive in descending ``k`` (see :mod:`rtl.driver`).
``out``
    one weight per cycle for the column's shift chain: ``{w}`` (sign-extended to
    ``weight_bits``), and for N:M arrays ``{w, pos}`` with ``pos = (offset + e) mod M``
    the weight's position in its group of M (``e`` the element; ``offset``, the position
    of element 0, exists only when ``v`` is not a multiple of M).

So for N:M weights this is the MVQ datapath: index and mask in (the mask is the N:M
metadata of the entry's group), kept weights and their positions out, padded with
zeros to the fold's row-group size. For dense weights the mask selects the elements
that fall in the fold (a contiguous range of ``k``); the *lookup stream is the load
sequencer's output*: an index read once from the weight buffer may be issued in several
lookups when its vector spans row groups or folds.

Timing: a lookup is accepted in the cycle the previous one emits its last weight (or
when idle), the table is read on that edge (synchronous read port), and its first
weight is on ``out`` in the next cycle: ``out`` sustains one weight per cycle, one
table read (one vector) per cycle at most. An empty lookup (no mask bit, no pad) is
consumed without output.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from rtl.mux import highest_set, mux_tree
from rtl.params import RtlParams

__all__ = [
    "CodebookDecoder",
    "codebook_layout",
    "decoded_layout",
    "lookup_layout",
]


def codebook_layout(params: RtlParams) -> data.StructLayout:
    """Payload of the ``codebook`` write stream: ``{index, entry}``."""
    entry = data.ArrayLayout(signed(params.decoder_entry_bits), params.decoder_vector_length)
    return data.StructLayout({"index": unsigned(params.index_bits), "entry": entry})


def lookup_layout(params: RtlParams) -> data.StructLayout:
    """Payload of a ``lookup`` stream: ``{index, mask, pads[, offset]}``."""
    fields = {
        "index": unsigned(params.index_bits),
        "mask": unsigned(params.decoder_vector_length),
        "pads": unsigned(params.pad_bits),
    }
    if params.offset_bits:
        fields["offset"] = unsigned(params.offset_bits)
    return data.StructLayout(fields)


def decoded_layout(params: RtlParams) -> data.StructLayout:
    """Payload of ``out``: ``{w}`` or, for N:M arrays, ``{w, pos}``."""
    fields = {"w": signed(params.weight_bits)}
    if params.nm_group > 1:
        fields["pos"] = unsigned(params.position_bits)
    return data.StructLayout(fields)


class CodebookDecoder(wiring.Component):
    """One column's codebook decoder (streams and timing in the module docstring).

    Parameters
    ----------
    params : RtlParams
        ``decoder_entries``, ``decoder_vector_length``, ``decoder_entry_bits``,
        ``weight_bits``, ``nm_group`` (M) and ``rows`` (the largest pad count).

    Members
    -------
    codebook : In(stream.Signature(codebook_layout(params)))
    lookup : In(stream.Signature(lookup_layout(params)))
    out : Out(stream.Signature(decoded_layout(params)))
    """

    def __init__(self, params: RtlParams) -> None:
        if not isinstance(params, RtlParams):
            raise TypeError(f"params must be RtlParams, not {type(params).__name__}")
        self.params = params
        super().__init__(
            {
                "codebook": In(stream.Signature(codebook_layout(params))),
                "lookup": In(stream.Signature(lookup_layout(params))),
                "out": Out(stream.Signature(decoded_layout(params))),
            }
        )

    def elaborate(self, platform) -> Module:
        m = Module()
        p = self.params
        v = p.decoder_vector_length
        entry_shape = data.ArrayLayout(signed(p.decoder_entry_bits), v)
        m.submodules.table = table = Memory(shape=entry_shape, depth=p.decoder_entries, init=[])
        write = table.write_port()
        read = table.read_port()
        m.d.comb += [
            write.addr.eq(self.codebook.payload.index),
            write.data.eq(self.codebook.payload.entry),
            write.en.eq(self.codebook.valid),
            self.codebook.ready.eq(1),
        ]

        busy = Signal()  # an entry is being expanded; read.data holds it
        mask = Signal(v)  # its elements still to emit
        pads = Signal(p.pad_bits)  # zeros still to emit before them
        padding = pads.any()
        element = Signal(range(max(v, 2)))  # the highest element left
        m.d.comb += element.eq(highest_set(mask, v))
        chosen = Signal(v)  # one-hot of element
        value = Signal(signed(p.decoder_entry_bits))  # the v:1 element multiplexer
        m.d.comb += [
            chosen.eq(Value.cast(1) << element),
            value.eq(mux_tree(element, [read.data[e] for e in range(v)])),
        ]
        next_mask = Mux(padding, mask, mask & ~chosen)
        next_pads = Mux(padding, pads - 1, pads)
        last = ~next_mask.any() & ~next_pads.any()

        m.d.comb += [
            self.out.valid.eq(busy),
            self.out.payload.w.eq(Mux(padding, 0, value)),
        ]
        offset = Signal(p.offset_bits) if p.offset_bits else 0
        if p.nm_group > 1:
            position = Signal(p.position_bits)  # (offset + element) mod M, M a power of two
            m.d.comb += [
                position.eq(offset + element),
                self.out.payload.pos.eq(Mux(padding, 0, position)),
            ]

        free = ~busy | (self.out.ready & last)
        lookup = self.lookup.payload
        m.d.comb += [self.lookup.ready.eq(free), read.en.eq(free), read.addr.eq(lookup.index)]
        with m.If(free):
            m.d.sync += [
                busy.eq(self.lookup.valid & (lookup.mask.any() | lookup.pads.any())),
                mask.eq(lookup.mask),
                pads.eq(lookup.pads),
            ]
            if p.offset_bits:
                m.d.sync += offset.eq(lookup.offset)
        with m.Elif(self.out.ready):
            m.d.sync += [mask.eq(next_mask), pads.eq(next_pads)]
        return m
