"""Reading a result back: the schema, the relations between figures, the derived totals."""

from __future__ import annotations

import copy
import dataclasses
import json

import pytest

from compress.errors import InputError
from simulator import AcceleratorConfig, simulate, zoo_workload
from simulator.results import LayerResult, SimResult
from simulator.results.checks import RESULT_SCHEMA
from simulator.workloads.binding import bind_recipe

# Stored figures nothing else in the file determines: a hand edit of these re-renders as
# given. Everything else numeric is a type, a range, a relation or a derived figure.
UNCHECKED = {
    "row_folds", "col_folds", "stream_tiles", "fold_positions", "streamed", "macs_issued",
    "psum_block_bytes", "weights.value_bits", "weights.stored_bits", "weights.dram_bits",
    "activations.output_bytes", "activations.others_bytes", "tiling_alternative.stream_tile",
    "tiling_alternative.stream_tiles", "tiling_alternative.compute_cycles",
}  # fmt: skip


@pytest.fixture(scope="module")
def result() -> SimResult:
    workload = bind_recipe(zoo_workload("digits-mlp"), "prune 2:4 -> int8").workload
    config = AcceleratorConfig(rows=8, cols=8, dataflow="ws", stream_tiling="fit")
    return simulate(workload, config)


def _json(result: SimResult) -> dict:
    return json.loads(json.dumps(result.to_dict()))


@pytest.mark.parametrize(
    ("workload", "config"),
    [
        ("digits-cnn", AcceleratorConfig(rows=4, cols=4)),
        ("llama7b-decode", AcceleratorConfig(rows=16, cols=16, energy_table="eyeriss")),
        ("resnet18", AcceleratorConfig(rows=32, cols=32, inter_layer_activations="on_chip")),
    ],
)
def test_what_simulate_writes_reads_back_equal(workload, config):
    original = simulate(zoo_workload(workload), config)
    assert SimResult.from_dict(_json(original)) == original


def test_the_schema_has_every_layer_field():
    layer_rule = RESULT_SCHEMA.fields["layers"].item
    assert set(layer_rule.fields) == {f.name for f in dataclasses.fields(LayerResult)}


def _numeric_leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _numeric_leaves(value, (*path, i))
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path


def test_a_changed_figure_is_refused_unless_nothing_determines_it(result):
    data = _json(result)
    accepted = set()
    for path in _numeric_leaves(data["layers"][0]):
        edited = copy.deepcopy(data)
        node = edited["layers"][0]
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = node[path[-1]] * 2 + 3
        try:
            SimResult.from_dict(edited)
        except InputError:
            pass  # refused: by its range, a relation, or the totals it feeds
        else:
            accepted.add(".".join(str(p) for p in path))
    assert accepted <= UNCHECKED, accepted - UNCHECKED


def test_a_total_that_is_not_the_sum_of_its_layers(result):
    data = _json(result)
    data["total"]["energy"]["by_component"]["dram"] *= 1.01
    with pytest.raises(InputError, match=r"total.energy.by_component.dram = .*what the layers add"):
        SimResult.from_dict(data, "result file r.json")


def test_figures_must_agree(result):
    data = _json(result)
    layer = data["layers"][1]
    layer["cycles"]["compute"] += 5
    with pytest.raises(InputError, match=r"layers\[1\].cycles.total = .*cycles.compute \+ cycles"):
        SimResult.from_dict(data)


def test_the_config_is_checked_by_its_own_rules(result):
    data = _json(result)
    data["config"]["dataflow"] = "sideways"
    with pytest.raises(InputError, match="r.json: config: accelerator field 'dataflow'"):
        SimResult.from_dict(data, "r.json")


def test_derived_keys_may_not_be_dropped(result):
    data = _json(result)
    del data["layers"][0]["speedup"]
    with pytest.raises(InputError, match=r"layers\[0\].speedup: is missing"):
        SimResult.from_dict(data)
