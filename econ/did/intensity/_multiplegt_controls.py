"""Control variables of :func:`econ.did.did_multiplegt` (``did_multiplegt_dyn``'s ``controls`` option).

For each baseline treatment ``d``, ``theta_d`` is the coefficient of the regression of the outcome's first difference
on the controls' first differences with period fixed effects, among the (group, period) cells of groups with baseline
``d`` that have not switched yet (de Chaisemartin and D'Haultfoeuille 2024, section 3.5). Every estimate then uses
``Y - X theta_{D_g1}``. The estimation of ``theta_d`` adds ``-M_d' psi_g`` to each group's influence, with ``M_d``
the derivative of the estimate in ``theta_d`` and ``psi_g = G (X'X)^{-1} sum_t x_gt e_gt`` the group's influence on
``theta_d`` (``x`` the controls' first differences demeaned by period, ``e`` the regression's residuals).
"""

from __future__ import annotations

import numpy as np


def first_difference(A: np.ndarray) -> np.ndarray:
    """``A[:, t] - A[:, t-1]`` along the period axis (axis 1), NaN in the first period."""
    out = np.full(A.shape, np.nan)
    out[:, 1:] = A[:, 1:] - A[:, :-1]
    return out


def fit_thetas(Y, X, D1, F, keep, notes, names, w=None):
    """``theta_d`` (K,) and the influence ``psi`` (G, K) of each group on it, per baseline treatment ``d``.

    Parameters are the (G, T) outcome, (G, T, K) controls, baseline treatments, first-switch positions and kept
    groups of :func:`econ.did.did_multiplegt`; ``notes`` receives a line per baseline whose regression is singular.
    ``w``: sampling weights of the groups (weighted least squares and weighted period means).
    """
    G, T, K = X.shape
    w = np.ones(G) if w is None else w
    dY, dX = first_difference(Y), np.stack([first_difference(X[:, :, k]) for k in range(K)], axis=2)
    t = np.arange(T)
    out = {}
    for d in np.unique(D1[keep]):
        cell = (keep & (D1 == d))[:, None] & (t[None, :] < F[:, None]) & np.isfinite(dY) \
            & np.isfinite(dX).all(axis=2)
        psi = np.zeros((G, K))
        if not cell.any():
            out[d] = (np.zeros(K), psi)
            notes.append(f"controls {names} not used for baseline treatment {d:g}: no not-yet-switched group has "
                         "their first differences")
            continue
        n_t = (cell * w[:, None]).sum(axis=0)
        xt = np.where(cell[:, :, None], dX, 0.0) * w[:, None, None]
        yt = np.where(cell, dY, 0.0) * w[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            xbar = xt.sum(axis=0) / n_t[:, None]
            ybar = yt.sum(axis=0) / n_t
        xd = np.where(cell[:, :, None], dX - xbar[None], 0.0)  # demeaned by period (period fixed effects)
        yd = np.where(cell, dY - ybar[None], 0.0)
        A = xd.reshape(-1, K)
        wa = np.repeat(w, T)
        XtX = A.T @ (wa[:, None] * A)
        inv = np.linalg.pinv(XtX)
        theta = inv @ (A.T @ (wa * yd.ravel()))
        if np.linalg.matrix_rank(XtX) < K:
            notes.append(f"controls {names} are collinear (or do not vary) among the not-yet-switched groups with "
                         f"baseline treatment {d:g}: their coefficients are a minimum-norm solution")
        e = yd - xd @ theta
        psi = G * (np.einsum("gtk,gt->gk", xd, np.where(cell, e, 0.0) * w[:, None]) @ inv)
        out[d] = (theta, psi)
    if out:
        shown = "; ".join(f"{d:g}: " + ", ".join(f"{n}={v:.4g}" for n, v in zip(names, th)) for d, (th, _) in
                          out.items())
        notes.append(f"controls {names} partialled out by baseline treatment (first differences, period effects, "
                     f"not-yet-switched groups): {shown}")
    return out


def residualise(Y, X, D1, thetas):
    """``Y - X theta_{D_g1}`` (groups of a baseline without ``theta`` are unchanged)."""
    Yr = Y.copy()
    for d, (theta, _) in thetas.items():
        rows = D1 == d
        Yr[rows] = Y[rows] - X[rows] @ theta
    return Yr
