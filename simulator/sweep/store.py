"""Chunked, resumable storage of sweep results.

Layout of a sweep directory::

    manifest.json          the spec (canonical form), its fingerprint, the chunking, and
                           the SHA-256 of every input file the spec names
    manifest-chunks.jsonl  one line per written chunk: its file, size and SHA-256
    sweep.lock             while a sweep writes here: who (:mod:`simulator.sweep.lock`)
    chunks/chunk-00012.parquet  (or .csv)  one file per finished chunk

A chunk file only ever appears by an atomic rename of a fully written temporary file
(named by host, pid and a random token, so that writers never share one), and its size
and checksum are appended to ``manifest-chunks.jsonl`` right after, one JSON line per
chunk. Only one process writes a folder at a time (``sweep.lock``). A process killed at
any moment
leaves either the whole chunk or nothing that counts; leftover temporaries are removed
when the sweep is opened again. On reopening, every chunk file is checked against its
recorded size and checksum, and one that is missing, truncated, corrupted or unrecorded
is recomputed, with a warning naming it. Opening a directory that holds a sweep of a
different spec, or of the same spec over input files whose contents have changed, is
refused (naming the changed file) instead of mixing results.

Checksums go to an append-only journal rather than into ``manifest.json`` itself, which
would have to be rewritten whole after every chunk (quadratic in the number of chunks).

Parquet (through pyarrow) is used when pyarrow is installed, CSV otherwise; the
manifest records which, so a directory is always read back in the format it was
written in. The CSV form stores each column's kind in its header (``cycles:i``,
``latency_s:f``, ``dataflow:s``, ``pareto:b``) and floats in round-trip precision, so
both formats give back identical tables.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from compress.errors import InputError, load_json
from simulator.sweep.lock import FolderLock, LockError

__all__ = [
    "MANIFEST",
    "LockError",
    "StoreError",
    "SweepStore",
    "Table",
    "concat_tables",
    "read_manifest",
    "read_table",
    "write_table",
]

log = logging.getLogger(__name__)
Table = dict[str, np.ndarray]
MANIFEST = "manifest.json"
CHUNK_JOURNAL = "manifest-chunks.jsonl"
FORMATS = ("parquet", "csv")
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
    token = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
    tmp = path.with_name(f".{path.name}.tmp-{token}")
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
    """Read a table written by :func:`write_table`; a file it did not write (or one
    edited since) is a :class:`StoreError` naming it."""
    try:
        return _read_parquet(path) if fmt == "parquet" else _read_csv(path)
    except (ValueError, IndexError, KeyError) as exc:
        if isinstance(exc, InputError):
            raise
        raise StoreError(
            f"{path} is not a table sparsa wrote ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:200]}); run the sweep into a new folder"
        ) from None


def _read_parquet(path: Path) -> Table:
    import pyarrow.parquet as pq

    data = pq.read_table(path)
    return {
        name: _strings(col) if col.type == "string" else col.to_numpy()
        for name, col in zip(data.column_names, data.columns, strict=True)
    }


def _read_csv(path: Path) -> Table:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise StoreError(f"{path} is empty; it is not a table sparsa wrote")
    header, body = rows[0], rows[1:]
    if any(len(row) != len(header) for row in body):
        line = next(i for i, row in enumerate(body, 2) if len(row) != len(header))
        raise StoreError(f"{path}: line {line} does not have the header's {len(header)} cells")
    table: Table = {}
    for j, cell in enumerate(header):
        name, sep, kind = cell.rpartition(":")
        if not sep or kind not in (*_KINDS, "s"):
            raise StoreError(
                f"{path}: header cell {cell!r} is not 'name:kind' with kind i, f, b or s"
            )
        table[name] = _csv_column(path, name, kind, [row[j] for row in body])
    return table


def _strings(column) -> np.ndarray:
    """A Parquet string column as an object array in which equal strings are one object
    (a column of a million rows holds a few labels, not a million copies)."""
    if column.null_count:
        return np.array(column.to_pylist(), dtype=object)
    encoded = column.combine_chunks().dictionary_encode()
    labels = np.array(encoded.dictionary.to_pylist(), dtype=object)
    return labels[encoded.indices.to_numpy()]


def _csv_column(path: Path, name: str, kind: str, values: list[str]) -> np.ndarray:
    if kind == "s":
        return np.array(values, dtype=object)
    if kind == "b":
        bad = sorted(set(values) - {"True", "False"})
        if bad:
            raise StoreError(f"{path}: column {name!r} holds {bad[0]!r}, not True or False")
        return np.array([v == "True" for v in values], dtype=bool)
    try:
        return np.array(values, dtype=_KINDS[kind]) if values else np.empty(0, _KINDS[kind])
    except (ValueError, OverflowError):
        words = {"i": "64-bit integers", "f": "numbers"}
        raise StoreError(f"{path}: column {name!r} must hold {words[kind]}") from None


def concat_tables(tables: list[Table]) -> Table:
    if not tables:
        return {}
    return {name: np.concatenate([t[name] for t in tables]) for name in tables[0]}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class SweepStore:
    """A sweep directory bound to one spec fingerprint, locked while open (use it as a
    context manager, or :meth:`close` it)."""

    root: Path
    fingerprint: str
    n_chunks: int
    fmt: str
    lock: FolderLock | None = None
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    """Per chunk on disk: its file name, size in bytes and SHA-256, as checked."""

    @property
    def chunk_dir(self) -> Path:
        return self.root / "chunks"

    def chunk_path(self, index: int) -> Path:
        suffix = "parquet" if self.fmt == "parquet" else "csv"
        return self.chunk_dir / f"chunk-{index:05d}.{suffix}"

    @classmethod
    def open(
        cls,
        root: Path,
        fingerprint: str,
        spec: Mapping[str, Any],
        n_chunks: int,
        files: Mapping[str, str] | None = None,
    ) -> SweepStore:
        """Lock the directory and create it, or reopen it when it holds this same sweep
        (``fingerprint``; ``files``: the SHA-256 of each input file, to name the one that
        changed), checking the chunks already written."""
        root = Path(root)
        files = dict(files or {})
        if (root / MANIFEST).is_file():  # refuse a foreign folder before touching its lock
            cls._check_manifest(root, fingerprint, spec, files)
        lock = FolderLock(root).acquire()
        try:
            store = cls._open_locked(root, fingerprint, spec, n_chunks, files, lock)
            store.chunk_dir.mkdir(exist_ok=True)
            for leftover in store.chunk_dir.glob(".*.tmp-*"):
                leftover.unlink(missing_ok=True)
            store._verify()
        except BaseException:
            lock.release()
            raise
        return store

    @classmethod
    def _open_locked(
        cls,
        root: Path,
        fingerprint: str,
        spec: Mapping[str, Any],
        n_chunks: int,
        files: dict[str, str],
        lock: FolderLock,
    ) -> SweepStore:
        manifest_path = root / MANIFEST
        if manifest_path.is_file():
            manifest = cls._check_manifest(root, fingerprint, spec, files)
            return cls(root, fingerprint, manifest["n_chunks"], manifest["format"], lock)
        if any(path.name != lock.path.name for path in root.iterdir()):
            raise StoreError(f"{root} is not empty and holds no sweep manifest; use another --out")
        store = cls(root, fingerprint, n_chunks, default_format(), lock)
        manifest = {
            "fingerprint": fingerprint,
            "n_chunks": n_chunks,
            "format": store.fmt,
            "files": files,
            "spec": spec,
        }
        text = json.dumps(manifest, indent=2, default=str)
        _atomic_write(manifest_path, lambda p: p.write_text(text))
        return store

    @staticmethod
    def _check_manifest(
        root: Path, fingerprint: str, spec: Mapping[str, Any], files: Mapping[str, str]
    ) -> dict[str, Any]:
        """The folder's manifest, if it is this sweep's; else why not, as a StoreError."""
        manifest = read_manifest(root / MANIFEST)
        if manifest["fingerprint"] != fingerprint:
            raise StoreError(_mismatch(root, manifest, fingerprint, spec, files))
        return manifest

    def close(self) -> None:
        """Release the folder's lock."""
        if self.lock is not None:
            self.lock.release()

    def __enter__(self) -> SweepStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def journal(self) -> Path:
        return self.root / CHUNK_JOURNAL

    def _verify(self) -> None:
        """Keep the chunk files that match their record; remove (to recompute) and name
        the others; rewrite the journal with what was kept."""
        recorded = _read_journal(self.journal)
        on_disk = {
            int(path.stem.split("-")[1]): path
            for path in self.chunk_dir.glob("chunk-*")
            if path.stem.split("-")[-1].isdigit()
        }
        for index in sorted(set(recorded) | set(on_disk)):
            path = self.chunk_path(index)
            problem = _check_chunk(path, recorded.get(index))
            if problem is None:
                self.records[index] = recorded[index]
                continue
            log.warning("chunk %d (%s) %s; recomputing it", index, path, problem)
            path.unlink(missing_ok=True)
        lines = "".join(json.dumps(self.records[i]) + "\n" for i in sorted(self.records))
        _atomic_write(self.journal, lambda p: p.write_text(lines))

    def done(self) -> set[int]:
        """Indices of the chunks written and checked."""
        return set(self.records)

    def write_chunk(self, index: int, table: Mapping[str, np.ndarray]) -> None:
        """Write chunk ``index`` atomically, then record its size and checksum; a Ctrl-C
        meanwhile waits until both are done (only a kill can part them)."""
        path = self.chunk_path(index)
        with _sigint_deferred():
            write_table(table, path, self.fmt)
            record = {
                "chunk": index,
                "file": path.name,
                "bytes": path.stat().st_size,
                "sha256": sha256_of(path),
            }
            with self.journal.open("a") as handle:
                handle.write(json.dumps(record) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            self.records[index] = record

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


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold a Ctrl-C (SIGINT) back until the block is done, then raise it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught and callable(previous):
        previous(signal.SIGINT, None)  # Python's default handler raises KeyboardInterrupt
    elif caught and previous == signal.SIG_DFL:
        raise KeyboardInterrupt


def _check_chunk(path: Path, record: Mapping[str, Any] | None) -> str | None:
    """What is wrong with a chunk file against its record (None: nothing)."""
    if record is None:
        return "has no recorded checksum (the sweep was likely killed before recording it)"
    if record.get("file") != path.name:
        return f"is recorded as {record.get('file')!r}, another format"
    if not path.is_file():
        return "is missing"
    size = path.stat().st_size
    if size < record["bytes"]:
        return f"is truncated ({size:,} of {record['bytes']:,} bytes)"
    if size != record["bytes"] or sha256_of(path) != record["sha256"]:
        return "is corrupted (its SHA-256 differs from the one recorded when it was written)"
    return None


def _read_journal(path: Path) -> dict[int, dict[str, Any]]:
    """The last record of each chunk; a line cut short by a kill is skipped."""
    records: dict[int, dict[str, Any]] = {}
    if not path.is_file():
        return records
    for line in path.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
            index, size, digest = record["chunk"], record["bytes"], record["sha256"]
        except (ValueError, TypeError, KeyError):
            continue
        if isinstance(index, int) and isinstance(size, int) and isinstance(digest, str):
            records[index] = record
    return records


def read_manifest(path: Path) -> dict[str, Any]:
    """A sweep folder's ``manifest.json``, checked for the keys the store reads."""
    manifest = load_json(path, "sweep manifest")
    fingerprint, n_chunks, fmt = (manifest.get(k) for k in ("fingerprint", "n_chunks", "format"))
    if not isinstance(fingerprint, str) or not isinstance(n_chunks, int) or fmt not in FORMATS:
        raise StoreError(
            f"sweep manifest {path} is damaged (it needs fingerprint, n_chunks and format: "
            f"{' or '.join(FORMATS)}); delete {path.parent} to start the sweep over"
        )
    if fmt == "parquet" and default_format() != "parquet":
        raise StoreError(
            f"{path.parent} was written as Parquet and pyarrow is not installed: "
            "pip install pyarrow, or use another --out folder"
        )
    return manifest


def _mismatch(
    root: Path,
    manifest: Mapping[str, Any],
    fingerprint: str,
    spec: Mapping[str, Any],
    files: Mapping[str, str],
) -> str:
    """Why ``root`` cannot take this sweep: a different spec, or a changed input file."""
    same_spec = manifest.get("spec") == json.loads(json.dumps(spec, default=str))
    old_files = manifest.get("files")
    if same_spec and isinstance(old_files, Mapping):
        for path, digest in files.items():
            if path in old_files and old_files[path] != digest:
                return (
                    f"{root} holds this sweep computed with another version of {path}: the "
                    f"file changed since (SHA-256 {str(old_files[path])[:12]}..., now "
                    f"{digest[:12]}...); sweep into a new --out folder, or delete {root} to "
                    "redo it with the file as it is now"
                )
    return (
        f"{root} holds a sweep of a different spec (fingerprint "
        f"{manifest.get('fingerprint')}, this spec {fingerprint}); use another --out "
        f"folder, or delete {root} to start over"
    )
