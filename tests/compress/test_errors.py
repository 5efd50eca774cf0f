"""The guarded readers: bounded YAML, UTF-8 text, top-level types, one error type."""

from __future__ import annotations

import pytest

from compress import errors
from compress.errors import InputError, load_json, load_yaml, parse_yaml, read_text

BILLION_LAUGHS = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(8)]
)


def test_billion_laughs_is_refused_with_its_expanded_size():
    assert len(BILLION_LAUGHS) < 600
    with pytest.raises(InputError, match=r"expands to [\d,]+ YAML nodes .* at most 1,000,000"):
        parse_yaml(BILLION_LAUGHS, "spec")


def test_shared_aliases_below_the_bound_load():
    data = parse_yaml("a: &a [1, 2]\nb: *a\nc: *a\n", "spec")
    assert data == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}


def test_alias_count_is_bounded(monkeypatch):
    monkeypatch.setattr(errors, "MAX_YAML_ALIASES", 3)
    text = "a: &a 1\nb: [*a, *a, *a, *a]\n"
    with pytest.raises(InputError, match="more than 3 alias references"):
        parse_yaml(text, "spec")


@pytest.mark.parametrize(
    ("text", "expect", "fragment"),
    [
        (
            "just a string",
            dict,
            "must hold a YAML mapping (key: value lines) at the top level, not a str",
        ),
        ("- a\n- b\n", dict, "not a list (['a', 'b'])"),
        ("a: 1\n", list, "must hold a YAML list"),
        ("a: [1, 2\n", dict, "is not valid YAML"),
    ],
)
def test_top_level_type_and_syntax(text, expect, fragment):
    with pytest.raises(InputError) as info:
        parse_yaml(text, "config x.yaml", expect)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_empty_document_is_an_empty_mapping():
    assert parse_yaml("", "x") == {}
    assert parse_yaml("# only a comment\n", "x", list) == []


def test_read_text_names_the_file_and_the_problem(tmp_path):
    with pytest.raises(InputError, match="sweep spec .*nope.yaml does not exist"):
        read_text(tmp_path / "nope.yaml", "sweep spec")
    with pytest.raises(InputError, match="is a directory, not a file"):
        read_text(tmp_path, "sweep spec")
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(InputError, match=r"not UTF-8 text \(byte 0xff at offset 6\)"):
        load_yaml(binary, "accelerator config")


def test_oversized_files_are_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(errors, "MAX_INPUT_BYTES", 10)
    big = tmp_path / "big.yaml"
    big.write_text("a: 1234567890\n")
    with pytest.raises(InputError, match="is 14 bytes; at most 10 bytes are read"):
        read_text(big, "config")


def test_json_reader(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("[1, 2]")
    with pytest.raises(InputError, match="must hold a JSON object at the top level, not a list"):
        load_json(path, "result file")
    path.write_text("{oops")
    with pytest.raises(InputError, match="is not valid JSON: .* line 1 column 2"):
        load_json(path, "result file")


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)
