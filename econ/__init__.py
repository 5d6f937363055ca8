"""econ: causal evaluation of place-based digital infrastructure programs.

Difference-in-differences (classic and staggered), panel fixed effects and spatial spillover models, with one
replication script per published claim. Start with ``econ.datasets.list()``.
"""

from econ import datasets, did, index, measures, montecarlo, plot, simulate, spatial
from econ.errors import EconError, EconWarning, PanelError, SpecificationError, TreatmentError, WeightsError
from econ.io import read_panel, validate_panel
from econ.panel import feols
from econ.results import Result
from econ.tables import etable



def _package_version() -> str:
    """The installed distribution's version (pyproject.toml's ``version``); ``"0+unknown"`` when econ is imported
    from a source tree that was never installed."""
    from importlib import metadata

    try:
        return metadata.version("econ")
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _package_version()

__all__ = [
    "datasets",
    "did",
    "montecarlo",
    "simulate",
    "spatial",
    "measures",
    "index",
    "plot",
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
