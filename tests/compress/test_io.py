"""compressed.npz round trip, and loading user weights."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from compress.codec import decode
from compress.errors import InputError
from compress.huffman import huffman_decode
from compress.io import load_compressed, load_weights, save_compressed
from compress.pipeline import compress_weights
from compress.reference import load_model

RECIPES = [
    "prune 90% -> kmeans 4bit -> huffman",
    "prune 2:4 meta=minimal -> int8",
    "prune channel 50% -> e4m3",
    "int4 affine per-group 8 -> huffman",
    "mxfp4",
    "pool v=4 P=16",
    "prune 2:4 -> mvq 3bit v=4",
    "lowrank ratio=0.5",
    "none",
]


@pytest.mark.parametrize("recipe", RECIPES)
def test_round_trip_decodes_exactly(recipe, tmp_path, rng):
    weights = {"a.weight": rng.normal(size=(16, 24)).astype(np.float32),
               "b.weight": rng.normal(size=(8, 4, 3, 3)).astype(np.float32),
               "a.bias": rng.normal(size=16).astype(np.float32)}  # fmt: skip
    model = compress_weights(weights, recipe)
    path = save_compressed(model, tmp_path / "compressed.npz")
    loaded = load_compressed(path)
    assert loaded.recipe == model.recipe
    np.testing.assert_array_equal(loaded.extra["a.bias"], weights["a.bias"])
    assert loaded.total_bits == model.total_bits
    for name, ct in loaded.tensors.items():
        decoded = decode(ct)
        assert np.array_equal(decoded.view(np.uint32), model.tensors[name].values.view(np.uint32))
        assert ct.storage == model.tensors[name].storage
    with np.load(path) as data:
        for name, ct in loaded.tensors.items():
            if ct.value_code is not None:
                stream = data[f"{name}/huffman_values"]
                nbits = int(data[f"{name}/huffman_values_bits"])
                assert nbits == ct.storage.values
                symbols = huffman_decode(stream, nbits, ct.value_code)
                bits = ct.encoding.code_bits
                np.testing.assert_array_equal(symbols, ct.codes.astype(np.int64) & (2**bits - 1))


def test_nm_metadata_streams_are_written(tmp_path, rng):
    from compress.nm import nm_from_positions, nm_from_ranks

    weights = {"w": rng.normal(size=(8, 16)).astype(np.float32)}
    for meta, key in (("positions", "nm_positions"), ("minimal", "nm_ranks")):
        model = compress_weights(weights, f"prune 2:4 meta={meta} -> int8")
        path = save_compressed(model, tmp_path / f"{meta}.npz")
        mask = model.tensors["w"].sparsity.mask
        with np.load(path) as data:
            stream = data[f"w/{key}"]
        rebuild = nm_from_positions if meta == "positions" else nm_from_ranks
        np.testing.assert_array_equal(rebuild(stream, (8, 16), 2, 4), mask)
        bits_each = 2 if meta == "positions" else 3
        assert stream.size * bits_each == model.tensors["w"].storage.index


def test_npz_weights_and_matching_networks(tmp_path, mlp):
    _, params = mlp
    path = tmp_path / "mine.npz"
    np.savez(path, **params)
    loaded = load_model(str(path))
    assert loaded.net is not None and loaded.data is not None  # recognized as digits-mlp
    assert set(load_weights(path)) == set(params)
    other = tmp_path / "other.npz"
    np.savez(other, w=np.ones((3, 3)))
    assert load_model(str(other)).net is None


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_weights(tmp_path / "nope.npz")
    txt = tmp_path / "w.txt"
    txt.write_text("x")
    with pytest.raises(InputError, match="expected .npz, .pt, .pth or .onnx"):
        load_weights(txt)
    with pytest.raises(InputError, match="not a built-in model"):
        load_model("resnet")
    folder = tmp_path / "w.npz"
    folder.mkdir()
    with pytest.raises(InputError, match="is a directory, not a file"):
        load_weights(folder)


def test_a_weights_file_is_refused_naming_the_array(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, ok=np.ones((2, 2)), bad=np.ones((2, 2)) * 1j)
    with pytest.raises(InputError, match="w.npz: array 'bad' holds complex numbers"):
        load_weights(path)


def test_onnx_files_that_are_not_models(tmp_path):
    pytest.importorskip("onnx")
    garbage = tmp_path / "g.onnx"
    garbage.write_bytes(b"\x00\xff not protobuf")
    with pytest.raises(InputError, match="is not an ONNX model"):
        load_weights(garbage)
    empty = tmp_path / "e.onnx"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="is not an ONNX model \\(it has no graph\\)"):
        load_weights(empty)


def test_a_pt_file_without_torch_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    path = tmp_path / "m.pt"
    path.write_bytes(b"x")
    with pytest.raises(InputError, match=r"needs torch: `pip install sparsa\[torch\]`"):
        load_weights(path)


def _without_layers(meta: np.ndarray) -> np.ndarray:
    data = json.loads(str(meta))
    return np.array(json.dumps({**data, "layers": {}}))


def _saved(tmp_path, rng) -> dict[str, np.ndarray]:
    weights = {"a.weight": rng.normal(size=(16, 24)).astype(np.float32)}
    path = save_compressed(compress_weights(weights, "prune 2:4 -> int8"), tmp_path / "c.npz")
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda a: a.pop("meta"), "has no 'meta' text entry"),
        (lambda a: a.update(meta=np.array("[1, 2]")), "meta = \\[1, 2\\]: must be a mapping"),
        (lambda a: a.pop("a.weight/codes"), "layer 'a.weight' has no array 'a.weight/codes'"),
        (lambda a: a.update({"a.weight/mask": a["a.weight/mask"].astype(np.float32)}),
         "array 'a.weight/mask' has dtype float32; it must hold booleans"),
        (lambda a: a.update(meta=_without_layers(a["meta"])), "meta.layers is empty"),
        (lambda a: a.update({"a.weight/values": a["a.weight/values"].astype(np.float64)}),
         "values must be a float32 array"),
    ],
)  # fmt: skip
def test_a_damaged_compressed_model_names_the_entry(tmp_path, rng, edit, message):
    arrays = _saved(tmp_path, rng)
    edit(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(InputError, match="compressed model .*bad.npz"):
        load_compressed(tmp_path / "bad.npz")
    with pytest.raises(InputError, match=message):
        load_compressed(tmp_path / "bad.npz")


def test_optional_onnx_initializers(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import helper, numpy_helper

    init = numpy_helper.from_array(np.ones((3, 4), np.float32), name="fc.weight")
    graph = helper.make_graph([], "g", [], [], initializer=[init])
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph), str(path))
    assert load_weights(path)["fc.weight"].shape == (3, 4)


def test_optional_torch_state_dict(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "m.pt"
    torch.save({"fc.weight": torch.ones(3, 4)}, path)
    assert load_weights(path)["fc.weight"].shape == (3, 4)
