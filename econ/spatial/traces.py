"""The one trace engine of :mod:`econ.spatial`, with the one set of exact/approximate size cutoffs.

Every trace the spatial code needs comes from here: the log-determinant (:mod:`econ.spatial.logdet`: Chebyshev
traces), the information matrices of the ML fits (:mod:`econ.spatial.core`, :mod:`econ.spatial.panel`: traces of
``G = W (I - rho W)^{-1}``), the effects (:mod:`econ.spatial.impacts`: traces of powers of ``W``) and the LM tests
(:mod:`econ.spatial.diagnostics`: ``tr(W W)``, ``tr(W'W)``).

Cutoffs (module attributes, read at call time, so a test or a user can move them):

* ``EIGEN_MAX_N`` (1,000 units): up to here the dense eigenvalues of ``W`` are computed (log-determinant
  ``"auto"`` -> ``"eigen"``; effects from the eigenvalues).
* ``EIGEN_GENERAL_MAX_N`` (200 units): for a one-parameter maximisation (the SAR/SDM/SEM/SDEM panel fits:
  ``LogDet(..., evaluations="few")``) the log-determinant's ``"auto"`` uses the dense eigenvalues of a ``W``
  whose spectrum is not real by symmetry (``W`` neither symmetric nor a row-standardised symmetric matrix, e.g.
  k-nearest-neighbour weights) only up to here, and an exact sparse LU per evaluation beyond: the general
  eigenvalue problem costs about ten times the symmetric one (about 50 ms at n = 500), more than the dozen
  sparse factorisations that maximisation needs.
* ``EXACT_MAX_N`` (2,000 units): up to here traces are exact (sparse LU solves or sparse products on blocks of
  unit vectors; the SAC information matrix uses dense ``n x n`` matrices up to here and refuses larger ``W``);
  beyond, Hutchinson (1990) estimates with ``PROBES`` Rademacher vectors (seed 0), whose Monte-Carlo error is
  reported. (Exact traces cost a sparse LU solve with ``n`` right-hand sides: about 10 s at n = 3,000 for
  6-nearest-neighbour weights, against 0.5 s for the estimate, whose relative error is then about 4e-3.)

Hutchinson estimates use control variates: the exactly known low-order part (``tr(W)``, ``tr(W W)``,
``tr(W'W)`` by sparse products) is subtracted inside the estimator and added back exactly, so only the
remainder carries Monte-Carlo noise.

References
----------
Hutchinson, M. F. (1990). A stochastic estimator of the trace of the influence matrix for Laplacian smoothing
splines. *Communications in Statistics - Simulation and Computation* 19(2), 433-450.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as spla

__all__ = ["EIGEN_MAX_N", "EIGEN_GENERAL_MAX_N", "EXACT_MAX_N", "PROBES",
           "is_exact", "rademacher", "products", "power_traces",
           "chebyshev_traces", "resolvent_traces", "hutchinson_note"]

EIGEN_MAX_N = 1000
EIGEN_GENERAL_MAX_N = 200
EXACT_MAX_N = 2000
PROBES = 100
_BLOCK = 1024


def is_exact(n: int) -> bool:
    """Whether traces of an ``n x n`` problem are computed exactly (``n <= EXACT_MAX_N``)."""
    return n <= EXACT_MAX_N


def rademacher(n: int, probes: int | None = None, seed: int = 0) -> np.ndarray:
    """``n x probes`` Rademacher (+-1) probe vectors from ``numpy.random.default_rng(seed)``."""
    return np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, PROBES if probes is None else probes))


def products(W) -> tuple[float, float, float]:
    """``(tr(W), tr(W W), tr(W'W))`` exactly, by sparse element-wise products (any ``n``)."""
    W = sparse.csr_matrix(W, dtype=float)
    return float(W.diagonal().sum()), float(W.multiply(W.T).sum()), float(W.multiply(W).sum())


def _unit_blocks(n: int):
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        E = np.zeros((n, stop - start))
        idx = np.arange(start, stop)
        E[idx, idx - start] = 1.0
        yield idx, E


def power_traces(W, order: int, *, probes: int | None = None, seed: int = 0):
    """``tr(W^j)`` for ``j = 0..order`` with their standard errors (0 where exact).

    ``tr(W^0) = n``, ``tr(W)`` and ``tr(W^2)`` are exact; higher powers are Hutchinson estimates (the power
    series of the effects is used only beyond ``EIGEN_MAX_N`` units, where exact traces of every power would
    cost ``order`` sparse products with ``n`` columns).
    """
    W = sparse.csr_matrix(W, dtype=float)
    n = W.shape[0]
    Z = rademacher(n, probes, seed)
    V = Z
    tr, se = np.zeros(order + 1), np.zeros(order + 1)
    tr[0] = n
    for j in range(1, order + 1):
        V = W @ V
        vals = np.einsum("ij,ij->j", Z, V)
        tr[j], se[j] = vals.mean(), vals.std(ddof=1) / np.sqrt(Z.shape[1])
    t1, t2, _ = products(W)
    tr[1], se[1] = t1, 0.0
    if order >= 2:
        tr[2], se[2] = t2, 0.0
    return tr, se


def chebyshev_traces(W, order: int, alpha: float, beta: float, *, exact: bool | None = None,
                     probes: int | None = None, seed: int = 0):
    """Traces of the Chebyshev polynomials ``T_k(X)``, ``X = (W - beta I) / alpha``, ``k = 0..order``.

    ``T_0 = I``, ``T_1 = X``, ``T_{k+1} = 2 X T_k - T_{k-1}``. Exact (``exact=None``: when
    :func:`is_exact`) by the recurrence applied to blocks of unit vectors; otherwise per-probe Hutchinson values
    ``z' T_k(X) z`` with ``k <= 2`` replaced by their exact values (control variates).

    Returns
    -------
    (ndarray, ndarray or None)
        The traces (``order + 1``,) and, when estimated, the per-probe values (``order + 1``, probes) whose
        column means are the traces (``None`` when exact).
    """
    W = sparse.csr_matrix(W, dtype=float)
    n = W.shape[0]
    exact = is_exact(n) if exact is None else bool(exact)

    def apply(V):  # X V
        return (W @ V - beta * V) / alpha

    def run(start, Z):
        out = np.zeros((order + 1, Z.shape[1]))
        prev, cur = Z, apply(Z)
        out[0] = np.einsum("ij,ij->j", start, prev)
        if order >= 1:
            out[1] = np.einsum("ij,ij->j", start, cur)
        for k in range(2, order + 1):
            prev, cur = cur, 2 * apply(cur) - prev
            out[k] = np.einsum("ij,ij->j", start, cur)
        return out

    t1, t2, _ = products(W)
    low = [float(n), (t1 - beta * n) / alpha, 2 * (t2 - 2 * beta * t1 + beta**2 * n) / alpha**2 - n]
    if exact:
        tr = np.zeros(order + 1)
        for _, E in _unit_blocks(n):
            tr += run(E, E).sum(axis=1)
        tr[:min(order, 2) + 1] = low[:min(order, 2) + 1]
        return tr, None
    Z = rademacher(n, probes, seed)
    per = run(Z, Z)
    per[:min(order, 2) + 1] = np.asarray(low[:min(order, 2) + 1])[:, None]
    return per.mean(axis=1), per


def resolvent_traces(W, rho: float, *, exact: bool | None = None, probes: int | None = None, seed: int = 0,
                     lu=None):
    """``tr(G)``, ``tr(G G)``, ``tr(G'G)`` for ``G = W (I - rho W)^{-1}`` and the largest relative Monte-Carlo
    standard error (0 when exact).

    Exact (``exact=None``: when :func:`is_exact`): ``G = (I - rho W)^{-1} W`` column block by column block from
    one sparse LU of ``I - rho W`` solved for the columns of ``W`` (no dense inverse by BLAS);
    ``tr(G G) = sum_ij G_ij G_ji``. Otherwise Hutchinson with control
    variates: ``z'(G - W - rho W^2) z``, ``z'(G G - W^2) z`` and ``|G z|^2 - |W z|^2`` are averaged over the probes
    and ``tr(W) + rho tr(W^2)``, ``tr(W^2)``, ``tr(W'W)`` (exact) added back.
    """
    W = sparse.csr_matrix(W, dtype=float)
    n = W.shape[0]
    exact = is_exact(n) if exact is None else bool(exact)
    if lu is None:
        lu = spla.splu((sparse.identity(n, format="csc") - rho * W).tocsc())
    if exact:  # G = W A^{-1} = A^{-1} W (A = I - rho W commutes with W): solve for W's columns directly
        M = np.empty((n, n))
        Wc = W.tocsc()
        for start in range(0, n, _BLOCK):
            stop = min(start + _BLOCK, n)
            M[:, start:stop] = lu.solve(Wc[:, start:stop].toarray())
        return (float(np.trace(M)), float(np.einsum("ij,ji->", M, M)), float(np.einsum("ij,ij->", M, M)), 0.0)
    t1, t2, t3 = products(W)
    Z = rademacher(n, probes, seed)
    WZ, WtZ = W @ Z, W.T @ Z
    V = W @ lu.solve(Z)  # G Z
    V2 = W @ lu.solve(V)  # G^2 Z
    a = np.einsum("ij,ij->j", Z, V) - np.einsum("ij,ij->j", Z, WZ) - rho * np.einsum("ij,ij->j", WtZ, WZ)
    b = np.einsum("ij,ij->j", Z, V2) - np.einsum("ij,ij->j", WtZ, WZ)
    c = np.einsum("ij,ij->j", V, V) - np.einsum("ij,ij->j", WZ, WZ)
    est = (t1 + rho * t2 + a.mean(), t2 + b.mean(), t3 + c.mean())
    ses = [x.std(ddof=1) / np.sqrt(Z.shape[1]) for x in (a, b, c)]
    rel = max(s / max(abs(e), 1e-300) for s, e in zip(ses, est))
    return (*(float(e) for e in est), float(rel))


def hutchinson_note(n: int, rel: float, what: str = "the traces in the information matrix") -> str:
    """The note every fit adds when its traces are Hutchinson estimates."""
    return (f"n = {n} > {EXACT_MAX_N}: {what} are Hutchinson (Monte-Carlo) estimates ({PROBES} probes, relative "
            f"error about {rel:.1e}); standard errors of the spatial parameter carry that error")
