"""Spatial tools: weights with their unit order, spatial autocorrelation (Moran's I, Geary's C, join counts, local
Moran / LISA) and spatial regression models (SAR, SEM, SDM, SAC, SLX, SDEM) with direct/indirect effects.

``CLUSTER_LABELS`` maps the LISA quadrant codes of :func:`local_moran` to their names: ``{1: "HH", 2: "LH",
3: "LL", 4: "HL"}`` (high value among high neighbours, ...), as in PySAL's ``esda.Moran_Local.q``.
"""

from econ.spatial.autocorr import (
    CLUSTER_LABELS,
    GearyResult,
    JoinCountResult,
    LocalMoranResult,
    MoranResult,
    PeriodResults,
    by_period,
    geary,
    join_counts,
    local_moran,
    moran,
)
from econ.spatial.diagnostics import SpecTests, lm_tests, sdm_tests
from econ.spatial.impacts import ImpactsResult
from econ.spatial.logdet import LogDet
from econ.spatial.models import SpatialResult, SpatialWarning, fit
from econ.spatial.weights import Weights, haversine_km

__all__ = [
    "Weights", "haversine_km",
    "moran", "geary", "join_counts", "local_moran", "by_period",
    "MoranResult", "GearyResult", "JoinCountResult", "LocalMoranResult", "PeriodResults", "CLUSTER_LABELS",
    "fit", "SpatialResult", "SpatialWarning", "ImpactsResult", "LogDet", "lm_tests", "sdm_tests", "SpecTests",
]
