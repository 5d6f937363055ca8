"""econ: causal evaluation of place-based digital infrastructure programs.

Difference-in-differences (classic and staggered), panel fixed effects and spatial spillover models, with one
replication script per published claim. Start with ``econ.datasets.list()``.
"""

from econ import datasets, did, index, measures, montecarlo, plot, simulate, spatial, survey
from econ.errors import EconError, EconWarning, PanelError, SpecificationError, TreatmentError, WeightsError
from econ.io import read_panel, validate_panel
from econ.panel import feols
from econ.results import Result
from econ.tables import etable

__version__ = "0.1.0"  # the one place the version lives; pyproject.toml reads it (CHANGELOG.md, CITATION.cff)

__all__ = [
    "datasets",
    "did",
    "montecarlo",
    "simulate",
    "spatial",
    "measures",
    "index",
    "plot",
    "survey",
    "feols",
    "etable",
    "Result",
    "read_panel",
    "validate_panel",
    "EconError",
    "EconWarning",
    "PanelError",
    "SpecificationError",
    "TreatmentError",
    "WeightsError",
]
