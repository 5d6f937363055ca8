"""Hansen's (1999) fixed-effects panel threshold regression: :func:`threshold` and :class:`ThresholdResult`.

    from econ.panel import threshold
    res = threshold(df, "i", "id", "year", rx="c1", qx="d1", covariates=["q1", "q2", "q3", "d1", "qd1"],
                    n_thresholds=2, grid=393, n_draws=300)
    res.summary(); res.tests; res.thresholds; res.tidy(); res.plot()

Arguments follow the package vocabulary (``data, y, unit, time`` then keywords; ``covariates`` are the
regime-independent regressors) with Stata ``xthreg``'s names for the two threshold-specific roles: ``rx`` (the
regime-dependent regressors) and ``qx`` (the threshold variable). ``xthreg y x1 x2, rx(z) qx(q) thnum(2)`` is
``threshold(df, "y", unit, time, rx="z", qx="q", covariates=["x1", "x2"], n_thresholds=2)``.

The search runs on the within-transformed data (:class:`econ.panel.demean.Absorber`); the numpy core is
:mod:`econ.panel._threshold_core`. The final regression (slopes and their covariance) is :func:`econ.panel.feols`
on the regime-split regressors with the thresholds held at their estimates, so ``vcov`` takes every covariance
the engine knows (``"iid"`` as Stata's ``xtreg, fe``; ``{"CL1": unit}`` clustered).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ import _validate as v
from econ._docs import doc
from econ._tidy import standard_columns
from econ.errors import PanelError, SpecificationError
from econ.io import validate_panel
from econ.panel import _threshold_core as core
from econ.panel.demean import Absorber, factorize, single_thread_blas
from econ.panel.vcov import parse_vcov
from econ.results import Result

__all__ = ["threshold", "ThresholdResult", "lr_critical_value"]


@doc()
def lr_critical_value(level: float = 0.95) -> float:
    """Hansen's (2000) asymptotic critical value of the likelihood-ratio statistic for a threshold.

    Parameters
    ----------
    level : float, default 0.95
        Confidence level ``1 - alpha``.

    Returns
    -------
    float
        ``c(alpha) = -2 ln(1 - sqrt(1 - alpha))`` (7.35 at 95%, 10.59 at 99%).

    {level_raises}

    Examples
    --------
    >>> round(lr_critical_value(0.95), 2), round(lr_critical_value(0.90), 2)
    (7.35, 5.94)
    """
    level = v.check_real(level, "level", low=0.0, high=1.0)
    if not 0 < level < 1:
        raise SpecificationError(f"level must be strictly between 0 and 1, got {level}")
    return float(-2.0 * np.log(1.0 - np.sqrt(level)))


def _as_list(x, name):
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    try:
        out = list(x)
    except TypeError:
        raise SpecificationError(f"{name} must be a column name or a list of column names, got {x!r}") from None
    for c in out:
        v.check_column_name(c, name)
    return out


def _per_threshold(value, m, name, check):
    vals = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value] * m
    if len(vals) != m:
        raise SpecificationError(f"{name} needs one value per threshold ({m}), got {len(vals)}: {value!r}")
    return [check(x) for x in vals]


class ThresholdResult(Result):
    """Result of :func:`threshold`: regime slopes (an :class:`econ.results.Result`), thresholds with LR intervals,
    bootstrap tests of their number.

    The coefficients, covariance, ``nobs`` (rows), ``n_units``, ``tidy()`` and ``econ.etable`` support are those
    of the final fixed-effects regression (thresholds held at their estimates); regime-dependent terms are named
    ``z[q<=g1]``, ``z[g1<q<=g2]``, ..., ``z[q>gm]``.

    Attributes
    ----------
    thresholds : pandas.DataFrame
        One row per threshold of the chosen model (``threshold``, ``conf_low``, ``conf_high``, ``stage``).
    stages : pandas.DataFrame
        Every threshold estimated on the way (as xthreg's ``Th-1``, ``Th-21``, ``Th-22``, ``Th-3``).
    tests : pandas.DataFrame
        For each number of thresholds ``k = 1..m``: ``ssr``, ``mse``, ``F``, bootstrap ``p_value`` and critical
        values at 10, 5 and 1 per cent (H0: ``k - 1`` thresholds).
    regression : econ.panel.FeolsResult
        The fixed-effects regression with the thresholds held at their estimates (``with_vcov``, ``wildboot``).
    lr : dict
        Stage name -> DataFrame (``threshold``, ``lr``) of the likelihood-ratio curve of that search.
    nobs, n_units : int
        Rows and units of the (balanced) panel.
    notes : list of str

    Examples
    --------
    See :func:`threshold`.
    """

    def __init__(self, *, thresholds, stages, tests, regression, lr, level, notes, boot_F, info):
        reg = regression
        super().__init__(reg.coef, reg.vcov, nobs=reg.nobs, df_resid=reg.df_resid, df_t=reg.df_t, r2=reg.r2,
                         r2_within=reg.r2_within, fe_levels=reg.fe_levels, resid=reg.resid, fitted=reg.fitted,
                         notes=list(reg.notes) + list(notes), model="Panel threshold (Hansen 1999)",
                         depvar=reg.depvar, vcov_type=reg.vcov_type, cluster=reg.cluster,
                         n_clusters=reg.n_clusters, n_units=info["n_units"])
        self.thresholds = thresholds
        self.stages = stages
        self.tests = tests
        self.regression = regression
        self.lr = lr
        self.level = level
        self.boot_F = boot_F
        self.info = info

    @doc()
    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """Slopes of the final regression: ``term, estimate, std_error, p_value, conf_low, conf_high`` first, then
        ``statistic``, ``variable`` (the regressor) and ``regime`` (``"q<=0.3"``, ...; ``"all"`` for the
        regime-independent covariates).

        {level_parameters}

        Returns
        -------
        pandas.DataFrame
            One row per slope.

        Examples
        --------
        See :func:`threshold`.
        """
        out = standard_columns(super().tidy(level))
        regimes = self.info.get("regimes", {})
        out["variable"] = [regimes.get(t, (t, "all"))[0] for t in out["term"]]
        out["regime"] = [regimes.get(t, (t, "all"))[1] for t in out["term"]]
        return out

    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        """Threshold estimates, the bootstrap tests of their number, then the regression table.

        Parameters
        ----------
        level : float in (0, 1), default 0.95
            Coverage of the slopes' intervals (the thresholds' LR intervals use the ``level`` of the fit).
        digits : int, default 4

        Returns
        -------
        str
        """
        f = f"{{:.{digits}f}}"
        info = self.info
        lines = [f"Fixed-effects panel threshold regression (Hansen 1999): {info['depvar']} on {info['n_units']} "
                 f"units x {info['n_periods']} periods ({self.nobs} rows)",
                 f"threshold variable {info['qx']}; regime-dependent {', '.join(info['rx'])}; "
                 f"{info['search']}", "",
                 f"Threshold estimates ({self.level:.0%} LR confidence intervals, c = "
                 f"{lr_critical_value(self.level):.2f}):"]
        for _, r in self.stages.iterrows():
            lines.append(f"  {r['stage']:<6} {f.format(r['threshold'])}  [{f.format(r['conf_low'])}, "
                         f"{f.format(r['conf_high'])}]")
        if len(self.tests):
            lines += ["", "Tests of the number of thresholds (bootstrap, H0: one fewer):",
                      "  k        SSR        MSE          F   p-value    crit10     crit5     crit1   draws"]
            for _, r in self.tests.iterrows():
                lines.append(f"  {int(r['k'])}  {r['ssr']:9.4f}  {r['mse']:9.6f}  {r['F']:9.2f}  "
                             f"{r['p_value']:8.4f}  {r['crit10']:8.3f}  {r['crit5']:8.3f}  {r['crit1']:8.3f}  "
                             f"{int(r['n_draws']):6d}")
        lines += ["", self.regression.summary(level=level, digits=digits)]
        lines += [f"Note: {n}" for n in self.notes if n not in self.regression.notes]
        return "\n".join(lines)

    @doc()
    def plot(self, ax=None, path=None, *, stage: str | None = None):
        """The likelihood-ratio statistic against the candidate threshold, with the critical value ``c(alpha)``.

        Parameters
        ----------
        {ax}
        {path}
        stage : str, optional
            ``"Th-1"`` (single-threshold search), ``"Th-21"`` (refined first of two), ``"Th-22"``, ``"Th-3"``;
            default: every stage of the chosen model.

        {plot_returns}

        Raises
        ------
        SpecificationError
            An unknown ``stage``.
        """
        from econ.results import figure, finish_figure

        stages = [stage] if stage is not None else list(self.thresholds["stage"])
        for s in stages:
            if s not in self.lr:
                raise SpecificationError(f"stage {s!r} unknown; available: {sorted(self.lr)}")
        fig, ax = figure(ax)
        for s in stages:
            d = self.lr[s]
            ax.plot(d["threshold"], d["lr"], lw=1, label=s)
        ax.axhline(lr_critical_value(self.level), color="k", ls="--", lw=0.8,
                   label=f"c = {lr_critical_value(self.level):.2f} ({self.level:.0%})")
        ax.set_xlabel(f"threshold ({self.info['qx']})")
        ax.set_ylabel("LR statistic")
        ax.legend(frameon=False)
        return finish_figure(fig, ax, path)


def _grid_values(qs: np.ndarray, trim: float, grid):
    n = len(qs)
    if grid is None:
        lo, hi = int(np.ceil(trim * n)), n - int(np.ceil(trim * n))
        vals = np.unique(qs[max(lo - 1, 0):hi])
    else:
        p = np.linspace(trim, 1 - trim, grid)
        idx = np.clip(np.ceil(p * n).astype(int) - 1, 0, n - 1)
        vals = np.unique(qs[idx])
    return vals


def threshold(data: pd.DataFrame, y: str, unit: str, time: str, *, rx, qx: str, covariates=(),
              n_thresholds: int = 1, trim=0.01, grid: int | None = 300, n_draws=300, seed=0, level: float = 0.95,
              vcov="iid", refine: bool = True) -> ThresholdResult:
    """Hansen's (1999) fixed-effects panel threshold regression with 1-3 thresholds (Stata's ``xthreg``).

    ``y_it = mu_i + x_it' b + z_it' d_1 1{q_it <= g_1} + z_it' d_2 1{g_1 < q_it <= g_2} + ... + e_it``.

    Parameters
    ----------
    data : pandas.DataFrame
        A balanced panel (never modified). Unbalanced panels are refused: Hansen's estimator, its bootstrap (which
        resamples whole units) and xthreg need every unit observed in every period.
    y : str
        Outcome column.
    unit, time : str
        Panel keys (unit fixed effects are absorbed).
    rx : str or list of str
        Regime-dependent regressors (``z``; xthreg's ``rx()``).
    qx : str
        Threshold variable (``q``; xthreg's ``qx()``); it may also appear in ``covariates`` or ``rx``.
    covariates : str or list of str, optional
        Regime-independent regressors (``x``; xthreg's varlist after the outcome).
    n_thresholds : {1, 2, 3}
        Number of thresholds estimated (and tested: one bootstrap test per threshold).
    trim : float or list of float, default 0.01
        Trimming per threshold: the k-th threshold is searched among candidates with at least ``ceil(trim_k n)``
        observations below and above it and between it and every threshold already found (Hansen 1999).
    grid : int or None, default 300
        Number of candidate quantiles of ``q`` between ``trim`` and ``1 - trim`` (xthreg's ``grid()``; Hansen
        1999 used the 393 quantiles 1%, 1.25%, ..., 99%, i.e. ``grid=393, trim=0.01``); ``None`` searches every
        distinct value of ``q`` inside the trimmed range (exact, slower).
    n_draws : int or list of int, default 300
        Bootstrap replications of each test (0 skips the test of that threshold).
    seed : int, default 0
        Seed of the bootstrap (``numpy.random.default_rng``).
    level : float, default 0.95
        Level of the LR confidence intervals of the thresholds.
    vcov : str or dict, default "iid"
        Covariance of the final regression, any spec of :func:`econ.panel.feols` (``{"CL1": unit}`` clusters).
    refine : bool, default True
        Re-estimate the first threshold given the second (Hansen's refinement) in the double-threshold model.

    Returns
    -------
    ThresholdResult
        An :class:`econ.results.Result` of the regime slopes (so ``econ.etable`` takes it) with ``.thresholds``,
        ``.tests``, ``.lr``, ``.regression``; ``summary()``, ``tidy()``, ``plot()`` (the LR curves).

    Raises
    ------
    PanelError
        Unbalanced panel, duplicate keys, missing values in a used column (the offending units are named).
    SpecificationError
        Unknown columns, ``n_thresholds`` outside 1-3, bad ``trim``/``grid``/``n_draws``, a threshold variable
        with too few distinct values (or too little within-unit variation) for the trimming, collinear
        regressors.

    Notes
    -----
    Within-transform all columns (unit means removed). For a set of thresholds ``g`` the concentrated sum of
    squared residuals is ``S(g)`` (least squares of ``y`` on ``x`` and the regime-split ``z``). Thresholds are
    estimated sequentially (Hansen 1999, section 5): ``g1 = argmin S1(g)``; ``g2 = argmin S(g1, g)``; refinement
    ``g1r = argmin S(g, g2)``; ``g3 = argmin S(g1r, g2, g)``. Test of ``k - 1`` against ``k`` thresholds:
    ``F_k = (S_{k-1} - S_k) / sigma_k^2`` with ``sigma_k^2 = S_k / (n (T - 1))``, where ``S_0`` is the linear
    fixed-effects model, ``S_1 = S1(g1)``, ``S_2 = S(g1, g2)`` (unrefined, Hansen's ``S2^r``) and
    ``S_3 = S(g1r, g2, g3)`` with ``S_2`` there the refined double model. Bootstrap (Hansen 1999, section 3.2):
    regressors and ``q`` held fixed, the within residuals of the ``k``-threshold model resampled by unit (whole
    ``T``-vectors, with replacement), added to the fitted values of the ``k - 1``-threshold model; every draw
    repeats the sequential search; ``p = #{F_b >= F} / B``. LR interval (Hansen 2000):
    ``{g: LR(g) = (S(g) - S(g_hat)) / sigma^2 <= c(alpha)}``, ``c(alpha) = -2 ln(1 - sqrt(1 - alpha))``; the
    reported bounds are the smallest and largest candidate inside it. Candidate thresholds are observed values
    of ``q`` (inverse-CDF quantiles). The final slopes are :func:`econ.panel.feols` with unit fixed effects on
    the regime-split regressors; with ``vcov="iid"`` its standard errors equal ``xtreg, fe``'s. Only unit effects
    are absorbed (as in Hansen 1999 and xthreg); for year effects put year dummies in ``covariates``.

    References
    ----------
    Hansen, B. E. (1999). Threshold effects in non-dynamic panels: Estimation, testing, and inference.
    *Journal of Econometrics* 93(2), 345-368.
    Hansen, B. E. (2000). Sample splitting and threshold estimation. *Econometrica* 68(3), 575-603.
    Wang, Q. (2015). Fixed-effect panel threshold model using Stata. *The Stata Journal* 15(1), 121-134.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> n, T = 100, 6
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(n), T), "t": np.tile(np.arange(T), n)})
    >>> df["q"], df["z"] = rng.uniform(size=n * T), rng.normal(size=n * T)
    >>> df["y"] = np.where(df.q <= 0.4, 1.0, -1.0) * df.z + rng.normal(scale=0.5, size=n * T)
    >>> res = threshold(df, "y", "id", "t", rx="z", qx="q", grid=100, n_draws=50)
    >>> bool(abs(res.thresholds["threshold"].iloc[0] - 0.4) < 0.02), bool(res.tests["p_value"].iloc[0] < 0.05)
    (True, True)
    """
    m = v.check_int(n_thresholds, "n_thresholds", minimum=1, maximum=3)
    trims = _per_threshold(trim, m, "trim", lambda t: v.check_real(t, "trim", low=0.0, high=0.5))
    if any(t <= 0 or t >= 0.5 for t in trims):
        raise SpecificationError(f"trim must lie strictly between 0 and 0.5, got {trim!r}")
    if grid is not None:
        grid = v.check_int(grid, "grid", minimum=2)
    draws = _per_threshold(n_draws, m, "n_draws", lambda b: v.check_int(b, "n_draws", minimum=0))
    level = v.check_real(level, "level", low=0.0, high=1.0)
    refine = v.check_bool(refine, "refine")
    v.check_seed(seed)
    rx, xs = _as_list(rx, "rx"), _as_list(covariates, "covariates")
    if not rx:
        raise SpecificationError("rx (the regime-dependent regressors) must name at least one column")
    v.check_column_name(y, "y")
    v.check_column_name(qx, "qx")
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    v.require_columns(data, [unit, time], "panel key", error=PanelError)
    used = list(dict.fromkeys([y, qx] + rx + xs))
    v.require_columns(data, used, "model")
    vcols = [c for c in parse_vcov(vcov, time=time, unit=unit).columns() if c not in (unit, time)]
    v.require_columns(data, vcols, "vcov")
    panel = validate_panel(data[list(dict.fromkeys([unit, time] + used + vcols))], unit, time)
    _check_numeric_complete(panel, used, unit)
    gaps = [c for c in vcols if panel[c].isna().any()]
    if gaps:
        units = pd.unique(panel.loc[panel[gaps].isna().any(axis=1), unit])[:10].tolist()
        raise PanelError(f"vcov column(s) {gaps} have missing values (units {units}); the threshold model needs "
                         "them on every row of the balanced panel")
    n_units, n_periods = panel[unit].nunique(), panel[time].nunique()
    sizes = panel.groupby(unit, sort=False).size()
    if (sizes != n_periods).any() or len(panel) != n_units * n_periods:
        short = sizes[sizes != n_periods].index[:10].tolist()
        raise PanelError(f"threshold needs a balanced panel ({n_units} units x {n_periods} periods = "
                         f"{n_units * n_periods} rows, got {len(panel)}); units not observed in every period: "
                         f"{short}{' ...' if (sizes != n_periods).sum() > 10 else ''}. Balance the panel "
                         "(e.g. keep units observed in all periods) before calling threshold")
    if n_periods < 2:
        raise PanelError(f"threshold needs at least 2 periods per unit, got {n_periods}")
    with single_thread_blas():  # small dense products: one BLAS thread is much faster on a busy machine
        return _fit(panel, y, rx, qx, xs, unit, time, m, trims, grid, draws, seed, level, vcov, refine,
                    n_units, n_periods)


def _check_numeric_complete(panel, cols, unit):
    for c in cols:
        if not pd.api.types.is_numeric_dtype(panel[c]) or pd.api.types.is_bool_dtype(panel[c]):
            raise SpecificationError(f"column {c!r} must be numeric, got dtype {panel[c].dtype}")
        bad = ~np.isfinite(panel[c].to_numpy(dtype=float))
        if bad.any():
            units = pd.unique(panel.loc[bad, unit])[:10].tolist()
            raise PanelError(f"column {c!r} has {int(bad.sum())} missing or infinite values (units {units}); "
                             "the threshold model needs a balanced panel without gaps: drop those units first")


def _fit(panel, y, rx, qx, xs, unit, time, m, trims, grid, draws, seed, level, vcov, refine, N, T):
    n = len(panel)
    ab = Absorber(factorize([panel[unit]]))
    yv = panel[y].to_numpy(float)
    q = panel[qx].to_numpy(float)
    Z = panel[rx].to_numpy(float)
    X = panel[xs].to_numpy(float) if xs else np.zeros((n, 0))
    A = ab.demean(np.column_stack([X, Z]))
    QA = core.orthonormal(A)
    if QA.shape[1] < A.shape[1]:
        raise SpecificationError(f"the regressors {xs + rx} are collinear after removing unit means (rank "
                                 f"{QA.shape[1]} of {A.shape[1]}); drop the redundant ones")
    ys = ab.demean(yv[:, None])[:, 0]
    yt = ys - QA @ (QA.T @ ys)
    qs = np.sort(q)
    values = _grid_values(qs, min(trims), grid)
    counts = np.searchsorted(qs, values, side="right")
    tc0 = int(np.ceil(trims[0] * n))
    if int(((counts >= tc0) & (counts <= n - tc0)).sum()) < 2:
        raise SpecificationError(f"threshold variable {qx!r} has fewer than 2 distinct candidate values inside "
                                 f"the trimmed range (trim={trims[0]}); lower trim or check {qx!r}")
    cands = core.Candidates(ab, Z, q, values, QA)
    search = core.Search(cands, yt[:, None], counts)
    varying = int((panel.groupby(unit)[qx].nunique() > 1).sum())
    if cands.degenerate.all():
        raise SpecificationError(f"no candidate threshold of {qx!r} splits the regime-dependent regressors "
                                 f"within units ({varying} of {N} units have a time-varying {qx!r}); the "
                                 "threshold is not identified with unit fixed effects")
    stages = core.sequential(search, np.array([0]), m, trims, n, refine=refine)
    for j, st in enumerate(stages):
        if st["idx"][0] < 0:
            raise SpecificationError(f"no admissible candidate for threshold {j + 1}: {qx!r} varies within too "
                                     f"few units ({varying} of {N}) or trim={trims[j]} leaves no room; lower "
                                     "n_thresholds or trim")
    S0 = float(search.total[0])
    info = {"depvar": y, "qx": qx, "rx": rx, "covariates": xs, "n_units": N, "n_periods": T,
            "search": (f"grid of {len(values)} candidate values" if grid is not None else
                       f"exact search over {len(values)} distinct values") + f", trim {trims}"}
    # --- estimates, LR curves, stage table
    stage_rows, lr = [], {}
    crit = lr_critical_value(level)

    def lr_curve(name, S, st_trim):
        tc = int(np.ceil(st_trim * n))
        ok = search.allowed(S, tc, tc, n - tc)
        idx, smin, ssr = search.best(S, np.array([0]), ok)
        sig2 = smin[0] / (N * (T - 1))
        lrv = (ssr[:, 0] - smin[0]) / sig2
        keep = ok & np.isfinite(lrv)
        d = pd.DataFrame({"threshold": values[keep], "lr": lrv[keep]})
        lr[name] = d
        inside = d["threshold"][d["lr"] <= crit]
        stage_rows.append({"stage": name, "threshold": values[idx[0]], "conf_low": inside.min(),
                           "conf_high": inside.max()})
        return int(idx[0])

    g1 = lr_curve("Th-1", (), trims[0])
    final = [g1]
    if m >= 2:
        g2 = int(stages[1]["idx"][0])
        g1r = lr_curve("Th-21", (g2,), trims[0]) if refine else g1
        if not refine:
            stage_rows.append({"stage": "Th-21", **{k: v_ for k, v_ in stage_rows[0].items() if k != "stage"}})
            lr["Th-21"] = lr["Th-1"]
        lr_curve("Th-22", (g1,), trims[1])
        final = [g1r, g2]
    if m == 3:
        g3 = lr_curve("Th-3", tuple(final), trims[2])
        final = final + [g3]
    stages_df = pd.DataFrame(stage_rows)
    chosen = {1: ["Th-1"], 2: ["Th-21", "Th-22"], 3: ["Th-21", "Th-22", "Th-3"]}[m]
    thr = stages_df.set_index("stage").loc[chosen].reset_index().sort_values("threshold").reset_index(drop=True)
    # --- SSR sequence and tests
    ssr_model = [S0] + [float(st["ssr_model"][0]) for st in stages]
    ssr_test = [float(st["ssr"][0]) for st in stages]  # S_k at the search of threshold k
    prev = [S0] + ssr_model[1:-1]
    F = [(prev[k] - ssr_test[k]) / (ssr_test[k] / (N * (T - 1))) for k in range(m)]
    resid_alt, fitted_null = _residuals_and_fits(search, cands, stages, yt, ys)
    rng = np.random.default_rng(seed)
    tests, bootF, notes = [], {}, []
    for k in range(m):
        B = draws[k]
        row = {"k": k + 1, "ssr": ssr_test[k], "mse": ssr_test[k] / (N * (T - 1)), "F": F[k], "n_draws": B}
        if B:
            Fb = _bootstrap(ab, QA, cands, counts, resid_alt[k + 1], fitted_null[k], k, trims, n, N, T, B, rng,
                            refine)
            Fb = Fb[np.isfinite(Fb)]
            bootF[k + 1] = Fb
            row.update(p_value=float(np.mean(Fb >= F[k])), crit10=float(np.quantile(Fb, 0.90)),
                       crit5=float(np.quantile(Fb, 0.95)), crit1=float(np.quantile(Fb, 0.99)))
        else:
            row.update(p_value=np.nan, crit10=np.nan, crit5=np.nan, crit1=np.nan)
        tests.append(row)
    tests_df = pd.DataFrame(tests, columns=["k", "ssr", "mse", "F", "p_value", "crit10", "crit5", "crit1",
                                            "n_draws"])
    reg, info["regimes"] = _final_regression(panel, y, rx, xs, qx, unit, time, sorted(values[g] for g in final),
                                             vcov)
    notes.append(f"F_k = (S_(k-1) - S_k) / (S_k / (n (T - 1))) with n = {N}, T = {T}; bootstrap resamples the "
                 "units' within residuals (fixed regressors)")
    return ThresholdResult(thresholds=thr, stages=stages_df, tests=tests_df, regression=reg, lr=lr, level=level,
                           notes=notes, boot_F=bootF, info=info)


def _residuals_and_fits(search, cands, stages, yt, ys):
    """Within residuals of the k-threshold model (k = 0..m) and its fitted values (within space, A included)."""
    m = len(stages)
    sets = [()] + [tuple(st["set"][0]) for st in stages]
    resid, fitted = {}, {}
    for k, S in enumerate(sets):
        if S:
            U = core.orthonormal(np.column_stack([cands.block(g) for g in S]))
            r = yt - U @ (U.T @ yt)
        else:
            U, r = None, yt.copy()
        resid[k] = r
        fitted[k] = ys - r  # within fitted values (A part plus regime part)
    return resid, {k: fitted[k] for k in range(m)}


def _bootstrap(ab, QA, cands, counts, resid, fitted, k, trims, n, N, T, B, rng, refine):
    """Bootstrap F statistics of H0: k thresholds against k + 1 (k = 0, 1, 2)."""
    idx = rng.integers(0, N, size=(B, N))
    E = resid.reshape(N, T)[idx].reshape(B, n).T  # n x B, unit blocks resampled
    Y = fitted[:, None] + E
    Yt = Y - QA @ (QA.T @ Y)
    search = core.Search(cands, Yt, counts)
    cols = np.arange(B)
    stages = core.sequential(search, cols, k + 1, trims, n, refine=refine)
    S_alt = stages[k]["ssr"]
    S_null = search.total[cols] if k == 0 else stages[k - 1]["ssr_model"]
    bad = stages[k]["idx"] < 0
    F = (S_null - S_alt) / (S_alt / (N * (T - 1)))
    F[bad] = np.nan
    return F


def _final_regression(panel, y, rx, xs, qx, unit, time, gammas, vcov):
    from econ.panel.feols import feols

    q = panel[qx].to_numpy(float)
    edges = [-np.inf] + list(gammas) + [np.inf]
    df = panel.copy()
    names, regimes = [], {}
    fmt = "{:.4g}".format
    for j in range(len(edges) - 1):
        lo, hi = edges[j], edges[j + 1]
        inreg = (q > lo) & (q <= hi)
        label = (f"q<={fmt(hi)}" if j == 0 else f"q>{fmt(lo)}" if hi == np.inf else f"{fmt(lo)}<q<={fmt(hi)}")
        for z in rx:
            name = f"{z}[{label}]"
            df[name] = panel[z].to_numpy(float) * inreg
            names.append(name)
            regimes[name] = (z, label)
    terms = " + ".join(f"`{c}`" for c in xs + names)
    res = feols(f"`{y}` ~ {terms} | `{unit}`", df, vcov=vcov, fixef_rm="none", unit=unit, time=time)
    return res, regimes
