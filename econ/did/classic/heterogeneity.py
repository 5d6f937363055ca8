"""Heterogeneous effects across subgroups, and the effect of treatment on candidate channels (mediators).

``subgroups`` answers "is the effect different in the east and the west?" with separate estimates *and* a formal
test of equality; ``channels`` reports the effect of the treatment on each candidate mechanism variable with the
same specification as the main regression. Neither is a causal decomposition -- see the caveats in ``channels``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from econ._tidy import CountsOfFit, SummaryRepr
from econ._validate import check_bool
from econ.did import _design
from econ.did.design import check_weights
from econ.did.classic.twfe import twfe
from econ.errors import EconError, SpecificationError, TreatmentError
from econ.panel.demean import factorize, interact
from econ.results import KeyedResults, WaldTest

__all__ = ["subgroups", "channels", "SubgroupResult", "ChannelsResult"]


def _row(result, term: str, level: float = 0.95) -> dict:
    ci_low, ci_high = result.confint(level).loc[term]
    return {
        "estimate": float(result.coef[term]),
        "se": float(result.se[term]),
        "tstat": float(result.tstat[term]),
        "pvalue": float(result.pvalue[term]),
        "ci_low": float(ci_low),
        "ci_high": float(ci_high),
        "nobs": int(result.nobs),
    }


@dataclass(repr=False)
class SubgroupResult(CountsOfFit, SummaryRepr):
    """Per-group TWFE estimates and a Wald test that they are equal.

    Attributes
    ----------
    table : DataFrame
        One row per group (separate regressions): estimate, se, tstat, pvalue, ci_low, ci_high, nobs, n_units,
        n_treated_units.
    equality_test : WaldTest
        H0: the effect is the same in every group (from the pooled interacted model).
    pooled : Result
        The pooled interacted model; ``pooled_terms`` maps group -> its treatment coefficient name.
    results : dict
        group -> Result of the separate regression (an unknown group raises ``SpecificationError`` naming the
        available ones).

    Examples
    --------
    >>> import econ
    >>> demo = econ.datasets.load("china_cities_demo")
    >>> sub = econ.did.subgroups(demo, "log_income_ratio", "prefecture_code", "year", "treated", by="region")
    >>> sub.table[["estimate", "se", "n_units"]].round(3)
             estimate     se  n_units
    region
    Central    -0.050  0.005      104
    East       -0.037  0.006      102
    West       -0.039  0.006      131
    >>> sub.equality_test.df, round(sub.equality_test.pvalue_chi2, 3)
    (2, 0.155)
    """

    table: pd.DataFrame
    equality_test: WaldTest
    pooled: object
    pooled_terms: dict
    results: dict
    by: str
    treat: str
    notes: list[str] = field(default_factory=list)
    _counts_from = "pooled"  # nobs, n_units (CountsOfFit)

    def tidy(self) -> pd.DataFrame:
        """One row per group: term, group, estimate, std_error, statistic, p_value, conf_low, conf_high, nobs,
        n_units, n_treated_units (the regression tidy columns plus the group key)."""
        return _tidy(self.table, self.treat, "group")

    def summary(self) -> str:
        """A title (treatment and grouping column), :attr:`table` (one row per group: estimate, se, tstat,
        pvalue, ci_low, ci_high, nobs, n_units, n_treated_units), the equality test (chi-square and F forms) and
        the notes."""
        t = self.equality_test
        lines = [f"Effect of {self.treat!r} by {self.by!r} (separate TWFE regressions)", self.table.to_string(),
                 repr(t)]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, path=None, **kwargs):
        """Coefficient plot of the per-group estimates with their 95% intervals; returns ``(fig, ax)`` and saves
        to ``path`` when given."""
        from econ.did.plots import plot_coefficients

        kwargs.setdefault("title", f"Effect by {self.by}")
        return plot_coefficients(self.table, ax=ax, path=path, **kwargs)


def subgroups(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    treat: str,
    *,
    by: str,
    covariates=None,
    fe=None,
    vcov=None,
    interact_fe: bool = True,
    weights: str | None = None,
) -> SubgroupResult:
    """TWFE DiD estimated separately in each group of ``by``, with a Wald test of equal effects.

    The per-group estimates come from separate :func:`econ.did.twfe` regressions on each group's rows. The test
    comes from one pooled regression on all rows with the treatment interacted with group dummies
    (``treat x 1[by == g]`` for every g) and, with ``interact_fe=True`` (default), the time effects (and any
    fixed effect other than ``unit``) and the covariate slopes also interacted with the groups. The pooled
    model then reproduces the separate point estimates exactly, and the Wald test of ``beta_g1 = ... = beta_gG``
    (chi-square with G-1 df, and F with G-1 and the pooled model's residual degrees of freedom) uses its single
    covariance matrix -- default clustered by unit, the same vcov as the separate regressions. With
    ``interact_fe=False`` the groups share time effects and covariate slopes (more power, stronger assumption) and
    the pooled estimates differ from the separate ones.

    Parameters
    ----------
    data : DataFrame
        Long panel (not modified).
    y, unit, time, treat : str
        Outcome, unit id, integer time and treatment columns (as :func:`econ.did.twfe`).
    by : str
        Group column, constant within unit (e.g. region, or a baseline characteristic): a unit cannot switch
        groups. Needs at least two groups, each with treated and untreated observations.
    covariates, fe, vcov
        As in :func:`econ.did.twfe` (default vcov clustered by unit).
    interact_fe : bool
        Interact the time effects and covariate slopes with the groups in the pooled model (default True).
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). Every regression (the separate fits and the pooled model)
        is weighted least squares. ``None``: equal weights.

    Returns
    -------
    SubgroupResult
        ``table`` (one row per group), ``equality_test`` (WaldTest), ``pooled`` (the interacted model),
        ``results`` (group -> separate fit), ``tidy()``, ``summary()``, ``plot()``.

    Raises
    ------
    SpecificationError
        ``by`` varies within a unit or has a single value; unknown columns, non-numeric or infinite values, a
        column named like the interactions subgroups() creates, or arguments of the wrong type.
    TreatmentError
        The effect is not identified in some group (names it), or the treatment does not fit a DiD design
        (not absorbing, constant, no untreated observations).
    PanelError
        Duplicate (unit, time) keys, missing unit ids or times, non-integer time (:func:`econ.io.validate_panel`).
    WeightsError
        Missing, negative, infinite or non-numeric weights (naming the rows).

    Notes
    -----
    Separate estimates: for every group ``g``, :func:`econ.did.twfe` on the rows with ``by == g``,
    ``y_it = beta_g D_it + X_it' gamma_g + alpha_i + lambda_gt + e_it``; the table reports these fits (their
    standard errors, t statistics with ``G_g - 1`` degrees of freedom for ``G_g`` clusters in the group).

    Equality test: the pooled regression
    ``y_it = sum_g beta_g D_it 1[by_i = g] + sum_g X_it' gamma_g 1[by_i = g] + alpha_i + lambda_gt + e_it``
    (``interact_fe=True``; with ``False`` the ``gamma`` and ``lambda_t`` are common) and
    ``W = (R b)' (R V R')^-1 (R b)`` with ``R b`` the G - 1 differences ``beta_g - beta_first``. ``W`` is compared
    with chi-square(G - 1); the F form ``W / (G - 1)`` with F(G - 1, ``df_t``), ``df_t`` the pooled model's t
    degrees of freedom: the number of clusters minus one with clustered errors (Stata's ``test`` after a
    clustered fit), ``df_resid`` otherwise -- the same rule as the per-group rows, whose t tests use ``G_g - 1``.
    (fixest's ``wald()`` uses ``df_resid`` whatever the covariance; with 31 province clusters on the demo panel
    the two give p = 0.2286 and 0.2121.) ``V``
    is the pooled model's covariance (default clustered by unit, fixest small-sample factor computed on the pooled
    sample), which accounts for the covariance between groups that share clusters and makes the test valid when
    groups are not independent samples (Clogg, Petkova and Haritou 1995 compare coefficients across separate
    models).

    References
    ----------
    Clogg, C. C., Petkova, E. and Haritou, A. (1995). Statistical methods for comparing regression coefficients
    between models. American Journal of Sociology 100(5), 1261-1293.

    Bertrand, M., Duflo, E. and Mullainathan, S. (2004). How much should we trust differences-in-differences
    estimates? Quarterly Journal of Economics 119(1), 249-275.

    Examples
    --------
    >>> import econ
    >>> demo = econ.datasets.load("china_cities_demo")
    >>> sub = econ.did.subgroups(demo, "log_income_ratio", "prefecture_code", "year", "treated", by="region")
    >>> sub.equality_test.df == demo["region"].nunique() - 1
    True
    """
    _design.check_data(data)
    y, treat, by = (_design.check_name(v, a) for v, a in ((y, "y"), (treat, "treat"), (by, "by")))
    covariates = _design.check_names(covariates, "covariates")
    fe, extra_fe = _design.fixed_effects(fe, unit, time)
    interact_fe = check_bool(interact_fe, "interact_fe")
    weights = _design.check_name(weights, "weights", optional=True)
    check_weights(data, weights)
    frame = _design.prepare_panel(data, unit, time, [y, treat, by, *covariates, *extra_fe, *_design.as_list(weights)],
                                  optional=_design.vcov_columns(vcov, unit, time))
    _design.check_treatment(frame, unit, time, treat)
    covariates, absorbed = _design.drop_absorbed(frame, covariates, fe)
    _design.require_unit_constant(frame[by], frame[unit], f"subgroup column {by!r}", SpecificationError)
    groups = sorted(pd.unique(frame[by]))
    if len(groups) < 2:
        dropped = "".join(f" ({n})" for n in _design.missing_notes(frame))
        raise SpecificationError(f"subgroup column {by!r} has a single value {groups}{dropped}: nothing to compare")

    results, rows = {}, {}
    for g in groups:
        part = frame.loc[frame[by] == g]
        try:
            res = twfe(part, y, unit, time, treat=treat, covariates=covariates, fe=fe, vcov=vcov, weights=weights)
        except EconError as exc:
            raise type(exc)(f"subgroup {by}={g!r}: {exc}") from None
        results[g] = res
        d = part[treat].to_numpy(dtype=float)
        rows[g] = {**_row(res, treat), "n_units": part[unit].nunique(),
                   "n_treated_units": part.loc[d != 0, unit].nunique()}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = by

    pooled, terms = _pooled(frame, y, unit, time, treat, by, groups, covariates, fe, vcov, interact_fe, weights)
    R = pd.DataFrame(0.0, index=range(len(groups) - 1), columns=list(pooled.coef.index))
    for i, g in enumerate(groups[1:]):
        R.loc[i, terms[groups[0]]], R.loc[i, terms[g]] = -1.0, 1.0
    test = pooled.wald_test(R)
    # one degrees-of-freedom rule for the table and the test: the model's own t degrees of freedom (G - 1 with
    # clustered errors, as the per-group rows use G_g - 1; n - K otherwise)
    df2 = float(pooled.df_t)
    p_f = float(stats.f.sf(test.F, test.df, df2)) if np.isfinite(df2) else test.pvalue_chi2
    test = WaldTest(f"effect of {treat} equal across {len(groups)} {by} groups", test.chi2, test.df,
                    test.pvalue_chi2, test.F, df2, p_f)
    notes = _design.missing_notes(frame) + absorbed + [
        "equality test from the pooled model with treatment x group dummies"
        + (", group-specific time effects and covariate slopes" if interact_fe else ", common time effects")
    ]
    groups_of = f"group ({by})"
    return SubgroupResult(table, test, pooled, KeyedResults(terms, what=groups_of),
                          KeyedResults(results, what=groups_of), by, treat, notes)


def _pooled(frame, y, unit, time, treat, by, groups, covariates, fe, vcov, interact_fe, weights=None):
    codes = {g: i for i, g in enumerate(groups)}
    made = [f"{treat}_x_g{i}" for i in codes.values()] + [f"{c}_x_g{i}" for c in covariates for i in codes.values()]
    made += [f"{f}_by_group" for f in fe]
    clash = [c for c in made if c in frame.columns]
    if clash:
        raise SpecificationError(f"column(s) {clash} clash with the interaction columns subgroups() creates; rename")
    frame = frame.copy()
    gcode = frame[by].map(codes).to_numpy()

    def split(col: str) -> list[str]:
        """Add ``col * 1[by == g]`` for every group g; return the new column names in group order."""
        names = [f"{col}_x_g{i}" for i in codes.values()]
        for name, i in zip(names, codes.values()):
            frame[name] = frame[col].to_numpy(dtype=float) * (gcode == i)
        return names

    regressors = split(treat)
    terms = dict(zip(codes, regressors))
    if interact_fe:
        for c in covariates:
            regressors += split(c)
        pooled_fe = [f if f == unit else f"{f}_by_group" for f in fe]
        for f in fe:
            if f != unit:
                frame[f"{f}_by_group"] = interact(factorize(frame[f])[:, 0], gcode)  # effect f within each group
    else:
        regressors += covariates
        pooled_fe = fe
    res = _design.fit(frame, y, regressors, pooled_fe, _design.default_vcov(vcov, unit), weights, unit=unit,
                      time=time)
    missing = [g for g, t in terms.items() if t not in res.coef.index or not np.isfinite(res.coef[t])]
    if missing:
        raise TreatmentError(f"treatment effect not identified in subgroup(s) {missing} of {by!r}")
    return res, terms


@dataclass(repr=False)
class ChannelsResult(SummaryRepr):
    """Effect of the treatment on the outcome (optional) and on each candidate channel, same specification.

    ``table`` has one row per variable (estimate, se, tstat, pvalue, ci_low, ci_high, nobs, role); ``results``
    maps variable -> Result (pass them to ``econ.etable`` for a side-by-side table).

    Examples
    --------
    See :func:`channels`.
    """

    table: pd.DataFrame
    results: dict
    treat: str
    notes: list[str] = field(default_factory=list)

    @property
    def nobs(self) -> int:
        """Rows used: the largest sample among the regressions (samples differ when variables have missing values)."""
        return max(r.nobs for r in self.results.values())

    @property
    def n_units(self) -> int | None:
        """Units: the most among the regressions."""
        counts = [r.n_units for r in self.results.values() if r.n_units is not None]
        return max(counts) if counts else None

    def tidy(self) -> pd.DataFrame:
        """One row per variable: term, variable, estimate, std_error, statistic, p_value, conf_low, conf_high,
        nobs, role."""
        return _tidy(self.table, self.treat, "variable")

    def summary(self) -> str:
        """A title, :attr:`table` (one row per variable: estimate, se, tstat, pvalue, ci_low, ci_high, nobs,
        role), the caveat that these are effects on each variable, not a mediation decomposition, and the notes."""
        lines = [f"Effect of {self.treat!r} on the outcome and candidate channels (same TWFE specification)",
                 self.table.to_string(), _CAVEAT]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, path=None, **kwargs):
        """Coefficient plot of the effect on the outcome and each channel (95% intervals); returns ``(fig, ax)``
        and saves to ``path`` when given."""
        from econ.did.plots import plot_coefficients

        kwargs.setdefault("title", f"Effect of {self.treat} on the outcome and channels")
        return plot_coefficients(self.table, ax=ax, path=path, **kwargs)


def _tidy(table: pd.DataFrame, treat: str, key: str) -> pd.DataFrame:
    out = table.reset_index().rename(columns={table.index.name or "index": key, "se": "std_error",
                                              "tstat": "statistic", "pvalue": "p_value", "ci_low": "conf_low",
                                              "ci_high": "conf_high"})
    out.insert(0, "term", treat)
    return out


_CAVEAT = (
    "Caveat: each row is the effect of the treatment on that variable. The mediators are outcomes themselves; "
    "without sequential ignorability (Imai, Keele and Yamamoto 2010) these estimates do not decompose the effect "
    "on the outcome into channels, and regressing the outcome on treatment and mediator (the 'stepwise' mediation "
    "test) is not a causal test of mediation (Jiang 2022)."
)


def channels(
    data: pd.DataFrame,
    y: str | None,
    unit: str,
    time: str,
    treat: str,
    *,
    mediators,
    covariates=None,
    fe=None,
    vcov=None,
    weights: str | None = None,
) -> ChannelsResult:
    """Effect of ``treat`` on each candidate channel (mediator), side by side, with the main specification.

    Each mediator ``m`` is regressed with :func:`econ.did.twfe` exactly as the outcome is (same fixed effects,
    covariates and vcov): ``m_it = theta_m D_it + X_it' g + a_i + l_t + e_it``. If ``y`` is given (not ``None``)
    its row comes first. A positive ``theta_m`` says the treatment moved the mechanism variable -- the first link
    of the story.

    Parameters
    ----------
    data : DataFrame
        Long panel (not modified).
    y : str or None
        Outcome column (its row comes first), or ``None`` for the channels only.
    unit, time, treat : str
        Unit id, integer time and treatment columns.
    mediators : str or list of str (keyword)
        Candidate channel columns.
    covariates, fe, vcov
        As in :func:`econ.did.twfe`.
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). Every row's regression is weighted least squares. ``None``: equal
        weights.

    Returns
    -------
    ChannelsResult
        ``table`` (one row per variable, with its role), ``results`` (variable -> fit), ``tidy()``, ``summary()``,
        ``plot()``.

    Raises
    ------
    SpecificationError
        No mediator, a variable listed twice, unknown columns, non-numeric or infinite values, arguments of the
        wrong type.
    TreatmentError
        The treatment does not fit a DiD design for some variable's sample (names the variable).
    PanelError
        Duplicate (unit, time) keys, missing unit ids or times, non-integer time (:func:`econ.io.validate_panel`).
    WeightsError
        Missing, negative, infinite or non-numeric weights (naming the rows).

    Notes
    -----
    Each row is a separate :func:`econ.did.twfe` fit with the same specification,
    ``m_it = theta_m D_it + X_it' g_m + a_i + l_t + e_it``, on the rows where ``m`` (and the other model columns)
    are observed, so samples can differ across rows (noted). Conventions are twfe's: unit and time effects,
    default clustering by unit with the fixest small-sample factor and ``G - 1`` degrees of freedom.

    Caveats (read before writing "the effect works through m"):

    * Mediators are outcomes of the treatment themselves. ``theta_m`` is a causal effect on ``m`` under the same
      parallel-trends assumption as the main result, and nothing more.
    * The share of the effect on ``y`` that runs through ``m`` is *not* identified by these regressions. Identifying
      it needs sequential ignorability -- the mediator as good as randomly assigned given treatment and covariates
      (Imai, Keele and Yamamoto 2010, Statistical Science 25(1): 51-71) -- which a DiD design does not deliver.
    * Hence no Baron-Kenny / Sobel "stepwise" mediation test (adding ``m`` to the outcome regression) is offered:
      ``m`` is a bad control there, and the coefficient change is not a causal mediation effect. Jiang Ting (2022,
      "Mediating and moderating effects in empirical studies of causal inference", China Industrial Economics
      2022(5): 100-120) documents this misuse in Chinese economics and recommends exactly what this function does:
      show the treatment's effect on mechanism variables whose link to the outcome is direct and well established.

    References
    ----------
    Imai, K., Keele, L. and Yamamoto, T. (2010). Identification, inference and sensitivity analysis for causal
    mediation effects. Statistical Science 25(1), 51-71.

    Jiang, T. (2022). Mediating and moderating effects in empirical studies of causal inference (in Chinese).
    China Industrial Economics 2022(5), 100-120.

    Baron, R. M. and Kenny, D. A. (1986). The moderator-mediator variable distinction in social psychological
    research: conceptual, strategic, and statistical considerations. Journal of Personality and Social
    Psychology 51(6), 1173-1182.

    Examples
    --------
    >>> import econ
    >>> demo = econ.datasets.load("china_cities_demo")
    >>> ch = econ.did.channels(demo, "log_income_ratio", "prefecture_code", "year", "treated",
    ...                        mediators=["new_firms_per_10k"])
    >>> ch.table[["estimate", "se", "role"]].round(3)
                       estimate     se      role
    variable
    log_income_ratio     -0.043  0.003   outcome
    new_firms_per_10k     1.152  0.048  mediator
    """
    _design.check_data(data)
    y = _design.check_name(y, "y", optional=True)
    treat = _design.check_name(treat, "treat")
    mediators = _design.check_names(mediators, "mediators")
    if not mediators:
        raise SpecificationError("give at least one mediator column")
    variables = ([y] if y is not None else []) + mediators
    dup = [v for v in variables if variables.count(v) > 1]
    if dup:
        raise SpecificationError(f"variable(s) listed twice: {sorted(set(dup))}")
    _design.require_columns(data, variables, "outcome/mediator column")
    results, rows = {}, {}
    for v in variables:
        try:
            res = twfe(data, v, unit, time, treat=treat, covariates=covariates, fe=fe, vcov=vcov, weights=weights)
        except EconError as exc:
            raise type(exc)(f"channel {v!r}: {exc}") from None
        results[v] = res
        rows[v] = {**_row(res, treat), "role": "outcome" if v == y else "mediator"}
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "variable"
    nobs = table["nobs"].unique()
    notes = [] if len(nobs) == 1 else ["samples differ across rows (missing values differ by variable)"]
    return ChannelsResult(table, KeyedResults(results, what="variable"), treat, notes)
