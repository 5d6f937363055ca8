"""The result shared by :func:`econ.did.att_gt` and its aggregations: estimates plus per-unit influence functions.

R ``did``'s design: every estimate carries its influence function over the n units (``estimate - truth ~
mean(psi)``), so standard errors, covariances, the multiplier bootstrap and every aggregation are cheap views of
one matrix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from econ.did import _mboot
from econ import _validate
from econ.errors import SpecificationError
from econ.results import Result, figure, finish_figure


def _check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < float(level) < 1:
        raise SpecificationError(f"level must be a number in (0, 1), got {level!r}")
    return float(level)


def influence_basis(d, psi) -> np.ndarray:
    """The basis every estimate's influence function lies in (n x (cells + cohorts + 1)): the cells' psi (NaN
    cells as 0), the weighted cohort indicators (the estimated aggregation weights' influence functions) and a
    constant."""
    w = d.w / d.w.mean()  # R did normalises the weights to mean one
    return np.hstack([np.nan_to_num(psi, nan=0.0), w[:, None] * (d.g[:, None] == d.cohorts[None, :]),
                      np.ones((d.n, 1))])


def _bootstrap_basis(d, psi, n_draws, multiplier, seed, form="mean"):
    """Bootstrap draws (n_draws x basis columns) of :func:`influence_basis` (``form``: the clustered convention of
    :func:`econ.did._mboot.cluster_sums`); a Conley kernel refuses (analytic only)."""
    if hasattr(d.cluster, "refuse_bootstrap"):
        d.cluster.refuse_bootstrap("att_gt", n_draws)
    sums = _mboot.cluster_sums(influence_basis(d, psi), d.cluster, form)
    return _mboot.draws(sums, d.n, n_draws, multiplier, _validate.rng(seed))


def analytic_vcov(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """``S'S / n^2`` with ``S`` the (cluster-summed) influence functions; NaN rows/columns for NaN estimates.
    ``cluster`` may also be a :class:`econ.did._conley.UnitKernel`: then ``sum_ij K_ij psi_i psi_j' / n^2``."""
    n = psi.shape[0]
    bad = ~np.isfinite(psi).all(axis=0)
    if hasattr(cluster, "meat"):
        v = cluster.meat(np.where(bad, 0.0, psi)) / n**2
    else:
        s = _mboot.cluster_sums(np.where(bad, 0.0, psi), cluster)
        v = s.T @ s / n**2
    v[bad, :] = np.nan
    v[:, bad] = np.nan
    return v


def standard_errors(v: np.ndarray, boot: np.ndarray | None) -> np.ndarray:
    """Analytic (``boot is None``) or bootstrap interquartile-range standard errors; values at or below
    ``sqrt(eps) * 10`` (e.g. a normalised reference cell) become NaN, as in R ``did``."""
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.diag(v)) if boot is None else _mboot.iqr_se(boot)
    se = np.where(np.isnan(np.diag(v)), np.nan, se)
    se[se <= _mboot.TINY] = np.nan
    return se


class InfluenceResult(Result):
    """Estimates with their influence functions; a :class:`econ.results.Result` with normal inference.

    ``inf_func`` is the n x m matrix of per-unit influence functions (rows in ``units`` order). With a bootstrap
    (``boot``: draws x m deviations) ``std_error`` is the bootstrap's interquartile-range standard error and
    ``vcov`` the analytic correlation matrix rescaled to those standard errors (R ``did``'s convention); the
    uniform band ``band_low/band_high`` uses the sup-t critical value of the same draws.
    """

    _keys: tuple = ()

    def __init__(self, coef: pd.Series, keys: pd.DataFrame, inf_func: np.ndarray, *, units, cluster, boot, level,
                 notes, model, depvar, n_clusters, extra=None):
        v = analytic_vcov(inf_func, cluster)
        se = standard_errors(v, boot)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(np.diag(v))
            corr = v / np.outer(sd, sd)
        np.fill_diagonal(corr, 1.0)
        vcov = corr * np.outer(se, se)
        vcov[np.isnan(se), :] = np.nan
        vcov[:, np.isnan(se)] = np.nan
        fixed = ~np.isfinite(se) & np.isfinite(coef.to_numpy()) & np.isfinite(np.diag(v))
        vcov[fixed, :] = 0.0  # a normalised (reference) estimate: exactly known
        vcov[:, fixed] = 0.0
        vcov[fixed, fixed] = np.nan
        label = "multiplier bootstrap" if boot is not None else "influence function"
        if hasattr(cluster, "meat"):  # a kernel (Conley) or a survey design: its label says it all, no clusters
            label += f", {cluster.label}"
            n_clusters = None
        super().__init__(coef, vcov, nobs=inf_func.shape[0], df_resid=np.inf, df_t=np.inf, notes=notes,
                         model=model, depvar=depvar, vcov_type=label, cluster=cluster_label(n_clusters),
                         n_clusters=n_clusters[1] if n_clusters else None, extra=extra, n_units=inf_func.shape[0])
        self.keys = keys.reset_index(drop=True)
        self.inf_func = inf_func
        self.units = units
        self.boot = boot
        self.level = float(level)

    def critical_value(self, level: float | None = None) -> float:
        """The uniform (sup-t) critical value from the bootstrap draws (pointwise normal one without draws)."""
        level = self.level if level is None else level
        if self.boot is None:
            return float(stats.norm.ppf(1 - (1 - level) / 2))
        return _mboot.sup_t(self.boot, self.se.to_numpy(), level)

    def tidy(self, level: float | None = None) -> pd.DataFrame:
        """One row per estimate: the key columns, then term, estimate, std_error, statistic, p_value,
        conf_low, conf_high (pointwise, normal) and, when bootstrapped, band_low, band_high (uniform sup-t)."""
        level = self.level if level is None else level
        out = pd.concat([self.keys, super().tidy(level)], axis=1)
        if self.boot is not None:
            c = self.critical_value(level)
            se = out["std_error"].to_numpy()
            out["band_low"] = out["estimate"] - c * se
            out["band_high"] = out["estimate"] + c * se
        return out

    def summary(self, level: float | None = None, digits: int = 4) -> str:
        level = self.level if level is None else level
        text = super().summary(level, digits)
        if self.boot is not None:
            text += f"\nUniform (sup-t) {100 * level:g}% critical value: {self.critical_value(level):.3f}"
        return text

    def _plot_xy(self, tid: pd.DataFrame, x: str, ax, title: str, path, vline=None):
        lo, hi = ("band_low", "band_high") if "band_low" in tid else ("conf_low", "conf_high")
        fig, ax = figure(ax, (7, 4))
        ok = tid["estimate"].notna()
        t = tid[ok]
        ax.errorbar(t[x], t["estimate"], yerr=[t["estimate"] - t[lo].fillna(t["estimate"]),
                                                t[hi].fillna(t["estimate"]) - t["estimate"]],
                    fmt="o", capsize=3, label="uniform band" if lo == "band_low" else "pointwise CI")
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        if vline is not None:
            ax.axvline(vline, color="grey", lw=0.8, ls=":")
        ax.set_xlabel(x.replace("_", " "))
        if x in ("cohort", "overall"):  # categories: one tick per estimate
            ax.set_xticks(t[x].to_numpy(), [str(v) for v in t[x]] if x == "cohort" else ["overall"])
        ax.set_ylabel("ATT")
        ax.set_title(title)
        ax.legend(frameon=False)
        return finish_figure(fig, ax, path)


def cluster_label(n_clusters) -> str | None:
    return n_clusters[0] if n_clusters else None
