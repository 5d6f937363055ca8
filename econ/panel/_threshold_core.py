"""Numpy core of Hansen's (1999) fixed-effects threshold regression (used by :mod:`econ.panel.threshold`).

Everything happens in the within-transformed space. With ``A`` the within-transformed regime-independent
regressors and regime-dependent regressors ``Z`` (the slope in the lowest regime is a free parameter, so ``Z``
itself is always in the model), a threshold at candidate ``g`` adds the block ``W_g = within(Z * 1{q <= c_g})``.
The span of ``[A, W_{g1}, ..., W_{gm}]`` is exactly the span of the regime-specific regressors
``Z * 1{c_{j-1} < q <= c_j}`` plus ``A``, so every sum of squared residuals is

    ``S(g1..gm) = ||y~||^2 - ||P_{Q_S} y~||^2``,

where ``y~`` is ``within(y)`` residualised on ``A`` and ``Q_g`` an orthonormal basis of ``W_g`` residualised on
``A``. The candidate blocks ``Q`` (``n x G k``) are built once; a search over ``g`` given a set ``S`` already in
the model then costs one product ``U' Q`` (``U`` an orthonormal basis of ``Q_S``) and ``k x k`` algebra per
candidate, and many outcomes (bootstrap draws) are searched at once through ``C = Q' Y~``. When ``Q`` would not
fit in memory (exact search on large panels) it is rebuilt in chunks on every pass.
"""

from __future__ import annotations

import numpy as np

CACHE_MAX = 15_000_000  # candidate blocks up to this many numbers are kept in memory (120 MB)
GRAM_MAX = 4000  # candidate Gram matrices up to this order are formed (128 MB)
_CHUNK = 256


def orthonormal(M: np.ndarray, tol: float = 1e-10) -> np.ndarray:
    """Orthonormal basis of the column space of ``M`` (columns with relative norm below ``tol`` dropped)."""
    if M.shape[1] == 0:
        return M
    Q, R = np.linalg.qr(M)
    d = np.abs(np.diag(R))
    scale = max(float(np.max(np.linalg.norm(M, axis=0))), 1e-300)
    return Q[:, d > tol * scale]


class Candidates:
    """The candidate threshold blocks ``Q_g`` (orthonormal, residualised on ``A``) for a fixed design."""

    def __init__(self, absorber, Z: np.ndarray, q: np.ndarray, values: np.ndarray, QA: np.ndarray):
        self.absorber, self.Z, self.q, self.QA = absorber, Z, q, QA
        self.values = np.asarray(values, dtype=float)
        self.k = Z.shape[1]
        self.n = Z.shape[0]
        self.G = len(self.values)
        self.degenerate = np.zeros(self.G, dtype=bool)
        self._Q = None
        self.gram = None
        if self.n * self.G * self.k <= CACHE_MAX:
            self._Q = self._build(np.arange(self.G))
            if self.G * self.k <= GRAM_MAX:
                self.gram = self._Q.T @ self._Q  # every later search works on this (G k) x (G k) matrix
        # otherwise the blocks are rebuilt in chunks on every pass; the first pass (Search's ``Q' Y``) also
        # flags the degenerate candidates

    def _chunks(self):
        for start in range(0, self.G, _CHUNK):
            yield slice(start, min(start + _CHUNK, self.G))

    def _build(self, idx: np.ndarray) -> np.ndarray:
        k, n = self.k, self.n
        ind = (self.q[:, None] <= self.values[idx][None, :]).astype(float)  # n x g
        W = (ind[:, :, None] * self.Z[:, None, :]).reshape(n, len(idx) * k)
        W = self.absorber.demean(W)
        if self.QA.shape[1]:
            W = W - self.QA @ (self.QA.T @ W)
        Zs = np.linalg.norm(self.absorber.demean(self.Z), axis=0).max()
        blocks = W.reshape(n, len(idx), k)
        floor = 1e-8 * max(Zs, 1e-300)
        if k == 1:
            nrm = np.linalg.norm(blocks[:, :, 0], axis=0)
            bad = nrm <= floor
            out = blocks / np.where(bad, np.inf, nrm)[None, :, None]
            self.degenerate[idx] = bad
            return out.reshape(n, len(idx))
        out = np.empty_like(blocks)
        for j in range(len(idx)):
            Qb, R = np.linalg.qr(blocks[:, j, :])
            bad = np.min(np.abs(np.diag(R))) <= floor
            out[:, j, :] = 0.0 if bad else Qb
            self.degenerate[idx[j]] = bad
        return out.reshape(n, len(idx) * k)

    def block(self, g: int) -> np.ndarray:
        if self._Q is not None:
            return self._Q[:, g * self.k:(g + 1) * self.k]
        return self._build(np.array([g]))

    def tproduct(self, M: np.ndarray) -> np.ndarray:
        """``Q' M`` as a ``(G k) x m`` array."""
        if self._Q is not None:
            return self._Q.T @ M
        out = np.empty((self.G * self.k, M.shape[1]))
        for sl in self._chunks():
            Qc = self._build(np.arange(sl.start, sl.stop))
            out[sl.start * self.k:sl.stop * self.k] = Qc.T @ M
        return out


class Search:
    """Sequential threshold searches for many outcomes at once (columns of ``Yt``, already residualised on ``A``)."""

    def __init__(self, cands: Candidates, Yt: np.ndarray, counts_le: np.ndarray):
        self.c = cands
        self.Yt = Yt
        self.total = np.einsum("ij,ij->j", Yt, Yt)  # ||y~||^2 per column
        self.C = cands.tproduct(Yt)  # (G k) x B
        self.counts_le = counts_le
        self._cache: dict = {}

    def _cols(self, S: tuple) -> np.ndarray:
        k = self.c.k
        return np.concatenate([np.arange(g * k, (g + 1) * k) for g in S])

    def _basis(self, S: tuple):
        """``(M, proj)``: ``M = Q' U`` for an orthonormal basis ``U`` of the blocks in ``S`` and ``proj(cols)``
        giving ``U' y`` for those columns (from the Gram matrix when it exists: no pass over the data)."""
        if S not in self._cache:
            G = self.c.gram
            if G is not None:
                ix = self._cols(S)
                L = np.linalg.cholesky(G[np.ix_(ix, ix)])  # Q_S = U L'
                M = np.linalg.solve(L, G[ix, :]).T  # Q' U = G[:, S] L^{-T}
                self._cache[S] = (M, lambda cols, ix=ix, L=L: np.linalg.solve(L, self.C[ix][:, cols]))
            else:
                U = orthonormal(np.column_stack([self.c.block(g) for g in S]))
                self._cache[S] = (self.c.tproduct(U), lambda cols, U=U: U.T @ self.Yt[:, cols])
        return self._cache[S]

    def reductions(self, S: tuple, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``||P_{S u g} y||^2`` for every candidate ``g`` (``G x len(cols)``) and ``||P_S y||^2``."""
        k, G = self.c.k, self.c.G
        C = self.C[:, cols]
        if not S:
            base = np.zeros(len(cols))
            red = (C.reshape(G, k, -1) ** 2).sum(axis=1)
            return red, base
        M, proj = self._basis(S)
        cu = proj(cols)  # r x b
        base = (cu ** 2).sum(axis=0)
        res = (C - M @ cu).reshape(G, k, -1)  # residualised projections
        Mb = M.reshape(G, k, -1)
        D = np.eye(k)[None] - np.einsum("gkr,glr->gkl", Mb, Mb)  # G x k x k
        if k == 1:
            d = D[:, 0, 0]
            with np.errstate(divide="ignore", invalid="ignore"):
                add = np.where(d[:, None] > 1e-10, res[:, 0, :] ** 2 / d[:, None], 0.0)
        else:
            ok = np.linalg.eigvalsh(D)[:, 0] > 1e-10
            Dinv = np.zeros_like(D)
            Dinv[ok] = np.linalg.inv(D[ok])
            add = np.einsum("gkb,gkl,glb->gb", res, Dinv, res)
        return add + base[None, :], base

    def allowed(self, S: tuple, trim_count: int, lo: int, hi: int) -> np.ndarray:
        """Candidates admissible given ``S``: inside the trimmed range, not degenerate, and at least
        ``trim_count`` observations away from every threshold already in the model."""
        cnt = self.counts_le
        ok = (cnt >= lo) & (cnt <= hi) & ~self.c.degenerate
        for g in S:
            ok &= np.abs(cnt - cnt[g]) >= max(trim_count, 1)
        return ok

    def best(self, S: tuple, cols: np.ndarray, ok: np.ndarray):
        """Argmin of the SSR over admissible candidates for each column: (index, SSR, SSR curve G x b)."""
        red, _ = self.reductions(S, cols)
        ssr = self.total[cols][None, :] - red
        ssr[~ok] = np.inf
        idx = np.argmin(ssr, axis=0)
        return idx, ssr[idx, np.arange(len(cols))], ssr

    def ssr_of(self, S: tuple, cols: np.ndarray) -> np.ndarray:
        """SSR of the model with the thresholds ``S`` (no pass over the candidates)."""
        if not S:
            return self.total[cols].copy()
        if S in self._cache:
            cu = self._cache[S][1](cols)
        elif self.c.gram is not None:
            ix = self._cols(S)
            cu = np.linalg.solve(np.linalg.cholesky(self.c.gram[np.ix_(ix, ix)]), self.C[ix][:, cols])
        else:
            U = orthonormal(np.column_stack([self.c.block(g) for g in S]))
            cu = U.T @ self.Yt[:, cols]
        return self.total[cols] - (cu ** 2).sum(axis=0)

    def grouped_best(self, S_per_col: list, cols: np.ndarray, trim_count: int, lo: int, hi: int):
        """:meth:`best` for columns whose fixed sets differ (grouped by set)."""
        idx = np.empty(len(cols), dtype=int)
        ssr = np.empty(len(cols))
        for S, js in _columns_by_set(S_per_col):
            ok = self.allowed(S, trim_count, lo, hi)
            if not ok.any():
                idx[js], ssr[js] = -1, np.nan
                continue
            i, s, _ = self.best(S, cols[js], ok)
            idx[js], ssr[js] = i, s
        return idx, ssr

    def grouped_ssr(self, S_per_col: list, cols: np.ndarray) -> np.ndarray:
        out = np.empty(len(cols))
        for S, js in _columns_by_set(S_per_col):
            out[js] = self.ssr_of(S, cols[js])
        return out


def _columns_by_set(S_per_col: list):
    """``(S, js)`` for each distinct fixed set ``S`` (as a tuple, in order of first appearance), ``js`` the
    positions of the columns that have it."""
    groups: dict = {}
    for j, S in enumerate(S_per_col):
        groups.setdefault(tuple(S), []).append(j)
    return [(S, np.asarray(js)) for S, js in groups.items()]


def sequential(search: Search, cols: np.ndarray, m: int, trims: list, n: int, refine: bool = True):
    """Hansen's sequential estimates for ``m`` thresholds, for each column; returns the list of stages.

    Stage ``j`` (1-based) holds ``idx`` (the j-th threshold found given the earlier ones), ``ssr`` (the SSR at
    that search), and after stage 2 ``refined`` (the first threshold re-estimated given the second) and
    ``ssr_model`` (the SSR of the model with the thresholds retained so far).
    """
    stages = []
    S = [() for _ in cols]
    for j in range(m):
        tc = int(np.ceil(trims[j] * n))
        lo, hi = tc, n - tc
        idx, ssr = search.grouped_best(S, cols, tc, lo, hi)
        stage = {"idx": idx, "ssr": ssr, "given": [tuple(s) for s in S]}
        S = [tuple(s) + (int(i),) for s, i in zip(S, idx)]
        if j == 1 and refine:
            tc0 = int(np.ceil(trims[0] * n))
            others = [(s[1],) for s in S]
            ridx, rssr = search.grouped_best(others, cols, tc0, tc0, n - tc0)
            stage["refined"] = ridx
            stage["ssr_refined"] = rssr
            S = [(int(r), s[1]) for r, s in zip(ridx, S)]
        stage["ssr_model"] = search.grouped_ssr(S, cols) if j else ssr
        stage["set"] = list(S)
        stages.append(stage)
    return stages
