"""Known truth of simulated designs: the aggregated true ATT (:func:`true_att`) and the overlay every
``plot(truth=...)`` draws (:func:`overlay_truth`).

This module sits below both :mod:`econ.simulate` (which re-exports :func:`true_att` and :func:`design_truth`) and
:mod:`econ.results` (which re-exports :func:`overlay_truth`), so that results never import the simulator. A
simulated design is recognised by its shape (a ``truth`` mapping with an ``att_gt`` table), not by its class.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from econ.errors import SpecificationError

__all__ = ["design_truth", "true_att", "overlay_truth", "truth_values"]

def design_truth(obj) -> dict | None:
    """The truth dict of a simulated design (a :class:`~econ.simulate.SimulatedPanel` or its ``truth``), else ``None``.

    Parameters
    ----------
    obj : object
        Anything; a simulated design is an object with a ``truth`` mapping, or that mapping, holding ``att_gt``.

    Returns
    -------
    dict or None
        The truth mapping, or ``None`` when ``obj`` is not a simulated design.

    Examples
    --------
    >>> from econ._truth import design_truth
    >>> design_truth({"att_gt": []}), design_truth(0.5)
    ({'att_gt': []}, None)
    """
    table = getattr(obj, "truth", obj)
    return table if isinstance(table, Mapping) and "att_gt" in table else None


def true_att(truth, by: str = "event_time") -> pd.Series | float:
    """The true ATT of a simulated design, aggregated as the staggered-DiD estimators aggregate ATT(g, t).

    Parameters
    ----------
    truth : SimulatedPanel or dict
        A simulated panel, its ``truth`` dict, or :func:`econ.datasets.truth` of a bundled simulated dataset.
    by : {"event_time", "cohort", "time", "overall"}, default "event_time"
        ``"event_time"``: the cohort-size weighted mean of ATT(g, g + e) over the cohorts observed at e (the
        estimand of ``att_gt(...).aggregate("dynamic")``), for e >= 0 (the designs have no anticipation: the truth
        is 0 at every e < 0). ``"cohort"``: the mean of ATT(g, t) over the cohort's
        treated years (``aggregate("group")``). ``"time"``: the calendar year's cohort-size weighted mean over the
        cohorts treated by that year (``aggregate("calendar")``). ``"overall"``: the mean over treated unit-years
        (a float; the estimand of ``aggregate("simple")`` and of the imputation estimator's overall ATT).
        Every aggregation uses only the cells the estimators identify: cohorts treated from the first simulated
        year (``truth["always_treated_cohorts"]``, see ``draw_panel(always_treated=True)``) are left out, as
        Callaway-Sant'Anna and the imputation estimator leave them out.

    Returns
    -------
    pandas.Series or float
        Indexed by event time, cohort or calendar time (named ``"truth"``; the index is named as the key column
        of the matching ``aggregate(...).tidy()``); a float for ``"overall"``.

    Raises
    ------
    SpecificationError
        ``truth`` holds no ATT(g, t) table, or ``by`` is not one of the four aggregations.

    Notes
    -----
    With ATT(g, t) the true effect on cohort g in year t and N_g the cohort's size, the aggregations are
    theta_e = sum_g N_g ATT(g, g+e) / sum_g N_g (over cohorts observed at g+e), theta_g = mean_{t >= g} ATT(g, t),
    theta_t = sum_{g <= t} N_g ATT(g, t) / sum_{g <= t} N_g, and theta = sum_{g, t >= g} N_g ATT(g, t) /
    sum_{g, t >= g} N_g, the aggregations of Callaway and Sant'Anna (2021).

    References
    ----------
    Callaway, B. and Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time periods.
    *Journal of Econometrics* 225(2), 200-230.

    Examples
    --------
    >>> from econ import datasets
    >>> from econ.simulate import true_att
    >>> truth = datasets.truth("china_cities_demo")
    >>> true_att(truth, "event_time").loc[[0, 1, 2]].round(4).tolist()
    [-0.0151, -0.0302, -0.0453]
    >>> round(true_att(truth, "overall"), 4)
    -0.0409
    """
    from econ._validate import check_choice

    check_choice(by, "by", ("event_time", "cohort", "time", "overall"))
    truth = design_truth(truth)
    if truth is None:
        raise SpecificationError("truth must be a SimulatedPanel or its truth dict (with an 'att_gt' table), "
                                 f"got {type(truth).__name__}")
    cells = pd.DataFrame(truth["att_gt"], columns=["cohort", "year", "event_time", "att", "n_units"])
    always = [int(c) for c in truth.get("always_treated_cohorts", [])]
    cells = cells[~cells["cohort"].astype(int).isin(always)]  # not identified by any estimator
    if by == "overall":
        return float(truth["att_overall"])
    weighted = cells.assign(w=cells["att"] * cells["n_units"], time=cells["year"])
    if by == "cohort":
        out = cells.groupby("cohort")["att"].mean()
    else:
        groups = weighted.groupby(by)
        out = groups["w"].sum() / groups["n_units"].sum()
    out.index = out.index.astype(int)
    out.index.name = by
    return out.rename("truth").astype(float)


TRUTH_STYLE = {"color": "black", "ls": "--", "lw": 1.2, "marker": "x", "ms": 6, "zorder": 5}


def overlay_truth(ax, x, truth, *, by: str | None = "event_time", keys=None, horizontal: bool = False,
                  label: str = "truth", color: str = "black"):
    """Draw the true effects of a simulated design over an estimate plot (the ``truth=`` of every ``plot()``).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The plot to draw on.
    x : array-like
        Positions of the estimates on the plot's axis (event times, cohorts, periods or term positions).
    truth : SimulatedPanel, dict, Mapping, pandas.Series or float
        A simulated design (:class:`econ.simulate.SimulatedPanel`, its ``truth`` dict, or
        :func:`econ.datasets.truth` of a bundled simulated dataset), aggregated ``by`` as
        :func:`econ.simulate.true_att` does; or the true values themselves, as a mapping / Series from ``keys``
        to values, or one number (the true effect at every position; 0 before treatment on an event-time axis).
    by : {"event_time", "cohort", "time", "overall"} or None, default "event_time"
        What the positions are. ``None`` (a coefficient plot) accepts only a mapping or a number.
    keys : array-like, optional
        The key of each position in ``truth`` (default ``x``): event times, cohorts, periods or term names.
    horizontal : bool, default False
        Estimates on the horizontal axis (a coefficient plot): truth marks are placed at ``(value, x)``.
    label : str, default "truth"
        Legend label.
    color : str, default "black"
        Colour of the dashed line and crosses.

    Returns
    -------
    numpy.ndarray
        The true value drawn at each position (NaN where ``truth`` has none: nothing is drawn there).

    Raises
    ------
    SpecificationError
        ``truth`` is none of the accepted forms, a design is given for a plot whose axis has no aggregation, or
        ``x`` is not numeric or not as long as ``keys``.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from econ import datasets
    >>> from econ.results import figure, overlay_truth
    >>> fig, ax = figure()
    >>> overlay_truth(ax, [-2, -1, 0, 1], datasets.truth("china_cities_demo")).round(4).tolist()
    [0.0, 0.0, -0.0151, -0.0302]
    >>> overlay_truth(ax, [0, 1], {"a": 0.5}, by=None, keys=["a", "b"], horizontal=True).tolist()
    [0.5, nan]
    """
    try:
        x = np.asarray(x, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise SpecificationError(f"overlay_truth: x must be numeric positions, got {x!r}") from None
    if keys is not None and len(keys) != len(x):
        raise SpecificationError(f"overlay_truth: {len(keys)} keys for {len(x)} positions")
    values = truth_values(truth, x if keys is None else keys, by=by)
    if np.isfinite(values).any():
        px, py = (values, x) if horizontal else (x, values)
        style = dict(TRUTH_STYLE, ls="none") if by in (None, "cohort", "overall") else TRUTH_STYLE
        ax.plot(px, py, label=label, **dict(style, color=color))
    return values


def truth_values(truth, keys, *, by: str | None = "event_time") -> np.ndarray:
    """The true value at each of ``keys`` (see :func:`overlay_truth` for the forms ``truth`` may take)."""
    keys = list(np.asarray(keys).tolist())
    design = design_truth(truth) is not None
    if design:
        if by is None:
            raise SpecificationError("truth: a simulated design has no single true value per coefficient; give "
                                     "truth as {term: value} or a number, e.g. truth=sim.true_att('overall')")
        values = true_att(truth, by)
    elif isinstance(truth, (pd.Series, Mapping)):
        values = pd.Series(dict(truth), dtype=float) if isinstance(truth, Mapping) else truth.astype(float)
    elif isinstance(truth, (int, float, np.integer, np.floating)) and not isinstance(truth, (bool, np.bool_)):
        values = float(truth)
    else:
        raise SpecificationError(f"truth must be a simulated design, a mapping or Series of true values, or a "
                                 f"number; got {type(truth).__name__}")
    if isinstance(values, float):
        out = np.full(len(keys), values)
    else:
        lookup = {_key(k): v for k, v in values.items()}
        out = np.array([lookup.get(_key(k), np.nan) for k in keys], dtype=float)
    if by == "event_time" and (design or isinstance(values, float)):
        out[[isinstance(_key(k), (int, float)) and _key(k) < 0 for k in keys]] = 0.0  # no anticipation
    return out


def _key(k):
    """Keys compare as numbers when they are integral (2014, 2014.0 and "2014" are one key), else as text."""
    try:
        f = float(k)
        return int(f) if f.is_integer() else f
    except (TypeError, ValueError):
        return str(k)
