"""Within transformation: project columns off any number of fixed effects (weighted or not).

Public API (other modules code against it)::

    demean(x, fe, weights=None, tol=1e-10, maxiter=100_000) -> np.ndarray
    Absorber(fe, weights=None, tol=1e-10, maxiter=100_000).demean(x)   # precompute once, reuse
    factorize(columns) -> (n, g) int code matrix
    interact(codes_a, codes_b, ...) -> 1-d int codes of the interacted effect (``a^b``)

Algorithm
---------
Write the fixed-effect design as ``D = [D_1, D_r]`` where ``D_1`` is the dummy matrix of the effect with the most
levels (the "primary" effect) and ``D_r`` stacks the dummies of the other effects (``m`` columns in all). With
``W`` the weights, ``M_1`` the (weighted) within-primary-group demeaning, and FWL, the residual of ``x`` on ``D``
is ``M_1 (x - D_r b)`` where ``b`` solves the reduced normal equations

    S b = D_r' W M_1 x,       S = D_r' W M_1 D_r = D_r'W D_r - B' diag(1/w_1) B,   B = D_1' W D_r

(``S`` is the Schur complement of the primary block; ``w_1`` the group weights of the primary effect). ``S`` is
``m x m`` -- small whenever every effect but the largest has few levels (years, provinces, industries) -- and
positive semi-definite; its null space is the usual non-identification of fixed-effect levels, and the system is
always consistent, so any solution gives the same residual. The engine

* ``m <= DENSE_MAX``: factorises ``S`` once by pivoted Cholesky (LAPACK ``dpstrf``, which also yields the exact
  rank of the fixed-effect design) plus one step of iterative refinement; every later call costs a few
  ``O(n * n_fe)`` sparse passes per column and an ``O(m^2)`` triangular solve -- no iteration at all;
* larger ``m``: solves the same system by block preconditioned conjugate gradients (Jacobi preconditioner; ``S``
  explicit and sparse when cheap, otherwise applied matrix-free as ``D_r' W M_1 D_r``), stopping when every
  column's relative residual is below ``tol``;
* one effect: exact group-mean subtraction; balanced two-way designs (every cell of ``a x b`` observed the same
  number of times, no weights): the closed form ``x - xbar_a - xbar_b + xbar``.

This replaces the alternating projections (with Irons-Tuck acceleration) of fixest / pyfixest: the primary effect
is eliminated exactly and the rest is a direct or Krylov solve, so accuracy does not hinge on a stopping rule.

Codes are integer arrays ``0..G_j - 1`` (unused codes are allowed and ignored); build them with :func:`factorize`
and :func:`interact`.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.linalg import lapack, solve_triangular

from econ.errors import SpecificationError

__all__ = ["demean", "Absorber", "factorize", "interact", "DemeanWarning"]

DENSE_MAX = 2000  # Schur complements up to this size are factorised densely
_SPARSE_FILL_MAX = 30_000_000  # beyond this many nonzeros in B'B, S is applied matrix-free
_DENSE_XTAB_MAX = 50_000_000  # cross-tabulations up to this many cells are counted densely (bincount), else sorted
_ROWS = 1 << 14  # rows per block when the balanced-panel means are subtracted


_CONTROLLER = None


def single_thread_blas():
    """Context limiting BLAS to one thread (if threadpoolctl is installed, else a no-op).

    Every BLAS call in this engine is small in flops (k x k or m x m matrices, or n x k products with small k), so
    threads buy little, while waking them costs milliseconds per call on a busy machine (measured: a 110 x 110
    triangular solve took 10-20 ms with two OpenBLAS threads under load, 0.01 ms with one).
    """
    global _CONTROLLER
    try:
        if _CONTROLLER is None:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER = ThreadpoolController()
        return _CONTROLLER.limit(limits=1, user_api="blas")
    except Exception:  # threadpoolctl missing or unable to inspect the BLAS: run as is
        return contextlib.nullcontext()


class DemeanWarning(RuntimeWarning):
    """The iterative solver stopped at ``maxiter`` before reaching ``tol``."""


def factorize(columns) -> np.ndarray:
    """Integer codes for one or more categorical columns: an ``(n, g)`` int64 matrix, codes ``0..G_j - 1``.

    ``columns`` is a DataFrame, a Series / 1-d array, or a list of them. Missing values get code ``-1`` (callers
    drop those rows before demeaning). Levels are numbered in order of first appearance.

    Parameters
    ----------
    columns : DataFrame, Series, 1-d or 2-d array, or list of 1-d arrays / Series
        The categorical variables.

    Returns
    -------
    numpy.ndarray of int64, shape (n, g)

    Raises
    ------
    SpecificationError
        No column given.

    Examples
    --------
    >>> import pandas as pd
    >>> from econ.panel import factorize
    >>> factorize(pd.DataFrame({"a": ["x", "y", "x"], "b": [1, 1, None]})).tolist()
    [[0, 0], [1, 0], [0, -1]]
    """
    if isinstance(columns, pd.DataFrame):
        cols = [columns[c] for c in columns.columns]
    elif isinstance(columns, (pd.Series, np.ndarray)) and np.ndim(columns) == 1:
        cols = [columns]
    elif isinstance(columns, np.ndarray) and columns.ndim == 2:
        cols = [columns[:, j] for j in range(columns.shape[1])]
    else:
        cols = list(columns)
    if not cols:
        raise SpecificationError("factorize() needs at least one column")
    codes = [pd.factorize(pd.Series(np.asarray(c)) if not isinstance(c, pd.Series) else c)[0] for c in cols]
    return np.column_stack(codes).astype(np.int64, copy=False)


def interact(*codes: np.ndarray) -> np.ndarray:
    """Codes of the interaction ``a^b^...`` of several code vectors (``-1`` anywhere gives ``-1``).

    Parameters
    ----------
    *codes : array of int64
        Code vectors of equal length (as from :func:`factorize`); ``-1`` marks a missing value.

    Returns
    -------
    numpy.ndarray of int64
        One code per distinct combination (``-1`` where any input is missing).

    Examples
    --------
    >>> from econ.panel import interact
    >>> interact([0, 0, 1, 1], [0, 1, 0, 1]).tolist()
    [0, 1, 2, 3]
    """
    codes = [np.asarray(c, dtype=np.int64) for c in codes]
    out = codes[0].copy()
    missing = out < 0
    for c in codes[1:]:
        missing |= c < 0
        size = int(c.max()) + 1 if c.size else 1
        out = out * size + np.where(c < 0, 0, c)
        out = pd.factorize(np.where(missing, -1, out))[0]  # keep the range small (no overflow)
    out = np.where(missing, -1, out)
    return _compact(out) if not missing.any() else out


def _compact(codes: np.ndarray) -> np.ndarray:
    """Renumber codes so that only used levels remain, in ``O(n)`` (no sort)."""
    used = np.bincount(codes) > 0
    if used.all():
        return codes
    new = np.cumsum(used) - 1
    return new[codes]


def _as_code_matrix(fe) -> np.ndarray:
    if isinstance(fe, pd.DataFrame):
        fe = fe.to_numpy()
    if isinstance(fe, (list, tuple)):
        fe = np.column_stack([np.asarray(c) for c in fe]) if len(fe) else np.zeros((0, 0))
    fe = np.asarray(fe)
    if fe.ndim == 1:
        fe = fe[:, None]
    if fe.ndim != 2:
        raise SpecificationError(f"fe must be an (n, g) code matrix or a list of code vectors, got shape {fe.shape}")
    if fe.size and not np.issubdtype(fe.dtype, np.integer):
        if np.issubdtype(fe.dtype, np.floating) and np.all(np.isfinite(fe)) and np.all(fe == np.round(fe)):
            fe = fe.astype(np.int64)
        else:
            raise SpecificationError(
                f"fe codes must be integers 0..G-1 (got dtype {fe.dtype}); build them with econ.panel.factorize()"
            )
    fe = fe.astype(np.int64, copy=False)
    if fe.size and fe.min() < 0:
        bad = np.flatnonzero((fe < 0).any(axis=1))
        raise SpecificationError(
            f"fe codes must be non-negative; rows {bad[:5].tolist()} have negative (missing) codes -- drop them first"
        )
    return fe


class Absorber:
    """Precomputed fixed-effect structure: demean many columns, many times, at the cost of a few passes each.

    Parameters
    ----------
    fe : (n, g) int array or list of 1-d int arrays
        Codes ``0..G_j - 1`` of each fixed effect (interactions already combined, see :func:`interact`).
    weights : (n,) array, optional
        Positive analytic weights; the projection is then weighted least squares.
    tol, maxiter : float, int
        Relative-residual tolerance and iteration cap of the conjugate-gradient solver (used only when the reduced
        system is too large to factorise, see the module docstring).

    Attributes
    ----------
    n_obs : int
    n_levels : list[int]
        Number of (used) levels of each fixed effect, in input order.
    balanced_twoway : bool
        Two effects, no weights, every cell observed equally often: the closed form is used.
    method : str
        ``"none"``, ``"one-way"``, ``"balanced"``, ``"direct"`` or ``"cg"``.
    rank : int or None
        Exact column rank of the fixed-effect dummy design when it is known (one-way, balanced, direct).

    Returns
    -------
    Absorber
        Built by calling the class (``Absorber(fe)``) on the fixed-effect codes, e.g. from :func:`factorize`. A fit
        hands back the one it used: ``econ.feols(...).design.absorber`` (:class:`FeolsDesign`). Its method
        :meth:`demean` returns the within-transformed copy of any column of that sample, a new (n,) or (n, k) array;
        :func:`demean` is the one-shot shortcut that builds an ``Absorber`` and discards it.

    Examples
    --------
    >>> import numpy as np
    >>> from econ.panel import Absorber
    >>> ab = Absorber(np.array([[0], [0], [1], [1]]))
    >>> ab.demean(np.array([1.0, 3.0, 2.0, 6.0])).tolist()
    [-1.0, 1.0, -2.0, 2.0]
    """

    def __init__(self, fe, weights=None, tol: float = 1e-10, maxiter: int = 100_000):
        with single_thread_blas():
            self._init(fe, weights, tol, maxiter)

    def _init(self, fe, weights, tol, maxiter) -> None:
        codes = _as_code_matrix(fe)
        self.n_obs = codes.shape[0]
        self.tol = float(tol)
        self.maxiter = int(maxiter)
        self.codes = np.column_stack([_compact(codes[:, j]) for j in range(codes.shape[1])]) if codes.size else codes
        self.n_levels = [int(self.codes[:, j].max()) + 1 if self.n_obs else 0 for j in range(self.codes.shape[1])]
        self.weights = None if weights is None else self._check_weights(weights)
        self.balanced_twoway = False
        self.rank: int | None = None
        self.iterations = 0
        self._bal = None
        g = len(self.n_levels)
        if g == 0:
            self.method = "none"
            self.rank = 0
        elif g == 1:
            self.method = "one-way"
            self._setup_primary(0)
            self.rank = self.n_levels[0]
        elif g == 2 and self.weights is None and self._is_balanced():
            self.method = "balanced"
            self.balanced_twoway = True
            self.rank = sum(self.n_levels) - 1
        else:
            self._setup_schur()

    # ------------------------------------------------------------------ setup
    def _check_weights(self, weights) -> np.ndarray:
        w = np.asarray(weights, dtype=float).reshape(-1)
        if w.shape[0] != self.n_obs:
            raise SpecificationError(f"weights has {w.shape[0]} rows but fe has {self.n_obs}")
        if not np.all(np.isfinite(w)) or np.any(w <= 0):
            raise SpecificationError("weights must be finite and strictly positive")
        return w

    def _is_balanced(self) -> bool:
        ga, gb = self.n_levels
        if ga * gb > self.n_obs or self.n_obs % (ga * gb):
            return False
        cells = np.bincount(self.codes[:, 0] * gb + self.codes[:, 1], minlength=ga * gb)
        return bool(np.all(cells == cells[0]))

    def _setup_primary(self, j: int) -> None:
        self._p = j
        self._cp = self.codes[:, j]
        self._D1t = _group_sum_matrix(self._cp, self.n_levels[j], self.weights)
        self._w1 = np.bincount(self._cp, weights=self.weights, minlength=self.n_levels[j]).astype(float)

    def _setup_schur(self) -> None:
        g = len(self.n_levels)
        p = int(np.argmax(self.n_levels))
        self._setup_primary(p)
        self._others = others = [j for j in range(g) if j != p]
        self._offsets = offsets = np.cumsum([0] + [self.n_levels[j] for j in others])
        self._m = m = int(offsets[-1])
        self._Dts = [_group_sum_matrix(self.codes[:, j], self.n_levels[j], self.weights) for j in others]
        w = np.ones(self.n_obs) if self.weights is None else self.weights
        Gp = self.n_levels[p]
        # B_a = D_1' W D_a (G_1 x G_a), rows scaled by 1/sqrt(w_1): then B'diag(1/w_1)B = sum of Bs_a' Bs_b blocks
        Bs = []
        for j in others:
            B = _crosstab(self._cp, Gp, self.codes[:, j], self.n_levels[j], w)
            B.data /= np.sqrt(self._w1)[np.repeat(np.arange(Gp), np.diff(B.indptr))]
            Bs.append(B)
        row_nnz = sum(np.diff(B.indptr).astype(np.int64) for B in Bs)
        fill = int(np.sum(row_nnz**2))
        self._S = None
        self._factor = None
        if m <= DENSE_MAX or fill <= _SPARSE_FILL_MAX:
            blocks = [[None] * len(others) for _ in others]
            for a, ja in enumerate(others):
                wa = np.bincount(self.codes[:, ja], weights=w, minlength=self.n_levels[ja])
                blocks[a][a] = sp.diags(wa) - (Bs[a].T @ Bs[a])
                for b in range(a + 1, len(others)):
                    jb = others[b]
                    cross = _crosstab(self.codes[:, ja], self.n_levels[ja], self.codes[:, jb], self.n_levels[jb], w)
                    blk = cross - Bs[a].T @ Bs[b]
                    blocks[a][b], blocks[b][a] = blk, blk.T
            S = sp.bmat(blocks, format="csr")
            if m <= DENSE_MAX:
                S = S.toarray()
                self._S = (S + S.T) / 2
                self._factor = self._pivoted_cholesky(self._S)
            else:
                self._S = S
            diag = np.asarray(self._S.diagonal())
        else:  # matrix-free conjugate gradients: only the diagonal is needed (Jacobi preconditioner)
            diag = np.concatenate([np.bincount(self.codes[:, j], weights=w, minlength=self.n_levels[j])
                                   - np.asarray(B.multiply(B).sum(axis=0)).ravel() for j, B in zip(others, Bs)])
        self.method = "direct" if self._factor is not None else "cg"
        if self._factor is not None:
            self.rank = Gp + self._factor[2]
        scale = np.max(diag) if diag.size else 1.0
        self._jacobi = np.where(diag > 1e-12 * scale, 1.0 / np.where(diag > 0, diag, 1.0), 1.0)

    def _block(self, j: int) -> slice:
        a = self._others.index(j)
        return slice(int(self._offsets[a]), int(self._offsets[a + 1]))

    @staticmethod
    def _pivoted_cholesky(S: np.ndarray):
        m = S.shape[0]
        scale = float(np.max(np.abs(np.diag(S)))) if m else 1.0
        c, piv, rank, info = lapack.dpstrf(S, tol=max(m, 1) * 1e-13 * scale, lower=0)
        if info < 0:  # pragma: no cover - LAPACK argument error
            return None
        piv = piv - 1  # Fortran -> 0-based
        return np.triu(c[:rank, :rank]), piv[:rank], int(rank)

    # ------------------------------------------------------------------ solve
    def _primary_demean(self, x: np.ndarray) -> np.ndarray:
        """x minus its (weighted) group means of the primary effect; x is (n, k)."""
        means = self._D1t @ x
        means /= self._w1[:, None]
        return x - np.take(means, self._cp, axis=0)

    def _DrtW_times(self, x: np.ndarray) -> np.ndarray:
        """D_r' W x (the weights are inside the group-sum matrices)."""
        return np.vstack([Dt @ x for Dt in self._Dts])

    def _Dr_times(self, beta: np.ndarray) -> np.ndarray:
        """D_r beta: the sum over non-primary effects of each row's level coefficient."""
        out = None
        for j in self._others:
            part = np.take(beta[self._block(j)], self.codes[:, j], axis=0)
            out = part if out is None else np.add(out, part, out=out)
        return out

    def _rhs(self, x: np.ndarray) -> np.ndarray:
        """D_r' W M_1 x."""
        return self._DrtW_times(self._primary_demean(x))

    def _apply_S(self, v: np.ndarray) -> np.ndarray:
        if self._S is not None:
            return self._S @ v
        return self._DrtW_times(self._primary_demean(self._Dr_times(v)))

    def _direct_solve(self, rhs: np.ndarray) -> np.ndarray:
        U, piv, r = self._factor
        out = np.zeros_like(rhs)
        if r:
            z = solve_triangular(U, rhs[piv], trans="T", check_finite=False)
            out[piv] = solve_triangular(U, z, check_finite=False)
        return out

    def _solve(self, rhs: np.ndarray) -> np.ndarray:
        norms = np.linalg.norm(rhs, axis=0)
        if self._factor is not None:
            b = self._direct_solve(rhs)
            b += self._direct_solve(rhs - self._S @ b)  # one step of iterative refinement
            resid = np.linalg.norm(rhs - self._S @ b, axis=0)
            if np.all(resid <= max(self.tol, 1e-12) * np.maximum(norms, 1e-300) + 1e-300):
                return b
            return self._pcg(rhs, b)  # rank decision was off (near-singular S): polish iteratively
        return self._pcg(rhs, np.zeros_like(rhs))

    def _pcg(self, rhs: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Block preconditioned CG: one independent CG per column, run in lockstep."""
        norms = np.linalg.norm(rhs, axis=0)
        target = self.tol * norms
        r = rhs - self._apply_S(b)
        z = r * self._jacobi[:, None]
        d = z.copy()
        rz = np.einsum("ij,ij->j", r, z)
        active = np.linalg.norm(r, axis=0) > target
        it = 0
        while active.any() and it < self.maxiter:
            it += 1
            Sd = self._apply_S(d)
            dSd = np.einsum("ij,ij->j", d, Sd)
            alpha = np.where(active & (dSd > 0), rz / np.where(dSd > 0, dSd, 1.0), 0.0)
            b += d * alpha
            r -= Sd * alpha
            z = r * self._jacobi[:, None]
            rz_new = np.einsum("ij,ij->j", r, z)
            beta = np.where(rz > 0, rz_new / np.where(rz > 0, rz, 1.0), 0.0)
            d = z + d * beta
            rz = rz_new
            active &= np.linalg.norm(r, axis=0) > target
        self.iterations = max(self.iterations, it)
        if active.any():
            rel = np.max(np.linalg.norm(r, axis=0)[active] / np.maximum(norms[active], 1e-300))
            warnings.warn(
                f"demeaning stopped after maxiter={self.maxiter} conjugate-gradient iterations with relative "
                f"residual {rel:.2e} > tol={self.tol:g}; results may be inaccurate",
                DemeanWarning,
                stacklevel=3,
            )
        return b

    # ------------------------------------------------------------------ public
    def demean(self, x) -> np.ndarray:
        """Return the within-transformed copy of ``x`` ((n,) or (n, k)); the input is not modified."""
        arr = np.asarray(x, dtype=float)
        one_d = arr.ndim == 1
        X = arr.reshape(-1, 1) if one_d else arr
        if X.ndim != 2 or X.shape[0] != self.n_obs:
            raise SpecificationError(f"x has shape {arr.shape}; expected ({self.n_obs},) or ({self.n_obs}, k)")
        if not np.all(np.isfinite(X)):
            bad = np.flatnonzero(~np.all(np.isfinite(X), axis=1))
            raise SpecificationError(f"x has missing or infinite values in rows {bad[:5].tolist()}; drop them first")
        if self.method == "none":
            out = X.copy()
        elif self.method == "one-way":
            out = self._primary_demean(X)
        elif self.method == "balanced":
            out = self._balanced(X)
        else:
            with single_thread_blas():
                beta = self._solve(self._rhs(X))
            out = self._primary_demean(X - self._Dr_times(beta))
        return out.ravel() if one_d else out

    def _balanced(self, X: np.ndarray) -> np.ndarray:
        # x - xbar_a - xbar_b + xbar: exact when every (a, b) cell has the same count (orthogonal design).
        if self._bal is None:
            self._bal = [(_group_sum_matrix(self.codes[:, j], self.n_levels[j], None),
                          np.bincount(self.codes[:, j], minlength=self.n_levels[j]).astype(float))
                         for j in (0, 1)]
        grand = np.ones(self.n_obs) @ X / self.n_obs
        out = X + grand
        for (Dt, cnt), j in zip(self._bal, (0, 1)):
            means, codes = (Dt @ X) / cnt[:, None], self.codes[:, j]
            for s in range(0, self.n_obs, _ROWS):  # by blocks of rows: no n x k temporary
                out[s:s + _ROWS] -= means[codes[s:s + _ROWS]]
        return out


def _crosstab(r: np.ndarray, n_r: int, c: np.ndarray, n_c: int, w: np.ndarray) -> sp.csr_matrix:
    """Weighted cross-tabulation of two code vectors as a CSR matrix (n_r x n_c), built without a sort when the
    dense table fits in memory (one bincount), else through np.unique."""
    key = r * n_c + c
    if n_r * n_c <= _DENSE_XTAB_MAX:
        flat = np.bincount(key, weights=w, minlength=n_r * n_c)
        key = np.flatnonzero(flat)
        vals = flat[key]
    else:
        key, inverse = np.unique(key, return_inverse=True)
        vals = np.bincount(inverse, weights=w)
    rows, cols = np.divmod(key, n_c)
    indptr = np.zeros(n_r + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_r), out=indptr[1:])
    return sp.csr_matrix((vals, cols, indptr), shape=(n_r, n_c))


def _group_sum_matrix(codes: np.ndarray, size: int, weights) -> sp.csc_matrix:
    """D' W as a (size x n) CSC matrix built without conversion (one entry per column): ``D'W x`` = group sums."""
    n = codes.shape[0]
    data = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    return sp.csc_matrix((data, codes, np.arange(n + 1)), shape=(size, n))


def demean(x, fe, weights=None, tol: float = 1e-10, maxiter: int = 100_000) -> np.ndarray:
    """Within-transform ``x`` ((n,) or (n, k)) with respect to the fixed effects ``fe``.

    ``fe`` is an ``(n, g)`` integer code matrix (or a list of 1-d code arrays); ``weights`` optional positive
    analytic weights. Returns a new array of ``x``'s shape. For repeated calls with the same effects build an
    :class:`Absorber` once. See the module docstring for the algorithm.
    """
    return Absorber(fe, weights=weights, tol=tol, maxiter=maxiter).demean(x)
