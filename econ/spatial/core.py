"""Numerical core of the spatial ML estimators, shared by the cross-section (:mod:`econ.spatial.models`) and the
panel (:mod:`econ.spatial.panel`) fits. Pure numpy/scipy: arrays in, a :class:`MLFit` out.

Data are stacked time-major: row ``t * n + i`` is unit ``i`` (in ``W``'s order) in period ``t``, ``T`` periods
(``T = 1`` for a cross-section). :class:`SpatialOperator` applies ``I_T (x) W`` and ``(I_T (x) (I - rho W))^{-1}``
blockwise; every log-determinant and trace is that of the ``n x n`` matrix times ``T``.

Concentrated log-likelihoods (Anselin 1988, ch. 6; Elhorst 2014, ch. 3), with ``N = n T`` observations:

* lag (SAR; SDM with ``X = [X, WX]``): ``e(rho) = e_0 - rho e_L`` with ``e_0``, ``e_L`` the OLS residuals of ``y``
  and ``Wy`` on ``X``; ``l(rho) = -N/2 (ln 2 pi + 1) - N/2 ln(e'e / N) + T ln|I - rho W|``;
* error (SEM; SDEM with ``X = [X, WX]``): ``e(lambda)`` the OLS residuals of ``(I - lambda W) y`` on
  ``(I - lambda W) X``; ``l(lambda) = -N/2 (ln 2 pi + 1) - N/2 ln(e'e / N) + T ln|I - lambda W|``;
* SAC: ``e(rho, lambda)`` the OLS residuals of ``B A y`` on ``B X`` (``A = I - rho W``, ``B = I - lambda W``);
  ``l = -N/2 (ln 2 pi + 1) - N/2 ln(e'e/N) + T (ln|A| + ln|B|)``.

``sigma2 = e'e / N`` (the ML estimate, no degrees-of-freedom correction, as spatialreg and spreg).

Covariance: the inverse of the analytic (expected) information matrix, the default of R spatialreg's
``lagsarlm``/``errorsarlm`` with ``method = "eigen"`` (Anselin 1988, eqs. 6.5-6.6 and 6.11-6.12). With
``W_A = W A^{-1}`` and ``W_B = W B^{-1}``:

* lag: ``I_bb = X'X/s2``, ``I_br = X' W_A X b / s2``, ``I_rr = T[tr(W_A W_A) + tr(W_A' W_A)] + |W_A X b|^2 / s2``,
  ``I_rs = T tr(W_A) / s2``, ``I_ss = N / (2 s2^2)``, ``I_bs = 0``: the full matrix is inverted, so the reported
  variances of ``beta`` include the ``rho``-``beta`` covariance;
* error: ``beta`` block ``s2 (X'B'BX)^{-1}``, and ``(lambda, s2)`` from
  ``[[T(tr(W_B W_B) + tr(W_B' W_B)), T tr(W_B)/s2], [., N/(2 s2^2)]]`` (block diagonal in ``beta``);
* SAC: the expected information of ``(beta, rho, lambda, s2)`` (derivation in :func:`_sac_information`).

Traces come from the one trace engine, :func:`econ.spatial.traces.resolvent_traces`: exact (sparse LU solves on
blocks of unit vectors) for ``n <= econ.spatial.traces.EXACT_MAX_N`` (2,000) and Hutchinson estimates otherwise
(the relative Monte-Carlo error of the traces is kept in ``MLFit.notes``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, sparse
from scipy.sparse import linalg as spla

from econ.errors import SpecificationError
from econ.spatial import traces
from econ.spatial.logdet import LogDet
from econ.spatial.traces import EXACT_MAX_N as TRACE_EXACT_MAX_N  # noqa: F401  (the cutoff lives in traces)

__all__ = ["SpatialOperator", "MLFit", "ml_lag", "ml_error", "ml_sac", "ols", "TRACE_EXACT_MAX_N"]

_XTOL = 1e-12


class SpatialOperator:
    """``I_T (x) W`` for time-major stacked data (``T`` blocks of ``n`` rows in ``W``'s unit order)."""

    def __init__(self, W, T: int = 1):
        self.W = sparse.csr_matrix(W, dtype=float)
        self.n = self.W.shape[0]
        self.T = int(T)

    def _blocks(self, v: np.ndarray) -> np.ndarray:
        """(N,) or (N, k) -> (n, T * k) with each period's block side by side."""
        v = np.asarray(v, dtype=float)
        k = 1 if v.ndim == 1 else v.shape[1]
        return v.reshape(self.T, self.n, k).transpose(1, 0, 2).reshape(self.n, self.T * k)

    def _unblocks(self, m: np.ndarray, shape) -> np.ndarray:
        k = 1 if len(shape) == 1 else shape[1]
        return m.reshape(self.n, self.T, k).transpose(1, 0, 2).reshape(shape)

    def lag(self, v) -> np.ndarray:
        """``(I_T (x) W) v``."""
        v = np.asarray(v, dtype=float)
        if self.T == 1:
            return self.W @ v
        return self._unblocks(self.W @ self._blocks(v), v.shape)

    def factor(self, rho: float):
        """Sparse LU of ``I - rho W`` (n x n)."""
        A = (sparse.identity(self.n, format="csc") - rho * self.W).tocsc()
        return spla.splu(A)

    def solve(self, rho: float, v, lu=None) -> np.ndarray:
        """``(I_T (x) (I - rho W))^{-1} v``."""
        v = np.asarray(v, dtype=float)
        lu = self.factor(rho) if lu is None else lu
        out = lu.solve(self._blocks(v))
        return self._unblocks(out, v.shape)


@dataclass
class MLFit:
    """What a core fit returns, cross-section or panel: estimates, their covariance and the likelihood.

    ``beta`` follows the columns of ``X``; ``spatial`` maps ``"rho"``/``"lambda"`` to their estimates; ``vcov`` is
    over ``[beta..., spatial...]`` in that order (``sigma2`` is not part of it; its variance is ``var_sigma2``).
    ``resid`` are the residuals (for a panel: the within residuals ``Q(...)``, stacked time-major); ``fitted`` the
    fitted values (``None`` for panel fits, whose names and fitted values are attached by
    :func:`econ.spatial.panel.fit_panel`). :class:`econ.spatial.panel.PanelFit` is this class.
    """

    beta: np.ndarray
    spatial: dict
    vcov: np.ndarray
    sigma2: float
    loglik: float
    resid: np.ndarray
    fitted: np.ndarray | None = None
    var_sigma2: float = float("nan")
    notes: list = field(default_factory=list)


def ols(y: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coefficients and residuals (QR; ``X`` must have full column rank)."""
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    return coef, y - X @ coef


def _loglik(N: int, ee: float, logdet_sum: float) -> float:
    return -N / 2 * (np.log(2 * np.pi) + 1) - N / 2 * np.log(ee / N) + logdet_sum


def _bounds(logdet: LogDet):
    lo, hi = logdet.interval
    eps = 1e-9 * (hi - lo)
    return lo + eps, hi - eps


def _maximise_1d(f, logdet: LogDet, fprime=None) -> float:
    """Maximise ``f`` over the open admissible interval: a grid bracket, bounded Brent, then (with the analytic
    derivative ``fprime``) a root of ``fprime`` near Brent's answer. Brent alone stops ~1e-8 from the optimum
    where the concentrated likelihood is flat (its values carry rounding of ~1e-13); the derivative does not."""
    lo, hi = _bounds(logdet)
    grid = np.linspace(lo, hi, 41 if logdet.method == "eigen" else 9)
    vals = np.array([f(r) for r in grid])
    j = int(np.nanargmax(vals))
    a, b = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(lambda r: -f(r), bounds=(a, b), method="bounded",
                                   options={"xatol": _XTOL, "maxiter": 500})
    x = float(res.x)
    if fprime is None or (logdet.method != "eigen" and not traces.is_exact(logdet.n)):
        return x  # large sparse problems: each derivative costs two LU factorisations; Brent's ~1e-8 suffices
    for delta in (1e-6, 1e-4, 1e-2):
        left, right = max(x - delta * (hi - lo), lo), min(x + delta * (hi - lo), hi)
        gl, gr = fprime(left), fprime(right)
        if gl > 0 > gr:
            root = optimize.brentq(fprime, left, right, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=200)
            return float(root) if f(root) >= f(x) - 1e-9 * abs(f(x)) else x
    return x


# ----------------------------------------------------------------------------------------------- traces
def _lag_traces(op: SpatialOperator, rho: float):
    """(tr(W_A), tr(W_A W_A), tr(W_A' W_A), note) for the n x n block (:func:`econ.spatial.traces.resolvent_traces`)."""
    t1, t2, t3, rel = traces.resolvent_traces(op.W, rho, lu=op.factor(rho))
    return t1, t2, t3, (traces.hutchinson_note(op.n, rel) if rel else None)


def _invert_information(info: np.ndarray, what: str) -> np.ndarray:
    info = (info + info.T) / 2
    try:
        cond = np.linalg.cond(info)
    except np.linalg.LinAlgError:
        cond = np.inf
    if not np.isfinite(cond) or cond > 1e14:
        raise SpecificationError(f"{what}: the information matrix is singular (condition number {cond:.3g}); "
                                 "a regressor may be collinear with its spatial lag or the spatial parameter is "
                                 "not identified")
    return np.linalg.inv(info)


# ----------------------------------------------------------------------------------------------- lag
def ml_lag(y: np.ndarray, X: np.ndarray, op: SpatialOperator, logdet: LogDet) -> MLFit:
    """ML of ``y = rho W y + X b + e`` (SAR; SDM when ``X`` holds ``WX``). See the module docstring."""
    N, T = len(y), op.T
    Wy = op.lag(y)
    b0, e0 = ols(y, X)
    bL, eL = ols(Wy, X)
    a, b, c = e0 @ e0, e0 @ eL, eL @ eL

    def f(r):
        return -N / 2 * np.log((a - 2 * r * b + r * r * c) / N) + T * logdet(r)

    def fprime(r):
        return -N * (r * c - b) / (a - 2 * r * b + r * r * c) + T * logdet.derivative(r)

    rho = _maximise_1d(f, logdet, fprime)
    logdet.check_inside(rho, "rho")
    beta = b0 - rho * bL
    e = e0 - rho * eL
    ee = float(e @ e)
    s2 = ee / N
    loglik = _loglik(N, ee, T * logdet(rho))
    t1, t2, t3, note = _lag_traces(op, rho)
    xb = X @ beta
    wa_xb = op.lag(op.solve(rho, xb))
    k = X.shape[1]
    info = np.zeros((k + 2, k + 2))
    info[:k, :k] = X.T @ X / s2
    info[:k, k] = info[k, :k] = X.T @ wa_xb / s2
    info[k, k] = T * (t2 + t3) + wa_xb @ wa_xb / s2
    info[k, k + 1] = info[k + 1, k] = T * t1 / s2
    info[k + 1, k + 1] = N / (2 * s2**2)
    V = _invert_information(info, "spatial lag model")
    return MLFit(beta=beta, spatial={"rho": rho}, vcov=V[:k + 1, :k + 1], sigma2=s2, loglik=loglik, resid=e,
                 fitted=y - e, var_sigma2=V[k + 1, k + 1], notes=[note] if note else [])


# ----------------------------------------------------------------------------------------------- error
def _error_resid(y, X, Wy, WX, lam):
    ys, Xs = y - lam * Wy, X - lam * WX
    beta, e = ols(ys, Xs)
    return beta, e, Xs


def ml_error(y: np.ndarray, X: np.ndarray, op: SpatialOperator, logdet: LogDet) -> MLFit:
    """ML of ``y = X b + u, u = lambda W u + e`` (SEM; SDEM when ``X`` holds ``WX``)."""
    N, T = len(y), op.T
    Wy, WX = op.lag(y), op.lag(X)

    def f(lam):
        _, e, _ = _error_resid(y, X, Wy, WX, lam)
        return -N / 2 * np.log((e @ e) / N) + T * logdet(lam)

    def fprime(lam):  # envelope theorem: dS/dlambda = -2 e'W u at the optimal beta, u = y - X beta
        beta, e, _ = _error_resid(y, X, Wy, WX, lam)
        return N * (e @ (Wy - WX @ beta)) / (e @ e) + T * logdet.derivative(lam)

    lam = _maximise_1d(f, logdet, fprime)
    logdet.check_inside(lam, "lambda")
    beta, e, Xs = _error_resid(y, X, Wy, WX, lam)
    ee = float(e @ e)
    s2 = ee / N
    loglik = _loglik(N, ee, T * logdet(lam))
    t1, t2, t3, note = _lag_traces(op, lam)
    k = X.shape[1]
    xtx = Xs.T @ Xs
    vb = s2 * _invert_information(xtx, "spatial error model (regressors)")
    info = np.array([[T * (t2 + t3), T * t1 / s2], [T * t1 / s2, N / (2 * s2**2)]])
    vl = _invert_information(info, "spatial error model")
    V = np.zeros((k + 1, k + 1))
    V[:k, :k] = vb
    V[k, k] = vl[0, 0]
    u = y - X @ beta
    return MLFit(beta=beta, spatial={"lambda": lam}, vcov=V, sigma2=s2, loglik=loglik, resid=u, fitted=X @ beta,
                 var_sigma2=vl[1, 1], notes=[note] if note else [])


# ----------------------------------------------------------------------------------------------- SAC
def ml_sac(y: np.ndarray, X: np.ndarray, op: SpatialOperator, logdet: LogDet) -> MLFit:
    """ML of ``y = rho W y + X b + u, u = lambda W u + e`` (SAC / SARAR, same ``W`` in both parts)."""
    N, T = len(y), op.T
    Wy, WX = op.lag(y), op.lag(X)
    WWy = op.lag(Wy)

    def resid(r, lam):
        Ay, WAy = y - r * Wy, Wy - r * WWy
        return _error_resid(Ay, X, WAy, WX, lam)

    def negf(p):
        r, lam = p
        _, e, _ = resid(r, lam)
        return N / 2 * np.log((e @ e) / N) - T * (logdet(r) + logdet(lam))

    lo, hi = _bounds(logdet)
    # start from the SAR and SEM estimates' neighbourhood: a coarse grid, then a bounded quasi-Newton polish
    grid = np.linspace(lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo), 9)
    start = min(((r, l_) for r in grid for l_ in grid), key=negf)
    res = optimize.minimize(negf, np.array(start), method="L-BFGS-B", bounds=[(lo, hi), (lo, hi)],
                            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})
    res = optimize.minimize(negf, res.x, method="Nelder-Mead",
                            options={"xatol": 1e-11, "fatol": 1e-13, "maxiter": 4000})
    rho, lam = (float(v) for v in res.x)
    logdet.check_inside(rho, "rho")
    logdet.check_inside(lam, "lambda")
    beta, e, Xs = resid(rho, lam)
    ee = float(e @ e)
    s2 = ee / N
    loglik = _loglik(N, ee, T * (logdet(rho) + logdet(lam)))
    info, note = _sac_information(X, beta, s2, rho, lam, op, N)
    V = _invert_information(info, "SAC model")
    k = X.shape[1]
    u = y - rho * Wy - X @ beta
    return MLFit(beta=beta, spatial={"rho": rho, "lambda": lam}, vcov=V[:k + 2, :k + 2], sigma2=s2,
                 loglik=loglik, resid=u, fitted=y - u, var_sigma2=V[k + 2, k + 2], notes=[note] if note else [])


def _sac_information(X, beta, s2, rho, lam, op: SpatialOperator, N):
    """Expected information of (beta, rho, lambda, sigma2) in the SAC model.

    With ``W_A = W A^{-1}``, ``D = W B^{-1}``, ``C = B W_A B^{-1}`` and ``v = B W_A X b``:
    ``I_bb = X'B'BX/s2``, ``I_br = X'B' v / s2``, ``I_bl = 0``, ``I_rr = tr(W_A^2) + tr(C'C) + v'v/s2``,
    ``I_rl = tr(C'D) + tr(W_A D)``, ``I_ll = tr(D^2) + tr(D'D)``, ``I_rs = tr(W_A)/s2``, ``I_ls = tr(D)/s2``,
    ``I_ss = N/(2 s2^2)`` (traces times ``T``). Dense: needs ``n <= econ.spatial.traces.EXACT_MAX_N``.
    """
    if not traces.is_exact(op.n):
        raise SpecificationError(f"SAC standard errors need n <= {traces.EXACT_MAX_N} units (dense traces); "
                                 f"got n = {op.n}")
    T = op.T
    Wd = op.W.toarray()
    eye = np.eye(op.n)
    Ainv = np.linalg.inv(eye - rho * Wd)
    B = eye - lam * Wd
    Binv = np.linalg.inv(B)
    WA, D = Wd @ Ainv, Wd @ Binv
    C = B @ WA @ Binv
    k = X.shape[1]
    BX = X - lam * op.lag(X)
    wa_xb = op.lag(op.solve(rho, X @ beta))
    v = wa_xb - lam * op.lag(wa_xb)
    info = np.zeros((k + 3, k + 3))
    info[:k, :k] = BX.T @ BX / s2
    info[:k, k] = info[k, :k] = BX.T @ v / s2
    info[k, k] = T * (np.sum(WA * WA.T) + np.sum(C * C)) + v @ v / s2
    info[k, k + 1] = info[k + 1, k] = T * (np.sum(C * D) + np.sum(WA * D.T))
    info[k + 1, k + 1] = T * (np.sum(D * D.T) + np.sum(D * D))
    info[k, k + 2] = info[k + 2, k] = T * np.trace(WA) / s2
    info[k + 1, k + 2] = info[k + 2, k + 1] = T * np.trace(D) / s2
    info[k + 2, k + 2] = N / (2 * s2**2)
    return info, None
