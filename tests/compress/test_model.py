"""The model-level account and its JSON summary."""

from __future__ import annotations

import json

import numpy as np

from compress.pipeline import compress_weights
from compress.report import model_table


def test_summary_is_json_and_consistent(rng):
    weights = {"fc.weight": rng.normal(size=(20, 16)).astype(np.float32),
               "fc.bias": np.zeros(20, np.float32)}  # fmt: skip
    model = compress_weights(weights, "prune 2:4 -> int8 -> huffman", model="toy")
    summary = json.loads(json.dumps(model.summary()))
    layer = summary["layers"][0]
    assert layer["name"] == "fc.weight" and layer["nm"] == [2, 4] and layer["density"] == 0.5
    assert layer["storage_bits"]["total"] == model.tensors["fc.weight"].storage.total
    assert layer["ratio_vs_fp32"] == 320 * 32 / layer["storage_bits"]["total"]
    total = summary["total"]
    assert total["total_bits"] == model.total_bits == total["storage_bits"]["total"] + 640
    assert total["ratio_vs_fp32"] == model.fp32_bits / model.total_bits
    assert [s["name"] for s in summary["stages"]] == ["prune", "quantize", "huffman"]
    table = model_table(model)
    assert "fc.weight" in table and "int8-sym-channel 2:4 +huffman" in table
    assert f"{model.ratio_fp32:.1f}x vs fp32" in table
