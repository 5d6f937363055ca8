"""Spatial tools: weights with their unit order, and (later) spatial autocorrelation and spillover models."""

from econ.spatial.weights import Weights, haversine_km

__all__ = ["Weights", "haversine_km"]
