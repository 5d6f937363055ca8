"""Panel estimators econ delegates to linearmodels: random effects, panel IV, and the Hausman test.

linearmodels already does these well, so econ does not re-implement them: these functions only validate the
panel at the boundary (``econ.io.validate_panel``), hand it to linearmodels with a (unit, time) index, and wrap
the answer in econ's :class:`~econ.results.Result` so that ``tidy()``, ``summary()`` and ``econ.etable`` work
the same as for ``econ.feols``. The fitted linearmodels object is kept in ``result.extra["linearmodels"]``.

Formulas use linearmodels' syntax (patsy/formulaic): write ``1 +`` for an intercept, and for IV
``y ~ 1 + exog + [endog ~ instrument]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from econ.errors import SpecificationError
from econ.io import validate_panel
from econ.results import Result

__all__ = ["random_effects", "panel_iv", "hausman", "HausmanTest"]


def _indexed(data: pd.DataFrame, unit: str, time: str) -> pd.DataFrame:
    return validate_panel(data, unit, time).set_index([unit, time])


def _wrap(fit, model: str, depvar: str, vcov_type: str, cluster: str | None = None) -> Result:
    names = list(fit.params.index)
    return Result(
        fit.params.rename(None).astype(float),
        pd.DataFrame(np.asarray(fit.cov, dtype=float), index=names, columns=names),
        nobs=int(fit.nobs), df_resid=float(fit.df_resid), df_t=np.inf,
        r2=float(fit.rsquared), model=model, depvar=depvar, vcov_type=vcov_type, cluster=cluster,
        extra={"linearmodels": fit},
        notes=["estimated by linearmodels; inference uses the normal distribution, as linearmodels does"],
    )


def _cov_args(vcov, unit: str) -> tuple[dict, str, str | None]:
    """Map econ's vcov spec to linearmodels' fit arguments (iid, hetero, or clustered by the unit)."""
    if vcov == "iid":
        return {"cov_type": "unadjusted"}, "iid", None
    if vcov == "hetero":
        return {"cov_type": "robust"}, "hetero (HC0 * n/(n-k))", None
    if isinstance(vcov, dict) and set(vcov) == {"CL1"} and vcov["CL1"] == unit:
        return {"cov_type": "clustered", "cluster_entity": True}, "CL1", unit
    raise SpecificationError(f"vcov {vcov!r} is not available here; use 'iid', 'hetero' or {{'CL1': {unit!r}}}")


def random_effects(formula: str, data: pd.DataFrame, unit: str, time: str, vcov="iid") -> Result:
    """Random-effects (quasi-demeaned GLS) panel regression via ``linearmodels.panel.RandomEffects``.

    Use ``econ.feols`` for fixed effects; compare the two with :func:`hausman`.
    """
    from linearmodels.panel import RandomEffects

    args, label, cluster = _cov_args(vcov, unit)
    fit = RandomEffects.from_formula(formula, _indexed(data, unit, time)).fit(debiased=True, **args)
    return _wrap(fit, "random effects (linearmodels)", formula.split("~")[0].strip(), label, cluster)


def panel_iv(formula: str, data: pd.DataFrame, unit: str, time: str, vcov="iid") -> Result:
    """Two-stage least squares via ``linearmodels.iv.IV2SLS`` on a validated panel (pooled; add FE as dummies,
    e.g. ``C(year)``, or demean with :class:`econ.panel.Absorber` and correct the degrees of freedom yourself)."""
    from linearmodels.iv import IV2SLS

    args, label, cluster = _cov_args(vcov, unit)
    frame = validate_panel(data, unit, time)
    if cluster:
        args = {"cov_type": "clustered", "clusters": frame[unit].astype("category").cat.codes.to_numpy()}
    fit = IV2SLS.from_formula(formula, frame).fit(debiased=True, **args)
    return _wrap(fit, "IV-2SLS (linearmodels)", formula.split("~")[0].strip(), label, cluster)


@dataclass(frozen=True)
class HausmanTest:
    """Hausman (1978) test of fixed against random effects."""

    statistic: float
    df: int
    pvalue: float
    terms: tuple
    fe: Result
    re: Result

    def summary(self) -> str:
        return (f"Hausman test, fixed vs random effects on {list(self.terms)}: chi2({self.df}) = "
                f"{self.statistic:.4f}, p = {self.pvalue:.4g}  (H0: random effects consistent)")

    __repr__ = summary


def hausman(formula: str, data: pd.DataFrame, unit: str, time: str) -> HausmanTest:
    """Hausman test comparing within (``PanelOLS``, unit effects) and random-effects estimates.

    ``H = (b_FE - b_RE)' (V_FE - V_RE)^+ (b_FE - b_RE)`` over the coefficients both models estimate (the
    time-varying regressors), with classical (non-robust) covariances as the test assumes, a Moore-Penrose inverse
    and degrees of freedom equal to the rank of ``V_FE - V_RE`` (as Stata's ``hausman`` reports).
    """
    from linearmodels.panel import PanelOLS

    panel = _indexed(data, unit, time)
    fe_fit = PanelOLS.from_formula(formula + " + EntityEffects", panel, drop_absorbed=True).fit(debiased=True)
    fe = _wrap(fe_fit, "fixed effects (linearmodels)", formula.split("~")[0].strip(), "iid")
    re = random_effects(formula, data, unit, time)
    terms = [t for t in fe.coef.index if t in re.coef.index and t != "Intercept"]
    if not terms:
        raise SpecificationError("no time-varying regressor is estimated by both models: nothing to test")
    diff = (fe.coef[terms] - re.coef[terms]).to_numpy()
    vdiff = (fe.vcov.loc[terms, terms] - re.vcov.loc[terms, terms]).to_numpy()
    stat = float(diff @ np.linalg.pinv(vdiff) @ diff)
    df = int(np.linalg.matrix_rank(vdiff))
    return HausmanTest(stat, df, float(stats.chi2.sf(stat, df)), tuple(terms), fe, re)
