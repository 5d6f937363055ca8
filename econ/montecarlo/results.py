"""What a Monte Carlo study returns: every replication, and the performance of each estimator in each design."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from econ.montecarlo.estimators import rejection
from econ.results import figure, finish_figure
from econ._tidy import SummaryRepr, standard_columns

__all__ = ["MonteCarloResult", "metrics"]


def metrics(table: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Bias, RMSE, coverage and rejection rate per (design, estimator), each with its Monte Carlo s.e.

    With ``R`` successful replications, errors ``e_r = estimate_r - truth``: ``bias = mean(e)`` (s.e.
    ``sd(e)/sqrt(R)``); ``rmse = sqrt(mean(e^2))`` (s.e. by the delta method, ``sd(e^2) / (2 rmse sqrt(R))``);
    ``coverage`` = share of intervals containing the truth and ``rejection_rate`` = share rejecting zero at
    ``alpha``, each with s.e. ``sqrt(p (1 - p) / R)`` (Morris, White and Crowther 2019, Table 6).
    """
    out = []
    for (d, design, est), g in table.groupby(["design_id", "design", "estimator"], sort=False):
        ok = g[np.isfinite(g["estimate"])]
        n = len(ok)
        err = (ok["estimate"] - ok["truth"]).to_numpy()
        covered = ((ok["ci_low"] <= ok["truth"]) & (ok["truth"] <= ok["ci_high"]))[
            np.isfinite(ok["ci_low"]) & np.isfinite(ok["ci_high"]) & np.isfinite(ok["truth"])]
        rejects = pd.Series([rejection(r, alpha) for r in ok.to_dict(orient="records")], dtype=float).dropna()
        rmse = float(np.sqrt(np.mean(err**2))) if n else math.nan
        out.append({
            "design_id": d, "design": design, "estimator": est, "n_reps": n, "n_failed": len(g) - n,
            "truth": float(ok["truth"].mean()) if n else math.nan,
            "mean_estimate": float(ok["estimate"].mean()) if n else math.nan,
            "bias": float(err.mean()) if n else math.nan,
            "bias_mcse": float(err.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
            "sd": float(ok["estimate"].std(ddof=1)) if n > 1 else math.nan,
            "rmse": rmse,
            "rmse_mcse": float((err**2).std(ddof=1) / (2 * rmse * math.sqrt(n))) if n > 1 and rmse > 0 else math.nan,
            "mean_se": float(ok["se"].mean()) if ok["se"].notna().any() else math.nan,
            **_share("coverage", covered.astype(float)),
            **_share("rejection_rate", rejects),
        })
    return pd.DataFrame(out)


def _share(name: str, values: pd.Series) -> dict:
    n = len(values)
    p = float(values.mean()) if n else math.nan
    return {name: p, f"{name}_mcse": math.sqrt(p * (1 - p) / n) if n else math.nan}


class MonteCarloResult(SummaryRepr):
    """Replications of a Monte Carlo study (:func:`econ.montecarlo.run`).

    Attributes
    ----------
    table : DataFrame
        One row per (design, replication, estimator): ``design_id, design, rep, estimator, estimate, se, ci_low,
        ci_high, pvalue, truth, error``.
    designs : list of Design
    n_reps, seed, alpha, level, backend
        As passed to :func:`econ.montecarlo.run`; ``level`` is the level of the intervals every estimator that
        takes ``level`` built.
    own_level : list of str
        Estimators that take no ``level`` (their intervals are their own; a note names them).

    Examples
    --------
    >>> from econ import montecarlo as mc
    >>> d = mc.design(mc.staggered, n_units=30, n_years=8, effect=0.05)
    >>> res = mc.run(d, {"twfe": mc.estimators.twfe()}, n_reps=20, seed=1, n_workers=1, progress=False)
    >>> m = res.metrics()
    >>> int(m["n_reps"].iloc[0]), round(float(m["coverage"].iloc[0]), 2)
    (20, 0.95)
    """

    nobs = None  #: no estimation sample: a summary of many simulated ones
    n_units = None

    def __init__(self, table: pd.DataFrame, *, designs, estimators, n_reps, seed, alpha, level, backend,
                 own_level=()):
        self.table = table
        self.designs = list(designs)
        self.estimators = list(estimators)
        self.n_reps, self.seed, self.alpha, self.level, self.backend = n_reps, seed, alpha, level, backend
        self.own_level = list(own_level)

    def tidy(self) -> pd.DataFrame:
        """Every replication: ``term`` (the estimator), ``estimate``, ``std_error``, ``p_value``, ``conf_low``,
        ``conf_high`` (copies of ``se``, ``pvalue``, ``ci_low``, ``ci_high``), then the table's own columns and the
        design's parameters."""
        params = pd.DataFrame([dict(d.params) for d in self.designs])
        params = params.loc[:, [c for c in params.columns if c not in self.table.columns]]
        out = self.table.join(params, on="design_id")
        return standard_columns(out, term="estimator", std_error="se", p_value="pvalue", conf_low="ci_low",
                                conf_high="ci_high")

    def metrics(self) -> pd.DataFrame:
        """Bias, RMSE, coverage and rejection rate with Monte Carlo s.e. (see :func:`metrics`)."""
        return metrics(self.table, self.alpha)

    @property
    def notes(self) -> list[str]:
        """Warnings about the study: when some estimates failed (non-empty ``error``), one note with their number
        and the first failure (estimator, design, replication, message); those rows are left out of the
        metrics. When some estimators with intervals take no ``level``, a note naming them (their coverage is
        that of their own intervals). Empty when neither applies."""
        notes = []
        own = [name for name in self.own_level
               if self.table.loc[self.table["estimator"] == name, ["ci_low", "ci_high"]].notna().all(axis=1).any()]
        if own:
            notes.append(f"estimator(s) {own} take no level: their intervals are their own, not necessarily "
                         f"{100 * self.level:g}%")
        failed = self.table[self.table["error"] != ""]
        if failed.empty:
            return notes
        first = failed.iloc[0]
        return notes + [f"{len(failed)} estimate(s) failed and are left out of the metrics; first: "
                        f"{first['estimator']} in design {first['design']!r}, replication {first['rep']}: "
                        f"{first['error']}"]

    def summary(self, digits: int = 4) -> str:
        """A header (designs x replications x estimators, seed, backend, nominal coverage and test level), the
        :meth:`metrics` table per design and estimator (``truth``, ``bias``, ``rmse``, ``coverage`` and
        ``rejection_rate`` with their Monte Carlo standard errors ``*_mcse``; ``digits`` decimals) and the
        :attr:`notes`."""
        m = self.metrics()
        cols = ["design", "estimator", "n_reps", "truth", "bias", "bias_mcse", "rmse", "coverage", "coverage_mcse",
                "rejection_rate", "rejection_rate_mcse"]
        body = m[cols].to_string(index=False, float_format=lambda x: f"{x:.{digits}f}")
        head = (f"Monte Carlo study: {len(self.designs)} design(s) x {self.n_reps} replications x "
                f"{len(self.estimators)} estimator(s); seed {self.seed}, backend {self.backend!r}\n"
                f"coverage of {100 * self.level:g}% intervals; rejection of zero at {self.alpha:g}; *_mcse = Monte "
                "Carlo standard error")
        return "\n".join([head, body, *[f"Note: {n}" for n in self.notes]])

    def plot(self, ax=None, path=None, *, kind: str = "errors"):
        """``"errors"``: box plots of estimate - truth by design and estimator; ``"coverage"`` /
        ``"rejection"``: rates with +/- 2 Monte Carlo s.e. and the nominal level. Returns ``(fig, ax)``."""
        from econ._validate import check_choice

        check_choice(kind, "kind", ["errors", "coverage", "rejection"])
        m = self.metrics()
        labels = [f"{r.estimator}\n{r.design}" if len(self.designs) > 1 else r.estimator for r in m.itertuples()]
        fig, ax = figure(ax, (max(4.0, 0.9 * len(m) + 1.5), 3.6))
        pos = np.arange(len(m))
        if kind == "errors":
            groups = [(g["estimate"] - g["truth"]).dropna().to_numpy()
                      for _, g in self.table.groupby(["design_id", "estimator"], sort=False)]
            ax.boxplot(groups, positions=pos, widths=0.6)
            ax.axhline(0, color="grey", lw=0.8, ls="--")
            ax.set_ylabel("estimate - truth")
        else:
            col, ref = ("coverage", self.level) if kind == "coverage" else ("rejection_rate", self.alpha)
            ax.errorbar(pos, m[col], yerr=2 * m[f"{col}_mcse"], fmt="o", capsize=3)
            ax.axhline(ref, color="grey", lw=0.8, ls="--")
            ax.set_ylabel(col.replace("_", " ") + " (+/- 2 MC s.e.)")
        ax.set_xticks(pos, labels, fontsize=8)
        return finish_figure(fig, ax, path)
