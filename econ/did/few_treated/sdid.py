"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021), with synthetic control
and DiD as special cases of the same weighted double difference, for one or a few treated units.

>>> from econ import datasets
>>> from econ.did import sdid
>>> smoking = datasets.load("california_prop99")
>>> res = sdid(smoking, "packs_per_capita", "state", "year", "treated", vcov="placebo", n_draws=20)
>>> round(res.estimate, 1), round(float(res.se["ATT"]), 1)
(-15.6, 9.8)

Staggered adoption is handled cohort by cohort (each adoption period against the never-treated units, as the
Stata ``sdid`` command of Clarke, Pailanir, Athey & Imbens does) and the cohort effects are averaged with weights
proportional to their treated unit-periods (``cohort_weights="cells"``) or their numbers of units (``"units"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from econ._docs import doc
from econ._validate import check_choice, check_n_draws, rng as make_rng
from econ.did.few_treated import _synth_weights as sw
from econ.did.few_treated._base import FewTreatedResult, in_time_sample, plot_bars, plot_weight_map
from econ.did._design import refuse_weights
from econ.did.few_treated._synth_panel import WidePanel, wide_panel
from econ.errors import SpecificationError
from econ.results import KeyedResults, figure, finish_figure

__all__ = ["sdid", "sdid_compare", "SDIDResult"]

_ESTIMATORS = ("sdid", "sc", "did")
_VCOV = ("placebo", "bootstrap", "jackknife", "none")
_LABEL = {"sdid": "Synthetic DiD (SDID)", "sc": "Synthetic control (SC)", "did": "Difference-in-differences (DiD)"}


# ------------------------------------------------------------------------------------------- one cohort
@dataclass
class _Cohort:
    """One adoption period: its outcome block (controls first), weights, estimate and fixed tuning constants."""

    period: object
    control_rows: np.ndarray
    treated_rows: np.ndarray
    T0: int
    omega: np.ndarray
    lam: np.ndarray
    tau: float
    opts: dict = field(default_factory=dict)

    @property
    def n_treated(self) -> int:
        return len(self.treated_rows)

    def cells(self, n_times: int) -> int:
        return self.n_treated * (n_times - self.T0)


def _opts(estimator: str, Y: np.ndarray, N0: int, T0: int) -> dict:
    """Regularisation and which weights are estimated: R synthdid's synthdid/sc/did_estimate defaults."""
    sigma = sw.noise_level(Y, N0, T0)
    N1, T1 = Y.shape[0] - N0, Y.shape[1] - T0
    base = dict(zeta_lambda=1e-6 * sigma, min_decrease=1e-5 * sigma, lambda_intercept=True)
    if estimator == "sdid":
        return dict(base, zeta_omega=(N1 * T1) ** 0.25 * sigma, omega_intercept=True, update_omega=True,
                    update_lambda=True)
    if estimator == "sc":
        return dict(base, zeta_omega=1e-6 * sigma, omega_intercept=False, update_omega=True, update_lambda=False)
    return dict(base, zeta_omega=0.0, omega_intercept=True, update_omega=False, update_lambda=False)


def _start(estimator: str, N0: int, T0: int):
    if estimator == "sdid":
        return None, None
    if estimator == "sc":
        return None, np.zeros(T0)
    return np.full(N0, 1.0 / N0), np.full(T0, 1.0 / T0)


def _fit_cohort(Y: np.ndarray, period, control_rows, treated_rows, T0: int, estimator: str) -> _Cohort:
    block = Y[np.concatenate([control_rows, treated_rows])]
    N0 = len(control_rows)
    opts = _opts(estimator, block, N0, T0)
    omega0, lam0 = _start(estimator, N0, T0)
    omega, lam = sw.sdid_weights(block, N0, T0, omega=omega0, lam=lam0, **opts)
    tau = float(sw.did_contrast(block, N0, T0, omega, lam))
    return _Cohort(period, np.asarray(control_rows), np.asarray(treated_rows), T0, omega, lam, tau, opts)


def _aggregate(taus: np.ndarray, cells: np.ndarray, units: np.ndarray, how: str) -> np.ndarray:
    w = cells if how == "cells" else units
    w = np.where(np.isnan(taus), 0.0, w)
    return np.nansum(taus * w, axis=-1) / w.sum(axis=-1)


# ------------------------------------------------------------------------------------------- inference
def _refit(Ys: np.ndarray, c: _Cohort, N0: int, omega_init: np.ndarray) -> np.ndarray:
    """Re-estimate one cohort on a batch of re-sampled blocks with the full-sample tuning (R's ``opts``)."""
    lam_init = np.broadcast_to(c.lam, (len(Ys), c.T0))
    omega, lam = sw.sdid_weights(Ys, N0, c.T0, omega=omega_init, lam=lam_init, **c.opts)
    return sw.did_contrast(Ys, N0, c.T0, omega, lam)


def _placebo(wp: WidePanel, fit: list[_Cohort], n_draws: int, gen: np.random.Generator) -> np.ndarray:
    """Algorithm 4 of the paper (R ``placebo_se``), cohort by cohort: never-treated units are permuted, the last
    ones take the treated units' adoption periods, the rest are the controls; weights are re-estimated."""
    perms = np.stack([gen.permutation(len(fit[0].control_rows)) for _ in range(n_draws)])
    return _placebo_draws(wp, fit, perms)


def _placebo_draws(wp: WidePanel, fit: list[_Cohort], perms: np.ndarray) -> np.ndarray:
    """Placebo estimates, one row per permutation of the never-treated units (positions among
    ``fit[0].control_rows``): as R's ``theta(sample(1:N0))``, the first ``N0 - N1`` are the controls (their
    full-sample unit weights, renormalised, start Frank-Wolfe; the full-sample time weights start lambda), the
    next ones the pseudo-treated units of each cohort in turn."""
    co = fit[0].control_rows
    n_tr = sum(c.n_treated for c in fit)
    n_co = len(co) - n_tr
    taus = np.empty((len(perms), len(fit)))
    start = n_co
    for k, c in enumerate(fit):
        pos = np.concatenate([perms[:, :n_co], perms[:, start:start + c.n_treated]], axis=1)
        start += c.n_treated
        Ys = wp.Y[co[pos]]
        omega_init = np.stack([sw.sum_normalize(c.omega[p[:n_co]]) for p in perms])
        taus[:, k] = _refit(Ys, c, n_co, omega_init)
    return taus


def _bootstrap(wp: WidePanel, fit: list[_Cohort], n_draws: int, gen: np.random.Generator) -> np.ndarray:
    """Algorithm 2 of the paper (R ``bootstrap_se``): units drawn with replacement, weights re-estimated; draws
    without a treated or without a control unit are redrawn. A cohort absent from a draw is NaN there."""
    co = fit[0].control_rows
    n_units = len(wp.units)
    cohort_of = np.full(n_units, -1)
    for k, c in enumerate(fit):
        cohort_of[c.treated_rows] = k
    draws = []
    while len(draws) < n_draws:
        ind = np.sort(gen.integers(0, n_units, n_units))
        is_co = cohort_of[ind] < 0
        if is_co.all() or not is_co.any():
            continue
        draws.append(ind)
    taus = np.full((n_draws, len(fit)), np.nan)
    pos_in_co = {r: i for i, r in enumerate(co)}
    for k, c in enumerate(fit):
        groups: dict = {}
        for b, ind in enumerate(draws):
            ctrl = ind[cohort_of[ind] < 0]
            trt = ind[cohort_of[ind] == k]
            if len(trt):
                groups.setdefault((len(ctrl), len(trt)), []).append((b, ctrl, trt))
        for (n0, _), items in groups.items():
            Ys = np.stack([wp.Y[np.concatenate([ctrl, trt])] for _, ctrl, trt in items])
            init = np.stack([sw.sum_normalize(c.omega[[pos_in_co[r] for r in ctrl]]) for _, ctrl, _ in items])
            taus[[b for b, _, _ in items], k] = _refit(Ys, c, n0, init)
    return taus


def _jackknife(wp: WidePanel, fit: list[_Cohort]) -> np.ndarray:
    """Algorithm 3 of the paper (R ``jackknife_se``): each unit left out in turn, weights held fixed."""
    rows = list(fit[0].control_rows) + [r for c in fit for r in c.treated_rows]
    out = np.empty((len(rows), len(fit)))
    for j, drop in enumerate(rows):
        for k, c in enumerate(fit):
            keep_c = c.control_rows != drop
            keep_t = c.treated_rows != drop
            block = wp.Y[np.concatenate([c.control_rows[keep_c], c.treated_rows[keep_t]])]
            omega = sw.sum_normalize(c.omega[keep_c])
            out[j, k] = sw.did_contrast(block, int(keep_c.sum()), c.T0, omega, c.lam)
    return out


def _check_defined(vcov: str, fit: list[_Cohort]) -> None:
    n_tr = sum(c.n_treated for c in fit)
    n_co = len(fit[0].control_rows)
    if vcov == "placebo" and n_co <= n_tr:
        raise SpecificationError(f"vcov='placebo' needs more never-treated units than treated ones; got {n_co} "
                                 f"controls and {n_tr} treated (use vcov='bootstrap' or 'jackknife')")
    if vcov == "jackknife":
        single = [c.period for c in fit if c.n_treated < 2]
        if single:
            raise SpecificationError(f"vcov='jackknife' is undefined with a single treated unit (cohort(s) "
                                     f"{single}); leaving it out leaves no treated unit. Use vcov='placebo'")
        one = [c.period for c in fit if np.count_nonzero(c.omega) < 2]
        if one:
            raise SpecificationError(f"vcov='jackknife' is undefined when one control carries all the unit weight "
                                     f"(cohort(s) {one}); use vcov='placebo' or 'bootstrap'")


# ------------------------------------------------------------------------------------------- result
@doc()
class SDIDResult(FewTreatedResult):
    """SDID, SC or DiD estimate from :func:`sdid`: a :class:`~econ.results.Result` with term ``ATT`` (and
    ``cohort_<period>`` per adoption period under staggered adoption), normal inference (``df_t = inf``).

    Attributes beyond :class:`~econ.results.Result`: ``estimate`` (the ATT), ``estimator`` (``"sdid"``, ``"sc"``,
    ``"did"``), ``unit_weights`` (DataFrame: control unit x cohort), ``time_weights`` (DataFrame: pre-period x
    cohort; NaN after a cohort's adoption), ``cohorts`` (DataFrame: period, treated units, pre-periods, estimate,
    aggregation weight), ``draws`` (per-draw cohort estimates of the placebo / bootstrap / jackknife, or None),
    ``trajectories`` (DataFrame by time: treated mean, synthetic, for the first cohort).

    Examples
    --------
    {sc_example}
    >>> round(res.estimate, 2), res.unit_weights.iloc[:, 0].idxmax()
    (-19.62, 'Utah')
    """

    FIELDS = {"estimator": "estimator", "unit_weights": "unit_weights", "time_weights": "time_weights",
              "cohorts": "cohorts", "draws": "draws", "trajectories": "trajectories", "panel": "_panel"}

    @doc()
    def in_time(self, period, *, vcov: str = "none", n_draws: int = 200) -> "SDIDResult":
        """In-time placebo: pretend adoption happened at ``period``, using only data before the real adoption.

        Parameters
        ----------
        period : int
            A pre-treatment period leaving at least 2 earlier periods.
        vcov, n_draws
            As in :func:`sdid` (default no standard error).

        Returns
        -------
        SDIDResult
            The same estimator on the pre-period; its ``estimate`` should be near zero if the design is sound.

        Raises
        ------
        SpecificationError
            Staggered adoption, or ``period`` not strictly inside the pre-treatment window.

        Examples
        --------
        {sdid_example}
        >>> abs(res.in_time(1980).estimate) < abs(res.estimate)
        True
        """
        s = self._settings
        if len(self.cohorts) > 1:
            raise SpecificationError("in_time is defined for one adoption period; this design has "
                                     f"{len(self.cohorts)} cohorts (run it on each cohort's sample)")
        d = in_time_sample(s, self.cohorts["treated_units"].iloc[0], self.cohorts["period"].iloc[0], period,
                           list(self._panel.times))
        return self._refit(d, vcov=vcov, n_draws=n_draws)

    _LOO_TOL = 0.0
    _LOO_COLUMNS = ["dropped", "att", "weight"]
    _LOO_OPTIONS = {"vcov": "none"}

    @staticmethod
    def _estimator(*args, **kwargs):
        return sdid(*args, **kwargs)

    def _donor_weights(self) -> pd.Series:
        return self.unit_weights.max(axis=1)

    def _loo_row(self, unit, refit) -> dict:
        return {"weight": float(self._donor_weights()[unit])}

    @doc()
    def plot(self, ax=None, path=None, *, kind: str = "trajectories", cohort=None, level: str = "province"):
        """Treated vs synthetic trajectories (time weights shaded), the unit weights as bars, or as a map.

        Parameters
        ----------
        kind : {"trajectories", "weights", "map"}
            ``"map"`` colours the bundled Chinese outlines by unit weight; units must be 6-digit codes.
        {ax}
        {path}
        cohort : adoption period, optional
            Which cohort to draw (default the first).
        level : {"province", "prefecture"}
            Outlines for ``kind="map"``.

        {plot_returns}

        Raises
        ------
        SpecificationError
            Unknown ``kind`` or ``cohort``, or a map for units that are not administrative codes.

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        {sdid_example}
        >>> fig, ax = res.plot()
        """
        check_choice(kind, "kind", ["trajectories", "weights", "map"])
        periods = list(self.cohorts["period"])
        g = periods[0] if cohort is None else cohort
        if g not in periods:
            raise SpecificationError(f"cohort {g!r} is not an adoption period here; available: {periods}")
        k = periods.index(g)
        if kind == "trajectories":
            return _plot_paths(self, k, ax, path)
        w = self.unit_weights.iloc[:, k]
        if kind == "weights":
            return plot_bars(w, f"{_LABEL[self.estimator]} unit weights (cohort {g})", ax, path)
        treated = [str(u) for u in self.cohorts["treated_units"].iloc[k]]
        return plot_weight_map(w, f"unit weights; treated: {', '.join(treated)}", level, ax, path)


def _plot_paths(res: SDIDResult, k: int, ax, path):
    wp = res._panel
    g = res.cohorts["period"].iloc[k]
    traj = _trajectory(wp, res, k)
    fig, ax = figure(ax, figsize=(7, 4))
    ax.plot(traj.index, traj["treated"], color="black", lw=1.8, label="treated (mean)")
    ax.plot(traj.index, traj["synthetic"], color="C0", lw=1.8, ls="--", label=f"synthetic ({res.estimator.upper()})")
    ax.axvline(g - 0.5, color="grey", lw=0.8, ls=":")
    lam = res.time_weights.iloc[:, k].dropna()
    if res.estimator != "sc" and lam.sum() > 0:
        lo, hi = ax.get_ylim()
        ax.bar(lam.index, lam.to_numpy() / lam.max() * 0.25 * (hi - lo), bottom=lo, color="C1", alpha=0.35,
               width=0.9, label="time weights (scaled)")
        ax.set_ylim(lo, hi)
    ax.set_xlabel(str(res.time_weights.index.name or "period"))
    ax.set_ylabel(res.depvar)
    ax.set_title(f"{_LABEL[res.estimator]}: estimate {res.cohorts['estimate'].iloc[k]:.3g} (cohort {g})")
    ax.legend(frameon=False, fontsize=8)
    return finish_figure(fig, ax, path)


def _trajectory(wp: WidePanel, res: SDIDResult, k: int) -> pd.DataFrame:
    """Treated mean and the synthetic path: omega-weighted controls shifted by the lambda-weighted pre-gap."""
    c = res._fit[k]
    Yc, Yt = wp.Y[c.control_rows], wp.Y[c.treated_rows].mean(axis=0)
    synth = c.omega @ Yc
    shift = float(c.lam @ (Yt[:c.T0] - synth[:c.T0])) if c.lam.sum() > 0 else 0.0
    return pd.DataFrame({"treated": Yt, "synthetic": synth + shift, "controls_weighted": synth}, index=wp.times)


# ------------------------------------------------------------------------------------------- public
def sdid(data: pd.DataFrame, y: str, unit: str, time: str, treat: str, *, estimator: str = "sdid",
         vcov: str = "placebo", n_draws: int = 200, seed=0, donors=None, cohort_weights: str = "cells",
         weights=None) -> SDIDResult:
    """Synthetic difference-in-differences (or SC / DiD as its special cases) for one or a few treated units.

    Parameters
    ----------
    data : pandas.DataFrame
        Long balanced panel; never modified.
    y, unit, time : str
        Outcome, unit id and (integer) period columns.
    treat : str
        0/1 absorbing treatment indicator (1 from a unit's adoption period on; 0 throughout for donors).
    estimator : {"sdid", "sc", "did"}, default "sdid"
        ``"sdid"``: unit and time weights with the paper's regularisation; ``"sc"``: unit weights without
        intercept and no time weights (R ``sc_estimate``); ``"did"``: uniform weights (R ``did_estimate``).
    vcov : {"placebo", "bootstrap", "jackknife", "none"}, default "placebo"
        Standard errors as the paper's Algorithms 4 (placebo), 2 (bootstrap) and 3 (jackknife). Each is refused
        where undefined: placebo with no more controls than treated units, jackknife with one treated unit
        (in any cohort) or one control carrying all the weight.
    n_draws : int, default 200
        Placebo or bootstrap replications (ignored by the jackknife).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.
    donors : list, optional
        Never-treated units to use as controls (default all of them); a treated unit here is an error.
    cohort_weights : {"cells", "units"}, default "cells"
        Staggered adoption: weight each cohort's estimate by its treated unit-periods (Clarke et al.'s Stata
        ``sdid``) or by its number of treated units.
    weights : None
        Not accepted (a SpecificationError saying why): the unit and time weights are estimated, and sampling
        weights have no place in the synthetic DiD objective (R ``synthdid`` takes none).

    Returns
    -------
    SDIDResult

    Raises
    ------
    TreatmentError
        No treated unit, all units treated, a non-absorbing treatment, fewer than 2 pre-treatment periods.
    PanelError
        A treated unit with missing outcomes (e.g. missing pre-periods) or donors with missing outcomes.
    SpecificationError
        Unknown estimator / vcov, a treated unit among ``donors``, a standard error that is undefined here, or
        ``weights`` given.

    Notes
    -----
    For a cohort with ``N0`` controls, ``N1`` treated units, ``T0`` pre- and ``T1`` post-periods, the estimate is
    ``(-omega, 1/N1)' Y (-lambda, 1/T1)``. Weights solve the regularised simplex least-squares problems of the paper
    with ``zeta_omega = (N1 T1)^(1/4) sigma`` and ``zeta_lambda = 1e-6 sigma``, ``sigma`` the standard deviation of
    the controls' first differences before adoption, by Frank-Wolfe with R synthdid's line search, stopping rule
    (decrease below ``(1e-5 sigma)^2``, 100 then 10,000 iterations) and sparsification. Placebo and bootstrap
    replications re-estimate the weights with the full-sample ``zeta`` (as R does); the jackknife holds them fixed.
    The variance of ``B`` draws is their variance with divisor ``B`` (R's ``sqrt((B-1)/B) sd``). A placebo draw
    re-estimates the weights as R's ``placebo_se`` does: the full-sample ``zeta`` and stopping tolerance, Frank-Wolfe
    started from the full-sample time weights and the permuted controls' full-sample unit weights renormalised.
    The paper's Table 1 standard errors (8.4, 9.9, 17.7) are R's draws after ``set.seed(12345)``; given those
    permutations this function's draws equal R's, while other sets of 200 draws give SDID standard errors from about
    8.6 to 10.9 (SD 0.6 around the 4,000-draw value 9.6): 200 draws carry a Monte Carlo error of several percent.
    Staggered adoption: each adoption period is a separate SDID against the never-treated units over all periods;
    the ATT averages them (``cohort_weights``) and its standard error comes from the same draws (placebo draws
    assign the treated units' adoption periods to permuted never-treated units).

    References
    ----------
    Arkhangelsky, D., Athey, S., Hirshberg, D. A., Imbens, G. W. & Wager, S. (2021). Synthetic
    difference-in-differences. American Economic Review 111(12), 4088-4118.
    Clarke, D., Pailanir, D., Athey, S. & Imbens, G. (2024). On synthetic difference-in-differences and related
    estimation methods in Stata. The Stata Journal 24(4).

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import sdid
    >>> res = sdid(datasets.load("california_prop99"), "packs_per_capita", "state", "year", "treated",
    ...            estimator="did", vcov="none")
    >>> round(res.estimate, 1)
    -27.3
    """
    refuse_weights(weights, "sdid", "synthetic DiD estimates its own unit and time weights and sampling weights have "
                   "no place in its objective (R synthdid takes none); use att_gt or imputation with weights= for a "
                   "sampling-weighted estimate")
    check_choice(estimator, "estimator", _ESTIMATORS)
    check_choice(vcov, "vcov", _VCOV)
    check_choice(cohort_weights, "cohort_weights", ["cells", "units"])
    n_draws = check_n_draws(n_draws, minimum=2) if vcov in ("placebo", "bootstrap") else 0
    gen = make_rng(seed)
    wp = wide_panel(data, y, unit, time, treat, donors=donors)
    ctrl = wp.rows(wp.controls)
    fit = []
    for g, members in wp.cohorts().items():
        T0 = int((wp.times < g).sum())
        fit.append(_fit_cohort(wp.Y, g, ctrl, wp.rows(members), T0, estimator))
    n_t = len(wp.times)
    cells = np.array([c.cells(n_t) for c in fit], dtype=float)
    sizes = np.array([c.n_treated for c in fit], dtype=float)
    taus = np.array([c.tau for c in fit])
    att = float(_aggregate(taus, cells, sizes, cohort_weights))
    draws = None
    if vcov != "none":
        _check_defined(vcov, fit)
        if vcov == "placebo":
            draws = _placebo(wp, fit, n_draws, gen)
        elif vcov == "bootstrap":
            draws = _bootstrap(wp, fit, n_draws, gen)
        else:
            draws = _jackknife(wp, fit)
    names = ["ATT"] + ([f"cohort_{c.period}" for c in fit] if len(fit) > 1 else [])
    coef = pd.Series([att] + (list(taus) if len(fit) > 1 else []), index=names)
    V = np.full((len(names), len(names)), np.nan)
    if draws is not None:
        if vcov == "bootstrap":
            cells_d = np.where(np.isnan(draws), 0.0, cells)
            sizes_d = np.where(np.isnan(draws), 0.0, sizes)
            agg = _aggregate(draws, cells_d, sizes_d, cohort_weights)
        elif vcov == "jackknife":
            agg = _jackknife_agg(wp, fit, draws, cohort_weights)
        else:
            agg = _aggregate(draws, cells, sizes, cohort_weights)
        full = np.column_stack([agg, draws]) if len(fit) > 1 else agg[:, None]
        V = _draw_cov(full, jackknife=vcov == "jackknife")
    se_text = {"placebo": f"placebo ({n_draws} draws)", "bootstrap": f"bootstrap ({n_draws} draws)",
               "jackknife": "jackknife", "none": "not computed"}[vcov]
    notes = list(wp.notes)
    ncontrols = len(ctrl)
    notes.append(f"{len(wp.treated)} treated unit(s) in {len(fit)} cohort(s), {ncontrols} never-treated controls, "
                 f"{n_t} periods")
    if len(fit) > 1:
        notes.append(f"ATT = cohort estimates averaged with weights proportional to treated "
                     f"{'unit-periods' if cohort_weights == 'cells' else 'units'}")
    unit_w = pd.DataFrame({c.period: c.omega for c in fit}, index=pd.Index(wp.controls, name=unit))
    time_w = pd.DataFrame({c.period: pd.Series(c.lam, index=wp.times[:c.T0]) for c in fit})
    time_w.index.name = time
    cohorts = pd.DataFrame({
        "period": [c.period for c in fit],
        "treated_units": [[wp.units[r] for r in c.treated_rows] for c in fit],
        "n_treated": sizes.astype(int), "pre_periods": [c.T0 for c in fit], "estimate": taus,
        "weight": (cells if cohort_weights == "cells" else sizes) / (cells if cohort_weights == "cells"
                                                                      else sizes).sum(),
    })
    res = SDIDResult(coef, V, estimator=estimator, unit_weights=unit_w, time_weights=time_w, cohorts=cohorts,
                     draws=draws, trajectories=None, panel=wp, nobs=wp.Y.size, n_units=wp.Y.shape[0], df_resid=np.inf, df_t=np.inf,
                     notes=notes, model=_LABEL[estimator], depvar=y, vcov_type=se_text,
                     extra={"cohort_fits": fit, "n_draws": n_draws, "seed": seed})
    res._fit = fit
    res._settings = {"data": data, "y": y, "unit": unit, "time": time, "treat": treat,
                     "kwargs": {"estimator": estimator, "seed": seed, "donors": donors,
                                "cohort_weights": cohort_weights}}
    res.trajectories = _trajectory(wp, res, 0)
    return res


def _jackknife_agg(wp: WidePanel, fit: list[_Cohort], draws: np.ndarray, how: str) -> np.ndarray:
    """Aggregate leave-one-out cohort estimates with the cohort sizes of each leave-one-out sample."""
    n_t = len(wp.times)
    rows = list(fit[0].control_rows) + [r for c in fit for r in c.treated_rows]
    sizes = np.array([[c.n_treated - int(r in set(c.treated_rows)) for c in fit] for r in rows], dtype=float)
    cells = sizes * np.array([n_t - c.T0 for c in fit], dtype=float)
    return _aggregate(draws, cells, sizes, how)


def _draw_cov(draws: np.ndarray, *, jackknife: bool) -> np.ndarray:
    """Covariance of replicate estimates: divisor B (placebo/bootstrap), (n-1)/n * sum of squares (jackknife).
    NaN entries (a cohort absent from a bootstrap draw) are left out pairwise."""
    n = draws.shape[0]
    if jackknife:
        d = draws - draws.mean(axis=0)
        return (n - 1) / n * d.T @ d
    if np.isnan(draws).any():
        return pd.DataFrame(draws).cov(ddof=0).to_numpy()
    d = draws - draws.mean(axis=0)
    return d.T @ d / n


def sdid_compare(data: pd.DataFrame, y: str, unit: str, time: str, treat: str, **kwargs) -> KeyedResults:
    """SDID, SC and DiD on the same data with the same inference, for a side-by-side table.

    Parameters
    ----------
    data, outcome, unit, time, treat
        As in :func:`sdid`.
    **kwargs
        Passed to :func:`sdid` (``vcov``, ``n_draws``, ``seed``, ``donors``, ``cohort_weights``).

    Returns
    -------
    KeyedResults
        ``{"sdid": SDIDResult, "sc": ..., "did": ...}``; ``econ.etable(list(res.values()))`` tabulates them.

    Raises
    ------
    SpecificationError
        ``estimator`` passed (all three are run), or anything :func:`sdid` raises.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import sdid_compare
    >>> three = sdid_compare(datasets.load("california_prop99"), "packs_per_capita", "state", "year", "treated",
    ...                      vcov="none")
    >>> {k: round(r.estimate, 1) for k, r in three.items()}
    {'sdid': -15.6, 'sc': -19.6, 'did': -27.3}
    """
    if "estimator" in kwargs:
        raise SpecificationError("sdid_compare runs all three estimators; do not pass estimator=")
    return KeyedResults({e: sdid(data, y, unit, time, treat, estimator=e, **kwargs) for e in _ESTIMATORS},
                        what="estimator")
