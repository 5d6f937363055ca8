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

from econ.panel.demean import single_thread_blas

__all__: list[str] = []


_BATCH_MIN = 24  # fewer problems than this are solved one by one
_MAX_BYTES = 1 << 28  # the stacked (B, n, n) Gram matrices of one batch stay below 256 MB


def noise_level(Y: np.ndarray, N0: int, T0: int) -> float:
    """Standard deviation (ddof 1) of the controls' first differences over the pre-period (R synthdid's default)."""
    d = np.diff(Y[:N0, :T0], axis=1)
    return float(d.std(ddof=1)) if d.size > 1 else 0.0


def collapsed(Y: np.ndarray, N0: int, T0: int) -> np.ndarray:
    """``(N0 + 1) x (T0 + 1)``: controls and the treated mean; pre-periods and the post-period mean (batched over a
    leading axis)."""
    top = np.concatenate([Y[..., :N0, :T0], Y[..., :N0, T0:].mean(axis=-1, keepdims=True)], axis=-1)
    bottom = np.concatenate([Y[..., N0:, :T0].mean(axis=-2), Y[..., N0:, T0:].mean(axis=(-2, -1))[..., None]],
                            axis=-1)
    return np.concatenate([top, bottom[..., None, :]], axis=-2)


def sparsify(v: np.ndarray) -> np.ndarray:
    """R synthdid's ``sparsify_function``: zero the weights at most a quarter of the largest, renormalise (rows)."""
    v = np.where(v <= v.max(axis=-1, keepdims=True) / 4, 0.0, v)
    return v / v.sum(axis=-1, keepdims=True)


class _Problems:
    """Frank-Wolfe data of B stacked problems ``min zeta^2 |x|^2 + |A x - b|^2 / rows`` of one shape, computed once
    and shared by the two rounds (before and after sparsification).

    With ``G = A'A`` and ``eta = rows zeta^2``, the half-gradient is ``hg = Gx - A'b + eta x``; a step towards vertex
    ``i`` moves it along ``H[i] = G[i] - A'b + eta e_i`` (stored in place of ``G``), and the line search needs
    ``A'b_i``, ``G_ii - 2 A'b_i + eta`` and ``G_ii + eta`` (columns of ``aux``)."""

    def __init__(self, M: np.ndarray, zeta: float, intercept: bool):
        if intercept:
            M = M - M.mean(axis=1, keepdims=True)
        A, b = M[:, :, :-1], M[:, :, -1]
        At = np.swapaxes(A, 1, 2)
        self.B, self.rows, self.n = A.shape
        self.G = At @ A
        self.Ab = (At @ b[:, :, None])[..., 0]
        self.bb = np.einsum("br,br->b", b, b)
        self.z2 = zeta ** 2
        self.eta = self.rows * self.z2
        diag = np.einsum("bii->bi", self.G).copy()
        self.aux = np.stack([self.Ab, diag - 2 * self.Ab + self.eta, diag + self.eta], axis=-1)
        self.H = None

    def start(self, x: np.ndarray):
        """Half-gradient, ``Q = x'Gx + eta x'x`` and ``x'A'b`` at ``x``; the first call turns ``G`` into ``H``."""
        if self.H is None:
            Gx = np.einsum("bij,bj->bi", self.G, x)
            hg = Gx - self.Ab + self.eta * x
            Q = np.einsum("bi,bi->b", x, Gx) + self.eta * np.einsum("bi,bi->b", x, x)
            H = self.G
            H -= self.Ab[:, None, :]
            H[:, np.arange(self.n), np.arange(self.n)] += self.eta
            self.H, self.G = H, None
        else:  # x on the simplex: x'H = Gx - A'b + eta x
            hg = np.einsum("bi,bij->bj", x, self.H)
            Q = np.einsum("bi,bi->b", x, hg + self.Ab)
        return hg, Q, np.einsum("bi,bi->b", x, self.Ab)


def fw_weights(M: np.ndarray, zeta: float, *, intercept: bool = True, x0: np.ndarray | None = None,
               min_decrease: float = 1e-3, max_iter: int = 1000, resparsify_iter: int | None = None) -> np.ndarray:
    """Frank-Wolfe for ``min zeta^2 |x|^2 + |A x - b|^2 / rows`` over the simplex, as R ``sc.weight.fw``.

    ``M`` is ``(rows, n + 1)`` (one problem) or ``(B, rows, n + 1)`` (B problems of one shape); its last column is
    ``b``. With ``intercept`` the columns are centred first. Each problem stops when its objective decreased by at
    most ``min_decrease ** 2`` in the last iteration, or after ``max_iter`` iterations. With ``resparsify_iter``,
    a second round of at most that many iterations starts from :func:`sparsify` of the first (R synthdid's
    ``sparsify``), reusing the Gram matrices. Returns ``x`` (n,) or (B, n).
    """
    single = M.ndim == 2
    M = np.asarray(M[None] if single else M, dtype=float)
    B, rows, n1 = M.shape
    n = n1 - 1
    x = np.full((B, n), 1.0 / n) if x0 is None else np.array(x0, dtype=float).reshape(B, n)
    chunk = max(_BATCH_MIN, _MAX_BYTES // (8 * n * n))
    out = np.empty((B, n))
    with single_thread_blas():  # small batched Gram products: threads only compete on a busy machine
        for lo in range(0, B, chunk):
            P = _Problems(M[lo:lo + chunk], zeta, intercept)
            xs = _solve(P, x[lo:lo + chunk], min_decrease ** 2, max_iter)
            if resparsify_iter is not None:
                xs = _solve(P, sparsify(xs), min_decrease ** 2, resparsify_iter)
            out[lo:lo + chunk] = xs
    return out[0] if single else out


def _solve(P: _Problems, x0: np.ndarray, tol: float, max_iter: int) -> np.ndarray:
    x = np.array(x0, dtype=float)
    hg, Q, xAb = P.start(x)
    if P.B < _BATCH_MIN:  # a vectorised step costs more than a few scalar ones
        for k in range(P.B):
            x[k] = _fw_one(P.H[k], P.aux[k].tolist(), float(P.bb[k]), P.rows, x[k], hg[k], float(Q[k]),
                           float(xAb[k]), tol, max_iter)
        return x
    return _fw_batch(P, x, hg, Q, xAb, tol, max_iter)


def _fw_batch(P: _Problems, x, hg, Q, xAb, tol, max_iter):
    """All problems stepped together; each stops by R's rule (its later steps are zero). Converged problems are
    dropped every 32 steps once a fifth of them have stopped.

    A step ``x <- (1 - s) x + s e_i`` scales the whole of ``x`` and ``hg``; both are kept as a per-problem scale
    times a vector (``x = cx y``, ``hg = ch g``) so a step touches one entry of ``y`` and adds one row of ``H`` to
    ``g``: two passes over the ``(B, n)`` arrays instead of five."""
    B, n, rows = P.B, P.n, P.rows
    H = P.H.reshape(B * n, n)
    Ab, cdiag, dp = (np.ascontiguousarray(P.aux[..., j]).ravel() for j in range(3))
    bb = P.bb
    out = x.copy()
    y, g = x, hg
    cx, ch = np.ones(B), np.ones(B)
    where = np.arange(B)  # batch position of each problem still iterated
    base = np.arange(B) * n  # row of problem k's H[0] in the flattened H
    active = np.ones(B, dtype=bool)
    prev = np.full(B, np.inf)
    buf = np.empty((B, n))
    for t in range(max_iter):
        if t % 32 == 31:
            small = (ch < 1e-100) | (cx < 1e-100)
            if small.any():
                y[small] *= cx[small, None]
                g[small] *= ch[small, None]
                cx[small] = ch[small] = 1.0
            if active.sum() < 0.8 * len(active):
                out[where[~active]] = y[~active] * cx[~active, None]
                rows_kept = (base[active][:, None] + np.arange(n)).ravel()
                H, Ab, cdiag, dp = H[rows_kept], Ab[rows_kept], cdiag[rows_kept], dp[rows_kept]
                where, y, g, bb, Q, xAb, prev, cx, ch = (a[active] for a in (where, y, g, bb, Q, xAb, prev, cx, ch))
                active = active[active]
                base = np.arange(len(where)) * n
                buf = np.empty((len(where), n))
        fi = g.argmin(axis=1)
        fi += base
        hgi = ch * g.ravel()[fi]
        Abi = Ab[fi]
        num = (Q - xAb) - hgi                      # -(half-gradient . (e_i - x))
        denom = cdiag[fi] - 2 * hgi + Q            # |A_i - Ax|^2 + eta |e_i - x|^2
        ok = (denom > 0) & active
        step = np.minimum(np.maximum(num / np.where(ok, denom, np.inf), 0.0), 1.0)
        keep = 1.0 - step
        Q = keep * keep * Q + 2 * step * keep * (hgi + Abi) + step * step * dp[fi]
        xAb = keep * xAb + step * Abi
        cx *= keep
        ch *= keep
        if not keep.all():  # a full step lands on a vertex: restart its scales
            full = keep == 0
            y[full] = 0.0
            g[full] = 0.0
            cx[full] = ch[full] = 1.0
        y.ravel()[fi] += step / cx
        np.take(H, fi, axis=0, out=buf)
        buf *= (step / ch)[:, None]
        g += buf
        val = (Q - 2 * xAb + bb) / rows
        if t >= 1:
            active &= (prev - val) > tol
            if not active.any():
                break
        prev = np.where(active, val, prev)
    out[where] = y * cx[:, None]
    return out


def _fw_one(H, aux, bb, rows, x, hg, Q, xAb, tol, max_iter):
    """One problem of :func:`fw_weights`: the steps of :func:`_fw_batch` with Python scalars."""
    x = np.array(x, dtype=float)
    hg = np.array(hg, dtype=float)
    prev = np.inf
    for t in range(max_iter):
        i = int(hg.argmin())
        hgi = float(hg[i])
        Abi, ci, dpi = aux[i]
        dgrad = hgi - (Q - xAb)
        denom = ci - 2 * hgi + Q
        step = min(max(-dgrad / denom, 0.0), 1.0) if denom > 0 else 0.0
        keep = 1.0 - step
        if step:
            x *= keep
            x[i] += step
            hg *= keep
            hg += step * H[i]
        Q = keep * keep * Q + 2 * step * keep * (hgi + Abi) + step * step * dpi
        xAb = keep * xAb + step * Abi
        val = (Q - 2 * xAb + bb) / rows
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
    Yc = collapsed(Y, N0, T0)

    def start(w, n):
        return None if w is None else np.broadcast_to(np.asarray(w, dtype=float), (B, n)).copy()

    def solve(M, zeta, intercept, x0):
        if not do_sparsify:
            return fw_weights(M, zeta, intercept=intercept, x0=x0, min_decrease=min_decrease, max_iter=max_iter)
        return fw_weights(M, zeta, intercept=intercept, x0=x0, min_decrease=min_decrease,
                          max_iter=max_iter_pre_sparsify, resparsify_iter=max_iter)

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
    try:
        w, _ = nnls(np.vstack([A, np.full((1, n), M)]), np.append(b, M), maxiter=50 * n)
    except RuntimeError:  # scipy < 1.15's Fortran NNLS gives up at maxiter on some problems: solve directly
        w = _simplex_slsqp(A, b)
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


def _simplex_slsqp(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``argmin |A w - b|^2`` over the unit simplex by SLSQP from equal weights (the fallback of
    :func:`simplex_ls` when NNLS stops at its iteration limit)."""
    from scipy import optimize

    n = A.shape[1]
    Q, q = A.T @ A, A.T @ b
    res = optimize.minimize(lambda w: w @ Q @ w - 2 * q @ w, np.full(n, 1.0 / n), jac=lambda w: 2 * (Q @ w - q),
                            method="SLSQP", bounds=[(0.0, 1.0)] * n, options={"ftol": 1e-14, "maxiter": 1000},
                            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0,
                                          "jac": lambda w: np.ones_like(w)}])
    return np.maximum(res.x, 0.0)
