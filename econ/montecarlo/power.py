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


class PowerResult:
    """Power curves from :func:`power`: ``tidy()``, ``mde()``, ``summary()``, ``plot()``; ``study`` holds the
    underlying :class:`~econ.montecarlo.results.MonteCarloResult`."""

    def __init__(self, curve: pd.DataFrame, *, keys, target, alpha, n_reps, seed, study):
        self.curve, self.keys, self.target, self.alpha = curve, list(keys), target, alpha
        self.n_reps, self.seed, self.study = n_reps, seed, study

    def tidy(self) -> pd.DataFrame:
        return self.curve.copy()

    def mde(self) -> pd.DataFrame:
        """Minimum detectable effect per design: the smallest |effect| whose power reaches ``target``."""
        groups = self.curve.groupby(self.keys, sort=False) if self.keys else [((), self.curve)]
        rows = []
        for key, g in groups:
            key = key if isinstance(key, tuple) else (key,)
            rows.append({**dict(zip(self.keys, key)), "mde": _crossing(g, self.target),
                         "max_power": float(g["power"].max())})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        lines = [f"Simulated power at alpha = {self.alpha:g} ({self.n_reps} replications per point, seed "
                 f"{self.seed}); minimum detectable effect at power {self.target:g}",
                 self.curve.to_string(index=False, float_format=lambda x: f"{x:.4f}"), "",
                 self.mde().to_string(index=False, float_format=lambda x: f"{x:.4f}")]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

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
