"""Event-study effects of first treatment switches for non-absorbing and non-binary treatments (de Chaisemartin and
D'Haultfoeuille 2024, R/Stata ``did_multiplegt_dyn``; moderndid ``did_multiplegt``).

A group ``g`` with baseline treatment ``D_g1`` first switches at ``F_g`` (the first period whose treatment differs
from ``D_g1``), up (``S_g = 1``) or down (``S_g = -1``). Its ``l``-th effect compares ``Y_{F_g-1+l} - Y_{F_g-1}``
with the same change averaged over the groups with the same baseline treatment that have not switched by
``F_g-1+l``; placebo ``l`` compares ``Y_{F_g-1-l} - Y_{F_g-1}`` with the same comparison groups. Treatments may
switch on and off and take any values; only the first switch defines the event.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from econ import _validate
from econ._figure import figure, finish_figure
from econ._truth import overlay_truth
from econ.did._design import (
    _show, as_list, check_name, check_names, cluster_column, numeric, prepare_panel, require_unit_constant)
from econ.did.intensity._multiplegt_controls import fit_thetas, residualise
from econ.did.design import check_weights
from econ.errors import EconWarning, SpecificationError, TreatmentError, WeightsError

__all__ = ["did_multiplegt", "MultiplegtResult"]

COLUMNS = ["term", "estimate", "std_error", "p_value", "conf_low", "conf_high"]


@dataclass
class MultiplegtResult:
    """Effects of first switches by periods since the switch (:func:`did_multiplegt`).

    Attributes
    ----------
    table : DataFrame
        One row per effect (``event_time = 1..effects``) and placebo (``-1..-placebo``): estimate, std_error,
        n_switchers, and ``normalized`` / ``normalized_se`` (effect per unit of accumulated treatment change).
    vcov : ndarray
        Covariance of the rows of ``table`` (from the groups' influence functions, clustered).
    placebo_test : dict or None
        Joint Wald test that all placebos are zero: ``stat``, ``df``, ``p_value``.
    depvar, unit, cluster : str
        Outcome and group columns, and the cluster column (None: clustered by group).

    Examples
    --------
    >>> from econ.did.intensity.multiplegt import _demo_panel, did_multiplegt
    >>> res = did_multiplegt(_demo_panel(), "y", "unit", "time", "d", effects=2, placebo=1)
    >>> res.tidy()["term"].tolist()
    ['effect_1', 'effect_2', 'placebo_1']
    """

    table: pd.DataFrame
    vcov: np.ndarray
    placebo_test: dict | None
    level: float
    notes: list = field(default_factory=list)
    nobs: int | None = None
    n_units: int | None = None
    n_switchers: int = 0
    n_never_switchers: int = 0
    depvar: str = ""
    unit: str = ""
    cluster: str | None = None

    def tidy(self, normalized: bool = False) -> pd.DataFrame:
        """Effects and placebos as rows.

        Parameters
        ----------
        normalized : bool
            Report the normalized effects (per unit of accumulated treatment change) instead.

        Returns
        -------
        DataFrame
            ``term, estimate, std_error, p_value, conf_low, conf_high, event_time, n_switchers``.
        """
        t = self.table
        est = t["normalized" if normalized else "estimate"].to_numpy(float)
        se = t["normalized_se" if normalized else "std_error"].to_numpy(float)
        z = stats.norm.ppf(0.5 + self.level / 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = 2 * stats.norm.sf(np.abs(est / se))
        return pd.DataFrame({"term": t["term"], "estimate": est, "std_error": se, "p_value": p,
                             "conf_low": est - z * se, "conf_high": est + z * se, "event_time": t["event_time"],
                             "n_switchers": t["n_switchers"]})

    def summary(self) -> str:
        """Effects, placebos, the joint placebo test and the notes.

        Returns
        -------
        str
        """
        lines = ["DiD with switching treatments (de Chaisemartin and D'Haultfoeuille 2024)",
                 f"groups: {self.n_units} ({self.n_switchers} switchers, {self.n_never_switchers} never switch)", ""]
        for _, r in self.tidy().iterrows():
            lines.append(f"{r.term:>10}: {r.estimate: .5f} (se {r.std_error:.5f}), {int(r.n_switchers)} switchers")
        if self.placebo_test:
            pt = self.placebo_test
            lines.append(f"joint test of placebos: chi2({pt['df']}) = {pt['stat']:.3f}, p = {pt['p_value']:.4f}")
        if self.notes:
            lines += ["", "notes:"] + [f"  - {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, path=None, *, normalized: bool = False, truth=None):
        """Event-study path: placebos and effects against periods since the first switch (0 = last period before).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
        path : str or Path, optional
        normalized : bool
            Plot the normalized effects.
        truth : SwitchingSimulation, mapping, Series or float, optional
            The true path drawn over the estimates: a simulated design with ``true_effects`` (e.g.
            :func:`econ.simulate.draw_switching_panel`), or true values by event time / one number, as every
            ``plot(truth=...)`` of the package (:func:`econ.results.overlay_truth`).

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)

        Raises
        ------
        SpecificationError
            ``truth`` is none of the accepted forms.
        """
        fig, ax = figure(ax)
        t = self.tidy(normalized).sort_values("event_time")
        e = np.r_[0, t["event_time"].to_numpy()]
        order = np.argsort(e)
        est = np.r_[0.0, t["estimate"].to_numpy()][order]
        lo = np.r_[0.0, t["conf_low"].to_numpy()][order]
        hi = np.r_[0.0, t["conf_high"].to_numpy()][order]
        e = e[order]
        ax.errorbar(e, est, yerr=[est - lo, hi - est], fmt="o", capsize=3, label="estimate")
        if truth is not None:
            if callable(getattr(truth, "true_effects", None)):
                truth = truth.true_effects(e, normalized=normalized)
            overlay_truth(ax, e, truth, by="event_time")
            ax.legend(frameon=False)
        ax.axhline(0, color="grey", lw=0.8)
        ax.axvline(0.5, color="grey", ls=":", lw=0.8)
        ax.set_xlabel("periods since the first switch")
        ax.set_ylabel("normalized effect" if normalized else "effect")
        return finish_figure(fig, ax, path)


def did_multiplegt(data, y, unit, time, treat, *, effects: int = 1, placebo: int = 0, covariates=None, vcov=None,
                   cluster=None, level: float = 0.95, drop_bidirectional: bool = True,
                   weights: str | None = None) -> MultiplegtResult:
    """Event-study effects of first switches of a binary or non-binary treatment that may switch on and off.

    Parameters
    ----------
    data : DataFrame
        Long panel (never modified); periods are taken in order (positions of the sorted distinct periods).
    y, unit, time, treat : str
        Outcome, group id, time and treatment columns (the treatment may take any real values).
    effects, placebo : int
        Number of effects (1..effects periods after the switch) and placebos (before it).
    covariates : str or list of str, optional
        Time-varying control variables (``did_multiplegt_dyn``'s ``controls``): the outcome is replaced by
        ``Y - X theta_d``, ``theta_d`` estimated by regressing the outcome's first differences on the controls' first
        differences with period fixed effects among the not-yet-switched groups of baseline treatment ``d``. Rows
        with a missing control are dropped (a note says how many).
    vcov : None or {"CL1": column}, optional
        As in every estimator of the package: ``None`` (default) clusters by group (each group its own cluster);
        ``{"CL1": col}`` clusters by a column constant within group.
    cluster : str, optional
        Alias of ``vcov={"CL1": cluster}``.
    level : float
        Confidence level.
    drop_bidirectional : bool
        Drop groups whose treatment is later both above and below its baseline (the package default of
        ``did_multiplegt_dyn``: their effects mix positive and negative weights).
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise), constant within group. Switchers are averaged with weights
        ``w_g`` and every comparison mean is ``w``-weighted (``did_multiplegt_dyn``'s ``weight`` option with
        weights fixed over time; with ``covariates`` their regression is weighted too); groups with weight zero are
        dropped with a note. ``None``: equal weights.

    Returns
    -------
    MultiplegtResult

    Raises
    ------
    TreatmentError
        A non-numeric treatment (naming rows), no group switches, or no switcher has a comparison group (naming the
        switchers).
    SpecificationError
        Bad arguments, unknown or non-numeric columns, infinite values (naming rows), a cluster column that varies
        within group (naming groups), covariates that repeat the model's columns.
    WeightsError
        Missing, negative, infinite or non-numeric weights (naming the rows), weights varying within group.
    PanelError
        Duplicate (unit, time) rows or a non-integer time column.

    Notes
    -----
    ``DID_l = (1/N_l) sum_g S_g [(Y_{g,F_g-1+l} - Y_{g,F_g-1}) - mean_{g'}(Y_{g',F_g-1+l} - Y_{g',F_g-1})]`` over the
    switchers whose comparison set (same baseline treatment, ``F_{g'} > F_g - 1 + l``) is not empty; the normalized
    effect divides by ``(1/N_l) sum_g sum_{k<l} |D_{g,F_g+k} - D_{g,1}|``. A placebo uses the switchers and
    comparison groups of the effect at the same lag. Standard errors use each group's influence on the estimate:
    a switcher's own term centred at the mean of its cohort (same baseline, first-switch period and direction), as
    de Chaisemartin and D'Haultfoeuille do, and for comparison groups their share of the comparison means; summed
    within clusters, ``sqrt(sum_c U_c^2) / N_l``. ``did_multiplegt_dyn`` also applies degrees-of-freedom
    corrections with fallbacks for singleton cohorts, which this function does not: on favara_imbs the standard
    errors differ by up to 10%; point estimates coincide. Sample rules as ``did_multiplegt_dyn``: groups moving both
    above and below their baseline lose their observations from then on; baseline treatments whose groups all
    switch at once (or never) are dropped (a note and an EconWarning name them); outcomes in periods in which no
    group of the same baseline is observed before its switch are set aside. Effects or placebos that no switcher
    can identify are NaN, with a note and an EconWarning.

    With ``covariates``, ``theta_d`` is fitted once by least squares of ``Y_{g,t} - Y_{g,t-1}`` on
    ``X_{g,t} - X_{g,t-1}`` and period effects over the cells ``t < F_g`` of the groups with baseline ``d``
    (section 3.5 of the paper; did_multiplegt_dyn's ``controls``), and every difference above uses
    ``Y - X theta_{D_g1}``. Each group's influence gains ``-M_d' psi_g``: ``M_d`` the derivative of the estimate in
    ``theta_d``, ``psi_g = G (X'X)^{-1} sum_t x_gt e_gt`` the group's influence on ``theta_d``. Against
    py_did_multiplegt_dyn on favara_imbs the estimates agree to 1e-9; did_multiplegt_dyn also adds a constant
    ``M_d' theta_d`` and a cell degrees-of-freedom factor to that term, which this function does not. moderndid
    0.2.0 instead residualises long differences on never-switchers without period effects (other estimates).
    ``same_switchers`` is not implemented. With ``weights`` every mean above is ``w``-weighted, ``N_l`` becomes the
    switchers' weight total and each group's influence carries its weight (cohort centring at the weighted mean).

    References
    ----------
    de Chaisemartin, C. and D'Haultfoeuille, X. (2024). Difference-in-differences estimators of intertemporal
    treatment effects. Review of Economics and Statistics 106(6), 1723-1736.

    Examples
    --------
    >>> from econ.did.intensity.multiplegt import _demo_panel, did_multiplegt
    >>> res = did_multiplegt(_demo_panel(), "y", "unit", "time", "d", effects=2)
    >>> bool(abs(res.table["estimate"].iloc[0] - 1.0) < 0.3)
    True
    """
    effects = _validate.check_int(effects, "effects", minimum=1)
    placebo = _validate.check_int(placebo, "placebo", minimum=0)
    treat = check_name(treat, "treat")
    y = check_name(y, "y")
    controls = check_names(as_list(covariates), "covariates")
    cluster = check_name(cluster_column(vcov, cluster, unit, "did_multiplegt"), "vcov", optional=True)
    if not 0 < level < 1:
        raise SpecificationError(f"level must be in (0, 1), got {level!r}")
    weights = check_name(weights, "weights", optional=True)
    check_weights(data, weights)
    frame = _frame(data, y, unit, time, treat, controls, cluster, weights)
    notes = [f"{frame.attrs['dropped_missing']} row(s) with a missing treatment{' or control' if controls else ''} "
             "dropped"] if frame.attrs.get("dropped_missing") else []
    if weights is not None:
        require_unit_constant(frame[weights], frame[unit], f"weights column {weights!r}", WeightsError)
        zero = frame[weights].to_numpy(float) == 0
        if zero.any():
            notes.append(f"{frame.loc[zero, unit].nunique()} {unit}(s) with zero weight dropped")
            frame = frame.loc[~zero].reset_index(drop=True)
    codes, units = pd.factorize(frame[unit], sort=False)
    periods = np.sort(frame[time].unique())
    G, T = len(units), len(periods)
    col = np.searchsorted(periods, frame[time].to_numpy())
    Y = np.full((G, T), np.nan)
    D = np.full((G, T), np.nan)
    Y[codes, col] = frame[y].to_numpy(float)
    D[codes, col] = frame[treat].to_numpy(float)
    X = np.full((G, T, len(controls)), np.nan)
    for k, c in enumerate(controls):
        X[codes, col, k] = frame[c].to_numpy(float)
    w = np.ones(G)
    if weights is not None:
        w[codes] = frame[weights].to_numpy(float)
    cl = None
    if cluster is not None:
        require_unit_constant(frame[cluster], frame[unit], f"cluster {cluster!r}", SpecificationError)
        cl = pd.factorize(frame.drop_duplicates(unit).set_index(unit)[cluster].reindex(units), sort=True)[0]
    first = np.argmax(np.isfinite(D), axis=1)
    D1 = D[np.arange(G), first]
    changed = np.isfinite(D) & (D != D1[:, None])
    F = np.where(changed.any(axis=1), np.argmax(changed, axis=1), T)  # position of the first switch; T = never
    above = np.isfinite(D) & (D > D1[:, None])
    below = np.isfinite(D) & (D < D1[:, None])
    up, down = above.any(axis=1), below.any(axis=1)
    keep = np.ones(G, bool)
    both = (np.maximum.accumulate(above, axis=1) & np.maximum.accumulate(below, axis=1))
    if drop_bidirectional and both.any():
        Y = np.where(both, np.nan, Y)
        notes.append(f"{int(both.any(axis=1).sum())} group(s) whose treatment moved both above and below its "
                     f"baseline: their {int(both.sum())} observation(s) from then on are dropped (as "
                     f"did_multiplegt_dyn), e.g. {_show(units[both.any(axis=1)], 3)}")
    first_up = np.where(up, np.argmax(above, axis=1), T)
    first_down = np.where(down, np.argmax(below, axis=1), T)
    S = np.where(first_up < first_down, 1.0, -1.0)
    if not (F < T).any():
        raise TreatmentError(f"no {unit} ever changes its treatment {treat!r} (all {G} keep their first observed "
                             "value): nothing to estimate")
    keep, Y = _sample_rules(Y, D, D1, F, keep, T, units, notes, unit)
    switchers = keep & (F < T)
    if not switchers.any():
        lost = units[F < T]
        raise TreatmentError(f"no switcher has a comparison group: within each baseline value of {treat!r} all "
                             f"{unit}s switch in the same period, so none is a not-yet-switched comparison (switchers "
                             f"{_show(lost)}); did_multiplegt needs groups with the same baseline treatment that "
                             "switch later or never")
    thetas = {}
    if controls:
        thetas = fit_thetas(Y, X, D1, F, keep, notes, controls, w)
        Y = residualise(Y, X, D1, thetas)
    rows, IF = [], []
    for sign, lags in ((1, range(1, effects + 1)), (-1, range(1, placebo + 1))):
        for ell in lags:
            est, psi, n_sw, dose = _one(Y, D, D1, F, S, keep, ell, sign, G, T, w)
            for d, (theta, psi_theta) in thetas.items():  # estimated theta_d: -dest/dtheta_d' psi_theta
                seen = np.isfinite(Y)
                m = np.array([_one(np.where(seen, np.where((D1 == d)[:, None], X[:, :, k], 0.0), np.nan), D, D1, F,
                                    S, keep, ell, sign, G, T, w)[0] for k in range(len(controls))])
                if np.isfinite(m).all():
                    psi = psi - psi_theta @ m
            rows.append((f"{'effect' if sign > 0 else 'placebo'}_{ell}", sign * ell, est, n_sw, dose))
            IF.append(psi)
    if rows[0][3] == 0:
        raise TreatmentError("no switcher has a comparison group (same baseline treatment, not yet switched) one "
                             "period after its switch")
    empty = [r[0] for r in rows if r[3] == 0]
    if empty:
        msg = (f"{', '.join(empty)} not estimable (NaN): no switcher is observed that many periods from its switch "
               "with a group of the same baseline treatment that has not switched yet")
        never = {d for d in np.unique(D1[keep]) if not (keep & (D1 == d) & (F == T)).any()}
        if never:
            msg += (f"; baseline treatment(s) {sorted(float(d) for d in never)} have no never-switching {unit}, so "
                    "their last switchers have no comparison")
        notes.append(msg)
        warnings.warn(msg, EconWarning, stacklevel=2)
    IF = np.column_stack(IF)
    sums = IF if cl is None else np.stack([np.bincount(cl, weights=IF[:, j]) for j in range(IF.shape[1])], axis=1)
    V = sums.T @ sums / G ** 2
    se = np.sqrt(np.diag(V))
    table = pd.DataFrame(rows, columns=["term", "event_time", "estimate", "n_switchers", "dose_change"])
    table["std_error"] = se
    with np.errstate(divide="ignore", invalid="ignore"):
        table["normalized"] = table["estimate"] / table["dose_change"]
        table["normalized_se"] = se / np.abs(table["dose_change"])
    if drop_bidirectional is False:
        notes.append("groups moving both above and below their baseline are kept")
    pt = None
    pl = table["event_time"].to_numpy() < 0
    if pl.any() and np.all(table.loc[pl, "n_switchers"] > 0):
        b, Vp = table.loc[pl, "estimate"].to_numpy(), V[np.ix_(pl, pl)]
        stat = float(b @ np.linalg.pinv(Vp) @ b)
        pt = {"stat": stat, "df": int(pl.sum()), "p_value": float(stats.chi2.sf(stat, int(pl.sum())))}
    return MultiplegtResult(table, V, pt, level, notes, nobs=int(np.isfinite(Y).sum()), n_units=int(keep.sum()),
                            n_switchers=int(switchers.sum()), n_never_switchers=int((keep & (F == T)).sum()),
                            depvar=y, unit=unit, cluster=cluster)


def _sample_rules(Y, D, D1, F, keep, T, units, notes, unit="unit"):
    """``did_multiplegt_dyn``'s rules: baseline treatments whose groups all switch at the same time (or never) have
    no comparison and are dropped (a note and an EconWarning naming them); outcomes in periods where no group with the
    same baseline is observed before its switch are set aside (nothing to compare with there)."""
    keep = keep.copy()
    for d in np.unique(D1[keep]):
        same = keep & (D1 == d)
        f = np.where(F[same] == T, -1, F[same])
        if len(np.unique(f)) < 2:
            keep &= ~same
            what = "never switch" if f[0] < 0 else f"all switch in the same period (position {f[0]})"
            msg = (f"{int(same.sum())} {unit}(s) with baseline treatment {d:g} dropped: they {what}, so none can "
                   f"serve as a comparison for another, e.g. {_show(units[same], 3)}")
            notes.append(msg)
            if f[0] >= 0:
                warnings.warn(msg, EconWarning, stacklevel=3)
    obs = np.isfinite(Y)
    Y = Y.copy()
    lost = 0
    for d in np.unique(D1[keep]):
        same = keep & (D1 == d)
        # periods in which some group of this baseline is observed and has not switched yet
        never_seen = (np.isfinite(D[same]) & (np.arange(T)[None, :] < F[same][:, None])).any(axis=0)
        bad = same[:, None] & obs & ~never_seen[None, :]
        lost += int(bad.sum())
        Y[bad] = np.nan
    if lost:
        notes.append(f"{lost} observation(s) in periods with no not-yet-switched group of the same baseline "
                     "treatment set aside")
    return keep, Y


def _frame(data, y, unit, time, treat, controls, cluster, weights=None):
    """The validated panel: numeric outcome, treatment and controls; rows missing the treatment or a control dropped."""
    clash = [c for c in controls if c in (y, unit, time, treat)]
    if clash:
        raise SpecificationError(f"covariates {clash} repeat the outcome, unit, time or treatment column")
    frame = prepare_panel(data, unit, time, [treat, *controls],
                          optional=[y] + ([cluster] if cluster else []) + ([weights] if weights else []))
    try:
        numeric(frame, treat)
    except SpecificationError as err:
        bad = frame.loc[pd.to_numeric(frame[treat], errors="coerce").isna(), [unit, time]].head(3)
        raise TreatmentError(f"treatment {treat!r} must be numeric (any real values); e.g. rows "
                             f"{bad.to_dict('records')}: {err}") from None
    for c in [y, *controls]:
        numeric(frame, c)
    return frame


def _one(Y, D, D1, F, S, keep, ell, sign, G, T, w=None):
    """One effect (``sign=1``) or placebo (``sign=-1``) at lag ``ell``: estimate, influence (length G), switchers,
    mean accumulated treatment change (effects) of the switchers used. ``w``: sampling weights of the groups."""
    w = np.ones(G) if w is None else w
    psi = np.zeros(G)
    total, n_sw, w_sw, dose = 0.0, 0, 0.0, 0.0
    cand = keep & (F < T) & (F - 1 + ell <= T - 1) & (F - 1 >= 0)
    if sign < 0:
        cand &= F - 1 - ell >= 0
    cells = {}
    for g in np.flatnonzero(cand):
        cells.setdefault((D1[g], int(F[g])), []).append(g)
    parts = []
    for (d1, f), members in cells.items():
        t_post, base = f - 1 + ell, f - 1
        t_cmp = t_post if sign > 0 else f - 1 - ell
        # a placebo uses the switchers and comparison groups of the effect at the same lag (observed at t_post too)
        seen = np.isfinite(Y[:, t_cmp]) & np.isfinite(Y[:, base]) & np.isfinite(Y[:, t_post])
        ctrl = keep & (D1 == d1) & (F > t_post) & seen
        members = np.array(members)
        members = members[seen[members]]
        if not ctrl.any() or not len(members):
            continue
        dy_c = Y[ctrl, t_cmp] - Y[ctrl, base]
        wc, wm = w[ctrl], w[members]
        m = float(wc @ dy_c) / wc.sum()
        dy = Y[members, t_cmp] - Y[members, base]
        s = S[members]
        parts.append((members, wm * s * (dy - m), np.flatnonzero(ctrl), -(wm @ s) * wc * (dy_c - m) / wc.sum()))
        n_sw += len(members)
        w_sw += wm.sum()
        if sign > 0:
            dose += wm @ np.abs(D[members, f:f + ell] - D1[members, None]).sum(axis=1)
    if not n_sw:
        return np.nan, psi, 0, np.nan
    for members, own, ctrl, share in parts:
        total += own.sum()
        psi[ctrl] += share
        for sgn in (-1.0, 1.0):  # centre within cohort (baseline, first switch, direction), as dCDH
            k = S[members] == sgn
            if k.any():
                wk = w[members[k]]
                psi[members[k]] += own[k] - wk * own[k].sum() / wk.sum()
    est = total / w_sw
    return float(est), psi * G / w_sw, n_sw, (dose / w_sw if sign > 0 else np.nan)


def _demo_panel(n: int = 200, T: int = 6, seed: int = 0) -> pd.DataFrame:
    """The switching-treatment panel of the examples (:func:`econ.simulate.draw_switching_panel`)."""
    from econ._switch_sim import draw_switching_panel

    return draw_switching_panel(n_units=n, n_periods=T, seed=seed).data
