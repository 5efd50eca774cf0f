"""Resuming sweeps safely: the fingerprint covers the contents of the files a spec names,
paths resolve against the spec, one writer holds the folder, chunks are verified on
resume, and Ctrl-C stops cleanly."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from simulator.sweep.engine import SweepInterrupted, finalize, run_sweep
from simulator.sweep.lock import LOCK_FILE, FolderLock, LockError
from simulator.sweep.spec import load_spec, spec_from_dict
from simulator.sweep.store import CHUNK_JOURNAL, StoreError
from tests.conftest import ROOT

CHEAP = "pe:\n  gated_mac: {value: 0.01, unit: pJ, source: a test figure}\n"
FREE_DRAM = (
    "dram:\n  read: {value: 0.0, unit: pJ/bit, source: a test figure}\n"
    "  write: {value: 0.0, unit: pJ/bit, source: a test figure}\n"
)
NET = "Layer Name, M, N, K,\nfc1, 64, 128, 256,\nfc2, 64, 64, 128,\n"


def same_tables(a, b):
    assert sorted(a) == sorted(b)
    for name in a:
        assert a[name].tolist() == b[name].tolist(), name


def write_files(folder, chunk_size=2):
    """A spec naming an override file and a workload file, both relative to it."""
    (folder / "tables").mkdir(parents=True)
    (folder / "tables" / "dram.yaml").write_text(FREE_DRAM)
    (folder / "net.csv").write_text(NET)
    spec = {
        "name": "files",
        "base": {"rows": 8, "cols": 8, "energy_overrides": "tables/dram.yaml"},
        "workloads": ["net.csv", "alexnet"],
        "axes": {"rows": [4, 8, 16], "cols": [4, 8]},
        "chunk_size": chunk_size,
    }
    path = folder / "spec.yaml"
    path.write_text(json.dumps(spec))
    return path


def test_the_same_spec_gives_the_same_numbers_from_any_working_directory(tmp_path, monkeypatch):
    spec_path = write_files(tmp_path / "specs")
    tables = []
    for cwd in (tmp_path, tmp_path / "specs" / "tables"):
        monkeypatch.chdir(cwd)
        spec = load_spec(os.path.relpath(spec_path, cwd))
        tables.append(run_sweep(spec, tmp_path / f"out-{len(tables)}").table)
    same_tables(*tables)
    assert set(tables[0]["energy_dram_pj"]) == {0.0}  # the override file was applied


def test_the_fingerprint_covers_the_contents_of_every_named_file(tmp_path):
    spec_path = write_files(tmp_path)
    spec = load_spec(spec_path)
    files = spec.input_files()
    assert str((tmp_path / "tables" / "dram.yaml").resolve()) in files
    assert str((tmp_path / "net.csv").resolve()) in files
    assert any(f.endswith("energy_horowitz45.yaml") for f in files)
    before = spec.fingerprint(spec.file_digests())
    (tmp_path / "tables" / "dram.yaml").write_text(FREE_DRAM + "# same numbers, new text\n")
    assert spec.fingerprint(spec.file_digests()) != before


@pytest.mark.parametrize("changed", ["tables/dram.yaml", "net.csv"])
def test_resuming_after_a_named_file_changed_is_refused_naming_it(tmp_path, changed):
    spec_path = write_files(tmp_path)
    out = tmp_path / "out"
    assert not run_sweep(load_spec(spec_path), out, max_chunks=1).complete
    path = tmp_path / changed
    path.write_text(path.read_text().replace("0.0", "1.0").replace("fc2, 64", "fc2, 65"))
    with pytest.raises(StoreError) as error:
        run_sweep(load_spec(spec_path), out)
    message = str(error.value)
    assert f"another version of {path.resolve()}: the file changed since" in message
    assert "new --out folder, or delete" in message
    assert not (out / LOCK_FILE).exists()


def test_bad_chunks_are_recomputed_and_named(tmp_path, caplog):
    spec_path = write_files(tmp_path, chunk_size=1)
    spec = load_spec(spec_path)
    clean = run_sweep(spec, tmp_path / "clean").table
    out = tmp_path / "out"
    run_sweep(spec, out, max_chunks=4)
    chunks = sorted((out / "chunks").glob("chunk-*"))
    assert len(chunks) == 4
    corrupted = bytearray(chunks[0].read_bytes())
    corrupted[len(corrupted) // 2] ^= 0xFF  # same size, other bytes
    chunks[0].write_bytes(bytes(corrupted))
    chunks[1].write_bytes(chunks[1].read_bytes()[:-7])  # truncated
    chunks[2].unlink()  # missing
    journal = out / CHUNK_JOURNAL
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:3]) + "\n")  # chunk 3 present but not recorded
    with caplog.at_level(logging.WARNING, logger="simulator.sweep.store"):
        resumed = run_sweep(spec, out)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("chunk 0 ") and "is corrupted" in m for m in messages), messages
    assert any(m.startswith("chunk 1 ") and "is truncated" in m for m in messages), messages
    assert any(m.startswith("chunk 2 ") and "is missing" in m for m in messages), messages
    assert any(m.startswith("chunk 3 ") and "no recorded checksum" in m for m in messages)
    assert resumed.chunks_reused == 0 and resumed.complete
    same_tables(clean, resumed.table)
    recorded = [json.loads(line)["chunk"] for line in journal.read_text().splitlines()]
    assert sorted(recorded) == list(range(6))


def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    spec = load_spec(write_files(tmp_path))
    with FolderLock(tmp_path / "out"):
        with pytest.raises(LockError) as error:
            run_sweep(spec, tmp_path / "out")
        holder = json.loads((tmp_path / "out" / LOCK_FILE).read_text())
    message = str(error.value)
    assert f"is being written by another sweep (pid {os.getpid()} on {socket.gethostname()}" in (
        message
    )
    assert f"started {holder['started']}" in message
    assert not (tmp_path / "out" / LOCK_FILE).exists()
    assert run_sweep(spec, tmp_path / "out").complete  # free again once released


def test_a_stale_lock_is_taken_over_with_a_warning(tmp_path, caplog):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    out = tmp_path / "out"
    out.mkdir()
    holder = {"pid": dead.pid, "host": socket.gethostname(), "started": "2024-05-01T10:00:00"}
    (out / LOCK_FILE).write_text(json.dumps(holder))
    with caplog.at_level(logging.WARNING, logger="simulator.sweep.lock"):
        assert run_sweep(load_spec(write_files(tmp_path)), out).complete
    assert f"took over the lock of a sweep that no longer runs (pid {dead.pid} on" in caplog.text
    assert not (out / LOCK_FILE).exists()


@pytest.mark.parametrize("text", ["garbage", '{"pid": "12", "host": 3, "started": []}'])
def test_an_unreadable_lock_file_is_taken_over_with_a_warning(tmp_path, caplog, text):
    out = tmp_path / "out"
    out.mkdir()
    (out / LOCK_FILE).write_text(text)
    with caplog.at_level(logging.WARNING, logger="simulator.sweep.lock"):
        assert run_sweep(load_spec(write_files(tmp_path)), out).complete
    assert "took over the lock" in caplog.text and "unreadable lock file" in caplog.text


def test_the_lock_is_released_on_errors(tmp_path):
    spec = load_spec(write_files(tmp_path))

    def fail(index):
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError):
        run_sweep(spec, tmp_path / "out", on_chunk=fail)
    assert not (tmp_path / "out" / LOCK_FILE).exists()
    assert run_sweep(spec, tmp_path / "out").chunks_reused == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_keeps_the_finished_chunks_and_releases_everything(tmp_path, workers):
    spec = load_spec(write_files(tmp_path, chunk_size=1))
    done = []

    def interrupt_after_two(index):
        done.append(index)
        if len(done) == 2:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as stop:
        run_sweep(spec, tmp_path / "out", workers=workers, on_chunk=interrupt_after_two)
    assert (stop.value.chunks_done, stop.value.n_chunks) == (2, 6)
    assert str(stop.value) == f"2 of 6 chunks done and kept in {tmp_path / 'out'}"
    assert not (tmp_path / "out" / LOCK_FILE).exists()
    assert not multiprocessing.active_children()  # the pool's workers are gone
    resumed = run_sweep(spec, tmp_path / "out")
    assert resumed.chunks_reused == 2 and resumed.complete
    same_tables(run_sweep(spec, tmp_path / "clean").table, resumed.table)


def test_ctrl_c_on_the_command_line_prints_how_to_resume(tmp_path):
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(
        json.dumps(
            {
                "base": {"rows": 16, "cols": 16},
                "workloads": ["resnet50"],
                "sampling": {"method": "lhs", "samples": 1200, "seed": 3},
                "axes": {"rows": {"range": [4, 128]}, "cols": {"range": [4, 128]}},
                "chunk_size": 10,
            }
        )
    )
    out = tmp_path / "out"
    args = ["sweep", "--spec", str(spec_path), "--out", str(out), "--workers", "2", "--no-plots"]
    cli = [sys.executable, "-m", "simulator.cli"]
    # A session of its own, signalled as a whole: what Ctrl-C in a terminal does.
    proc = subprocess.Popen([*cli, *args], stderr=subprocess.PIPE, text=True,
                            stdout=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while len(list((out / "chunks").glob("chunk-*"))) < 3 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    done = len(list((out / "chunks").glob("chunk-*")))
    assert lines[0] == (
        f"sparsa: interrupted: {done} of 120 chunks done and kept in {out}; resume with: "
        f"sparsa {' '.join(args)}"
    )
    assert not (out / LOCK_FILE).exists()
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # no worker outlived it
    subprocess.run([*cli, *args], check=True, capture_output=True)
    assert sorted(np.unique(_results(out)["point_id"]).tolist()) == list(range(1200))


def _results(out):
    from simulator.sweep.plots import load_results

    return load_results(out)[0]


def test_energy_tables_of_two_units_never_share_a_front():
    table = {
        "point_id": np.arange(4),
        "workload": np.array(["w"] * 4, dtype=object),
        "latency_s": np.array([1.0, 2.0, 1.0, 2.0]),
        "energy_pj": np.array([10.0, 5.0, 1.0, 0.5]),  # MAC16 rows look "cheaper"
        "area_mm2": np.ones(4),
        "energy_unit": np.array(["pJ", "pJ", "MAC16", "MAC16"], dtype=object),
    }
    spec = spec_from_dict({"base": {"rows": 4, "cols": 4}, "workloads": ["alexnet"],
                           "axes": {"rows": [4]}}, root=ROOT)  # fmt: skip
    assert finalize(spec, table)["pareto"].tolist() == [True, True, True, True]
