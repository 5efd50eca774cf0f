"""The checked option types: what each accepts, and the one-line refusal of the rest."""

from __future__ import annotations

import argparse

import pytest

from simulator.cli.argtypes import (
    MAX_SEED,
    activation_format,
    epochs,
    existing_file,
    integer,
    learning_rate,
    output_folder,
    seed,
)


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (seed, "0", 0),
        (seed, str(MAX_SEED), MAX_SEED),
        (seed, "1e3", 1000),
        (epochs, "12", 12),
        (integer(1), "7", 7),
        (learning_rate, "1e-3", 0.001),
        (learning_rate, "1", 1.0),
        (activation_format, "int8 percentile=99.9", "int8 percentile=99.9"),
    ],
)
def test_accepted(parse, text, value):
    assert parse(text) == value


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (seed, "-1", "must be an integer from 0 to 4,294,967,295, not '-1'"),
        (seed, str(MAX_SEED + 1), "not '4294967296'"),
        (seed, "1.5", "not '1.5'"),
        (seed, "inf", "not 'inf'"),
        (epochs, "1001", "from 0 to 1,000 (fine-tuning epochs per stage; 0 skips"),
        (integer(1), "0", "must be an integer >= 1, not '0'"),
        (learning_rate, "0", "must be a number in (0, 1]"),
        (learning_rate, "nan", "not 'nan'"),
        (learning_rate, "1.5", "not '1.5'"),
        (activation_format, "int1", "activation bits must be from 2 to 16, not 1"),
        (activation_format, "int8 percentile=9.9.9", "expected 'intB"),
    ],
)
def test_refused(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse(text)
    assert message in str(info.value)


def test_folders_and_files(tmp_path):
    (tmp_path / "f").write_text("x")
    assert output_folder(str(tmp_path / "new")) == tmp_path / "new"
    assert output_folder(str(tmp_path)) == tmp_path
    assert existing_file(str(tmp_path / "f")) == tmp_path / "f"
    for parse, text, message in [
        (output_folder, "", "must name a folder, not an empty string"),
        (output_folder, "  ", "must name a folder"),
        (output_folder, str(tmp_path / "f"), "is a file, not a folder"),
        (existing_file, str(tmp_path), "is a folder, not a file"),
        (existing_file, str(tmp_path / "none"), "does not exist"),
        (existing_file, "", "must name a file"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse(text)
