"""Uniform integer quantization: ranges, rounding, saturation, granularity, calibration."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from compress.quant import (
    Granularity,
    IntSpec,
    calibrate_activations,
    dequantize_int,
    quantize_int,
)

SPECS = [
    IntSpec(8),
    IntSpec(4, granularity=Granularity.TENSOR),
    IntSpec(8, restricted=False),
    IntSpec(3, symmetric=False),
    IntSpec(5, granularity=Granularity.GROUP, group_size=7),
    IntSpec(16, symmetric=False, granularity=Granularity.TENSOR),
    IntSpec(2),
]


def reference_codes(w: np.ndarray, spec: IntSpec) -> np.ndarray:
    """Row-by-row plain-numpy reference of the documented formulas."""
    matrix = w.reshape(w.shape[0], -1).astype(np.float64)
    out = np.empty(matrix.shape, np.int64)
    size = {"tensor": matrix.size, "channel": matrix.shape[1]}.get(spec.granularity.value)
    for r in range(matrix.shape[0]):
        for start in range(0, matrix.shape[1], spec.group_size or matrix.shape[1]):
            stop = start + (spec.group_size or matrix.shape[1])
            block = matrix[r, start:stop]
            stats = matrix if size == matrix.size else block
            if spec.symmetric:
                amax = np.abs(stats).max()
                divisor = spec.qmax if spec.restricted else spec.qmax + 0.5
                scale = np.float32(amax / divisor) or np.float32(1.0)
                if amax / np.float64(scale) > divisor:
                    scale = np.nextafter(scale, np.float32(np.inf))
                zero = 0
            else:
                lo, hi = min(stats.min(), 0.0), max(stats.max(), 0.0)
                scale = np.float32((hi - lo) / spec.qmax) or np.float32(1.0)
                zero = int(np.clip(np.rint(-lo / np.float64(scale)), 0, spec.qmax))
            q = np.rint(block / np.float64(scale)) + zero
            out[r, start:stop] = np.clip(q, spec.qmin, spec.qmax)
    return out.reshape(w.shape)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_codes_match_a_plain_numpy_reference(spec, rng):
    w = (rng.normal(size=(5, 3, 2, 3)) * rng.uniform(0.1, 3, size=(5, 1, 1, 1))).astype(np.float32)
    q = quantize_int(w, spec)
    np.testing.assert_array_equal(q.codes, reference_codes(w, spec))
    assert q.codes.min() >= spec.qmin and q.codes.max() <= spec.qmax


@pytest.mark.parametrize(
    ("spec", "qmin", "qmax"),
    [(IntSpec(8), -127, 127), (IntSpec(8, restricted=False), -128, 127),
     (IntSpec(4, symmetric=False), 0, 15), (IntSpec(16), -32767, 32767), (IntSpec(2), -1, 1)],
)  # fmt: skip
def test_ranges(spec, qmin, qmax):
    assert (spec.qmin, spec.qmax) == (qmin, qmax)


@settings(max_examples=80, deadline=None)
@given(
    arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 40)),
           elements=st.floats(-100, 100, width=32)),
    st.sampled_from(SPECS),
)  # fmt: skip
def test_error_at_most_half_a_step_inside_the_range(w, spec):
    q = quantize_int(w, spec)
    k = w.shape[1]
    scale = q.scale.astype(np.float64)
    if spec.granularity is Granularity.GROUP:
        scale = np.repeat(scale, spec.group_size, axis=1)[:, :k]
    error = np.abs(q.dequantize().astype(np.float64) - w)
    float32_rounding = np.spacing(np.abs(w).astype(np.float32)).astype(np.float64)
    assert np.all(error <= scale / 2 + float32_rounding)


@settings(max_examples=50, deadline=None)
@given(st.floats(-1e3, 1e3, allow_nan=False, width=32), st.integers(2, 16))
def test_values_outside_a_given_range_saturate(x, bits):
    spec = IntSpec(bits, granularity=Granularity.TENSOR)
    scale = np.array([[0.5]], np.float32)
    q = quantize_int(np.array([[x]], np.float32), spec, scale)
    expected = np.clip(np.rint(x / 0.5), spec.qmin, spec.qmax)
    assert q.codes[0, 0] == expected
    if abs(x) > spec.qmax * 0.5 + 0.25:
        assert abs(q.codes[0, 0]) == spec.qmax


def test_round_half_to_even():
    spec = IntSpec(8, granularity=Granularity.TENSOR)
    q = quantize_int(np.array([[0.5, 1.5, 2.5, -0.5, -2.5]], np.float32), spec, np.ones((1, 1)))
    assert q.codes.tolist() == [[0, 2, 2, 0, -2]]


def test_affine_keeps_zero_exact(rng):
    w = rng.uniform(0.3, 2.0, size=(4, 9)).astype(np.float32)
    w[:, 0] = 0.0
    q = quantize_int(w, IntSpec(4, symmetric=False))
    assert np.all(q.dequantize()[:, 0] == 0.0)
    assert np.all(q.zero_point == 0)  # all weights >= 0: lo = 0


def test_per_group_scales_have_one_column_per_group(rng):
    w = rng.normal(size=(3, 10)).astype(np.float32)
    q = quantize_int(w, IntSpec(8, granularity="group", group_size=4))
    assert q.scale.shape == (3, 3)
    np.testing.assert_allclose(q.scale[:, 2], np.abs(w[:, 8:]).max(axis=1) / 127, rtol=1e-6)


def test_dequantize_is_float32_product():
    spec = IntSpec(8, symmetric=False, granularity=Granularity.TENSOR)
    codes = np.array([[0, 10, 255]])
    got = dequantize_int(codes, np.array([[0.1]], np.float32), np.array([[10]]), spec)
    assert got.dtype == np.float32
    assert got.tolist() == [
        [np.float32(-10) * np.float32(0.1), 0.0, np.float32(245) * np.float32(0.1)]
    ]


@pytest.mark.parametrize("bits", [1, 17, 0, 8.0, True])
def test_bad_widths_name_the_value_and_range(bits):
    with pytest.raises(ValueError, match=f"from 2 to 16, not {bits!r}"):
        IntSpec(bits)


def test_group_size_rules():
    with pytest.raises(ValueError, match="needs group_size"):
        IntSpec(8, granularity="group")
    with pytest.raises(ValueError, match="only allowed with granularity 'group'"):
        IntSpec(8, group_size=4)


def test_calibration_minmax_and_percentile(rng):
    x = np.concatenate([rng.normal(size=10000), [50.0]])
    minmax = calibrate_activations(x, bits=8, method="minmax", symmetric=True)
    assert minmax.scale == pytest.approx(50.0 / 127, rel=1e-6)
    clipped = calibrate_activations(x, bits=8, method="percentile", percentile=99.9, symmetric=True)
    assert clipped.scale < minmax.scale / 5
    assert clipped.fake_quantize(np.array([100.0]))[0] == pytest.approx(127 * clipped.scale)
    relu = calibrate_activations(np.abs(x), bits=8, method="minmax")
    assert relu.zero_point == 0 and relu.scale == pytest.approx(50.0 / 255, rel=1e-6)


def test_calibration_errors():
    with pytest.raises(ValueError, match="'minmax' or 'percentile'"):
        calibrate_activations(np.ones(3), method="kl")
    with pytest.raises(ValueError, match="percentile must be in"):
        calibrate_activations(np.ones(3), method="percentile", percentile=30)
    with pytest.raises(ValueError, match="non-empty"):
        calibrate_activations(np.array([]))


MSE_SPECS = [
    IntSpec(4, clip="mse"),
    IntSpec(3, symmetric=False, clip="mse"),
    IntSpec(4, granularity=Granularity.GROUP, group_size=5, clip="mse"),
    IntSpec(4, granularity=Granularity.TENSOR, clip="mse"),
]


def cell_errors(w: np.ndarray, spec: IntSpec, q) -> np.ndarray:
    """Squared error per scale cell, row by row in plain numpy."""
    matrix = w.reshape(w.shape[0], -1).astype(np.float64)
    err = (matrix - q.dequantize().reshape(matrix.shape).astype(np.float64)) ** 2
    if spec.granularity is Granularity.TENSOR:
        return np.array([[err.sum()]])
    size = spec.group_size or matrix.shape[1]
    return np.array(
        [
            [err[r, s : s + size].sum() for s in range(0, matrix.shape[1], size)]
            for r in range(len(err))
        ]
    )


@pytest.mark.parametrize("spec", MSE_SPECS, ids=lambda s: s.name)
def test_mse_clipping_never_loses_to_max_scaling(spec, rng):
    # Heavy-tailed weights, where clipping pays: a few outliers per row.
    w = rng.standard_t(3, size=(6, 20)).astype(np.float32)
    max_spec = IntSpec(spec.bits, spec.symmetric, spec.granularity, spec.group_size, clip="max")
    mse = quantize_int(w, spec)
    full = quantize_int(w, max_spec)
    mse_err, full_err = cell_errors(w, spec, mse), cell_errors(w, spec, full)
    assert np.all(mse_err <= full_err * (1 + 1e-6))
    assert mse_err.sum() < full_err.sum()  # and it does better on these weights
    assert np.all(mse.scale <= full.scale)  # the range only ever shrinks


def test_mse_clipping_is_the_best_shrink_factor(rng):
    """Each channel's scale is the one, among amax * alpha / qmax for alpha = 0.30..1.00,
    with the least squared error (a plain-numpy search over the same grid)."""
    w = rng.standard_t(3, size=(5, 16))
    spec = IntSpec(4, clip="mse")
    q = quantize_int(w, spec)
    for r, row in enumerate(w.astype(np.float32).astype(np.float64)):
        errors = []
        for alpha in np.round(np.arange(0.30, 1.0001, 0.01), 2):
            s = np.float64(np.float32(alpha * np.abs(row).max() / spec.qmax))
            codes = np.clip(np.rint(row / s), spec.qmin, spec.qmax)
            errors.append(((row - codes * s) ** 2).sum())
        assert q.scale[r, 0] == pytest.approx(
            np.round(np.arange(0.30, 1.0001, 0.01), 2)[int(np.argmin(errors))]
            * np.abs(row).max()
            / spec.qmax,
            rel=1e-6,
        )


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, (4, 9), elements=st.floats(-50, 50, width=32)))
def test_mse_clipping_error_bound_inside_its_range(w):
    spec = IntSpec(4, clip="mse")
    q = quantize_int(w, spec)
    s = q.scale.astype(np.float64)
    inside = np.abs(w) <= s * spec.qmax
    err = np.abs(w.astype(np.float64) - q.dequantize())
    assert np.all(err[inside] <= (np.broadcast_to(s, w.shape)[inside] / 2) * (1 + 1e-6) + 1e-12)


def test_clip_option_in_recipes_names_and_files(tmp_path, rng):
    from compress import compress_network
    from compress.io import load_compressed, save_compressed
    from compress.recipe import parse_recipe

    step = parse_recipe("int4 per-channel clip=mse").default.steps[0]
    assert step.spec == IntSpec(4, clip="mse") and step.spec.name == "int4-sym-channel-mse"
    with pytest.raises(ValueError, match="clip must be one of max, mse, not 'l1'"):
        parse_recipe("int4 clip=l1")
    params = {"fc.weight": rng.standard_normal((8, 12)).astype(np.float32)}
    model = compress_network(None, params, "int4 per-channel clip=mse")
    again = load_compressed(save_compressed(model, tmp_path / "c.npz"))
    assert again.tensors["fc.weight"].encoding.spec.clip == "mse"
    np.testing.assert_array_equal(
        again.tensors["fc.weight"].values, model.tensors["fc.weight"].values
    )
