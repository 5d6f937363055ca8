"""Two-period panel DiD estimators with their influence functions (the cells of :func:`econ.did.att_gt`).

Pure numpy. Each estimator takes the outcome change ``dy = y_t - y_base`` of the units in one 2x2 comparison, the
treated-cohort indicator ``d``, the covariate design ``X`` (first column the intercept, covariates measured at the
earlier of the two periods) and unit weights ``w``, and returns ``(att, psi)`` where ``psi`` is the influence
function of ``att`` over these units (``att - theta ~ mean(psi)``). They follow Sant'Anna & Zhao (2020) as R's DRDID
implements them for panel data:

* ``dr``  -- the locally efficient doubly robust estimator ``drdid_panel`` (logit propensity score by maximum
  likelihood, linear outcome regression on the comparison units, eq. (3.1) of the paper), which is what R ``did``'s
  ``att_gt(est_method = "dr")`` calls for panel data;
* ``ipw`` -- the normalized (Hajek) inverse-probability-weighted estimator ``std_ipw_did_panel``;
* ``reg`` -- the outcome-regression estimator ``reg_did_panel`` (Heckman, Ichimura & Todd 1997).

Propensity scores are capped at ``1 - 1e-6`` and comparison units with a score of 0.995 or more are trimmed, as in
DRDID. A cell that cannot be estimated raises :class:`CellFailure` with the reason; the caller turns it into NaN
plus a note naming the cell.
"""

from __future__ import annotations

import numpy as np

EPS = np.finfo(float).eps
TRIM = 0.995
OVERLAP = 0.999


class CellFailure(Exception):
    """A 2x2 comparison that cannot be estimated (the message says why)."""


def run_cell(fit):
    """Run one 2x2 comparison ``fit() -> (att, psi)``: ``(att, psi, None)``, or ``(nan, None, reason)`` when it
    cannot be estimated (a :class:`CellFailure`'s message, a failed linear solve, a non-finite estimate)."""
    try:
        att, psi = fit()
    except CellFailure as exc:
        return np.nan, None, str(exc)
    except np.linalg.LinAlgError as exc:
        return np.nan, None, f"a linear solve failed ({exc})"
    if not np.isfinite(att) or not np.all(np.isfinite(psi)):
        return np.nan, None, "the estimate is not finite"
    return float(att), psi, None


def logit(X: np.ndarray, d: np.ndarray, w: np.ndarray, *, tol: float = 1e-12, max_iter: int = 100) -> np.ndarray:
    """Weighted logit maximum-likelihood fit by Newton-Raphson; returns the fitted probabilities.

    The intercept-only model has the closed form ``p = sum(w d) / sum(w)``.
    """
    if X.shape[1] == 1:
        return np.full(len(d), np.dot(w, d) / w.sum())
    p0 = np.clip(np.dot(w, d) / w.sum(), 1e-6, 1 - 1e-6)
    beta = np.zeros(X.shape[1])
    beta[0] = np.log(p0 / (1 - p0))
    for _ in range(max_iter):
        eta = X @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        grad = X.T @ (w * (d - p))
        hess = (X * (w * p * (1 - p))[:, None]).T @ X
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError as exc:
            raise CellFailure("the propensity-score model is singular") from exc
        beta = beta + step
        if not np.all(np.isfinite(beta)):
            raise CellFailure("the propensity-score fit diverged")
        if np.max(np.abs(step)) < tol * (1 + np.max(np.abs(beta))):
            break
    return 1.0 / (1.0 + np.exp(-(X @ beta)))


def check_design(X: np.ndarray, d: np.ndarray, method: str, w_raw: np.ndarray | None, ps: np.ndarray | None) -> None:
    """R ``did``'s per-cell guards: overlap (an unweighted logit's largest fitted score below 0.999) for the
    score-based methods, a well-conditioned comparison-unit design for the regression-based ones."""
    intercept_only = X.shape[1] == 1
    if method in ("dr", "ipw"):
        if intercept_only:
            fail = d.mean() >= OVERLAP
        else:
            p = ps if w_raw is None else logit(X, d, np.ones(len(d)))
            fail = p.max() >= OVERLAP
        if fail:
            raise CellFailure("overlap fails (an estimated propensity score reaches 0.999)")
    if method in ("dr", "reg"):
        if intercept_only:
            fail = not np.any(d == 0)
        else:
            fail = not np.any(d == 0) or 1.0 / np.linalg.cond((X.T * (1 - d)) @ X, 1) < EPS
        if fail:
            raise CellFailure("the comparison units' covariate design is singular")


def _ols(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    sw = np.sqrt(w)
    coef, *_ = np.linalg.lstsq(X * sw[:, None], y * sw, rcond=None)
    return coef


def _ols_proj(X, resid, w_ols, n, m):
    """``rep @ m`` for the asymptotic linear representation ``rep = (w_ols resid X) (X'W X / n)^-1`` of the weighted
    OLS coefficients, without forming the n x k matrix."""
    xpx = (X.T * w_ols) @ X / n
    if 1.0 / np.linalg.cond(xpx, 1) < EPS:
        raise CellFailure("the outcome-regression design is singular")
    return (w_ols * resid) * (X @ np.linalg.solve(xpx, m))


def _ps_proj(X, d, ps, w, n, m):
    """``rep @ m`` for the logit coefficients' representation ``rep = (w (d - ps) X) (X' diag(w ps (1-ps)) X / n)^-1``."""
    info = (X.T * (ps * (1 - ps) * w)) @ X
    try:
        v = np.linalg.solve(info, m) * n
    except np.linalg.LinAlgError as exc:
        raise CellFailure("the propensity-score information matrix is singular") from exc
    return (w * (d - ps)) * (X @ v)


def estimate(method: str, dy: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray,
             ps: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """ATT and influence function of one 2x2 panel comparison (see the module docstring).

    ``w`` must already be normalized to mean one; ``ps`` may carry a propensity score fitted on the same
    ``(X, d, w)`` (cached across cells that share them).
    """
    n = len(d)
    if method == "reg":
        return _reg(dy, d, X, w, n)
    if ps is None:
        ps = logit(X, d, w)
    ps = np.minimum(ps, 1 - 1e-6)
    keep = (d == 1) | (ps < TRIM)
    w_treat = keep * w * d
    w_cont = keep * w * ps * (1 - d) / (1 - ps)
    m_treat, m_cont = w_treat.mean(), w_cont.mean()
    if m_treat <= 0 or m_cont <= 0:
        raise CellFailure("no treated or no comparison unit keeps a positive weight")
    if method == "ipw":
        eta_t = np.dot(w_treat, dy) / n / m_treat
        eta_c = np.dot(w_cont, dy) / n / m_cont
        inf_t = w_treat * (dy - eta_t) / m_treat
        m2 = X.T @ (w_cont * (dy - eta_c)) / n
        inf_c = (w_cont * (dy - eta_c) + _ps_proj(X, d, ps, w, n, m2)) / m_cont
        return eta_t - eta_c, inf_t - inf_c
    ctrl = d == 0
    beta = _ols(X[ctrl], dy[ctrl], w[ctrl])
    resid = dy - X @ beta
    eta_t = np.dot(w_treat, resid) / n / m_treat
    eta_c = np.dot(w_cont, resid) / n / m_cont
    w_ols = w * (1 - d)
    m1 = X.T @ w_treat / n
    inf_t = (w_treat * (resid - eta_t) - _ols_proj(X, resid, w_ols, n, m1)) / m_treat
    m2 = X.T @ (w_cont * (resid - eta_c)) / n
    m3 = X.T @ w_cont / n
    inf_c = (w_cont * (resid - eta_c) + _ps_proj(X, d, ps, w, n, m2) - _ols_proj(X, resid, w_ols, n, m3)) / m_cont
    return eta_t - eta_c, inf_t - inf_c


def _reg(dy, d, X, w, n):
    ctrl = d == 0
    beta = _ols(X[ctrl], dy[ctrl], w[ctrl])
    fitted = X @ beta
    w_treat = w * d
    m_treat = w_treat.mean()
    eta_t = np.dot(w_treat, dy) / n / m_treat
    eta_c = np.dot(w_treat, fitted) / n / m_treat
    m1 = X.T @ w_treat / n
    inf_t = w_treat * (dy - eta_t) / m_treat
    inf_c = (w_treat * (fitted - eta_c) + _ols_proj(X, dy - fitted, w * (1 - d), n, m1)) / m_treat
    return eta_t - eta_c, inf_t - inf_c
