"""Borusyak, Jaravel and Spiess (2024) imputation estimator, conservative standard errors and pre-trend test.

1. Fit ``y_it = a_i + l_t + X_it' b + e_it`` on the untreated observations ``Omega_0`` (never-treated units and
   not-yet-treated periods) only.
2. Impute ``Y_it(0)`` for every treated observation and take ``tau_it = y_it - a_i - l_t - X_it' b``.
3. Average: ``tau_h`` is the mean of ``tau_it`` over treated observations at horizon ``h = t - cohort``; the overall
   ATT the mean over all treated observations in the chosen horizons (equal weights per observation, BJS eq. 3).

Each estimate is linear in the outcomes, ``tau_w = sum_it v_it y_it`` with ``v_it = w_it`` on treated observations
and ``v = -Z_0 (Z_0'Z_0)^{-1} Z_1' w`` on untreated ones (BJS Theorem 1); the conservative variance (Theorem 3) is
``sum_i (sum_t v_it eps_it)^2`` with untreated residuals ``eps_it`` from step 1 and, for treated observations,
``eps_it = tau_it - tau_tilde_g``, ``tau_tilde_g = sum v_it^2 tau_it / sum v_it^2`` within cohort x horizon groups
``g`` (their eq. 8 with at most one observation per unit and group; R ``didimputation`` and diff-diff's default).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ import _validate
from econ.did import _conley, _design, _paths
from econ.did.design import balance_of, build_design, unbalanced_note
from econ.did.classic.event_study import event_term
from econ.errors import EconError, SpecificationError, TreatmentError
from econ.panel.demean import Absorber
from econ.results import wald, wald_df2
from econ.survey import survey_spec

__all__ = ["imputation", "ImputationResult"]


class ImputationResult(_paths.EventPathResult):
    """Imputation event study: a :class:`~econ.results.Result` over the horizon effects (and pre-trend leads).

    ``coef`` holds ``rel_0``, ``rel_p1``... (and, with ``pretrends=K``, the leads ``rel_mK`` ... ``rel_m1``), with
    the joint covariance from the per-unit influence of each estimate (normal inference, ``df_t = inf``).
    Extra attributes: ``event_times``, ``overall_att``, ``overall_se``, ``effects`` (one row per treated
    observation: unit, time, cohort, event_time, tau), ``pretrend_result`` (the lead regression, a Result, or None).

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import imputation
    >>> res = imputation(datasets.load("china_cities_demo"), "log_income_ratio", "prefecture_code", "year", "cohort",
    ...                  horizons=[0, 1, 2], pretrends=2)
    >>> res.tidy()[["term", "event_time", "estimate", "std_error"]].round(3)
         term  event_time  estimate  std_error
    0  rel_m2          -2    -0.009      0.003
    1  rel_m1          -1    -0.007      0.004
    2   rel_0           0    -0.020      0.003
    3  rel_p1           1    -0.036      0.004
    4  rel_p2           2    -0.055      0.004
    >>> res.effects.shape, round(res.overall_att, 3)  # one imputed effect per treated observation
    ((898, 5), -0.037)
    >>> res.pretrend_test().df
    2
    """

    path_label = "imputation (BJS)"

    def __init__(self, coef, vcov, *, event_times, overall, effects, pretrend_result, **kwargs):
        super().__init__(coef, vcov, event_times=event_times, overall=overall, **kwargs)
        self.effects = effects
        self.pretrend_result = pretrend_result

    def pretrend_test(self, df: str = "resid"):
        """BJS Test 1: Wald test that the lead coefficients of the untreated-only regression are all zero.

        ``df`` is the F form's denominator: ``"resid"`` (default, fixest's ``wald()``) the regression's residual
        degrees of freedom, ``"cluster"`` ``G - 1`` (Stata's ``test``, as BJS's ``did_imputation``); a singular
        covariance of the leads uses the generalized inverse with a note (see
        :meth:`econ.did.EventStudyResult.pretrend_test`).
        """
        if self.pretrend_result is None:
            raise SpecificationError("fit imputation(..., pretrends=K) to test K pre-treatment leads")
        r = self.pretrend_result
        leads = [t for t in r.coef.index if t.startswith("rel_m")]
        df2, rule = wald_df2(r, df)
        return wald(r.coef[leads].to_numpy(), r.vcov.loc[leads, leads].to_numpy(), np.eye(len(leads)), df2,
                    f"all {len(leads)} pre-treatment leads = 0 (untreated observations only)", singular="pinv",
                    df2_rule=rule)

    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        text = (super().summary(level, digits) + f"\nOverall ATT (mean over treated observations): "
                f"{self.overall_att:.{digits}f} (s.e. {self.overall_se:.{digits}f})")
        if self.pretrend_result is not None:
            text += f"\nPre-trend {self.pretrend_test()!r}"
        return text


def imputation(data: pd.DataFrame, y: str, unit: str, time: str, cohort: str, *, covariates=None, horizons=None,
               pretrends=None, vcov=None, weights: str | None = None,
               balance: bool = False) -> ImputationResult:
    """Borusyak, Jaravel and Spiess (2024) imputation estimator of staggered DiD effects.

    Parameters
    ----------
    data : DataFrame
        Long panel (balanced or not), one row per (unit, time); never modified.
    y, unit, time : str
        Outcome, unit id and integer time columns.
    cohort : str
        First treated period (0 or missing = never treated).
    covariates : list of str, optional
        Time-varying controls in the untreated model (their coefficients are estimated on ``Omega_0`` only).
    horizons : sequence of int, optional
        Horizons ``h >= 0`` to report (default: every horizon observed). The overall ATT averages the treated
        observations at these horizons.
    pretrends : int, optional
        Number of leads ``K`` for BJS Test 1: on the untreated observations, regress ``y`` on unit and period
        effects (and covariates) and dummies for ``h = -1, ..., -K`` (reference: earlier periods and never-treated
        units), clustered by unit; ``pretrend_test()`` is their joint Wald test.
    vcov : None, {"conley": {...}} or {"survey": {...}}
        ``None``: BJS's conservative unit-clustered variance; ``{"conley": {...}}``: the same influences with a
        spatial kernel over units (:mod:`econ.did._conley`); ``{"survey": {"strata": .., "psu": .., "fpc": ..}}``
        (or an :class:`econ.survey.SurveyDesign`; design columns constant within unit): the Taylor-linearised
        design-based variance of the per-unit influences (:mod:`econ.survey`).
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). They weight the untreated-only regression (WLS) and the
        treated observations in every average (``w_it`` proportional to the weight); rows with weight zero are
        dropped with a note. ``None``: equal weights.
    balance : bool, default False
        ``False`` keeps an unbalanced panel whole: the untreated model and the imputed effects use every observed
        row (BJS's estimator needs no balance; R ``didimputation`` and diff-diff ``ImputationDiD`` do the same),
        and a note reports the sample (units, rows, units observed in fewer than all periods); ``nobs`` and
        ``n_units`` count the rows and units used. ``True`` drops the units not observed in every period first
        (a note and an :class:`~econ.errors.EconWarning`), as :func:`econ.did.att_gt`'s ``balance=True``.

    Returns
    -------
    ImputationResult
        Horizon effects (``rel_0``, ``rel_p1``, ...; leads ``rel_m1``... with ``pretrends``), overall ATT,
        per-observation effects, ``pretrend_test()``, ``summary()``, ``plot()``.

    Raises
    ------
    TreatmentError
        Invalid cohorts, no comparison observations, a horizon with no treated observation.
    WeightsError
        Missing, negative, infinite or non-numeric weights (naming the rows).
    SpecificationError
        Bad ``horizons`` / ``pretrends`` / ``vcov``, or collinear covariates in the untreated model.
    PanelError
        Conley coordinates missing, out of range or varying within a unit.

    Notes
    -----
    Step 1 uses :class:`econ.panel.demean.Absorber` for the unit effects on ``Omega_0`` and a dense solve for the
    period effects and covariates (Frisch-Waugh); treated observations of units never untreated, or in periods with
    no untreated observation, cannot be imputed and are dropped with a note. Standard errors are BJS Theorem 3's
    conservative, unit-clustered estimator without small-sample factor or leave-out refinement (R
    ``didimputation``; diff-diff ``ImputationDiD`` defaults), with normal critical values. The covariance between
    two estimates is ``sum_i psi_ia psi_ib`` with the same per-unit influences ``psi_i = sum_t v_it eps_it``; the
    lead coefficients enter with their own (unadjusted) cluster scores, so ``honest()`` can use the path.
    With ``weights`` step 1 is weighted least squares, ``tau_h = sum w_it tau_it / sum w_it`` over the treated
    observations at ``h`` and ``v = -Omega Z_0 (Z_0' Omega Z_0)^{-1} Z_1' w`` (``Omega`` the untreated weights),
    as R ``didimputation``'s ``wname`` and pyfixest's ``did2s(weights=)``; integer weights equal duplicated rows.

    References
    ----------
    Borusyak, K., Jaravel, X. and Spiess, J. (2024). Revisiting event-study designs: robust and efficient
    estimation. Review of Economic Studies 91(6), 3253-3285.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import imputation
    >>> df = datasets.load("china_cities_demo")
    >>> res = imputation(df, "log_income_ratio", "prefecture_code", "year", "cohort", horizons=[0, 1, 2])
    >>> list(res.tidy()["term"])
    ['rel_0', 'rel_p1', 'rel_p2']
    """
    covariates = _design.as_list(covariates)
    survey = survey_spec(vcov, "imputation")
    conley = None if survey else _conley.conley_spec(vcov, "imputation")
    if vcov is not None and conley is None and survey is None:
        raise SpecificationError(f"imputation: vcov must be None (unit-clustered, BJS), {{'conley': {{...}}}} or "
                                 f"{{'survey': {{...}}}}, got {vcov!r}")
    design = build_design(data, y, unit, time, cohort, covariates=covariates, weights=weights,
                          balance=balance_of(balance, "imputation"))
    frame, cohorts, notes = design.frame, design.cohorts, list(design.notes)
    if weights is not None:
        zero = frame[weights].to_numpy(dtype=float) == 0
        if zero.any():
            frame = frame.loc[~zero].reset_index(drop=True)
            notes.append(f"{int(zero.sum())} observation(s) with zero weight dropped")
    g = frame[unit].map(cohorts).to_numpy(dtype="int64")
    t = frame[time].to_numpy(dtype="int64")
    treated = t >= g
    frame, treated, notes = _imputable(frame, treated, unit, time, notes)
    g = frame[unit].map(cohorts).to_numpy(dtype="int64")
    t = frame[time].to_numpy(dtype="int64")
    rel = np.where(treated, t - np.where(treated, g, 0), 0)
    hs = _horizons(horizons, rel[treated])
    yv = _design.numeric(frame, y)
    X = np.column_stack([_design.numeric(frame, c) for c in covariates]) if covariates else np.zeros((len(frame), 0))
    w = np.ones(len(frame)) if weights is None else frame[weights].to_numpy(dtype=float)

    fit = _untreated_fit(frame[unit].to_numpy(), t, yv, X, treated, covariates, None if weights is None else w)
    tau = yv[treated] - fit.predict(frame[unit].to_numpy()[treated], t[treated], X[treated])
    rel1, g1, w1 = rel[treated], g[treated], w[treated]
    in_h = np.isin(rel1, hs)
    W1 = np.column_stack([w1 * (rel1 == h) / (w1 * (rel1 == h)).sum() for h in hs] + [w1 * in_h / (w1 * in_h).sum()])
    V0 = fit.untreated_weights(frame[unit].to_numpy()[treated], t[treated], X[treated], W1)
    theta = W1.T @ tau
    _check_linear(theta, V0, W1, yv, treated)
    psi = _influence(frame[unit].to_numpy(), treated, V0, W1, fit.resid, tau, g1, rel1)
    kernel = (_conley.UnitKernel.from_data(data, unit, pd.unique(frame[unit]), conley, "imputation")
              if conley else None)
    if survey:
        kernel = survey.for_units(data, unit, pd.unique(frame[unit]), "imputation survey design")
    meat = (lambda s: s.T @ s) if kernel is None else kernel.meat  # noqa: E731
    vcov = meat(psi)

    terms, event_times = [event_term(h) for h in hs], list(hs)
    coef = theta[:-1]
    pre = None
    if pretrends is not None:
        pre, psi_pre = _pretrend_fit(frame, y, unit, time, covariates, treated, g, t, pretrends, weights)
        lead_terms = [event_term(-k) for k in range(pretrends, 0, -1)]
        lead_rows = _unit_sums(*psi_pre)
        terms, event_times = lead_terms + terms, list(range(-pretrends, 0)) + event_times
        coef = np.concatenate([pre.coef[lead_terms].to_numpy(), coef])
        joint = np.hstack([lead_rows, psi[:, :-1]])
        vcov_path = meat(joint)
    else:
        vcov_path = vcov[:-1, :-1]
    effects = pd.DataFrame({unit: frame[unit].to_numpy()[treated], time: t[treated], "cohort": g1, "event_time": rel1,
                            "tau": tau})
    notes.append(f"imputation (BJS 2024): untreated model fitted on {int((~treated).sum())} observations; "
                 f"{int(treated.sum())} treated observations imputed; conservative unit-clustered standard errors "
                 "(Theorem 3, cohort x horizon groups)")
    unbalanced = unbalanced_note(frame, unit, time, "the untreated model is fitted on every untreated row and "
                                 "every treated row is imputed")
    if unbalanced:
        notes.insert(len(notes) - 1, unbalanced)
    if conley:
        notes += _conley.influence_notes(conley, kernel)
    elif survey:
        notes.append(f"standard errors: {kernel.label} of the per-unit influences; PSUs counted on the whole input")
    return ImputationResult(
        pd.Series(coef, index=terms), vcov_path, event_times=event_times,
        overall=(float(theta[-1]), float(np.sqrt(vcov[-1, -1]))), effects=effects, pretrend_result=pre,
        nobs=len(frame), df_resid=len(frame) - fit.n_params, notes=notes,
        model="Imputation event study (Borusyak, Jaravel and Spiess 2024)", depvar=y,
        vcov_type="conservative (BJS Theorem 3), " + ("clustered" if kernel is None else kernel.label),
        cluster=unit if kernel is None else None, n_clusters=len(psi) if kernel is None else None,
        df_t=np.inf,
        n_units=int(frame[unit].nunique()))


class _UntreatedFit:
    """``y = a_i + l_t + X b`` on the untreated rows: unit effects absorbed, period effects and X solved densely
    (weighted least squares with weights ``w0``)."""

    def __init__(self, units0, t0, y0, X0, periods, w0=None):
        self.periods = periods  # periods with untreated observations; the first is the reference
        self.unit_codes, levels = pd.factorize(units0)
        self.unit_levels = pd.Index(levels)
        self.w0 = np.ones(len(y0)) if w0 is None else w0
        R0 = self._design(t0, X0)
        self.absorber = Absorber(self.unit_codes[:, None], weights=w0)
        both = self.absorber.demean(np.column_stack([y0, R0]))
        yt, self.Rt = both[:, 0], both[:, 1:]
        self.S = self.Rt.T @ (self.w0[:, None] * self.Rt)
        if self.S.size and np.linalg.matrix_rank(self.S) < self.S.shape[0]:
            raise SpecificationError("the untreated-only model is not identified: covariates are collinear with the "
                                     "unit and period effects (or the untreated observations are not connected)")
        self.gamma = np.linalg.solve(self.S, self.Rt.T @ (self.w0 * yt)) if self.S.size else np.zeros(0)
        self.resid = yt - self.Rt @ self.gamma
        n0 = np.bincount(self.unit_codes, weights=self.w0)  # (weighted) untreated count per unit
        self.n0 = n0
        self.alpha = np.bincount(self.unit_codes, self.w0 * (y0 - R0 @ self.gamma)) / n0
        self.R0 = R0
        self.n_params = len(self.unit_levels) + R0.shape[1]

    def _design(self, t, X):
        pos = np.searchsorted(self.periods, t)
        D = np.zeros((len(t), len(self.periods) - 1))
        hit = pos > 0
        D[np.flatnonzero(hit), pos[hit] - 1] = 1.0
        return np.hstack([D, X])

    def _codes(self, units):
        codes = self.unit_levels.get_indexer(units)
        if (codes < 0).any():
            raise EconError("internal: a treated unit has no untreated observation")
        return codes

    def predict(self, units1, t1, X1):
        return self.alpha[self._codes(units1)] + self._design(t1, X1) @ self.gamma

    def untreated_weights(self, units1, t1, X1, W1):
        """``v`` on the untreated rows (n0 x targets) of each target's treated weights ``W1`` (n1 x targets)."""
        per_unit = np.zeros((len(self.unit_levels), W1.shape[1]))
        np.add.at(per_unit, self._codes(units1), W1)
        a0 = per_unit[self.unit_codes] * (self.w0 / self.n0[self.unit_codes])[:, None]
        h = self._design(t1, X1).T @ W1 - self.R0.T @ a0
        return -(a0 + (self.w0[:, None] * self.Rt) @ np.linalg.solve(self.S, h)) if self.S.size else -a0


def _untreated_fit(units, t, yv, X, treated, covariates, w=None):
    untreated = ~treated
    periods = np.unique(t[untreated])
    return _UntreatedFit(units[untreated], t[untreated], yv[untreated], X[untreated], periods,
                         None if w is None else w[untreated])


def _imputable(frame, treated, unit, time, notes):
    """Drop treated rows that cannot be imputed: units with no untreated row, periods with no untreated row."""
    units = frame[unit].to_numpy()
    has0 = pd.Series(~treated).groupby(units).any()
    no_base = has0.index[~has0.to_numpy()]
    periods0 = np.unique(frame[time].to_numpy()[~treated])
    bad_unit = np.isin(units, no_base)
    bad_time = treated & ~np.isin(frame[time].to_numpy(), periods0)
    drop = bad_unit | bad_time
    if bad_unit.any():
        notes.append(f"{len(no_base)} unit(s) treated in every observed period cannot be imputed and are dropped, "
                     f"e.g. {unit}={_design._show(no_base, 3)}")
    if bad_time.any():
        notes.append(f"{int((bad_time & ~bad_unit).sum())} treated observation(s) in periods with no untreated "
                     "observation cannot be imputed and are dropped")
    if drop.any():
        frame = frame.loc[~drop].reset_index(drop=True)
        treated = treated[~drop]
    if not treated.any():
        raise TreatmentError("no treated observation can be imputed (no untreated observations in their periods)")
    return frame, treated, notes


def _horizons(horizons, rel1):
    observed = np.unique(rel1)
    if horizons is None:
        return [int(h) for h in observed]
    try:
        hs = sorted({_validate.check_int(h, "horizons", minimum=0) for h in horizons})
    except TypeError:
        raise SpecificationError(f"horizons must be a sequence of non-negative integers, got {horizons!r}") from None
    missing = [h for h in hs if h not in observed]
    if missing or not hs:
        raise TreatmentError(f"no treated observation at horizon(s) {missing or horizons}; observed horizons are "
                             f"{observed.tolist()}")
    return hs


def _check_linear(theta, V0, W1, yv, treated):
    """Theorem 1: each estimate equals sum v_it y_it; a failure would mean wrong weights, hence wrong SEs."""
    recon = W1.T @ yv[treated] + V0.T @ yv[~treated]
    scale = max(1.0, float(np.abs(yv).max()))
    if not np.allclose(recon, theta, rtol=0, atol=1e-8 * scale):
        raise EconError("internal check failed: imputation weights do not reproduce the estimates; please report")


def _influence(units, treated, V0, W1, resid0, tau, g1, rel1):
    """Per-unit influence ``psi_i = sum_t v_it eps_it`` (units x targets), BJS Theorem 3."""
    codes, levels = pd.factorize(units)
    groups = pd.factorize(pd.Series(list(zip(g1, rel1))))[0]
    v2 = W1**2
    num = np.zeros((groups.max() + 1, W1.shape[1]))
    den = np.zeros_like(num)
    np.add.at(num, groups, v2 * tau[:, None])
    np.add.at(den, groups, v2)
    with np.errstate(invalid="ignore", divide="ignore"):
        tau_tilde = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
    eps1 = tau[:, None] - tau_tilde[groups]
    psi = np.zeros((len(levels), W1.shape[1]))
    np.add.at(psi, codes[treated], W1 * eps1)
    np.add.at(psi, codes[~treated], V0 * resid0[:, None])
    return psi


def _pretrend_fit(frame, y, unit, time, covariates, treated, g, t, pretrends, weights=None):
    """BJS Test 1 regression on untreated rows; returns the fit and its per-row lead scores."""
    k = _validate.check_int(pretrends, "pretrends", minimum=1)
    sub = frame.loc[~treated].reset_index(drop=True)
    rel0 = np.where(g[~treated] != _design.NEVER, t[~treated] - np.where(g[~treated] != _design.NEVER,
                                                                          g[~treated], 0), 0)
    terms = [event_term(-j) for j in range(k, 0, -1)]
    clash = [c for c in terms if c in sub.columns]
    if clash:
        raise SpecificationError(f"column(s) {clash} clash with the lead dummies imputation creates")
    leads = pd.DataFrame({event_term(-j): ((rel0 == -j) & (g[~treated] != _design.NEVER)).astype(float)
                          for j in range(k, 0, -1)})
    if (leads.sum(axis=0) == 0).any():
        raise TreatmentError(f"pretrends={k}: some lead has no untreated observation; use fewer leads")
    sub = pd.concat([sub, leads], axis=1)
    fit = _design.fit(sub, y, [*terms, *covariates], [unit, time], {"CL1": unit}, weights)
    d = fit.design
    wd = np.ones(len(d.X)) if d.weights is None else d.weights
    scores = (d.X * (wd * fit.extra["resid_demeaned"])[:, None]) @ np.linalg.inv(d.X.T @ (wd[:, None] * d.X))
    idx = [d.names.index(c) for c in terms]
    units_all = frame[unit].to_numpy()
    return fit, (units_all, sub[unit].to_numpy()[d.rows], scores[:, idx])


def _unit_sums(units_all, units_rows, scores):
    """Sum the lead scores by unit, aligned with the units of the main influence matrix."""
    codes, levels = pd.factorize(units_all)
    pos = pd.Index(levels).get_indexer(units_rows)
    out = np.zeros((len(levels), scores.shape[1]))
    np.add.at(out, pos, scores)
    return out
