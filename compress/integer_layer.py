"""One compressed layer executed as integer hardware runs it.

A layer takes input codes ``q_a`` in its input format (:class:`ActivationQuant`:
``b``-bit, scale ``s_a``, zero point ``z_a``), integer weights ``w`` with scales
``s_w[n, g]`` (:mod:`compress.integer_weights`), a float bias ``b``, and gives codes
in its output format (``s_o``, ``z_o``, ``[qmin, qmax]``, the next layer's input):

1. **Operands.** The array multiplies signed ``b``-bit activations: unsigned codes
   are re-centred, ``x = q_a - o`` with ``o = 2**(b-1)`` (signed codes: ``o = 0``),
   so ``uint8`` activations run on an int8 x int8 array. The zero point is handled
   exactly through the constant it leaves,
   ``sum_k (q_a - z_a) w = sum_k x w + (o - z_a) sum_k w``, whose last term depends
   on the weights only and is folded into the bias (TFLite folds zero points the
   same way). Convolution padding is the code ``z_a`` (real zero).
2. **MACs.** ``acc_g = sum x w`` over the stored weights of each scale group, in
   order of ``k``, the overflow rule applied after every step
   (:func:`compress.integer_weights.kept_matmul`).
3. **Bias, in the accumulator domain.** ``b_int[n] = rne(b[n] / (s_a s_w[n, g*]))``
   at the scale of the row's group ``g*`` of largest scale (the only group for
   per-tensor and per-channel scales); ``addend[n, g] = rule((o - z_a) sum_{k in g}
   w[n, k] + [g = g*] b_int[n])`` is accumulated as one more step,
   ``acc_g = rule(acc_g + addend)``.
4. **Requantization.** ``y = requantize(acc, M)`` with ``M[n, g] = s_a s_w[n, g] / s_o``
   as 31-bit multipliers and a shift per row (:mod:`compress.fixedpoint`): per-channel
   scales become per-channel multipliers, group scales one multiplier per group. Then
   ``q_o = clip(y + z_o, lo, qmax)`` with ``lo = max(z_o, qmin)`` under ReLU (``z_o``
   is the code of real zero, so clamping there is the ReLU) and ``lo = qmin`` without.

Without an output format (the last layer) the result is int32 logits, saturating, at
one scale ``s_o = s_a min s_w`` for every output, so that they compare across outputs
whatever the weight granularity (per-tensor weights give the accumulators as they are).

In exact arithmetic ``y s_o = s_a sum_k (q_a - z_a) w s_w + b``, which is the float
fake-quantized layer; the integer result differs from a float computation of it only
through the bias rounding (at most ``s_a s_w / 2``), the multiplier (relative
``2**-31``) and the float path's own rounding, i.e. only where the value sits within
that much of a rounding boundary of the output format. Accumulators are at most 32 bits
wide here (the requantizer's input); :func:`kept_matmul` alone takes up to 64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compress.fixedpoint import (
    FixedPointMultiplier,
    Overflow,
    accumulate_step,
    accumulator_range,
    apply_overflow,
    check_accumulator_bits,
    quantize_multiplier,
    requantize,
)
from compress.integer_weights import IntegerWeights
from compress.quant import ActivationQuant, quantize_int

__all__ = ["IntegerLayer", "input_offset", "integer_layer", "quantize_activations"]

LOGIT_BITS = 32


def input_offset(quant: ActivationQuant) -> int:
    """``o``: what re-centres the codes of ``quant`` to signed ``b``-bit operands."""
    return 1 << (quant.spec.bits - 1) if quant.spec.qmin == 0 else 0


def quantize_activations(quant: ActivationQuant, x: np.ndarray) -> np.ndarray:
    """int64 codes of float ``x`` (any shape) in ``quant``'s format: the integers
    :meth:`ActivationQuant.fake_quantize` rounds ``x`` to."""
    flat = np.asarray(x, np.float32).reshape(1, -1)
    scale = np.array([[quant.scale]], np.float32)
    zero = np.array([[quant.zero_point]], np.int32)
    codes = quantize_int(flat, quant.spec, scale, zero).codes
    return codes.astype(np.int64).reshape(np.shape(x))


@dataclass(frozen=True, eq=False)
class IntegerLayer:
    """A layer's integer weights, its input and output formats and its fixed constants.

    Built by :func:`integer_layer` (module docstring for each step).

    Attributes
    ----------
    weights : IntegerWeights
    input : ActivationQuant
    bias : numpy.ndarray
        int64 ``[out]``: ``b_int``, the bias at the scale ``s_a s_w[n, g*]``.
    addend : numpy.ndarray
        int64 ``[out, G]``: what each group's accumulator adds after its MACs.
    multiplier : FixedPointMultiplier
        ``[out, G]`` multipliers, a shift per row.
    output_scale : float
    output_zero_point, output_min, output_max : int
        The output codes' zero point and clamp (``output_min`` includes the ReLU).
    relu : bool
    accumulator_bits : int
    overflow : Overflow
    """

    weights: IntegerWeights
    input: ActivationQuant
    bias: np.ndarray
    addend: np.ndarray
    multiplier: FixedPointMultiplier
    output_scale: float
    output_zero_point: int
    output_min: int
    output_max: int
    relu: bool
    accumulator_bits: int
    overflow: Overflow

    @property
    def name(self) -> str:
        return self.weights.name

    def float_bias(self) -> np.ndarray:
        """float32 ``[out]``: the bias the integer layer adds, ``b_int s_a s_w[n, g*]``."""
        s_ref = self.weights.scale.max(axis=1).astype(np.float64)
        s_a = np.float64(np.float32(self.input.scale))
        return (self.bias * (s_a * s_ref)).astype(np.float32)

    def operands(self, codes: np.ndarray) -> np.ndarray:
        """int64 ``[m, K]``: the signed activation operands ``q_a - o`` of input codes."""
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] != self.weights.k:
            raise ValueError(
                f"{self.name}: input codes must be [m, {self.weights.k}], not {codes.shape}"
            )
        spec = self.input.spec
        if codes.size and (codes.min() < spec.qmin or codes.max() > spec.qmax):
            raise ValueError(
                f"{self.name}: input codes must lie in [{spec.qmin}, {spec.qmax}] ({spec.name})"
            )
        return codes.astype(np.int64) - input_offset(self.input)

    def accumulators(self, codes: np.ndarray) -> np.ndarray:
        """int64 ``[m, out, G]``: each group's accumulator after its MACs and the addend."""
        acc = self.weights.accumulate(self.operands(codes), self.accumulator_bits, self.overflow)
        return accumulate_step(acc, self.addend, self.accumulator_bits, self.overflow)

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        """int64 ``[m, out]``: output codes (or int32 logits) of ``[m, K]`` input codes."""
        y = requantize(self.accumulators(codes), self.multiplier)
        return np.clip(y + self.output_zero_point, self.output_min, self.output_max)


def _bias_codes(bias, weights: IntegerWeights, s_a: np.float64, bits: int) -> tuple:
    """``b_int`` and the group ``g*`` it joins, per row."""
    out = weights.shape[0]
    b = np.zeros(out) if bias is None else np.asarray(bias, np.float32).astype(np.float64)
    if b.shape != (out,):
        raise ValueError(f"{weights.name}: bias must have shape ({out},), not {b.shape}")
    widest = np.argmax(weights.scale, axis=1)
    s_ref = weights.scale[np.arange(out), widest].astype(np.float64)
    b_int = np.rint(b / (s_a * s_ref))
    low, high = accumulator_range(bits)
    if not np.all(np.isfinite(b_int)) or b_int.min() < low or b_int.max() > high:
        raise ValueError(f"{weights.name}: the bias does not fit a {bits}-bit accumulator")
    return b_int.astype(np.int64), widest


def integer_layer(
    weights: IntegerWeights,
    input: ActivationQuant,
    bias: np.ndarray | None = None,
    output: ActivationQuant | None = None,
    relu: bool = False,
    accumulator_bits: int = 32,
    overflow: Overflow | str = Overflow.WRAP,
) -> IntegerLayer:
    """Fix the constants of one integer layer (module docstring).

    Parameters
    ----------
    weights : IntegerWeights
    input : ActivationQuant
        The format of the input codes.
    bias : numpy.ndarray or None
        float ``[out]``.
    output : ActivationQuant or None
        The output format; None for int32 logits.
    relu : bool
    accumulator_bits : int
        From 2 to 32.
    overflow : Overflow or str
        ``wrap`` or ``saturate``.
    """
    bits = check_accumulator_bits(accumulator_bits, most=32)
    overflow = Overflow(overflow)
    s_a = np.float64(np.float32(input.scale))
    s_w = weights.scale.astype(np.float64)
    b_int, widest = _bias_codes(bias, weights, s_a, bits)
    out = weights.shape[0]
    colsum = np.add.reduceat(weights.dense, np.arange(0, weights.k, weights.group_size), axis=1)
    addend = (input_offset(input) - input.zero_point) * colsum
    addend[np.arange(out), widest] += b_int
    addend = apply_overflow(addend, bits, overflow)
    if output is None:
        s_o = s_a * s_w.min()
        zero, low, high = 0, *accumulator_range(LOGIT_BITS)
    else:
        s_o = np.float64(np.float32(output.scale))
        zero, low, high = output.zero_point, output.spec.qmin, output.spec.qmax
    try:
        multiplier = quantize_multiplier(s_a * s_w / s_o)
    except ValueError as exc:
        raise ValueError(f"{weights.name}: {exc}") from None
    if relu:
        low = max(low, zero)
    return IntegerLayer(
        weights=weights,
        input=input,
        bias=b_int,
        addend=addend,
        multiplier=multiplier,
        output_scale=float(s_o),
        output_zero_point=int(zero),
        output_min=int(low),
        output_max=int(high),
        relu=bool(relu),
        accumulator_bits=bits,
        overflow=overflow,
    )
