"""evaluate_configs keeps only its results: no array of the result pins a larger one."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from simulator import AcceleratorConfig, Gemm, Layer, Workload
from simulator.results.batch import _sequential_sum, evaluate_configs


@settings(max_examples=50, deadline=None)
@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 6), st.integers(1, 9)), elements=st.floats(-1e6, 1e6)
    )
)
def test_sequential_sums_own_their_memory_and_add_left_to_right(values):
    total = _sequential_sum(values)
    assert total.base is None  # not a view of the (C, L) cumulative sum
    assert total.shape == values.shape[:1]
    for i, row in enumerate(values):
        assert total[i] == sum(row.tolist())  # Python's order, to the last bit


def test_no_result_array_is_a_view_of_a_chunk():
    workload = Workload("w", (Layer("a", Gemm(m=30, n=20, k=10)), Layer("b", Gemm(m=7, n=9, k=11))))
    configs = [
        AcceleratorConfig(rows=r, cols=c, energy_table=t)
        for r in (2, 4, 8) for c in (3, 8) for t in ("horowitz45", "eyeriss")
    ]  # fmt: skip
    result = evaluate_configs(workload, configs, chunk=5)
    for name in result.__dataclass_fields__:
        value = getattr(result, name)
        for array in value.values() if isinstance(value, dict) else [value]:
            if isinstance(array, np.ndarray):
                assert array.base is None, name
                assert len(array) == len(configs), name
