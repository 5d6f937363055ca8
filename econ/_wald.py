"""Joint Wald tests of linear restrictions: :class:`WaldTest`, :func:`wald` and the hypothesis parser behind
:meth:`econ.results.Result.wald_test`. Re-exported by :mod:`econ.results`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from econ._figure import figure, finish_figure
from econ._tidy import SummaryRepr, standard_columns
from econ.errors import SpecificationError

__all__ = ["WaldTest", "wald", "parse_hypothesis"]

@dataclass(frozen=True, repr=False)
class WaldTest(SummaryRepr):
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
    nobs, n_units : int or None
        Rows and units of the fit tested (set by :meth:`econ.results.Result.wald_test`; ``None`` otherwise).
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
    nobs: int | None = None
    n_units: int | None = None
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
        """Both forms as rows: ``term`` (the hypothesis), ``estimate`` (the statistic), ``std_error`` (NaN),
        ``p_value``, ``conf_low``/``conf_high`` (NaN), then ``test, form (chi2 / F), statistic, df1, df2``."""
        return standard_columns(pd.DataFrame(
            {
                "term": [self.hypothesis] * 2,
                "estimate": [self.chi2, self.F],
                "test": [self.hypothesis] * 2,
                "form": ["chi2", "F"],
                "statistic": [self.chi2, self.F],
                "df1": [self.df, self.df],
                "df2": [np.nan, self.df2],
                "p_value": [self.pvalue_chi2, self.pvalue_F],
            }
        ))

    def summary(self) -> str:
        """The hypothesis and both forms of the statistic with their p-values, as text."""
        rule = f" [df2: {self.df2_rule}]" if self.df2_rule else ""
        note = f"\n  Note: {self.note}" if self.note else ""
        return (
            f"Wald test: {self.hypothesis}\n"
            f"  chi2({self.df}) = {self.chi2:.4f}, p = {self.pvalue_chi2:.4g}\n"
            f"  F({self.df}, {self.df2:g}) = {self.F:.4f}, p = {self.pvalue_F:.4g}{rule}{note}"
        )

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
