"""Conley (1999) spatial HAC for the staggered DiD estimators: a kernel over units applied to per-unit scores.

``vcov={"conley": {...}}`` is spelled as in :func:`econ.feols` (:class:`econ.panel.vcov.Conley`):

* great-circle distances: ``{"lat": col, "lon": col, "cutoff_km": c}`` (haversine of :mod:`econ._geo`);
* planar distances: ``{"x": col, "y": col, "cutoff": c}`` (Euclidean, in the coordinates' own units);
* ``kernel``: ``"uniform"`` (``K_ij = 1[d_ij <= c]``, default) or ``"bartlett"`` (``max(0, 1 - d_ij / c)``);
* ``lag``, ``time``, ``unit``: the serial part of the regression estimators (see below).

The coordinate columns must be constant within unit. Influence-function estimators (:func:`econ.did.att_gt`
and its aggregations, :func:`econ.did.imputation`) carry one influence function ``psi_i`` per unit, summed over
that unit's periods, so their variance is

``V = (1 / n^2) sum_{i, j} K(d_ij) psi_i psi_j'``,  ``K(0) = 1``,

which keeps every within-unit serial covariance (the unit-clustered estimator is the special case
``K_ij = 1[i = j]``) and adds the covariances, at every pair of periods, of units within the cutoff; ``lag`` is
therefore moot for them. The regression estimators (Sun-Abraham, ``spatial_did``) pass the spec to
:func:`econ.feols`; without ``time`` in the spec its Conley correlates every pair of observations within the
cutoff whatever their period, which is the same unit-level kernel applied to the units' score sums. Naming
``time`` (and ``lag``) there gives the Hsiang (2010) per-period form instead.

Pairs within the cutoff come from a KD-tree (``scipy.spatial.cKDTree.query_pairs``; great-circle distances via
chords on the unit sphere), so no n x n matrix is ever formed: memory and time grow with the number of pairs.

The multiplier bootstrap has no Conley analogue here: a spatial wild bootstrap would draw multipliers with
covariance ``K``, which needs ``K`` positive semi-definite (the uniform kernel is not, the Bartlett kernel is not
in two dimensions) and a factor of an n x n matrix; Conley inference is analytic only and ``n_draws > 0`` is
refused.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from econ.errors import PanelError, SpecificationError

__all__ = ["conley_spec", "UnitKernel", "check_coordinates"]

_GREAT = {"lat", "lon", "cutoff_km"}
_PLANAR = {"x", "y", "cutoff"}
_OTHER = {"kernel", "lag", "time", "unit"}


def conley_spec(vcov, who: str) -> dict | None:
    """The options of a ``{"conley": {...}}`` vcov (validated), or ``None`` for any other vcov."""
    if not (isinstance(vcov, Mapping) and len(vcov) == 1 and str(next(iter(vcov))).lower() == "conley"):
        return None
    opts = next(iter(vcov.values()))
    if not isinstance(opts, Mapping):
        raise SpecificationError(f"{who}: vcov={{'conley': ...}} needs a dict of options, e.g. "
                                 "{'conley': {'lat': 'lat', 'lon': 'lon', 'cutoff_km': 100}}")
    opts = dict(opts)
    unknown = set(opts) - _GREAT - _PLANAR - _OTHER
    if unknown:
        raise SpecificationError(f"{who}: unknown conley option(s) {sorted(unknown)}; allowed "
                                 f"{sorted(_GREAT | _PLANAR | _OTHER)}")
    great, planar = _GREAT & set(opts), _PLANAR & set(opts)
    if great and planar:
        raise SpecificationError(f"{who}: conley takes either lat/lon/cutoff_km (great-circle) or x/y/cutoff "
                                 f"(planar), not both; got {sorted(great | planar)}")
    need = _PLANAR if planar else _GREAT
    missing = sorted(need - set(opts))
    if missing:
        raise SpecificationError(f"{who}: conley spec is missing {missing}")
    key = "cutoff" if planar else "cutoff_km"
    c = opts[key]
    if isinstance(c, bool) or not isinstance(c, (int, float, np.number)) or not np.isfinite(c) or c <= 0:
        raise SpecificationError(f"{who}: conley {key} must be a positive number, got {c!r}")
    kernel = opts.get("kernel", "uniform")
    if kernel not in ("uniform", "bartlett"):
        raise SpecificationError(f"{who}: conley kernel must be 'uniform' or 'bartlett', got {kernel!r}")
    lag = opts.get("lag", 0)
    if isinstance(lag, bool) or not isinstance(lag, (int, np.integer)) or lag < 0:
        raise SpecificationError(f"{who}: conley lag must be a non-negative integer, got {lag!r}")
    opts["metric"] = "planar" if planar else "great_circle"
    opts["cutoff_value"] = float(c)
    opts["kernel"] = kernel
    return opts


def influence_notes(opts: dict, kernel: "UnitKernel") -> list[str]:
    """Notes for the influence-function estimators: the kernel used, and that ``lag``/``time`` are moot there."""
    out = [f"standard errors: {kernel.label} kernel over {kernel.n} units' per-unit influence functions "
           f"({kernel.n_pairs} pairs within the cutoff); analytic only"]
    if opts.get("lag") or opts.get("time"):
        out.append("conley lag/time not used: each unit's influence function already sums its periods, so every "
                   "within-unit serial covariance is kept")
    return out


def require_great_circle(opts: dict, who: str) -> None:
    """The regression estimators hand the spec to :func:`econ.feols`, whose Conley is great-circle only."""
    if opts["metric"] != "great_circle":
        raise SpecificationError(f"{who}: planar conley (x/y/cutoff) is available for att_gt and imputation; "
                                 f"{who} uses feols' great-circle conley: give lat/lon/cutoff_km")


def coordinate_columns(opts: dict) -> tuple[str, str]:
    """(first, second) coordinate column names: (lat, lon) or (x, y)."""
    return (opts["x"], opts["y"]) if opts["metric"] == "planar" else (opts["lat"], opts["lon"])


def check_coordinates(data: pd.DataFrame, unit: str, opts: dict, who: str) -> pd.DataFrame:
    """Per-unit coordinates (index: unit ids, in first-appearance order), after checking that the columns exist,
    are numeric, complete, in range (great-circle) and constant within unit; each failure names the units."""
    cols = coordinate_columns(opts)
    absent = [c for c in cols if c not in data.columns]
    if absent:
        raise SpecificationError(f"{who}: conley coordinate column(s) {absent} not in the data")
    frame = data[[unit, *cols]]
    vals = {}
    for c in cols:
        v = pd.to_numeric(frame[c], errors="coerce")
        bad = v.isna() | ~np.isfinite(v.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            units = pd.unique(frame.loc[bad, unit])
            raise PanelError(f"{who}: conley coordinate {c!r} is missing or not a finite number for "
                             f"{len(units)} unit(s) {_show(units)}")
        vals[c] = v.astype(float)
    if opts["metric"] == "great_circle":
        lat, lon = vals[cols[0]], vals[cols[1]]
        for c, v, lim in ((cols[0], lat, (-90, 90)), (cols[1], lon, (-180, 360))):
            out = (v < lim[0]) | (v > lim[1])
            if out.any():
                units = pd.unique(frame.loc[out, unit])
                raise PanelError(f"{who}: conley coordinate {c!r} has values outside [{lim[0]}, {lim[1]}] degrees "
                                 f"for {len(units)} unit(s) {_show(units)}")
    codes, ids = pd.factorize(frame[unit].to_numpy())
    first_row = np.full(len(ids), len(codes), dtype=np.int64)
    np.minimum.at(first_row, codes, np.arange(len(codes)))
    a, b = vals[cols[0]].to_numpy(), vals[cols[1]].to_numpy()
    varies = (a != a[first_row][codes]) | (b != b[first_row][codes])
    if varies.any():
        bad = pd.unique(ids[codes[varies]])
        raise PanelError(f"{who}: conley coordinates {list(cols)} must be constant within unit; they vary for "
                         f"{len(bad)} unit(s) {_show(bad)}")
    return pd.DataFrame({cols[0]: a[first_row], cols[1]: b[first_row]}, index=pd.Index(ids, name=unit))


def _show(ids, k: int = 5) -> str:
    ids = pd.Index(ids).tolist()
    return str(ids[:k])[:-1] + (", ...]" if len(ids) > k else "]")


class UnitKernel:
    """The Conley kernel over n units: the pairs ``i < j`` within the cutoff and their weights (KD-tree).

    ``meat(S)`` returns ``sum_{i,j} K_ij s_i s_j'`` for an n x m matrix of per-unit scores ``S`` (rows in the
    order of ``units`` given to :meth:`from_data`).
    """

    def __init__(self, i: np.ndarray, j: np.ndarray, w: np.ndarray, n: int, label: str):
        self.i, self.j, self.w, self.n, self.label = i, j, w, int(n), label
        self._matrix = None

    @classmethod
    def from_data(cls, data: pd.DataFrame, unit: str, units, opts: dict, who: str) -> "UnitKernel":
        coords = check_coordinates(data, unit, opts, who)
        pos = coords.index.get_indexer(pd.Index(units))
        if np.any(pos < 0):
            raise PanelError(f"{who}: units without coordinates {_show(np.asarray(units)[pos < 0])}")
        a, b = coords.iloc[:, 0].to_numpy()[pos], coords.iloc[:, 1].to_numpy()[pos]
        return cls.from_coordinates(a, b, opts)

    @classmethod
    def from_coordinates(cls, a: np.ndarray, b: np.ndarray, opts: dict) -> "UnitKernel":
        c, kernel = opts["cutoff_value"], opts["kernel"]
        if opts["metric"] == "great_circle":
            # the KD-tree on unit-sphere chords finds great-circle neighbours exactly (econ._geo); the distance of a
            # pair is the arc of its chord, which avoids a haversine per pair
            from scipy.spatial import cKDTree

            from econ._geo import chord_of_km, km_of_chord, unit_sphere

            xyz = unit_sphere(a, b)
            pairs = cKDTree(xyz).query_pairs(r=float(chord_of_km(c)) * (1 + 1e-9) + 1e-12,
                                             output_type="ndarray").reshape(-1, 2)
            d = km_of_chord(np.linalg.norm(xyz[pairs[:, 0]] - xyz[pairs[:, 1]], axis=1))
            keep = d <= c
            pairs, d = pairs[keep], d[keep]
            w = np.ones(len(d)) if kernel == "uniform" else 1 - d / c
            label = f"Conley ({c:g} km, {kernel})"
        else:
            from scipy.spatial import cKDTree

            xy = np.column_stack([a, b])
            pairs = cKDTree(xy).query_pairs(r=c * (1 + 1e-12), output_type="ndarray").reshape(-1, 2)
            d = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T)
            keep = d <= c
            pairs, d = pairs[keep], d[keep]
            w = np.ones(len(d)) if kernel == "uniform" else 1 - d / c
            label = f"Conley (planar cutoff {c:g}, {kernel})"
        return cls(pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), np.asarray(w, float), len(a), label)

    @property
    def n_pairs(self) -> int:
        return int(len(self.w))

    def meat(self, S: np.ndarray) -> np.ndarray:
        """``S'S + sum_{i<j} w_ij (s_i s_j' + s_j s_i') = S' K S`` for per-unit scores ``S`` (n x m)."""
        S = np.asarray(S, dtype=float)
        if S.ndim == 1:
            S = S[:, None]
        if S.shape[0] != self.n:
            raise SpecificationError(f"internal: scores have {S.shape[0]} rows for {self.n} units")
        meat = S.T @ S
        if self.n_pairs:
            m = S.T @ (self.matrix @ S)
            meat += m + m.T
        return meat

    @property
    def matrix(self):
        """The kernel's strict upper triangle as a sparse CSR matrix (pairs ``i < j``), built once, so that
        ``meat = S'S + S'US + (S'US)'`` costs one sparse product per call and no n x n array."""
        if self._matrix is None:
            import scipy.sparse as sp

            order = np.argsort(self.i, kind="stable")
            indptr = np.concatenate([[0], np.cumsum(np.bincount(self.i, minlength=self.n))])
            self._matrix = sp.csr_matrix((self.w[order], self.j[order], indptr), shape=(self.n, self.n))
        return self._matrix

    def refuse_bootstrap(self, who: str, n_draws: int) -> None:
        """Conley inference is analytic only (see the module docstring)."""
        if n_draws:
            raise SpecificationError(
                f"{who}: vcov={{'conley': ...}} is analytic only; use n_draws=0 (got n_draws={n_draws}). A spatial "
                "multiplier bootstrap would need multipliers with covariance K, which the uniform and planar "
                "Bartlett kernels do not guarantee to be positive semi-definite")
