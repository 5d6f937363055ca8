"""Two-period repeated-cross-section DiD estimators with their influence functions (cells of a repeated-cross-section
or unbalanced :func:`econ.did.att_gt`).

Pure numpy. Each estimator takes the outcomes ``y`` of the rows of one 2x2 comparison (observations from the base
and the later period), the later-period indicator ``post``, the treated-cohort indicator ``d``, the row covariate
design ``X`` (intercept first) and row weights ``w`` normalised to mean one, and returns ``(att, psi)`` with ``psi``
the influence function over these rows. They follow Sant'Anna & Zhao (2020) for repeated cross-sections, as R's
DRDID implements them and R ``did``'s ``att_gt(panel = FALSE)`` calls them:

* ``dr``  -- the locally efficient doubly robust ``drdid_rc`` (logit score; four outcome regressions: comparison and
  treated rows, before and after; eq. (3.4) of the paper);
* ``ipw`` -- the normalised IPW ``std_ipw_did_rc``;
* ``reg`` -- the outcome-regression ``reg_did_rc``.

The base-period outcome regressions enter the doubly robust influence function with a minus sign (the derivative
of ``-ATT_pre``), as csdid 0.4 and R DRDID after its audit have it; moderndid 0.2's ``drdid_rc`` adds them, which
a numerical derivative of the estimator refutes (tests/test_att_gt_rcs.py checks it). Propensity scores are clipped to ``[1e-6, 1 - 1e-6]``; comparison rows with a score of 0.995 or more are trimmed.
"""

from __future__ import annotations

import numpy as np

from econ.did.staggered._drdid import EPS, TRIM, CellFailure, logit

__all__: list = []


def _fit_ols(X, y, w, mask, what):
    """Weighted OLS on the rows ``mask``: (fitted values on every row, ``X' W X / n`` Gram matrix, its weights)."""
    wm = w * mask
    gram = (X.T * wm) @ X / len(y)
    if not mask.any() or 1.0 / np.linalg.cond(gram, 1) < EPS:
        raise CellFailure(f"the outcome regression of the {what} rows is singular")
    beta = np.linalg.solve(gram, X.T @ (wm * y) / len(y))
    return X @ beta, gram, wm


def _ols_rep(X, y, fitted, gram, wm, m):
    """``rep @ m`` for the weighted-OLS coefficients' linear representation ``(wm (y - fitted) X) gram^-1``."""
    return (wm * (y - fitted)) * (X @ np.linalg.solve(gram, m))


def _ps(X, d, w):
    ps = np.clip(logit(X, d, w), 1e-6, 1 - 1e-6)
    return ps


def _ps_rep(X, d, ps, w, m):
    """``rep @ m`` for the logit coefficients' representation ``(w (d - ps) X) (X' diag(w ps (1-ps)) X / n)^-1``."""
    info = (X.T * (w * ps * (1 - ps))) @ X / len(d)
    try:
        v = np.linalg.solve(info, m)
    except np.linalg.LinAlgError as exc:
        raise CellFailure("the propensity-score information matrix is singular") from exc
    return (w * (d - ps)) * (X @ v)


def _mean_ok(*arrays):
    means = [a.mean() for a in arrays]
    if min(means) <= 0:
        raise CellFailure("a treated or comparison group keeps no positive weight in one of the two periods")
    return means


def estimate(method: str, y: np.ndarray, post: np.ndarray, d: np.ndarray, X: np.ndarray,
             w: np.ndarray) -> tuple[float, np.ndarray]:
    """ATT and influence function of one 2x2 repeated-cross-section comparison (see the module docstring)."""
    if method == "reg":
        return _reg(y, post, d, X, w)
    ps = _ps(X, d, w)
    trim = (d == 1) | (ps < TRIM)
    odds = ps / (1 - ps)
    w_tp, w_t1 = trim * w * d * (1 - post), trim * w * d * post
    w_cp, w_c1 = trim * w * odds * (1 - d) * (1 - post), trim * w * odds * (1 - d) * post
    if method == "ipw":
        m_tp, m_t1, m_cp, m_c1 = _mean_ok(w_tp, w_t1, w_cp, w_c1)
        a_tp, a_t1 = np.mean(w_tp * y) / m_tp, np.mean(w_t1 * y) / m_t1
        a_cp, a_c1 = np.mean(w_cp * y) / m_cp, np.mean(w_c1 * y) / m_c1
        att = (a_t1 - a_tp) - (a_c1 - a_cp)
        inf_treat = w_t1 * (y - a_t1) / m_t1 - w_tp * (y - a_tp) / m_tp
        inf_cont = w_c1 * (y - a_c1) / m_c1 - w_cp * (y - a_cp) / m_cp
        m2 = (X.T @ (w_c1 * (y - a_c1)) / m_c1 - X.T @ (w_cp * (y - a_cp)) / m_cp) / len(y)
        return float(att), inf_treat - (inf_cont + _ps_rep(X, d, ps, w, m2))
    c0, c1 = (d == 0) & (post == 0), (d == 0) & (post == 1)
    t0, t1 = (d == 1) & (post == 0), (d == 1) & (post == 1)
    f_c0, g_c0, wm_c0 = _fit_ols(X, y, w, c0, "comparison, base-period")
    f_c1, g_c1, wm_c1 = _fit_ols(X, y, w, c1, "comparison, later-period")
    f_t0, g_t0, wm_t0 = _fit_ols(X, y, w, t0, "treated, base-period")
    f_t1, g_t1, wm_t1 = _fit_ols(X, y, w, t1, "treated, later-period")
    f_c = post * f_c1 + (1 - post) * f_c0
    w_dd, w_d1, w_d0 = trim * w * d, w_t1, w_tp
    m_tp, m_t1, m_cp, m_c1, m_d = _mean_ok(w_tp, w_t1, w_cp, w_c1, w_dd)
    r = y - f_c
    e_tp, e_t1 = w_tp * r / m_tp, w_t1 * r / m_t1
    e_cp, e_c1 = w_cp * r / m_cp, w_c1 * r / m_c1
    e_d1, e_dt1 = w_dd * (f_t1 - f_c1) / m_d, w_d1 * (f_t1 - f_c1) / m_t1
    e_d0, e_dt0 = w_dd * (f_t0 - f_c0) / m_d, w_d0 * (f_t0 - f_c0) / m_tp
    a = {k: v.mean() for k, v in dict(tp=e_tp, t1=e_t1, cp=e_cp, c1=e_c1, d1=e_d1, dt1=e_dt1, d0=e_d0,
                                     dt0=e_dt0).items()}
    att = (a["t1"] - a["tp"]) - (a["c1"] - a["cp"]) + (a["d1"] - a["dt1"]) - (a["d0"] - a["dt0"])
    n = len(y)
    rep_c0 = lambda m: _ols_rep(X, y, f_c0, g_c0, wm_c0, m)  # noqa: E731
    rep_c1 = lambda m: _ols_rep(X, y, f_c1, g_c1, wm_c1, m)  # noqa: E731
    rep_t0 = lambda m: _ols_rep(X, y, f_t0, g_t0, wm_t0, m)  # noqa: E731
    rep_t1 = lambda m: _ols_rep(X, y, f_t1, g_t1, wm_t1, m)  # noqa: E731
    # treated part
    inf_treat = (e_t1 - w_t1 * a["t1"] / m_t1) - (e_tp - w_tp * a["tp"] / m_tp)
    inf_treat += rep_c1(-(X.T @ w_t1) / n / m_t1) - rep_c0(-(X.T @ w_tp) / n / m_tp)
    # comparison part
    inf_cont = (e_c1 - w_c1 * a["c1"] / m_c1) - (e_cp - w_cp * a["cp"] / m_cp)
    m2_pre = X.T @ (w_cp * (r - a["cp"])) / n / m_cp
    m2_post = X.T @ (w_c1 * (r - a["c1"])) / n / m_c1
    inf_cont += _ps_rep(X, d, ps, w, m2_post - m2_pre)
    inf_cont += rep_c1(-(X.T @ w_c1) / n / m_c1) - rep_c0(-(X.T @ w_cp) / n / m_cp)
    # local-efficiency terms
    inf_eff = ((e_d1 - w_dd * a["d1"] / m_d) - (e_dt1 - w_d1 * a["dt1"] / m_t1)
               - ((e_d0 - w_dd * a["d0"] / m_d) - (e_dt0 - w_d0 * a["dt0"] / m_tp)))
    mom_post = X.T @ (w_dd / m_d - w_d1 / m_t1) / n
    mom_pre = X.T @ (w_dd / m_d - w_d0 / m_tp) / n
    inf_or = (rep_t1(mom_post) - rep_c1(mom_post)) - (rep_t0(mom_pre) - rep_c0(mom_pre))
    return float(att), inf_treat - inf_cont + inf_eff + inf_or


def _reg(y, post, d, X, w):
    c0, c1 = (d == 0) & (post == 0), (d == 0) & (post == 1)
    f_c0, g_c0, wm_c0 = _fit_ols(X, y, w, c0, "comparison, base-period")
    f_c1, g_c1, wm_c1 = _fit_ols(X, y, w, c1, "comparison, later-period")
    w_tp, w_t1, w_c = w * d * (1 - post), w * d * post, w * d
    m_tp, m_t1, m_c = _mean_ok(w_tp, w_t1, w_c)
    a_tp, a_t1 = np.mean(w_tp * y) / m_tp, np.mean(w_t1 * y) / m_t1
    a_c = np.mean(w_c * (f_c1 - f_c0)) / m_c
    att = (a_t1 - a_tp) - a_c
    inf_treat = w_t1 * (y - a_t1) / m_t1 - w_tp * (y - a_tp) / m_tp
    m1 = X.T @ w_c / len(y)
    inf_cont = (w_c * (f_c1 - f_c0 - a_c) + _ols_rep(X, y, f_c1, g_c1, wm_c1, m1)
                - _ols_rep(X, y, f_c0, g_c0, wm_c0, m1)) / m_c
    return float(att), inf_treat - inf_cont
