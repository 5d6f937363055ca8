"""Spatial weights: a sparse matrix that always travels with its unit order.

A bare matrix silently mis-assigns neighbours when the data are sorted differently; a ``Weights`` object knows
which unit each row is, and ``align`` (or ``check_units``) refuses data whose units do not match.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from econ.errors import WeightsError

__all__ = ["Weights", "haversine_km"]

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Weights:
    """Spatial weights ``W`` with ``ids[i]`` the unit of row/column ``i``.

    ``transform`` records what was applied: ``"b"`` binary, ``"r"`` row-standardised (rows sum to one; rows of
    units without neighbours stay zero), ``"custom"`` anything else.
    """

    ids: tuple
    matrix: sparse.csr_matrix
    transform: str = "b"

    def __post_init__(self):
        n = len(self.ids)
        if self.matrix.shape != (n, n):
            raise WeightsError(f"weights matrix is {self.matrix.shape} but there are {n} ids")
        if len(set(self.ids)) != n:
            dup = pd.Index(self.ids)[pd.Index(self.ids).duplicated()]
            raise WeightsError(f"duplicate ids in weights: {list(dup[:5])}")
        if self.matrix.diagonal().any():
            raise WeightsError("weights matrix has non-zero diagonal entries (a unit is its own neighbour)")

    # ----------------------------------------------------------------- constructors
    @classmethod
    def from_edges(cls, edges: pd.DataFrame, source: str, target: str, ids=None, symmetric: bool = True):
        """Binary contiguity from an edge list (each undirected edge listed once when ``symmetric``).

        ``ids`` fixes the unit order (and includes units without neighbours); default: sorted ids in the edges.
        An edge naming a unit outside ``ids`` is an error.
        """
        a = edges[source].to_numpy()
        b = edges[target].to_numpy()
        ids = tuple(sorted(set(a) | set(b))) if ids is None else tuple(ids)
        pos = {u: i for i, u in enumerate(ids)}
        unknown = sorted({u for u in np.concatenate([a, b]) if u not in pos}, key=str)
        if unknown:
            raise WeightsError(f"{len(unknown)} edge endpoint(s) not among the ids, first: {unknown[:5]}")
        i = np.array([pos[u] for u in a], dtype=np.int64)
        j = np.array([pos[u] for u in b], dtype=np.int64)
        if symmetric:
            i, j = np.concatenate([i, j]), np.concatenate([j, i])
        keep = i != j
        m = sparse.coo_matrix((np.ones(keep.sum()), (i[keep], j[keep])), shape=(len(ids), len(ids))).tocsr()
        m.data[:] = 1.0  # duplicates collapse to one
        return cls(ids, m, "b")

    @classmethod
    def from_distance(cls, lat, lon, ids, cutoff_km: float | None = None, k: int | None = None,
                      power: float = 0.0):
        """Distance-based weights from coordinates in degrees.

        ``cutoff_km``: neighbours within the cutoff; ``k``: the k nearest. ``power`` > 0 gives inverse-distance
        weights ``d**-power`` on those neighbours (``power=0`` gives binary weights).
        """
        if (cutoff_km is None) == (k is None):
            raise WeightsError("give exactly one of cutoff_km or k")
        lat, lon = np.asarray(lat, float), np.asarray(lon, float)
        if np.isnan(lat).any() or np.isnan(lon).any():
            bad = [u for u, la, lo in zip(ids, lat, lon) if np.isnan(la) or np.isnan(lo)]
            raise WeightsError(f"{len(bad)} unit(s) without coordinates, first: {bad[:5]}")
        d = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
        np.fill_diagonal(d, np.inf)
        if k is not None:
            nearest = np.argsort(d, axis=1)[:, :k]
            mask = np.zeros_like(d, dtype=bool)
            np.put_along_axis(mask, nearest, True, axis=1)
        else:
            mask = d <= cutoff_km
        values = np.where(mask, d ** -power if power else 1.0, 0.0)
        return cls(tuple(ids), sparse.csr_matrix(values), "b" if not power else "custom")

    # ----------------------------------------------------------------- views
    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def cardinalities(self) -> pd.Series:
        """Number of neighbours of each unit."""
        return pd.Series(np.diff(self.matrix.indptr), index=list(self.ids), name="neighbours")

    @property
    def islands(self) -> list:
        """Units with no neighbour."""
        card = self.cardinalities
        return list(card.index[card == 0])

    def row_standardize(self) -> "Weights":
        """Rows sum to one (islands keep a zero row)."""
        rows = np.asarray(self.matrix.sum(axis=1)).ravel()
        scale = np.divide(1.0, rows, out=np.zeros_like(rows), where=rows > 0)
        return Weights(self.ids, sparse.diags(scale) @ self.matrix, "r")

    def subset(self, ids) -> "Weights":
        """Weights restricted to ``ids`` (in that order), re-standardised if the original was row-standardised."""
        idx = self._positions(ids)
        sub = Weights(tuple(ids), self.matrix[idx][:, idx].tocsr(), "b" if self.transform == "b" else "custom")
        return sub.row_standardize() if self.transform == "r" else sub

    def align(self, ids) -> "Weights":
        """The same weights re-ordered to ``ids``; the unit sets must be identical."""
        self.check_units(ids)
        return Weights(tuple(ids), self.matrix[self._positions(ids)][:, self._positions(ids)].tocsr(),
                       self.transform)

    def check_units(self, ids) -> None:
        """Raise ``WeightsError`` naming the units that are in the data but not in W, and vice versa."""
        data_ids, w_ids = set(ids), set(self.ids)
        if len(data_ids) != len(list(ids)):
            raise WeightsError("the unit list passed to the weights has duplicates")
        missing, extra = sorted(data_ids - w_ids, key=str), sorted(w_ids - data_ids, key=str)
        if missing or extra:
            raise WeightsError(
                f"weights do not match the units: {len(missing)} unit(s) in the data not in W "
                f"(first: {missing[:5]}), {len(extra)} unit(s) in W not in the data (first: {extra[:5]})"
            )

    def lag(self, x) -> np.ndarray:
        """Spatial lag ``W @ x`` for x of shape (n,) or (n, k) in this object's unit order."""
        x = np.asarray(x, dtype=float)
        if x.shape[0] != self.n:
            raise WeightsError(f"x has {x.shape[0]} rows but W has {self.n} units")
        return self.matrix @ x

    def panel_lag(self, data: pd.DataFrame, column: str, unit: str, time: str) -> pd.Series:
        """Spatial lag of ``column`` within each period of a long panel, aligned to ``data``'s index.

        Every period must contain exactly W's units (a balanced panel on W's units); otherwise ``WeightsError``.
        """
        out = pd.Series(np.nan, index=data.index, name=f"W_{column}")
        for _, block in data.groupby(time, sort=True):
            self.check_units(block[unit].tolist())
            order = self._positions(block[unit].tolist())
            values = np.empty(self.n)
            values[order] = block[column].to_numpy(dtype=float)
            out.loc[block.index] = (self.matrix @ values)[order]
        return out

    def to_dense(self) -> np.ndarray:
        return self.matrix.toarray()

    def _positions(self, ids) -> np.ndarray:
        pos = {u: i for i, u in enumerate(self.ids)}
        try:
            return np.array([pos[u] for u in ids], dtype=np.int64)
        except KeyError as err:
            raise WeightsError(f"unit {err.args[0]!r} is not in the weights") from None

    def __repr__(self) -> str:
        nnz = self.matrix.nnz
        return (f"Weights(n={self.n}, links={nnz}, mean neighbours={nnz / max(self.n, 1):.2f}, "
                f"islands={len(self.islands)}, transform={self.transform!r})")


def haversine_km(lat1, lon1, lat2, lon2):
    """Great-circle distance in km between points given in degrees (broadcasts)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
