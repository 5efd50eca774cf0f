"""Activations kept on chip between layers (``inter_layer_activations: on_chip``).

Each layer's output is one tensor. With ``dram`` (the default) every layer reads its
input from DRAM and writes its output back, each layer alone, as SCALE-Sim runs them
(no residual reads are counted). With ``on_chip`` a tensor stays in the input buffer, the
activation buffer the next layers read, from the step that produces it to the step of
its last reader, when it fits beside every other tensor kept over that span; otherwise it
is written to DRAM once and every reader fetches it (the memory model's DRAM traffic,
including the refetches of an input that does not fit, stays as it is for those).

Who reads what (:func:`activation_graph`), from the layer names of the zoo's networks:

- a layer's input is the previous layer's output (the first layer's comes from DRAM),
  except: ``k_proj``/``v_proj`` (``key``/``value``) read the input of their ``q_proj``
  (``query``); ``up_proj`` the input of ``gate_proj``; ``scores`` the output of the
  nearest ``q_proj``/``query``/``qkv``; a ResNet ``downsample`` the input of its block's
  ``conv1``;
- residual additions and gates are fused into the layer that ends them, which also reads
  the residual: the attention output projection (``o_proj``, ``attention.output.dense``,
  ``attn.proj``) reads the block input (the input of the q projection), the MLP's last
  layer (``down_proj``, BERT's ``output.dense``, ``fc2``) reads the input of the MLP's
  first layer, ``down_proj`` also reads ``gate_proj``'s output (SwiGLU), a ResNet block's
  last layer reads the block input (identity shortcut) or, when it is the
  ``downsample``, the main path's output, and a MobileNetV2 block whose output has its
  input's shape (stride 1, same channels) ends in a ``project`` that reads the block
  input;
- the second operand of an attention matmul (``K``, ``V``) is read from DRAM, as a KV
  cache is: the K and V projections' outputs are written to DRAM.

Other workloads follow the chain rule alone. A tensor's size is the most any reader
needs: the reader's distinct input elements (a pooling between two layers is taken as
fused into the producer's output), or the producer's outputs for a residual read, at
``activation_bits``.

Capacity: the whole input buffer (``ifmap_sram_bytes``): resident tensors are not
prefetched, so double buffering does not halve it. A layer whose input is in DRAM still
streams it through the same buffer; the model assumes its tiles fit in what the resident
tensors leave (not checked). Tensors are placed greedily in the order they are produced
(an earlier tensor is never evicted for a later one); a tensor nobody reads later (the
workload's outputs, K and V) goes to DRAM.

The placement loops over layers once, each step vectorized over configs; nothing loops
over configs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from simulator.model.mapping import Operand
from simulator.workloads.layer import OpKind, Workload

if TYPE_CHECKING:
    from simulator.model.columns import ConfigColumns, LayerColumns

__all__ = [
    "SPILL_REASONS",
    "ActivationGraph",
    "Residency",
    "activation_graph",
    "residency",
]

SPILL_REASONS: tuple[str, ...] = (
    "kept on chip",
    "inter_layer_activations: dram",
    "no later layer reads it",
    "does not fit beside the activations still needed",
)
"""``Residency.reason`` codes index this tuple."""
_ON_CHIP, _DRAM_MODE, _UNREAD, _NO_ROOM = range(4)


class ActivationGraph(NamedTuple):
    """Which tensor each layer reads (config independent; see the module docstring)."""

    input_producer: np.ndarray
    """int64 ``(L,)``: the layer whose output is layer ``j``'s input, -1 for DRAM."""
    extra_reads: tuple[tuple[int, int], ...]
    """``(reader, producer)`` pairs: residual and gate reads besides the input."""
    tensor_elements: np.ndarray
    """int64 ``(L,)``: elements of each layer's output tensor that readers need."""
    last_reader: np.ndarray
    """int64 ``(L,)``: the last layer that reads each output, -1 when none does."""


class Residency(NamedTuple):
    """Where each layer's input comes from and its output goes, ``(C, L)`` arrays."""

    input_on_chip: np.ndarray
    output_on_chip: np.ndarray
    extra_dram_elements: np.ndarray
    """float64: elements of residual/gate reads the layer fetches from DRAM (their tensor
    spilled)."""
    reason: np.ndarray
    """int8 codes into :data:`SPILL_REASONS` for each layer's output."""
    others_bits: np.ndarray
    """float64: the most bits other kept tensors hold at any step of this tensor's life,
    when it was placed (for the report's "why")."""
    tensor_bits: np.ndarray
    """float64: the tensor's bits at ``activation_bits``."""
    capacity_bits: np.ndarray
    """``(C, 1)``: the input buffer."""


def _leaf(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _block(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else ""


def _nearest(names: list[str], before: int, leaves: tuple[str, ...], full: str = "") -> int:
    """The nearest layer before ``before`` whose leaf is in ``leaves`` (or whose name ends
    with ``full``), -1 when none is."""
    for i in range(before - 1, -1, -1):
        if _leaf(names[i]) in leaves or (full and names[i].endswith(full)):
            return i
    return -1


_Q = ("q_proj", "query", "qkv")


def _transformer_rules(names, j, source, extra) -> None:
    """Siblings, the attention input and the residual reads of transformer blocks."""
    leaf, name = _leaf(names[j]), names[j]
    first = {"k_proj": ("q_proj",), "v_proj": ("q_proj",), "key": ("query",),
             "value": ("query",), "up_proj": ("gate_proj",)}  # fmt: skip
    if leaf in first:
        sibling = _nearest(names, j, first[leaf])
        if sibling >= 0:
            source[j] = source[sibling]
    elif leaf == "scores":
        q = _nearest(names, j, _Q)
        if q >= 0:
            source[j] = q
    elif leaf == "o_proj" or name.endswith(("attention.output.dense", "attn.proj")):
        q = _nearest(names, j, _Q)
        if q >= 0 and source[q] >= 0:
            extra.append((j, int(source[q])))
    elif leaf == "down_proj":
        gate = _nearest(names, j, ("gate_proj",))
        if gate >= 0:
            extra.append((j, gate))
            if source[gate] >= 0:
                extra.append((j, int(source[gate])))
    elif leaf == "fc2" or (name.endswith("output.dense") and "attention" not in name):
        first_layer = _nearest(names, j, ("fc1",), "intermediate.dense")
        if first_layer >= 0 and source[first_layer] >= 0:
            extra.append((j, int(source[first_layer])))


def _block_rules(workload: Workload, source, extra, out_elems, in_elems) -> None:
    """ResNet shortcuts and MobileNetV2 inverted-residual skips, block by block."""
    names = [layer.name for layer in workload.layers]
    blocks: dict[str, list[int]] = {}
    for j, name in enumerate(names):
        if workload.layers[j].kind is OpKind.CONV and "." in name:
            blocks.setdefault(_block(name), []).append(j)
    for members in blocks.values():
        leaves = [_leaf(names[j]) for j in members]
        first, last = members[0], members[-1]
        if leaves[0] == "conv1" and "downsample" in leaves:
            ds = members[leaves.index("downsample")]
            source[ds] = source[first]
            main = members[leaves.index("downsample") - 1]
            extra.append((ds, main) if ds == last else (last, ds))
        else:
            shortcut = leaves[0] == "conv1" and leaves[-1] in ("conv2", "conv3")
            skip = leaves[-1] == "project" and out_elems[last] == in_elems[first]
            if (shortcut or skip) and source[first] >= 0:
                extra.append((last, int(source[first])))


def activation_graph(workload: Workload, ly: LayerColumns) -> ActivationGraph:
    """The readers of every layer's output (rules in the module docstring)."""
    names = [layer.name for layer in workload.layers]
    count = len(names)
    source = np.arange(-1, count - 1, dtype=np.int64)
    extra: list[tuple[int, int]] = []
    in_elems = (ly.input_elements * ly.groups).reshape(-1)
    out_elems = (ly.m * ly.n * ly.groups).reshape(-1)
    _block_rules(workload, source, extra, out_elems, in_elems)
    for j in range(count):
        _transformer_rules(names, j, source, extra)
    need = np.zeros(count, dtype=np.int64)
    last = np.full(count, -1, dtype=np.int64)
    for j, producer in enumerate(source):
        if producer >= 0:
            need[producer] = max(need[producer], in_elems[j])
            last[producer] = max(last[producer], j)
    for reader, producer in extra:
        need[producer] = max(need[producer], out_elems[producer])
        last[producer] = max(last[producer], reader)
    return ActivationGraph(source, tuple(dict.fromkeys(extra)), need, last)


def residency(hw: ConfigColumns, graph: ActivationGraph) -> Residency:
    """Place the tensors greedily in production order (module docstring), for every
    config at once; configs in ``dram`` mode keep nothing."""
    configs, count = hw.rows.shape[0], len(graph.input_producer)
    capacity = (np.asarray(hw.sram_bytes[Operand.INPUT], dtype=np.float64) * 8).reshape(configs, 1)
    bits = graph.tensor_elements[None, :] * np.asarray(hw.a_bits, dtype=np.float64)
    occupancy = np.zeros((configs, max(count, 1)))
    kept = np.zeros((configs, count), dtype=bool)
    others = np.zeros((configs, count))
    mode = np.asarray(hw.on_chip_activations, dtype=bool).reshape(configs)
    reason = np.where(mode[:, None], _NO_ROOM, _DRAM_MODE).astype(np.int8)
    reason = np.broadcast_to(reason, (configs, count)).copy()
    for t in range(count):
        end = graph.last_reader[t]
        if end < 0:
            reason[mode, t] = _UNREAD
            continue
        peak = occupancy[:, t : end + 1].max(axis=1)
        others[:, t] = peak
        fits = mode & (peak + bits[:, t] <= capacity[:, 0])
        kept[:, t] = fits
        occupancy[:, t : end + 1] += np.where(fits, bits[:, t], 0.0)[:, None]
    reason[kept] = _ON_CHIP
    producer = graph.input_producer
    input_on_chip = np.where(producer[None, :] >= 0, kept[:, np.maximum(producer, 0)], False)
    extra = np.zeros((configs, count))
    for reader, source in graph.extra_reads:
        spilled = mode & ~kept[:, source]
        extra[:, reader] += np.where(spilled, graph.tensor_elements[source], 0)
    return Residency(input_on_chip, kept, extra, reason, others, bits, capacity)
