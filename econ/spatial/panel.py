"""Spatial panel models with fixed effects: SAR, SDM, SEM, SDEM, SAC and SLX by concentrated maximum likelihood.

Model, for periods ``t = 1..T`` and ``n`` units in ``W``'s order (data stacked time-major, row ``t n + i``):

    y_t = rho W y_t + X_t b + W X_t theta + mu + alpha_t l + u_t,   u_t = lambda W u_t + e_t,   e ~ N(0, s2 I),

with unit effects ``mu`` and/or period effects ``alpha_t`` (``effects="unit"|"time"|"twoways"``; ``None`` is the
pooled model with an intercept). SAR: ``theta = 0, lambda = 0``; SDM: ``lambda = 0``; SEM: ``rho = theta = 0``;
SDEM: ``rho = 0``; SLX: ``rho = lambda = 0`` (within OLS); SAC: ``theta = 0``.

Estimation (Elhorst 2003; 2014, ch. 3): the fixed effects are concentrated out by the within transformation
``Q``. The spatial lags ``W y`` and ``W X`` are computed on the raw data and then demeaned (``Q W y``), which is
the exact concentration of the effects: for unit effects it equals the lag of the demeaned data; with period
effects it differs unless the columns of ``W`` also sum to one (Elhorst's ``sar_panel_FE`` demeans the lag too).
In the error models the filter ``B = I - lambda W`` turns a period effect into ``alpha_t B l``; when the rows of
``W`` do not all sum to one (islands, binary weights) that is not a constant and it is projected out exactly
(:func:`filtered_within`). The tests check every case against ML with the effect dummies as regressors.
The concentrated log-likelihood is maximised over the spatial parameter (Brent on the admissible interval);
``beta`` and ``s2`` follow in closed form.

Two versions (``lee_yu=``):

* ``lee_yu=False`` -- the *direct* approach, the estimates spreg (``Panel_FE_Lag``/``Panel_FE_Error``,
  ``ML_LagFE``/``ML_ErrorFE``), R splm (``spml(..., LeeYu = FALSE)``) and Elhorst's Matlab code with
  ``info.bc = 0`` report. ``N = n T`` observations, Jacobian ``T ln|I - rho W|``, ``s2 = e'e / (n T)``. With unit
  effects ``s2`` is biased by the factor ``(T-1)/T`` (the incidental-parameter problem), and with two-way effects
  ``rho`` and ``beta`` are biased as well (Lee & Yu 2010, Theorems 1-2).
* ``lee_yu=True`` (default) -- the *transformation approach* of Lee & Yu (2010, sec. 3 and 4): the likelihood of
  the data after the orthonormal transformations that remove the effects, with ``n_eff = n - 1`` when period
  effects are removed and ``T_eff = T - 1`` when unit effects are removed:

      l = -n_eff T_eff / 2 (ln 2 pi s2) + T_eff [ln|I - rho W| - ln(1 - rho)] - e'e / (2 s2)

  (the ``-ln(1 - rho)`` term only with period effects: with a row-standardised ``W`` the eigenvalue 1 of ``W``
  belongs to the removed direction ``l``). Consequences: with unit effects ``rho`` and ``beta`` equal the direct
  estimates and ``s2 = e'e / (n (T-1)) = T/(T-1) s2_direct`` (Elhorst 2014, ch. 3; splm ``LeeYu = TRUE``);
  with period or two-way effects ``rho`` changes too (the ``O(1/n)`` bias of the direct estimate is removed)
  and ``s2 = e'e / ((n-1)(T-1))``. The period-effect transformation needs every row of ``W`` to sum to one; when
  it does not (binary weights, islands under row standardisation) the period effects are concentrated out
  directly (their ``O(1/n)`` bias remains), ``s2`` uses ``n - 1`` and a note says so.

Covariance: the inverse of the analytic information matrix of ``(beta, rho, s2)`` (lag) or the block-diagonal
``(beta)``, ``(lambda, s2)`` (error) -- Elhorst's "asymptotic variance matrix" (Elhorst 2014, ch. 3;
spreg and splm compute the same), with ``G = W (I - rho W)^{-1}``, ``g = Q G X b`` and ``T_eff``, ``n_eff``
as above:

    I_bb = X'X / s2,  I_br = X'g / s2,  I_rr = T_eff [tr(G*G*) + tr(G*'G*)] + g'g / s2,
    I_rs = T_eff tr(G*) / s2,  I_ss = n_eff T_eff / (2 s2^2),

where ``G*`` is ``G`` restricted to the transformed space: ``tr(G*) = tr(G) - 1/(1-rho)``, ``tr(G*G*) =
tr(G G) - 1/(1-rho)^2`` and ``tr(G*'G*) = tr(G'G) - |G'l|^2 / n`` with the period-effect transformation, ``G* = G``
otherwise. Traces come from the one trace engine (:func:`econ.spatial.traces.resolvent_traces`, as the
cross-section fits): exact for ``n <= econ.spatial.traces.EXACT_MAX_N`` (2,000 units) and Hutchinson estimates
with control variates beyond (their relative error is reported in the notes).

Log-likelihood: the proper Gaussian value of the likelihood maximised. spreg's ``Panel_FE_Lag`` and
``Panel_FE_Error`` put ``e'e`` instead of ``e'e / N`` inside the logarithm, so their ``logll`` equals ours
(``lee_yu=False``) minus ``(N/2) ln N``; spreg's newer ``ML_LagFE``/``ML_ErrorFE`` report the proper value.

References
----------
Elhorst, J. P. (2003). Specification and estimation of spatial panel data models. International Regional Science
Review 26, 244-268.
Elhorst, J. P. (2014). Spatial Econometrics: From Cross-Sectional Data to Spatial Panels. Springer, ch. 3.
Lee, L.-F. & Yu, J. (2010). Estimation of spatial autoregressive panel data models with fixed effects. Journal of
Econometrics 154, 165-185.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize

from econ._validate import check_choice
from econ.errors import PanelError, SpecificationError
from econ.io import validate_panel
from econ._validate import require_columns
from econ.panel.formula import parse_formula, split_top_level
from econ.spatial import traces
from econ.spatial.core import MLFit, SpatialOperator, _invert_information, _lag_traces, ols
from econ.panel.demean import single_thread_blas
from econ.spatial.logdet import ChebyshevLogDet, LogDet
from econ.spatial.traces import EXACT_MAX_N as TRACE_EXACT_MAX_N  # noqa: F401  (the cutoff lives in traces)

__all__ = ["fit_panel", "PanelDims", "PanelFit", "within", "filtered_within", "panel_lag", "panel_error", "panel_sac", "panel_slx",
           "EFFECTS"]

EFFECTS = (None, "unit", "time", "twoways")
_XTOL = 1e-12


# ---------------------------------------------------------------------------------------------- dimensions
@dataclass(frozen=True)
class PanelDims:
    """Sizes and the fixed effects of a balanced spatial panel (``n`` units, ``T`` periods).

    ``n_eff``/``T_eff``: the effective dimensions of the likelihood (see the module docstring);
    ``time_transform``: whether the Lee-Yu period transformation (with its ``-ln(1 - rho)`` term) applies.
    """

    n: int
    T: int
    effects: str | None
    lee_yu: bool = False
    row_stochastic: bool = True

    @property
    def unit_fe(self) -> bool:
        return self.effects in ("unit", "twoways")

    @property
    def time_fe(self) -> bool:
        return self.effects in ("time", "twoways")

    @property
    def time_transform(self) -> bool:
        return self.lee_yu and self.time_fe and self.row_stochastic

    @property
    def T_eff(self) -> int:
        return self.T - 1 if (self.lee_yu and self.unit_fe) else self.T

    @property
    def n_eff(self) -> int:
        return self.n - 1 if (self.lee_yu and self.time_fe) else self.n

    @property
    def n_obs_eff(self) -> int:
        return self.n_eff * self.T_eff


def within(v, dims: PanelDims) -> np.ndarray:
    """The within transformation ``Q v`` of time-major stacked ``v`` ((n T,) or (n T, k)) for ``dims.effects``.

    Unit effects: minus the unit means over periods; period effects: minus the period means over units; two-way:
    both plus the grand mean. This is :class:`econ.panel.demean.Absorber`'s balanced closed form written as a
    reshape of the balanced time-major layout (no factor codes needed; a test checks the two agree).
    """
    v = np.asarray(v, dtype=float)
    shape = v.shape
    m = v.reshape(dims.T, dims.n, -1)
    if dims.effects is None:
        return v.copy()
    out = m.copy()
    if dims.unit_fe:
        out -= m.mean(axis=0, keepdims=True)
    if dims.time_fe:
        out -= m.mean(axis=1, keepdims=True)
    if dims.effects == "twoways":
        out += m.mean(axis=(0, 1), keepdims=True)
    return out.reshape(shape)


def filtered_within(v, dims: PanelDims, h) -> np.ndarray:
    """Remove the effects after the spatial filter ``B = I - lambda W`` of an error model.

    ``B`` turns a period effect ``alpha_t l`` into ``alpha_t h`` with ``h = B l`` (``(1 - lambda) l`` only when
    every row of ``W`` sums to one), and keeps unit effects constant over time. So: demean by unit (if unit
    effects), then, within each period, remove the projection on ``h`` (if period effects) -- the exact
    concentration of the effects, equal to :func:`within` when ``h`` is proportional to ``l``.
    """
    v = np.asarray(v, dtype=float)
    if not dims.time_fe:
        return within(v, dims)
    shape = v.shape
    m = v.reshape(dims.T, dims.n, -1)
    if dims.unit_fe:
        m = m - m.mean(axis=0, keepdims=True)
    c = np.einsum("i,tik->tk", h, m) / (h @ h)
    return (m - c[:, None, :] * h[None, :, None]).reshape(shape)


PanelFit = MLFit  # one fit record for cross-section and panel cores (panel fits leave ``fitted`` as None)


# ---------------------------------------------------------------------------------------------- likelihood
def _jacobian(logdet, r: float, dims: PanelDims) -> float:
    """``T_eff [ln|I - r W| - ln(1 - r)]`` (the second term with the Lee-Yu period transformation only);
    ``logdet`` is any callable ``r -> ln|I - r W|``."""
    val = logdet(r)
    if dims.time_transform:
        val -= np.log1p(-r)
    return dims.T_eff * val


def _loglik(ee: float, jac: float, dims: PanelDims) -> float:
    m = dims.n_obs_eff
    return -m / 2 * (np.log(2 * np.pi) + 1) - m / 2 * np.log(ee / m) + jac


def _djacobian(logdet: LogDet, r: float, dims: PanelDims) -> float:
    """Derivative of :func:`_jacobian`, ``-T_eff [tr(W (I - r W)^{-1}) - 1/(1 - r)]`` (exact:
    :meth:`LogDet.derivative`, from the eigenvalues or a complex-step sparse LU)."""
    val = logdet.derivative(r)
    if dims.time_transform:
        val += 1.0 / (1.0 - r)
    return dims.T_eff * val


def _polish(score, r: float, lo: float, hi: float) -> float:
    """Root of the score near the Brent maximiser ``r`` (the likelihood is flat at its maximum, so a
    function-value optimiser stops ~1e-8 away; the score pins the root to machine precision)."""
    d = 1e-5 * (hi - lo)
    a, b = max(lo, r - d), min(hi, r + d)
    sa, sb = score(a), score(b)
    if not (np.isfinite(sa) and np.isfinite(sb)) or sa <= 0 or sb >= 0:
        return r
    return float(optimize.brentq(score, a, b, xtol=1e-15, rtol=4 * np.finfo(float).eps))


def _maximise(f, logdet: LogDet, dims: PanelDims, score=None) -> float:
    """Maximise the concentrated log-likelihood ``f`` over the admissible interval of the spatial parameter.

    Cheap log-determinants (eigenvalues, Chebyshev): a 41-point grid, then bounded Brent between the grid
    neighbours of the best point, then (eigenvalues) the root of the score. Sparse LU (one factorisation per
    evaluation): the grid search runs on a Chebyshev approximation of the log-determinant, the exact one checks
    (and if needed walks) the bracket around its best point; with a score the root of the exact score (complex-step
    derivative of the log-determinant) is found from the approximate maximiser by a Newton step and secant steps
    (~7 factorisations in all), otherwise Brent refines inside the bracket (~15-20 factorisations).
    """
    lo, hi = logdet.interval
    eps = 1e-9 * (hi - lo)
    lo, hi = lo + eps, hi - eps
    if dims.time_transform:
        hi = min(hi, 1 - 1e-9)
    probe = f
    if logdet.method == "sparse_lu":
        cheb = ChebyshevLogDet(logdet.W, logdet.interval, 40, exact=False, probes=30)  # a locator only
        probe = lambda r: f(r, cheb)  # noqa: E731
    grid = np.linspace(lo, hi, 41)
    vals = np.array([probe(r) for r in grid])
    j = int(np.nanargmax(vals))
    if logdet.method == "sparse_lu":
        j = _exact_bracket(f, grid, j)
    a, b = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
    if logdet.method == "sparse_lu" and score is not None:
        r = _score_root(score, probe, _brent(probe, a, b, 1e-6 * (b - a)), a, b)  # a start: 1e-6 is plenty
        best = max(f(grid[j]), f(a), f(b))
        if r is not None and f(r) >= best - 1e-12 * max(1.0, abs(best)):  # the root is the bracket's maximum
            return r
    r = _brent(f, a, b)
    if score is not None and logdet.method == "eigen":
        r = _polish(score, r, lo, hi)
    return r


def _score_root(score, probe, x0: float, a: float, b: float):
    """Root of the exact ``score`` in ``[a, b]`` from ``x0``, the maximiser of the approximate likelihood
    ``probe``: a Newton step with the curvature of ``probe``, then secant steps on the exact score, until a step is
    below ``1e-13`` of the interval (the last evaluated point is returned, so its log-determinant is cached);
    ``None`` when the steps leave ``[a, b]`` or do not settle."""
    h = 1e-3 * (b - a)
    curv = (probe(x0 + h) - 2 * probe(x0) + probe(x0 - h)) / (h * h)
    s0 = score(x0)
    if not (np.isfinite(s0) and np.isfinite(curv)) or curv >= 0:
        return None
    x1 = x0 - s0 / curv
    tol = 1e-13 * (b - a)
    for _ in range(12):
        if not a <= x1 <= b:
            return None
        s1 = score(x1)
        if not np.isfinite(s1):
            return None
        if s1 == 0 or s1 == s0:
            return float(x1)
        step = -s1 * (x1 - x0) / (s1 - s0)
        if abs(step) <= tol:
            return float(x1)
        x0, s0, x1 = x1, s1, x1 + step
    return None


def _exact_bracket(f, grid, j: int) -> int:
    """From grid point ``j`` (the approximate maximiser) walk uphill on the exact ``f`` until a grid point is at
    least as high as both neighbours: ``grid[j-1], grid[j+1]`` then bracket the maximum (~3-5 evaluations)."""
    cache: dict = {}

    def F(i):
        if i < 0 or i >= len(grid):
            return -np.inf
        if i not in cache:
            cache[i] = f(grid[i])
        return cache[i]

    while True:
        c, left, right = F(j), F(j - 1), F(j + 1)
        if c >= left and c >= right:
            return j
        j = j - 1 if left > right else j + 1


def _brent(f, a: float, b: float, xatol: float = _XTOL) -> float:
    res = optimize.minimize_scalar(lambda r: -f(r), bounds=(a, b), method="bounded",
                                   options={"xatol": xatol, "maxiter": 500})
    return float(res.x)


def _star_traces(op: SpatialOperator, r: float, dims: PanelDims):
    """tr(G*), tr(G*G*), tr(G*'G*) and a note, for ``G = W (I - r W)^{-1}`` (module docstring)."""
    t1, t2, t3, note = _lag_traces(op, r)
    if dims.time_transform:
        lu = op.factor(r)
        gl = lu.solve(op.W.T @ np.ones(op.n), trans="T")  # G'l = (I - r W')^{-1} W'l
        c = 1.0 / (1.0 - r)
        t1, t2, t3 = t1 - c, t2 - c * c, t3 - gl @ gl / op.n
    return t1, t2, t3, note


# ---------------------------------------------------------------------------------------------- lag (SAR / SDM)
def panel_lag(y, X, W, dims: PanelDims, logdet: LogDet | None = None) -> PanelFit:
    """ML of the fixed-effects spatial lag panel (SAR; SDM when ``X`` holds the ``WX`` columns).

    Parameters
    ----------
    y : ndarray, shape (n T,)
        Outcome, stacked time-major (period blocks of ``n`` units in ``W``'s order), not demeaned.
    X : ndarray, shape (n T, k)
        Regressors (and their raw spatial lags for the SDM), not demeaned; no intercept with fixed effects.
    W : scipy.sparse matrix, shape (n, n)
    dims : PanelDims
    logdet : LogDet, optional
        Log-determinant of ``I - rho W`` (default ``LogDet(W, "auto")``).

    Returns
    -------
    PanelFit
        ``spatial = {"rho": ...}``; see the module docstring for the likelihood and the information matrix.
    """
    op = SpatialOperator(W, dims.T)
    logdet = LogDet(op.W) if logdet is None else logdet
    yq, lq, Xq = within(y, dims), within(op.lag(y), dims), within(X, dims)
    b0, e0 = ols(yq, Xq)
    bL, eL = ols(lq, Xq)
    a, b, c = e0 @ e0, e0 @ eL, eL @ eL
    m = dims.n_obs_eff

    def f(r, ld=logdet):
        return -m / 2 * np.log(max(a - 2 * r * b + r * r * c, 1e-300)) + _jacobian(ld, r, dims)

    def score(r):
        return m * (b - r * c) / (a - 2 * r * b + r * r * c) + _djacobian(logdet, r, dims)

    rho = _maximise(f, logdet, dims, score)
    logdet.check_inside(rho, "rho")
    beta = b0 - rho * bL
    e = e0 - rho * eL
    ee = float(e @ e)
    s2 = ee / m
    t1, t2, t3, note = _star_traces(op, rho, dims)
    g = within(op.lag(op.solve(rho, Xq @ beta)), dims)
    k = Xq.shape[1]
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = Xq.T @ Xq / s2
    info[:k, k] = info[k, :k] = Xq.T @ g / s2
    info[k, k] = dims.T_eff * (t2 + t3) + g @ g / s2
    info[k, k + 1] = info[k + 1, k] = dims.T_eff * t1 / s2
    info[k + 1, k + 1] = m / (2 * s2**2)
    V = _invert_information(info, "spatial lag panel model")
    return PanelFit(beta=beta, spatial={"rho": rho}, vcov=V[:k + 1, :k + 1], sigma2=s2,
                    loglik=_loglik(ee, _jacobian(logdet, rho, dims), dims), resid=e, var_sigma2=V[k + 1, k + 1],
                    notes=[note] if note else [])


# ---------------------------------------------------------------------------------------------- error (SEM / SDEM)
def panel_error(y, X, W, dims: PanelDims, logdet: LogDet | None = None) -> PanelFit:
    """ML of the fixed-effects spatial error panel (SEM; SDEM when ``X`` holds the ``WX`` columns).

    Same arguments as :func:`panel_lag`. For each ``lambda`` the coefficients are the OLS of
    ``Q(y - lambda W y)`` on ``Q(X - lambda W X)`` (with period effects and rows of ``W`` not all summing to one,
    :func:`filtered_within` replaces ``Q``); ``spatial = {"lambda": ...}``. The covariance is block
    diagonal: ``s2 (X_B' X_B)^{-1}`` for ``beta`` and the inverse ``(lambda, s2)`` information block.
    """
    op = SpatialOperator(W, dims.T)
    logdet = LogDet(op.W) if logdet is None else logdet
    Wy, WX = op.lag(y), op.lag(X)
    m = dims.n_obs_eff
    rows = np.asarray(op.W.sum(axis=1)).ravel()
    exact_q = dims.time_fe and not np.allclose(rows, 1.0)  # B l is not proportional to l: filtered effects

    def filtered(lam):
        if exact_q:
            h = 1.0 - lam * rows
            return filtered_within(y - lam * Wy, dims, h), filtered_within(X - lam * WX, dims, h)
        return within(y - lam * Wy, dims), within(X - lam * WX, dims)

    def resid(lam):
        return ols(*filtered(lam))

    lq, WXq = within(Wy, dims), within(WX, dims)
    if not exact_q:  # Q is linear: cross products of (yq, lq, Xq, WXq) give the coefficients at any lambda
        yq, Xq = within(y, dims), within(X, dims)
        XX = [Xq.T @ Xq, Xq.T @ WXq + WXq.T @ Xq, WXq.T @ WXq]
        Xy = [Xq.T @ yq, Xq.T @ lq + WXq.T @ yq, WXq.T @ lq]

    def sse(lam):
        """``e'e`` at ``lambda``: the residual is formed explicitly (``e'e`` is stationary in the coefficients,
        so normal equations lose nothing there); the reported coefficients still come from :func:`ols`."""
        if exact_q:
            e = resid(lam)[1]
        else:
            try:
                beta = np.linalg.solve(XX[0] - lam * XX[1] + lam * lam * XX[2],
                                       Xy[0] - lam * Xy[1] + lam * lam * Xy[2])
            except np.linalg.LinAlgError:
                e = resid(lam)[1]
            else:
                e = (yq - lam * lq) - (Xq - lam * WXq) @ beta
        return e @ e

    def f(lam, ld=logdet):
        return -m / 2 * np.log(max(sse(lam), 1e-300)) + _jacobian(ld, lam, dims)

    def score(lam):  # envelope theorem: d e'e / d lambda = -2 e'(Q W y - Q W X beta)
        beta, e = resid(lam)
        return m * (e @ (lq - WXq @ beta)) / (e @ e) + _djacobian(logdet, lam, dims)

    lam = _maximise(f, logdet, dims, None if exact_q else score)
    logdet.check_inside(lam, "lambda")
    beta, e = resid(lam)
    ee = float(e @ e)
    s2 = ee / m
    Xs = filtered(lam)[1]
    vb = s2 * _invert_information(Xs.T @ Xs, "spatial error panel model (regressors)")
    t1, t2, t3, note = _star_traces(op, lam, dims)
    info = np.array([[dims.T_eff * (t2 + t3), dims.T_eff * t1 / s2], [dims.T_eff * t1 / s2, m / (2 * s2**2)]])
    vl = _invert_information(info, "spatial error panel model")
    k = Xs.shape[1]
    V = np.zeros((k + 1, k + 1))
    V[:k, :k] = vb
    V[k, k] = vl[0, 0]
    return PanelFit(beta=beta, spatial={"lambda": lam}, vcov=V, sigma2=s2,
                    loglik=_loglik(ee, _jacobian(logdet, lam, dims), dims), resid=e, var_sigma2=vl[1, 1],
                    notes=[note] if note else [])


# ---------------------------------------------------------------------------------------------- SAC
def panel_sac(y, X, W, dims: PanelDims, logdet: LogDet | None = None) -> PanelFit:
    """ML of the fixed-effects SAC panel ``y = rho W y + X b + u, u = lambda W u + e`` (same ``W`` twice).

    Same arguments as :func:`panel_lag`. For each ``(rho, lambda)`` the coefficients are the OLS of
    ``Q(B A y)`` on ``Q(B X)`` (``A = I - rho W``, ``B = I - lambda W``; the lags are taken on the raw data and
    demeaned); the Jacobian is the sum of the two panel Jacobians. Needs ``n <= traces.EXACT_MAX_N`` (dense
    traces). Covariance: the expected information of ``(beta, rho, lambda, s2)`` as in
    :func:`econ.spatial.core._sac_information`, with ``T_eff``, ``n_eff`` and the traces restricted to the
    transformed space (:func:`_star`).
    """
    if not traces.is_exact(W.shape[0]):
        raise SpecificationError(f"the SAC panel needs n <= {traces.EXACT_MAX_N} units (dense traces); got "
                                 f"n = {W.shape[0]}")
    op = SpatialOperator(W, dims.T)
    logdet = LogDet(op.W) if logdet is None else logdet
    Wy = op.lag(y)
    yq, l1, l2 = within(y, dims), within(Wy, dims), within(op.lag(Wy), dims)
    Xq, WXq = within(X, dims), within(op.lag(X), dims)
    m = dims.n_obs_eff

    rows = np.asarray(op.W.sum(axis=1)).ravel()
    exact_q = dims.time_fe and not np.allclose(rows, 1.0)
    if exact_q:  # B turns period effects into alpha_t (l - lambda W l): remove them exactly (filtered_within)
        WX, l2raw = op.lag(X), op.lag(Wy)

    def resid(r, lam):
        if exact_q:
            h = 1.0 - lam * rows
            return ols(filtered_within(y - (r + lam) * Wy + r * lam * l2raw, dims, h),
                       filtered_within(X - lam * WX, dims, h))
        return ols(yq - (r + lam) * l1 + r * lam * l2, Xq - lam * WXq)

    def negf(p):
        r, lam = p
        _, e = resid(r, lam)
        return m / 2 * np.log(max(e @ e, 1e-300)) - _jacobian(logdet, r, dims) - _jacobian(logdet, lam, dims)

    lo, hi = logdet.interval
    eps = 1e-9 * (hi - lo)
    lo, hi = lo + eps, (min(hi, 1.0) if dims.time_transform else hi) - eps
    grid = np.linspace(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), 9)
    start = min(((r, lam) for r in grid for lam in grid), key=negf)
    res = optimize.minimize(negf, np.array(start), method="L-BFGS-B", bounds=[(lo, hi), (lo, hi)],
                            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
    res = optimize.minimize(negf, res.x, method="Nelder-Mead", options={"xatol": 1e-11, "fatol": 1e-13,
                                                                         "maxiter": 4000})
    rho, lam = (float(v) for v in res.x)
    logdet.check_inside(rho, "rho")
    logdet.check_inside(lam, "lambda")
    beta, e = resid(rho, lam)
    ee = float(e @ e)
    s2 = ee / m
    BX = filtered_within(X - lam * WX, dims, 1.0 - lam * rows) if exact_q else Xq - lam * WXq
    info = _sac_information(op, dims, BX, Xq @ beta, s2, rho, lam)
    V = _invert_information(info, "SAC panel model")
    k = Xq.shape[1]
    loglik = _loglik(ee, _jacobian(logdet, rho, dims) + _jacobian(logdet, lam, dims), dims)
    return PanelFit(beta=beta, spatial={"rho": rho, "lambda": lam}, vcov=V[:k + 2, :k + 2], sigma2=s2,
                    loglik=loglik, resid=e, var_sigma2=V[k + 2, k + 2])


def _star(dims: PanelDims, n: int):
    """Trace functions on the transformed space: with the Lee-Yu period transformation and matrices ``M`` with
    ``M l = a_M l``: ``tr(M*) = tr(M) - a_M``, ``tr(M*N*) = tr(MN) - a_M a_N``,
    ``tr(M*'N*) = tr(M'N) - (M'l)'(N'l) / n``; plain traces otherwise."""
    on = dims.time_transform
    one = np.ones(n)

    def tr(M, a):
        return np.trace(M) - (a if on else 0.0)

    def tr_mn(M, a, N, b):
        return np.einsum("ij,ji->", M, N) - (a * b if on else 0.0)

    def tr_tmn(M, N):
        return np.einsum("ij,ij->", M, N) - ((M.T @ one) @ (N.T @ one) / n if on else 0.0)

    return tr, tr_mn, tr_tmn


def _sac_information(op: SpatialOperator, dims: PanelDims, BX, xb, s2, rho, lam):
    """Expected information of ``(beta, rho, lambda, s2)`` of the SAC panel (dense ``n x n`` matrices).

    ``W_A = W A^{-1}``, ``D = W B^{-1}``, ``C = B W_A B^{-1}``, ``v = Q(B W_A X b)``:
    ``I_bb = X_B'X_B/s2``, ``I_br = X_B'v/s2``, ``I_rr = T_eff[tr(W_A W_A) + tr(C'C)] + v'v/s2``,
    ``I_rl = T_eff[tr(C'D) + tr(W_A D)]``, ``I_ll = T_eff[tr(D D) + tr(D'D)]``, ``I_rs = T_eff tr(W_A)/s2``,
    ``I_ls = T_eff tr(D)/s2``, ``I_ss = n_eff T_eff/(2 s2^2)`` (traces as in :func:`_star`).
    """
    n, T = op.n, dims.T_eff
    Wd = op.W.toarray()
    eye = np.eye(n)
    WA = Wd @ np.linalg.inv(eye - rho * Wd)
    Binv = np.linalg.inv(eye - lam * Wd)
    D = Wd @ Binv
    B = eye - lam * Wd
    C = B @ WA @ Binv
    a, d = 1.0 / (1.0 - rho), 1.0 / (1.0 - lam)  # eigenvalues of W_A (and C) and D on l (row-standardised W)
    tr, tr_mn, tr_tmn = _star(dims, n)
    v = within((B @ WA @ xb.reshape(dims.T, n).T).T.ravel(), dims)
    k = BX.shape[1]
    info = np.zeros((k + 3, k + 3))
    info[:k, :k] = BX.T @ BX / s2
    info[:k, k] = info[k, :k] = BX.T @ v / s2
    info[k, k] = T * (tr_mn(WA, a, WA, a) + tr_tmn(C, C)) + v @ v / s2
    info[k, k + 1] = info[k + 1, k] = T * (tr_tmn(C, D) + tr_mn(WA, a, D, d))
    info[k + 1, k + 1] = T * (tr_mn(D, d, D, d) + tr_tmn(D, D))
    info[k, k + 2] = info[k + 2, k] = T * tr(WA, a) / s2
    info[k + 1, k + 2] = info[k + 2, k + 1] = T * tr(D, d) / s2
    info[k + 2, k + 2] = dims.n_obs_eff / (2 * s2**2)
    return info


# ---------------------------------------------------------------------------------------------- SLX
def panel_slx(y, X, W, dims: PanelDims) -> PanelFit:
    """Within OLS of ``y`` on ``X`` (with its ``WX`` columns): the SLX panel.

    Covariance ``s^2 (X'X)^{-1}`` with ``s^2 = e'e / (n T - k - d)``, ``d`` the number of absorbed effects
    (``n``, ``T`` or ``n + T - 1``); ``sigma2`` and the log-likelihood use ``e'e / (n_eff T_eff)``.
    """
    yq, Xq = within(y, dims), within(X, dims)
    beta, e = ols(yq, Xq)
    ee = float(e @ e)
    d = {None: 0, "unit": dims.n, "time": dims.T, "twoways": dims.n + dims.T - 1}[dims.effects]
    dof = dims.n * dims.T - Xq.shape[1] - d
    V = ee / dof * _invert_information(Xq.T @ Xq, "SLX panel model (regressors)")
    s2 = ee / dims.n_obs_eff
    return PanelFit(beta=beta, spatial={}, vcov=V, sigma2=s2, loglik=_loglik(ee, 0.0, dims), resid=e)


# ---------------------------------------------------------------------------------------------- public fit
def _effects_from_formula(parsed, unit, time, effects):
    """Map a fixest ``| unit + time`` part to ``effects`` (conflicts with ``effects=`` are errors)."""
    if not parsed.fixef:
        return effects
    cols = [p[0] if len(p) == 1 else "^".join(p) for p in parsed.fixef]
    allowed = {(unit,): "unit", (time,): "time", (unit, time): "twoways", (time, unit): "twoways"}
    got = allowed.get(tuple(cols))
    if got is None:
        raise SpecificationError(f"formula fixed effects {cols}: a spatial panel takes unit ({unit!r}) and/or time "
                                 f"({time!r}) effects only (or give effects=)")
    if effects is not None and effects != got:
        raise SpecificationError(f"the formula's fixed effects {cols} mean effects={got!r}, but effects={effects!r}")
    return got


def _balanced_order(data: pd.DataFrame, W, unit: str, time: str):
    """Row positions of ``data`` (sorted by unit, time) in time-major ``W`` order, and the periods."""
    units = pd.unique(data[unit])
    periods = np.sort(pd.unique(data[time]))
    if len(data) != len(units) * len(periods):
        full = pd.MultiIndex.from_product([units, periods], names=[unit, time])
        have = pd.MultiIndex.from_frame(data[[unit, time]])
        missing = full.difference(have)
        per_unit = pd.Series(missing.get_level_values(0)).value_counts()
        raise PanelError(
            f"a spatial panel model needs a balanced panel: {len(missing)} (unit, period) row(s) are missing "
            f"for {len(per_unit)} unit(s), first: {[tuple(x) for x in missing[:5]]}; units affected (first): "
            f"{list(per_unit.index[:5])}. Drop or impute them (and subset W to the kept units)")
    W.check_units(list(units))
    pos = pd.Index(W.ids).get_indexer(data[unit])
    tix = np.searchsorted(periods, data[time].to_numpy())
    order = np.empty(len(data), dtype=np.int64)
    order[tix * len(units) + pos] = np.arange(len(data))
    return order, periods


def _design(formula: str, data: pd.DataFrame, W, op: SpatialOperator, effects, wx, model):
    """``y``, ``X`` (raw, with lagged columns appended), names, lag map and notes."""
    from econ.spatial.design import spatial_design

    head = split_top_level(formula, "|")[0][1] if parse_formula(formula).fixef else formula
    design = spatial_design(head, data, W, [], op.lag, n_units=W.n)
    X, names = design.X, list(design.names)
    if effects is not None and "Intercept" in names:
        keep = [j for j, nm in enumerate(names) if nm != "Intercept"]
        X, names = X[:, keep], [names[j] for j in keep]
    regs = [nm for nm in names if nm != "Intercept"]
    lag_vars = list(wx) if wx is not None else (regs if model in ("sdm", "sdem", "slx") else [])
    unknown = [v for v in lag_vars if v not in regs]
    if unknown:
        raise SpecificationError(f"wx: {unknown} are not regressors of the formula (regressors: {regs})")
    lagged = {v: f"W.{v}" for v in lag_vars}
    if lag_vars:
        X = np.column_stack([X, op.lag(X[:, [names.index(v) for v in lag_vars]])])
        names = names + [lagged[v] for v in lag_vars]
    if X.shape[1] == 0:
        raise SpecificationError(f"formula {formula!r} has no regressor left after the fixed effects")
    return design.y, X, names, lagged, design.depvar


def _check_within_rank(Xq: np.ndarray, names, effects) -> None:
    scale = np.sqrt((Xq**2).mean(axis=0))
    absorbed = [nm for nm, s in zip(names, scale) if s < 1e-10]
    if absorbed:
        raise SpecificationError(f"regressor(s) {absorbed} are constant within the {effects} fixed effects (absorbed "
                                 "by the within transformation); drop them")
    rank = np.linalg.matrix_rank(Xq / scale)
    if rank < Xq.shape[1]:
        raise SpecificationError(f"the regressors {names} are collinear after the {effects} fixed effects (rank "
                                 f"{rank} of {Xq.shape[1]}); a variable that is constant within neighbourhoods "
                                 "equals its own spatial lag")


def fit_panel(formula: str, data: pd.DataFrame, W, *, model: str = "sar", unit: str | None = None,
              time: str | None = None, effects: str | None = None, method: str = "ml", lee_yu: bool = True,
              vcov=None, wx=None, logdet: str = "auto", w2x: bool = False):
    """Fit a spatial panel model with fixed effects (called by :func:`econ.spatial.fit` when ``time`` is given).

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + x2"``; a fixest part ``"| unit + year"`` may name the effects instead of ``effects=``.
    data : pandas.DataFrame
        Long panel, one row per (unit, period); must be balanced on exactly the units of ``W``. Never modified.
    W : econ.spatial.Weights
        ``n x n`` weights among the units (the same in every period).
    model : {"sar", "sdm", "sem", "sdem", "slx", "sac"}
        Durbin models (``sdm``, ``sdem``, ``slx``) lag every regressor (never the intercept). ``sac`` needs
        ``n <= econ.spatial.traces.EXACT_MAX_N`` units.
    unit, time : str
        Unit and period columns (both required).
    effects : {None, "unit", "time", "twoways"}
        Fixed effects; ``None`` is the pooled model with an intercept.
    method : {"ml"}
    lee_yu : bool
        Lee & Yu (2010) transformation approach (default) or the direct approach other software reports; see
        :mod:`econ.spatial.panel`.
    vcov : None
        Only the inverse analytic information matrix is available.
    wx : list of str, optional
        Regressors to lag (overrides the model's default set).
    logdet : {"auto", "eigen", "sparse_lu", "chebyshev"}
        Log-determinant method (:mod:`econ.spatial.logdet`); ``"auto"``: eigenvalues up to 1,000 units (``econ.spatial.traces.EIGEN_MAX_N``), sparse LU
        beyond; for the one-parameter models (all but SAC) a ``W`` without a symmetric similarity (kNN weights)
        takes the sparse LU already beyond 200 units (``EIGEN_GENERAL_MAX_N``), with the same estimates.
        The panel Jacobian is ``T ln|I - rho W|`` (``T_eff`` with Lee-Yu).
    w2x : bool
        Not used by ML (accepted for the shared signature of :func:`econ.spatial.fit`).

    Returns
    -------
    econ.spatial.SpatialResult
        Coefficients (regressors, ``W.x``, ``rho``/``lambda``), analytic SEs, ``loglik``, ``aic``, ``sigma2``;
        ``impacts()`` uses the ``n x n`` ``W`` (effects per period). ``extra`` holds ``effects``, ``lee_yu``,
        ``n_units``, ``n_periods`` and ``var_sigma2``.

    Raises
    ------
    PanelError
        Unbalanced panel (missing unit-periods named), duplicate keys, non-integer time.
    WeightsError
        Units of ``W`` and of the data differ (named).
    SpecificationError
        Unknown model/effects, missing values, regressors absorbed by the effects or collinear, spatial
        parameter at the boundary of its interval, singular information matrix.

    Notes
    -----
    See :mod:`econ.spatial.panel` for the likelihoods, the Lee-Yu correction and the information matrix.

    References
    ----------
    Elhorst, J. P. (2014). *Spatial Econometrics: From Cross-Sectional Data to Spatial Panels*. Berlin: Springer,
    ch. 3.
    Lee, L.-F. and Yu, J. (2010). Estimation of spatial autoregressive panel data models with fixed effects.
    *Journal of Econometrics* 154(2), 165-185.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scipy import sparse
    >>> import econ.spatial as sp
    >>> n, T = 40, 5
    >>> W = sp.Weights(tuple(range(n)), sparse.diags([1.0, 1.0], [-1, 1], shape=(n, n)).tocsr()).row_standardize()
    >>> rng = np.random.default_rng(0)
    >>> A = np.eye(n) - 0.4 * W.to_dense()
    >>> rows = []
    >>> for t in range(T):
    ...     x = rng.normal(size=n)
    ...     y = np.linalg.solve(A, np.arange(n) / n + x + rng.normal(size=n))
    ...     rows.append(pd.DataFrame({"id": range(n), "year": 2000 + t, "y": y, "x": x}))
    >>> df = pd.concat(rows)
    >>> res = sp.fit("y ~ x", df, W, model="sar", unit="id", time="year", effects="unit")
    >>> list(res.coef.index)
    ['x', 'rho']
    """
    from econ.spatial.design import SpatialWarning, _check_islands, require_weights
    from econ.spatial.result import SpatialResult

    require_weights(W)
    model = check_choice(model, "model", ("sar", "sdm", "sem", "sdem", "slx", "sac"))
    if method != "ml":
        raise SpecificationError(f"method={method!r}: spatial panel models are fitted by ML only (method='ml')")
    if vcov is not None:
        raise SpecificationError(f"vcov={vcov!r}: panel ML fits report the inverse information matrix (vcov=None)")
    if unit is None or time is None:
        raise SpecificationError("a spatial panel needs both unit= and time= columns")
    effects = _effects_from_formula(parse_formula(formula), unit, time, effects)
    check_choice(effects, "effects", EFFECTS)
    require_columns(data, [unit, time], "unit/time")
    frame = validate_panel(data, unit, time)
    order, periods = _balanced_order(frame, W, unit, time)
    stacked = frame.iloc[order].reset_index(drop=True)
    T = len(periods)
    if effects in ("unit", "twoways") and T < 2:
        raise PanelError(f"unit fixed effects need at least 2 periods; the panel has {T}")
    notes: list[str] = []
    _check_islands(W, notes)
    rows = np.asarray(W.matrix.sum(axis=1)).ravel()
    dims = PanelDims(W.n, T, effects, lee_yu, bool(np.allclose(rows, 1.0)))
    if dims.lee_yu and dims.time_fe and not dims.row_stochastic:
        msg = ("lee_yu=True with period effects needs every row of W to sum to one (row-standardised, no islands); "
               "the period effects are concentrated out directly (their O(1/n) bias in rho remains) and sigma2 "
               "uses n - 1")
        warnings.warn(msg, SpatialWarning, stacklevel=3)
        notes.append(msg)
    op = SpatialOperator(W.matrix, T)
    y, X, names, lagged, depvar = _design(formula, stacked, W, op, effects, wx, model)
    _check_within_rank(within(X, dims), names, effects or "pooled")
    ld = None
    blas = single_thread_blas() if traces.is_exact(W.n) else contextlib.nullcontext()
    with blas:  # small dense problems: one BLAS thread is much faster on a busy machine (econ.panel.demean)
        if model == "slx":
            res = panel_slx(y, X, W.matrix, dims)
        else:
            ld = LogDet(op.W, logdet, evaluations="many" if model == "sac" else "few")
            core = {"sar": panel_lag, "sdm": panel_lag, "sem": panel_error, "sdem": panel_error,
                    "sac": panel_sac}[model]
            res = core(y, X, op.W, dims, ld)
    if ld is not None and ld.error:
        bound = max(ld.error_bound(v) for v in res.spatial.values())
        res.notes.append(f"log-determinant by {ld.method} approximation, error bound about {bound:.2e} at the "
                         "estimate")
    for nt in res.notes:
        warnings.warn(nt, SpatialWarning, stacklevel=3)
    coef = pd.Series(np.concatenate([res.beta, list(res.spatial.values())]), index=names + list(res.spatial))
    n_fe = {None: 0, "unit": W.n, "time": T, "twoways": W.n + T - 1}[effects]
    keys = pd.MultiIndex.from_frame(stacked[[unit, time]])
    resid = pd.Series(res.resid, index=keys, name="resid").sort_index()
    fe_levels = {}
    if dims.unit_fe:
        fe_levels[unit] = W.n
    if dims.time_fe:
        fe_levels[time] = T
    return SpatialResult(
        coef, res.vcov, loglik=res.loglik, sigma2=res.sigma2, kind=model, W=W, lagged=lagged, method="ml",
        n_params=len(coef) + 1, interval=ld.interval if ld is not None else None,
        logdet_method=ld.method if ld is not None else "", nobs=len(y), df_resid=len(y) - len(coef) - n_fe,
        depvar=depvar, resid=resid, notes=notes + res.notes,
        fe_levels=fe_levels,
        vcov_type="classical OLS" if model == "slx" else "analytic information matrix (Elhorst)",
        df_t=float(len(y) - len(coef) - n_fe) if model == "slx" else np.inf,
        extra={"effects": effects, "lee_yu": lee_yu, "n_units": W.n, "n_periods": T, "periods": list(periods),
               "var_sigma2": res.var_sigma2, "unit": unit, "time": time,
               **({"eigenvalues": ld.eigenvalues} if ld is not None and ld.eigenvalues is not None else {})},
    )

