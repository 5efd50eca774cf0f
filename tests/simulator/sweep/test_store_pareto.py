"""Chunk store round-trips and refuses foreign sweeps; the Pareto front is exact."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.sweep.lock import LOCK_FILE
from simulator.sweep.pareto import pareto_mask
from simulator.sweep.store import StoreError, SweepStore, read_table, write_table


def table():
    return {
        "point_id": np.array([3, 1, 2], dtype=np.int64),
        "latency_s": np.array([0.1, 1 / 3, 2.5e-9]),
        "dataflow": np.array(["os", "ws", "is"], dtype=object),
        "pareto": np.array([True, False, True]),
    }


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_table_round_trip_is_exact(tmp_path, fmt):
    path = tmp_path / f"t.{fmt}"
    write_table(table(), path, fmt)
    again = read_table(path, fmt)
    for name, column in table().items():
        assert again[name].tolist() == column.tolist()
        assert again[name].dtype.kind == column.dtype.kind
    assert [p.name for p in tmp_path.iterdir()] == [f"t.{fmt}"]  # no temporaries left


def test_store_resumes_and_refuses_another_spec(tmp_path):
    with SweepStore.open(tmp_path / "s", "abc", {"x": 1}, n_chunks=3) as store:
        store.write_chunk(1, table())
        (store.chunk_dir / ".chunk-00002.csv.tmp-123").write_text("half written")
    with SweepStore.open(tmp_path / "s", "abc", {"x": 1}, n_chunks=3) as again:
        assert again.done() == {1}
        assert not list(again.chunk_dir.glob(".*"))  # the half-written temporary is gone
        assert again.read_chunks()["point_id"].tolist() == [3, 1, 2]
    with pytest.raises(StoreError, match="different spec"):
        SweepStore.open(tmp_path / "s", "xyz", {"x": 2}, n_chunks=3)
    assert not (tmp_path / "s" / LOCK_FILE).exists()  # released when refused, too


def test_store_refuses_a_non_sweep_directory(tmp_path):
    (tmp_path / "precious.txt").write_text("keep")
    with pytest.raises(StoreError, match="not empty"):
        SweepStore.open(tmp_path, "abc", {}, n_chunks=1)
    assert [p.name for p in tmp_path.iterdir()] == ["precious.txt"]


def test_pareto_hand_made():
    points = np.array(
        [
            [1, 5, 1],  # optimal
            [2, 2, 2],  # optimal
            [3, 3, 3],  # dominated by [2, 2, 2]
            [5, 1, 9],  # optimal (best energy)
            [2, 2, 2],  # duplicate of an optimal point: kept
            [1, 5, 2],  # dominated by [1, 5, 1]
            [np.nan, 0, 0],  # never optimal
        ],
        dtype=float,
    )
    assert pareto_mask(points).tolist() == [True, True, False, True, True, False, False]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(*[st.integers(0, 6)] * 3), min_size=1, max_size=60))
def test_pareto_matches_brute_force(rows):
    points = np.array(rows, dtype=float)
    expected = [not any(all(q <= p) and any(q < p) for q in points) for p in points]
    assert pareto_mask(points).tolist() == expected


def test_pareto_front_of_a_grid_is_its_minimum():
    grid = np.array(list(itertools.product(range(3), repeat=3)), dtype=float)
    assert pareto_mask(grid).tolist() == [bool((row == 0).all()) for row in grid]


def test_a_ctrl_c_while_a_chunk_is_written_waits_for_its_record(tmp_path):
    import os
    import signal

    from simulator.sweep import store as store_module

    reached = []
    with pytest.raises(KeyboardInterrupt), store_module._sigint_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        reached.append("the rest of the block")
    assert reached == ["the rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
