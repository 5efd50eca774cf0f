"""Design-space sweeps: specs, sampling, constraints, resumable execution, Pareto fronts."""

from simulator.sweep.constraints import Constraint, ConstraintError, parse_constraint
from simulator.sweep.pareto import pareto_mask
from simulator.sweep.sampling import sample_points
from simulator.sweep.spec import Axis, SpecError, SweepSpec, load_spec, spec_from_dict
from simulator.sweep.store import StoreError, SweepStore

__all__ = [
    "Axis",
    "Constraint",
    "ConstraintError",
    "SpecError",
    "StoreError",
    "SweepSpec",
    "SweepStore",
    "load_spec",
    "pareto_mask",
    "parse_constraint",
    "sample_points",
    "spec_from_dict",
]
