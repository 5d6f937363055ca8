"""Spatial tools: weights with their unit order, spatial autocorrelation (Moran's I, join counts)."""

from econ.spatial.autocorr import JoinCountResult, MoranResult, join_counts, moran
from econ.spatial.weights import Weights, haversine_km

__all__ = ["Weights", "haversine_km", "moran", "join_counts", "MoranResult", "JoinCountResult"]
