"""Covariance estimators for linear models: one small class per type, each ``compute(inputs, ssc)``.

Every estimator is a sandwich ``V = c * B M B`` with bread ``B = (X~'W X~)^{-1}`` (the demeaned, weighted design),
meat ``M`` built from the scores ``s_i = w_i x~_i u_i`` (``u`` residuals, ``w`` analytic weights), and a
small-sample factor ``c``. Specs accepted by :func:`parse_vcov` (and by ``econ.feols(vcov=...)``):

==========================================  =========================================================================
spec                                        meat
==========================================  =========================================================================
``"iid"``                                   ``sigma^2 B^{-1}`` with ``sigma^2 = sum(w u^2) / (n - 1)``
``"hetero"`` (alias ``"HC1"``)              ``sum_i s_i s_i'``
``{"CL1": "unit"}``                         ``sum_g S_g S_g'`` with ``S_g`` the score sum of cluster ``g``
``{"CL2": ("a", "b")}``                     Cameron, Gelbach & Miller (2011): ``M_a + M_b - M_{a x b}``
``{"DK": lag, "time": "year"}``             Driscoll & Kraay (1998): Newey-West (Bartlett weights ``1 - l/(L+1)``,
                                            ``l = 1..L``) on the period sums ``S_t = sum_{i in t} s_i``; lags count
                                            consecutive observed periods; ``lag=None`` -> ``floor(T^(1/4))``
``{"conley": {"lat": .., "lon": ..}}``       Conley (1999) spatial HAC (more keys: see :class:`Conley`)
``{"survey": {"strata": .., "psu": ..}}``   design-based (Taylor-linearised) variance of the score totals over
                                            strata and PSUs, R ``survey``'s ``svyglm`` (:class:`Survey`; also
                                            ``vcov=econ.survey.SurveyDesign(...)``)
==========================================  =========================================================================

Small-sample factor ``c`` (fixest's ``ssc()``; defaults ``adj=True, fixef_k="nested", cluster_adj=True,
cluster_df="min"``, as in fixest >= 0.10 and pyfixest). With ``n`` observations and ``K`` parameters:

* ``adj``: factor ``(n - 1) / (n - K)``.
* ``K`` = slopes (the intercept included) + fixed-effect parameters counted by ``fixef_k``: ``"none"`` -> 0;
  ``"full"`` -> ``sum_j G_j - (Q - 1)`` for ``Q`` effects with ``G_j`` levels (fixest's count, which assumes
  one redundant level per extra effect); ``"nested"`` -> as ``"full"`` but every effect nested in a cluster
  variable (each level inside one cluster) contributes 1 instead of ``G_j`` (only for clustered covariances;
  for the others it equals ``"full"``).
* ``cluster_adj``: ``G / (G - 1)`` for clustered covariances (``T / (T - 1)`` for Driscoll-Kraay, ``T`` periods);
  for ``"hetero"`` and Conley it is ``n / (n - 1)``, so the default heteroskedasticity-robust factor is
  ``n / (n - K)``, the textbook HC1 (fixest's behaviour).
* ``cluster_df`` (two-way only): ``"min"`` multiplies all three terms by ``G_min / (G_min - 1)``;
  ``"conventional"`` multiplies each by its own ``G / (G - 1)``.

Hence, with defaults: iid ``RSS_w / (n - K)``; hetero ``n / (n - K)``; one-way cluster
``(n - 1) / (n - K) * G / (G - 1)``; two-way ``(n - 1) / (n - K) * G_min / (G_min - 1)``; Driscoll-Kraay
``(n - 1) / (n - K) * T / (T - 1)``; Conley ``n / (n - K)``.

Degrees of freedom for t tests (fixest ``t.df="min"``): ``G - 1`` (``G_min - 1`` two-way), ``T - 1`` for
Driscoll-Kraay, ``n - K`` otherwise.

Presets for ``ssc``:

* ``"fixest"`` (default): as above.
* ``"stata"``: Stata ``reghdfe``'s documented rules -- ``(n-1)/(n-K)`` with fixed effects nested in the clusters
  not counted (the constant counted once), ``G/(G-1)`` with ``G_min`` for multiway clustering, ``n/(n-K)`` for
  ``vce(robust)``. These coincide with the fixest defaults for every estimator here, so the preset only names
  the convention (it is not checked against Stata in this package's tests).
* ``"linearmodels"``: ``fixef_k="full", cluster_df="conventional"`` -- reproduces linearmodels ``PanelOLS`` with
  ``debiased=True`` (and ``group_debias=True`` for clustered covariances): all effects counted in ``K``, each
  cluster dimension its own ``G/(G-1)``. One exception, by linearmodels' design: with a *single* effect nested in
  the cluster variable PanelOLS counts no effect parameter at all; use ``ssc={"fixef_k": "none"}`` for that case.
* ``"none"``: no adjustment at all (``adj=False, cluster_adj=False``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from econ.errors import SpecificationError
from econ.panel.demean import _group_sum_matrix

__all__ = [
    "SSC",
    "make_ssc",
    "VcovInputs",
    "VcovResult",
    "IID",
    "Hetero",
    "Cluster",
    "TwoWayCluster",
    "DriscollKraay",
    "Conley",
    "Survey",
    "parse_vcov",
    "EARTH_RADIUS_KM",
]

from econ._geo import EARTH_RADIUS_KM, haversine_km  # noqa: E402  (one haversine for the package)


# ------------------------------------------------------------------------------------------ small-sample factors
@dataclass(frozen=True)
class SSC:
    """Small-sample correction settings (see the module docstring for the factors they imply)."""

    adj: bool = True
    fixef_k: str = "nested"
    cluster_adj: bool = True
    cluster_df: str = "min"

    def __post_init__(self):
        if self.fixef_k not in ("none", "nested", "full"):
            raise SpecificationError(f"ssc fixef_k must be 'none', 'nested' or 'full', got {self.fixef_k!r}")
        if self.cluster_df not in ("min", "conventional"):
            raise SpecificationError(f"ssc cluster_df must be 'min' or 'conventional', got {self.cluster_df!r}")


PRESETS = {
    "fixest": SSC(),
    "stata": SSC(adj=True, fixef_k="nested", cluster_adj=True, cluster_df="min"),
    "linearmodels": SSC(adj=True, fixef_k="full", cluster_adj=True, cluster_df="conventional"),
    "none": SSC(adj=False, fixef_k="none", cluster_adj=False, cluster_df="conventional"),
}


def make_ssc(spec=None) -> SSC:
    """``None`` / preset name / dict of SSC fields / SSC -> SSC."""
    if spec is None:
        return PRESETS["fixest"]
    if isinstance(spec, SSC):
        return spec
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise SpecificationError(f"unknown ssc preset {spec!r}; choose one of {sorted(PRESETS)}")
        return PRESETS[spec]
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"adj", "fixef_k", "cluster_adj", "cluster_df"}
        if unknown:
            raise SpecificationError(f"unknown ssc key(s) {sorted(unknown)}; allowed: adj, fixef_k, cluster_adj, "
                                     "cluster_df")
        return SSC(**spec)
    raise SpecificationError(f"ssc must be None, a preset name, a dict or an SSC, got {spec!r}")


# ------------------------------------------------------------------------------------------ inputs and outputs
@dataclass
class VcovInputs:
    """Everything a covariance estimator needs from a fitted linear model.

    ``X`` is the demeaned design (n x k), ``wu`` the weighted residuals ``w_i u_i``, so the scores are
    ``s_i = x~_i w_i u_i`` (:attr:`scores`, computed on first use); ``bread`` is ``(X~'W X~)^{-1}``, ``rss`` is
    ``sum w_i u_i^2``, ``k`` the number of slope parameters (intercept included), ``fe_codes`` the (n, Q)
    fixed-effect codes and ``fe_sizes`` their level counts, ``column(name)`` returns a data column on the
    estimation sample.
    """

    X: np.ndarray
    wu: np.ndarray
    bread: np.ndarray
    rss: float
    n: int
    k: int
    fe_codes: np.ndarray | None
    fe_sizes: list[int]
    fe_names: list[str]
    column: Callable[[str], np.ndarray]
    data: pd.DataFrame | None = None  # the whole input (survey designs count PSUs on it)
    rows: np.ndarray | None = None  # positions of the estimation sample in ``data``

    @cached_property
    def scores(self) -> np.ndarray:
        return self.X * self.wu[:, None]

    def df_k(self, ssc: SSC, clusters: list[tuple[str, np.ndarray]] | None = None) -> int:
        """``K`` of the ``(n - 1) / (n - K)`` factor (module docstring)."""
        q = len(self.fe_sizes)
        if q == 0 or ssc.fixef_k == "none":
            return self.k
        k_fe = sum(self.fe_sizes) - (q - 1)
        if ssc.fixef_k == "nested" and clusters:
            for j, (name, size) in enumerate(zip(self.fe_names, self.fe_sizes)):
                if any(_nested(self.fe_codes[:, j], size, cname, codes, name) for cname, codes in clusters):
                    k_fe -= size - 1
        return self.k + k_fe


@dataclass
class VcovResult:
    """A computed covariance with its inference conventions."""

    vcov: np.ndarray
    df_t: float
    label: str
    factor: float | tuple
    df_k: int
    cluster: str | None = None
    n_clusters: int | tuple | None = None


def _nested(fe: np.ndarray, size: int, cname: str, clusters: np.ndarray, fe_name: str) -> bool:
    """True when every level of the effect lies in a single cluster."""
    if fe_name == cname:
        return True
    first = np.empty(size, dtype=clusters.dtype)
    first[fe] = clusters  # one cluster per level (the last seen); nested iff every row agrees with it
    return bool(np.array_equal(first[fe], clusters))


def _codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    codes, uniques = pd.factorize(pd.Series(values), sort=False)
    return codes.astype(np.int64), len(uniques)


def group_sums(values: np.ndarray, codes: np.ndarray, g: int) -> np.ndarray:
    """Sums of ``values`` ((n,) or (n, m)) within each of the ``g`` groups ``codes`` -> (g,) or (g, m)."""
    return _group_sum_matrix(codes, g, None) @ values


def _cluster_meat(scores: np.ndarray, codes: np.ndarray, g: int) -> np.ndarray:
    sums = group_sums(scores, codes, g)
    return sums.T @ sums


def _sandwich(bread: np.ndarray, meat: np.ndarray) -> np.ndarray:
    v = bread @ meat @ bread
    return (v + v.T) / 2


def _adj(n: int, K: int, ssc: SSC) -> float:
    if not ssc.adj:
        return 1.0
    if n - K <= 0:
        return float("nan")  # no residual degrees of freedom: standard errors undefined (feols adds a note)
    return (n - 1) / (n - K)


def _hc_adj(n: int, K: int, ssc: SSC) -> float:
    """Factor of the heteroskedasticity-robust meat (also Conley's): ``adj * n / (n - 1)`` (default ``n/(n-K)``)."""
    return _adj(n, K, ssc) * (n / (n - 1) if ssc.cluster_adj and n > 1 else 1.0)


def _g_adj(g: int, ssc: SSC, name: str) -> float:
    """``G / (G - 1)``; fewer than 2 clusters (periods for Driscoll-Kraay) is an error whatever ``ssc`` says:
    one cluster's score sum is ``X~'W u = 0``, so the covariance would be exactly zero."""
    if g < 2:
        raise SpecificationError(f"clustering needs at least 2 clusters; {name!r} has {g} in the estimation sample")
    return g / (g - 1) if ssc.cluster_adj else 1.0


# ------------------------------------------------------------------------------------------ estimators
class IID:
    """Homoskedastic: ``V = adj * sum(w u^2) / (n - 1) * B``; default factor gives ``RSS_w / (n - K)``."""

    def columns(self) -> list[str]:
        return []

    def compute(self, inp: VcovInputs, ssc: SSC) -> VcovResult:
        K = inp.df_k(ssc)
        f = _adj(inp.n, K, ssc)
        sigma2 = inp.rss / (inp.n - 1) if inp.n > 1 else np.nan
        return VcovResult(inp.bread * sigma2 * f, df_t=inp.n - K, label="iid", factor=f, df_k=K)


class Hetero:
    """Heteroskedasticity-robust HC1: ``V = adj * n/(n-1) * B (sum s_i s_i') B`` (default ``n/(n-K)``)."""

    def columns(self) -> list[str]:
        return []

    def compute(self, inp: VcovInputs, ssc: SSC) -> VcovResult:
        K = inp.df_k(ssc)
        f = _hc_adj(inp.n, K, ssc)
        meat = inp.scores.T @ inp.scores
        return VcovResult(_sandwich(inp.bread, meat) * f, df_t=inp.n - K, label="heteroskedasticity-robust (HC1)",
                          factor=f, df_k=K)


class Cluster:
    """One-way cluster-robust (CRV1): ``V = (n-1)/(n-K) * G/(G-1) * B (sum_g S_g S_g') B``; t df ``G - 1``."""

    def __init__(self, col: str):
        self.col = col

    def columns(self) -> list[str]:
        return [self.col]

    def factor(self, inp: VcovInputs, ssc: SSC, codes: np.ndarray, g: int) -> tuple[float, int]:
        """The small-sample factor ``(n-1)/(n-K) * G/(G-1)`` and its ``K`` (the wild bootstrap uses it too)."""
        K = inp.df_k(ssc, [(self.col, codes)])
        return _adj(inp.n, K, ssc) * _g_adj(g, ssc, self.col), K

    def compute(self, inp: VcovInputs, ssc: SSC) -> VcovResult:
        codes, g = _codes(inp.column(self.col))
        f, K = self.factor(inp, ssc, codes, g)
        v = _sandwich(inp.bread, _cluster_meat(inp.scores, codes, g)) * f
        return VcovResult(v, df_t=g - 1, label="clustered", factor=f, df_k=K, cluster=self.col, n_clusters=g)


class TwoWayCluster:
    """Two-way cluster-robust (Cameron, Gelbach & Miller 2011): ``V = V_a + V_b - V_{a x b}``.

    Each term is a one-way CRV1 sandwich; the three are multiplied by ``G_min/(G_min-1)`` (``cluster_df="min"``)
    or by their own ``G/(G-1)`` (``"conventional"``), and the sum by ``(n-1)/(n-K)``. No eigenvalue fix is applied
    (as fixest/pyfixest by default), so a variance can come out negative in tiny samples. t df: ``G_min - 1``.
    """

    def __init__(self, a: str, b: str):
        self.a, self.b = a, b

    def columns(self) -> list[str]:
        return [self.a, self.b]

    def compute(self, inp: VcovInputs, ssc: SSC) -> VcovResult:
        ca, ga = _codes(inp.column(self.a))
        cb, gb = _codes(inp.column(self.b))
        cab, gab = _codes(ca * gb + cb)
        K = inp.df_k(ssc, [(self.a, ca), (self.b, cb), (f"{self.a}^{self.b}", cab)])
        gmin = min(ga, gb)
        if ssc.cluster_df == "min":
            fa = fb = fab = _g_adj(gmin, ssc, self.a if ga <= gb else self.b)
        else:
            fa, fb, fab = _g_adj(ga, ssc, self.a), _g_adj(gb, ssc, self.b), _g_adj(gab, ssc, f"{self.a}^{self.b}")
        meat = (fa * _cluster_meat(inp.scores, ca, ga) + fb * _cluster_meat(inp.scores, cb, gb)
                - fab * _cluster_meat(inp.scores, cab, gab))
        adj = _adj(inp.n, K, ssc)
        return VcovResult(_sandwich(inp.bread, meat) * adj, df_t=gmin - 1, label="two-way clustered",
                          factor=(adj, fa, fb, fab), df_k=K, cluster=f"{self.a} & {self.b}", n_clusters=(ga, gb))


class DriscollKraay:
    """Driscoll & Kraay (1998): Newey-West with Bartlett weights on the cross-sectional sums of the scores.

    ``M = G_0 + sum_{l=1}^{L} (1 - l/(L+1)) (G_l + G_l')`` with ``G_l = sum_t S_t S_{t-l}'`` over the sorted
    distinct periods (lags count consecutive observed periods). Factor ``(n-1)/(n-K) * T/(T-1)``; t df ``T - 1``
    (as pyfixest). ``lag=None`` -> ``floor(T^(1/4))``.
    """

    def __init__(self, lag: int | None, time: str):
        if lag is not None and (not isinstance(lag, (int, np.integer)) or lag < 0):
            raise SpecificationError(f"Driscoll-Kraay lag must be a non-negative integer, got {lag!r}")
        self.lag, self.time = lag, time

    def columns(self) -> list[str]:
        return [self.time]

    def compute(self, inp: VcovInputs, ssc: SSC) -> VcovResult:
        t = inp.column(self.time)
        periods, codes = np.unique(t, return_inverse=True)
        T = len(periods)
        lag = int(np.floor(T ** 0.25)) if self.lag is None else int(self.lag)
        sums = group_sums(inp.scores, codes, T)
        meat = sums.T @ sums
        for lv in range(1, min(lag, T - 1) + 1):
            gamma = sums[lv:].T @ sums[:-lv]
            meat += (1 - lv / (lag + 1)) * (gamma + gamma.T)
        K = inp.df_k(ssc)
        f = _adj(inp.n, K, ssc) * _g_adj(T, ssc, self.time)
        return VcovResult(_sandwich(inp.bread, meat) * f, df_t=T - 1,
                          label=f"Driscoll-Kraay (lag {lag}, {T} periods of {self.time})", factor=f, df_k=K,
                          n_clusters=T)


class Conley:
    """Conley (1999) spatial HAC for panels, in the form of Hsiang (2010) ``ols_spatial_HAC``.

    Meat ``M = sum_{i,j} K_ij s_i s_j'`` with

    * spatial part: observations ``i, j`` **in the same period** (or all pairs when ``time`` is not given) at
      great-circle distance ``d_ij`` (haversine, km) get ``K_ij = 1[d_ij <= cutoff]`` (``kernel="uniform"``) or
      ``K_ij = max(0, 1 - d_ij / cutoff)`` (``"bartlett"``); ``K_ii = 1``;
    * serial part (``lag > 0``, needs ``time`` and ``unit``): observations of the **same unit** ``|t_i - t_j| = l``
      periods apart (``1 <= l <= lag``, in units of the time variable) get the Bartlett weight ``1 - l/(lag+1)``.

    Without ``time`` every pair within the cutoff is correlated whatever its period (this also correlates a
    location with itself over time, like clustering by location). Small-sample factor: the one of ``"hetero"``
    (``n/(n-K)`` by default) -- Conley nests HC1 when ``cutoff -> 0`` and ``lag = 0``; t df ``n - K``.
    """

    def __init__(self, lat: str, lon: str, cutoff_km: float, lag: int = 0, kernel: str = "uniform",
                 time: str | None = None, unit: str | None = None):
        if not (isinstance(cutoff_km, (int, float, np.number)) and cutoff_km > 0):
            raise SpecificationError(f"Conley cutoff_km must be a positive number, got {cutoff_km!r}")
        if kernel not in ("uniform", "bartlett"):
            raise SpecificationError(f"Conley kernel must be 'uniform' or 'bartlett', got {kernel!r}")
        if not isinstance(lag, (int, np.integer)) or lag < 0:
            raise SpecificationError(f"Conley lag must be a non-negative integer, got {lag!r}")
        if lag > 0 and (time is None or unit is None):
            raise SpecificationError("Conley with lag > 0 needs the panel's 'time' and 'unit' columns "
                                     "(pass them in the conley dict or as feols(time=..., unit=...))")
        self.lat, self.lon, self.cutoff_km, self.lag, self.kernel = lat, lon, float(cutoff_km), int(lag), kernel
        self.time, self.unit = time, unit

    def columns(self) -> list[str]:
        return [c for c in (self.lat, self.lon, self.time, self.unit) if c is not None]

    def _coords(self, inp: VcovInputs):
        lat = np.asarray(inp.column(self.lat), dtype=float)
        lon = np.asarray(inp.column(self.lon), dtype=float)
        if np.any(np.abs(lat) > 90):
            bad = np.flatnonzero(np.abs(lat) > 90)[:5]
            raise SpecificationError(f"latitude column {self.lat!r} has values outside [-90, 90] (rows {bad.tolist()})")
        if np.any((lon < -180) | (lon > 360)):
            raise SpecificationError(f"longitude column {self.lon!r} has values outside [-180, 360]")
        return lat, lon

    def spatial_pairs(self, lat: np.ndarray, lon: np.ndarray, rows: np.ndarray):
        """Pairs ``i < j`` (indices into ``rows``' positions) within the cutoff, and their kernel weights."""
        from scipy.spatial import cKDTree

        phi, lmb = np.radians(lat[rows]), np.radians(lon[rows])
        xyz = np.column_stack([np.cos(phi) * np.cos(lmb), np.cos(phi) * np.sin(lmb), np.sin(phi)])
        theta = min(self.cutoff_km / EARTH_RADIUS_KM, np.pi)
        chord = 2 * np.sin(theta / 2) * (1 + 1e-9) + 1e-12
        pairs = cKDTree(xyz).query_pairs(r=chord, output_type="ndarray")
        if pairs.size == 0:
            return pairs.reshape(0, 2), np.zeros(0)
        i, j = rows[pairs[:, 0]], rows[pairs[:, 1]]
        d = haversine_km(lat[i], lon[i], lat[j], lon[j])
        keep = d <= self.cutoff_km
        w = np.ones(keep.sum()) if self.kernel == "uniform" else 1 - d[keep] / self.cutoff_km
        return np.column_stack([i[keep], j[keep]]), w

    def compute(self, inp: VcovInputs, ssc: SSC) -> VcovResult:
        lat, lon = self._coords(inp)
        s = inp.scores
        meat = s.T @ s  # K_ii = 1
        if self.time is not None:
            t_codes, _ = _codes(inp.column(self.time))
            order = np.argsort(t_codes, kind="stable")
            bounds = np.flatnonzero(np.diff(t_codes[order])) + 1
            groups = np.split(order, bounds)
        else:
            groups = None
        if groups is None:  # all pairs whatever the period: sum the scores of each location first (K = 1 at
            # distance 0), so a panel's repeated coordinates cost one KD-tree point per location, not per row
            _, first, loc = np.unique(np.column_stack([lat, lon]), axis=0, return_index=True, return_inverse=True)
            s_loc = np.zeros((len(first), s.shape[1]))
            np.add.at(s_loc, loc.ravel(), s)
            meat = s_loc.T @ s_loc
            pairs, w = self.spatial_pairs(lat[first], lon[first], np.arange(len(first)))
            if len(w):
                m = (s_loc[pairs[:, 0]] * w[:, None]).T @ s_loc[pairs[:, 1]]
                meat += m + m.T
            groups = []
        for rows in groups:
            pairs, w = self.spatial_pairs(lat, lon, rows)
            if len(w):
                m = (s[pairs[:, 0]] * w[:, None]).T @ s[pairs[:, 1]]
                meat += m + m.T
        if self.lag > 0:
            meat += self._serial(inp)
        K = inp.df_k(ssc)
        f = _hc_adj(inp.n, K, ssc)
        label = f"Conley ({self.cutoff_km:g} km, {self.kernel}" + (f", lag {self.lag})" if self.lag else ")")
        return VcovResult(_sandwich(inp.bread, meat) * f, df_t=inp.n - K, label=label, factor=f, df_k=K)

    def _serial(self, inp: VcovInputs) -> np.ndarray:
        time = np.asarray(inp.column(self.time), dtype=float)
        if np.any(time != np.round(time)):
            raise SpecificationError(f"Conley serial correlation needs an integer time column; {self.time!r} is not")
        time = time.astype(np.int64)
        unit, _ = _codes(inp.column(self.unit))
        span = int(time.max() - time.min()) + 1
        key = unit * (span + self.lag + 1) + (time - time.min())
        order = np.argsort(key, kind="stable")
        sorted_keys = key[order]
        if np.any(np.diff(sorted_keys) == 0):
            raise SpecificationError(f"Conley serial correlation: ({self.unit}, {self.time}) pairs are not unique")
        s = inp.scores
        meat = np.zeros((s.shape[1], s.shape[1]))
        for lv in range(1, self.lag + 1):
            pos = np.searchsorted(sorted_keys, key + lv)
            pos = np.minimum(pos, len(sorted_keys) - 1)
            hit = sorted_keys[pos] == key + lv
            i, j = np.flatnonzero(hit), order[pos[hit]]
            m = s[i].T @ s[j] * (1 - lv / (self.lag + 1))
            meat += m + m.T
        return meat


class Survey:
    """Design-based covariance of a complex survey (R ``survey``'s ``svyglm``): ``V = B M B`` with ``M`` the
    stratified between-PSU variance of the score totals (:func:`econ.survey.stratified_meat`).

    The scores ``s_i = x~_i w_i u_i`` of the estimation sample are placed in the rows of the whole input (zeros for
    rows the fit dropped), so strata and PSUs are counted on the full sample, as ``svyglm`` does. No ``ssc``
    factor applies (the design's ``n_h / (n_h - 1)`` and ``1 - f_h`` are the whole correction, as in R); t tests
    use the design degrees of freedom, PSUs minus strata (Stata's ``svy``; R's ``svyglm`` subtracts the
    coefficients as well).
    """

    def __init__(self, design):
        self.design = design

    def columns(self) -> list[str]:
        return self.design.columns()

    def compute(self, inp: VcovInputs, ssc: SSC) -> VcovResult:
        if inp.data is None:
            raise SpecificationError("internal: a survey covariance needs the input data")
        sv = self.design.resolve(inp.data, who="vcov survey design")
        full = np.zeros((len(inp.data), inp.scores.shape[1]))
        full[np.arange(inp.n) if inp.rows is None else inp.rows] = inp.scores
        v = _sandwich(inp.bread, sv.meat(full))
        return VcovResult(v, df_t=max(sv.degf, 1), label=sv.label, factor=1.0, df_k=inp.df_k(ssc),
                          cluster=self.design.psu, n_clusters=sv.n_psu)


# ------------------------------------------------------------------------------------------ parsing
def parse_vcov(spec, *, time: str | None = None, unit: str | None = None):
    """Turn a user spec (see module docstring) into an estimator object with ``columns()`` and ``compute()``.

    ``time`` / ``unit`` are the panel columns given to ``feols``; they fill in Driscoll-Kraay's time variable and
    Conley's panel structure when the spec does not name them.
    """
    if isinstance(spec, (IID, Hetero, Cluster, TwoWayCluster, DriscollKraay, Conley, Survey)):
        return spec
    from econ.survey import survey_spec

    survey = survey_spec(spec, "vcov")
    if survey is not None:
        return Survey(survey)
    if spec is None or (isinstance(spec, str) and spec.lower() == "iid"):
        return IID()
    if isinstance(spec, str):
        if spec.lower() in ("hetero", "hc1", "robust"):
            return Hetero()
        raise SpecificationError(
            f"unknown vcov {spec!r}; use 'iid', 'hetero', {{'CL1': col}}, {{'CL2': (a, b)}}, "
            "{'DK': lag, 'time': col}, {'conley': {...}} or {'survey': {...}}"
        )
    if not isinstance(spec, Mapping) or not spec:
        raise SpecificationError(f"vcov must be a string or a dict, got {spec!r}")
    spec = dict(spec)
    key = next(iter(spec))
    kind = str(key).upper()
    value = spec[key]
    if kind in ("CL1", "CRV1", "CLUSTER"):
        cols = _cluster_cols(value)
        if len(cols) == 1:
            return Cluster(cols[0])
        if len(cols) == 2:
            return TwoWayCluster(*cols)
        raise SpecificationError(f"at most two-way clustering is supported, got {cols}")
    if kind == "CL2":
        cols = _cluster_cols(value)
        if len(cols) != 2:
            raise SpecificationError(f"CL2 needs two cluster columns, got {value!r}")
        return TwoWayCluster(*cols)
    if kind == "DK":
        if isinstance(value, Mapping):
            lag, t = value.get("lag"), value.get("time", spec.get("time", time))
        else:
            lag, t = value, spec.get("time", time)
        if t is None:
            raise SpecificationError("Driscoll-Kraay needs the time variable: vcov={'DK': 2, 'time': 'year'} or "
                                     "feols(..., time='year')")
        return DriscollKraay(lag, t)
    if kind == "CONLEY":
        if not isinstance(value, Mapping):
            raise SpecificationError("conley spec must be a dict: {'conley': {'lat': .., 'lon': .., 'cutoff_km': ..}}")
        opts = dict(value)
        missing = [k for k in ("lat", "lon", "cutoff_km") if k not in opts]
        if missing:
            raise SpecificationError(f"conley spec is missing {missing}")
        allowed = {"lat", "lon", "cutoff_km", "lag", "kernel", "time", "unit"}
        if set(opts) - allowed:
            raise SpecificationError(
                f"unknown conley option(s) {sorted(set(opts) - allowed)}; allowed {sorted(allowed)}"
            )
        opts.setdefault("time", time)
        opts.setdefault("unit", unit)
        return Conley(**opts)
    raise SpecificationError(f"unknown vcov type {key!r}; use 'CL1', 'CL2', 'DK', 'conley' or 'survey'")


def _cluster_cols(value) -> list[str]:
    if isinstance(value, str):
        return [c.strip() for c in value.split("+") if c.strip()]
    if isinstance(value, (list, tuple)):
        return [str(c) for c in value]
    raise SpecificationError(f"cluster columns must be a name or a tuple of names, got {value!r}")
