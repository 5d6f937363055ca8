"""Spatial tools: weights with their unit order, spatial autocorrelation (Moran's I, join counts)."""

from econ.spatial.autocorr import JoinCountResult, MoranResult, join_counts, moran
from econ.spatial.weights import Weights, haversine_km

__all__ = ["Weights", "haversine_km", "moran", "join_counts", "MoranResult", "JoinCountResult"]
from econ.spatial.impacts import ImpactsResult  # noqa: E402
from econ.spatial.logdet import LogDet  # noqa: E402
from econ.spatial.models import SpatialResult, SpatialWarning, fit  # noqa: E402

__all__ += ["fit", "SpatialResult", "SpatialWarning", "ImpactsResult", "LogDet"]
from econ.spatial.diagnostics import SpecTests, lm_tests, sdm_tests  # noqa: E402

__all__ += ["lm_tests", "sdm_tests", "SpecTests"]
