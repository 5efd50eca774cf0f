"""Design-space sweeps: specs, sampling, constraints, recipes as an axis, resumable execution,
Pareto fronts."""

from simulator.sweep.constraints import Constraint, ConstraintError, parse_constraint
from simulator.sweep.engine import SweepOutcome, run_sweep
from simulator.sweep.pareto import pareto_mask
from simulator.sweep.plots import load_results, plot_sweep
from simulator.sweep.recipes import PreparedRecipe, RecipeAxis, prepare_recipes
from simulator.sweep.sampling import sample_points
from simulator.sweep.spec import Axis, SpecError, SweepSpec, load_spec, spec_from_dict
from simulator.sweep.store import StoreError, SweepStore

__all__ = [
    "Axis",
    "Constraint",
    "ConstraintError",
    "PreparedRecipe",
    "RecipeAxis",
    "SpecError",
    "StoreError",
    "SweepOutcome",
    "SweepSpec",
    "SweepStore",
    "load_results",
    "load_spec",
    "pareto_mask",
    "parse_constraint",
    "plot_sweep",
    "prepare_recipes",
    "run_sweep",
    "sample_points",
    "spec_from_dict",
]
