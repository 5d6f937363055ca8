"""Spatial tools: weights with their unit order, spatial autocorrelation (Moran's I, Geary's C, join counts, local
Moran / LISA)."""

from econ.spatial.autocorr import JoinCountResult, MoranResult, join_counts, moran
from econ.spatial.autocorr import (  # noqa: E402  (completed autocorrelation, issue 9)
    CLUSTER_LABELS,
    GearyResult,
    LocalMoranResult,
    PeriodResults,
    by_period,
    geary,
    local_moran,
)
from econ.spatial.weights import Weights, haversine_km

__all__ = ["Weights", "haversine_km", "moran", "join_counts", "MoranResult", "JoinCountResult"]
__all__ += ["geary", "local_moran", "by_period", "GearyResult", "LocalMoranResult", "PeriodResults", "CLUSTER_LABELS"]
