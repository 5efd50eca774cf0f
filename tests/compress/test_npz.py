"""Reading .npz archives without unpickling, and the checks on user weights."""

from __future__ import annotations

import numpy as np
import pytest

import compress.npz
from compress.errors import InputError
from compress.npz import check_weight_arrays, read_npz


def test_every_array_comes_back_exactly(tmp_path, rng):
    arrays = {"a/codes": rng.integers(0, 255, (3, 5)).astype(np.uint8),
              "b": rng.normal(size=(2, 3, 4)).astype(np.float32), "mask": np.eye(3, dtype=bool),
              "meta": np.array('{"x": 1}')}  # fmt: skip
    np.savez_compressed(tmp_path / "x.npz", **arrays)
    back = read_npz(tmp_path / "x.npz", "archive", kinds="biufU")
    assert set(back) == set(arrays)
    for name, array in arrays.items():
        np.testing.assert_array_equal(back[name], array)
        assert back[name].dtype == array.dtype


def test_kinds_not_asked_for_are_refused_naming_the_array(tmp_path):
    np.savez(tmp_path / "x.npz", flags=np.ones(3, bool))
    with pytest.raises(InputError, match="array 'flags' holds booleans .*only integers, unsigned"):
        read_npz(tmp_path / "x.npz", "weights file")


def test_object_arrays_are_never_unpickled(tmp_path):
    np.savez(tmp_path / "x.npz", w=np.array([{"run": "code"}], dtype=object))
    with pytest.raises(InputError, match="array 'w' holds Python objects .*never read"):
        read_npz(tmp_path / "x.npz", "weights file", kinds="biufcUSO")


def test_an_archive_needing_too_much_memory_is_refused(tmp_path, monkeypatch):
    np.savez(tmp_path / "x.npz", w=np.zeros((64, 64)))
    monkeypatch.setattr(compress.npz, "MAX_NPZ_BYTES", 1000)
    with pytest.raises(InputError, match="need more than 1,000 bytes of memory"):
        read_npz(tmp_path / "x.npz", "weights file")


def test_a_member_that_is_not_npy(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "x.npz", "w") as archive:
        archive.writestr("notes.txt", "hello")
        archive.writestr("w.npy", "not a header")
    with pytest.raises(InputError, match="holds 'notes.txt', which is not a .npy array"):
        read_npz(tmp_path / "x.npz", "weights file")


def test_missing_files_and_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="weights file .* does not exist"):
        read_npz(tmp_path / "no.npz", "weights file")
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_npz(tmp_path, "weights file")


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.ones((2, 2), np.complex64), "holds complex numbers"),
        (np.ones((0, 3)), "is empty"),
        (
            np.array([1.0, np.inf, np.nan]),
            "holds 2 NaN or infinite values (the first at index (1,))",
        ),
        (np.array(["x"]), "holds text"),
        (np.ones(2, bool), "holds booleans"),
    ],
)
def test_weights_must_be_real_finite_and_not_empty(array, message):
    with pytest.raises(InputError, match="w.npz: array 'w' ") as info:
        check_weight_arrays({"w": array}, "w.npz")
    assert message in str(info.value)


def test_integer_and_float_weights_pass():
    arrays = {"a": np.arange(4).reshape(2, 2), "b": np.ones((2, 2), np.float16)}
    assert check_weight_arrays(arrays, "w") == arrays


def test_weights_beyond_float32_are_refused():
    with pytest.raises(InputError, match="holds 1e\\+300, beyond float32's range"):
        check_weight_arrays({"w": np.array([[1.0, -1e300]])}, "w.npz")
