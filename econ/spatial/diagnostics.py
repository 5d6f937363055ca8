"""Specification tests for spatial models: LM tests from OLS, LR and Wald tests of the spatial Durbin model.

LM tests (Anselin 1988; Anselin, Bera, Florax & Yoon 1996), from the OLS residuals ``e`` of ``y`` on ``X``, with
``s2 = e'e / n``, ``T = tr(W'W + W W)``, ``d_err = e'We / s2``, ``d_lag = e'Wy / s2`` and
``nJ = (WXb)' M (WXb) / s2 + T`` (``M = I - X (X'X)^{-1} X'``)::

    LM_error    = d_err^2 / T
    LM_lag      = d_lag^2 / nJ
    RLM_error   = (d_err - T d_lag / nJ)^2 / (T (1 - T / nJ))
    RLM_lag     = (d_lag - d_err)^2 / (nJ - T)
    SARMA       = RLM_lag + LM_error                       (2 degrees of freedom)

as spdep's ``lm.LMtests`` (``LMerr``, ``LMlag``, ``RLMerr``, ``RLMlag``, ``SARMA``) and spreg's diagnostics.

SDM tests (Elhorst 2014; LeSage & Pace 2009): likelihood-ratio ``2 (l_SDM - l_restricted)``
and Wald tests of ``theta = 0`` (SDM -> SAR), ``rho = 0`` (SDM -> SLX) and the common-factor restriction
``theta + rho beta = 0`` (SDM -> SEM; delta-method Wald: the restriction is non-linear).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from econ._docs import doc
from econ.errors import SpecificationError
from econ.results import figure, finish_figure
from econ.spatial import traces
from econ._tidy import SummaryRepr, standard_columns

__all__ = ["lm_tests", "sdm_tests", "SpecTests"]


@doc()
class SpecTests(SummaryRepr):
    """A table of test statistics: ``tidy()`` (test, statistic, df, p_value), ``summary()``, ``plot()``.

    Returned by :func:`lm_tests` and :func:`sdm_tests`; ``tests["LM_lag"]`` is the row of one test (a Series
    with ``statistic``, ``df`` and ``p_value``; the p-value is the chi-square upper tail); an unknown name raises
    :class:`~econ.errors.SpecificationError` listing the tests.

    Examples
    --------
    {spatial_example_data}
    >>> tests = spatial.lm_tests("y ~ x", df, W)
    >>> round(float(tests["LM_lag"]["statistic"]), 2), int(tests["SARMA"]["df"])
    (20.94, 2)
    """

    def __init__(self, table: pd.DataFrame, title: str, notes=None, *, nobs: int | None = None,
                 n_units: int | None = None):
        self.nobs = nobs  # rows of the fit tested
        self.n_units = n_units
        self._table = table
        self.title = title
        self.notes = list(notes or [])

    def tidy(self) -> pd.DataFrame:
        """One row per test (a copy) with columns ``test`` (its name, e.g. ``LM_lag`` or ``LR SDM vs SAR``),
        ``statistic`` (chi-square), ``df`` (its degrees of freedom) and ``p_value`` (the chi-square upper tail);
        first the standard columns: ``term`` (the test), ``estimate`` (the statistic), the rest NaN."""
        return standard_columns(self._table, term="test", estimate="statistic")

    def __getitem__(self, test: str) -> pd.Series:
        rows = self._table[self._table["test"] == test]
        if rows.empty:
            raise SpecificationError(f"no test {test!r} in these results; available: {list(self._table['test'])}")
        return rows.iloc[0]

    def summary(self) -> str:
        """The title, then one line per test with its statistic, degrees of freedom and chi-square p-value,
        then the notes."""
        lines = [self.title, f"{'test':<28}{'statistic':>12}{'df':>5}{'p-value':>10}"]
        for r in self._table.itertuples(index=False):
            lines.append(f"{r.test:<28}{r.statistic:>12.4f}{int(r.df):>5}{r.p_value:>10.4g}")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot(self, ax=None, path=None):
        """Bar chart of -log10 p-values with the 5% line; returns ``(fig, ax)``."""
        fig, ax = figure(ax, (6, 0.4 * len(self._table) + 1.2))
        p = np.clip(self._table["p_value"].to_numpy(float), 1e-300, 1)
        pos = np.arange(len(p))[::-1]
        ax.barh(pos, -np.log10(p))
        ax.axvline(-np.log10(0.05), color="C3", ls="--", lw=0.8, label="p = 0.05")
        ax.set_yticks(pos, self._table["test"])
        ax.set_xlabel("-log10 p-value")
        ax.legend(frameon=False)
        return finish_figure(fig, ax, path)


def _row(test, stat, df):
    return {"test": test, "statistic": float(stat), "df": int(df), "p_value": float(stats.chi2.sf(stat, df))}


@doc()
def lm_tests(formula: str, data: pd.DataFrame, W, *, unit: str | None = None) -> SpecTests:
    """Lagrange-multiplier tests for a spatial lag or error from the OLS fit of a cross-section.

    Parameters
    ----------
    formula, data, W, unit :
        As in :func:`econ.spatial.fit` (cross-section).

    Returns
    -------
    SpecTests
        Rows ``LM_error``, ``LM_lag``, ``RLM_error``, ``RLM_lag``, ``SARMA`` (statistic, df, p_value).

    Raises
    ------
    WeightsError
        Units of the data and of ``W`` differ (named), duplicate unit ids, rows that cannot be matched to ``W``.
    SpecificationError
        Unknown columns, missing values, collinear regressors, a formula with fixed effects (``|``) or without
        regressors.

    Notes
    -----
    From the OLS residuals ``e`` of ``y`` on ``X`` (``W`` used as given: row-standardise it first if wanted),
    with ``s2 = e'e / n`` (divisor n, the ML variance), ``T = tr(W'W + WW)``, ``d_err = e'We / s2``,
    ``d_lag = e'Wy / s2`` and ``nJ = (WXb)' M (WXb) / s2 + T`` (``M = I - X (X'X)^{-1} X'``)::

        LM_error  = d_err^2 / T                                   (Burridge 1980)
        LM_lag    = d_lag^2 / nJ                                  (Anselin 1988)
        RLM_error = (d_err - T d_lag / nJ)^2 / (T (1 - T / nJ))   (Anselin et al. 1996)
        RLM_lag   = (d_lag - d_err)^2 / (nJ - T)                  (Anselin et al. 1996)
        SARMA     = RLM_lag + LM_error

    each chi-square with 1 degree of freedom (SARMA: 2). They equal spdep's ``lm.LMtests`` for any ``W``
    (``T`` uses ``tr(W'W + WW)``, so an asymmetric ``W`` is handled).

    References
    ----------
    Anselin, L. (1988). *Spatial Econometrics: Methods and Models*. Dordrecht: Kluwer.
    Anselin, L., Bera, A. K., Florax, R. and Yoon, M. J. (1996). Simple diagnostic tests for spatial dependence.
    *Regional Science and Urban Economics* 26(1), 77-104.
    Burridge, P. (1980). On the Cliff-Ord test for spatial correlation. *Journal of the Royal Statistical
    Society, Series B* 42(1), 107-108.

    Examples
    --------
    >>> n = 60
    {chain_weights}
    >>> rng = np.random.default_rng(1); df = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    >>> list(sp.lm_tests("y ~ x", df, W).tidy()["test"])
    ['LM_error', 'LM_lag', 'RLM_error', 'RLM_lag', 'SARMA']
    """
    from econ.spatial.core import SpatialOperator, ols
    from econ.spatial.design import _align_cross_section, spatial_design

    data = _align_cross_section(data, W, unit)
    op = SpatialOperator(W.matrix)
    d = spatial_design(formula, data, W, [], op.lag, n_units=W.n)
    y, X = d.y, d.X
    n = len(y)
    b, e = ols(y, X)
    s2 = float(e @ e) / n
    _, tr_ww, tr_wtw = traces.products(W.matrix)
    T = tr_wtw + tr_ww
    d_err = float(e @ op.lag(e)) / s2
    d_lag = float(e @ op.lag(y)) / s2
    wxb = op.lag(X @ b)
    _, m_wxb = ols(wxb, X)
    nJ = float(m_wxb @ m_wxb) / s2 + T
    rows = [
        _row("LM_error", d_err**2 / T, 1),
        _row("LM_lag", d_lag**2 / nJ, 1),
        _row("RLM_error", (d_err - T * d_lag / nJ) ** 2 / (T * (1 - T / nJ)), 1),
        _row("RLM_lag", (d_lag - d_err) ** 2 / (nJ - T), 1),
    ]
    rows.append(_row("SARMA", rows[3]["statistic"] + rows[0]["statistic"], 2))
    return SpecTests(pd.DataFrame(rows), f"LM tests for spatial dependence (OLS residuals of {formula})",
                     nobs=len(d.y), n_units=W.n)


@doc()
def sdm_tests(formula: str, data: pd.DataFrame, W, **fit_options) -> SpecTests:
    """LR and Wald tests of the spatial Durbin model against SAR, SEM (common factor) and SLX.

    Parameters
    ----------
    formula, data, W :
        As in :func:`econ.spatial.fit`.
    **fit_options :
        Passed to every :func:`econ.spatial.fit` call (``unit``, ``time``, ``effects``, ``logdet``, ``wx``...).

    Returns
    -------
    SpecTests
        Rows ``LR SDM vs SAR``, ``Wald SDM vs SAR`` (theta = 0), ``LR SDM vs SEM``, ``Wald SDM vs SEM``
        (theta + rho beta = 0), ``LR SDM vs SLX``, ``Wald SDM vs SLX`` (rho = 0). Rejection favours the SDM.

    Raises
    ------
    SpecificationError
        ``model=`` or ``method=`` passed (the function fits the four models itself), or any error of
        :func:`econ.spatial.fit` (unknown columns, missing values, collinear regressors, a spatial parameter at
        the boundary of its interval...).
    WeightsError
        Units of the data and of ``W`` differ.

    Notes
    -----
    The SDM ``y = rho W y + X beta + W X theta + e`` and its restrictions are fitted by ML with the same
    ``fit_options`` (``wx`` is dropped for the SAR and SEM fits). With ``k`` lagged regressors (``theta`` of
    length ``k``):

    * LR tests ``2 (l_SDM - l_restricted)``, chi-square with ``k`` degrees of freedom against SAR
      (``theta = 0``) and SEM (common factor ``theta = -rho beta``), 1 against SLX (``rho = 0``);
    * Wald of ``theta = 0``: ``theta' V_theta^{-1} theta`` (``V`` the inverse information matrix of the SDM);
    * Wald of the common factor: ``g = theta + rho beta``, ``J = dg / d(beta, theta, rho)`` and
      ``g' (J V J')^{-1} g`` (delta method, ``k`` degrees of freedom; Burridge 1981);
    * Wald of ``rho = 0``: ``(rho / se(rho))^2``.

    References
    ----------
    Burridge, P. (1981). Testing for a common factor in a spatial autoregression model. *Environment and
    Planning A* 13, 795-800.
    LeSage, J. and Pace, R. K. (2009). *Introduction to Spatial Econometrics*. Boca Raton: CRC Press.
    Elhorst, J. P. (2014). *Spatial Econometrics: From Cross-Sectional Data to Spatial Panels*. Berlin:
    Springer.

    Examples
    --------
    >>> n = 80
    {chain_weights}
    >>> W = W.row_standardize(); rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"x": rng.normal(size=n), "y": rng.normal(size=n)})
    >>> sp.sdm_tests("y ~ x", df, W).tidy()[["test", "statistic", "df", "p_value"]].shape
    (6, 4)
    """
    from econ.spatial.models import fit

    for key in ("model", "method"):
        if key in fit_options:
            raise SpecificationError(f"sdm_tests fits the models itself; do not pass {key}=")
    sdm = fit(formula, data, W, model="sdm", **fit_options)
    sar = fit(formula, data, W, model="sar", **{k: v for k, v in fit_options.items() if k != "wx"})
    sem = fit(formula, data, W, model="sem", **{k: v for k, v in fit_options.items() if k != "wx"})
    slx = fit(formula, data, W, model="slx", **fit_options)
    theta = list(sdm.lagged.values())
    base = list(sdm.lagged)
    coef, V = sdm.coef, sdm.vcov
    names = list(coef.index)
    rows = [_row("LR SDM vs SAR", 2 * (sdm.loglik - sar.loglik), len(theta)),
            _row("Wald SDM vs SAR", sdm.wald_test(", ".join(f"`{t}` = 0" for t in theta)).chi2, len(theta))]
    rho = coef["rho"]
    g = np.array([coef[t] + rho * coef[b] for t, b in zip(theta, base)])
    J = np.zeros((len(theta), len(names)))
    for i, (t, b) in enumerate(zip(theta, base)):
        J[i, names.index(t)] = 1.0
        J[i, names.index(b)] = rho
        J[i, names.index("rho")] = coef[b]
    wald_cf = float(g @ np.linalg.solve(J @ V.to_numpy() @ J.T, g))
    rows += [_row("LR SDM vs SEM", 2 * (sdm.loglik - sem.loglik), len(theta)),
             _row("Wald SDM vs SEM", wald_cf, len(theta)),
             _row("LR SDM vs SLX", 2 * (sdm.loglik - slx.loglik), 1),
             _row("Wald SDM vs SLX", (rho / sdm.se["rho"]) ** 2, 1)]
    return SpecTests(pd.DataFrame(rows), "Tests of the spatial Durbin model against its restrictions",
                     nobs=sdm.nobs, n_units=sdm.n_units)
