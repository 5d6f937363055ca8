"""The event-time path of any event-study result in the package, as one small protocol.

:func:`event_path` turns an :class:`~econ.did.EventStudyResult` (dynamic TWFE), a Callaway-Sant'Anna dynamic
aggregation (``att_gt(...).aggregate("dynamic")``), a :class:`~econ.did.SunAbrahamResult` or an
:class:`~econ.did.ImputationResult` into ``(event_times, estimates, vcov)`` with the reference period(s) left out,
so :func:`econ.did.honest` and :func:`econ.did.compare` treat them alike. :func:`plot_path` draws one path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from econ.errors import SpecificationError
from econ.results import Result, figure, finish_figure, overlay_truth

__all__ = ["event_path", "plot_path", "EventPathResult"]


class EventPathResult(Result):
    """A :class:`~econ.results.Result` whose coefficients are an event-time path (``event_times``, one per term),
    with an overall ATT; the base of the Sun-Abraham and imputation results."""

    def __init__(self, coef, vcov, *, event_times, overall, ref=frozenset(), **kwargs):
        super().__init__(coef, vcov, **kwargs)
        self.event_times = list(event_times)
        self.ref = frozenset(ref)
        self.overall_att, self.overall_se = overall

    def tidy(self, level: float = 0.95) -> pd.DataFrame:
        out = super().tidy(level)
        out.insert(1, "event_time", self.event_times)
        return out

    path_label = "estimate"  # legend label of the path, completed by ", 95% CI"

    def event_path(self):
        """``(event_times, estimates, vcov)`` as numpy arrays in the order of the coefficients (sorted by event
        time; references excluded), the input of :func:`econ.did.honest` and the comparison plots."""
        return np.asarray(self.event_times), self.coef.to_numpy(), self.vcov.to_numpy()

    def plot(self, ax=None, path=None, *, level: float = 0.95, truth=None):
        """Event-time effects with pointwise intervals (t with ``df_t`` degrees of freedom); returns (fig, ax).

        ``truth`` (a simulated design, true effects by event time, or a number) is drawn over the estimates
        (:func:`econ.results.overlay_truth`).
        """
        fig, ax = figure(ax, (6.4, 4.0))
        table = path_table(*self.event_path(), level=level, df=self.df_t)
        plot_path(ax, table, label=f"{self.path_label}, {level:.0%} CI")
        if truth is not None:
            overlay_truth(ax, table["event_time"].to_numpy(), truth)
        reference_lines(ax)
        ax.set_xlabel("Periods relative to treatment")
        ax.set_ylabel(f"Effect on {self.depvar}")
        ax.legend(frameon=False, fontsize="small")
        return finish_figure(fig, ax, path)


def event_path(result) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(event_times, estimates, vcov)`` of an event-study result, sorted by event time, references excluded.

    The covariance is the result's full covariance of the event-time estimates (for Callaway-Sant'Anna, built from
    the per-unit influence functions kept on the aggregation).
    """
    if hasattr(result, "event_path"):  # SunAbrahamResult, ImputationResult
        return result.event_path()
    if hasattr(result, "event_terms") and hasattr(result, "vcov"):  # EventStudyResult
        e = np.asarray(result.event_times, dtype=int)
        order = np.argsort(e)
        terms = [result.event_terms[i] for i in order]
        return e[order], result.coef[terms].to_numpy(), result.vcov.loc[terms, terms].to_numpy()
    if hasattr(result, "tidy") and hasattr(result, "overall_att"):  # CS aggregation (duck-typed)
        return _cs_path(result)
    raise SpecificationError(
        f"cannot read an event-time path from a {type(result).__name__}; pass an event study (econ.did.event_study, "
        "sun_abraham, imputation, or att_gt(...).aggregate('dynamic'))")


def _cs_path(agg):
    tid = agg.tidy()
    if "event_time" not in tid.columns:
        raise SpecificationError("the Callaway-Sant'Anna aggregation must be by event time: use aggregate('dynamic')")
    e = tid["event_time"].to_numpy(dtype=int)
    b = tid["estimate"].to_numpy(dtype=float)
    se = tid["std_error"].to_numpy(dtype=float)
    vcov = _cs_vcov(agg, len(e))
    if vcov is None:
        vcov = np.diag(se**2)
    keep = np.isfinite(b) & np.isfinite(se) & (se > 0)  # drops a normalised reference period
    order = np.argsort(e[keep])
    v = vcov[np.ix_(keep, keep)]
    return e[keep][order], b[keep][order], v[np.ix_(order, order)]


def _cs_vcov(agg, k: int):
    """The aggregation's covariance of the event-time estimates, or one from its per-unit influence functions."""
    from econ.results import Result

    if isinstance(agg, Result) and len(agg.coef) == k:
        return agg.vcov.to_numpy()
    for name in ("inf_func", "influence", "influence_functions"):
        psi = getattr(agg, name, None)
        if psi is not None and not callable(psi):
            psi = np.asarray(psi, dtype=float)
            if psi.ndim == 2 and psi.shape[1] == k:
                return psi.T @ psi / psi.shape[0] ** 2
    return None


def path_table(e, b, v, level: float = 0.95, df=np.inf) -> pd.DataFrame:
    """event_time, estimate, std_error, conf_low, conf_high (t with ``df`` degrees of freedom, normal if inf)."""
    se = np.sqrt(np.clip(np.diag(v), 0, None))
    q = (stats.norm if not np.isfinite(df) else stats.t(df)).ppf(0.5 + level / 2)
    return pd.DataFrame({"event_time": np.asarray(e, dtype=int), "estimate": b, "std_error": se,
                         "conf_low": b - q * se, "conf_high": b + q * se})


def plot_path(ax, table: pd.DataFrame, *, label=None, color="C0", dodge=0.0, marker="o"):
    """Estimates with interval bars by event time on ``ax`` (columns as :func:`path_table`)."""
    x = table["event_time"].to_numpy(dtype=float) + dodge
    est = table["estimate"].to_numpy()
    yerr = np.vstack([est - table["conf_low"].to_numpy(), table["conf_high"].to_numpy() - est])
    ax.errorbar(x, est, yerr=yerr, fmt=marker, color=color, ms=4, capsize=2, lw=1, label=label)
    return ax


def reference_lines(ax, onset: float = -0.5) -> None:
    ax.axhline(0, color="0.5", lw=0.8)
    ax.axvline(onset, color="0.5", lw=0.8, ls=":")
