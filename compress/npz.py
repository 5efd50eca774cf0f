"""Guarded reading of ``.npz`` archives and checks of the arrays users hand us.

:func:`read_npz` reads every array of an archive without unpickling anything and
refuses, naming the file and the array: a file that is not a zip of ``.npy`` arrays, a
damaged or truncated one, arrays of Python objects or of a dtype the caller does not
read, and archives that would need more than :data:`MAX_NPZ_BYTES` of memory.
:func:`check_weight_arrays` refuses weights that are complex, empty, not finite or beyond
float32's range.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from compress.errors import InputError

__all__ = ["MAX_NPZ_BYTES", "check_file", "check_weight_arrays", "read_npz"]

MAX_NPZ_BYTES = 16 << 30
"""The most memory the arrays of one archive may need (16 GiB)."""
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_KIND_NAMES = {
    "b": "booleans", "i": "integers", "u": "unsigned integers", "f": "floats",
    "c": "complex numbers", "U": "text", "S": "bytes", "O": "Python objects",
    "V": "structured records", "M": "dates", "m": "time deltas",
}  # fmt: skip


def check_file(path: Path, what: str) -> None:
    """Refuse a ``path`` that is missing (``FileNotFoundError``) or a directory."""
    if path.is_dir():
        raise InputError(f"{what} {path} is a directory, not a file")
    if not path.is_file():
        raise FileNotFoundError(f"{what} {path} does not exist")


def _kinds(kinds: str) -> str:
    return ", ".join(_KIND_NAMES[kind] for kind in kinds)


def _header(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[tuple[int, ...], np.dtype]:
    """The shape and dtype a ``.npy`` member declares (ValueError when it is not one)."""
    with archive.open(info) as handle:
        version = np.lib.format.read_magic(handle)
        read = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read(handle)
    return tuple(shape), dtype


def _member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str, kinds: str
) -> tuple[str, np.ndarray]:
    name = info.filename.removesuffix(".npy")
    if not info.filename.endswith(".npy"):
        raise InputError(f"{where} holds {info.filename!r}, which is not a .npy array")
    try:
        shape, dtype = _header(archive, info)
    except ValueError:
        raise InputError(f"{where}: {name!r} is not a .npy array (no valid header)") from None
    if dtype.hasobject:
        raise InputError(
            f"{where}: array {name!r} holds Python objects (dtype {dtype}), which are never "
            "read (loading them would run pickled code); save arrays of numbers"
        )
    if dtype.kind not in kinds:
        raise InputError(
            f"{where}: array {name!r} holds {_KIND_NAMES.get(dtype.kind, dtype.kind)} "
            f"(dtype {dtype}); only {_kinds(kinds)} are read"
        )
    with archive.open(info) as handle:
        try:
            array = np.lib.format.read_array(handle, allow_pickle=False)
        except ValueError:
            raise InputError(
                f"{where}: array {name!r} is truncated (its header declares shape {shape})"
            ) from None
    return name, array


def read_npz(path: str | Path, what: str, kinds: str = "iuf") -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` archive at ``path``, by name, nothing unpickled.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file is to the user ("weights file"), for messages.
    kinds : str
        The numpy dtype kinds accepted (``"iuf"``: integers and floats).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    InputError
        For a directory, a file that is not a ``.npz``, a damaged or truncated archive,
        an array of another kind, or more than :data:`MAX_NPZ_BYTES` of arrays.
    """
    path = Path(path)
    check_file(path, what)
    where = f"{what} {path}"
    if not zipfile.is_zipfile(path):
        with path.open("rb") as handle:
            start = handle.read(len(_NPY_MAGIC))
        if start.startswith(_ZIP_MAGIC):
            raise InputError(f"{where} is truncated or damaged (a zip without its directory)")
        hint = (
            "; it is a single .npy array: save it with numpy.savez" if start == _NPY_MAGIC else ""
        )
        raise InputError(f"{where} is not a .npz archive (a zip of .npy arrays){hint}")
    arrays: dict[str, np.ndarray] = {}
    total = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                total += _declared_bytes(archive, info)
                if total > MAX_NPZ_BYTES:
                    raise InputError(
                        f"{where}: its arrays need more than {MAX_NPZ_BYTES:,} bytes of memory"
                    )
            for info in archive.infolist():
                name, array = _member(archive, info, where, kinds)
                arrays[name] = array
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise InputError(f"{where} is damaged or truncated ({exc})") from None
    return arrays


def _declared_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """The bytes a member's header declares (0 when it has none: :func:`_member` refuses it)."""
    try:
        shape, dtype = _header(archive, info)
    except ValueError:
        return 0
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def check_weight_arrays(arrays: Mapping[str, np.ndarray], where: str) -> dict[str, np.ndarray]:
    """``arrays`` after refusing any that is not real, is empty, holds NaN or infinity, or
    values beyond float32's range (the weights are compressed as float32).

    ``where`` names the file, for messages.
    """
    for name, array in arrays.items():
        if array.dtype.kind not in "iuf":
            kind = _KIND_NAMES.get(array.dtype.kind, str(array.dtype))
            raise InputError(
                f"{where}: array {name!r} holds {kind} (dtype {array.dtype}); weights must be "
                "real numbers (integers or floats)"
            )
        if array.size == 0:
            raise InputError(f"{where}: array {name!r} is empty (shape {array.shape})")
        if array.dtype.kind == "f":
            bad = ~np.isfinite(array)
            if bad.any():
                first = tuple(int(i) for i in np.argwhere(bad)[0])
                raise InputError(
                    f"{where}: array {name!r} holds {int(bad.sum()):,} NaN or infinite values "
                    f"(the first at index {first}); weights must be finite"
                )
        # Integers and floats up to 32 bits always fit; wider floats may not.
        wide = array.dtype.kind == "f" and array.dtype.itemsize > 4
        largest = max(float(array.max()), -float(array.min())) if wide else 0.0
        if largest > _FLOAT32_MAX:
            raise InputError(
                f"{where}: array {name!r} holds {largest:.3g}, beyond float32's range "
                f"(|w| <= {_FLOAT32_MAX:.3g}) in which weights are compressed"
            )
    return dict(arrays)
