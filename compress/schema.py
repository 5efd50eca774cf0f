"""A small declarative checker for the JSON and YAML documents sparsa reads back.

A schema is a tree of rules (:class:`Integer`, :class:`Number`, :class:`Text`,
:class:`Flag`, :class:`Nullable`, :class:`ListOf`, :class:`MapOf`, :class:`Record`); a
:class:`Record` can be derived from a frozen dataclass's annotations with
:func:`record_of`, so the reader checks the same structure the writer serializes.
:func:`check` walks a parsed document against a schema and returns it cleaned (integral
floats such as ``1e3`` become ``int``); the first value out of place raises a
:class:`SchemaError` naming the document, the path of the field (``layers[3].cycles.total``),
the value and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compress.errors import InputError

__all__ = [
    "MISSING",
    "Anything",
    "Flag",
    "Integer",
    "ListOf",
    "MapOf",
    "Nullable",
    "Number",
    "Record",
    "Rule",
    "SchemaError",
    "Tagged",
    "Text",
    "check",
    "child_path",
    "preview",
    "record_of",
]

_INT64_MAX = (1 << 63) - 1


class SchemaError(InputError):
    """A field of a document is missing, unknown, of the wrong type or out of range.

    ``where`` is the document ("result file out/result.json"), ``field`` the path of the
    field in it, ``value`` what it holds and ``allowed`` what it may hold.
    """

    def __init__(self, where: str, field_path: str, value: Any, allowed: str) -> None:
        self.where = where
        self.field = field_path
        self.value = value
        self.allowed = allowed
        if where and field_path:
            subject = f"{where}: {field_path}"
        else:
            subject = where or field_path or "<top level>"
        shown = f" = {preview(value)}" if value is not MISSING else ""
        super().__init__(f"{subject}{shown}: {allowed}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.where, self.field, self.value, self.allowed))


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()
"""The value of a field a document lacks (in :class:`SchemaError`)."""


def preview(value: Any, limit: int = 60) -> str:
    """``repr(value)``, shortened to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def child_path(path: str, key: str | int) -> str:
    """``path.key`` for identifier keys, ``path[3]`` for list items, ``path["pe.mac"]``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
        return f"{path}.{key}" if path else key
    return f'{path}["{key}"]'


class Rule(typing.Protocol):
    """What a field may hold: :meth:`clean` returns it checked, or raises ``_Bad``."""

    @property
    def kind(self) -> str: ...

    def clean(self, value: Any, path: str) -> Any: ...


class _Bad(Exception):
    """Raised inside the walk; :func:`check` turns it into a :class:`SchemaError`."""

    def __init__(self, path: str, value: Any, allowed: str) -> None:
        super().__init__(path)
        self.path, self.value, self.allowed = path, value, allowed


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Integer:
    """An integer in ``[low, high]`` (an integral float such as ``1e3`` is accepted)."""

    low: int = 0
    high: int = _INT64_MAX

    @property
    def kind(self) -> str:
        if self.high == _INT64_MAX:
            return f"an integer >= {self.low}"
        return f"an integer from {self.low} to {self.high}"

    def clean(self, value: Any, path: str) -> int:
        integral = _is_number(value) and (
            isinstance(value, int) or (math.isfinite(value) and value.is_integer())
        )
        if not integral or not self.low <= value <= self.high:
            raise _Bad(path, value, f"must be {self.kind}")
        return int(value)


@dataclass(frozen=True)
class Number:
    """A real number (never NaN) from ``low`` (None: unbounded) to ``high``.

    ``above``: ``low`` itself is excluded; ``infinite``: +infinity is allowed (JSON's
    ``Infinity``, a ratio over zero).
    """

    low: float | None = 0.0
    high: float | None = None
    above: bool = False
    infinite: bool = False

    @property
    def kind(self) -> str:
        finite = "" if self.infinite else "finite "
        if self.low is not None and self.high is not None:
            return f"a {finite}number in {'(' if self.above else '['}{self.low:g}, {self.high:g}]"
        if self.low is not None:
            return f"a {finite}number {'>' if self.above else '>='} {self.low:g}"
        return f"a {finite}number"

    def clean(self, value: Any, path: str) -> int | float:
        ok = _is_number(value) and not math.isnan(value)
        ok = ok and ((self.infinite and value == math.inf) or math.isfinite(value))
        if ok and self.low is not None:
            ok = value > self.low if self.above else value >= self.low
        if ok and self.high is not None:
            ok = value <= self.high
        if not ok:
            raise _Bad(path, value, f"must be {self.kind}")
        return value


@dataclass(frozen=True)
class Text:
    """A string; one of ``choices`` when given."""

    choices: tuple[str, ...] | None = None

    @property
    def kind(self) -> str:
        if self.choices is None:
            return "a string"
        return "one of " + ", ".join(repr(choice) for choice in self.choices)

    def clean(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or (self.choices is not None and value not in self.choices):
            raise _Bad(path, value, f"must be {self.kind}")
        return value


@dataclass(frozen=True)
class Flag:
    """``true`` or ``false``."""

    kind: str = "true or false"

    def clean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise _Bad(path, value, f"must be {self.kind}")
        return value


@dataclass(frozen=True)
class Anything:
    """Any value; checked elsewhere (by the type it becomes)."""

    kind: str = "a value"

    def clean(self, value: Any, path: str) -> Any:
        return value


@dataclass(frozen=True)
class Nullable:
    """``null`` or ``rule``."""

    rule: Rule

    @property
    def kind(self) -> str:
        return f"null or {self.rule.kind}"

    def clean(self, value: Any, path: str) -> Any:
        if value is None:
            return None
        try:
            return self.rule.clean(value, path)
        except _Bad as bad:
            if bad.path != path:  # a field inside the value
                raise
            raise _Bad(path, value, f"must be {self.kind}") from None


@dataclass(frozen=True)
class ListOf:
    """A list of ``min_items`` to ``max_items`` items, each checked by ``item``."""

    item: Rule
    min_items: int = 0
    max_items: int | None = None

    @property
    def kind(self) -> str:
        if self.max_items == self.min_items:
            count = f"{self.min_items} "
        elif self.min_items:
            count = f"at least {self.min_items} "
        else:
            count = ""
        return f"a list of {count}items, each {self.item.kind}"

    def clean(self, value: Any, path: str) -> list[Any]:
        size = len(value) if isinstance(value, list) else -1
        too_many = self.max_items is not None and size > self.max_items
        if size < self.min_items or size < 0 or too_many:
            raise _Bad(path, value, f"must be {self.kind}")
        return [self.item.clean(item, child_path(path, i)) for i, item in enumerate(value)]


@dataclass(frozen=True)
class MapOf:
    """A mapping from string keys to values checked by ``value``.

    ``keys``: the keys allowed (None: any string); ``complete``: every one of them is required.
    """

    value: Rule
    keys: tuple[str, ...] | None = None
    complete: bool = False

    @property
    def kind(self) -> str:
        return f"a mapping of name: {self.value.kind}"

    def clean(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise _Bad(path, value, f"must be {self.kind}")
        if self.keys is not None:
            unknown = [key for key in value if key not in self.keys]
            if unknown:
                raise _Bad(
                    child_path(path, unknown[0]), MISSING,
                    f"is not a known name; allowed: {', '.join(self.keys)}",
                )  # fmt: skip
            if self.complete:
                missing = [key for key in self.keys if key not in value]
                if missing:
                    raise _Bad(child_path(path, missing[0]), MISSING, "is missing")
        return {key: self.value.clean(item, child_path(path, key)) for key, item in value.items()}


@dataclass(frozen=True)
class Record:
    """A mapping with exactly the keys of ``fields`` (each checked by its rule).

    ``optional``: keys that may be left out; ``derived``: keys whose values are
    recomputed from the others (allowed, passed through unchecked: the reader compares
    them with what it derives).
    """

    fields: Mapping[str, Rule]
    optional: frozenset[str] = field(default=frozenset())
    derived: frozenset[str] = field(default=frozenset())

    @property
    def kind(self) -> str:
        return "a mapping with " + ", ".join(self.fields)

    def clean(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _Bad(path, value, f"must be {self.kind}")
        allowed = (*self.fields, *sorted(self.derived))
        unknown = [key for key in value if key not in allowed]
        if unknown:
            raise _Bad(
                child_path(path, str(unknown[0])), MISSING,
                f"is not a field here; allowed: {', '.join(allowed)}",
            )  # fmt: skip
        missing = [k for k in self.fields if k not in value and k not in self.optional]
        if missing:
            raise _Bad(child_path(path, missing[0]), MISSING, f"is missing ({self.kind})")
        out = {
            key: rule.clean(value[key], child_path(path, key))
            for key, rule in self.fields.items()
            if key in value
        }
        return out | {key: value[key] for key in self.derived if key in value}


@dataclass(frozen=True)
class Tagged:
    """A mapping whose ``tag`` key (``kind: int``) picks the :class:`Record` that checks it."""

    tag: str
    variants: Mapping[str, Record]

    @property
    def kind(self) -> str:
        return f"a mapping with {self.tag}: " + " | ".join(self.variants)

    def clean(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _Bad(path, value, f"must be {self.kind}")
        tag = value.get(self.tag, MISSING)
        if not isinstance(tag, str) or tag not in self.variants:
            raise _Bad(
                child_path(path, self.tag), tag, f"must be one of {', '.join(self.variants)}"
            )
        return self.variants[tag].clean(value, path)


def check(rule: Rule, value: Any, where: str = "") -> Any:
    """``value`` checked against ``rule`` and cleaned; a :class:`SchemaError` otherwise.

    Parameters
    ----------
    rule : Rule
    value : object
        A parsed JSON or YAML document.
    where : str
        The document, for messages ("result file out/result.json").
    """
    try:
        return rule.clean(value, "")
    except _Bad as bad:
        raise SchemaError(where, bad.path, bad.value, bad.allowed) from None


def record_of(
    cls: type,
    *,
    derived: tuple[str, ...] = (),
    optional: tuple[str, ...] = (),
    **rules: Rule,
) -> Record:
    """The :class:`Record` of the frozen dataclass ``cls`` as ``dataclasses.asdict`` writes it.

    Each field's rule follows its annotation (``int``: an integer >= 0, ``float``: a
    finite number >= 0, ``str``, ``bool``, ``X | None``, ``tuple[X, ...]``: a list,
    ``Mapping[str, X]``, a nested dataclass); ``rules`` replace them by field name.
    """
    hints = typing.get_type_hints(cls)
    fields = {}
    for item in dataclasses.fields(cls):
        fields[item.name] = rules.pop(item.name, None) or _rule_for(hints[item.name])
    if rules:
        raise TypeError(f"{cls.__name__} has no fields {sorted(rules)}")
    return Record(fields, frozenset(optional), frozenset(derived))


def _rule_for(hint: Any) -> Rule:
    """The default rule of an annotation (see :func:`record_of`)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    simple = {int: Integer(), float: Number(), str: Text(), bool: Flag()}
    if hint in simple:
        return simple[hint]
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        (inner,) = (arg for arg in args if arg is not type(None))
        return Nullable(_rule_for(inner))
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return ListOf(_rule_for(args[0]))
    if origin in (Mapping, dict) and args[0] is str:
        return MapOf(_rule_for(args[1]))
    if dataclasses.is_dataclass(hint):
        return record_of(hint)
    raise TypeError(f"no default rule for the annotation {hint!r}")
