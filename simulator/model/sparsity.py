"""Compressed execution: what a layer's weights become on an accelerator's PEs.

The seam between compression and the model is one array-free summary per layer
(:class:`compress.WeightStats`: kept weights per output column, the most kept in any
group of ``M`` along ``k`` per column, value and metadata bits, codebook, stored bits).
This module turns it into the few numbers timing, memory and energy need, per config:
first what depends only on the PE kind, dataflow, patterns, widths and decoders
(:class:`LayerFormat`, once per distinct :func:`~simulator.model.columns.execution_key`),
then what depends on the array's columns (column folds, once per distinct ``cols``),
then the row folds, in closed form over all configs of that group at once. Nothing
touches a weight array, and nothing loops over folds or cycles.

Execution modes (the formulas follow ``../shared/notes/sparse-execution.md``; ``R, C``
the array, ``G`` the layer's GEMM groups, ``T`` the streamed dimension):

- ``dense``: every weight takes a PE slot; dense timing (``pe_kind: dense``, and ws/is
  on ``pe_kind: skip``, which can only gate zero weights).
- ``nm`` (``pe_kind: nm``, the array's group ``M`` and supported ``N`` values): column
  ``j`` needs ``n_j`` = the smallest supported N at or above the most kept weights in
  any group of ``M`` of that column, or ``M`` (a dense column) when none is. Columns
  are mapped to column folds in decreasing ``n_j`` (a stable sort: the output columns
  are written back in their own order), so fold ``c`` runs at ``n_c = max n_j``.

  - ws: a fold's PE rows form row groups of ``n_c`` rows; each takes one group of
    ``M`` positions of ``k`` and selects its activations from ``M`` lanes. Row folds of
    fold ``c``: ``ceil(g / floor(R / n_c))`` with ``g = ceil(k / M)``, or ``ceil(k / R)``
    for a dense fold (``n_c = M``: one PE row per position). Fold length unchanged.
  - os: column ``j`` streams ``K_c(j) = floor(k/M) n_j + min(n_j, k mod M)`` entries; a
    fold lasts ``max_j K_c(j) + R + C - 2``.
  - is: the stationary inputs of one group of ``M`` sit in a row group of ``n``
    rows (``M / n`` input registers per PE, loaded over a bus ``M / n`` wider, so the
    preload still takes ``R`` cycles) and every streamed weight column passes through
    every fold, so ``n`` is the most any column needs: row folds
    ``ceil(g / floor(R / n_max))``.

- ``skip`` (``pe_kind: skip`` in os): each column streams only its kept weights with
  their indices; a fold lasts ``max_j kept_j + R + C - 2``. For a density declared
  without a mask, the longest stream is its expectation for Binomial(``k``, density)
  columns, ``sum_{x<k} 1 - F(x)^C`` (:func:`expected_max_binomial`), rounded.

Weights on chip are ``entries`` values (all ``k n G`` in dense mode; ``sum_j K_c(j)`` in
nm; the kept ones in skip) at the layer's value bits (its own precision, at most the
array's ``weight_bits``), plus metadata (``ceil(log2 M)`` per entry of a sparse nm
column; the stored index in skip); with a codebook decoder the SRAM holds indices and
the decoder at each column's weight-load port turns them into ``decoder_entry_bits``
weights. DRAM holds the stored format when the hardware runs it as stored (the exact
:class:`~compress.StorageBits`, Huffman-coded bits behind a Huffman decoder, the
codebook as the decoder's table), else the executed re-encoding; a network-wide pool is
loaded once, by the first layer that uses it. A layer whose compression the config
cannot run runs as the hardware would (dense, decoded) and says so
(:func:`execution_notes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple
from weakref import WeakKeyDictionary

import numpy as np

from compress import SparsityKind, StorageBits, WeightStats
from simulator.config import AcceleratorConfig, Dataflow, PEKind

if TYPE_CHECKING:
    from simulator.model.columns import ConfigColumns, LayerColumns

__all__ = [
    "EXEC_MODES",
    "LayerFormat",
    "WeightExecution",
    "column_folds",
    "execution_notes",
    "expected_max_binomial",
    "layer_format",
    "nm_column_slots",
    "weight_execution",
]

EXEC_MODES: tuple[str, ...] = ("dense", "nm", "skip")
_DENSE, _NM, _SKIP = range(3)


def position_bits(m: int) -> int:
    """Bits of a value's position in its group of ``m``: ``ceil(log2 m)``."""
    return (int(m) - 1).bit_length()


def kept_slots(k: int, m: int, n) -> np.ndarray:
    """Entries a column of ``k`` weights holds at ``n`` per group of ``m``:
    ``floor(k / m) * n + min(n, k mod m)``."""
    return (k // m) * np.asarray(n, dtype=np.int64) + np.minimum(n, k % m)


def nm_column_slots(group_max: np.ndarray, slots: Sequence[int], m: int) -> np.ndarray:
    """``n_j`` of every column: the smallest supported N at or above the most kept weights
    in any group of ``m`` of the column, or ``m`` (dense) when none is."""
    supported = np.array(sorted(slots), dtype=np.int64)
    index = np.searchsorted(supported, group_max, side="left")
    return np.where(index < supported.size, supported[np.minimum(index, supported.size - 1)], m)


def column_folds(work: np.ndarray, groups: int, cols: int, sort: bool = True) -> np.ndarray:
    """The work of every column fold: the most of its columns.

    Parameters
    ----------
    work : numpy.ndarray
        int64 ``[groups * n]``: per output column (group after group).
    groups, cols : int
        GEMM groups of the layer and the array's columns.
    sort : bool
        Map columns to folds in decreasing work (what the model does), or in order.

    Returns
    -------
    numpy.ndarray
        int64 ``[groups, ceil(n / cols)]``, and the fold widths ``[ceil(n / cols)]``.
    """
    per_group = work.reshape(groups, -1)
    if sort:
        per_group = -np.sort(-per_group, axis=1, kind="stable")
    n = per_group.shape[1]
    folds = -(-n // cols)
    padded = np.zeros((groups, folds * cols), dtype=np.int64)
    padded[:, :n] = per_group
    widths = np.full(folds, cols, dtype=np.int64)
    widths[-1] = n - (folds - 1) * cols
    return padded.reshape(groups, folds, cols).max(axis=2), widths


class LayerFormat(NamedTuple):
    """How one layer's weights run under one execution key (independent of the array size).

    Bit counts are for the whole layer (all groups), one copy of the weights.
    """

    mode: int
    """Index into :data:`EXEC_MODES`."""
    work: np.ndarray | None
    """Per output column: ``n_j`` (nm, ws and is), ``K_c(j)`` (nm, os), kept (skip)."""
    mac_bits: float
    """Width of the weight operand in the multipliers."""
    pe_bits: float
    """Bits a PE holds or passes per weight: value plus position (nm)."""
    onchip_bits: float
    """Weight bits in the weight SRAM (values or indices, and metadata)."""
    metadata_bits: float
    dram_bits: float
    """Weight bits DRAM holds (stored or re-encoded, scales, this layer's decoder table)."""
    table_bits: float
    """Decoder-table bits this layer loads (0 without a decoder or for a pool loaded
    before)."""
    lookups: float
    """Decoder lookups per read of the weights (0 without a decoder)."""
    lookup_bits: float
    """Bits one lookup reads: ``decoder_vector_length x decoder_entry_bits``."""
    symbols: float
    """Huffman symbols decoded per fill of the weights (0 without entropy decoding)."""
    nonzeros: int
    kept: int
    value_bits: float
    """Bits of one stored value or index on chip (for the report)."""
    as_stored: bool
    binomial_density: float | None = None
    """A declared density without a mask: fold streams are Binomial expectations."""


def _value_format(stats: WeightStats, key: tuple) -> tuple[float, float, bool, bool]:
    """(on-chip value bits, MAC bits, decoder used, values run as stored)."""
    w_bits, decoder = key[4], key[5]
    codebook = stats.codebook
    if codebook is not None:
        usable = (
            decoder is not None
            and codebook.entries <= decoder[0]
            and codebook.vector_length == decoder[1]
        )
        if usable:
            return stats.value_bits / stats.vector_length, decoder[2], True, True
        return w_bits, w_bits, False, False
    if stats.value_bits is None:
        return w_bits, w_bits, False, True
    bits = min(stats.value_bits, w_bits)
    return bits, bits, False, stats.value_bits <= w_bits


def _structure(stats: WeightStats, key: tuple) -> tuple[int, np.ndarray | None, bool]:
    """(mode, per-column work, structure runs as stored) on the key's PE kind."""
    kind, dataflow, m, slots = PEKind(key[0]), Dataflow(key[1]), key[2], key[3]
    stored_dense = stats.sparsity in (SparsityKind.DENSE, SparsityKind.CHANNEL)
    if kind is PEKind.NM:
        group_max = stats.group_max_for(m)
        if group_max is not None:
            n_j = nm_column_slots(group_max, slots, m)
            if np.any(n_j < m):
                work = n_j
                stored = stored_dense or (stats.nm is not None and stats.nm.m == m)
                return _NM, work, stored and not stats.declared
        return _DENSE, None, stored_dense
    if kind is PEKind.SKIP and dataflow is Dataflow.OS:
        return _SKIP, stats.kept_per_column, not stats.declared
    return _DENSE, None, stored_dense and not stats.declared


def _entries(mode: int, work: np.ndarray | None, stats: WeightStats, k: int, key) -> tuple:
    """(weight entries on chip, their metadata bits)."""
    m = key[2]
    if mode == _NM:
        per_column = kept_slots(k, m, work)
        sparse = work < m
        return int(per_column.sum()), int(per_column[sparse].sum()) * position_bits(m)
    if mode == _SKIP:
        raw = stats.raw or stats.storage
        return stats.kept, (raw.index if raw is not None else 0)
    return stats.params, 0


def layer_format(stats: WeightStats, key: tuple, loads_pool: bool = True) -> LayerFormat:
    """:class:`LayerFormat` of ``stats`` under the execution ``key``
    (:func:`~simulator.model.columns.execution_key`)."""
    k = stats.k
    mode, work, structure_stored = _structure(stats, key)
    value_bits, mac_bits, decoded, values_stored = _value_format(stats, key)
    entries, metadata = _entries(mode, work, stats, k, key)
    codebook = stats.codebook
    vector = codebook is not None and codebook.vector_length > 1
    # With a vector decoder the SRAM holds one index per stored vector.
    values = (stats.raw or stats.storage).values if decoded and vector else entries * value_bits
    table = 0.0
    if decoded and (codebook.scope == "layer" or loads_pool):
        table = codebook.entries * codebook.vector_length * key[5][2]
    huffman = stats.entropy_coded and key[6]
    as_stored = structure_stored and values_stored and stats.storage is not None
    if as_stored:
        bits: StorageBits = stats.storage if huffman or not stats.entropy_coded else stats.raw
        tables = stats.storage.codebook - stats.raw.codebook if huffman else 0
        dram = bits.values + bits.index + bits.scales + tables + table
    else:
        scales = stats.storage.scales if stats.storage is not None else 0
        dram = values + metadata + scales + table
    lookups = values / stats.value_bits if decoded and vector else (entries if decoded else 0)
    pe_bits = mac_bits + (position_bits(key[2]) if mode == _NM else 0)
    return LayerFormat(
        mode=mode,
        work=work,
        mac_bits=float(mac_bits),
        pe_bits=float(pe_bits),
        onchip_bits=float(values + metadata),
        metadata_bits=float(metadata),
        dram_bits=float(dram),
        table_bits=float(table),
        lookups=float(lookups),
        lookup_bits=float(key[5][1] * key[5][2]) if decoded else 0.0,
        symbols=float(stats.coded_symbols if huffman and as_stored else 0),
        nonzeros=stats.nonzeros,
        kept=stats.kept,
        value_bits=float(value_bits),
        as_stored=as_stored,
        binomial_density=stats.binomial_density,
    )


class _Folds(NamedTuple):
    """Column-fold figures of one layer on one (execution key, cols): no array rows yet."""

    bins: tuple[tuple[int, int], ...]
    """nm in ws and is: ``(n_c, column folds at it)`` over all groups."""
    stream_sum: int
    """os: sum over groups and column folds of the fold's longest column stream."""
    issued_slots: int
    """Weight slots the PEs use per streamed vector, summed over the layer's folds."""
    lane_slots: float
    """The same weighted by the activation lanes per slot, ``M / n_c`` (nm), or 1."""


def _fold_figures(fmt: LayerFormat, layer: tuple[int, int, int, int], cols: int, key) -> _Folds:
    """Column folds of a layer whose weights run in nm or skip mode."""
    m_rows, n, k, groups = layer
    m, dataflow = key[2], Dataflow(key[1])
    work = fmt.work
    if fmt.mode == _SKIP:
        if fmt.binomial_density is not None:
            stream = _expected_stream_sum(k, fmt.binomial_density, n, cols)
            return _Folds((), groups * stream, int(work.sum()), float(work.sum()))
        maxima, _ = column_folds(work, groups, cols)
        return _Folds((), int(maxima.sum()), int(work.sum()), float(work.sum()))
    if dataflow is Dataflow.IS:
        n_max = int(work.max())
        slots = groups * n * int(kept_slots(k, m, n_max))
        return _Folds(((n_max, groups * -(-m_rows // cols)),), 0, slots, float(slots))
    maxima, widths = column_folds(work, groups, cols)
    entries = kept_slots(k, m, maxima) * widths
    lanes = float((entries * (m / maxima)).sum())
    if dataflow is Dataflow.OS:
        return _Folds((), int(kept_slots(k, m, maxima).sum()), int(entries.sum()), lanes)
    values, counts = np.unique(maxima, return_counts=True)
    bins = tuple(zip(values.tolist(), counts.tolist(), strict=True))
    return _Folds(bins, 0, int(entries.sum()), lanes)


def expected_max_binomial(k: int, density: float, columns: int) -> float:
    """E[max of ``columns`` iid Binomial(``k``, ``density``)] = ``sum_{x<k} 1 - F(x)^C``,
    the expected longest column stream of a fold of ``columns`` columns whose weights
    are kept independently (the note's TV5: 16, 0.5, 4 -> 10.041)."""
    from scipy.stats import binom

    cdf = binom.cdf(np.arange(k), k, density)
    return float(np.sum(1.0 - cdf**columns))


def _expected_stream_sum(k: int, density: float, n: int, cols: int) -> int:
    """One group's sum over column folds of the expected longest stream, rounded to
    whole cycles."""
    full, last = divmod(n, cols)
    total = full * expected_max_binomial(k, density, cols)
    if last:
        total += expected_max_binomial(k, density, last)
    return round(total)


def _row_folds(n_c: int, rows: np.ndarray, k: int, m: int) -> np.ndarray:
    """Row folds of a ws/is column fold at ``n_c``: ``ceil(k / R)`` when dense, else
    ``ceil(ceil(k / M) / floor(R / n_c))``."""
    if n_c >= m:
        return -(-k // rows)
    k_groups = -(-k // m)
    return -(-k_groups // (rows // n_c))


class WeightExecution(NamedTuple):
    """Compressed execution of every layer on every config, ``(C, L)`` arrays.

    ``folded`` cells (nm and skip modes) take their timing from ``fold_positions`` and
    ``streamed``; ``weighted`` cells (layers with weight statistics) take their weight
    widths and traffic from the bit counts. Bits are for the whole layer, one copy.
    """

    mode: np.ndarray
    folded: np.ndarray
    weighted: np.ndarray
    fold_positions: np.ndarray
    """Fold positions over all groups (each runs its stream tiles)."""
    streamed: np.ndarray
    """Streamed vectors over all fold positions."""
    max_row_folds: np.ndarray
    issued_macs: np.ndarray
    """MACs the PEs issue (zero padding of nm slots included; skipped zeros not)."""
    lane_hops: np.ndarray
    """Activation hops between PEs (``M / n_c`` lanes per slot in nm)."""
    nonzero_macs: np.ndarray
    """MACs whose weight is nonzero (each nonzero weight meets every streamed input)."""
    kept_macs: np.ndarray
    """MACs of the weights the compression kept: the useful work."""
    mac_bits: np.ndarray
    pe_bits: np.ndarray
    onchip_bits: np.ndarray
    metadata_bits: np.ndarray
    dram_bits: np.ndarray
    table_bits: np.ndarray
    lookups: np.ndarray
    lookup_bits: np.ndarray
    symbols: np.ndarray
    value_bits: np.ndarray
    as_stored: np.ndarray


_FORMAT_FIELDS = (
    "mac_bits", "pe_bits", "onchip_bits", "metadata_bits", "dram_bits", "table_bits",
    "lookups", "lookup_bits", "symbols", "value_bits",
)  # fmt: skip


# Per tensor summary, what it becomes under an execution key and on an array shape: the
# summaries are immutable, so their derivations are computed once and reused by every
# chunk of configs and every later evaluation.
_FORMATS: WeakKeyDictionary = WeakKeyDictionary()
_FOLDS: WeakKeyDictionary = WeakKeyDictionary()


def _format_of(stats: WeightStats, key: tuple, loads_pool: bool) -> LayerFormat:
    cache = _FORMATS.setdefault(stats, {})
    entry = (key, loads_pool)
    if entry not in cache:
        cache[entry] = layer_format(stats, key, loads_pool)
    return cache[entry]


_FOLD_FIELDS = ("fold_positions", "streamed", "max_row_folds", "issued_macs", "lane_hops")


def _folds_of(stats, fmt: LayerFormat, layer, key: tuple, rows: int, cols: int) -> tuple:
    """``_FOLD_FIELDS`` of one layer on one array shape (cached: see above)."""
    cache = _FOLDS.setdefault(stats, {})
    entry = (key[:4], layer, rows, cols)
    if entry not in cache:
        cache[entry] = _fold_values(fmt, layer, key, rows, cols)
    return cache[entry]


def _fold_values(fmt: LayerFormat, layer, key: tuple, rows: int, cols: int) -> tuple:
    m_rows, n, k, groups = layer
    m, dataflow = key[2], Dataflow(key[1])
    folds = _fold_figures(fmt, layer, cols, key)
    if dataflow is Dataflow.OS:
        row_folds = -(-m_rows // rows)
        positions = groups * -(-n // cols) * row_folds
        streamed, most = row_folds * folds.stream_sum, row_folds
    else:
        per_bin = [(count, int(_row_folds(n_c, rows, k, m))) for n_c, count in folds.bins]
        positions = sum(count * rf for count, rf in per_bin)
        streamed = positions * (m_rows if dataflow is Dataflow.WS else n)
        most = max(rf for _, rf in per_bin)
    return positions, streamed, most, m_rows * folds.issued_slots, m_rows * folds.lane_slots


def _index(values: Sequence) -> tuple[list, np.ndarray]:
    """The distinct ``values`` in order of appearance, and each value's index."""
    distinct = list(dict.fromkeys(values))
    where = {value: i for i, value in enumerate(distinct)}
    return distinct, np.array([where[value] for value in values], dtype=np.int64)


def weight_execution(hw: ConfigColumns, ly: LayerColumns) -> WeightExecution | None:
    """:class:`WeightExecution` of the layers ``ly`` on the configs ``hw``; None when no
    layer has weight statistics (every layer then runs dense).

    Tables are built per distinct execution key (formats) and per distinct (key, rows,
    cols) array shape (folds), then gathered into ``(C, L)`` arrays.
    """
    if not ly.weights:
        return None
    dims = np.broadcast_arrays(ly.m, ly.n, ly.k, ly.groups)
    layers = [tuple(int(d[0, i]) for d in dims) for i in range(len(ly.weights))]
    keys, key_of = _index(hw.execution_keys)
    loads = ly.pool_first or (True,) * len(layers)
    formats = [
        [None if w is None else _format_of(w, key, loads[i]) for i, w in enumerate(ly.weights)]
        for key in keys
    ]
    tables = _format_tables(formats, layers)
    out = {name: table[key_of] for name, table in tables.items()}
    # Folds depend on the structure part of the key (PE kind, dataflow, M, N values) and
    # the array shape, not on widths or decoders: one representative key per structure.
    _, structure_of = _index([key[:4] for key in keys])
    representative = {structure_of[f]: f for f in range(len(keys))}
    shapes, shape_of = _index(
        list(
            zip(structure_of[key_of].tolist(), hw.rows[:, 0].tolist(), hw.cols[:, 0].tolist(),
                strict=True)
        )
    )  # fmt: skip
    fold = {
        name: np.array([tables[name][representative[s[0]]] for s in shapes])
        for name in _FOLD_FIELDS
    }
    folded = np.zeros((len(shapes), len(layers)), dtype=bool)
    for s, (structure, rows, cols) in enumerate(shapes):
        key_index = representative[structure]
        for i, fmt in enumerate(formats[key_index]):
            if fmt is not None and fmt.mode != _DENSE:
                values = _folds_of(ly.weights[i], fmt, layers[i], keys[key_index], rows, cols)
                for name, value in zip(_FOLD_FIELDS, values, strict=True):
                    fold[name][s, i] = value
                folded[s, i] = True
    out.update({name: table[shape_of] for name, table in fold.items()}, folded=folded[shape_of])
    return WeightExecution(**out)


def _format_tables(formats: list[list[LayerFormat | None]], layers: list) -> dict:
    """Per (key, layer) tables of every field that depends on the format only."""
    shape = (len(formats), len(layers))
    out = {name: np.zeros(shape) for name in (*_FORMAT_FIELDS, "issued_macs", "lane_hops")}
    out.update(
        mode=np.zeros(shape, np.int8), weighted=np.zeros(shape, bool),
        as_stored=np.zeros(shape, bool), nonzero_macs=np.zeros(shape),
        kept_macs=np.zeros(shape), fold_positions=np.zeros(shape, np.int64),
        streamed=np.zeros(shape, np.int64), max_row_folds=np.zeros(shape, np.int64),
    )  # fmt: skip
    for f, row in enumerate(formats):
        for i, fmt in enumerate(row):
            if fmt is None:
                continue
            m_rows, n, k, groups = layers[i]
            for name in _FORMAT_FIELDS:
                out[name][f, i] = getattr(fmt, name)
            out["mode"][f, i] = fmt.mode
            out["weighted"][f, i] = True
            out["as_stored"][f, i] = fmt.as_stored
            # Every nonzero (kept) weight meets every input of the streamed dimension once.
            out["nonzero_macs"][f, i] = m_rows * fmt.nonzeros
            out["kept_macs"][f, i] = m_rows * fmt.kept
            out["issued_macs"][f, i] = out["lane_hops"][f, i] = m_rows * n * k * groups
    return out


def execution_notes(config: AcceleratorConfig, stats: WeightStats | None) -> tuple[str, ...]:
    """What the hardware does with a layer's compression, in words, when it is not what
    the compression asked for (runs dense, decoded, at another width...)."""
    if stats is None:
        return ()
    from simulator.model.columns import execution_key

    key = execution_key(config)
    fmt = layer_format(stats, key)
    notes = []
    kind = config.pe_kind
    sparse = stats.sparsity not in (SparsityKind.DENSE,)
    if sparse and fmt.mode == _DENSE:
        if kind is PEKind.DENSE:
            notes.append(f"{stats.format_name}: runs dense on pe_kind dense (zeros take slots)")
        elif kind is PEKind.SKIP:
            notes.append(f"{stats.format_name}: {config.dataflow.value} only gates zero weights")
        else:
            notes.append(
                f"{stats.format_name}: no column fits the array's patterns "
                f"({', '.join(map(str, config.nm_patterns))}); runs dense"
            )
    if stats.codebook is not None and fmt.mac_bits == config.weight_bits and not fmt.lookups:
        notes.append(
            f"codebook of {stats.codebook.entries} x {stats.codebook.vector_length}: no "
            "matching weight decoder; weights are decoded offline"
        )
    wide = stats.value_bits is not None and stats.value_bits > config.weight_bits
    if wide and stats.codebook is None:
        notes.append(
            f"{stats.value_format} values ({stats.value_bits} bits) run at the array's "
            f"{config.weight_bits}-bit weights"
        )
    if stats.entropy_coded and config.huffman_symbols_per_cycle == 0:
        notes.append("Huffman-coded weights are stored decoded (no Huffman decoder)")
    if sparse and fmt.mode != _DENSE and not fmt.as_stored and not stats.declared:
        mode = EXEC_MODES[fmt.mode]
        notes.append(f"{stats.format_name}: re-encoded to the array's {mode} format")
    return tuple(notes)
