"""The accelerator model: config and layer columns, the dataflow mapping, closed-form
timing, memory traffic and stalls, energy (action counts x a cost table), area and the
roofline, chained by :func:`simulator.model.evaluate.evaluate` over configs x layers."""

from simulator.model.energy import ActionCounts, EnergyTable, load_energy_table
from simulator.model.evaluate import Evaluation, evaluate
from simulator.model.mapping import DATAFLOW_MAPS, Operand
from simulator.model.timing import DenseTiming, dense_timing

__all__ = [
    "DATAFLOW_MAPS",
    "ActionCounts",
    "DenseTiming",
    "EnergyTable",
    "Evaluation",
    "Operand",
    "dense_timing",
    "evaluate",
    "load_energy_table",
]
