"""The staggered design behind :func:`econ.did.att_gt`: a validated balanced panel as wide numpy arrays.

Validation happens here once (columns, missing values, balance, cohorts, weights, clusters) and the sample rules
of R ``did``'s ``pre_process_did`` are applied, each leaving a note:

* units treated in the first period (cohort ``<= first period + anticipation``) are dropped: they have no
  pre-treatment period;
* with no never-treated unit, periods from ``last cohort - anticipation`` on are dropped; with ``control="never"``
  the last cohort then serves as the never-treated group, with ``control="notyet"`` it only serves as a comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from econ._validate import not_numeric
from econ.did._design import NEVER, _show, as_list, require_columns, require_unit_constant, unit_cohorts
from econ.errors import PanelError, SpecificationError, TreatmentError, WeightsError
from econ.io import validate_panel


@dataclass
class Design:
    """Wide arrays of a balanced panel: ``Y[i, s]`` outcome, ``X[s]`` the (n x p) covariate design of period ``s``
    (intercept first; ``None`` entries share ``X[0]`` when covariates are time-invariant), unit cohorts ``g``
    (``NEVER`` = never treated), unit weights ``w`` and cluster codes."""

    units: np.ndarray
    periods: np.ndarray
    Y: np.ndarray
    X: list
    xnames: list
    g: np.ndarray
    w: np.ndarray
    cluster: np.ndarray | None
    cohorts: np.ndarray
    notes: list = field(default_factory=list)
    last_only: int | None = None  # with control="notyet" and no never-treated: the comparison-only last cohort

    @property
    def n(self) -> int:
        return len(self.units)

    def design(self, s: int) -> np.ndarray:
        return self.X[s] if self.X[s] is not None else self.X[0]


def build(data, y, unit, time, cohort, covariates, weights, cluster, control, anticipation,
          balance=False) -> Design:
    """Validate the inputs of :func:`att_gt` and return its :class:`Design` (see the module docstring)."""
    if not isinstance(data, pd.DataFrame):
        raise PanelError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    covariates = as_list(covariates)
    for name, value in (("y", y), ("unit", unit), ("time", time), ("cohort", cohort)):
        if not isinstance(value, str):
            raise SpecificationError(f"{name} must be a column name (str), got {value!r}")
    extra = [c for c in (weights, cluster) if c is not None]
    for name, value in (("weights", weights), ("cluster", cluster)):
        if value is not None and not isinstance(value, str):
            raise SpecificationError(f"{name} must be a column name (str) or None, got {value!r}")
    cols = list(dict.fromkeys([y, cohort, *covariates, *extra]))
    require_columns(data, [unit, time, *cols])
    clash = [c for c in covariates if c in (unit, time, cohort, y)]
    if clash:
        raise SpecificationError(f"covariates {clash} repeat the unit, time, cohort or outcome column")
    frame = validate_panel(data[list(dict.fromkeys([unit, time, *cols]))], unit, time)
    for c in [y, *covariates, *([weights] if weights else [])]:
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
            raise SpecificationError(not_numeric(c, frame[c]))
    model = [y, *covariates, *extra]
    values = frame[model]
    bad = values.isna().any(axis=1).to_numpy()
    if not bad.any():
        num = frame[[y, *covariates]].to_numpy(dtype=float)
        bad = ~np.isfinite(num).all(axis=1)
    pre_notes = []
    if bad.any() and balance:
        pre_notes.append(f"{int(bad.sum())} row(s) with a missing or non-finite value in {model} dropped")
        frame = frame.loc[~bad].reset_index(drop=True)
    elif bad.any():
        units = pd.unique(frame[unit].to_numpy()[bad])
        raise PanelError(
            f"{int(bad.sum())} row(s) of {len(units)} unit(s) {_show(units.tolist())} have a missing or non-finite "
            f"value in {model}; att_gt needs a balanced panel with complete data: drop those units or impute first "
            "(balance=True drops the rows and then the incomplete units, R did's default)")
    pre_notes += _recode_outside(frame, unit, time, cohort, anticipation)
    g_unit = unit_cohorts(frame, unit, time, cohort)
    periods = np.sort(frame[time].unique())
    counts = frame.groupby(unit, sort=True)[time].size()
    short = counts.index[counts.to_numpy() != len(periods)]
    if len(short) and balance:
        if len(short) == len(counts):
            raise PanelError(f"no unit is observed in all {len(periods)} periods: nothing left after balancing")
        pre_notes.append(f"{len(short)} unit(s) not observed in all {len(periods)} periods dropped to balance the "
                         f"panel (R did's default), e.g. {_show(short.tolist(), 3)}")
        frame = frame.loc[~frame[unit].isin(short)].reset_index(drop=True)
        counts = counts.drop(short)
    elif len(short):
        raise PanelError(
            f"att_gt needs a balanced panel: {len(short)} unit(s) {_show(short.tolist())} are not observed in all "
            f"{len(periods)} periods {periods[0]}-{periods[-1]}; drop them or fill the gaps (balance=True drops them, "
            "R did's default)")
    units = counts.index.to_numpy()
    n, T = len(units), len(periods)
    g = g_unit.reindex(units).to_numpy(dtype=np.int64)
    Y = frame[y].to_numpy(dtype=float).reshape(n, T)
    w = _unit_weights(frame, unit, weights, n, T)
    cl = _unit_cluster(frame, unit, cluster, n, T)
    X, xnames = _covariate_designs(frame, unit, covariates, n, T)
    d = Design(units, periods, Y, X, xnames, g, w, cl, np.array([], dtype=np.int64), notes=pre_notes)
    _sample_rules(d, control, anticipation, unit)
    return d


def _recode_outside(frame, unit, time, cohort, anticipation) -> list[str]:
    """R ``did``'s handling of cohorts outside the panel, in place on the (copied) frame: cohorts after the last
    period plus anticipation are never treated within the sample (coded 0); cohorts before the first period are
    set to the first period, so the first-period rule drops those units. Returns the notes."""
    raw = frame[cohort]
    if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        return []  # unit_cohorts names the problem
    vals = raw.to_numpy(dtype=float)
    t_min, t_max = frame[time].min(), frame[time].max()
    with np.errstate(invalid="ignore"):
        late = vals > t_max + anticipation
        early = (vals != 0) & (vals < t_min)
    notes = []
    if late.any():
        units = pd.unique(frame[unit].to_numpy()[late])
        notes.append(f"{len(units)} unit(s) first treated after the last period {t_max}"
                     + (f" + anticipation {anticipation}" if anticipation else "")
                     + f" count as never treated (R did's rule), e.g. {_show(units.tolist(), 3)}")
    if early.any():
        units = pd.unique(frame[unit].to_numpy()[early])
        notes.append(f"{len(units)} unit(s) first treated before the first period {t_min}, "
                     f"e.g. {_show(units.tolist(), 3)}")
    if late.any() or early.any():
        frame[cohort] = np.where(late, 0.0, np.where(early, float(t_min), vals))
    return notes


def _unit_weights(frame, unit, weights, n, T):
    if weights is None:
        return np.ones(n)
    require_unit_constant(frame[weights], frame[unit], f"weights column {weights!r}", error=WeightsError)
    w = frame[weights].to_numpy(dtype=float).reshape(n, T)[:, 0]
    if (w < 0).any() or w.mean() <= 0:
        raise WeightsError(f"weights column {weights!r} must be non-negative with a positive mean")
    return w


def _unit_cluster(frame, unit, cluster, n, T):
    if cluster is None or cluster == unit:
        return None
    require_unit_constant(frame[cluster], frame[unit], f"cluster column {cluster!r}", error=SpecificationError)
    codes, _ = pd.factorize(frame[cluster].to_numpy().reshape(n, T)[:, 0], sort=True)
    return codes


def _covariate_designs(frame, unit, covariates, n, T):
    if not covariates:
        return [np.ones((n, 1))] + [None] * (T - 1), ["(Intercept)"]
    Z = frame[covariates].to_numpy(dtype=float).reshape(n, T, len(covariates))
    varying = bool((Z != Z[:, :1, :]).any())
    ones = np.ones((n, 1))
    if not varying:
        return [np.hstack([ones, Z[:, 0, :]])] + [None] * (T - 1), ["(Intercept)", *covariates]
    return [np.hstack([ones, Z[:, s, :]]) for s in range(T)], ["(Intercept)", *covariates]


def _sample_rules(d: Design, control: str, anticipation: int, unit: str) -> None:
    treated = d.g != NEVER
    if not treated.any():
        raise TreatmentError(f"no unit is ever treated (every {unit} has cohort 0 / missing)")
    if not (~treated).any():
        latest = int(d.g.max())
        keep_t = d.periods < latest - anticipation
        if keep_t.sum() < 2:
            raise TreatmentError(
                f"no never-treated units and the last cohort ({latest}) leaves fewer than two periods before it: "
                "there is no comparison group")
        d.periods, d.Y = d.periods[keep_t], d.Y[:, keep_t]
        d.X = [x for x, k in zip(d.X, keep_t) if k]
        if control == "never":
            d.g = np.where(d.g == latest, NEVER, d.g)
            d.notes.append(f"no never-treated units: the last cohort ({latest}) serves as the never-treated group "
                           f"and periods from {latest - anticipation} on are dropped (R did's rule)")
        else:
            d.notes.append(f"no never-treated units: periods from {latest - anticipation} on are dropped and the "
                           f"last cohort ({latest}) serves only as a not-yet-treated comparison (R did's rule)")
        d.last_only = latest if control == "notyet" else None
    else:
        d.last_only = None
    first = d.periods[0]
    early = (d.g != NEVER) & (d.g <= first + anticipation)
    if early.any():
        d.notes.append(f"{int(early.sum())} unit(s) treated by the first period {first}"
                       + (f" (anticipation {anticipation})" if anticipation else "")
                       + f" dropped: no pre-treatment period, e.g. {_show(d.units[early].tolist(), 3)}")
        keep = ~early
        d.units, d.Y, d.g, d.w = d.units[keep], d.Y[keep], d.g[keep], d.w[keep]
        d.X = [x[keep] if x is not None else None for x in d.X]
        d.cluster = d.cluster[keep] if d.cluster is not None else None
        if d.n == 0:
            raise TreatmentError("every unit is treated in the first period: nothing to compare")
    cohorts = np.unique(d.g[d.g != NEVER])
    if d.last_only is not None:
        cohorts = cohorts[cohorts < d.last_only]
    if len(cohorts) == 0:
        raise TreatmentError("no treated cohort has a pre-treatment period and a comparison group")
    d.cohorts = cohorts
