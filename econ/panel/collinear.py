"""The one collinearity rule of econ: which regressors are absorbed by the fixed effects, which are collinear.

Used by :func:`econ.feols` and by :func:`econ.did.placebo`, so a covariate is kept or dropped the same way
everywhere. The rule is invariant to the scale and the location of every column:

* a column is **absorbed** when its sum of squares after demeaning is at most ``tol`` times its centred sum of
  squares before demeaning (it has, relatively, no within variation), or when it is constant;
* among the other columns, each demeaned column is divided by its own norm and the columns are taken in order
  (greedy, later columns go, as in fixest): column ``j`` is **collinear** when its squared distance to the span of
  the columns kept before it is at most ``tol`` (a relative squared distance, because the columns have unit norm).

"Demeaned" means: by the fixed effects when there are some; by the (weighted) mean when the model has only an
intercept (so adding a constant to a regressor, ``x + 1e5``, changes nothing); not at all for a model with neither.
The tolerance ``1e-10`` on the squared relative distance is fixest's ``collin.tol``. Working on unit-norm columns
keeps the Cholesky step accurate to about ``k * 1e-16``, far below the tolerance.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

__all__ = ["COLLIN_TOL", "collinear_columns"]

COLLIN_TOL = 1e-10  # relative squared distance (fixest's collin.tol)
_SAFE_LOW, _SAFE_HIGH = 1e-100, 1e100  # column maxima whose squares (summed) stay normal floats
_NOISE = 1e-12  # centred norm below this fraction of the raw norm: the column is constant up to rounding


def collinear_columns(X, raw=None, *, weights=None, center: bool = False,
                      tol: float = COLLIN_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Absorbed and kept regressors under econ's single, scale- and location-invariant collinearity rule.

    Parameters
    ----------
    X : array, shape (n, k)
        Regressors after the fixed effects were absorbed (within-transformed); without fixed effects, the
        regressors themselves (the intercept column excluded).
    raw : array, shape (n, k), optional
        The same regressors before demeaning; give it when there are fixed effects, to detect absorbed columns.
    weights : array, shape (n,), optional
        Analytic regression weights (all positive).
    center : bool
        Subtract the weighted column means from ``X`` first (a model with an intercept and no fixed effects).
    tol : float
        Relative squared-distance tolerance (default ``1e-10``, fixest's ``collin.tol``).

    Returns
    -------
    absorbed : ndarray of bool, shape (k,)
        Columns without (relative) variation after demeaning: absorbed by the fixed effects, or constant.
    kept : ndarray of bool, shape (k,)
        Columns kept: not absorbed, and not (nearly) in the span of the kept columns before them.

    Notes
    -----
    With ``A`` the demeaned, ``sqrt(w)``-scaled columns and ``a_j = A_j / ||A_j||``, column ``j`` is kept when
    ``||a_j - P_j a_j||^2 > tol`` with ``P_j`` the projection on the kept ``a_i, i < j`` (greedy Cholesky on the
    correlation-type matrix ``a'a``). Absorption: ``||A_j||^2 <= tol * ||sqrt(w)(raw_j - mean_w(raw_j))||^2``.
    The rule and tolerance follow fixest's ``collin.tol`` (Berge 2018, fixest), applied to centred, unit-norm
    columns so that neither the location nor the scale of a column can decide.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=200)
    >>> X = np.column_stack([x + 1e5, 2 * x, rng.normal(size=200)])
    >>> absorbed, kept = collinear_columns(X, center=True)
    >>> absorbed.tolist(), kept.tolist()
    ([False, False, False], [True, False, True])
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2:
        raise ValueError("X must be a 2-d array")
    k = X.shape[1]
    if k == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    sw = None if weights is None else np.sqrt(np.asarray(weights, dtype=float))
    A = _centred(X, weights) if center else X
    if sw is not None:
        A = A * sw[:, None]
    within = _colscale(A)
    if raw is not None:  # relative to the centred variation before demeaning (squared ratio <= tol)
        floor = np.sqrt(tol) * _centred_norms(np.asarray(raw, dtype=float), weights, sw)
    elif center:  # a constant column: no variation left beyond float64 rounding of its values
        floor = _NOISE * _colscale(X if sw is None else X * sw[:, None])
    else:
        floor = np.zeros(k)
    absorbed = ~(within > floor)
    kept = ~absorbed
    idx = np.flatnonzero(kept)
    if idx.size:  # the Gram matrix of the unit-norm columns, without forming them (no n x k copy)
        B = A if idx.size == k else A[:, idx]
        kept[idx] = _greedy((B.T @ B) / np.outer(within[idx], within[idx]), tol)
    return absorbed, kept


def _centred(X: np.ndarray, weights) -> np.ndarray:
    """Columns minus their (weighted) means, shifted by the first row first for accuracy."""
    B = X - X[:1]
    B -= B.mean(axis=0) if weights is None else (weights @ B) / weights.sum()
    return B


_BLOCK = 1 << 15  # rows per block of _centred_norms: large panels are never copied whole


def _centred_norms(X: np.ndarray, weights, sw) -> np.ndarray:
    """``_colscale`` of the (``sqrt(w)``-scaled) centred columns, over blocks of rows when X is longer than one."""
    n = X.shape[0]
    if n > _BLOCK:
        x0 = X[0].copy()
        total = np.zeros(X.shape[1])
        for s in range(0, n, _BLOCK):  # the (weighted) mean of X - x0
            D = X[s:s + _BLOCK] - x0
            total += D.sum(axis=0) if weights is None else weights[s:s + _BLOCK] @ D
        shift = x0 + total / (n if weights is None else weights.sum())
        ss, m = np.zeros(X.shape[1]), np.zeros(X.shape[1])
        for s in range(0, n, _BLOCK):
            D = X[s:s + _BLOCK] - shift
            if sw is not None:
                D *= sw[s:s + _BLOCK, None]
            m = np.maximum(m, np.abs(D).max(axis=0))
            ss += np.einsum("ij,ij->j", D, D)
        if np.all((m == 0) | ((m > _SAFE_LOW) & (m < _SAFE_HIGH))):
            return np.sqrt(ss)
    B = _centred(X, weights)  # short panels, or extreme magnitudes: the overflow-safe path on whole columns
    return _colscale(B if sw is None else B * sw[:, None])


def _colscale(A: np.ndarray) -> np.ndarray:
    """Euclidean norm of each column, overflow-safe (scaled by the column's largest absolute value)."""
    m = np.maximum(A.max(axis=0), -A.min(axis=0)) if A.shape[0] else np.zeros(A.shape[1])
    if A.shape[0] and np.all((m == 0) | ((m > _SAFE_LOW) & (m < _SAFE_HIGH))):  # squares cannot over/underflow
        return np.sqrt(np.einsum("ij,ij->j", A, A))
    safe = np.where(m > 0, m, 1.0)
    return m * np.linalg.norm(A / safe, axis=0)


def _greedy(gram: np.ndarray, tol: float) -> np.ndarray:
    """In order, keep column j unless its squared distance to the span of the kept ones is <= tol (unit columns)."""
    k = gram.shape[0]
    keep = np.zeros(k, dtype=bool)
    L = np.zeros((0, 0))
    kept: list[int] = []
    for j in range(k):
        gjj = gram[j, j]
        if kept:
            z = solve_triangular(L, gram[kept, j], lower=True, check_finite=False)
            r = gjj - z @ z
        else:
            z, r = np.zeros(0), gjj
        if r <= tol * gjj:
            continue
        m = len(kept)
        L2 = np.zeros((m + 1, m + 1))
        L2[:m, :m] = L
        L2[m, :m] = z
        L2[m, m] = np.sqrt(r)
        L, keep[j] = L2, True
        kept.append(j)
    return keep
