"""Great-circle geometry shared by the spatial weights and the Conley covariance (one haversine for the package).

Distances are on a sphere of radius ``EARTH_RADIUS_KM`` (the IUGG mean Earth radius). Nearest-neighbour searches
run in 3-D on the unit sphere, where the straight-line (chord) distance ``c = 2 sin(d / 2R)`` is a monotone
function of the great-circle distance ``d``, so a KD-tree on chords finds great-circle neighbours exactly.
"""

from __future__ import annotations

import numpy as np

__all__ = ["EARTH_RADIUS_KM", "haversine_km", "unit_sphere", "chord_of_km", "km_of_chord"]

EARTH_RADIUS_KM = 6371.0088  # mean Earth radius (IUGG)


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (broadcasts).

    Parameters
    ----------
    lat1, lon1, lat2, lon2 : float or array
        Latitudes and longitudes in degrees.

    Returns
    -------
    numpy.ndarray
        Distances in km on a sphere of radius ``EARTH_RADIUS_KM``.

    Notes
    -----
    ``d = 2 R arcsin(sqrt(sin^2(dphi / 2) + cos(phi1) cos(phi2) sin^2(dlambda / 2)))`` (haversine formula).

    Examples
    --------
    >>> round(float(haversine_km(0.0, 0.0, 0.0, 1.0)), 3)
    111.195
    """
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2, dtype=float) - np.asarray(lon1, dtype=float))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def unit_sphere(lat, lon) -> np.ndarray:
    """(n, 3) Cartesian coordinates on the unit sphere of points given in degrees."""
    phi, lmb = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    return np.column_stack([np.cos(phi) * np.cos(lmb), np.cos(phi) * np.sin(lmb), np.sin(phi)])


def chord_of_km(km) -> np.ndarray:
    """Unit-sphere chord length of a great-circle distance in km (capped at the antipode)."""
    theta = np.minimum(np.asarray(km, dtype=float) / EARTH_RADIUS_KM, np.pi)
    return 2 * np.sin(theta / 2)


def km_of_chord(chord) -> np.ndarray:
    """Great-circle distance in km of a unit-sphere chord length (inverse of :func:`chord_of_km`)."""
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord, dtype=float) / 2, 0.0, 1.0))
