"""A simulated panel whose treatment switches on and later off again, with its known effect path, re-exported by
:mod:`econ.simulate` as :func:`draw_switching_panel` (the design of :func:`econ.did.did_multiplegt`'s tests).

Model: group ``g`` is untreated until a start period drawn uniformly from ``2..n_periods + 2`` (beyond the last
period: never switches), then treated at a level drawn from ``levels`` for a duration drawn uniformly from
``durations``, then untreated again. ``y_gt = a_g + 0.2 t + effect * D_gt + e_gt``, ``a_g ~ N(0, 1)``,
``e_gt ~ N(0, 0.25)``: the effect is contemporaneous, so ``l`` periods after the first switch a switcher's effect is
``effect * |level|`` while it is still treated and 0 once it has switched back.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ import _validate
from econ.errors import SpecificationError

__all__ = ["SwitchingSimulation", "draw_switching_panel"]


class SwitchingSimulation(pd.DataFrame):
    """A simulated switching-treatment panel (a DataFrame: ``unit, time, d, y``) that knows its truth.

    It is the panel itself, so it goes straight into :func:`econ.did.did_multiplegt` and pandas; frames derived
    from it (``.copy()``, ``.assign(...)``, selections) are plain DataFrames without the truth.

    Attributes
    ----------
    data : DataFrame
        The panel as a plain DataFrame.
    effect : float
        Effect of one unit of treatment (contemporaneous).
    levels : ndarray
        Treatment levels switched to (equally likely).
    durations : ndarray
        Periods a switcher stays treated (equally likely).

    Examples
    --------
    >>> from econ.simulate import draw_switching_panel
    >>> sim = draw_switching_panel(n_units=50, seed=1)
    >>> sim.true_effects([-1, 1, 2, 3, 5]).round(4).tolist()
    [0.0, 1.0, 1.0, 0.6667, 0.0]
    """

    _metadata = ["effect", "levels", "durations"]

    @property
    def _constructor(self):
        return pd.DataFrame

    @property
    def data(self) -> pd.DataFrame:
        """The panel as a plain DataFrame (a copy)."""
        return pd.DataFrame(self, copy=True)

    def still_treated(self, lags) -> np.ndarray:
        """Probability that a switcher is still treated ``lag`` periods after its first switch (lag 1 = the switch)."""
        lags = np.asarray(lags, float)
        return (self.durations[None, :] >= lags[:, None]).mean(axis=1)

    def true_effects(self, event_times=(1,), normalized: bool = False) -> pd.Series:
        """The estimands of :func:`econ.did.did_multiplegt` in this design, by periods since the first switch.

        Parameters
        ----------
        event_times : sequence of int
            ``l >= 1``: effects; ``l <= -1``: placebos (0: no anticipation, parallel trends).
        normalized : bool
            The normalized effects (per unit of accumulated treatment change): ``p_l / sum_{k<=l} p_k`` times
            ``effect``, with ``p_l`` the probability of being treated ``l`` periods after the switch.

        Returns
        -------
        Series
            Indexed by event time, named ``"truth"``: ``effect * mean(|levels|) * p_l`` (or the normalized value);
            switch times, levels and durations are drawn independently, so the switchers an estimate uses at each
            lag have these expectations.
        """
        e = np.asarray(list(event_times), int)
        out = np.zeros(len(e))
        pos = e > 0
        if pos.any():
            p = self.still_treated(e[pos])
            if normalized:
                cum = np.array([self.still_treated(np.arange(1, k + 1)).sum() for k in e[pos]])
                out[pos] = self.effect * p / cum
            else:
                out[pos] = self.effect * np.abs(self.levels).mean() * p
        return pd.Series(out, index=pd.Index(e, name="event_time"), name="truth")


def draw_switching_panel(n_units: int = 200, n_periods: int = 6, effect: float = 1.0, levels=(1.0,),
                         seed: int = 0) -> SwitchingSimulation:
    """Draw a panel whose treatment switches on (to a level in ``levels``) and later off again.

    Each group starts untreated; with probability about ``(n_periods - 1) / (n_periods + 2)`` it switches on at a
    random period, to a level drawn from ``levels``, for 2 to 4 periods, then back to 0. The effect is
    contemporaneous: ``y_gt = a_g + 0.2 t + effect * D_gt + e_gt``. So the first effect of
    :func:`econ.did.did_multiplegt` is ``effect`` times the mean switched-to level, its normalized first effect is
    ``effect``, and every placebo is 0; :meth:`SwitchingSimulation.true_effects` gives every lag.

    Parameters
    ----------
    n_units, n_periods : int
    effect : float
        Effect of one unit of treatment.
    levels : sequence of float
        Non-zero treatment levels switched to (equally likely).
    seed : int

    Returns
    -------
    SwitchingSimulation
        The panel ``unit, time, d, y`` (a DataFrame) with ``true_effects``.

    Raises
    ------
    SpecificationError
        Bad parameters.

    Examples
    --------
    >>> from econ.simulate import draw_switching_panel
    >>> draw_switching_panel(n_units=10, n_periods=5).shape
    (50, 4)
    """
    n_units = _validate.check_int(n_units, "n_units", minimum=4)
    n_periods = _validate.check_int(n_periods, "n_periods", minimum=3)
    levels = np.asarray(levels, float)
    if not len(levels) or (levels == 0).any() or not np.isfinite(levels).all():
        raise SpecificationError(f"levels must be finite non-zero treatment levels, got {levels.tolist()}")
    rng = _validate.rng(seed)
    durations = np.arange(2, 5)
    start = rng.integers(2, n_periods + 3, n_units)  # beyond the last period: never switches
    stop = start + rng.integers(durations[0], durations[-1] + 1, n_units)
    level = levels[rng.integers(0, len(levels), n_units)]
    t = np.arange(n_periods)
    on = (t[None, :] >= start[:, None]) & (t[None, :] < stop[:, None])
    d = on * level[:, None]
    y = rng.normal(size=(n_units, 1)) + 0.2 * t[None, :] + effect * d + rng.normal(scale=0.5, size=d.shape)
    sim = SwitchingSimulation({"unit": np.repeat(np.arange(n_units), n_periods), "time": np.tile(t, n_units),
                               "d": d.ravel(), "y": y.ravel()})
    sim.effect, sim.levels, sim.durations = float(effect), levels, durations
    return sim
