"""The one result object every estimator in econ returns.

:class:`Result` holds point estimates, their covariance and the facts a reader needs to judge them (sample size,
fixed effects, type of standard errors, what was dropped and why). Inference:

* ``tstat = coef / se``;
* ``pvalue`` and ``confint`` use the Student t distribution with ``df_t`` degrees of freedom. Estimators set
  ``df_t`` the way fixest does (``t.df = "min"``): the number of clusters minus one for clustered covariances (the
  smallest cluster dimension for multiway clustering), ``T - 1`` for Driscoll-Kraay, and ``df_resid`` otherwise.
  ``df_t=None`` means ``df_resid``; ``df_t=np.inf`` gives normal-based inference (for asymptotic estimators).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from econ.errors import SpecificationError

__all__ = ["Result", "stars"]


def stars(p: float, levels: Sequence[float] = (0.1, 0.05, 0.01)) -> str:
    """``***``/``**``/``*`` for ``p`` below the third/second/first of ``levels`` (econ-journal convention)."""
    if p is None or not np.isfinite(p):
        return ""
    marks = sorted(levels)
    for i, level in enumerate(marks):
        if p < level:
            return "*" * (len(marks) - i)
    return ""


class Result:
    """Estimates with their covariance, sample facts and notes.

    Parameters
    ----------
    coef : pandas.Series
        Point estimates indexed by term name.
    vcov : pandas.DataFrame or array
        Covariance of ``coef`` (rows/columns in the order of ``coef``).
    nobs : int
        Observations used.
    df_resid : float
        Residual degrees of freedom of the model (n minus every estimated parameter, fixed effects included).
    df_t : float, optional
        Degrees of freedom of the t distribution used for p-values and intervals; ``None`` -> ``df_resid``;
        ``np.inf`` -> standard normal.
    r2, r2_within : float
        R-squared and within R-squared (after the fixed effects); ``nan`` when not defined.
    fe_levels : dict, optional
        Fixed-effect name -> number of levels.
    resid, fitted : array or Series, optional
        Residuals and fitted values on the estimation sample.
    notes : list of str, optional
        What was dropped and why, and any warning a reader should see.
    model, depvar, vcov_type, cluster, n_clusters : descriptive fields shown by :meth:`summary` and tables.
    extra : dict, optional
        Anything estimator-specific (shown nowhere, kept for callers).
    """

    def __init__(
        self,
        coef: pd.Series,
        vcov,
        *,
        nobs: int,
        df_resid: float,
        df_t: float | None = None,
        r2: float = float("nan"),
        r2_within: float = float("nan"),
        fe_levels: Mapping[str, int] | None = None,
        resid=None,
        fitted=None,
        notes: list[str] | None = None,
        model: str = "",
        depvar: str = "",
        vcov_type: str = "",
        cluster: str | None = None,
        n_clusters=None,
        extra: dict | None = None,
    ):
        coef = pd.Series(coef, dtype=float) if not isinstance(coef, pd.Series) else coef.astype(float)
        names = list(coef.index)
        if isinstance(vcov, pd.DataFrame):
            vcov = vcov.loc[names, names]
        else:
            vcov = pd.DataFrame(np.asarray(vcov, dtype=float).reshape(len(names), len(names)), index=names,
                                columns=names)
        self._coef = coef
        self._vcov = vcov.astype(float)
        self.nobs = int(nobs)
        self.df_resid = float(df_resid)
        self.df_t = float(df_resid) if df_t is None else float(df_t)
        self.r2 = float(r2)
        self.r2_within = float(r2_within)
        self.fe_levels = dict(fe_levels) if fe_levels else {}
        self.resid = resid
        self.fitted = fitted
        self.notes = list(notes) if notes else []
        self.model = model
        self.depvar = depvar
        self.vcov_type = vcov_type
        self.cluster = cluster
        self.n_clusters = n_clusters
        self.extra = dict(extra) if extra else {}

    # ------------------------------------------------------------ estimates
    @property
    def coef(self) -> pd.Series:
        return self._coef.copy()

    @property
    def vcov(self) -> pd.DataFrame:
        return self._vcov.copy()

    @property
    def se(self) -> pd.Series:
        var = np.diag(self._vcov.to_numpy())
        with np.errstate(invalid="ignore"):
            return pd.Series(np.where(var >= 0, np.sqrt(np.abs(var)), np.nan), index=self._coef.index, name="se")

    @property
    def tstat(self) -> pd.Series:
        se = self.se.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(se > 0, self._coef.to_numpy() / np.where(se > 0, se, 1.0), np.nan)
        return pd.Series(t, index=self._coef.index, name="t")

    def _dist(self):
        return stats.norm if not np.isfinite(self.df_t) else stats.t(self.df_t)

    @property
    def pvalue(self) -> pd.Series:
        t = self.tstat.to_numpy()
        p = 2 * self._dist().sf(np.abs(t))
        return pd.Series(p, index=self._coef.index, name="p")

    def confint(self, level: float = 0.95) -> pd.DataFrame:
        """Two-sided confidence intervals; columns named like pyfixest (``"2.5%"``, ``"97.5%"``)."""
        lo, hi = _ci_labels(level)
        q = self._dist().ppf(1 - (1 - level) / 2)
        b, se = self._coef.to_numpy(), self.se.to_numpy()
        return pd.DataFrame({lo: b - q * se, hi: b + q * se}, index=self._coef.index)

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """One row per term: term, estimate, std_error, statistic, p_value, conf_low, conf_high."""
        ci = self.confint(level)
        return pd.DataFrame(
            {
                "term": list(self._coef.index),
                "estimate": self._coef.to_numpy(),
                "std_error": self.se.to_numpy(),
                "statistic": self.tstat.to_numpy(),
                "p_value": self.pvalue.to_numpy(),
                "conf_low": ci.iloc[:, 0].to_numpy(),
                "conf_high": ci.iloc[:, 1].to_numpy(),
            }
        )

    # ------------------------------------------------------------ display
    def se_label(self) -> str:
        """Short description of the standard errors, e.g. ``"clustered by unit (30 clusters)"``."""
        if self.cluster:
            g = self.n_clusters
            if isinstance(g, Mapping):
                g = ", ".join(f"{k}: {v}" for k, v in g.items())
            elif isinstance(g, (list, tuple)):
                g = ", ".join(str(v) for v in g)
            count = f" ({g} clusters)" if g is not None else ""
            return f"{self.vcov_type or 'clustered'} by {self.cluster}{count}"
        return self.vcov_type or "not reported"

    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        """A plain-text table in the style of a journal regression table."""
        tid = self.tidy(level)
        lo, hi = _ci_labels(level)
        rows = []
        for r in tid.itertuples(index=False):
            rows.append(
                [
                    str(r.term),
                    _fmt(r.estimate, digits) + stars(r.p_value),
                    _fmt(r.std_error, digits),
                    _fmt(r.statistic, 3),
                    _fmt_p(r.p_value),
                    _fmt(r.conf_low, digits),
                    _fmt(r.conf_high, digits),
                ]
            )
        header = ["", "Estimate", "Std. Error", "t value", "Pr(>|t|)", lo, hi]
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)] if rows else [len(h) for h in header]
        line = lambda cells: "  ".join(  # noqa: E731
            (str(c).ljust(w) if i == 0 else str(c).rjust(w)) for i, (c, w) in enumerate(zip(cells, widths))
        )
        width = max(len(line(header)), 40)
        out = []
        title = self.model or "Estimation results"
        out.append(f"{title}" + (f" -- dependent variable: {self.depvar}" if self.depvar else ""))
        out.append(f"Observations: {self.nobs:,}")
        if self.fe_levels:
            out.append("Fixed effects: " + ", ".join(f"{k} ({v:,})" for k, v in self.fe_levels.items()))
        out.append(f"Standard errors: {self.se_label()}")
        dist = "normal" if not np.isfinite(self.df_t) else f"t({self.df_t:g})"
        out.append(f"Inference: {dist}")
        out.append("=" * width)
        out.append(line(header))
        out.append("-" * width)
        out.extend(line(r) for r in rows)
        out.append("=" * width)
        fit = []
        if np.isfinite(self.r2):
            fit.append(f"R2: {self.r2:.4f}")
        if np.isfinite(self.r2_within):
            fit.append(f"Within R2: {self.r2_within:.4f}")
        if fit:
            out.append("   ".join(fit))
        out.append("Signif.: *** p<0.01, ** p<0.05, * p<0.1")
        for note in self.notes:
            out.append(f"Note: {note}")
        return "\n".join(out)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:  # notebooks: keep the monospaced layout
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"

    def plot(self, terms=None, level: float = 0.95, ax=None):
        """Coefficient plot: point estimates with ``level`` confidence intervals. Returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        tid = self.tidy(level)
        if terms is not None:
            tid = tid.set_index("term").loc[list(terms)].reset_index()
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 0.4 * len(tid) + 1.2))
        pos = np.arange(len(tid))[::-1]
        ax.errorbar(tid["estimate"], pos, xerr=[tid["estimate"] - tid["conf_low"], tid["conf_high"] - tid["estimate"]],
                    fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(pos, tid["term"])
        ax.set_xlabel(f"estimate ({100 * level:g}% CI)")
        if self.depvar:
            ax.set_title(self.depvar)
        return ax


def _ci_labels(level: float) -> tuple[str, str]:
    """Names of the interval bounds, as pyfixest: ``("2.5%", "97.5%")`` for ``level=0.95``."""
    if not 0 < level < 1:
        raise SpecificationError(f"level must be in (0, 1), got {level}")
    alpha = 1 - level
    return f"{100 * alpha / 2:g}%", f"{100 * (1 - alpha / 2):g}%"


def _fmt(x: float, digits: int) -> str:
    if x is None or not np.isfinite(x):
        return "NA" if x is None or math.isnan(x) else str(x)
    return f"{x:.{digits}f}"


def _fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "NA"
    return "<0.001" if p < 0.001 else f"{p:.3f}"
