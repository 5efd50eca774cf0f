"""The declarative document checker: each rule accepts what it states and names the rest."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compress.errors import InputError
from compress.schema import (
    Flag,
    Integer,
    ListOf,
    MapOf,
    Nullable,
    Number,
    Record,
    SchemaError,
    Tagged,
    Text,
    check,
    child_path,
    record_of,
)


@pytest.mark.parametrize(
    ("rule", "value", "cleaned"),
    [
        (Integer(), 3, 3),
        (Integer(), 1e3, 1000),  # JSON and YAML write big integers this way
        (Integer(1, 5), 5, 5),
        (Number(), 0, 0),
        (Number(low=None), -2.5, -2.5),
        (Number(infinite=True), math.inf, math.inf),
        (Text(("a", "b")), "b", "b"),
        (Flag(), False, False),
        (Nullable(Integer()), None, None),
        (ListOf(Integer(), 1, 2), [1, 2.0], [1, 2]),
        (MapOf(Number(), ("x", "y")), {"x": 1}, {"x": 1}),
    ],
)
def test_rules_accept_what_they_state(rule, value, cleaned):
    assert check(rule, value) == cleaned


@pytest.mark.parametrize(
    ("rule", "value", "message"),
    [
        (Integer(), True, "= True: must be an integer >= 0"),
        (Integer(), 1.5, "= 1.5: must be an integer >= 0"),
        (Integer(), -1, "must be an integer >= 0"),
        (Integer(1, 5), 6, "must be an integer from 1 to 5"),
        (Integer(), "3", "= '3': must be an integer"),
        (Integer(), math.nan, "= nan: must be an integer"),
        (Number(), math.nan, "= nan: must be a finite number >= 0"),
        (Number(), math.inf, "= inf: must be a finite number >= 0"),
        (Number(infinite=True), -math.inf, "must be a number >= 0"),
        (Number(above=True), 0, "must be a finite number > 0"),
        (Number(0.0, 1.0), 1.5, "must be a finite number in [0, 1]"),
        (Number(), "1", "= '1': must be a finite number"),
        (Text(("a", "b")), "c", "= 'c': must be one of 'a', 'b'"),
        (Text(), 5, "= 5: must be a string"),
        (Flag(), 1, "must be true or false"),
        (ListOf(Integer(), 2, 2), [1], "must be a list of 2 items"),
        (ListOf(Integer()), {"a": 1}, "= {'a': 1}: must be a list"),
        (MapOf(Number()), [1], "= [1]: must be a mapping"),
        (MapOf(Number(), ("x",)), {"z": 1}, "z: is not a known name; allowed: x"),
    ],
)
def test_rules_name_the_value_and_what_is_allowed(rule, value, message):
    with pytest.raises(SchemaError) as info:
        check(rule, value, "doc d.json")
    assert message in str(info.value)
    assert str(info.value).startswith("doc d.json")
    assert isinstance(info.value, InputError)


def test_paths_name_the_field():
    rule = Record({"layers": ListOf(Record({"cycles": MapOf(Integer(1))}))})
    with pytest.raises(SchemaError, match=r"layers\[1\].cycles.total = 0: must be an integer >= 1"):
        check(rule, {"layers": [{"cycles": {"total": 3}}, {"cycles": {"total": 0}}]})
    with pytest.raises(SchemaError, match=r'm\["pe.mac"\] = -1'):
        check(Record({"m": MapOf(Integer())}), {"m": {"pe.mac": -1}})
    assert child_path("", "a") == "a" and child_path("a", 2) == "a[2]"


def test_records_refuse_missing_and_unknown_keys_and_pass_derived_ones():
    rule = Record(
        {"a": Integer(), "b": Integer()}, optional=frozenset({"b"}), derived=frozenset({"d"})
    )
    assert check(rule, {"a": 1, "d": "anything"}) == {"a": 1, "d": "anything"}
    with pytest.raises(SchemaError, match="a: is missing"):
        check(rule, {"b": 1})
    with pytest.raises(SchemaError, match="z: is not a field here; allowed: a, b, d"):
        check(rule, {"a": 1, "z": 2})
    with pytest.raises(SchemaError, match="x: is missing"):
        check(MapOf(Integer(), ("x", "y"), complete=True), {"y": 1})


def test_tagged_records_follow_their_tag():
    rule = Tagged(
        "kind",
        {"a": Record({"kind": Text(("a",)), "n": Integer()}), "b": Record({"kind": Text(("b",))})},
    )
    assert check(rule, {"kind": "a", "n": 2}) == {"kind": "a", "n": 2}
    with pytest.raises(SchemaError, match="kind = 'c': must be one of a, b"):
        check(rule, {"kind": "c"})
    with pytest.raises(SchemaError, match="n: is not a field here"):
        check(rule, {"kind": "b", "n": 1})


@dataclass(frozen=True)
class _Inner:
    x: float


@dataclass(frozen=True)
class _Outer:
    count: int
    name: str
    inner: _Inner
    tags: tuple[str, ...]
    table: Mapping[str, float]
    maybe: int | None = None


def test_record_of_follows_the_dataclass_annotations():
    rule = record_of(_Outer, derived=("total",), count=Integer(1))
    good = {"count": 2, "name": "n", "inner": {"x": 0.5}, "tags": ["t"], "table": {"a": 1.0},
            "maybe": None, "total": 9}  # fmt: skip
    assert check(rule, good) == good
    for field, value, message in [
        ("count", 0, "count = 0: must be an integer >= 1"),
        ("inner", {"x": -1}, "inner.x = -1: must be a finite number >= 0"),
        ("tags", ["t", 3], r"tags\[1\] = 3: must be a string"),
        ("table", {"a": "b"}, "table.a = 'b'"),
        ("maybe", "x", "maybe = 'x': must be null or an integer"),
    ]:
        with pytest.raises(SchemaError, match=message):
            check(rule, {**good, field: value})
    with pytest.raises(TypeError, match="no fields"):
        record_of(_Outer, colour=Integer())


@given(st.integers(min_value=0, max_value=2**62))
def test_integers_round_trip_through_floats_when_exact(value):
    if float(value) == value:
        assert check(Integer(), float(value)) == value
    assert check(Integer(), value) == value
