"""Event-study (dynamic TWFE) regressions with pre-trend tests and simultaneous (sup-t) confidence bands.

The regression is

    y_it = sum_{k in window, k not in ref} beta_k 1[t - cohort_i = k] + X_it' gamma + alpha_i + lambda_t + e_it,

with never-treated units (cohort 0 / missing) having all relative-time dummies equal to zero. With
``bin_endpoints=True`` the end points are bins: the lowest dummy is ``1[t - cohort_i <= lo]`` and the highest
``1[t - cohort_i >= hi]``, so every treated observation belongs to exactly one event-time dummy (or the reference)
and the reference period is a single period rather than a mix of far leads and lags (Schmidheiny and Siegloch
2023). With ``bin_endpoints=False`` treated observations outside the window are dropped from the sample (and
counted in ``notes``) instead of silently joining the reference group.

Under heterogeneous effects with staggered adoption these coefficients can be contaminated by effects at other
relative times (Sun and Abraham 2021); the plain event study is still the standard first look at dynamics and
pre-trends.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ.did import _design
from econ.did.design import build_design, check_weights
from econ.errors import SpecificationError, TreatmentError
from econ._validate import check_bool, check_int, check_seed
from econ.panel.feols import FeolsResult
from econ.results import _ci_labels as check_level
from econ.results import wald, wald_df2

__all__ = ["event_study", "EventStudyResult", "event_term"]


def event_term(k: int) -> str:
    """Coefficient name of relative time ``k``: rel_m2, rel_0, rel_p3."""
    return f"rel_m{-k}" if k < 0 else (f"rel_p{k}" if k > 0 else "rel_0")


def event_study(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    cohort: str,
    *,
    window: tuple[int, int] | None = None,
    ref=-1,
    bin_endpoints: bool = True,
    covariates=None,
    fe=None,
    vcov=None,
    weights: str | None = None,
    seed=0,
):
    """Dynamic DiD: one coefficient per period relative to treatment, relative to the reference period(s).

    Parameters
    ----------
    data : DataFrame
        Long panel (not modified).
    y, unit, time : str
        Outcome, unit id and integer time columns.
    cohort : str
        First treated period of each unit (constant within unit); ``0``, NaN or pandas ``<NA>`` = never treated.
        Cells that are not integer periods raise a TreatmentError naming them.
    window : (lo, hi), optional
        Relative times estimated, e.g. ``(-5, 5)``; must lie inside the relative times the panel shows. Default:
        the whole range the panel supports (the smallest and largest relative time of a treated observation),
        reported in a note.
    ref : int or sequence of int
        Omitted (normalised to zero) relative time(s); default ``-1``, the period before treatment. Giving two
        (e.g. ``(-1, -5)``) is how to identify the model without never-treated units and without binning
        (Borusyak, Jaravel and Spiess 2024).
    bin_endpoints : bool
        Bin relative times beyond the window into the end-point dummies (default) or drop those observations.
    covariates, fe, vcov, weights
        As in :func:`econ.did.twfe`; default fixed effects unit and time, default vcov clustered by unit;
        time-invariant covariates are dropped with a note.
    seed : int or None
        Seed of the simulation behind the sup-t critical value (default 0, so bands are reproducible).

    Returns
    -------
    EventStudyResult
        A Result with ``table()`` (coefficients by relative time with pointwise and uniform bands), ``tidy()``
        (with an ``event_time`` column), ``pretrend_test()``, ``sup_t_critical()``, ``wald_test()`` and
        ``plot()``. With more than one cohort a note points to the heterogeneity-robust event studies
        (``econ.did.sun_abraham``, ``econ.did.att_gt``, ``econ.did.imputation``, ``econ.did.compare``).

    Raises
    ------
    TreatmentError
        Cohort cells that are not periods or lie outside the panel years, a window larger than the relative times
        the panel can show, a relative time without observations, no never-treated and no not-yet-treated
        comparison, no treated unit observed before its treatment, or an event-time effect that is not identified.
    SpecificationError
        Unknown columns, non-numeric or infinite values, a window or reference period that is not a pair / set of
        integers, reference periods outside the window or covering it, a column named like an event-time dummy,
        arguments of the wrong type.
    PanelError
        Duplicate (unit, time) keys, missing unit ids or times, non-integer time (:func:`econ.io.validate_panel`).

    Notes
    -----
    The regression (module docstring) is

    ``y_it = sum_{k in window, k not in ref} beta_k 1[t - cohort_i = k] + X_it' gamma + alpha_i + lambda_t + e_it``

    with all event-time dummies zero for never-treated units. ``beta_k`` is the outcome gap at relative time ``k``
    relative to the reference period(s), so with the default ``ref=-1`` it compares with the last period before
    treatment. With ``bin_endpoints=True`` the first and last dummies are ``1[t - cohort_i <= lo]`` and
    ``1[t - cohort_i >= hi]`` (Schmidheiny and Siegloch 2023); without binning treated rows outside the window are
    dropped rather than merged into the reference. Comparison units are the never-treated and the
    not-yet-treated units (through the time effects). Under staggered adoption with heterogeneous effects
    ``beta_k`` can be contaminated by effects at other relative times (Sun and Abraham 2021).

    Inference: default clustering by unit with the fixest small-sample factor ``(n - 1) / (n - K) * G / (G - 1)``
    and ``G - 1`` degrees of freedom (:mod:`econ.panel.vcov`). The pointwise intervals use that t distribution;
    the uniform band uses the sup-t critical value, the ``level`` quantile of ``max_k |Z_k|`` for ``Z`` drawn
    (10,000 draws, ``seed``) from a multivariate t with the correlation of the ``beta_k`` (Montiel Olea and
    Plagborg-Moller 2019). ``pretrend_test()`` is the joint Wald test of all leads (chi-square with the number of
    leads, and the F form with ``df_resid`` denominator degrees of freedom, as fixest's ``wald()``).

    References
    ----------
    Schmidheiny, K. and Siegloch, S. (2023). On event studies and distributed-lags in two-way fixed effects
    models: identification, equivalence, and generalization. Journal of Applied Econometrics 38(5), 695-713.

    Sun, L. and Abraham, S. (2021). Estimating dynamic treatment effects in event studies with heterogeneous
    treatment effects. Journal of Econometrics 225(2), 175-199.

    Montiel Olea, J. L. and Plagborg-Moller, M. (2019). Simultaneous confidence bands: theory, implementation, and
    an application to SVARs. Journal of Applied Econometrics 34(1), 1-17.

    Borusyak, K., Jaravel, X. and Spiess, J. (2024). Revisiting event-study designs: robust and efficient
    estimation. Review of Economic Studies 91(6), 3253-3285.

    Examples
    --------
    >>> import econ
    >>> demo = econ.datasets.load("china_cities_demo")
    >>> es = econ.did.event_study(demo, "log_income_ratio", "prefecture_code", "year", "cohort", window=(-3, 3))
    >>> es.event_terms
    ['rel_m3', 'rel_m2', 'rel_0', 'rel_p1', 'rel_p2', 'rel_p3']
    >>> bool(es.pretrend_test().pvalue > 0.05)
    True
    """
    _design.check_data(data)
    y = _design.check_name(y, "y")
    cohort = _design.check_name(cohort, "cohort")
    covariates = _design.check_names(covariates, "covariates")
    fe, extra_fe = _design.fixed_effects(fe, unit, time)
    wcol = _design.as_list(_design.check_name(weights, "weights", optional=True))
    if isinstance(data, pd.DataFrame):
        check_weights(data, weights)  # missing or negative weights: WeightsError, as in every DiD estimator
    bin_endpoints = check_bool(bin_endpoints, "bin_endpoints")
    seed = check_seed(seed)
    refs = _check_ref(ref)
    design = build_design(data, y, unit, time, cohort, covariates=covariates, columns=[*extra_fe, *wcol], vcov=vcov)
    frame, cohorts = design.frame, design.cohorts
    if unit in fe:  # with unit effects only within-unit changes identify the effects
        _design.check_identified(frame, unit, time, cohorts, "event study")
    covariates, absorbed = _design.drop_absorbed(frame, covariates, fe)
    notes = list(design.notes) + absorbed

    c = frame[unit].map(cohorts).to_numpy(dtype="int64")
    treated = c != _design.NEVER
    rel = np.where(treated, frame[time].to_numpy(dtype="int64") - c, 0)  # never-treated rows (c = NEVER) -> 0
    if window is None:
        lo, hi = int(rel[treated].min()), int(rel[treated].max())
        notes.append(f"window not given: using ({lo}, {hi}), every relative time the panel supports")
    else:
        lo, hi = _check_window(window)
        _check_window_fits(rel[treated], lo, hi)
    _check_ref_in_window(refs, lo, hi)
    if bin_endpoints:
        rel = np.clip(rel, lo, hi)
    else:
        outside = treated & ((rel < lo) | (rel > hi))
        if outside.any():
            notes.append(f"{int(outside.sum())} treated observation(s) outside the window {lo}..{hi} dropped")
            frame, rel, treated = frame.loc[~outside].reset_index(drop=True), rel[~outside], treated[~outside]

    at = {k: treated & (rel == k) for k in range(lo, hi + 1)}  # treated rows at each relative time
    counts = {k: int(mask.sum()) for k, mask in at.items()}
    empty = [k for k, n_k in counts.items() if n_k == 0]
    if empty:
        raise TreatmentError(
            f"no treated observation at relative time(s) {empty} inside the window ({lo}, {hi}); narrow the window"
        )
    event_times = [k for k in at if k not in refs]
    terms = [event_term(k) for k in event_times]
    clash = [t for t in terms if t in frame.columns]
    if clash:
        raise SpecificationError(f"column(s) {clash} clash with the event-time dummies event_study creates; rename")
    dummies = pd.DataFrame({t: at[k].astype(float) for k, t in zip(event_times, terms)})
    frame = pd.concat([frame, dummies], axis=1)

    treated_cohorts = cohorts[cohorts != _design.NEVER]
    notes.append(
        f"event study: window {lo}..{hi}, reference {sorted(refs)}, end points "
        f"{'binned' if bin_endpoints else 'not binned (outside rows dropped)'}; {len(treated_cohorts)} treated "
        f"unit(s) in {treated_cohorts.nunique()} cohort(s), {len(cohorts) - len(treated_cohorts)} never treated"
    )
    notes += _design.comparison_notes(len(cohorts) - len(treated_cohorts))
    notes += _design.staggered_notes(cohorts, "the dynamic TWFE event study")
    result = _design.fit(frame, y, [*terms, *covariates], fe, _design.default_vcov(vcov, unit), weights,
                         unit=unit, time=time, notes=notes, result=EventStudyResult, event_times=event_times,
                         ref=refs, window=(lo, hi), binned=bin_endpoints, event_counts=counts, seed=seed)
    lost = [k for k, t in zip(event_times, terms) if t not in result.coef.index or not np.isfinite(result.coef[t])]
    if lost:
        msg = f"event-time effect(s) {lost} are not identified (collinear with the fixed effects and other dummies)"
        if (cohorts == _design.NEVER).any():
            raise TreatmentError(msg + "; narrow the window or bin the end points")
        last = int(cohorts.max())
        raise TreatmentError(
            msg + f"; there are no never-treated units, so from {last} on every unit is treated and nothing is "
            f"left to compare with: restrict the sample to periods before {last} (the last cohort then serves as "
            "the not-yet-treated comparison), bin the end points, or give two reference periods "
            f"(Borusyak, Jaravel and Spiess 2024), e.g. ref=(-1, {lo})"
        )
    return result


def _check_ref(ref) -> frozenset:
    refs = (ref,) if ref is None or np.isscalar(ref) else ref
    try:
        refs = tuple(refs)
        bad = not refs or any(isinstance(r, (bool, np.bool_)) or int(r) != r for r in refs)
    except (TypeError, ValueError):  # e.g. ref=None or ref="-1": name the argument instead of int()'s message
        bad = True
    if bad:
        why = (" (the coefficients are differences from a reference period, so one is needed: the default -1 is "
               "the period before treatment)" if ref is None or (np.iterable(ref) and not isinstance(ref, str)
                                                                  and not len(tuple(ref))) else "")
        raise SpecificationError(f"ref must be an integer relative time or a sequence of them (e.g. -1 or (-1, -5)), "
                                 f"got {ref!r}{why}")
    return frozenset(int(r) for r in refs)


def _check_window(window) -> tuple[int, int]:
    try:
        lo, hi = window
        ok = all(not isinstance(v, (bool, np.bool_)) and int(v) == v for v in (lo, hi)) and lo < hi
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise SpecificationError(f"window must be a pair of integers (lo, hi) with lo < hi, got {window!r}")
    return int(lo), int(hi)


def _check_ref_in_window(refs: frozenset, lo: int, hi: int) -> None:
    if any(not lo <= r <= hi for r in refs):
        raise SpecificationError(f"reference period(s) {sorted(refs)} must be integers inside the window ({lo}, {hi})")
    if len(refs) >= hi - lo + 1:
        raise SpecificationError("the reference periods cover the whole window: nothing to estimate")


def _check_window_fits(rel_treated: np.ndarray, lo: int, hi: int) -> None:
    lo_obs, hi_obs = int(rel_treated.min()), int(rel_treated.max())
    if lo < lo_obs or hi > hi_obs:
        raise TreatmentError(
            f"window ({lo}, {hi}) is larger than the panel allows: treated units are observed from {lo_obs} to "
            f"{hi_obs} periods relative to treatment; use a window inside ({lo_obs}, {hi_obs})"
        )


class EventStudyResult(FeolsResult):
    """Result of :func:`event_study`: a :class:`econ.panel.FeolsResult` plus event-study methods.

    Built by :func:`event_study` (or directly, with the :class:`econ.results.Result` arguments plus the keywords
    below). Extra attributes: ``event_times`` (estimated relative times), ``ref`` (reference period(s)),
    ``window``, ``binned``, ``event_counts`` (treated observations per relative time) and ``seed`` (of the sup-t
    simulation).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from econ.did import EventStudyResult
    >>> res = EventStudyResult(pd.Series({"rel_m2": 0.0, "rel_0": 1.0}), np.diag([0.04, 0.04]), nobs=100,
    ...                        df_resid=90, event_times=[-2, 0], ref=-1, window=(-2, 0))
    >>> res.table()["estimate"].tolist()
    [0.0, 0.0, 1.0]
    """

    def __init__(self, *args, event_times, ref=-1, window=None, binned: bool = True, event_counts=None, seed=0,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.event_times = [int(k) for k in event_times]
        self.ref = _check_ref(ref)
        self.window = (min(self.event_times), max(self.event_times)) if window is None else tuple(window)
        self.binned = bool(binned)
        self.event_counts = dict(event_counts or {})
        self.seed = check_seed(seed)
        self._sup_t_cache: dict = {}
        missing = [t for t in self.event_terms if t not in self._coef.index]
        if missing:
            raise SpecificationError(f"EventStudyResult: event-time coefficient(s) {missing} not in coef")

    @property
    def event_terms(self) -> list[str]:
        """Names of the estimated event-time coefficients in ``event_times`` order (``rel_m2``, ``rel_0``,
        ``rel_p3``...: :func:`event_term`); the reference period(s) have no coefficient and are not listed."""
        return [event_term(k) for k in self.event_times]

    def _event_vcov(self) -> np.ndarray:
        return self.vcov.loc[self.event_terms, self.event_terms].to_numpy()

    def sup_t_critical(self, level: float = 0.95, n_sim: int = 10_000) -> float:
        """Critical value of the uniform (sup-t) confidence band over all estimated event times.

        The band ``estimate +- c * se`` covers every event-time coefficient at once with probability ``level``;
        :meth:`table`, :meth:`summary` and :meth:`plot` use it (``band_low``/``band_high``).

        Parameters
        ----------
        level : float, default 0.95
            Joint coverage of the band, in (0, 1).
        n_sim : int, default 10000
            Number of simulated draws (at least 100).

        Returns
        -------
        float
            The critical value ``c``; at least the pointwise ``t`` quantile and at most the Bonferroni one (up
            to simulation error). Cached per ``(level, n_sim)``: repeated calls return the same value.

        Raises
        ------
        SpecificationError
            ``level`` outside (0, 1), ``n_sim`` not an integer >= 100, or an event-time coefficient without a
            positive finite variance (named).

        Notes
        -----
        ``c`` is the ``level`` quantile of ``max_k |Z_k|`` over the event-time coefficients ``k``, where
        ``Z = N(0, C) / sqrt(chi2_df / df)`` is a multivariate t with the correlation matrix ``C`` of the
        estimated event-time coefficients (from ``vcov``, so clustering carries over) and ``df = df_t``, the
        degrees of freedom of the pointwise t tests (``G - 1`` when clustered); with ``df_t = inf`` it is the
        multivariate normal sup-t band of Montiel Olea & Plagborg-Møller (2019). The draws use
        ``numpy.random.default_rng(seed)`` with the result's ``seed``.

        References
        ----------
        Montiel Olea, J. L. and Plagborg-Møller, M. (2019). Simultaneous confidence bands: theory,
        implementation, and an application to SVARs. *Journal of Applied Econometrics* 34(1), 1-17.

        Examples
        --------
        R ``did``'s minimum-wage panel, standard errors clustered by county (t with 499 df):

        >>> from econ import datasets
        >>> from econ.did import event_study
        >>> es = event_study(datasets.load("mpdta"), "lemp", "countyreal", "year", "first.treat",
        ...                  vcov={"CL1": "countyreal"})
        >>> es.event_terms
        ['rel_m4', 'rel_m3', 'rel_m2', 'rel_0', 'rel_p1', 'rel_p2', 'rel_p3']
        >>> round(es.sup_t_critical(), 2)  # the pointwise value is 1.96
        2.64
        """
        check_level(level)
        n_sim = check_int(n_sim, "n_sim", minimum=100)
        key = (level, n_sim)
        cache = self._sup_t_cache
        if key not in cache:
            v = self._event_vcov()
            var = np.diag(v)
            if not (np.all(np.isfinite(v)) and np.all(var > 0)):
                bad = [t for t, s2 in zip(self.event_terms, var) if not (np.isfinite(s2) and s2 > 0)]
                raise SpecificationError(f"sup-t band: event-time coefficient(s) {bad or self.event_terms} have no "
                                         "positive finite variance; the uniform band is not defined")
            sd = np.sqrt(var)
            corr = v / np.outer(sd, sd)
            vals, vecs = np.linalg.eigh(corr)
            root = vecs * np.sqrt(np.clip(vals, 0, None))
            rng = np.random.default_rng(self.seed)
            z = rng.standard_normal((n_sim, len(sd))) @ root.T
            df = self.df_t
            if np.isfinite(df):
                z = z / np.sqrt(rng.chisquare(df, size=(n_sim, 1)) / df)
            cache[key] = float(np.quantile(np.abs(z).max(axis=1), level))
        return cache[key]

    def table(self, level: float = 0.95) -> pd.DataFrame:
        """Coefficients by relative time, reference period(s) included as zeros.

        Columns: estimate, se, pvalue, ci_low/ci_high (pointwise, t with the model's df), band_low/band_high
        (uniform sup-t band), n_treated_obs (treated observations at that relative time), is_ref.
        """
        sup = self.sup_t_critical(level)
        coef, se, pvalue, ci = self.coef, self.se, self.pvalue, self.confint(level)
        rows = []
        for k in range(self.window[0], self.window[1] + 1):
            if k in self.ref:
                rows.append((k, 0.0, np.nan, np.nan, 0.0, 0.0, 0.0, 0.0, self.event_counts.get(k, 0), True))
                continue
            term = event_term(k)
            b, s = float(coef[term]), float(se[term])
            rows.append(
                (k, b, s, float(pvalue[term]), *ci.loc[term].astype(float), b - sup * s, b + sup * s,
                 self.event_counts.get(k, 0), False)
            )
        cols = ["rel_time", "estimate", "se", "pvalue", "ci_low", "ci_high", "band_low", "band_high",
                "n_treated_obs", "is_ref"]
        return pd.DataFrame(rows, columns=cols).set_index("rel_time")

    def pretrend_test(self, df: str = "resid"):
        """Joint Wald test that all lead coefficients (relative time < 0, excluding the reference) are zero.

        Parameters
        ----------
        df : {"resid", "cluster"}
            Denominator degrees of freedom of the F form: ``"resid"`` (default) the residual degrees of freedom,
            as fixest's ``wald()``; ``"cluster"`` ``G - 1`` as Stata's ``test`` after a clustered fit. The leads
            are those of the fitted window (a binned end point included).

        Returns
        -------
        econ.results.WaldTest
            The chi-square form (``chi2``, ``df`` = number of leads, ``pvalue_chi2``) and the F form (``F``,
            ``df2``, ``pvalue_F``; ``statistic``/``pvalue`` are the F form, as fixest's ``wald()``).

        Raises
        ------
        SpecificationError
            The window has no lead coefficient, their covariance is not finite or zero, or ``df="cluster"``
            without clustering.

        Notes
        -----
        With ``b`` the lead coefficients and ``V`` their block of ``vcov`` (the fit's covariance, clustering and
        small-sample factor included): ``W = b' V^{-1} b`` is chi-square with ``L`` (number of leads) degrees of
        freedom, and ``F = W / L`` is F(L, df2) with ``df2`` the model's residual degrees of freedom
        (``df_resid``, as fixest's ``wald()``; not the ``G - 1`` of the pointwise t tests) or, with
        ``df="cluster"``, ``G - 1`` (Stata); the summary prints which. When ``V`` is singular (rank ``k < L``) the
        Moore-Penrose inverse replaces ``V^{-1}``, the test has ``k`` degrees of freedom and carries a note (as
        Stata's ``test`` when it drops dependent constraints). Not rejecting is weak
        evidence for parallel trends: pre-tests have low power against relevant violations (Roth 2022).

        References
        ----------
        Roth, J. (2022). Pretest with caution: event-study estimates after testing for parallel trends.
        *American Economic Review: Insights* 4(3), 305-322.

        Examples
        --------
        R ``did``'s minimum-wage panel (three leads, reference period -1, clustered by county):

        >>> from econ import datasets
        >>> from econ.did import event_study
        >>> es = event_study(datasets.load("mpdta"), "lemp", "countyreal", "year", "first.treat",
        ...                  vcov={"CL1": "countyreal"})
        >>> test = es.pretrend_test()
        >>> test.df, round(test.chi2, 2), round(test.pvalue_chi2, 3), round(test.F, 3), test.df2
        (3, 4.89, 0.18, 1.632, 1989.0)
        """
        leads = [event_term(k) for k in self.event_times if k < 0]
        if not leads:
            raise SpecificationError("the window has no lead (pre-treatment) coefficients to test")
        b = self.coef[leads].to_numpy()
        v = self.vcov.loc[leads, leads].to_numpy()
        df2, rule = wald_df2(self, df)
        return wald(b, v, np.eye(len(leads)), df2, f"all {len(leads)} leads = 0", singular="pinv", df2_rule=rule)

    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        """The regression table, then the coefficients by relative time with both bands and the pre-trend test."""
        parts = [super().summary(level, digits), "", f"Event-time coefficients ({level:.0%} pointwise CI and "
                 f"uniform sup-t band, critical value {self.sup_t_critical(level):.3f}):",
                 self.table(level).round(digits).to_string()]
        if any(k < 0 for k in self.event_times):
            try:
                parts += ["", f"Pre-trend {self.pretrend_test()!r}"]
            except SpecificationError as exc:  # a summary never raises: say why the test is missing
                parts += ["", f"Pre-trend test not computable: {exc}"]
        return "\n".join(parts)

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """The regression tidy table plus ``event_time`` (the relative time of each event-time term; NaN for
        covariates). The reference period(s) are not rows (they are normalised to zero; see :meth:`table`)."""
        out = super().tidy(level)
        times = {event_term(k): k for k in self.event_times}
        out.insert(1, "event_time", out["term"].map(times).astype("Int64"))
        return out

    def plot(self, ax=None, path=None, **kwargs):
        """Event-study plot with pointwise intervals and the uniform band; returns ``(fig, ax)`` and saves the
        figure to ``path`` when given. Options as :func:`econ.did.plot_event_study`."""
        from econ.did.plots import plot_event_study

        return plot_event_study(self, ax=ax, path=path, **kwargs)
