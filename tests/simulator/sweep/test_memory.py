"""The sweep parent's memory: chunks read back into columns allocated once, equal strings
shared, points carried as numpy columns; bundle pre-checks still name the bad point."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.sweep.engine import make_tasks
from simulator.sweep.spec import SpecError, spec_from_dict
from simulator.sweep.store import SweepStore, concat_tables, read_table
from tests.conftest import ROOT


def chunk(start: int, n: int, dataflow: str) -> dict:
    return {
        "point_id": np.arange(start, start + n, dtype=np.int64),
        "cycles": np.arange(n, dtype=np.int64) * 7,
        "latency_s": np.linspace(0, 1, n),
        "dataflow": np.array([dataflow] * n, dtype=object),
    }


def test_chunks_read_back_as_their_concatenation_with_shared_strings(tmp_path):
    pytest.importorskip("pyarrow")
    store = SweepStore.open(tmp_path / "s", "abc", {"x": 1}, n_chunks=3)
    assert store.fmt == "parquet"
    chunks = [chunk(0, 5, "os"), chunk(5, 3, "ws"), chunk(8, 4, "os")]
    for i, table in enumerate(chunks):
        store.write_chunk(i, table)
    table = store.read_chunks()
    expected = concat_tables([read_table(store.chunk_path(i), store.fmt) for i in range(3)])
    assert table.keys() == expected.keys()
    for name, column in expected.items():
        assert table[name].dtype == column.dtype and table[name].tolist() == column.tolist()
    # One object per distinct string of each chunk (os, ws, os), not one per row.
    assert len({id(v) for v in table["dataflow"]}) == 3


def test_tasks_carry_numpy_columns_and_bundle_checks_name_the_point():
    data = {
        "name": "t",
        "base": {"rows": 4, "cols": 4, "dataflow": "os"},
        "workloads": ["alexnet"],
        "axes": {
            "rows": [1, 4],
            "array": [
                {"label": "dense"},
                {"label": "2:4", "pe_kind": "nm", "nm_patterns": ["2:4"]},
            ],
            "dataflow": ["os", "ws"],
        },
        "chunk_size": 3,
    }
    with pytest.raises(SpecError) as error:
        make_tasks(spec_from_dict(data, root=ROOT))
    # rows 1 x 2:4 x ws is the first point no config allows (point 3 in grid order).
    assert str(error.value).startswith("point {'rows': 1, 'array': '2:4', 'dataflow': 'ws'}: ")
    assert "rows must be at least 2" in str(error.value)
    data["axes"]["rows"] = [2, 4]
    tasks = make_tasks(spec_from_dict(data, root=ROOT))
    assert all(isinstance(column, np.ndarray) for column in tasks[0].points.values())
    assert [len(task.configs()) for task in tasks] == [3, 3, 2]
