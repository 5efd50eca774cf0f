# amaranth: UnusedElaboratable=no
"""The processing elements in Amaranth's simulator: exhaustive at small widths."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from rtl.pe import OutputStationaryPE, WeightStationaryPE
from rtl.reference import accumulate_step
from tests.rtl.amaranth_sim import run_testbench

A_BITS, W_BITS, ACC_BITS = 3, 3, 6  # the narrowest accumulator allowed: overflow is easy


def values(bits):
    return range(-(1 << (bits - 1)), 1 << (bits - 1))


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
def test_ws_pe_every_operand_and_partial_sum(overflow, request):
    """All 8 x 8 x 64 (a, w, psum_in) triples: psum_out = rule(psum_in + a * w)."""
    dut = WeightStationaryPE(A_BITS, W_BITS, ACC_BITS, overflow)
    seen = []

    async def testbench(ctx):
        ctx.set(dut.en, 1)
        for w in values(W_BITS):
            ctx.set(dut.load, 1)
            ctx.set(dut.w_in, w)
            await ctx.tick()
            ctx.set(dut.load, 0)
            assert ctx.get(dut.w_out) == w
            for a, psum in itertools.product(values(A_BITS), values(ACC_BITS)):
                ctx.set(dut.a_in, a)
                ctx.set(dut.psum_in, psum)
                await ctx.tick()
                seen.append((a, w, psum, ctx.get(dut.psum_out), ctx.get(dut.a_out)))

    run_testbench(dut, testbench, request.node.name)
    a, w, psum, out, a_out = np.array(seen).T
    assert len(seen) == 8 * 8 * 64
    np.testing.assert_array_equal(out, accumulate_step(psum, a * w, ACC_BITS, overflow))
    np.testing.assert_array_equal(a_out, a)
    # The rule matters here: some triples leave the 6-bit range.
    assert np.any(psum + a * w != out)


def test_ws_pe_holds_everything_without_en(request):
    dut = WeightStationaryPE(8, 8, 16)

    async def testbench(ctx):
        ctx.set(dut.en, 1)
        ctx.set(dut.load, 1)
        ctx.set(dut.w_in, -7)
        ctx.set(dut.a_in, 5)
        ctx.set(dut.psum_in, 100)
        await ctx.tick()
        assert (ctx.get(dut.w_out), ctx.get(dut.a_out), ctx.get(dut.psum_out)) == (-7, 5, 100)
        # psum_out used the old weight (0) on that edge; now a * w counts.
        await ctx.tick()
        assert ctx.get(dut.psum_out) == 100 + 5 * -7
        ctx.set(dut.en, 0)
        ctx.set(dut.w_in, 3)
        ctx.set(dut.a_in, 1)
        ctx.set(dut.psum_in, 0)
        for _ in range(3):
            await ctx.tick()
        assert (ctx.get(dut.w_out), ctx.get(dut.a_out), ctx.get(dut.psum_out)) == (-7, 5, 65)
        ctx.set(dut.en, 1)
        ctx.set(dut.load, 0)
        await ctx.tick()
        assert (ctx.get(dut.w_out), ctx.get(dut.psum_out)) == (-7, -7)

    run_testbench(dut, testbench, request.node.name)


@pytest.mark.parametrize("overflow", ["wrap", "saturate"])
def test_os_pe_accumulates_random_sequences(overflow, request):
    """Sequences over k with clear at the start: acc follows the in-order rule."""
    rng = np.random.default_rng(7)
    sequences = [
        (rng.integers(-4, 4, size=n), rng.integers(-4, 4, size=n)) for n in (1, 2, 5, 17, 40)
    ]
    sequences.append((np.full(20, -4), np.full(20, -4)))  # 16 per step: far past 31
    dut = OutputStationaryPE(A_BITS, W_BITS, ACC_BITS, overflow)
    got = []

    async def testbench(ctx):
        ctx.set(dut.en, 1)
        for a_seq, b_seq in sequences:
            trace = []
            for i, (a, b) in enumerate(zip(a_seq, b_seq, strict=True)):
                ctx.set(dut.clear, i == 0)
                ctx.set(dut.a_in, int(a))
                ctx.set(dut.b_in, int(b))
                await ctx.tick()
                assert (ctx.get(dut.a_out), ctx.get(dut.b_out)) == (a, b)
                trace.append(ctx.get(dut.acc))
            got.append(trace)

    run_testbench(dut, testbench, request.node.name)
    for (a_seq, b_seq), trace in zip(sequences, got, strict=True):
        acc, expected = 0, []
        for a, b in zip(a_seq, b_seq, strict=True):
            acc = int(accumulate_step(acc, int(a) * int(b), ACC_BITS, overflow))
            expected.append(acc)
        assert trace == expected
    low, high = -32, 31
    assert got[-1][-1] == (high if overflow == "saturate" else (16 * 20 + 32) % 64 - 32)
    assert low <= min(min(t) for t in got)


def test_os_pe_extremes_at_8_bits(request):
    """-128 x -128 = 16384 fits a 16-bit accumulator once; twice wraps to -32768."""
    dut = OutputStationaryPE(8, 8, 16, "wrap")

    async def testbench(ctx):
        ctx.set(dut.en, 1)
        ctx.set(dut.a_in, -128)
        ctx.set(dut.b_in, -128)
        ctx.set(dut.clear, 1)
        await ctx.tick()
        assert ctx.get(dut.acc) == 16384
        ctx.set(dut.clear, 0)
        await ctx.tick()
        assert ctx.get(dut.acc) == -32768
        ctx.set(dut.b_in, 127)
        await ctx.tick()
        assert ctx.get(dut.acc) == -32768 - 128 * 127 + 65536

    run_testbench(dut, testbench, request.node.name)


@pytest.mark.parametrize("pe_class", [WeightStationaryPE, OutputStationaryPE])
def test_pe_refuses_an_accumulator_narrower_than_a_product(pe_class):
    with pytest.raises(ValueError, match=r"accumulator_bits must be .* >= .* = 16, not 15"):
        pe_class(8, 8, 15)
    with pytest.raises(ValueError, match="weight_bits must be a positive integer, not 0"):
        pe_class(8, 0, 16)


def test_waves_from_amaranth_simulator(tmp_path, monkeypatch):
    monkeypatch.setenv("WAVES", "1")
    monkeypatch.setenv("SPARSA_WAVES_DIR", str(tmp_path))
    dut = OutputStationaryPE(4, 4, 8)

    async def testbench(ctx):
        ctx.set(dut.en, 1)
        ctx.set(dut.a_in, 3)
        await ctx.tick()

    run_testbench(dut, testbench, "pe wave")
    vcd = (tmp_path / "pe_wave.vcd").read_text()
    assert "$enddefinitions" in vcd and "acc" in vcd


@pytest.mark.parametrize("lanes", [2, 4])
@pytest.mark.parametrize("zero_gating", [False, True])
def test_nm_pe_picks_the_lane_of_its_position(lanes, zero_gating, request):
    """Every position and weight (zero included), random lanes and partial sums:
    psum_out = rule(psum_in + lanes[pos] * w); the lanes pass right unchanged."""
    rng = np.random.default_rng(lanes)
    dut = WeightStationaryPE(
        A_BITS, W_BITS, ACC_BITS, "saturate", lanes=lanes, zero_gating=zero_gating
    )
    seen = []

    async def testbench(ctx):
        ctx.set(dut.en, 1)
        for pos, w in itertools.product(range(lanes), values(W_BITS)):
            ctx.set(dut.load, 1)
            ctx.set(dut.w_in, w)
            ctx.set(dut.pos_in, pos)
            await ctx.tick()
            ctx.set(dut.load, 0)
            assert (ctx.get(dut.w_out), ctx.get(dut.pos_out)) == (w, pos)
            for _ in range(12):
                a = [int(x) for x in rng.integers(-4, 4, size=lanes)]
                psum = int(rng.integers(-32, 32))
                ctx.set(dut.a_in, a)
                ctx.set(dut.psum_in, psum)
                await ctx.tick()
                seen.append((a[pos], w, psum, ctx.get(dut.psum_out)))
                assert [ctx.get(dut.a_out[i]) for i in range(lanes)] == a

    run_testbench(dut, testbench, request.node.name)
    a, w, psum, out = np.array(seen).T
    np.testing.assert_array_equal(out, accumulate_step(psum, a * w, ACC_BITS, "saturate"))


def test_nm_pe_members_and_refusals():
    dense = WeightStationaryPE(8, 8, 32)
    assert "pos_in" not in dense.signature.members
    pe = WeightStationaryPE(8, 8, 32, lanes=8)
    assert pe.position_bits == 3
    assert pe.signature.members["a_in"].shape.length == 8
    with pytest.raises(ValueError, match="lanes must be a positive integer, not 0"):
        WeightStationaryPE(8, 8, 32, lanes=0)
