"""Staggered triple differences (Ortiz-Villavicencio & Sant'Anna 2025): ATT(g, t) for an eligible subgroup.

Units belong to a cohort ``g`` (first period their *place* is treated, e.g. a city's designation year) and to a
subgroup ``group`` (1 = eligible, e.g. rural households; 0 = not eligible, e.g. urban households). Only eligible
units of a treated cohort are treated. For cohort g, period t and base period b, with comparison cohorts C,

.. math:: ATT_{DDD}(g,t) = DiD(g1 \\text{ vs } g0) + DiD(g1 \\text{ vs } C1) - DiD(g1 \\text{ vs } C0),

three doubly robust / IPW / regression 2x2 DiDs (:mod:`econ.did.staggered._drdid`) of the treated-eligible units ``g1``
against the non-eligible units of cohort g (``g0``), the eligible (``C1``) and the non-eligible (``C0``) comparison
units, each reweighted to the covariates of ``g1``. For the urban-rural income gap this is the effect of designation
on the rural-minus-urban gap: the rural DiD minus the urban DiD, each adjusted to rural households' covariates.

With not-yet-treated comparisons and several comparison cohorts, the cell's estimate is the optimal (GMM)
combination of the per-cohort DDDs, ``w = Omega^{-1} 1 / (1' Omega^{-1} 1)`` with ``Omega`` the covariance of
their influence functions (eq. 4.11 of the paper), as R ``triplediff`` and moderndid ``ddd`` do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ import _validate
from econ.did.staggered import _cs_design, _drdid
from econ.did.staggered._cs_result import _bootstrap_basis, _check_level
from econ.did._design import NEVER, _show
from econ.did.staggered._rcs import check_weights
from econ.did.staggered.att_gt import ATTgtResult, _cluster_of, survey_kernel
from econ.errors import SpecificationError, TreatmentError
from econ.panel.demean import single_thread_blas
from econ.survey import survey_spec

__all__ = ["ddd_gt", "DDDgtResult"]


def ddd_gt(data: pd.DataFrame, y: str, unit: str, time: str, cohort: str, group: str, *, covariates=None,
           control: str = "never", method: str = "dr", base_period: str = "varying", anticipation: int = 0,
           weights: str | None = None, vcov=None, n_draws: int | None = None, multiplier: str = "mammen", seed=0,
           level: float = 0.95, progress: bool = False, panel: bool = True) -> DDDgtResult:
    """Staggered triple-difference ATT(g, t) of the eligible subgroup (Ortiz-Villavicencio & Sant'Anna 2025).

    Parameters
    ----------
    data : pandas.DataFrame
        Balanced long panel, one row per (unit, time); never modified.
    y, unit, time, cohort : str
        Outcome, unit id, integer period, and the cohort (first period the unit's place is treated; 0 or missing =
        never treated), as in :func:`econ.did.att_gt`.
    group : str
        The eligibility column, constant within unit: 1 (or True) for the eligible subgroup that the treatment
        reaches (e.g. rural households), 0 for the rest (e.g. urban households).
    covariates : str or list of str, optional
        Covariates X, measured in the base period of each cell (time-invariant covariates make this moot).
    control : {"never", "notyet"}
        Comparison cohorts: never treated, or never plus not yet treated (GMM-combined across cohorts).
    method : {"dr", "ipw", "reg"}
        The 2x2 DiD of each of the three comparisons (Sant'Anna & Zhao 2020, panel data).
    base_period : {"varying", "universal"}
        As in :func:`econ.did.att_gt`.
    anticipation : int
        Periods of anticipation.
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise), constant within unit. The cells, shares and influence
        functions are weighted as :func:`econ.did.att_gt`'s. ``None``: equal weights.
    vcov : None, {"CL1": column} or {"survey": {...}}
        ``None`` clusters by unit; ``{"CL1": col}`` by a coarser level constant within unit; a survey design
        (strata, PSUs, fpc; :mod:`econ.survey`) gives the Taylor-linearised design-based variance of the influence
        functions, as in :func:`econ.did.att_gt` (analytic only).
    n_draws : int or None, default None
        Multiplier-bootstrap draws (None or 0: analytic influence-function standard errors); draws add sup-t bands.
    multiplier : {"mammen", "rademacher"}
        Law of the bootstrap multipliers.
    seed : int
        Seed of ``numpy.random.default_rng``.
    level : float
        Confidence level.
    progress : bool
        Show a progress bar over cohorts.
    panel : bool, default True
        ``False``: repeated cross-sections (``unit`` a row id that must not repeat, or ``None``): each of the three
        comparisons is Sant'Anna & Zhao's repeated-cross-section estimator of ``method`` on the rows of its two
        subgroups observed in t or the base period (as moderndid ``ddd(panel=False)``); influence functions per row.

    Returns
    -------
    DDDgtResult
        An :class:`~econ.did.ATTgtResult` (``tidy()``, ``aggregate(kind)`` with the four aggregations,
        ``plot()``, ``inf_func``) whose cells are the triple-difference ATT(g, t).

    Raises
    ------
    TreatmentError
        ``group`` not 0/1, missing, or varying within unit (a unit observed in two groups, naming the units); a
        cohort without eligible units; the errors of :func:`econ.did.att_gt`.
    WeightsError
        Missing, negative or infinite weights (naming rows), weights varying within unit.
    PanelError
        Unbalanced panel, duplicate keys; with ``panel=False``, row ids that repeat.
    SpecificationError
        Bad arguments or unknown columns.

    Notes
    -----
    With ``S = 4`` the eligible units of cohort g, ``3`` its non-eligible units, ``2`` and ``1`` the eligible and
    non-eligible comparison units, ``ATT(g,t) = DiD_{4v3} + DiD_{4v2} - DiD_{4v1}`` (eq. 4.6 of the paper), each
    a 2x2 DiD on the units of its two subgroups. The cell's influence function is
    ``(n/n_{43}) psi_{4v3} + (n/n_{42}) psi_{4v2} - (n/n_{41}) psi_{4v1}`` over its units, scaled to the sample as in
    :func:`econ.did.att_gt`; standard errors, bootstrap and aggregations are those of ``att_gt`` (cohort shares
    over all units). A cell with an empty subgroup is NaN with a note. A GMM cell's standard error is its
    influence function's, as for every cell (moderndid reports ``sqrt(1 / (n 1' Omega^{-1} 1))`` with the sample
    covariance ``Omega``, 0.1% larger on n = 500); moderndid's simple, event-study and calendar aggregations leave
    out the estimated cohort-weights term that R ``did`` and econ include, so their standard errors are smaller.

    References
    ----------
    Ortiz-Villavicencio, M. and Sant'Anna, P. H. C. (2025). Better understanding triple differences estimators.
    arXiv:2505.09942.
    Sant'Anna, P. H. C. and Zhao, J. (2020). Doubly robust difference-in-differences estimators. Journal of
    Econometrics 219(1), 101-122.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from econ.did import ddd_gt
    >>> rng = np.random.default_rng(0)
    >>> n, T = 400, 4
    >>> unit = np.repeat(np.arange(n), T); t = np.tile(np.arange(1, T + 1), n)
    >>> g = np.repeat(rng.choice([0, 3, 4], n), T); rural = np.repeat(rng.integers(0, 2, n), T)
    >>> yv = t + rural * t * 0.5 + (g > 0) * t * 0.3 + 2.0 * rural * (g > 0) * (t >= g) + rng.normal(0, .2, n * T)
    >>> df = pd.DataFrame(dict(hh=unit, year=t, g=g, rural=rural, income=yv))
    >>> res = ddd_gt(df, "income", "hh", "year", "g", "rural")
    >>> simple = res.aggregate("simple")  # the true effect is 2
    >>> round(simple.overall_att, 2), round(simple.overall_se, 2)
    (1.94, 0.05)
    """
    control = _validate.check_choice(control, "control", ("never", "notyet"))
    method = _validate.check_choice(method, "method", ("dr", "ipw", "reg"))
    base_period = _validate.check_choice(base_period, "base_period", ("varying", "universal"))
    multiplier = _validate.check_choice(multiplier, "multiplier", ("mammen", "rademacher"))
    anticipation = _validate.check_int(anticipation, "anticipation", minimum=0)
    n_draws = 0 if n_draws is None else _validate.check_n_draws(n_draws)
    seed = _validate.check_seed(seed)
    progress = _validate.check_bool(progress, "progress")
    level = _check_level(level)
    survey = survey_spec(vcov, "ddd_gt")
    cluster = _cluster_of(None if survey else vcov, None, unit)
    if not isinstance(group, str):
        raise SpecificationError(f"group must be a column name (str), got {group!r}")
    if group not in getattr(data, "columns", ()):
        raise SpecificationError(f"group column {group!r} is not in the data")
    if group in (y, unit, time, cohort):
        raise SpecificationError(f"group column {group!r} repeats the outcome, unit, time or cohort column")
    panel = _validate.check_bool(panel, "panel")
    if isinstance(weights, str):
        check_weights(data, weights)
    if panel:
        eligible = _eligibility(data, unit, group)
        design = _cs_design.build(data, y, unit, time, cohort, covariates, weights, cluster, control, anticipation)
        q = eligible.reindex(design.units).to_numpy(dtype=bool)
    else:
        from econ.did.staggered import _rcs

        _eligibility(data.assign(_row_=np.arange(len(data))), "_row_", group)  # 0/1, not missing
        design = _rcs.build(data, y, unit, time, cohort, covariates, weights, cluster, control, anticipation,
                            rcs=True, extra=[group])
        q = design.extra[group].to_numpy().astype(bool)
    if survey:  # the stratified between-PSU variance replaces the cluster sums
        design.cluster = survey_kernel(survey, data, unit, design, n_draws, "ddd_gt")
    with single_thread_blas():
        cells, psi, notes = _estimate_cells(design, q, control, method, base_period, anticipation, progress)
    boot_basis = _bootstrap_basis(design, psi, n_draws, multiplier, seed) if n_draws else None
    spec = dict(y=y, unit=unit, time=time, cohort=cohort, group=group, covariates=list(design.xnames[1:]),
                control=control, method=method, base_period=base_period, anticipation=anticipation, cluster=cluster,
                weights=weights, n_draws=n_draws, multiplier=multiplier, seed=seed, cluster_bootstrap="mean",
                panel="panel" if panel else "rcs")
    notes = design.notes + [f"eligible subgroup: {group} = 1 ({int(q.sum())} of {len(q)} "
                            f"{'units' if panel else 'rows'})"] + notes
    return DDDgtResult(cells, psi, design, boot_basis, level, notes, spec)


def _eligibility(data: pd.DataFrame, unit: str, group: str) -> pd.Series:
    """The 0/1 eligibility per unit; TreatmentError naming cells that are not 0/1 and units in two groups."""
    col = data[group]
    if unit not in data.columns:
        raise SpecificationError(f"unit column {unit!r} is not in the data")
    if col.isna().any():
        rows = data.index[col.isna().to_numpy()]
        raise TreatmentError(f"group column {group!r} has {len(rows)} missing value(s), rows {_show(rows)}: every "
                             "unit must be eligible (1) or not (0)")
    if pd.api.types.is_bool_dtype(col):
        values = col.to_numpy(dtype=int)
    elif pd.api.types.is_numeric_dtype(col) and col.isin([0, 1]).all():
        values = col.to_numpy(dtype=int)
    else:
        bad = ~col.isin([0, 1, True, False])
        raise TreatmentError(f"group column {group!r} must be 0/1 (1 = the eligible subgroup); values such as "
                             f"{_show(pd.unique(col[bad]))} are not")
    frame = pd.DataFrame({"u": data[unit].to_numpy(), "q": values})
    spread = frame.groupby("u", sort=False)["q"].agg(["min", "max"])
    two = spread.index[spread["min"] != spread["max"]]
    if len(two):
        raise TreatmentError(f"group column {group!r} must be constant within unit: {len(two)} {unit}(s) are "
                             f"observed in two groups, e.g. {_show(two)}")
    return spread["min"]


def _estimate_cells(d, q, control, method, base_period, anticipation, progress):
    n, periods = d.n, d.periods
    rows_design = hasattr(d, "gr")  # a repeated cross-section (econ.did.staggered._rcs.RowDesign)
    gq = d.gr if rows_design else d.g  # cohort of each element of q (rows of a cross-section, else units)
    never = gq == NEVER
    rows, cols, notes = [], [], []
    for g, cells in _cs_design.cell_plan(d.cohorts, periods, base_period, anticipation, progress, "ddd_gt cohorts"):
        treated = gq == g
        if not (treated & q).any():
            raise TreatmentError(f"cohort {g} has no eligible unit: its ATT is not defined")
        for s, b, post, threshold in cells:
            row = dict(cohort=g, time=int(periods[s]), base=int(periods[b]), post=post)
            if b == s:
                rows.append({**row, "estimate": 0.0, "n_treated": int((treated & q).sum()), "n_control": 0})
                cols.append(np.zeros(n))
                continue
            comp = never if control == "never" else never | ((gq > threshold) & ~treated)
            try:
                att, psi = (_cell_rows if rows_design else _cell)(d, q, method, treated, comp, s, b)
                why = None
            except _drdid.CellFailure as exc:
                att, psi, why = np.nan, np.full(n, np.nan), str(exc)
            except np.linalg.LinAlgError as exc:
                att, psi, why = np.nan, np.full(n, np.nan), f"a linear solve failed ({exc})"
            if why:
                notes.append(f"ATT({g},{periods[s]}) is NaN: {why}")
            rows.append({**row, "estimate": att, "n_treated": int((treated & q).sum()),
                         "n_control": int(comp.sum())})
            cols.append(psi)
    cells = pd.DataFrame(rows)
    return cells, (np.column_stack(cols) if cols else np.zeros((n, 0))), notes


def _cell(d, q, method, treated, comp, s, b):
    """One (g, t) cell: (att, psi over the n units). GMM over comparison cohorts when there are several."""
    if not comp.any():
        raise _drdid.CellFailure("no comparison units (empty comparison group)")
    cohorts = np.unique(d.g[comp])
    keep = treated | comp
    idx = np.flatnonzero(keep)
    if len(cohorts) == 1:
        att, psi_cell = _ddd(d, q, method, treated, comp, idx, s, b)
    else:
        atts, cols = [], []
        for c in cohorts:
            local = treated | (comp & (d.g == c))
            a, p = _ddd(d, q, method, treated, comp & (d.g == c), np.flatnonzero(local), s, b)
            full = np.zeros(d.n)
            full[np.flatnonzero(local)] = p * (len(idx) / local.sum())
            atts.append(a)
            cols.append(full[idx])
        inf = np.column_stack(cols)
        omega = np.atleast_2d(np.cov(inf, rowvar=False))
        inv = np.linalg.pinv(omega)
        wts = inv.sum(axis=1) / inv.sum()
        att, psi_cell = float(np.dot(wts, atts)), inf @ wts
    out = np.zeros(d.n)
    out[idx] = psi_cell * (d.n / len(idx))
    return att, out


def _ddd(d, q, method, treated, comp, idx, s, b):
    """DiD(4v3) + DiD(4v2) - DiD(4v1) on the units ``idx``; psi over ``idx`` (scaled to them)."""
    sub = {4: treated & q, 3: treated & ~q, 2: comp & q, 1: comp & ~q}
    names = {3: "non-eligible units of the cohort", 2: "eligible comparison units",
             1: "non-eligible comparison units"}
    early = min(s, b)
    X_all = d.design(early)
    dy_all = d.Y[:, s] - d.Y[:, b]
    w_all = d.w / d.w[idx].mean()
    pos = np.full(d.n, -1)
    pos[idx] = np.arange(len(idx))
    att, psi = 0.0, np.zeros(len(idx))
    for k, sign in ((3, 1.0), (2, 1.0), (1, -1.0)):
        units = np.flatnonzero(sub[4] | sub[k])
        if not sub[k].any() or not (d.w[sub[k]] > 0).any():
            raise _drdid.CellFailure(f"no {names[k]} with a positive weight")
        dvec = sub[4][units].astype(float)
        X, w = X_all[units], w_all[units]
        weighted = not np.all(w == w[0])
        ps = _drdid.logit(X, dvec, w) if method != "reg" else None
        _drdid.check_design(X, dvec, method, d.w[units] if weighted else None, ps)
        with np.errstate(all="ignore"):
            a, p = _drdid.estimate(method, dy_all[units], dvec, X, w, ps)
        if not np.isfinite(a) or not np.all(np.isfinite(p)):
            raise _drdid.CellFailure("the estimate is not finite")
        att += sign * a
        psi[pos[units]] += sign * p * (len(idx) / len(units))
    return float(att), psi


def _cell_rows(d, q, method, treated, comp, s, b):
    """One (g, t) cell of repeated cross-sections: rows of periods s and b; GMM over comparison cohorts."""
    from econ.did.staggered import _drdid_rc, _rcs

    in_t = (d.t == s) | (d.t == b)
    comp = comp & in_t
    treated = treated & in_t
    if not comp.any():
        raise _drdid.CellFailure("no comparison rows (empty comparison group)")
    idx = np.flatnonzero(treated | comp)
    cohorts = np.unique(d.gr[comp])
    names = {3: "non-eligible rows of the cohort", 2: "eligible comparison rows", 1: "non-eligible comparison rows"}

    def ddd(rows_mask):
        ridx = np.flatnonzero(rows_mask)
        sub = {4: treated & q, 3: treated & ~q, 2: comp & q & rows_mask, 1: comp & ~q & rows_mask}
        w_all = d.wr / d.wr[ridx].mean()
        pos = np.full(len(d.t), -1)
        pos[ridx] = np.arange(len(ridx))
        att, psi = 0.0, np.zeros(len(ridx))
        for k, sign in ((3, 1.0), (2, 1.0), (1, -1.0)):
            rows = np.flatnonzero(sub[4] | sub[k])
            post = (d.t[rows] == s).astype(float)
            dvec = sub[4][rows].astype(float)
            for who, m in (("eligible rows of the cohort", dvec == 1), (names[k], dvec == 0)):
                if not (m & (post == 1)).any() or not (m & (post == 0)).any():
                    raise _drdid.CellFailure(f"no {who} in one of the two periods")
            X, w = d.Xr[rows], w_all[rows]
            ps = _drdid.logit(X, dvec, w) if method != "reg" else None  # fitted once
            _drdid.check_design(X, dvec, method, None if _rcs._unit_weights(w) else d.wr[rows], ps)
            with np.errstate(all="ignore"):
                a, p = _drdid_rc.estimate(method, d.Y[rows], post, dvec, X, w, ps)
            if not np.isfinite(a) or not np.all(np.isfinite(p)):
                raise _drdid.CellFailure("the estimate is not finite")
            att += sign * a
            psi[pos[rows]] += sign * p * (len(ridx) / len(rows))
        return float(att), psi, ridx

    if len(cohorts) == 1:
        att, psi_cell, _ = ddd(treated | comp)
    else:
        atts, cols = [], []
        pos = np.full(len(d.t), -1)
        pos[idx] = np.arange(len(idx))
        for c in cohorts:
            a, p, ridx = ddd(treated | (comp & (d.gr == c)))
            full = np.zeros(len(idx))
            full[pos[ridx]] = p * (len(idx) / len(ridx))
            atts.append(a)
            cols.append(full)
        inf = np.column_stack(cols)
        inv = np.linalg.pinv(np.atleast_2d(np.cov(inf, rowvar=False)))
        wts = inv.sum(axis=1) / inv.sum()
        att, psi_cell = float(np.dot(wts, atts)), inf @ wts
    return att, np.bincount(d.code[idx], psi_cell * (d.n / len(idx)), minlength=d.n)


class DDDgtResult(ATTgtResult):
    """Result of :func:`ddd_gt`: triple-difference ATT(g, t) of the eligible subgroup, with influence functions.

    Everything of :class:`~econ.did.ATTgtResult` (``tidy``, ``summary``, ``aggregate``, ``pretrend_test``,
    ``plot``); ``spec["group"]`` names the eligibility column.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from econ.did import ddd_gt
    >>> rng = np.random.default_rng(1)
    >>> n, T = 200, 3
    >>> df = pd.DataFrame(dict(i=np.repeat(np.arange(n), T), t=np.tile([1, 2, 3], n),
    ...                        g=np.repeat(rng.choice([0, 3], n), T), q=np.repeat(rng.integers(0, 2, n), T)))
    >>> df["y"] = rng.normal(size=len(df)) + df.eval("q * (g > 0) * (t >= g)")
    >>> ddd_gt(df, "y", "i", "t", "g", "q").tidy()["term"].tolist()
    ['g3_t2', 'g3_t3']
    """

    def __init__(self, cells, psi, design, boot_basis, level, notes, spec):
        super().__init__(cells, psi, design, boot_basis, level, notes, spec)
        self.model = (f"Staggered triple difference ATT(g,t) of {spec['group']} = 1 ({spec['method']}, "
                      f"{spec['control']} comparison, {spec['base_period']} base period)")
