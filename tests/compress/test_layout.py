"""Shape conventions: the GEMM view and channel-last views."""

from __future__ import annotations

import numpy as np
import pytest

from compress.layout import channel_last, check_weight, from_channel_last, from_gemm, gemm_view


def test_gemm_view_is_the_simulator_k(rng):
    w = rng.normal(size=(4, 3, 2, 5))
    matrix = gemm_view(w)
    assert matrix.shape == (4, 30)
    assert matrix[1, 2 * 10 + 1 * 5 + 3] == w[1, 2, 1, 3]  # K runs (in, kh, kw)
    np.testing.assert_array_equal(from_gemm(matrix, w.shape), w)


@pytest.mark.parametrize("shape", [(4, 6), (4, 6, 3, 2)])
def test_channel_last_round_trip(shape, rng):
    w = rng.normal(size=shape)
    cl = channel_last(w)
    assert cl.shape[-1] == 6
    np.testing.assert_array_equal(from_channel_last(cl, shape), w)


def test_check_weight():
    assert check_weight(np.ones((2, 3), np.float64)).dtype == np.float32
    with pytest.raises(ValueError, match="must be 2-D \\[out, in\\] or 4-D"):
        check_weight(np.ones(3))
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_weight(np.array([[np.inf]]))
    with pytest.raises(ValueError, match="must not be empty"):
        check_weight(np.ones((0, 3)))
