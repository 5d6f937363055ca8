"""Panel estimators econ delegates to linearmodels: random effects, panel IV, and the Hausman test.

linearmodels already does these well, so econ does not re-implement them: these functions only validate the
panel at the boundary (``econ.io.validate_panel``), hand it to linearmodels with a (unit, time) index, and wrap
the answer in econ's :class:`~econ.results.Result` so that ``tidy()``, ``summary()`` and ``econ.etable`` work
the same as for ``econ.feols``. The fitted linearmodels object is kept in ``result.extra["linearmodels"]``.

Inference is linearmodels' own: every fit uses ``debiased=True`` (small-sample corrected covariance), with which
linearmodels computes p-values and intervals from Student's t with ``df_resid`` degrees of freedom; the wrapped
:class:`~econ.results.Result` sets ``df_t = df_resid`` so that ``tidy()`` reproduces linearmodels exactly.

Formulas use linearmodels' syntax (patsy/formulaic), for IV ``y ~ 1 + exog + [endog ~ instrument]``. As in
``econ.feols``, a formula without an intercept term gets one (``y ~ x`` is fitted as ``y ~ 1 + x``, with a note):
linearmodels itself adds none, which silently changes random-effects estimates. Write ``0 +`` (or ``- 1``) to fit
a model without an intercept.
"""

from __future__ import annotations

from dataclasses import dataclass

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from econ._docs import doc
from econ.errors import SpecificationError
from econ.io import validate_panel
from econ.panel.formula import split_top_level
from econ.results import Result
from econ._tidy import CountsOfFit, SummaryRepr, standard_columns

__all__ = ["random_effects", "panel_iv", "hausman", "HausmanTest"]

_DOCS = {"wooldridge": """\
Wooldridge, J. M. (2010). *Econometric Analysis of Cross Section and Panel Data*, 2nd ed., ch. 5 (instrumental
variables) and ch. 10 (random effects, the Hausman test). Cambridge, MA: MIT Press."""}


def _indexed(data: pd.DataFrame, unit: str, time: str) -> pd.DataFrame:
    return validate_panel(data, unit, time).set_index([unit, time])


def _wrap(fit, model: str, depvar: str, vcov_type: str, cluster: str | None = None, notes=()) -> Result:
    names = list(fit.params.index)
    df_resid = float(fit.df_resid)
    return Result(
        fit.params.rename(None).astype(float),
        pd.DataFrame(np.asarray(fit.cov, dtype=float), index=names, columns=names),
        nobs=int(fit.nobs), df_resid=df_resid, df_t=df_resid,
        r2=float(fit.rsquared), model=model, depvar=depvar, vcov_type=vcov_type, cluster=cluster,
        extra={"linearmodels": fit}, n_units=_n_entities(fit),
        notes=[f"estimated by linearmodels (debiased=True); p-values and intervals use t({df_resid:g}), the "
               "residual degrees of freedom, as linearmodels does", *notes],
    )


def _n_entities(fit):
    """Units (entities) of a linearmodels panel fit, ``None`` when it does not say."""
    n = getattr(fit, "entity_info", None)
    return int(n["total"]) if n is not None and "total" in n else None


def _check_formula(formula) -> tuple[str, list[str]]:
    """The formula with an intercept term as ``econ.feols`` has one, and the note saying so when it was added.

    A right-hand side with a top-level ``1`` or ``0`` term (``1 +``, ``0 +``, ``- 1``) is left as written; any
    other gets ``1 +`` in front (linearmodels adds no intercept by itself).
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise SpecificationError(f"formula must be a string like 'y ~ 1 + x', got {formula!r}")
    lhs, rhs = formula.split("~", 1)
    if any(piece.strip() in ("0", "1") for _, piece in split_top_level(rhs, "+-")):
        return formula, []
    fixed = f"{lhs.rstrip()} ~ 1 + {rhs.strip()}"
    return fixed, [f"intercept added as econ.feols does: fitted {fixed!r} (write '0 +' for no intercept)"]


def _fit(make, formula: str, frame: pd.DataFrame, build_only: bool = False, **fit_args):
    """Build and fit a linearmodels model (only build it with ``build_only``); its errors (unknown column, rank
    deficiency) become EconErrors."""
    try:
        model = make(formula, frame)
        return model if build_only else model.fit(debiased=True, **fit_args)
    except Exception as err:  # linearmodels/formulaic raise many kinds; name the formula
        raise SpecificationError(f"linearmodels could not fit {formula!r}: {type(err).__name__}: {err}") from None


def _cov_args(vcov, unit: str) -> tuple[dict, str, str | None]:
    """Map econ's vcov spec to linearmodels' fit arguments (iid, hetero, or clustered by the unit)."""
    if vcov == "iid":
        return {"cov_type": "unadjusted"}, "iid", None
    if vcov == "hetero":
        return {"cov_type": "robust"}, "hetero (HC0 * n/(n-k))", None
    if isinstance(vcov, dict) and set(vcov) == {"CL1"} and vcov["CL1"] == unit:
        return {"cov_type": "clustered", "cluster_entity": True}, "CL1", unit
    raise SpecificationError(f"vcov {vcov!r} is not available here; use 'iid', 'hetero' or {{'CL1': {unit!r}}}")


@doc(**_DOCS)
def random_effects(formula: str, data: pd.DataFrame, unit: str, time: str, *, vcov="iid") -> Result:
    """Random-effects (quasi-demeaned GLS) panel regression via ``linearmodels.panel.RandomEffects``.

    Parameters
    ----------
    formula : str
        linearmodels syntax, e.g. ``"y ~ 1 + x"``; without a ``1``/``0`` term an intercept is added (as
        ``econ.feols`` does, with a note); ``"y ~ 0 + x"`` fits none.
    data : DataFrame
        The panel (validated by :func:`econ.validate_panel`; never modified).
    unit, time : str
        Panel key columns.
    vcov : {"iid", "hetero"} or {"CL1": unit}
        Classical, heteroskedasticity-robust or clustered-by-unit covariance.

    Returns
    -------
    Result
        Coefficients, covariance and ``df_t = df_resid``: p-values and intervals equal linearmodels'
        (``fit(debiased=True)``, Student t with ``df_resid`` degrees of freedom).

    Raises
    ------
    PanelError
        Invalid panel (duplicate keys, missing ids, non-integer time).
    SpecificationError
        Bad formula, unsupported ``vcov``, or a model linearmodels cannot fit.

    Notes
    -----
    Feasible GLS by quasi-demeaning: OLS of ``y_it - theta_i ybar_i`` on ``x_it - theta_i xbar_i`` (the constant
    included) with ``theta_i = 1 - sqrt(s2_e / (T_i s2_u + s2_e))``. The variance components are linearmodels'
    default (``small_sample=False``), of the Swamy-Arora type: ``s2_e`` the residual variance of the within
    regression (divisor: observations less units less within regressors), ``s2_u = max(0, SSR_b / (N - k_b) -
    s2_e / T_h)`` from the between regression of the ``N`` unit means on ``k_b`` regressors (``T_h`` the
    harmonic mean of the ``T_i``); linearmodels 7.1 counts regressors by rank, earlier versions by columns. The
    covariance is linearmodels' with ``debiased=True`` (residual variance with divisor ``n - k``; ``"hetero"``
    HC0 times ``n / (n - k)``), and inference uses Student's t with ``df_resid`` degrees of freedom. Use
    ``econ.feols`` for fixed effects and compare the two with :func:`hausman`.

    References
    ----------
    Swamy, P. A. V. B. and Arora, S. S. (1972). The exact finite sample properties of the estimators of
    coefficients in the error components regression models. *Econometrica* 40(2), 261-275.
    {wooldridge}

    Examples
    --------
    >>> from econ import datasets
    >>> res = random_effects("lemp ~ 1 + lpop", datasets.load("mpdta"), "countyreal", "year")
    >>> res.tidy()[["term", "estimate"]].round(3)  # lpop is constant within a county: fixed effects absorb it
            term  estimate
    0  Intercept     2.139
    1       lpop     1.097
    """
    from linearmodels.panel import RandomEffects

    formula, notes = _check_formula(formula)
    args, label, cluster = _cov_args(vcov, unit)
    fit = _fit(RandomEffects.from_formula, formula, _indexed(data, unit, time), **args)
    return _wrap(fit, "random effects (linearmodels)", formula.split("~")[0].strip(), label, cluster, notes)


@doc(**_DOCS)
def panel_iv(formula: str, data: pd.DataFrame, unit: str, time: str, *, vcov="iid") -> Result:
    """Two-stage least squares via ``linearmodels.iv.IV2SLS`` on a validated panel.

    Parameters
    ----------
    formula : str
        linearmodels IV syntax, ``"y ~ 1 + exog + [endog ~ instrument]"`` (an intercept is added when the formula
        has no ``1``/``0`` term, as ``econ.feols`` does). The model is pooled: add fixed
        effects as dummies (``C(year)``), or demean with :class:`econ.panel.Absorber` and correct the degrees of
        freedom yourself.
    data : DataFrame
        The panel (validated; never modified).
    unit, time : str
        Panel key columns.
    vcov : {"iid", "hetero"} or {"CL1": unit}
        Classical, robust or clustered-by-unit covariance.

    Returns
    -------
    Result
        With ``df_t = df_resid`` (linearmodels' t(df_resid) inference under ``debiased=True``).

    Raises
    ------
    PanelError, SpecificationError
        Invalid panel; bad formula, unsupported ``vcov`` or a model linearmodels cannot fit.

    Notes
    -----
    ``b = (X'P_Z X)^{-1} X'P_Z y`` with ``P_Z`` the projection on the instruments (exogenous regressors and
    excluded instruments), pooled over all unit-periods. Covariance (linearmodels ``IV2SLS`` with
    ``debiased=True``): ``"iid"`` ``s^2 (X'P_Z X)^{-1}`` with ``s^2 = u'u / (n - k)``; ``"hetero"`` the HC0
    sandwich times ``n / (n - k)``; ``{"CL1": unit}`` the cluster sandwich times ``G (n - 1) / ((G - 1)(n - k))``;
    t inference with ``df_resid = n - k`` degrees of freedom. Rows with a missing value in a model variable are
    left out (a note counts them); the clusters, and so ``G``, are those of the rows used.

    References
    ----------
    {wooldridge}

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> z, u = rng.normal(size=400), rng.normal(size=400)
    >>> df = pd.DataFrame({"unit": np.arange(400) // 4, "year": np.arange(400) % 4, "z": z, "x": z + u})
    >>> df["y"] = 2 * df.x + 3 * u + rng.normal(size=400)
    >>> iv = panel_iv("y ~ 1 + [x ~ z]", df, "unit", "year", vcov={"CL1": "unit"})
    >>> bool(abs(iv.coef["x"] - 2) < 0.3)
    True
    """
    from linearmodels.iv import IV2SLS

    formula, notes = _check_formula(formula)
    args, label, cluster = _cov_args(vcov, unit)
    frame = validate_panel(data, unit, time)
    model = _fit(IV2SLS.from_formula, formula, frame, build_only=True)
    used = np.asarray(model.notnull, dtype=bool)
    if not used.all():
        notes.append(f"{int((~used).sum())} of {len(used)} rows with a missing value in a model variable left out "
                     "(linearmodels drops them)")
    if cluster:  # the cluster of every row the model uses, not of every row of the panel
        codes = frame[unit].astype("category").cat.codes.to_numpy()
        args = {"cov_type": "clustered", "clusters": codes[used]}
    fit = _fit(lambda f, d: model, formula, frame, **args)
    return _wrap(fit, "IV-2SLS (linearmodels)", formula.split("~")[0].strip(), label, cluster, notes)


@dataclass(frozen=True, repr=False)
class HausmanTest(CountsOfFit, SummaryRepr):
    """Hausman (1978) test of fixed against random effects: ``tidy()``, ``summary()`` and ``plot()``.

    Attributes: ``statistic`` (chi-square; NaN when the covariance difference is not positive semi-definite),
    ``df``, ``pvalue``, ``terms`` compared, the two fits ``fe``, ``re``, and ``notes``.
    """

    statistic: float
    df: int
    pvalue: float
    terms: tuple
    fe: Result
    re: Result
    notes: tuple = ()
    _counts_from = "fe"  # nobs, n_units (CountsOfFit)

    def tidy(self) -> pd.DataFrame:
        """One row: test, statistic, df, p_value, terms, notes."""
        out = pd.DataFrame({"test": ["hausman (fixed vs random effects)"], "statistic": [self.statistic],
                            "df": [self.df], "p_value": [self.pvalue], "terms": [", ".join(self.terms)],
                            "notes": ["; ".join(self.notes)]})
        return standard_columns(out, term="test", estimate="statistic")  # term/estimate first: the protocol

    def summary(self) -> str:
        """The test in one line, with the fixed- and random-effects estimates of the terms compared."""
        rows = "\n".join(f"  {t}: FE {self.fe.coef[t]:.6g} (se {self.fe.se[t]:.4g}), "
                         f"RE {self.re.coef[t]:.6g} (se {self.re.se[t]:.4g})" for t in self.terms)
        notes = "".join(f"\nNote: {n}" for n in self.notes)
        return (f"Hausman test, fixed vs random effects on {list(self.terms)}: chi2({self.df}) = "
                f"{self.statistic:.4f}, p = {self.pvalue:.4g}  (H0: random effects consistent)\n{rows}{notes}")

    def plot(self, ax=None, path=None):
        """Fixed- and random-effects estimates with 95% intervals for the terms compared; returns ``(fig, ax)``."""
        from econ.results import figure, finish_figure

        fig, ax = figure(ax)
        pos = np.arange(len(self.terms))
        for shift, res, label in ((-0.12, self.fe, "fixed effects"), (0.12, self.re, "random effects")):
            ci = res.confint().loc[list(self.terms)].to_numpy()
            b = res.coef[list(self.terms)].to_numpy()
            ax.errorbar(b, pos + shift, xerr=[b - ci[:, 0], ci[:, 1] - b], fmt="o", capsize=3, label=label)
        ax.set_yticks(pos, list(self.terms))
        ax.set_xlabel("estimate (95% CI)")
        ax.set_title(f"Hausman chi2({self.df}) = {self.statistic:.2f}, p = {self.pvalue:.3g}")
        ax.legend()
        return finish_figure(fig, ax, path)


@doc(**_DOCS)
def hausman(formula: str, data: pd.DataFrame, unit: str, time: str) -> HausmanTest:
    """Hausman test comparing within (``PanelOLS``, unit effects) and random-effects estimates.

    Parameters
    ----------
    formula : str
        linearmodels syntax for the random-effects model, e.g. ``"y ~ 1 + x"``; the fixed-effects model adds
        ``EntityEffects`` (time-invariant regressors are dropped from it).
    data : DataFrame
        The panel (validated; never modified).
    unit, time : str
        Panel key columns.

    Returns
    -------
    HausmanTest
        A note and a ``UserWarning`` when ``V_FE - V_RE`` is not positive semi-definite; then a negative
        statistic is not reported (``statistic = pvalue = NaN``).

    Raises
    ------
    PanelError, SpecificationError
        Invalid panel, bad formula, or no time-varying regressor in common.

    Notes
    -----
    ``H = (b_FE - b_RE)' (V_FE - V_RE)^+ (b_FE - b_RE)`` over the coefficients both models estimate (the
    time-varying regressors), with classical covariances (``debiased=True``) as the test assumes, a Moore-Penrose
    inverse and degrees of freedom equal to the rank of ``V_FE - V_RE`` (as Stata's ``hausman``); ``p = P(chi2_df
    > H)``. Under the null (random effects consistent and efficient) ``V_FE - V_RE`` is the variance of the
    difference; in finite samples it can be singular, hence the generalised inverse. When it has a negative
    eigenvalue (below ``-1e-8`` times its largest absolute eigenvalue) it is no variance: a note (and a warning)
    names its smallest eigenvalue, a non-negative ``H`` is still reported (as Stata does, with its warning) and a
    negative one is not (statistic and p-value NaN, never a p-value of 1). A regression-based (Mundlak) test with
    robust covariance is the usual alternative. The random-effects formula gets an intercept when it has no
    ``1``/``0`` term (see :func:`random_effects`); without one the random-effects slopes, and the test, change.

    References
    ----------
    Hausman, J. A. (1978). Specification tests in econometrics. *Econometrica* 46(6), 1251-1271.
    {wooldridge}

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> a = np.repeat(rng.normal(size=100), 5)
    >>> df = pd.DataFrame({"unit": np.repeat(np.arange(100), 5), "year": np.tile(np.arange(5), 100)})
    >>> df["x"] = rng.normal(size=500) + a
    >>> df["y"] = 0.5 * df.x + a + rng.normal(size=500)
    >>> test = hausman("y ~ 1 + x", df, "unit", "year")
    >>> bool(test.pvalue < 0.01), test.df
    (True, 1)
    """
    from linearmodels.panel import PanelOLS

    formula, notes = _check_formula(formula)
    panel = _indexed(data, unit, time)
    fe_fit = _fit(lambda f, d: PanelOLS.from_formula(f + " + EntityEffects", d, drop_absorbed=True), formula, panel)
    fe = _wrap(fe_fit, "fixed effects (linearmodels)", formula.split("~")[0].strip(), "iid")
    re = random_effects(formula, data, unit, time)
    terms = [t for t in fe.coef.index if t in re.coef.index and t != "Intercept"]
    if not terms:
        raise SpecificationError("no time-varying regressor is estimated by both models: nothing to test")
    diff = (fe.coef[terms] - re.coef[terms]).to_numpy()
    vdiff = (fe.vcov.loc[terms, terms] - re.vcov.loc[terms, terms]).to_numpy()
    stat = float(diff @ np.linalg.pinv(vdiff) @ diff)
    df = int(np.linalg.matrix_rank(vdiff))
    eig = np.linalg.eigvalsh((vdiff + vdiff.T) / 2)
    if eig.min() < -1e-8 * np.abs(eig).max():
        verdict = ("the statistic is negative and is not reported" if stat < 0 else
                   "the statistic is reported as Stata reports it, but the test's assumptions fail on these data")
        note = (f"V_FE - V_RE is not positive semi-definite (smallest eigenvalue {eig.min():.3g}, largest "
                f"{eig.max():.3g}; quadratic form {stat:.4g}): {verdict}; a regression-based (Mundlak) test with "
                "robust covariance does not need this difference")
        warnings.warn(note, UserWarning, stacklevel=2)
        notes.append(note)
        if stat < 0:
            return HausmanTest(np.nan, df, np.nan, tuple(terms), fe, re, tuple(notes))
    return HausmanTest(stat, df, float(stats.chi2.sf(stat, df)), tuple(terms), fe, re, tuple(notes))
