"""What a simulation returns: per-layer and total results for one config
(:func:`simulate`, :class:`SimResult`, JSON and CSV) or per-config arrays for many
(:func:`evaluate_configs`, :class:`BatchResult`)."""

from simulator.results.batch import BatchResult, evaluate_configs
from simulator.results.result import Cycles, LayerResult, SimResult
from simulator.results.simulate import simulate

__all__ = ["BatchResult", "Cycles", "LayerResult", "SimResult", "evaluate_configs", "simulate"]
