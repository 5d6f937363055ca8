"""Dose machinery for the continuous-treatment DiD (:func:`econ.did.cont_did`): the dose column's checks (used by
:func:`econ.did.design.build_design` when ``dose=`` is given), the dose bases (B-splines, or dummies for a discrete
dose) and the estimates of one (g, t) cell with their influence functions.

Conventions. For a cell with ``n_g`` treated units (dose ``D_i > 0``) and ``n_c`` comparison units, ``dy`` is the
change in the outcome from the base period to ``t``. The dose-response among the treated is the least-squares fit
of ``dy`` on a basis ``X = B(D)`` (whose span holds the constants); ``ATT(d) = B(d)'b - mean_c(dy)``,
``ACRT(d) = S(d)'b`` where ``S`` is the basis' derivative (B-splines) or the difference quotient between adjacent
dose levels (discrete doses). ``ATT^o = mean_g(dy) - mean_c(dy)`` and ``ACRT^o = mean_g(S(D_i)'b)``. Influence
functions are scaled so that ``estimate - truth ~ mean over all n units`` of them: a treated unit contributes
``(n / n_g) h' A^{-1} x_i e_i`` (``A = X'X / n_g``, ``e_i`` the residual), a comparison unit
``-(n / n_c)(dy_j - mean_c(dy))``, and ACRT^o adds the treated units' ``(n / n_g)(S(D_i)'b - ACRT^o)``. With
sampling weights ``w`` every mean is ``w``-weighted, the fit is weighted least squares and ``n_g``, ``n_c`` become
the weight totals ``W_g``, ``W_c``, each unit's influence carrying its ``w_i`` (R ``did``'s convention).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.interpolate import BSpline

from econ.did._design import _show
from econ.errors import SpecificationError, TreatmentError


def check_dose(frame: pd.DataFrame, unit: str, dose: str) -> None:
    """Raise a TreatmentError naming the rows or units with a missing, negative, non-numeric or non-finite dose, or a
    dose that changes within a unit (the design needs it fixed over time)."""
    col = frame[dose]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise SpecificationError(f"dose column {dose!r} must be numeric, got dtype {col.dtype}")
    values = col.to_numpy(dtype="float64", na_value=np.nan)
    for bad, what in ((np.isnan(values), "missing"), (np.isinf(values), "infinite"), (values < 0, "negative")):
        if bad.any():
            rows = np.flatnonzero(bad)
            raise TreatmentError(f"dose column {dose!r} has {len(rows)} {what} value(s) at rows "
                                 f"{frame.index[rows[:5]].tolist()} ({unit} {_show(frame[unit].iloc[rows].unique())})"
                                 "; a dose must be known and non-negative")
    by = pd.Series(values).groupby(frame[unit].to_numpy(), sort=False)
    spread = by.max() - by.min()
    varies = spread.index[spread.to_numpy() > 0]
    if len(varies) and np.isin(values, (0.0, 1.0)).all():
        raise TreatmentError(f"dose column {dose!r} is a 0/1 treatment dummy that switches on within units (e.g. "
                             f"{unit} {_show(varies, 3)}), not a dose: this is a binary staggered treatment; use "
                             "econ.did.att_gt (or twfe, sun_abraham, imputation) with the first treated period as "
                             "cohort, or give cont_did each unit's dose")
    if len(varies):
        raise TreatmentError(f"dose {dose!r} must be fixed within unit (the dose a unit receives once treated); it "
                             f"changes over time for {len(varies)} {unit}(s) {_show(varies)}")


# ----------------------------------------------------------------------------------------------------- bases
class DoseBasis:
    """A basis of the dose-response: ``value(d)`` (n x k, its span holds the constants) and ``slope(d)`` (n x k).

    ``kind="spline"``: B-splines of ``degree`` with the given interior ``knots`` on ``[lo, hi]`` (extrapolated as
    polynomials outside); ``kind="discrete"``: one dummy per dose level, the slope at level ``d_j`` being the
    difference quotient ``(ATT(d_j) - ATT(d_{j-1})) / (d_j - d_{j-1})`` with ``d_0 = origin`` (0, or the lowest
    dose ``d_L`` of a lowest-dose comparison) and ``ATT(d_0) = 0``.
    """

    def __init__(self, kind: str, *, degree: int = 3, knots=(), lo: float = 0.0, hi: float = 1.0, levels=(),
                 origin: float = 0.0):
        self.kind = kind
        self.origin = origin  # the reference dose of a discrete ACRT(d_1): 0, or d_L with lowest-dose comparisons
        if kind == "spline":
            self.degree = degree
            self.knots = np.asarray(knots, float)
            t = np.r_[[lo] * (degree + 1), self.knots, [hi] * (degree + 1)]
            k = len(t) - degree - 1
            self._spl = BSpline(t, np.eye(k), degree, extrapolate=True)
            self._der = self._spl.derivative()
            self.k = k
        else:
            self.levels = np.asarray(levels, float)
            self.k = len(self.levels)

    def value(self, d) -> np.ndarray:
        d = np.asarray(d, float)
        if self.kind == "spline":
            return self._spl(d)
        return (d[:, None] == self.levels[None, :]).astype(float)

    def slope(self, d) -> np.ndarray:
        d = np.asarray(d, float)
        if self.kind == "spline":
            return self._der(d) if self.degree > 0 else np.zeros((len(d), self.k))
        j = np.searchsorted(self.levels, d)
        if np.any((j >= self.k) | (self.levels[np.minimum(j, self.k - 1)] != d)):
            raise SpecificationError("a discrete dose-response is evaluated only at the observed dose levels "
                                     f"{self.levels.tolist()}")
        out = np.zeros((len(d), self.k))
        prev = np.r_[self.origin, self.levels][j]
        out[np.arange(len(d)), j] = 1.0 / (d - prev)
        has_prev = j > 0
        out[np.flatnonzero(has_prev), j[has_prev] - 1] = -1.0 / (d[has_prev] - prev[has_prev])
        return out


def discrete_slope_intercept(basis: DoseBasis, d) -> np.ndarray:
    """For discrete doses ACRT(d_1) = ATT(d_1) / d_1 also involves the comparison mean: its coefficient per row."""
    if basis.kind != "discrete":
        return np.zeros(len(np.asarray(d)))
    d = np.asarray(d, float)
    return np.where(d == basis.levels[0], -1.0 / (d - basis.origin), 0.0)


def quantile_knots(doses: np.ndarray, num_knots: int) -> np.ndarray:
    """``num_knots`` interior knots at equally spaced quantiles of the positive doses (R contdid's rule)."""
    if num_knots == 0:
        return np.empty(0)
    return np.quantile(doses, np.linspace(0, 1, num_knots + 2)[1:-1])


# ----------------------------------------------------------------------------------------------------- one cell
def cell(dy: np.ndarray, dose: np.ndarray, treated: np.ndarray, comp: np.ndarray, basis: DoseBasis,
         grid: np.ndarray, n: int, w: np.ndarray | None = None) -> dict:
    """Estimates and influence functions (length ``n``, over all units) of one (g, t) cell.

    ``dy`` (length ``n``, NaN where unobserved), ``treated``/``comp`` boolean masks of the cell's treated and
    comparison units. Returns ``att_o``, ``acrt_o``, ``att_d``, ``acrt_d`` (on ``grid``) and ``if_*`` arrays
    (``if_att_d``/``if_acrt_d``: n x len(grid)). ``w``: sampling weights of the n units (None: equal).
    """
    it, ic = np.flatnonzero(treated), np.flatnonzero(comp)
    w = np.ones(n) if w is None else w
    wt, wc = w[it], w[ic]
    n_g, n_c = wt.sum(), wc.sum()  # (weighted) sizes of the treated and comparison groups
    y1, d1 = dy[it], dose[it]
    X = basis.value(d1)
    keep = X.any(axis=0)  # discrete levels absent from this cell (or B-splines with no support) are left out
    Xk = X[:, keep]
    A = Xk.T @ (wt[:, None] * Xk) / n_g
    Ainv = np.linalg.pinv(A)
    b = np.zeros(basis.k)
    b[keep] = Ainv @ (Xk.T @ (wt * y1)) / n_g
    e = y1 - X @ b
    m_c = float(wc @ dy[ic]) / n_c
    psi_c = -(n / n_c) * wc * (dy[ic] - m_c)
    score = (n / n_g) * (Xk * (wt * e)[:, None]) @ Ainv  # n_g x k_kept: the coefficients' influence (treated rows)

    def lin_if(H):  # influence of H b (H: m x k) over all units (treated rows only)
        out = np.zeros((n, H.shape[0]))
        out[it] = score @ H[:, keep].T
        return out

    G, S = basis.value(grid), basis.slope(grid)
    s_i = basis.slope(d1)
    att_d = G @ b - m_c
    acrt_d = S @ b
    if_att_d = lin_if(G)
    if_att_d[ic] += psi_c[:, None]
    if_acrt_d = lin_if(S)
    c0 = discrete_slope_intercept(basis, grid)  # discrete ACRT(d_1) = ATT(d_1) / d_1 carries -mean_c / d_1
    acrt_d = acrt_d + c0 * m_c
    if_acrt_d[ic] -= psi_c[:, None] * c0[None, :]
    acrt_i = s_i @ b + discrete_slope_intercept(basis, d1) * m_c
    acrt_o = float(wt @ acrt_i) / n_g
    if_acrt_o = lin_if((wt @ s_i)[None, :] / n_g)[:, 0]
    if_acrt_o[it] += (n / n_g) * wt * (acrt_i - acrt_o)
    if_acrt_o[ic] -= psi_c * float(wt @ discrete_slope_intercept(basis, d1)) / n_g
    m_g = float(wt @ y1) / n_g
    att_o = m_g - m_c
    if_att_o = np.zeros(n)
    if_att_o[it] = (n / n_g) * wt * (y1 - m_g)
    if_att_o[ic] = psi_c
    has_att = np.ones(len(grid), bool) if basis.kind == "spline" else (G[:, keep].sum(axis=1) > 0)
    has_acrt = has_att if basis.kind == "spline" else ~((S != 0) & ~keep[None, :]).any(axis=1)
    return dict(att_o=att_o, acrt_o=acrt_o, att_d=att_d, acrt_d=acrt_d, if_att_o=if_att_o, if_acrt_o=if_acrt_o,
                if_att_d=if_att_d, if_acrt_d=if_acrt_d, has_att=has_att, has_acrt=has_acrt & has_att,
                n_treated=len(it), n_comparison=len(ic))
