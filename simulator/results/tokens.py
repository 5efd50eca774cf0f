"""What a transformer workload means in tokens: tokens/s, time to first token, and where
the DRAM bytes go (weights, the KV cache, activations)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.results.result import LayerResult

__all__ = ["TokenFigures"]


@dataclass(frozen=True)
class TokenFigures:
    """What a transformer workload means in tokens, derived from its layers.

    A workload is a token workload when it has attention matmuls (layers of kind
    ``matmul``, the two products of two activations). Their ``m`` is the number of new
    tokens per sample, so a pass processes ``tokens_per_pass = m x batch`` tokens; it is a
    *decode step* when ``m == 1`` (one new token per sample against a KV cache) and a
    *prompt pass* (prefill, or an encoder) otherwise.

    ``tokens_per_s``: ``tokens_per_pass / latency`` (decode: ``batch / latency``).
    ``time_to_first_token_s``: a prompt pass's latency, which for a decoder's prefill is
    the time to its first token (the LM head on the last position ends it; no queueing,
    no embedding lookup); None in decode. ``time_per_output_token_s``: a decode step's
    latency; None for a prompt pass.
    DRAM bytes are split three ways: ``weight_dram_bytes`` (the weight operand of every
    layer that has weights), ``kv_dram_bytes`` (the second operand of the attention
    matmuls: ``K^T`` in the scores, ``V`` in the context product, i.e. the KV cache in a
    decode step) and ``activation_dram_bytes`` (inputs, outputs and partial sums).
    """

    phase: str
    """``decode`` or ``prefill``."""
    tokens_per_pass: int
    tokens_per_s: float
    time_to_first_token_s: float | None
    time_per_output_token_s: float | None
    weight_dram_bytes: float
    kv_dram_bytes: float
    activation_dram_bytes: float

    @classmethod
    def of(
        cls, layers: tuple[LayerResult, ...], batch: int, latency_s: float
    ) -> TokenFigures | None:
        """The figures of ``layers`` run at ``batch`` in ``latency_s``; None without attention."""
        attention = [layer for layer in layers if layer.kind == "matmul"]
        if not attention:
            return None
        tokens = max(layer.m for layer in attention) * batch
        decode = tokens == batch
        weight = sum(layer.memory.weight.dram_bytes for layer in layers if layer.kind != "matmul")
        kv = sum(layer.memory.weight.dram_bytes for layer in attention)
        total = sum(layer.memory.dram_bytes for layer in layers)
        return cls(
            phase="decode" if decode else "prefill",
            tokens_per_pass=tokens,
            tokens_per_s=tokens / latency_s,
            time_to_first_token_s=None if decode else latency_s,
            time_per_output_token_s=latency_s if decode else None,
            weight_dram_bytes=weight,
            kv_dram_bytes=kv,
            activation_dram_bytes=total - weight - kv,
        )
