"""Radius sensitivity of a ring spillover design: :func:`econ.did.spatial_did` over a grid of ring radii.

For each radius ``r`` of the grid the ring design of Butts (2021) is fitted with one ring, ``0 < distance <= r``
from the nearest treated unit (great-circle km from unit coordinates): ``direct`` is the effect on treated units
against the clean controls beyond ``r``, ``spillover`` the effect on untreated units within ``r`` against the same
controls. Below the true spillover radius the "clean" controls are contaminated (the direct estimate is biased by
the spillover they carry); above it the ring dilutes the spillover with unaffected units. Plotting both against
``r`` with their intervals is how Butts (2021) suggests choosing the radius.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from econ._docs import doc
from econ.did.spillover.spatial_did import spatial_did
from econ.errors import SpecificationError
from econ.results import figure, finish_figure

__all__ = ["spatial_did_radius", "SpatialDiDRadiusResult"]

# the examples' data: 200 units on a 2 x 2 degree square, a fifth treated from period 3 with effect 1
_DOCS = {"radius_example": """\
>>> import numpy as np, pandas as pd
>>> from econ.did import spatial_did_radius
>>> rng = np.random.default_rng(0)
>>> n = 200
>>> lat, lon, g = rng.uniform(30, 32, n), rng.uniform(110, 112, n), rng.choice([0, 3], n, p=[.8, .2])
>>> df = pd.DataFrame({"u": np.repeat(np.arange(n), 4), "t": np.tile(np.arange(1, 5), n),
...                    "g": np.repeat(g, 4), "lat": np.repeat(lat, 4), "lon": np.repeat(lon, 4)})
>>> df["y"] = rng.normal(size=len(df)) + (df["g"] > 0) * (df["t"] >= df["g"])"""}

_COLUMNS = ["term", "estimate", "std_error", "p_value", "conf_low", "conf_high"]


@doc(**_DOCS)
class SpatialDiDRadiusResult:
    """Direct and spillover effects of a one-ring spillover design at each radius of a grid.

    ``table`` holds one row per (radius, effect) with ``effect`` in ``{"direct", "spillover"}``; ``fits`` maps each
    radius to its :class:`~econ.did.spatial_did.SpatialDiDResult`.

    Examples
    --------
    {radius_example}
    >>> res = spatial_did_radius(df, "y", "u", "t", cohort="g", coords=("lat", "lon"), radii=[10, 20])
    >>> res.tidy()["term"].tolist()
    ['direct_r10', 'spillover_r10', 'direct_r20', 'spillover_r20']
    """

    def __init__(self, table: pd.DataFrame, fits: dict, level: float, nobs: int, n_units: int, notes: list):
        self.table = table
        self.fits = fits
        self.level = float(level)
        self.nobs = int(nobs)
        self.n_units = int(n_units)
        self.notes = list(notes)

    @property
    def radii(self) -> list:
        """The grid of ring radii (km), increasing."""
        return list(self.fits)

    def tidy(self, level: float | None = None) -> pd.DataFrame:
        """One row per radius and effect: term (``direct_r<r>``, ``spillover_r<r>``), estimate, std_error,
        p_value, conf_low, conf_high, then radius, effect and the number of untreated units in the ring
        (``n_ring``, at the last period)."""
        if level is None or float(level) == self.level:
            return self.table.copy()
        return _table(self.fits, level)

    def summary(self, level: float | None = None, digits: int = 4) -> str:
        """Plain-text table of direct and spillover effects by radius."""
        t = self.tidy(level)
        wide = t.pivot(index="radius", columns="effect", values=["estimate", "std_error"])
        wide.columns = [f"{e} {s}" for s, e in wide.columns]
        head = (f"Spillover ring radius sensitivity (Butts 2021): {len(self.fits)} radii, {self.n_units} units, "
                f"{self.nobs} observations")
        return head + "\n" + wide.round(digits).to_string() + ("\n" + "\n".join(self.notes) if self.notes else "")

    def plot(self, ax=None, path=None, *, level: float | None = None, truth=None):
        """Direct and spillover effects against the ring radius with pointwise confidence bands.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Draw on this axes (new figure when None).
        path : str or Path, optional
            Also write the figure here.
        level : float, optional
            Confidence level (default the call's).
        truth : DataFrame, optional
            Known effects to overlay, with columns ``radius``, ``direct``, ``spillover``.

        Returns
        -------
        (Figure, Axes)
        """
        t = self.tidy(level)
        lv = self.level if level is None else float(level)
        fig, ax = figure(ax, (7, 4))
        for effect, color in (("direct", "#1f77b4"), ("spillover", "#d62728")):
            b = t[t["effect"] == effect].sort_values("radius")
            ax.plot(b["radius"], b["estimate"], marker="o", color=color, label=effect)
            ax.fill_between(b["radius"], b["conf_low"], b["conf_high"], color=color, alpha=0.2, lw=0)
            if truth is not None and effect in truth:
                ax.plot(truth["radius"], truth[effect], ls="--", color=color, label=f"{effect} (truth)")
        ax.axhline(0, color="grey", lw=0.8, ls="--")
        ax.set_xlabel("ring radius (km)")
        ax.set_ylabel(f"effect ({100 * lv:g}% CI)")
        ax.set_title("spillover ring radius sensitivity")
        ax.legend(frameon=False)
        return finish_figure(fig, ax, path)


@doc(**_DOCS)
def spatial_did_radius(data: pd.DataFrame, y: str, unit: str, time: str, *, radii, coords: tuple[str, str],
                       treat: str | None = None, cohort: str | None = None, estimator: str = "etwfe",
                       covariates=None, vcov=None, weights: str | None = None,
                       level: float = 0.95) -> SpatialDiDRadiusResult:
    """Direct and spillover effects of a one-ring spillover design over a grid of ring radii, in one call.

    Parameters
    ----------
    data : DataFrame
        Long panel, one row per unit and period; never modified.
    y, unit, time : str
        Outcome, unit id and integer period columns.
    radii : sequence of float
        Ring radii in km (positive, distinct; sorted increasing). Each gives one fit with the ring
        ``0 < distance to the nearest treated unit <= r``.
    coords : (str, str)
        Latitude and longitude columns (degrees, constant within unit).
    treat, cohort : str, optional
        Exactly one: an absorbing 0/1 treatment column or the first treated period (as :func:`spatial_did`).
    estimator : {"etwfe", "twfe"}
        Direct-effect model of :func:`spatial_did`.
    covariates : list of str, optional
        Time-varying controls.
    vcov : optional
        Any :func:`econ.feols` vcov spec (default clustered by unit; ``{"conley": {...}}`` for spatially correlated
        errors).
    weights : str, optional
        Sampling weights column (one meaning in every estimator): non-negative numbers, no missing values (a
        WeightsError naming the rows otherwise). The regression is weighted least squares. ``None``:
        equal weights.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    SpatialDiDRadiusResult
        ``tidy()`` (one row per radius and effect), ``summary()``, ``plot()`` (both effects against the radius with
        bands), ``fits`` (each radius's :class:`SpatialDiDResult`).

    Raises
    ------
    SpecificationError
        ``radii`` empty, not positive, not finite or repeated; ``coords`` not a pair; bad ``level``; and every
        error of :func:`spatial_did`.
    TreatmentError
        As :func:`spatial_did`.

    Notes
    -----
    Each radius is a separate fit of :func:`spatial_did` with ``exposure="rings", rings=[r]``: the regression
    ``y_it = alpha_i + lambda_t + direct effects + delta_r (1 - D_it) 1[0 < dist_it <= r] + e_it`` with ``dist_it``
    the great-circle distance from unit i to the nearest unit treated in period t. ``spillover`` at radius ``r`` is
    ``delta_r``, the average spillover on untreated units within ``r`` relative to the controls beyond it; ``direct``
    is the direct effect against those controls. If spillovers vanish beyond a radius ``R``, the direct estimate is
    stable for ``r >= R`` and the spillover estimate declines as the ring takes in unaffected units; for ``r < R``
    the controls carry spillover and the direct estimate moves with ``r``. Intervals are pointwise (no
    multiple-comparison adjustment across radii).

    References
    ----------
    Butts, K. (2021). Difference-in-differences estimation with spatial spillovers. arXiv:2105.03737.

    Examples
    --------
    {radius_example}
    >>> spatial_did_radius(df, "y", "u", "t", cohort="g", coords=("lat", "lon"), radii=[10, 20]).radii
    [10.0, 20.0]
    """
    from econ.did.staggered._cs_result import _check_level

    level = _check_level(level)
    grid = _radii(radii)
    if coords is None or isinstance(coords, str) or len(list(coords)) != 2:
        raise SpecificationError(f"coords must be a pair of column names (lat, lon), got {coords!r}")
    fits = {}
    for r in grid:
        fits[r] = spatial_did(data, y, unit, time, treat=treat, cohort=cohort, exposure="rings", rings=[r],
                              coords=tuple(coords), estimator=estimator, covariates=covariates, vcov=vcov,
                              weights=weights)
    first = fits[grid[0]]
    notes = [f"radius {r:g} km: {n}" for r, f in fits.items() for n in f.notes if "ring" in n and "no untreated" in n]
    return SpatialDiDRadiusResult(_table(fits, level), fits, level, first.nobs, first.n_units, notes)


def _radii(radii) -> list[float]:
    try:
        grid = np.asarray(list(radii), dtype=float)
    except (TypeError, ValueError):
        raise SpecificationError(f"radii must be a sequence of positive km values, got {radii!r}") from None
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid <= 0):
        raise SpecificationError(f"radii must be a non-empty sequence of positive finite km values, got {radii!r}")
    if len(np.unique(grid)) != grid.size:
        raise SpecificationError(f"radii must be distinct, got {radii!r}")
    return [float(r) for r in np.sort(grid)]


def _table(fits: dict, level: float) -> pd.DataFrame:
    rows = []
    for r, fit in fits.items():
        t = fit.tidy(level).set_index("term")
        ring = fit.exposure
        last = ring[ring.columns[1]].max()
        n_ring = int(((ring["ring"] == 1) & (ring[ring.columns[1]] == last)).sum())
        for effect, term in (("direct", "direct"), ("spillover", "spillover_ring1")):
            if term in t.index:
                row = t.loc[term]
                vals = [row["estimate"], row["std_error"], row["p_value"], row["conf_low"], row["conf_high"]]
            else:  # not estimable at this radius (noted by spatial_did)
                vals = [np.nan] * 5
            rows.append([f"{effect}_r{r:g}", *vals, r, effect, n_ring])
    return pd.DataFrame(rows, columns=[*_COLUMNS, "radius", "effect", "n_ring"])

