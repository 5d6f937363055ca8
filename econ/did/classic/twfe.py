"""Two-way fixed-effects difference-in-differences: ``y_it = beta D_it + X_it' gamma + alpha_i + lambda_t + e_it``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from econ.did import _design
from econ.did.design import build_design, check_weights
from econ.errors import SpecificationError, TreatmentError

__all__ = ["twfe"]

COHORT_TERM = "treated"  # coefficient name of the dummy twfe builds from a cohort column


def twfe(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    cohort: str | None = None,
    *,
    treat: str | None = None,
    covariates=None,
    fe=None,
    vcov=None,
    weights: str | None = None,
):
    """Two-way fixed-effects DiD regression of ``y`` on a treatment dummy or intensity.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per (unit, time); validated with :func:`econ.io.validate_panel` and never modified.
    y, unit, time : str
        Outcome, unit id and integer time columns.
    cohort : str, optional
        The first treated period of each unit, in the same position as in every other DiD function (read by
        :func:`econ.did.design.build_design`: ``0``, NaN, ``<NA>`` or ``inf`` = never treated). The dummy
        ``1[t >= cohort_i]`` is built and its coefficient is named ``"treated"``. For backward compatibility a
        column given here that varies within units (a 0/1 dummy or an intensity, never a cohort) is read as
        ``treat=`` with a FutureWarning.
    treat : str, optional (keyword)
        Instead of ``cohort``: a binary absorbing treatment (0/1; once a unit is treated it stays treated -- e.g.
        the post-pilot dummy of Broadband China) or a continuous treatment intensity (any real values). Give
        exactly one of ``treat`` and ``cohort``.
    covariates : list of str, optional
        Time-varying controls added linearly. Covariates without variation within units (time-invariant) are
        absorbed by the unit effects: they are dropped with a note, as fixest does.
    fe : list of str, optional
        Fixed effects to absorb; default ``[unit, time]`` (unit and period effects).
    vcov : optional
        Any :func:`econ.feols` vcov spec; its columns (cluster ids, coordinates) need not be model variables.
        **Default: clustered by unit** (``{"CL1": unit}``), which allows arbitrary serial correlation within a unit
        (Bertrand, Duflo and Mullainathan 2004).
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). The regression is weighted least squares (analytic
        weights, fixest's ``weights=``). ``None``: equal weights.

    Returns
    -------
    econ.panel.FeolsResult
        The coefficient of interest is ``result.coef[treat]`` (``result.coef["treated"]`` with ``cohort=``).
        ``notes`` records dropped rows and, for staggered binary adoption, that TWFE averages cohort-period effects
        with weights that can be negative when effects vary over time (Goodman-Bacon 2021; de Chaisemartin and
        D'Haultfoeuille 2020), pointing to the heterogeneity-robust estimators ``econ.did.att_gt``,
        ``econ.did.sun_abraham``, ``econ.did.imputation`` and ``econ.did.compare``.

    Raises
    ------
    TreatmentError
        A binary treatment that switches off (names the units), no untreated observations, a constant treatment,
        a cohort cell that is not a period, or a design in which no treated unit is observed before and after
        treatment (the coefficient is not identified).
    SpecificationError
        Unknown columns, non-numeric or infinite values, arguments of the wrong type, both or neither of ``treat``
        and ``cohort``, a model column named ``"treated"`` with ``cohort=``.
    PanelError
        Duplicate (unit, time) keys, missing unit ids or times, non-integer time (:func:`econ.io.validate_panel`).

    Notes
    -----
    The model is ``y_it = beta D_it + X_it' gamma + alpha_i + lambda_t + e_it``, estimated by least squares with the
    fixed effects absorbed (:func:`econ.feols`). With a binary absorbing ``D`` adopted by all treated units in the
    same period, a balanced panel and no covariates, ``beta`` is the 2x2 DiD of the treated-minus-control gap
    averaged over post- minus pre-treatment periods: the ATT averaged over post-treatment periods under parallel
    trends and no anticipation. With staggered adoption ``beta`` is a weighted average of all 2x2 DiDs, including
    those that use already-treated units as controls (Goodman-Bacon 2021, Theorem 1; see :func:`econ.did.bacon`):
    with effects constant over time it is a variance-weighted ATT with positive weights, with effects that change
    over time it can fall outside the range of the cohort-period effects.

    Conventions: rows with a missing value in a model column are dropped (noted); observations in singleton
    fixed-effect groups are dropped iteratively (the :func:`econ.feols` default, as Stata's ``reghdfe``). With the
    default clustering by unit the covariance has the fixest small-sample factor
    ``(n - 1) / (n - K) * G / (G - 1)`` with ``K`` = slopes + number of periods (the unit effects, nested in the
    clusters, are not counted: fixest's ``fixef.K = "nested"``); t tests and intervals use ``G - 1`` degrees of
    freedom (:mod:`econ.panel.vcov`). There is no base period: every period enters through its time effect.

    References
    ----------
    Bertrand, M., Duflo, E. and Mullainathan, S. (2004). How much should we trust differences-in-differences
    estimates? Quarterly Journal of Economics 119(1), 249-275.

    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing. Journal of
    Econometrics 225(2), 254-277.

    de Chaisemartin, C. and D'Haultfoeuille, X. (2020). Two-way fixed effects estimators with heterogeneous
    treatment effects. American Economic Review 110(9), 2964-2996.

    Examples
    --------
    >>> import econ
    >>> demo = econ.datasets.load("china_cities_demo")
    >>> fit = econ.did.twfe(demo, "log_income_ratio", "prefecture_code", "year", treat="treated")
    >>> bool(fit.coef["treated"] < 0)
    True
    >>> same = econ.did.twfe(demo, "log_income_ratio", "prefecture_code", "year", "cohort")
    >>> bool(abs(same.coef["treated"] - fit.coef["treated"]) < 1e-10)
    True
    """
    _design.check_data(data)
    y = _design.check_name(y, "y")
    treat = _design.check_name(treat, "treat", optional=True)
    cohort = _design.check_name(cohort, "cohort", optional=True)
    if (treat is None) == (cohort is None):
        raise SpecificationError("twfe: give exactly one of cohort (first treated period) and treat= (0/1 or "
                                 "intensity column)")
    if cohort is not None and _is_treatment(data, unit, cohort):
        warnings.warn(f"twfe: the fifth argument is now the cohort (first treated period); {cohort!r} varies within "
                      f"units, so it is read as treat={cohort!r} -- write treat={cohort!r}", FutureWarning,
                      stacklevel=2)
        cohort, treat = None, cohort
    covariates = _design.check_names(covariates, "covariates")
    fe, extra_fe = _design.fixed_effects(fe, unit, time)
    wcol = _design.as_list(_design.check_name(weights, "weights", optional=True))
    if isinstance(data, pd.DataFrame):
        check_weights(data, weights)  # missing or negative weights: WeightsError, as in every DiD estimator
    model_cols = [y, *([treat] if treat is not None else []), *covariates, *extra_fe, *wcol]
    kind = "binary"
    if treat is not None:
        frame = _design.prepare_panel(data, unit, time, model_cols, optional=_design.vcov_columns(vcov, unit, time))
        kind = _design.check_treatment(frame, unit, time, treat)
    if kind == "binary":
        if cohort is not None and COHORT_TERM in model_cols:
            raise SpecificationError(f"twfe(cohort=...) names its treatment dummy {COHORT_TERM!r}, which is already "
                                     "one of the model's columns; rename that column")
        try:
            design = build_design(data, y, unit, time, cohort, treat=treat, covariates=covariates,
                                  columns=[*extra_fe, *wcol], vcov=vcov, comparison=False,
                                  always_treated="drop" if unit in fe else "keep")
        except TreatmentError as err:
            if cohort is None:
                raise
            raise TreatmentError(f"{err}. (twfe's fifth argument is the cohort; give a treatment dummy or a "
                                 "continuous intensity as treat=)") from None
        frame, cohorts, notes = design.frame, design.cohorts, list(design.notes)
        if cohort is not None:
            frame[COHORT_TERM] = (frame[time].to_numpy(dtype="int64") >= design.row_cohorts()).astype(float)
            treat = COHORT_TERM
        if unit in fe:  # with unit effects only within-unit changes identify the effect
            _design.check_identified(frame, unit, time, cohorts, f"effect of {treat!r}")
        covariates, absorbed = _design.drop_absorbed(frame, covariates, fe)
        notes += absorbed + _binary_design_notes(frame, unit, time, cohorts)
    else:
        covariates, absorbed = _design.drop_absorbed(frame, covariates, fe)
        notes = _design.missing_notes(frame) + absorbed
        notes.append(f"{treat!r} is a continuous treatment intensity: beta is the effect of one unit of intensity")
    result = _design.fit(frame, y, [treat, *covariates], fe, _design.default_vcov(vcov, unit), weights,
                         unit=unit, time=time, notes=notes)
    if treat not in result.coef.index or not np.isfinite(result.coef[treat]):
        raise TreatmentError(f"the effect of {treat!r} is not identified: the treatment is collinear with the fixed "
                             f"effects {fe} and covariates ({'; '.join(result.notes[-2:])})")
    return result


def _is_treatment(data, unit, col) -> bool:
    """A numeric column that varies within some unit: a treatment dummy or intensity, never a cohort."""
    if not isinstance(data, pd.DataFrame) or col not in data.columns or unit not in data.columns:
        return False
    s = data[col]
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        return False
    return bool((s.groupby(data[unit], sort=False).nunique() > 1).any())


def _binary_design_notes(frame: pd.DataFrame, unit: str, time: str, cohorts: pd.Series) -> list[str]:
    treated = cohorts[cohorts != _design.NEVER]
    first_period = frame.groupby(unit, sort=False)[time].min().reindex(cohorts.index)
    always = treated.index[(treated <= first_period.loc[treated.index]).to_numpy()]
    notes = [
        f"binary absorbing treatment: {len(treated)} treated unit(s) in {treated.nunique()} cohort(s), "
        f"{len(cohorts) - len(treated)} never treated"
    ]
    notes += _design.comparison_notes(len(cohorts) - len(treated))
    notes += _design.staggered_notes(cohorts, "the TWFE coefficient")
    if len(always):
        notes.append(f"{len(always)} unit(s) treated in their first observed period carry no within-unit variation")
    return notes
