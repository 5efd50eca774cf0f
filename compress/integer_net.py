"""The digits networks (:mod:`compress.nets`) run end to end on the integer model.

:func:`integer_network` builds one :class:`IntegerLayer` per layer of a compressed
``digits-mlp`` or ``digits-cnn`` from its compressed tensors, its float biases and its
calibrated layer-input formats (``compress_network(..., activations="int8")``): each
layer's output format is the next layer's input format, hidden layers fuse their ReLU
into the clamp, and the last layer gives int32 logits. :meth:`IntegerNetwork.run`
quantizes the float input to the first layer's format once and stays in integers:

- MLP: ``fc1 .. fcL`` on ``[B, K]`` codes;
- CNN: each conv is the GEMM of its im2col matrix (``[B*H*W, C*3*3]`` in
  ``(c, kh, kw)`` order, padded with the input zero point, the code of real zero),
  requantized with the ReLU clamp to the next layer's input format; then 2x2
  max-pooling on the codes (exact: quantization is monotone, so the pooled codes are
  the codes of the pooled values), flattening in ``(c, h, w)`` order, and ``fc``.

The prediction is the argmax of the int logits (the first on ties, as numpy's).

The float path to agree with is the compressed model's fake-quantized inference (the
network's forward pass with every layer input fake-quantized to the same formats) on
:meth:`IntegerNetwork.float_params`, which is matched to the integer semantics where
they differ from the model's own parameters: shared weights use the integerized
codebooks (:mod:`compress.integer_weights`), and each bias is rounded to its
accumulator's grid ``s_a s_w`` as the integer layer adds it (for integer formats the
weights are the model's own, bit for bit). The bias rounding is what otherwise makes
the two paths differ: with the model's float biases, tens to a few thousand of the
~1.6 * 10**5 layer-input codes of a digits network on the test set land on the other
side of a rounding boundary, and occasionally a prediction flips
(``benchmarks/bench_integer.py``). What is left after matching is float32 rounding in
the float path, visible only within ~1e-5 of a rounding boundary.
:func:`float_agreement` runs both paths and counts where they differ: predictions,
and every layer's input codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from compress.fixedpoint import Overflow
from compress.integer_layer import IntegerLayer, integer_layer, quantize_activations
from compress.integer_weights import DEFAULT_ENTRY_BITS, integer_weights
from compress.model import CompressedModel
from compress.nets import MLP, SmallCNN, get_net
from compress.quant import ActivationQuant

__all__ = ["FloatAgreement", "IntegerNetwork", "IntegerRun", "float_agreement", "integer_network"]


@dataclass(frozen=True, eq=False)
class IntegerRun:
    """What the integer network computed for a batch.

    Attributes
    ----------
    logits : numpy.ndarray
        int64 ``[B, classes]``, int32 values at ``logit_scale``.
    logit_scale : float
        Real value of one logit step.
    predictions : numpy.ndarray
        int64 ``[B]``.
    inputs : dict of str to numpy.ndarray
        The int64 codes each layer received (``[B, K]``, or ``[B, C, H, W]`` for convs).
    """

    logits: np.ndarray
    logit_scale: float
    predictions: np.ndarray
    inputs: dict[str, np.ndarray]


def _im2col(codes: np.ndarray, k: int, pad_value: int) -> np.ndarray:
    """``[B, C, H, W]`` padded by ``k // 2`` with ``pad_value`` -> ``[B*H*W, C*k*k]``."""
    pad = k // 2
    padded = np.pad(codes, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=pad_value)
    windows = sliding_window_view(padded, (k, k), axis=(2, 3))  # [B, C, H, W, k, k]
    b, c, h, w = codes.shape
    return windows.transpose(0, 2, 3, 1, 4, 5).reshape(b * h * w, c * k * k)


def _max_pool(codes: np.ndarray) -> np.ndarray:
    b, c, h, w = codes.shape
    return codes.reshape(b, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


@dataclass(frozen=True, eq=False)
class IntegerNetwork:
    """A digits network's integer layers (by layer name) and its float extras."""

    net: MLP | SmallCNN
    layers: dict[str, IntegerLayer]
    extra: dict[str, np.ndarray]

    def float_params(self) -> dict[str, np.ndarray]:
        """The parameters of the float path that agrees with this network: the weights
        ``w * s`` the integer layers hold, and each bias where the integer layer adds it,
        rounded to its accumulator's grid (:meth:`IntegerLayer.float_bias`)."""
        params = dict(self.extra)
        for name, layer in self.layers.items():
            params[f"{name}.weight"] = layer.weights.dequantized()
            params[f"{name}.bias"] = layer.float_bias()
        return params

    def run(self, x: np.ndarray) -> IntegerRun:
        """Integer inference of float inputs ``x`` ``[B, 64]`` (module docstring)."""
        x = np.asarray(x, np.float32)
        batch = x.shape[0]
        first = self.layers[self.net.layers[0]]
        inputs: dict[str, np.ndarray] = {}
        if isinstance(self.net, SmallCNN):
            h = quantize_activations(first.input, x.reshape(batch, 1, 8, 8))
            for name in self.net.layers[:-1]:
                inputs[name] = h
                layer = self.layers[name]
                cols = _im2col(h, layer.weights.shape[-1], layer.input.zero_point)
                z = layer(cols).reshape(batch, h.shape[2], h.shape[3], -1)
                h = _max_pool(z.transpose(0, 3, 1, 2))
            h = h.reshape(batch, -1)
        else:
            h = quantize_activations(first.input, x.reshape(batch, -1))
            for name in self.net.layers[:-1]:
                inputs[name] = h
                h = self.layers[name](h)
        last = self.layers[self.net.layers[-1]]
        inputs[self.net.layers[-1]] = h
        logits = last(h)
        return IntegerRun(logits, last.output_scale, logits.argmax(axis=1), inputs)


def _input_format(model: CompressedModel, layer: str) -> ActivationQuant:
    if layer not in model.activations:
        raise ValueError(
            f"{layer}: the integer model needs the layer's input format; compress with "
            "quantized activations (activations='int8', `sparsa compress --activations int8`)"
        )
    return model.activations[layer]


def integer_network(
    model: CompressedModel,
    net: MLP | SmallCNN | None = None,
    entry_bits: int = DEFAULT_ENTRY_BITS,
    accumulator_bits: int = 32,
    overflow: Overflow | str = Overflow.WRAP,
) -> IntegerNetwork:
    """The integer layers of a compressed digits model (module docstring).

    Parameters
    ----------
    model : CompressedModel
        With ``activations`` (every layer's input format).
    net : MLP or SmallCNN, optional
        The network; by default the built-in one named ``model.model``.
    entry_bits : int
        Codebook entry width for k-means, weight pools and MVQ (``decoder_entry_bits``).
    accumulator_bits : int
        From 2 to 32.
    overflow : Overflow or str
        ``wrap`` or ``saturate``.
    """
    net = get_net(model.model) if net is None else net
    names = net.layers
    layers = {}
    for i, name in enumerate(names):
        key = f"{name}.weight"
        if key not in model.tensors:
            raise ValueError(f"{key}: not among the compressed tensors of {model.model}")
        last = i == len(names) - 1
        layers[name] = integer_layer(
            integer_weights(model.tensors[key], entry_bits),
            _input_format(model, name),
            model.extra.get(f"{name}.bias"),
            None if last else _input_format(model, names[i + 1]),
            relu=not last,
            accumulator_bits=accumulator_bits,
            overflow=overflow,
        )
    return IntegerNetwork(net, layers, dict(model.extra))


@dataclass(frozen=True, eq=False)
class FloatAgreement:
    """The integer network against its float path on one batch.

    Attributes
    ----------
    predictions, float_predictions : numpy.ndarray
        int64 ``[B]``.
    code_mismatches : dict of str to int
        Per layer: input codes that differ between the two paths.
    codes : dict of str to int
        Per layer: input codes compared.
    logit_error : float
        ``max |logits * logit_scale - float logits|``.
    """

    predictions: np.ndarray
    float_predictions: np.ndarray
    code_mismatches: dict[str, int]
    codes: dict[str, int]
    logit_error: float

    @property
    def prediction_mismatches(self) -> int:
        return int(np.count_nonzero(self.predictions != self.float_predictions))


def float_agreement(
    network: IntegerNetwork, x: np.ndarray, params: dict[str, np.ndarray] | None = None
) -> FloatAgreement:
    """Run ``x`` through the integer network and through a float path, and compare.

    The float path is the network's forward pass with the layers' input formats
    fake-quantized, on ``params``: by default :meth:`IntegerNetwork.float_params`
    (module docstring); ``CompressedModel.params()`` gives the compressed model's own
    inference (float codebooks, float biases).
    """
    params = network.float_params() if params is None else params
    run = network.run(x)
    seen: dict[str, np.ndarray] = {}

    def hook(name: str):
        quant = network.layers[name].input

        def fake_quantize(h: np.ndarray) -> np.ndarray:
            seen[name] = quantize_activations(quant, h)
            return quant.fake_quantize(h)

        return fake_quantize

    hooks = {name: hook(name) for name in network.net.layers}
    logits, _ = network.net.forward(params, np.asarray(x, np.float32), hooks)
    mismatches = {n: int(np.count_nonzero(seen[n] != run.inputs[n])) for n in seen}
    error = float(np.abs(run.logits * run.logit_scale - logits.astype(np.float64)).max())
    return FloatAgreement(
        run.predictions,
        logits.argmax(axis=1),
        mismatches,
        {n: int(v.size) for n, v in seen.items()},
        error,
    )
