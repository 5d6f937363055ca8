"""One (g, t) cell of the continuous-dose DiD with covariates (conditional parallel trends), doubly robust.

Conditional parallel trends (Callaway, Goodman-Bacon and Sant'Anna 2024, with covariates ``X``):
``E[dY(0) | X, D = d] = E[dY(0) | X, D = 0] =: m(X)``, so ``ATT(d) = E[dY - m(X) | D = d]``. In a cell with
treated units ``T`` (the cohort, ``D > 0``) and comparison units ``C``, ``Z = [1, X]`` (covariates from the cell's
base period):

1. outcome regression ``m(X) = Z'gamma``, ``gamma`` the least-squares fit of ``dY`` on ``Z`` among ``C``;
2. propensity score ``p(X) = P(T | X, T or C)`` by logit over the cell's units; comparison odds ``o = p / (1 - p)``
   (scores capped at ``1 - 1e-6``, comparison units with ``p >= 0.995`` trimmed, as R ``DRDID``);
3. the doubly robust level correction ``eta = sum_C o (dY - Z'gamma) / sum_C o``;
4. the adjusted changes ``dY~_i = dY_i - Z_i'gamma - eta`` of the treated are regressed on the dose basis
   ``B(D)``: ``ATT(d) = B(d)'b``, ``ACRT(d) = S(d)'b``, ``ATT^o = mean_T(dY~)`` (the ``drdid_panel`` estimator of
   Sant'Anna and Zhao 2020 for "any dose" against ``C``), ``ACRT^o = mean_T(S(D_i)'b)``.

``ATT^o`` is doubly robust (outcome regression or propensity score correct). The dose-specific part
``ATT(d) - ATT^o`` comes from the outcome regression; when the dose is independent of ``X`` among the treated it is
robust to a wrong outcome regression too (the error ``m - Z'gamma`` then averages the same at every dose and
``eta`` removes it), otherwise ATT(d) and ACRT(d) need the outcome regression right. This is diff-diff's
``ContinuousDiD(estimation_method="dr")`` construction.

Influence functions (scaled so that ``estimate - truth ~ mean over all n units``) include the estimation of
``gamma``, of the logit coefficients and of ``eta``: with ``psi_gamma``, ``psi_pi`` the coefficients' influence,
``psi_eta = (n / n_C) o_c (r_c - eta) / mean_C(o) - a'psi_gamma + c'psi_pi`` (``a = mean_C(o Z) / mean_C(o)``,
``c = mean_C(o Z (r - eta)) / mean_C(o)``, ``r = dY - Z'gamma``), and
``psi_b = (n / n_T) A^{-1} B_i e_i - A^{-1}(Q psi_gamma + Bbar psi_eta)`` (``A = mean_T(B B')``,
``Q = mean_T(B Z')``, ``Bbar = mean_T(B)``). With the intercept alone (no covariates) every term reduces to the
unconditional cell of :func:`econ.did.intensity._dose.cell`. With sampling weights ``w`` every mean, regression and the
logit are ``w``-weighted (``n_T``, ``n_C`` the weight totals; the odds ``o`` carry ``w``), as R ``DRDID``.
"""

from __future__ import annotations

import numpy as np

from econ.did.staggered._drdid import TRIM, CellFailure, logit
from econ.did.intensity._dose import DoseBasis

EPS = np.finfo(float).eps


def cell_cov(dy: np.ndarray, dose: np.ndarray, treated: np.ndarray, comp: np.ndarray, basis: DoseBasis,
             grid: np.ndarray, n: int, Z: np.ndarray, w: np.ndarray | None = None) -> dict:
    """Doubly robust estimates and influence functions of one (g, t) cell (see the module docstring).

    ``dy``, ``dose`` (length ``n``), boolean masks ``treated``/``comp``, ``Z`` (n x p, first column ones).
    Returns the same keys as :func:`econ.did.intensity._dose.cell`. Raises
    :class:`econ.did.staggered._drdid.CellFailure` when the comparison units' covariate design is singular or the propensity score
    fails (no overlap).
    """
    it, ic = np.flatnonzero(treated), np.flatnonzero(comp)
    cell = np.r_[it, ic]
    w = np.ones(n) if w is None else w
    wt, wc, wcell = w[it], w[ic], w[cell]
    n_g, n_c, n_cell = wt.sum(), wc.sum(), wcell.sum()  # (weighted) group sizes
    Zt, Zc = Z[it], Z[ic]
    # 1. outcome regression among the comparison units
    M = Zc.T @ (wc[:, None] * Zc) / n_c
    if len(ic) <= Z.shape[1] or 1.0 / np.linalg.cond(M, 1) < 1e3 * EPS:
        raise CellFailure("the comparison units' covariate design is singular")
    Minv = np.linalg.inv(M)
    gamma = Minv @ (Zc.T @ (wc * dy[ic])) / n_c
    r = dy[ic] - Zc @ gamma
    psi_gamma = np.zeros((n, Z.shape[1]))
    psi_gamma[ic] = (n / n_c) * (Zc * (wc * r)[:, None]) @ Minv
    # 2. propensity score over the cell's units
    A_ind = np.r_[np.ones(len(it)), np.zeros(len(ic))]
    Zcell = Z[cell]
    p = logit(Zcell, A_ind, wcell)
    if p[len(it):].max() >= 0.999:
        raise CellFailure("overlap fails (an estimated propensity score reaches 0.999)")
    p = np.minimum(p, 1 - 1e-6)
    H = (Zcell * (wcell * p * (1 - p))[:, None]).T @ Zcell / n_cell
    try:
        Hinv = np.linalg.inv(H)
    except np.linalg.LinAlgError as exc:
        raise CellFailure("the propensity-score information matrix is singular") from exc
    psi_pi = np.zeros((n, Z.shape[1]))
    psi_pi[cell] = (n / n_cell) * (Zcell * (wcell * (A_ind - p))[:, None]) @ Hinv
    pc = p[len(it):]
    o = wc * np.where(pc < TRIM, pc / (1 - pc), 0.0)
    o_bar = o.sum() / n_c
    if o_bar <= 0:
        raise CellFailure("no comparison unit keeps a positive weight")
    # 3. the doubly robust level correction and its influence
    eta = float(np.dot(o, r) / n_c / o_bar)
    a = (Zc * o[:, None]).sum(axis=0) / n_c / o_bar
    c = (Zc * (o * (r - eta))[:, None]).sum(axis=0) / n_c / o_bar
    psi_eta = psi_pi @ c - psi_gamma @ a
    psi_eta[ic] += (n / n_c) * o * (r - eta) / o_bar
    # 4. the dose-response of the adjusted changes
    y1, d1 = dy[it] - Zt @ gamma - eta, dose[it]
    X = basis.value(d1)
    keep = X.any(axis=0)
    Xk = X[:, keep]
    Ainv = np.linalg.pinv(Xk.T @ (wt[:, None] * Xk) / n_g)
    b = np.zeros(basis.k)
    b[keep] = Ainv @ (Xk.T @ (wt * y1)) / n_g
    e = y1 - X @ b
    Q = Xk.T @ (wt[:, None] * Zt) / n_g
    psi_b = -(psi_gamma @ Q.T + psi_eta[:, None] * (wt @ Xk / n_g)[None, :]) @ Ainv
    psi_b[it] += (n / n_g) * (Xk * (wt * e)[:, None]) @ Ainv

    G, S = basis.value(grid), basis.slope(grid)
    s_i = basis.slope(d1)
    acrt_i = s_i @ b
    att_o, acrt_o = float(wt @ y1) / n_g, float(wt @ acrt_i) / n_g
    if_att_o = -(psi_gamma @ (wt @ Zt / n_g)) - psi_eta
    if_att_o[it] += (n / n_g) * wt * (y1 - att_o)
    if_acrt_o = psi_b @ (wt @ s_i[:, keep] / n_g)
    if_acrt_o[it] += (n / n_g) * wt * (acrt_i - acrt_o)
    has_att = np.ones(len(grid), bool) if basis.kind == "spline" else (G[:, keep].sum(axis=1) > 0)
    has_acrt = has_att if basis.kind == "spline" else ~((S != 0) & ~keep[None, :]).any(axis=1)
    return dict(att_o=att_o, acrt_o=acrt_o, att_d=G @ b, acrt_d=S @ b, if_att_o=if_att_o, if_acrt_o=if_acrt_o,
                if_att_d=psi_b @ G[:, keep].T, if_acrt_d=psi_b @ S[:, keep].T, has_att=has_att,
                has_acrt=has_acrt & has_att, n_treated=len(it), n_comparison=len(ic))
