"""Chunked, resumable storage of sweep results.

Layout of a sweep directory::

    manifest.json          the spec (canonical form), its fingerprint, the chunking
    chunks/chunk-00012.parquet  (or .csv)  one file per finished chunk

A chunk file only ever appears by an atomic rename of a fully written temporary file,
so a process killed at any moment leaves either the whole chunk or nothing that
counts; leftover temporaries are removed when the sweep is opened again. Opening a
directory that holds a sweep of a different spec is refused instead of mixing results.

Parquet (through pyarrow) is used when pyarrow is installed, CSV otherwise; the
manifest records which, so a directory is always read back in the format it was
written in. The CSV form stores each column's kind in its header (``cycles:i``,
``latency_s:f``, ``dataflow:s``, ``pareto:b``) and floats in round-trip precision, so
both formats give back identical tables.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from compress.errors import InputError

__all__ = ["StoreError", "SweepStore", "Table", "concat_tables", "read_table", "write_table"]

Table = dict[str, np.ndarray]
MANIFEST = "manifest.json"
_KINDS = {"i": np.int64, "f": np.float64, "b": np.bool_}


class StoreError(InputError):
    """The sweep directory cannot be used for this sweep."""


def default_format() -> str:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return "csv"
    return "parquet"


def _kind(array: np.ndarray) -> str:
    if array.dtype.kind == "b":
        return "b"
    if array.dtype.kind in "iu":
        return "i"
    if array.dtype.kind == "f":
        return "f"
    return "s"


def _atomic_write(path: Path, write) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(tmp)
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_table(table: Mapping[str, np.ndarray], path: Path, fmt: str) -> None:
    """Write ``table`` (columns of equal length) atomically as Parquet or CSV."""
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays = {k: (v.astype(str) if _kind(v) == "s" else v) for k, v in table.items()}
        _atomic_write(path, lambda p: pq.write_table(pa.table(arrays), p))
        return

    def write_csv(p: Path) -> None:
        with p.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([f"{name}:{_kind(col)}" for name, col in table.items()])
            columns = [col.tolist() for col in table.values()]
            writer.writerows(zip(*columns, strict=True))

    _atomic_write(path, write_csv)


def read_table(path: Path, fmt: str) -> Table:
    """Read a table written by :func:`write_table`."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        data = pq.read_table(path)
        return {
            name: _strings(col) if col.type == "string" else col.to_numpy()
            for name, col in zip(data.column_names, data.columns, strict=True)
        }
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    table: Table = {}
    for j, cell in enumerate(header):
        name, kind = cell.rsplit(":", 1)
        values = [row[j] for row in body]
        if kind == "b":
            table[name] = np.array([v == "True" for v in values], dtype=bool)
        elif kind in _KINDS:
            table[name] = (
                np.array(values, dtype=_KINDS[kind]) if values else np.empty(0, _KINDS[kind])
            )
        else:
            table[name] = np.array(values, dtype=object)
    return table


def _strings(column) -> np.ndarray:
    """A Parquet string column as an object array in which equal strings are one object
    (a column of a million rows holds a few labels, not a million copies)."""
    if column.null_count:
        return np.array(column.to_pylist(), dtype=object)
    encoded = column.combine_chunks().dictionary_encode()
    labels = np.array(encoded.dictionary.to_pylist(), dtype=object)
    return labels[encoded.indices.to_numpy()]


def concat_tables(tables: list[Table]) -> Table:
    if not tables:
        return {}
    return {name: np.concatenate([t[name] for t in tables]) for name in tables[0]}


@dataclass(frozen=True)
class SweepStore:
    """A sweep directory bound to one spec fingerprint."""

    root: Path
    fingerprint: str
    n_chunks: int
    fmt: str

    @property
    def chunk_dir(self) -> Path:
        return self.root / "chunks"

    def chunk_path(self, index: int) -> Path:
        suffix = "parquet" if self.fmt == "parquet" else "csv"
        return self.chunk_dir / f"chunk-{index:05d}.{suffix}"

    @classmethod
    def open(
        cls, root: Path, fingerprint: str, spec: Mapping[str, Any], n_chunks: int
    ) -> SweepStore:
        """Create the directory, or reopen it when it holds this same sweep."""
        root = Path(root)
        manifest_path = root / MANIFEST
        if manifest_path.is_file():
            manifest = json.loads(manifest_path.read_text())
            if manifest.get("fingerprint") != fingerprint:
                raise StoreError(
                    f"{root} holds a sweep of a different spec (fingerprint "
                    f"{manifest.get('fingerprint')}, this spec {fingerprint}); "
                    "use another --out directory or delete that one"
                )
            store = cls(root, fingerprint, int(manifest["n_chunks"]), manifest["format"])
        else:
            if root.exists() and any(root.iterdir()):
                raise StoreError(
                    f"{root} is not empty and holds no sweep manifest; use another --out"
                )
            store = cls(root, fingerprint, n_chunks, default_format())
            root.mkdir(parents=True, exist_ok=True)
            manifest = {
                "fingerprint": fingerprint,
                "n_chunks": n_chunks,
                "format": store.fmt,
                "spec": spec,
            }
            _atomic_write(
                manifest_path, lambda p: p.write_text(json.dumps(manifest, indent=2, default=str))
            )
        store.chunk_dir.mkdir(exist_ok=True)
        for leftover in store.chunk_dir.glob(".*.tmp-*"):
            leftover.unlink(missing_ok=True)
        return store

    def done(self) -> set[int]:
        """Indices of chunks whose file is complete."""
        done = set()
        for path in self.chunk_dir.glob("chunk-*"):
            index = int(path.stem.split("-")[1])
            if path == self.chunk_path(index):
                done.add(index)
        return done

    def write_chunk(self, index: int, table: Mapping[str, np.ndarray]) -> None:
        write_table(table, self.chunk_path(index), self.fmt)

    def read_chunks(self) -> Table:
        """All finished chunks concatenated in chunk order. Parquet chunks are copied
        into columns allocated once, one chunk at a time, so that the chunks are never all
        in memory beside the result."""
        paths = [self.chunk_path(i) for i in sorted(self.done())]
        if self.fmt != "parquet":
            return concat_tables([read_table(path, self.fmt) for path in paths])
        import pyarrow.parquet as pq

        sizes = [pq.ParquetFile(path).metadata.num_rows for path in paths]
        table: Table = {}
        for path, start, size in zip(paths, np.cumsum([0, *sizes]), sizes, strict=False):
            chunk = read_table(path, self.fmt)
            if table and chunk.keys() != table.keys():
                raise StoreError(f"{path} has other columns than the chunks before it")
            for name, column in chunk.items():
                target = table.get(name)
                if target is None:
                    target = table[name] = np.empty(sum(sizes), dtype=column.dtype)
                elif target.dtype != column.dtype:  # as concatenation would: the wider dtype
                    target = table[name] = target.astype(np.result_type(target, column))
                target[start : start + size] = column
        return table
