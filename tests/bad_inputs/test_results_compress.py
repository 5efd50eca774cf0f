"""Bad result files, weights files, recipes, energy overrides and compress/run/report options.

One row per case: how the input is made (a function of the folder it goes in and the
valid files of :class:`Files`), and the fragment of the one-line error it must give.
"""

from __future__ import annotations

import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from compress import compress_weights, save_compressed
from simulator import load_config, simulate, zoo_workload
from simulator.workloads.binding import bind_recipe
from tests.bad_inputs.harness import assert_one_line_error

ACCEL = "name: small\nrows: 8\ncols: 8\ndataflow: ws\n"
RECIPE = "prune 50% -> int8"


@dataclass(frozen=True)
class Files:
    """Valid inputs each case starts from."""

    result: dict
    """A result.json's contents (digits-mlp, compressed, on an 8x8 array)."""
    accel: Path
    weights: Path
    """fc1.weight [16, 32] and fc2.weight [10, 16], matching no built-in network."""
    compressed: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Files:
    root = tmp_path_factory.mktemp("valid")
    accel = root / "accel.yaml"
    accel.write_text(ACCEL)
    workload = bind_recipe(zoo_workload("digits-mlp"), "prune 2:4 -> int8").workload
    result = simulate(workload, load_config(accel)).to_dict()
    rng = np.random.default_rng(0)
    weights = {"fc1.weight": rng.normal(size=(16, 32)), "fc2.weight": rng.normal(size=(10, 16))}
    np.savez(root / "weights.npz", **weights)
    compressed = save_compressed(compress_weights(weights, RECIPE), root / "compressed.npz")
    return Files(json.loads(json.dumps(result)), accel, root / "weights.npz", compressed)


Make = Callable[[Path, Files], list]


# --- result.json given to `sparsa report` ------------------------------------------------


def _report(edit: Callable[[dict], object]) -> Make:
    """`sparsa report` of the valid result after ``edit`` changed it in place."""

    def make(tmp: Path, files: Files) -> list:
        data = json.loads(json.dumps(files.result))
        edit(data)
        path = tmp / "result.json"
        path.write_text(json.dumps(data))
        return ["report", path, "--out", tmp / "out"]

    return make


def _report_text(text: str | bytes) -> Make:
    def make(tmp: Path, files: Files) -> list:
        path = tmp / "result.json"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return ["report", path]

    return make


def _set(path: str | tuple, value: object) -> Callable[[dict], None]:
    """Set the field at ``a.b.0.c`` or ``(a, b, 0, "c.d")`` (list items by index)."""

    def edit(data: dict) -> None:
        *parents, last = path.split(".") if isinstance(path, str) else path
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[int(last) if isinstance(node, list) else last] = value

    return edit


_DELETE = object()


def _tiny_cycles(data: dict) -> None:
    layer = data["layers"][0]
    layer["cycles"].update(compute=1, stall=0, total=1)


def _longer_total(data: dict) -> None:
    data["layers"][0]["cycles"]["total"] += 7


def _truncated(tmp: Path, files: Files) -> list:
    path = tmp / "result.json"
    path.write_text(json.dumps(files.result)[:500])
    return ["report", path]


def _shifted_total(data: dict) -> None:
    data["total"]["cycles"]["total"] += 1


def _energy_split(data: dict) -> None:
    data["layers"][0]["energy"]["by_component"]["dram"] *= 2


def _folder_result(tmp: Path, files: Files) -> list:
    (tmp / "r.json").mkdir()
    return ["report", tmp / "r.json"]


def _out_is_a_file(tmp: Path, files: Files) -> list:
    (tmp / "result.json").write_text(json.dumps(files.result))
    (tmp / "taken").write_text("x")
    return ["report", tmp / "result.json", "--out", tmp / "taken"]


def _out_empty(tmp: Path, files: Files) -> list:
    (tmp / "result.json").write_text(json.dumps(files.result))
    return ["report", tmp / "result.json", "--out", ""]


REPORT = [
    pytest.param(_truncated, "is not valid JSON", id="result-truncated"),
    pytest.param(_report_text("[1, 2]"), "must hold a JSON object", id="result-list"),
    pytest.param(_report_text(b"\xff\xfe{}"), "is not UTF-8", id="result-binary"),
    pytest.param(_report(_set("format_version", 3)), "format_version 3 is not supported",
                 id="result-old-version"),
    pytest.param(_report(_set("format_version", _DELETE)), "format_version None is not",
                 id="result-no-version"),
    pytest.param(_report(_set("layers", {"a": 1})), "layers = {'a': 1}: must be a list",
                 id="result-layers-mapping"),
    pytest.param(_report(_set("layers", [])), "layers = []: must be a list of at least 1",
                 id="result-no-layers"),
    pytest.param(_report(_set("layers.0", [1])), "layers[0] = [1]: must be a mapping",
                 id="result-layer-list"),
    pytest.param(_report(_set("layers.0.cycles", [1, 2])), "layers[0].cycles = [1, 2]",
                 id="result-list-for-mapping"),
    pytest.param(_report(_set("layers.0.cycles.total", "many")),
                 "layers[0].cycles.total = 'many': must be an integer >= 1",
                 id="result-string-for-count"),
    pytest.param(_report(_set("layers.0.memory.input.sram_reads", -5)),
                 "layers[0].memory.input.sram_reads = -5: must be an integer >= 0",
                 id="result-negative-count"),
    pytest.param(_report(_set("layers.0.cycles.stall", 1.5)),
                 "layers[0].cycles.stall = 1.5: must be an integer", id="result-fractional-count"),
    pytest.param(_report(_set("layers.0.latency_s", float("nan"))),
                 "layers[0].latency_s = nan: must be a finite number > 0", id="result-nan"),
    pytest.param(_report(_set("layers.0.utilization", 1.5)),
                 "layers[0].utilization = 1.5: must be a finite number in [0, 1]",
                 id="result-utilization-above-one"),
    pytest.param(_report(_set("layers.0.macs", _DELETE)), "layers[0].macs: is missing",
                 id="result-missing-key"),
    pytest.param(_report(_set("layers.0.bogus", 1)), "layers[0].bogus: is not a field here",
                 id="result-extra-key"),
    pytest.param(_report(_set("roofs.dram_bytes_per_s", "fast")),
                 "roofs.dram_bytes_per_s = 'fast': must be a finite number",
                 id="result-string-for-number"),
    pytest.param(_report(_set("layers.0.roofline.bound", "gpu")),
                 "must be one of 'compute', 'dram', 'sram'", id="result-unknown-bound"),
    pytest.param(_report(_set(("layers", 0, "energy", "by_action", "pe.warp"), 1.0)),
                 'by_action["pe.warp"]: is not a known name; allowed: pe.mac',
                 id="result-unknown-action"),
    pytest.param(_report(_set("layers.0.energy_unit", "nJ")),
                 "layers[0].energy_unit = 'nJ': must be the result's energy_unit 'pJ'",
                 id="result-mixed-units"),
    pytest.param(_report(_tiny_cycles), "layers[0].cycles.total = 1: must be at least "
                 "macs_useful / PEs", id="result-cycles-below-macs-per-pe"),
    pytest.param(_report(_longer_total), "must equal cycles.compute + cycles.stall",
                 id="result-total-not-compute-plus-stall"),
    pytest.param(_report(_shifted_total), "total.cycles.total", id="result-total-not-sum"),
    pytest.param(_report(_energy_split), "layers[0].energy.by_component.dram",
                 id="result-energy-component-not-sum"),
    pytest.param(_report(_set("layers.0.macs_per_s", 1.0)),
                 "layers[0].macs_per_s = 1.0: must equal roofline.attained",
                 id="result-impossible-rate"),
    pytest.param(_report(_set("layers.0.roofline.dram_roof", 7.0)),
                 "layers[0].roofline.dram_roof = 7.0: must be", id="result-roofline-edited"),
    pytest.param(_report(_set("layers.0.speedup", 99.0)), "layers[0].speedup = 99.0: must be",
                 id="result-derived-edited"),
    pytest.param(_report(_set("savings", [])), "savings = []: must list the savings of "
                 "sparsity, values, zero activations", id="result-savings-dropped"),
    pytest.param(_report(_set("layers.0.weights.density", 0)),
                 "layers[0].weights.density = 0: must be a finite number in (0, 1]",
                 id="result-density-zero"),
    pytest.param(_report(_set("config.rows", -1)), "config: accelerator field 'rows' = -1",
                 id="result-bad-config"),
    pytest.param(_folder_result, "is a directory, not a file", id="result-is-a-folder"),
    pytest.param(lambda tmp, f: ["report", tmp / "none.json"], "does not exist",
                 id="result-missing"),
    pytest.param(_out_is_a_file, "argument --out: ", id="report-out-is-a-file"),
    pytest.param(_out_empty, "must name a folder, not an empty string", id="report-out-empty"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "fragment"), REPORT)
def test_result_files(capsys, tmp_path, files, make, fragment):
    line = assert_one_line_error(capsys, make(tmp_path, files), fragment)
    assert str(tmp_path) in line or "argument --out" in line  # names the file


def test_the_valid_result_reports(capsys, tmp_path, files):
    from tests.bad_inputs.harness import run_cli

    path = tmp_path / "result.json"
    path.write_text(json.dumps(files.result))
    code, _, err = run_cli(capsys, ["report", path, "--out", tmp_path / "out"])
    assert code == 0, err
    assert (tmp_path / "out" / "report.md").is_file()


# --- weights files given to `sparsa compress --model` ------------------------------------


def _compress(path: Path, tmp: Path) -> list:
    return ["compress", "--model", path, "--recipe", RECIPE, "--out", tmp / "out"]


def _npz(**arrays: object) -> Make:
    def make(tmp: Path, files: Files) -> list:
        np.savez(tmp / "w.npz", **arrays)
        return _compress(tmp / "w.npz", tmp)

    return make


def _weights_bytes(name: str, data: bytes) -> Make:
    def make(tmp: Path, files: Files) -> list:
        (tmp / name).write_bytes(data)
        return _compress(tmp / name, tmp)

    return make


def _single_npy(tmp: Path, files: Files) -> list:
    np.save(tmp / "w.npy", np.ones((4, 4)))
    (tmp / "w.npy").rename(tmp / "w.npz")
    return _compress(tmp / "w.npz", tmp)


def _truncated_npz(tmp: Path, files: Files) -> list:
    data = files.weights.read_bytes()
    (tmp / "w.npz").write_bytes(data[: len(data) // 2])
    return _compress(tmp / "w.npz", tmp)


def _damaged_member(tmp: Path, files: Files) -> list:
    """A zip whose directory is intact but whose compressed member data is corrupted."""
    path = tmp / "w.npz"
    np.savez_compressed(path, w=np.arange(4096, dtype=np.float32).reshape(64, 64))
    with zipfile.ZipFile(path) as archive:
        start = archive.infolist()[0].header_offset + 60
    data = bytearray(path.read_bytes())
    data[start : start + 200] = bytes(200)
    path.write_bytes(bytes(data))
    return _compress(path, tmp)


def _pt_without_torch(tmp: Path, files: Files) -> list:
    (tmp / "w.pt").write_bytes(b"not read")
    return _compress(tmp / "w.pt", tmp)


def _npz_folder(tmp: Path, files: Files) -> list:
    (tmp / "w.npz").mkdir()
    return _compress(tmp / "w.npz", tmp)


_NAN = np.ones((4, 4))
_NAN[1, 2] = np.nan

WEIGHTS = [
    pytest.param(_weights_bytes("w.npz", b"hello"), "is not a .npz archive", id="npz-not-zip"),
    pytest.param(_single_npy, "it is a single .npy array", id="npz-single-npy"),
    pytest.param(_truncated_npz, "is truncated or damaged", id="npz-truncated"),
    pytest.param(_damaged_member, "is damaged or truncated", id="npz-damaged-member"),
    pytest.param(_npz(w=np.array([{"a": 1}], dtype=object)),
                 "array 'w' holds Python objects", id="npz-object-array"),
    pytest.param(_npz(w=np.ones((4, 4)) * (1 + 2j)), "array 'w' holds complex numbers",
                 id="npz-complex"),
    pytest.param(_npz(w=_NAN), "array 'w' holds 1 NaN or infinite values (the first at "
                 "index (1, 2))", id="npz-nan"),
    pytest.param(_npz(w=np.full((2, 2), np.inf)), "holds 4 NaN or infinite", id="npz-inf"),
    pytest.param(_npz(w=np.full((2, 2), 1e300)), "array 'w' holds 1e+300, beyond float32's range",
                 id="npz-beyond-float32"),
    pytest.param(_npz(w=np.zeros((0, 8))), "array 'w' is empty (shape (0, 8))",
                 id="npz-zero-size"),
    pytest.param(_npz(w=np.array(["a", "b"])), "array 'w' holds text", id="npz-strings"),
    pytest.param(_npz(b=np.ones(3)), "no 2-D or 4-D weight tensors to compress",
                 id="npz-no-matrices"),
    pytest.param(_npz_folder, "is a directory, not a file", id="npz-is-a-folder"),
    pytest.param(_weights_bytes("w.onnx", b"not onnx at all"), "is not an ONNX model",
                 id="onnx-not-onnx"),
    pytest.param(_pt_without_torch, "needs torch: `pip install sparsa[torch]`",
                 id="pt-without-torch"),
    pytest.param(lambda tmp, f: _compress(tmp / "w.npz", tmp), "does not exist",
                 id="npz-missing"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "fragment"), WEIGHTS)
def test_weights_files(capsys, tmp_path, files, monkeypatch, make, fragment):
    monkeypatch.setitem(sys.modules, "torch", None)  # as without the torch extra
    line = assert_one_line_error(capsys, make(tmp_path, files), fragment)
    assert "weights file" in line or "no 2-D" in line


# --- compressed models given to `sparsa simulate --compressed` ---------------------------


def _compressed(edit: Callable[[dict[str, np.ndarray]], object]) -> Make:
    """`sparsa simulate --compressed` of the valid compressed.npz after ``edit``."""

    def make(tmp: Path, files: Files) -> list:
        with np.load(files.compressed) as data:
            arrays = {key: data[key] for key in data.files}
        edit(arrays)
        np.savez(tmp / "c.npz", **arrays)
        return ["simulate", "--accel", files.accel, "--workload", "digits-mlp",
                "--compressed", tmp / "c.npz", "--out", tmp / "out"]  # fmt: skip

    return make


def _meta(edit: Callable[[dict], object]) -> Callable[[dict], None]:
    def change(arrays: dict) -> None:
        meta = json.loads(str(arrays["meta"]))
        edit(meta)
        arrays["meta"] = np.array(json.dumps(meta))

    return change


COMPRESSED = [
    pytest.param(_compressed(lambda a: a.pop("meta")), "has no 'meta' text entry",
                 id="compressed-no-meta"),
    pytest.param(_compressed(lambda a: a.update(meta=np.array("{not json"))),
                 "its 'meta' entry is not valid JSON", id="compressed-meta-not-json"),
    pytest.param(_compressed(_meta(lambda m: m.update(seed="x"))),
                 "meta: seed = 'x': must be an integer >= 0", id="compressed-meta-type"),
    pytest.param(_compressed(_meta(lambda m: m["layers"]["fc1.weight"]["encoding"].update(
                 kind="int3000"))), 'layers["fc1.weight"].encoding.kind = \'int3000\': must be',
                 id="compressed-unknown-encoding"),
    pytest.param(_compressed(lambda a: a.pop("fc1.weight/values")),
                 "layer 'fc1.weight' has no array 'fc1.weight/values'", id="compressed-no-values"),
    pytest.param(_compressed(lambda a: a.update({"fc1.weight/mask": np.ones((2, 2), bool)})),
                 "layer 'fc1.weight': fc1.weight: mask shape (2, 2) differs",
                 id="compressed-inconsistent-arrays"),
    pytest.param(_compressed(lambda a: a.update({"fc1.weight/values": a["fc1.weight/values"]
                 * np.float32(np.nan)})), "NaN or infinite values", id="compressed-nan-values"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "fragment"), COMPRESSED)
def test_compressed_models(capsys, tmp_path, files, make, fragment):
    line = assert_one_line_error(capsys, make(tmp_path, files), fragment)
    assert "compressed model" in line and "c.npz" in line


# --- recipes, in string and YAML form and as files ---------------------------------------


def _recipe(text: str, command: str = "compress") -> Make:
    def make(tmp: Path, files: Files) -> list:
        if command == "simulate":
            return ["simulate", "--accel", files.accel, "--workload", "digits-mlp",
                    "--recipe", text, "--out", tmp / "out"]  # fmt: skip
        if command == "run":
            return ["run", "--model", files.weights, "--workload", "digits-mlp", "--recipe",
                    text, "--accel", files.accel, "--out", tmp / "out"]  # fmt: skip
        return ["compress", "--model", files.weights, "--recipe", text, "--out", tmp / "out"]

    return make


def _recipe_file(text: str | None) -> Make:
    def make(tmp: Path, files: Files) -> list:
        path = tmp / "r.yaml"
        if text is None:
            path.mkdir()
        else:
            path.write_text(text)
        return ["compress", "--model", files.weights, "--recipe", path, "--out", tmp / "out"]

    return make


RECIPES = [
    pytest.param(_recipe("{steps: [prune 2:4"), "is not valid YAML", id="recipe-unterminated"),
    pytest.param(_recipe("[prune 2:4, int8]"), "must be a YAML mapping with steps (and "
                 "layers), not a list", id="recipe-yaml-list"),
    pytest.param(_recipe_file("prune 2:4 -> int8\n"), "must be a YAML mapping with steps "
                 "(and layers), not a str", id="recipe-file-scalar"),
    pytest.param(_recipe_file("- prune 2:4\n- int8\n"), "not a list", id="recipe-file-list"),
    pytest.param(_recipe_file(""), "not an empty document", id="recipe-file-empty"),
    pytest.param(_recipe_file(None), "is a directory, not a file", id="recipe-file-folder"),
    pytest.param(_recipe_file("steps: [prune 2:4\n"), "recipe file", id="recipe-file-bad-yaml"),
    pytest.param(_recipe("steps: 5"), "steps = 5: must be a step string", id="recipe-steps-int"),
    pytest.param(_recipe("steps: []"), "steps = []: must be a step string",
                 id="recipe-steps-empty"),
    pytest.param(_recipe("steps: {a: 1}"), "steps = {'a': 1}: must be", id="recipe-steps-map"),
    pytest.param(_recipe("steps: int8\nlayers: [fc1]"), "layers = ['fc1']: must map layer "
                 "names", id="recipe-layers-list"),
    pytest.param(_recipe("steps: int8\nlayers: {fc1: 8}"), "layer 'fc1' = 8: must be",
                 id="recipe-layer-steps-int"),
    pytest.param(_recipe("steps: int8\nlayers: {fc9: int4}"), "layer 'fc9' is not among the "
                 "weights (did you mean 'fc2'?); they are fc1, fc2", id="recipe-unknown-layer"),
    pytest.param(_recipe("steps: int8\nlayers: {fc9: int4}", "simulate"),
                 "layer 'fc9' is not among the weights", id="recipe-unknown-layer-simulate"),
    pytest.param(_recipe("steps: int8\nstep: int4"), "unknown keys ['step']",
                 id="recipe-unknown-key"),
    pytest.param(_recipe("prune 150%"), "prune amount must be from 0% to below 100%",
                 id="recipe-prune-amount"),
    pytest.param(_recipe("prune -5%"), "not -5%", id="recipe-prune-negative"),
    pytest.param(_recipe("prune 1.5"), "a fraction in [0, 1)", id="recipe-prune-fraction"),
    pytest.param(_recipe("prune 90% rounds=0"), "rounds must be a positive integer",
                 id="recipe-prune-rounds"),
    pytest.param(_recipe("prune 90% index=rel99"), "gap_bits must be from 1 to 16, not 99",
                 id="recipe-prune-gap-bits"),
    pytest.param(_recipe("prune 5:4"), "N must be <= M", id="recipe-nm-order"),
    pytest.param(_recipe("prune 0:4"), "N must be a positive integer, not 0", id="recipe-nm-0"),
    pytest.param(_recipe("prune 2:99999999999999999999"), "M must be at most 1024",
                 id="recipe-nm-huge"),
    pytest.param(_recipe("prune 2:64 meta=minimal"), "M must be at most 62 with meta=minimal",
                 id="recipe-nm-minimal"),
    pytest.param(_recipe("int99"), "bits must be an integer from 2 to 16, not 99",
                 id="recipe-int-bits"),
    pytest.param(_recipe("int8 per-group 0"), "a positive integer, not 0", id="recipe-group"),
    pytest.param(_recipe("int8 clip=foo"), "clip must be one of max, mse", id="recipe-clip"),
    pytest.param(_recipe("fp8 e9m9"), "fp8 needs e4m3 or e5m2, not 'e9m9'", id="recipe-fp8"),
    pytest.param(_recipe("mx fp3"), "unknown MX format 'mxfp3'", id="recipe-mx"),
    pytest.param(_recipe("kmeans 99bit"), "kmeans bits must be an integer from 1 to 16",
                 id="recipe-kmeans-bits"),
    pytest.param(_recipe("kmeans bits=x"), "kmeans bits must be an integer, not 'x'",
                 id="recipe-kmeans-text"),
    pytest.param(_recipe("pool v=0"), "v must be an integer 1..256, not 0", id="recipe-pool-v"),
    pytest.param(_recipe("pool P=3"), "a power of two from 2 to 65536, not 3",
                 id="recipe-pool-p"),
    pytest.param(_recipe("pool metric=manhattan"), "'euclidean' or 'cosine'",
                 id="recipe-pool-metric"),
    pytest.param(_recipe("pool reassign=-1"), "reassign must be an integer >= 0",
                 id="recipe-pool-reassign"),
    pytest.param(_recipe("prune 2:4 -> mvq 3bit v=0"), "mvq v must be an integer from 1 to "
                 "256, not 0", id="recipe-mvq-v"),
    pytest.param(_recipe("prune 2:4 -> mvq 40bit"), "mvq bits must be an integer from 1 to 16",
                 id="recipe-mvq-bits"),
    pytest.param(_recipe("lowrank ratio=nan"), "lowrank ratio must be a finite number",
                 id="recipe-lowrank-nan"),
    pytest.param(_recipe("lowrank ratio=0"), "lowrank ratio must be a finite number > 0",
                 id="recipe-lowrank-ratio"),
    pytest.param(_recipe("lowrank energy=2"), "lowrank energy must be in (0, 1]",
                 id="recipe-lowrank-energy"),
    pytest.param(_recipe("sparsify 3"), "unknown step kind 'sparsify'; valid kinds: prune",
                 id="recipe-unknown-kind"),
    pytest.param(_recipe("int8 -> prune 2:4"), "prune is out of place", id="recipe-order"),
    pytest.param(_recipe("prune 2:4 -> int99", "simulate"), "recipe 'prune 2:4 -> int99' "
                 "step 2 'int99'", id="recipe-simulate"),
    pytest.param(_recipe("prune 2:4 -> int99", "run"), "step 2 'int99'", id="recipe-run"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "fragment"), RECIPES)
def test_recipes(capsys, tmp_path, files, make, fragment):
    line = assert_one_line_error(capsys, make(tmp_path, files), fragment)
    assert "recipe" in line


# --- energy-override files named by a config ---------------------------------------------


def _override(text: str | bytes | None) -> Make:
    """`sparsa simulate` on a config whose energy_overrides names a file holding ``text``
    (None: a folder)."""

    def make(tmp: Path, files: Files) -> list:
        path = tmp / "over.yaml"
        if text is None:
            path.mkdir()
        else:
            path.write_bytes(text if isinstance(text, bytes) else text.encode())
        accel = tmp / "accel.yaml"
        accel.write_text(ACCEL + "energy_overrides: over.yaml\n")
        return ["simulate", "--accel", accel, "--workload", "digits-mlp", "--out", tmp / "out"]

    return make


def _entry(body: str) -> str:
    return "dram:\n  read: {" + body + "}\n"


OVERRIDES = [
    pytest.param(_override("just a string\n"), "must be a mapping of component: {entry: "
                 "{...}}, not a str ('just a string')", id="override-scalar"),
    pytest.param(_override("- a\n- b\n"), "not a list (['a', 'b'])", id="override-list"),
    pytest.param(_override(""), "must change at least one entry", id="override-empty"),
    pytest.param(_override("dramm:\n  read: {value: 1, unit: pJ/bit, source: x}\n"),
                 "unknown component 'dramm' (did you mean 'dram'?); known: array, chip",
                 id="override-unknown-component"),
    pytest.param(_override(_entry("value: 1, unit: pJ/bit, source: x").replace("read", "reed")),
                 "unknown entry 'reed' of component 'dram' (did you mean 'read'?); known: read, "
                 "write", id="override-unknown-action"),
    pytest.param(_override("dram: [read]\n"), "dram: must be a mapping of entry name",
                 id="override-component-list"),
    pytest.param(_override("dram:\n  read: 10\n"), "must be a mapping with value/points, unit "
                 "and source, not 10", id="override-entry-scalar"),
    pytest.param(_override(_entry("value: abc, unit: pJ/bit, source: x")),
                 "dram.read value: 'abc' must be a non-negative finite number",
                 id="override-non-numeric"),
    pytest.param(_override(_entry("value: -1, unit: pJ/bit, source: x")),
                 "value: -1 must be a non-negative", id="override-negative"),
    pytest.param(_override(_entry("value: .nan, unit: pJ/bit, source: x")),
                 "value: nan must be a non-negative finite number", id="override-nan"),
    pytest.param(_override(_entry("value: 1e400, unit: pJ/bit, source: x")),
                 "value: '1e400' must be a non-negative finite number", id="override-huge"),
    pytest.param(_override(_entry("value: 1, source: x")), "dram.read: needs a unit: 'pJ/bit'",
                 id="override-unit-missing"),
    pytest.param(_override(_entry("value: 1, unit: nJ/bit, source: x")),
                 "unit must be 'pJ/bit' (DRAM read, per bit), not 'nJ/bit'",
                 id="override-unit-unknown"),
    pytest.param(_override(_entry("value: 1, unit: pJ/bit")), "needs a source",
                 id="override-no-source"),
    pytest.param(_override("sram:\n  read: {scale: capacity_bytes, points: [[1, 2], [1]], "
                           "unit: pJ/64-bit access, source: x}\n"),
                 "point [1] must be a pair [capacity_bytes, value]", id="override-bad-point"),
    pytest.param(_override(b"\xff\xfe"), "is not UTF-8 text", id="override-binary"),
    pytest.param(_override(None), "is a directory, not a file", id="override-folder"),
    pytest.param(_override("a: &a [1, 2]\nb: [*a, *a, *a]\n" + "c: {"), "is not valid YAML",
                 id="override-bad-yaml"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "fragment"), OVERRIDES)
def test_energy_overrides(capsys, tmp_path, files, make, fragment):
    line = assert_one_line_error(capsys, make(tmp_path, files), fragment)
    assert "energy override file" in line and "over.yaml" in line
    assert "dictionary update sequence" not in line


# --- the options of compress, run and report ---------------------------------------------


def _compress_with(*options: object) -> Make:
    def make(tmp: Path, files: Files) -> list:
        return ["compress", "--model", files.weights, "--recipe", RECIPE, "--out", tmp / "out",
                *options]  # fmt: skip

    return make


def _run_with(*options: object, accel: bool = True) -> Make:
    def make(tmp: Path, files: Files) -> list:
        argv = ["run", "--model", files.weights, "--workload", "digits-mlp", "--recipe", RECIPE,
                "--out", tmp / "out", *options]  # fmt: skip
        return argv + (["--accel", files.accel] if accel else [])

    return make


def _run_accel_folder(tmp: Path, files: Files) -> list:
    (tmp / "a.yaml").mkdir()
    return _run_with("--accel", tmp / "a.yaml", accel=False)(tmp, files)


def _compress_out_file(tmp: Path, files: Files) -> list:
    (tmp / "taken").write_text("x")
    return ["compress", "--model", files.weights, "--recipe", RECIPE, "--out", tmp / "taken"]


OPTIONS = [
    pytest.param(_compress_with("--seed", "-1"), "argument --seed: must be an integer from 0 "
                 "to 4,294,967,295, not '-1'", id="compress-seed-negative"),
    pytest.param(_compress_with("--seed", "abc"), "--seed: must be an integer", id="seed-text"),
    pytest.param(_compress_with("--seed", "1.5"), "not '1.5'", id="compress-seed-fraction"),
    pytest.param(_compress_with("--finetune", "-1"), "argument --finetune: must be an integer "
                 "from 0 to 1,000", id="compress-epochs-negative"),
    pytest.param(_compress_with("--finetune", "5000"), "not '5000'", id="compress-epochs-huge"),
    pytest.param(_compress_with("--lr", "0"), "argument --lr: must be a number in (0, 1]",
                 id="compress-lr-zero"),
    pytest.param(_compress_with("--lr", "nan"), "not 'nan'", id="compress-lr-nan"),
    pytest.param(_compress_with("--lr", "3"), "not '3'", id="compress-lr-large"),
    pytest.param(_compress_with("--activations", "int99"), "argument --activations: "
                 "activation bits must be from 2 to 16", id="compress-activation-bits"),
    pytest.param(_compress_with("--activations", "int8 percentile=10"),
                 "percentile must be in (50, 100]", id="compress-activation-samples"),
    pytest.param(_compress_with("--activations", "float"), "expected 'intB", id="act-kind"),
    pytest.param(_compress_with("--finetune", "2"), "--finetune and --activations need a known "
                 "network", id="compress-finetune-without-data"),
    pytest.param(_compress_out_file, "argument --out: ", id="compress-out-is-a-file"),
    pytest.param(_compress_with("--out", ""), "must name a folder", id="compress-out-empty"),
    pytest.param(_run_with("--batch", "0"), "argument --batch: must be an integer >= 1",
                 id="run-batch-zero"),
    pytest.param(_run_with("--seed", "99999999999"), "argument --seed", id="run-seed-huge"),
    pytest.param(_run_with("--lr", "-0.1"), "argument --lr", id="run-lr-negative"),
    pytest.param(_run_accel_folder, "argument --accel: ", id="run-accel-folder"),
    pytest.param(lambda tmp, f: _run_with("--accel", tmp / "no.yaml", accel=False)(tmp, f),
                 "no.yaml does not exist", id="run-accel-missing"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "fragment"), OPTIONS)
def test_options(capsys, tmp_path, files, make, fragment):
    assert_one_line_error(capsys, make(tmp_path, files), fragment)
