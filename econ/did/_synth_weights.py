"""Numerical cores for synthetic control and synthetic difference-in-differences (pure numpy).

* :func:`fw_weights` -- the regularised simplex least squares of Arkhangelsky et al. (2021) solved by Frank-Wolfe with
  the exact line search and stopping rule of R ``synthdid::sc.weight.fw``, batched over independent problems of one
  shape (placebo draws are solved together);
* :func:`sdid_weights` -- unit weights ``omega`` and time weights ``lambda`` for one ``(N0 + N1) x (T0 + T1)`` outcome
  matrix (controls first, pre-periods first), with the ``sparsify`` refinement of R synthdid;
* :func:`simplex_qp` -- ``min 0.5 w'Qw + q'w`` over the unit simplex (accelerated projected gradient), used by the
  classical synthetic control with a predictor-weighting matrix ``V`` and its penalised variant.

Nothing here validates input: the public functions in :mod:`econ.did.sdid` and :mod:`econ.did.synth` do.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


_BATCH_MIN = 24  # fewer problems than this are solved one by one


def noise_level(Y: np.ndarray, N0: int, T0: int) -> float:
    """Standard deviation (ddof 1) of the controls' first differences over the pre-period (R synthdid's default)."""
    d = np.diff(Y[:N0, :T0], axis=1)
    return float(d.std(ddof=1)) if d.size > 1 else 0.0


def collapsed(Y: np.ndarray, N0: int, T0: int) -> np.ndarray:
    """``(N0 + 1) x (T0 + 1)``: controls and the treated mean; pre-periods and the post-period mean."""
    top = np.column_stack([Y[:N0, :T0], Y[:N0, T0:].mean(axis=1)])
    bottom = np.append(Y[N0:, :T0].mean(axis=0), Y[N0:, T0:].mean())
    return np.vstack([top, bottom])


def sparsify(v: np.ndarray) -> np.ndarray:
    """R synthdid's ``sparsify_function``: zero the weights at most a quarter of the largest, renormalise (rows)."""
    v = np.where(v <= v.max(axis=-1, keepdims=True) / 4, 0.0, v)
    return v / v.sum(axis=-1, keepdims=True)


def _gram(M: np.ndarray, intercept: bool):
    """For stacked problems ``M`` (B, rows, n + 1): Gram ``A'A``, ``A'b``, ``b'b`` of the (column-centred) A | b."""
    if intercept:
        M = M - M.mean(axis=1, keepdims=True)
    A, b = M[:, :, :-1], M[:, :, -1]
    G = np.einsum("bri,brj->bij", A, A)
    return G, np.einsum("bri,br->bi", A, b), np.einsum("br,br->b", b, b)


def fw_weights(M: np.ndarray, zeta: float, *, intercept: bool = True, x0: np.ndarray | None = None,
               min_decrease: float = 1e-3, max_iter: int = 1000) -> np.ndarray:
    """Frank-Wolfe for ``min zeta^2 |x|^2 + |A x - b|^2 / rows`` over the simplex, as R ``sc.weight.fw``.

    ``M`` is ``(rows, n + 1)`` (one problem) or ``(B, rows, n + 1)`` (B problems of one shape); its last column is
    ``b``. With ``intercept`` the columns are centred first. Each problem stops when its objective decreased by at
    most ``min_decrease ** 2`` in the last iteration, or after ``max_iter`` iterations. Returns ``x`` (n,) or (B, n).
    """
    single = M.ndim == 2
    M = M[None] if single else M
    B, rows, n1 = M.shape
    n = n1 - 1
    G, Ab, bb = _gram(np.asarray(M, dtype=float), intercept)
    eta = rows * zeta ** 2
    z2 = zeta ** 2
    if B < _BATCH_MIN:  # a vectorised step costs more than a few scalar ones
        xs = [_fw_one(G[k], Ab[k], float(bb[k]), rows, z2, eta, None if x0 is None else np.reshape(x0, (B, n))[k],
                      min_decrease ** 2, max_iter) for k in range(B)]
        return xs[0] if single else np.stack(xs)
    x = np.full((B, n), 1.0 / n) if x0 is None else np.array(x0, dtype=float).reshape(B, n)
    Gx = np.einsum("bij,bj->bi", G, x)
    out = x.copy()
    where = np.arange(B)  # batch position of each row still iterated (converged rows are dropped every 32 steps)
    hg = Gx - Ab + eta * x  # half-gradient, updated in place along G[i] - A'b + eta e_i
    GmA = G - Ab[:, None, :]
    # scalars kept up to date in O(1) per step: x'x, x'Gx, x'A'b
    xx = (x * x).sum(axis=1)
    xGx = (x * Gx).sum(axis=1)
    xAb = (x * Ab).sum(axis=1)
    diag = np.einsum("bii->bi", G)
    active = np.ones(B, dtype=bool)
    prev = np.full(B, np.inf)
    tol = min_decrease ** 2
    idx = np.arange(B)
    for t in range(max_iter):
        if t % 32 == 31 and active.sum() < 0.8 * len(active):
            out[where[~active]] = x[~active]
            k = active
            where, x, hg, GmA, Ab, bb, diag = (a[k] for a in (where, x, hg, GmA, Ab, bb, diag))
            xx, xGx, xAb, prev, active = xx[k], xGx[k], xAb[k], prev[k], active[k]
            idx = np.arange(len(where))
        i = hg.argmin(axis=1)
        xi, hgi, Abi = x[idx, i], hg[idx, i], Ab[idx, i]
        Gxi = hgi + Abi - eta * xi
        dgrad = hgi - (xGx - xAb + eta * xx)                               # half-gradient . (e_i - x)
        denom = (diag[idx, i] - 2 * Gxi + xGx) + eta * (xx - 2 * xi + 1.0)  # |A_i - Ax|^2 + eta |e_i - x|^2
        ok = (denom > 0) & active
        step = np.minimum(np.maximum(-dgrad / np.where(ok, denom, 1.0), 0.0), 1.0)
        step *= ok
        keep = 1.0 - step
        x *= keep[:, None]
        x[idx, i] += step
        hg *= keep[:, None]
        hg += step[:, None] * GmA[idx, i]
        hg[idx, i] += step * eta
        xx = keep * keep * xx + 2 * step * keep * xi + step * step
        xGx = keep * keep * xGx + 2 * step * keep * Gxi + step * step * diag[idx, i]
        xAb = keep * xAb + step * Abi
        val = z2 * xx + (xGx - 2 * xAb + bb) / rows
        if t >= 1:
            active &= (prev - val) > tol
            if not active.any():
                break
        prev = np.where(active, val, prev)
    out[where] = x
    x = out
    return x[0] if single else x


def _fw_one(G, Ab, bb, rows, z2, eta, x0, tol, max_iter):
    """One problem of :func:`fw_weights`: the same steps with Python scalars and the half-gradient updated in
    place (``hg = Gx - A'b + eta x`` moves along ``G[i] - A'b + eta e_i``), so a step costs a handful of vector
    operations."""
    n = len(Ab)
    x = np.full(n, 1.0 / n) if x0 is None else np.array(x0, dtype=float)
    Gx = G @ x
    hg = Gx - Ab + eta * x
    GmA = G - Ab[None, :]
    xx, xGx, xAb = float(x @ x), float(x @ Gx), float(x @ Ab)
    diag = np.diag(G).tolist()
    Abl = Ab.tolist()
    prev = np.inf
    for t in range(max_iter):
        i = int(hg.argmin())
        xi = float(x[i])
        hgi = float(hg[i])
        Gxi = hgi + Abl[i] - eta * xi
        dgrad = hgi - (xGx - xAb + eta * xx)
        denom = (diag[i] - 2 * Gxi + xGx) + eta * (xx - 2 * xi + 1.0)
        step = min(1.0, max(0.0, -dgrad / denom)) if denom > 0 else 0.0
        keep = 1.0 - step
        if step:
            x *= keep
            x[i] += step
            hg *= keep
            hg += step * GmA[i]
            hg[i] += step * eta
        xx = keep * keep * xx + 2 * step * keep * xi + step * step
        xGx = keep * keep * xGx + 2 * step * keep * Gxi + step * step * diag[i]
        xAb = keep * xAb + step * Abl[i]
        val = z2 * xx + (xGx - 2 * xAb + bb) / rows
        if t >= 1 and not prev - val > tol:
            break
        prev = val
    return x


def sdid_weights(Y: np.ndarray, N0: int, T0: int, *, zeta_omega: float, zeta_lambda: float,
                 omega_intercept: bool = True, lambda_intercept: bool = True, omega=None, lam=None,
                 update_omega: bool = True, update_lambda: bool = True, min_decrease: float,
                 max_iter: int = 10000, max_iter_pre_sparsify: int = 100, do_sparsify: bool = True):
    """Unit and time weights of R ``synthdid_estimate`` (without covariates), batched over a leading axis of ``Y``.

    ``update_omega`` / ``update_lambda`` False keeps the given ``omega`` / ``lam`` as they are; True estimates them,
    starting Frank-Wolfe from the given weights (uniform when ``None``), as R does when it re-fits placebo and
    bootstrap samples. ``Y`` is ``(N, T)`` or ``(B, N, T)``; returns ``(omega, lam)`` with matching leading shape.
    """
    single = Y.ndim == 2
    Y = Y[None] if single else Y
    B = Y.shape[0]
    Yc = np.stack([collapsed(y, N0, T0) for y in Y])

    def start(w, n):
        return None if w is None else np.broadcast_to(np.asarray(w, dtype=float), (B, n)).copy()

    def solve(M, zeta, intercept, x0):
        x = fw_weights(M, zeta, intercept=intercept, x0=x0, min_decrease=min_decrease,
                       max_iter=max_iter_pre_sparsify)
        if do_sparsify:
            x = fw_weights(M, zeta, intercept=intercept, x0=sparsify(x), min_decrease=min_decrease,
                           max_iter=max_iter)
        return x

    lam = solve(Yc[:, :N0, :], zeta_lambda, lambda_intercept, start(lam, T0)) if update_lambda else start(lam, T0)
    omega = (solve(np.transpose(Yc[:, :, :T0], (0, 2, 1)), zeta_omega, omega_intercept, start(omega, N0))
             if update_omega else start(omega, N0))
    return (omega[0], lam[0]) if single else (omega, lam)


def did_contrast(Y: np.ndarray, N0: int, T0: int, omega: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``(-omega, 1/N1) Y (-lambda, 1/T1)'``: the weighted double difference, batched over a leading axis."""
    N1 = Y.shape[-2] - N0
    T1 = Y.shape[-1] - T0
    row = np.concatenate([-omega, np.full(omega.shape[:-1] + (N1,), 1.0 / N1)], axis=-1)
    col = np.concatenate([-lam, np.full(lam.shape[:-1] + (T1,), 1.0 / T1)], axis=-1)
    return np.einsum("...i,...ij,...j->...", row, Y, col)


def sum_normalize(x: np.ndarray) -> np.ndarray:
    """``x / sum(x)``, or uniform weights when the sum is 0 (R synthdid's ``sum_normalize``)."""
    s = x.sum()
    return x / s if s != 0 else np.full(len(x), 1.0 / len(x))


def project_simplex(v: np.ndarray) -> np.ndarray:
    """Euclidean projection of each row of ``v`` onto the unit simplex (Duchi et al. 2008)."""
    v = np.atleast_2d(v)
    n = v.shape[1]
    u = -np.sort(-v, axis=1)
    css = np.cumsum(u, axis=1) - 1.0
    k = np.arange(1, n + 1)
    cond = u - css / k > 0
    rho = n - 1 - np.argmax(cond[:, ::-1], axis=1)
    theta = css[np.arange(v.shape[0]), rho] / (rho + 1)
    return np.maximum(v - theta[:, None], 0.0)


def simplex_ls(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``argmin |A w - b|^2`` over the unit simplex: Lawson-Hanson NNLS with a heavy sum-to-one row, then the
    exact equality-constrained least squares on the support NNLS found (kept when it stays non-negative)."""
    from scipy.optimize import nnls

    n = A.shape[1]
    scale = max(1.0, float(np.abs(A).max()), float(np.abs(b).max()))
    M = 1e4 * scale
    w, _ = nnls(np.vstack([A, np.full((1, n), M)]), np.append(b, M), maxiter=50 * n)
    w = sum_normalize(np.maximum(w, 0.0))
    S = np.flatnonzero(w > 0)
    As = A[:, S]
    K = np.zeros((len(S) + 1, len(S) + 1))
    K[:-1, :-1] = 2 * As.T @ As
    K[:-1, -1] = K[-1, :-1] = 1.0
    sol = np.linalg.lstsq(K, np.append(2 * As.T @ b, 1.0), rcond=None)[0][:-1]
    if (sol >= -1e-14).all():
        cand = np.zeros(n)
        cand[S] = np.maximum(sol, 0.0)
        cand /= cand.sum()
        if np.sum((A @ cand - b) ** 2) <= np.sum((A @ w - b) ** 2) + 1e-12 * max(1.0, float(b @ b)):
            return cand
    return w


def simplex_qp(Q: np.ndarray, q: np.ndarray, *, x0=None, tol: float = 1e-12, max_iter: int = 20000) -> np.ndarray:
    """``argmin 0.5 x'Qx + q'x`` over the unit simplex (``Q`` positive semi-definite), by FISTA with restarts.

    Stops when the step changes ``x`` by less than ``tol`` (max norm, relative to 1) or after ``max_iter`` steps.
    """
    n = len(q)
    L = float(np.linalg.eigvalsh(Q)[-1]) if n > 1 else float(Q[0, 0])
    if n == 1:
        return np.ones(1)
    L = max(L, 1e-300)
    x = np.full(n, 1.0 / n) if x0 is None else np.asarray(x0, dtype=float)
    y, t = x.copy(), 1.0
    f_old = np.inf
    for _ in range(max_iter):
        x_new = project_simplex(y - (Q @ y + q) / L)[0]
        f_new = 0.5 * x_new @ Q @ x_new + q @ x_new
        if f_new > f_old:  # adaptive restart (O'Donoghue & Candes 2015)
            y, t = x.copy(), 1.0
            continue
        t_new = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        y = x_new + ((t - 1) / t_new) * (x_new - x)
        if np.max(np.abs(x_new - x)) < tol:
            x = x_new
            break
        x, t, f_old = x_new, t_new, f_new
    return x
