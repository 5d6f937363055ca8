"""Synthetic control (Abadie, Diamond & Hainmueller 2010) for one treated unit, with the predictor-weighting matrix
``V`` chosen by pre-period fit, the demeaned and the penalised (Abadie & L'Hour 2021) variants, and the usual
falsification exercises: in-space placebos (permutation p-value from post/pre RMSPE ratios), in-time placebos and
leave-one-out donors.

>>> from econ import datasets
>>> from econ.did import synth
>>> res = synth(datasets.load("california_prop99"), "packs_per_capita", "state", "year", "treated",
...             placebo=False)
>>> round(res.estimate, 1)
-19.7
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from econ._docs import doc
from econ._validate import check_bool, check_choice, check_real
from econ.did.few_treated import _synth_weights as sw
from econ.did.few_treated._base import FewTreatedResult, in_time_sample, plot_bars, plot_weight_map
from econ.did._design import refuse_weights
from econ.did.few_treated._synth_panel import WidePanel, wide_panel
from econ.errors import SpecificationError
from econ.results import figure, finish_figure

__all__ = ["synth", "SynthResult"]

_METHODS = ("standard", "demeaned", "penalized")


# ------------------------------------------------------------------------------------------- core
def _predictor_matrix(wp: WidePanel, data: pd.DataFrame, unit: str, time: str, predictors, outcome_periods,
                      T0: int, method: str) -> tuple[np.ndarray, list[str]]:
    """Rows: predictors; columns: units in ``wp.units`` order. Default: every pre-period outcome."""
    rows, names = [], []
    pre_times = wp.times[:T0]
    for col in predictors:
        sub = data[data[time].isin(pre_times)].groupby(unit)[col].mean()
        vals = sub.reindex(wp.units)
        if vals.isna().any():
            bad = list(vals.index[vals.isna()])[:10]
            raise SpecificationError(f"predictor '{col}' has no pre-treatment value for units {bad}")
        rows.append(vals.to_numpy(dtype=float))
        names.append(f"{col} (pre-period mean)")
    for t in outcome_periods:
        if t not in set(pre_times.tolist()):
            raise SpecificationError(f"outcome_periods: {t!r} is not a pre-treatment period "
                                     f"({pre_times[0]}-{pre_times[-1]})")
        rows.append(wp.Y[:, int(np.flatnonzero(wp.times == t)[0])])
        names.append(f"outcome {t}")
    if not rows:
        Z = wp.Y[:, :T0]
        if method == "demeaned":
            Z = Z - Z.mean(axis=1, keepdims=True)
        return Z.T.copy(), [f"outcome {t}" for t in pre_times]
    return np.vstack(rows), names


def _weights(X1: np.ndarray, X0: np.ndarray, v: np.ndarray, penalty: float) -> np.ndarray:
    """Simplex weights minimising ``(X1 - X0 w)' V (X1 - X0 w) + penalty * sum_j w_j |X1 - X0j|_V^2``."""
    r = np.sqrt(v)
    A, b = X0 * r[:, None], X1 * r
    if penalty == 0:
        return sw.simplex_ls(A, b)
    d = ((b[:, None] - A) ** 2).sum(axis=0)
    Q, q = 2 * A.T @ A, -2 * A.T @ b + penalty * d
    x0 = sw.simplex_ls(A, b)
    res = optimize.minimize(lambda w: 0.5 * w @ Q @ w + q @ w, x0, jac=lambda w: Q @ w + q, method="SLSQP",
                            bounds=[(0.0, 1.0)] * len(q), options={"ftol": 1e-12, "maxiter": 200},
                            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0,
                                          "jac": lambda w: np.ones_like(w)}])
    return sw.sum_normalize(np.maximum(res.x, 0.0))


def _fit(Y: np.ndarray, X: np.ndarray, T0: int, fit_periods: np.ndarray, *, v_mode, penalty: float,
         demean: bool):
    """One synthetic control: treated unit is the LAST row of ``Y`` / column of ``X``. Returns (w, v, gaps)."""
    X1, X0 = X[:, -1], X[:, :-1]
    Z1, Z0 = Y[-1, fit_periods], Y[:-1][:, fit_periods]
    if demean:
        Z1, Z0 = Z1 - Z1.mean(), Z0 - Z0.mean(axis=1, keepdims=True)
    sd = X.std(axis=1, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    X1s, X0s = X1 / sd, X0 / sd[:, None]
    K = X.shape[0]
    if isinstance(v_mode, np.ndarray):
        v = v_mode / v_mode.sum()
    elif v_mode == "equal" or K == 1:
        v = np.full(K, 1.0 / K)
    else:
        def loss(theta):
            vv = np.exp(theta - theta.max())
            w = _weights(X1s, X0s, vv / vv.sum(), penalty)
            return float(np.mean((Z1 - w @ Z0) ** 2))

        best = None
        # the loss is piecewise smooth (the donor support changes with V): equal weights plus fixed pseudo-random
        # starts (seeded, so the fit is deterministic), then a restart from the best point
        starts = [np.zeros(K)] + list(np.log(np.random.default_rng(0).dirichlet(np.ones(K), size=4)))
        for start in starts:
            r = optimize.minimize(loss, start - start.max(), method="Nelder-Mead",
                                  options={"maxiter": 200 * K, "xatol": 1e-6, "fatol": 1e-10})
            if best is None or r.fun < best.fun:
                best = r
        r = optimize.minimize(loss, best.x, method="Nelder-Mead",
                              options={"maxiter": 200 * K, "xatol": 1e-8, "fatol": 1e-12})
        best = r if r.fun < best.fun else best
        v = np.exp(best.x - best.x.max())
        v = v / v.sum()
    w = _weights(X1s, X0s, v, penalty)
    gaps = Y[-1] - w @ Y[:-1]
    if demean:
        pre = Y[:, :T0].mean(axis=1)
        gaps = gaps - (pre[-1] - w @ pre[:-1])
    return w, v, gaps


def _rmspe_ratio(gaps: np.ndarray, T0: int) -> tuple[float, float, float]:
    pre = float(np.sqrt(np.mean(gaps[:T0] ** 2)))
    post = float(np.sqrt(np.mean(gaps[T0:] ** 2)))
    return pre, post, post / pre if pre > 0 else np.inf


# ------------------------------------------------------------------------------------------- result
@doc()
class SynthResult(FewTreatedResult):
    """Synthetic control estimate from :func:`synth`: term ``ATT`` (mean post-period gap).

    ``std_error`` is the standard deviation (divisor J) of the J in-space placebo ATTs and the interval is
    ``ATT +/- z * std_error``; ``p_value`` is the permutation p-value of the post/pre RMSPE ratio,
    ``(1 + #{placebo ratio >= treated ratio}) / (1 + J)`` (NaN without placebos).

    Attributes: ``estimate``, ``weights`` (Series: donor -> weight), ``v`` (Series: predictor -> weight),
    ``gaps`` (DataFrame by period: treated, synthetic, gap), ``rmspe`` (dict: pre, post, ratio), ``placebos``
    (DataFrame: unit, att, pre_rmspe, post_rmspe, ratio; the treated unit first) and ``placebo_gaps`` (DataFrame
    period x unit), or None; ``predictor_balance`` (DataFrame: treated, synthetic, donor mean per predictor).

    Examples
    --------
    {synth_example}
    >>> res.weights.idxmax()
    'Utah'
    """

    FIELDS = {"p_perm": "_p_perm", "weights": "weights", "v": "v", "gaps": "gaps", "rmspe": "rmspe",
              "placebos": "placebos", "placebo_gaps": "placebo_gaps", "balance": "predictor_balance",
              "settings": "_settings"}

    @property
    def pvalue(self) -> pd.Series:
        """Permutation p-value of the post/pre RMSPE ratio among the in-space placebos (NaN without them)."""
        return pd.Series([self._p_perm], index=self._coef.index, name="p")

    @doc()
    def in_time(self, period) -> "SynthResult":
        """In-time placebo: pretend adoption happened at ``period`` and use only data before the real adoption.

        Parameters
        ----------
        period : int
            A pre-treatment period leaving at least 2 earlier periods.

        Returns
        -------
        SynthResult
            Its ``estimate`` should be near zero if the method fits the pre-period well.

        Raises
        ------
        SpecificationError
            ``period`` not strictly inside the pre-treatment window.

        Examples
        --------
        {synth_example}
        >>> fake = res.in_time(1980)
        >>> abs(fake.estimate) < abs(res.estimate)
        True
        """
        s = self._settings
        d = in_time_sample(s, [s["treated"]], s["adoption"], period, s["times"])
        return self._refit(d, outcome_periods=[t for t in s["kwargs"]["outcome_periods"] if t < period])

    _LOO_TOL = 1e-6
    _LOO_OPTIONS = {"placebo": False}

    @staticmethod
    def _estimator(*args, **kwargs):
        return synth(*args, **kwargs)

    def _donor_weights(self) -> pd.Series:
        return self.weights

    def _loo_row(self, unit, refit) -> dict:
        return {"pre_rmspe": refit.rmspe["pre"], **{f"gap_{t}": g for t, g in refit.gaps["gap"].items()}}

    @doc()
    def plot(self, ax=None, path=None, *, kind: str = "trajectories", level: str = "province"):
        """Treated vs synthetic paths, the gaps against the placebos, the donor weights as bars or as a map.

        Parameters
        ----------
        kind : {"trajectories", "gaps", "weights", "map"}
        {ax}
        {path}
        level : {"province", "prefecture"}
            Outlines for ``kind="map"`` (units must be 6-digit codes).

        {plot_returns}

        Raises
        ------
        SpecificationError
            Unknown ``kind``; ``"gaps"`` without placebos; a map for units that are not codes.

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        {synth_example}
        >>> fig, ax = res.plot()
        """
        check_choice(kind, "kind", ["trajectories", "gaps", "weights", "map"])
        adopt = self._settings["adoption"]
        if kind == "trajectories":
            fig, ax = figure(ax, figsize=(7, 4))
            ax.plot(self.gaps.index, self.gaps["treated"], color="black", lw=1.8, label="treated")
            ax.plot(self.gaps.index, self.gaps["synthetic"], color="C0", ls="--", lw=1.8, label="synthetic control")
            ax.axvline(adopt - 0.5, color="grey", lw=0.8, ls=":")
            ax.set_ylabel(self.depvar)
            ax.set_title(f"synthetic control: ATT {self.estimate:.3g}, pre-RMSPE {self.rmspe['pre']:.3g}")
            ax.legend(frameon=False, fontsize=8)
            return finish_figure(fig, ax, path)
        if kind == "gaps":
            if self.placebo_gaps is None:
                raise SpecificationError("kind='gaps' needs in-space placebos: fit with placebo=True")
            fig, ax = figure(ax, figsize=(7, 4))
            for u in self.placebo_gaps.columns:
                ax.plot(self.placebo_gaps.index, self.placebo_gaps[u], color="0.75", lw=0.8)
            ax.plot(self.gaps.index, self.gaps["gap"], color="black", lw=2, label="treated")
            ax.axhline(0, color="grey", lw=0.6)
            ax.axvline(adopt - 0.5, color="grey", lw=0.8, ls=":")
            ax.set_ylabel(f"gap in {self.depvar}")
            ax.set_title(f"in-space placebos (grey); RMSPE-ratio p = {self._p_perm:.3f}")
            return finish_figure(fig, ax, path)
        if kind == "weights":
            return plot_bars(self.weights, "synthetic control donor weights", ax, path)
        return plot_weight_map(self.weights, f"donor weights; treated: {self._settings['treated']}", level, ax, path)


# ------------------------------------------------------------------------------------------- public
def synth(data: pd.DataFrame, y: str, unit: str, time: str, treat: str, *, predictors=None,
          outcome_periods=None, v="optimize", method: str = "standard", penalty: float = 0.0, donors=None,
          placebo: bool = True, fit_periods=None, weights=None) -> SynthResult:
    """Synthetic control for one treated unit: simplex donor weights, placebo inference.

    Parameters
    ----------
    data : pandas.DataFrame
        Long balanced panel (never modified).
    y, unit, time : str
        Outcome, unit id and integer period columns.
    treat : str
        0/1 absorbing treatment indicator; exactly one unit may be treated.
    predictors : list of str, optional
        Columns averaged over the pre-period as predictors (Abadie et al.'s ``X``).
    outcome_periods : list, optional
        Pre-treatment periods whose outcome is also a predictor. With neither ``predictors`` nor
        ``outcome_periods`` every pre-period outcome is a predictor (and ``V`` is equal).
    v : {"optimize", "equal"} or array, default "optimize"
        Predictor weights (on predictors scaled by their standard deviation across units): chosen to minimise the
        pre-period outcome MSPE (nested optimisation, Nelder-Mead over log-weights from two starts), equal, or given.
    method : {"standard", "demeaned", "penalized"}, default "standard"
        ``"demeaned"`` matches pre-period outcomes after removing each unit's pre-period mean (an intercept, as
        Doudchenko & Imbens and Ferman & Pinto); ``"penalized"`` adds ``penalty * sum_j w_j |X1 - X0j|^2``
        (Abadie & L'Hour 2021), which makes the weights unique and favours nearby donors.
    penalty : float, default 0.0
        The ``lambda`` of the penalised method (required > 0 there).
    donors : list, optional
        Never-treated units to use (default all). A treated unit here is an error.
    placebo : bool, default True
        Run the in-space placebos (each donor in turn as treated, the others as its donors).
    fit_periods : list, optional
        Pre-periods whose outcome MSPE chooses ``V`` (default all pre-periods).
    weights : None
        Not accepted (a SpecificationError saying why): the donor weights are estimated, and sampling weights have
        no place in the synthetic-control objective (R ``Synth`` takes none).

    Returns
    -------
    SynthResult

    Raises
    ------
    TreatmentError
        No treated unit, all units treated, a non-absorbing treatment, fewer than 2 pre-periods.
    PanelError
        The treated unit or a donor has missing outcomes.
    SpecificationError
        More than one treated unit, fewer pre-periods than predictors, a treated unit among ``donors``, an unknown
        method, a penalised fit without ``penalty``, or ``weights`` given.

    Notes
    -----
    Each predictor is divided by its standard deviation across all units; ``w`` minimises
    ``(X1 - X0 w)' V (X1 - X0 w)`` on the simplex (accelerated projected gradient to 1e-12); ``V`` (diagonal,
    summing to one) minimises the mean squared pre-period outcome gap over ``fit_periods``. The ATT is the mean
    post-period gap. Permutation inference follows Abadie, Diamond & Hainmueller (2010): each donor is treated as
    if it had adopted, with the remaining donors (never the real treated unit) and ``V`` re-chosen; the p-value is
    the rank of the treated unit's post/pre RMSPE ratio, ``(1 + #{ratio_j >= ratio}) / (1 + J)``.

    References
    ----------
    Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for comparative case studies:
    estimating the effect of California's tobacco control program. JASA 105(490), 493-505.
    Abadie, A. & L'Hour, J. (2021). A penalized synthetic control estimator for disaggregated data. JASA 116(536),
    1817-1834.
    Ferman, B. & Pinto, C. (2021). Synthetic controls with imperfect pretreatment fit. Quantitative Economics 12(4).

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import synth
    >>> res = synth(datasets.load("california_prop99"), "packs_per_capita", "state", "year", "treated",
    ...             method="demeaned", placebo=False)
    >>> res.rmspe["pre"] < 2
    True
    """
    refuse_weights(weights, "synth", "the synthetic control estimates its donor weights and sampling weights have no "
                   "place in its objective (R Synth takes none); use att_gt or imputation with weights= for a "
                   "sampling-weighted estimate")
    check_choice(method, "method", _METHODS)
    placebo = check_bool(placebo, "placebo")
    penalty = check_real(penalty, "penalty", low=0.0)
    if method == "penalized" and penalty == 0:
        raise SpecificationError("method='penalized' needs penalty > 0 (Abadie & L'Hour's lambda)")
    if method != "penalized" and penalty > 0:
        raise SpecificationError("penalty is only used with method='penalized'")
    predictors = [] if predictors is None else ([predictors] if isinstance(predictors, str) else list(predictors))
    outcome_periods = [] if outcome_periods is None else list(outcome_periods)
    if method == "demeaned" and (predictors or outcome_periods):
        raise SpecificationError("method='demeaned' matches demeaned pre-period outcomes; do not pass predictors")
    wp = wide_panel(data, y, unit, time, treat, donors=donors)
    if len(wp.treated) != 1:
        raise SpecificationError(f"synth fits one treated unit; {len(wp.treated)} are treated "
                                 f"({wp.treated[:5]}). Fit them one at a time, or use sdid(estimator='sc')")
    tr = wp.treated[0]
    adopt = wp.adoption[tr]
    T0 = int((wp.times < adopt).sum())
    K = len(predictors) + len(outcome_periods)
    if K > T0:
        raise SpecificationError(f"{K} predictors but only {T0} pre-treatment periods: use fewer predictors than "
                                 "pre-periods")
    extra_cols = [c for c in predictors if c not in data.columns]
    if extra_cols:
        raise SpecificationError(f"predictors not in data: {extra_cols}")
    pre_times = list(wp.times[:T0])
    if fit_periods is None:
        fit_idx = np.arange(T0)
    else:
        bad = [t for t in fit_periods if t not in pre_times]
        if bad:
            raise SpecificationError(f"fit_periods must be pre-treatment periods; got {bad}")
        fit_idx = np.array([pre_times.index(t) for t in fit_periods])
    if isinstance(v, str):
        check_choice(v, "v", ["optimize", "equal"])
        v_mode = "equal" if not K else v
    else:
        v_mode = np.asarray(v, dtype=float)
        if v_mode.shape != (max(K, 1) if K else T0,) or (v_mode < 0).any() or v_mode.sum() <= 0:
            raise SpecificationError("v must hold one non-negative weight per predictor")
    X, names = _predictor_matrix(wp, data, unit, time, predictors, outcome_periods, T0, method)
    demean = method == "demeaned"
    w, vv, gaps = _fit(wp.Y, X, T0, fit_idx, v_mode=v_mode, penalty=penalty, demean=demean)
    pre, post, ratio = _rmspe_ratio(gaps, T0)
    att = float(gaps[T0:].mean())
    donor_list = wp.units[:-1]
    placebos = placebo_gaps = None
    p_perm, se = np.nan, np.nan
    if placebo:
        rows, pg = [{"unit": tr, "att": att, "pre_rmspe": pre, "post_rmspe": post, "ratio": ratio}], {}
        for j, u in enumerate(donor_list):
            order = [k for k in range(len(donor_list)) if k != j] + [j]
            _, _, g = _fit(wp.Y[order], X[:, order], T0, fit_idx, v_mode=v_mode, penalty=penalty, demean=demean)
            a, b, c = _rmspe_ratio(g, T0)
            rows.append({"unit": u, "att": float(g[T0:].mean()), "pre_rmspe": a, "post_rmspe": b, "ratio": c})
            pg[u] = g
        placebos = pd.DataFrame(rows)
        placebo_gaps = pd.DataFrame(pg, index=pd.Index(wp.times, name=time))
        ratios = placebos["ratio"].to_numpy()[1:]
        p_perm = (1 + np.sum(ratios >= ratio)) / (1 + len(ratios))
        se = float(np.std(placebos["att"].to_numpy()[1:]))
    synth_path = wp.Y[-1] - gaps
    gaps_df = pd.DataFrame({"treated": wp.Y[-1], "synthetic": synth_path, "gap": gaps},
                           index=pd.Index(wp.times, name=time))
    balance = pd.DataFrame({"treated": X[:, -1], "synthetic": X[:, :-1] @ w, "donor_mean": X[:, :-1].mean(axis=1)},
                           index=names)
    notes = list(wp.notes)
    notes.append(f"treated unit {tr!r} from {adopt}; {len(donor_list)} donors, {T0} pre-periods; "
                 f"pre-RMSPE {pre:.4g}, post/pre RMSPE ratio {ratio:.3g}")
    if placebo:
        notes.append(f"p-value: rank of the RMSPE ratio among {len(donor_list)} in-space placebos; std. error: SD of "
                     "the placebo ATTs")
    scale = np.where(X.std(axis=1, ddof=1) > 0, X.std(axis=1, ddof=1), 1.0)
    if K and K < len(donor_list) and np.max(np.abs(balance["treated"] - balance["synthetic"]) / scale) < 1e-6:
        notes.append(f"the {K} predictors are reproduced exactly: with fewer predictors than donors the weights are "
                     "then not unique (other donor weights fit the predictors equally well and V cannot choose "
                     "among them); use method='penalized' or more predictors")
    sd_y = float(np.std(wp.Y[-1, :T0]))
    if sd_y > 0 and pre > 0.5 * sd_y:
        notes.append(f"POOR PRE-PERIOD FIT: pre-RMSPE {pre:.3g} is more than half the treated unit's pre-period "
                     f"standard deviation ({sd_y:.3g}); the estimate should not be read as an effect")
    settings = {"data": data, "y": y, "unit": unit, "time": time, "treat": treat, "treated": tr,
                "adoption": adopt, "times": wp.times,
                "kwargs": dict(predictors=predictors, outcome_periods=outcome_periods, v=v, method=method,
                               penalty=penalty, donors=donors, placebo=placebo, fit_periods=None)}
    return SynthResult(pd.Series({"ATT": att}), np.array([[se ** 2]]), p_perm=p_perm,
                       weights=pd.Series(w, index=pd.Index(donor_list, name=unit), name="weight"),
                       v=pd.Series(vv, index=names, name="v"), gaps=gaps_df,
                       rmspe={"pre": pre, "post": post, "ratio": ratio}, placebos=placebos,
                       placebo_gaps=placebo_gaps, balance=balance, settings=settings, nobs=wp.Y.size, n_units=wp.Y.shape[0],
                       df_resid=np.inf, df_t=np.inf, notes=notes, model=f"Synthetic control ({method})",
                       depvar=y, vcov_type="placebo SD" if placebo else "not computed")
