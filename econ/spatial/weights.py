"""Spatial weights: a sparse matrix that always travels with its unit order.

A bare matrix silently mis-assigns neighbours when the data are sorted differently; a ``Weights`` object knows
which unit each row is, and ``align`` (or ``check_units``) refuses data whose units do not match.

Constructors (none builds a dense n x n matrix unless the weights are dense by nature):

* :meth:`Weights.from_edges` -- contiguity from an edge list (optionally weighted);
* :meth:`Weights.from_contiguity` -- queen / rook contiguity of polygon outlines (the bundled ones by name);
* :meth:`Weights.from_distance` -- k nearest neighbours or a distance band on great-circle distance (KD-tree on
  the unit sphere), binary or inverse-distance ``d**-power``;
* :meth:`Weights.from_points` -- the same on projected (planar) coordinates;
* :meth:`Weights.from_economic_distance` -- ``1 / |x_i - x_j|`` for a variable ``x`` (all pairs, or the k
  nearest in ``x``);
* :meth:`Weights.nested` -- geographic x economic nested weights (Hadamard product or convex mix);
* :meth:`Weights.from_matrix` -- a dense or sparse matrix (or a labelled DataFrame) with its ids.

Islands (units without a neighbour) are handled by an explicit policy ``islands=``: ``"warn"`` (default: keep them
as zero rows and warn, naming them), ``"keep"`` (keep silently, for callers that expect them), ``"drop"`` (remove
them; the dropped ids are in ``W.dropped``) or ``"raise"`` (:class:`~econ.errors.WeightsError`). Disconnected
components are reported by :attr:`Weights.components` and warned about under ``"warn"``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from econ._docs import doc
from econ._geo import EARTH_RADIUS_KM, chord_of_km, haversine_km, unit_sphere
from econ._validate import check_choice
from econ.errors import WeightsError
from econ.spatial import traces
from econ.spatial._geometry import (
    _as_csr,
    _coordinates,
    _distance_args,
    _id_tuple,
    _neighbour_pairs,
    _values_for,
    _show,
    _sort_key,
    contiguity_matrix,
)
from econ.spatial._spectrum import _exact_range, _similarity_scale, _sparse_range

__all__ = ["Weights", "haversine_km", "EARTH_RADIUS_KM"]

ISLAND_POLICIES = ("warn", "keep", "drop", "raise")  # islands=
_DOCS = {"islands": """\
islands : {"warn", "keep", "drop", "raise"}, default "warn"
    Policy for units without any link (see the module docstring).""",
         "returns": """\
Returns
-------
Weights
    The weights, in the order of their ``ids``."""}
_DOCS["islands_returns"] = _DOCS["islands"] + "\n\n" + _DOCS["returns"]
TRANSFORMS = ("b", "r", "d", "v", "custom")  # the codes of Weights.transform


@dataclass(frozen=True)
class Weights:
    """Spatial weights ``W`` with ``ids[i]`` the unit of row/column ``i``.

    Parameters
    ----------
    ids : sequence
        Unit ids, unique, in the order of the matrix rows and columns.
    matrix : scipy sparse matrix or 2-D array
        Non-negative, finite weights with a zero diagonal; stored as a (copied) float CSR matrix.
    transform : str
        What was applied: ``"b"`` binary, ``"r"`` row-standardised (rows sum to one; rows of units without
        neighbours stay zero), ``"d"`` doubly standardised, ``"v"`` variance-stabilising, ``"custom"`` anything
        else.
    dropped : tuple
        Units removed by ``islands="drop"`` (empty otherwise).

    Raises
    ------
    WeightsError
        Shape not matching the ids, duplicate ids, non-finite or negative weights, a non-zero diagonal.

    Examples
    --------
    >>> import numpy as np
    >>> w = Weights(["a", "b", "c"], np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]]))
    >>> w.cardinalities.tolist()
    [1, 2, 1]
    >>> w.row_standardize().lag([1.0, 2.0, 3.0]).tolist()
    [2.0, 2.0, 2.0]
    """

    ids: tuple
    matrix: sparse.csr_matrix
    transform: str = "b"
    dropped: tuple = field(default=(), compare=False)

    def __post_init__(self):
        if isinstance(self.ids, (str, bytes)) or not np.iterable(self.ids):
            raise WeightsError(f"ids must be a sequence of unit ids, got {type(self.ids).__name__}")
        object.__setattr__(self, "ids", tuple(self.ids))
        object.__setattr__(self, "matrix", _as_csr(self.matrix))
        object.__setattr__(self, "dropped", tuple(self.dropped))
        object.__setattr__(self, "_cache", {})
        n = len(self.ids)
        if self.matrix.shape != (n, n):
            raise WeightsError(f"weights matrix is {self.matrix.shape} but there are {n} ids")
        missing = np.flatnonzero(pd.isna(np.asarray(self.ids, dtype=object))).tolist()
        if missing:
            raise WeightsError(f"{len(missing)} missing id(s) in weights, at position(s) {missing[:5]}: every unit "
                               "needs an id")
        if len(set(self.ids)) != n:
            dup = pd.Index(self.ids)[pd.Index(self.ids).duplicated()]
            raise WeightsError(f"duplicate ids in weights: {list(dup[:5])}")
        data = self.matrix.data
        if not np.isfinite(data).all():
            rows = np.repeat(np.arange(n), np.diff(self.matrix.indptr))[~np.isfinite(data)]
            raise WeightsError(f"weights matrix has non-finite entries (inf/NaN) in the rows of units "
                               f"{_show(pd.unique(np.asarray(self.ids, dtype=object)[rows]))}")
        if (data < 0).any():
            rows = np.repeat(np.arange(n), np.diff(self.matrix.indptr))[data < 0]
            raise WeightsError(f"weights matrix has negative entries in the rows of units "
                               f"{_show(pd.unique(np.asarray(self.ids, dtype=object)[rows]))}")
        if self.matrix.diagonal().any():
            raise WeightsError("weights matrix has non-zero diagonal entries (a unit is its own neighbour)")
        if self.transform not in TRANSFORMS:
            raise WeightsError(f"transform must be one of {list(TRANSFORMS)}, got {self.transform!r}")

    # ----------------------------------------------------------------- constructors
    @doc(**_DOCS)
    @classmethod
    def from_edges(cls, edges: pd.DataFrame, source: str, target: str, ids=None, symmetric: bool = True, *,
                   weight: str | None = None, islands: str = "warn") -> Weights:
        """Weights from an edge list: binary contiguity, or the values of a ``weight`` column.

        Parameters
        ----------
        edges : DataFrame
            One row per link ``source -> target``.
        source, target : str
            Columns holding the two endpoints.
        ids : sequence, optional
            The unit order (it may include units without a link); default: the sorted ids in the edges. An edge
            naming a unit outside ``ids`` is an error.
        symmetric : bool
            Each undirected edge is listed once: ``w_ij = w_ji``. Repeated links collapse to one.
        weight : str, optional
            Column of positive link weights (default: binary 1).
        islands : {"warn", "keep", "drop", "raise"}
            Policy for units of ``ids`` without any link (see the module docstring).

        {returns}

        Raises
        ------
        WeightsError
            Unknown columns, missing endpoints, endpoints outside ``ids``, conflicting weights for the same link,
            islands under ``islands="raise"``.

        Examples
        --------
        >>> import pandas as pd
        >>> e = pd.DataFrame({"a": ["A", "B"], "b": ["B", "C"]})
        >>> Weights.from_edges(e, "a", "b").cardinalities.tolist()
        [1, 2, 1]
        """
        if not isinstance(edges, pd.DataFrame):
            raise WeightsError(f"edges must be a pandas DataFrame, got {type(edges).__name__}")
        unknown = [c for c in (source, target, *([weight] if weight is not None else [])) if c not in edges.columns]
        if unknown:
            raise WeightsError(f"edge column(s) {unknown} not in the edge list; available: {list(edges.columns)}")
        named = [source, target, *([weight] if weight is not None else [])]
        if len(set(named)) < len(named):
            raise WeightsError(f"{'source, target and weight' if weight is not None else 'source and target'} must "
                               f"be different columns, got {named}")
        dup = sorted({str(c) for c in edges.columns[edges.columns.duplicated()] if c in named})
        if dup:
            raise WeightsError(f"the edge list has several columns named {dup}; give each column its own name "
                               "(e.g. edges.columns = ['source', 'target'])")
        a, b = edges[source].to_numpy(), edges[target].to_numpy()
        na = pd.isna(edges[source]).to_numpy() | pd.isna(edges[target]).to_numpy()
        if na.any():
            raise WeightsError(f"{int(na.sum())} edge(s) with a missing endpoint in {source!r}/{target!r} "
                               f"(rows {edges.index[na][:5].tolist()})")
        ids = tuple(sorted(set(a) | set(b), key=_sort_key)) if ids is None else _id_tuple(ids)
        pos = {u: i for i, u in enumerate(ids)}
        unknown = sorted({u for u in np.concatenate([a, b]) if u not in pos}, key=str)
        if unknown:
            raise WeightsError(f"{len(unknown)} edge endpoint(s) not among the ids, first: {unknown[:5]}")
        i = np.array([pos[u] for u in a], dtype=np.int64)
        j = np.array([pos[u] for u in b], dtype=np.int64)
        if weight is None:
            v = np.ones(len(i))
        else:
            v = pd.to_numeric(edges[weight], errors="coerce").to_numpy(dtype=float)
            bad = ~np.isfinite(v) | (v <= 0)
            if bad.any():
                raise WeightsError(f"edge weight column {weight!r} must hold positive finite numbers; bad rows "
                                   f"{edges.index[bad][:5].tolist()}")
        if symmetric:
            i, j, v = np.concatenate([i, j]), np.concatenate([j, i]), np.concatenate([v, v])
        keep = i != j
        links = pd.DataFrame({"i": i[keep], "j": j[keep], "v": v[keep]}).drop_duplicates()
        clash = links.duplicated(["i", "j"], keep=False)
        if clash.any():
            first = links.loc[clash].iloc[0]
            raise WeightsError(f"edge weight column {weight!r} gives different weights to the same link "
                               f"({ids[int(first.i)]!r}, {ids[int(first.j)]!r})")
        m = sparse.csr_matrix((links["v"].to_numpy(), (links["i"].to_numpy(), links["j"].to_numpy())),
                              shape=(len(ids), len(ids)))
        return cls(ids, m, "b" if weight is None else "custom")._apply_islands(islands)

    @doc(**_DOCS)
    @classmethod
    def from_matrix(cls, matrix, ids=None, *, transform: str = "custom", islands: str = "warn") -> Weights:
        """Weights from a dense array, a scipy sparse matrix or a DataFrame labelled by unit on both axes.

        Parameters
        ----------
        matrix : array-like, sparse matrix or DataFrame
            n x n, non-negative, finite, zero diagonal. A DataFrame's columns are aligned to its index.
        ids : sequence, optional
            Unit of each row/column; required unless ``matrix`` is a DataFrame (its index is used).
        transform : str
            Recorded transform (``"b"`` if you know the matrix is binary, ``"r"`` if row-standardised).
        {islands_returns}

        Raises
        ------
        WeightsError
            Non-square, ids of the wrong length, labels that differ between index and columns, invalid entries.

        Examples
        --------
        >>> import pandas as pd
        >>> m = pd.DataFrame([[2, 0], [0, 3]], index=["x", "y"], columns=["y", "x"])  # columns in another order
        >>> Weights.from_matrix(m).to_dense().tolist()
        [[0.0, 2.0], [3.0, 0.0]]
        """
        if isinstance(matrix, pd.DataFrame):
            if set(matrix.index) != set(matrix.columns) or len(matrix.index) != len(matrix.columns):
                raise WeightsError("the DataFrame's index and columns must hold the same unit ids")
            if ids is not None and list(ids) != list(matrix.index):
                raise WeightsError("give ids only with an unlabelled matrix; a DataFrame's index is its ids")
            ids = list(matrix.index)
            matrix = matrix.loc[ids, ids].to_numpy()
        if ids is None:
            raise WeightsError("ids are required: the unit of each row/column of the matrix")
        return cls(_id_tuple(ids), _as_csr(matrix), transform)._apply_islands(islands)

    @classmethod
    def from_distance(cls, lat, lon, ids, cutoff_km: float | None = None, k: int | None = None,
                      power: float = 0.0, *, islands: str = "warn") -> Weights:
        """Distance-based weights from coordinates in degrees, on great-circle distance.

        Parameters
        ----------
        lat, lon : array-like
            Latitude and longitude in degrees, one per unit.
        ids : sequence
            Unit ids in the same order.
        cutoff_km : float, optional
            Distance band: neighbours within ``cutoff_km`` (inclusive).
        k : int, optional
            The ``k`` nearest neighbours (asymmetric in general); give exactly one of ``k`` and ``cutoff_km``.
        power : float
            ``power > 0`` gives inverse-distance weights ``d_ij ** -power`` on the neighbours; ``0`` binary.
        islands : {"warn", "keep", "drop", "raise"}
            Policy for units with no neighbour within the band (kNN has none).

        Returns
        -------
        Weights
            ``transform="b"`` when binary, ``"custom"`` with inverse-distance values.

        Raises
        ------
        WeightsError
            Missing or out-of-range coordinates, ``k >= n``, both or neither of ``k``/``cutoff_km``, duplicate
            coordinates with ``power > 0`` (the weight would be infinite).

        Notes
        -----
        Neighbours are found with a KD-tree (``scipy.spatial.cKDTree``) on the points' 3-D unit-sphere coordinates:
        the chord ``c = 2 sin(d / 2R)`` is monotone in the great-circle distance ``d`` (``R`` = 6371.0088 km), so
        the search is exact and memory is O(n k), never O(n^2). Distances reported as weights are haversine.
        Ties at the k-th distance are broken by the tree's order (as libpysal's ``KNN``).

        Examples
        --------
        >>> w = Weights.from_distance([0, 0, 0], [0, 1, 3], ["a", "b", "c"], k=1)
        >>> w.to_dense().tolist()
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
        """
        ids = _id_tuple(ids)
        lat, lon = _coordinates(lat, "lat", ids), _coordinates(lon, "lon", ids)
        if (np.abs(lat) > 90).any():
            raise WeightsError(f"latitudes must be within [-90, 90]; units {_show(np.asarray(ids, object)[np.abs(lat) > 90])}")
        if ((lon < -180) | (lon > 360)).any():
            raise WeightsError("longitudes must be within [-180, 360] degrees")
        k, radius, power = _distance_args(k, cutoff_km, power, len(ids), "cutoff_km")
        xyz = unit_sphere(lat, lon)
        i, j = _neighbour_pairs(xyz, k, None if radius is None else float(chord_of_km(radius)) * (1 + 1e-9) + 1e-12)
        d = haversine_km(lat[i], lon[i], lat[j], lon[j])
        if radius is not None:
            keep = d <= radius
            i, j, d = i[keep], j[keep], d[keep]
        return cls._from_pairs(ids, i, j, d, power, islands)

    @classmethod
    def from_points(cls, x, y, ids, *, k: int | None = None, cutoff: float | None = None, power: float = 0.0,
                    islands: str = "warn") -> Weights:
        """Distance-based weights on projected (planar) coordinates: Euclidean kNN or distance band.

        As :meth:`from_distance` (same arguments and rules) with ``d_ij = sqrt((x_i - x_j)^2 + (y_i - y_j)^2)``
        in the units of the coordinates.

        Examples
        --------
        >>> w = Weights.from_points([0, 1, 3], [0, 0, 0], ["a", "b", "c"], cutoff=2.0, power=1.0)
        >>> w.to_dense().tolist()
        [[0.0, 1.0, 0.0], [1.0, 0.0, 0.5], [0.0, 0.5, 0.0]]
        """
        ids = _id_tuple(ids)
        xy = np.column_stack([_coordinates(x, "x", ids), _coordinates(y, "y", ids)])
        k, radius, power = _distance_args(k, cutoff, power, len(ids), "cutoff")
        i, j = _neighbour_pairs(xy, k, radius)
        d = np.sqrt(((xy[i] - xy[j]) ** 2).sum(axis=1))
        return cls._from_pairs(ids, i, j, d, power, islands)

    @doc(**_DOCS)
    @classmethod
    def from_economic_distance(cls, x, ids, *, k: int | None = None, islands: str = "warn") -> Weights:
        """"Economic distance" weights ``w_ij = 1 / |x_i - x_j|`` from a variable ``x`` (e.g. mean GDP per capita).

        Parameters
        ----------
        x : array-like or Series
            One finite value per unit (a Series is aligned to ``ids`` by label).
        ids : sequence
        k : int, optional
            Keep only the ``k`` units closest in ``x`` (sparse); default all pairs (dense by nature, refused above
            20,000 units).
        {islands}

        Returns
        -------
        Weights (``transform="custom"``; row-standardise before use in most models)

        Raises
        ------
        WeightsError
            Missing/non-finite values; two units with the same value (the weight would be infinite).

        Examples
        --------
        >>> Weights.from_economic_distance([1.0, 2.0, 4.0], ["a", "b", "c"]).to_dense().round(3).tolist()
        [[0.0, 1.0, 0.333], [1.0, 0.0, 0.5], [0.333, 0.5, 0.0]]
        """
        ids = _id_tuple(ids)
        values = _values_for(x, ids, "x")
        n = len(ids)
        if k is None:
            if n > 20_000:
                raise WeightsError(f"all-pairs economic distance weights for {n} units need an n x n matrix; "
                                   "pass k= to keep the k units closest in x")
            i, j = np.nonzero(~np.eye(n, dtype=bool))
        else:
            k, _, _ = _distance_args(k, None, 0.0, n, "cutoff")
            i, j = _neighbour_pairs(values[:, None], k, None)
        d = np.abs(values[i] - values[j])
        return cls._from_pairs(ids, i, j, d, 1.0, islands, what="values of x")

    @classmethod
    def nested(cls, geo: Weights, econ: Weights, *, how: str = "product", phi: float = 0.5) -> Weights:
        """Geographic x economic nested weights.

        Parameters
        ----------
        geo, econ : Weights
            The geographic and the economic weights on the same units (``econ`` is aligned to ``geo``'s order).
        how : {"product", "mix"}
            ``"product"``: element-wise (Hadamard) product ``w_ij = g_ij e_ij`` -- links only where both have one;
            ``"mix"``: convex combination ``w_ij = phi g_ij + (1 - phi) e_ij``.
        phi : float
            Weight of the geographic matrix in ``"mix"``, in [0, 1].

        Returns
        -------
        Weights (``transform="custom"``; the components are used as given -- row-standardise them first if the
        two scales differ, and the result afterwards for a model)

        Raises
        ------
        WeightsError
            Different unit sets; ``phi`` outside [0, 1].

        Notes
        -----
        Both forms are used in the regional-economics literature for "economic-geographic nested" matrices; the
        product keeps the sparsity of the geographic matrix.

        Examples
        --------
        >>> import numpy as np
        >>> g = Weights(["a", "b"], np.array([[0, 1], [1, 0]]))
        >>> e = Weights.from_economic_distance([1.0, 3.0], ["a", "b"])
        >>> Weights.nested(g, e).to_dense().tolist()
        [[0.0, 0.5], [0.5, 0.0]]
        """
        for name, w in (("geo", geo), ("econ", econ)):
            if not isinstance(w, Weights):
                raise WeightsError(f"{name} must be econ.spatial.Weights, got {type(w).__name__}")
        check_choice(how, "how", ("product", "mix"))
        econ = econ.align(geo.ids)
        if how == "product":
            m = geo.matrix.multiply(econ.matrix).tocsr()
        else:
            if not (isinstance(phi, (int, float, np.floating)) and 0.0 <= float(phi) <= 1.0):
                raise WeightsError(f"phi must be a number in [0, 1], got {phi!r}")
            m = float(phi) * geo.matrix + (1.0 - float(phi)) * econ.matrix
        m.eliminate_zeros()
        return cls(geo.ids, m, "custom")

    @doc(**_DOCS)
    @classmethod
    def from_contiguity(cls, outlines="china_prefecture_outlines", *, kind: str = "queen",
                        id_property: str | None = None, ids=None, islands: str = "warn") -> Weights:
        """Queen or rook contiguity of polygon outlines (a bundled outline name or a GeoJSON FeatureCollection).

        Parameters
        ----------
        outlines : str or dict
            ``"china_prefecture_outlines"`` / ``"china_province_outlines"`` (loaded with
            :func:`econ.datasets.load_geojson`) or a parsed GeoJSON FeatureCollection of (Multi)Polygons.
        kind : {"queen", "rook"}
            Queen: two units are neighbours when their outlines share at least one vertex; rook: when they share
            an edge (two consecutive vertices).
        id_property : str, optional
            Feature property holding the unit id (default for the bundled outlines: their code property).
            Features whose id is null are left out (for the bundled outlines: units outside the reference table).
        ids : sequence, optional
            Unit order; features not in ``ids`` are left out, and an id without a feature is an error.
        {islands}

        Returns
        -------
        Weights (binary, symmetric)

        Raises
        ------
        WeightsError
            Unknown ``kind``, missing id property, ids without a feature, non-polygon geometries.

        Notes
        -----
        Shared vertices are matched exactly (the convention of libpysal's ``Queen``/``Rook``), which requires a
        topologically consistent file: the bundled outlines were simplified with shared borders kept. A unit split
        over several features (or a MultiPolygon) is one unit.

        Examples
        --------
        >>> w = Weights.from_contiguity("china_province_outlines", kind="queen", islands="keep")
        >>> w.n, w.is_symmetric
        (31, True)
        """
        check_choice(kind, "kind", ("queen", "rook"))
        ids, m = contiguity_matrix(outlines, kind, id_property, ids)
        return cls(ids, m, "b")._apply_islands(islands)

    @doc(**_DOCS)
    @classmethod
    def from_geodataframe(cls, gdf, id_column: str | None = None, *, kind: str = "queen", k: int | None = None,
                          cutoff_km: float | None = None, power: float = 0.0, islands: str = "warn") -> Weights:
        """Weights from a geopandas GeoDataFrame of any region (needs the optional extra ``econ-placebased[geo]``).

        Parameters
        ----------
        gdf : geopandas.GeoDataFrame
            One row per unit.
        id_column : str, optional
            Column holding the unit ids (default: the index). Ids keep the column's dtype.
        kind : {"queen", "rook", "knn", "distance"}
            Contiguity of the polygons (shared vertex / shared edge, exactly as libpysal's ``Queen``/``Rook``), or
            great-circle ``k`` nearest neighbours / distance band ``cutoff_km`` between the units' representative
            points (these need a CRS; projected data are converted to longitude/latitude).
        k, cutoff_km, power : as in :meth:`from_distance`.
        {islands_returns}

        Raises
        ------
        WeightsError
            Not a GeoDataFrame, geopandas missing, missing or duplicate geometry ids, empty geometries,
            non-polygons for contiguity, no CRS when distances are needed.

        Examples
        --------
        >>> import geopandas as gpd  # doctest: +SKIP
        >>> from shapely.geometry import box  # doctest: +SKIP
        >>> gdf = gpd.GeoDataFrame({"id": [1, 2, 3]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1),
        ...                                                     box(2, 0, 3, 1)])  # doctest: +SKIP
        >>> Weights.from_geodataframe(gdf, "id", kind="rook").cardinalities.tolist()  # doctest: +SKIP
        [1, 2, 1]
        """
        from econ.spatial._geo_io import from_geodataframe

        return from_geodataframe(cls, gdf, id_column, kind=kind, k=k, cutoff_km=cutoff_km, power=power,
                                 islands=islands)

    @doc(**_DOCS)
    @classmethod
    def from_file(cls, path, id_column: str, *, kind: str = "queen", k: int | None = None,
                  cutoff_km: float | None = None, power: float = 0.0, islands: str = "warn") -> Weights:
        """Weights from a GeoJSON file, shapefile or any file geopandas reads (optional extra ``econ-placebased[geo]``).

        Parameters
        ----------
        path : str or Path
            The file (``.geojson``, ``.shp``, ``.gpkg``...).
        id_column : str
            Attribute holding the unit ids.
        kind, k, cutoff_km, power, islands : as in :meth:`from_geodataframe`.

        {returns}

        Raises
        ------
        WeightsError
            Missing file, and every error of :meth:`from_geodataframe`.

        Examples
        --------
        >>> w = Weights.from_file("regions.geojson", "region_id", kind="rook")  # doctest: +SKIP
        """
        from econ.spatial._geo_io import read_geo

        return cls.from_geodataframe(read_geo(path), id_column, kind=kind, k=k, cutoff_km=cutoff_km, power=power,
                                     islands=islands)

    @doc(**_DOCS)
    @classmethod
    def from_libpysal(cls, W, *, islands: str = "keep") -> Weights:
        """Weights from a libpysal ``W`` (ids in its ``id_order``, its weights and transform).

        Parameters
        ----------
        W : libpysal.weights.W
        {islands_returns}

        Raises
        ------
        WeightsError
            Not a libpysal ``W``.

        Examples
        --------
        >>> from libpysal.weights import lat2W
        >>> Weights.from_libpysal(lat2W(2, 2)).cardinalities.tolist()
        [2, 2, 2, 2]
        """
        from econ.spatial._geo_io import from_libpysal

        return from_libpysal(cls, W, islands)

    def to_libpysal(self):
        """This matrix as a libpysal ``W`` (same ids as ``id_order``, same weights).

        Returns
        -------
        libpysal.weights.W

        Examples
        --------
        >>> import numpy as np
        >>> w = Weights([10, 20], np.array([[0, 1], [1, 0]]))
        >>> w.to_libpysal().neighbors
        {10: [20], 20: [10]}
        """
        from econ.spatial._geo_io import to_libpysal

        return to_libpysal(self)

    @classmethod
    def _from_pairs(cls, ids, i, j, d, power, islands, what="coordinates") -> Weights:
        if power > 0:
            zero = d == 0
            if zero.any():
                a, b = np.asarray(ids, dtype=object)[i[zero]], np.asarray(ids, dtype=object)[j[zero]]
                pairs = sorted({tuple(sorted((x, y), key=str)) for x, y in zip(a, b)}, key=str)
                raise WeightsError(
                    f"{len(pairs)} pair(s) of units have identical {what} (distance 0), so the inverse-distance "
                    f"weight is infinite: {_show(pairs, 3)}; merge or jitter them, or use binary weights (power=0)")
            v = d ** -float(power)
        else:
            v = np.ones(len(i))
        m = sparse.csr_matrix((v, (i, j)), shape=(len(ids), len(ids)))
        return cls(ids, m, "b" if power == 0 else "custom")._apply_islands(islands)

    def _apply_islands(self, islands: str) -> Weights:
        check_choice(islands, "islands", ISLAND_POLICIES)
        isl = self.islands
        if isl and islands == "raise":
            raise WeightsError(f"{len(isl)} unit(s) have no neighbour (islands): {_show(isl)}; pass islands='keep' "
                               "(zero rows), 'drop' (remove them) or change the neighbour definition")
        if isl and islands == "drop":
            w, gone = self, []
            while w.islands:  # dropping a unit can leave a unit that only pointed to it without neighbours
                gone += w.islands
                keep = [u for u in w.ids if u not in set(gone)]
                if not keep:
                    raise WeightsError("every unit is an island: nothing left after islands='drop'")
                idx = w._positions(keep)
                w = Weights(tuple(keep), w.matrix[idx][:, idx], w.transform)
            return Weights(w.ids, w.matrix, w.transform, dropped=tuple(gone))
        if islands == "warn":
            n_comp = self.n_components
            if isl or n_comp > 1:
                warnings.warn(
                    f"spatial weights: {len(isl)} island(s) without neighbours {_show(isl)} kept as zero rows; "
                    f"{n_comp} connected component(s). Pass islands='keep', 'drop' or 'raise' to choose.",
                    UserWarning, stacklevel=3)
        return self

    # ----------------------------------------------------------------- views
    @property
    def n(self) -> int:
        """Number of units (the length of ``ids``; ``matrix`` is ``n x n``)."""
        return len(self.ids)

    @property
    def cardinalities(self) -> pd.Series:
        """Number of neighbours of each unit (non-zero weights in its row)."""
        return pd.Series(np.diff(self.matrix.indptr), index=list(self.ids), name="neighbours")

    @property
    def islands(self) -> list:
        """Units with no neighbour."""
        card = self.cardinalities
        return list(card.index[card == 0])

    @property
    def components(self) -> pd.Series:
        """Connected component (0, 1, ...) of each unit, links taken as undirected; islands are their own."""
        _, labels = csgraph.connected_components(self.matrix, directed=True, connection="weak")
        return pd.Series(labels, index=list(self.ids), name="component")

    @property
    def n_components(self) -> int:
        """Number of connected components (1 for a connected graph; every island counts as one)."""
        return int(csgraph.connected_components(self.matrix, directed=True, connection="weak")[0])

    @property
    def is_symmetric(self) -> bool:
        """``W == W'`` up to rounding (relative 1e-12 of the largest weight)."""
        diff = abs(self.matrix - self.matrix.T)
        scale = abs(self.matrix).max() if self.matrix.nnz else 0.0
        return bool(diff.nnz == 0 or diff.max() <= 1e-12 * scale)

    # ----------------------------------------------------------------- transforms
    def row_standardize(self) -> Weights:
        """Rows sum to one (islands keep a zero row)."""
        rows = np.asarray(self.matrix.sum(axis=1)).ravel()
        scale = np.divide(1.0, rows, out=np.zeros_like(rows), where=rows > 0)
        return Weights(self.ids, sparse.diags(scale) @ self.matrix, "r", dropped=self.dropped)

    @doc(**_DOCS)
    def transformed(self, kind: str) -> Weights:
        """The weights under a standard transform (libpysal's ``W.transform`` codes, lower case).

        Parameters
        ----------
        kind : {"b", "r", "d", "v"}
            ``"b"``: binary (every non-zero weight becomes 1); ``"r"``: rows sum to one; ``"d"``: doubly
            standardised, ``w_ij / S0``; ``"v"``: variance-stabilising (Tiefelsdorf et al. 1999),
            ``w_ij / q_i * n / Q`` with ``q_i = sqrt(sum_j w_ij^2)`` and ``Q = sum_ij w_ij / q_i``.

        {returns}

        Notes
        -----
        The transform applies to the weights as they are (libpysal applies it to the original weights): take it
        from the untransformed object.

        Examples
        --------
        >>> import numpy as np
        >>> w = Weights(["a", "b", "c"], np.array([[0, 2, 0], [2, 0, 1], [0, 1, 0]]))
        >>> round(float(w.transformed("d").matrix.sum()), 12)
        1.0
        """
        check_choice(kind, "kind", ("b", "r", "d", "v"))
        m = self.matrix.copy()
        if kind == "r":
            return self.row_standardize()
        if kind == "b":
            m.data[:] = 1.0
        elif kind == "d":
            m = m / m.sum() if m.nnz else m
        else:
            q = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
            s = sparse.diags(np.divide(1.0, q, out=np.zeros_like(q), where=q > 0)) @ m
            m = s * (self.n / s.sum()) if s.nnz else s
        return Weights(self.ids, m, kind, dropped=self.dropped)

    def subset(self, ids) -> Weights:
        """Weights restricted to ``ids`` (in that order), re-standardised if the original was row-standardised."""
        ids = _id_tuple(ids)
        idx = self._positions(ids)
        sub = Weights(ids, self.matrix[idx][:, idx].tocsr(), "b" if self.transform == "b" else "custom")
        return sub.row_standardize() if self.transform == "r" else sub

    def align(self, ids) -> Weights:
        """The same weights re-ordered to ``ids``; the unit sets must be identical."""
        ids = _id_tuple(ids)
        self.check_units(ids)
        idx = self._positions(ids)
        return Weights(ids, self.matrix[idx][:, idx].tocsr(), self.transform, dropped=self.dropped)

    def check_units(self, ids) -> None:
        """Raise ``WeightsError`` naming the units that are in the data but not in W, and vice versa."""
        ids = list(ids)
        data_ids, w_ids = set(ids), set(self.ids)
        if len(data_ids) != len(ids):
            dup = pd.Index(ids)[pd.Index(ids).duplicated()]
            raise WeightsError(f"the unit list passed to the weights has duplicates: {_show(pd.unique(dup))}")
        missing, extra = sorted(data_ids - w_ids, key=str), sorted(w_ids - data_ids, key=str)
        if missing or extra:
            raise WeightsError(
                f"weights do not match the units: {len(missing)} unit(s) in the data not in W "
                f"(first: {missing[:5]}), {len(extra)} unit(s) in W not in the data (first: {extra[:5]})"
            )

    # ----------------------------------------------------------------- products
    def lag(self, x) -> np.ndarray:
        """Spatial lag ``W @ x`` for x of shape (n,) or (n, k) in this object's unit order.

        A pandas Series (or DataFrame) indexed by unit id is aligned to ``ids`` by label; one with the default
        ``RangeIndex`` that does not hold the ids is taken in ``ids`` order, like an array.
        """
        if isinstance(x, (pd.Series, pd.DataFrame)):
            labels = list(x.index)
            if set(labels) == set(self.ids) and len(labels) == self.n:
                x = x.loc[list(self.ids)]
            elif not isinstance(x.index, pd.RangeIndex):
                self.check_units(labels)
        x = np.asarray(x, dtype=float)
        if x.ndim == 0 or x.shape[0] != self.n:
            raise WeightsError(f"x has {x.shape[0] if x.ndim else 0} rows but W has {self.n} units")
        return self.matrix @ x

    def panel_lag(self, data: pd.DataFrame, column: str, unit: str, time: str) -> pd.Series:
        """Spatial lag of ``column`` within each period of a long panel, aligned to ``data``'s index.

        Every period must contain exactly W's units (a balanced panel on W's units); otherwise ``WeightsError``
        naming the period and the units it lacks.
        """
        if not isinstance(data, pd.DataFrame):
            raise WeightsError(f"data must be a pandas DataFrame, got {type(data).__name__}")
        missing = [c for c in (column, unit, time) if c not in data.columns]
        if missing:
            raise WeightsError(f"column(s) {missing} not in the data; available: {list(data.columns)}")
        absent = sorted(set(data[unit]) - set(self.ids), key=str)
        if absent:
            raise WeightsError(f"{len(absent)} unit(s) in the data are not in W: {_show(absent)}")
        out = pd.Series(np.nan, index=data.index, name=f"W_{column}")
        for period, block in data.groupby(time, sort=True):
            units = block[unit].tolist()
            if len(set(units)) != len(units):
                dup = pd.unique(block[unit][block[unit].duplicated()])
                raise WeightsError(f"period {time}={period!r} lists unit(s) {_show(dup)} more than once")
            lacking = sorted(set(self.ids) - set(units), key=str)
            if lacking:
                raise WeightsError(
                    f"panel_lag needs every unit of W in every period: {time}={period!r} lacks {len(lacking)} "
                    f"unit(s) of W {_show(lacking)} (the panel is unbalanced); balance the panel or subset W")
            order = self._positions(units)
            values = np.empty(self.n)
            values[order] = pd.to_numeric(block[column], errors="coerce").to_numpy(dtype=float)
            out.loc[block.index] = (self.matrix @ values)[order]
        return out

    def to_dense(self) -> np.ndarray:
        """The weights as a dense ``n x n`` numpy array, rows and columns in ``ids`` order (a new array: editing it
        does not change ``W``)."""
        return self.matrix.toarray()

    # ----------------------------------------------------------------- spectrum
    def eigenvalues(self) -> np.ndarray:
        """All eigenvalues (dense computation; real when W is symmetric or similar to a symmetric matrix).

        Refused above 20,000 units; use :meth:`eigenvalue_range` there.
        """
        if self.n > 20_000:
            raise WeightsError(f"all {self.n} eigenvalues need a dense n x n matrix; use eigenvalue_range()")
        sym = self._symmetric_similar()
        if sym is not None:
            from scipy.linalg import eigvalsh

            return eigvalsh(sym.toarray())
        return np.linalg.eigvals(self.to_dense())

    def eigenvalue_range(self, method: str = "auto") -> tuple[float, float]:
        """Smallest and largest real eigenvalue ``(lambda_min, lambda_max)`` of W.

        Parameters
        ----------
        method : {"auto", "exact", "sparse"}
            ``"exact"``: all eigenvalues from the dense matrix; ``"sparse"``: the two extreme eigenvalues by ARPACK
            (``eigsh`` when W is symmetric or similar to a symmetric matrix -- e.g. a row-standardised symmetric
            W -- and ``eigs`` otherwise); ``"auto"``: exact up to ``econ.spatial.traces.EIGEN_MAX_N`` (1,000)
            units.

        Returns
        -------
        (float, float)

        Notes
        -----
        ``W = C^{-1} A`` with ``A`` symmetric and ``C`` positive diagonal (row-standardised symmetric weights)
        has the real spectrum of ``C^{1/2} W C^{-1/2}``, which is symmetric; ``C`` is recovered from
        ``c_i w_ij = c_j w_ji`` along the links. For a W without that property the exact method keeps the real
        eigenvalues; the sparse one returns the extreme *real parts*, which can only narrow the rho interval.
        """
        check_choice(method, "method", ("auto", "exact", "sparse"))
        if method == "auto":
            method = "exact" if self.n <= traces.EIGEN_MAX_N else "sparse"
        key = ("range", method)
        if key not in self._cache:
            if self.matrix.nnz == 0:
                raise WeightsError("the weights have no links: every eigenvalue is 0")
            self._cache[key] = _exact_range(self) if method == "exact" else _sparse_range(self)
        return self._cache[key]

    def rho_bounds(self, method: str = "auto") -> tuple[float, float]:
        """Admissible interval of a spatial autoregressive parameter: ``(1 / lambda_min, 1 / lambda_max)``.

        ``I - rho W`` is non-singular for every ``rho`` strictly inside it (LeSage and Pace 2009);
        for a row-standardised W, ``lambda_max = 1``. See :meth:`eigenvalue_range` for ``method``.

        Examples
        --------
        >>> import numpy as np
        >>> w = Weights(["a", "b"], np.array([[0, 1], [1, 0]]))
        >>> w.rho_bounds()
        (-1.0, 1.0)
        """
        lo, hi = self.eigenvalue_range(method)
        if lo >= 0 or hi <= 0:
            raise WeightsError(f"eigenvalue range ({lo:g}, {hi:g}) does not bracket 0: no rho interval around 0")
        return (1.0 / lo, 1.0 / hi)

    def _symmetric_similar(self):
        """``C^{1/2} W C^{-1/2}`` when ``c_i w_ij = c_j w_ji`` holds on every link for some positive ``c``, else None."""
        if "similar" not in self._cache:
            m = self.matrix
            result = None
            if self.is_symmetric:
                result = m
            else:
                pattern = m.copy()
                pattern.data[:] = 1.0
                if abs(pattern - pattern.T).nnz == 0:
                    c = _similarity_scale(m)
                    if c is not None:
                        s = sparse.diags(np.sqrt(c)) @ m @ sparse.diags(1.0 / np.sqrt(c))
                        result = ((s + s.T) / 2).tocsr()
            self._cache["similar"] = result
        return self._cache["similar"]

    def _positions(self, ids) -> np.ndarray:
        pos = {u: i for i, u in enumerate(self.ids)}
        try:
            return np.array([pos[u] for u in ids], dtype=np.int64)
        except KeyError as err:
            raise WeightsError(f"unit {err.args[0]!r} is not in the weights") from None
        except TypeError:
            raise WeightsError("unit ids must be hashable values (strings or numbers)") from None

    def __repr__(self) -> str:
        nnz = self.matrix.nnz
        return (f"Weights(n={self.n}, links={nnz}, mean neighbours={nnz / max(self.n, 1):.2f}, "
                f"islands={len(self.islands)}, transform={self.transform!r})")

