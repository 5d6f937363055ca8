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

import dataclasses
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import stats

from econ._docs import doc
from econ._figure import figure, finish_figure
from econ._tidy import _ci_labels, _fmt, _fmt_p, stars  # noqa: F401  (re-exported)
from econ._tidy import SummaryRepr
from econ._truth import overlay_truth, truth_values  # noqa: F401  (truth_values: used by result plots)
from econ._wald import WALD_DF, WaldTest, parse_hypothesis, wald, wald_df2  # noqa: F401
from econ.errors import SpecificationError

__all__ = ["Result", "ResultProtocol", "WaldTest", "stars", "wald", "figure", "finish_figure", "overlay_truth",
           "KeyedResults"]


@runtime_checkable
class ResultProtocol(Protocol):
    """What every result in econ offers, whether or not it derives from :class:`Result`.

    ``tidy()`` returns a DataFrame whose first columns are ``term, estimate, std_error, p_value, conf_low,
    conf_high`` (key columns such as ``event_time`` or ``cohort`` and extras follow); ``summary()`` returns text;
    ``plot(ax=None, path=None, **kw)`` draws on ``ax`` (a new figure when ``None``), also writes the figure to
    ``path`` when given, and returns ``(fig, ax)`` (``ax`` is the first positional argument everywhere); ``nobs``
    is the number of rows (observations) used and ``n_units`` the number of units (``None`` where a count has no
    meaning, e.g. a Monte Carlo summary). ``isinstance(obj, ResultProtocol)`` checks that the members exist.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from econ.results import Result, ResultProtocol
    >>> isinstance(Result(pd.Series({"x": 0.5}), np.eye(1), nobs=10, df_resid=9), ResultProtocol)
    True
    """

    nobs: int | None
    n_units: int | None

    def tidy(self, *args, **kwargs) -> pd.DataFrame:
        """Estimates as rows: ``term, estimate, std_error, p_value, conf_low, conf_high`` first."""

    def summary(self, *args, **kwargs) -> str:
        """A plain-text report."""

    def plot(self, ax=None, path=None, **kwargs):
        """Draw on ``ax`` (or a new figure), save to ``path`` when given; return ``(fig, ax)``."""


class Result(SummaryRepr):
    """Estimates with their covariance, sample facts and notes.

    Parameters
    ----------
    coef : pandas.Series
        Point estimates indexed by term name.
    vcov : pandas.DataFrame or array
        Covariance of ``coef`` (rows/columns in the order of ``coef``).
    nobs : int
        Observations (rows) used.
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
    n_units : int, optional
        Units (cross-sectional ids) in the estimation sample; shown by :meth:`summary` and ``econ.etable``.

    Attributes
    ----------
    coef, se, tstat, pvalue : pandas.Series
        Estimates, standard errors, t statistics and p-values (Student t with ``df_t`` degrees of freedom).
    vcov : pandas.DataFrame
        Covariance of the estimates.
    nobs, n_units, df_resid, df_t, r2, r2_within, fe_levels, notes : as given.

    Notes
    -----
    ``tstat = coef / se``; ``pvalue = 2 * t.sf(|tstat|, df_t)``; the ``level`` interval is
    ``coef +/- t.ppf((1 + level) / 2, df_t) * se``. Estimators choose ``df_t`` as fixest's ``t.df = "min"``
    (clusters minus one for clustered covariances).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from econ.results import Result
    >>> res = Result(pd.Series({"x": 0.5}), np.array([[0.04]]), nobs=100, df_resid=98, model="OLS", depvar="y")
    >>> float(res.se["x"]), round(float(res.tstat["x"]), 2)
    (0.2, 2.5)
    >>> res.tidy()[["term", "estimate", "std_error"]]
      term  estimate  std_error
    0    x       0.5        0.2
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
        n_units: int | None = None,
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
        self.n_units = None if n_units is None else int(n_units)

    # ------------------------------------------------------------ estimates
    @property
    def coef(self) -> pd.Series:
        """Point estimates, indexed by term (a copy)."""
        return self._coef.copy()

    @property
    def vcov(self) -> pd.DataFrame:
        """Covariance of the estimates, rows and columns labelled by term (a copy)."""
        return self._vcov.copy()

    @property
    def se(self) -> pd.Series:
        """Standard errors, the square roots of the covariance diagonal (NaN where a variance is negative)."""
        var = np.diag(self._vcov.to_numpy())
        with np.errstate(invalid="ignore"):
            return pd.Series(np.where(var >= 0, np.sqrt(np.abs(var)), np.nan), index=self._coef.index, name="se")

    @property
    def tstat(self) -> pd.Series:
        """t statistics ``coef / se`` (NaN where the standard error is zero or undefined)."""
        se = self.se.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(se > 0, self._coef.to_numpy() / np.where(se > 0, se, 1.0), np.nan)
        return pd.Series(t, index=self._coef.index, name="t")

    def _dist(self):
        return stats.norm if not np.isfinite(self.df_t) else stats.t(self.df_t)

    @property
    def pvalue(self) -> pd.Series:
        """Two-sided p-values of ``coef = 0`` from Student t with ``df_t`` degrees of freedom (normal if infinite)."""
        t = self.tstat.to_numpy()
        p = 2 * self._dist().sf(np.abs(t))
        return pd.Series(p, index=self._coef.index, name="p")

    @doc()
    def confint(self, level: float = 0.95) -> pd.DataFrame:
        """Two-sided confidence intervals ``coef +/- t.ppf((1 + level) / 2, df_t) * se``.

        Parameters
        ----------
        level : float in (0, 1), default 0.95
            Coverage.

        Returns
        -------
        pandas.DataFrame
            One row per term; columns named as pyfixest's (``"2.5%"``, ``"97.5%"`` for ``level=0.95``).

        {level_raises}

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from econ.results import Result
        >>> res = Result(pd.Series({"x": 0.5}), np.array([[0.04]]), nobs=100, df_resid=98, df_t=np.inf)
        >>> res.confint(0.9).round(3)
              5%    95%
        x  0.171  0.829
        """
        lo, hi = _ci_labels(level)
        q = self._dist().ppf(1 - (1 - level) / 2)
        b, se = self._coef.to_numpy(), self.se.to_numpy()
        return pd.DataFrame({lo: b - q * se, hi: b + q * se}, index=self._coef.index)

    @doc()
    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """The estimates as a tidy DataFrame (broom / pyfixest convention), the lingua franca of econ results.

        {level_parameters}

        Returns
        -------
        pandas.DataFrame
            One row per term: ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` (estimators
            add key columns such as ``event_time``, ``cohort`` or ``time``).

        {level_raises}

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from econ.results import Result
        >>> res = Result(pd.Series({"a": 1.0, "b": -0.2}), np.diag([0.25, 0.01]), nobs=50, df_resid=48)
        >>> res.tidy()[["term", "estimate", "statistic"]]
          term  estimate  statistic
        0    a       1.0        2.0
        1    b      -0.2       -2.0
        """
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

    @doc()
    def summary(self, level: float = 0.95, digits: int = 4) -> str:
        """A plain-text regression table in the style of a journal (and of fixest's ``summary``).

        Parameters
        ----------
        level : float in (0, 1), default 0.95
            Coverage of the printed intervals.
        digits : int, default 4
            Decimals of estimates, standard errors and intervals.

        Returns
        -------
        str
            Model and outcome, observations, fixed effects, standard errors and the distribution used, the
            coefficient table with significance stars, fit statistics and every note. ``repr(result)`` is this.

        {level_raises}

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from econ.results import Result
        >>> res = Result(pd.Series({"x": 0.5}), np.array([[0.04]]), nobs=100, df_resid=98, depvar="y")
        >>> print(res.summary().splitlines()[0])
        Estimation results -- dependent variable: y
        """
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
        out.append(f"Observations: {self.nobs:,}" + (f"   Units: {self.n_units:,}" if self.n_units else ""))
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

    def _repr_html_(self) -> str:  # notebooks: keep the monospaced layout
        import html

        return f"<pre>{html.escape(self.summary())}</pre>"

    def wald_test(self, R, q=None, *, df: str = "resid") -> WaldTest:
        """Joint Wald test of linear restrictions on the coefficients, using this result's covariance.

        Parameters
        ----------
        R : str, array-like or pandas.DataFrame
            Either a hypothesis written with term names, several separated by commas or semicolons
            (``"a = b"``, ``"a + 2*b = 1, c = 0"``), or a restriction matrix with one row per restriction and one
            column per coefficient (in the order of :attr:`coef`; a DataFrame is aligned by column name).
        q : array-like, optional
            Right-hand side of ``R b = q`` when ``R`` is a matrix (default zeros). Not allowed with a string.
        df : {"resid", "cluster"}
            Denominator degrees of freedom of the F form: ``"resid"`` (default) :attr:`df_resid`, as fixest's
            ``wald()`` and pyfixest's ``wald_test`` (n minus all estimated parameters, whatever the covariance);
            ``"cluster"`` ``G - 1`` as Stata's ``test`` after a clustered fit (refused without clustering). The
            choice is printed by the test's summary.

        Returns
        -------
        WaldTest
            Chi-square form ``W = (Rb - q)' (R V R')^{-1} (Rb - q)`` with ``df`` restrictions and the F form
            ``W / df`` with (``df``, ``df2``) degrees of freedom.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from econ.results import Result
        >>> res = Result(pd.Series({"a": 1.0, "b": 0.5}), np.diag([0.04, 0.09]), nobs=100, df_resid=98)
        >>> round(res.wald_test("a = b").chi2, 4)
        1.9231
        """
        names = list(self._coef.index)
        if isinstance(R, str):
            if q is not None:
                raise SpecificationError("wald_test: give the right-hand side inside the hypothesis string, not as q")
            R_mat, q_vec = parse_hypothesis(R, names)
            text = R
        else:
            if isinstance(R, pd.DataFrame):
                unknown = [c for c in R.columns if c not in names]
                if unknown:
                    raise SpecificationError(f"wald_test: R has columns that are not coefficients: {unknown}")
                R_mat = R.reindex(columns=names, fill_value=0.0).to_numpy(dtype=float)
            else:
                R_mat = np.atleast_2d(np.asarray(R, dtype=float))
            if R_mat.ndim != 2 or R_mat.shape[1] != len(names):
                raise SpecificationError(
                    f"wald_test: R must have one column per coefficient ({len(names)}), got shape {R_mat.shape}")
            q_vec = np.zeros(R_mat.shape[0]) if q is None else np.asarray(q, dtype=float).reshape(-1)
            if q_vec.shape[0] != R_mat.shape[0]:
                raise SpecificationError(f"wald_test: q has {q_vec.shape[0]} values for {R_mat.shape[0]} restrictions")
            text = f"{R_mat.shape[0]} linear restriction(s)"
        df2, rule = wald_df2(self, df)
        test = wald(self._coef.to_numpy(), self._vcov.to_numpy(), R_mat, df2, text, q=q_vec, df2_rule=rule)
        return dataclasses.replace(test, nobs=self.nobs, n_units=self.n_units)

    @doc()
    def plot(self, ax=None, path=None, *, terms=None, level: float = 0.95, truth=None):
        """Coefficient plot: point estimates with ``level`` confidence intervals, one row per term.

        Parameters
        ----------
        terms : list of str, optional
            Terms to draw, in this order (default: all).
        level : float in (0, 1), default 0.95
            Coverage of the intervals.
        {ax}
        {path}
        truth : float or mapping, optional
            True values of a simulated design: one number for every term, or term -> value; drawn as black
            crosses (see :func:`overlay_truth`).

        {plot_returns}

        Raises
        ------
        SpecificationError
            ``level`` outside (0, 1), a name in ``terms`` that is not a term, or ``truth`` of no accepted form.

        Examples
        --------
        >>> import matplotlib; matplotlib.use("Agg")
        >>> import numpy as np, pandas as pd
        >>> from econ.results import Result
        >>> res = Result(pd.Series({"a": 1.0, "b": -0.2}), np.diag([0.25, 0.01]), nobs=50, df_resid=48)
        >>> fig, ax = res.plot(truth={"a": 1.2, "b": 0.0})
        >>> [t.get_text() for t in ax.get_yticklabels()]
        ['a', 'b']
        """
        tid = self.tidy(level)
        if terms is not None:
            terms = [terms] if isinstance(terms, str) else list(terms)
            unknown = [t for t in terms if t not in set(tid["term"])]
            if unknown:
                raise SpecificationError(f"plot: {unknown} are not terms of this result; terms: {list(tid['term'])}")
            tid = tid.set_index("term").loc[terms].reset_index()
        fig, ax = figure(ax, (6, 0.4 * len(tid) + 1.2))
        pos = np.arange(len(tid))[::-1]
        ax.errorbar(tid["estimate"], pos, xerr=[tid["estimate"] - tid["conf_low"], tid["conf_high"] - tid["estimate"]],
                    fmt="o", capsize=3, label=f"estimate, {100 * level:g}% CI")
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(pos, tid["term"])
        ax.set_xlabel(f"estimate ({100 * level:g}% CI)")
        if truth is not None:
            overlay_truth(ax, pos, truth, by=None, keys=tid["term"], horizontal=True)
        ax.legend(frameon=False, fontsize="small")
        if self.depvar:
            ax.set_title(self.depvar)
        return finish_figure(fig, ax, path)


class KeyedResults(dict):
    """A ``dict`` of sub-results (period, group or variable -> result) whose unknown keys raise
    :class:`~econ.errors.SpecificationError` naming the key and the available ones, instead of a bare ``KeyError``.

    Everything else is a plain ``dict`` (``in``, ``get``, iteration, equality). ``what`` names the key in the
    message (``"period"``, ``"group"``...).

    Examples
    --------
    >>> from econ.results import KeyedResults
    >>> res = KeyedResults({2014: "a", 2015: "b"}, what="period")
    >>> res[2014]
    'a'
    >>> res[2013]
    Traceback (most recent call last):
    ...
    econ.errors.SpecificationError: no period 2013 in these results; available: [2014, 2015]
    """

    def __init__(self, items=(), *, what: str = "key"):
        super().__init__(items)
        self.what = what

    def __missing__(self, key):
        shown = [k.item() if isinstance(k, np.generic) else k for k in (key, *self)]  # 3, not np.int64(3)
        raise SpecificationError(f"no {self.what} {shown[0]!r} in these results; available: {shown[1:]}")

    def __reduce__(self):
        return (type(self), (dict(self),), {"what": self.what})
