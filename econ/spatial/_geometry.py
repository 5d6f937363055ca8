"""Inputs of the :class:`~econ.spatial.Weights` constructors: unit ids, coordinates, nearest-neighbour and
distance-band pairs (KD-tree), polygon outlines and their queen/rook contiguity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from econ._validate import check_int, show_values as _show
from econ.errors import EconError, WeightsError

def _sort_key(u):
    return (str(type(u).__name__), u) if not isinstance(u, (int, float, np.number)) else ("0", u)


def _id_tuple(ids) -> tuple:
    if ids is None or isinstance(ids, (str, bytes)) or not np.iterable(ids):
        raise WeightsError(f"ids must be a sequence of unit ids, got {ids!r}")
    return tuple(ids.tolist() if isinstance(ids, (np.ndarray, pd.Index, pd.Series)) else ids)


def _coordinates(values, name: str, ids: tuple) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise WeightsError(f"{name} must be numeric coordinates") from None
    if len(arr) != len(ids):
        raise WeightsError(f"{name} has {len(arr)} values but there are {len(ids)} ids")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise WeightsError(f"{int(bad.sum())} unit(s) without finite coordinates ({name}), first: "
                           f"{_show(np.asarray(ids, dtype=object)[bad])}")
    return arr


def _distance_args(k, cutoff, power, n, cutoff_name):
    if (cutoff is None) == (k is None):
        raise WeightsError(f"give exactly one of {cutoff_name} or k")
    if k is not None:
        try:
            k = check_int(k, "k", minimum=1)
        except EconError as err:
            raise WeightsError(str(err)) from None
        if k >= n:
            raise WeightsError(f"k={k} nearest neighbours need at least k + 1 = {k + 1} units; there are {n}")
    if cutoff is not None:
        if isinstance(cutoff, bool) or not isinstance(cutoff, (int, float, np.number)) or not np.isfinite(cutoff) \
                or cutoff <= 0:
            raise WeightsError(f"{cutoff_name} must be a positive number, got {cutoff!r}")
        cutoff = float(cutoff)
    if isinstance(power, bool) or not isinstance(power, (int, float, np.number)) or not np.isfinite(power) \
            or power < 0:
        raise WeightsError(f"power must be a non-negative number, got {power!r}")
    return k, cutoff, float(power)


def _neighbour_pairs(points: np.ndarray, k: int | None, radius: float | None):
    """Directed neighbour pairs (i, j), i != j: the k nearest of each point, or all pairs within ``radius``."""
    from scipy.spatial import cKDTree

    tree = cKDTree(points)
    n = len(points)
    if k is not None:
        _, nb = tree.query(points, k=k + 1)
        nb = nb.reshape(n, k + 1)
        self_hit = nb == np.arange(n)[:, None]
        no_self = ~self_hit.any(axis=1)  # duplicates crowded the point itself out: drop the farthest instead
        self_hit[no_self, -1] = True
        i = np.repeat(np.arange(n), k)
        return i, nb[~self_hit]
    pairs = tree.query_pairs(r=radius, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    return np.concatenate([i, j]).astype(np.int64), np.concatenate([j, i]).astype(np.int64)


def integral_float_ids(ids: tuple) -> tuple:
    """Ids that are all integral floats (``1.0``: GeoJSON writers often store integer codes so) as ints, so they
    match a panel's integer ids; any other ids unchanged."""
    if ids and all(isinstance(u, (float, np.floating)) and np.isfinite(u) and float(u).is_integer() for u in ids):
        return tuple(int(u) for u in ids)
    return ids


def _outline_collection(outlines, id_property):
    if isinstance(outlines, str):
        from econ import datasets

        gj = datasets.load_geojson(outlines)
        key = outlines[: -len(".geojson")] if outlines.endswith(".geojson") else outlines
        return gj, id_property or datasets.OUTLINES[key].code_property
    if not isinstance(outlines, dict) or outlines.get("type") != "FeatureCollection":
        raise WeightsError("outlines must be a bundled outline name or a GeoJSON FeatureCollection (dict)")
    if id_property is None:
        raise WeightsError("id_property (the feature property holding the unit id) is required for a GeoJSON dict")
    if not any(id_property in (f.get("properties") or {}) for f in outlines.get("features", [])):
        raise WeightsError(f"no feature has the property {id_property!r}")
    return outlines, id_property


def _polygon_rings(geometry, f):
    kind = (geometry or {}).get("type")
    if kind == "Polygon":
        return list(geometry["coordinates"])
    if kind == "MultiPolygon":
        return [ring for poly in geometry["coordinates"] for ring in poly]
    raise WeightsError(f"feature {f} has geometry {kind!r}; contiguity needs Polygon or MultiPolygon features")


def contiguity_matrix(outlines, kind: str, id_property, ids):
    """``(ids, binary CSR matrix)`` of queen or rook contiguity (see :meth:`econ.spatial.Weights.from_contiguity`)."""
    gj, id_property = _outline_collection(outlines, id_property)
    feature_ids, rings = [], []
    for f, feature in enumerate(gj["features"]):
        uid = (feature.get("properties") or {}).get(id_property)
        if uid is None:
            continue
        for ring in _polygon_rings(feature.get("geometry"), f):
            feature_ids.append(uid)
            rings.append(np.asarray(ring, dtype=float)[:, :2])
    if ids is None:
        ids = integral_float_ids(tuple(sorted(set(feature_ids), key=_sort_key)))
    else:
        ids = _id_tuple(ids)
        missing = sorted(set(ids) - set(feature_ids), key=str)
        if missing:
            raise WeightsError(f"{len(missing)} id(s) have no feature in the outlines "
                               f"(property {id_property!r}): {_show(missing)}")
    pos = {u: i for i, u in enumerate(ids)}
    chosen = [r for r, u in enumerate(feature_ids) if u in pos]
    owner = np.concatenate([np.full(len(rings[r]), pos[feature_ids[r]]) for r in chosen])
    pts = np.concatenate([rings[r] for r in chosen])
    _, vertex = np.unique(pts, axis=0, return_inverse=True)
    vertex = vertex.ravel()
    if kind == "queen":
        keys = pd.DataFrame({"key": vertex, "unit": owner})
    else:
        starts = np.cumsum([0] + [len(rings[r]) for r in chosen])[:-1]
        last = np.zeros(len(pts), dtype=bool)
        last[np.concatenate([starts[1:] - 1, [len(pts) - 1]])] = True  # ring ends: no edge to the next ring
        a, b = vertex[:-1][~last[:-1]], vertex[1:][~last[:-1]]
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        keep = lo != hi
        keys = pd.DataFrame({"key": lo[keep] * (vertex.max() + 1) + hi[keep], "unit": owner[:-1][~last[:-1]][keep]})
    keys = keys.drop_duplicates()
    pairs = keys.merge(keys, on="key")
    pairs = pairs[pairs["unit_x"] != pairs["unit_y"]].drop_duplicates(["unit_x", "unit_y"])
    m = sparse.csr_matrix((np.ones(len(pairs)), (pairs["unit_x"].to_numpy(), pairs["unit_y"].to_numpy())),
                          shape=(len(ids), len(ids)))
    return ids, m


def _as_csr(matrix) -> sparse.csr_matrix:
    """A float CSR copy of a sparse matrix, dense array or nested list (explicit zeros removed)."""
    if sparse.issparse(matrix):
        m = sparse.csr_matrix(matrix).astype(float, copy=True)
    else:
        if isinstance(matrix, pd.DataFrame):
            raise WeightsError("a labelled DataFrame needs Weights.from_matrix(df), which aligns its columns to its "
                               "index")
        try:
            arr = np.asarray(matrix, dtype=float)
        except (TypeError, ValueError):
            raise WeightsError(f"the weights matrix must be numeric (a scipy sparse matrix or a 2-D array), got "
                               f"{type(matrix).__name__}") from None
        if arr.ndim != 2:
            raise WeightsError(f"the weights matrix must be 2-D, got an array of shape {arr.shape}")
        m = sparse.csr_matrix(arr)
    m.sum_duplicates()
    m.eliminate_zeros()
    return m


def _values_for(x, ids: tuple, name: str) -> np.ndarray:
    if isinstance(x, pd.Series):
        if set(x.index) != set(ids) or len(x) != len(ids):
            raise WeightsError(f"{name}: a Series must be indexed by exactly the ids")
        x = x.loc[list(ids)]
    return _coordinates(x, name, ids)
