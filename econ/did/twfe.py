"""Two-way fixed-effects difference-in-differences: ``y_it = beta D_it + X_it' gamma + alpha_i + lambda_t + e_it``."""

from __future__ import annotations

import pandas as pd

from econ.did import _design
from econ.errors import SpecificationError

__all__ = ["twfe"]


def twfe(
    data: pd.DataFrame,
    y: str,
    unit: str,
    time: str,
    treat: str | None = None,
    covariates=None,
    fe=None,
    vcov=None,
    weights: str | None = None,
    *,
    cohort: str | None = None,
):
    """Two-way fixed-effects DiD regression of ``y`` on the treatment ``treat``.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per (unit, time); validated with :func:`econ.io.validate_panel` and never modified.
    y, unit, time : str
        Outcome, unit id and integer time columns.
    treat : str
        Either a binary absorbing treatment (0/1; once a unit is treated it stays treated -- e.g. the post-pilot
        dummy of Broadband China) or a continuous treatment intensity (any real values).
    covariates : list of str, optional
        Time-varying controls added linearly.
    fe : list of str, optional
        Fixed effects to absorb; default ``[unit, time]`` (unit and period effects).
    vcov : optional
        Any :func:`econ.feols` vcov spec. **Default: clustered by unit** (``{"CL1": unit}``), which allows arbitrary
        serial correlation within a unit (Bertrand, Duflo and Mullainathan 2004).
    weights : str, optional
        Column of observation weights (WLS).
    cohort : str, optional
        Instead of ``treat``: a cohort column (first treated period; 0 or missing = never treated), as in
        :func:`econ.did.event_study`; the treatment is then ``D_it = 1[t >= cohort_i]``, named ``"treated"`` in the
        result (or ``"_econ_treated"`` if the data already has a ``treated`` column).

    Returns
    -------
    Result
        The :func:`econ.feols` result; the coefficient of interest is ``result.coef[treat]``. ``notes`` records
        dropped rows and, for staggered binary adoption, that TWFE averages cohort-period effects with weights that
        can be negative when effects vary over time (Goodman-Bacon 2021; de Chaisemartin and D'Haultfoeuille 2020)
        -- see :func:`econ.did.event_study` for the dynamic picture.

    Raises
    ------
    TreatmentError
        A binary treatment that switches off (names the units), no untreated observations, or a constant treatment.
    """
    if (treat is None) == (cohort is None):
        raise SpecificationError("give exactly one of treat= (a treatment column) and cohort= (a cohort column)")
    if cohort is not None:
        data, treat = _treatment_from_cohort(data, unit, time, cohort)
    covariates = _design.as_list(covariates)
    fe, extra_fe = _design.fixed_effects(fe, unit, time)
    frame = _design.prepare_panel(data, unit, time, [y, treat, *covariates, *extra_fe, *_design.as_list(weights)])
    kind = _design.check_treatment(frame, unit, time, treat)
    notes = _design.missing_notes(frame)
    if kind == "binary":
        notes += _binary_design_notes(frame, unit, time, treat)
    else:
        notes.append(f"{treat!r} is a continuous treatment intensity: beta is the effect of one unit of intensity")
    result = _design.fit(frame, y, [treat, *covariates], fe, _design.default_vcov(vcov, unit), weights)
    return _design.add_notes(result, notes)


def _binary_design_notes(frame: pd.DataFrame, unit: str, time: str, treat: str) -> list[str]:
    cohorts = _design.cohort_from_treatment(frame, unit, time, treat)
    treated = cohorts[cohorts != _design.NEVER]
    first_period = frame.groupby(unit, sort=False)[time].min().reindex(cohorts.index)
    always = treated.index[(treated <= first_period.loc[treated.index]).to_numpy()]
    notes = [
        f"binary absorbing treatment: {len(treated)} treated unit(s) in {treated.nunique()} cohort(s), "
        f"{len(cohorts) - len(treated)} never treated"
    ]
    notes += _design.comparison_notes(len(cohorts) - len(treated))
    if treated.nunique() > 1:
        notes.append(
            "staggered adoption: the TWFE coefficient is a weighted average of cohort-period effects whose weights "
            "can be negative if effects change over time (Goodman-Bacon 2021); see econ.did.bacon() for the weights "
            "and econ.did.compare() for the heterogeneity-robust estimators side by side"
        )
    if len(always):
        notes.append(f"{len(always)} unit(s) treated in their first observed period carry no within-unit variation")
    return notes


def _treatment_from_cohort(data: pd.DataFrame, unit: str, time: str, cohort: str):
    """A copy of ``data`` with the absorbing treatment ``1[t >= cohort]`` added; returns it and the column name."""
    frame = _design.prepare_panel(data, unit, time, [cohort])
    cohorts = _design.unit_cohorts(frame, unit, time, cohort)
    name = "treated" if "treated" not in data.columns else "_econ_treated"
    _design.require_columns(data, [unit, time])
    g = data[unit].map(cohorts)
    d = (pd.to_numeric(data[time], errors="coerce") >= g).astype(float).where(g.notna())
    return data.assign(**{name: d}), name
