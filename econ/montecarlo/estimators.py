"""Estimators for Monte Carlo studies: a callable on one panel and the true value it targets.

An estimator is any callable ``f(data)`` or ``f(data, seed)`` returning a float (the estimate) or a mapping with
some of ``estimate, se, ci_low, ci_high, pvalue``; one that also takes ``level`` is given the study's interval
level (``econ.montecarlo.run(level=...)``). Wrap it in :class:`Estimator` to say which entry of the design's truth
it estimates (default ``"att_overall"``). The ready-made wrappers below cover the package's DiD estimators, with
the outcome and column names of :func:`econ.montecarlo.staggered` as defaults; they build their intervals at the
study's level unless given their own ``level``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from econ.errors import SpecificationError

__all__ = ["Estimator", "twfe", "event_study", "placebo", "att_gt", "imputation", "as_estimator", "FIELDS"]

FIELDS = ("estimate", "se", "ci_low", "ci_high", "pvalue")


@dataclass(frozen=True)
class Estimator:
    """An estimator callable and its target in the design's truth.

    Parameters
    ----------
    fn : callable
        ``fn(data)`` or ``fn(data, seed)``; returns a float or a mapping with keys among :data:`FIELDS`.
    target : str or callable
        Key of the truth dict (``"att_overall"``), ``"event_time:e"`` for ``truth["att_by_event_time"][e]``,
        or a callable ``truth -> float``.
    level : float, optional
        The level of the intervals ``fn`` builds when it takes ``level``; ``None`` (default): the study's level
        (:func:`econ.montecarlo.run` refuses a study whose ``level`` differs from a level fixed here).

    Examples
    --------
    >>> from econ.montecarlo import Estimator
    >>> mean_y = Estimator(lambda data: data["log_income_ratio"].mean(), target=lambda truth: float("nan"))
    """

    fn: Callable
    target: str | Callable = "att_overall"
    level: float | None = None

    def __post_init__(self):
        if not callable(self.fn):
            raise SpecificationError(f"an estimator must be callable, got {self.fn!r}")
        if self.level is not None and (isinstance(self.level, bool) or not isinstance(self.level, (int, float))
                                       or not 0 < self.level < 1):
            raise SpecificationError(f"level must be in (0, 1), got {self.level!r}")

    @property
    def takes_level(self) -> bool:
        """Whether ``fn`` builds its intervals at a level it is given (else they are its own)."""
        return _takes(self.fn, "level")

    def __call__(self, data, seed: int, level: float = 0.95):
        """The raw output of ``fn`` on one panel (turned into a row by :func:`as_row`); ``fn`` gets ``seed`` and
        ``level`` (this estimator's own level if set, else ``level``) when it takes them."""
        kwargs = {"seed": seed} if _takes(self.fn, "seed") else {}
        if self.takes_level:
            kwargs["level"] = self.level if self.level is not None else level
        return self.fn(data, **kwargs)

    def truth(self, truth: Mapping) -> float:
        """The value this estimator targets in ``truth`` (NaN when the design has no such entry)."""
        if callable(self.target):
            return float(self.target(truth))
        if not truth:
            return math.nan
        if self.target.startswith("event_time:"):
            e = int(self.target.split(":", 1)[1])
            by_e = truth.get("att_by_event_time", {})
            value = by_e.get(e, by_e.get(str(e)))
            return math.nan if value is None else float(value)
        value = truth.get(self.target)
        return math.nan if value is None else float(value)


def as_estimator(obj) -> Estimator:
    """``obj`` as an :class:`Estimator` (a bare callable targets ``truth["att_overall"]``)."""
    return obj if isinstance(obj, Estimator) else Estimator(obj)


def as_row(out) -> dict:
    """An estimator's output as ``{field: float}`` over :data:`FIELDS` (missing fields are NaN)."""
    if isinstance(out, Mapping):
        unknown = [k for k in out if k not in FIELDS]
        if unknown:
            raise SpecificationError(f"an estimator returned unknown field(s) {unknown}; use {list(FIELDS)}")
        return {k: _float(out.get(k, math.nan), k) for k in FIELDS}
    return {"estimate": _float(out, "estimate"), **{k: math.nan for k in FIELDS[1:]}}


def _float(value, name) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise SpecificationError(f"an estimator returned a non-numeric {name}: {value!r}") from None


def _takes(fn, name: str) -> bool:
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _from_result(res, term: str, level: float) -> dict:
    ci = res.confint(level).loc[term]
    return {"estimate": float(res.coef[term]), "se": float(res.se[term]), "ci_low": float(ci.iloc[0]),
            "ci_high": float(ci.iloc[1]), "pvalue": float(res.pvalue[term])}


def twfe(y: str = "log_income_ratio", unit: str = "unit", time: str = "year", treat: str = "treated", *,
         vcov=None, level: float | None = None) -> Estimator:
    """:func:`econ.did.twfe` (clustered by unit unless ``vcov``); targets ``att_overall``. Intervals at the
    study's level unless ``level`` is given."""
    def fn(data, level):
        from econ import did

        return _from_result(did.twfe(data, y, unit, time, treat=treat, vcov=vcov), treat, level)

    return Estimator(fn, "att_overall", level)


def event_study(y: str = "log_income_ratio", unit: str = "unit", time: str = "year", cohort: str = "cohort", *,
                event_time: int = 0, level: float | None = None, **options) -> Estimator:
    """One event-time coefficient of :func:`econ.did.event_study`; targets ``att_by_event_time[event_time]``.
    Intervals at the study's level unless ``level`` is given."""
    def fn(data, level):
        from econ import did
        from econ.did.classic.event_study import event_term

        return _from_result(did.event_study(data, y, unit, time, cohort, **options), event_term(event_time), level)

    return Estimator(fn, f"event_time:{int(event_time)}", level)


def placebo(y: str = "log_income_ratio", unit: str = "unit", time: str = "year", cohort: str = "cohort", *,
            n_draws: int = 199, kind: str = "permute_units") -> Estimator:
    """The TWFE estimate with its randomization-inference p-value (:func:`econ.did.placebo`); targets
    ``att_overall``. The placebo draws use the replication's estimator seed."""
    def fn(data, seed):
        from econ import did

        pl = did.placebo(data, y, unit, time, cohort=cohort, kind=kind, n_draws=n_draws, seed=seed, progress=False)
        return {"estimate": pl.estimate, "pvalue": pl.pvalue}

    return Estimator(fn, "att_overall")


def att_gt(y: str = "log_income_ratio", unit: str = "unit", time: str = "year", cohort: str = "cohort", *,
           level: float | None = None, **options) -> Estimator:
    """Callaway-Sant'Anna's simple aggregation (``econ.did.att_gt(...).aggregate("simple")``), analytic s.e.;
    targets ``att_overall`` (the mean effect over treated unit-years, which the simple aggregation estimates).
    Normal intervals at the study's level unless ``level`` is given."""
    def fn(data, level):
        from econ import did

        agg = did.att_gt(data, y, unit, time, cohort, **options).aggregate("simple")
        return _normal_row(float(agg.overall_att), float(agg.overall_se), level)

    return Estimator(fn, "att_overall", level)


def imputation(y: str = "log_income_ratio", unit: str = "unit", time: str = "year", cohort: str = "cohort", *,
               level: float | None = None, **options) -> Estimator:
    """Borusyak-Jaravel-Spiess overall ATT (:func:`econ.did.imputation`) with its conservative s.e.; targets
    ``att_overall`` (the mean effect over treated unit-years, which the imputation estimator averages). Normal
    intervals at the study's level unless ``level`` is given."""
    def fn(data, level):
        from econ import did

        res = did.imputation(data, y, unit, time, cohort, **options)
        return _normal_row(float(res.overall_att), float(res.overall_se), level)

    return Estimator(fn, "att_overall", level)


def _normal_row(est: float, se: float, level: float) -> dict:
    """Estimate, s.e., normal interval and two-sided p-value (asymptotic estimators)."""
    from scipy import stats

    q = stats.norm.ppf(1 - (1 - level) / 2)
    p = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else math.nan
    return {"estimate": est, "se": se, "ci_low": est - q * se, "ci_high": est + q * se, "pvalue": p}


def rejection(row: Mapping, alpha: float) -> float:
    """1.0 when the replication rejects zero at ``alpha`` (by its p-value, else its interval), 0.0 if not."""
    p = row.get("pvalue", math.nan)
    if np.isfinite(p):
        return float(p <= alpha)
    lo, hi = row.get("ci_low", math.nan), row.get("ci_high", math.nan)
    if np.isfinite(lo) and np.isfinite(hi):
        return float(lo > 0 or hi < 0)
    return math.nan
