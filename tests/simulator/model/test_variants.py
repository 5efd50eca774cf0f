"""ConfigVariants: a sweep chunk's configs without a config per point, the same numbers and
the same errors as the configs built one by one."""

from __future__ import annotations

import contextlib
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compress.nm import NMPattern
from simulator import AcceleratorConfig, Conv2d, Gemm, Layer, Linear, MatMul, Workload
from simulator.config import COMBINATION_FIELDS, FIELD_NAMES, ConfigError, normalized_field
from simulator.model.columns import EXECUTION_FIELDS, ConfigColumns, execution_key
from simulator.model.variants import ConfigVariants, FieldValues, groups_of
from simulator.results.batch import evaluate_configs
from simulator.sweep.engine import chunk_variants, point_config

WORKLOAD = Workload(
    "mixed",
    (
        Layer("conv", Conv2d(h=14, w=14, c=16, k=32, r=3, s=3, padding=1), nm=NMPattern(2, 4)),
        Layer("dw", Conv2d(h=14, w=14, c=32, k=32, r=3, s=3, padding=1, groups=32)),
        Layer("scores", MatMul(m=32, k=16, n=32, count=4)),
        Layer("proj", Gemm(m=49, n=128, k=300), weight_density=0.3),
        Layer("fc", Linear(in_features=512, out_features=100)),
    ),
)
BASE = AcceleratorConfig(rows=8, cols=8, dataflow="ws")

# Each field's candidate values: valid ones, ints beside floats, 0.0 beside -0.0, and a
# few that fail a field check or (with the array bundle) a combination check.
AXES = {
    "rows": [1, 2, 4, 8, 16],
    "cols": [1, 3, 8, 16],
    "dataflow": ["os", "ws", "is"],
    "fold_schedule": ["sequential", "overlapped"],
    "stream_tiling": ["none", "fit"],
    "activation_bits": [4, 8, 16],
    "weight_bits": [2, 4, 8],
    "accumulator_bits": [16, 32],
    "ifmap_sram_bytes": [1024, 65536, 1 << 20],
    "filter_sram_bytes": [512, 1 << 18],
    "ofmap_sram_bytes": [2048, 1 << 20],
    "sram_double_buffered": [True, False],
    "dram_bytes_per_cycle": [0.5, 4, 16.0, 100.25],
    "clock_mhz": [200, 1000.0, 1234.5],
    "energy_table": ["horowitz45", "eyeriss"],
    "zero_gating": [False, True],
    "huffman_symbols_per_cycle": [0.0, -0.0, 1.0, 2],
    "technology_nm": [7, 45, 65.5],
    "inter_layer_activations": ["dram", "on_chip"],
    "scalesim_sparsity": ["none", "layerwise"],
}
BAD = {"rows": [0, 2.5], "clock_mhz": [-1.0], "dataflow": ["diagonal"], "weight_bits": [True]}
ARRAY = {
    "dense": {},
    "2:4": {"pe_kind": "nm", "nm_patterns": ["2:4"]},
    "1:4,2:4": {"pe_kind": "nm", "nm_patterns": ["1:4", "2:4"]},
    "skip": {"pe_kind": "skip"},
    "codebook": {"weight_decoder": "codebook", "decoder_entries": 16},
    "stray": {"decoder_entries": 16},  # needs weight_decoder: codebook
}


@st.composite
def chunks(draw, bad: bool = False):
    """A chunk's points (lists or numpy columns, as a task carries them) and bundles."""
    names = draw(st.lists(st.sampled_from(sorted(AXES)), min_size=1, max_size=5, unique=True))
    n = draw(st.integers(1, 24))
    points: dict = {"point_id": list(range(n))}
    for name in names:
        pool = AXES[name] + (BAD.get(name, []) if bad else [])
        values = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique_by=repr))
        column = [values[draw(st.integers(0, len(values) - 1))] for _ in range(n)]
        kinds = {type(v) for v in column}
        if len(kinds) == 1 and kinds <= {int, float, bool} and draw(st.booleans()):
            column = np.array(column)  # a numpy column, read as its .tolist() values
        points[name] = column
    bundles = None
    if draw(st.booleans()):
        labels = draw(st.lists(st.sampled_from(sorted(ARRAY)), min_size=1, unique=True))
        points["array"] = [labels[draw(st.integers(0, len(labels) - 1))] for _ in range(n)]
        bundles = {"array": {label: ARRAY[label] for label in labels}}
    return points, bundles


def one_by_one(points, bundles):
    """The per-config path: ``point_config`` on each point, in order."""
    columns = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in points.items()}
    names = [name for name in columns if name != "point_id"]
    return [
        point_config(BASE, {name: columns[name][i] for name in names}, bundles)
        for i in range(len(columns["point_id"]))
    ]


def outcome(build):
    try:
        return build(), None
    except ConfigError as exc:
        return None, str(exc)


def bits(array: np.ndarray) -> np.ndarray:
    """Floats by their bits (0.0 and -0.0 differ, NaN equals NaN), anything else as is."""
    return array.view(f"u{array.itemsize}") if array.dtype.kind == "f" else array


def assert_identical(a, b) -> None:
    """Equal arrays of equal dtypes and shapes, floats bit for bit; equal other values."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_identical(a[key], b[key])
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert np.array_equal(bits(a), bits(b))
    else:
        assert a == b


@settings(max_examples=60, deadline=None)
@given(chunks())
def test_variants_give_the_columns_and_results_of_configs_built_one_by_one(chunk):
    points, bundles = chunk
    listed, error = outcome(lambda: one_by_one(points, bundles))
    variants, variant_error = outcome(lambda: chunk_variants(BASE, points, bundles))
    assert variant_error == error
    if error:
        return
    assert len(variants) == len(listed)
    assert list(variants) == listed
    fast, slow = ConfigColumns.of(variants), ConfigColumns.of(listed)
    for name in ConfigColumns._fields:
        assert_identical(getattr(fast, name), getattr(slow, name))
    by_variants = evaluate_configs(WORKLOAD, variants, chunk=7)
    by_configs = evaluate_configs(WORKLOAD, listed, chunk=7)
    for name in by_configs.__dataclass_fields__:
        assert_identical(getattr(by_variants, name), getattr(by_configs, name))


@settings(max_examples=60, deadline=None)
@given(chunks(bad=True))
def test_a_bad_point_raises_what_building_it_raises(chunk):
    points, bundles = chunk
    by_variants = outcome(lambda: chunk_variants(BASE, points, bundles))[1]
    assert by_variants == outcome(lambda: one_by_one(points, bundles))[1]


@pytest.mark.parametrize(
    ("points", "bundles", "fragment"),
    [
        pytest.param({"rows": [8, 0, -3]}, None, "'rows' = 0: must be an integer", id="rows-0"),
        pytest.param(
            {"clock_mhz": [100.0, float("nan")]}, None, "'clock_mhz' = nan", id="clock-nan"
        ),
        pytest.param(
            {"rows": [8, 1, 0], "array": ["dense", "2:4", "2:4"]},
            {"array": {"dense": {}, "2:4": ARRAY["2:4"]}},
            "'rows' = 1: an nm array in ws holds a row group of up to 2 rows",
            id="combination-before-a-later-bad-field",
        ),
        pytest.param(
            {"decoder_entries": [256, 16]}, None, "needs weight_decoder: codebook", id="stray"
        ),
        pytest.param({"row": [8]}, None, "'row' = 8: is not a config field", id="unknown"),
    ],
)
def test_bad_axis_values_give_the_per_config_error(points, bundles, fragment):
    points = {"point_id": list(range(len(next(iter(points.values()))))), **points}
    with pytest.raises(ConfigError) as per_config:
        one_by_one(points, bundles)
    with pytest.raises(ConfigError) as vectorized:
        chunk_variants(BASE, points, bundles)
    assert str(vectorized.value) == str(per_config.value)
    assert fragment in str(vectorized.value)
    assert "\n" not in str(vectorized.value)


def test_field_values_keep_every_value_exactly():
    floats = FieldValues.of(np.array([0.0, -0.0, 0.0, np.nan, 2.5]))
    assert [np.copysign(1, v) for v in floats.values[:2]] == [1, -1]
    assert floats.index.tolist() == [0, 1, 0, 2, 3]
    mixed = FieldValues.of([1, 1.0, True, 1, "1"])
    assert [type(v) for v in mixed.values] == [int, float, bool, str]
    assert mixed.index.tolist() == [0, 1, 2, 0, 3]
    lists = FieldValues.of([["2:4"], ["1:4"], ["2:4"]])
    assert lists.values == (["2:4"], ["1:4"]) and lists.index.tolist() == [0, 1, 0]
    ints = FieldValues.of([5, 3, 5, 2**70])  # beyond int64: compared as Python ints
    assert ints.values == (5, 3, 2**70) and ints.index.tolist() == [0, 1, 0, 2]
    assert FieldValues.of(np.array([3, 1, 3])).values == (3, 1)  # first seen, not sorted


def test_groups_are_numbered_in_order_of_first_appearance():
    first, group = groups_of([np.array([2, 0, 2, 1, 0]), np.array([0, 1, 0, 0, 0])], 5)
    assert first.tolist() == [0, 1, 3, 4] and group.tolist() == [0, 1, 0, 2, 3]
    first, group = groups_of([], 3)
    assert first.tolist() == [0] and group.tolist() == [0, 0, 0]


def test_slices_are_variants_and_items_are_configs():
    points = {"point_id": list(range(6)), "rows": [4, 8, 16, 4, 8, 16], "dataflow": ["os"] * 6}
    variants = chunk_variants(BASE, points, None)
    part = variants[2:5]
    assert isinstance(part, ConfigVariants) and len(part) == 3
    assert list(part) == one_by_one(points, None)[2:5]
    assert variants[-1] == BASE.replace(rows=16, dataflow="os")
    with pytest.raises(IndexError):
        variants[6]


class _Recording(AcceleratorConfig):
    """A config that notes which fields are read."""

    read: ClassVar[set[str]] = set()

    def __getattribute__(self, name):
        if name in FIELD_NAMES:
            _Recording.read.add(name)
        return super().__getattribute__(name)


def _fields_read(states, method) -> set[str]:
    _Recording.read = set()
    for state in states:
        recording = object.__new__(_Recording)
        recording.__dict__.update(state)
        with contextlib.suppress(ConfigError):  # refused combinations are read too
            method(recording)
    return _Recording.read


def _all_kinds() -> list[dict]:
    """Field values of configs of every kind, the combinations construction refuses too."""
    states = []
    for dataflow in ("os", "ws", "is"):
        for rows in (1, 4):
            for bundle in ARRAY.values():
                changes = {"dataflow": dataflow, "rows": rows, **bundle}
                states.append(
                    {**BASE.__dict__, **{k: normalized_field(k, v) for k, v in changes.items()}}
                )
    return states


def test_the_combination_checks_read_only_the_combination_fields():
    read = _fields_read(_all_kinds(), AcceleratorConfig._check_combinations)
    assert read <= set(COMBINATION_FIELDS)


def test_the_execution_key_reads_only_its_fields():
    read = _fields_read(_all_kinds(), execution_key)
    assert read <= set(EXECUTION_FIELDS)
