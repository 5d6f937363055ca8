"""Bridges from a user's geography to :class:`~econ.spatial.Weights` and the maps: GeoDataFrames (geopandas, the
optional extra ``econ-placebased[geo]``), GeoJSON / shapefiles read by geopandas, and libpysal ``W`` objects.

Ids keep the dtype of the column they come from (``tolist()`` of an integer column gives Python ints, so they
match a panel's integer ids); contiguity is the exact shared-vertex rule of :func:`econ.spatial._geometry.
contiguity_matrix` (libpysal's ``Queen``/``Rook`` convention).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ.errors import WeightsError

_KINDS = ("queen", "rook", "knn", "distance")
_LIBPYSAL_TRANSFORM = {"R": "r", "B": "b", "D": "d", "V": "v"}


def require_geopandas():
    """Import geopandas or raise a WeightsError naming the optional extra."""
    try:
        import geopandas
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise WeightsError("this needs geopandas: pip install 'econ-placebased[geo]'") from None
    return geopandas


def is_geodataframe(obj) -> bool:
    """True for a geopandas GeoDataFrame (without importing geopandas when it is absent)."""
    return any(c.__name__ == "GeoDataFrame" and c.__module__.startswith("geopandas") for c in type(obj).__mro__)


def gdf_ids(gdf, id_column) -> tuple:
    """The unit ids of ``gdf`` (a column, or the index when ``id_column`` is None), checked complete and unique."""
    if id_column is None:
        col = pd.Series(gdf.index, index=gdf.index)
        name = "the index"
    else:
        if id_column not in gdf.columns:
            raise WeightsError(f"id column {id_column!r} is not in the GeoDataFrame; columns: {list(gdf.columns)}")
        col, name = gdf[id_column], repr(id_column)
    if col.isna().any():
        raise WeightsError(f"{int(col.isna().sum())} geometry id(s) in {name} are missing (rows "
                           f"{list(np.flatnonzero(col.isna().to_numpy())[:5])})")
    dup = col[col.duplicated()]
    if len(dup):
        raise WeightsError(f"duplicate geometry ids in {name}: {pd.unique(dup).tolist()[:5]}; one row per unit is "
                           "needed (merge a unit's parts first, e.g. gdf.dissolve(by=...))")
    return tuple(col.tolist())


def feature_collection(gdf, ids: tuple) -> dict:
    """A GeoJSON FeatureCollection dict of ``gdf``'s geometries with the id in property ``"_econ_id"``."""
    from shapely.geometry import mapping

    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        bad = [u for u, e in zip(ids, empty) if e]
        raise WeightsError(f"{len(bad)} unit(s) have no geometry: {bad[:5]}")
    feats = [{"type": "Feature", "properties": {"_econ_id": u}, "geometry": mapping(g)}
             for u, g in zip(ids, gdf.geometry)]
    return {"type": "FeatureCollection", "features": feats}


def lonlat_points(gdf, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude (degrees) of each geometry's representative point; needs a CRS."""
    if gdf.crs is None:
        raise WeightsError(f"the GeoDataFrame has no CRS, which {what} needs to measure distances; set it with "
                           "gdf.set_crs(...) (e.g. 'EPSG:4326' for longitude/latitude)")
    pts = gdf.geometry.representative_point()
    if not gdf.crs.is_geographic or gdf.crs.to_epsg() != 4326:
        pts = pts.to_crs("EPSG:4326")
    return pts.y.to_numpy(dtype=float), pts.x.to_numpy(dtype=float)


def from_geodataframe(cls, gdf, id_column=None, *, kind="queen", k=None, cutoff_km=None, power=0.0,
                      islands="warn"):
    """Implementation of :meth:`econ.spatial.Weights.from_geodataframe`."""
    from econ._validate import check_choice
    from econ.spatial._geometry import contiguity_matrix

    require_geopandas()
    if not is_geodataframe(gdf):
        raise WeightsError(f"expected a geopandas GeoDataFrame, got {type(gdf).__name__}")
    check_choice(kind, "kind", _KINDS)
    ids = gdf_ids(gdf, id_column)
    if kind in ("queen", "rook"):
        ids, m = contiguity_matrix(feature_collection(gdf, ids), kind, "_econ_id", ids)
        return cls(ids, m, "b")._apply_islands(islands)
    lat, lon = lonlat_points(gdf, f"kind={kind!r}")
    if kind == "knn":
        return cls.from_distance(lat, lon, ids, k=k, power=power, islands=islands)
    return cls.from_distance(lat, lon, ids, cutoff_km=cutoff_km, power=power, islands=islands)


def read_geo(path, **kwargs):
    """``geopandas.read_file(path)`` with a WeightsError for a missing file."""
    from pathlib import Path

    gpd = require_geopandas()
    if not Path(path).exists():
        raise WeightsError(f"no such file: {path}")
    return gpd.read_file(path, **kwargs)


def to_libpysal(w):
    """A libpysal ``W`` with the same ids (``id_order``), neighbours and weights."""
    try:
        from libpysal.weights import WSP
    except ImportError:  # pragma: no cover
        raise WeightsError("to_libpysal needs libpysal: pip install libpysal") from None
    out = WSP(w.matrix.copy(), id_order=list(w.ids)).to_W(silence_warnings=True)
    if w.transform in ("b", "r", "d", "v"):
        out._transform = w.transform.upper()
    return out


def from_libpysal(cls, W, islands="keep"):
    """Implementation of :meth:`econ.spatial.Weights.from_libpysal`."""
    if not (hasattr(W, "sparse") and hasattr(W, "id_order")):
        raise WeightsError(f"expected a libpysal W, got {type(W).__name__}")
    m = W.sparse.tocsr().astype(float)
    code = _LIBPYSAL_TRANSFORM.get(str(getattr(W, "transform", "O")).upper())
    if code is None:
        code = "b" if m.nnz == 0 or np.all(m.data == 1.0) else "custom"
    return cls(tuple(W.id_order), m, code)._apply_islands(islands)
