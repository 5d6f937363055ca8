"""Maps on the bundled China outlines or any user outlines, matplotlib only: choropleths and LISA cluster maps.

The outlines are the simplified GeoJSON files shipped with the package (``econ.datasets.load_geojson``): 370
prefecture-level features (the 337 reference units carry ``prefecture_code``) and 34 province features (the 31
mainland provinces carry ``province_code``); every feature also carries its boundary-source ``adcode``. Features are
drawn with their outer rings (holes are not cut out) in longitude/latitude with the aspect ``1 / cos(mean
latitude)``. Every function returns ``(fig, ax)`` and saves the figure when ``path=`` is given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ._docs import doc
from econ.errors import SpecificationError
from econ.results import figure, finish_figure

__all__ = ["choropleth", "lisa_map"]

_LEVELS = {"prefecture": ("china_prefecture_outlines", "prefecture_code"),
           "province": ("china_province_outlines", "province_code")}
_PALETTE = ["#08519c", "#4292c6", "#9ecae1", "#fdae6b", "#e6550d", "#31a354", "#a1d99b", "#756bb1", "#bcbddc",
            "#636363"]


@doc()
def choropleth(values, level: str = "prefecture", *, key: str | None = None, colors: dict | None = None,
               labels: dict | None = None, cmap: str = "Blues", vmin: float | None = None, vmax: float | None = None,
               missing_color: str = "#f0f0f0", other_color: str = "#d9d9d9", edgecolor: str = "#737373",
               linewidth: float = 0.15, legend: bool = True, legend_loc: str = "lower left", title: str | None = None,
               colorbar_label: str | None = None, extent=None, ax=None, path=None, figsize=(7.5, 6.0)):
    """Colour the bundled prefecture or province outlines by ``values``.

    Parameters
    ----------
    values : Series or dict
        Value of each unit, indexed by the feature property ``key``. Numeric values get a continuous colour map
        with a colour bar; anything else (strings, booleans, categoricals) is drawn as categories with a legend.
    level : {"prefecture", "province"}, GeoDataFrame, dict or path
        Which outlines to draw: a bundled level, or outlines of any region -- a geopandas GeoDataFrame (projected
        data are converted to longitude/latitude), a GeoJSON FeatureCollection dict, or a ``.geojson``/``.shp``/
        ``.gpkg`` file (read with geopandas, optional extra ``econ-placebased[geo]``).
    key : str, optional
        Feature property (GeoDataFrame column) the index refers to; default ``prefecture_code`` /
        ``province_code`` for the bundled outlines (``"adcode"`` reaches features outside the reference units,
        e.g. county-level cities), the GeoDataFrame's index, and required for a GeoJSON dict or file.
    colors : dict, optional
        Category -> colour (categorical values; its order is the legend order). Default: a fixed palette in sorted
        category order.
    labels : dict, optional
        Category -> legend label (default the category itself).
    cmap, vmin, vmax : continuous colour map and its limits (default the data range).
    missing_color : colour of reference units with no value (or NaN); ``other_color``: features outside the
        reference units (no ``key`` property), e.g. Taiwan, Hong Kong, Macao.
    edgecolor, linewidth : outline style.
    legend, legend_loc, title, colorbar_label : decorations.
    extent : (lon_min, lon_max, lat_min, lat_max), optional
        Map window (default: all outlines, including the South China Sea islands).
    ax : matplotlib Axes, optional
        Draw into it (default: a new figure of ``figsize``).
    {path}

    {plot_returns}

    Raises
    ------
    SpecificationError
        Unknown ``level``/``key``, values whose index matches no feature, a category without a colour.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from econ import datasets
    >>> prov = datasets.load("china_provinces")
    >>> fig, ax = choropleth(prov.set_index("province_code")["region"], level="province")
    >>> len(ax.collections)
    1
    """
    features, key, level = _outlines(level, key)
    if not any(key in (f.get("properties") or {}) for f in features):
        raise SpecificationError(f"key {key!r} is not a property of the {level} outlines; properties: "
                                 f"{sorted(features[0]['properties'])}")
    series = _as_series(values)
    fkeys = [(f.get("properties") or {}).get(key) for f in features]
    known = {k for k in fkeys if k is not None}
    unmatched = [i for i in series.index if i not in known]
    if len(unmatched) == len(series):
        raise SpecificationError(f"no value's index matches the {level} outlines' {key!r} (first index values: "
                                 f"{list(series.index[:3])}); codes are 6-character strings such as '110000'")
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    fig, ax = figure(ax, figsize)
    if numeric:
        import matplotlib as mpl

        finite = series[np.isfinite(series.to_numpy(dtype=float))]
        norm = mpl.colors.Normalize(vmin=finite.min() if vmin is None else vmin,
                                    vmax=finite.max() if vmax is None else vmax)
        cm = mpl.colormaps[cmap]
        colour_of = lambda v: mpl.colors.to_hex(cm(norm(v)))  # noqa: E731
    else:
        cats = list(colors) if colors else sorted(pd.unique(series.dropna()), key=str)
        colors = dict(colors) if colors else {c: _PALETTE[i % len(_PALETTE)] for i, c in enumerate(cats)}
        missing = [c for c in pd.unique(series.dropna()) if c not in colors]
        if missing:
            raise SpecificationError(f"no colour for categories {missing[:5]}; add them to colors=")
        colour_of = colors.__getitem__
    polys, facecolors = [], []
    for f, k in zip(features, fkeys):
        if k is None:
            colour = other_color
        elif k in series.index and pd.notna(series[k]) and (not numeric or np.isfinite(float(series[k]))):
            colour = colour_of(series[k])
        else:
            colour = missing_color
        for ring in _outer_rings(f["geometry"]):
            polys.append(ring)
            facecolors.append(colour)
    _draw(ax, polys, facecolors, edgecolor, linewidth, extent)
    if legend and numeric:
        import matplotlib as mpl

        bar = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cm), ax=ax, shrink=0.6)
        if colorbar_label:
            bar.set_label(colorbar_label)
    elif legend:
        from matplotlib.patches import Patch

        labels = labels or {}
        present = set(pd.unique(series.dropna()))
        handles = [Patch(fc=colors[c], ec=edgecolor, label=str(labels.get(c, c))) for c in colors if c in present
                   or c in labels]
        ax.legend(handles=handles, loc=legend_loc, fontsize=7, frameon=False)
    if title:
        ax.set_title(title, fontsize=9)
    return finish_figure(fig, ax, path)


@doc()
def lisa_map(result, level="prefecture", *, key: str | None = None, alpha: float | None = None,
             title: str | None = None, extent=None, ax=None, path=None, figsize=(7.5, 6.0)):
    """LISA cluster map of a :func:`econ.spatial.local_moran` result on the bundled or any given outlines.

    Units significant at ``p_sim < alpha`` (default the result's ``alpha``) are coloured by cluster (HH red, LL
    blue, HL orange, LH light blue); ``ns`` grey; units without neighbours white. The legend gives the counts.

    Parameters
    ----------
    result : LocalMoranResult
        Its ids must be prefecture (or province) codes.
    level : {"prefecture", "province"}, GeoDataFrame, dict or path
        Outlines, as in :func:`choropleth`.
    key : str, optional
        Property or column holding the ids, as in :func:`choropleth`.
    alpha : float, optional
    title, ax, path, figsize : as in :func:`choropleth`.

    {plot_returns}

    Raises
    ------
    SpecificationError
        ``result`` not a :func:`econ.spatial.local_moran` result, ``alpha`` outside (0, 1), an unknown
        ``level``, or ids that match none of the outlines' codes.
    EconError
        The bundled outline file is missing or does not match its recorded checksum.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from econ import datasets
    >>> from econ.spatial import local_moran
    >>> prov = datasets.load("china_provinces").set_index("province_code")
    >>> W = datasets.load_weights("china_province_contiguity")
    >>> fig, ax = lisa_map(local_moran(prov["centroid_lat"], W, n_draws=99), level="province")
    >>> ax.get_title()
    'LISA clusters (p_sim < 0.05, 99 permutations)'
    """
    from econ.spatial.autocorr import LISA_COLOURS, LocalMoranResult

    if not isinstance(result, LocalMoranResult):
        raise SpecificationError(f"lisa_map needs the result of econ.spatial.local_moran, got {type(result).__name__}")
    clusters = result.clusters(alpha)
    counts = clusters.value_counts()
    order = ["HH", "LL", "HL", "LH", "ns", "island"]
    names = {"HH": "high-high", "LL": "low-low", "HL": "high-low", "LH": "low-high", "ns": "not significant",
             "island": "no neighbours"}
    labels = {c: f"{names[c]} ({int(counts.get(c, 0))})" for c in order}
    a = result.alpha if alpha is None else alpha
    return choropleth(clusters, level, key=key, colors={c: LISA_COLOURS[c] for c in order}, labels=labels,
                      title=title or f"LISA clusters (p_sim < {a:g}, {result.n_draws} permutations)", extent=extent, ax=ax,
                      path=path, figsize=figsize)


def _outlines(level, key):
    """``(features, key, label)`` of the outlines to draw: a bundled level name, a GeoDataFrame (ids in column
    ``key``, or its index when ``key`` is None), a GeoJSON FeatureCollection dict or a file geopandas reads."""
    from pathlib import Path

    from econ.spatial import _geo_io

    if isinstance(level, str) and level in _LEVELS:
        from econ import datasets

        outline, default_key = _LEVELS[level]
        return datasets.load_geojson(outline)["features"], default_key if key is None else key, level
    if isinstance(level, (str, Path)) and Path(level).suffix.lower() in (".geojson", ".json", ".shp", ".gpkg"):
        if not Path(level).exists():
            raise SpecificationError(f"no such outline file: {level}")
        if key is None:
            raise SpecificationError("key= (the attribute holding the unit ids) is required for an outline file")
        level = _geo_io.read_geo(level)
    if _geo_io.is_geodataframe(level):
        gdf = level
        if gdf.crs is not None and not gdf.crs.is_geographic:
            gdf = gdf.to_crs("EPSG:4326")  # drawn in longitude/latitude
        ids = _geo_io.gdf_ids(gdf, key)
        fc = _geo_io.feature_collection(gdf, ids)
        name = "_econ_id" if key is None else key
        for f in fc["features"]:
            f["properties"] = {name: f["properties"]["_econ_id"]}
        return fc["features"], name, "given"
    if isinstance(level, dict) and level.get("type") == "FeatureCollection":
        if key is None:
            raise SpecificationError("key= (the feature property holding the unit ids) is required for a GeoJSON "
                                     "FeatureCollection")
        return level["features"], key, "given"
    raise SpecificationError(f"level must be one of {list(_LEVELS)}, a GeoDataFrame, a GeoJSON FeatureCollection "
                             f"dict or an outline file path, got {level!r}")


def _as_series(values) -> pd.Series:
    if isinstance(values, pd.Series):
        s = values
    elif isinstance(values, dict):
        s = pd.Series(values)
    else:
        raise SpecificationError(f"values must be a pandas Series or dict indexed by unit code, got "
                                 f"{type(values).__name__}")
    if s.index.duplicated().any():
        raise SpecificationError(f"values has duplicate index entries: {list(s.index[s.index.duplicated()][:5])}")
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        s = s.astype(float)
    return s


def _outer_rings(geometry) -> list[np.ndarray]:
    kind = (geometry or {}).get("type")
    if kind == "Polygon":
        return [np.asarray(geometry["coordinates"][0], dtype=float)[:, :2]]
    if kind == "MultiPolygon":
        return [np.asarray(p[0], dtype=float)[:, :2] for p in geometry["coordinates"]]
    return []


def _draw(ax, polys, facecolors, edgecolor, linewidth, extent=None) -> None:
    from matplotlib.collections import PolyCollection

    ax.add_collection(PolyCollection(polys, facecolors=facecolors, edgecolors=edgecolor, linewidths=linewidth))
    if extent is not None:
        if len(extent) != 4:
            raise SpecificationError(f"extent must be (lon_min, lon_max, lat_min, lat_max), got {extent!r}")
        lo, hi = np.array([extent[0], extent[2]], float), np.array([extent[1], extent[3]], float)
        pad = np.zeros(2)
    else:
        pts = np.concatenate(polys)
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        pad = 0.01 * (hi - lo)
    ax.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
    ax.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
    ax.set_aspect(1.0 / np.cos(np.radians((lo[1] + hi[1]) / 2)))
    ax.set_axis_off()

