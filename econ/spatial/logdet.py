"""Log-determinant ``ln|I - rho W|`` and the admissible interval of ``rho``, for the spatial ML estimators.

Methods (``logdet=``):

* ``"eigen"`` -- the eigenvalues ``w_i`` of ``W`` once (dense, O(n^3)), then ``sum_i ln|1 - rho w_i|`` exactly
  (Ord 1975). Complex eigenvalues of an asymmetric ``W`` are handled (their conjugate pairs give a real sum).
* ``"sparse_lu"`` -- a sparse LU factorisation of ``I - rho W`` at every evaluation (``scipy.sparse.linalg.splu``),
  ``sum ln|u_ii|``: exact, no dense matrix, each call O(fill-in); results are cached per ``rho``.
* ``"chebyshev"`` -- Pace & LeSage (2004): ``ln(1 - rho l)`` expanded in Chebyshev polynomials of degree
  ``order`` on the eigenvalue interval ``[l_min, l_max]`` of ``W``, so that ``ln|I - rho W| = sum_i ln(1 - rho
  l_i) ~ sum_k c_k(rho) tr(T_k(X)) - c_0 n / 2`` with ``X`` the affine map of ``W`` onto ``[-1, 1]``. The traces
  are computed once (exact up to ``econ.spatial.traces.EXACT_MAX_N`` units, Hutchinson estimates beyond);
  ``error_bound(rho)`` bounds the truncation error for a ``W`` with real eigenvalues (plus two Monte-Carlo
  standard errors when the traces are estimated); see :class:`LogDet`.
* ``"auto"`` (default) -- ``"eigen"`` when ``n <= EIGEN_MAX_N`` (= 1,000 units), ``"sparse_lu"`` otherwise (both
  exact; the choice is about speed; the cutoffs are those of :mod:`econ.spatial.traces`). A caller that needs
  only a few evaluations (``evaluations="few"``: the one-parameter panel fits) gets ``"sparse_lu"`` already
  beyond ``EIGEN_GENERAL_MAX_N`` (= 200) units when the spectrum of ``W`` is not real by symmetry (below).

Eigenvalues of a ``W`` that is symmetric, or similar to a symmetric matrix (a row-standardised symmetric
``W = D^{-1} C``: eigenvalues of ``D^{-1/2} C D^{-1/2}``), are computed by the symmetric solver (real, faster).

The interval of ``rho`` is ``(1 / w_min, 1 / w_max)`` over the real eigenvalues (``eigen``), or from the extreme
real parts found by ARPACK (``scipy.sparse.linalg.eigs``) otherwise; for a row-standardised ``W`` ``w_max = 1``.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import sparse
from scipy.sparse import linalg as spla

from econ.errors import SpecificationError
from econ.spatial import traces
from econ.spatial.traces import EIGEN_MAX_N

__all__ = ["LogDet", "EIGEN_MAX_N", "LOGDET_METHODS", "eigenvalues"]

LOGDET_METHODS = ("auto", "eigen", "sparse_lu", "chebyshev")
_STEP = 1e-20  # imaginary step of the complex-step derivative (LogDet.derivative, "sparse_lu")


class LogDet:
    """``ln|I - rho W|`` for one ``W`` (n x n, sparse or dense), evaluated many times.

    Calling it, ``LogDet(W)(rho)``, returns the log-determinant as a float.

    Parameters
    ----------
    W : scipy.sparse matrix or ndarray
    method : {"auto", "eigen", "sparse_lu", "chebyshev"}
    order : int
        Degree of the Chebyshev approximation (``"chebyshev"`` only; default 100).
    probes : int, optional
        Rademacher probes of the Hutchinson traces when ``n > econ.spatial.traces.EXACT_MAX_N`` (default
        ``econ.spatial.traces.PROBES``).
    seed : int
        Seed of those probes.
    evaluations : {"many", "few"}
        How the caller evaluates it, for ``"auto"``: ``"few"`` (a one-parameter maximisation with the score, about
        a dozen exact evaluations) lets ``"auto"`` prefer the sparse LU over the general dense eigenvalue problem
        beyond ``econ.spatial.traces.EIGEN_GENERAL_MAX_N`` units; ``"many"`` (default) keeps eigenvalues up to
        ``EIGEN_MAX_N``.

    Attributes
    ----------
    method : the method used ("auto" resolved).
    interval : (lower, upper) admissible values of rho (open interval).
    eigenvalues : complex ndarray or None (eigen method only).
    error : float, the error bound of an approximate method over the admissible interval shrunk by 1% at each
        end (``max error_bound(rho)`` there; 0 for exact methods).

    Notes
    -----
    ``ln|I - rho W|`` enters the concentrated likelihood of every model with a spatial lag or error.

    * ``"eigen"``: ``sum_i ln|1 - rho w_i|`` over the eigenvalues ``w_i`` of ``W`` (Ord 1975), computed once;
      the derivative ``-sum_i w_i / (1 - rho w_i)`` is exact too.
    * ``"sparse_lu"``: ``sum_i ln|u_ii|`` of the LU factor of ``I - rho W`` at each ``rho`` (exact; cached);
      the derivative by a complex step (Squire & Trapp 1998): the LU of ``I - (rho + i h) W`` with ``h = 1e-20``
      pivots exactly as the real one, and ``sum_i Im(u_ii) / (h Re(u_ii))`` is ``d/drho sum_i ln|u_ii|`` to
      rounding (no difference quotient), with the value itself as ``sum_i ln|Re(u_ii)|``.
    * ``"chebyshev"`` (Pace & LeSage 2004): with the eigenvalue interval ``[l_min, l_max] = [1 / lower,
      1 / upper]``, ``a = (l_max - l_min) / 2``, ``b = (l_max + l_min) / 2`` and ``X = (W - b I) / a``, the function
      ``f(x) = ln(1 - rho (a x + b))`` is interpolated at the ``q + 1 = order + 1`` Chebyshev nodes
      ``x_k = cos(pi (k - 1/2) / (q + 1))``: ``c_j = 2 / (q + 1) sum_k f(x_k) T_j(x_k)`` and
      ``ln|I - rho W| ~ sum_j c_j tr(T_j(X)) - c_0 n / 2`` (R spatialreg's ``do_ldet(method = "Chebyshev")``
      is this with ``[l_min, l_max] = [-1, 1]`` and ``q = 5``). ``tr(T_j(X))`` by the recurrence
      ``T_{j+1} = 2 X T_j - T_{j-1}`` once per ``W`` (exact up to ``EXACT_MAX_N`` units, Hutchinson beyond).
      Error bound: writing ``1 - rho (a x + b) = (1 - rho b)(1 - r x)``, ``r = rho a / (1 - rho b)``,
      ``ln(1 - r x) = -ln(1 + s^2) - 2 sum_k s^k T_k(x) / k`` with ``s = (1 - sqrt(1 - r^2)) / r``
      (``|s| < 1``), so the interpolant errs by at most ``2 sum_{k>q} 2 |s|^k / k <= 4 |s|^(q+1) / ((q + 1)
      (1 - |s|))`` at every eigenvalue, and ``error_bound(rho)`` is ``n`` times that (plus two Monte-Carlo
      standard errors when the traces are estimated). It holds when the eigenvalues of ``W`` are real (``W``
      symmetric or similar to a symmetric matrix, e.g. a row-standardised symmetric contiguity matrix); the
      error grows as ``|rho|`` nears the ends of its interval (``|s| -> 1``).

    The admissible interval of ``rho`` is ``(1 / w_min, 1 / w_max)`` over the real eigenvalues (``"eigen"``) or
    from the extreme real parts found by ARPACK (``(1 / w_min, 1)`` for a non-negative row-standardised ``W``).

    References
    ----------
    Ord, J. K. (1975). Estimation methods for models of spatial interaction. *Journal of the American Statistical
    Association* 70(349), 120-126.
    Pace, R. K. and LeSage, J. P. (2004). Chebyshev approximation of log-determinants of spatial weight
    matrices. *Computational Statistics & Data Analysis* 45, 179-196.
    Squire, W. and Trapp, G. (1998). Using complex variables to estimate derivatives of real functions.
    *SIAM Review* 40(1), 110-112.
    Hutchinson, M. F. (1990). A stochastic estimator of the trace of the influence matrix for Laplacian
    smoothing splines. *Communications in Statistics - Simulation and Computation* 19(2), 433-450.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import sparse
    >>> W = sparse.diags([0.5, 0.5], [-1, 1], shape=(50, 50)).tocsr()
    >>> a, b = LogDet(W, "eigen"), LogDet(W, "sparse_lu")
    >>> bool(np.isclose(a(0.4), b(0.4))), a.method
    (True, 'eigen')
    """

    def __init__(self, W, method: str = "auto", *, order: int = 100, probes: int | None = None, seed: int = 0,
                 evaluations: str = "many"):
        if method not in LOGDET_METHODS:
            raise SpecificationError(f"logdet must be one of {list(LOGDET_METHODS)}, got {method!r}")
        self.W = sparse.csr_matrix(W, dtype=float)
        self.n = self.W.shape[0]
        if evaluations not in ("many", "few"):
            raise SpecificationError(f"evaluations must be 'many' or 'few', got {evaluations!r}")
        if method == "auto":
            method = "eigen" if self.n <= traces.EIGEN_MAX_N else "sparse_lu"
            if method == "eigen" and evaluations == "few" and self.n > traces.EIGEN_GENERAL_MAX_N:
                method = "eigen" if _symmetrised(self.W) is not None else "sparse_lu"
        self.method = method
        self.eigenvalues = None
        self.error = 0.0
        self._cache: dict[float, float] = {}
        self._dcache: dict[float, float] = {}
        self._pattern = None
        if method == "eigen":
            ev = eigenvalues(self.W)
            self.eigenvalues = ev
            real = ev.real[np.abs(ev.imag) < 1e-10 * max(1.0, np.abs(ev).max())]
            self.interval = (1.0 / real.min(), 1.0 / real.max())
        else:
            self.interval = _sparse_interval(self.W)
        if method == "chebyshev":
            if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 2:
                raise SpecificationError(f"order must be an integer >= 2, got {order!r}")
            self._cheb = ChebyshevLogDet(self.W, self.interval, int(order), probes=probes, seed=seed)
            lo, hi = self.interval
            self.error = max(self._cheb.bound(lo + 0.01 * (hi - lo)), self._cheb.bound(hi - 0.01 * (hi - lo)))

    def __call__(self, rho: float) -> float:
        rho = float(rho)
        if self.method == "eigen":
            return float(np.sum(np.log(np.abs(1.0 - rho * self.eigenvalues))))
        if self.method == "chebyshev":
            return self._cheb(rho)
        if rho not in self._cache:
            if rho == 0.0:
                self._cache[rho] = 0.0
            else:
                self._cache[rho] = float(np.sum(np.log(np.abs(self._pivots(rho)))))
        return self._cache[rho]

    def _pivots(self, rho):
        """Diagonal of ``U`` in the sparse LU of ``I - rho W`` (``rho`` real or complex)."""
        if self._pattern is None:  # I - rho W = I_pat - rho W_pat on the union of the two sparsity patterns
            n, W = self.n, self.W.tocoo()
            rows, cols = np.r_[np.arange(n), W.row], np.r_[np.arange(n), W.col]
            eye = sparse.csc_matrix((np.r_[np.ones(n), np.zeros(W.nnz)], (rows, cols)), shape=(n, n))
            w = sparse.csc_matrix((np.r_[np.zeros(n), W.data], (rows, cols)), shape=(n, n))
            eye.sort_indices()
            w.sort_indices()
            self._pattern = (eye.data, w.data, w.indices, w.indptr)
        eye, w, indices, indptr = self._pattern
        A = sparse.csc_matrix((eye - rho * w, indices, indptr), shape=(self.n, self.n))
        lu = spla.splu(A, permc_spec="COLAMD", options={"SymmetricMode": False})
        return lu.U.diagonal()

    def error_bound(self, rho: float) -> float:
        """Bound on ``|approximation - ln|I - rho W||`` at ``rho`` (0 for the exact methods; see the Notes)."""
        return self._cheb.bound(float(rho)) if self.method == "chebyshev" else 0.0

    def derivative(self, rho: float) -> float:
        """d/drho ln|I - rho W| = -tr(W (I - rho W)^{-1}): exact from the eigenvalues or by a complex step of the
        sparse LU (see the Notes); central differences of the Chebyshev approximation."""
        rho = float(rho)
        if self.method == "eigen":
            ev = self.eigenvalues
            return float(-np.sum(ev / (1.0 - rho * ev)).real)
        if self.method == "sparse_lu":
            if rho not in self._dcache:
                u = self._pivots(complex(rho, _STEP))
                self._dcache[rho] = float(np.sum(u.imag / u.real) / _STEP)
                self._cache.setdefault(rho, float(np.sum(np.log(np.abs(u.real)))))
            return self._dcache[rho]
        h = 1e-6 * (self.interval[1] - self.interval[0])
        return (self(rho + h) - self(rho - h)) / (2 * h)

    def check_inside(self, value: float, name: str) -> None:
        """Raise when an estimate sits on the boundary of the interval (the likelihood has no interior maximum)."""
        lo, hi = self.interval
        span = hi - lo
        if value <= lo + 1e-6 * span or value >= hi - 1e-6 * span:
            raise SpecificationError(
                f"{name} = {value:.6g} is at the boundary of its admissible interval ({lo:.6g}, {hi:.6g}): the "
                "likelihood has no interior maximum (check the weights and the model)")


def eigenvalues(W) -> np.ndarray:
    """All eigenvalues of ``W`` (dense solver); the symmetric solver when ``W`` is (similar to) symmetric.

    Runs with one BLAS thread: for the sizes solved densely (a few thousand units at most) a second thread buys
    little and, on a busy 2-core machine, made the call ten times slower (3.2 s against 0.28 s at n = 500).
    """
    from econ.panel.demean import single_thread_blas

    with single_thread_blas():
        return _eigenvalues(W)


def _eigenvalues(W) -> np.ndarray:
    W = sparse.csr_matrix(W, dtype=float)
    S = _symmetrised(W)
    if S is not None:
        return np.linalg.eigvalsh(S.toarray()).astype(complex)
    return np.linalg.eigvals(W.toarray())


def _symmetrised(W: sparse.csr_matrix):
    """A symmetric matrix similar to ``W`` (``W`` itself, or ``D^{-1/2} C D^{-1/2}`` for a row-standardised
    symmetric ``W = D^{-1} C``), or ``None`` when neither applies."""
    coo = W.tocoo()
    n = W.shape[0]
    keys = coo.row.astype(np.int64) * n + coo.col
    if not np.isin(coo.col.astype(np.int64) * n + coo.row, keys).all():
        return None  # a pattern that is not symmetric (k nearest neighbours): no diagonal scaling symmetrises it
    if abs(W - W.T).max() <= 1e-12 * max(abs(W).max(), 1e-300):
        return W
    if W.nnz and W.data.min() > 0:
        with np.errstate(divide="ignore"):  # a row-standardised binary W: W_ij = 1 / d_i
            d = 1.0 / np.asarray(W.max(axis=1).toarray()).ravel()
        if np.all(np.isfinite(d)):
            C = sparse.diags(d) @ W
            if abs(C - C.T).max() <= 1e-10 * abs(C).max():
                s = 1.0 / np.sqrt(d)
                return sparse.diags(s) @ C @ sparse.diags(s)
    return None


def _sparse_interval(W: sparse.csr_matrix) -> tuple[float, float]:
    rows = np.asarray(W.sum(axis=1)).ravel()
    nonneg = W.nnz == 0 or W.data.min() >= 0
    row_std = nonneg and np.allclose(rows[rows > 0], 1.0)
    try:
        hi = 1.0 if row_std else float(spla.eigs(W, k=1, which="LR", return_eigenvectors=False, tol=1e-8)[0].real)
        lo = float(spla.eigs(W, k=1, which="SR", return_eigenvectors=False, tol=1e-8,
                             maxiter=W.shape[0] * 20)[0].real)
    except (spla.ArpackNoConvergence, spla.ArpackError):
        warnings.warn("eigenvalue range of W not found by ARPACK; using (-1, 1) for the spatial parameter",
                      stacklevel=3)
        return (-1.0, 1.0)
    if lo >= 0 or hi <= 0:
        raise SpecificationError(f"W has eigenvalue range ({lo:.4g}, {hi:.4g}); a spatial parameter interval needs "
                                 "a negative and a positive eigenvalue")
    return (1.0 / lo, 1.0 / hi)


class ChebyshevLogDet:
    """Pace & LeSage's (2004) Chebyshev approximation of ``ln|I - rho W|`` (see :class:`LogDet`, Notes).

    ``interval`` is the admissible interval of ``rho``; the eigenvalue interval is its reciprocal. The traces of
    ``T_k(X)`` come from :func:`econ.spatial.traces.chebyshev_traces` (exact, or per-probe Hutchinson values).
    """

    def __init__(self, W, interval, order: int, *, exact: bool | None = None, probes: int | None = None,
                 seed: int = 0):
        lo, hi = interval
        lmin, lmax = 1.0 / lo, 1.0 / hi
        self.alpha, self.beta = (lmax - lmin) / 2, (lmax + lmin) / 2
        self.n, self.order = W.shape[0], order
        self.traces, self._per = traces.chebyshev_traces(W, order, self.alpha, self.beta, exact=exact,
                                                         probes=probes, seed=seed)
        theta = np.pi * (np.arange(order + 1) + 0.5) / (order + 1)
        self._nodes = np.cos(theta)
        self._T = np.cos(np.outer(np.arange(order + 1), theta))  # T_j(x_k)

    def coefficients(self, rho: float) -> np.ndarray:
        """``c_j``, ``j = 0..order``, of the interpolant of ``ln(1 - rho (a x + b))``."""
        f = np.log1p(-rho * (self.alpha * self._nodes + self.beta))
        return 2.0 / (self.order + 1) * (self._T @ f)

    def __call__(self, rho: float) -> float:
        c = self.coefficients(rho)
        return float(c @ self.traces - c[0] * self.n / 2)

    def bound(self, rho: float) -> float:
        """``n 4 |s|^(q+1) / ((q+1)(1-|s|))`` plus two Monte-Carlo standard errors when the traces are estimated."""
        r = rho * self.alpha / (1.0 - rho * self.beta)
        s = 0.0 if r == 0 else (1.0 - np.sqrt(max(1.0 - r * r, 0.0))) / abs(r)
        q = self.order
        det = np.inf if s >= 1 else self.n * 4 * s ** (q + 1) / ((q + 1) * (1 - s))
        if self._per is None:
            return float(det)
        c = self.coefficients(rho)
        per = c @ self._per
        return float(det + 2 * per.std(ddof=1) / np.sqrt(per.size))
