"""Configs for property tests that draw buffer sizes independently of the array."""

from __future__ import annotations

from typing import Any

from simulator.config import AcceleratorConfig, min_buffer_bytes

__all__ = ["roomy_config"]


def roomy_config(**fields: Any) -> AcceleratorConfig:
    """``AcceleratorConfig(**fields)`` with every buffer given in ``fields`` raised to one
    word per PE, the least a config allows (:func:`simulator.config.min_buffer_bytes`)."""
    bits = (fields.get("activation_bits", 8), fields.get("weight_bits", 8))
    for name, least in min_buffer_bytes(fields["rows"], fields["cols"], *bits).items():
        if name in fields:
            fields[name] = max(fields[name], least)
    return AcceleratorConfig(**fields)
