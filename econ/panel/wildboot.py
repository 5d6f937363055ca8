"""Wild cluster restricted bootstrap (WCR) for one coefficient of a feols fit, vectorised.

Method (Cameron, Gelbach & Miller 2008; the fast algebra of Roodman, MacKinnon, Nielsen & Webb 2019, "Fast and
wild", Stata Journal 19(1)). Work in the FWL-transformed problem (regressors and outcome demeaned by the fixed
effects, scaled by ``sqrt(w)`` when weighted): ``X`` (n x k), ``y``, clusters ``g = 1..G``, parameter ``p``.

* ``z = X (X'X)^{-1} e_p`` so that ``beta_p = z'y``.
* Null ``beta_p = r`` imposed: restricted residuals ``u_r(r) = M_{X_{-p}} (y - r x_p)`` (linear in ``r``).
* Bootstrap samples ``y* = X_{-p} b_r + r x_p + u_r * v_g`` with one weight ``v_g`` per cluster
  (Rademacher +-1, Webb's six-point, Mammen, or standard normal).
* ``beta*_p - r = sum_g v_g c_g`` with ``c_g = z_g' u_{r,g}``; the bootstrap residuals are ``M_X M_D (u_r * v)``
  (``M_D`` the fixed-effect projection), so the score of cluster ``h`` is ``sum_g v_g A[h, g]`` with
  ``A = K - M``, ``M[h, g] = (X_h'z_h)' (X'X)^{-1} X_g'u_{r,g}`` and ``K[h, g] = z_h' (M_D(u_r 1_g))_h``.
  ``K`` is diagonal (``K[g, g] = c_g``) when every fixed effect is nested in the clusters; otherwise it is computed
  exactly by demeaning the ``G`` columns ``z 1_h`` -- the bootstrap then equals the one with the fixed effects as
  dummies (what ``wildboottest`` computes), not the cheaper "bootstrap the demeaned data" approximation.
* All ``B`` (``n_draws``) draws at once: ``t*_b = (V c)_b / sqrt(f sum_h (V A')_{bh}^2)`` with ``V`` the ``B x G`` weight matrix;
  ``f`` is the fit's CRV1 factor (``(n-1)/(n-K) G/(G-1)`` by default; it cancels in the p-value). Since ``c``
  and ``A`` are linear in ``r``, the numerator and the squared denominator are polynomials in ``r`` whose ``B``
  coefficient vectors are computed once; the confidence interval (test inversion: the set of ``r`` whose p-value
  is at least ``1 - level``) then costs ``O(B)`` per trial value, found by bisection.

p-value: symmetric two-sided, ``mean(|t*_b| > |t|)`` (strict, as ``wildboottest``). Ties are not counted, and
``|t*_b|`` within a relative ``1e-9`` of ``|t|`` is a tie: the sign vectors ``v = +-1`` reproduce the original
sample, so under enumeration two draws equal ``|t|`` exactly in exact arithmetic, and rounding must not decide
whether they count. With Rademacher weights and ``2^G <= B`` all ``2^G`` sign vectors are enumerated instead of
drawn (the bootstrap distribution is then exact and ``B`` is reported as ``2^G``).

Floor under full enumeration: ``v`` and ``-v`` give the same ``|t*|`` and the two vectors ``v = +-1`` reproduce
the observed ``|t|``, so the exact randomization p-value (which counts them) is never below ``2 / 2^G``, and a
strict-count p-value of 0 only says "below ``2 / 2^G``" (with ``G = 6``, below 0.03125). The reported p-value is
therefore ``max(p, 2 / 2^G)``, and the summary says when it sits at that floor; the test-inversion interval uses
the same floored p-value, so it is unbounded when ``2 / 2^G >= 1 - level`` (no test at that level can reject
with so few clusters). Drawn (not enumerated) multipliers are not floored: their p-value keeps the strict count,
as ``wildboottest``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from econ._parallel import block_rng, block_sizes, map_blocks, root_entropy
from econ._tidy import SummaryRepr
from econ._validate import check_choice, check_int, check_n_draws
from econ.errors import SpecificationError
from econ.panel import vcov as vc
from econ.panel.vcov import group_sums

__all__ = ["wildboot", "WildBootResult", "draw_weights"]

_TIE = 1e-9  # |t*| within this relative distance of |t| is a tie (not counted), see the module docstring
_CHUNK_ROWS = 4096  # bootstrap draws handled per block (memory: block x G doubles)
_WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(repr=False)
class WildBootResult(SummaryRepr):
    """Outcome of :func:`wildboot`: the bootstrap test of ``param = r`` and the test-inversion interval.

    Attributes: ``param``, ``estimate``, ``std_error`` (the fit's CRV1 standard error), ``r`` (the null value),
    ``t_stat``, ``p_value``, ``conf_int``, ``level``, ``n_draws`` (``2^G`` when enumerated), ``multiplier``,
    ``enumerated``, ``cluster``, ``n_clusters``, ``t_boot`` (the bootstrap t statistics under the null) and
    ``p_floor`` (``2 / 2^G`` under full enumeration, else 0: the smallest p-value reported).
    """

    param: str
    estimate: float
    std_error: float
    r: float
    t_stat: float
    p_value: float
    conf_int: tuple[float, float]
    level: float
    n_draws: int
    multiplier: str
    enumerated: bool
    cluster: str
    n_clusters: int
    t_boot: np.ndarray
    p_floor: float = 0.0
    nobs: int | None = None  # rows and units of the fit tested
    n_units: int | None = None

    @property
    def notes(self) -> list[str]:
        """The floor note when the p-value sits at ``2 / 2^G`` under full enumeration, else empty."""
        if not (self.enumerated and self.p_floor > 0 and self.p_value <= self.p_floor):
            return []
        return [f"p-value at its floor 2/2^{self.n_clusters} = {self.p_floor:.4g}: with {self.n_clusters} clusters "
                "and every sign vector enumerated no p-value is smaller (the observed |t| is exceeded by no "
                "bootstrap draw)"]

    def tidy(self) -> pd.DataFrame:
        """One row: term, estimate, std_error, statistic, p_value, conf_low, conf_high, null, n_draws, multiplier.

        ``statistic`` is the t statistic of ``param = null`` and ``p_value`` its bootstrap p-value; the interval is
        the set of nulls the bootstrap test does not reject at ``1 - level``.
        """
        lo, hi = self.conf_int
        return pd.DataFrame({
            "term": [self.param], "estimate": [self.estimate], "std_error": [self.std_error],
            "statistic": [self.t_stat], "p_value": [self.p_value], "conf_low": [lo], "conf_high": [hi],
            "null": [self.r], "n_draws": [self.n_draws], "multiplier": [self.multiplier],
        })

    def summary(self) -> str:
        """A short plain-text report: method, clusters, null, t, bootstrap p-value and interval."""
        lo, hi = self.conf_int
        how = f"all {self.n_draws} sign vectors enumerated" if self.enumerated else f"{self.n_draws} draws"
        return (
            f"Wild cluster bootstrap (WCR, {self.multiplier} multipliers, {how})\n"
            f"  clusters: {self.cluster} ({self.n_clusters})\n"
            f"  H0: {self.param} = {self.r:g}   estimate {self.estimate:.6g}   t = {self.t_stat:.4f}\n"
            f"  bootstrap p-value: {self.p_value:.4f}\n"
            f"  {100 * self.level:g}% CI (test inversion): [{lo:.6g}, {hi:.6g}]"
            + "".join(f"\n  Note: {n}" for n in self.notes)
        )

    def plot(self, ax=None, path=None, *, bins: int = 50):
        """Histogram of the bootstrap t statistics with the observed ``+-|t|`` marked; returns ``(fig, ax)``."""
        from econ.results import figure, finish_figure

        fig, ax = figure(ax)
        ax.hist(self.t_boot, bins=bins, color="0.7", edgecolor="white")
        for sign in (-1, 1):
            ax.axvline(sign * abs(self.t_stat), color="C3", lw=1.5)
        ax.set_xlabel(f"bootstrap t statistic, H0: {self.param} = {self.r:g}")
        ax.set_ylabel("draws")
        ax.set_title(f"wild cluster bootstrap: p = {self.p_value:.3f}")
        return finish_figure(fig, ax, path)

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "t_boot"}


def draw_weights(kind: str, B: int, G: int, rng, enumerate_all: bool = True) -> tuple[np.ndarray, bool]:
    """The ``B x G`` matrix of cluster multipliers; enumerates all sign vectors for Rademacher when ``2^G <= B``
    (unless ``enumerate_all`` is False, as for one block of a longer run)."""
    if kind == "rademacher":
        if enumerate_all and G < 31 and 2**G <= B:
            rows = np.arange(2**G)[:, None]
            return ((rows >> np.arange(G)) & 1) * 2.0 - 1.0, True
        return rng.integers(0, 2, size=(B, G)) * 2.0 - 1.0, False
    if kind == "webb":
        return _WEBB[rng.integers(0, 6, size=(B, G))], False
    if kind == "mammen":
        s5 = np.sqrt(5.0)
        p = (s5 + 1) / (2 * s5)
        return np.where(rng.random((B, G)) < p, -(s5 - 1) / 2, (s5 + 1) / 2), False
    if kind == "normal":
        return rng.standard_normal((B, G)), False
    raise SpecificationError(f"unknown multiplier {kind!r}; use 'rademacher', 'webb', 'mammen' or 'normal'")


def wildboot(res, param: str, *, n_draws: int | None = None, multiplier: str = "rademacher", seed=0,
             cluster: str | None = None, level: float = 0.95, r: float = 0.0, B: int | None = None,
             weights=None, backend: str = "local", client=None) -> WildBootResult:
    """Wild cluster restricted bootstrap test of ``param = r`` and confidence interval by test inversion.

    Parameters
    ----------
    res : econ.panel.FeolsResult
        A feols fit.
    param : str
        The coefficient tested.
    n_draws : int, default 9999
        Number of bootstrap draws (``B`` is accepted as an alias). With Rademacher multipliers and
        ``2^G <= n_draws`` all ``2^G`` sign vectors are enumerated instead.
    multiplier : {"rademacher", "webb", "mammen", "normal"}
        Law of the cluster multipliers ``v_g``.
    seed : int, default 0
        Non-negative seed of ``numpy.random.default_rng``.
    cluster : str, optional
        Cluster column; defaults to the fit's one-way cluster variable.
    level : float
        Confidence level of the interval.
    r : float
        Value of ``param`` under the null.
    B : int, optional
        Alias of ``n_draws`` (the name in boottest / wildboottest).
    weights : None
        Not accepted: ``weights`` means regression weights in econ; the multiplier law is ``multiplier=``.
    backend : {"local", "dask"}
        Where the draws are computed: in this process, or split over ``dask.distributed`` workers (``client``, or
        a temporary ``LocalCluster``). Draws come in blocks of 4,096 with block ``k`` seeded by
        ``SeedSequence(seed).spawn`` key ``k``, so the result is identical for every backend and worker count.
    client : dask.distributed.Client or str, optional
        With ``backend="dask"``: the client (or scheduler address) to use.

    Returns
    -------
    WildBootResult
        With ``tidy()``, ``summary()`` and ``plot()``.

    Raises
    ------
    SpecificationError
        Unknown ``param``, no cluster variable, fewer than 2 clusters, bad ``n_draws``/``seed``/``level``, an
        unknown ``multiplier``, or ``weights=`` given.

    Notes
    -----
    See the module docstring for the algebra (Roodman et al. 2019) and the p-value convention
    ``mean(|t*_b| > |t|)``. Under full enumeration the p-value is floored at ``2 / 2^G`` (the smallest value the
    exact randomization p-value takes; a note says when it is reached), and so is the p-value the interval
    inverts: with ``2 / 2^G >= 1 - level`` the interval is unbounded.

    References
    ----------
    Cameron, Gelbach and Miller (2008), Review of Economics and Statistics 90(3). Roodman, MacKinnon, Nielsen and
    Webb (2019), Stata Journal 19(1).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from econ.panel import feols
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"cl": np.repeat(np.arange(12), 20), "x": rng.normal(size=240)})
    >>> df["y"] = 0.5 * df.x + rng.normal(size=240)
    >>> wb = feols("y ~ x", df, vcov={"CL1": "cl"}).wildboot("x", n_draws=999)
    >>> wb.tidy()[["term", "p_value"]].shape
    (1, 2)
    """
    if weights is not None:
        raise SpecificationError(
            "wildboot: weights= is reserved for regression weights in econ; the bootstrap's multiplier law is "
            f"multiplier= (got weights={weights!r})"
        )
    n_draws = 9999 if n_draws is None and B is None else check_n_draws(n_draws, minimum=1, aliases={"B": B})
    n_draws = check_int(n_draws, "n_draws", minimum=1)
    check_choice(multiplier, "multiplier", ("rademacher", "webb", "mammen", "normal"))
    entropy = root_entropy(seed)
    if not isinstance(param, str) or param not in res.coef.index:
        raise SpecificationError(f"{param!r} is not a coefficient of the model; coefficients: {list(res.coef.index)}")
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise SpecificationError(f"level must be in (0, 1), got {level!r}")
    if isinstance(r, bool) or not isinstance(r, (int, float, np.integer, np.floating)) or not np.isfinite(r):
        raise SpecificationError(f"r (the value of {param} under the null) must be a finite number, got {r!r}")
    cluster = cluster or _default_cluster(res)
    d = res.design
    if d.transform is not None and param == d.names[0]:
        raise SpecificationError("the wild bootstrap tests slopes; the intercept of a model without fixed effects "
                                 "is not supported")
    codes, G = vc._codes(res._column(cluster))
    # the CRV1 factor of the t statistic (cancels in the p-value; kept so t matches the fitted model's); it also
    # rejects fewer than 2 clusters
    f, _ = vc.Cluster(cluster).factor(res.vcov_inputs(), res.ssc or vc.SSC(), codes, G)
    sw = np.ones(len(d.y)) if d.weights is None else np.sqrt(d.weights)
    X, y = d.X * sw[:, None], d.y * sw
    p = d.names.index(param)

    H = np.linalg.inv(X.T @ X)
    z = X @ H[:, p]
    beta = H @ (X.T @ y)
    uhat = y - X @ beta
    se = np.sqrt(f * np.sum(group_sums(z * uhat, codes, G) ** 2))

    # restricted residuals u_r(r) = u0 - r q
    Xr = np.delete(X, p, axis=1)
    if Xr.shape[1]:
        Hr = np.linalg.inv(Xr.T @ Xr)
        u0 = y - Xr @ (Hr @ (Xr.T @ y))
        q = X[:, p] - Xr @ (Hr @ (Xr.T @ X[:, p]))
    else:
        u0, q = y.copy(), X[:, p].copy()
    c0, c1 = group_sums(z * u0, codes, G), group_sums(z * q, codes, G)
    A0, A1 = _score_maps(X, H, z, u0, q, c0, c1, codes, G, d, sw, cluster)

    # per-draw polynomial coefficients: numerator N0 - r N1, squared denominator D0 - 2 r D01 + r^2 D1
    if multiplier == "rademacher" and G < 31 and 2**G <= n_draws:  # all sign vectors: no randomness
        V, enumerated = draw_weights(multiplier, n_draws, G, None)
        N0, N1, D0, D01, D1 = _coefficients(V, c0, c1, A0, A1)
    else:
        enumerated = False
        blocks = map_blocks(_block_coefficients, len(block_sizes(n_draws)), n_draws, multiplier, G, entropy,
                            c0, c1, A0, A1, backend=backend, client=client)
        N0, N1, D0, D01, D1 = (np.concatenate(parts) for parts in zip(*blocks))

    def t_boot(r0: float) -> np.ndarray:
        den = f * np.maximum(D0 - 2 * r0 * D01 + r0**2 * D1, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den > 0, (N0 - r0 * N1) / np.sqrt(den), 0.0)

    floor = 2.0 / len(N0) if enumerated else 0.0  # v and -v, and the two tied draws v = +-1, come in pairs

    def pval(r0: float) -> float:
        t_obs = abs(beta[p] - r0) / se
        return max(floor, float(np.mean(np.abs(t_boot(r0)) > t_obs * (1 + _TIE) + 1e-300)))

    alpha = 1 - level
    ci = _invert(pval, beta[p], se, alpha)
    return WildBootResult(
        param=param, estimate=float(beta[p]), std_error=float(se), r=float(r), t_stat=float((beta[p] - r) / se),
        p_value=pval(r), conf_int=ci, level=level, n_draws=len(N0), multiplier=multiplier, enumerated=enumerated,
        cluster=cluster, n_clusters=G,
        t_boot=t_boot(r), p_floor=floor, nobs=res.nobs, n_units=getattr(res, "n_units", None),
    )


def _coefficients(V, c0, c1, A0, A1):
    """Per-draw ``N0, N1, D0, D01, D1`` of the bootstrap t statistics for the multiplier rows ``V``."""
    N0, N1 = V @ c0, V @ c1
    D0, D01, D1 = (np.empty(len(V)) for _ in range(3))
    for s in range(0, len(V), _CHUNK_ROWS):
        Q0, Q1 = V[s:s + _CHUNK_ROWS] @ A0.T, V[s:s + _CHUNK_ROWS] @ A1.T
        D0[s:s + _CHUNK_ROWS] = np.einsum("ij,ij->i", Q0, Q0)
        D01[s:s + _CHUNK_ROWS] = np.einsum("ij,ij->i", Q0, Q1)
        D1[s:s + _CHUNK_ROWS] = np.einsum("ij,ij->i", Q1, Q1)
    return N0, N1, D0, D01, D1


def _block_coefficients(k, n_draws, multiplier, G, entropy, c0, c1, A0, A1):
    """Coefficients of block ``k`` of the draws (its multipliers drawn from its own seed stream)."""
    size = block_sizes(n_draws)[k]
    V, _ = draw_weights(multiplier, size, G, block_rng(entropy, k), enumerate_all=False)
    return _coefficients(V, c0, c1, A0, A1)


def _default_cluster(res) -> str:
    spec = getattr(res, "_vcov_spec", None)
    if isinstance(spec, vc.Cluster):
        return spec.col
    raise SpecificationError(
        "the wild cluster bootstrap needs a cluster variable: fit with vcov={'CL1': col} or pass cluster='col'"
    )


def _score_maps(X, H, z, u0, q, c0, c1, codes, G, d, sw, cluster):
    """``A(r) = A0 - r A1`` with ``A = K - M`` (module docstring): cluster scores of the bootstrap residuals;
    ``c0``, ``c1`` are the cluster sums of ``z u0`` and ``z q`` (``c(r) = c0 - r c1``)."""
    Wz = group_sums(X * z[:, None], codes, G)  # row h: X_h' z_h
    S0, S1 = group_sums(X * u0[:, None], codes, G), group_sums(X * q[:, None], codes, G)
    M0, M1 = Wz @ H @ S0.T, Wz @ H @ S1.T
    if _fe_nested(d, codes, cluster):
        K0, K1 = np.diag(c0), np.diag(c1)
    else:
        K0, K1 = _fe_scores(z, u0, q, codes, G, d, sw)
    return K0 - M0, K1 - M1


def _fe_nested(d, codes: np.ndarray, cluster: str) -> bool:
    if not d.fe_codes.size:
        return True
    return all(vc._nested(d.fe_codes[:, j], size, cluster, codes, name)
               for j, (name, size) in enumerate(zip(d.fe_names, d.absorber.n_levels)))


def _fe_scores(z, u0, q, codes, G, d, sw, chunk: int = 256):
    """``K[h, g] = sum_{i in g} u_i (M_D (z 1_h))_i`` for fixed effects not nested in the clusters (G demeanings)."""
    n = len(z)
    K0, K1 = np.empty((G, G)), np.empty((G, G))
    for s in range(0, G, chunk):
        hs = np.arange(s, min(s + chunk, G))
        Z = np.zeros((n, len(hs)))
        sel = np.isin(codes, hs)
        Z[np.flatnonzero(sel), codes[sel] - s] = z[sel]
        # weighted case: M_{D_w} v = sqrt(w) * M_D^W (v / sqrt(w))
        Y = d.absorber.demean(Z / sw[:, None]) * sw[:, None]
        K0[hs, :] = group_sums(Y * u0[:, None], codes, G).T
        K1[hs, :] = group_sums(Y * q[:, None], codes, G).T
    return K0, K1


def _invert(pval, est: float, se: float, alpha: float) -> tuple[float, float]:
    """Bounds of ``{r : p(r) >= alpha}`` around the estimate, by bracketing and bisection."""
    if not np.isfinite(se) or se <= 0:
        return (float("nan"), float("nan"))

    def bound(direction: int) -> float:
        inside, step = est, 2.0 * se
        outside = est + direction * step
        tries = 0
        while pval(outside) >= alpha:
            inside, step = outside, step * 2
            outside = est + direction * step
            tries += 1
            if tries > 60:
                return float(direction * np.inf)
        for _ in range(60):
            mid = (inside + outside) / 2
            if pval(mid) >= alpha:
                inside = mid
            else:
                outside = mid
            if abs(outside - inside) <= 1e-7 * se:
                break
        return float((inside + outside) / 2)

    return bound(-1), bound(+1)
