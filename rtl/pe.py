"""Processing elements: one for weight-stationary and one for output-stationary dataflow.

Both take signed two's-complement operands (``activation_bits`` and ``weight_bits``
wide) and keep a signed ``accumulator_bits``-wide sum, which must hold one full
product (``accumulator_bits >= activation_bits + weight_bits``). Each accumulation
step computes ``sum + a * w`` exactly, one bit wider than the accumulator, then

- ``wrap``: keeps the low ``accumulator_bits`` bits (two's-complement wrap-around);
- ``saturate``: clamps to ``[-2**(B-1), 2**(B-1) - 1]`` with ``B = accumulator_bits``.

So a column (ws) or a PE (os) accumulates over ``k`` in order, applying the rule at
every step; :func:`rtl.reference.reference_matmul` computes the same integers.

Every register of a PE updates only when ``en`` is high: the tile controller lowers
``en`` for the whole array when a stream stalls, so the array freezes as one.

The weight-stationary PE is also the N:M sparse PE: with ``lanes = M > 1`` it holds a
kept weight and its position in its group of M (``ceil(log2 M)`` bits), receives the M
activation lanes of its row group and picks its operand with an M:1 multiplexer
(NVIDIA's sparse tensor cores, the AWS patent US11803736). ``lanes = 1`` is the dense
PE, with no position and no multiplexer.
"""

from __future__ import annotations

import abc

from amaranth import Module, Mux, Shape, Signal, Value, signed, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from rtl.mux import mux_tree
from simulator.config import Overflow

__all__ = ["OutputStationaryPE", "WeightStationaryPE", "accumulate"]


def accumulate(total: Value, bits: int, overflow: Overflow) -> Value:
    """``total`` (an exact signed sum, wider than ``bits``) brought back to ``bits`` bits.

    Returns an expression whose low ``bits`` bits are the wrapped or saturated value.
    """
    if Overflow(overflow) is Overflow.WRAP:
        return total[:bits].as_signed()
    high = (1 << (bits - 1)) - 1
    low = -(1 << (bits - 1))
    return Mux(total > high, high, Mux(total < low, low, total))


class _ProcessingElement(wiring.Component, metaclass=abc.ABCMeta):
    """Validates the widths and builds the ports that a subclass lists in its
    ``_members(a, w, acc)`` from the activation, weight and accumulator shapes."""

    def __init__(
        self,
        activation_bits: int,
        weight_bits: int,
        accumulator_bits: int,
        overflow: Overflow = Overflow.WRAP,
    ) -> None:
        for name, value in (("activation_bits", activation_bits), ("weight_bits", weight_bits)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        product_bits = activation_bits + weight_bits
        if (
            isinstance(accumulator_bits, bool)
            or not isinstance(accumulator_bits, int)
            or accumulator_bits < product_bits
        ):
            raise ValueError(
                f"accumulator_bits must be an integer >= activation_bits + weight_bits "
                f"= {product_bits}, not {accumulator_bits!r}"
            )
        self.accumulator_bits = accumulator_bits
        self.overflow = Overflow(overflow)
        super().__init__(
            self._members(signed(activation_bits), signed(weight_bits), signed(accumulator_bits))
        )

    @abc.abstractmethod
    def _members(self, a: Shape, w: Shape, acc: Shape) -> dict:
        """The signature members (port name -> ``In``/``Out``) of this PE kind."""


class WeightStationaryPE(_ProcessingElement):
    """A weight-stationary PE: holds one weight, passes activations right, sums down.

    On a rising edge with ``en`` high::

        a_out    <= a_in
        psum_out <= overflow(psum_in + operand * weight)
        weight   <= w_in,  pos <= pos_in        (only when load is also high)

    where ``operand`` is ``a_in`` (``lanes = 1``) or lane ``pos`` of ``a_in`` (N:M,
    ``lanes = M``: ``a_in`` and ``a_out`` are then ``M`` lanes wide and ``pos_in`` /
    ``pos_out`` carry the weight's position in its group). With ``zero_gating`` the
    multiplier's activation input is forced to 0 while the weight is 0 (operand
    isolation: the product is 0 either way, so results and timing are unchanged).

    ``w_out`` and ``pos_out`` are the weight and position registers, so stacked PEs
    form a shift chain that loads a column one row per cycle (the top row's ``w_in``
    is the array's input).

    Parameters
    ----------
    activation_bits, weight_bits, accumulator_bits : int
        Signed widths of ``a``, ``w`` and ``psum``.
    overflow : Overflow
        ``wrap`` or ``saturate`` (see the module docstring).
    lanes : int
        Activation lanes: 1 (dense) or M (N:M).
    zero_gating : bool
        Isolate the multiplier while the weight is 0.
    """

    def __init__(
        self,
        activation_bits: int,
        weight_bits: int,
        accumulator_bits: int,
        overflow: Overflow = Overflow.WRAP,
        *,
        lanes: int = 1,
        zero_gating: bool = False,
    ) -> None:
        if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1:
            raise ValueError(f"lanes must be a positive integer, not {lanes!r}")
        self.lanes = lanes
        self.zero_gating = bool(zero_gating)
        super().__init__(activation_bits, weight_bits, accumulator_bits, overflow)

    @property
    def position_bits(self) -> int:
        return (self.lanes - 1).bit_length()

    def _members(self, a: Shape, w: Shape, acc: Shape) -> dict:
        lanes = a if self.lanes == 1 else data.ArrayLayout(a, self.lanes)
        members = {
            "en": In(1),
            "load": In(1),
            "w_in": In(w),
            "w_out": Out(w),
            "a_in": In(lanes),
            "a_out": Out(lanes),
            "psum_in": In(acc),
            "psum_out": Out(acc),
        }
        if self.lanes > 1:
            members["pos_in"] = In(unsigned(self.position_bits))
            members["pos_out"] = Out(unsigned(self.position_bits))
        return members

    def elaborate(self, platform) -> Module:
        m = Module()
        operand = self.a_in
        if self.lanes > 1:  # the M:1 lane multiplexer, selected by the position
            operand = Signal(self.a_in.shape().elem_shape)
            lanes = [self.a_in[lane] for lane in range(self.lanes)]
            m.d.comb += operand.eq(mux_tree(self.pos_out, lanes))
        if self.zero_gating:
            operand = Mux(self.w_out.any(), operand, 0)
        total = self.psum_in + operand * self.w_out
        with m.If(self.en):
            m.d.sync += [
                self.a_out.eq(self.a_in),
                self.psum_out.eq(accumulate(total, self.accumulator_bits, self.overflow)),
            ]
            with m.If(self.load):
                m.d.sync += self.w_out.eq(self.w_in)
                if self.lanes > 1:
                    m.d.sync += self.pos_out.eq(self.pos_in)
        return m


class OutputStationaryPE(_ProcessingElement):
    """An output-stationary PE: passes activations right and weights down, keeps the sum.

    On a rising edge with ``en`` high::

        a_out <= a_in
        b_out <= b_in
        acc   <= overflow((0 if clear else acc) + a_in * b_in)

    ``clear`` starts a new output: the tile controller raises it on the first cycle of
    a fold, when every PE but the corner one still sees zero operands.

    Parameters
    ----------
    activation_bits, weight_bits, accumulator_bits : int
        Signed widths of ``a``, ``b`` and ``acc``.
    overflow : Overflow
        ``wrap`` or ``saturate`` (see the module docstring).
    """

    def _members(self, a: Shape, w: Shape, acc: Shape) -> dict:
        return {
            "en": In(1),
            "clear": In(1),
            "a_in": In(a),
            "a_out": Out(a),
            "b_in": In(w),
            "b_out": Out(w),
            "acc": Out(acc),
        }

    def elaborate(self, platform) -> Module:
        m = Module()
        total = Mux(self.clear, 0, self.acc) + self.a_in * self.b_in
        with m.If(self.en):
            m.d.sync += [
                self.a_out.eq(self.a_in),
                self.b_out.eq(self.b_in),
                self.acc.eq(accumulate(total, self.accumulator_bits, self.overflow)),
            ]
        return m
