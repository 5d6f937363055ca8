"""Sun and Abraham (2021) interaction-weighted (IW) event study on the feols engine.

Step 1 (cohort-specific effects, SA eq. 10): one saturated regression

    y_it = a_i + l_t + sum_{g not in C} sum_{l != -1} delta_{g,l} 1[G_i = g] 1[t - g = l] + X_it' b + e_it,

with the control cohort ``C`` (never-treated units, or the last-treated cohort on the periods before it adopts)
carrying no dummy. ``delta_{g,l}`` is CATT(g, l) under parallel trends and no anticipation.

Step 2 (aggregation, SA eq. 13): ``nu_l = sum_g w_{g,l} delta_{g,l}`` with ``w_{g,l}`` the share of cohort ``g``
among the observations at relative period ``l``; the overall ATT averages every post-period ``delta_{g,l}``
(``l >= 0``) with weights proportional to their observation counts -- the same weights as fixest's
``aggregate(x, "period")`` / ``summary(x, agg = "ATT")`` for ``sunab``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from econ import _validate
from econ.did import _conley, _design, _paths
from econ.did.design import balance_of, build_design, unbalanced_note
from econ.did.classic.event_study import event_term
from econ.errors import SpecificationError, TreatmentError
from econ.survey import survey_spec

__all__ = ["sun_abraham", "SunAbrahamResult"]


class SunAbrahamResult(_paths.EventPathResult):
    """Interaction-weighted event study: a :class:`~econ.results.Result` over the aggregated event-time effects.

    ``coef`` / ``vcov`` / ``tidy()`` hold the event-time effects ``nu_l`` (terms ``rel_m2``, ``rel_p0``...);
    ``tidy()`` adds an ``event_time`` column. Extra attributes: ``event_times``, ``ref`` ({-1}), ``overall_att``,
    ``overall_se``, ``cohort_result`` (the saturated :func:`econ.feols` fit with the cohort-specific
    ``delta_{g,l}``), ``cohort_table`` (cohort, event_time, estimate, std_error, n_obs, weight),
    ``share_uncertainty``.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import sun_abraham
    >>> res = sun_abraham(datasets.load("china_cities_demo"), "log_income_ratio", "prefecture_code", "year",
    ...                   "cohort")
    >>> res.coef[["rel_0", "rel_p1", "rel_p2"]].round(3).tolist()
    [-0.015, -0.031, -0.05]
    >>> cells = res.cohort_table
    >>> cells.loc[cells["event_time"] == 0, ["cohort", "n_obs", "weight"]].round(3)  # nu_0 = sum of weight * delta
        cohort  n_obs  weight
    5     2014   39.0   0.348
    20    2015   36.0   0.321
    35    2016   37.0   0.330
    >>> round(res.overall_att, 3)
    -0.04
    """

    path_label = "Sun-Abraham IW"

    def __init__(self, coef, vcov, *, event_times, overall, cohort_result, cohort_table, share_uncertainty,
                 **kwargs):
        super().__init__(coef, vcov, event_times=event_times, overall=overall, ref={-1}, **kwargs)
        self.cohort_result = cohort_result
        self.cohort_table = cohort_table
        self.share_uncertainty = share_uncertainty

    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        return (super().summary(level, digits) + f"\nOverall ATT (post-period cohort effects weighted by their "
                f"observation counts): {self.overall_att:.{digits}f} (s.e. {self.overall_se:.{digits}f})")


def sun_abraham(data: pd.DataFrame, y: str, unit: str, time: str, cohort: str, *, control: str = "never",
                covariates=None, vcov=None, weights: str | None = None,
                share_uncertainty: bool = True, balance: bool = False) -> SunAbrahamResult:
    """Sun and Abraham (2021) interaction-weighted event study.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per (unit, time); never modified.
    y, unit, time : str
        Outcome, unit id and integer time columns.
    cohort : str
        First treated period (0 or missing = never treated).
    control : {"never", "last"}
        Control cohort ``C``. ``"never"`` (default): the never-treated units. ``"last"``: the last-treated cohort,
        on the periods before it is treated (later periods are dropped) -- never-treated units are then dropped
        too, so that ``C`` is one cohort as in the paper.
    covariates : list of str, optional
        Time-varying controls added linearly (as fixest's ``sunab`` with controls).
    vcov : optional
        Any :func:`econ.feols` vcov spec; default clustered by unit. ``{"conley": {...}}`` (Conley spatial HAC,
        coordinates constant within unit, see :mod:`econ.did._conley`) also puts the cohort-share term on the
        same kernel over units. ``{"survey": {"strata": .., "psu": .., "fpc": ..}}`` (:mod:`econ.survey`): the
        regression's Taylor-linearised design-based covariance, and the cohort-share term's between-PSU variance of
        the per-unit share influences (design columns constant within unit; without ``psu`` each unit is a PSU).
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). The cohort regression is weighted least squares and the cohort
        shares are weighted observation counts. ``None``: equal weights.
    share_uncertainty : bool
        Add the sampling variance of the cohort shares to the aggregated standard errors (default, the IW
        estimator's delta-method variance, SA section 4.3, as Stata's ``eventstudyinteract``), clustered as
        ``vcov`` is. ``False`` treats the shares as fixed: the delta method on the cohort coefficients only,
        ``w' V_delta w``, which reproduces fixest's ``sunab`` standard errors (``aggregate()`` and
        ``summary(agg = ...)``; pyfixest's saturated event study ``aggregate()`` likewise).
    balance : bool, default False
        ``False`` keeps an unbalanced panel whole: the saturated regression uses every observed row (as fixest's
        ``sunab`` and diff-diff ``SunAbraham`` do) and the cohort shares are observation counts, so a unit observed
        in fewer periods weighs less; a note reports the sample (units, rows, units observed in fewer than all
        periods) and ``nobs`` / ``n_units`` count the rows and units used. ``True`` drops the units not observed in
        every period first (a note and an :class:`~econ.errors.EconWarning`), as :func:`econ.did.att_gt`'s
        ``balance=True``.

    Returns
    -------
    SunAbrahamResult
        Event-time effects ``nu_l`` as a Result (terms ``rel_m3`` ... ``rel_p5``), the overall ATT, and the
        saturated fit with every ``delta_{g,l}`` (``cohort_result``, ``cohort_table``).

    Raises
    ------
    TreatmentError
        No control cohort (no never-treated units with ``control="never"``; one cohort with ``control="last"``).
    SpecificationError
        Unknown ``control``, or a column clash with the interaction dummies.

    Notes
    -----
    The cohort-specific regression includes every relative period of every treated cohort except ``l = -1``
    (fixest's ``sunab(cohort, time)`` default, ``ref.p = -1``, no binning), so the ``delta_{g,l}`` match fixest /
    pyfixest's saturated event study. Units treated in the first panel period have no pre-period and are dropped
    (noted). The weights are ``w_c = n_c / sum_{c' in S} n_{c'}`` over the cells ``S`` of an aggregate (observation
    counts ``n_c``). With ``share_uncertainty=True`` the variance of ``theta = sum_c w_c delta_c`` is

        V = w' V_delta w + (1/N^2) sum_i (sum_c delta_c psi_ic)^2,   psi_ic = (m_ic - w_c M_i) / mean_j M_j,

    where ``m_ic`` counts unit i's observations in cell c and ``M_i = sum_{c in S} m_ic`` (the unit-level
    influence function of the shares, N units). When ``vcov`` clusters more coarsely than the unit
    (``{"CL1": "state"}`` with units nested in states) the inner sums run over clusters instead of units,
    ``(1/N^2) sum_G (sum_{i in G} sum_c delta_c psi_ic)^2``, as the regression's covariance does. The cross
    term is zero because the regression scores have mean zero given the cohort (as in Stata's ``eventstudyinteract``). Inference for the aggregates uses the t
    distribution of the regression (clusters - 1 degrees of freedom when clustered).

    References
    ----------
    Sun, L. and Abraham, S. (2021). Estimating dynamic treatment effects in event studies with heterogeneous
    treatment effects. Journal of Econometrics 225(2), 175-199.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import sun_abraham
    >>> df = datasets.load("china_cities_demo")
    >>> res = sun_abraham(df, "log_income_ratio", "prefecture_code", "year", "cohort")
    >>> res.tidy().loc[lambda t: t["event_time"] == 0, "term"].item()
    'rel_0'
    """
    _validate.check_choice(control, "control", ["never", "last"])
    share_uncertainty = _validate.check_bool(share_uncertainty, "share_uncertainty")
    covariates = _design.as_list(covariates)
    survey = survey_spec(vcov, "sun_abraham")
    if survey is not None and survey.psu is None:  # a panel's sampled elements are its units, as in att_gt
        survey = replace(survey, psu=unit)
        vcov = {"survey": {k: getattr(survey, k) for k in ("strata", "psu", "fpc", "nest", "lonely_psu")}}
    conley = None if survey else _conley.conley_spec(vcov, "sun_abraham")
    if conley:  # coordinates complete, in range and constant within unit before the regression sees them
        _conley.require_great_circle(conley, "sun_abraham")
        _conley.check_coordinates(data, unit, conley, "sun_abraham")
    design = build_design(data, y, unit, time, cohort, covariates=covariates, weights=weights, vcov=vcov,
                          control=control, balance=balance_of(balance, "sun_abraham"))
    if control == "never" and not design.n_never:
        raise TreatmentError(f"no never-treated {unit}: use control='last' (the last-treated cohort as control)")
    frame, cohorts, notes = design.frame, design.cohorts, list(design.notes)

    g = frame[unit].map(cohorts).to_numpy(dtype="int64")
    treated = g != _design.NEVER
    rel = np.where(treated, frame[time].to_numpy(dtype="int64") - np.where(treated, g, 0), 0)
    hit = treated & (rel != -1)
    gh, rh = g[hit], rel[hit]
    r0 = int(rh.min()) if len(rh) else 0
    span = int(rh.max()) - r0 + 1 if len(rh) else 1
    key = np.searchsorted(np.unique(gh), gh) * span + (rh - r0)  # (cohort, rel) in lexicographic order
    uniq, first, rank = np.unique(key, return_index=True, return_inverse=True)
    cells = [(int(gh[i]), int(rh[i])) for i in first]  # sorted (cohort, relative period) cells
    names = [f"{event_term(l)}_g{c}" for c, l in cells]
    clash = [n for n in names if n in frame.columns]
    if clash:
        raise SpecificationError(f"column(s) {clash[:5]} clash with the interaction dummies sun_abraham creates")
    col = np.full(len(frame), -1, dtype=np.int64)  # row -> its cell (position among the sorted pairs), or -1
    col[hit] = np.ravel(rank)
    dummies = np.zeros((len(frame), len(cells)))
    dummies[np.flatnonzero(hit), col[hit]] = 1.0
    frame = pd.concat([frame, pd.DataFrame(dummies, columns=names, index=frame.index)], axis=1)
    vcov_spec = _design.default_vcov(vcov, unit)
    fit = _design.fit(frame, y, [*names, *covariates], [unit, time], vcov_spec, weights)
    lost = [n for n in names if n not in fit.coef.index]
    if lost:
        raise TreatmentError(f"cohort x relative-period effects {lost[:5]} are not identified (collinear with the "
                             "fixed effects); check the control cohort")

    sample = frame.iloc[fit.design.rows]
    w_obs = None if weights is None else sample[weights].to_numpy(dtype=float)
    m, units = _cell_counts(sample[unit].to_numpy(), col[fit.design.rows], len(cells), w_obs)
    delta = fit.coef[names].to_numpy()
    v_delta = fit.vcov.loc[names, names].to_numpy()
    event_times = sorted({l for _, l in cells})
    sets = [[j for j, (_, l) in enumerate(cells) if l == e] for e in event_times]
    sets.append([j for j, (_, l) in enumerate(cells) if l >= 0])
    A, psi = _aggregation(m, sets, delta)
    vcov_all = A @ v_delta @ A.T
    if share_uncertainty:
        if conley:  # the share term gets the regression's spatial kernel, over units
            meat = _conley.UnitKernel.from_data(data, unit, units, conley, "sun_abraham").meat(psi)
        elif survey:  # ... and the survey design's between-PSU variance, over units
            meat = survey.for_units(data, unit, units, "sun_abraham survey design").meat(psi)
        else:
            psi = _cluster_share_influence(psi, vcov_spec, sample, unit, units, time)
            meat = psi.T @ psi
        vcov_all = vcov_all + meat / m.shape[0] ** 2
    theta = A @ delta
    k = len(event_times)
    terms = [event_term(e) for e in event_times]
    table = pd.DataFrame({"cohort": [c for c, _ in cells], "event_time": [l for _, l in cells], "estimate": delta,
                          "std_error": np.sqrt(np.diag(v_delta)), "n_obs": m.sum(axis=0),
                          "weight": A[:k].sum(axis=0)})
    notes.append(f"Sun-Abraham IW: control cohort {'never treated' if control == 'never' else 'last treated'}, "
                 f"{len(cells)} cohort x relative-period effects, reference period -1; cohort-share uncertainty "
                 f"{'included in' if share_uncertainty else 'left out of'} the aggregated standard errors")
    unbalanced = unbalanced_note(sample, unit, time, "the saturated regression uses every observed row; cohort "
                                 "shares are observation counts")
    if unbalanced:
        notes.insert(len(notes) - 1, unbalanced)
    return SunAbrahamResult(
        pd.Series(theta[:k], index=terms), vcov_all[:k, :k], event_times=event_times,
        overall=(float(theta[k]), float(np.sqrt(vcov_all[k, k]))), cohort_result=fit, cohort_table=table,
        share_uncertainty=share_uncertainty, nobs=fit.nobs, df_resid=fit.df_resid, df_t=fit.df_t, r2=fit.r2,
        r2_within=fit.r2_within, fe_levels=fit.fe_levels, notes=list(fit.notes) + notes,
        model="Sun-Abraham interaction-weighted event study", depvar=y, vcov_type=fit.vcov_type,
        cluster=fit.cluster, n_clusters=fit.n_clusters, extra={"n_units": len(units), "control": control},
        n_units=len(units))


def _cell_counts(units, col, n_cells, w):
    """(N units x cells) matrix of each unit's (weighted) observation count in each cohort x period cell."""
    codes, uniq = pd.factorize(units)
    m = np.zeros((len(uniq), n_cells))
    hit = col >= 0
    np.add.at(m, (codes[hit], col[hit]), 1.0 if w is None else w[hit])
    return m, uniq


def _cluster_share_influence(psi, vcov_spec, sample, unit, units, time):
    """Sum the per-unit share influence ``psi`` (units in ``units`` order) within the clusters of a one-way
    clustered ``vcov`` coarser than the unit, so that the share term is clustered as the regression is; unchanged
    for unit-level clusters and for other covariances (iid, hetero: the shares' sampling unit is the unit).
    Two-way clustering uses the coarser-than-unit dimension when exactly one is constant within unit."""
    from econ.panel.vcov import Cluster, TwoWayCluster, parse_vcov

    est = parse_vcov(vcov_spec, time=time, unit=unit)
    cols = est.columns() if isinstance(est, (Cluster, TwoWayCluster)) else []
    coarse = [c for c in cols if c != unit and c in sample.columns
              and (sample.groupby(unit, sort=False)[c].nunique(dropna=False) == 1).all()]
    if len(coarse) != 1:
        return psi
    by_unit = sample.groupby(unit, sort=False)[coarse[0]].first().reindex(units)
    codes, _ = pd.factorize(by_unit.to_numpy())
    out = np.zeros((codes.max() + 1, psi.shape[1]))
    np.add.at(out, codes, psi)
    return out


def _aggregation(m, sets, delta):
    """Aggregation matrix A (one row per set, count-share weights) and per-unit share influence (N x sets)."""
    A = np.zeros((len(sets), m.shape[1]))
    psi = np.zeros((m.shape[0], len(sets)))
    for r, s in enumerate(sets):
        ms = m[:, s]
        M = ms.sum(axis=1)
        w = ms.sum(axis=0) / M.sum()
        A[r, s] = w
        psi[:, r] = ((ms - M[:, None] * w) / M.mean()) @ delta[s]
    return A, psi
