"""Data-driven sieve dimension for the dose-response (``cont_did(method="cck")``): Chen, Christensen and Kankanala
(2024)'s Lepski-type choice of the number of B-spline segments, in the regression case (the dose is its own
instrument), as R ``contdid``'s ``dose_est_method = "cck"`` uses it through ``npiv``.

For dyadic segment counts ``s = 1, 2, 4, ...`` the sieve is a B-spline of ``degree`` with ``s - 1`` interior knots
at quantiles of the doses (dimension ``J = degree + s``); the grid stops at the largest ``s`` with
``J sqrt(log J) max((0.1 log n)^4, 1) <= 10 sqrt(n)`` (``J_max``; when every candidate up to ``2^floor(log2 n)``
passes, the last is left out, as ``npiv`` does). For each pair ``s1 < s2`` the sup-t statistic of the difference of
the two fits on the dose grid is compared with ``1.1 theta*``, ``theta*`` the ``1 - alpha`` quantile (lower order
statistic) of the bootstrap sup over pairs and doses of the studentized difference processes, Gaussian multipliers,
``alpha = min(0.5, sqrt(log J_max / J_max))``. The choice is the smallest ``s`` that passes against every larger
one (the largest when none does), capped at the second-largest ``s`` of the grid.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import BSpline

from econ.did.intensity._dose import quantile_knots

CHUNK = 128  # bootstrap draws per block (the draws come from one stream, so blocks do not change them)


def _fit_map(d: np.ndarray, grid: np.ndarray, y: np.ndarray, degree: int, segments: int):
    """Least-squares B-spline fit of ``y`` on ``d``: the linear map from outcomes to the fit on ``grid`` (m x n)
    and the residuals."""
    knots = quantile_knots(d, segments - 1)
    lo, hi = float(d.min()), float(d.max())
    t = np.r_[[lo] * (degree + 1), knots, [hi] * (degree + 1)]
    k = len(t) - degree - 1
    spl = BSpline(t, np.eye(k), degree, extrapolate=True)
    P, G = spl(d), spl(grid)
    tmp = np.linalg.pinv(P.T @ P) @ P.T  # k x n
    return G @ tmp, y - P @ (tmp @ y)


def segment_grid(n: int, degree: int) -> np.ndarray:
    """Dyadic segment counts searched (``J_max`` rule of the module docstring)."""
    L = max(int(np.floor(np.log(n) / np.log(2))), 3)
    segs = 2 ** np.arange(L + 1)
    J = degree + segs
    val = J * np.sqrt(np.log(J)) * max((0.1 * np.log(n)) ** 4, 1.0)
    bound = 10 * np.sqrt(n)
    cross = np.flatnonzero((val[:-1] <= bound) & (bound < val[1:]))
    return segs[:cross[0] + 1] if len(cross) else segs[:L]


def select_segments(y: np.ndarray, d: np.ndarray, grid: np.ndarray, degree: int = 3, n_draws: int = 999,
                    seed=0) -> dict:
    """Lepski choice of the number of spline segments for the regression of ``y`` on the dose ``d``.

    Returns ``segments`` (the choice), ``searched`` (the segment counts compared), ``theta`` (``theta*``),
    ``alpha`` and ``stats`` (pair -> sup-t statistic).
    """
    y, d, grid = np.asarray(y, float), np.asarray(d, float), np.asarray(grid, float)
    n = len(y)
    segs = segment_grid(n, degree)
    j_max = degree + int(segs[-1])
    alpha = min(0.5, float(np.sqrt(np.log(j_max) / j_max)))
    R = []
    for s in segs:
        L, resid = _fit_map(d, grid, y, degree, int(s))
        R.append((L @ y, L * resid[None, :]))  # fit on the grid, influence rows weighted by residuals
    pairs = [(i, j) for i in range(len(segs)) for j in range(i + 1, len(segs))]
    se = {(i, j): np.sqrt(((R[i][1] - R[j][1]) ** 2).sum(axis=1)) for i, j in pairs}
    tiny = np.finfo(float).eps
    stat = {p: float(np.max(np.abs(R[p[0]][0] - R[p[1]][0]) / np.maximum(se[p], tiny))) for p in pairs}
    rng = np.random.default_rng(seed)
    sup = np.zeros(n_draws)
    done = 0
    while done < n_draws:
        c = min(CHUNK, n_draws - done)
        omega = rng.normal(0.0, 1.0, (c, n))
        proc = [Ri @ omega.T for _, Ri in R]  # m x c per dimension
        best = np.zeros(c)
        for i, j in pairs:
            z = np.abs(proc[i] - proc[j]) / np.maximum(se[(i, j)], tiny)[:, None]
            best = np.maximum(best, z.max(axis=0))
        sup[done:done + c] = best
        done += c
    theta = float(np.quantile(sup, 1 - alpha, method="lower")) if len(pairs) else 0.0
    passes = [all(stat[(i, j)] <= 1.1 * theta for j in range(i + 1, len(segs))) for i in range(len(segs) - 1)]
    first = int(np.argmax(passes)) if any(passes) else len(segs) - 1
    cap = int(segs[-2]) if len(segs) > 1 else int(segs[0])
    return dict(segments=min(int(segs[first]), cap), searched=segs.tolist(), theta=theta, alpha=alpha,
                stats={(int(segs[i]), int(segs[j])): v for (i, j), v in stat.items()})
