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
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from econ.errors import SpecificationError

__all__ = ["Result", "WaldTest", "stars", "wald", "figure", "finish_figure", "overlay_truth"]


def stars(p: float, levels: Sequence[float] = (0.1, 0.05, 0.01)) -> str:
    """``***``/``**``/``*`` for ``p`` below the third/second/first of ``levels`` (econ-journal convention).

    Parameters
    ----------
    p : float
        A p-value; ``None`` or non-finite gives no stars.
    levels : sequence of float, default (0.1, 0.05, 0.01)
        Significance levels; one star per level that ``p`` is below.

    Returns
    -------
    str
        ``""``, ``"*"``, ``"**"`` or ``"***"`` (with the default levels).

    Examples
    --------
    >>> from econ.results import stars
    >>> stars(0.003), stars(0.03), stars(0.07), stars(0.5)
    ('***', '**', '*', '')
    """
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

    Attributes
    ----------
    coef, se, tstat, pvalue : pandas.Series
        Estimates, standard errors, t statistics and p-values (Student t with ``df_t`` degrees of freedom).
    vcov : pandas.DataFrame
        Covariance of the estimates.
    nobs, df_resid, df_t, r2, r2_within, fe_levels, notes : as given.

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

        Raises
        ------
        SpecificationError
            ``level`` outside (0, 1).

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

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        """The estimates as a tidy DataFrame (broom / pyfixest convention), the lingua franca of econ results.

        Parameters
        ----------
        level : float in (0, 1), default 0.95
            Coverage of ``conf_low`` / ``conf_high``.

        Returns
        -------
        pandas.DataFrame
            One row per term: ``term, estimate, std_error, statistic, p_value, conf_low, conf_high`` (estimators
            add key columns such as ``event_time``, ``cohort`` or ``time``).

        Raises
        ------
        SpecificationError
            ``level`` outside (0, 1).

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

        Raises
        ------
        SpecificationError
            ``level`` outside (0, 1).

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
        return wald(self._coef.to_numpy(), self._vcov.to_numpy(), R_mat, df2, text, q=q_vec, df2_rule=rule)

    def plot(self, terms=None, level: float = 0.95, ax=None, path=None, *, truth=None):
        """Coefficient plot: point estimates with ``level`` confidence intervals, one row per term.

        Parameters
        ----------
        terms : list of str, optional
            Terms to draw, in this order (default: all).
        level : float in (0, 1), default 0.95
            Coverage of the intervals.
        ax : matplotlib.axes.Axes, optional
            Draw on this axes (default: a new figure).
        path : str or pathlib.Path, optional
            Also save the figure there (format from the suffix).
        truth : float or mapping, optional
            True values of a simulated design: one number for every term, or term -> value; drawn as black
            crosses (see :func:`overlay_truth`).

        Returns
        -------
        (matplotlib.figure.Figure, matplotlib.axes.Axes)

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
                    fmt="o", capsize=3)
        ax.axvline(0, color="grey", lw=0.8, ls="--")
        ax.set_yticks(pos, tid["term"])
        ax.set_xlabel(f"estimate ({100 * level:g}% CI)")
        if truth is not None:
            overlay_truth(ax, pos, truth, by=None, keys=tid["term"], horizontal=True)
            ax.legend(frameon=False, fontsize="small")
        if self.depvar:
            ax.set_title(self.depvar)
        return finish_figure(fig, ax, path)


# ---------------------------------------------------------------------------------------------------- figures
def figure(ax=None, figsize=(6, 4)):
    """The ``(fig, ax)`` every ``plot()`` draws on: a new constrained-layout figure, or the figure of ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Draw on this axes (and its figure); ``None`` makes a new figure.
    figsize : tuple of float, default (6, 4)
        Size in inches of a new figure.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        The figure and axes, with the top and right spines hidden.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from econ.results import figure
    >>> fig, ax = figure(figsize=(3, 2))
    >>> ax.figure is fig
    True
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    else:
        fig = ax.figure
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig, ax


def finish_figure(fig, ax, path=None):
    """Save ``fig`` to ``path`` when given (the one place plots are written) and return ``(fig, ax)``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    ax : matplotlib.axes.Axes
    path : str or pathlib.Path, optional
        File to write (format from the suffix, 150 dpi); ``None`` writes nothing.

    Returns
    -------
    (matplotlib.figure.Figure, matplotlib.axes.Axes)
        ``fig`` and ``ax`` unchanged.

    Raises
    ------
    SpecificationError
        ``path`` is a directory or cannot be written.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from econ.results import figure, finish_figure
    >>> fig, ax = figure()
    >>> finish_figure(fig, ax) == (fig, ax)
    True
    """
    if path is not None:
        from pathlib import Path

        target = Path(path)
        if target.is_dir():
            raise SpecificationError(f"plot(path=...): {str(target)!r} is a directory; give a file name such as "
                                     "'figure.png'")
        try:
            fig.savefig(target, dpi=150)
        except (OSError, ValueError) as exc:
            raise SpecificationError(f"plot(path=...): cannot write {str(target)!r}: {exc}") from None
    return fig, ax


# ---------------------------------------------------------------------------------------------------- Wald tests
@dataclass(frozen=True)
class WaldTest:
    """Joint Wald test of ``R b = q``: chi-square form ``W`` (df ``q``) and F form ``W / q`` (df ``q``, ``df2``).

    ``df2`` is the model's residual degrees of freedom (n minus every estimated parameter, fixed effects included),
    as in fixest's ``wald()``; ``inf`` for asymptotic estimators, where the F form uses the chi-square law.

    Attributes
    ----------
    hypothesis : str
        The tested restrictions, as text.
    chi2, df, pvalue_chi2 : float, int, float
        Chi-square statistic ``W``, number of restrictions and its p-value.
    F, df2, pvalue_F : float
        F statistic ``W / df``, denominator degrees of freedom and its p-value.
    statistic, pvalue : float
        The F form (what fixest reports).
    df2_rule : str
        Where ``df2`` comes from (``"residual df (fixest)"``, ``"G - 1 clusters (Stata)"``, ...), printed by
        :meth:`summary`; empty when not stated.
    note : str
        Set when the covariance of the restrictions is singular and a generalized inverse was used.

    Examples
    --------
    >>> import numpy as np
    >>> from econ.results import wald
    >>> test = wald(np.array([1.0]), np.array([[0.25]]), np.eye(1), df2=np.inf, hypothesis="x = 0")
    >>> test.chi2, test.df
    (4.0, 1)
    """

    hypothesis: str
    chi2: float
    df: int
    pvalue_chi2: float
    F: float
    df2: float
    pvalue_F: float
    df2_rule: str = ""
    note: str = ""

    @property
    def statistic(self) -> float:
        """The F form (what fixest's ``wald()`` reports)."""
        return self.F

    @property
    def pvalue(self) -> float:
        """p-value of the F form (the chi-square form's is ``pvalue_chi2``)."""
        return self.pvalue_F

    def tidy(self) -> pd.DataFrame:
        """Both forms as rows: ``test, form (chi2 / F), statistic, df1, df2, p_value``."""
        return pd.DataFrame(
            {
                "test": [self.hypothesis] * 2,
                "form": ["chi2", "F"],
                "statistic": [self.chi2, self.F],
                "df1": [self.df, self.df],
                "df2": [np.nan, self.df2],
                "p_value": [self.pvalue_chi2, self.pvalue_F],
            }
        )

    def summary(self) -> str:
        """The hypothesis and both forms of the statistic with their p-values, as text."""
        rule = f" [df2: {self.df2_rule}]" if self.df2_rule else ""
        note = f"\n  Note: {self.note}" if self.note else ""
        return (
            f"Wald test: {self.hypothesis}\n"
            f"  chi2({self.df}) = {self.chi2:.4f}, p = {self.pvalue_chi2:.4g}\n"
            f"  F({self.df}, {self.df2:g}) = {self.F:.4f}, p = {self.pvalue_F:.4g}{rule}{note}"
        )

    def __repr__(self) -> str:
        return self.summary()

    def plot(self, ax=None, path=None):
        """The F statistic against its reference distribution; returns ``(fig, ax)``."""
        from scipy import stats as st

        fig, ax = figure(ax, (5, 3.2))
        dist = st.f(self.df, self.df2) if np.isfinite(self.df2) else st.chi2(self.df)
        stat = self.F if np.isfinite(self.df2) else self.chi2
        hi = max(dist.ppf(0.999), stat * 1.1)
        grid = np.linspace(0, hi, 300)
        ax.plot(grid, dist.pdf(grid), color="0.3")
        ax.axvline(stat, color="C3", lw=1.2, label=f"statistic = {stat:.3g} (p = {self.pvalue:.3g})")
        ax.set_xlabel("F" if np.isfinite(self.df2) else "chi2")
        ax.legend(frameon=False)
        return finish_figure(fig, ax, path)


def wald(b: np.ndarray, vcov: np.ndarray, R: np.ndarray, df2: float, hypothesis: str, q=None, *,
         singular: str = "raise", df2_rule: str = "") -> WaldTest:
    """Wald test of ``R b = q`` with covariance ``vcov``: W = (Rb - q)' (R V R')^{-1} (Rb - q).

    Parameters
    ----------
    b : array of shape (k,)
        Estimates.
    vcov : array of shape (k, k)
        Their covariance.
    R : array of shape (r, k)
        Restriction matrix (one row per restriction).
    df2 : float
        Denominator degrees of freedom of the F form; ``inf`` uses the chi-square law for both forms.
    hypothesis : str
        Text describing the restrictions (shown in the summary).
    q : array of shape (r,), optional
        Right-hand side; zero by default.
    singular : {"raise", "pinv"}
        What to do when ``R V R'`` is singular (rank ``k < r``: dependent restrictions, or estimates whose
        covariance is degenerate): refuse (default), or use the Moore-Penrose generalized inverse with ``k``
        degrees of freedom and a :attr:`WaldTest.note` saying so (what Stata's ``test`` does when it drops
        dependent constraints). The rank uses the tolerance ``max(r) * eps * largest eigenvalue`` (numpy's).
    df2_rule : str
        Text stating where ``df2`` comes from, printed by :meth:`WaldTest.summary`.

    Returns
    -------
    WaldTest

    Raises
    ------
    SpecificationError
        Non-finite estimates or covariance, or (``singular="raise"``) linearly dependent restrictions (rank of
        ``R V R'`` below r).

    Notes
    -----
    ``W = (Rb - q)' (R V R')^{-1} (Rb - q)`` is chi-square with r degrees of freedom; the F form ``W / r`` is
    F(r, df2), as in fixest's ``wald()`` (``pvalue_F`` falls back to the chi-square p-value when ``df2`` is
    infinite). ``V`` is used as given: the small-sample factors and clustering of the fit carry over.
    :meth:`Result.wald_test` passes the fit's ``df_resid`` as ``df2``.

    References
    ----------
    Wald, A. (1943). Tests of statistical hypotheses concerning several parameters when the number of
    observations is large. *Transactions of the American Mathematical Society* 54(3), 426-482.

    Examples
    --------
    >>> import numpy as np
    >>> from econ.results import wald
    >>> test = wald(np.array([0.3, 0.4]), np.eye(2) * 0.01, np.eye(2), df2=100, hypothesis="a = b = 0")
    >>> round(test.chi2, 6), round(test.F, 6)
    (25.0, 12.5)
    """
    R = np.atleast_2d(np.asarray(R, dtype=float))
    diff = R @ np.asarray(b, dtype=float) - (0.0 if q is None else np.asarray(q, dtype=float))
    middle = R @ np.asarray(vcov, dtype=float) @ R.T
    if not np.all(np.isfinite(middle)) or not np.all(np.isfinite(diff)):
        raise SpecificationError(f"Wald test '{hypothesis}': the coefficients or their covariance are not finite")
    if singular not in ("raise", "pinv"):
        raise SpecificationError(f"wald: singular must be 'raise' or 'pinv', got {singular!r}")
    middle = (middle + middle.T) / 2
    rank = np.linalg.matrix_rank(middle, hermitian=True)
    k, note = R.shape[0], ""
    if rank < k and (singular == "raise" or rank == 0):
        raise SpecificationError(
            f"Wald test '{hypothesis}': the {R.shape[0]} restrictions are linearly dependent or involve coefficients "
            f"with zero variance (rank of R V R' is {rank}); drop the redundant ones")
    if rank < k:
        w = float(diff @ np.linalg.pinv(middle, hermitian=True) @ diff)
        note = (f"the covariance of the {k} restrictions is singular (rank {rank}): generalized (Moore-Penrose) "
                f"inverse, {rank} degrees of freedom")
        k = int(rank)
    else:
        w = float(diff @ np.linalg.solve(middle, diff))
    return WaldTest(
        hypothesis=hypothesis,
        chi2=w,
        df=k,
        pvalue_chi2=float(stats.chi2.sf(w, k)),
        F=w / k,
        df2=float(df2),
        pvalue_F=float(stats.f.sf(w / k, k, df2)) if np.isfinite(df2) else float(stats.chi2.sf(w, k)),
        df2_rule=df2_rule,
        note=note,
    )


WALD_DF = ("resid", "cluster")


def wald_df2(result, df: str | None) -> tuple[float, str]:
    """Denominator degrees of freedom of an F form and its description, for ``df`` in :data:`WALD_DF`.

    ``"resid"``: the fit's residual degrees of freedom (``df_resid``: n minus every estimated parameter), as
    fixest's ``wald()`` and pyfixest's ``wald_test``. ``"cluster"``: ``G - 1`` with ``G`` the number of clusters
    (the smallest dimension for multiway clustering), as Stata's ``test`` after a clustered fit; refused when the
    covariance is not clustered. ``None``: ``inf`` (asymptotic; the F form uses the chi-square law).
    """
    if df is None:
        return np.inf, "none (asymptotic chi-square)"
    if df not in WALD_DF:
        raise SpecificationError(f"df must be one of {list(WALD_DF)}, got {df!r}")
    if df == "resid":
        return float(result.df_resid), "residual df (fixest)"
    g = _cluster_count(getattr(result, "n_clusters", None)) if getattr(result, "cluster", None) else None
    if g is None:
        raise SpecificationError("df='cluster' needs a clustered covariance (G - 1 clusters); this fit is not "
                                 "clustered: use df='resid'")
    return float(g - 1), f"G - 1 = {g - 1} clusters (Stata)"


def _cluster_count(n_clusters) -> int | None:
    """The smallest integer count in ``n_clusters`` (an int, a mapping, or a sequence such as ``(name, G)``)."""
    values = n_clusters.values() if isinstance(n_clusters, Mapping) else (
        n_clusters if isinstance(n_clusters, (list, tuple)) else [n_clusters])
    counts = [int(v) for v in values if isinstance(v, (int, np.integer)) and not isinstance(v, bool)]
    return min(counts) if counts else None


_NUMBER = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")


def parse_hypothesis(text: str, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``"a + 2*b = 1, c = d"`` -> (R, q) over the coefficient ``names``; every name must be a coefficient."""
    rows, rhs = [], []
    # Coefficient names may hold '-', '.', ':' or spaces (e.g. "event::-2"): swap them for tokens first, longest
    # name first, so that arithmetic signs and names cannot be confused.
    names = list(names)
    order = sorted(range(len(names)), key=lambda i: -len(names[i]))
    for i in order:
        pattern = r"(?<![\w.:`])`?" + re.escape(names[i]) + r"`?(?![\w.:`])"
        text = re.sub(pattern, f"__coef{i}__", text)
    tokens = [f"__coef{i}__" for i in range(len(names))]
    display = dict(zip(tokens, names))
    for part in re.split(r"[,;]", text):
        if not part.strip():
            continue
        sides = part.split("=")
        if len(sides) == 1:
            sides = [sides[0], "0"]
        if len(sides) != 2:
            raise SpecificationError(f"wald_test: cannot read the restriction {_show(part, display)!r} (one '=' "
                                     "expected)")
        row = np.zeros(len(names))
        const = 0.0
        for sign_side, side in ((1.0, sides[0]), (-1.0, sides[1])):
            for sign, term in _split_terms(side, part):
                coef, name = _split_product(term, part)
                if name is None:
                    const -= sign_side * sign * coef
                    continue
                if name not in display:
                    raise SpecificationError(
                        f"wald_test: {name!r} in {_show(part, display)!r} is not a coefficient; coefficients are "
                        f"{names}")
                row[tokens.index(name)] += sign_side * sign * coef
        if not row.any():
            raise SpecificationError(f"wald_test: the restriction {_show(part, display)!r} names no coefficient")
        rows.append(row)
        rhs.append(const)
    if not rows:
        raise SpecificationError("wald_test: the hypothesis is empty")
    return np.vstack(rows), np.asarray(rhs)


def _show(part: str, display: Mapping[str, str]) -> str:
    for token, name in display.items():
        part = part.replace(token, name)
    return part.strip()


def _split_terms(side: str, part: str) -> list[tuple[float, str]]:
    """Split ``"a - 2*b + c"`` at top-level + and - (names may contain '-' only inside brackets or quotes)."""
    out, sign, buf, depth = [], 1.0, "", 0
    for ch in side:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch in "+-" and depth == 0 and buf.strip() and not re.search(r"[eE]$", buf.strip()):
            out.append((sign, buf.strip()))
            sign, buf = (1.0 if ch == "+" else -1.0), ""
        elif ch in "+-" and depth == 0 and not buf.strip():
            sign = sign * (1.0 if ch == "+" else -1.0)
        else:
            buf += ch
    if buf.strip():
        out.append((sign, buf.strip()))
    if not out:
        raise SpecificationError(f"wald_test: an empty side in {part.strip()!r}")
    return out


def _split_product(term: str, part: str) -> tuple[float, str | None]:
    """``"2*b"`` -> (2, "b"); ``"b"`` -> (1, "b"); ``"3"`` -> (3, None)."""
    if _NUMBER.match(term):
        return float(term), None
    if "*" in term:
        left, right = term.split("*", 1)
        if _NUMBER.match(left):
            return float(left), right.strip().strip("`")
        if _NUMBER.match(right):
            return float(right), left.strip().strip("`")
        raise SpecificationError(f"wald_test: {term!r} in {part.strip()!r} is not linear in the coefficients")
    return 1.0, term.strip().strip("`")


def _ci_labels(level: float) -> tuple[str, str]:
    """Names of the interval bounds, as pyfixest: ``("2.5%", "97.5%")`` for ``level=0.95``."""
    if isinstance(level, (bool, np.bool_)) or not isinstance(level, (int, float, np.integer, np.floating)) \
            or not 0 < level < 1:
        raise SpecificationError(f"level must be a number in (0, 1), got {level!r}")
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


# ------------------------------------------------------------------------------------------------ known truth
TRUTH_STYLE = {"color": "black", "ls": "--", "lw": 1.2, "marker": "x", "ms": 6, "zorder": 5}


def overlay_truth(ax, x, truth, *, by: str | None = "event_time", keys=None, horizontal: bool = False,
                  label: str = "truth", color: str = "black"):
    """Draw the true effects of a simulated design over an estimate plot (the ``truth=`` of every ``plot()``).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The plot to draw on.
    x : array-like
        Positions of the estimates on the plot's axis (event times, cohorts, periods or term positions).
    truth : SimulatedPanel, dict, Mapping, pandas.Series or float
        A simulated design (:class:`econ.simulate.SimulatedPanel`, its ``truth`` dict, or
        :func:`econ.datasets.truth` of a bundled simulated dataset), aggregated ``by`` as
        :func:`econ.simulate.true_att` does; or the true values themselves, as a mapping / Series from ``keys``
        to values, or one number (the true effect at every position; 0 before treatment on an event-time axis).
    by : {"event_time", "cohort", "time", "overall"} or None, default "event_time"
        What the positions are. ``None`` (a coefficient plot) accepts only a mapping or a number.
    keys : array-like, optional
        The key of each position in ``truth`` (default ``x``): event times, cohorts, periods or term names.
    horizontal : bool, default False
        Estimates on the horizontal axis (a coefficient plot): truth marks are placed at ``(value, x)``.
    label : str, default "truth"
        Legend label.
    color : str, default "black"
        Colour of the dashed line and crosses.

    Returns
    -------
    numpy.ndarray
        The true value drawn at each position (NaN where ``truth`` has none: nothing is drawn there).

    Raises
    ------
    SpecificationError
        ``truth`` is none of the accepted forms, a design is given for a plot whose axis has no aggregation, or
        ``x`` is not numeric or not as long as ``keys``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from econ import datasets
    >>> from econ.results import figure, overlay_truth
    >>> fig, ax = figure()
    >>> overlay_truth(ax, [-2, -1, 0, 1], datasets.truth("china_cities_demo")).round(4).tolist()
    [0.0, 0.0, -0.0151, -0.0302]
    >>> overlay_truth(ax, [0, 1], {"a": 0.5}, by=None, keys=["a", "b"], horizontal=True).tolist()
    [0.5, nan]
    """
    try:
        x = np.asarray(x, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise SpecificationError(f"overlay_truth: x must be numeric positions, got {x!r}") from None
    if keys is not None and len(keys) != len(x):
        raise SpecificationError(f"overlay_truth: {len(keys)} keys for {len(x)} positions")
    values = truth_values(truth, x if keys is None else keys, by=by)
    if np.isfinite(values).any():
        px, py = (values, x) if horizontal else (x, values)
        style = dict(TRUTH_STYLE, ls="none") if by in (None, "cohort", "overall") else TRUTH_STYLE
        ax.plot(px, py, label=label, **dict(style, color=color))
    return values


def truth_values(truth, keys, *, by: str | None = "event_time") -> np.ndarray:
    """The true value at each of ``keys`` (see :func:`overlay_truth` for the forms ``truth`` may take)."""
    from econ.simulate import design_truth, true_att

    keys = list(np.asarray(keys).tolist())
    design = design_truth(truth) is not None
    if design:
        if by is None:
            raise SpecificationError("truth: a simulated design has no single true value per coefficient; give "
                                     "truth as {term: value} or a number, e.g. truth=sim.true_att('overall')")
        values = true_att(truth, by)
    elif isinstance(truth, (pd.Series, Mapping)):
        values = pd.Series(dict(truth), dtype=float) if isinstance(truth, Mapping) else truth.astype(float)
    elif isinstance(truth, (int, float, np.integer, np.floating)) and not isinstance(truth, (bool, np.bool_)):
        values = float(truth)
    else:
        raise SpecificationError(f"truth must be a simulated design, a mapping or Series of true values, or a "
                                 f"number; got {type(truth).__name__}")
    if isinstance(values, float):
        out = np.full(len(keys), values)
    else:
        lookup = {_key(k): v for k, v in values.items()}
        out = np.array([lookup.get(_key(k), np.nan) for k in keys], dtype=float)
    if by == "event_time" and (design or isinstance(values, float)):
        out[[isinstance(_key(k), (int, float)) and _key(k) < 0 for k in keys]] = 0.0  # no anticipation
    return out


def _key(k):
    """Keys compare as numbers when they are integral (2014, 2014.0 and "2014" are one key), else as text."""
    try:
        f = float(k)
        return int(f) if f.is_integer() else f
    except (TypeError, ValueError):
        return str(k)


class KeyedResults(dict):
    """A ``dict`` of sub-results (period, group or variable -> result) whose unknown keys raise
    :class:`~econ.errors.SpecificationError` naming the key and the available ones, instead of a bare ``KeyError``.

    Everything else is a plain ``dict`` (``in``, ``get``, iteration, equality). ``what`` names the key in the
    message (``"period"``, ``"group"``...).
    """

    def __init__(self, items=(), *, what: str = "key"):
        super().__init__(items)
        self.what = what

    def __missing__(self, key):
        shown = [k.item() if isinstance(k, np.generic) else k for k in (key, *self)]  # 3, not np.int64(3)
        raise SpecificationError(f"no {self.what} {shown[0]!r} in these results; available: {shown[1:]}")

    def __reduce__(self):
        return (type(self), (dict(self),), {"what": self.what})
