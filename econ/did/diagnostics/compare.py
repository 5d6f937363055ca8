"""Every staggered-DiD estimator side by side: one table, one plot.

:func:`compare` runs the dynamic TWFE event study (and the static TWFE coefficient), Callaway-Sant'Anna, Sun-Abraham
and the imputation estimator on the same panel and lines up their event-time paths and overall ATTs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from econ import _validate
from econ.did import _design, _paths
from econ.did.design import build_design
from econ.errors import SpecificationError
from econ.results import KeyedResults, figure, finish_figure, overlay_truth
from econ._tidy import SummaryRepr, standard_columns

__all__ = ["compare", "ComparisonResult"]

ESTIMATORS = ("twfe", "cs", "sa", "imputation")
LABELS = {"twfe": "TWFE event study", "cs": "Callaway-Sant'Anna", "sa": "Sun-Abraham",
          "imputation": "Imputation (BJS)"}
OVERALL = {"twfe": "static TWFE coefficient on D = 1[t >= cohort]",
           "cs": "simple aggregation of ATT(g, t) (group-size weighted)",
           "sa": "post-period cohort effects weighted by observation counts",
           "imputation": "mean effect over treated observations"}


_REF = "reference -1 (long differences)"
BASES = {**{(k, b): _REF for k in ("twfe", "sa") for b in ("universal", "varying")},
         ("cs", "universal"): "universal base g - 1 (long differences)",
         ("cs", "varying"): "varying base t - 1 for leads (short differences)",
         **{("imputation", b): "untreated-period fit (no leads)" for b in ("universal", "varying")}}


@dataclass(repr=False, eq=False)
class ComparisonResult(SummaryRepr):
    """Result of :func:`compare`: ``tidy()`` (event-time paths), ``overall()`` (overall ATTs), ``plot()``.

    ``results`` maps each estimator name to its full result object; ``notes`` records what was left out and why.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import compare
    >>> df = datasets.load("china_cities_demo")
    >>> cmp = compare(df, "log_income_ratio", "prefecture_code", "year", "cohort",
    ...               estimators=("twfe", "sa", "imputation"), window=(-2, 2))
    >>> cmp.wide().round(3)
    estimator   imputation     sa   twfe
    event_time
    -2                 NaN -0.003  0.004
     0              -0.020 -0.015 -0.016
     1              -0.036 -0.031 -0.031
     2              -0.055 -0.050 -0.047
    >>> sorted(cmp.results)
    ['imputation', 'sa', 'twfe']
    """

    _paths: pd.DataFrame
    _overall: pd.DataFrame
    results: dict
    notes: list
    depvar: str
    level: float

    @property
    def nobs(self) -> int | None:
        """Rows used: the largest sample among the estimators compared."""
        counts = [r.nobs for r in self.results.values() if getattr(r, "nobs", None) is not None]
        return max(counts) if counts else None

    @property
    def n_units(self) -> int | None:
        """Units: the most among the estimators compared."""
        counts = [r.n_units for r in self.results.values() if getattr(r, "n_units", None) is not None]
        return max(counts) if counts else None

    def tidy(self) -> pd.DataFrame:
        """One row per estimator and event time: ``term`` (``"e = <event time>"``), estimate, std_error, p_value,
        conf_low, conf_high, then estimator, event_time and base (the path's base period). p-values and intervals
        use each estimator's own law: t(df_t) for the regression-based ones (TWFE: t(G - 1)), normal otherwise."""
        from scipy import stats

        p = self._paths
        pval = np.full(len(p), np.nan)
        for name in pd.unique(p["estimator"]):
            mask = (p["estimator"] == name).to_numpy()
            df = getattr(self.results[name], "df_t", np.inf) if name in self.results else np.inf
            law = stats.norm if not np.isfinite(df) else stats.t(df)
            with np.errstate(divide="ignore", invalid="ignore"):
                pval[mask] = 2 * law.sf(np.abs(p["estimate"].to_numpy()[mask] / p["std_error"].to_numpy()[mask]))
        return standard_columns(p, term=[f"e = {int(e)}" for e in p["event_time"]], p_value=pval)

    def overall(self) -> pd.DataFrame:
        """One row per estimator: estimator, estimate, std_error, conf_low, conf_high, definition, base."""
        return self._overall.copy()

    def wide(self) -> pd.DataFrame:
        """Event-time estimates with one column per estimator (the table to print next to the plot)."""
        return self._paths.pivot(index="event_time", columns="estimator", values="estimate")

    def summary(self, digits: int = 4) -> str:
        """The outcome, the :meth:`overall` table (each estimator's overall ATT, standard error, interval at
        ``level`` and what it averages), the :meth:`wide` table of event-time estimates (one column per
        estimator), rounded to ``digits``, and the notes (estimators or event times left out, and why)."""
        lines = [f"Staggered DiD estimators compared -- dependent variable: {self.depvar}", "",
                 f"Overall ATT ({self.level:.0%} CI):", self._overall.round(digits).to_string(index=False), "",
                 "Event-time estimates:", self.wide().round(digits).to_string()]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, path=None, *, truth=None):
        """All event-time paths, dodged, with pointwise intervals; the legend gives each overall ATT.

        ``truth`` (a simulated design, true effects by event time, or a number) is drawn over the paths
        (:func:`econ.results.overlay_truth`).
        """
        fig, ax = figure(ax, (7.5, 4.5))
        names = list(dict.fromkeys(self._paths["estimator"]))
        width = 0.6 / max(len(names), 1)
        overall = self._overall.set_index("estimator")
        for i, name in enumerate(names):
            part = self._paths[self._paths["estimator"] == name]
            att = overall.loc[name, "estimate"] if name in overall.index else np.nan
            base = part["base"].iloc[0] if "base" in part and len(part) else ""
            _paths.plot_path(ax, part, label=f"{LABELS.get(name, name)} (ATT {att:.3g}; {base})", color=f"C{i}",
                             dodge=(i - (len(names) - 1) / 2) * width)
        if truth is not None:
            overlay_truth(ax, sorted(set(self._paths["event_time"].astype(int))), truth)
        _paths.reference_lines(ax)
        ax.set_xlabel("Periods relative to treatment")
        ax.set_ylabel(f"Effect on {self.depvar}")
        ax.legend(frameon=False, fontsize="small")
        return finish_figure(fig, ax, path)


def compare(data: pd.DataFrame, y: str, unit: str, time: str, cohort: str, *, estimators=ESTIMATORS,
            window=(-5, 5), covariates=None, level: float = 0.95, base_period: str = "universal",
            weights: str | None = None) -> ComparisonResult:
    """Run several staggered-DiD estimators on one panel and line up their event-time paths and overall ATTs.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per (unit, time); never modified.
    y, unit, time, cohort : str
        Outcome, unit id, integer period and cohort (first treated period; 0 or missing = never treated).
    estimators : sequence of str
        Any of ``"twfe"`` (dynamic TWFE :func:`econ.did.event_study`, binned end points, and the static TWFE
        coefficient), ``"cs"`` (:func:`econ.did.att_gt`, never-treated controls, ``aggregate("dynamic")`` for the
        path and ``aggregate("simple")`` for the overall ATT), ``"sa"`` (:func:`econ.did.sun_abraham`) and
        ``"imputation"`` (:func:`econ.did.imputation`).
    window : (int, int)
        Event times shown (and the TWFE event-study window, trimmed to what the panel shows).
    covariates : list of str, optional
        Passed to every estimator that takes them.
    level : float
        Confidence level of the intervals.
    base_period : {"universal", "varying"}
        Base period of the Callaway-Sant'Anna path. ``"universal"`` (default): every cell of cohort g is compared
        with period ``g - 1``, so its leads are long differences against event time -1 like the TWFE and
        Sun-Abraham leads drawn on the same axes. ``"varying"`` (R ``did``'s default): leads compare t with t - 1
        (short differences); the path is then labelled so and should not be read against the others' leads.
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). Passed to every estimator run, so each path is the weighted
        version of that estimator. ``None``: equal weights.

    Returns
    -------
    ComparisonResult
        ``tidy()`` (estimator, event_time, estimate, std_error, conf_low, conf_high, base), ``overall()``,
        ``wide()``, ``summary()``, ``plot()`` (each path labelled with its base).

    Raises
    ------
    SpecificationError
        ``estimators`` empty or naming an unknown estimator, a window that is not a pair of integers with
        ``lo < 0 <= hi``, unknown columns, and the specification errors of the estimators run.
    TreatmentError
        Invalid cohorts or no comparison group (the panel is validated once by
        :func:`econ.did.design.build_design`; without never-treated units ``"cs"`` and ``"sa"`` use the last-treated
        cohort as control).
    PanelError
        Duplicate (unit, time) keys, missing ids or times, non-integer time; with ``"cs"`` also an unbalanced
        panel (:func:`econ.did.att_gt` needs a balanced one).
    WeightsError
        Missing, negative, infinite or non-numeric weights (naming the rows).

    Notes
    -----
    Each estimator runs with its own defaults, which are the conventions compared:

    * ``"twfe"``: :func:`econ.did.event_study` with reference period ``-1``, binned end points and the window
      trimmed to the relative times the panel shows, and :func:`econ.did.twfe` with ``cohort=`` for the static
      coefficient; both clustered by unit (fixest small-sample factor, t with ``G - 1`` df). Comparison units:
      never- and not-yet-treated units through the time effects.
    * ``"cs"``: :func:`econ.did.att_gt` with never-treated controls, the doubly robust 2x2 estimator, the
      ``base_period`` above (universal by default: event time -1 is the reference, reported as 0 and not drawn)
      and analytic standard errors; the overall ATT is ``aggregate("simple")``.
    * ``"sa"``: :func:`econ.did.sun_abraham` with never-treated controls (the last-treated cohort when there is no
      never-treated unit, as ``att_gt`` does) and reference period ``-1``, clustered by unit, cohort-share
      uncertainty included.
    * ``"imputation"``: :func:`econ.did.imputation` on every observed horizon (no pre-periods), conservative
      unit-clustered standard errors, normal inference.

    One inference convention across the table and the plot: every interval (paths and ``overall()``) uses the
    distribution of the result it comes from -- t with ``G - 1`` degrees of freedom for the clustered regressions
    (the TWFE rows use the static and dynamic :func:`econ.did.twfe` / :func:`econ.did.event_study` fits' own
    ``df_t``, as ``twfe`` reports them; Sun-Abraham likewise), normal for Callaway-Sant'Anna and imputation
    (influence-function inference). The ``base`` column of ``tidy()`` and ``overall()`` and the plot legend name
    each path's base. The overall ATTs are each estimator's own headline
    number and differ in their weights (see ``overall()["definition"]``); under heterogeneous, growing effects the
    static TWFE coefficient is the one that can fall outside the others (Goodman-Bacon 2021; see
    :func:`econ.did.bacon`). Roth et al. (2023) review the estimators and when they differ.

    References
    ----------
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods. Journal of
    Econometrics 225(2), 200-230.

    Sun, L. and Abraham, S. (2021). Estimating dynamic treatment effects in event studies with heterogeneous
    treatment effects. Journal of Econometrics 225(2), 175-199.

    Borusyak, K., Jaravel, X. and Spiess, J. (2024). Revisiting event-study designs: robust and efficient
    estimation. Review of Economic Studies 91(6), 3253-3285.

    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing. Journal of
    Econometrics 225(2), 254-277.

    Roth, J., Sant'Anna, P. H. C., Bilinski, A. and Poe, J. (2023). What's trending in difference-in-differences?
    A synthesis of the recent econometrics literature. Journal of Econometrics 235(2), 2218-2244.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.did import compare
    >>> df = datasets.load("china_cities_demo")
    >>> cmp = compare(df, "log_income_ratio", "prefecture_code", "year", "cohort", estimators=("twfe", "sa"))
    >>> list(cmp.overall()["estimator"])
    ['twfe', 'sa']
    """
    names = [_validate.check_choice(e, "estimators", ESTIMATORS) for e in _design.as_list(estimators)]
    base_period = _validate.check_choice(base_period, "base_period", ("universal", "varying"))
    if not names:
        raise SpecificationError(f"estimators must name at least one of {list(ESTIMATORS)}")
    lo, hi = _window(window)
    covariates = _design.as_list(covariates)
    design = build_design(data, y, unit, time, cohort, covariates=covariates, weights=weights)
    paths, overall, results, notes = [], [], {}, list(design.notes)
    if not design.n_never and "sa" in names:
        notes.append("no never-treated units: Sun-Abraham uses the last-treated cohort as control (control='last'), "
                      "as Callaway-Sant'Anna does")
    for name in dict.fromkeys(names):
        out = _RUNNERS[name](data, y, unit, time, cohort, covariates, (lo, hi), base_period, design, weights)
        if out is None:
            notes.append(f"{name!r} left out: econ.did.att_gt is not available in this installation")
            continue
        result, path, (att, se, df) = out
        results[name] = result
        table = path[(path["event_time"] >= lo) & (path["event_time"] <= hi)]
        paths.append(table.assign(estimator=name, base=BASES[name, base_period]))
        q = (stats.norm if not np.isfinite(df) else stats.t(df)).ppf(0.5 + level / 2)
        overall.append({"estimator": name, "estimate": att, "std_error": se, "conf_low": att - q * se,
                        "conf_high": att + q * se, "definition": OVERALL[name], "base": BASES[name, base_period]})
    if "cs" in results and base_period == "varying" and len(results) > 1:
        notes.append("Callaway-Sant'Anna leads use the varying base period (t vs t - 1, short differences); the "
                     "other paths' leads are long differences against event time -1: do not read them together")
    cols = ["estimator", "event_time", "estimate", "std_error", "conf_low", "conf_high", "base"]
    paths = pd.concat(paths, ignore_index=True)[cols] if paths else pd.DataFrame(columns=cols)
    _requantile(paths, results, level)
    return ComparisonResult(paths, pd.DataFrame(overall), KeyedResults(results, what="estimator"), notes, y, level)


def _window(window):
    try:
        lo, hi = (int(v) for v in window)
    except (TypeError, ValueError):
        raise SpecificationError(f"window must be a pair of integers (lo, hi), got {window!r}") from None
    if lo >= 0 or hi < 0:
        raise SpecificationError(f"window must include pre- and post-periods (lo < 0 <= hi), got {window!r}")
    return lo, hi


def _requantile(paths, results, level):
    """Intervals from each result's own degrees of freedom (t for regression-based, normal otherwise)."""
    for name, result in results.items():
        df = getattr(result, "df_t", np.inf)
        mask = paths["estimator"] == name
        q = (stats.norm if not np.isfinite(df) else stats.t(df)).ppf(0.5 + level / 2)
        paths.loc[mask, "conf_low"] = paths.loc[mask, "estimate"] - q * paths.loc[mask, "std_error"]
        paths.loc[mask, "conf_high"] = paths.loc[mask, "estimate"] + q * paths.loc[mask, "std_error"]


def _run_twfe(data, y, unit, time, cohort, covariates, window, base_period, design, weights=None):
    from econ.did.classic.event_study import event_study
    from econ.did.classic.twfe import twfe

    c = design.row_cohorts()
    rel = design.frame[time].to_numpy(dtype="int64")[c != _design.NEVER] - c[c != _design.NEVER]
    lo, hi = max(window[0], int(rel.min())), min(window[1], int(rel.max()))
    es = event_study(data, y, unit, time, cohort, window=(lo, hi), covariates=covariates or None, weights=weights)
    static = twfe(data, y, unit, time, cohort, covariates=covariates or None, weights=weights)
    d_name = static.coef.index[0]
    return es, _paths.path_table(*_paths.event_path(es)), (float(static.coef[d_name]), float(static.se[d_name]),
                                                          float(static.df_t))


def _run_cs(data, y, unit, time, cohort, covariates, window, base_period, design, weights=None):
    import econ.did as did

    att_gt = getattr(did, "att_gt", None)
    if att_gt is None:
        return None
    gt = att_gt(data, y, unit, time, cohort, covariates=covariates or None, control="never", base_period=base_period,
                weights=weights)
    dyn = gt.aggregate("dynamic")
    simple = gt.aggregate("simple")
    return dyn, _paths.path_table(*_paths.event_path(dyn)), (float(simple.overall_att), float(simple.overall_se),
                                                           np.inf)


def _run_sa(data, y, unit, time, cohort, covariates, window, base_period, design, weights=None):
    from econ.did.staggered.sun_abraham import sun_abraham

    res = sun_abraham(data, y, unit, time, cohort, covariates=covariates or None,
                      control="never" if design.n_never else "last", weights=weights)
    return res, _paths.path_table(*res.event_path()), (res.overall_att, res.overall_se, float(res.df_t))


def _run_imputation(data, y, unit, time, cohort, covariates, window, base_period, design, weights=None):
    from econ.did.staggered.imputation import imputation

    res = imputation(data, y, unit, time, cohort, covariates=covariates or None, weights=weights)
    return res, _paths.path_table(*res.event_path()), (res.overall_att, res.overall_se, np.inf)


_RUNNERS = {"twfe": _run_twfe, "cs": _run_cs, "sa": _run_sa, "imputation": _run_imputation}
