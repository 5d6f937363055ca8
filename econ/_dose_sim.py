"""A simulated staggered design with a continuous (or discrete) dose and a known dose-response, re-exported by
:mod:`econ.simulate` as :func:`draw_dose_panel`.

Model: ``y_it = a_i + 0.1 t + 1{t >= g_i, g_i > 0} tau(D_i) + e_it`` with ``tau(d) = slope d + curvature d^2``,
unit effects ``a_i`` correlated with cohort and dose (levels differ, trends are parallel), ``e_it ~ N(0, sigma^2)``.
Doses are uniform on ``[low, high]`` or, with ``levels``, drawn from those values with equal probability.
With ``x_trend != 0`` a covariate ``x ~ N(0, 1)`` (column ``x``) adds the trend ``x_trend * x * t`` and moves
units out of the never-treated group (``P(never | x) = expit(logit(p_never) - x)``): parallel trends hold only
conditional on ``x``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from econ import _validate
from econ.errors import SpecificationError


@dataclass
class DoseSimulation:
    """A simulated dose panel and its truth.

    Attributes
    ----------
    data : DataFrame
        ``unit, time, cohort, dose, y`` (cohort 0 and dose 0 for never-treated units).
    slope, curvature, low, high : float
    levels : ndarray or None
        Dose levels of a discrete design.

    Examples
    --------
    >>> from econ.simulate import draw_dose_panel
    >>> sim = draw_dose_panel(n_units=50, seed=3)
    >>> float(sim.att(1.0)) == sim.slope + sim.curvature
    True
    """

    data: pd.DataFrame
    slope: float
    curvature: float
    low: float
    high: float
    levels: np.ndarray | None = None

    def att(self, d):
        """True ATT(d) = tau(d)."""
        d = np.asarray(d, float)
        return self.slope * d + self.curvature * d ** 2

    def acrt(self, d):
        """True ACRT(d) = tau'(d) (for a discrete design, the difference quotient between adjacent levels)."""
        d = np.asarray(d, float)
        if self.levels is None:
            return self.slope + 2 * self.curvature * d
        lv = np.r_[0.0, self.levels]
        j = np.searchsorted(lv, d)
        return (self.att(d) - self.att(lv[j - 1])) / (d - lv[j - 1])

    @property
    def att_o(self) -> float:
        """True ATT^o = E[tau(D) | D > 0] under the dose law."""
        if self.levels is not None:
            return float(self.att(self.levels).mean())
        lo, hi = self.low, self.high
        return float(self.slope * (lo + hi) / 2 + self.curvature * (hi ** 3 - lo ** 3) / (3 * (hi - lo)))

    @property
    def acrt_o(self) -> float:
        """True ACRT^o = E[ACRT(D) | D > 0]."""
        if self.levels is not None:
            return float(self.acrt(self.levels).mean())
        return float(self.slope + self.curvature * (self.low + self.high))


def draw_dose_panel(n_units: int = 500, n_periods: int = 5, cohorts=(3, 4), p_never: float = 0.3,
                    slope: float = 0.5, curvature: float = 0.25, low: float = 0.5, high: float = 2.0, levels=None,
                    sigma: float = 1.0, x_trend: float = 0.0, seed: int = 0) -> DoseSimulation:
    """Draw a balanced staggered panel with a dose fixed within unit and a known dose-response.

    Parameters
    ----------
    n_units, n_periods : int
        Units and periods (``time = 1..n_periods``).
    cohorts : sequence of int
        First treated periods (each between 2 and ``n_periods``), equally likely among treated units.
    p_never : float
        Share of never-treated units.
    slope, curvature : float
        ``tau(d) = slope d + curvature d^2``.
    low, high : float
        Dose range (uniform), ``0 < low < high``.
    levels : sequence of float, optional
        Discrete positive dose levels instead of the uniform law.
    sigma : float
        Noise standard deviation.
    x_trend : float
        Slope of a covariate-specific trend ``x_trend * x_i * t``; when non-zero the panel gets a column ``x``
        (standard normal, fixed within unit) that also raises the chance of being treated, so unconditional
        parallel trends fail and conditional ones hold. The dose among the treated stays independent of ``x``.
    seed : int

    Returns
    -------
    DoseSimulation

    Raises
    ------
    SpecificationError
        Bad parameters.

    Examples
    --------
    >>> from econ.simulate import draw_dose_panel
    >>> sim = draw_dose_panel(n_units=100, n_periods=4, seed=1)
    >>> sim.data.shape
    (400, 5)
    """
    n_units = _validate.check_int(n_units, "n_units", minimum=4)
    n_periods = _validate.check_int(n_periods, "n_periods", minimum=2)
    cohorts = np.asarray(cohorts, int)
    if not len(cohorts) or (cohorts < 2).any() or (cohorts > n_periods).any():
        raise SpecificationError(f"cohorts must lie in 2..{n_periods}, got {cohorts.tolist()}")
    if not 0 <= p_never < 1 or not 0 < low < high:
        raise SpecificationError("need 0 <= p_never < 1 and 0 < low < high")
    rng = _validate.rng(seed)
    if x_trend:
        x = rng.normal(size=n_units)
        p0 = 1.0 / (1.0 + np.exp(-(np.log(p_never / (1 - p_never)) - x))) if p_never > 0 else np.zeros(n_units)
        g = np.where(rng.random(n_units) < p0, 0, rng.choice(cohorts, n_units))
    else:
        g = np.where(rng.random(n_units) < p_never, 0, rng.choice(cohorts, n_units))
    if levels is not None:
        levels = np.sort(np.asarray(levels, float))
        if (levels <= 0).any():
            raise SpecificationError("dose levels must be positive")
        d = levels[rng.integers(0, len(levels), n_units)]
    else:
        d = rng.uniform(low, high, n_units)
    d = np.where(g > 0, d, 0.0)
    a = 0.5 * g + d + rng.normal(size=n_units)
    t = np.arange(1, n_periods + 1)
    tau = slope * d + curvature * d ** 2
    y = a[:, None] + 0.1 * t[None, :] + ((t[None, :] >= g[:, None]) & (g[:, None] > 0)) * tau[:, None] \
        + sigma * rng.normal(size=(n_units, n_periods))
    data = pd.DataFrame({"unit": np.repeat(np.arange(n_units), n_periods), "time": np.tile(t, n_units),
                         "cohort": np.repeat(g, n_periods), "dose": np.repeat(d, n_periods), "y": y.ravel()})
    if x_trend:
        data["y"] += x_trend * np.repeat(x, n_periods) * np.tile(t, n_units)
        data["x"] = np.repeat(x, n_periods)
    return DoseSimulation(data, slope, curvature, low, high, levels)
