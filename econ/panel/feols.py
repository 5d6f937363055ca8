"""``econ.feols``: OLS with any number of absorbed fixed effects, fixest-style.

Pipeline: parse the formula -> build ``y``, ``X`` and the fixed-effect codes -> drop rows with missing (or
infinite) values, counted per column in ``notes`` -> drop singleton fixed-effect groups iteratively
(``fixef_rm="singleton"``, as pyfixest and reghdfe) -> demean ``[y, X]`` once
(:class:`econ.panel.demean.Absorber`) -> raise
:class:`~econ.errors.SpecificationError` for a regressor absorbed by the fixed effects (no within variation), naming
the effect it is constant within; ``i()`` dummies absorbed by the effects are instead dropped like collinear columns
-> drop collinear regressors in formula order (later columns go, as in fixest), with a note and a
:class:`CollinearityWarning`; absorption and collinearity follow econ's one scale- and location-invariant rule,
:func:`econ.panel.collinear.collinear_columns` (demeaned or, with only an intercept, centred columns)
-> solve the normal equations by Cholesky -> covariance (:mod:`econ.panel.vcov`).

Weights are analytic (``aweights``, fixest's ``weights=``): the fit minimises ``sum w_i u_i^2``; NaN weights drop
the row, zero weights drop the row (reported), negative or infinite weights are an error.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import cho_factor, cho_solve

from econ._validate import check_int, require_columns
from econ.errors import SpecificationError, WeightsError
from econ.panel import vcov as vc
from econ.panel.collinear import COLLIN_TOL, collinear_columns
from econ.panel.demean import Absorber, interact, single_thread_blas
from econ.panel.formula import (
    FactorTerm,
    ParsedFormula,
    column_name,
    eval_formulaic,
    factor_dummies,
    numeric_column,
    parse_formula,
)
from econ.results import Result

__all__ = ["feols", "FeolsResult", "FeolsDesign", "CollinearityWarning"]

ABSORB_TOL = COLLIN_TOL  # which single effect absorbs a regressor (for the error message), same tolerance
_ALL_FIXEF = vc.SSC(fixef_k="full")  # counts the parameters behind df_resid


class CollinearityWarning(UserWarning):
    """Regressors were dropped because they are collinear with others (or with the fixed effects)."""


@dataclass
class FeolsDesign:
    """The demeaned problem behind a fit, for code that re-uses it (DiD layer, wild bootstrap, placebo draws).

    ``y`` and ``X`` are the within-transformed outcome and kept regressors (unweighted scale), ``weights`` the
    analytic weights or None, ``absorber`` the precomputed fixed-effect structure (call ``absorber.demean`` on any
    other column of the estimation sample), ``fe_codes`` the (n, Q) codes, ``rows`` the positions of the
    estimation sample in the input data and ``index`` their labels.

    Returns
    -------
    FeolsDesign
        Not built by users: :func:`econ.feols` (:func:`econ.panel.feols`) makes one per fit and returns it as the
        ``design`` attribute of its :class:`FeolsResult`; ``did.twfe`` and ``did.event_study`` results carry it
        the same way. :meth:`sample` returns the estimation-sample
        rows of a DataFrame (a new DataFrame).

    Examples
    --------
    The design of a two-way fixed-effects fit on the bundled ``mpdta`` panel (500 counties, 2003-2007):

    >>> import econ
    >>> from econ import datasets
    >>> df = datasets.load("mpdta")
    >>> df["post"] = ((df["first.treat"] > 0) & (df["year"] >= df["first.treat"])).astype(int)
    >>> design = econ.feols("lemp ~ post | countyreal + year", df).design
    >>> design.X.shape, design.names, design.fe_names
    ((2500, 1), ['post'], ['countyreal', 'year'])
    >>> y = design.absorber.demean(design.y)  # y is already within-transformed: demeaning is idempotent
    >>> bool(abs(y - design.y).max() < 1e-8)
    True
    """

    y: np.ndarray
    X: np.ndarray
    names: list[str]
    weights: np.ndarray | None
    absorber: Absorber
    fe_codes: np.ndarray
    fe_names: list[str]
    rows: np.ndarray
    index: pd.Index
    transform: np.ndarray | None = None  # centred -> user's parametrisation (intercept and no fixed effects)

    def sample(self, data: pd.DataFrame) -> pd.DataFrame:
        """The estimation-sample rows of ``data`` (the frame that was fitted)."""
        return data.iloc[self.rows]


class FeolsResult(Result):
    """:class:`econ.results.Result` plus what a feols fit can do afterwards.

    Extra attributes: ``formula``, ``fixef`` (fixed-effect names), ``design`` (:class:`FeolsDesign`),
    ``adj_r2``, ``rmse``, ``ssc``. Methods: :meth:`with_vcov` (same fit, another covariance) and :meth:`wildboot`.

    Examples
    --------
    >>> import econ
    >>> df = econ.datasets.load("mpdta")
    >>> fit = econ.feols("lemp ~ lpop", df)
    >>> isinstance(fit, econ.Result), fit.nobs
    (True, 2500)
    """

    def __init__(self, *args, formula: str = "", fixef=(), design: FeolsDesign | None = None, data=None,
                 ssc: vc.SSC | None = None, vcov_spec=None, panel=(None, None), **kwargs):
        super().__init__(*args, **kwargs)
        self.formula = formula
        self.fixef = list(fixef)
        self.design = design
        self.ssc = ssc
        self._data = data
        self._vcov_spec = vcov_spec
        self._panel = panel

    def _column(self, name: str) -> np.ndarray:
        require_columns(self._data, [name], "vcov")
        return self._data[name].to_numpy()[self.design.rows]

    def vcov_inputs(self) -> vc.VcovInputs:
        """Scores, bread and sample facts for covariance estimators (see :class:`econ.panel.vcov.VcovInputs`)."""
        return _vcov_inputs(self.design, self.extra["resid_demeaned"], self._column, data=self._data)

    def with_vcov(self, vcov, ssc=None) -> FeolsResult:
        """The same fit with another covariance (``vcov`` / ``ssc`` as in :func:`feols`)."""
        spec = vc.parse_vcov(vcov, time=self._panel[0], unit=self._panel[1])
        cols = spec.columns()
        require_columns(self._data, cols, "vcov")
        bad = [c for c in cols if pd.isna(self._column(c)).any()]
        if bad:
            raise SpecificationError(f"vcov column(s) {bad} have missing values in the estimation sample; refit with "
                                     "that vcov so those rows are dropped")
        ssc_obj = vc.make_ssc(ssc) if ssc is not None else self.ssc
        if isinstance(spec, vc.Survey):
            miss = self.extra.get("weights_missing")
            _check_survey(spec, self._data, None if miss is None else np.isin(np.arange(len(self._data)), miss))
        out = _compute_vcov(spec, self.vcov_inputs(), ssc_obj, self.design)
        return FeolsResult(
            self.coef, out.vcov, nobs=self.nobs, df_resid=self.df_resid, df_t=out.df_t, r2=self.r2,
            r2_within=self.r2_within, fe_levels=self.fe_levels, resid=self.resid, fitted=self.fitted,
            notes=self.notes, model=self.model, depvar=self.depvar, vcov_type=out.label, cluster=out.cluster,
            n_clusters=out.n_clusters, extra={**self.extra, "ssc_factor": out.factor, "df_k": out.df_k},
            formula=self.formula, fixef=self.fixef, design=self.design, data=self._data, ssc=ssc_obj,
            vcov_spec=spec, panel=self._panel, n_units=self.n_units,
        )

    @property
    def adj_r2(self) -> float:
        """Adjusted R-squared ``1 - (1 - r2) (n - 1) / (n - K)``, with ``K`` the coefficients plus every
        fixed-effect level less one redundant level per additional fixed effect (fixest's count); NaN when
        ``n <= K``."""
        return self.extra.get("adj_r2", float("nan"))

    @property
    def rmse(self) -> float:
        """Root mean squared residual ``sqrt(sum w u^2 / sum w)`` (divisor ``n`` unweighted, no degrees-of-freedom
        correction, as fixest's ``rmse``), in the units of the outcome."""
        return self.extra.get("rmse", float("nan"))

    def wildboot(self, param: str, *, n_draws: int | None = None, multiplier: str = "rademacher", seed=0,
                 cluster: str | None = None, level: float = 0.95, r: float = 0.0, B: int | None = None,
                 weights=None, backend: str = "local", client=None):
        """Wild cluster restricted bootstrap (WCR) test of ``param = r`` and its test-inversion confidence interval.

        The method form of :func:`econ.panel.wildboot.wildboot` for this fit: use it when the clusters are few,
        where the cluster-robust t test over-rejects (Cameron, Gelbach & Miller 2008).

        Parameters
        ----------
        param : str
            The coefficient tested (a slope: the intercept of a model without fixed effects is refused).
        n_draws : int, optional
            Number of bootstrap draws (default 9999; ``B`` is an alias). With Rademacher multipliers and
            ``2^G <= n_draws`` all ``2^G`` sign vectors are enumerated instead and ``n_draws`` reports ``2^G``.
        multiplier : {"rademacher", "webb", "mammen", "normal"}
            Law of the cluster multipliers ``v_g``.
        seed : int, default 0
            Non-negative seed; draws come in blocks of 4,096 seeded from ``numpy.random.SeedSequence(seed)``.
        cluster : str, optional
            Cluster column; defaults to the fit's one-way cluster variable (``vcov={"CL1": col}``).
        level : float, default 0.95
            Confidence level of the interval.
        r : float, default 0
            Value of ``param`` under the null.
        B : int, optional
            Alias of ``n_draws`` (boottest's / wildboottest's name).
        weights : None
            Not accepted: ``weights`` means regression weights in econ; the multiplier law is ``multiplier=``.
        backend : {"local", "dask"}
            Compute the draws here or on ``dask.distributed`` workers (identical results).
        client : dask.distributed.Client or str, optional
            The client (or scheduler address) for ``backend="dask"``.

        Returns
        -------
        econ.panel.wildboot.WildBootResult
            ``estimate``, ``std_error`` (the fit's CRV1 standard error), ``t_stat``, ``p_value``, ``conf_int``,
            ``n_draws``, ``enumerated``, ``n_clusters``, ``t_boot``; ``tidy()``, ``summary()``, ``plot()``.

        Raises
        ------
        SpecificationError
            Unknown ``param`` (the coefficients are listed), the intercept, no cluster variable, fewer than 2
            clusters, a non-finite ``r``, a bad ``n_draws``/``seed``/``level``/``multiplier``, ``weights=`` given.

        Notes
        -----
        The null is imposed: with the restricted residuals ``u_r`` (``y - r x_p`` regressed on the other
        regressors, after the fixed effects are partialled out), each draw is ``y* = X_{-p} b_r + r x_p + v_g u_r``
        with one multiplier ``v_g`` per cluster, and its t statistic ``t*_b`` uses the CRV1 standard error. The
        p-value is symmetric two-sided, ``mean(|t*_b| > |t|)`` (strict inequality, as wildboottest); the interval
        is the set of ``r`` whose p-value is at least ``1 - level``, found by bisection. Fixed effects not nested in
        the clusters are treated exactly as dummies. All draws are computed at once (Roodman et al. 2019); the
        algebra is in :mod:`econ.panel.wildboot`.

        References
        ----------
        Cameron, A. C., Gelbach, J. B. and Miller, D. L. (2008). Bootstrap-based improvements for inference with
        clustered errors. *Review of Economics and Statistics* 90(3), 414-427.
        Roodman, D., MacKinnon, J. G., Nielsen, M. Ø. and Webb, M. D. (2019). Fast and wild: bootstrap inference
        in Stata using boottest. *Stata Journal* 19(1), 4-60.

        Examples
        --------
        Simulated Broadband China panel, 31 provincial clusters; the test of ``treated = -0.05``:

        >>> import econ
        >>> df = econ.datasets.load("china_cities_demo")
        >>> fit = econ.feols("log_income_ratio ~ treated | prefecture_code + year", df,
        ...                  vcov={"CL1": "province_code"})
        >>> wb = fit.wildboot("treated", n_draws=999, seed=0, r=-0.05)
        >>> wb.n_clusters, round(wb.estimate, 4), round(wb.t_stat, 2), round(wb.p_value, 3)
        (31, -0.0425, 1.68, 0.133)
        >>> [round(b, 4) for b in wb.conf_int]
        [-0.0526, -0.0332]
        """
        from econ.panel.wildboot import wildboot

        return wildboot(self, param, n_draws=n_draws, multiplier=multiplier, seed=seed, cluster=cluster,
                        level=level, r=r, B=B, weights=weights, backend=backend, client=client)


# ---------------------------------------------------------------------------------------------- helpers
def _vcov_inputs(d: FeolsDesign, u: np.ndarray, column, bread: np.ndarray | None = None,
                 data: pd.DataFrame | None = None) -> vc.VcovInputs:
    w = d.weights
    wu = u if w is None else u * w
    if bread is None:
        xtx = _weighted_gram(d.X, w)
        bread = np.linalg.inv(xtx) if xtx.size else xtx
    return vc.VcovInputs(
        X=d.X, wu=wu, bread=bread, rss=float(u @ wu), n=len(u), k=d.X.shape[1],
        fe_codes=d.fe_codes if d.fe_codes.size else None, fe_sizes=list(d.absorber.n_levels), fe_names=d.fe_names,
        column=column, data=data, rows=d.rows,
    )


def _compute_vcov(spec, inp: vc.VcovInputs, ssc, design: FeolsDesign):
    """The covariance of ``spec``, mapped from the centred parametrisation back to the user's when needed."""
    out = spec.compute(inp, ssc)
    T = design.transform
    if T is not None:
        out.vcov = T @ out.vcov @ T.T
    return out


def _weighted_mean(A: np.ndarray, w) -> np.ndarray:
    """Column means (weighted), computed around the first row for accuracy."""
    B = A - A[:1]
    return A[0] + (B.mean(axis=0) if w is None else (w @ B) / w.sum())


_MAX_ABS = 1e100  # squares of larger values overflow the sums of squares behind every standard error


def _check_magnitude(M: np.ndarray, labels) -> None:
    """Refuse columns whose squares would overflow (or underflow) float64: a silent inf or 0 SE otherwise."""
    mags = np.maximum(M.max(axis=0), -M.min(axis=0)) if M.shape[0] else np.zeros(M.shape[1])  # max |value|
    bad = [f"{lab!r} (largest |value| {m:.3g})" for lab, m in zip(labels, mags)
           if m > _MAX_ABS or 0 < m < 1 / _MAX_ABS]
    if bad:
        raise SpecificationError(
            f"column(s) {', '.join(bad)} are too large or too small for float64 least squares (their squares "
            f"leave the range of float64 and standard errors would be inf or 0): rescale them, e.g. divide by a "
            f"power of ten, so that values lie within 1e-100 .. 1e100"
        )


def _weighted_gram(A: np.ndarray, w) -> np.ndarray:
    """A' W A (one BLAS call)."""
    g = A.T @ (A if w is None else A * w[:, None])
    return (g + g.T) / 2


def _drop_singletons(codes: np.ndarray) -> np.ndarray:
    """Boolean mask of rows kept after iteratively removing fixed-effect groups of size one."""
    keep = np.ones(codes.shape[0], dtype=bool)
    idx = np.arange(codes.shape[0])
    changed = True
    while changed:
        changed = False
        for j in range(codes.shape[1]):
            c = codes[idx, j]
            single = np.bincount(c)[c] == 1
            if single.any():
                keep[idx[single]] = False
                idx = idx[~single]
                changed = True
    return keep


def _short(names, k: int = 8) -> str:
    names = list(names)
    return ", ".join(map(str, names[:k])) + (f" (+{len(names) - k} more)" if len(names) > k else "")


# ---------------------------------------------------------------------------------------------- main
def feols(
    formula: str,
    data: pd.DataFrame,
    *,
    vcov="iid",
    weights=None,
    ssc=None,
    fixef_rm: str = "singleton",
    time: str | None = None,
    unit: str | None = None,
    fixef_tol: float = 1e-10,
    fixef_maxiter: int = 100_000,
) -> FeolsResult:
    """Least squares with absorbed fixed effects, fixest syntax: ``feols("y ~ x1 + x2 | unit + year", df)``.

    Parameters
    ----------
    formula : str
        ``y ~ x1 + x2 + i(var, ref=r) | fe1 + fe2 + a^b`` (see :mod:`econ.panel.formula`). Without a ``|`` part
        the model has an intercept (named ``Intercept``).
    data : pandas.DataFrame
        Never modified.
    vcov : str or dict
        ``"iid"`` (default), ``"hetero"``, ``{"CL1": col}``, ``{"CL2": (a, b)}``, ``{"DK": lag, "time": col}``,
        ``{"conley": {"lat": .., "lon": .., "cutoff_km": .., "lag": 0, "kernel": "uniform"}}``
        (see :mod:`econ.panel.vcov`, which also states every small-sample factor), or a survey design
        ``{"survey": {"strata": .., "psu": .., "fpc": .., "nest": False, "lonely_psu": "fail"}}`` (or an
        :class:`econ.survey.SurveyDesign`): the Taylor-linearised design-based variance of R ``survey``'s
        ``svyglm`` (strata and PSUs counted on the whole of ``data``, no ``ssc`` factor, t tests with PSUs minus
        strata degrees of freedom); the sampling weights go to ``weights``.
    weights : str, Series or array, optional
        Analytic weights: a column name, a Series aligned with ``data`` by index label (its labels must be exactly
        those of ``data``), or an array in the row order of ``data``. Infinite or negative weights are an error.
    ssc : None, "fixest", "stata", "none", dict or SSC
        Small-sample corrections (default fixest's).
    fixef_rm : {"singleton", "none"}
        Drop observations in singleton fixed-effect groups, iteratively (the default of pyfixest and Stata's
        reghdfe), or keep them (``"none"``: R fixest's default for ``feols``, whose ``fixef.rm = "perfect"`` only
        concerns GLMs). Singletons never move the coefficients; they change ``n`` and ``K`` and so the
        small-sample factors slightly.
    time, unit : str, optional
        Panel columns used by Driscoll-Kraay / Conley covariances when their spec does not name them.
    fixef_tol, fixef_maxiter :
        Tolerance and iteration cap of the demeaning solver (used only for very large fixed-effect systems).

    Returns
    -------
    FeolsResult
        Coefficients are named after the formula terms; ``i()`` dummies are named ``var::level`` (fixest).

    Raises
    ------
    SpecificationError
        Unknown columns (named, with close matches), non-numeric regressors, a regressor absorbed by the fixed
        effects, bad weights, values whose squares overflow float64 (``|x| > 1e100``: rescale), bad options; for a
        survey design, missing strata/PSU values (naming rows), a PSU in two strata without ``nest=True`` (naming
        both), single-PSU strata with ``lonely_psu="fail"``, an fpc smaller than the sampled PSUs.
    WeightsError
        A missing weight together with a survey design (without one, a missing weight drops its row).

    Notes
    -----
    Least squares after the within transformation (Frisch-Waugh-Lovell): with ``~`` the residual of a column on
    all the fixed-effect dummies (weighted by the analytic weights ``w``, :mod:`econ.panel.demean`),

        ``b = (X~' W X~)^{-1} X~' W y~``,  residuals ``u = y~ - X~ b``,

    and ``vcov`` a sandwich ``c * B M B`` with ``B = (X~' W X~)^{-1}`` whose meat and small-sample factor ``c``
    are fixest's (:mod:`econ.panel.vcov` states each one). With the default ``ssc``: iid ``s^2 = sum w u^2 /
    (n - K)``; hetero ``n / (n - K)``; one-way clustered ``(n - 1) / (n - K) * G / (G - 1)``, where a fixed effect
    nested in the clusters counts as one parameter in ``K`` instead of its number of levels; t tests with ``G - 1`` degrees of freedom when clustered
    (``min(G) - 1`` two-way, ``T - 1`` Driscoll-Kraay), ``n - K`` otherwise.

    Sample: rows with a missing value in any used column (outcome, regressors, fixed effects, weights, vcov
    columns) and rows with zero weight are dropped, then singleton fixed-effect groups iteratively (pyfixest's and
    reghdfe's default; R fixest keeps them); each drop is counted in ``notes``. A regressor named in the formula that the fixed effects absorb
    is an error; absorbed ``i()`` dummies and collinear regressors are dropped (later columns first, fixest's
    ``collin.tol`` = 1e-10) with a ``CollinearityWarning``, following
    :func:`econ.panel.collinear.collinear_columns`. With an intercept and no fixed effects the fit is computed on
    centred columns and mapped back (``b0 = ybar - xbar'b``, ``V = T V_c T'``), so an offset such as
    ``x + 1e5`` changes neither the slopes nor their standard errors.

    References
    ----------
    Frisch, R. and Waugh, F. V. (1933). Partial time regressions as compared with individual trends.
    *Econometrica* 1(4), 387-401.
    Lovell, M. C. (1963). Seasonal adjustment of economic time series and multiple regression analysis.
    *Journal of the American Statistical Association* 58(304), 993-1010.
    Cameron, A. C., Gelbach, J. B. and Miller, D. L. (2011). Robust inference with multiway clustering.
    *Journal of Business & Economic Statistics* 29(2), 238-249.
    Bergé, L. (2018). Efficient estimation of maximum likelihood models with multiple fixed-effects: the R
    package FENmlm. *CREA Discussion Papers* 13.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(30), 5), "year": np.tile(np.arange(2010, 2015), 30)})
    >>> df["x"] = rng.normal(size=150)
    >>> df["y"] = 2 * df.x + rng.normal(size=150)
    >>> res = feols("y ~ x | unit + year", df, vcov={"CL1": "unit"})
    >>> bool(abs(res.coef["x"] - 2) < 3 * res.se["x"])
    True
    """
    with single_thread_blas():  # see econ.panel.demean.single_thread_blas
        return _fit(formula, data, vcov, weights, ssc, fixef_rm, time, unit, fixef_tol, fixef_maxiter)


def _all_singletons(codes: np.ndarray, fe_names) -> str:
    """The message when dropping singletons leaves nothing: which fixed effect has one observation per group."""
    n = codes.shape[0]
    sizes = {name: np.bincount(np.unique(codes[:, k], return_inverse=True)[1]) for k, name in enumerate(fe_names)}
    single = {name: int((s == 1).sum()) for name, s in sizes.items()}
    every = [name for name, s in sizes.items() if (s == 1).all()]
    if every:
        what = (f"fixed effect {every[0]!r} has one observation per group ({len(sizes[every[0]])} groups for {n} "
                "observations)" if len(every) == 1 else
                f"fixed effects {every} each have one observation per group ({n} observations)")
    else:
        what = ("removing the singleton groups one after another removed every observation (singleton groups: "
                + ", ".join(f"{name!r} {k}" for name, k in single.items()) + ")")
    return (f"no observations left after dropping singleton fixed-effect groups: {what}. A group with one "
            "observation is fitted exactly by its own fixed effect and says nothing about the slopes; remove that "
            "fixed effect from the formula (or absorb a coarser one), or pass fixef_rm='none' to keep the singletons")


def _fit(formula, data, vcov, weights, ssc, fixef_rm, time, unit, fixef_tol, fixef_maxiter) -> FeolsResult:
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if isinstance(fixef_tol, bool) or not isinstance(fixef_tol, (int, float)) or not 0 < fixef_tol < 1:
        raise SpecificationError(f"fixef_tol must be a number in (0, 1), got {fixef_tol!r}")
    check_int(fixef_maxiter, "fixef_maxiter", minimum=1)
    if fixef_rm not in ("singleton", "none"):
        raise SpecificationError(f"fixef_rm must be 'singleton' or 'none', got {fixef_rm!r}")
    if len(data) == 0:
        raise SpecificationError("data has no rows")
    parsed = parse_formula(formula)
    spec = vc.parse_vcov(vcov, time=time, unit=unit)
    ssc_obj = vc.make_ssc(ssc)
    require_columns(data, parsed.variable_columns(), "regressor/outcome")
    require_columns(data, parsed.fixef_columns(), "fixed-effect")
    require_columns(data, spec.columns(), "vcov")

    n_all = len(data)
    y, y_missing = _outcome(parsed, data)
    blocks, names, plain, missing = _regressors(parsed, data)
    fe_codes, fe_missing = _fixef_codes(parsed, data)
    w, w_missing, w_zero = _weights(weights, data)
    if isinstance(spec, vc.Survey):
        _check_survey(spec, data, w_missing)

    miss = {parsed.lhs: y_missing, **missing}
    for name, m in fe_missing.items():
        miss[f"fixed effect {name}"] = m
    if w_missing is not None:
        miss["weights"] = w_missing
    for c in spec.columns():
        miss[f"vcov column {c}"] = pd.isna(data[c]).to_numpy()
    bad = np.zeros(n_all, dtype=bool)
    for m in miss.values():
        bad |= m
    notes: list[str] = []
    if bad.any():
        detail = ", ".join(f"{k}: {int(m.sum())}" for k, m in miss.items() if m.any())
        notes.append(f"{int(bad.sum())} observation(s) dropped for missing values ({detail})")
    if w_zero is not None and (w_zero & ~bad).any():
        notes.append(f"{int((w_zero & ~bad).sum())} observation(s) with zero weight dropped")
        bad |= w_zero
    rows = np.flatnonzero(~bad)
    if rows.size == 0:
        raise SpecificationError(f"no observations left after dropping rows with missing values ({notes[0]})")

    codes = fe_codes[rows] if rows.size < n_all else fe_codes
    if codes.shape[1] and fixef_rm == "singleton":
        before, keep = codes, _drop_singletons(codes)
        if not keep.all():
            notes.append(f"{int((~keep).sum())} singleton observation(s) dropped (fixed-effect groups of size one, "
                         "removed iteratively)")
            rows, codes = rows[keep], codes[keep]
        if rows.size == 0:
            raise SpecificationError(_all_singletons(before, parsed.fixef_names))

    # [y, X] on the estimation sample as one C-ordered matrix: one demeaning call, one Gram matrix
    full = rows.size == n_all
    yv = y if full else y[rows]
    M = np.empty((rows.size, 1 + len(names)))
    M[:, 0] = yv
    col = 1
    for blk in blocks:
        M[:, col:col + blk.shape[1]] = blk if full else blk[rows]
        col += blk.shape[1]
    del blocks
    wv = None if w is None else (w if full else w[rows])
    absorber = Absorber(codes, weights=wv, tol=fixef_tol, maxiter=fixef_maxiter)
    fe_names = parsed.fixef_names
    _check_magnitude(M, [parsed.lhs, *names])
    # with an intercept and no fixed effects, fit on centred columns (x and x + 1e5 give the same slope, to
    # rounding) and map the intercept back: b0 = ybar - xbar'b, V = T V_c T' (every covariance is equivariant)
    center = parsed.intercept and not fe_names
    shift = _weighted_mean(M, wv) if center else None
    if center:
        shift[1] = 0.0  # the intercept column stays a column of ones
        both = M - shift
    else:
        both = absorber.demean(M)
    gram = _weighted_gram(both, wv)

    kept, drop_notes = _select_columns(M, both[:, 1:], wv, names, plain, codes=codes, fe_names=fe_names,
                                       intercept=parsed.intercept)
    notes += drop_notes
    del M
    names = [nm for nm, k in zip(names, kept) if k]
    idx = np.flatnonzero(kept)
    Xd = both[:, 1:] if kept.all() else both[:, 1 + idx]
    yd = both[:, 0]

    n = rows.size
    xtx = gram[np.ix_(1 + idx, 1 + idx)]
    if names:
        c = cho_factor(xtx)
        beta = cho_solve(c, gram[1 + idx, 0])
        bread = cho_solve(c, np.eye(len(names)))
    else:
        beta, bread = np.zeros(0), np.zeros((0, 0))
    u = yd - Xd @ beta
    transform = None
    if center:
        transform = np.eye(len(names))
        transform[0, 1:] = -shift[1 + idx[1:]]
        beta = transform @ beta
        beta[0] += shift[0]
    design = FeolsDesign(y=yd, X=Xd, names=names, weights=wv, absorber=absorber, fe_codes=absorber.codes,
                         fe_names=fe_names, rows=rows, index=data.index[rows] if not full else data.index,
                         transform=transform)

    def column(name: str) -> np.ndarray:
        arr = data[name].to_numpy()
        return arr if full else arr[rows]

    inp = _vcov_inputs(design, u, column, bread=bread, data=data)
    out = _compute_vcov(spec, inp, ssc_obj, design)
    # every fixed-effect level counted, less one redundant level per extra effect (fixest's count)
    k_total = inp.df_k(_ALL_FIXEF)
    df_resid = n - k_total
    if df_resid <= 0:
        notes.append("no residual degrees of freedom: standard errors are not defined")

    rss = inp.rss
    sum_w = float(n if wv is None else wv.sum())
    if fe_names or parsed.intercept:
        ybar = float(yv.mean() if wv is None else wv @ yv / sum_w)
        dev = yv - ybar
        tss = float(dev @ dev if wv is None else wv @ dev**2)
    else:
        tss = float(yv @ yv if wv is None else wv @ yv**2)
    r2 = 1 - rss / tss if tss > 0 else float("nan")
    tss_w = float(gram[0, 0])
    r2_within = (1 - rss / tss_w if tss_w > 0 else float("nan")) if fe_names else float("nan")
    adj_r2 = 1 - (1 - r2) * (n - 1) / (n - k_total) if n > k_total and np.isfinite(r2) else float("nan")
    fitted = yv - u

    coef = pd.Series(beta, index=names, dtype=float)
    fe_levels = dict(zip(fe_names, absorber.n_levels))
    model = "OLS with fixed effects (feols)" if fe_names else "OLS (feols)"
    if wv is not None:
        model += ", weighted"
    return FeolsResult(
        coef, out.vcov, nobs=n, df_resid=df_resid, df_t=out.df_t, r2=r2, r2_within=r2_within,
        fe_levels=fe_levels, resid=pd.Series(u, index=design.index, name="resid"),
        fitted=pd.Series(fitted, index=design.index, name="fitted"), notes=notes, model=model,
        depvar=column_name(parsed.lhs) or parsed.lhs,
        vcov_type=out.label, cluster=out.cluster, n_clusters=out.n_clusters,
        extra={"adj_r2": adj_r2, "rmse": float(np.sqrt(rss / sum_w)), "ssc_factor": out.factor, "df_k": out.df_k,
               "resid_demeaned": u, "n_dropped": n_all - n, "demean_method": absorber.method,
               "weights_missing": None if w_missing is None else np.flatnonzero(w_missing)},
        formula=formula, fixef=fe_names, design=design, data=data, ssc=ssc_obj, vcov_spec=spec, panel=(time, unit),
        n_units=_count_units(data, design.index, unit, fe_names, absorber.n_levels),
    )


def _count_units(data, index, unit, fe_names, n_levels):
    """Units in the estimation sample: distinct values of ``unit`` (when given) on the rows used, else the levels of
    the first fixed effect (the unit in ``y ~ x | unit + time``), else ``None``."""
    if unit is not None and unit in data:
        return int(data.loc[index, unit].nunique())
    return int(n_levels[0]) if fe_names else None


# ---------------------------------------------------------------------------------------------- building blocks
def _outcome(parsed: ParsedFormula, data: pd.DataFrame):
    if column_name(parsed.lhs) in data.columns:
        y = numeric_column(data, column_name(parsed.lhs), "dependent variable")
    else:
        mm = eval_formulaic(parsed.lhs, data, intercept_encoding=False)
        if mm.shape[1] != 1:
            raise SpecificationError(f"dependent variable {parsed.lhs!r} must evaluate to one numeric column")
        y = mm.iloc[:, 0].to_numpy(dtype=float)
        y = np.where(np.isinf(y), np.nan, y)
        if np.all(np.isnan(y)):
            raise SpecificationError(f"dependent variable {parsed.lhs!r} has no non-missing values")
    return y, np.isnan(y)


def _regressors(parsed: ParsedFormula, data: pd.DataFrame):
    """Columns in formula order: (list of (n, j) blocks, names, plain-flags, {label: missing mask})."""
    n = len(data)
    blocks, names, plain, missing = [], [], [], {}
    if parsed.intercept:
        blocks.append(np.ones((n, 1)))
        names.append("Intercept")
        plain.append(False)
    for t in parsed.terms:
        if isinstance(t, FactorTerm):
            mat, nm, miss = factor_dummies(t, data)
            blocks.append(mat)
            names += nm
            plain += [False] * len(nm)
            missing[t.text] = miss
        elif column_name(t) is not None:
            t = column_name(t)
            col = numeric_column(data, t, "regressor")
            blocks.append(col[:, None])
            names.append(t)
            plain.append(True)
            missing[t] = np.isnan(col)
        else:
            mm = eval_formulaic(t, data)
            arr = mm.to_numpy(dtype=float)
            arr = np.where(np.isinf(arr), np.nan, arr)
            for j, c in enumerate(mm.columns):
                if np.all(np.isnan(arr[:, j])):
                    raise SpecificationError(f"regressor {c!r} (from {t!r}) has no non-missing values")
            blocks.append(arr)
            names += [str(c) for c in mm.columns]
            plain += [True] * arr.shape[1]
            missing[t] = np.isnan(arr).any(axis=1)
    if len(set(names)) < len(names):  # "x1 + x1*x2" names x1 twice: keep the first, like R's formula terms
        seen: set[str] = set()
        out_blocks, out_names, out_plain, start = [], [], [], 0
        for blk in blocks:
            cols = [j for j in range(blk.shape[1]) if names[start + j] not in seen]
            for j in cols:
                seen.add(names[start + j])
                out_names.append(names[start + j])
                out_plain.append(plain[start + j])
            if cols:
                out_blocks.append(blk[:, cols] if len(cols) < blk.shape[1] else blk)
            start += blk.shape[1]
        blocks, names, plain = out_blocks, out_names, out_plain
    return blocks, names, plain, missing


def _fixef_codes(parsed: ParsedFormula, data: pd.DataFrame):
    cols, missing = [], {}
    for parts, name in zip(parsed.fixef, parsed.fixef_names):
        codes = [pd.factorize(data[p])[0].astype(np.int64) for p in parts]
        c = codes[0] if len(codes) == 1 else interact(*codes)
        cols.append(c)
        missing[name] = c < 0
    codes = np.column_stack(cols) if cols else np.zeros((len(data), 0), dtype=np.int64)
    return codes, missing


def _weights(weights, data: pd.DataFrame):
    if weights is None:
        return None, None, None
    if isinstance(weights, str):
        require_columns(data, [weights], "weights")
        col = data[weights]
        if not pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_bool_dtype(col.dtype):
            raise SpecificationError(f"weights column {weights!r} is not numeric (dtype {col.dtype})")
        w = col.to_numpy(dtype=float, na_value=np.nan)  # inf kept: an error below, not a missing value
        label = f"weights column {weights!r}"
    else:
        label = "weights"
        if isinstance(weights, pd.Series):  # aligned by index label, never by position
            if not weights.index.is_unique or not data.index.is_unique:
                raise SpecificationError("weights given as a Series need unique index labels in both the Series "
                                         "and data (they are aligned by label)")
            extra, absent = weights.index.difference(data.index), data.index.difference(weights.index)
            if len(extra) or len(absent):
                raise SpecificationError(
                    f"the weights Series is aligned with data by index label, but {len(absent)} row label(s) of "
                    f"data are not in it (first {list(absent[:5])}) and {len(extra)} of its labels are not in data "
                    f"(first {list(extra[:5])}); pass a Series indexed like data, a column name or an array"
                )
            weights = weights.reindex(data.index)
        elif isinstance(weights, (pd.DataFrame, dict, set, str, bytes)) or np.ndim(weights) not in (1, 2):
            raise SpecificationError(f"weights must be a column name, a Series or a 1-d array, got "
                                     f"{type(weights).__name__}")
        try:
            w = np.asarray(weights, dtype=float).reshape(-1)
        except (TypeError, ValueError) as err:
            raise SpecificationError(f"weights must be numeric: {err}") from None
        if w.shape[0] != len(data):
            raise SpecificationError(f"weights has {w.shape[0]} values but data has {len(data)} rows")
    if np.isinf(w).any():
        raise SpecificationError(f"{label} has infinite values (rows {np.flatnonzero(np.isinf(w))[:5].tolist()})")
    nan = np.isnan(w)
    if (w[~nan] < 0).any():
        rows = np.flatnonzero(~nan & (np.nan_to_num(w) < 0))
        raise SpecificationError(f"{label} must be positive; negative at rows {rows[:5].tolist()}")
    zero = ~nan & (np.nan_to_num(w) == 0)
    return np.where(nan | zero, 1.0, w), nan, zero


def _check_survey(spec, data: pd.DataFrame, w_missing) -> None:
    """A survey design is validated on the whole input before the fit; a missing sampling weight is an error."""
    if w_missing is not None and w_missing.any():
        raise WeightsError(f"weights have {int(w_missing.sum())} missing value(s) (first rows "
                           f"{data.index[w_missing][:5].tolist()}): with a survey design every sampled row needs its "
                           "sampling weight (give 0 to keep a row out of the estimate)")
    spec.design.resolve(data, who="vcov survey design")


def _absorbed_by(x: np.ndarray, w: np.ndarray, codes: np.ndarray, fe_names: list[str]) -> str:
    """Which single fixed effect ``x`` is constant within (else: all of them jointly)."""
    raw = w @ (x - (w @ x) / w.sum()) ** 2
    for j, name in enumerate(fe_names):
        c = codes[:, j]
        means = np.bincount(c, weights=w * x) / np.bincount(c, weights=w)
        if w @ (x - means[c]) ** 2 <= ABSORB_TOL * raw:
            return name
    return " + ".join(fe_names) + " (jointly)"


def _select_columns(M: np.ndarray, Xd: np.ndarray, w, names, plain, codes, fe_names, intercept: bool):
    """Reject plain regressors absorbed by the fixed effects; drop collinear columns (note + warning).

    One rule, :func:`econ.panel.collinear.collinear_columns`: ``M`` holds [y, X] before demeaning, ``Xd`` the
    demeaned X. Without fixed effects, a model with an intercept is checked on centred columns.
    """
    k = len(names)
    keep = np.ones(k, dtype=bool)
    notes: list[str] = []
    if k == 0:
        return keep, notes
    if fe_names:
        absorbed, kept = collinear_columns(Xd, M[:, 1:], weights=w)
        bad = [j for j, (a, p) in enumerate(zip(absorbed, plain)) if a and p]
        if bad:
            ww = np.ones(M.shape[0]) if w is None else w
            what = "; ".join(f"{names[j]!r} is constant within {_absorbed_by(M[:, 1 + j], ww, codes, fe_names)}"
                             for j in bad)
            raise SpecificationError(
                f"regressor(s) {[names[j] for j in bad]} have no within variation and are absorbed by the fixed "
                f"effects ({what}); remove them from the formula"
            )
        if absorbed.any():
            gone = [nm for nm, a in zip(names, absorbed) if a]
            msg = f"{len(gone)} regressor(s) collinear with the fixed effects dropped: {_short(gone)}"
            notes.append(msg)
            warnings.warn(msg, CollinearityWarning, stacklevel=4)
    else:
        first = 1 if intercept else 0  # the intercept is column 0 and always kept
        absorbed, kept = collinear_columns(Xd[:, first:], weights=w, center=intercept)
        absorbed = np.r_[np.zeros(first, dtype=bool), absorbed]
        kept = np.r_[np.ones(first, dtype=bool), kept]
    keep &= kept
    gone = [nm for nm, a, kp in zip(names, absorbed, kept) if not kp and not (a and fe_names)]
    if gone:
        msg = f"{len(gone)} collinear regressor(s) dropped: {_short(gone)}"
        notes.append(msg)
        warnings.warn(msg, CollinearityWarning, stacklevel=4)
    if not keep.any() and k:
        raise SpecificationError(f"every regressor was dropped as collinear ({_short(names)})")
    return keep, notes
