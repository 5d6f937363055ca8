"""Power analysis by simulation: the rejection rate over a grid of effect sizes and the minimum detectable effect."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from econ.errors import SpecificationError
from econ.montecarlo.designs import grid
from econ.montecarlo.results import metrics
from econ.montecarlo.runner import run
from econ.results import figure, finish_figure
from econ._tidy import SummaryRepr, standard_columns

__all__ = ["power", "PowerResult"]


def power(design, estimator, effect_sizes, n_reps: int, *, effect_param: str = "effect", alpha: float = 0.05,
          target: float = 0.8, seed: int = 0, backend: str = "local", client=None, n_workers=None,
          checkpoint=None, progress: bool = True, **params) -> PowerResult:
    """Simulated power of ``estimator``'s test of zero over ``effect_sizes``, and the minimum detectable effect.

    Parameters
    ----------
    design : callable
        A draw function such as :func:`econ.montecarlo.staggered`, taking ``effect_param`` and ``seed``.
    estimator : callable or Estimator
        Must return a p-value (or an interval); the test rejects when ``p <= alpha``.
    effect_sizes : sequence of float
        Values of ``effect_param``; include 0 to see the size of the test.
    n_reps : int
        Replications per design and effect size.
    **params
        Other arguments of ``design``; a list varies over its values (e.g. ``n_units=[60, 120, 240]``), so the
        power curve and the minimum detectable effect are reported for every design.
    effect_param, alpha, target, seed, backend, client, n_workers, checkpoint, progress
        As in :func:`econ.montecarlo.run`; ``target`` is the power that defines the minimum detectable effect.

    Returns
    -------
    PowerResult
        ``tidy()``: power (rejection rate) with its Monte Carlo s.e. per design and effect size; ``mde()``: the
        smallest effect whose power reaches ``target`` (linear interpolation between grid points; NaN when no
        effect in the grid reaches it); ``plot()``.

    Raises
    ------
    SpecificationError
        Empty or non-list ``effect_sizes``; ``effect_param`` also given in ``params``; ``target`` outside (0, 1);
        a design parameter ``design`` does not take; and every error of :func:`econ.montecarlo.run` (bad
        ``n_reps``, ``seed``, ``backend``, ``checkpoint``...).

    Notes
    -----
    Every combination of the listed ``params`` and of ``effect_sizes`` is a design (:func:`grid`), run for
    ``n_reps`` replications with the same root ``seed``. A replication rejects when the estimator's p-value is
    ``<= alpha`` or, if it reports no p-value, when its interval excludes zero; failed replications (NaN
    estimate) are left out. Power is the rejection rate ``p_hat`` over the ``R`` replications with a decision,
    with Monte Carlo standard error ``sqrt(p_hat (1 - p_hat) / R)`` (Morris, White & Crowther 2019). At effect 0
    the rejection rate is the size of the test.

    The minimum detectable effect of a design sorts its grid by ``|effect|`` and takes the first point whose power
    reaches ``target``, interpolating linearly between it and the previous grid point (the first point itself if
    it already reaches ``target``); it is NaN when no point does. It is a grid statement: its precision depends
    on the spacing of ``effect_sizes`` and on the Monte Carlo error of each point.

    References
    ----------
    Morris, T. P., White, I. R. and Crowther, M. J. (2019). Using simulation studies to evaluate statistical
    methods. *Statistics in Medicine* 38(11), 2074-2102.

    Examples
    --------
    >>> from econ import montecarlo as mc
    >>> pw = mc.power(mc.staggered, mc.estimators.twfe(), [0.0, 0.1], n_reps=5, n_units=30, n_years=8,
    ...               progress=False)
    >>> pw.tidy()[["effect", "power"]].shape
    (2, 2)
    """
    effects = [float(e) for e in effect_sizes] if isinstance(effect_sizes, (list, tuple, np.ndarray)) else None
    if not effects:
        raise SpecificationError("effect_sizes must be a non-empty list of numbers")
    if effect_param in params:
        raise SpecificationError(f"{effect_param!r} is set by effect_sizes; do not pass it as a design parameter")
    if not 0 < target < 1:
        raise SpecificationError(f"target power must be in (0, 1), got {target!r}")
    designs = grid(design, **params, **{effect_param: effects})
    res = run(designs, {"test": estimator}, n_reps, seed=seed, backend=backend, client=client, n_workers=n_workers,
              checkpoint=checkpoint, progress=progress, alpha=alpha)
    m = metrics(res.table, alpha)
    keys = [k for k, v in params.items() if isinstance(v, (list, tuple))]
    curve = pd.DataFrame([dict(d.params) for d in designs])[[*keys, effect_param]]
    curve = curve.rename(columns={effect_param: "effect"})
    curve["power"] = m["rejection_rate"].to_numpy()
    curve["mc_se"] = m["rejection_rate_mcse"].to_numpy()
    curve["n_reps"] = m["n_reps"].to_numpy()
    curve["mean_estimate"] = m["mean_estimate"].to_numpy()
    curve["truth"] = m["truth"].to_numpy()
    return PowerResult(curve, keys=keys, target=target, alpha=alpha, n_reps=n_reps, seed=seed, study=res)


class PowerResult(SummaryRepr):
    """Power curves from :func:`power`: ``tidy()``, ``mde()``, ``summary()``, ``plot()``; ``study`` holds the
    underlying :class:`~econ.montecarlo.results.MonteCarloResult`.

    ``tidy()`` has one row per design and effect size: the varying design parameters, ``effect``, ``power``
    (rejection rate), ``mc_se`` (its Monte Carlo s.e.), ``n_reps``, ``mean_estimate`` and ``truth``.

    Examples
    --------
    >>> from econ import montecarlo as mc
    >>> pw = mc.power(mc.staggered, mc.estimators.twfe(), [0.0, 0.03, 0.06], n_reps=10, n_units=40, n_years=8,
    ...               n_workers=1, progress=False)
    >>> pw.tidy()["power"].tolist()
    [0.0, 0.4, 1.0]
    >>> round(float(pw.mde()["mde"].iloc[0]), 3)
    0.05
    """

    nobs = None  #: no estimation sample: a summary of many simulated ones
    n_units = None

    def __init__(self, curve: pd.DataFrame, *, keys, target, alpha, n_reps, seed, study):
        self.curve, self.keys, self.target, self.alpha = curve, list(keys), target, alpha
        self.n_reps, self.seed, self.study = n_reps, seed, study

    def tidy(self) -> pd.DataFrame:
        """The power curve (a copy): one row per design and effect size, with the varying design parameters,
        ``effect``, ``power`` (rejection rate of zero at ``alpha``), ``mc_se`` (its Monte Carlo s.e.),
        ``n_reps``, ``mean_estimate`` and ``truth``; first the standard columns: ``term`` (``"effect = <x>"``),
        ``estimate`` (the power), ``std_error`` (its Monte Carlo s.e.), the rest NaN."""
        c = self.curve
        return standard_columns(c, term=[f"effect = {x:g}" for x in c["effect"]], estimate=c["power"].to_numpy(),
                                std_error="mc_se")

    def mde(self) -> pd.DataFrame:
        """Minimum detectable effect per design: the smallest absolute effect whose power reaches ``target``
        (linear interpolation between grid points; NaN when none does)."""
        groups = self.curve.groupby(self.keys, sort=False) if self.keys else [((), self.curve)]
        rows = []
        for key, g in groups:
            key = key if isinstance(key, tuple) else (key,)
            rows.append({**dict(zip(self.keys, key)), "mde": _crossing(g, self.target),
                         "max_power": float(g["power"].max())})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A header (``alpha``, replications per point, seed, target power), the :meth:`tidy` power curve and the
        :meth:`mde` table (minimum detectable effect and maximum power per design)."""
        lines = [f"Simulated power at alpha = {self.alpha:g} ({self.n_reps} replications per point, seed "
                 f"{self.seed}); minimum detectable effect at power {self.target:g}",
                 self.curve.to_string(index=False, float_format=lambda x: f"{x:.4f}"), "",
                 self.mde().to_string(index=False, float_format=lambda x: f"{x:.4f}")]
        return "\n".join(lines)

    def plot(self, ax=None, path=None):
        """Power against effect size, one line per design, with +/- 2 Monte Carlo s.e.; returns ``(fig, ax)``."""
        fig, ax = figure(ax, (5.5, 3.6))
        groups = self.curve.groupby(self.keys, sort=False) if self.keys else [((), self.curve)]
        for key, g in groups:
            key = key if isinstance(key, tuple) else (key,)
            g = g.sort_values("effect")
            label = ", ".join(f"{k}={v}" for k, v in zip(self.keys, key)) or None
            ax.errorbar(g["effect"], g["power"], yerr=2 * g["mc_se"], marker="o", capsize=3, label=label)
        ax.axhline(self.target, color="grey", lw=0.8, ls="--")
        ax.axhline(self.alpha, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("effect size")
        ax.set_ylabel("power (rejection rate)")
        ax.set_ylim(0, 1.02)
        if self.keys:
            ax.legend(frameon=False, fontsize=8)
        return finish_figure(fig, ax, path)


def _crossing(g: pd.DataFrame, target: float) -> float:
    """Smallest |effect| with power >= target, interpolated linearly from the previous grid point."""
    g = g.assign(size=g["effect"].abs()).sort_values("size")
    size, pw = g["size"].to_numpy(), g["power"].to_numpy()
    hit = np.flatnonzero(pw >= target)
    if not len(hit):
        return math.nan
    k = hit[0]
    if k == 0 or pw[k] == pw[k - 1]:
        return float(size[k])
    return float(size[k - 1] + (target - pw[k - 1]) * (size[k] - size[k - 1]) / (pw[k] - pw[k - 1]))
