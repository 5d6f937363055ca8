"""The staggered design behind :func:`econ.did.att_gt` as wide numpy arrays of a balanced panel.

Validation and sample rules come from :func:`econ.did.design.build_design` (cohorts, always-treated units dropped,
balance, cohorts after the last period recoded to never treated); they coincide with R ``did``'s
``pre_process_did``. With no never-treated unit, periods from ``last cohort - anticipation`` on are dropped; with
``control="never"`` the last cohort then serves as the never-treated group
(:meth:`~econ.did.design.StaggeredDesign.last_cohort_as_control`), with ``control="notyet"`` it only serves as a
comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from econ._validate import not_numeric
from econ.did._design import NEVER, as_list, require_unit_constant
from econ.did.design import build_design
from econ.errors import PanelError, SpecificationError, TreatmentError, WeightsError


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
    """Validate the inputs of :func:`att_gt` with :func:`econ.did.design.build_design` (the package's cohort,
    always-treated, balance and last-cohort rules) and return its wide :class:`Design`."""
    covariates = as_list(covariates)
    for name, value in (("y", y), ("unit", unit), ("time", time), ("cohort", cohort)):
        if not isinstance(value, str):
            raise SpecificationError(f"{name} must be a column name (str), got {value!r}")
    for c in [y, *covariates, *([weights] if weights else [])]:
        if c in data.columns and (not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])):
            raise SpecificationError(not_numeric(c, data[c]))
    try:
        sd = build_design(data, y, unit, time, cohort, covariates=covariates, weights=weights,
                          cluster=None if cluster == unit else cluster, anticipation=anticipation,
                          balance="drop" if balance else "refuse", comparison=False)
    except PanelError as err:
        if balance or "balanced panel is needed" not in str(err):
            raise
        raise PanelError(f"att_gt: {err} (balance=True drops them, R did's default)") from None
    sd, last_only = comparison_sample(sd, control, anticipation, time)
    frame, periods = sd.frame, sd.periods
    units = pd.unique(frame[unit].to_numpy())
    n, T = len(units), len(periods)
    if n == 0:
        raise TreatmentError("every unit is treated in the first period: nothing to compare")
    g = sd.cohorts.reindex(units).to_numpy(dtype=np.int64)
    Y = frame[y].to_numpy(dtype=float).reshape(n, T)
    w = _unit_weights(frame, unit, weights, n, T)
    cl = _unit_cluster(frame, unit, cluster, n, T)
    X, xnames = _covariate_designs(frame, unit, covariates, n, T)
    cohorts = np.unique(g[g != NEVER])
    if last_only is not None:
        cohorts = cohorts[cohorts < last_only]
    if len(cohorts) == 0:
        raise TreatmentError("no treated cohort has a pre-treatment period and a comparison group")
    return Design(units, periods, Y, X, xnames, g, w, cl, cohorts, notes=list(sd.notes), last_only=last_only)


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


def comparison_sample(sd, control: str, anticipation: int, time: str):
    """R did's sample when no unit is never treated: with ``control="never"`` the last cohort becomes the control
    (its periods from adoption on leave); with ``"notyet"`` the periods from the last cohort's adoption on leave and
    it serves only as a not-yet-treated comparison. Returns ``(design, last cohort or None)``."""
    if sd.n_never:
        return sd, None
    if control == "never":
        return sd.last_cohort_as_control(), None
    last_only = int(sd.treated_cohorts[-1])
    cut = last_only - anticipation
    if (sd.periods < cut).sum() < 2:
        raise TreatmentError(f"no never-treated units and the last cohort ({last_only}) leaves fewer than two "
                             "periods before it: there is no comparison group")
    sd.frame = sd.frame.loc[sd.frame[time] < cut].reset_index(drop=True)
    sd.periods = sd.periods[sd.periods < cut]
    sd.change(f"no never-treated units: periods from {cut} on leave the sample and the last cohort "
              f"({last_only}) serves only as a not-yet-treated comparison (R did's rule)")
    return sd, last_only


def cell_plan(cohorts, periods, base_period: str, anticipation: int, progress: bool = False,
              desc: str = "att_gt cohorts"):
    """The (g, t) cells of R ``did``'s ``compute.att_gt``, in its order, for every estimator built on them.

    Yields ``(g, cells)`` per cohort ``g`` (a tqdm bar over cohorts when ``progress``), ``cells`` a list of
    ``(s, b, post, threshold)``: period index ``s`` (every period with a universal base, from the second with a
    varying one), base index ``b`` (the last period before ``g - anticipation`` once treated or with a universal
    base, else ``s - 1``; ``b == s`` is the universal base cell itself), ``post = periods[s] >= g``, and the cohort
    above which a unit is not yet treated in both periods, ``periods[max(s, b)] + anticipation``.
    """
    universal = base_period == "universal"
    groups = cohorts
    if progress:
        from econ._progress import tqdm

        groups = tqdm(groups, desc=desc)
    for g in groups:
        g = int(g)
        base_g = int(np.flatnonzero(periods + anticipation < g)[-1])
        cells = []
        for s in range(0 if universal else 1, len(periods)):
            post = bool(periods[s] >= g)
            b = base_g if (universal or post) else s - 1
            cells.append((s, b, post, periods[max(s, b)] + anticipation))
        yield g, cells
