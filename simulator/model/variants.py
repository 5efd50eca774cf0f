"""Many configs as one base config and the fields that vary: what a sweep chunk is.

Building ``C`` :class:`~simulator.config.AcceleratorConfig` objects one by one validates
every field of every config (about 30 us each, more than evaluating them).
:class:`ConfigVariants` holds the same configs as a base and, per varying field, its
distinct values and each config's index into them (:class:`FieldValues`), and validates
them with the very checks construction runs, only once per distinct value
(:func:`simulator.config.field_problem`) and once per distinct combination of the fields
the combination checks read (:data:`simulator.config.COMBINATION_FIELDS`). A bad config
raises exactly the :class:`~simulator.config.ConfigError` building it would.
:meth:`simulator.model.columns.ConfigColumns.of` gathers the model's columns from it
without building a config per point; the numbers are identical to those of the list of
configs it stands for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, overload

import numpy as np

from simulator.config import (
    COMBINATION_FIELDS,
    FIELD_NAMES,
    AcceleratorConfig,
    ConfigError,
    checked_variant,
    field_problem,
    normalized_field,
)

__all__ = ["ConfigVariants", "FieldValues", "first_seen", "groups_of"]


def first_seen(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal ``keys`` in order of first appearance.

    Returns
    -------
    first : intp[G]
        The position of each group's first key.
    group : intp[n]
        Each key's group.
    """
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.reshape(-1)]


def groups_of(indices: Sequence[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`first_seen` of the rows of several index columns of length ``n`` (one group
    when there are none)."""
    if not indices:
        return np.zeros(min(n, 1), dtype=np.intp), np.zeros(n, dtype=np.intp)
    group = np.zeros(n, dtype=np.int64)
    first = np.zeros(0, dtype=np.intp)
    for index in indices:
        # Below n * n: the pair (group, index) is one int64 key, renumbered at each step.
        first, group = first_seen(group * (int(index.max(initial=0)) + 1) + index)
    return first, group


class FieldValues(NamedTuple):
    """One config field over ``C`` configs: its distinct ``values`` and, per config, the
    ``index`` (intp ``(C,)``) of its value."""

    values: tuple[Any, ...]
    index: np.ndarray

    @classmethod
    def of(cls, column: Sequence[Any] | np.ndarray) -> FieldValues:
        """The distinct values of ``column`` in order of first appearance.

        Numbers of one type are told apart by their bits (``0.0`` and ``-0.0`` differ),
        anything else by type and value (``1``, ``1.0`` and ``True`` differ), so each
        config gets back exactly the value it had.
        """
        array = _typed_array(column)
        if array is not None:
            keys = array.view(f"u{array.itemsize}") if array.dtype.kind == "f" else array
            first, index = first_seen(keys)
            return cls(tuple(array[first].tolist()), index)
        items = column.tolist() if isinstance(column, np.ndarray) else list(column)
        where: dict[Any, int] = {}
        try:
            positions = [where.setdefault(_key(v), len(where)) for v in items]
        except TypeError:  # unhashable values, such as lists of N:M patterns
            where = {}
            positions = [where.setdefault((type(v), repr(v)), len(where)) for v in items]
        index = np.array(positions, dtype=np.intp)
        values = [None] * len(where)
        for item, i in zip(items, index.tolist(), strict=True):
            values[i] = item
        return cls(tuple(values), index)


_DTYPES = {bool: np.bool_, int: np.int64, float: np.float64}


def _key(value: Any) -> tuple:
    """What tells ``value`` apart: its type and value, a float by its exact form (so
    that ``-0.0`` is not ``0.0``)."""
    return (float, value.hex()) if type(value) is float else (type(value), value)


def _typed_array(column: Sequence[Any] | np.ndarray) -> np.ndarray | None:
    """``column`` as a bool, int64 or float64 array when all its values are of that one
    Python (or numpy) type, else None."""
    if isinstance(column, np.ndarray):
        return column if column.dtype.kind in "biuf" and column.ndim == 1 else None
    types = set(map(type, column))
    dtype = _DTYPES.get(types.pop()) if len(types) == 1 else None
    if dtype is None:
        return None
    try:
        return np.array(column, dtype=dtype)
    except OverflowError:  # an int beyond int64: compared as Python objects
        return None


@dataclass(frozen=True, eq=False)
class ConfigVariants(Sequence[AcceleratorConfig]):
    """``C`` configs: ``base`` with, per field in ``fields``, each config's value.

    Build it with :meth:`of`, which validates; ``fields`` holds the values as a built
    config does (enum members, parsed N:M patterns). Indexing gives an
    :class:`~simulator.config.AcceleratorConfig` (built the ordinary way), slicing a
    :class:`ConfigVariants`.
    """

    base: AcceleratorConfig
    fields: Mapping[str, FieldValues]
    size: int

    @classmethod
    def of(
        cls, base: AcceleratorConfig, fields: Mapping[str, FieldValues], size: int | None = None
    ) -> ConfigVariants:
        """Validate the configs ``base`` with ``fields`` and hold them normalized.

        Each distinct value passes its field's check once and each distinct combination of
        the :data:`~simulator.config.COMBINATION_FIELDS` the combination checks once. The
        first config (in order) that fails either is built the ordinary way, so that it
        raises the same :class:`~simulator.config.ConfigError` as
        ``base.replace(**its fields)``.
        """
        if size is None:
            size = len(next(iter(fields.values())).index) if fields else 1
        lengths = {name: len(column.index) for name, column in fields.items()}
        if any(length != size for length in lengths.values()):
            raise ValueError(f"fields of {size} configs need as many values each, not {lengths}")
        bad = np.zeros(size, dtype=bool)
        normalized: dict[str, FieldValues] = {}
        for name, column in fields.items():
            if name not in FIELD_NAMES:
                bad[:] = True
                break
            problems = [field_problem(name, value) for value in column.values]
            bad |= np.array([p is not None for p in problems], dtype=bool)[column.index]
            values = tuple(
                None if p else normalized_field(name, v)
                for v, p in zip(column.values, problems, strict=True)
            )
            normalized[name] = FieldValues(values, column.index)
        if len(normalized) == len(fields):
            bad |= _bad_combinations(base, normalized, ~bad)
        if bad.any():
            _raise_for(base, fields, int(np.argmax(bad)))
        return cls(base, normalized, size)

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> AcceleratorConfig: ...
    @overload
    def __getitem__(self, index: slice) -> ConfigVariants: ...
    def __getitem__(self, index):
        if isinstance(index, slice):
            rows = range(self.size)[index]
            fields = {
                name: FieldValues(v.values, v.index[index]) for name, v in self.fields.items()
            }
            return ConfigVariants(self.base, fields, len(rows))
        i = range(self.size)[index]
        return self.base.replace(**self.changes_at(i))

    def changes_at(self, i: int) -> dict[str, Any]:
        """The fields config ``i`` changes from the base, with their values."""
        return {name: v.values[v.index[i]] for name, v in self.fields.items()}

    def field(self, name: str) -> FieldValues:
        """Field ``name`` over the configs (the base's value for a field that does not vary)."""
        if name in self.fields:
            return self.fields[name]
        return FieldValues((getattr(self.base, name),), np.zeros(self.size, dtype=np.intp))

    def column(self, name: str, dtype: Any = np.int64) -> np.ndarray:
        """Field ``name`` as a ``(C, 1)`` column of ``dtype``."""
        values = self.field(name)
        return np.asarray(values.values, dtype=dtype)[values.index][:, None]

    def mapped(self, name: str, fn: Callable[[Any], Any], dtype: Any = np.int64) -> np.ndarray:
        """``fn`` of field ``name``'s value, a ``(C, 1)`` column (``fn`` runs once per
        distinct value)."""
        values = self.field(name)
        return np.asarray([fn(v) for v in values.values], dtype=dtype)[values.index][:, None]

    def grouped(
        self, names: Sequence[str], fn: Callable[[AcceleratorConfig], Any]
    ) -> tuple[list[Any], np.ndarray]:
        """``fn`` of each config, where ``fn`` reads only the fields ``names``: once per
        distinct combination of them. Returns the results and each config's index."""
        varying = [self.fields[name].index for name in names if name in self.fields]
        first, group = groups_of(varying, self.size)
        return [fn(checked_variant(self.base, self.changes_at(i))) for i in first], group


def _bad_combinations(
    base: AcceleratorConfig, fields: Mapping[str, FieldValues], valid: np.ndarray
) -> np.ndarray:
    """Which of the ``valid`` configs (their fields pass their checks) fail the
    combination checks, run once per distinct combination of the fields they read."""
    names = [name for name in COMBINATION_FIELDS if name in fields]
    bad = np.zeros(len(valid), dtype=bool)
    rows = np.flatnonzero(valid)
    if not names or not len(rows):
        return bad
    indices = {name: fields[name].index[rows] for name in names}
    first, group = groups_of(list(indices.values()), len(rows))
    failed = np.zeros(len(first), dtype=bool)
    for g, i in enumerate(first.tolist()):
        try:
            checked_variant(
                base, {name: fields[name].values[index[i]] for name, index in indices.items()}
            )
        except ConfigError:
            failed[g] = True
    bad[rows] = failed[group]
    return bad


def _raise_for(base: AcceleratorConfig, fields: Mapping[str, FieldValues], i: int) -> None:
    """Build config ``i`` the ordinary way, which raises its :class:`ConfigError`."""
    changes = {name: v.values[v.index[i]] for name, v in fields.items()}
    base.replace(**changes)
    raise RuntimeError(  # the checks above and construction disagree: a bug in sparsa
        f"config {i} ({changes}) failed the sweep's field or combination checks, but "
        "builds as an AcceleratorConfig"
    )
