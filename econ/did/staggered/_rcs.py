"""Repeated cross-sections and unbalanced panels in :func:`econ.did.att_gt` (R ``did``'s ``panel = FALSE`` and
``allow_unbalanced_panel = TRUE``).

Both run the repeated-cross-section 2x2 estimators of :mod:`econ.did.staggered._drdid_rc` on the *rows* of each
(g, t) cell (rows of cohort g or of the comparison group observed in period t or in the base period). They differ in what an
"observation" of the influence function is:

* repeated cross-sections: every row is its own unit; ``psi`` has one entry per row, scaled by ``N / n_cell``
  (``N`` rows in the sample, ``n_cell`` in the cell);
* unbalanced panels: the rows of a unit are dependent, so each row's influence is scaled by ``n / n_cell`` (``n``
  units) and summed within unit; standard errors, the bootstrap and the aggregations then work on ``n`` units.

The sample comes from :func:`econ.did.design.build_design` (``panel="rcs"`` for cross-sections, ``balance="keep"``
for unbalanced panels): one cohort rule, always-treated rows dropped, each change a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from econ._validate import not_numeric
from econ.did.staggered import _cs_design, _drdid, _drdid_rc
from econ.did.staggered._cs_design import comparison_sample
from econ.did._design import NEVER, _show, as_list, require_unit_constant
from econ.did.design import build_design, check_weights  # noqa: F401  (re-exported)
from econ.errors import SpecificationError, TreatmentError, WeightsError

ROW_ID = "_row"


@dataclass
class RowDesign:
    """Long arrays of a repeated cross-section or unbalanced panel for :func:`estimate_cells`.

    ``y, t, gr, wr, X`` are per row (outcome, period index, cohort, weight, covariate design); ``code`` maps rows to
    the influence-function observations (rows themselves for cross-sections, units for unbalanced panels);
    ``units, g, w, cluster`` are per observation, as :class:`econ.did.staggered._cs_design.Design` (so the result,
    bootstrap and aggregations are shared)."""

    units: np.ndarray
    periods: np.ndarray
    Y: np.ndarray  # the outcome of every row (its size is the result's nobs)
    t: np.ndarray
    gr: np.ndarray
    wr: np.ndarray
    Xr: np.ndarray
    xnames: list
    code: np.ndarray
    g: np.ndarray
    w: np.ndarray
    cluster: np.ndarray | None
    cohorts: np.ndarray
    kind: str
    notes: list = field(default_factory=list)
    last_only: int | None = None
    extra: pd.DataFrame | None = None  # pass-through columns per row (e.g. ddd_gt's eligibility)

    @property
    def n(self) -> int:
        return len(self.units)


def build(data, y, unit, time, cohort, covariates, weights, cluster, control, anticipation, rcs: bool, extra=()):
    """The :class:`RowDesign` of a repeated cross-section (``rcs=True``) or an unbalanced panel; ``None`` when an
    unbalanced-panel request meets a balanced panel (the caller then uses the panel estimator)."""
    covariates = as_list(covariates)
    for c in [y, *covariates]:
        if c in data.columns and (not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])):
            raise SpecificationError(not_numeric(c, data[c]))
    check_weights(data, weights)
    if unit is None:
        if not rcs:
            raise SpecificationError("unit=None is only allowed for repeated cross-sections (panel=False)")
        data, unit = data.assign(**{ROW_ID: np.arange(len(data))}), ROW_ID
    sd = build_design(data, y, unit, time, cohort, covariates=covariates, weights=weights,
                      cluster=None if cluster == unit else cluster, anticipation=anticipation,
                      balance="keep", comparison=False, panel="rcs" if rcs else "panel", columns=list(extra))
    if not rcs and sd.balanced:
        return None
    sd, last_only = comparison_sample(sd, control, anticipation, time)
    frame, periods = sd.frame, sd.periods
    codes, units = pd.factorize(frame[unit], sort=False)
    units = np.asarray(units)
    g = sd.cohorts.reindex(units).to_numpy(dtype=np.int64)
    gr = g[codes]
    wr = np.ones(len(frame)) if weights is None else frame[weights].to_numpy(dtype=float)
    if weights is not None and not rcs:
        require_unit_constant(frame[weights], frame[unit], f"weights column {weights!r}", error=WeightsError)
    w = np.bincount(codes, wr, minlength=len(units)) / np.bincount(codes, minlength=len(units))
    cl = None
    if cluster is not None and cluster != unit:
        if not rcs:
            require_unit_constant(frame[cluster], frame[unit], f"cluster column {cluster!r}",
                                  error=SpecificationError)
        ccodes, _ = pd.factorize(frame[cluster].to_numpy(), sort=True)
        cl = np.zeros(len(units), dtype=np.int64)
        cl[codes] = ccodes
    Xr = np.hstack([np.ones((len(frame), 1)), frame[covariates].to_numpy(dtype=float)]) if covariates \
        else np.ones((len(frame), 1))
    cohorts = np.unique(g[g != NEVER])
    if last_only is not None:
        cohorts = cohorts[cohorts < last_only]
    if len(cohorts) == 0:
        raise TreatmentError("no treated cohort has a pre-treatment period and a comparison group")
    t = np.searchsorted(periods, frame[time].to_numpy())
    kind = "rcs" if rcs else "unbalanced"
    notes = list(sd.notes)
    if rcs:
        notes.append(f"repeated cross-sections: {len(frame)} rows in {len(periods)} periods, each row its own "
                     "observation (Sant'Anna & Zhao 2020's repeated-cross-section estimators, R did's panel = FALSE)")
    else:
        short = int((np.bincount(codes) < len(periods)).sum())
        notes.append(f"unbalanced panel: {len(units)} units, {len(frame)} rows, {short} unit(s) observed in fewer "
                     f"than {len(periods)} periods, all kept (R did's allow_unbalanced_panel = TRUE: the "
                     "repeated-cross-section estimators on the rows, influence functions summed within unit)")
    return RowDesign(units, periods, frame[y].to_numpy(dtype=float), t, gr, wr, Xr,
                     ["(Intercept)", *covariates], codes, g, w, cl, cohorts, kind, notes, last_only,
                     frame[list(extra)].reset_index(drop=True) if extra else None)


def estimate_cells(d: RowDesign, control, method, base_period, anticipation, progress):
    """Loop over cohorts and periods as :func:`econ.did.staggered.att_gt._estimate_cells`, on the rows."""
    n, periods = d.n, d.periods
    never = d.gr == NEVER
    rows, cols, notes = [], [], []
    in_period = [d.t == k for k in range(len(periods))]  # row masks of each period
    for g, cells in _cs_design.cell_plan(d.cohorts, periods, base_period, anticipation, progress):
        treated = d.gr == g
        n_g = int((d.g == g).sum())
        for s, b, post, threshold in cells:
            row = dict(cohort=g, time=int(periods[s]), base=int(periods[b]), post=post)
            if b == s:
                rows.append({**row, "estimate": 0.0, "n_treated": n_g, "n_control": 0})
                cols.append(np.zeros(n))
                continue
            comp = never if control == "never" else never | ((d.gr > threshold) & ~treated)
            rows_sb = np.flatnonzero(in_period[s] | in_period[b])
            att, psi_col, n_c, why = _one_cell(d, method, treated, comp, s, b, rows_sb)
            if why:
                notes.append(f"ATT({g},{periods[s]}) is NaN: {why}")
            rows.append({**row, "estimate": att, "n_treated": n_g, "n_control": n_c})
            cols.append(psi_col)
    cells = pd.DataFrame(rows)
    psi = np.column_stack(cols) if cols else np.zeros((n, 0))
    return cells, psi, notes


def _one_cell(d: RowDesign, method, treated, comp, s, b, rows_sb=None):
    """One 2x2 comparison on the rows of periods s and b (``rows_sb``: their indices, ascending, when the caller
    has them): (att, psi over the n observations, comparison rows, failure reason or None)."""
    n = d.n
    nan = np.full(n, np.nan)
    if rows_sb is None:
        rows_sb = np.flatnonzero((d.t == s) | (d.t == b))
    idx = rows_sb[treated[rows_sb] | comp[rows_sb]]
    dvec = treated[idx].astype(float)
    post = (d.t[idx] == s).astype(float)
    n_c = int((dvec == 0).sum())
    positive = d.wr[idx] > 0
    for who, mask in (("cohort", dvec == 1), ("comparison group", dvec == 0)):
        for when, pm in (("period " + str(d.periods[s]), post == 1), ("base period " + str(d.periods[b]), post == 0)):
            if not (mask & pm & positive).any():
                return np.nan, nan, n_c, f"no row of the {who} with a positive weight in the {when}"
    w_raw = d.wr[idx]
    w = w_raw / w_raw.mean()
    X = d.Xr[idx]

    def fit():
        ps = _drdid.logit(X, dvec, w) if method != "reg" else None  # fitted once: the guards and the estimator
        _drdid.check_design(X, dvec, method, None if _unit_weights(w) else w_raw, ps)
        with np.errstate(all="ignore"):
            return _drdid_rc.estimate(method, d.Y[idx], post, dvec, X, w, ps)

    att, psi, why = _drdid.run_cell(fit)
    if why:
        return np.nan, nan, n_c, why
    out = np.bincount(d.code[idx], psi * (n / len(idx)), minlength=n)
    return att, out, n_c, None


def _unit_weights(w: np.ndarray) -> bool:
    """Every normalised weight is exactly 1: the weighted logit *is* the unweighted one R did's overlap guard
    fits, so :func:`econ.did.staggered._drdid.check_design` can reuse it."""
    return bool(np.all(w == 1.0))


def build_for(data, y, unit, time, cohort, covariates, weights, cluster, control, anticipation, balance, panel,
              allow_unbalanced_panel):
    """:func:`econ.did.att_gt`'s hook: the :class:`RowDesign` for ``panel=False`` or ``allow_unbalanced_panel=True``
    (``None`` for the balanced-panel path: the default, or an unbalanced request on a balanced panel)."""
    from econ import _validate

    panel = _validate.check_bool(panel, "panel")
    allow = _validate.check_bool(allow_unbalanced_panel, "allow_unbalanced_panel")
    if isinstance(weights, str) and isinstance(data, pd.DataFrame):
        check_weights(data, weights)  # missing or negative weights are an error on every path
    if panel and not allow:
        return None
    if balance:
        raise SpecificationError("balance=True drops units of an unbalanced panel; it cannot be combined with "
                                 f"{'panel=False' if not panel else 'allow_unbalanced_panel=True'}")
    if not panel and allow:
        raise SpecificationError("allow_unbalanced_panel=True applies to panels; panel=False already treats the data "
                                 "as repeated cross-sections")
    for name, value in (("y", y), ("time", time), ("cohort", cohort)):
        if not isinstance(value, str):
            raise SpecificationError(f"{name} must be a column name (str), got {value!r}")
    if unit is not None and not isinstance(unit, str):
        raise SpecificationError(f"unit must be a column name (str) or None, got {unit!r}")
    return build(data, y, unit, time, cohort, covariates, weights, cluster, control, anticipation, rcs=not panel)
