# amaranth: UnusedElaboratable=no
"""The codebook decoder alone in Amaranth's simulator: table, lookups, timing."""

from __future__ import annotations

import numpy as np
import pytest

from rtl.decoder import CodebookDecoder
from rtl.functional import decode_lookups
from rtl.params import RtlParams
from rtl.payload import VectorPacker
from tests.rtl.amaranth_sim import run_testbench


def params(vector=4, entries=8, bits=5, patterns=(), rows=4):
    kind = {"pe_kind": "nm", "nm_patterns": patterns} if patterns else {}
    return RtlParams(
        "d",
        rows,
        2,
        "ws",
        8,
        8,
        32,
        weight_decoder="codebook",
        decoder_entries=entries,
        decoder_vector_length=vector,
        decoder_entry_bits=bits,
        **kind,
    )


def random_table(rng, p):
    high = (1 << (p.decoder_entry_bits - 1)) - 1
    shape = (p.decoder_entries, p.decoder_vector_length)
    return rng.integers(-high - 1, high + 1, size=shape)


def drive(p, table, lookups, ready=None, cycles=None):
    """Write ``table``, then offer ``lookups`` (dicts) back to back; returns the
    ``(cycle, w, pos)`` of every weight out and the cycle each lookup was accepted.
    ``ready(cycle)`` is out.ready (always 1 by default)."""
    dut = CodebookDecoder(p)
    out, accepted = [], []
    total = cycles or 3 * (sum(bin(lk["mask"]).count("1") + lk["pads"] for lk in lookups) + 5)
    nm = p.nm_group > 1

    async def testbench(ctx):
        ctx.set(dut.codebook.valid, 1)
        for index, entry in enumerate(table):
            ctx.set(dut.codebook.payload.index, index)
            ctx.set(dut.codebook.payload.entry, [int(x) for x in entry])
            assert ctx.get(dut.codebook.ready)
            await ctx.tick()
        ctx.set(dut.codebook.valid, 0)
        sent = 0
        for cycle in range(total):
            ctx.set(dut.lookup.valid, sent < len(lookups))
            if sent < len(lookups):
                for field, value in lookups[sent].items():
                    ctx.set(getattr(dut.lookup.payload, field), value)
            taking = ready(cycle) if ready else 1
            ctx.set(dut.out.ready, taking)
            if ctx.get(dut.lookup.valid) and ctx.get(dut.lookup.ready):
                accepted.append(cycle)
                sent += 1
            if ctx.get(dut.out.valid) and taking:
                pos = ctx.get(dut.out.payload.pos) if nm else 0
                out.append((cycle, ctx.get(dut.out.payload.w), pos))
            await ctx.tick()

    run_testbench(dut, testbench, "decoder")
    return out, accepted


def functional(p, table, lookups):
    """The functional model's weights for the same table and lookups."""
    packer = VectorPacker.from_layout(CodebookDecoder(p).lookup.payload.shape())
    codebook = [
        VectorPacker.from_layout(CodebookDecoder(p).codebook.payload.shape()).pack(
            {"index": i, "entry": [int(x) for x in entry]}
        )
        for i, entry in enumerate(table)
    ]
    return decode_lookups(p, codebook, [packer.pack(lk) for lk in lookups])


@pytest.mark.parametrize("vector", [1, 3, 4])
def test_every_index_decodes_to_its_entry(vector):
    """Full-mask lookups of every entry: its elements, highest first, one per cycle."""
    p = params(vector=vector)
    table = random_table(np.random.default_rng(vector), p)
    lookups = [{"index": i, "mask": (1 << vector) - 1, "pads": 0} for i in range(len(table))]
    out, accepted = drive(p, table, lookups)
    assert [w for _, w, _ in out] == [int(x) for entry in table for x in entry[::-1]]
    cycles = [c for c, _, _ in out]
    assert cycles == list(range(cycles[0], cycles[0] + len(cycles)))  # one weight per cycle
    assert accepted[1] - accepted[0] == vector  # the next lookup with the last weight
    assert cycles[0] == accepted[0] + 1  # the table read takes one cycle


def test_masks_pads_and_positions_of_an_nm_decoder():
    """N:M (M = 4), v = 8: pads zeros first, then the masked elements highest first, at
    positions e mod 4; an empty lookup is consumed with no output."""
    p = params(vector=8, patterns=("2:4", "1:4"))
    assert p.offset_bits == 0
    rng = np.random.default_rng(3)
    table = random_table(rng, p)
    lookups = [
        {"index": 5, "mask": 0b0000_0101, "pads": 0},
        {"index": 2, "mask": 0b1000_0000, "pads": 1},
        {"index": 0, "mask": 0, "pads": 0},
        {"index": 7, "mask": 0b0110_0000, "pads": 4},
    ]
    out, _ = drive(p, table, lookups)
    got = [(w, pos) for _, w, pos in out]
    expected = [
        (table[5, 2], 2),
        (table[5, 0], 0),
        (0, 0),
        (table[2, 7], 3),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
        (table[7, 6], 2),
        (table[7, 5], 1),
    ]
    assert got == [(int(w), pos) for w, pos in expected]
    assert got == functional(p, table, lookups)


def test_offsets_when_vectors_are_shorter_than_m():
    """v = 2 < M = 4: a vector is half a group; offset 2 puts its elements at 2 and 3."""
    p = params(vector=2, patterns=("2:4",))
    assert p.offset_bits == 2
    table = random_table(np.random.default_rng(4), p)
    lookups = [
        {"index": 1, "mask": 0b11, "pads": 0, "offset": 2},
        {"index": 3, "mask": 0b01, "pads": 0, "offset": 0},
    ]
    out, _ = drive(p, table, lookups)
    assert [(w, pos) for _, w, pos in out] == [
        (int(table[1, 1]), 3),
        (int(table[1, 0]), 2),
        (int(table[3, 0]), 0),
    ]


def test_backpressure_keeps_the_sequence():
    """out.ready low at random: the same weights, in the same order, none lost."""
    p = params(vector=4, patterns=("2:4", "1:4"))
    rng = np.random.default_rng(5)
    table = random_table(rng, p)
    lookups = [
        {
            "index": int(rng.integers(0, 8)),
            "mask": int(rng.integers(0, 16)),
            "pads": int(rng.integers(0, 3)),
        }
        for _ in range(30)
    ]
    gaps = rng.random(1000) < 0.4
    out, _ = drive(p, table, lookups, ready=lambda c: int(not gaps[c]), cycles=600)
    assert [(w, pos) for _, w, pos in out] == functional(p, table, lookups)


def test_entries_are_sign_extended_to_the_weight_width():
    p = params(vector=1, entries=4, bits=3)
    out, _ = drive(
        p, [[-4], [3], [-1], [0]], [{"index": i, "mask": 1, "pads": 0} for i in range(4)]
    )
    assert [w for _, w, _ in out] == [-4, 3, -1, 0]


def test_refuses_other_than_params():
    with pytest.raises(TypeError, match="params must be RtlParams"):
        CodebookDecoder({"rows": 4})
