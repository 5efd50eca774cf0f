"""Uniform integer quantization of weights, and of activations from calibration data.

For a ``b``-bit format with scale ``s`` (and zero point ``z`` when affine)::

    q = clip(rne(w / s) + z, qmin, qmax)        w_hat = (q - z) * s

``rne`` rounds to nearest, ties to even (``numpy.rint``); ``clip`` saturates. Ranges:

- symmetric, restricted: ``q in [-(2**(b-1) - 1), 2**(b-1) - 1]``, ``s = amax / qmax``,
  ``z = 0`` (zero is exact and the range is symmetric, as TensorRT does);
- symmetric, full: ``q in [-2**(b-1), 2**(b-1) - 1]``, ``s = amax / (2**(b-1) - 0.5)``
  (``= 2 amax / (qmax - qmin)``);
- affine: ``q in [0, 2**b - 1]``, ``s = (hi - lo) / (2**b - 1)`` with
  ``lo = min(w, 0)``, ``hi = max(w, 0)`` and integer ``z = clip(rne(-lo / s))``, so
  real zero is exact.

Statistics (``amax``, ``lo``, ``hi``) are taken per tensor, per output channel (row of
the ``[out, K]`` GEMM view) or per group of ``group_size`` consecutive weights of one
row along ``K`` (the last group of a row may be shorter).

Clipping: ``clip="max"`` uses the statistics as they are; ``clip="mse"`` shrinks the
range of each scale cell (tensor, channel or group) by the factor ``alpha`` in
``0.30, 0.31, ..., 1.00`` that minimizes that cell's squared error ``sum (w - w_hat)**2``:
the few largest weights saturate, and every other weight gets a finer step. At 4 bits
this is the usual remedy for max-scaling's coarse steps (Banner, Nahshan & Soudry,
"Post training 4-bit quantization of convolutional networks for rapid-deployment",
NeurIPS 2019, choose the clipping value by minimizing the quantization MSE). Scales are float32 and
``w_hat`` is computed in float32, as integer hardware with a float32 rescale would.
Inside the range ``|w - w_hat| <= s / 2``; outside it the code saturates.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from compress.layout import gemm_view

__all__ = [
    "ActivationQuant",
    "Granularity",
    "IntQuantized",
    "IntSpec",
    "calibrate_activations",
    "dequantize_int",
    "quantize_int",
]

CLIP_METHODS = ("max", "mse")
MSE_ALPHAS = np.round(np.arange(0.30, 1.0001, 0.01), 2)

MIN_BITS, MAX_BITS = 2, 16


class Granularity(StrEnum):
    """Which weights share one scale."""

    TENSOR = "tensor"
    CHANNEL = "channel"
    GROUP = "group"


@dataclass(frozen=True)
class IntSpec:
    """A uniform integer format.

    Parameters
    ----------
    bits : int
        Code width, 2 to 16.
    symmetric : bool
        Symmetric (signed codes, zero point 0) or affine (unsigned codes and a zero point).
    granularity : Granularity
        Scale per tensor, per output channel or per group along ``K``.
    group_size : int or None
        Weights per group; required for (and only allowed with) ``GROUP``.
    restricted : bool
        Symmetric only: drop the code ``-2**(b-1)`` so the range is symmetric.
    clip : str
        ``max`` (the full range) or ``mse`` (the range that minimizes the squared error
        of each scale cell; module docstring).
    """

    bits: int = 8
    symmetric: bool = True
    granularity: Granularity = Granularity.CHANNEL
    group_size: int | None = None
    restricted: bool = True
    clip: str = "max"

    def __post_init__(self) -> None:
        bits = self.bits
        if isinstance(bits, bool) or not isinstance(bits, int) or not MIN_BITS <= bits <= MAX_BITS:
            raise ValueError(
                f"integer quantization bits must be an integer from {MIN_BITS} to {MAX_BITS}, "
                f"not {bits!r}"
            )
        object.__setattr__(self, "granularity", Granularity(self.granularity))
        if self.clip not in CLIP_METHODS:
            raise ValueError(
                f"quantization clip must be one of {', '.join(CLIP_METHODS)}, not {self.clip!r}"
            )
        grouped = self.granularity is Granularity.GROUP
        size = self.group_size
        if grouped and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            raise ValueError(
                f"per-group quantization needs group_size, a positive integer, not {size!r}"
            )
        if not grouped and size is not None:
            raise ValueError(
                f"group_size={size!r} is only allowed with granularity 'group', "
                f"not {self.granularity.value!r}"
            )

    @property
    def qmin(self) -> int:
        if not self.symmetric:
            return 0
        return -(1 << (self.bits - 1)) + (1 if self.restricted else 0)

    @property
    def qmax(self) -> int:
        return (1 << self.bits) - 1 if not self.symmetric else (1 << (self.bits - 1)) - 1

    @property
    def name(self) -> str:
        kind = "sym" if self.symmetric else "affine"
        where = self.granularity.value
        if self.granularity is Granularity.GROUP:
            where = f"group{self.group_size}"
        clip = "-mse" if self.clip == "mse" else ""
        return f"int{self.bits}-{kind}-{where}{clip}"


@dataclass(frozen=True, eq=False)
class IntQuantized:
    """Codes and parameters of one quantized tensor.

    Attributes
    ----------
    spec : IntSpec
    codes : numpy.ndarray
        int32, the shape of the input.
    scale : numpy.ndarray
        float32 ``[rows, groups]``: ``[1, 1]`` per tensor, ``[out, 1]`` per channel,
        ``[out, ceil(K / group_size)]`` per group.
    zero_point : numpy.ndarray
        int32, the shape of ``scale`` (all zero when symmetric).
    """

    spec: IntSpec
    codes: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray

    def dequantize(self) -> np.ndarray:
        """``(q - z) * s`` in float32, the shape of the input."""
        return dequantize_int(self.codes, self.scale, self.zero_point, self.spec)


def _stat(matrix: np.ndarray, spec: IntSpec, reduce) -> np.ndarray:
    """Reduce ``[out, K]`` to the scale grid ``[rows, groups]``."""
    if spec.granularity is Granularity.TENSOR:
        return np.asarray(reduce.reduce(matrix, axis=None)).reshape(1, 1)
    if spec.granularity is Granularity.CHANNEL:
        return reduce.reduce(matrix, axis=1)[:, None]
    starts = np.arange(0, matrix.shape[1], spec.group_size)
    return reduce.reduceat(matrix, starts, axis=1)


def _expand(grid: np.ndarray, spec: IntSpec, k: int) -> np.ndarray:
    """Broadcast a ``[rows, groups]`` grid over ``[out, K]``."""
    if spec.granularity is Granularity.GROUP:
        return np.repeat(grid, spec.group_size, axis=1)[:, :k]
    return grid


def _scales(matrix: np.ndarray, spec: IntSpec) -> tuple[np.ndarray, np.ndarray]:
    """Scales and zero points from the full range, or the MSE-optimal clipped one."""
    if spec.clip == "max":
        return _range_scales(matrix, spec, 1.0)
    best_scale, best_zero = _range_scales(matrix, spec, 1.0)
    best_error = _cell_error(matrix, spec, best_scale, best_zero)
    for alpha in MSE_ALPHAS[:-1]:
        scale, zero = _range_scales(matrix, spec, alpha)
        error = _cell_error(matrix, spec, scale, zero)
        better = error < best_error
        best_scale = np.where(better, scale, best_scale)
        best_zero = np.where(better, zero, best_zero)
        best_error = np.minimum(error, best_error)
    return best_scale.astype(np.float32), best_zero.astype(np.int32)


def _cell_error(matrix: np.ndarray, spec: IntSpec, scale, zero) -> np.ndarray:
    """Squared quantization error summed over each scale cell ``[rows, groups]``."""
    k = matrix.shape[1]
    s = _expand(scale, spec, k).astype(np.float64)
    z = _expand(zero, spec, k)
    q = np.clip(np.rint(matrix / s) + z, spec.qmin, spec.qmax)
    return _stat((matrix - (q - z) * s) ** 2, spec, np.add)


def _range_scales(matrix: np.ndarray, spec: IntSpec, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Scales and zero points covering ``alpha`` times each cell's range."""
    if spec.symmetric:
        amax = alpha * _stat(np.abs(matrix), spec, np.maximum)
        divisor = spec.qmax if spec.restricted else spec.qmax + 0.5
        scale = (amax / divisor).astype(np.float32)
        # float32 rounding must not push amax past the range edge (error <= s/2 holds)
        low = amax / np.maximum(scale.astype(np.float64), 1e-300) > divisor
        scale = np.where(low, np.nextafter(scale, np.float32(np.inf)), scale).astype(np.float32)
        zero = np.zeros(scale.shape, np.int32)
    else:
        lo = alpha * np.minimum(_stat(matrix, spec, np.minimum), 0.0)
        hi = alpha * np.maximum(_stat(matrix, spec, np.maximum), 0.0)
        scale = ((hi - lo) / spec.qmax).astype(np.float32)
        safe = np.where(scale > 0, scale, 1.0).astype(np.float64)
        zero = np.clip(np.rint(-lo / safe), 0, spec.qmax).astype(np.int32)
    scale = np.where(scale > 0, scale, np.float32(1.0)).astype(np.float32)
    return scale, zero


def quantize_int(
    weights: np.ndarray,
    spec: IntSpec,
    scale: np.ndarray | None = None,
    zero_point: np.ndarray | None = None,
) -> IntQuantized:
    """Quantize ``weights`` (``[out, ...]``) to ``spec``; scales from the data unless given.

    ``q = clip(rne(w / s) + z, qmin, qmax)``, computed in float64 from float32 inputs.
    A given ``scale`` / ``zero_point`` must have the grid shape of :class:`IntQuantized`.
    """
    w = np.asarray(weights, dtype=np.float32)
    matrix = gemm_view(w) if w.ndim > 1 else w.reshape(1, -1)
    if scale is None:
        scale, zero_point = _scales(matrix.astype(np.float64), spec)
    scale = np.asarray(scale, dtype=np.float32)
    zero_point = np.zeros(scale.shape, np.int32) if zero_point is None else zero_point
    zero_point = np.asarray(zero_point, dtype=np.int32)
    if np.any(scale <= 0) or not np.all(np.isfinite(scale)):
        raise ValueError("quantization scale must be positive and finite")
    k = matrix.shape[1]
    s = _expand(scale, spec, k).astype(np.float64)
    z = _expand(zero_point, spec, k)
    q = np.clip(np.rint(matrix / s) + z, spec.qmin, spec.qmax).astype(np.int32)
    return IntQuantized(spec, q.reshape(w.shape), scale, zero_point)


def dequantize_int(
    codes: np.ndarray, scale: np.ndarray, zero_point: np.ndarray, spec: IntSpec
) -> np.ndarray:
    """``(q - z) * s`` in float32 over the scale grid; the shape of ``codes``."""
    codes = np.asarray(codes)
    matrix = gemm_view(codes) if codes.ndim > 1 else codes.reshape(1, -1)
    k = matrix.shape[1]
    s = _expand(np.asarray(scale, np.float32), spec, k)
    z = _expand(np.asarray(zero_point, np.int32), spec, k)
    return ((matrix - z).astype(np.float32) * s).astype(np.float32).reshape(codes.shape)


@dataclass(frozen=True)
class ActivationQuant:
    """A per-tensor activation format fixed from calibration data."""

    spec: IntSpec
    scale: float
    zero_point: int
    method: str

    def fake_quantize(self, x: np.ndarray) -> np.ndarray:
        """Quantize then dequantize ``x`` (any shape), saturating outside the range."""
        flat = np.asarray(x, np.float32).reshape(1, -1)
        scale = np.array([[self.scale]], np.float32)
        zero = np.array([[self.zero_point]], np.int32)
        q = quantize_int(flat, self.spec, scale, zero)
        return q.dequantize().reshape(np.shape(x))


def calibrate_activations(
    samples: np.ndarray,
    bits: int = 8,
    method: str = "minmax",
    percentile: float = 99.99,
    symmetric: bool = False,
) -> ActivationQuant:
    """Fix a per-tensor activation scale from calibration ``samples`` (any shape).

    ``minmax`` uses the extreme values; ``percentile`` clips at the ``percentile``-th
    percentile of ``|x|`` (symmetric) or at the ``100 - p`` and ``p`` percentiles
    (affine), trading saturation of rare outliers for resolution.
    """
    spec = IntSpec(bits=bits, symmetric=symmetric, granularity=Granularity.TENSOR)
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("activation calibration needs a non-empty array of finite samples")
    if method == "minmax":
        lo, hi, amax = x.min(), x.max(), np.abs(x).max()
    elif method == "percentile":
        if not 50.0 < float(percentile) <= 100.0:
            raise ValueError(f"calibration percentile must be in (50, 100], not {percentile!r}")
        lo, hi = np.percentile(x, [100.0 - percentile, percentile])
        amax = np.percentile(np.abs(x), percentile)
    else:
        raise ValueError(f"calibration method must be 'minmax' or 'percentile', not {method!r}")
    stat = np.array([[amax]]) if symmetric else np.array([[lo, hi]])
    synthetic = stat if symmetric else stat.reshape(1, 2)
    scale, zero = _scales(synthetic, spec)
    return ActivationQuant(spec, float(scale[0, 0]), int(zero[0, 0]), method)
