"""Payload packing agrees with Amaranth's own layouts."""

from __future__ import annotations

import numpy as np
import pytest

from rtl.engine import feed_layout, load_layout, out_layout
from rtl.params import RtlParams
from rtl.payload import VectorPacker


@pytest.mark.parametrize("dataflow", ["ws", "os"])
def test_pack_matches_amaranth_const_and_unpacks_back(dataflow):
    p = RtlParams("t", 3, 5, dataflow, 5, 7, 13)
    rng = np.random.default_rng(0)
    layout = feed_layout(p)
    packer = VectorPacker.from_layout(layout)
    second = "psum" if dataflow == "ws" else "b"
    second_bits = 13 if dataflow == "ws" else 7
    for _ in range(50):
        vectors = {
            "a": [int(x) for x in rng.integers(-16, 16, size=3)],
            second: [
                int(x)
                for x in rng.integers(-(1 << (second_bits - 1)), 1 << (second_bits - 1), size=5)
            ],
        }
        raw = packer.pack(vectors)
        assert raw == layout.const(vectors).as_value().value
        back = packer.unpack(raw)
        assert {name: list(v) for name, v in back.items()} == vectors
    assert packer.width == layout.size == 3 * 5 + 5 * second_bits


def test_plain_vectors():
    p = RtlParams("t", 2, 4, "ws", 8, 8, 32)
    packer = VectorPacker.from_layout(out_layout(p))
    values = [-(1 << 31), (1 << 31) - 1, -1, 0]
    raw = packer.pack(values)
    assert raw == out_layout(p).const(values).as_value().value
    assert list(packer.unpack(raw)) == values
    assert VectorPacker.from_layout(load_layout(p)).pack([1, 2, 3, -1]) == 0xFF030201


def test_refuses_wrong_vectors():
    packer = VectorPacker.from_layout(feed_layout(RtlParams("t", 2, 2, "os")))
    with pytest.raises(ValueError, match=r"needs vectors \['a', 'b'\]"):
        packer.pack({"a": [0, 0]})
    with pytest.raises(ValueError, match="vector 'b' needs 2 lanes, got 3"):
        packer.pack({"a": [0, 0], "b": [0, 0, 0]})
