"""econ: causal evaluation of place-based digital infrastructure programs.

Difference-in-differences (classic and staggered), panel fixed effects and spatial spillover models, with one
replication script per published claim. Start with ``econ.datasets.list()``.
"""

from econ import datasets, simulate
from econ.errors import EconError, PanelError, SpecificationError, TreatmentError, WeightsError
from econ.io import read_panel, validate_panel

__version__ = "0.1.0"

__all__ = [
    "datasets",
    "simulate",
    "read_panel",
    "validate_panel",
    "EconError",
    "PanelError",
    "SpecificationError",
    "TreatmentError",
    "WeightsError",
]
